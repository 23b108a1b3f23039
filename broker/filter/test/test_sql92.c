/* SQL92 filter: a table of expressions x property sets -> the three-valued
 * result Java's expression classes give (reference §11.2), parse errors with
 * their positions, and the limits. Property sets are written "k=v|k=v". */
#include <stdlib.h>

#include "broker/filter/sql92.h"
#include "gen/message.h"
#include "runtime/buf.h"
#include "tern_test.h"

#define T TERN_SQL92_TRUE
#define F TERN_SQL92_FALSE
#define U TERN_SQL92_UNKNOWN
#define E TERN_SQL92_ERROR

typedef struct row {
  const char *expr;
  const char *props;
  int want;
} row_t;

static const row_t rows[] = {
    /* numeric comparison of string properties */
    {"a > 3", "a=5", T},
    {"a > 5", "a=5", F},
    {"a >= 5", "a=5", T},
    {"a < 10", "a=5", T},
    {"a <= 4", "a=5", F},
    {"a > 4.5", "a=5", T},
    {"a > -10", "a=5", T},
    {"a > 3", "", U},
    {"a > 3", "b=5", U},
    {"a > 3", "a=abc", E},           /* Integer.valueOf throws: no match */
    {"a > 3", "a=3000000000", E},    /* past Integer range for an Integer literal */
    {"a > 3000000000", "a=3000000001", T},
    {"a > 3000000000", "a=5", F},
    {"a > 3", "a=3.5", E},           /* "3.5" is no Integer */
    {"a > 3.0", "a=3.5", T},
    {"a > 1e0", "a=3.5", T},
    {"a < 5.", "a=3.5", T},
    {"a > .5", "a=1", T},
    {"a = 5", "a= 5", E},            /* Integer.valueOf does not trim */
    {"a = 5.0", "a= 5 ", T},         /* Double.valueOf does */
    {"a = 3.5", "a=3.5f", T},
    {"a = 8.0", "a=0x1p3", T},
    {"a > 1.0", "a=NaN", T},         /* Double.compare puts NaN above everything */
    {"a < 1.0", "a=-Infinity", T},
    {"a < b", "a=2|b=10", T},        /* two strings compare as doubles, not lexically */
    {"a < b", "a=2|b=x", E},
    {"a = -2147483648", "a=-2147483648", T},
    {"a = 10L", "a=10", T},
    {"a = 5", "a=05", T},
    /* equality */
    {"a = 'x'", "a=x", T},
    {"a = 'x'", "a=y", F},
    {"a = 'x'", "", U},
    {"'x' = a", "", F},              /* a null right side gives FALSE, a null left side null */
    {"NOT ('x' = a)", "", T},
    {"a <> 'x'", "a=y", T},
    {"a <> 'x'", "a=x", F},
    {"a <> 'x'", "", U},
    {"a = b", "", T},                /* both null: TRUE (lv == rv) */
    {"a <> b", "", F},
    {"a = b", "a=1|b=1", T},
    {"a = 5", "a=x", E},
    {"a = TRUE", "a=true", T},
    {"a = TRUE", "a=TRUE", T},
    {"a = TRUE", "a=yes", F},
    {"a = FALSE", "a=yes", T},
    {"'1' = 1", "", T},
    {"1 = 1", "", T},
    {"5 = 5.0", "", T},
    {"5 > 4.5", "", T},
    {"5 = TRUE", "", F},             /* Integer vs Boolean: no conversion, compares as -1 */
    {"(a = '1') = TRUE", "a=1", T},
    {"(a = '1') = 'true'", "a=1", E}, /* Boolean meets String: Java's ClassCastException */
    {"a = 'it''s'", "a=it's", T},
    {"A = '1'", "a=1", U},           /* property names are case-sensitive */
    {"a = '2'", "a=1|a=2", T},       /* the last duplicate wins */
    /* IS [NOT] NULL */
    {"a IS NULL", "", T},
    {"a IS NULL", "a=1", F},
    {"a IS NOT NULL", "a=1", T},
    {"a IS NOT NULL", "", F},
    {"NULL IS NULL", "", T},
    /* BETWEEN */
    {"a BETWEEN 1 AND 10", "a=5", T},
    {"a BETWEEN 1 AND 10", "a=10", T},
    {"a BETWEEN 1 AND 10", "a=1", T},
    {"a BETWEEN 1 AND 10", "a=11", F},
    {"a BETWEEN 1 AND 10", "", U},
    {"a BETWEEN 1 AND 10", "a=x", E},
    {"a NOT BETWEEN 1 AND 10", "a=11", T},
    {"a NOT BETWEEN 1 AND 10", "a=5", F},
    {"a NOT BETWEEN 1 AND 10", "", U},
    {"a BETWEEN -5 AND -1", "a=-3", T},
    {"a BETWEEN 1.5 AND 2", "a=1.75", E},   /* "1.75" <= 2 needs Integer.valueOf: throws */
    {"a BETWEEN 1.5 AND 2.0", "a=1.75", T},
    {"a BETWEEN lo AND hi", "a=5|lo=1|hi=9", T},
    {"a BETWEEN 5 AND 5", "a=5", T},
    /* IN */
    {"TAGS IN ('TagA', 'TagB')", "TAGS=TagA", T},
    {"TAGS IN ('TagA', 'TagB')", "TAGS=TagC", F},
    {"TAGS IN ('TagA', 'TagB')", "", U},
    {"TAGS NOT IN ('TagA')", "TAGS=TagC", T},
    {"TAGS NOT IN ('TagA')", "TAGS=TagA", F},
    {"TAGS NOT IN ('TagA')", "", U},
    {"(TAGS) IN ('a','b','c','d','e','f')", "TAGS=f", T},
    /* CONTAINS / STARTSWITH / ENDSWITH (5.x) */
    {"b CONTAINS 'bc'", "b=abc", T},
    {"b CONTAINS 'x'", "b=abc", F},
    {"b NOT CONTAINS 'bc'", "b=abc", F},
    {"b NOT CONTAINS 'x'", "b=abc", T},
    {"b CONTAINS 'x'", "", F},       /* null gives FALSE, not null */
    {"b NOT CONTAINS 'x'", "", F},
    {"NOT (b CONTAINS 'x')", "", T},
    {"b CONTAINS ''", "b=abc", F},
    {"b NOT CONTAINS ''", "b=abc", F},
    {"b STARTSWITH 'ab'", "b=abc", T},
    {"b STARTSWITH 'bc'", "b=abc", F},
    {"b NOT STARTSWITH 'bc'", "b=abc", T},
    {"b ENDSWITH 'bc'", "b=abc", T},
    {"b ENDSWITH 'ab'", "b=abc", F},
    {"b ENDSWITH 'abcd'", "b=abc", F},
    {"b NOT ENDSWITH 'ab'", "b=abc", T},
    {"'axb' contains 'x'", "", T},
    {"5 CONTAINS '5'", "", F},       /* not a String */
    /* logic, three-valued, short circuit, precedence */
    {"TRUE", "", T},
    {"FALSE", "", F},
    {"NULL", "", U},
    {"NOT NULL", "", U},
    {"NOT TRUE", "", F},
    {"a > 1 AND b > 1", "a=2", U},
    {"a > 1 AND b > 1", "a=0", F},
    {"a > 1 AND b > 1", "a=2|b=2", T},
    {"a > 1 OR b > 1", "a=2", T},
    {"a > 1 OR b > 1", "a=0", U},
    {"a > 1 OR b > 1", "a=0|b=0", F},
    {"a > 3 OR b = 'abc'", "a=abc|b=abc", E}, /* the failed conversion sinks the whole expression */
    {"b = 'abc' OR a > 3", "a=abc|b=abc", T}, /* ... unless OR already decided */
    {"b = 'x' AND a > 3", "a=abc|b=abc", F},
    {"a = '1' OR b = '1' AND c = '1'", "a=1|b=0|c=0", T}, /* AND binds tighter */
    {"(a = '1' OR b = '1') AND c = '1'", "a=1|b=0|c=0", F},
    {"NOT (a > 1)", "a=0", T},
    {"NOT (a > 1)", "", U},
    {"a", "a=true", F},              /* a String used as a boolean is FALSE */
    {"a", "", U},
    {"a AND TRUE", "a=x", F},
    {"NOT a", "a=x", T},
    {"a = '1' AND b = '2' AND c = '3' AND d = '4'", "a=1|b=2|c=3|d=4", T},
    {"a = '1' AND b = '2' AND c = '3' AND d = '4'", "a=1|b=2|c=3", U},
    {"a = '1' AND b = '2' AND c = '3' AND d = '4'", "a=1|b=2|c=0", F},
    {"(a > 10 AND a < 100) OR (b IS NOT NULL AND b = TRUE)", "a=50", T},
    {"(a > 10 AND a < 100) OR (b IS NOT NULL AND b = TRUE)", "a=5|b=true", T},
    {"(a > 10 AND a < 100) OR (b IS NOT NULL AND b = TRUE)", "a=5", F},
    {"TAGS IN ('TagA','TagB') AND region = 'hz'", "TAGS=TagB|region=hz", T},
    /* negation */
    {"-a > -10", "a=5", U},          /* negating a String gives null */
    {"- -5 = 5", "", T},
    {"+a = '5'", "a=5", T},
    {"-(-2147483648) = -2147483648", "", F}, /* Long 2147483648 vs Long -2147483648 */
    /* lexical details */
    {"a is not null and b In ('x')", "a=1|b=x", T},
    {"a = '1' /* c */ AND -- line\n b = '2'", "a=1|b=2", T},
    {"a = '1' /* ** */", "a=1", T},
    {"a -- c\r = '1'", "a=1", T},
    {"a = 1 b", "a=1", T},           /* trailing tokens are ignored, as by Java's parser */
    {"a = 0L", "a=0", T},            /* "0" then identifier L: trailing */
    {"a = 1 -- c", "a=1", T},        /* no line end: "- -" trailing */
    {"a_b$1 = '1'", "a_b$1=1", T},
    {"\t\n\ra\f=\t'1'", "a=1", T},
};

