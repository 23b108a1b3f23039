"""Custom headers: spec/headers/*.json (kind "header") -> gen/headers.h, gen/headers.c.

A RocketMQ "custom header" is a Java class flattened into the command's
extFields map (reference section 2.5). For each one this writes a C struct with
a `present` bit mask, a decoder that makes one pass over the ext list (a
generated switch on key length and bytes, the last duplicate winning) and
converts values with Java's rules, an encoder that appends ext entries in spec
order, and a descriptor table so tests, fuzzers and tools can handle every
header generically. Headers with `short_keys` (SendMessageRequestHeaderV2) also
get conversion functions to and from their long form.

Spec file (spec/headers/<JavaClass>.json, kind "header"): "java" (= file name),
"about", "since" ("4.9"/"5.x"), "sources", optional "base" (the 5.x/4.9 request
base class), "fast_codes" (Java hand-codes it), "short_keys" {"long_form", "map"
short key -> long-form key}, "extra_keys" [{key, about}] (ext keys that travel
with the header but are not fields; named constants only), and "fields" in Java
declaration order, inherited base-class keys last. A field has "name" (the ext
key), "type" (string/int32/int64/bool/enum), "required" (= @CFNotNull), "about",
"since", and optionally "c_name", "default" (what the receiver assumes when the
key is absent), "missing_ok" (why Tern accepts a Java-required key's absence),
"removed", "inherited", enum "values", and "bits" (flag bit names).
"""
import re

MODULE = "headers"

TYPES = {
    # spec type -> (C type, descriptor tag)
    "string": ("tern_str_t", "TERN_HDR_T_STRING"),
    "int32": ("int32_t", "TERN_HDR_T_INT32"),
    "int64": ("int64_t", "TERN_HDR_T_INT64"),
    "bool": ("bool", "TERN_HDR_T_BOOL"),
    "enum": ("int32_t", "TERN_HDR_T_ENUM"),
}
C_KEYWORDS = set("""auto break case char const continue default do double else enum extern float for goto if
inline int long register restrict return short signed sizeof static struct switch typedef union unsigned void
volatile while bool true false present""".split())
IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")
VERSIONS = ("4.9", "5.x")


def snake(name):
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    s = re.sub(r"([A-Z])([A-Z][a-z])", r"\1_\2", s)
    return s.lower()


def hdr_name(java):
    """SendMessageRequestHeaderV2 -> send_message_request_v2 (the contract's naming)."""
    base = java.replace("Header", "", 1)
    return snake(base)


def field_cname(f):
    return f.get("c_name") or snake(f["name"])


def headers(spec):
    return [(p, d) for p, d in spec.of_kind("header")]


