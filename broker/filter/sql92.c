/* SQL92 selector: parser (after SelectorParser.jj's productions and the
 * checks its create* factories make) and evaluator (after the evaluate
 * methods of ComparisonExpression, LogicExpression, UnaryExpression and
 * friends). See sql92.h and spec/filter/sql92.json for the rules. */
#include "broker/filter/sql92.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "gen/message.h"

/* ---- values (Java's boxed types) ---- */

enum { V_NULL, V_BOOL, V_INT, V_LONG, V_DOUBLE, V_STR };

typedef struct val {
  uint8_t t;
  bool b;
  int64_t i; /* V_INT (in int32 range) and V_LONG */
  double d;
  tern_str_t s;
} val_t;

/* ---- the tree ---- */

enum {
  N_CONST,
  N_PROP,
  N_NEG,
  N_NOT,
  N_BCAST, /* a property used as a boolean (UnaryExpression.createBooleanCast) */
  N_AND,   /* n-ary: a left-deep chain of Java's binary AND, flattened */
  N_OR,
  N_EQ,
  N_ISNULL,
  N_GT,
  N_GE,
  N_LT,
  N_LE,
  N_IN,
  N_CONTAINS,
  N_STARTS,
  N_ENDS,
};

typedef struct node node_t;
struct node {
  uint8_t kind;
  bool neg;        /* NOT IN, NOT CONTAINS/STARTSWITH/ENDSWITH */
  uint16_t depth;  /* 1 + the deepest child */
  val_t v;         /* N_CONST */
  tern_str_t name; /* N_PROP: the property; CONTAINS..: the search string */
  node_t *l, *r;   /* operands (unary nodes use l) */
  node_t **kids;   /* N_AND / N_OR */
  uint32_t n_kids;
  tern_str_t *list; /* N_IN */
  uint32_t n_list;
};

struct tern_sql92_expr {
  node_t *root;
  tern_str_t text; /* the arena copy */
  size_t unparsed; /* where the first ignored trailing token starts, or text.n */
};

/* ---- parser ---- */

typedef struct parser {
  tern_str_t text;
  tern_arena_t *a;
  tern_sql92_tok_t tok; /* current token (always lexed) */
  uint32_t depth, max_depth, nodes, max_nodes;
  tern_err_t *err;
  int rc;
} parser_t;

/* Records the first error; err->field names the token found at pos. The
 * kind argument documents the caller's view (-1: not the current token). */
static node_t *fail(parser_t *p, int code, const char *reason, size_t pos, int kind) {
  tern_sql92_tok_t t;
  (void)kind;
  if (p->rc == 0) {
    p->rc = code;
    tern_sql92_lex(p->text, pos, &t);
    tern_fail(p->err, code, reason, tern_sql92_tok_name(t.kind), pos);
  }
  return NULL;
}

static node_t *fail_tok(parser_t *p, const char *reason) {
  return fail(p, TERN_EPROTO, reason, p->tok.pos, p->tok.kind);
}

/* Lexes the token at `pos` into *t; a lexical error fails the parse (Java's
 * token manager throws as soon as it is asked for that token). */
static bool lex_at(parser_t *p, size_t pos, tern_sql92_tok_t *t) {
  if (tern_sql92_lex(p->text, pos, t) == TERN_SQL92_T_ERROR) {
    fail(p, TERN_EPROTO, "lexical error: no token starts here", t->pos, t->kind);
    return false;
  }
  return true;
}

static bool advance(parser_t *p) { return lex_at(p, p->tok.pos + p->tok.len, &p->tok); }

static bool peek2(parser_t *p, int *kind) {
  tern_sql92_tok_t t;
  if (!lex_at(p, p->tok.pos + p->tok.len, &t)) return false;
  *kind = t.kind;
  return true;
}

static node_t *mk(parser_t *p, int kind, node_t *l, node_t *r) {
  node_t *n;
  unsigned d = 0;
  if (++p->nodes > p->max_nodes) return fail(p, TERN_ETOOBIG, "expression has too many nodes", p->tok.pos, p->tok.kind);
  if (!(n = tern_arena_calloc(p->a, 1, sizeof *n))) return fail(p, TERN_ENOMEM, "out of memory", p->tok.pos, p->tok.kind);
  n->kind = (uint8_t)kind;
  n->l = l;
  n->r = r;
  if (l) d = l->depth;
  if (r && r->depth > d) d = r->depth;
  if (d + 1 > p->max_depth) return fail(p, TERN_EDEPTH, "expression nested too deeply", p->tok.pos, p->tok.kind);
  n->depth = (uint16_t)(d + 1);
  return n;
}

/* Java's BooleanExpression instances: comparisons, logic, NOT, casts, IN,
 * CONTAINS.., and the constants TRUE, FALSE and NULL (BooleanConstantExpression). */