static tern_str_t props_of(const char *spec, tern_buf_t *b) {
  char tmp[256];
  const char *p = spec;
  tern_buf_reset(b);
  while (*p) {
    const char *end = strchr(p, '|'), *eq;
    size_t n = end ? (size_t)(end - p) : strlen(p);
    memcpy(tmp, p, n);
    tmp[n] = 0;
    eq = strchr(tmp, '=');
    if (eq) tern_props_append(b, (tern_str_t){tmp, (size_t)(eq - tmp)}, tern_str_from_cstr(eq + 1));
    p += n + (end ? 1 : 0);
  }
  return (tern_str_t){(const char *)b->p, b->len};
}

static int props_lookup(void *ctx, tern_str_t name, tern_str_t *val) {
  return tern_props_get_str(*(const tern_str_t *)ctx, name, val);
}

TEST(table) {
  tern_buf_t b;
  tern_arena_t a;
  tern_buf_init(&b, 0);
  tern_arena_init(&a, 0, NULL, 0);
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    tern_sql92_expr_t *e;
    tern_err_t err = {0};
    int rc = tern_sql92_compile(tern_str_from_cstr(rows[i].expr), &a, NULL, &e, &err);
    tern_str_t props = props_of(rows[i].props, &b);
    if (rc) {
      tern_buf_free(&b);
      tern_arena_free(&a);
      TERN__FAIL("row %zu \"%s\": compile failed: %s at %zu", i, rows[i].expr, err.reason, err.pos);
    }
    int got = tern_sql92_eval3(e, props_lookup, &props);
    if (got != rows[i].want) {
      tern_buf_free(&b);
      tern_arena_free(&a);
      TERN__FAIL("row %zu \"%s\" on {%s}: got %d, want %d", i, rows[i].expr, rows[i].props, got, rows[i].want);
    }
    if (tern_sql92_eval(e, props) != (rows[i].want == T)) {
      tern_buf_free(&b);
      tern_arena_free(&a);
      TERN__FAIL("row %zu: tern_sql92_eval disagrees with eval3", i);
    }
    tern_arena_reset(&a);
  }
  tern_buf_free(&b);
  tern_arena_free(&a);
}

