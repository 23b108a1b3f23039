"""Generator module `sql92`: the SQL92 message-selector lexer from spec/filter/sql92.json.

Writes
  gen/sql92.h          token kinds (tokens then keywords, in spec order), token names, the
                       keywords' first release, the limits, the lexer's prototype
  gen/sql92_tokens.c   the token-name and keyword-release tables
  gen/sql92_lex.re.c   the lexer (spec/grammar/sql92.re through re2c)
The parser and evaluator are hand-written in broker/filter/sql92.c (they follow Java's
expression classes, which are behaviour rather than data).
"""
import re

MODULE = "sql92"
KIND = "sql92_grammar"
C_IDENT = re.compile(r"^[A-Z][A-Z0-9_]*$")
LIMITS = ("max_text_bytes", "max_depth", "max_nodes")


def _names(doc):
    return [t["name"] for t in doc["tokens"]] + [k["name"] for k in doc["keywords"]]


def lint(spec, errors):
    docs = spec.of_kind(KIND)
    if len(docs) != 1:
        errors.append("spec/filter: expected one file of kind %s, found %d" % (KIND, len(docs)))
        return
    path, doc = docs[0]
    names = _names(doc)
    seen = set()
    for entry in doc["tokens"] + doc["keywords"]:
        nm = entry.get("name", "")
        if not C_IDENT.match(nm):
            errors.append("%s: token name %r is not an upper-case C identifier" % (path, nm))
        if nm in seen:
            errors.append("%s: duplicate token %s" % (path, nm))
        seen.add(nm)
        if not entry.get("about"):
            errors.append("%s: token %s has no about" % (path, nm))
    for k in doc["keywords"]:
        if k.get("since") not in ("4.9", "5.x"):
            errors.append("%s: keyword %s: since must be 4.9 or 5.x" % (path, k["name"]))
    if names[:2] != ["EOF", "ERROR"]:
        errors.append("%s: the first two tokens must be EOF and ERROR" % path)
    for lim in LIMITS:
        v = doc.get("limits", {}).get(lim)
        if not isinstance(v, dict) or not isinstance(v.get("value"), int) or v["value"] <= 0 or not v.get("about"):
            errors.append("%s: limits.%s needs a positive integer value and an about" % (path, lim))
    try:
        with open(spec.root + "/" + doc["grammar"], encoding="utf-8") as f:
            text = f.read()
    except (OSError, KeyError, AttributeError) as e:
        errors.append("%s: grammar file unreadable: %s" % (path, e))
        return
    used = set(re.findall(r"TERN_SQL92_T_([A-Z0-9_]+)", text))
    for nm in sorted(used - set(names)):
        errors.append("%s: %s uses TERN_SQL92_T_%s, which the spec does not declare" % (path, doc["grammar"], nm))
    for nm in sorted(set(names) - used):
        errors.append("%s: token %s is never produced by %s" % (path, nm, doc["grammar"]))
    for k in doc["keywords"]:
        if ("'%s'" % k["name"].lower()) not in text:
            errors.append("%s: keyword %s has no case-insensitive rule '%s' in %s"
                          % (path, k["name"], k["name"].lower(), doc["grammar"]))


def _c_comment(s):
    return s.replace("*/", "* /").replace("/*", "/ *")


def _header(path, doc):
    names = _names(doc)
    lines = ["#ifndef TERN_GEN_SQL92_H", "#define TERN_GEN_SQL92_H", "",
             "#include \"runtime/base.h\"", "",
             "/* " + _c_comment(doc["about"]) + " */", "",
             "/* Token kinds: the tokens, then the keywords (spec order). */", "typedef enum tern_sql92_tok_kind {"]
    for i, t in enumerate(doc["tokens"]):
        lines.append("  TERN_SQL92_T_%s = %d, /* %s */" % (t["name"], i, _c_comment(t["about"])))
    base = len(doc["tokens"])
    for i, k in enumerate(doc["keywords"]):
        lines.append("  TERN_SQL92_T_%s = %d, /* since %s: %s */" % (k["name"], base + i, k["since"], _c_comment(k["about"])))
    lines.append("  TERN_SQL92_T__COUNT = %d" % len(names))
    lines.append("} tern_sql92_tok_kind_t;")
    lines.append("#define TERN_SQL92_T_FIRST_KEYWORD TERN_SQL92_T_%s" % doc["keywords"][0]["name"])
    lines.append("")
    for lim in LIMITS:
        v = doc["limits"][lim]
        lines.append("/* %s */" % _c_comment(v["about"]))
        lines.append("#define TERN_SQL92_%s %d" % (lim.upper(), v["value"]))
    lines.append("")
    lines.append("/* The token's name as the parser reports it (\"NOT\", \"<>\", \"identifier\", ...). */")
    lines.append("const char *tern_sql92_tok_name(int kind);")
    lines.append("/* True for the keywords 5.x introduced (CONTAINS, STARTSWITH, ENDSWITH). */")
    lines.append("bool tern_sql92_tok_is_5x(int kind);")
    lines.append("")
    lines.append("typedef struct tern_sql92_tok {")
    lines.append("  int kind;   /* tern_sql92_tok_kind_t */")
    lines.append("  size_t pos; /* byte offset of the token in the text */")
    lines.append("  size_t len; /* its length (0 for EOF; 1 for ERROR) */")
    lines.append("} tern_sql92_tok_t;")
    lines.append("")
    lines.append("/* The token at or after `pos` (whitespace and comments skipped); returns tok->kind.")
    lines.append(" * Pure: the parser peeks ahead by calling it again. Reads only text[0..n). */")
    lines.append("int tern_sql92_lex(tern_str_t text, size_t pos, tern_sql92_tok_t *tok);")
    lines.append("")
    lines.append("#endif")
    return "\n".join(lines) + "\n"


def _tables(doc):
    base = len(doc["tokens"])
    lines = ["#include \"gen/sql92.h\"", "",
             "static const char *const tok_names[TERN_SQL92_T__COUNT] = {"]
    for t in doc["tokens"]:
        shown = t.get("text") if t.get("text") and len(t["text"]) <= 2 else t["name"].lower()
        if t["name"] == "EOF":
            shown = "<EOF>"
        shown = {"id": "identifier", "decimal": "decimal literal", "float": "floating point literal",
                 "string": "string literal", "error": "invalid character"}.get(shown, shown)
        lines.append("    \"%s\"," % shown.replace("\\", "\\\\").replace("\"", "\\\""))
    for k in doc["keywords"]:
        lines.append("    \"%s\"," % k["name"])
    lines.append("};")
    lines.append("static const unsigned char tok_5x[TERN_SQL92_T__COUNT] = {")
    lines.append("    " + ", ".join(["0"] * base + ["1" if k["since"] == "5.x" else "0" for k in doc["keywords"]]) + ",")
    lines.append("};")
    lines.append("")
    lines.append("const char *tern_sql92_tok_name(int kind) {")
    lines.append("  return kind >= 0 && kind < TERN_SQL92_T__COUNT ? tok_names[kind] : \"?\";")
    lines.append("}")
    lines.append("")
    lines.append("bool tern_sql92_tok_is_5x(int kind) { return kind >= 0 && kind < TERN_SQL92_T__COUNT && tok_5x[kind]; }")
    return "\n".join(lines) + "\n"


def generate(spec, out):
    path, doc = spec.one(KIND)
    out.write("sql92.h", _header(path, doc), [path])
    out.write("sql92_tokens.c", _tables(doc), [path])
    out.re2c(doc["grammar"], "sql92_lex.re.c")
