"""Bodies module: one C struct, decoder and encoder per JSON body class in
spec/bodies/*.json (kind "body"), enums from spec/bodies/enums/*.json (kind
"body_enum"). Output: gen/bodies.h, gen/bodies.c, plus the compressed
REGISTER_BROKER form (appended to gen/bodies.c from codegen/templates/).

Spec field: {"name", "type", "about", optional "required", "since", "default",
"always", "aliases"}. Types: string int32 int64 bool double enum<E> list<T>
set<T> map<K,V> (K: string, int32, int64 or a struct such as MessageQueue)
and struct names. Fields are listed in fastjson's (alphabetical) order, which
is also the order the encoder writes.

Encoding rule (what fastjson omits): a field is written when it is `always`,
or is a primitive without `since`, or its `has` bit is set. Decoders set the
`has` bit of every key present with a non-null value.
"""
import os
import re

MODULE = "bodies"

HERE = os.path.dirname(os.path.abspath(__file__))
PRIMS = {"string": "tern_str_t", "int32": "int32_t", "int64": "int64_t", "bool": "bool", "double": "double"}
NUMERIC = {"int32", "int64", "bool", "double"}
RESERVED = {"namespace", "default", "register", "union", "struct", "class", "new", "delete", "template",
            "auto", "char", "const", "int", "long", "short", "signed", "unsigned", "void", "volatile"}


def snake(name):
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
    return s.lower()


def cfield(name):
    s = snake(name)
    return s + "_" if s in RESERVED else s


def parse_type(s):
    """'map<string,list<X>>' -> nested tuples; raises ValueError."""
    pos = 0

    def ident():
        nonlocal pos
        m = re.compile(r"[A-Za-z_][A-Za-z0-9_]*").match(s, pos)
        if not m:
            raise ValueError("bad type %r at %d" % (s, pos))
        pos = m.end()
        return m.group(0)

    def expect(c):
        nonlocal pos
        if pos >= len(s) or s[pos] != c:
            raise ValueError("bad type %r: expected %r at %d" % (s, c, pos))
        pos += 1

    def ty():
        name = ident()
        if name in ("list", "set"):
            expect("<")
            t = ty()
            expect(">")
            return (name, t)
        if name == "map":
            expect("<")
            k = ty()
            expect(",")
            v = ty()
            expect(">")
            return ("map", k, v)
        if name == "enum":
            expect("<")
            e = ident()
            expect(">")
            return ("enum", e)
        if name in PRIMS:
            return ("prim", name)
        return ("struct", name)

    t = ty()
    if pos != len(s):
        raise ValueError("bad type %r: trailing text" % s)
    return t


def mangle(t):
    k = t[0]
    if k == "prim":
        return {"string": "str", "int32": "i32", "int64": "i64", "bool": "bool", "double": "f64"}[t[1]]
    if k in ("enum", "struct"):
        return snake(t[1])
    if k in ("list", "set"):
        return k + "_" + mangle(t[1])
    return "map_" + mangle(t[1]) + "_" + mangle(t[2])


def ctype(t):
    k = t[0]
    if k == "prim":
        return PRIMS[t[1]]
    if k == "enum":
        return "int32_t"
    return "tern_body_" + (snake(t[1]) if k == "struct" else mangle(t)) + "_t"


class Model:
    def __init__(self, spec):
        self.enums = {}    # name -> (path, values)
        self.structs = {}  # name -> (path, doc)
        for path, doc in spec.of_kind("body_enum"):
            self.enums[os.path.basename(path)[:-5]] = (path, doc)
        for path, doc in spec.of_kind("body"):
            self.structs[os.path.basename(path)[:-5]] = (path, doc)
        self.containers = {}  # mangle -> type tuple

    def fields(self, name):
        out = []
        for f in self.structs[name][1]["fields"]:
            out.append((f, parse_type(f["type"])))
        return out

    def collect(self, t):
        if t[0] in ("list", "set"):
            self.containers[mangle(t)] = t
            self.collect(t[1])
        elif t[0] == "map":
            self.containers[mangle(t)] = t
            self.collect(t[1])
            self.collect(t[2])