typedef struct bad {
  const char *expr;
  int code;
  size_t pos;
} bad_t;

static const bad_t bads[] = {
    {"", TERN_EPROTO, 0},
    {"   ", TERN_EPROTO, 3},
    {"a >", TERN_EPROTO, 3},
    {"a = NULL", TERN_EPROTO, 4},
    {"NULL = a", TERN_EPROTO, 0},
    {"TRUE = 'x'", TERN_EPROTO, 0},
    {"a > 'x'", TERN_EPROTO, 4},
    {"'x' > a", TERN_EPROTO, 0},
    {"a > TRUE", TERN_EPROTO, 4},
    {"NOT a > 1", TERN_EPROTO, 0},       /* NOT binds tighter: (NOT a) > 1 */
    {"(a = 1) < 5", TERN_EPROTO, 0},
    {"a BETWEEN 10 AND 0", TERN_EPROTO, 10},
    {"a BETWEEN 1 AND", TERN_EPROTO, 15},
    {"a BETWEEN 1 OR 2", TERN_EPROTO, 12},
    {"a BETWEEN 'a' AND 'b'", TERN_EPROTO, 10},
    {"5 IN ('a')", TERN_EPROTO, 0},
    {"a IN ()", TERN_EPROTO, 6},
    {"a IN ('x' 'y')", TERN_EPROTO, 10},
    {"a IN ('x', 5)", TERN_EPROTO, 11},
    {"a IN 'x'", TERN_EPROTO, 5},
    {"a CONTAINS x", TERN_EPROTO, 11},
    {"a CONTAINS 123", TERN_EPROTO, 11},
    {"'axb' contains ", TERN_EPROTO, 15},
    {"a != 1", TERN_EPROTO, 2},          /* '!' starts no token */
    {"a = 'open", TERN_EPROTO, 4},
    {"a = 1 /* x", TERN_EPROTO, 6},      /* the lookahead token is a lexical error */
    {"a = 1 #", TERN_EPROTO, 6},
    {"5", TERN_EPROTO, 0},
    {"'x'", TERN_EPROTO, 0},
    {"-a", TERN_EPROTO, 0},
    {"a AND 5", TERN_EPROTO, 6},
    {"NOT 5", TERN_EPROTO, 4},
    {"a = 99999999999999999999", TERN_EPROTO, 4},
    {"a = 9223372036854775808", TERN_EPROTO, 4},
    {"a > 0.0", TERN_EPROTO, 4},         /* below Double.MIN_VALUE */
    {"a > 1e-400", TERN_EPROTO, 4},
    {"a > 1e400", TERN_EPROTO, 4},
    {"a IS 5", TERN_EPROTO, 5},
    {"a IS NOT 5", TERN_EPROTO, 9},
    {"a = 1 AND", TERN_EPROTO, 9},
    {"(a = 1", TERN_EPROTO, 6},
    {"a and between 2 and 10", TERN_EPROTO, 6},
    {"a = \"x\"", TERN_EPROTO, 4},
    {"a = 'x\0'", TERN_EPROTO, 4},       /* (the NUL ends the literal early) */
};

