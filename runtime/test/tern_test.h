/* A tiny test harness: TEST(name) { ... } registers a case; ASSERT_* stop the
 * case on failure with file:line and the values. Link with tern_test_main.c;
 * the binary runs every case (or those named on the command line) and prints
 * "N passed, N failed". Each test binary is one ctest entry. */
#ifndef TERN_TEST_H
#define TERN_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

typedef void (*tern_test_fn)(void);
void tern_test_register(const char *name, tern_test_fn fn);
/* Set by the ASSERT macros; the runner reports and moves on. */
extern int tern_test_failed;
/* Directory of the source tree (for spec/vectors etc.), from TERN_SOURCE_DIR. */
const char *tern_test_srcdir(void);

#define TEST(name)                                                           \
  static void test_##name(void);                                             \
  __attribute__((constructor)) static void test_reg_##name(void) {           \
    tern_test_register(#name, test_##name);                                  \
  }                                                                          \
  static void test_##name(void)

#define TERN__FAIL(...)                                                      \
  do {                                                                       \
    fprintf(stderr, "  %s:%d: ", __FILE__, __LINE__);                        \
    fprintf(stderr, __VA_ARGS__);                                            \
    fputc('\n', stderr);                                                     \
    tern_test_failed = 1;                                                    \
    return;                                                                  \
  } while (0)

#define ASSERT(c)                                                            \
  do {                                                                       \
    if (!(c)) TERN__FAIL("assertion failed: %s", #c);                        \
  } while (0)
#define ASSERT_EQ(a, b)                                                      \
  do {                                                                       \
    long long _a = (long long)(a), _b = (long long)(b);                      \
    if (_a != _b) TERN__FAIL("%s == %s: %lld != %lld", #a, #b, _a, _b);      \
  } while (0)
#define ASSERT_NE(a, b)                                                      \
  do {                                                                       \
    long long _a = (long long)(a), _b = (long long)(b);                      \
    if (_a == _b) TERN__FAIL("%s != %s: both %lld", #a, #b, _a);             \
  } while (0)
#define ASSERT_OK(e)                                                         \
  do {                                                                       \
    long long _r = (long long)(e);                                           \
    if (_r != 0) TERN__FAIL("%s returned %lld", #e, _r);                     \
  } while (0)
#define ASSERT_STREQ(a, b)                                                   \
  do {                                                                       \
    const char *_a = (a), *_b = (b);                                         \
    if (!_a || !_b || strcmp(_a, _b) != 0)                                   \
      TERN__FAIL("%s == %s: \"%s\" != \"%s\"", #a, #b, _a ? _a : "(null)",   \
                 _b ? _b : "(null)");                                        \
  } while (0)
/* Compares a tern_str_t with a C string. */
#define ASSERT_STR(s, cstr)                                                  \
  do {                                                                       \
    tern_str_t _s = (s);                                                     \
    const char *_c = (cstr);                                                 \
    if (_s.n != strlen(_c) || (_s.n && memcmp(_s.p, _c, _s.n) != 0))         \
      TERN__FAIL("%s == \"%s\": got \"%.*s\"", #s, _c, (int)_s.n,            \
                 _s.p ? _s.p : "");                                          \
  } while (0)
#define ASSERT_MEM_EQ(a, b, n)                                               \
  do {                                                                       \
    const unsigned char *_a = (const unsigned char *)(a),                    \
                        *_b = (const unsigned char *)(b);                    \
    size_t _n = (n), _i;                                                     \
    for (_i = 0; _i < _n && _a[_i] == _b[_i]; _i++) {                        \
    }                                                                        \
    if (_i < _n)                                                             \
      TERN__FAIL("%s and %s differ at byte %zu of %zu: %02x != %02x", #a, #b, \
                 _i, _n, _a[_i], _b[_i]);                                    \
  } while (0)

#endif