def lint(spec, errors):
    m = Model(spec)
    for name, (path, doc) in sorted(m.enums.items()):
        vals = doc.get("values")
        if not isinstance(vals, list) or not vals or not all(isinstance(v, str) for v in vals):
            errors.append("%s: \"values\" must be a non-empty list of names" % path)
    for name, (path, doc) in sorted(m.structs.items()):
        fields = doc.get("fields")
        if not isinstance(fields, list) or not fields:
            errors.append("%s: \"fields\" must be a non-empty list" % path)
            continue
        if len(fields) > 32:
            errors.append("%s: more than 32 fields (the has mask is 32 bits)" % path)
        if len(fields) + sum(len(f.get("aliases", [])) for f in fields) > 64:
            errors.append("%s: more than 64 names with aliases (the seen mask is 64 bits)" % path)
        names = [f.get("name") for f in fields]
        if names != sorted(names):
            errors.append("%s: fields must be in fastjson's alphabetical order" % path)
        if len(set(names)) != len(names):
            errors.append("%s: duplicate field names" % path)
        for f in fields:
            where = "%s: field %s" % (path, f.get("name"))
            if not isinstance(f.get("about"), str) or not f["about"].strip():
                errors.append(where + ": missing \"about\"")
            try:
                t = parse_type(f.get("type", ""))
            except ValueError as e:
                errors.append("%s: %s" % (where, e))
                continue
            for sub in walk(t):
                if sub[0] == "struct" and sub[1] not in m.structs:
                    errors.append("%s: unknown struct %s" % (where, sub[1]))
                if sub[0] == "enum" and sub[1] not in m.enums:
                    errors.append("%s: unknown enum %s" % (where, sub[1]))
                if sub[0] == "map" and not (sub[1] == ("prim", "string") or sub[1] in (("prim", "int32"), ("prim", "int64"))
                                            or sub[1][0] == "struct"):
                    errors.append("%s: map keys must be string, int32, int64 or a struct" % where)
            if "default" in f and t[0] not in ("prim",) and t[0] != "enum":
                errors.append(where + ": defaults only for scalars")
            if f.get("required") and f.get("since"):
                errors.append(where + ": a 5.x-only field cannot be required")
            for a in f.get("aliases", []):
                if a in names:
                    errors.append(where + ": alias %s is also a field" % a)
    # Structs may not contain themselves by value.
    for name in m.structs:
        try:
            struct_order(m)
        except ValueError as e:
            errors.append(str(e))
            break


def walk(t):
    yield t
    if t[0] in ("list", "set"):
        yield from walk(t[1])
    elif t[0] == "map":
        yield from walk(t[1])
        yield from walk(t[2])


def by_value_deps(m, name):
    """Structs that `name` embeds by value (directly, not through containers)."""
    return sorted({t[1] for f, t in m.fields(name) if t[0] == "struct"})


def struct_order(m):
    order, state = [], {}

    def visit(n):
        if state.get(n) == 1:
            raise ValueError("spec/bodies/%s.json: struct embeds itself by value" % n)
        if state.get(n) == 2:
            return
        state[n] = 1
        for d in by_value_deps(m, n):
            visit(d)
        state[n] = 2
        order.append(n)

    for n in sorted(m.structs):
        visit(n)
    return order


def always_written(f, t):
    if f.get("always"):
        return True
    return t[0] == "prim" and t[1] in NUMERIC and "since" not in f


# ---------------------------------------------------------------- header

