/* Message ids, hashes and names: offset msgIds (msgid.vec), UNIQ_KEY generation
 * (uniq.vec, in UTC), Java String.hashCode over UTF-16 units incl. invalid
 * UTF-8 and the index key hash with its MIN_VALUE case (hashes.vec), and the
 * topic/group name rules of reference 6.8. */
#include <stdlib.h>
#include <time.h>
#include <zlib.h>

#include "gen/message.h"
#include "tern_test.h"
#include "test_message_vec.h"

static long tok(const vec_case_t *c, const char *key, unsigned idx, uint8_t *buf, size_t cap) {
  const char *v = vec_get(c, key, 0);
  return v ? vec_tok(v, idx, buf, cap) : -1;
}

TEST(msgid_vectors) {
  vec_case_t *cs;
  size_t n = vec_load("msgid.vec", &cs);
  int good = 0, bad = 0;
  for (size_t i = 0; i < n; i++) {
    const vec_case_t *c = &cs[i];
    uint8_t text[128];
    long tn = tok(c, "text", 0, text, sizeof text);
    tern_host_t h;
    int64_t off;
    tern_err_t err = {0};
    int rc = tern_msgid_decode((tern_str_t){(const char *)text, (size_t)tn}, &h, &off, &err);
    if (strcmp(c->kind, "bad_msgid") == 0) {
      bad++;
      if (rc != TERN_EPROTO || !err.reason) TERN__FAIL("bad msgid %s accepted", c->name);
      continue;
    }
    good++;
    if (rc != 0) TERN__FAIL("msgid %s: %s", c->name, err.reason);
    uint8_t ip[16];
    size_t ipn = vec_hex(vec_get(c, "ip", 0), ip, sizeof ip);
    ASSERT_EQ(h.ip_len, ipn);
    ASSERT_MEM_EQ(h.ip, ip, ipn);
    ASSERT_EQ(h.port, vec_int(vec_get(c, "port", 0), 0));
    ASSERT_EQ(off, vec_int(vec_get(c, "offset", 0), 0));
    /* Encoding gives uppercase hex whatever case was parsed. */
    char out[TERN_MSGID_HEX_V6 + 1];
    ASSERT_EQ(tern_msgid_encode(&h, off, out), (size_t)tn);
    for (long k = 0; k < tn; k++) {
      char want = (char)text[k];
      if (want >= 'a' && want <= 'f') want = (char)(want - 'a' + 'A');
      ASSERT_EQ(out[k], want);
    }
  }
  vec_free(cs, n);
  ASSERT(good >= 4 && bad >= 3);
  tern_host_t odd = {.ip_len = 5};
  char out[TERN_MSGID_HEX_V6 + 1];
  ASSERT_EQ(tern_msgid_encode(&odd, 0, out), 0);
}

TEST(uniq_key_vectors_in_utc) {
  setenv("TZ", "UTC0", 1);
  tzset();
  vec_case_t *cs;
  size_t n = vec_load("uniq.vec", &cs);
  for (size_t i = 0; i < n; i++) {
    const vec_case_t *c = &cs[i];
    uint8_t ip[16], rnd[4];
    size_t ipn = vec_hex(vec_get(c, "ip", 0), ip, sizeof ip);
    ASSERT_EQ(vec_hex(vec_get(c, "rnd", 0), rnd, sizeof rnd), 4);
    tern_uniq_gen_t g;
    ASSERT_OK(tern_uniq_gen_init(&g, ip, (uint8_t)ipn, (uint32_t)vec_int(vec_get(c, "pid", 0), 0), rnd));
    unsigned k = 0;
    for (; vec_get(c, "id", k); k++) {
      const char *want = vec_get(c, "id", k);
      char id[TERN_UNIQ_HEX_V6 + 1], exp[80];
      long en = vec_tok(want, 1, (uint8_t *)exp, sizeof exp - 1);
      exp[en] = '\0';
      ASSERT_EQ(tern_uniq_gen_next(&g, vec_int(want, 0), id), TERN_UNIQ_HEX_V4);
      ASSERT_STREQ(id, exp);
    }
    ASSERT(k >= 4);
  }
  vec_free(cs, n);
}

