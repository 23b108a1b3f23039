"""Strict-mode rules: spec/codes/request_codes.json + spec/headers/ + spec/bodies/ +
spec/remoting/command.json + spec/message/sysflag.json -> gen/strict.h, gen/strict.c.

The conformance checker (conformance/strict.c) judges every incoming request
against these tables; nothing in them is typed by hand:
  * per request code: its name, releases, serving roles, oneway usage, the
    Java class of its request header (only when spec/headers/ has it, so the
    checker can find the descriptor with tern_hdr_info_find) and its request
    body type (only when spec/bodies/ has it, found with tern_body_codec_find;
    "raw" for opaque bytes);
  * the command flag bits defined by spec/remoting/command.json;
  * per header, the fields that are bit sets ("bits" in the header file) with
    the mask of their defined bits, and the fields that carry a message
    properties string (long name "properties", V2 short keys resolved);
  * the message sysFlag bits of spec/message/sysflag.json (the send headers'
    sysFlag).
"""
import os

MODULE = "strict"


def _hex(v):
    return int(v, 16) if isinstance(v, str) else int(v)


def _codes(spec):
    docs = spec.of_kind("request_codes")
    return docs[0] if len(docs) == 1 else (None, None)


def lint(spec, errors):
    path, doc = _codes(spec)
    if doc is None:
        errors.append("spec/codes/request_codes.json: missing (gen_strict needs it)")
        return
    cmd = spec.of_kind("command")
    if len(cmd) != 1:
        errors.append("spec/remoting/command.json: gen_strict needs exactly one file of kind command")
    for p, h in spec.of_kind("header"):
        for f in h.get("fields", []):
            for b in f.get("bits", []):
                if not isinstance(b.get("value"), int) or b["value"] <= 0:
                    errors.append("%s: %s bit %s needs a positive integer value" % (p, f.get("name"), b.get("name")))


def _sysflag_mask(spec):
    docs = spec.of_kind("message_sysflag")
    if len(docs) != 1:
        return None, None
    path, d = docs[0]
    m = 0
    for f in d.get("flags", []) + d.get("fields", []):
        m |= _hex(f["mask"])
    return path, m