def gen_header(m):
    o = []
    w = o.append
    w("/* JSON bodies of RocketMQ requests, responses and broker/name-server files:")
    w(" * one struct per class in spec/bodies/, decoded from JSON into a caller's")
    w(" * arena and encoded the way fastjson writes them (gen/json.h flags). */")
    w("#ifndef TERN_GEN_BODIES_H")
    w("#define TERN_GEN_BODIES_H")
    w("")
    w('#include "gen/json.h"')
    w("")
    w("/* Decoded strings point into the JSON text (or the arena when unescaped):")
    w(" * keep both alive while using the struct. Lists, sets and maps are arrays")
    w(" * in input order (maps: {key, val} pairs; duplicate string/integer keys are")
    w(" * rejected with TERN_EDUP). `has` holds TERN_BODY_<T>_HAS_<F> bits: decode")
    w(" * sets those of keys present and not null; encode writes a field when it is")
    w(" * always written (see the field comment) or its bit is set. */")
    w("")
    for name, (path, doc) in sorted(m.enums.items()):
        up = snake(name).upper()
        w("/* %s (%s) */" % (doc["about"], path))
        w("enum {")
        for i, v in enumerate(doc["values"]):
            w("  TERN_BODY_%s_%s = %d," % (up, v, i))
        w("  TERN_BODY_%s__COUNT = %d" % (up, len(doc["values"])))
        w("};")
        w("extern const char *const tern_body_%s_names[%d];" % (snake(name), len(doc["values"])))
        w("")
    # forward declarations
    for name in sorted(m.structs):
        w("typedef struct tern_body_%s tern_body_%s_t;" % (snake(name), snake(name)))
    for mg, t in sorted(m.containers.items()):
        w("typedef struct tern_body_%s tern_body_%s_t;" % (mg, mg))
        if t[0] == "map":
            w("typedef struct tern_body_%s_entry tern_body_%s_entry_t;" % (mg, mg))
    w("")
    for mg, t in sorted(m.containers.items()):
        elem = ("tern_body_%s_entry_t" % mg) if t[0] == "map" else ctype(t[1])
        w("struct tern_body_%s { %s *v; uint32_t n; };" % (mg, elem))
    w("")
    for name in struct_order(m):
        path, doc = m.structs[name]
        sn = snake(name)
        w("/* %s */" % doc["about"])
        w("/* Java %s; %s (reference §%s). */" % (doc["java"], path, doc["spec_section"]))
        w("struct tern_body_%s {" % sn)
        w("  uint32_t has;")
        for f, t in m.fields(name):
            notes = []
            if f.get("required"):
                notes.append("required")
            if f.get("since"):
                notes.append("since " + f["since"])
            if always_written(f, t):
                notes.append("always written")
            if f.get("aliases"):
                notes.append("also read as " + ", ".join(f["aliases"]))
            if "default" in f:
                notes.append("default " + str(f["default"]).lower())
            if t[0] == "enum":
                notes.append("TERN_BODY_%s_*" % snake(t[1]).upper())
            note = " [%s]" % "; ".join(notes) if notes else ""
            w("  %s %s; /* \"%s\": %s%s */" % (ctype(t), cfield(f["name"]), f["name"], f["about"], note))
        w("};")
        for i, (f, t) in enumerate(m.fields(name)):
            w("#define TERN_BODY_%s_HAS_%s (1u << %d)" % (sn.upper(), cfield(f["name"]).upper().rstrip("_"), i))
        w("int tern_body_%s_decode(tern_str_t json, tern_arena_t *a, tern_body_%s_t *out, tern_err_t *err);" % (sn, sn))
        w("void tern_body_%s_encode(const tern_body_%s_t *v, tern_buf_t *b, unsigned flags);" % (sn, sn))
        w("")
    for mg, t in sorted(m.containers.items()):
        if t[0] == "map":
            w("struct tern_body_%s_entry { %s key; %s val; };" % (mg, ctype(t[1]), ctype(t[2])))
    w("")
    w("/* Every body by its Java simple class name, for tests, fuzzers and tools that")
    w(" * pick a body type at run time. `out`/`v` point to the named struct. */")
    w("typedef struct tern_body_codec {")
    w("  const char *name;")
    w("  size_t size;")
    w("  int (*decode)(tern_str_t json, tern_arena_t *a, void *out, tern_err_t *err);")
    w("  void (*encode)(const void *v, tern_buf_t *b, unsigned flags);")
    w("} tern_body_codec_t;")
    w("#define TERN_BODY_CODEC_COUNT %d" % len(m.structs))
    w("extern const tern_body_codec_t tern_body_codecs[TERN_BODY_CODEC_COUNT];")
    w("const tern_body_codec_t *tern_body_codec_find(const char *name); /* NULL when unknown */")
    w("")
    w("/* The compressed REGISTER_BROKER body (reference §5.3): a zlib stream of")
    w(" * length-prefixed DataVersion JSON, TopicConfig lines and the filter-server")
    w(" * list. Decoding inflates at most `max_inflated` bytes (0 = 16 MiB) into the")
    w(" * arena; topicSysFlag and order are not carried (they decode as 0/false);")
    w(" * a 5.x trailing mapping section is ignored. Encoding uses zlib level 9;")
    w(" * v5_layout adds the attributes to each topic line and an empty mapping")
    w(" * section, as a 5.x broker (and a 5.x name server reading one) expects. */")
    w("int tern_body_register_broker_body_decode_compressed(tern_str_t body, size_t max_inflated, tern_arena_t *a,")
    w("                                                     tern_body_register_broker_body_t *out, tern_err_t *err);")
    w("int tern_body_register_broker_body_encode_compressed(const tern_body_register_broker_body_t *v, bool v5_layout,")
    w("                                                     tern_buf_t *b);")
    w("")
    w("#endif")
    return "\n".join(o) + "\n"