def lint(spec, errors):
    seen_java = {}
    for path, d in headers(spec):
        java = d.get("java")
        fn = path.rsplit("/", 1)[-1][:-5]
        if java != fn:
            errors.append("%s: \"java\" must equal the file name (%s)" % (path, fn))
            continue
        if d.get("since") not in VERSIONS:
            errors.append("%s: \"since\" must be one of %s" % (path, ", ".join(VERSIONS)))
        fields = d.get("fields")
        if not isinstance(fields, list):
            errors.append("%s: \"fields\" must be a list" % path)
            continue
        if len(fields) > 32:
            errors.append("%s: more than 32 fields (present is a uint32_t)" % path)
        names, cnames = set(), set()
        for i, f in enumerate(fields):
            where = "%s: fields[%d]" % (path, i)
            for k in ("name", "type", "required", "about", "since"):
                if k not in f:
                    errors.append("%s: missing %r" % (where, k))
            if any(k not in f for k in ("name", "type", "required", "about", "since")):
                continue
            if f["type"] not in TYPES:
                errors.append("%s: type %r not one of %s (no header uses double yet, so it has no codec)"
                              % (where, f["type"], ", ".join(sorted(TYPES))))
                continue
            if not isinstance(f["name"], str) or not f["name"] or len(f["name"]) > 255:
                errors.append("%s: bad name" % where)
                continue
            if f["name"] in names:
                errors.append("%s: duplicate key %r" % (where, f["name"]))
            names.add(f["name"])
            cn = field_cname(f)
            if not IDENT.match(cn) or cn in C_KEYWORDS:
                errors.append("%s: C name %r is not a usable identifier (set c_name)" % (where, cn))
            if cn in cnames:
                errors.append("%s: duplicate C name %r" % (where, cn))
            cnames.add(cn)
            if f["since"] not in VERSIONS:
                errors.append("%s: since must be one of %s" % (where, ", ".join(VERSIONS)))
            if not isinstance(f["required"], bool):
                errors.append("%s: required must be true/false" % where)
            if "missing_ok" in f and not f["required"]:
                errors.append("%s: missing_ok only makes sense on a required field" % where)
            if f["type"] == "enum":
                vals = f.get("values")
                if not vals or not all(isinstance(v, str) and IDENT.match(v.lower()) for v in vals):
                    errors.append("%s: enum needs \"values\" (identifiers)" % where)
                elif "default" in f and f["default"] not in vals:
                    errors.append("%s: enum default not among values" % where)
            if "default" in f:
                dv = f["default"]
                ok = {"string": isinstance(dv, str), "bool": isinstance(dv, bool),
                      "int32": isinstance(dv, int) and not isinstance(dv, bool) and -2**31 <= dv < 2**31,
                      "int64": isinstance(dv, int) and not isinstance(dv, bool) and -2**63 <= dv < 2**63,
                      "enum": isinstance(dv, str)}[f["type"]]
                if not ok:
                    errors.append("%s: default %r does not fit type %s" % (where, dv, f["type"]))
            for b in f.get("bits", []):
                v = b.get("value")
                if not isinstance(v, int) or v <= 0 or v & (v - 1) or not IDENT.match(str(b.get("name", "")).lower()):
                    errors.append("%s: bits entries need a name and a power-of-two value" % where)
        for e in d.get("extra_keys", []):
            k = e.get("key")
            if not isinstance(k, str) or not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", k) or not e.get("about"):
                errors.append("%s: extra_keys entries need an identifier-like key and an about" % path)
            elif k in names:
                errors.append("%s: extra key %s is also a field" % (path, k))
        seen_java[java] = (path, d)
    for java, (path, d) in sorted(seen_java.items()):
        sk = d.get("short_keys")
        if not sk:
            continue
        target = seen_java.get(sk.get("long_form"))
        if not target:
            errors.append("%s: short_keys.long_form %r has no spec/headers file" % (path, sk.get("long_form")))
            continue
        mine = {f["name"]: f for f in d["fields"]}
        theirs = {f["name"]: f for f in target[1]["fields"]}
        for short, long in sorted(sk.get("map", {}).items()):
            if short not in mine or long not in theirs:
                errors.append("%s: short_keys %s -> %s names an unknown field" % (path, short, long))
            elif mine[short]["type"] != theirs[long]["type"]:
                errors.append("%s: short_keys %s -> %s changes the type" % (path, short, long))


def c_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def comment(s):
    return s.replace("*/", "* /")


class H:
    """One header, with the names the generated C uses."""

    def __init__(self, path, d):
        self.path, self.d = path, d
        self.java = d["java"]
        self.name = hdr_name(self.java)
        self.up = self.name.upper()
        self.t = "tern_hdr_%s_t" % self.name
        self.fields = d["fields"]

    def bit(self, f):
        return "TERN_HDR_%s_HAS_%s" % (self.up, field_cname(f).upper())