TEST(parse_errors) {
  tern_arena_t a;
  tern_arena_init(&a, 0, NULL, 0);
  for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++) {
    tern_sql92_expr_t *e = (tern_sql92_expr_t *)&a;
    tern_err_t err = {0};
    tern_str_t text = tern_str_from_cstr(bads[i].expr);
    if (i == sizeof bads / sizeof bads[0] - 1) text.n = 8; /* include the NUL */
    int rc = tern_sql92_compile(text, &a, NULL, &e, &err);
    tern_arena_reset(&a);
    if (rc != bads[i].code || err.pos != bads[i].pos || e != NULL || !err.reason) {
      tern_arena_free(&a);
      TERN__FAIL("bad %zu \"%s\": rc %d pos %zu (%s), want rc %d pos %zu", i, bads[i].expr, rc, err.pos,
                 err.reason ? err.reason : "-", bads[i].code, bads[i].pos);
    }
  }
  tern_arena_free(&a);
}

TEST(error_message) {
  tern_arena_t a;
  tern_sql92_expr_t *e;
  tern_err_t err = {0};
  char msg[256];
  const char *text = "a = 1 AND\n  b >";
  tern_arena_init(&a, 0, NULL, 0);
  ASSERT_EQ(tern_sql92_compile(tern_str_from_cstr(text), &a, NULL, &e, &err), TERN_EPROTO);
  tern_sql92_error_message(tern_str_from_cstr(text), &err, msg, sizeof msg);
  ASSERT(strstr(msg, "Invalid MessageSelector. ") == msg);
  ASSERT(strstr(msg, "<EOF> at line 2, column 6") != NULL);
  text = "a = 1 AND b != 2";
  ASSERT_EQ(tern_sql92_compile(tern_str_from_cstr(text), &a, NULL, &e, &err), TERN_EPROTO);
  tern_sql92_error_message(tern_str_from_cstr(text), &err, msg, sizeof msg);
  ASSERT(strstr(msg, "\"!\" at line 1, column 13") != NULL);
  ASSERT_STREQ(err.field, "invalid character");
  /* truncation keeps a terminated string */
  ASSERT_EQ(tern_sql92_error_message(tern_str_from_cstr(text), &err, msg, 10), 9);
  ASSERT_EQ(strlen(msg), 9);
  tern_arena_free(&a);
}

