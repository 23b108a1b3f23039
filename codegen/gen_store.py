"""Store layouts (spec/store/*.json, kind "store_layout") -> gen/store.h, gen/store.c.

Each layout is a fixed-size, big-endian record of i32/i64 fields at fixed offsets:
the ConsumeQueue entry, the IndexFile header and entry, the checkpoint. For each
one the generator writes a struct, size/offset constants, and an encoder and a
decoder over a byte span (the decoder checks the span's length).
"""
MODULE = "store"

TYPES = {"i32": (4, "int32_t", "be32", "uint32_t"), "i64": (8, "int64_t", "be64", "uint64_t")}


def _layouts(spec):
    return [(p, d) for p, d in spec.of_kind("store_layout")]


def lint(spec, errors):
    names = set()
    for path, d in _layouts(spec):
        name, size, fields = d.get("name"), d.get("size"), d.get("fields")
        if not isinstance(name, str) or not name.isidentifier() or name != name.lower():
            errors.append("%s: \"name\" must be a lower-case identifier" % path)
            continue
        if name in names:
            errors.append("%s: layout %s defined twice" % (path, name))
        names.add(name)
        if not isinstance(size, int) or size <= 0:
            errors.append("%s: \"size\" must be a positive integer" % path)
            continue
        if not isinstance(fields, list) or not fields:
            errors.append("%s: \"fields\" must be a non-empty list" % path)
            continue
        used = [None] * size
        for f in fields:
            fn, off, ty = f.get("name"), f.get("offset"), f.get("type")
            if not isinstance(fn, str) or not fn.isidentifier():
                errors.append("%s: field without a valid name" % path)
                continue
            if ty not in TYPES:
                errors.append("%s: field %s: type must be one of %s" % (path, fn, ", ".join(sorted(TYPES))))
                continue
            if not isinstance(f.get("doc"), str) or not f["doc"].strip():
                errors.append("%s: field %s: missing \"doc\"" % (path, fn))
            width = TYPES[ty][0]
            if not isinstance(off, int) or off < 0 or off + width > size:
                errors.append("%s: field %s does not fit in %d bytes" % (path, fn, size))
                continue
            for i in range(off, off + width):
                if used[i] is not None:
                    errors.append("%s: fields %s and %s overlap at byte %d" % (path, used[i], fn, i))
                    break
                used[i] = fn
        if None in used:
            errors.append("%s: byte %d is not covered by any field" % (path, used.index(None)))
        consts = d.get("constants", {})
        if not isinstance(consts, dict) or any(not isinstance(v, int) or not k.isidentifier() for k, v in consts.items()):
            errors.append("%s: \"constants\" must map identifiers to integers" % path)


def _c_comment(text):
    return text.replace("*/", "* /")


def generate(spec, out):
    layouts = _layouts(spec)
    sources = [p for p, _ in layouts]
    h = ["#ifndef TERN_GEN_STORE_H", "#define TERN_GEN_STORE_H", "", '#include "runtime/base.h"', ""]
    c = ['#include "gen/store.h"', ""]
    for path, d in layouts:
        name, up, fields = d["name"], d["name"].upper(), sorted(d["fields"], key=lambda f: f["offset"])
        h.append("/* %s (%s) */" % (_c_comment(d["about"]), path))
        h.append("#define TERN_%s_SIZE %d" % (up, d["size"]))
        for f in fields:
            h.append("#define TERN_%s_OFF_%s %d" % (up, f["name"].upper(), f["offset"]))
        for k, v in sorted(d.get("constants", {}).items()):
            h.append("#define TERN_%s_%s %d" % (up, k, v))
        h.append("typedef struct tern_%s {" % name)
        for f in fields:
            h.append("  %s %s; /* %s */" % (TYPES[f["type"]][1], f["name"], _c_comment(f["doc"])))
        h.append("} tern_%s_t;" % name)
        h.append("/* Writes exactly TERN_%s_SIZE bytes at dst. */" % up)
        h.append("void tern_%s_encode(const tern_%s_t *v, uint8_t *dst);" % (name, name))
        h.append("/* Reads the first TERN_%s_SIZE bytes of p[0..len); TERN_EAGAIN when len is short. */" % up)
        h.append("int tern_%s_decode(const uint8_t *p, size_t len, tern_%s_t *v, tern_err_t *err);" % (name, name))
        h.append("")

        c.append("void tern_%s_encode(const tern_%s_t *v, uint8_t *dst) {" % (name, name))
        for f in fields:
            _, _, be, ut = TYPES[f["type"]]
            c.append("  tern_store_%s(dst + %d, (%s)v->%s);" % (be, f["offset"], ut, f["name"]))
        c.append("}")
        c.append("")
        c.append("int tern_%s_decode(const uint8_t *p, size_t len, tern_%s_t *v, tern_err_t *err) {" % (name, name))
        c.append("  if (len < TERN_%s_SIZE) return tern_fail(err, TERN_EAGAIN, \"short %s\", NULL, len);" % (up, name))
        for f in fields:
            _, ct, be, _ = TYPES[f["type"]]
            c.append("  v->%s = (%s)tern_load_%s(p + %d);" % (f["name"], ct, be, f["offset"]))
        c.append("  return TERN_OK;")
        c.append("}")
        c.append("")
    h.append("#endif")
    out.write("store.h", "\n".join(h) + "\n", sources)
    out.write("store.c", "\n".join(c), sources)
