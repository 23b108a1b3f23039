/* The properties lexer and helpers against spec/vectors/message/properties.vec
 * (Java string2messageProperties results), plus the encoder's round trip and
 * refusals, the caller's capacity limit and the known-key table. */
#include <stdlib.h>

#include "gen/message.h"
#include "runtime/buf.h"
#include "tern_test.h"
#include "test_message_vec.h"

static vec_case_t *cases;
static size_t ncases;

static void load(void) {
  if (!cases) ncases = vec_load("properties.vec", &cases);
}

/* The input of a case in a heap block of exactly its size (ASan sees over-reads). */
static tern_str_t input_of(const vec_case_t *c, uint8_t **heap) {
  uint8_t buf[4096];
  long n = vec_tok(vec_get(c, "input", 0), 0, buf, sizeof buf);
  *heap = malloc(n ? (size_t)n : 1);
  memcpy(*heap, buf, (size_t)n);
  return (tern_str_t){(const char *)*heap, (size_t)n};
}

static int tok_eq(tern_str_t s, const char *val, unsigned idx) {
  uint8_t buf[4096];
  long n = vec_tok(val, idx, buf, sizeof buf);
  return n >= 0 && (size_t)n == s.n && (n == 0 || memcmp(s.p, buf, (size_t)n) == 0);
}

TEST(props_vectors_parse_like_java) {
  load();
  ASSERT(ncases >= 10);
  for (size_t i = 0; i < ncases; i++) {
    const vec_case_t *c = &cases[i];
    uint8_t *heap;
    tern_str_t s = input_of(c, &heap);
    tern_prop_t out[16];
    uint32_t n = 99;
    tern_err_t err = {0};
    int rc = tern_props_parse(s, out, 16, &n, &err);
    int ok = rc == 0 && n == (uint32_t)vec_int(vec_get(c, "count", 0), 0);
    for (uint32_t k = 0; ok && k < n; k++) {
      const char *pair = vec_get(c, "pair", k);
      ok = pair && tok_eq(out[k].key, pair, 0) && tok_eq(out[k].val, pair, 1);
      /* Zero-copy: slices lie inside the input. */
      ok = ok && out[k].key.p >= s.p && out[k].val.p + out[k].val.n <= s.p + s.n;
    }
    /* Counting mode agrees. */
    uint32_t cnt = 0;
    ok = ok && tern_props_parse(s, NULL, 0, &cnt, NULL) == 0 && cnt == n;
    for (unsigned k = 0; ok && vec_get(c, "get", k); k++) {
      const char *g = vec_get(c, "get", k);
      uint8_t key[256];
      long kn = vec_tok(g, 0, key, sizeof key);
      tern_str_t v;
      ok = tern_props_get_str(s, (tern_str_t){(const char *)key, (size_t)kn}, &v) == 0 && tok_eq(v, g, 1);
    }
    free(heap);
    if (!ok) TERN__FAIL("case %s", c->name);
  }
}

TEST(props_get_missing_and_prefix_keys) {
  tern_str_t s = TERN_STR("TAGS\x01" "A\x02" "KEYS\x01" "k\x02");
  tern_str_t v;
  ASSERT_EQ(tern_props_get(s, "TAG", &v), TERN_ENOTFOUND);
  ASSERT_EQ(tern_props_get(s, "TAGSX", &v), TERN_ENOTFOUND);
  ASSERT_EQ(tern_props_get(s, "A", &v), TERN_ENOTFOUND); /* values are not keys */
  ASSERT_OK(tern_props_get(s, TERN_PROP_KEYS, &v));
  ASSERT_STR(v, "k");
  ASSERT_EQ(tern_props_get(TERN_STR_NULL, "TAGS", &v), TERN_ENOTFOUND);
}

TEST(props_capacity_is_enforced) {
  tern_str_t s = TERN_STR("a\x01" "1\x02" "b\x01" "2\x02" "c\x01" "3\x02");
  tern_prop_t out[2];
  uint32_t n = 0;
  tern_err_t err = {0};
  ASSERT_EQ(tern_props_parse(s, out, 2, &n, &err), TERN_ETOOBIG);
  ASSERT_EQ(n, 2);
  ASSERT_STR(out[1].key, "b");
  ASSERT(err.reason != NULL);
}

TEST(props_append_round_trips) {
  tern_buf_t b;
  tern_buf_init(&b, 0);
  ASSERT_OK(tern_props_append(&b, TERN_STR(TERN_PROP_TAGS), TERN_STR("TagA")));
  ASSERT_OK(tern_props_append(&b, TERN_STR(TERN_PROP_KEYS), TERN_STR("k1 k2")));
  ASSERT_OK(tern_props_append(&b, TERN_STR("v"), TERN_STR("x\x01y")));
  ASSERT_EQ(b.len, strlen("TAGS\x01TagA\x02KEYS\x01k1 k2\x02v\x01x\x01y\x02"));
  ASSERT_MEM_EQ(b.p, "TAGS\x01TagA\x02KEYS\x01k1 k2\x02v\x01x\x01y\x02", b.len);
  tern_prop_t out[4];
  uint32_t n;
  ASSERT_OK(tern_props_parse((tern_str_t){(const char *)b.p, b.len}, out, 4, &n, NULL));
  ASSERT_EQ(n, 3);
  ASSERT_STR(out[2].val, "x\x01y");
  size_t before = b.len;
  ASSERT_EQ(tern_props_append(&b, TERN_STR(""), TERN_STR("v")), TERN_EINVAL);
  ASSERT_EQ(tern_props_append(&b, TERN_STR("k"), TERN_STR("")), TERN_EINVAL);
  ASSERT_EQ(tern_props_append(&b, TERN_STR("k\x01"), TERN_STR("v")), TERN_EINVAL);
  ASSERT_EQ(tern_props_append(&b, TERN_STR("k\x02"), TERN_STR("v")), TERN_EINVAL);
  ASSERT_EQ(tern_props_append(&b, TERN_STR("k"), TERN_STR("v\x02")), TERN_EINVAL);
  ASSERT_EQ(b.len, before); /* refusals write nothing */
  tern_buf_free(&b);
}

TEST(props_known_keys) {
  ASSERT(tern_props_is_known_key(TERN_STR("UNIQ_KEY")));
  ASSERT(tern_props_is_known_key(TERN_STR("TAGS")));
  ASSERT(tern_props_is_known_key(TERN_STR("__transactionId__")));
  ASSERT(tern_props_is_known_key(TERN_STR("1ST_POP_TIME")));
  ASSERT(tern_props_is_known_key(TERN_STR(TERN_PROP_DLQ_ORIGIN_MESSAGE_ID)));
  ASSERT(!tern_props_is_known_key(TERN_STR("TAG")));
  ASSERT(!tern_props_is_known_key(TERN_STR("TAGSS")));
  ASSERT(!tern_props_is_known_key(TERN_STR("myKey")));
  ASSERT(!tern_props_is_known_key(TERN_STR_NULL));
  ASSERT_STREQ(TERN_PROP_WAIT_STORE_MSG_OK, "WAIT");
  ASSERT_STREQ(TERN_PROP_REAL_QUEUE_ID, "REAL_QID");
  ASSERT_EQ(TERN_PROPS_MAX_LEN, 32767);
}
