/* Error names and the number-text conversions every codec shares. */
#include "runtime/base.h"

#include <limits.h>

const char *tern_strerror(int err) {
  switch (err) {
#define TERN__ERR_TEXT(name, val, text) case (val): return (text);
    TERN_ERRNO_MAP(TERN__ERR_TEXT)
#undef TERN__ERR_TEXT
  }
  return "unknown error";
}

const char *tern_errname(int err) {
  switch (err) {
#define TERN__ERR_NAME(name, val, text) case (val): return #name;
    TERN_ERRNO_MAP(TERN__ERR_NAME)
#undef TERN__ERR_NAME
  }
  return "EUNKNOWN";
}

int tern_fail(tern_err_t *err, int code, const char *reason, const char *field, size_t pos) {
  if (err) {
    err->code = code;
    err->reason = reason;
    err->field = field;
    err->pos = pos;
  }
  return code;
}

int tern_str_to_i64(tern_str_t s, int64_t *out) {
  size_t i = 0;
  bool neg = false;
  uint64_t v = 0, lim;
  if (s.n == 0) return TERN_EPROTO;
  if (s.p[0] == '-' || s.p[0] == '+') {
    neg = s.p[0] == '-';
    i = 1;
    if (s.n == 1) return TERN_EPROTO;
  }
  lim = neg ? (uint64_t)INT64_MAX + 1u : (uint64_t)INT64_MAX;
  /* Up to 18 digits cannot overflow; only longer texts pay for checks. */
  for (size_t fast = i + 18 < s.n ? i + 18 : s.n; i < fast; i++) {
    unsigned d = (unsigned char)s.p[i] - '0';
    if (d > 9) return TERN_EPROTO;
    v = v * 10 + d;
  }
  for (; i < s.n; i++) {
    unsigned d = (unsigned char)s.p[i] - '0';
    if (d > 9) return TERN_EPROTO;
    if (__builtin_mul_overflow(v, 10u, &v) || __builtin_add_overflow(v, d, &v) || v > lim) return TERN_ERANGE;
  }
  if (neg) *out = v == (uint64_t)INT64_MAX + 1u ? INT64_MIN : -(int64_t)v;
  else *out = (int64_t)v;
  return TERN_OK;
}

int tern_str_to_i32(tern_str_t s, int32_t *out) {
  int64_t v;
  int rc = tern_str_to_i64(s, &v);
  if (rc) return rc;
  if (v < INT32_MIN || v > INT32_MAX) return TERN_ERANGE;
  *out = (int32_t)v;
  return TERN_OK;
}

bool tern_str_to_bool(tern_str_t s) {
  static const char t[] = "true";
  if (s.n != 4) return false;
  for (size_t i = 0; i < 4; i++)
    if ((s.p[i] | 0x20) != t[i]) return false;
  return true;
}

size_t tern_i64_to_str(int64_t v, char *dst) {
  char tmp[24];
  size_t n = 0, len = 0;
  uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
  do {
    tmp[n++] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (v < 0) dst[len++] = '-';
  while (n) dst[len++] = tmp[--n];
  dst[len] = '\0';
  return len;
}