static bool is_bool_expr(const node_t *n) {
  if (n->kind == N_CONST) return n->v.t == V_NULL || n->v.t == V_BOOL;
  return n->kind != N_PROP && n->kind != N_NEG;
}

/* SelectorParser.asBooleanExpression */
static node_t *as_bool(parser_t *p, node_t *n, size_t pos) {
  if (!n) return NULL;
  if (is_bool_expr(n)) return n;
  if (n->kind == N_PROP) return mk(p, N_BCAST, n, NULL);
  return fail(p, TERN_EPROTO, "expression will not result in a boolean value", pos, p->tok.kind);
}

/* ComparisonExpression.checkLessThanOperand */
static bool check_lt(parser_t *p, const node_t *n, size_t pos) {
  if (n->kind == N_CONST) {
    if (n->v.t == V_INT || n->v.t == V_LONG || n->v.t == V_DOUBLE) return true;
    fail(p, TERN_EPROTO, "value cannot be compared (>, >=, <, <= and BETWEEN need numbers)", pos, p->tok.kind);
    return false;
  }
  if (is_bool_expr(n)) {
    fail(p, TERN_EPROTO, "a boolean expression cannot be compared with >, >=, <, <= or BETWEEN", pos, p->tok.kind);
    return false;
  }
  return true;
}

static int jcompare(const val_t *l, const val_t *r, int *out);

static node_t *parse_or(parser_t *p);

/* Flattened AND/OR: first and the rest of the chain parsed by `sub`. */
static node_t *parse_chain(parser_t *p, int tok, int kind, node_t *(*sub)(parser_t *)) {
  size_t pos = p->tok.pos;
  node_t *first = sub(p), *n;
  node_t *stack_kids[8], **kids = stack_kids;
  uint32_t nk = 0, cap = 8;
  unsigned d = 0;
  if (!first || p->tok.kind != tok) return first;
  if (!(first = as_bool(p, first, pos))) return NULL;
  kids[nk++] = first;
  while (p->tok.kind == tok) {
    node_t *r;
    if (!advance(p)) return NULL;
    pos = p->tok.pos;
    if (!(r = as_bool(p, sub(p), pos))) return NULL;
    if (nk == cap) {
      node_t **nk2 = tern_arena_alloc(p->a, (size_t)cap * 2 * sizeof *nk2);
      if (!nk2) return fail(p, TERN_ENOMEM, "out of memory", p->tok.pos, p->tok.kind);
      memcpy(nk2, kids, nk * sizeof *kids);
      kids = nk2;
      cap *= 2;
    }
    kids[nk++] = r;
  }
  if (!(n = mk(p, kind, NULL, NULL))) return NULL;
  if (!(n->kids = tern_arena_alloc(p->a, nk * sizeof *n->kids))) return fail(p, TERN_ENOMEM, "out of memory", pos, -1);
  memcpy(n->kids, kids, nk * sizeof *kids);
  n->n_kids = nk;
  for (uint32_t i = 0; i < nk; i++)
    if (kids[i]->depth > d) d = kids[i]->depth;
  if (d + 1 > p->max_depth) return fail(p, TERN_EDEPTH, "expression nested too deeply", pos, p->tok.kind);
  n->depth = (uint16_t)(d + 1);
  return n;
}

static node_t *parse_unary(parser_t *p);

/* stringLitteral(): the current token must be a string; '' becomes '. */
static bool parse_string(parser_t *p, tern_str_t *out) {
  char *d;
  size_t k = 0;
  if (p->tok.kind != TERN_SQL92_T_STRING) {
    fail_tok(p, "expected a string literal");
    return false;
  }
  if (!(d = tern_arena_alloc(p->a, p->tok.len))) {
    fail(p, TERN_ENOMEM, "out of memory", p->tok.pos, -1);
    return false;
  }
  for (size_t i = p->tok.pos + 1; i + 1 < p->tok.pos + p->tok.len; i++) {
    d[k++] = p->text.p[i];
    if (p->text.p[i] == '\'') i++;
  }
  out->p = d;
  out->n = k;
  return advance(p);
}

/* ComparisonExpression.createGreaterThan & co, with their operand checks. */
static node_t *mk_rel(parser_t *p, int kind, node_t *l, node_t *r, size_t lpos, size_t rpos) {
  if (!check_lt(p, l, lpos) || !check_lt(p, r, rpos)) return NULL;
  return mk(p, kind, l, r);
}

