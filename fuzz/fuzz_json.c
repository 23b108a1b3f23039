/* Fuzzes the JSON tokenizer and every getter: accepted input must yield a
 * consistent token tree (spans inside the text, subtrees nested, counts
 * right), each getter must stay inside its token, and every string must
 * survive unescape -> fastjson escape -> tokenize -> unescape unchanged. */
#include <stdlib.h>

#include "gen/json.h"

static void check(bool ok) {
  if (!ok) abort();
}

/* Walks the value at *i, returning the index after it; checks the layout. */
static uint32_t walk(const tern_json_doc_t *d, uint32_t i, unsigned depth) {
  const tern_json_tok_t *t = &d->toks[i];
  uint32_t k = i + 1;
  check(depth <= TERN_JSON_DEFAULT_DEPTH);
  check((size_t)t->start + t->len <= d->len);
  check(t->next > i && t->next <= d->n);
  if (t->type == TERN_JSON_ARRAY) {
    for (uint32_t n = 0; n < t->size; n++) k = walk(d, k, depth + 1);
  } else if (t->type == TERN_JSON_OBJECT) {
    for (uint32_t n = 0; n < t->size; n++) {
      const tern_json_tok_t *key = &d->toks[k];
      check(key->type == TERN_JSON_STRING || (key->type == TERN_JSON_OBJECT && (key->flags & TERN_JSON_F_OBJECT_KEY)));
      k = walk(d, k, depth + 1);
      k = walk(d, k, depth + 1);
    }
  } else {
    check(t->size == 0);
  }
  check(k == t->next);
  return k;
}

static void roundtrip_string(const tern_json_doc_t *d, uint32_t i, tern_arena_t *a) {
  tern_str_t s, s2;
  tern_buf_t b;
  tern_json_tok_t toks[4];
  tern_json_doc_t d2;
  tern_err_t err;
  if (tern_json_get_str(d, i, a, &s)) return; /* arena full */
  tern_buf_init(&b, 0);
  tern_json_put_str(&b, s);
  check(b.err == 0);
  tern_json_doc_init(&d2, (tern_str_t){(const char *)b.p, b.len}, toks, 4, NULL);
  check(tern_json_parse(&d2, NULL, &err) == 0);
  check(d2.n == 1 && d2.toks[0].type == TERN_JSON_STRING);
  check(tern_json_get_str(&d2, 0, a, &s2) == 0 || a->used >= a->limit / 2);
  if (s2.p) check(tern_str_eq(s, s2));
  tern_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tern_json_tok_t toks[32];
  tern_json_doc_t d;
  tern_err_t err;
  tern_arena_t a;
  int64_t i64;
  int32_t i32;
  bool b;
  double f;
  int rc;
  tern_arena_init(&a, 1 << 20, NULL, 0);
  tern_json_doc_init(&d, (tern_str_t){(const char *)data, size}, toks, 32, &a);
  rc = tern_json_parse(&d, NULL, &err);
  if (rc == 0) {
    check(d.n > 0 && walk(&d, 0, 0) == d.n);
    for (uint32_t i = 0; i < d.n; i++) {
      const tern_json_tok_t *t = &d.toks[i];
      (void)tern_json_get_i64(&d, i, &i64);
      (void)tern_json_get_i32(&d, i, &i32);
      (void)tern_json_get_bool(&d, i, &b);
      (void)tern_json_get_double(&d, i, &f);
      if (t->type == TERN_JSON_STRING) roundtrip_string(&d, i, &a);
      if (t->type == TERN_JSON_OBJECT && t->size) {
        uint32_t v, k = TERN_JSON_FIRST(i);
        tern_str_t key;
        if (d.toks[k].type == TERN_JSON_STRING && tern_json_get_str(&d, k, &a, &key) == 0 && key.n < 64 &&
            !memchr(key.p, 0, key.n)) {
          char kz[64];
          memcpy(kz, key.p, key.n);
          kz[key.n] = '\0';
          check(tern_json_find(&d, i, kz, &v) == 0 && v > k && v < t->next);
        }
      }
    }
  } else {
    check(err.reason != NULL && err.pos <= size);
  }
  tern_arena_free(&a);
  return 0;
}
