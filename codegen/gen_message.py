"""Generator module `message`: the message model from spec/message/*.json.

Writes
  gen/message.h         constants (sysFlag bits, magics, property keys, names), types, prototypes
  gen/message_record.c  the stored-record and batch-entry codecs, emitted field by field from
                        record.json / batch.json so every offset and size comes from the spec
  gen/message_util.c    hashes, CRC, msgId/UNIQ_KEY, property helpers, name rules
                        (codegen/templates/message_util.c.in with spec tables filled in)
  gen/message_props.re.c  the properties lexer (spec/grammar/properties.re through re2c)
"""
import os
import re

MODULE = "message"

HERE = os.path.dirname(os.path.abspath(__file__))
TEMPLATES = os.path.join(HERE, "templates")

KINDS = ["message_record", "message_sysflag", "message_properties", "message_batch",
         "message_msgid", "message_tag_hash", "message_names"]

INT_SIZES = {"i8": 1, "i16": 2, "i32": 4, "i64": 8}
INT_MAX = {"i8": 127, "i16": 32767, "i32": 2147483647}
C_IDENT = re.compile(r"^[A-Z][A-Z0-9_]*$")


def _int(v):
    return int(v, 0) if isinstance(v, str) else int(v)


def _s32(v):
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v & 0x80000000 else v


def _c_int32(v):
    """A signed 32-bit C constant without implementation-defined conversions."""
    v = _s32(v)
    if v == -2147483648:
        return "(-2147483647 - 1)"
    return "(%d)" % v if v < 0 else "%d" % v


def _c_string(s):
    out = []
    for b in s.encode("utf-8"):
        if b in (0x22, 0x5C):
            out.append("\\" + chr(b))
        elif 0x20 <= b < 0x7F:
            out.append(chr(b))
        else:
            out.append("\\x%02x\"\"" % b)
    return '"' + "".join(out) + '"'


def _docs(spec):
    return {k: spec.one(k) for k in KINDS}


# ---------------------------------------------------------------- lint

def lint(spec, errors):
    have = {k: spec.of_kind(k) for k in KINDS}
    for k, docs in have.items():
        if len(docs) != 1:
            errors.append("spec/message: expected one file of kind %s, found %d" % (k, len(docs)))
    if any(len(d) != 1 for d in have.values()):
        return
    d = _docs(spec)
    rec_path, rec = d["message_record"]
    flags = _flag_table(d["message_sysflag"][1])
    size = 0
    for f in rec["fields"]:
        if "about" not in f:
            errors.append("%s: field %s has no about" % (rec_path, f.get("name")))
        t = f.get("type")
        if t in INT_SIZES:
            size += INT_SIZES[t]
        elif t == "host":
            size += rec["host"]["v4"]["ip_size"] + rec["host"]["v4"]["port_size"]
            if f.get("v6_flag") not in flags:
                errors.append("%s: field %s names unknown v6_flag %r" % (rec_path, f["name"], f.get("v6_flag")))
        elif t == "bytes":
            for ver in ("v1", "v2"):
                if f["length"].get(ver) not in INT_SIZES:
                    errors.append("%s: field %s: bad %s length type" % (rec_path, f["name"], ver))
            size += INT_SIZES.get(f["length"]["v1"], 0)
        else:
            errors.append("%s: field %s has unknown type %r" % (rec_path, f.get("name"), t))
    if size != rec["base_size"]:
        errors.append("%s: fields add up to %d bytes but base_size says %d" % (rec_path, size, rec["base_size"]))
    if [f["name"] for f in rec["fields"]][:2] != ["total_size", "magic"]:
        errors.append("%s: the first two fields must be total_size and magic" % rec_path)
    if [f["name"] for f in rec["fields"] if f.get("type") == "bytes"] != ["body", "topic", "properties"]:
        errors.append("%s: the variable fields must be body, topic, properties (the record struct's slices)" % rec_path)
    bpath, batch = d["message_batch"]
    bsize = sum(INT_SIZES[f["type"]] if f["type"] in INT_SIZES else INT_SIZES[f["length"]] for f in batch["fields"])
    if bsize != batch["base_size"]:
        errors.append("%s: fields add up to %d bytes but base_size says %d" % (bpath, bsize, batch["base_size"]))
    ppath, props = d["message_properties"]
    seen_names, seen_keys = set(), set()
    for k in props["keys"]:
        if not C_IDENT.match(k["name"]):
            errors.append("%s: key name %r is not an upper-case C identifier" % (ppath, k["name"]))
        if k["name"] in seen_names or k["key"] in seen_keys:
            errors.append("%s: duplicate key %s/%s" % (ppath, k["name"], k["key"]))
        seen_names.add(k["name"])
        seen_keys.add(k["key"])
        if not k.get("about"):
            errors.append("%s: key %s has no about" % (ppath, k["name"]))
    npath, names = d["message_names"]
    for t in names["topics"] + names["groups"]:
        if not C_IDENT.match(t["name"]):
            errors.append("%s: %r is not an upper-case C identifier" % (npath, t["name"]))
        if any(c not in names["valid_chars"] for c in t["value"]):
            errors.append("%s: %s has characters outside valid_chars" % (npath, t["value"]))


