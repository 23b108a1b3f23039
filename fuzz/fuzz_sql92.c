/* Fuzzes the SQL92 filter (broker/filter/sql92.c over gen/sql92_lex.re.c).
 * Input: expression text, a 0x00 byte, then a raw properties string. Checks:
 * tokens lie inside the text and advance; compile either succeeds or fails
 * with a reason and a position inside the text; a compiled expression
 * evaluates deterministically to one of the four outcomes, eval agrees with
 * eval3, and NOT (expr), when expr used the whole text and the wrapped form
 * compiles too, gives the negation under three-valued logic (unknown and
 * error stay as they are). */
#include <stdlib.h>

#include "broker/filter/sql92.h"
#include "gen/message.h"

static void check(bool ok) {
  if (!ok) abort();
}

static int lookup(void *ctx, tern_str_t name, tern_str_t *val) {
  return tern_props_get_str(*(const tern_str_t *)ctx, name, val);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static uint8_t block[1 << 16];
  const uint8_t *sep = memchr(data, 0, size);
  tern_str_t text = {(const char *)data, sep ? (size_t)(sep - data) : size};
  tern_str_t props = sep ? (tern_str_t){(const char *)sep + 1, size - text.n - 1} : TERN_STR_NULL;
  tern_arena_t a;
  tern_sql92_expr_t *e = NULL, *ne = NULL;
  tern_err_t err = {0};
  tern_sql92_tok_t t;
  char msg[300];
  size_t pos = 0;
  int rc, r3, n3;

  /* the lexer alone */
  for (int i = 0; i < 100000; i++) {
    int k = tern_sql92_lex(text, pos, &t);
    check(t.pos >= pos && t.pos <= text.n && t.len <= text.n - t.pos);
    if (k == TERN_SQL92_T_EOF || k == TERN_SQL92_T_ERROR) break;
    check(t.len > 0);
    pos = t.pos + t.len;
  }

  tern_arena_init(&a, 4u << 20, block, sizeof block);
  rc = tern_sql92_compile(text, &a, NULL, &e, &err);
  if (rc) {
    check(e == NULL && err.code == rc && err.reason != NULL);
    check(rc == TERN_ETOOBIG || err.pos <= text.n);
    tern_sql92_error_message(text, &err, msg, sizeof msg);
    tern_arena_free(&a);
    return 0;
  }
  check(e != NULL);
  r3 = tern_sql92_eval3(e, lookup, &props);
  check(r3 >= TERN_SQL92_FALSE && r3 <= TERN_SQL92_ERROR);
  check(tern_sql92_eval3(e, lookup, &props) == r3);
  check(tern_sql92_eval(e, props) == (r3 == TERN_SQL92_TRUE));

  check(tern_sql92_unparsed(e) <= text.n);
  /* (only when nothing trails: "a = 1 ) OR TRUE" compiles as "a = 1") */
  if (tern_sql92_unparsed(e) == text.n && text.n + 8 <= TERN_SQL92_MAX_TEXT_BYTES) {
    char *w = malloc(text.n + 8);
    memcpy(w, "NOT (", 5);
    memcpy(w + 5, text.p, text.n);
    w[text.n + 5] = '\n'; /* ends a trailing line comment */
    w[text.n + 6] = ')';
    if (tern_sql92_compile((tern_str_t){w, text.n + 7}, &a, NULL, &ne, &err) == 0) {
      n3 = tern_sql92_eval3(ne, lookup, &props);
      if (r3 == TERN_SQL92_TRUE) check(n3 == TERN_SQL92_FALSE);
      else if (r3 == TERN_SQL92_FALSE) check(n3 == TERN_SQL92_TRUE);
      else check(n3 == r3);
    }
    free(w);
  }
  tern_arena_free(&a);
  return 0;
}