/* ComparisonExpression.createBetween's check on two constant bounds. */
static bool check_between(parser_t *p, const node_t *lo, const node_t *hi, size_t pos) {
  int c;
  if (lo->kind != N_CONST || hi->kind != N_CONST) return true;
  if (lo->v.t == V_NULL || hi->v.t == V_NULL) {
    fail(p, TERN_EPROTO, "illegal values of between: values can not be null", pos, p->tok.kind);
    return false;
  }
  if (jcompare(&hi->v, &lo->v, &c) != 0 || c < 0) {
    fail(p, TERN_EPROTO, "illegal values of between: the left value must be less than or equal to the right value", pos,
         p->tok.kind);
    return false;
  }
  return true;
}

static node_t *parse_comparison(parser_t *p) {
  size_t lpos = p->tok.pos;
  node_t *left = parse_unary(p);
  while (left) {
    int k = p->tok.kind, k2;
    bool neg = false;
    size_t rpos;
    node_t *r;
    if (k == TERN_SQL92_T_GT || k == TERN_SQL92_T_GE || k == TERN_SQL92_T_LT || k == TERN_SQL92_T_LE) {
      int kind = k == TERN_SQL92_T_GT ? N_GT : k == TERN_SQL92_T_GE ? N_GE : k == TERN_SQL92_T_LT ? N_LT : N_LE;
      if (!advance(p)) return NULL;
      rpos = p->tok.pos;
      if (!(r = parse_unary(p))) return NULL;
      left = mk_rel(p, kind, left, r, lpos, rpos);
      continue;
    }
    if (k == TERN_SQL92_T_NOT) { /* LOOKAHEAD(2): NOT then one of these, else the loop ends */
      if (!peek2(p, &k2)) return NULL;
      if (k2 != TERN_SQL92_T_CONTAINS && k2 != TERN_SQL92_T_STARTSWITH && k2 != TERN_SQL92_T_ENDSWITH &&
          k2 != TERN_SQL92_T_BETWEEN && k2 != TERN_SQL92_T_IN)
        break;
      if (!advance(p)) return NULL;
      k = k2;
      neg = true;
    }
    if (k == TERN_SQL92_T_CONTAINS || k == TERN_SQL92_T_STARTSWITH || k == TERN_SQL92_T_ENDSWITH) {
      int kind = k == TERN_SQL92_T_CONTAINS ? N_CONTAINS : k == TERN_SQL92_T_STARTSWITH ? N_STARTS : N_ENDS;
      tern_str_t s;
      if (!advance(p) || !parse_string(p, &s)) return NULL;
      if (!(left = mk(p, kind, left, NULL))) return NULL;
      left->name = s;
      left->neg = neg;
    } else if (k == TERN_SQL92_T_BETWEEN) {
      size_t lopos, hipos;
      node_t *lo, *hi, *a, *b, *n;
      if (!advance(p)) return NULL;
      lopos = p->tok.pos;
      if (!(lo = parse_unary(p))) return NULL;
      if (p->tok.kind != TERN_SQL92_T_AND) return fail_tok(p, "expected AND in BETWEEN");
      if (!advance(p)) return NULL;
      hipos = p->tok.pos;
      if (!(hi = parse_unary(p))) return NULL;
      if (!neg && !check_between(p, lo, hi, lopos)) return NULL;
      a = mk_rel(p, neg ? N_LT : N_GE, left, lo, lpos, lopos);
      b = a ? mk_rel(p, neg ? N_GT : N_LE, left, hi, lpos, hipos) : NULL;
      if (!b || !(n = mk(p, neg ? N_OR : N_AND, a, b))) return NULL;
      /* a two-kid AND/OR: kids point at l and r */
      if (!(n->kids = tern_arena_alloc(p->a, 2 * sizeof *n->kids))) return fail(p, TERN_ENOMEM, "out of memory", p->tok.pos, -1);
      n->kids[0] = a;
      n->kids[1] = b;
      n->n_kids = 2;
      n->l = n->r = NULL;
      left = n;
    } else if (k == TERN_SQL92_T_IN) {
      tern_str_t first, *list;
      uint32_t n = 0, cap = 1;
      size_t inpos = p->tok.pos;
      if (!advance(p)) return NULL;
      if (p->tok.kind != TERN_SQL92_T_LPAREN) return fail_tok(p, "expected ( after IN");
      if (!advance(p) || !parse_string(p, &first)) return NULL;
      /* count first (the lexer is pure), then fill */
      {
        tern_sql92_tok_t t = p->tok;
        while (t.kind == TERN_SQL92_T_COMMA) {
          if (tern_sql92_lex(p->text, t.pos + t.len, &t) != TERN_SQL92_T_STRING) break;
          tern_sql92_lex(p->text, t.pos + t.len, &t);
          cap++;
        }
      }
      if (cap > p->max_nodes || (p->nodes += cap) > p->max_nodes)
        return fail(p, TERN_ETOOBIG, "expression has too many nodes", inpos, TERN_SQL92_T_IN);
      if (!(list = tern_arena_alloc(p->a, cap * sizeof *list))) return fail(p, TERN_ENOMEM, "out of memory", p->tok.pos, -1);
      list[n++] = first;
      while (p->tok.kind == TERN_SQL92_T_COMMA) {
        tern_str_t s;
        if (!advance(p) || !parse_string(p, &s)) return NULL;
        if (n == cap) return fail_tok(p, "internal error: IN list miscounted");
        list[n++] = s;
      }
      if (p->tok.kind != TERN_SQL92_T_RPAREN) return fail_tok(p, "expected , or ) in the IN list");
      if (!advance(p)) return NULL;
      if (left->kind != N_PROP) return fail(p, TERN_EPROTO, "expected a property for the IN expression", lpos, -1);
      if (!(left = mk(p, N_IN, left, NULL))) return NULL;
      left->list = list;
      left->n_list = n;
      left->neg = neg;
    } else {
      break;
    }
  }
  return left;
}