def _flag_table(sysflag):
    return {f["name"]: _int(f["mask"]) for f in sysflag["flags"]}


# ---------------------------------------------------------------- header

def _header(d):
    rec = d["message_record"][1]
    sysflag = d["message_sysflag"][1]
    props = d["message_properties"][1]
    batch = d["message_batch"][1]
    msgid = d["message_msgid"][1]
    names = d["message_names"][1]
    tpl = _read_template("message.h.in")

    lines = []
    for f in sysflag["flags"]:
        lines.append("#define TERN_SYSFLAG_%-28s 0x%x /* %s */" % (f["name"], _int(f["mask"]), f["about"]))
    for fld in sysflag["fields"]:
        lines.append("#define TERN_SYSFLAG_%-28s 0x%x /* %s */" % (fld["name"] + "_MASK", _int(fld["mask"]), fld["about"]))
        for v in fld["values"]:
            lines.append("#define TERN_SYSFLAG_%-28s 0x%x /* %s */" % (fld["name"] + "_" + v["name"], _int(v["value"]), v["about"]))
    sysflag_defs = "\n".join(lines)

    lines = []
    for ver in ("v1", "v2", "blank"):
        m = rec["magic"][ver]
        lines.append("/* %s */" % m["about"])
        lines.append("#define TERN_MSG_MAGIC_%s %s /* %s */" % (ver.upper(), _c_int32(_int(m["value"])), m["value"]))
    lines.append("#define TERN_MSG_BLANK_SIZE %d" % rec["blank_size"])
    lines.append("/* %s */" % rec["base_size_about"])
    lines.append("#define TERN_MSG_RECORD_BASE_SIZE %d" % rec["base_size"])
    v4, v6 = rec["host"]["v4"], rec["host"]["v6"]
    lines.append("#define TERN_MSG_HOST_V6_EXTRA %d /* bytes an IPv6 host adds */" % (v6["ip_size"] - v4["ip_size"]))
    tf = [f for f in rec["fields"] if f["name"] == "topic"][0]
    pf = [f for f in rec["fields"] if f["name"] == "properties"][0]
    lines.append("#define TERN_MSG_V2_EXTRA %d /* bytes magic v2's wider topic length adds */"
                 % (INT_SIZES[tf["length"]["v2"]] - INT_SIZES[tf["length"]["v1"]]))
    lines.append("#define TERN_MSG_TOPIC_MAX_V1 %d" % INT_MAX[tf["length"]["v1"]])
    lines.append("#define TERN_MSG_TOPIC_MAX_V2 %d" % INT_MAX[tf["length"]["v2"]])
    lines.append("#define TERN_MSG_PROPS_MAX %d" % INT_MAX[pf["length"]["v1"]])
    # Offsets of the fields before the first host field are constant; the rest
    # depend on sys_flag (and magic, past the topic length) and get inline helpers.
    off = 0
    offs = []
    for f in rec["fields"]:
        if f["type"] not in INT_SIZES:
            break
        lines.append("#define TERN_MSG_OFF_%s %d" % (f["name"].upper(), off))
        off += INT_SIZES[f["type"]]
    record_defs = "\n".join(lines)

    # Inline offset helpers for fixed-size fields after the first host.
    lines = []
    flags = _flag_table(sysflag)
    started = False
    pos = 0
    extra = []  # host fields seen so far: their v6 flag names
    for f in rec["fields"]:
        t = f["type"]
        if t == "host" and not started:
            started = True
        if started:
            expr = "%d" % pos
            for fl in extra:
                expr += " + ((sys_flag & TERN_SYSFLAG_%s) ? TERN_MSG_HOST_V6_EXTRA : 0)" % fl
            if (t in INT_SIZES or t == "host") and not extra:
                lines.append("#define TERN_MSG_OFF_%s %d" % (f["name"].upper(), pos))
            elif t in INT_SIZES or t == "host":
                lines.append("static inline uint32_t tern_msg_off_%s(int32_t sys_flag) {\n  return (uint32_t)(%s);\n}"
                             % (f["name"], expr))
        if t in INT_SIZES:
            pos += INT_SIZES[t]
        elif t == "host":
            pos += v4["ip_size"] + v4["port_size"]
            extra.append(f["v6_flag"])
            assert f["v6_flag"] in flags
        else:
            break
    offset_fns = "\n".join(lines)

    lines = []
    for k in props["keys"]:
        lines.append("#define TERN_PROP_%-34s %s /* %s */" % (k["name"], _c_string(k["key"]), k["about"]))
    prop_defs = "\n".join(lines)

    lines = []
    for t in names["topics"]:
        lines.append("#define TERN_TOPIC_%-22s %s /* %s */" % (t["name"], _c_string(t["value"]), t["about"]))
    for g in names["groups"]:
        lines.append("#define TERN_GROUP_%-22s %s /* %s */" % (g["name"], _c_string(g["value"]), g["about"]))
    lines.append("#define TERN_RETRY_TOPIC_PREFIX %s" % _c_string(names["retry_prefix"]))
    lines.append("#define TERN_DLQ_TOPIC_PREFIX %s" % _c_string(names["dlq_prefix"]))
    lines.append("#define TERN_SYSTEM_TOPIC_PREFIX %s" % _c_string(names["system_topic_prefix"]))
    lines.append("#define TERN_SYSTEM_GROUP_PREFIX %s" % _c_string(names["system_group_prefix"]))
    lines.append("#define TERN_REPLY_TOPIC_SUFFIX %s" % _c_string(names["reply_topic_suffix"]))
    lines.append("#define TERN_TOPIC_MAX_LEN %d" % names["topic_max_len"])
    lines.append("#define TERN_GROUP_MAX_LEN %d" % names["group_max_len"])
    name_defs = "\n".join(lines)

    oid = msgid["offset_id"]
    uk = msgid["uniq_key"]
    subs = {
        "SYSFLAG_DEFS": sysflag_defs,
        "RECORD_DEFS": record_defs,
        "OFFSET_FNS": offset_fns,
        "PROP_DEFS": prop_defs,
        "PROPS_NV_SEP": "0x%02x" % props["name_value_separator"],
        "PROPS_SEP": "0x%02x" % props["property_separator"],
        "PROPS_MAX": str(props["max_bytes"]),
        "BATCH_BASE_SIZE": str(batch["base_size"]),
        "NAME_DEFS": name_defs,
        "MSGID_HEX_V4": str(oid["hex_len"]["v4"]),
        "MSGID_HEX_V6": str(oid["hex_len"]["v6"]),
        "UNIQ_HEX_V4": str(uk["hex_len"]["v4"]),
        "UNIQ_HEX_V6": str(uk["hex_len"]["v6"]),
    }
    return _fill(tpl, subs, "message.h.in")


