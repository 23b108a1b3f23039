"""The remoting command: spec/remoting/{frame,command}.json + spec/grammar/frame.rl
-> gen/command.h, gen/command.c, gen/frame.rl.c.

The spec fixes the constants (limits, flag bits, binary offsets), the JSON key
of every header field and therefore fastjson's key order, which this module
turns into the JSON key dispatch and the JSON writer. From the same fields it
also writes the single-pass JSON header decoder (the common shape straight into
tern_cmd_t, declining anything unusual to the tokenizer path), and from every
header in spec/headers the sorted table of known extFields keys the writer uses
to order and write keys without comparing or escaping them. The frame prefix machine
is Ragel (spec/grammar/frame.rl). The codec logic around them is the C
template below; generated text is deterministic.
"""

MODULE = "command"

FRAME = "spec/remoting/frame.json"
COMMAND = "spec/remoting/command.json"
GRAMMAR = "spec/grammar/frame.rl"
FIELD_NAMES = ("code", "language", "version", "opaque", "flag", "remark", "extFields")


def _get(spec):
    frame = spec.files.get(FRAME)
    cmd = spec.files.get(COMMAND)
    return frame, cmd


def lint(spec, errors):
    frame, cmd = _get(spec)
    if frame is None or frame.get("kind") != "frame":
        errors.append("%s: missing (kind \"frame\")" % FRAME)
    if cmd is None or cmd.get("kind") != "command":
        errors.append("%s: missing (kind \"command\")" % COMMAND)
    if frame is None or cmd is None:
        return
    for i, f in enumerate(frame.get("fields", [])):
        if not f.get("about"):
            errors.append("%s: fields[%d] needs \"about\"" % (FRAME, i))
    lim = frame.get("limits", {})
    for k in ("max_frame", "max_header", "min_length"):
        if not isinstance(lim.get(k, {}).get("value"), int):
            errors.append("%s: limits.%s.value must be an integer" % (FRAME, k))
    types = {t.get("name"): t.get("value") for t in frame.get("serialize_types", [])}
    if types != {"JSON": 0, "ROCKETMQ": 1}:
        errors.append("%s: serialize_types must be JSON=0 and ROCKETMQ=1" % FRAME)
    fields = cmd.get("fields", [])
    names = [f.get("name") for f in fields]
    if tuple(names) != FIELD_NAMES:
        errors.append("%s: fields must be %s in wire order" % (COMMAND, ", ".join(FIELD_NAMES)))
        return
    off = 0
    for f in fields:
        if not f.get("about") or not f.get("json"):
            errors.append("%s: field %s needs \"json\" and \"about\"" % (COMMAND, f["name"]))
        if isinstance(f.get("bin_offset"), int):
            if f["bin_offset"] != off:
                errors.append("%s: field %s: bin_offset %d, expected %d (fields are contiguous)"
                              % (COMMAND, f["name"], f["bin_offset"], off))
            off += f["bin_size"] if isinstance(f.get("bin_size"), int) else 4
    if cmd.get("bin_fixed_size") != off + 4:
        errors.append("%s: bin_fixed_size must be %d" % (COMMAND, off + 4))
    keys = [f["json"] for f in fields] + [j.get("json") for j in cmd.get("json_only", [])]
    if len(set(keys)) != len(keys):
        errors.append("%s: JSON keys must be unique" % COMMAND)
    for fl in cmd.get("flags", []):
        if fl.get("value") != 1 << fl.get("bit", -1):
            errors.append("%s: flag %s: value must be 1 << bit" % (COMMAND, fl.get("name")))
    for k in ("max_ext", "json_max_depth"):
        if not isinstance(cmd.get("limits", {}).get(k, {}).get("value"), int):
            errors.append("%s: limits.%s.value must be an integer" % (COMMAND, k))


