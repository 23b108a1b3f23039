"""Request, response and language codes: spec/codes/*.json -> gen/codes.h, gen/codes.c.

Writes one X-macro map per table (TERN_REQUEST_CODES, TERN_RESPONSE_CODES,
TERN_LANGUAGE_CODES), the enums TERN_REQ_<NAME> / TERN_RESP_<NAME> /
TERN_LANG_<NAME> built from them, sorted lookup tables (binary search by
number) and tern_language_from_name (switch on length, then one memcmp).

Lint: numbers and names unique per table (a response number reused across
versions must be written once, with per-version "names" whose ranges do not
overlap), versions are "4.9" or "5.x", roles/oneway from fixed sets, and every
header/body a Tern-served code ("tern": true) names exists in spec/headers/ or
spec/bodies/ once that directory has files.
"""
import os
import re

MODULE = "codes"

VERSIONS = ("4.9", "5.x")
ROLES = ("namesrv", "broker", "client", "controller")
ONEWAY = ("never", "sometimes", "usually")
NAME_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")
CLASS_RE = re.compile(r"^[A-Z][A-Za-z0-9]*$")
REQ_KEYS = ("code", "name", "since", "until", "roles", "request_header", "response_header",
            "request_body", "response_body", "oneway", "tern", "about")
FILES = {
    "request_codes": "spec/codes/request_codes.json",
    "response_codes": "spec/codes/response_codes.json",
    "language_codes": "spec/codes/language_codes.json",
}


def _docs(spec):
    res = {}
    for kind in FILES:
        docs = spec.of_kind(kind)
        res[kind] = docs[0] if len(docs) == 1 else (None, None)
    return res


def _version_bits(since, until):
    """Which of the two examined releases (4.9, 5.x) have the code, as a bit set."""
    lo = VERSIONS.index(since)
    hi = VERSIONS.index(until) if until else len(VERSIONS) - 1
    return [VERSIONS[i] for i in range(lo, hi + 1)]


def _check_version(path, where, e, errors):
    since, until = e.get("since"), e.get("until")
    if since not in VERSIONS:
        errors.append("%s: %s: \"since\" must be one of %s" % (path, where, ", ".join(VERSIONS)))
        return False
    if until is not None and (until not in VERSIONS or VERSIONS.index(until) < VERSIONS.index(since)):
        errors.append("%s: %s: \"until\" must be a version >= since" % (path, where))
        return False
    return True


def _spec_names(spec, subdir):
    """Names defined in spec/<subdir>/: a file's "name" if it has one, else its base name."""
    names = set()
    prefix = "spec/%s/" % subdir
    for path, doc in spec.files.items():
        if path.startswith(prefix):
            names.add(doc.get("name") or os.path.splitext(os.path.basename(path))[0])
    return names


def _entries(path, doc, errors):
    if path is None:
        return []
    codes = doc.get("codes")
    if not isinstance(codes, list):
        errors.append("%s: \"codes\" must be a list" % path)
        return []
    return codes


