"""Loads spec/ into memory and performs the checks common to every file.

Every spec file is JSON (spec/**/*.json, except spec/vectors/ which holds test
vectors, not definitions). Each file is an object with at least:
  "kind":  what the file describes; generator modules select files by kind
  "about": one sentence on what it is (required)
Generator modules add their own checks through lint(spec, errors).
"""
import json
import os


class Spec:
    def __init__(self, root):
        self.root = root
        self.files = {}   # "spec/x/y.json" -> parsed object
        self.errors = []

    def of_kind(self, kind):
        """Sorted (path, doc) pairs of every spec file of this kind."""
        return [(p, d) for p, d in sorted(self.files.items()) if d.get("kind") == kind]

    def one(self, kind):
        docs = self.of_kind(kind)
        if len(docs) != 1:
            raise SystemExit("codegen: expected exactly one spec file of kind %r, found %d" % (kind, len(docs)))
        return docs[0]


def _no_dup_keys(pairs):
    obj = {}
    for k, v in pairs:
        if k in obj:
            raise ValueError("duplicate key %r" % k)
        obj[k] = v
    return obj


def load(root):
    s = Spec(root)
    sdir = os.path.join(root, "spec")
    for dp, dns, fns in os.walk(sdir):
        dns[:] = sorted(d for d in dns if d not in ("vectors", "grammar"))
        for fn in sorted(fns):
            if not fn.endswith(".json"):
                continue
            full = os.path.join(dp, fn)
            rel = os.path.relpath(full, root).replace(os.sep, "/")
            try:
                with open(full, encoding="utf-8") as f:
                    doc = json.load(f, object_pairs_hook=_no_dup_keys)
            except ValueError as e:
                s.errors.append("%s: not valid JSON: %s" % (rel, e))
                continue
            if not isinstance(doc, dict):
                s.errors.append("%s: top level must be an object" % rel)
                continue
            if not isinstance(doc.get("kind"), str):
                s.errors.append("%s: missing \"kind\"" % rel)
            if not isinstance(doc.get("about"), str) or not doc["about"].strip():
                s.errors.append("%s: missing \"about\" description" % rel)
            s.files[rel] = doc
    return s