def _cstr(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _json_key_switch(cmd):
    """A switch on key length, then memcmp: key text -> JF_* index."""
    keys = [(f["json"], "JF_" + f["name"].upper()) for f in cmd["fields"]]
    keys += [(j["json"], "JF_ONLY_%d" % i) for i, j in enumerate(cmd.get("json_only", []))]
    by_len = {}
    for k, e in keys:
        by_len.setdefault(len(k), []).append((k, e))
    out = ["static int json_field(tern_str_t k) {", "  switch (k.n) {"]
    for n in sorted(by_len):
        out.append("  case %d:" % n)
        for k, e in sorted(by_len[n]):
            out.append("    if (memcmp(k.p, %s, %d) == 0) return %s;" % (_cstr(k), n, e))
        out.append("    return JF_UNKNOWN;")
    out += ["  default:", "    return JF_UNKNOWN;", "  }", "}"]
    return "\n".join(out)


# What the JSON writer emits for each key, in fastjson's alphabetical order.
# Each piece starts with a comma except the first key written (code is always
# first: it sorts before every other key and is never null).
JSON_PIECES = {
    "code": '  put_key_int(b, "{\\"code\\":", 8, c->code);\n',
    "extFields": '  if (n_sel > 0) put_json_ext(c, sel, n_sel, b);\n',
    "flag": '  put_key_int(b, ",\\"flag\\":", 8, c->flag);\n',
    "language": ('  if (lang.n > 0) {\n    raw_append(b, ",\\"language\\":", 12);\n'
                 '    put_str(b, lang);\n  }\n'),
    "opaque": '  put_key_int(b, ",\\"opaque\\":", 10, c->opaque);\n',
    "remark": ('  if (c->has_remark) {\n    raw_append(b, ",\\"remark\\":", 10);\n'
               '    put_str(b, c->remark);\n  }\n'),
    "serializeTypeCurrentRPC": '  raw_append(b, ",\\"serializeTypeCurrentRPC\\":\\"JSON\\"", 33);\n',
    "version": '  put_key_int(b, ",\\"version\\":", 11, c->version);\n',
}


def _json_writer(cmd):
    keys = sorted([f["json"] for f in cmd["fields"]] + [j["json"] for j in cmd.get("json_only", [])])
    missing = [k for k in keys if k not in JSON_PIECES]
    if missing:
        raise SystemExit("gen_command: no JSON writer for key(s) %s" % ", ".join(missing))
    if keys[0] != "code":
        raise SystemExit("gen_command: the JSON writer assumes \"code\" sorts first")
    body = "".join("  /* %s */\n%s" % (k, JSON_PIECES[k]) for k in keys)
    return body + '  raw_append(b, "}", 1);\n'


H_TEMPLATE = r"""/* The remoting command (reference sections 1 and 2): frame prefix parsing, the
 * JSON and ROCKETMQ (binary) header codecs, and extFields access. Decoded
 * strings point into the frame or into the caller's scratch arena. */
#ifndef TERN_GEN_COMMAND_H
#define TERN_GEN_COMMAND_H

#include "runtime/arena.h"
#include "runtime/base.h"
#include "runtime/buf.h"

enum { TERN_SER_JSON = 0, TERN_SER_ROCKETMQ = 1 };
@@FLAGS@@
#define TERN_CMD_MAX_EXT @@MAX_EXT@@          /* extFields entries per command */
#define TERN_CMD_JSON_MAX_DEPTH @@JSON_DEPTH@@    /* nesting accepted in a JSON header */
#define TERN_CMD_BIN_FIXED @@BIN_FIXED@@         /* fixed part of a binary header */
#define TERN_FRAME_DEFAULT_MAX @@MAX_FRAME@@u /* whole frame, length prefix included */
#define TERN_FRAME_MAX_HEADER @@MAX_HEADER@@u  /* 24-bit header length field */
#define TERN_FRAME_MIN_LENGTH @@MIN_LENGTH@@u         /* the length field counts the second word */
#define TERN_FRAME_PREFIX 8u             /* length + serialize type/header length */

typedef struct tern_kv {
  tern_str_t key, val; /* val.p == NULL: a null value (binary zero length, JSON null) */
} tern_kv_t;

typedef struct tern_cmd {
  int32_t code;              /* request or response code */
  int32_t language;          /* LanguageCode number; -1 when the JSON name is unknown */
  tern_str_t language_name;  /* the JSON name as received (empty for binary headers) */
  int32_t version;
  int32_t opaque;
  int32_t flag;
  bool has_remark;
  tern_str_t remark;
  uint32_t n_ext;
  tern_kv_t ext[TERN_CMD_MAX_EXT]; /* JSON numbers/booleans become their text */
  uint8_t serialize_type;          /* TERN_SER_* the header was (or will be) written in */
  tern_str_t body;                 /* points into the frame (decode) or caller memory (encode) */
} tern_cmd_t;

typedef struct tern_frame {
  const uint8_t *header;
  uint32_t header_len;
  uint8_t serialize_type;
  const uint8_t *body;
  uint32_t body_len;
  uint32_t frame_len; /* incl. 4-byte prefix */
} tern_frame_t;

/* Resumable: remembers how much of the 8-byte prefix it has already checked. */
typedef struct tern_frame_parser {
  int cs;
  uint32_t seen;       /* prefix bytes consumed by the machine */
  uint32_t length;     /* the frame's length field */
  uint32_t header_len; /* low 24 bits of the second word */
  uint8_t serialize_type;
  uint32_t max_frame;
} tern_frame_parser_t;

/* max_frame 0 means TERN_FRAME_DEFAULT_MAX (16 MiB, prefix included). */
void tern_frame_parser_init(tern_frame_parser_t *p, uint32_t max_frame);
/* Looks at buf[0..len), the unconsumed bytes of a connection (pass the same
 * bytes again, plus more, after a 0): >0 = one complete frame of that many
 * bytes at buf (filled into *f; the parser is ready for the next frame at
 * buf + result); 0 = need more bytes (nothing consumed); <0 = protocol error
 * (close the connection): a length below 4, a frame over max_frame, a header
 * longer than the frame, a serialize type other than 0/1. Errors come from the
 * 8-byte prefix, before the frame is buffered. */
int tern_frame_next(tern_frame_parser_t *p, const uint8_t *buf, size_t len, tern_frame_t *f, tern_err_t *err);

/* A command with everything zero: code 0, language JAVA, no remark, no ext, JSON. */
void tern_cmd_init(tern_cmd_t *cmd);
/* Decodes the header (JSON or ROCKETMQ); strings point into the frame or into
 * `scratch` (JSON escapes, tokens of large headers). */
int tern_cmd_decode(const tern_frame_t *f, tern_cmd_t *cmd, tern_arena_t *scratch, tern_err_t *err);
/* Test hooks for the two JSON header paths tern_cmd_decode combines (header
 * bytes only; cmd is initialised first). The single-pass decoder returns 0 when
 * it decoded the header and -1 when it declined it (the generic path decides);
 * whenever it decodes, the generic path decodes the same command. */
int tern_cmd__decode_json_fast(const uint8_t *h, uint32_t n, tern_cmd_t *cmd, tern_arena_t *scratch);
int tern_cmd__decode_json_generic(const uint8_t *h, uint32_t n, tern_cmd_t *cmd, tern_arena_t *scratch,
                                  tern_err_t *err);
/* Appends the whole frame (prefix, header in cmd->serialize_type, body).
 * ERANGE: code/version beyond a short in a binary header; ETOOBIG: header or
 * frame beyond the protocol's limits; or the buffer's sticky error. On error
 * the buffer is left at its previous length. */
int tern_cmd_encode(const tern_cmd_t *cmd, tern_buf_t *out);
/* Appends prefix + header only, for a body of body_len bytes sent separately (writev from mmap). */
int tern_cmd_encode_head(const tern_cmd_t *cmd, uint32_t body_len, tern_buf_t *out);
/* The value of the last entry named key, or NULL when absent or null. */
const tern_str_t *tern_cmd_ext_get(const tern_cmd_t *cmd, const char *key);
/* Appends an entry; TERN_ETOOBIG when full. The slices must outlive the command. */
int tern_cmd_ext_add(tern_cmd_t *cmd, tern_str_t key, tern_str_t val);

static inline bool tern_cmd_is_response(const tern_cmd_t *c) { return (c->flag & TERN_FLAG_RESPONSE) != 0; }
static inline bool tern_cmd_is_oneway(const tern_cmd_t *c) { return (c->flag & TERN_FLAG_ONEWAY) != 0; }

#endif
"""

C_TEMPLATE = r"""/* The remoting command header codecs (reference section 2). Binary (ROCKETMQ)
 * headers are decoded in place with every length checked against the header;
 * JSON headers go through the gen/json.h tokenizer and accept what real clients
 * send (typed extFields values, "remark":"", a trailing newline). Encoders
 * write straight into the caller's tern_buf_t: JSON exactly as fastjson lays
 * it out, binary as RocketMQSerializable does. No allocation besides the
 * caller's buffer and scratch arena. The frame prefix machine is frame.rl.c. */
#include "gen/command.h"

#include "gen/codes.h"
#include "gen/json.h"

/* JSON header tokens kept on the stack; bigger headers grow into scratch. */
#define JSON_STACK_TOKS 160
/* A header is tiny; this bounds the work a hostile one can cause. */
#define JSON_MAX_TOKENS 4096
#define JSON_MAX_MEMBERS 256

void tern_cmd_init(tern_cmd_t *cmd) {
  cmd->code = 0;
  cmd->language = 0; /* JAVA, Java's default */
  cmd->language_name = TERN_STR_NULL;
  cmd->version = 0;
  cmd->opaque = 0;
  cmd->flag = 0;
  cmd->has_remark = false;
  cmd->remark = TERN_STR_NULL;
  cmd->n_ext = 0;
  cmd->serialize_type = TERN_SER_JSON;
  cmd->body = TERN_STR_NULL;
}

const tern_str_t *tern_cmd_ext_get(const tern_cmd_t *cmd, const char *key) {
  size_t n = strlen(key);
  for (uint32_t i = cmd->n_ext; i-- > 0;) {
    const tern_kv_t *kv = &cmd->ext[i];
    if (kv->key.n == n && (n == 0 || memcmp(kv->key.p, key, n) == 0)) return kv->val.p ? &kv->val : NULL;
  }
  return NULL;
}

int tern_cmd_ext_add(tern_cmd_t *cmd, tern_str_t key, tern_str_t val) {
  if (cmd->n_ext >= TERN_CMD_MAX_EXT) return TERN_ETOOBIG;
  cmd->ext[cmd->n_ext].key = key;
  cmd->ext[cmd->n_ext].val = val;
  cmd->n_ext++;
  return TERN_OK;
}

/* ------------------------------------------------------------ binary decode */

static tern_str_t bin_slice(const uint8_t *h, uint32_t off, uint32_t n) {
  /* Java's readStr: a zero length is null. */
  tern_str_t s = {n ? (const char *)h + off : NULL, n};
  return s;
}

static int decode_bin(const uint8_t *h, uint32_t n, tern_cmd_t *c, tern_err_t *err) {
  if (n < TERN_CMD_BIN_FIXED)
    return tern_fail(err, TERN_EPROTO, "binary header shorter than its fixed part", NULL, n);
@@BIN_FIXED_READ@@
  uint32_t off = @@REMARK_OFF@@ + 4;
  int32_t rl = (int32_t)tern_load_be32(h + @@REMARK_OFF@@);
  if (rl < 0 || (uint32_t)rl > n - off - 4)
    return tern_fail(err, TERN_EPROTO, "remark length exceeds the header", "remark", @@REMARK_OFF@@);
  c->has_remark = rl > 0;
  c->remark = bin_slice(h, off, (uint32_t)rl);
  off += (uint32_t)rl;
  int32_t el = (int32_t)tern_load_be32(h + off);
  if (el < 0 || (uint32_t)el > n - off - 4)
    return tern_fail(err, TERN_EPROTO, "extFields length exceeds the header", "extFields", off);
  off += 4;
  uint32_t end = off + (uint32_t)el;
  while (off < end) {
    if (end - off < 2) return tern_fail(err, TERN_EPROTO, "extFields entry cut in its key length", "extFields", off);
    int16_t kl = (int16_t)tern_load_be16(h + off);
    off += 2;
    if (kl < 0 || (uint32_t)kl > end - off)
      return tern_fail(err, TERN_EPROTO, "extFields key longer than the extFields", "extFields", off - 2);
    tern_str_t key = bin_slice(h, off, (uint32_t)kl);
    off += (uint32_t)kl;
    if (end - off < 4) return tern_fail(err, TERN_EPROTO, "extFields entry cut in its value length", "extFields", off);
    int32_t vl = (int32_t)tern_load_be32(h + off);
    off += 4;
    if (vl < 0 || (uint32_t)vl > end - off)
      return tern_fail(err, TERN_EPROTO, "extFields value longer than the extFields", "extFields", off - 4);
    if (c->n_ext >= TERN_CMD_MAX_EXT)
      return tern_fail(err, TERN_ETOOBIG, "more extFields entries than TERN_CMD_MAX_EXT", "extFields", off);
    c->ext[c->n_ext].key = key;
    c->ext[c->n_ext].val = bin_slice(h, off, (uint32_t)vl);
    c->n_ext++;
    off += (uint32_t)vl;
  }
  if (off != n) return tern_fail(err, TERN_EPROTO, "bytes after extFields in a binary header", NULL, off);
  return TERN_OK;
}

/* -------------------------------------------------------------- JSON decode */

enum { JF_UNKNOWN = -1, @@JF_ENUM@@ };

@@JSON_KEY_SWITCH@@

static int json_int32(const tern_json_doc_t *d, uint32_t v, int32_t *out, const char *field, tern_err_t *err) {
  int64_t x;
  int rc = tern_json_get_i64(d, v, &x);
  if (rc == TERN_ERANGE || (rc == 0 && (x < INT32_MIN || x > INT32_MAX)))
    return tern_fail(err, TERN_ERANGE, "header number outside int32", field, d->toks[v].start);
  if (rc < 0) return tern_fail(err, TERN_EPROTO, "header field is not an integer", field, d->toks[v].start);
  *out = (int32_t)x;
  return TERN_OK;
}

static int json_ext(const tern_json_doc_t *d, uint32_t obj, tern_cmd_t *c, tern_arena_t *scratch, tern_err_t *err) {
  uint32_t k = TERN_JSON_FIRST(obj);
  for (uint32_t i = 0; i < d->toks[obj].size; i++, k = tern_json_member_next(d, k)) {
    uint32_t v = tern_json_member_value(d, k);
    const tern_json_tok_t *t = &d->toks[v];
    tern_kv_t kv;
    if (tern_json_get_str(d, k, scratch, &kv.key) < 0)
      return tern_fail(err, TERN_EPROTO, "extFields key is not a string", "extFields", d->toks[k].start);
    switch (t->type) {
    case TERN_JSON_STRING:
      if (tern_json_get_str(d, v, scratch, &kv.val) < 0)
        return tern_fail(err, TERN_ENOMEM, "scratch arena full", "extFields", t->start);
      if (kv.val.p == NULL) kv.val.p = d->text + t->start; /* "" is a value, not null */
      break;
    case TERN_JSON_NUMBER: /* cpp and ali-ons: fastjson stores the number's text */
      kv.val = tern_json_raw(d, v);
      break;
    case TERN_JSON_TRUE:
      kv.val = TERN_STR("true");
      break;
    case TERN_JSON_FALSE:
      kv.val = TERN_STR("false");
      break;
    case TERN_JSON_NULL:
      kv.val = TERN_STR_NULL;
      break;
    default:
      return tern_fail(err, TERN_EPROTO, "extFields value is an object or array", "extFields", t->start);
    }
    if (c->n_ext >= TERN_CMD_MAX_EXT)
      return tern_fail(err, TERN_ETOOBIG, "more extFields entries than TERN_CMD_MAX_EXT", "extFields", t->start);
    c->ext[c->n_ext++] = kv;
  }
  return TERN_OK;
}

static int decode_json(const uint8_t *h, uint32_t n, tern_cmd_t *c, tern_arena_t *scratch, tern_err_t *err) {
  /* The cpp client ends its header with a newline. */
  while (n > 0 && (h[n - 1] == '\n' || h[n - 1] == '\r' || h[n - 1] == ' ' || h[n - 1] == '\t')) n--;
  tern_json_tok_t toks[JSON_STACK_TOKS];
  tern_json_doc_t d;
  tern_str_t text = {(const char *)h, n};
  tern_json_doc_init(&d, text, toks, JSON_STACK_TOKS, scratch);
  tern_json_limits_t lim = {TERN_CMD_JSON_MAX_DEPTH, JSON_MAX_TOKENS};
  int rc = tern_json_parse(&d, &lim, err);
  if (rc < 0) return rc;
  if (d.n == 0 || d.toks[0].type != TERN_JSON_OBJECT)
    return tern_fail(err, TERN_EPROTO, "JSON header is not an object", NULL, 0);
  uint32_t members = d.toks[0].size;
  if (members > JSON_MAX_MEMBERS)
    return tern_fail(err, TERN_ETOOBIG, "JSON header has too many members", NULL, 0);
  tern_str_t keys[JSON_MAX_MEMBERS];
  uint32_t k = TERN_JSON_FIRST(0);
  for (uint32_t i = 0; i < members; i++, k = tern_json_member_next(&d, k)) {
    uint32_t v = tern_json_member_value(&d, k);
    const tern_json_tok_t *t = &d.toks[v];
    if (tern_json_get_str(&d, k, scratch, &keys[i]) < 0)
      return tern_fail(err, TERN_EPROTO, "JSON header key is not a string", NULL, d.toks[k].start);
    for (uint32_t j = 0; j < i; j++)
      if (tern_str_eq(keys[j], keys[i]))
        return tern_fail(err, TERN_EDUP, "duplicate key in JSON header", NULL, d.toks[k].start);
    int f = json_field(keys[i]);
    if (t->type == TERN_JSON_NULL) continue; /* fastjson: null is absent */
    switch (f) {
    case JF_CODE:
      if ((rc = json_int32(&d, v, &c->code, "code", err)) < 0) return rc;
      break;
    case JF_VERSION:
      if ((rc = json_int32(&d, v, &c->version, "version", err)) < 0) return rc;
      break;
    case JF_OPAQUE:
      if ((rc = json_int32(&d, v, &c->opaque, "opaque", err)) < 0) return rc;
      break;
    case JF_FLAG:
      if ((rc = json_int32(&d, v, &c->flag, "flag", err)) < 0) return rc;
      break;
    case JF_LANGUAGE:
      if (t->type == TERN_JSON_STRING) {
        if (tern_json_get_str(&d, v, scratch, &c->language_name) < 0)
          return tern_fail(err, TERN_ENOMEM, "scratch arena full", "language", t->start);
        c->language = tern_language_from_name(c->language_name);
      } else if (t->type == TERN_JSON_NUMBER) { /* fastjson also reads an enum's ordinal */
        if ((rc = json_int32(&d, v, &c->language, "language", err)) < 0) return rc;
        if (c->language < 0 || c->language > 127)
          return tern_fail(err, TERN_ERANGE, "language ordinal outside a byte", "language", t->start);
      } else {
        return tern_fail(err, TERN_EPROTO, "language is neither a name nor a number", "language", t->start);
      }
      break;
    case JF_REMARK:
      if (t->type != TERN_JSON_STRING)
        return tern_fail(err, TERN_EPROTO, "remark is not a string", "remark", t->start);
      if (tern_json_get_str(&d, v, scratch, &c->remark) < 0)
        return tern_fail(err, TERN_ENOMEM, "scratch arena full", "remark", t->start);
      c->has_remark = true;
      break;
    case JF_EXTFIELDS:
      if (t->type != TERN_JSON_OBJECT)
        return tern_fail(err, TERN_EPROTO, "extFields is not an object", "extFields", t->start);
      if ((rc = json_ext(&d, v, c, scratch, err)) < 0) return rc;
      break;
    default: /* serializeTypeCurrentRPC and unknown keys: ignored, as every client does */
      break;
    }
  }
  return TERN_OK;
}

@@FAST_DECODE@@

/* Resets what a decode attempt may have written; keeps the frame's type and body. */
static void cmd_restart(tern_cmd_t *c) {
  uint8_t st = c->serialize_type;
  tern_str_t body = c->body;
  tern_cmd_init(c);
  c->serialize_type = st;
  c->body = body;
}

/* The generic path: the tokenizer, then the members. A header the tokenizer
 * refuses for invalid UTF-8 is read again after utf8_replace, as Java would
 * have read it (spec/remoting/command.json, rules.json_utf8). */
static int decode_json_generic(const uint8_t *h, uint32_t n, tern_cmd_t *c, tern_arena_t *scratch, tern_err_t *err) {
  int rc = decode_json(h, n, c, scratch, err);
  if (rc == TERN_EUTF8 && n <= TERN_FRAME_MAX_HEADER) {
    uint8_t *fixed = tern_arena_alloc(scratch, (size_t)n * 3 + 1);
    bool changed;
    size_t m;
    if (!fixed) return rc;
    m = utf8_replace(h, n, fixed, &changed);
    if (!changed) return rc;
    cmd_restart(c);
    rc = decode_json(fixed, (uint32_t)m, c, scratch, err);
  }
  return rc;
}

int tern_cmd__decode_json_fast(const uint8_t *h, uint32_t n, tern_cmd_t *cmd, tern_arena_t *scratch) {
  tern_cmd_init(cmd);
  return decode_json_fast(h, n, cmd, scratch);
}

int tern_cmd__decode_json_generic(const uint8_t *h, uint32_t n, tern_cmd_t *cmd, tern_arena_t *scratch,
                                  tern_err_t *err) {
  tern_cmd_init(cmd);
  return decode_json_generic(h, n, cmd, scratch, err);
}

int tern_cmd_decode(const tern_frame_t *f, tern_cmd_t *cmd, tern_arena_t *scratch, tern_err_t *err) {
  tern_cmd_init(cmd);
  cmd->serialize_type = f->serialize_type;
  cmd->body.p = (const char *)f->body;
  cmd->body.n = f->body_len;
  if (f->serialize_type == TERN_SER_ROCKETMQ) return decode_bin(f->header, f->header_len, cmd, err);
  if (f->serialize_type == TERN_SER_JSON) {
    if (decode_json_fast(f->header, f->header_len, cmd, scratch) == 0) return TERN_OK;
    cmd_restart(cmd);
    return decode_json_generic(f->header, f->header_len, cmd, scratch, err);
  }
  return tern_fail(err, TERN_EPROTO, "serialize type is neither 0 (JSON) nor 1 (ROCKETMQ)", "serialize_type", 0);
}

@@ENCODE_HELPERS@@
static void put_json_header(const tern_cmd_t *c, tern_buf_t *b) {
  uint8_t sel[TERN_CMD_MAX_EXT];
  uint32_t n_sel = select_ext(c, sel);
  /* A known code is written by its name; an unknown one as it was received;
   * a byte with no name (binary input) is null in Java, so omitted. */
  const char *known = tern_language_name(c->language);
  tern_str_t lang = known ? tern_str_from_cstr(known) : c->language_name;
  /* Room for everything at once (fixed keys, integers, every string escaped
   * at 6 bytes per byte), so the pieces below append without checks. */
  size_t room = 256 + 6 * lang.n + (c->has_remark ? 6 * c->remark.n : 0);
  for (uint32_t i = 0; i < n_sel; i++) room += 8 + 6 * (c->ext[sel[i]].key.n + c->ext[sel[i]].val.n);
  if (tern_buf_reserve(b, room)) return;
@@JSON_WRITER@@}

static int put_bin_header(const tern_cmd_t *c, tern_buf_t *b) {
  if (c->code < INT16_MIN || c->code > INT16_MAX)
    return tern_fail(NULL, TERN_ERANGE, "code does not fit a binary header", "code", 0);
  if (c->version < INT16_MIN || c->version > INT16_MAX)
    return tern_fail(NULL, TERN_ERANGE, "version does not fit a binary header", "version", 0);
  uint8_t sel[TERN_CMD_MAX_EXT];
  uint32_t n_sel = select_ext(c, sel);
  size_t remark = c->has_remark ? c->remark.n : 0, ext = 0;
  for (uint32_t i = 0; i < n_sel; i++) {
    const tern_kv_t *kv = &c->ext[sel[i]];
    if (kv->key.n > INT16_MAX) return tern_fail(NULL, TERN_ETOOBIG, "extFields key over 32767 bytes", "extFields", 0);
    ext += 2 + kv->key.n + 4 + kv->val.n;
  }
  size_t total = TERN_CMD_BIN_FIXED + remark + ext;
  if (total > TERN_FRAME_MAX_HEADER) return TERN_ETOOBIG;
  int rc = tern_buf_reserve(b, total);
  if (rc < 0) return rc;
  uint8_t *h = b->p + b->len, *w;
@@BIN_FIXED_WRITE@@
  tern_store_be32(h + @@REMARK_OFF@@, (uint32_t)remark);
  w = h + @@REMARK_OFF@@ + 4;
  if (remark) memcpy(w, c->remark.p, remark);
  w += remark;
  tern_store_be32(w, (uint32_t)ext);
  w += 4;
  for (uint32_t i = 0; i < n_sel; i++) {
    const tern_kv_t *kv = &c->ext[sel[i]];
    tern_store_be16(w, (uint16_t)kv->key.n);
    memcpy(w + 2, kv->key.p, kv->key.n);
    w += 2 + kv->key.n;
    tern_store_be32(w, (uint32_t)kv->val.n);
    if (kv->val.n) memcpy(w + 4, kv->val.p, kv->val.n);
    w += 4 + kv->val.n;
  }
  b->len += total;
  return TERN_OK;
}

static int encode(const tern_cmd_t *c, const void *body, uint32_t body_len, tern_buf_t *b) {
  if (b->err) return b->err;
  if (c->serialize_type != TERN_SER_JSON && c->serialize_type != TERN_SER_ROCKETMQ) return TERN_EINVAL;
  size_t start = b->len;
  uint8_t prefix[TERN_FRAME_PREFIX] = {0};
  tern_buf_append(b, prefix, sizeof prefix);
  int rc = b->err;
  if (rc == 0) {
    if (c->serialize_type == TERN_SER_ROCKETMQ) rc = put_bin_header(c, b);
    else put_json_header(c, b);
  }
  if (rc == 0) rc = b->err;
  size_t hl = b->len - start - TERN_FRAME_PREFIX;
  if (rc == 0 && hl > TERN_FRAME_MAX_HEADER) rc = TERN_ETOOBIG;
  if (rc == 0 && (uint64_t)4 + hl + body_len > (uint64_t)INT32_MAX - 4) rc = TERN_ETOOBIG;
  if (rc == 0 && body) rc = tern_buf_append(b, body, body_len);
  if (rc < 0) {
    if (b->len > start) b->len = start;
    return rc;
  }
  tern_store_be32(b->p + start, (uint32_t)(4 + hl + body_len));
  tern_store_be32(b->p + start + 4, ((uint32_t)c->serialize_type << 24) | (uint32_t)hl);
  return TERN_OK;
}

int tern_cmd_encode(const tern_cmd_t *cmd, tern_buf_t *out) {
  if (cmd->body.n > UINT32_MAX) return TERN_ETOOBIG;
  return encode(cmd, cmd->body.n ? cmd->body.p : NULL, (uint32_t)cmd->body.n, out);
}

int tern_cmd_encode_head(const tern_cmd_t *cmd, uint32_t body_len, tern_buf_t *out) {
  return encode(cmd, NULL, body_len, out);
}
"""

FAST_DECODE_C = r"""/* --------------------------------------------- JSON decode, single pass */

/* The common header shape in one pass, straight into the command: the spec's
 * top-level keys (each at most once, quoted, unescaped), integer fields as
 * JSON integers, language/remark as strings, extFields as an object of quoted
 * keys and string/number/true/false/null values, whitespace where JSON allows
 * it. Strings are checked the way json.rl checks them (well-formed UTF-8, no
 * raw control characters, valid escapes) and unescaped into scratch only when
 * they hold escapes (the send header's properties always do: fastjson writes
 * the 0x01/0x02 separators as \u0001/\u0002). Anything else (unknown or bare
 * or escaped top-level keys, numeric strings, nested values, surrogate
 * escapes, invalid UTF-8, more than TERN_CMD_MAX_EXT entries, any syntax
 * error) is declined, and the generic tokenizer path decides, so the result is
 * the same either way; the differential test and fuzz_header_json check it. */

/* Bytes inside a JSON string: 0 plain ASCII, 1 '"', 2 '\\', 3 control, 4 non-ASCII. */
static const uint8_t FJ_CLASS[256] = {
@@FJ_CLASS@@
};

#define FJ_PENDING (2 * TERN_CMD_MAX_EXT + 2)

typedef struct {
  const uint8_t *h, *e;
  uint32_t n_pending;
  struct {
    tern_str_t *dst;
    uint32_t start, len;
  } pending[FJ_PENDING]; /* escaped strings, unescaped once the whole header is accepted */
} fj_t;

static inline const uint8_t *fj_ws(const uint8_t *p, const uint8_t *e) {
  while (p < e && *p <= ' ' && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++;
  return p;
}

/* Length of the well-formed UTF-8 sequence at p (a byte >= 0x80), 0 if none:
 * json.rl's `plain` (no overlongs, no encoded surrogates, nothing past U+10FFFF). */
static inline size_t fj_utf8(const uint8_t *p, const uint8_t *e) {
  uint8_t c = p[0], lo = 0x80, hi = 0xBF;
  size_t need;
  if (c >= 0xC2 && c <= 0xDF) {
    need = 1;
  } else if (c >= 0xE0 && c <= 0xEF) {
    need = 2;
    if (c == 0xE0) lo = 0xA0;
    else if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    need = 3;
    if (c == 0xF0) lo = 0x90;
    else if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if ((size_t)(e - p) <= need || p[1] < lo || p[1] > hi) return 0;
  for (size_t k = 2; k <= need; k++)
    if (p[k] < 0x80 || p[k] > 0xBF) return 0;
  return need + 1;
}

static inline int fj_hex(uint8_t c) {
  if (c >= '0' && c <= '9') return c - '0';
  c |= 0x20;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

/* A string whose opening quote was at *pp - 1; on success *pp is past the
 * closing quote and *out is its text (escaped ones are queued for unescaping). */
static inline int fj_str(fj_t *j, const uint8_t **pp, tern_str_t *out, bool allow_escapes) {
  const uint8_t *s = *pp, *p = s, *e = j->e;
  bool esc = false;
  for (;;) {
    while (e - p >= 4 && (FJ_CLASS[p[0]] | FJ_CLASS[p[1]] | FJ_CLASS[p[2]] | FJ_CLASS[p[3]]) == 0) p += 4;
    while (p < e && FJ_CLASS[*p] == 0) p++;
    if (p >= e) return -1;
    switch (FJ_CLASS[*p]) {
    case 1:
      if (esc) {
        if (!allow_escapes || j->n_pending >= FJ_PENDING) return -1;
        j->pending[j->n_pending].dst = out;
        j->pending[j->n_pending].start = (uint32_t)(s - j->h);
        j->pending[j->n_pending].len = (uint32_t)(p - s);
        j->n_pending++;
      }
      out->p = (const char *)s;
      out->n = (size_t)(p - s);
      *pp = p + 1;
      return 0;
    case 2:
      if (e - p < 2) return -1;
      switch (p[1]) {
      case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
        p += 2;
        break;
      case 'u': {
        uint32_t cp = 0;
        if (e - p < 6) return -1;
        for (int k = 2; k < 6; k++) {
          int x = fj_hex(p[k]);
          if (x < 0) return -1;
          cp = (cp << 4) | (uint32_t)x;
        }
        if (cp >= 0xD800 && cp <= 0xDFFF) return -1; /* pairs and lone halves: generic path */
        p += 6;
        break;
      }
      default:
        return -1;
      }
      esc = true;
      break;
    case 4: {
      size_t w = fj_utf8(p, e);
      if (!w) return -1;
      p += w;
      break;
    }
    default:
      return -1;
    }
  }
}

/* A JSON integer that fits an int32 (no fraction, exponent or leading zero). */
static int fj_int32(const uint8_t **pp, const uint8_t *e, int32_t *out) {
  const uint8_t *p = *pp, *d;
  bool neg = false;
  int64_t v = 0;
  if (p < e && *p == '-') {
    neg = true;
    p++;
  }
  d = p;
  if (p >= e || *p < '0' || *p > '9') return -1;
  if (*p == '0') {
    p++;
  } else {
    while (p < e && *p >= '0' && *p <= '9') {
      if (p - d >= 10) return -1;
      v = v * 10 + (*p++ - '0');
    }
  }
  if (p < e && (*p == '.' || *p == 'e' || *p == 'E' || (*p >= '0' && *p <= '9'))) return -1;
  if (neg) v = -v;
  if (v < INT32_MIN || v > INT32_MAX) return -1;
  *out = (int32_t)v;
  *pp = p;
  return 0;
}

/* Any JSON number (json.rl's grammar); the caller checks what follows. */
static int fj_number(const uint8_t **pp, const uint8_t *e) {
  const uint8_t *p = *pp;
  if (p < e && *p == '-') p++;
  if (p >= e || *p < '0' || *p > '9') return -1;
  if (*p == '0') p++;
  else
    while (p < e && *p >= '0' && *p <= '9') p++;
  if (p < e && *p == '.') {
    p++;
    if (p >= e || *p < '0' || *p > '9') return -1;
    while (p < e && *p >= '0' && *p <= '9') p++;
  }
  if (p < e && (*p == 'e' || *p == 'E')) {
    p++;
    if (p < e && (*p == '+' || *p == '-')) p++;
    if (p >= e || *p < '0' || *p > '9') return -1;
    while (p < e && *p >= '0' && *p <= '9') p++;
  }
  *pp = p;
  return 0;
}

static inline int fj_lit(const uint8_t **pp, const uint8_t *e, const char *w, size_t n) {
  if ((size_t)(e - *pp) < n || memcmp(*pp, w, n) != 0) return -1;
  *pp += n;
  return 0;
}

/* Past the value: whitespace, then ',' (returns 1, *pp after it and its
 * whitespace) or '}' (returns 0, *pp after it); -1 otherwise. */
static inline int fj_next(const uint8_t **pp, const uint8_t *e) {
  const uint8_t *p = fj_ws(*pp, e);
  if (p >= e) return -1;
  if (*p == ',') {
    *pp = fj_ws(p + 1, e);
    return 1;
  }
  if (*p == '}') {
    *pp = p + 1;
    return 0;
  }
  return -1;
}

static int fj_ext(fj_t *j, const uint8_t **pp, tern_cmd_t *c) {
  const uint8_t *p = fj_ws(*pp + 1, j->e), *e = j->e;
  int more;
  if (p < e && *p == '}') {
    *pp = p + 1;
    return 0;
  }
  do {
    tern_kv_t *kv;
    if (c->n_ext >= TERN_CMD_MAX_EXT || p >= e || *p != '"') return -1;
    kv = &c->ext[c->n_ext++];
    p++;
    if (fj_str(j, &p, &kv->key, true) < 0) return -1;
    p = fj_ws(p, e);
    if (p >= e || *p != ':') return -1;
    p = fj_ws(p + 1, e);
    if (p >= e) return -1;
    switch (*p) {
    case '"':
      p++;
      if (fj_str(j, &p, &kv->val, true) < 0) return -1;
      break;
    case 't':
      if (fj_lit(&p, e, "true", 4) < 0) return -1;
      kv->val = TERN_STR("true");
      break;
    case 'f':
      if (fj_lit(&p, e, "false", 5) < 0) return -1;
      kv->val = TERN_STR("false");
      break;
    case 'n':
      if (fj_lit(&p, e, "null", 4) < 0) return -1;
      kv->val = TERN_STR_NULL;
      break;
    default: { /* cpp and ali-ons: fastjson stores the number's text */
      const uint8_t *s = p;
      if (fj_number(&p, e) < 0) return -1;
      kv->val.p = (const char *)s;
      kv->val.n = (size_t)(p - s);
      break;
    }
    }
    if ((more = fj_next(&p, e)) < 0) return -1;
  } while (more);
  *pp = p;
  return 0;
}

@@FJ_KEY@@

/* Unescapes a string fj_str checked (no surrogate escapes) into scratch, as
 * tern_json_get_str would: the same bytes, the same allocation (len + 1, NUL
 * terminated). */
static int fj_unescape(const uint8_t *r, uint32_t len, tern_arena_t *scratch, tern_str_t *out) {
  const uint8_t *re = r + len;
  char *dst = tern_arena_alloc(scratch, (size_t)len + 1);
  size_t o = 0;
  if (!dst) return -1;
  while (r < re) {
    if (*r != '\\') {
      dst[o++] = (char)*r++;
      continue;
    }
    switch (r[1]) {
    case 'b': dst[o++] = '\b'; break;
    case 'f': dst[o++] = '\f'; break;
    case 'n': dst[o++] = '\n'; break;
    case 'r': dst[o++] = '\r'; break;
    case 't': dst[o++] = '\t'; break;
    case 'u': {
      uint32_t cp = ((uint32_t)fj_hex(r[2]) << 12) | ((uint32_t)fj_hex(r[3]) << 8) | ((uint32_t)fj_hex(r[4]) << 4) |
                    (uint32_t)fj_hex(r[5]);
      if (cp < 0x80) {
        dst[o++] = (char)cp;
      } else if (cp < 0x800) {
        dst[o++] = (char)(0xC0 | (cp >> 6));
        dst[o++] = (char)(0x80 | (cp & 0x3F));
      } else {
        dst[o++] = (char)(0xE0 | (cp >> 12));
        dst[o++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        dst[o++] = (char)(0x80 | (cp & 0x3F));
      }
      r += 6;
      continue;
    }
    default: dst[o++] = (char)r[1]; break; /* '"', '\\', '/' */
    }
    r += 2;
  }
  dst[o] = '\0';
  out->p = dst;
  out->n = o;
  return 0;
}

/* 0: decoded into c; -1: declined (c is partly written; the caller starts over). */
static int decode_json_fast(const uint8_t *h, uint32_t n, tern_cmd_t *c, tern_arena_t *scratch) {
  fj_t j;
  const uint8_t *p, *e = h + n;
  uint32_t seen = 0;
  bool lang_str = false;
  int more;
  j.h = h;
  j.e = e;
  j.n_pending = 0;
  p = fj_ws(h, e);
  if (p >= e || *p != '{') return -1;
  p = fj_ws(p + 1, e);
  if (p < e && *p == '}') {
    p++;
    more = 0;
  } else {
    do {
      tern_str_t key;
      int f;
      if (p >= e || *p != '"') return -1;
      p++;
      if ((f = fj_key(&p, e)) < 0) { /* not a plain known key: scan it and look it up */
        if (fj_str(&j, &p, &key, false) < 0) return -1;
        f = json_field(key);
      }
      if (f < 0 || (seen & (1u << f))) return -1; /* unknown (ignored) or duplicate keys: generic path */
      seen |= 1u << f;
      p = fj_ws(p, e);
      if (p >= e || *p != ':') return -1;
      p = fj_ws(p + 1, e);
      if (p >= e) return -1;
      if (*p == 'n') { /* fastjson: null is absent */
        if (fj_lit(&p, e, "null", 4) < 0) return -1;
      } else {
        switch (f) {
@@FJ_CASES@@
        default: /* keys the receiver ignores (serializeTypeCurrentRPC): a string is all we expect */
          {
            tern_str_t ignored;
            if (*p != '"') return -1;
            p++;
            if (fj_str(&j, &p, &ignored, false) < 0) return -1;
          }
          break;
        }
      }
      if ((more = fj_next(&p, e)) < 0) return -1;
    } while (more);
  }
  if (fj_ws(p, e) != e) return -1;
  /* Accepted: unescape what needs it (the generic path allocates the same). */
  for (uint32_t i = 0; i < j.n_pending; i++)
    if (fj_unescape(h + j.pending[i].start, j.pending[i].len, scratch, j.pending[i].dst) < 0) return -1;
  if (lang_str) c->language = tern_language_from_name(c->language_name);
  return 0;
}

/* Java reads a header as new String(bytes, UTF_8), which turns each malformed
 * sequence into one U+FFFD: an invalid lead byte, or a sequence cut short by a
 * byte outside the range its position allows (decoding resumes at that byte),
 * or a complete 3-byte encoded surrogate. Writes the repaired text to dst
 * (room for 3 * n bytes) and returns its length; *changed tells whether
 * anything was replaced. */
static size_t utf8_replace(const uint8_t *s, size_t n, uint8_t *dst, bool *changed) {
  size_t i = 0, o = 0;
  *changed = false;
  while (i < n) {
    uint32_t c = s[i], cp;
    size_t need, start = i, k = 0;
    uint8_t lo = 0x80, hi = 0xBF;
    if (c < 0x80) {
      dst[o++] = (uint8_t)c;
      i++;
      continue;
    }
    if (c >= 0xC2 && c <= 0xDF) {
      need = 1;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      need = 2;
      cp = c & 0x0F;
      if (c == 0xE0) lo = 0xA0;
    } else if (c >= 0xF0 && c <= 0xF4) {
      need = 3;
      cp = c & 0x07;
      if (c == 0xF0) lo = 0x90;
      else if (c == 0xF4) hi = 0x8F;
    } else {
      need = 0;
      cp = 0xD800; /* marks the lone byte as malformed */
    }
    i++;
    while (k < need && i < n && s[i] >= lo && s[i] <= hi) {
      cp = (cp << 6) | (s[i] & 0x3Fu);
      lo = 0x80;
      hi = 0xBF;
      i++;
      k++;
    }
    if (k < need || (cp >= 0xD800 && cp <= 0xDFFF)) {
      dst[o++] = 0xEF;
      dst[o++] = 0xBF;
      dst[o++] = 0xBD;
      *changed = true;
      continue;
    }
    memcpy(dst + o, s + start, i - start);
    o += i - start;
  }
  return o;
}
"""

ENCODE_C = r"""/* ------------------------------------------------------------------- encode */

/* Every extFields key the spec knows (header fields and extra keys of
 * spec/headers), sorted at codegen time: a key's rank is its place in the
 * sorted order and ENC_KEY holds its text as written (`,"key":`). A command
 * whose keys are all known is sorted by rank; any other falls back to sorting
 * the key text. */
#define ENC_N_KEYS @@ENC_N_KEYS@@
static const struct {
  const char *json;
  uint8_t n;
} ENC_KEY[ENC_N_KEYS] = {
@@ENC_KEYS@@
};

@@ENC_RANK@@

/* Bytes fastjson writes as they are (printable ASCII but '"' and '\\'). */
static const uint8_t ENC_PLAIN[256] = {
@@ENC_PLAIN@@
};

/* put_json_header reserves room for the whole header first; these append
 * into it without checks. */
static inline void raw_append(tern_buf_t *b, const void *p, size_t n) {
  memcpy(b->p + b->len, p, n);
  b->len += n;
}

/* A JSON string: plain ASCII is copied in one go, anything else goes through
 * tern_json_put_str's escaping (the same bytes either way). */
static inline void put_str(tern_buf_t *b, tern_str_t s) {
  const uint8_t *p = (const uint8_t *)s.p;
  size_t i = 0;
  while (i + 4 <= s.n && (ENC_PLAIN[p[i]] & ENC_PLAIN[p[i + 1]] & ENC_PLAIN[p[i + 2]] & ENC_PLAIN[p[i + 3]])) i += 4;
  while (i < s.n && ENC_PLAIN[p[i]]) i++;
  if (i < s.n) {
    tern_json_put_str(b, s);
    return;
  }
  uint8_t *w = b->p + b->len;
  w[0] = '"';
  if (s.n) memcpy(w + 1, p, s.n);
  w[s.n + 1] = '"';
  b->len += s.n + 2;
}

static const char DIGITS2[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

/* `lit` (a key with its punctuation) then a decimal integer, in one append. */
static inline void put_key_int(tern_buf_t *b, const char *lit, size_t ln, int64_t v) {
  char t[48], *end = t + sizeof t, *q = end;
  uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
  while (u >= 100) {
    unsigned r = (unsigned)(u % 100) * 2;
    u /= 100;
    *--q = DIGITS2[r + 1];
    *--q = DIGITS2[r];
  }
  if (u >= 10) {
    *--q = DIGITS2[u * 2 + 1];
    *--q = DIGITS2[u * 2];
  } else {
    *--q = (char)('0' + u);
  }
  if (v < 0) *--q = '-';
  q -= ln;
  memcpy(q, lit, ln);
  raw_append(b, q, (size_t)(end - q));
}

/* The entries a Java HashMap would hold: the last value of each key, without
 * null keys or null values. Returns how many indices went into sel. */
static inline bool same_key(tern_str_t a, tern_str_t b) {
  /* Keys are short and mostly differ in their first byte (V2 headers use a..n):
   * test that before calling memcmp. */
  return a.n == b.n && (a.n == 0 || (a.p[0] == b.p[0] && memcmp(a.p, b.p, a.n) == 0));
}

static uint32_t select_ext(const tern_cmd_t *c, uint8_t *sel) {
  uint32_t n = 0, count = c->n_ext < TERN_CMD_MAX_EXT ? c->n_ext : TERN_CMD_MAX_EXT;
  uint8_t bucket[TERN_CMD_MAX_EXT];
  uint64_t seen = 0, twice = 0;
  /* Keys compared only within a bucket (length and first byte): distinct keys
   * (the usual case) cost one pass. */
  for (uint32_t i = 0; i < count; i++) {
    const tern_str_t *k = &c->ext[i].key;
    uint64_t bit;
    bucket[i] = (uint8_t)((k->n * 7u + (k->n ? (uint8_t)k->p[0] : 0u)) & 63u);
    bit = 1ull << bucket[i];
    twice |= seen & bit;
    seen |= bit;
  }
  for (uint32_t i = 0; i < count; i++) {
    const tern_kv_t *kv = &c->ext[i];
    bool later = false;
    if (twice & (1ull << bucket[i]))
      for (uint32_t j = i + 1; j < count && !later; j++)
        later = bucket[j] == bucket[i] && same_key(c->ext[j].key, kv->key);
    if (later || kv->key.n == 0 || kv->val.p == NULL) continue;
    sel[n++] = (uint8_t)i;
  }
  return n;
}

static int key_cmp(tern_str_t a, tern_str_t b) {
  size_t n = a.n < b.n ? a.n : b.n;
  int r = memcmp(a.p, b.p, n);
  return r ? r : (a.n < b.n ? -1 : a.n > b.n);
}

static void put_json_ext(const tern_cmd_t *c, uint8_t *sel, uint32_t n, tern_buf_t *b) {
  int rank[TERN_CMD_MAX_EXT];
  bool known = true;
  for (uint32_t i = 0; i < n && known; i++) known = (rank[i] = ext_key_rank(c->ext[sel[i]].key)) >= 0;
  /* Sorted keys, so the output is deterministic (insertion sort: n <= 64, usually ~10). */
  for (uint32_t i = 1; i < n; i++) {
    uint8_t x = sel[i];
    int rx = known ? rank[i] : 0;
    uint32_t j = i;
    if (known)
      for (; j > 0 && rank[j - 1] > rx; j--) {
        sel[j] = sel[j - 1];
        rank[j] = rank[j - 1];
      }
    else
      for (; j > 0 && key_cmp(c->ext[sel[j - 1]].key, c->ext[x].key) > 0; j--) sel[j] = sel[j - 1];
    sel[j] = x;
    if (known) rank[j] = rx;
  }
  raw_append(b, ",\"extFields\":{", 14);
  for (uint32_t i = 0; i < n; i++) {
    if (known) {
      raw_append(b, ENC_KEY[rank[i]].json + (i == 0), ENC_KEY[rank[i]].n - (i == 0));
    } else {
      if (i) raw_append(b, ",", 1);
      put_str(b, c->ext[sel[i]].key);
      raw_append(b, ":", 1);
    }
    put_str(b, c->ext[sel[i]].val); /* always a string, as Java writes it */
  }
  raw_append(b, "}", 1);
}
"""

def _table(cells, per=16):
    return "\n".join("    " + ", ".join(str(c) for c in cells[i:i + per]) + "," for i in range(0, len(cells), per))


def _fj_class():
    """Byte classes inside a JSON string (json.rl's `plain` for ASCII)."""
    cells = []
    for b in range(256):
        if b == 0x22:
            cells.append(1)
        elif b == 0x5C:
            cells.append(2)
        elif b < 0x20:
            cells.append(3)
        elif b >= 0x80:
            cells.append(4)
        else:
            cells.append(0)
    return _table(cells)


def _enc_plain():
    """Bytes fastjson writes unescaped (gen_json's escape rule), ASCII only."""
    import gen_json
    return _table([1 if 0x20 <= b < 0x7F and b not in gen_json.SHORT_ESCAPES else 0 for b in range(256)])


def _fj_key(cmd):
    """Known top-level keys matched in place (key text plus closing quote)."""
    keys = [(f["json"], "JF_" + f["name"].upper()) for f in cmd["fields"]]
    keys += [(j["json"], "JF_ONLY_%d" % i) for i, j in enumerate(cmd.get("json_only", []))]
    by_first = {}
    for k, e in keys:
        by_first.setdefault(k[0], []).append((k, e))
    out = ["/* A known top-level key right after its opening quote, with its closing",
           " * quote: its JF_* index, *pp past the quote; -1 otherwise (scan it instead). */",
           "static inline int fj_key(const uint8_t **pp, const uint8_t *e) {",
           "  const uint8_t *p = *pp;",
           "  size_t left = (size_t)(e - p);",
           "  if (left == 0) return -1;",
           "  switch (*p) {"]
    for ch in sorted(by_first):
        out.append("  case '%s':" % ch)
        for k, e in sorted(by_first[ch], key=lambda x: -len(x[0])):
            lit = k + '"'
            out.append("    if (left >= %d && memcmp(p, %s, %d) == 0) {" % (len(lit), _cstr(lit), len(lit)))
            out.append("      *pp = p + %d;" % len(lit))
            out.append("      return %s;" % e)
            out.append("    }")
        out.append("    return -1;")
    out += ["  default:", "    return -1;", "  }", "}"]
    return "\n".join(out)


def _fj_cases(cmd):
    out = []
    for f in cmd["fields"]:
        e = "JF_" + f["name"].upper()
        t = f["type"]
        if t == "int32":
            out.append("        case %s:\n          if (fj_int32(&p, e, &c->%s) < 0) return -1;\n          break;" % (e, f["name"]))
        elif t == "language":
            out.append("        case %s:\n          if (*p != '\"') return -1; /* an ordinal: generic path */\n"
                       "          p++;\n          if (fj_str(&j, &p, &c->language_name, true) < 0) return -1;\n"
                       "          lang_str = true;\n          break;" % e)
        elif t == "string":
            out.append("        case %s:\n          if (*p != '\"') return -1;\n          p++;\n"
                       "          if (fj_str(&j, &p, &c->%s, true) < 0) return -1;\n"
                       "          c->has_%s = true;\n          break;" % (e, f["name"], f["name"]))
        elif t == "map":
            out.append("        case %s:\n          if (*p != '{' || fj_ext(&j, &p, c) < 0) return -1;\n          break;" % e)
        else:
            raise SystemExit("gen_command: no single-pass decoder for field type %r" % t)
    return "\n".join(out)


def _ext_keys(spec):
    keys = set()
    for _, d in spec.of_kind("header"):
        for f in d.get("fields", []):
            keys.add(f["name"])
        for x in d.get("extra_keys", []):
            keys.add(x["key"])
    keys = sorted(k for k in keys if k and all(0x20 < ord(ch) < 0x7F and ch not in '"\\' for ch in k))
    if len(keys) > 255:
        raise SystemExit("gen_command: more than 255 known extFields keys")
    return [k.encode() for k in keys]  # bytes sort as memcmp does


def _enc_keys(keys):
    return "\n".join('    {%s, %d},' % (_cstr(',"%s":' % k.decode()), len(k) + 4) for k in keys)


def _enc_rank(keys):
    by_len = {}
    for i, k in enumerate(keys):
        by_len.setdefault(len(k), {}).setdefault(k[0], []).append((k, i))
    out = ["/* A known key's rank (its index in ENC_KEY), -1 for any other key. */",
           "static int ext_key_rank(tern_str_t k) {", "  switch (k.n) {"]
    for n in sorted(by_len):
        out.append("  case %d:" % n)
        out.append("    switch (k.p[0]) {")
        for ch in sorted(by_len[n]):
            out.append("    case %d: /* %s */" % (ch, chr(ch)))
            for k, i in by_len[n][ch]:
                if n == 1:
                    out.append("      return %d;" % i)
                else:
                    out.append("      if (memcmp(k.p + 1, %s, %d) == 0) return %d;" % (_cstr(k[1:].decode()), n - 1, i))
            if n != 1:
                out.append("      return -1;")
        out.append("    default:\n      return -1;\n    }")
    out += ["  default:", "    return -1;", "  }", "}"]
    return "\n".join(out)


def _bin_fixed(cmd):
    """Reads and writes of the fixed-offset fields (code..flag) from the spec's offsets."""
    rd, wr = [], []
    for f in cmd["fields"]:
        off, size = f.get("bin_offset"), f.get("bin_size")
        if not isinstance(off, int) or not isinstance(size, int):
            continue
        name = f["name"]
        if size == 1:
            # Java writes the LanguageCode byte; an unknown one (or -1) keeps its low byte.
            rd.append("  c->%s = (int8_t)h[%d];" % (name, off))
            wr.append("  h[%d] = (uint8_t)c->%s;" % (off, name))
        elif size == 2:
            rd.append("  c->%s = (int16_t)tern_load_be16(h + %d);" % (name, off))
            wr.append("  tern_store_be16(h + %d, (uint16_t)c->%s);" % (off, name))
        elif size == 4:
            rd.append("  c->%s = (int32_t)tern_load_be32(h + %d);" % (name, off))
            wr.append("  tern_store_be32(h + %d, (uint32_t)c->%s);" % (off, name))
        else:
            raise SystemExit("gen_command: unsupported binary size %r for %s" % (size, name))
    return "\n".join(rd), "\n".join(wr)


def generate(spec, out):
    frame, cmd = _get(spec)
    lim = frame["limits"]
    flags = "\n".join("#define TERN_FLAG_%s 0x%x /* %s */" % (f["name"], f["value"], f["about"].split(":")[0])
                      for f in cmd["flags"])
    h = (H_TEMPLATE.replace("@@FLAGS@@", flags)
         .replace("@@MAX_EXT@@", str(cmd["limits"]["max_ext"]["value"]))
         .replace("@@JSON_DEPTH@@", str(cmd["limits"]["json_max_depth"]["value"]))
         .replace("@@BIN_FIXED@@", str(cmd["bin_fixed_size"]))
         .replace("@@MAX_FRAME@@", str(lim["max_frame"]["value"]))
         .replace("@@MAX_HEADER@@", str(lim["max_header"]["value"]))
         .replace("@@MIN_LENGTH@@", str(lim["min_length"]["value"])))
    out.write("command.h", h, [FRAME, COMMAND])

    remark = [f for f in cmd["fields"] if f["name"] == "remark"][0]
    rd, wr = _bin_fixed(cmd)
    jf = ", ".join(["JF_%s%s" % (f["name"].upper(), " = 0" if i == 0 else "") for i, f in enumerate(cmd["fields"])] +
                   ["JF_ONLY_%d" % i for i in range(len(cmd.get("json_only", [])))])
    if len(cmd["fields"]) + len(cmd.get("json_only", [])) > 32:
        raise SystemExit("gen_command: the single-pass decoder keeps one bit per top-level key (32 at most)")
    keys = _ext_keys(spec)
    fast = (FAST_DECODE_C.replace("@@FJ_CLASS@@", _fj_class()).replace("@@FJ_CASES@@", _fj_cases(cmd))
            .replace("@@FJ_KEY@@", _fj_key(cmd)))
    enc = (ENCODE_C.replace("@@ENC_N_KEYS@@", str(len(keys))).replace("@@ENC_KEYS@@", _enc_keys(keys))
           .replace("@@ENC_RANK@@", _enc_rank(keys)).replace("@@ENC_PLAIN@@", _enc_plain()))
    c = (C_TEMPLATE.replace("@@BIN_FIXED_READ@@", rd)
         .replace("@@BIN_FIXED_WRITE@@", wr)
         .replace("@@REMARK_OFF@@", str(remark["bin_offset"]))
         .replace("@@JF_ENUM@@", jf)
         .replace("@@JSON_KEY_SWITCH@@", _json_key_switch(cmd))
         .replace("@@JSON_WRITER@@", _json_writer(cmd))
         .replace("@@FAST_DECODE@@", fast)
         .replace("@@ENCODE_HELPERS@@", enc))
    out.write("command.c", c, [FRAME, COMMAND, "spec/headers"])
    out.ragel(GRAMMAR, "frame.rl.c")
