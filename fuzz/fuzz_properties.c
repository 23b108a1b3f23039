/* Fuzzes the properties lexer: the pairs it yields must be exactly what Java's
 * string2messageProperties algorithm (transcribed below over bytes) yields, all
 * slices must lie inside the input, lookups must return the last pair of a
 * key, and re-encoding the pairs must parse back to the same pairs. */
#include <stdlib.h>

#include "gen/message.h"

static void check(bool ok) {
  if (!ok) abort();
}

/* The reference algorithm: split on 0x02, keep segments whose first 0x01 has
 * bytes on both sides. Returns the number of pairs written (at most cap). */
static size_t java_pairs(const uint8_t *s, size_t n, tern_prop_t *out, size_t cap) {
  size_t k = 0, index = 0;
  while (index < n) {
    const uint8_t *sep = memchr(s + index, 0x02, n - index);
    size_t next = sep ? (size_t)(sep - s) : n;
    const uint8_t *kv = memchr(s + index, 0x01, next - index);
    if (kv && (size_t)(kv - s) > index && (size_t)(kv - s) < next - 1 && k < cap) {
      size_t at = (size_t)(kv - s);
      out[k].key = (tern_str_t){(const char *)s + index, at - index};
      out[k].val = (tern_str_t){(const char *)s + at + 1, next - at - 1};
      k++;
    }
    index = next + 1;
  }
  return k;
}

#define CAP 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static tern_prop_t got[CAP], want[CAP], again[CAP];
  tern_str_t s = {(const char *)data, size};
  uint32_t n = 0, cnt = 0;
  int rc = tern_props_parse(s, got, CAP, &n, NULL);
  if (rc == TERN_ETOOBIG) return 0; /* more pairs than any test array holds */
  check(rc == 0);
  check(tern_props_parse(s, NULL, 0, &cnt, NULL) == 0 && cnt == n);
  size_t wn = java_pairs(data, size, want, CAP);
  check(wn == n);
  for (uint32_t i = 0; i < n; i++) {
    check(tern_str_eq(got[i].key, want[i].key) && got[i].key.p == want[i].key.p);
    check(tern_str_eq(got[i].val, want[i].val) && got[i].val.p == want[i].val.p);
    /* The last pair with this key is what a lookup returns. */
    tern_str_t v;
    check(tern_props_get_str(s, got[i].key, &v) == 0);
    uint32_t last = i;
    for (uint32_t j = i + 1; j < n; j++)
      if (tern_str_eq(got[j].key, got[i].key)) last = j;
    check(v.p == got[last].val.p && v.n == got[last].val.n);
  }
  /* Re-encode every pair and parse again: the same pairs come back. */
  tern_buf_t b;
  tern_buf_init(&b, 0);
  for (uint32_t i = 0; i < n; i++) check(tern_props_append(&b, got[i].key, got[i].val) == 0);
  uint32_t n2 = 0;
  check(tern_props_parse((tern_str_t){(const char *)b.p, b.len}, again, CAP, &n2, NULL) == 0 && n2 == n);
  for (uint32_t i = 0; i < n; i++) check(tern_str_eq(again[i].key, got[i].key) && tern_str_eq(again[i].val, got[i].val));
  tern_buf_free(&b);
  return 0;
}
