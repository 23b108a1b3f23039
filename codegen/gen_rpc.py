"""Typed RPC layer: spec/codes/request_codes.json + spec/headers/ -> gen/rpc.h, gen/rpc.c.

For every request code served by the name server, the broker or a client, and
whose request header (if it has one) is specified in spec/headers/, this writes:
  * a client stub tern_call_<code>() that fills a command (code, and the header
    defaults of spec/headers/_defaults.json: serialization, language, version),
    encodes the typed header into its ext list and hands it to
    tern_conn_request(); codes that senders may send oneway also get
    tern_send_<code>() which sets the ONEWAY flag and takes no callback;
  * per role a handler table (one typed function pointer per code the role
    serves) and tern_<role>_dispatch(), which decodes the header with the
    generated decoder and calls the handler.
Codes whose header class has no spec/headers file are listed in rpc.h as not
generated rather than guessed at.
"""
import os

MODULE = "rpc"

ROLES = ("namesrv", "broker", "client")
LANGS = {"JAVA": 0, "CPP": 1, "DOTNET": 2, "PYTHON": 3, "DELPHI": 4, "ERLANG": 5, "RUBY": 6, "OTHER": 7,
         "HTTP": 8, "GO": 9, "PHP": 10, "OMS": 11, "RUST": 12, "NODE_JS": 13}


def _hdr_mod():
    import importlib.util
    p = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gen_headers.py")
    sp = importlib.util.spec_from_file_location("tern_gen_headers_for_rpc", p)
    m = importlib.util.module_from_spec(sp)
    sp.loader.exec_module(m)
    return m


def _codes(spec):
    docs = spec.of_kind("request_codes")
    if len(docs) != 1:
        return None, None
    return docs[0]


def lint(spec, errors):
    defs = spec.of_kind("rpc_defaults")
    if len(defs) != 1:
        errors.append("spec/headers/_defaults.json: expected exactly one file of kind rpc_defaults, found %d" % len(defs))
    else:
        path, d = defs[0]
        if d.get("serialize_type") not in ("JSON", "ROCKETMQ"):
            errors.append("%s: serialize_type must be JSON or ROCKETMQ" % path)
        if LANGS.get(d.get("language")) != d.get("language_code"):
            errors.append("%s: language and language_code disagree" % path)
        v = d.get("version")
        if not isinstance(v, int) or not 0 <= v < 32768:
            errors.append("%s: version must be a 16-bit MQVersion ordinal" % path)
    path, doc = _codes(spec)
    if doc is None:
        errors.append("spec/codes/request_codes.json: missing (gen_rpc needs it)")
        return
    names = set()
    for c in doc.get("codes", []):
        n = c.get("name", "")
        if n in names:
            errors.append("%s: duplicate code name %s" % (path, n))
        names.add(n)
        for r in c.get("roles", []):
            if r not in ROLES + ("controller",):
                errors.append("%s: %s has unknown role %r" % (path, n, r))


class Code:
    def __init__(self, c, hmod, headers):
        self.num = c["code"]
        self.name = c["name"]
        self.fn = self.name.lower()
        self.roles = [r for r in c.get("roles", []) if r in ROLES]
        self.oneway = c.get("oneway", "never")
        self.java = c.get("request_header")
        self.hdr = headers.get(self.java) if self.java else None
        self.htype = ("tern_hdr_%s_t" % hmod.hdr_name(self.java)) if self.hdr else None
        self.hname = hmod.hdr_name(self.java) if self.hdr else None
        self.ok = not self.java or self.hdr is not None
        self.about = c.get("about", "")