def generate(spec, out):
    cpath, cdoc = _codes(spec)
    mpath, mdoc = spec.one("command")
    spath, sys_mask = _sysflag_mask(spec)
    headers = {d["java"]: (p, d) for p, d in spec.of_kind("header")}
    bodies = {os.path.basename(p)[:-5]: p for p, d in spec.of_kind("body")}
    flag_mask = 0
    for f in mdoc.get("flags", []):
        flag_mask |= int(f["value"])

    # Header rules: bit-set fields and properties fields.
    hrules = []
    for java in sorted(headers):
        p, d = headers[java]
        short = (d.get("short_keys") or {}).get("map", {})
        bits, props, relaxed = [], [], []
        for f in d.get("fields", []):
            key = f["name"]
            long_name = short.get(key, key)
            if f.get("required") and (f.get("since") == "5.x" or f.get("missing_ok")) and d.get("since") != "5.x":
                relaxed.append(key)
            if f.get("bits"):
                m = 0
                for b in f["bits"]:
                    m |= int(b["value"])
                bits.append((key, m))
            elif long_name == "sysFlag" and java.startswith("SendMessageRequestHeader") and sys_mask is not None:
                bits.append((key, sys_mask))
            if long_name == "properties" and f.get("type") == "string":
                props.append(key)
        if d.get("since") == "5.x":
            relaxed += [f["name"] for f in d.get("fields", []) if f.get("required")]
        if bits or props or relaxed:
            hrules.append((java, p, bits, props, relaxed))

    ROLE = {"namesrv": "TERN_ROLE_NAMESRV", "broker": "TERN_ROLE_BROKER", "client": "TERN_ROLE_CLIENT",
            "controller": "TERN_ROLE_CONTROLLER"}
    ONEWAY = {"never": "TERN_ONEWAY_NEVER", "sometimes": "TERN_ONEWAY_SOMETIMES", "usually": "TERN_ONEWAY_USUALLY"}
    rows = []
    for c in sorted(cdoc["codes"], key=lambda c: c["code"]):
        hj = c.get("request_header")
        bj = c.get("request_body")
        hdr = hj if hj in headers else None
        if bj == "raw":
            body = "raw"
        elif bj and bj in bodies:
            body = bj
        else:
            body = None
        rh = c.get("response_header")
        rb = c.get("response_body")
        rows.append((c, hdr, hj, body, bj, rh if rh in headers else None,
                     "raw" if rb == "raw" else (rb if rb in bodies else None)))

    h = []
    h.append("/* Strict-mode rules (conformance suite): what the spec says every incoming request must look")
    h.append(" * like, per request code, plus the defined bits of the command flag, of bit-set header fields")
    h.append(" * and of the message sysFlag. conformance/strict.c checks requests against these tables. */")
    h.append("#ifndef TERN_GEN_STRICT_H")
    h.append("#define TERN_GEN_STRICT_H")
    h.append("")
    h.append('#include "gen/codes.h"')
    h.append("")
    h.append("/* Flag bits spec/remoting/command.json defines (RESPONSE | ONEWAY). */")
    h.append("#define TERN_STRICT_CMD_FLAG_MASK 0x%x" % flag_mask)
    if sys_mask is not None:
        h.append("/* Every bit spec/message/sysflag.json defines (flags and multi-bit fields). */")
        h.append("#define TERN_STRICT_MSG_SYSFLAG_MASK 0x%x" % sys_mask)
    h.append("")
    h.append("typedef struct tern_strict_req {")
    h.append("  int32_t code;")
    h.append("  const char *name;")
    h.append("  uint8_t versions, roles, oneway; /* TERN_V*, TERN_ROLE_*, TERN_ONEWAY_* */")
    h.append("  const char *header; /* Java class of the request header when spec/headers/ has it, else NULL */")
    h.append("  const char *header_unspecified; /* the class named by request_codes.json when spec/headers/ lacks it */")
    h.append("  const char *body;   /* spec/bodies/ type, \"raw\", or NULL (no body expected) */")
    h.append("  const char *body_unspecified; /* the body class named when spec/bodies/ lacks it */")
    h.append("  const char *resp_header; /* Java class of the success response header (when specified), else NULL */")
    h.append("  const char *resp_body;   /* spec/bodies/ type of the success response body, \"raw\", or NULL */")
    h.append("} tern_strict_req_t;")
    h.append("#define TERN_STRICT_REQ_COUNT %d" % len(rows))
    h.append("extern const tern_strict_req_t tern_strict_reqs[TERN_STRICT_REQ_COUNT];")
    h.append("/* The rules of a request code, or NULL when no release defines it (binary search). */")
    h.append("const tern_strict_req_t *tern_strict_req_find(int32_t code);")
    h.append("")
    h.append("/* A header field that is a bit set (defined bits in mask), holds a message properties string, or is")
    h.append(" * required only since 5.x (the whole class is 5.x, the field is, or it is marked missing_ok). */")
    h.append("typedef struct tern_strict_hdr_field {")
    h.append("  const char *key;")
    h.append("  uint32_t bits_mask; /* 0: not a bit set */")
    h.append("  bool properties;")
    h.append("  bool required_5x_only; /* required by 5.x (or missing_ok): a 4.9 peer may omit it */")
    h.append("} tern_strict_hdr_field_t;")
    h.append("typedef struct tern_strict_hdr {")
    h.append("  const char *java;")
    h.append("  uint32_t n;")
    h.append("  const tern_strict_hdr_field_t *fields;")
    h.append("} tern_strict_hdr_t;")
    h.append("#define TERN_STRICT_HDR_COUNT %d" % len(hrules))
    h.append("extern const tern_strict_hdr_t tern_strict_hdrs[TERN_STRICT_HDR_COUNT];")
    h.append("/* The extra field rules of a header class, or NULL. */")
    h.append("const tern_strict_hdr_t *tern_strict_hdr_find(const char *java);")
    h.append("")
    h.append("#endif")

    def cs(s):
        return '"%s"' % s if s is not None else "NULL"

    c = []
    c.append('#include "gen/strict.h"')
    c.append("")
    c.append("#include <string.h>")
    c.append("")
    c.append("const tern_strict_req_t tern_strict_reqs[TERN_STRICT_REQ_COUNT] = {")
    for code, hdr, hj, body, bj, rh, rb in rows:
        vers = []
        since, until = code.get("since", "4.9"), code.get("until")
        if since == "4.9":
            vers.append("TERN_V49")
        if until != "4.9":
            vers.append("TERN_V5X")
        roles = "|".join(ROLE[r] for r in code.get("roles", [])) or "0"
        c.append("  {%d, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s}," % (
            code["code"], cs(code["name"]), "|".join(vers) or "0", roles, ONEWAY[code.get("oneway", "never")],
            cs(hdr), cs(hj if hj and not hdr else None), cs(body), cs(bj if bj and not body else None),
            cs(rh), cs(rb)))
    c.append("};")
    c.append("")
    c.append("const tern_strict_req_t *tern_strict_req_find(int32_t code) {")
    c.append("  size_t lo = 0, hi = TERN_STRICT_REQ_COUNT;")
    c.append("  while (lo < hi) {")
    c.append("    size_t mid = lo + (hi - lo) / 2;")
    c.append("    if (tern_strict_reqs[mid].code == code) return &tern_strict_reqs[mid];")
    c.append("    if (tern_strict_reqs[mid].code < code) lo = mid + 1;")
    c.append("    else hi = mid;")
    c.append("  }")
    c.append("  return NULL;")
    c.append("}")
    c.append("")
    for java, p, bits, props, relaxed in hrules:
        c.append("static const tern_strict_hdr_field_t f_%s[] = {" % java)
        keys = sorted(set([k for k, _ in bits] + props + relaxed))
        bm = dict(bits)
        for k in keys:
            c.append('  {"%s", 0x%x, %s, %s},' % (k, bm.get(k, 0), "true" if k in props else "false",
                                                 "true" if k in relaxed else "false"))
        c.append("};")
    c.append("")
    c.append("const tern_strict_hdr_t tern_strict_hdrs[TERN_STRICT_HDR_COUNT] = {")
    for java, p, bits, props, relaxed in hrules:
        n = len(set([k for k, _ in bits] + props + relaxed))
        c.append('  {"%s", %d, f_%s},' % (java, n, java))
    c.append("};")
    c.append("")
    c.append("const tern_strict_hdr_t *tern_strict_hdr_find(const char *java) {")
    c.append("  for (size_t i = 0; i < TERN_STRICT_HDR_COUNT; i++)")
    c.append("    if (strcmp(tern_strict_hdrs[i].java, java) == 0) return &tern_strict_hdrs[i];")
    c.append("  return NULL;")
    c.append("}")

    sources = [cpath, mpath] + ([spath] if spath else []) + sorted(p for p, _ in headers.values()) \
        + sorted(set(bodies.values()))
    out.write("strict.h", "\n".join(h) + "\n", sources=[cpath, mpath] + ([spath] if spath else []))
    out.write("strict.c", "\n".join(c) + "\n", sources=sources)