def gen_lookup(h):
    """A static function mapping a key to its field index: switch on length, then a distinguishing byte."""
    by_len = {}
    for i, f in enumerate(h.fields):
        by_len.setdefault(len(f["name"].encode()), []).append((i, f["name"].encode()))
    if not by_len:
        return []
    out = ["static int key_%s(const char *k, size_t n) {" % h.name]
    out.append("  switch (n) {")
    for n in sorted(by_len):
        cands = by_len[n]
        out.append("  case %d:" % n)
        pos = None
        for p in range(n):
            if len({c[1][p] for c in cands}) == len(cands):
                pos = p
                break
        if len(cands) == 1 and n > 1:
            i, key = cands[0]
            out.append("    return memcmp(k, %s, %d) == 0 ? %d : -1;" % (c_string(key.decode()), n, i))
        elif pos is not None:
            out.append("    switch (k[%d]) {" % pos)
            for i, key in sorted(cands, key=lambda c: c[1][pos]):
                ch = chr(key[pos])
                lit = "'%s'" % ch if ch.isalnum() or ch in "_-." else str(key[pos])
                if n == 1:
                    out.append("    case %s: return %d;" % (lit, i))
                else:
                    out.append("    case %s: return memcmp(k, %s, %d) == 0 ? %d : -1;" % (lit, c_string(key.decode()), n, i))
            out.append("    default: return -1;")
            out.append("    }")
        else:
            for i, key in cands:
                out.append("    if (memcmp(k, %s, %d) == 0) return %d;" % (c_string(key.decode()), n, i))
            out.append("    return -1;")
    out.append("  default:")
    out.append("    return -1;")
    out.append("  }")
    out.append("}")
    out.append("")
    return out


def default_expr(h, f):
    dv = f["default"]
    t = f["type"]
    if t == "string":
        return "TERN_STR(%s)" % c_string(dv)
    if t == "bool":
        return "true" if dv else "false"
    if t == "enum":
        return "TERN_HDR_%s_%s_%s" % (h.up, field_cname(f).upper(), dv.upper())
    if t == "int64":
        return "INT64_C(%d)" % dv
    return "%d" % dv


def gen_decode(h):
    n = len(h.fields)
    out = ["int tern_hdr_%s_decode(const tern_cmd_t *cmd, %s *h, tern_err_t *err) {" % (h.name, h.t)]
    out.append("  memset(h, 0, sizeof *h);")
    out.append("  (void)err;")
    if n == 0:
        out += ["  (void)cmd;", "  return 0;", "}", ""]
        return out
    out.append("  int32_t at[%d];" % n)
    out.append("  for (int i = 0; i < %d; i++) at[i] = -1;" % n)
    out.append("  uint32_t n_ext = cmd->n_ext < TERN_CMD_MAX_EXT ? cmd->n_ext : TERN_CMD_MAX_EXT;")
    out.append("  for (uint32_t i = 0; i < n_ext; i++) {")
    out.append("    /* A NULL value is Java's null (ROCKETMQ headers turn empty values into null). */")
    out.append("    if (cmd->ext[i].val.p == NULL) continue;")
    out.append("    int f = key_%s(cmd->ext[i].key.p, cmd->ext[i].key.n);" % h.name)
    out.append("    if (f >= 0) at[f] = (int32_t)i; /* the last duplicate wins */")
    out.append("  }")
    out.append("  int r;")
    out.append("  (void)r;")
    for i, f in enumerate(h.fields):
        cn = field_cname(f)
        key = f["name"]
        t = f["type"]
        out.append("  if (at[%d] >= 0) {" % i)
        out.append("    tern_str_t v = cmd->ext[at[%d]].val;" % i)
        if t == "string":
            out.append("    h->%s = v;" % cn)
        elif t in ("int32", "int64"):
            fn = "tern_str_to_i32" if t == "int32" else "tern_str_to_i64"
            out.append("    r = %s(v, &h->%s);" % (fn, cn))
            out.append("    if (r == TERN_ERANGE)")
            out.append("      return tern_fail(err, TERN_ERANGE, %s, %s, (size_t)at[%d]);"
                       % (c_string("the custom field <%s> is out of range" % key), c_string(key), i))
            out.append("    if (r != 0)")
            out.append("      return tern_fail(err, TERN_EPROTO, %s, %s, (size_t)at[%d]);"
                       % (c_string("the custom field <%s> is not a number" % key), c_string(key), i))
        elif t == "bool":
            out.append("    h->%s = tern_str_to_bool(v);" % cn)
        elif t == "enum":
            vals = f["values"]
            out.append("    int e = enum_index(v, enum_%s_%s, %d);" % (h.name, cn, len(vals)))
            if "default" in f:
                out.append("    h->%s = e >= 0 ? e : %s; /* Java maps unknown names to the default */" % (cn, default_expr(h, f)))
            else:
                out.append("    if (e < 0)")
                out.append("      return tern_fail(err, TERN_EPROTO, %s, %s, (size_t)at[%d]);"
                           % (c_string("the custom field <%s> has an unknown value" % key), c_string(key), i))
                out.append("    h->%s = e;" % cn)
        out.append("    h->present |= %s;" % h.bit(f))
        if f["required"] and "missing_ok" not in f:
            out.append("  } else {")
            out.append("    return tern_fail(err, TERN_EMISSING, %s, %s, 0);"
                       % (c_string("the custom field <%s> is null" % key), c_string(key)))
        elif "default" in f:
            out.append("  } else {")
            out.append("    h->%s = %s;" % (cn, default_expr(h, f)))
        out.append("  }")
    out.append("  return 0;")
    out.append("}")
    out.append("")
    return out


