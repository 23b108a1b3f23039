/* Base vocabulary shared by every Tern module: byte slices, error codes and the
 * error record that decoders fill in. Nothing here allocates. Generated code in
 * gen/ and every hand-written module build on these types. */
#ifndef TERN_RUNTIME_BASE_H
#define TERN_RUNTIME_BASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Error codes: functions return 0 (TERN_OK) or one of these negatives. The
 * numbers are append-only; tern_strerror() names them for logs. */
#define TERN_ERRNO_MAP(X)                                             \
  X(OK, 0, "success")                                                 \
  X(EAGAIN, -1, "need more input")                                    \
  X(EPROTO, -2, "malformed input")                                    \
  X(ETOOBIG, -3, "over a configured limit")                           \
  X(ENOMEM, -4, "out of memory")                                      \
  X(EMISSING, -5, "required field missing")                           \
  X(ERANGE, -6, "number out of range")                                \
  X(EDUP, -7, "duplicate key")                                        \
  X(EIO, -8, "input/output error")                                    \
  X(ENOTFOUND, -9, "not found")                                       \
  X(EINVAL, -10, "invalid argument")                                  \
  X(ECLOSED, -11, "connection closed")                                \
  X(ETIMEDOUT, -12, "timed out")                                      \
  X(ECORRUPT, -13, "corrupt data")                                    \
  X(EFULL, -14, "no space left")                                      \
  X(EEXIST, -15, "already exists")                                    \
  X(EDEPTH, -16, "nesting too deep")                                  \
  X(EUTF8, -17, "invalid UTF-8")                                      \
  X(EBUSY, -18, "busy")

enum {
#define TERN__ERR_ENUM(name, val, text) TERN_##name = (val),
  TERN_ERRNO_MAP(TERN__ERR_ENUM)
#undef TERN__ERR_ENUM
};

/* Static description of an error code ("unknown error" for foreign values). */
const char *tern_strerror(int err);
/* Symbolic name of an error code, e.g. "EPROTO". */
const char *tern_errname(int err);

/* A decoder's account of why it failed: the code it returned, a static reason
 * sentence, the byte position in its input, and the spec field (static, may be
 * NULL). Decoders never allocate for error reporting. */
typedef struct tern_err {
  int code;
  const char *reason;
  const char *field;
  size_t pos;
} tern_err_t;

/* Sets *err (when err is non-NULL) and returns code, so call sites read
 * `return tern_fail(err, TERN_EPROTO, "bad magic", NULL, off);`. */
int tern_fail(tern_err_t *err, int code, const char *reason, const char *field, size_t pos);

/* A byte slice that does not own its bytes and is not NUL-terminated. Decoded
 * strings point into the input buffer (or a decoder's arena) and live as long
 * as that storage. p may be NULL only when n == 0. */
typedef struct tern_str {
  const char *p;
  size_t n;
} tern_str_t;

#define TERN_STR(lit) ((tern_str_t){(lit), sizeof(lit) - 1})
#define TERN_STR_NULL ((tern_str_t){NULL, 0})
#define TERN_STR_FMT "%.*s"
#define TERN_STR_ARG(s) (int)(s).n, (s).p

static inline tern_str_t tern_str_from_cstr(const char *s) {
  tern_str_t r = {s, s ? strlen(s) : 0};
  return r;
}
static inline bool tern_str_eq(tern_str_t a, tern_str_t b) {
  return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}
static inline bool tern_str_eq_cstr(tern_str_t a, const char *b) {
  return tern_str_eq(a, tern_str_from_cstr(b));
}

/* Number text as Java writes and reads it (Long.parseLong / Integer.parseInt):
 * optional sign, decimal digits only, no spaces; out-of-range is TERN_ERANGE,
 * anything else malformed is TERN_EPROTO. */
int tern_str_to_i64(tern_str_t s, int64_t *out);
int tern_str_to_i32(tern_str_t s, int32_t *out);
/* Java Boolean.parseBoolean: true only for a case-insensitive "true". */
bool tern_str_to_bool(tern_str_t s);
/* Writes the decimal text of v into dst (at least 21 bytes); returns its length. */
size_t tern_i64_to_str(int64_t v, char *dst);

/* Big-endian loads and stores: the wire and the store are big-endian. */
static inline uint16_t tern_load_be16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static inline uint32_t tern_load_be32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline uint64_t tern_load_be64(const uint8_t *p) {
  return ((uint64_t)tern_load_be32(p) << 32) | tern_load_be32(p + 4);
}
static inline void tern_store_be16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void tern_store_be32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
static inline void tern_store_be64(uint8_t *p, uint64_t v) {
  tern_store_be32(p, (uint32_t)(v >> 32));
  tern_store_be32(p + 4, (uint32_t)v);
}

#define TERN_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define TERN_UNUSED(x) ((void)(x))

#endif