# ---------------------------------------------------------------- record codec

def _load(t, at):
    n = INT_SIZES[t]
    if n == 1:
        return "(int32_t)(int8_t)p[%s]" % at
    if n == 2:
        return "(int32_t)(int16_t)tern_load_be16(p + %s)" % at
    if n == 4:
        return "(int32_t)tern_load_be32(p + %s)" % at
    return "(int64_t)tern_load_be64(p + %s)" % at


def _store(t, at, val):
    n = INT_SIZES[t]
    if n == 1:
        return "dst[%s] = (uint8_t)(%s);" % (at, val)
    return "tern_store_be%d(dst + %s, (uint%d_t)(%s));" % (n * 8, at, n * 8, val)


def _record_c(d):
    rec = d["message_record"][1]
    batch = d["message_batch"][1]
    v4, v6 = rec["host"]["v4"], rec["host"]["v6"]
    out = []
    w = out.append
    w("""/* The stored-record and batch-entry codecs. Emitted field by field from
 * spec/message/record.json and batch.json: each field is one big-endian load or
 * store at an offset the spec fixes, so decode and encode are straight-line
 * code with no allocation and no per-byte calls. Decoders check every length
 * against TOTALSIZE and TOTALSIZE against the buffer before touching bytes. */
#include "gen/message.h"

""")
    # ---- size
    w("uint32_t tern_msg_record_size(const tern_msg_record_t *r) {\n")
    w("  uint64_t n = TERN_MSG_RECORD_BASE_SIZE;\n")
    for f in rec["fields"]:
        if f["type"] == "host":
            w("  if (r->sys_flag & TERN_SYSFLAG_%s) n += TERN_MSG_HOST_V6_EXTRA;\n" % f["v6_flag"])
    w("  if (r->magic == TERN_MSG_MAGIC_V2) n += TERN_MSG_V2_EXTRA;\n")
    w("  n += (uint64_t)r->body.n + (uint64_t)r->topic.n + (uint64_t)r->properties.n;\n")
    w("  return n > INT32_MAX ? UINT32_MAX : (uint32_t)n;\n}\n\n")

    # ---- encode
    w("int tern_msg_record_encode(const tern_msg_record_t *r, uint8_t *dst, size_t cap) {\n")
    w("  const bool v2 = r->magic == TERN_MSG_MAGIC_V2;\n")
    w("  if (r->magic != TERN_MSG_MAGIC_V1 && !v2) return TERN_EINVAL;\n")
    for f in rec["fields"]:
        if f["type"] == "host":
            w("  if (r->%s.ip_len != ((r->sys_flag & TERN_SYSFLAG_%s) ? %d : %d)) return TERN_EINVAL;\n"
              % (f["name"], f["v6_flag"], v6["ip_size"], v4["ip_size"]))
        if f["type"] == "bytes":
            l1, l2 = f["length"]["v1"], f["length"]["v2"]
            lim = ("(v2 ? %d : %d)" % (INT_MAX[l2], INT_MAX[l1])) if l1 != l2 else "%d" % INT_MAX[l1]
            w("  if (r->%s.n > (size_t)%s) return TERN_EINVAL;\n" % (f["name"], lim))
    w("  const uint32_t size = tern_msg_record_size(r);\n")
    w("  if (size == UINT32_MAX || r->total_size != (int32_t)size) return TERN_EINVAL;\n")
    w("  if (cap < size) return TERN_EFULL;\n")
    w("  size_t o = 0;\n")
    for f in rec["fields"]:
        t, nm = f["type"], f["name"]
        if t in INT_SIZES:
            w("  %s\n  o += %d;\n" % (_store(t, "o", "r->" + nm), INT_SIZES[t]))
        elif t == "host":
            w("  memcpy(dst + o, r->%s.ip, r->%s.ip_len);\n  o += r->%s.ip_len;\n" % (nm, nm, nm))
            w("  %s\n  o += %d;\n" % (_store("i32", "o", "r->%s.port" % nm), v4["port_size"]))
        else:
            l1, l2 = f["length"]["v1"], f["length"]["v2"]
            if l1 == l2:
                w("  %s\n  o += %d;\n" % (_store(l1, "o", "r->%s.n" % nm), INT_SIZES[l1]))
            else:
                w("  if (v2) {\n    %s\n    o += %d;\n  } else {\n    %s\n    o += %d;\n  }\n"
                  % (_store(l2, "o", "r->%s.n" % nm), INT_SIZES[l2], _store(l1, "o", "r->%s.n" % nm), INT_SIZES[l1]))
            w("  if (r->%s.n) memcpy(dst + o, r->%s.p, r->%s.n);\n  o += r->%s.n;\n" % (nm, nm, nm, nm))
    w("  return o == size ? TERN_OK : TERN_EINVAL;\n}\n\n")

    # ---- blank
    w("""int tern_msg_blank_encode(uint8_t *dst, size_t cap, int32_t total_size) {
  if (total_size < TERN_MSG_BLANK_SIZE) return TERN_EINVAL;
  if (cap < TERN_MSG_BLANK_SIZE) return TERN_EFULL;
  tern_store_be32(dst + TERN_MSG_OFF_TOTAL_SIZE, (uint32_t)total_size);
  tern_store_be32(dst + TERN_MSG_OFF_MAGIC, (uint32_t)TERN_MSG_MAGIC_BLANK);
  return TERN_OK;
}

""")

    # ---- decode
    w("int tern_msg_record_decode(const uint8_t *p, size_t len, tern_msg_record_t *r, tern_err_t *err) {\n")
    w("  if (len < TERN_MSG_BLANK_SIZE)\n")
    w("    return tern_fail(err, TERN_EAGAIN, \"record shorter than its size and magic\", \"total_size\", len);\n")
    w("  const int32_t total = %s;\n" % _load("i32", "TERN_MSG_OFF_TOTAL_SIZE"))
    w("  const int32_t magic = %s;\n" % _load("i32", "TERN_MSG_OFF_MAGIC"))
    w("""  if (magic == TERN_MSG_MAGIC_BLANK) {
    if (total < TERN_MSG_BLANK_SIZE)
      return tern_fail(err, TERN_EPROTO, "blank record smaller than 8 bytes", "total_size", 0);
    memset(r, 0, sizeof *r);
    r->total_size = total;
    r->magic = magic;
    return TERN_OK;
  }
  const bool v2 = magic == TERN_MSG_MAGIC_V2;
  if (magic != TERN_MSG_MAGIC_V1 && !v2)
    return tern_fail(err, TERN_EPROTO, "unknown record magic", "magic", TERN_MSG_OFF_MAGIC);
  if (total < TERN_MSG_RECORD_BASE_SIZE)
    return tern_fail(err, TERN_EPROTO, "TOTALSIZE below the fixed part of a record", "total_size", 0);
  if ((size_t)total > len)
    return tern_fail(err, TERN_EAGAIN, "record longer than the bytes available", "total_size", len);
""")
    # sys_flag is at a fixed offset; with it the size of the fixed part is known.
    w("  const int32_t sys_flag = %s;\n" % _load("i32", "TERN_MSG_OFF_SYS_FLAG"))
    w("  uint32_t fixed = TERN_MSG_RECORD_BASE_SIZE + (v2 ? TERN_MSG_V2_EXTRA : 0);\n")
    for f in rec["fields"]:
        if f["type"] == "host":
            w("  if (sys_flag & TERN_SYSFLAG_%s) fixed += TERN_MSG_HOST_V6_EXTRA;\n" % f["v6_flag"])
    w("""  if ((uint32_t)total < fixed)
    return tern_fail(err, TERN_EPROTO, "TOTALSIZE below the fixed part for these host sizes", "total_size", 0);
  /* Bytes left for body, topic and properties; each length must fit in it. */
  uint32_t rest = (uint32_t)total - fixed;
  size_t o = 0;
""")
    for f in rec["fields"]:
        t, nm = f["type"], f["name"]
        if t in INT_SIZES:
            w("  r->%s = %s;\n  o += %d;\n" % (nm, _load(t, "o"), INT_SIZES[t]))
        elif t == "host":
            w("  r->%s.ip_len = (sys_flag & TERN_SYSFLAG_%s) ? %d : %d;\n" % (nm, f["v6_flag"], v6["ip_size"], v4["ip_size"]))
            w("  memset(r->%s.ip, 0, sizeof r->%s.ip);\n" % (nm, nm))
            w("  memcpy(r->%s.ip, p + o, r->%s.ip_len);\n  o += r->%s.ip_len;\n" % (nm, nm, nm))
            w("  r->%s.port = %s;\n  o += %d;\n" % (nm, _load("i32", "o"), v4["port_size"]))
        else:
            l1, l2 = f["length"]["v1"], f["length"]["v2"]
            w("  {\n    int32_t n;\n")
            if l1 == l2:
                w("    n = %s;\n    o += %d;\n" % (_load(l1, "o"), INT_SIZES[l1]))
            else:
                w("    if (v2) {\n      n = %s;\n      o += %d;\n    } else {\n      n = %s;\n      o += %d;\n    }\n"
                  % (_load(l2, "o"), INT_SIZES[l2], _load(l1, "o"), INT_SIZES[l1]))
            w("    if (n < 0) return tern_fail(err, TERN_EPROTO, \"negative length\", \"%s\", o);\n" % nm)
            w("    if ((uint32_t)n > rest) return tern_fail(err, TERN_EPROTO, \"length reaches past TOTALSIZE\", \"%s\", o);\n" % nm)
            w("    rest -= (uint32_t)n;\n")
            w("    r->%s.p = (const char *)p + o;\n    r->%s.n = (size_t)n;\n    o += (size_t)n;\n  }\n" % (nm, nm))
    w("""  if (rest != 0 || o != (size_t)total)
    return tern_fail(err, TERN_EPROTO, "TOTALSIZE disagrees with the field lengths", "total_size", o);
  return TERN_OK;
}

""")
    # ---- iterator
    w("""void tern_msg_record_iter_init(tern_msg_record_iter_t *it, const uint8_t *p, size_t len) {
  it->p = p;
  it->len = len;
  it->off = 0;
  it->done = false;
}

int tern_msg_record_iter_next(tern_msg_record_iter_t *it, tern_msg_record_t *r, tern_err_t *err) {
  if (it->done || it->off >= it->len) {
    it->done = true;
    return 0;
  }
  int rc = tern_msg_record_decode(it->p + it->off, it->len - it->off, r, err);
  if (rc == TERN_EAGAIN) {
    it->done = true;
    return tern_fail(err, TERN_EPROTO, "record truncated at the end of the sequence", "total_size", it->off);
  }
  if (rc < 0) {
    it->done = true;
    if (err) err->pos += it->off;
    return rc;
  }
  if (r->magic == TERN_MSG_MAGIC_BLANK) {
    /* A blank fills the rest of its file: nothing after it belongs to the sequence. */
    it->done = true;
    return 1;
  }
  it->off += (size_t)r->total_size;
  return 1;
}

""")
    # ---- batch
    w("int tern_batch_iter_next(tern_batch_iter_t *it, tern_batch_entry_t *e, tern_err_t *err) {\n")
    w("""  if (it->off >= it->len) return 0;
  const uint8_t *p = it->p + it->off;
  const size_t len = it->len - it->off, at = it->off;
  size_t o = 0;
""")
    w("  if (len < TERN_BATCH_BASE_SIZE)\n")
    w("    return tern_fail(err, TERN_EPROTO, \"batch entry shorter than its fixed part\", \"total_size\", at);\n")
    w("  /* Fixed part present; rest = bytes the body and properties may take. */\n")
    w("  size_t rest = len - TERN_BATCH_BASE_SIZE;\n")
    for f in batch["fields"]:
        t, nm = f["type"], f["name"]
        if t in INT_SIZES:
            w("  e->%s = %s;\n  o += %d;\n" % (nm, _load(t, "o"), INT_SIZES[t]))
        else:
            lt = f["length"]
            w("  {\n    int32_t n = %s;\n    o += %d;\n" % (_load(lt, "o"), INT_SIZES[lt]))
            w("    if (n < 0) return tern_fail(err, TERN_EPROTO, \"negative length\", \"%s\", at + o);\n" % nm)
            w("    if ((size_t)n > rest) return tern_fail(err, TERN_EPROTO, \"length reaches past the batch body\", \"%s\", at + o);\n" % nm)
            w("    rest -= (size_t)n;\n")
            w("    e->%s.p = (const char *)p + o;\n    e->%s.n = (size_t)n;\n    o += (size_t)n;\n  }\n" % (nm, nm))
    w("""  if (e->total_size < 0 || (size_t)e->total_size != o)
    return tern_fail(err, TERN_EPROTO, "entry TOTALSIZE disagrees with its lengths", "total_size", at);
  it->off += o;
  return 1;
}

""")
    w("int tern_batch_entry_encode(tern_buf_t *b, int32_t flag, tern_str_t body, tern_str_t properties) {\n")
    pf = [f for f in batch["fields"] if f["name"] == "properties"][0]
    bf = [f for f in batch["fields"] if f["name"] == "body"][0]
    w("  if (properties.n > %d || body.n > (size_t)%d - TERN_BATCH_BASE_SIZE - properties.n) return TERN_EINVAL;\n"
      % (INT_MAX[pf["length"]], INT_MAX[bf["length"]]))
    w("  const uint32_t total = (uint32_t)(TERN_BATCH_BASE_SIZE + body.n + properties.n);\n")
    w("  if (tern_buf_reserve(b, total) != 0) return b->err;\n")
    for f in batch["fields"]:
        t, nm = f["type"], f["name"]
        val = {"total_size": "total", "magic": "0", "body_crc": "0", "flag": "(uint32_t)flag"}.get(nm)
        if t in INT_SIZES:
            w("  tern_buf_put_be%d(b, %s);\n" % (INT_SIZES[t] * 8, val))
        else:
            lt = f["length"]
            w("  tern_buf_put_be%d(b, (uint%d_t)%s.n);\n  tern_buf_append_str(b, %s);\n"
              % (INT_SIZES[lt] * 8, INT_SIZES[lt] * 8, nm, nm))
    w("  return b->err;\n}\n")
    return "".join(out)