# ---------------------------------------------------------------- source

def dec_stmt(t, tok, dst, field, ind):
    """C statements decoding token `tok` into lvalue `dst`."""
    k = t[0]
    if k == "prim":
        fn = {"string": "tern_json_get_str(d, %s, a, &%s)", "int32": "tern_json_get_i32(d, %s, &%s)",
              "int64": "tern_json_get_i64(d, %s, &%s)", "bool": "tern_json_get_bool(d, %s, &%s)",
              "double": "tern_json_get_double(d, %s, &%s)"}[t[1]] % (tok, dst)
        return ["%sif ((rc = %s)) return bad(err, rc, %s, d, %s);" % (ind, fn, field, tok)]
    if k == "enum":
        e = snake(t[1])
        return ["%sif ((rc = dec_enum(d, %s, tern_body_%s_names, TERN_BODY_%s__COUNT, &%s)))" % (ind, tok, e, e.upper(), dst),
                "%s  return bad(err, rc, %s, d, %s);" % (ind, field, tok)]
    if k == "struct":
        return ["%sif ((rc = dec_%s(d, %s, a, &%s, err))) return rc;" % (ind, snake(t[1]), tok, dst)]
    return ["%sif ((rc = dec_%s(d, %s, a, &%s, err, %s))) return rc;" % (ind, mangle(t), tok, dst, field)]


def enc_stmt(t, expr, ind, depth="depth + 1"):
    k = t[0]
    if k == "prim":
        fn = {"string": "tern_json_put_str(b, %s);", "int32": "tern_json_put_i64(b, %s);",
              "int64": "tern_json_put_i64(b, %s);", "bool": "tern_json_put_bool(b, %s);",
              "double": "tern_json_put_double(b, %s);"}[t[1]]
        return [ind + fn % expr]
    if k == "enum":
        e = snake(t[1])
        return ["%senc_enum(b, %s, tern_body_%s_names, TERN_BODY_%s__COUNT);" % (ind, expr, e, e.upper())]
    if k == "struct":
        return ["%senc_%s(&%s, b, flags, %s);" % (ind, snake(t[1]), expr, depth)]
    return ["%senc_%s(&%s, b, flags, %s);" % (ind, mangle(t), expr, depth)]