TEST(uniq_key_random_part_and_ipv6) {
  uint8_t ip6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
  tern_uniq_gen_t a, b;
  ASSERT_OK(tern_uniq_gen_init(&a, ip6, 16, 77, NULL));
  ASSERT_OK(tern_uniq_gen_init(&b, ip6, 16, 77, NULL));
  char x[TERN_UNIQ_HEX_V6 + 1], y[TERN_UNIQ_HEX_V6 + 1];
  ASSERT_EQ(tern_uniq_gen_next(&a, 1700000000000, x), TERN_UNIQ_HEX_V6);
  ASSERT_EQ(tern_uniq_gen_next(&b, 1700000000000, y), TERN_UNIQ_HEX_V6);
  ASSERT(strncmp(x, "20010DB8000000000000000000000001004D", 36) == 0);
  /* Two generators differ in their 4 random bytes (1 in 2^32 to collide). */
  ASSERT(memcmp(x + 36, y + 36, 8) != 0);
  ASSERT_EQ(tern_uniq_gen_init(&a, ip6, 5, 1, NULL), TERN_EINVAL);
}

TEST(java_hash_vectors) {
  vec_case_t *cs;
  size_t n = vec_load("hashes.vec", &cs);
  int tags = 0, idx = 0;
  for (size_t i = 0; i < n; i++) {
    const vec_case_t *c = &cs[i];
    if (strcmp(c->kind, "tag_hash") == 0) {
      uint8_t buf[256];
      long bn = tok(c, "input", 0, buf, sizeof buf);
      uint8_t *heap = malloc(bn ? (size_t)bn : 1); /* exact size: over-reads trip ASan */
      memcpy(heap, buf, (size_t)bn);
      int32_t h = tern_java_string_hash((tern_str_t){(const char *)heap, (size_t)bn});
      free(heap);
      if (h != vec_int(vec_get(c, "hash", 0), 0))
        TERN__FAIL("tag_hash %s: got %d want %lld", c->name, h, (long long)vec_int(vec_get(c, "hash", 0), 0));
      tags++;
    } else if (strcmp(c->kind, "index_hash") == 0) {
      uint8_t t[256], k[256];
      long tn = tok(c, "topic", 0, t, sizeof t), kn = tok(c, "key", 0, k, sizeof k);
      tern_str_t ts = {(const char *)t, (size_t)tn}, ks = {(const char *)k, (size_t)kn};
      ASSERT_EQ(tern_msg_index_key_hash(ts, ks), vec_int(vec_get(c, "hash", 0), 0));
      /* The streaming form equals hashing the concatenation. */
      int32_t raw = tern_java_string_hash_update(tern_java_string_hash_update(tern_java_string_hash(ts), TERN_STR("#")), ks);
      ASSERT_EQ(raw, vec_int(vec_get(c, "raw", 0), 0));
      idx++;
    }
  }
  vec_free(cs, n);
  ASSERT(tags >= 10 && idx >= 4);
}