def lint(spec, errors):
    docs = _docs(spec)
    for kind, (path, doc) in docs.items():
        if path is None:
            errors.append("%s: exactly one file of kind %r expected" % (FILES[kind], kind))
    headers = _spec_names(spec, "headers")
    bodies = _spec_names(spec, "bodies")

    # Plain tables: requests and languages (one name per number).
    for kind in ("request_codes", "language_codes"):
        path, doc = docs[kind]
        seen_no, seen_name, last = {}, {}, None
        for i, e in enumerate(_entries(path, doc, errors)):
            where = "codes[%d]" % i
            if not isinstance(e, dict) or not isinstance(e.get("code"), int) or isinstance(e.get("code"), bool):
                errors.append("%s: %s: needs an integer \"code\"" % (path, where))
                continue
            name = e.get("name")
            if not isinstance(name, str) or not NAME_RE.match(name):
                errors.append("%s: %s: \"name\" must match %s" % (path, where, NAME_RE.pattern))
                continue
            where = "%s (%d)" % (name, e["code"])
            if not isinstance(e.get("about"), str) or not e["about"].strip():
                errors.append("%s: %s: missing \"about\"" % (path, where))
            _check_version(path, where, e, errors)
            if e["code"] in seen_no:
                errors.append("%s: %s: number already used by %s" % (path, where, seen_no[e["code"]]))
            if name in seen_name:
                errors.append("%s: %s: name already used by code %d" % (path, where, seen_name[name]))
            seen_no[e["code"]], seen_name[name] = name, e["code"]
            if last is not None and e["code"] < last:
                errors.append("%s: %s: codes must be listed in ascending order" % (path, where))
            last = e["code"]
            if kind == "language_codes":
                if not 0 <= e["code"] <= 127:
                    errors.append("%s: %s: a language code is one signed byte >= 0" % (path, where))
                continue
            unknown = set(e) - set(REQ_KEYS)
            if unknown:
                errors.append("%s: %s: unknown keys %s" % (path, where, ", ".join(sorted(unknown))))
            roles = e.get("roles")
            if not isinstance(roles, list) or any(r not in ROLES for r in roles) or len(set(roles)) != len(roles):
                errors.append("%s: %s: \"roles\" must be a list of distinct %s" % (path, where, "/".join(ROLES)))
            if e.get("oneway") not in ONEWAY:
                errors.append("%s: %s: \"oneway\" must be one of %s" % (path, where, ", ".join(ONEWAY)))
            if not isinstance(e.get("tern"), bool):
                errors.append("%s: %s: \"tern\" must be true or false" % (path, where))
            for key in ("request_header", "response_header", "request_body", "response_body"):
                if key not in e:
                    errors.append("%s: %s: missing %r (null when there is none)" % (path, where, key))
                    continue
                v = e[key]
                if v is None:
                    continue
                if key.endswith("_body") and v == "raw":
                    continue
                if not isinstance(v, str) or not CLASS_RE.match(v):
                    errors.append("%s: %s: %s must be a Java class name, \"raw\" (bodies) or null" % (path, where, key))
                    continue
                if not e.get("tern"):
                    continue  # recorded for reference; Tern does not implement this code
                known = headers if key.endswith("_header") else bodies
                if known and v not in known:
                    errors.append("%s: %s: %s %s has no file in spec/%s/"
                                  % (path, where, key, v, "headers" if key.endswith("_header") else "bodies"))

    # Responses: a number may carry per-version names; nothing else may repeat.
    path, doc = docs["response_codes"]
    seen_no, seen_name, last = {}, {}, None
    for i, e in enumerate(_entries(path, doc, errors)):
        where = "codes[%d]" % i
        if not isinstance(e, dict) or not isinstance(e.get("code"), int) or isinstance(e.get("code"), bool):
            errors.append("%s: %s: needs an integer \"code\"" % (path, where))
            continue
        no = e["code"]
        where = "code %d" % no
        if no in seen_no:
            errors.append("%s: %s: number listed twice; a number reused across versions is one entry with "
                          "per-version \"names\"" % (path, where))
        seen_no[no] = True
        if last is not None and no < last:
            errors.append("%s: %s: codes must be listed in ascending order" % (path, where))
        last = no
        if not isinstance(e.get("about"), str) or not e["about"].strip():
            errors.append("%s: %s: missing \"about\"" % (path, where))
        variants = e["names"] if "names" in e else [e]
        if "names" in e and ("name" in e or not isinstance(e["names"], list) or len(e["names"]) < 2):
            errors.append("%s: %s: use either \"name\" or a list of 2+ per-version \"names\"" % (path, where))
            continue
        covered = set()
        for v in variants:
            name = v.get("name")
            if not isinstance(name, str) or not NAME_RE.match(name):
                errors.append("%s: %s: \"name\" must match %s" % (path, where, NAME_RE.pattern))
                continue
            if name in seen_name:
                errors.append("%s: %s: name %s already used by code %d" % (path, where, name, seen_name[name]))
            seen_name[name] = no
            if not isinstance(v.get("about"), str) or not v["about"].strip():
                errors.append("%s: %s (%s): missing \"about\"" % (path, where, name))
            if not _check_version(path, "%s (%s)" % (where, name), v, errors):
                continue
            vs = set(_version_bits(v["since"], v.get("until")))
            if vs & covered:
                errors.append("%s: %s: names overlap in version %s" % (path, where, ", ".join(sorted(vs & covered))))
            covered |= vs


