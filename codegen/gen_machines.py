"""Generator module `machines`: the protocol's state machines from spec/machines/*.json.

A machine file (kind "machine") lists states (one "initial", any number
"terminal"), events, guards (named conditions the caller evaluates) and
transitions {from, event, to, guard?}. A guard may be negated with "!". For one
(state, event) pair the transitions are tried in file order and the first whose
guard holds wins; an unguarded transition may only come last (the fallback).
Pairs with no transition are illegal.

Writes gen/machines.h and gen/machines.c: per machine, state/event/guard enums,
a const next-state table indexed [state][event] (guarded pairs point into a
small candidate list), name tables, a descriptor, and

    int tern_sm_<m>_step(int state, int event, uint32_t guards);

which returns the next state or TERN_SM_INVALID. `guards` holds one bit per
guard (TERN_SM_<M>_G_<NAME>) that is true right now; machines without guards
take 0.
"""
import re

MODULE = "machines"

NAME = re.compile(r"^[a-z][a-z0-9_]*$")
MAX_STATES = 120  # table cells are int8_t; negatives are reserved
MAX_GUARDS = 32


def _machines(spec):
    return spec.of_kind("machine")


def lint(spec, errors):
    names = set()
    for path, m in _machines(spec):
        err = lambda msg: errors.append("%s: %s" % (path, msg))  # noqa: E731
        name = m.get("name", "")
        if not NAME.match(name):
            err("machine name %r must be a lower-case identifier" % name)
        if name in names:
            err("machine %r defined twice" % name)
        names.add(name)
        for key in ("states", "events", "guards", "transitions"):
            if not isinstance(m.get(key), list):
                err("missing list %r" % key)
                return
        sets = {}
        for key in ("states", "events", "guards"):
            seen = set()
            for it in m[key]:
                n = it.get("name", "")
                if not NAME.match(n):
                    err("%s name %r must be a lower-case identifier" % (key[:-1], n))
                if n in seen:
                    err("duplicate %s %r" % (key[:-1], n))
                if not it.get("about"):
                    err("%s %r has no about" % (key[:-1], n))
                seen.add(n)
            sets[key] = seen
        if len(m["states"]) > MAX_STATES:
            err("more than %d states" % MAX_STATES)
        if len(m["guards"]) > MAX_GUARDS:
            err("more than %d guards" % MAX_GUARDS)
        initial = [s["name"] for s in m["states"] if s.get("initial")]
        if len(initial) != 1:
            err("needs exactly one initial state, has %d" % len(initial))
            return
        terminal = {s["name"] for s in m["states"] if s.get("terminal")}
        pairs = {}
        for t in m["transitions"]:
            for k in ("from", "event", "to"):
                pool = sets["events"] if k == "event" else sets["states"]
                if t.get(k) not in pool:
                    err("transition %r: unknown %s %r" % (t, k, t.get(k)))
            g = t.get("guard")
            if g is not None and g.lstrip("!") not in sets["guards"]:
                err("transition %s/%s: unknown guard %r" % (t.get("from"), t.get("event"), g))
            if t.get("from") in terminal:
                err("terminal state %r has an outgoing transition" % t.get("from"))
            pairs.setdefault((t.get("from"), t.get("event")), []).append(t)
        for (s, e), ts in pairs.items():
            for t in ts[:-1]:
                if t.get("guard") is None:
                    err("%s/%s: an unguarded transition must be the last for its pair" % (s, e))
        # Every state reachable; every non-terminal state can leave or act.
        reach, todo = {initial[0]}, [initial[0]]
        while todo:
            s = todo.pop()
            for t in m["transitions"]:
                if t.get("from") == s and t.get("to") not in reach:
                    reach.add(t["to"])
                    todo.append(t["to"])
        for s in m["states"]:
            if s["name"] not in reach:
                err("state %r is unreachable from %r" % (s["name"], initial[0]))
            if s["name"] not in terminal and not any(t.get("from") == s["name"] for t in m["transitions"]):
                err("non-terminal state %r has no transitions (mark it terminal?)" % s["name"])
        if sum(len(ts) for ts in pairs.values() if len(ts) > 1 or ts[0].get("guard")) > 100:
            err("too many guarded transitions for int8_t table cells")
        used_guards = {t["guard"].lstrip("!") for t in m["transitions"] if t.get("guard")}
        for g in sets["guards"] - used_guards:
            err("guard %r is never used" % g)