# ---------------------------------------------------------------- util (template)

def _util_c(d):
    props = d["message_properties"][1]
    names = d["message_names"][1]
    tag = d["message_tag_hash"][1]
    keys = sorted(k["key"] for k in props["keys"])
    known = ",\n".join("  {%s, %d}" % (_c_string(k), len(k.encode("utf-8"))) for k in keys)
    valid = [0] * 256
    for c in names["valid_chars"]:
        valid[ord(c)] = 1
    rows = []
    for i in range(0, 256, 32):
        rows.append("  " + ", ".join(str(v) for v in valid[i:i + 32]) + ",")
    sys_topics = sorted(t["value"] for t in names["topics"] if t.get("system"))
    no_send = sorted(t["value"] for t in names["topics"] if not t.get("send_allowed", True))
    subs = {
        "KNOWN_KEYS": known,
        "N_KNOWN_KEYS": str(len(keys)),
        "NAME_CHAR_TABLE": "\n".join(rows),
        "SYSTEM_TOPICS": ",\n".join("  " + _c_string(t) for t in sys_topics),
        "NO_SEND_TOPICS": ",\n".join("  " + _c_string(t) for t in no_send),
        "INDEX_KEY_SEP": "'%s'" % tag["index_key"]["separator"],
        "RETRY_DLQ_MAX": str(names["retry_dlq_topic_max_len"]),
    }
    return _fill(_read_template("message_util.c.in"), subs, "message_util.c.in")


def _read_template(name):
    with open(os.path.join(TEMPLATES, name), encoding="utf-8") as f:
        return f.read()


def _fill(text, subs, name):
    for k, v in subs.items():
        text = text.replace("@" + k + "@", v)
    left = re.findall(r"@[A-Z0-9_]+@", text)
    if left:
        raise SystemExit("codegen: templates/%s: unfilled %s" % (name, ", ".join(sorted(set(left)))))
    return text


def generate(spec, out):
    d = _docs(spec)
    srcs = [d[k][0] for k in KINDS]
    out.write("message.h", _header(d), srcs + ["codegen/templates/message.h.in"])
    out.write("message_record.c", _record_c(d), [d["message_record"][0], d["message_batch"][0]])
    out.write("message_util.c", _util_c(d), [d["message_properties"][0], d["message_names"][0],
                                             d["message_tag_hash"][0], d["message_msgid"][0],
                                             "codegen/templates/message_util.c.in"])
    out.re2c(d["message_properties"][1]["grammar"], "message_props.re.c")