def gen_container(mg, t):
    o = []
    w = o.append
    ct = "tern_body_%s_t" % mg
    fld = "field"
    w("static int dec_%s(const tern_json_doc_t *d, uint32_t tok, tern_arena_t *a, %s *out, tern_err_t *err,"
      % (mg, ct))
    w("                  const char *field) {")
    w("  const tern_json_tok_t *t = &d->toks[tok];")
    w("  uint32_t i, k;")
    w("  int rc;")
    if t[0] in ("list", "set"):
        w("  if (t->type != TERN_JSON_ARRAY) return tern_fail(err, TERN_EPROTO, \"expected a JSON array\", field, t->start);")
    else:
        w("  if (t->type != TERN_JSON_OBJECT) return tern_fail(err, TERN_EPROTO, \"expected a JSON object\", field, t->start);")
    w("  out->v = NULL;")
    w("  out->n = 0;")
    w("  if (!t->size) return 0;")
    w("  out->v = tern_arena_calloc(a, t->size, sizeof *out->v);")
    w("  if (!out->v) return tern_fail(err, TERN_ENOMEM, \"arena limit reached\", field, t->start);")
    if t[0] in ("list", "set"):
        w("  for (i = 0, k = tok + 1; i < t->size; i++, k = d->toks[k].next) {")
        w("    if (d->toks[k].type == TERN_JSON_NULL) return tern_fail(err, TERN_EPROTO, \"null element\", field, d->toks[k].start);")
        o.extend(dec_stmt(t[1], "k", "out->v[i]", fld, "    "))
        w("  }")
        w("  out->n = t->size;")
        w("  return 0;")
    else:
        kt, vt = t[1], t[2]
        w("  for (i = 0, k = tok + 1; i < t->size; i++, k = tern_json_member_next(d, k)) {")
        w("    uint32_t v = tern_json_member_value(d, k);")
        if kt[0] == "struct":
            w("    if (!(d->toks[k].flags & TERN_JSON_F_OBJECT_KEY))")
            w("      return tern_fail(err, TERN_EPROTO, \"expected an object as map key\", field, d->toks[k].start);")
        else:
            w("    if (d->toks[k].type != TERN_JSON_STRING)")
            w("      return tern_fail(err, TERN_EPROTO, \"unexpected object as map key\", field, d->toks[k].start);")
        o.extend(dec_stmt(kt, "k", "out->v[i].key", fld, "    "))
        w("    if (d->toks[v].type == TERN_JSON_NULL) return tern_fail(err, TERN_EPROTO, \"null map value\", field, d->toks[v].start);")
        o.extend(dec_stmt(vt, "v", "out->v[i].val", fld, "    "))
        w("  }")
        w("  out->n = t->size;")
        if kt[0] == "prim":
            kind = {"string": "KEY_STR", "int32": "KEY_I32", "int64": "KEY_I64"}[kt[1]]
            w("  if ((rc = dup_keys(out->v, sizeof *out->v, out->n, %s, a, &i)))" % kind)
            w("    return rc == TERN_EDUP ? tern_fail(err, rc, \"duplicate map key\", field, t->start)")
            w("                           : tern_fail(err, rc, \"arena limit reached\", field, t->start);")
        else:
            w("  /* Object keys are not checked for duplicates. */")
        w("  return 0;")
    w("}")
    w("")
    # encoder
    w("static void enc_%s(const %s *v, tern_buf_t *b, unsigned flags, unsigned depth) {" % (mg, ct))
    w("  uint32_t i;")
    w("  (void)flags;")
    if t[0] in ("list", "set"):
        pretty = t[0] == "list"  # fastjson's ListSerializer indents; sets (CollectionCodec) stay on one line
        w("  if (!v->n) {")
        w("    tern_buf_append(b, \"[]\", 2);")
        w("    return;")
        w("  }")
        w("  tern_buf_put_u8(b, '[');")
        w("  for (i = 0; i < v->n; i++) {")
        w("    if (i) tern_buf_put_u8(b, ',');")
        if pretty:
            w("    tern_json_put_newline(b, flags, depth + 1);")
        o.extend(enc_stmt(t[1], "v->v[i]", "    "))
        w("  }")
        if pretty:
            w("  tern_json_put_newline(b, flags, depth);")
        else:
            w("  (void)depth;")
        w("  tern_buf_put_u8(b, ']');")
    else:
        kt, vt = t[1], t[2]
        w("  tern_buf_put_u8(b, '{');")
        w("  for (i = 0; i < v->n; i++) {")
        w("    if (i) tern_buf_put_u8(b, ',');")
        if kt == ("prim", "string"):
            w("    tern_json_put_newline(b, flags, depth + 1);")
            w("    tern_json_put_str(b, v->v[i].key);")
            w("    tern_buf_put_u8(b, ':');")
        elif kt[0] == "prim":
            w("    tern_json_put_int_key(b, v->v[i].key, flags);")
        else:
            w("    enc_%s(&v->v[i].key, b, flags & ~(unsigned)TERN_JSON_PRETTY, 0);" % snake(kt[1]))
            w("    tern_buf_put_u8(b, ':');")
        o.extend(enc_stmt(vt, "v->v[i].val", "    "))
        w("  }")
        w("  if (v->n) tern_json_put_newline(b, flags, depth);")
        w("  tern_buf_put_u8(b, '}');")
    w("}")
    w("")
    return o