def gen_encode(h):
    out = ["int tern_hdr_%s_encode(const %s *h, tern_cmd_t *cmd, tern_arena_t *scratch) {" % (h.name, h.t)]
    if not h.fields:
        out += ["  (void)h;", "  (void)cmd;", "  (void)scratch;", "  return 0;", "}", ""]
        return out
    out.append("  int r = 0;")
    uses_scratch = any(f["type"] in ("int32", "int64") for f in h.fields)
    if not uses_scratch:
        out.append("  (void)scratch;")
    for f in h.fields:
        cn = field_cname(f)
        k = "TERN_STR(%s)" % c_string(f["name"])
        t = f["type"]
        if t == "string":
            call = "put_str(cmd, %s, h->%s)" % (k, cn)
        elif t in ("int32", "int64"):
            call = "put_int(cmd, scratch, %s, h->%s)" % (k, cn)
        elif t == "bool":
            call = "put_str(cmd, %s, h->%s ? TERN_STR(\"true\") : TERN_STR(\"false\"))" % (k, cn)
        else:
            n = len(f["values"])
            call = "put_enum(cmd, %s, h->%s, enum_%s_%s, %d)" % (k, cn, h.name, cn, n)
        out.append("  if ((h->present & %s) && (r = %s) != 0) return r;" % (h.bit(f), call))
    out.append("  return r;")
    out.append("}")
    out.append("")
    return out