static char *repeat(const char *head, const char *unit, size_t n, const char *tail) {
  size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail);
  char *s = malloc(hl + ul * n + tl + 1), *p = s;
  memcpy(p, head, hl), p += hl;
  for (size_t i = 0; i < n; i++) memcpy(p, unit, ul), p += ul;
  memcpy(p, tail, tl + 1);
  return s;
}

static int compile_str(const char *s, const tern_sql92_limits_t *lim, tern_arena_t *a, tern_sql92_expr_t **e,
                       tern_err_t *err) {
  return tern_sql92_compile(tern_str_from_cstr(s), a, lim, e, err);
}

TEST(limits) {
  tern_arena_t a;
  tern_sql92_expr_t *e;
  tern_err_t err = {0};
  tern_buf_t b;
  tern_str_t props;
  char *s, *t;
  tern_arena_init(&a, 0, NULL, 0);
  tern_buf_init(&b, 0);

  /* nesting: parentheses and prefixes */
  s = repeat("", "(", 10, "a = '1'");
  t = repeat(s, ")", 10, "");
  ASSERT_OK(compile_str(t, NULL, &a, &e, &err));
  free(s), free(t);
  s = repeat("", "(", 200, "a = '1'");
  t = repeat(s, ")", 200, "");
  ASSERT_EQ(compile_str(t, NULL, &a, &e, &err), TERN_EDEPTH);
  free(s), free(t);
  s = repeat("", "NOT ", 100, "a");
  ASSERT_EQ(compile_str(s, NULL, &a, &e, &err), TERN_EDEPTH);
  free(s);
  s = repeat("", "- ", 5000, "a > 1");
  ASSERT_EQ(compile_str(s, NULL, &a, &e, &err), TERN_EDEPTH);
  free(s);
  /* left-deep chains that are not AND/OR still count */
  s = repeat("a IS NULL", " = TRUE", 100, "");
  ASSERT_EQ(compile_str(s, NULL, &a, &e, &err), TERN_EDEPTH);
  free(s);
  s = repeat("a IS NULL", " = TRUE", 20, "");
  ASSERT_OK(compile_str(s, NULL, &a, &e, &err));
  free(s);
  /* AND/OR chains are flattened: 1000 terms compile and evaluate */
  {
    size_t cap = 1000 * 24, n = 0;
    char *big = malloc(cap);
    for (int i = 0; i < 1000; i++) n += (size_t)snprintf(big + n, cap - n, "%sa = '%d'", i ? " OR " : "", i);
    ASSERT_OK(compile_str(big, NULL, &a, &e, &err));
    props = props_of("a=999", &b);
    ASSERT(tern_sql92_eval(e, props));
    props = props_of("a=1000", &b);
    ASSERT(!tern_sql92_eval(e, props));
    free(big);
  }
  /* text length */
  s = repeat("a IN (", "'x',", TERN_SQL92_MAX_TEXT_BYTES / 4, "'y')");
  ASSERT_EQ(compile_str(s, NULL, &a, &e, &err), TERN_ETOOBIG);
  free(s);
  /* node count (IN entries count) */
  {
    tern_sql92_limits_t lim = {0, 0, 100};
    s = repeat("a IN (", "'x',", 200, "'y')");
    ASSERT_EQ(compile_str(s, &lim, &a, &e, &err), TERN_ETOOBIG);
    ASSERT_OK(compile_str(s, NULL, &a, &e, &err));
    props = props_of("a=y", &b);
    ASSERT(tern_sql92_eval(e, props));
    free(s);
    s = repeat("a = '1'", " AND a = '1'", 60, "");
    ASSERT_EQ(compile_str(s, &lim, &a, &e, &err), TERN_ETOOBIG);
    free(s);
  }
  tern_arena_free(&a);
  /* a tiny arena: ENOMEM, never a crash */
  for (size_t lim = 64; lim < 4096; lim += 64) {
    tern_arena_t small;
    int rc;
    tern_arena_init(&small, lim, NULL, 0);
    rc = compile_str("(a > 10 AND a < 100) OR (b IS NOT NULL AND b = TRUE) OR c IN ('1','2','3')", NULL, &small, &e,
                     &err);
    tern_arena_free(&small);
    ASSERT(rc == 0 || rc == TERN_ENOMEM);
  }
  tern_buf_free(&b);
}

