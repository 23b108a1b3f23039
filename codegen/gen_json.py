"""JSON module: the Ragel tokenizer (spec/grammar/json.rl -> gen/json.rl.c),
its public header and the getter/writer support code (templates in
codegen/templates/json.*.tmpl), with fastjson's string-escaping rule turned
into a byte table here.
"""
import os

MODULE = "json"

HERE = os.path.dirname(os.path.abspath(__file__))

# fastjson 1.x SerializeWriter (double quotes): these get a one-letter escape,
# every other byte below 0x20 and 0x7F is written as \u00XX (uppercase hex).
SHORT_ESCAPES = {0x08: "b", 0x09: "t", 0x0A: "n", 0x0C: "f", 0x0D: "r", 0x22: '"', 0x5C: "\\\\"}


def escape_table():
    cells = []
    for b in range(256):
        if b in SHORT_ESCAPES:
            v = SHORT_ESCAPES[b]
            cells.append("'%s'" % ("\\\"" if v == '"' else v))
        elif b < 0x20 or b == 0x7F:
            cells.append("'u'")
        else:
            cells.append("0")
    lines = []
    for i in range(0, 256, 16):
        lines.append("    " + ", ".join(cells[i:i + 16]) + ",")
    return "\n".join(lines)


def template(name):
    with open(os.path.join(HERE, "templates", name), encoding="utf-8") as f:
        return f.read()


def generate(spec, out):
    tmpl = ["codegen/templates/json.h.tmpl", "codegen/templates/json.c.tmpl"]
    out.write("json.h", template("json.h.tmpl"), sources=[tmpl[0]])
    out.write("json.c", template("json.c.tmpl").replace("@ESCAPE_TABLE@", escape_table()), sources=[tmpl[1]])
    out.ragel("spec/grammar/json.rl", "json.rl.c")
