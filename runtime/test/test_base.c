/* Number text, buffers and arenas: the pieces every codec leans on. */
#include "runtime/arena.h"
#include "runtime/buf.h"
#include "tern_test.h"

TEST(i64_parse_matches_java) {
  int64_t v;
  ASSERT_OK(tern_str_to_i64(TERN_STR("9223372036854775807"), &v));
  ASSERT(v == INT64_MAX);
  ASSERT_OK(tern_str_to_i64(TERN_STR("-9223372036854775808"), &v));
  ASSERT(v == INT64_MIN);
  ASSERT_EQ(tern_str_to_i64(TERN_STR("9223372036854775808"), &v), TERN_ERANGE);
  ASSERT_EQ(tern_str_to_i64(TERN_STR(""), &v), TERN_EPROTO);
  ASSERT_EQ(tern_str_to_i64(TERN_STR("-"), &v), TERN_EPROTO);
  ASSERT_EQ(tern_str_to_i64(TERN_STR("1 "), &v), TERN_EPROTO);
  ASSERT_EQ(tern_str_to_i64(TERN_STR("0x10"), &v), TERN_EPROTO);
}

TEST(i32_range) {
  int32_t v;
  ASSERT_OK(tern_str_to_i32(TERN_STR("-2147483648"), &v));
  ASSERT_EQ(v, INT32_MIN);
  ASSERT_EQ(tern_str_to_i32(TERN_STR("2147483648"), &v), TERN_ERANGE);
}

TEST(bool_is_java_parse_boolean) {
  ASSERT(tern_str_to_bool(TERN_STR("TrUe")));
  ASSERT(!tern_str_to_bool(TERN_STR("1")));
  ASSERT(!tern_str_to_bool(TERN_STR("yes")));
}

TEST(i64_to_str_extremes) {
  char t[24];
  ASSERT_EQ(tern_i64_to_str(INT64_MIN, t), 20);
  ASSERT_STREQ(t, "-9223372036854775808");
  ASSERT_EQ(tern_i64_to_str(0, t), 1);
  ASSERT_STREQ(t, "0");
}

TEST(buf_limit_is_sticky) {
  tern_buf_t b;
  tern_buf_init(&b, 8);
  ASSERT_OK(tern_buf_put_be32(&b, 0x01020304));
  ASSERT_OK(tern_buf_put_be32(&b, 0x05060708));
  ASSERT_EQ(tern_buf_put_u8(&b, 9), TERN_ETOOBIG);
  ASSERT_EQ(tern_buf_put_u8(&b, 9), TERN_ETOOBIG);
  ASSERT_EQ(b.len, 8);
  ASSERT_EQ(tern_load_be32(b.p + 4), 0x05060708);
  tern_buf_consume(&b, 6);
  ASSERT_EQ(b.len, 2);
  ASSERT_EQ(b.p[0], 7);
  tern_buf_free(&b);
}

TEST(arena_limit_and_inline_block) {
  uint8_t block[64];
  tern_arena_t a;
  tern_arena_init(&a, 10000, block, sizeof block);
  void *p = tern_arena_alloc(&a, 16);
  ASSERT(p != NULL);
  ASSERT((uint8_t *)p >= block && (uint8_t *)p < block + sizeof block);
  ASSERT(((uintptr_t)p & 7) == 0);
  ASSERT(tern_arena_alloc(&a, 5000) != NULL);
  ASSERT(tern_arena_alloc(&a, 6000) == NULL);
  tern_str_t s = tern_arena_strdup(&a, TERN_STR("abc"));
  ASSERT_STR(s, "abc");
  tern_arena_free(&a);
}

TEST(i64_parse_long_texts) {
  int64_t v;
  ASSERT_OK(tern_str_to_i64(TERN_STR("000000000000000000000000000042"), &v));
  ASSERT_EQ(v, 42);
  ASSERT_EQ(tern_str_to_i64(TERN_STR("99999999999999999999"), &v), TERN_ERANGE);
  ASSERT_EQ(tern_str_to_i64(TERN_STR("18446744073709551626"), &v), TERN_ERANGE);
  ASSERT_OK(tern_str_to_i64(TERN_STR("-000000000000000000009223372036854775808"), &v));
  ASSERT(v == INT64_MIN);
  ASSERT_EQ(tern_str_to_i64(TERN_STR("1234567890123456789x"), &v), TERN_EPROTO);
}