def generate(spec, out):
    hs = [H(p, d) for p, d in headers(spec)]
    byjava = {h.java: h for h in hs}
    sources = [h.path for h in hs]
    hh = []
    hh.append("/* Custom headers (reference section 2.5): one struct per Java header class in spec/headers/.")
    hh.append(" * `present` has a bit per field whose key was in extFields; absent fields hold the spec default")
    hh.append(" * (when there is one) or zero. Strings point into the command's ext values (decode) or the")
    hh.append(" * caller's memory (encode). Decoders take the last of duplicate keys and treat a NULL value as")
    hh.append(" * Java's null; encoders append ext entries in spec order (numbers rendered into `scratch`) and")
    hh.append(" * leave a partly filled ext list behind when they fail. */")
    hh.append("#ifndef TERN_GEN_HEADERS_H")
    hh.append("#define TERN_GEN_HEADERS_H")
    hh.append("")
    hh.append('#include "gen/command.h"')
    hh.append('#include "runtime/arena.h"')
    hh.append('#include "runtime/base.h"')
    hh.append("")
    hh.append("/* Field types in the descriptor table. */")
    hh.append("enum { TERN_HDR_T_STRING = 1, TERN_HDR_T_INT32, TERN_HDR_T_INT64, TERN_HDR_T_BOOL, TERN_HDR_T_ENUM };")
    hh.append("")
    for h in hs:
        d = h.d
        hh.append("/* %s (Java %s, since %s%s) */" % (comment(d["about"]), h.java, d["since"],
                                                        ", FastCodesHeader" if d.get("fast_codes") else ""))
        for i, f in enumerate(h.fields):
            hh.append("#define %s (UINT32_C(1) << %d)" % (h.bit(f), i))
        for f in h.fields:
            cn = field_cname(f).upper()
            if f["type"] == "enum":
                for j, v in enumerate(f["values"]):
                    hh.append("#define TERN_HDR_%s_%s_%s %d" % (h.up, cn, v.upper(), j))
            for b in f.get("bits", []):
                hh.append("#define TERN_HDR_%s_%s_%s 0x%x /* %s */" % (h.up, cn, b["name"].upper(), b["value"], comment(b["about"])))
        for e in d.get("extra_keys", []):
            hh.append("#define TERN_HDR_%s_EXTRA_%s \"%s\" /* not a field: %s */" % (
                h.up, e["key"].strip("_").upper(), e["key"], comment(e["about"])))
        hh.append("typedef struct tern_hdr_%s {" % h.name)
        hh.append("  uint32_t present; /* TERN_HDR_%s_HAS_* */" % h.up)
        for f in h.fields:
            notes = [f["name"] if field_cname(f) != f["name"] else None,
                     ("required" if "missing_ok" not in f else "Java requires it, may be absent") if f["required"] else None,
                     ("default %s" % (str(f["default"]).lower() if isinstance(f["default"], bool) else f["default"])) if "default" in f else None,
                     "since %s" % f["since"] if f["since"] != "4.9" else None,
                     "inherited" if f.get("inherited") else None]
            note = ", ".join(n for n in notes if n)
            hh.append("  %s %s; /* %s%s */" % (TYPES[f["type"]][0], field_cname(f), ("[" + note + "] ") if note else "",
                                               comment(f["about"])))
        hh.append("} %s;" % h.t)
        hh.append("int tern_hdr_%s_decode(const tern_cmd_t *cmd, %s *h, tern_err_t *err);" % (h.name, h.t))
        hh.append("int tern_hdr_%s_encode(const %s *h, tern_cmd_t *cmd, tern_arena_t *scratch);" % (h.name, h.t))
        hh.append("")
    # short-key conversions
    conv = []
    for h in hs:
        sk = h.d.get("short_keys")
        if not sk:
            continue
        lf = byjava[sk["long_form"]]
        conv.append((h, lf, sk["map"]))
        hh.append("/* %s <-> %s, field for field as the Java broker converts them (the short form's inherited" % (h.java, lf.java))
        hh.append(" * base keys are not carried over). Strings are shared, not copied. */")
        hh.append("void tern_hdr_%s_to_%s(const %s *from, %s *to);" % (h.name, lf.name, h.t, lf.t))
        hh.append("void tern_hdr_%s_to_%s(const %s *from, %s *to);" % (lf.name, h.name, lf.t, h.t))
        hh.append("")
    hh.append("/* Descriptor table: every header, for generic code (tests, fuzzers, logging). */")
    hh.append("typedef struct tern_hdr_field_info {")
    hh.append("  const char *key;        /* extFields key */")
    hh.append("  uint8_t type;           /* TERN_HDR_T_* */")
    hh.append("  bool required;          /* a decoder fails with TERN_EMISSING without it */")
    hh.append("  uint16_t offset;        /* of the value in the struct */")
    hh.append("  uint32_t bit;           /* its present bit */")
    hh.append("  const char *const *enum_names; /* TERN_HDR_T_ENUM: names by value */")
    hh.append("  uint32_t n_enum;")
    hh.append("} tern_hdr_field_info_t;")
    hh.append("typedef struct tern_hdr_info {")
    hh.append("  const char *java;       /* Java class name */")
    hh.append("  size_t size;            /* sizeof the struct; `present` is its first member */")
    hh.append("  uint32_t n_fields;")
    hh.append("  const tern_hdr_field_info_t *fields;")
    hh.append("  int (*decode)(const tern_cmd_t *cmd, void *h, tern_err_t *err);")
    hh.append("  int (*encode)(const void *h, tern_cmd_t *cmd, tern_arena_t *scratch);")
    hh.append("} tern_hdr_info_t;")
    hh.append("#define TERN_HDR_COUNT %d" % len(hs))
    hh.append("extern const tern_hdr_info_t tern_hdr_infos[TERN_HDR_COUNT];")
    hh.append("/* The header of a Java class name, or NULL. */")
    hh.append("const tern_hdr_info_t *tern_hdr_info_find(tern_str_t java);")
    hh.append("")
    hh.append("#endif")
    out.write("headers.h", "\n".join(hh) + "\n", sources)

    cc = []
    cc.append("/* Custom header codecs: for every spec/headers class a key lookup (switch on key length, then")
    cc.append(" * on one distinguishing byte, then one memcmp), a decoder that walks the ext list once and")
    cc.append(" * converts values the way Java's RemotingCommand does, an encoder, and the descriptor table. */")
    cc.append('#include "gen/headers.h"')
    cc.append("")
    cc.append("#include <stddef.h>")
    cc.append("")
    cc.append("static int put_str(tern_cmd_t *cmd, tern_str_t k, tern_str_t v) {")
    cc.append("  if (v.p == NULL) v = TERN_STR(\"\"); /* present means a value, possibly empty */")
    cc.append("  return tern_cmd_ext_add(cmd, k, v);")
    cc.append("}")
    cc.append("")
    cc.append("static int put_int(tern_cmd_t *cmd, tern_arena_t *scratch, tern_str_t k, int64_t v) {")
    cc.append("  char *p = tern_arena_alloc(scratch, 24);")
    cc.append("  if (p == NULL) return TERN_ENOMEM;")
    cc.append("  size_t n = tern_i64_to_str(v, p);")
    cc.append("  return tern_cmd_ext_add(cmd, k, (tern_str_t){p, n});")
    cc.append("}")
    cc.append("")
    need_enum = any(f["type"] == "enum" for h in hs for f in h.fields)
    if need_enum:
        cc.append("/* Index of v among names, ignoring ASCII case (Java equalsIgnoreCase), or -1. */")
        cc.append("static int enum_index(tern_str_t v, const char *const *names, int n) {")
        cc.append("  for (int i = 0; i < n; i++) {")
        cc.append("    size_t len = strlen(names[i]), j;")
        cc.append("    if (len != v.n) continue;")
        cc.append("    for (j = 0; j < len; j++) {")
        cc.append("      unsigned char a = (unsigned char)v.p[j], b = (unsigned char)names[i][j];")
        cc.append("      if (a >= 'A' && a <= 'Z') a = (unsigned char)(a + 32);")
        cc.append("      if (b >= 'A' && b <= 'Z') b = (unsigned char)(b + 32);")
        cc.append("      if (a != b) break;")
        cc.append("    }")
        cc.append("    if (j == len) return i;")
        cc.append("  }")
        cc.append("  return -1;")
        cc.append("}")
        cc.append("")
        cc.append("static int put_enum(tern_cmd_t *cmd, tern_str_t k, int32_t v, const char *const *names, int n) {")
        cc.append("  if (v < 0 || v >= n) return TERN_EINVAL;")
        cc.append("  return tern_cmd_ext_add(cmd, k, tern_str_from_cstr(names[v]));")
        cc.append("}")
        cc.append("")
    for h in hs:
        cc.append("/* ---- %s ---- */" % h.java)
        for f in h.fields:
            if f["type"] == "enum":
                cc.append("static const char *const enum_%s_%s[] = {%s};" % (
                    h.name, field_cname(f), ", ".join(c_string(v) for v in f["values"])))
        cc += gen_lookup(h)
        cc += gen_decode(h)
        cc += gen_encode(h)
        cc.append("static int dec_%s(const tern_cmd_t *cmd, void *h, tern_err_t *err) {" % h.name)
        cc.append("  return tern_hdr_%s_decode(cmd, (%s *)h, err);" % (h.name, h.t))
        cc.append("}")
        cc.append("static int enc_%s(const void *h, tern_cmd_t *cmd, tern_arena_t *scratch) {" % h.name)
        cc.append("  return tern_hdr_%s_encode((const %s *)h, cmd, scratch);" % (h.name, h.t))
        cc.append("}")
        if h.fields:
            cc.append("static const tern_hdr_field_info_t fields_%s[] = {" % h.name)
            for f in h.fields:
                en = ("enum_%s_%s, %d" % (h.name, field_cname(f), len(f["values"]))) if f["type"] == "enum" else "NULL, 0"
                cc.append("  {%s, %s, %s, offsetof(%s, %s), %s, %s}," % (
                    c_string(f["name"]), TYPES[f["type"]][1], "true" if f["required"] and "missing_ok" not in f else "false",
                    h.t, field_cname(f), h.bit(f), en))
            cc.append("};")
        cc.append("")
    for h, lf, mp in conv:
        lfields = {f["name"]: f for f in lf.fields}
        sfields = {f["name"]: f for f in h.fields}
        for src, dst, pairs in ((h, lf, sorted(mp.items())), (lf, h, sorted((b, a) for a, b in mp.items()))):
            sf = {f["name"]: f for f in src.fields}
            df = {f["name"]: f for f in dst.fields}
            cc.append("void tern_hdr_%s_to_%s(const %s *from, %s *to) {" % (src.name, dst.name, src.t, dst.t))
            cc.append("  memset(to, 0, sizeof *to);")
            for a, b in pairs:
                fa, fb = sf[a], df[b]
                cc.append("  to->%s = from->%s;" % (field_cname(fb), field_cname(fa)))
                cc.append("  if (from->present & %s) to->present |= %s;" % (src.bit(fa), dst.bit(fb)))
            cc.append("}")
            cc.append("")
        del lfields, sfields
    cc.append("const tern_hdr_info_t tern_hdr_infos[TERN_HDR_COUNT] = {")
    for h in sorted(hs, key=lambda h: h.java):
        cc.append("  {%s, sizeof(%s), %d, %s, dec_%s, enc_%s}," % (
            c_string(h.java), h.t, len(h.fields), ("fields_" + h.name) if h.fields else "NULL", h.name, h.name))
    cc.append("};")
    cc.append("")
    cc.append("const tern_hdr_info_t *tern_hdr_info_find(tern_str_t java) {")
    cc.append("  size_t lo = 0, hi = TERN_HDR_COUNT; /* the table is sorted by Java name */")
    cc.append("  while (lo < hi) {")
    cc.append("    size_t mid = (lo + hi) / 2;")
    cc.append("    const char *name = tern_hdr_infos[mid].java;")
    cc.append("    size_t n = strlen(name), m = n < java.n ? n : java.n;")
    cc.append("    int c = m ? memcmp(name, java.p, m) : 0;")
    cc.append("    if (c == 0) c = n < java.n ? -1 : n > java.n ? 1 : 0;")
    cc.append("    if (c == 0) return &tern_hdr_infos[mid];")
    cc.append("    if (c < 0) lo = mid + 1; else hi = mid;")
    cc.append("  }")
    cc.append("  return NULL;")
    cc.append("}")
    out.write("headers.c", "\n".join(cc) + "\n", sources)
