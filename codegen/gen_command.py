"""The remoting command: spec/remoting/{frame,command}.json + spec/grammar/frame.rl
-> gen/command.h, gen/command.c, gen/frame.rl.c.

The spec fixes the constants (limits, flag bits, binary offsets), the JSON key
of every header field and therefore fastjson's key order, which this module
turns into the JSON key dispatch and the JSON writer. The frame prefix machine
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
    keys += [(j["json"], "JF_IGNORED") for j in cmd.get("json_only", [])]
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
    "code": '  tern_buf_append(b, "{\\"code\\":", 8);\n  tern_buf_put_i64_text(b, c->code);\n',
    "extFields": '  if (n_sel > 0) put_json_ext(c, sel, n_sel, b);\n',
    "flag": '  tern_buf_append(b, ",\\"flag\\":", 8);\n  tern_buf_put_i64_text(b, c->flag);\n',
    "language": ('  if (lang.n > 0) {\n    tern_buf_append(b, ",\\"language\\":", 12);\n'
                 '    tern_json_put_str(b, lang);\n  }\n'),
    "opaque": '  tern_buf_append(b, ",\\"opaque\\":", 10);\n  tern_buf_put_i64_text(b, c->opaque);\n',
    "remark": ('  if (c->has_remark) {\n    tern_buf_append(b, ",\\"remark\\":", 10);\n'
               '    tern_json_put_str(b, c->remark);\n  }\n'),
    "serializeTypeCurrentRPC": '  tern_buf_append(b, ",\\"serializeTypeCurrentRPC\\":\\"JSON\\"", 33);\n',
    "version": '  tern_buf_append(b, ",\\"version\\":", 11);\n  tern_buf_put_i64_text(b, c->version);\n',
}


def _json_writer(cmd):
    keys = sorted([f["json"] for f in cmd["fields"]] + [j["json"] for j in cmd.get("json_only", [])])
    missing = [k for k in keys if k not in JSON_PIECES]
    if missing:
        raise SystemExit("gen_command: no JSON writer for key(s) %s" % ", ".join(missing))
    if keys[0] != "code":
        raise SystemExit("gen_command: the JSON writer assumes \"code\" sorts first")
    body = "".join("  /* %s */\n%s" % (k, JSON_PIECES[k]) for k in keys)
    return body + '  tern_buf_put_u8(b, \'}\');\n'


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

enum { JF_UNKNOWN = -1, JF_IGNORED = -2, @@JF_ENUM@@ };

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

int tern_cmd_decode(const tern_frame_t *f, tern_cmd_t *cmd, tern_arena_t *scratch, tern_err_t *err) {
  tern_cmd_init(cmd);
  cmd->serialize_type = f->serialize_type;
  cmd->body.p = (const char *)f->body;
  cmd->body.n = f->body_len;
  if (f->serialize_type == TERN_SER_ROCKETMQ) return decode_bin(f->header, f->header_len, cmd, err);
  if (f->serialize_type == TERN_SER_JSON) return decode_json(f->header, f->header_len, cmd, scratch, err);
  return tern_fail(err, TERN_EPROTO, "serialize type is neither 0 (JSON) nor 1 (ROCKETMQ)", "serialize_type", 0);
}

/* ------------------------------------------------------------------- encode */

/* The entries a Java HashMap would hold: the last value of each key, without
 * null keys or null values. Returns how many indices went into sel. */
static inline bool same_key(tern_str_t a, tern_str_t b) {
  /* Keys are short and mostly differ in their first byte (V2 headers use a..n):
   * test that before calling memcmp. */
  return a.n == b.n && (a.n == 0 || (a.p[0] == b.p[0] && memcmp(a.p, b.p, a.n) == 0));
}

static uint32_t select_ext(const tern_cmd_t *c, uint8_t *sel) {
  uint32_t n = 0, count = c->n_ext < TERN_CMD_MAX_EXT ? c->n_ext : TERN_CMD_MAX_EXT;
  for (uint32_t i = 0; i < count; i++) {
    const tern_kv_t *kv = &c->ext[i];
    bool later = false;
    for (uint32_t j = i + 1; j < count && !later; j++) later = same_key(c->ext[j].key, kv->key);
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
  /* Sorted keys, so the output is deterministic (insertion sort: n <= 64, usually ~10). */
  for (uint32_t i = 1; i < n; i++) {
    uint8_t x = sel[i];
    uint32_t j = i;
    for (; j > 0 && key_cmp(c->ext[sel[j - 1]].key, c->ext[x].key) > 0; j--) sel[j] = sel[j - 1];
    sel[j] = x;
  }
  tern_buf_append(b, ",\"extFields\":{", 14);
  for (uint32_t i = 0; i < n; i++) {
    if (i) tern_buf_put_u8(b, ',');
    tern_json_put_str(b, c->ext[sel[i]].key);
    tern_buf_put_u8(b, ':');
    tern_json_put_str(b, c->ext[sel[i]].val); /* always a string, as Java writes it */
  }
  tern_buf_put_u8(b, '}');
}

static void put_json_header(const tern_cmd_t *c, tern_buf_t *b) {
  uint8_t sel[TERN_CMD_MAX_EXT];
  uint32_t n_sel = select_ext(c, sel);
  /* A known code is written by its name; an unknown one as it was received;
   * a byte with no name (binary input) is null in Java, so omitted. */
  const char *known = tern_language_name(c->language);
  tern_str_t lang = known ? tern_str_from_cstr(known) : c->language_name;
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
    jf = ", ".join("JF_%s%s" % (f["name"].upper(), " = 0" if i == 0 else "") for i, f in enumerate(cmd["fields"]))
    c = (C_TEMPLATE.replace("@@BIN_FIXED_READ@@", rd)
         .replace("@@BIN_FIXED_WRITE@@", wr)
         .replace("@@REMARK_OFF@@", str(remark["bin_offset"]))
         .replace("@@JF_ENUM@@", jf)
         .replace("@@JSON_KEY_SWITCH@@", _json_key_switch(cmd))
         .replace("@@JSON_WRITER@@", _json_writer(cmd)))
    out.write("command.c", c, [FRAME, COMMAND])
    out.ragel(GRAMMAR, "frame.rl.c")