def gen_struct(m, name):
    path, doc = m.structs[name]
    sn = snake(name)
    fields = m.fields(name)
    o = []
    w = o.append
    # key matching: field index, aliases numbered after the fields
    slots = []
    for i, (f, t) in enumerate(fields):
        slots.append((f["name"], i, False))
    for i, (f, t) in enumerate(fields):
        for al in f.get("aliases", []):
            slots.append((al, i, True))
    w("static int key_%s(const tern_json_doc_t *d, uint32_t k) {" % sn)
    for si, (key, fi, is_alias) in enumerate(slots):
        w("  if (tern_json_key_eq(d, k, \"%s\", %d)) return %d;" % (key, len(key), si))
    w("  return -1;")
    w("}")
    w("")
    w("static int dec_%s(const tern_json_doc_t *d, uint32_t tok, tern_arena_t *a, tern_body_%s_t *out, tern_err_t *err) {"
      % (sn, sn))
    w("  const tern_json_tok_t *t = &d->toks[tok];")
    w("  uint64_t seen = 0;")
    w("  (void)a;")
    w("  uint32_t i, k;")
    w("  int rc;")
    w("  if (t->type != TERN_JSON_OBJECT) return tern_fail(err, TERN_EPROTO, \"expected a JSON object\", \"%s\", t->start);" % name)
    w("  memset(out, 0, sizeof *out);")
    for f, t in fields:
        if "default" in f:
            dv = f["default"]
            if isinstance(dv, bool):
                dv = "true" if dv else "false"
            w("  out->%s = %s;" % (cfield(f["name"]), dv))
    w("  for (i = 0, k = tok + 1; i < t->size; i++, k = tern_json_member_next(d, k)) {")
    w("    uint32_t v = tern_json_member_value(d, k);")
    w("    int f = key_%s(d, k);" % sn)
    w("    if (f < 0) continue;")
    w("    if (seen & ((uint64_t)1 << f)) return tern_fail(err, TERN_EDUP, \"duplicate key\", FIELDS_%s[f], d->toks[k].start);" % sn)
    w("    seen |= (uint64_t)1 << f;")
    w("    if (d->toks[v].type == TERN_JSON_NULL) continue;")
    w("    switch (f) {")
    for si, (key, fi, is_alias) in enumerate(slots):
        f, t = fields[fi]
        fname = "FIELDS_%s[%d]" % (sn, si)
        w("      case %d:" % si)
        if is_alias:
            w("        if (seen & ((uint64_t)1 << %d)) break; /* the current name wins */" % fi)
        o.extend(dec_stmt(t, "v", "out->" + cfield(f["name"]), fname, "        "))
        w("        out->has |= (uint32_t)1 << %d;" % fi)
        w("        break;")
    w("      default: break;")
    w("    }")
    w("  }")
    for i, (f, t) in enumerate(fields):
        if f.get("required"):
            w("  if (!(out->has & ((uint32_t)1 << %d)))" % i)
            w("    return tern_fail(err, TERN_EMISSING, \"required field missing\", FIELDS_%s[%d], t->start);" % (sn, i))
    w("  return 0;")
    w("}")
    w("")
    w("static void enc_%s(const tern_body_%s_t *v, tern_buf_t *b, unsigned flags, unsigned depth) {" % (sn, sn))
    w("  bool first = true;")
    w("  tern_buf_put_u8(b, '{');")
    w("  tern_json_put_newline(b, flags, depth + 1);")
    for i, (f, t) in enumerate(fields):
        cond = "1" if always_written(f, t) else "v->has & ((uint32_t)1 << %d)" % i
        ind = "    "
        if cond == "1":
            w("  {")
        else:
            w("  if (%s) {" % cond)
        w(ind + "if (!first) {")
        w(ind + "  tern_buf_put_u8(b, ',');")
        w(ind + "  tern_json_put_newline(b, flags, depth + 1);")
        w(ind + "}")
        w(ind + "first = false;")
        w(ind + "tern_buf_append(b, \"\\\"%s\\\":\", %d);" % (f["name"], len(f["name"]) + 3))
        o.extend(enc_stmt(t, "v->" + cfield(f["name"]), ind))
        w("  }")
    w("  (void)first;")
    w("  tern_json_put_newline(b, flags, depth);")
    w("  tern_buf_put_u8(b, '}');")
    w("}")
    w("")
    w("int tern_body_%s_decode(tern_str_t json, tern_arena_t *a, tern_body_%s_t *out, tern_err_t *err) {" % (sn, sn))
    w("  tern_json_tok_t toks[STACK_TOKENS];")
    w("  tern_json_doc_t d;")
    w("  int rc;")
    w("  tern_json_doc_init(&d, json, toks, STACK_TOKENS, a);")
    w("  if ((rc = tern_json_parse(&d, NULL, err))) return rc;")
    w("  return dec_%s(&d, 0, a, out, err);" % sn)
    w("}")
    w("")
    w("void tern_body_%s_encode(const tern_body_%s_t *v, tern_buf_t *b, unsigned flags) { enc_%s(v, b, flags, 0); }"
      % (sn, sn, sn))
    w("")
    return o, slots