/* ComparisonExpression.checkEqualOperand / checkEqualOperandCompatability */
static bool check_eq(parser_t *p, const node_t *l, const node_t *r, size_t lpos, size_t rpos) {
  if (l->kind == N_CONST && l->v.t == V_NULL) {
    fail(p, TERN_EPROTO, "NULL cannot be compared with = or <> (use IS NULL)", lpos, TERN_SQL92_T_NULL);
    return false;
  }
  if (r->kind == N_CONST && r->v.t == V_NULL) {
    fail(p, TERN_EPROTO, "NULL cannot be compared with = or <> (use IS NULL)", rpos, TERN_SQL92_T_NULL);
    return false;
  }
  if (l->kind == N_CONST && r->kind == N_CONST && l->v.t == V_BOOL && !is_bool_expr(r)) {
    fail(p, TERN_EPROTO, "a boolean constant cannot be compared with a non-boolean constant", lpos, -1);
    return false;
  }
  return true;
}

static node_t *parse_equality(parser_t *p) {
  size_t lpos = p->tok.pos;
  node_t *left = parse_comparison(p);
  while (left) {
    int k = p->tok.kind, k2;
    if (k == TERN_SQL92_T_EQ || k == TERN_SQL92_T_NE) {
      size_t rpos;
      node_t *r;
      if (!advance(p)) return NULL;
      rpos = p->tok.pos;
      if (!(r = parse_comparison(p))) return NULL;
      if (!check_eq(p, left, r, lpos, rpos)) return NULL;
      left = mk(p, N_EQ, left, r);
      if (left && k == TERN_SQL92_T_NE) left = mk(p, N_NOT, left, NULL);
    } else if (k == TERN_SQL92_T_IS) {
      if (!peek2(p, &k2)) return NULL;
      if (!advance(p)) return NULL;
      if (k2 == TERN_SQL92_T_NULL) {
        if (!advance(p)) return NULL;
        left = mk(p, N_ISNULL, left, NULL);
      } else if (k2 == TERN_SQL92_T_NOT) {
        if (!advance(p)) return NULL;
        if (p->tok.kind != TERN_SQL92_T_NULL) return fail_tok(p, "expected NULL after IS NOT");
        if (!advance(p)) return NULL;
        left = mk(p, N_ISNULL, left, NULL);
        if (left) left = mk(p, N_NOT, left, NULL);
      } else {
        return fail_tok(p, "expected NULL or NOT NULL after IS");
      }
    } else {
      break;
    }
  }
  return left;
}

static node_t *parse_and(parser_t *p) { return parse_chain(p, TERN_SQL92_T_AND, N_AND, parse_equality); }
static node_t *parse_or(parser_t *p) { return parse_chain(p, TERN_SQL92_T_OR, N_OR, parse_and); }