TEST(names_follow_reference_rules) {
  ASSERT(tern_topic_valid(TERN_STR("TopicTest")));
  ASSERT(tern_topic_valid(TERN_STR("%RETRY%cg_1-a|b")));
  ASSERT(!tern_topic_valid(TERN_STR("")));
  ASSERT(!tern_topic_valid(TERN_STR("a b")));
  ASSERT(!tern_topic_valid(TERN_STR("a.b")));
  ASSERT(!tern_topic_valid(TERN_STR("t\xc3\xa9")));
  char name[200];
  memset(name, 'a', sizeof name);
  ASSERT(tern_topic_valid((tern_str_t){name, 127}));
  ASSERT(!tern_topic_valid((tern_str_t){name, 128}));
  ASSERT(tern_group_valid((tern_str_t){name, 120}));
  ASSERT(!tern_group_valid((tern_str_t){name, 121}));

  char out[256];
  size_t n = 0;
  ASSERT_OK(tern_topic_retry_name(TERN_STR("cg"), out, sizeof out, &n));
  ASSERT_STREQ(out, "%RETRY%cg");
  ASSERT_EQ(n, 9);
  ASSERT_OK(tern_topic_dlq_name(TERN_STR("cg"), out, sizeof out, &n));
  ASSERT_STREQ(out, "%DLQ%cg");
  ASSERT_EQ(tern_topic_retry_name(TERN_STR("cg"), out, 9, &n), TERN_ETOOBIG);
  ASSERT_EQ(tern_topic_retry_name(TERN_STR("c g"), out, sizeof out, &n), TERN_EINVAL);
  /* The longest valid group still yields a storable (<=127) retry topic. */
  ASSERT_OK(tern_topic_retry_name((tern_str_t){name, 120}, out, sizeof out, &n));
  ASSERT(tern_topic_valid((tern_str_t){out, n}));
  ASSERT(tern_topic_is_retry(TERN_STR("%RETRY%cg")));
  ASSERT(!tern_topic_is_retry(TERN_STR("%DLQ%cg")));
  ASSERT(tern_topic_is_dlq(TERN_STR("%DLQ%cg")));

  ASSERT(tern_topic_is_system(TERN_STR(TERN_TOPIC_AUTO_CREATE)));
  ASSERT(tern_topic_is_system(TERN_STR("SCHEDULE_TOPIC_XXXX")));
  ASSERT(tern_topic_is_system(TERN_STR("rmq_sys_wheel_timer")));
  ASSERT(!tern_topic_is_system(TERN_STR("TopicTest")));
  ASSERT(!tern_topic_send_allowed(TERN_STR(TERN_TOPIC_SCHEDULE)));
  ASSERT(!tern_topic_send_allowed(TERN_STR("RMQ_SYS_TRANS_HALF_TOPIC")));
  ASSERT(tern_topic_send_allowed(TERN_STR(TERN_TOPIC_AUTO_CREATE)));
  ASSERT(tern_topic_send_allowed(TERN_STR("TopicTest")));
  ASSERT_STREQ(TERN_GROUP_TRANS_CHECK, "CID_RMQ_SYS_TRANS");
}

TEST(crc32_body_masks_sign_bit) {
  ASSERT_EQ(tern_crc32_body((const uint8_t *)"hi", 2), 0x58932AACu);
  ASSERT_EQ(tern_crc32_body(NULL, 0), 0);
  /* crc32("123456789") = 0xCBF43926; masked drops the top bit. */
  ASSERT_EQ(tern_crc32_body((const uint8_t *)"123456789", 9), 0x4BF43926u);
}

/* tern_crc32_body (libdeflate, PCLMUL when the CPU has it) against zlib's
 * crc32 over every length to 1100 and larger ones, at every start alignment 0..15. */
TEST(crc32_body_equals_zlib) {
  size_t cap = (1u << 20) + 64;
  uint8_t *buf = malloc(cap);
  uint32_t x = 0x9E3779B9u;
  ASSERT(buf != NULL);
  for (size_t i = 0; i < cap; i++) {
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    buf[i] = (uint8_t)x;
  }
  static const size_t big[] = {2047, 2048, 4095, 4096, 4097, 65535, 65536, 65537, 100003, 1u << 20};
  for (size_t a = 0; a < 16; a++) {
    for (size_t n = 0; n <= 1100; n++)
      ASSERT_EQ(tern_crc32_body(buf + a, n), (uint32_t)crc32(0L, buf + a, (uInt)n) & 0x7FFFFFFFu);
    for (size_t k = 0; k < sizeof big / sizeof big[0]; k++)
      ASSERT_EQ(tern_crc32_body(buf + a, big[k]), (uint32_t)crc32(0L, buf + a, (uInt)big[k]) & 0x7FFFFFFFu);
  }
  memset(buf, 0xFF, 4096);
  ASSERT_EQ(tern_crc32_body(buf, 4096), (uint32_t)crc32(0L, buf, 4096) & 0x7FFFFFFFu);
  free(buf);
}