# ---------------------------------------------------------------- generation

def _vbits(e):
    vs = _version_bits(e["since"], e.get("until"))
    return "|".join("TERN_V%s" % ("49" if v == "4.9" else "5X") for v in vs)


def _cstr(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _macro(name, lines):
    return "#define %s(X) \\\n" % name + " \\\n".join("  " + l for l in lines) + "\n"


def generate(spec, out):
    docs = _docs(spec)
    reqs = docs["request_codes"][1]["codes"]
    resps = docs["response_codes"][1]["codes"]
    langs = docs["language_codes"][1]["codes"]
    sources = sorted(FILES.values())

    req_lines = []
    for e in reqs:
        roles = "|".join("TERN_ROLE_" + r.upper() for r in e["roles"]) or "0"
        req_lines.append("X(%s, %d, %s, %s, TERN_ONEWAY_%s, %d)"
                         % (e["name"], e["code"], _vbits(e), roles, e["oneway"].upper(), 1 if e["tern"] else 0))
    resp_lines, resp_primary = [], []
    for e in resps:
        variants = e.get("names") or [e]
        for v in variants:
            resp_lines.append("X(%s, %d, %s)" % (v["name"], e["code"], _vbits(v)))
        # The name a current (5.x) peer means by this number; else the newest.
        cur = [v for v in variants if v.get("until") is None] or variants[-1:]
        resp_primary.append((e["code"], cur[0]["name"]))
    lang_lines = ["X(%s, %d)" % (e["name"], e["code"]) for e in langs]

    h = []
    h.append("/* Request, response and language codes of the remoting protocol (reference sections 2.2, 3, 4).\n"
             " * Each table is an X-macro map so other generated code and servers can build dispatch tables. */\n")
    h.append("#ifndef TERN_GEN_CODES_H\n#define TERN_GEN_CODES_H\n\n#include \"runtime/base.h\"\n\n")
    h.append("/* Releases that define a code (bit set). */\nenum { TERN_V49 = 1, TERN_V5X = 2 };\n")
    h.append("/* Roles that serve a request code (bit set; 0 = declared, served by nobody). */\n"
             "enum { TERN_ROLE_NAMESRV = 1, TERN_ROLE_BROKER = 2, TERN_ROLE_CLIENT = 4, TERN_ROLE_CONTROLLER = 8 };\n")
    h.append("/* How senders use the oneway flag for a request code (a hint; the flag bit decides). */\n"
             "enum { TERN_ONEWAY_NEVER = 0, TERN_ONEWAY_SOMETIMES = 1, TERN_ONEWAY_USUALLY = 2 };\n\n")
    h.append("/* X(NAME, code, versions, roles, oneway, tern): tern = 1 when Tern serves or sends it. */\n")
    h.append(_macro("TERN_REQUEST_CODES", req_lines) + "\n")
    h.append("/* X(NAME, code, versions): a number reused across versions appears once per name. */\n")
    h.append(_macro("TERN_RESPONSE_CODES", resp_lines) + "\n")
    h.append("/* X(NAME, byte) */\n")
    h.append(_macro("TERN_LANGUAGE_CODES", lang_lines) + "\n")
    h.append("enum {\n#define TERN__X(n, c, ...) TERN_REQ_##n = (c),\n  TERN_REQUEST_CODES(TERN__X)\n#undef TERN__X\n};\n")
    h.append("enum {\n#define TERN__X(n, c, ...) TERN_RESP_##n = (c),\n  TERN_RESPONSE_CODES(TERN__X)\n#undef TERN__X\n};\n")
    h.append("enum {\n#define TERN__X(n, c) TERN_LANG_##n = (c),\n  TERN_LANGUAGE_CODES(TERN__X)\n#undef TERN__X\n};\n\n")
    h.append("#define TERN_REQUEST_CODE_COUNT %d\n#define TERN_RESPONSE_CODE_COUNT %d\n#define TERN_LANGUAGE_CODE_COUNT %d\n\n"
             % (len(reqs), len(resp_primary), len(langs)))
    h.append("typedef struct tern_request_code_info {\n  int32_t code;\n  const char *name;\n"
             "  uint8_t versions, roles, oneway, tern;\n} tern_request_code_info_t;\n\n")
    h.append("/* Facts about a request code, or NULL when no release defines it (binary search). */\n"
             "const tern_request_code_info_t *tern_request_code_info(int code);\n")
    h.append("/* Names, or NULL for unknown numbers. A response number reused across versions\n"
             " * (209-211) is named as 5.x means it. */\n"
             "const char *tern_request_code_name(int code);\nconst char *tern_response_code_name(int code);\n"
             "const char *tern_language_name(int code);\n")
    h.append("/* The LanguageCode byte for a JSON name, or -1 when the name is unknown (accepted, as Java does). */\n"
             "int tern_language_from_name(tern_str_t name);\n\n#endif\n")
    out.write("codes.h", "".join(h), sources)

    c = []
    c.append("/* Lookup tables for the codes in gen/codes.h: number -> name by binary search over\n"
             " * tables sorted by number, and LanguageCode name -> byte by a switch on the length. */\n")
    c.append("#include \"gen/codes.h\"\n\n")
    c.append("static const tern_request_code_info_t request_codes[] = {\n"
             "#define TERN__X(n, c, v, r, o, t) {(c), #n, (v), (r), (o), (t)},\n"
             "    TERN_REQUEST_CODES(TERN__X)\n#undef TERN__X\n};\n\n")
    c.append("typedef struct { int32_t code; const char *name; } code_name_t;\n\n")
    c.append("static const code_name_t response_names[] = {\n")
    for no, name in sorted(resp_primary):
        c.append("    {%d, %s},\n" % (no, _cstr(name)))
    c.append("};\n\n")
    c.append("static const char *const language_names[] = {\n")
    by_byte = {e["code"]: e["name"] for e in langs}
    for b in range(max(by_byte) + 1):
        c.append("    %s,\n" % (_cstr(by_byte[b]) if b in by_byte else "NULL"))
    c.append("};\n\n")
    c.append("""const tern_request_code_info_t *tern_request_code_info(int code) {
  size_t lo = 0, hi = TERN_ARRAY_SIZE(request_codes);
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (request_codes[mid].code < code) lo = mid + 1;
    else hi = mid;
  }
  return lo < TERN_ARRAY_SIZE(request_codes) && request_codes[lo].code == code ? &request_codes[lo] : NULL;
}

const char *tern_request_code_name(int code) {
  const tern_request_code_info_t *i = tern_request_code_info(code);
  return i ? i->name : NULL;
}

const char *tern_response_code_name(int code) {
  size_t lo = 0, hi = TERN_ARRAY_SIZE(response_names);
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (response_names[mid].code < code) lo = mid + 1;
    else hi = mid;
  }
  return lo < TERN_ARRAY_SIZE(response_names) && response_names[lo].code == code ? response_names[lo].name : NULL;
}

const char *tern_language_name(int code) {
  return code >= 0 && (size_t)code < TERN_ARRAY_SIZE(language_names) ? language_names[code] : NULL;
}

""")
    by_len = {}
    for e in langs:
        by_len.setdefault(len(e["name"]), []).append(e)
    c.append("int tern_language_from_name(tern_str_t name) {\n  switch (name.n) {\n")
    for n in sorted(by_len):
        c.append("  case %d:\n" % n)
        for e in sorted(by_len[n], key=lambda x: x["name"]):
            c.append("    if (memcmp(name.p, %s, %d) == 0) return TERN_LANG_%s;\n" % (_cstr(e["name"]), n, e["name"]))
        c.append("    return -1;\n")
    c.append("  default:\n    return -1;\n  }\n}\n")
    out.write("codes.c", "".join(c), sources)


# ------------------------------------------------------------------ self-test

def _selftest():
    """Feeds the linter small broken tables; each must be refused for the right reason."""

    class FakeSpec:
        def __init__(self, files):
            self.files = files

        def of_kind(self, kind):
            return [(p, d) for p, d in sorted(self.files.items()) if d.get("kind") == kind]

    def req(code, name, **kw):
        e = {"code": code, "name": name, "since": "4.9", "roles": ["broker"], "request_header": None,
             "response_header": None, "request_body": None, "response_body": None, "oneway": "never",
             "tern": False, "about": "x"}
        e.update(kw)
        return e

    def files(reqs, resps, extra=None):
        f = {FILES["request_codes"]: {"kind": "request_codes", "about": "x", "codes": reqs},
             FILES["response_codes"]: {"kind": "response_codes", "about": "x", "codes": resps},
             FILES["language_codes"]: {"kind": "language_codes", "about": "x",
                                       "codes": [{"code": 0, "name": "JAVA", "since": "4.9", "about": "x"}]}}
        f.update(extra or {})
        return f

    ok_resp = [{"code": 0, "name": "SUCCESS", "since": "4.9", "about": "x"},
               {"code": 209, "about": "x", "names": [{"name": "OLD", "since": "4.9", "until": "4.9", "about": "x"},
                                                     {"name": "NEW", "since": "5.x", "about": "x"}]}]
    hdr = {"spec/headers/AHeader.json": {"kind": "header", "about": "x"}}
    cases = [
        ("valid tables", files([req(10, "A"), req(11, "B")], ok_resp), None),
        ("duplicate response number", files([req(10, "A")], ok_resp + [{"code": 209, "name": "X", "since": "5.x",
                                                                        "about": "x"}]), "number listed twice"),
        ("overlapping per-version names", files([req(10, "A")], [
            {"code": 209, "about": "x", "names": [{"name": "OLD", "since": "4.9", "about": "x"},
                                                  {"name": "NEW", "since": "5.x", "about": "x"}]}]), "names overlap"),
        ("duplicate response name", files([req(10, "A")], [{"code": 1, "name": "S", "since": "4.9", "about": "x"},
                                                           {"code": 2, "name": "S", "since": "4.9", "about": "x"}]),
         "already used"),
        ("duplicate request number", files([req(10, "A"), req(10, "B")], ok_resp), "number already used"),
        ("duplicate request name", files([req(10, "A"), req(11, "A")], ok_resp), "name already used"),
        ("unsorted", files([req(11, "A"), req(10, "B")], ok_resp), "ascending"),
        ("bad version", files([req(10, "A", since="4.8")], ok_resp), "since"),
        ("bad role", files([req(10, "A", roles=["proxy"])], ok_resp), "roles"),
        ("missing header of a served code", files([req(10, "A", tern=True, request_header="BHeader")], ok_resp, hdr),
         "has no file in spec/headers"),
        ("header present", files([req(10, "A", tern=True, request_header="AHeader")], ok_resp, hdr), None),
        ("unserved code may name any class", files([req(10, "A", request_header="BHeader")], ok_resp, hdr), None),
    ]
    failed = 0
    for name, f, want in cases:
        errors = []
        lint(FakeSpec(f), errors)
        good = (not errors) if want is None else any(want in e for e in errors)
        print("%s - %s%s" % ("ok" if good else "not ok", name, "" if good else ": %r" % errors))
        failed += not good
    print("%d passed, %d failed" % (len(cases) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["--selftest"]:
        sys.exit(_selftest())
    sys.exit("usage: python3 codegen/gen_codes.py --selftest   (generation runs from codegen/tern_codegen.py)")