/* The literal of the current token. */
static node_t *parse_literal(parser_t *p) {
  node_t *n = mk(p, N_CONST, NULL, NULL);
  const char *s = p->text.p + p->tok.pos;
  size_t len = p->tok.len;
  if (!n) return NULL;
  switch (p->tok.kind) {
  case TERN_SQL92_T_STRING:
    n->v.t = V_STR;
    return parse_string(p, &n->v.s) ? n : NULL;
  case TERN_SQL92_T_DECIMAL: { /* ConstantExpression.createFromDecimal */
    int64_t v;
    if (len > 1 && (s[len - 1] == 'l' || s[len - 1] == 'L')) len--;
    if (tern_str_to_i64((tern_str_t){s, len}, &v)) return fail_tok(p, "decimal literal out of the Long range");
    n->v.t = v >= INT32_MIN && v <= INT32_MAX ? V_INT : V_LONG;
    n->v.i = v;
    break;
  }
  case TERN_SQL92_T_FLOAT: { /* ConstantExpression.createFloat */
    char *buf = tern_arena_alloc(p->a, len + 1);
    if (!buf) return fail(p, TERN_ENOMEM, "out of memory", p->tok.pos, -1);
    memcpy(buf, s, len);
    buf[len] = 0;
    n->v.t = V_DOUBLE;
    n->v.d = strtod(buf, NULL);
    if (isinf(n->v.d)) return fail_tok(p, "floating point literal is greater than Double.MAX_VALUE");
    if (n->v.d < 4.9e-324) return fail_tok(p, "floating point literal is less than Double.MIN_VALUE");
    break;
  }
  case TERN_SQL92_T_TRUE:
  case TERN_SQL92_T_FALSE:
    n->v.t = V_BOOL;
    n->v.b = p->tok.kind == TERN_SQL92_T_TRUE;
    break;
  case TERN_SQL92_T_NULL: n->v.t = V_NULL; break;
  default: return fail_tok(p, "expected a literal");
  }
  return advance(p) ? n : NULL;
}

static node_t *parse_primary(parser_t *p) {
  switch (p->tok.kind) {
  case TERN_SQL92_T_STRING:
  case TERN_SQL92_T_DECIMAL:
  case TERN_SQL92_T_FLOAT:
  case TERN_SQL92_T_TRUE:
  case TERN_SQL92_T_FALSE:
  case TERN_SQL92_T_NULL: return parse_literal(p);
  case TERN_SQL92_T_ID: {
    node_t *n = mk(p, N_PROP, NULL, NULL);
    if (!n) return NULL;
    n->name = (tern_str_t){p->text.p + p->tok.pos, p->tok.len};
    return advance(p) ? n : NULL;
  }
  case TERN_SQL92_T_LPAREN: {
    node_t *n;
    if (!advance(p) || !(n = parse_or(p))) return NULL;
    if (p->tok.kind != TERN_SQL92_T_RPAREN) return fail_tok(p, "expected )");
    return advance(p) ? n : NULL;
  }
  default: return fail_tok(p, "expected a literal, a property or (");
  }
}

static node_t *parse_unary(parser_t *p) {
  node_t *n = NULL;
  size_t pos;
  if (++p->depth > p->max_depth) return fail(p, TERN_EDEPTH, "expression nested too deeply", p->tok.pos, p->tok.kind);
  switch (p->tok.kind) {
  case TERN_SQL92_T_PLUS:
    if (advance(p)) n = parse_unary(p);
    break;
  case TERN_SQL92_T_MINUS:
    if (advance(p) && (n = parse_unary(p))) n = mk(p, N_NEG, n, NULL);
    break;
  case TERN_SQL92_T_NOT:
    if (!advance(p)) break;
    pos = p->tok.pos;
    if ((n = as_bool(p, parse_unary(p), pos))) n = mk(p, N_NOT, n, NULL);
    break;
  default: n = parse_primary(p);
  }
  p->depth--;
  return n;
}

int tern_sql92_compile(tern_str_t text, tern_arena_t *a, const tern_sql92_limits_t *lim, tern_sql92_expr_t **out,
                       tern_err_t *err) {
  parser_t p;
  tern_sql92_expr_t *e;
  char *copy;
  size_t max_text = lim && lim->max_text_bytes ? lim->max_text_bytes : TERN_SQL92_MAX_TEXT_BYTES;
  size_t pos;
  *out = NULL;
  if (text.n > max_text) return tern_fail(err, TERN_ETOOBIG, "expression text too long", NULL, max_text);
  memset(&p, 0, sizeof p);
  p.max_depth = lim && lim->max_depth ? lim->max_depth : TERN_SQL92_MAX_DEPTH;
  if (p.max_depth > 0xFFFF) p.max_depth = 0xFFFF;
  p.max_nodes = lim && lim->max_nodes ? lim->max_nodes : TERN_SQL92_MAX_NODES;
  p.a = a;
  p.err = err;
  if (!(e = tern_arena_calloc(a, 1, sizeof *e)) || !(copy = tern_arena_alloc(a, text.n + 1)))
    return tern_fail(err, TERN_ENOMEM, "out of memory", NULL, 0);
  if (text.n) memcpy(copy, text.p, text.n);
  copy[text.n] = 0;
  p.text = e->text = (tern_str_t){copy, text.n};
  if (lex_at(&p, 0, &p.tok)) {
    pos = p.tok.pos;
    e->root = as_bool(&p, parse_or(&p), pos);
  }
  if (p.rc) return p.rc;
  if (!e->root) return tern_fail(err, TERN_EPROTO, "invalid expression", NULL, 0);
  e->unparsed = p.tok.kind == TERN_SQL92_T_EOF ? text.n : p.tok.pos;
  *out = e;
  return 0;
}

