/* Growable byte buffer; see buf.h for the sticky-error contract. */
#include "runtime/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void tern_buf_init(tern_buf_t *b, size_t max) {
  b->p = NULL;
  b->len = b->cap = 0;
  b->max = max ? max : TERN_BUF_DEFAULT_MAX;
  b->err = 0;
}

void tern_buf_free(tern_buf_t *b) {
  free(b->p);
  b->p = NULL;
  b->len = b->cap = 0;
}

int tern_buf_reserve(tern_buf_t *b, size_t extra) {
  size_t need, ncap;
  uint8_t *np;
  if (b->err) return b->err;
  if (extra > b->max || b->len > b->max - extra) return b->err = TERN_ETOOBIG;
  need = b->len + extra;
  if (need <= b->cap) return 0;
  ncap = b->cap ? b->cap : 256;
  while (ncap < need) ncap = ncap > b->max / 2 ? b->max : ncap * 2;
  np = realloc(b->p, ncap);
  if (!np) return b->err = TERN_ENOMEM;
  b->p = np;
  b->cap = ncap;
  return 0;
}

void tern_buf_consume(tern_buf_t *b, size_t n) {
  if (n >= b->len) {
    b->len = 0;
    return;
  }
  memmove(b->p, b->p + n, b->len - n);
  b->len -= n;
}

int tern_buf_append(tern_buf_t *b, const void *p, size_t n) {
  if (tern_buf_reserve(b, n)) return b->err;
  if (n) memcpy(b->p + b->len, p, n);
  b->len += n;
  return 0;
}

int tern_buf_put_u8(tern_buf_t *b, uint8_t v) { return tern_buf_append(b, &v, 1); }

int tern_buf_put_be16(tern_buf_t *b, uint16_t v) {
  uint8_t t[2];
  tern_store_be16(t, v);
  return tern_buf_append(b, t, 2);
}

int tern_buf_put_be32(tern_buf_t *b, uint32_t v) {
  uint8_t t[4];
  tern_store_be32(t, v);
  return tern_buf_append(b, t, 4);
}

int tern_buf_put_be64(tern_buf_t *b, uint64_t v) {
  uint8_t t[8];
  tern_store_be64(t, v);
  return tern_buf_append(b, t, 8);
}

int tern_buf_put_i64_text(tern_buf_t *b, int64_t v) {
  char t[24];
  size_t n = tern_i64_to_str(v, t);
  return tern_buf_append(b, t, n);
}

int tern_buf_printf(tern_buf_t *b, const char *fmt, ...) {
  va_list ap;
  int n;
  char small[256];
  va_start(ap, fmt);
  n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) return b->err = b->err ? b->err : TERN_EINVAL;
  if ((size_t)n < sizeof small) return tern_buf_append(b, small, (size_t)n);
  if (tern_buf_reserve(b, (size_t)n + 1)) return b->err;
  va_start(ap, fmt);
  vsnprintf((char *)b->p + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
  return 0;
}
