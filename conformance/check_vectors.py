#!/usr/bin/env python3
"""Checks that the published vector set (spec/vectors/) is usable without running anything: every
vector names its spec section and carries its input (hex bytes, or the extFields / JSON text it
encodes) and its decoded fields (or the expected error). Exit 1 listing the vectors that do not."""
import glob
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NEED = {
    "command": (("hex",), ("decoded",)),
    "headers": (("ext",), ("expect", "expect_error")),
    "bodies": (("body",), ("roundtrip", "error", "canonical")),
}


def main():
    bad, n = [], 0
    for d, (inputs, outputs) in NEED.items():
        for f in sorted(glob.glob(os.path.join(ROOT, "spec", "vectors", d, "*.json"))):
            n += 1
            v = json.load(open(f))
            rel = os.path.relpath(f, ROOT)
            if not str(v.get("spec_section", "")).strip():
                bad.append("%s: no spec_section" % rel)
            if not any(k in v for k in inputs):
                bad.append("%s: no input (%s)" % (rel, "/".join(inputs)))
            if not any(k in v for k in outputs):
                bad.append("%s: no decoded/expected result (%s)" % (rel, "/".join(outputs)))
    for f in sorted(glob.glob(os.path.join(ROOT, "spec", "vectors", "message", "*.vec"))):
        n += 1
        text = open(f).read()
        rel = os.path.relpath(f, ROOT)
        first = text.split("\n", 1)[0]
        if not re.search(r"reference \d", first):
            bad.append("%s: first line names no reference section" % rel)
        if "[" not in text or "=" not in text:
            bad.append("%s: no [vector] entries with fields" % rel)
    for b in bad:
        print("vector: " + b)
    print("check_vectors: %d vector files, %d problem(s)" % (n, len(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