size_t tern_sql92_unparsed(const tern_sql92_expr_t *e) { return e->unparsed; }

size_t tern_sql92_error_message(tern_str_t text, const tern_err_t *err, char *buf, size_t cap) {
  size_t line = 1, col = 1, pos = err->pos < text.n ? err->pos : text.n, tl = 0;
  int n;
  for (size_t i = 0; i < pos; i++) {
    if (text.p[i] == '\n') line++, col = 1;
    else col++;
  }
  /* show the token (or up to 20 bytes) found at pos */
  if (pos < text.n) {
    tern_sql92_tok_t t;
    tern_sql92_lex(text, pos, &t);
    tl = t.pos == pos && t.len ? t.len : 1;
    if (tl > 20) tl = 20;
  }
  n = snprintf(buf, cap, "Invalid MessageSelector. %s: %s%.*s%s at line %zu, column %zu",
               err->reason ? err->reason : tern_strerror(err->code), tl ? "\"" : "", (int)tl,
               tl ? text.p + pos : "", tl ? "\"" : "<EOF>", line, col);
  if (n < 0) {
    buf[0] = 0;
    return 0;
  }
  return (size_t)n < cap ? (size_t)n : cap - 1;
}

/* ---- Java's conversions ---- */

static bool java_blank(char c) { return (unsigned char)c <= ' '; }

/* Double.valueOf(String): trimmed; [+-]? then NaN, Infinity, a decimal
 * (digits with an optional point and exponent) or a hex float (0x..p..),
 * with an optional f/F/d/D suffix. */
static bool java_double(tern_str_t s, double *out) {
  char buf[512];
  size_t i = 0, n, j, digits = 0;
  bool negv = false;
  while (s.n && java_blank(s.p[0])) s.p++, s.n--;
  while (s.n && java_blank(s.p[s.n - 1])) s.n--;
  n = s.n;
  if (n == 0) return false;
  if (s.p[0] == '+' || s.p[0] == '-') negv = s.p[0] == '-', i = 1;
  if (n - i == 3 && memcmp(s.p + i, "NaN", 3) == 0) {
    *out = NAN;
    return true;
  }
  if (n - i == 8 && memcmp(s.p + i, "Infinity", 8) == 0) {
    *out = negv ? -INFINITY : INFINITY;
    return true;
  }
  if (s.p[n - 1] == 'f' || s.p[n - 1] == 'F' || s.p[n - 1] == 'd' || s.p[n - 1] == 'D') n--;
  j = i;
  if (n - j > 2 && s.p[j] == '0' && (s.p[j + 1] == 'x' || s.p[j + 1] == 'X')) {
    bool point = false;
    j += 2;
    for (; j < n && (isxdigit((unsigned char)s.p[j]) || (s.p[j] == '.' && !point)); j++) {
      if (s.p[j] == '.') point = true;
      else digits++;
    }
    if (!digits || j >= n || (s.p[j] != 'p' && s.p[j] != 'P')) return false; /* Java requires the binary exponent */
  } else {
    for (; j < n && s.p[j] >= '0' && s.p[j] <= '9'; j++) digits++;
    if (j < n && s.p[j] == '.')
      for (j++; j < n && s.p[j] >= '0' && s.p[j] <= '9'; j++) digits++;
    if (!digits) return false;
    if (j < n && s.p[j] != 'e' && s.p[j] != 'E') return false;
  }
  if (j < n) { /* exponent */
    size_t ed = 0;
    j++;
    if (j < n && (s.p[j] == '+' || s.p[j] == '-')) j++;
    for (; j < n && s.p[j] >= '0' && s.p[j] <= '9'; j++) ed++;
    if (!ed || j != n) return false;
  }
  /* Tern: numbers longer than this are refused (treated as not numeric) */
  if (n >= sizeof buf) return false;
  memcpy(buf, s.p, n);
  buf[n] = 0;
  *out = strtod(buf, NULL);
  return true;
}

static int64_t dbits(double d) {
  int64_t b;
  if (isnan(d)) return INT64_C(0x7ff8000000000000);
  memcpy(&b, &d, sizeof b);
  return b;
}

/* Double.compare */
static int dcmp(double a, double b) {
  int64_t x, y;
  if (a < b) return -1;
  if (a > b) return 1;
  x = dbits(a);
  y = dbits(b);
  return x == y ? 0 : x < y ? -1 : 1;
}

static int icmp(int64_t a, int64_t b) { return a < b ? -1 : a > b; }

static int scmp(tern_str_t a, tern_str_t b) {
  size_t m = a.n < b.n ? a.n : b.n;
  int c = m ? memcmp(a.p, b.p, m) : 0;
  if (c) return c < 0 ? -1 : 1;
  return icmp((int64_t)a.n, (int64_t)b.n);
}