def generate(spec, out):
    hmod = _hdr_mod()
    headers = {d["java"]: d for _, d in spec.of_kind("header")}
    cpath, cdoc = _codes(spec)
    dpath, defs = spec.one("rpc_defaults")
    codes = sorted((Code(c, hmod, headers) for c in cdoc["codes"]), key=lambda c: c.num)
    served = [c for c in codes if c.roles]
    gen = [c for c in served if c.ok]
    skipped = [c for c in served if not c.ok]
    sources = [cpath, dpath] + sorted(p for p, _ in spec.of_kind("header"))

    def hparam(c):
        return ("const %s *h, " % c.htype) if c.hdr else ""

    h = []
    h.append("/* Typed RPC layer over runtime/conn.h: a client stub per request code and, per server role,")
    h.append(" * a handler table and a dispatcher that decodes the custom header and calls the handler.")
    h.append(" *")
    h.append(" * Stubs: `h` may be NULL (no header fields); `body` may be empty. Requests go out %s, language %s,"
             % (defs["serialize_type"], defs["language"]))
    h.append(" * version %d. The command is built on the stack and the header is encoded before" % defs["version"])
    h.append(" * tern_conn_request() is called, so `h` and `body` only need to live for the call. The return value")
    h.append(" * is the encoder's or tern_conn_request()'s (cb is then not called).")
    h.append(" *")
    h.append(" * Dispatch: TERN_ENOTFOUND when the role has no handler for the code (answer")
    h.append(" * REQUEST_CODE_NOT_SUPPORTED), the decoder's error when the header is bad (answer SYSTEM_ERROR")
    h.append(" * with err->reason), otherwise whatever the handler returns. The decoded header points into")
    h.append(" * `req` and is valid during the handler call. */")
    h.append("#ifndef TERN_GEN_RPC_H")
    h.append("#define TERN_GEN_RPC_H")
    h.append("")
    h.append('#include "gen/command.h"')
    h.append('#include "gen/headers.h"')
    h.append('#include "runtime/conn.h"')
    h.append("")
    h.append("/* Header fields of every request the stubs send (spec/headers/_defaults.json). */")
    h.append("#define TERN_RPC_SERIALIZE_TYPE TERN_SER_%s" % defs["serialize_type"])
    h.append("#define TERN_RPC_LANGUAGE %d /* %s */" % (defs["language_code"], defs["language"]))
    h.append("#define TERN_RPC_LANGUAGE_NAME \"%s\"" % defs["language"])
    h.append("#define TERN_RPC_VERSION %d" % defs["version"])
    h.append("")
    h.append("/* Fills cmd as the stubs do (zeroed, code, the defaults above, body) for callers that add")
    h.append(" * ext entries of their own (ACL signatures, QUERY_MESSAGE's _UNIQUE_KEY_QUERY) before encoding")
    h.append(" * the header with tern_hdr_*_encode() and calling tern_conn_request() themselves. */")
    h.append("void tern_rpc_request_init(tern_cmd_t *cmd, int32_t code, tern_str_t body);")
    h.append("")
    if skipped:
        h.append("/* Not generated: their request header class has no spec/headers file yet:")
        line = " *"
        for c in skipped:
            item = " %s (%s)," % (c.name, c.java)
            if len(line) + len(item) > 116:
                h.append(line)
                line = " *"
            line += item
        h.append(line.rstrip(",") + " */")
        h.append("")
    h.append("/* ---- client stubs ---- */")
    for c in gen:
        h.append("/* %s (%d), served by %s%s */" % (c.name, c.num, "/".join(c.roles),
                                                  "; may be sent oneway" if c.oneway != "never" else ""))
        h.append("int tern_call_%s(tern_conn_t *c, %stern_str_t body, uint32_t timeout_ms, tern_rpc_cb cb, void *arg);"
                 % (c.fn, hparam(c)))
        if c.oneway != "never":
            h.append("int tern_send_%s(tern_conn_t *c, %stern_str_t body);" % (c.fn, hparam(c)))
    h.append("")
    for role in ROLES:
        rc = [c for c in gen if role in c.roles]
        h.append("/* ---- %s: the request codes it serves ---- */" % role)
        h.append("typedef struct tern_%s_handlers {" % role)
        for c in rc:
            h.append("  int (*%s)(void *ctx, tern_conn_t *c, const tern_cmd_t *req%s); /* %d */"
                     % (c.fn, (", const %s *h" % c.htype) if c.hdr else "", c.num))
        h.append("} tern_%s_handlers_t;" % role)
        h.append("int tern_%s_dispatch(const tern_%s_handlers_t *t, void *ctx, tern_conn_t *c, const tern_cmd_t *req,"
                 % (role, role))
        h.append("    tern_err_t *err);")
        h.append("/* Glue for runtime/conn.h's tern_request_fn: register tern_%s_on_request with a" % role)
        h.append(" * tern_%s_rpc_t (alive as long as the server) as its ctx. */" % role)
        h.append("typedef struct tern_%s_rpc {" % role)
        h.append("  const tern_%s_handlers_t *handlers;" % role)
        h.append("  void *ctx; /* passed to every handler */")
        h.append("} tern_%s_rpc_t;" % role)
        h.append("int tern_%s_on_request(void *rpc, tern_conn_t *c, const tern_cmd_t *req, tern_err_t *err);" % role)
        h.append("")
    h.append("#endif")
    out.write("rpc.h", "\n".join(h) + "\n", sources)

    s = []
    s.append("/* Typed RPC stubs and per-role dispatchers (see gen/rpc.h). Stubs build the command on the stack")
    s.append(" * with a small inline arena for number text, so a call allocates nothing unless a header has")
    s.append(" * unusually many numeric fields. */")
    s.append('#include "gen/rpc.h"')
    s.append("")
    s.append("typedef struct req {")
    s.append("  tern_cmd_t cmd;")
    s.append("  tern_arena_t scratch;")
    s.append("  _Alignas(8) uint8_t block[512];")
    s.append("} req_t;")
    s.append("")
    s.append("void tern_rpc_request_init(tern_cmd_t *cmd, int32_t code, tern_str_t body) {")
    s.append("  memset(cmd, 0, sizeof *cmd);")
    s.append("  cmd->code = code;")
    s.append("  cmd->language = TERN_RPC_LANGUAGE;")
    s.append("  cmd->language_name = TERN_STR(TERN_RPC_LANGUAGE_NAME);")
    s.append("  cmd->version = TERN_RPC_VERSION;")
    s.append("  cmd->serialize_type = TERN_RPC_SERIALIZE_TYPE;")
    s.append("  cmd->body = body;")
    s.append("}")
    s.append("")
    s.append("static void req_init(req_t *r, int32_t code, tern_str_t body, bool oneway) {")
    s.append("  tern_rpc_request_init(&r->cmd, code, body);")
    s.append("  if (oneway) r->cmd.flag = TERN_FLAG_ONEWAY;")
    s.append("  tern_arena_init(&r->scratch, 0, r->block, sizeof r->block);")
    s.append("}")
    s.append("")
    s.append("/* Sends the request unless encoding failed (rc); frees the scratch arena either way. */")
    s.append("static int req_send(req_t *r, int rc, tern_conn_t *c, uint32_t timeout_ms, tern_rpc_cb cb, void *arg) {")
    s.append("  if (rc == 0) rc = tern_conn_request(c, &r->cmd, timeout_ms, cb, arg);")
    s.append("  tern_arena_free(&r->scratch);")
    s.append("  return rc;")
    s.append("}")
    s.append("")
    for c in gen:
        enc = ("h ? tern_hdr_%s_encode(h, &r.cmd, &r.scratch) : 0" % c.hname) if c.hdr else "0"
        variants = [("call", False)] + ([("send", True)] if c.oneway != "never" else [])
        for kind, oneway in variants:
            if oneway:
                s.append("int tern_send_%s(tern_conn_t *c, %stern_str_t body) {" % (c.fn, hparam(c)))
            else:
                s.append("int tern_call_%s(tern_conn_t *c, %stern_str_t body, uint32_t timeout_ms, tern_rpc_cb cb, void *arg) {"
                         % (c.fn, hparam(c)))
            s.append("  req_t r;")
            s.append("  req_init(&r, %d, body, %s); /* %s */" % (c.num, "true" if oneway else "false", c.name))
            if oneway:
                s.append("  return req_send(&r, %s, c, 0, NULL, NULL);" % enc)
            else:
                s.append("  return req_send(&r, %s, c, timeout_ms, cb, arg);" % enc)
            s.append("}")
            s.append("")
    for role in ROLES:
        rc = [c for c in gen if role in c.roles]
        s.append("int tern_%s_dispatch(const tern_%s_handlers_t *t, void *ctx, tern_conn_t *c, const tern_cmd_t *req,"
                 % (role, role))
        s.append("    tern_err_t *err) {")
        s.append("  switch (req->code) {")
        for c in rc:
            s.append("  case %d: /* %s */" % (c.num, c.name))
            s.append("    if (t->%s == NULL) break;" % c.fn)
            if c.hdr:
                s.append("    {")
                s.append("      %s h;" % c.htype)
                s.append("      int r = tern_hdr_%s_decode(req, &h, err);" % c.hname)
                s.append("      if (r != 0) return r;")
                s.append("      return t->%s(ctx, c, req, &h);" % c.fn)
                s.append("    }")
            else:
                s.append("    return t->%s(ctx, c, req);" % c.fn)
        s.append("  default:")
        s.append("    break;")
        s.append("  }")
        if not rc:
            s.append("  (void)t;")
            s.append("  (void)ctx;")
            s.append("  (void)c;")
        s.append("  return tern_fail(err, TERN_ENOTFOUND, \"request code not supported\", NULL, 0);")
        s.append("}")
        s.append("")
        s.append("int tern_%s_on_request(void *rpc, tern_conn_t *c, const tern_cmd_t *req, tern_err_t *err) {" % role)
        s.append("  const tern_%s_rpc_t *r = rpc;" % role)
        s.append("  return tern_%s_dispatch(r->handlers, r->ctx, c, req, err);" % role)
        s.append("}")
        s.append("")
    out.write("rpc.c", "\n".join(s) + "\n", sources)
