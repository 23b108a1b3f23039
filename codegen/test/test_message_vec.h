/* Reader for the message-model vector files (the .vec files in spec/vectors/message, format
 * described in spec/vectors/message/make_vectors.py): cases of "key = value"
 * lines under "[kind name]" headers. Test-only; aborts on unreadable files. */
#ifndef TERN_TEST_MESSAGE_VEC_H
#define TERN_TEST_MESSAGE_VEC_H

#include <stddef.h>
#include <stdint.h>

#define VEC_MAX_KV 64

typedef struct vec_case {
  char kind[32], name[64];
  unsigned n;
  struct {
    char key[32];
    char *val; /* raw text after "=", continuation lines joined with spaces */
  } kv[VEC_MAX_KV];
} vec_case_t;

/* Loads spec/vectors/message/<file>; returns the number of cases (>0). */
size_t vec_load(const char *file, vec_case_t **cases);
void vec_free(vec_case_t *cases, size_t n);
/* The i-th value of key (0-based among repeats), or NULL. */
const char *vec_get(const vec_case_t *c, const char *key, unsigned i);
/* Token idx of a value: a bare word or a quoted string (escapes decoded).
 * Writes up to cap bytes, returns the length or -1 when there is no such token. */
long vec_tok(const char *val, unsigned idx, uint8_t *out, size_t cap);
/* Token idx as a signed decimal number (aborts when malformed). */
int64_t vec_int(const char *val, unsigned idx);
/* Every bare token of val read as hex digits, concatenated; returns the byte count. */
size_t vec_hex(const char *val, uint8_t *out, size_t cap);

#endif