/* A String converted to the type of a number it meets; false = Java throws. */
static bool str_as(tern_str_t s, int type, val_t *out) {
  out->t = (uint8_t)type;
  if (type == V_INT) {
    int32_t v;
    if (tern_str_to_i32(s, &v)) return false;
    out->i = v;
    return true;
  }
  if (type == V_LONG) return tern_str_to_i64(s, &out->i) == 0;
  return java_double(s, &out->d);
}

/* ComparisonExpression.__compare(lv, rv, convertStringExpressions = true):
 * 0 and *out, or -1 when Java throws. Type pairs without a rule give -1. */
static int jcompare(const val_t *l, const val_t *r, int *out) {
  val_t x = *l, y = *r;
  if (x.t != y.t) {
    switch (x.t) {
    case V_BOOL:
      if (y.t == V_STR) return -1; /* Java casts the Boolean to String: ClassCastException */
      *out = -1;
      return 0;
    case V_INT:
    case V_LONG:
      if (y.t == V_INT || y.t == V_LONG) {
        *out = icmp(x.i, y.i);
        return 0;
      }
      if (y.t == V_DOUBLE) {
        *out = dcmp((double)x.i, y.d);
        return 0;
      }
      if (y.t == V_STR) {
        if (!str_as(y.s, x.t, &y)) return -1;
        *out = icmp(x.i, y.i);
        return 0;
      }
      *out = -1;
      return 0;
    case V_DOUBLE:
      if (y.t == V_INT || y.t == V_LONG) {
        *out = dcmp(x.d, (double)y.i);
        return 0;
      }
      if (y.t == V_STR) {
        if (!str_as(y.s, V_DOUBLE, &y)) return -1;
        *out = dcmp(x.d, y.d);
        return 0;
      }
      *out = -1;
      return 0;
    case V_STR:
      if (y.t == V_BOOL) {
        bool b = tern_str_to_bool(x.s);
        *out = icmp(b, y.b);
        return 0;
      }
      if (y.t == V_INT || y.t == V_LONG) {
        if (!str_as(x.s, y.t, &x)) return -1;
        *out = icmp(x.i, y.i);
        return 0;
      }
      if (y.t == V_DOUBLE) {
        if (!str_as(x.s, V_DOUBLE, &x)) return -1;
        *out = dcmp(x.d, y.d);
        return 0;
      }
      *out = -1;
      return 0;
    default: *out = -1; return 0;
    }
  }
  switch (x.t) {
  case V_BOOL: *out = icmp(x.b, y.b); break;
  case V_INT:
  case V_LONG: *out = icmp(x.i, y.i); break;
  case V_DOUBLE: *out = dcmp(x.d, y.d); break;
  case V_STR: *out = scmp(x.s, y.s); break;
  default: *out = 0; break;
  }
  return 0;
}

/* Object.equals of the boxed values */
static bool jequals(const val_t *l, const val_t *r) {
  if (l->t != r->t) return false;
  switch (l->t) {
  case V_BOOL: return l->b == r->b;
  case V_INT:
  case V_LONG: return l->i == r->i;
  case V_DOUBLE: return dbits(l->d) == dbits(r->d);
  case V_STR: return tern_str_eq(l->s, r->s);
  default: return true;
  }
}

/* ---- evaluator ---- */

typedef struct ectx {
  tern_sql92_lookup_fn get;
  void *ctx;
} ectx_t;

#define EXC (-1)

static void set_bool(val_t *v, bool b) {
  v->t = V_BOOL;
  v->b = b;
}

static bool str_search(tern_str_t s, tern_str_t q, int kind) {
  if (q.n > s.n) return false;
  if (kind == N_STARTS) return memcmp(s.p, q.p, q.n) == 0;
  if (kind == N_ENDS) return memcmp(s.p + s.n - q.n, q.p, q.n) == 0;
  for (size_t i = 0; i + q.n <= s.n; i++)
    if (s.p[i] == q.p[0] && memcmp(s.p + i, q.p, q.n) == 0) return true;
  return false;
}

