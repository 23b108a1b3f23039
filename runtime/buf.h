/* A growable byte buffer with a hard size limit and a sticky error, used by
 * every encoder: appends after a failure are no-ops, so an encoder appends all
 * its pieces and checks buf->err once at the end. */
#ifndef TERN_RUNTIME_BUF_H
#define TERN_RUNTIME_BUF_H

#include "runtime/base.h"

typedef struct tern_buf {
  uint8_t *p;
  size_t len;
  size_t cap;
  size_t max; /* growth beyond this many bytes fails with TERN_ETOOBIG */
  int err;    /* first failure, sticky; 0 while healthy */
} tern_buf_t;

#define TERN_BUF_DEFAULT_MAX ((size_t)64 << 20)

void tern_buf_init(tern_buf_t *b, size_t max); /* max 0 means TERN_BUF_DEFAULT_MAX */
void tern_buf_free(tern_buf_t *b);
static inline void tern_buf_reset(tern_buf_t *b) { b->len = 0; b->err = 0; }
/* Ensures room for `extra` more bytes; returns 0 or the (sticky) error. */
int tern_buf_reserve(tern_buf_t *b, size_t extra);
/* Drops the first n bytes (n <= len), keeping the rest. */
void tern_buf_consume(tern_buf_t *b, size_t n);

int tern_buf_append(tern_buf_t *b, const void *p, size_t n);
static inline int tern_buf_append_str(tern_buf_t *b, tern_str_t s) { return tern_buf_append(b, s.p, s.n); }
static inline int tern_buf_append_cstr(tern_buf_t *b, const char *s) { return tern_buf_append(b, s, strlen(s)); }
int tern_buf_put_u8(tern_buf_t *b, uint8_t v);
int tern_buf_put_be16(tern_buf_t *b, uint16_t v);
int tern_buf_put_be32(tern_buf_t *b, uint32_t v);
int tern_buf_put_be64(tern_buf_t *b, uint64_t v);
int tern_buf_put_i64_text(tern_buf_t *b, int64_t v); /* decimal text */
int tern_buf_printf(tern_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