def gen_source(m):
    o = []
    w = o.append
    with open(os.path.join(HERE, "templates", "bodies_support.c.tmpl"), encoding="utf-8") as f:
        o.append(f.read().rstrip("\n"))
    w("")
    for name, (path, doc) in sorted(m.enums.items()):
        vals = ", ".join('"%s"' % v for v in doc["values"])
        w("const char *const tern_body_%s_names[%d] = {%s};" % (snake(name), len(doc["values"]), vals))
    w("")
    # Field-name tables for error reports, then prototypes (structs and containers are mutually recursive).
    for name in sorted(m.structs):
        sn = snake(name)
        fields = m.fields(name)
        names = ['"%s.%s"' % (name, f["name"]) for f, t in fields]
        for f, t in fields:
            for al in f.get("aliases", []):
                names.append('"%s.%s"' % (name, al))
        w("static const char *const FIELDS_%s[] = {%s};" % (sn, ", ".join(names)))
    w("")
    for name in sorted(m.structs):
        sn = snake(name)
        w("static int dec_%s(const tern_json_doc_t *d, uint32_t tok, tern_arena_t *a, tern_body_%s_t *out, tern_err_t *err);"
          % (sn, sn))
        w("static void enc_%s(const tern_body_%s_t *v, tern_buf_t *b, unsigned flags, unsigned depth);" % (sn, sn))
    for mg, t in sorted(m.containers.items()):
        w("static int dec_%s(const tern_json_doc_t *d, uint32_t tok, tern_arena_t *a, tern_body_%s_t *out, tern_err_t *err,"
          % (mg, mg))
        w("                  const char *field);")
        w("static void enc_%s(const tern_body_%s_t *v, tern_buf_t *b, unsigned flags, unsigned depth);" % (mg, mg))
    w("")
    for mg, t in sorted(m.containers.items()):
        o.extend(gen_container(mg, t))
    for name in sorted(m.structs):
        lines, _ = gen_struct(m, name)
        o.extend(lines)
    for name in sorted(m.structs):
        sn = snake(name)
        w("static int dec_any_%s(tern_str_t j, tern_arena_t *a, void *out, tern_err_t *err) {" % sn)
        w("  return tern_body_%s_decode(j, a, out, err);" % sn)
        w("}")
        w("static void enc_any_%s(const void *v, tern_buf_t *b, unsigned flags) { tern_body_%s_encode(v, b, flags); }"
          % (sn, sn))
    w("")
    w("const tern_body_codec_t tern_body_codecs[TERN_BODY_CODEC_COUNT] = {")
    for name in sorted(m.structs):
        sn = snake(name)
        w("    {\"%s\", sizeof(tern_body_%s_t), dec_any_%s, enc_any_%s}," % (name, sn, sn, sn))
    w("};")
    w("")
    w("const tern_body_codec_t *tern_body_codec_find(const char *name) {")
    w("  for (size_t i = 0; i < TERN_BODY_CODEC_COUNT; i++)")
    w("    if (strcmp(tern_body_codecs[i].name, name) == 0) return &tern_body_codecs[i];")
    w("  return NULL;")
    w("}")
    with open(os.path.join(HERE, "templates", "bodies_register.c.tmpl"), encoding="utf-8") as f:
        o.append(f.read().rstrip("\n"))
    return "\n".join(o).rstrip("\n") + "\n"


def generate(spec, out):
    m = Model(spec)
    for name in m.structs:
        for f, t in m.fields(name):
            m.collect(t)
    sources = ["spec/bodies/"]
    out.write("bodies.h", gen_header(m), sources=sources)
    out.write("bodies.c", gen_source(m), sources=sources + ["codegen/templates/bodies_support.c.tmpl",
                                                            "codegen/templates/bodies_register.c.tmpl"])