TEST(keywords_and_identifiers) {
  tern_arena_t a;
  tern_sql92_expr_t *e;
  tern_err_t err = {0};
  tern_buf_t b;
  tern_arena_init(&a, 0, NULL, 0);
  tern_buf_init(&b, 0);
  /* identifiers that start with a keyword are identifiers */
  ASSERT_OK(compile_str("notx = '1' AND andy = '2' AND isnull = '3' AND inx IS NULL", NULL, &a, &e, &err));
  ASSERT(tern_sql92_eval(e, props_of("notx=1|andy=2|isnull=3", &b)));
  /* keywords in any case */
  ASSERT_OK(compile_str("a bEtWeEn 1 AnD 3 oR b nOt In ('x') AND c iS nOt NuLl AND TrUe", NULL, &a, &e, &err));
  ASSERT(tern_sql92_eval(e, props_of("a=2|c=1", &b)));
  /* trailing tokens: where they start */
  ASSERT_OK(compile_str("a = '1'  b c", NULL, &a, &e, &err));
  ASSERT_EQ(tern_sql92_unparsed(e), 9);
  ASSERT_OK(compile_str("a = '1' /* c */ ", NULL, &a, &e, &err));
  ASSERT_EQ(tern_sql92_unparsed(e), 16);
  /* a keyword is not a property */
  ASSERT_EQ(compile_str("between = '1'", NULL, &a, &e, &err), TERN_EPROTO);
  /* the compiled expression does not point into the caller's text */
  {
    char text[] = "a = 'v'";
    ASSERT_OK(compile_str(text, NULL, &a, &e, &err));
    memset(text, 'z', sizeof text - 1);
    ASSERT(tern_sql92_eval(e, props_of("a=v", &b)));
  }
  tern_arena_free(&a);
  tern_buf_free(&b);
}