static int ev(const node_t *n, const ectx_t *c, val_t *out) {
  val_t l, r;
  int cmp;
  memset(out, 0, sizeof *out);
  switch (n->kind) {
  case N_CONST: *out = n->v; return 0;
  case N_PROP:
    if (c->get(c->ctx, n->name, &out->s) == 0) out->t = V_STR;
    else out->t = V_NULL;
    return 0;
  case N_NEG: /* UnaryExpression.createNegate: ints wrap like Java's */
    if (ev(n->l, c, &l)) return EXC;
    if (l.t == V_INT) out->t = V_INT, out->i = (int32_t)(0u - (uint32_t)l.i);
    else if (l.t == V_LONG) out->t = V_LONG, out->i = (int64_t)(0u - (uint64_t)l.i);
    else if (l.t == V_DOUBLE) out->t = V_DOUBLE, out->d = -l.d;
    else out->t = V_NULL;
    return 0;
  case N_NOT:
    if (ev(n->l, c, &l)) return EXC;
    if (l.t == V_NULL) return 0;
    if (l.t != V_BOOL) return EXC; /* (Boolean) cast */
    set_bool(out, !l.b);
    return 0;
  case N_BCAST:
    if (ev(n->l, c, &l)) return EXC;
    if (l.t == V_NULL) return 0;
    set_bool(out, l.t == V_BOOL && l.b);
    return 0;
  case N_AND:
  case N_OR: { /* LogicExpression, left-deep chain folded left to right */
    bool is_and = n->kind == N_AND, acc_null = false;
    for (uint32_t i = 0; i < n->n_kids; i++) {
      if (ev(n->kids[i], c, &l)) return EXC;
      if (l.t != V_NULL && l.t != V_BOOL) return EXC;
      if (l.t == V_BOOL && l.b != is_and) { /* FALSE in AND, TRUE in OR decides */
        set_bool(out, !is_and);
        return 0;
      }
      if (l.t == V_NULL) acc_null = true;
    }
    if (!acc_null) set_bool(out, is_and);
    return 0;
  }
  case N_EQ: /* ComparisonExpression.doCreateEqual */
    if (ev(n->l, c, &l) || ev(n->r, c, &r)) return EXC;
    if ((l.t == V_NULL) != (r.t == V_NULL)) {
      if (l.t != V_NULL) set_bool(out, false);
      return 0;
    }
    if (l.t == V_NULL || jequals(&l, &r)) {
      set_bool(out, true);
      return 0;
    }
    if (jcompare(&l, &r, &cmp)) return EXC;
    set_bool(out, cmp == 0);
    return 0;
  case N_ISNULL:
    if (ev(n->l, c, &l)) return EXC;
    set_bool(out, l.t == V_NULL);
    return 0;
  case N_GT:
  case N_GE:
  case N_LT:
  case N_LE:
    if (ev(n->l, c, &l)) return EXC;
    if (l.t == V_NULL) return 0;
    if (ev(n->r, c, &r)) return EXC;
    if (r.t == V_NULL) return 0;
    if (l.t == V_STR && r.t == V_STR) {
      double a, b;
      if (!java_double(l.s, &a) || !java_double(r.s, &b)) return EXC;
      cmp = dcmp(a, b);
    } else if (jcompare(&l, &r, &cmp)) {
      return EXC;
    }
    set_bool(out, n->kind == N_GT ? cmp > 0 : n->kind == N_GE ? cmp >= 0 : n->kind == N_LT ? cmp < 0 : cmp <= 0);
    return 0;
  case N_IN: {
    bool found = false;
    if (ev(n->l, c, &l)) return EXC;
    if (l.t != V_STR) return 0;
    for (uint32_t i = 0; i < n->n_list && !found; i++) found = tern_str_eq(l.s, n->list[i]);
    set_bool(out, found != n->neg);
    return 0;
  }
  case N_CONTAINS:
  case N_STARTS:
  case N_ENDS:
    set_bool(out, false);
    if (n->name.n == 0) return 0;
    if (ev(n->l, c, &l)) return EXC;
    if (l.t != V_STR) return 0;
    out->b = str_search(l.s, n->name, n->kind) != n->neg;
    return 0;
  default: return EXC;
  }
}

int tern_sql92_eval3(const tern_sql92_expr_t *e, tern_sql92_lookup_fn get, void *ctx) {
  ectx_t c = {get, ctx};
  val_t v;
  if (ev(e->root, &c, &v)) return TERN_SQL92_ERROR;
  if (v.t == V_NULL) return TERN_SQL92_UNKNOWN;
  if (v.t != V_BOOL) return TERN_SQL92_ERROR; /* cannot happen: the root is boolean-valued */
  return v.b ? TERN_SQL92_TRUE : TERN_SQL92_FALSE;
}

bool tern_sql92_eval_cb(const tern_sql92_expr_t *e, tern_sql92_lookup_fn get, void *ctx) {
  return tern_sql92_eval3(e, get, ctx) == TERN_SQL92_TRUE;
}

static int props_lookup(void *ctx, tern_str_t name, tern_str_t *val) {
  return tern_props_get_str(*(const tern_str_t *)ctx, name, val);
}

bool tern_sql92_eval(const tern_sql92_expr_t *e, tern_str_t props) {
  return tern_sql92_eval_cb(e, props_lookup, &props);
}