def _c_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _comment(s):
    return s.replace("*/", "* /")


def generate(spec, out):
    ms = _machines(spec)
    h, c = [], []
    h.append("""/* The protocol's state machines (spec/machines/): transition tables, names and
 * step functions. A step never fails silently: an event a state does not accept
 * returns TERN_SM_INVALID, so callers can log and reject it. */
#ifndef TERN_GEN_MACHINES_H
#define TERN_GEN_MACHINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TERN_SM_INVALID (-1)

/* A machine's shape, for generic code (logging, tests, tools). */
typedef struct tern_sm_desc {
  const char *name, *about;
  int n_states, n_events, n_guards, initial;
  const char *const *state_names, *const *event_names, *const *guard_names;
  const bool *terminal;
  int (*step)(int state, int event, uint32_t guards);
} tern_sm_desc_t;

/* Every machine, in name order. */
extern const tern_sm_desc_t *const tern_sm_all[];
extern const int tern_sm_count;
/* Name of a state/event, or "?" when out of range. */
const char *tern_sm_state_name(const tern_sm_desc_t *m, int state);
const char *tern_sm_event_name(const tern_sm_desc_t *m, int event);
""")
    c.append("""/* Transition tables for the machines in spec/machines/. A cell holds the next
 * state (>= 0), -1 for an illegal event, or -2-k for a guarded pair whose
 * candidates start at index k of the machine's candidate list (tried in spec
 * order; the first whose guard condition matches the caller's guard bits wins). */
#include "gen/machines.h"

typedef struct sm_cand {
  int8_t guard;  /* guard bit number, -1 for the unguarded fallback */
  bool negate;   /* the guard must be false */
  bool last;     /* last candidate of its pair */
  int8_t to;
} sm_cand_t;

static int sm_resolve(int cell, const sm_cand_t *cands, uint32_t guards) {
  if (cell > -2) return cell;
  for (const sm_cand_t *k = &cands[-2 - cell];; k++) {
    bool hold = k->guard < 0 || (((guards >> k->guard) & 1u) != 0) != k->negate;
    if (hold) return k->to;
    if (k->last) return TERN_SM_INVALID;
  }
}

const char *tern_sm_state_name(const tern_sm_desc_t *m, int state) {
  return state >= 0 && state < m->n_states ? m->state_names[state] : "?";
}

const char *tern_sm_event_name(const tern_sm_desc_t *m, int event) {
  return event >= 0 && event < m->n_events ? m->event_names[event] : "?";
}
""")
    for path, m in ms:
        nm = m["name"]
        up = nm.upper()
        st = [s["name"] for s in m["states"]]
        ev = [e["name"] for e in m["events"]]
        gd = [g["name"] for g in m["guards"]]
        h.append("\n/* ---- %s (%s)\n * %s */\n" % (nm, path, _comment(m["about"])))
        h.append("enum {\n")
        for i, s in enumerate(m["states"]):
            tags = [t for t in ("initial", "terminal") if s.get(t)]
            h.append("  TERN_SM_%s_S_%s = %d, /* %s%s */\n"
                     % (up, s["name"].upper(), i, ("[%s] " % ", ".join(tags)) if tags else "", _comment(s["about"])))
        h.append("  TERN_SM_%s_N_STATES = %d\n};\n" % (up, len(st)))
        h.append("enum {\n")
        for i, e in enumerate(m["events"]):
            h.append("  TERN_SM_%s_E_%s = %d, /* %s */\n" % (up, e["name"].upper(), i, _comment(e["about"])))
        h.append("  TERN_SM_%s_N_EVENTS = %d\n};\n" % (up, len(ev)))
        if gd:
            h.append("/* Guard bits for the guards argument. */\n")
            for i, g in enumerate(m["guards"]):
                h.append("#define TERN_SM_%s_G_%s (1u << %d) /* %s */\n" % (up, g["name"].upper(), i, _comment(g["about"])))
        h.append("#define TERN_SM_%s_INITIAL TERN_SM_%s_S_%s\n"
                 % (up, up, [s["name"] for s in m["states"] if s.get("initial")][0].upper()))
        h.append("int tern_sm_%s_step(int state, int event, uint32_t guards);\n" % nm)
        h.append("extern const tern_sm_desc_t tern_sm_%s;\n" % nm)

        # Build the table.
        pairs = {}
        for t in m["transitions"]:
            pairs.setdefault((st.index(t["from"]), ev.index(t["event"])), []).append(t)
        cands = []
        cells = [[-1] * len(ev) for _ in st]
        for (si, ei), ts in sorted(pairs.items()):
            if len(ts) == 1 and ts[0].get("guard") is None:
                cells[si][ei] = st.index(ts[0]["to"])
                continue
            cells[si][ei] = -2 - len(cands)
            for j, t in enumerate(ts):
                g = t.get("guard")
                cands.append((gd.index(g.lstrip("!")) if g else -1, bool(g and g.startswith("!")),
                              j == len(ts) - 1, st.index(t["to"]), "%s/%s%s" % (t["from"], t["event"],
                                                                                 " [%s]" % g if g else "")))
        c.append("\n/* ---- %s (%s) */\n" % (nm, path))
        c.append("static const char *const %s_states[] = {%s};\n" % (nm, ", ".join(_c_str(s) for s in st)))
        c.append("static const char *const %s_events[] = {%s};\n" % (nm, ", ".join(_c_str(e) for e in ev)))
        if gd:
            c.append("static const char *const %s_guards[] = {%s};\n" % (nm, ", ".join(_c_str(g) for g in gd)))
        c.append("static const bool %s_terminal[] = {%s};\n"
                 % (nm, ", ".join("true" if s.get("terminal") else "false" for s in m["states"])))
        if cands:
            c.append("static const sm_cand_t %s_cands[] = {\n" % nm)
            for g, neg, last, to, why in cands:
                c.append("  {%d, %s, %s, %d}, /* %s -> %s */\n"
                         % (g, "true" if neg else "false", "true" if last else "false", to, why, st[to]))
            c.append("};\n")
        c.append("static const int8_t %s_next[%d][%d] = {\n" % (nm, len(st), len(ev)))
        for si, row in enumerate(cells):
            c.append("  {%s}, /* %s */\n" % (", ".join("%d" % v for v in row), st[si]))
        c.append("};\n")
        c.append("""int tern_sm_%(nm)s_step(int state, int event, uint32_t guards) {
  if (state < 0 || state >= %(ns)d || event < 0 || event >= %(ne)d) return TERN_SM_INVALID;
  %(body)s
}
""" % {"nm": nm, "ns": len(st), "ne": len(ev),
       "body": ("return sm_resolve(%s_next[state][event], %s_cands, guards);" % (nm, nm)) if cands else
               ("(void)guards;\n  return %s_next[state][event];" % nm)})
        c.append("""const tern_sm_desc_t tern_sm_%(nm)s = {
  .name = %(name)s,
  .about = %(about)s,
  .n_states = %(ns)d, .n_events = %(ne)d, .n_guards = %(ng)d, .initial = TERN_SM_%(up)s_INITIAL,
  .state_names = %(nm)s_states, .event_names = %(nm)s_events, .guard_names = %(gn)s,
  .terminal = %(nm)s_terminal,
  .step = tern_sm_%(nm)s_step,
};
""" % {"nm": nm, "up": up, "name": _c_str(nm), "about": _c_str(m["about"]), "ns": len(st), "ne": len(ev),
       "ng": len(gd), "gn": ("%s_guards" % nm) if gd else "NULL"})
    h.append("\n#endif\n")
    c.append("\nconst tern_sm_desc_t *const tern_sm_all[] = {%s};\n"
             % ", ".join("&tern_sm_%s" % m["name"] for _, m in sorted(ms, key=lambda pm: pm[1]["name"])))
    c.append("const int tern_sm_count = %d;\n" % len(ms))
    srcs = [p for p, _ in ms]
    out.write("machines.h", "".join(h), srcs)
    out.write("machines.c", "".join(c), srcs)
