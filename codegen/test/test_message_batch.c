/* The SEND_BATCH_MESSAGE body against spec/vectors/message/batch.vec: entries
 * decode in order, re-encoding gives the same bytes, every truncation and
 * every lying length is rejected without reading past the body. */
#include <stdlib.h>

#include "gen/message.h"
#include "runtime/buf.h"
#include "tern_test.h"
#include "test_message_vec.h"

static vec_case_t *cases;
static size_t ncases;
static uint8_t body[4096];
static size_t body_len;

static void load(void) {
  if (cases) return;
  ncases = vec_load("batch.vec", &cases);
  body_len = vec_hex(vec_get(&cases[0], "hex", 0), body, sizeof body);
}

static int tok_eq(tern_str_t s, const char *val, unsigned idx) {
  uint8_t buf[4096];
  long n = vec_tok(val, idx, buf, sizeof buf);
  return n >= 0 && (size_t)n == s.n && (n == 0 || memcmp(s.p, buf, (size_t)n) == 0);
}

/* Walks a heap copy of exactly len bytes; returns the final rc and the count. */
static int walk(const uint8_t *p, size_t len, unsigned *count) {
  uint8_t *t = malloc(len ? len : 1);
  memcpy(t, p, len);
  tern_batch_iter_t it;
  tern_batch_entry_t e;
  tern_err_t err = {0};
  int rc;
  *count = 0;
  tern_batch_iter_init(&it, t, len);
  while ((rc = tern_batch_iter_next(&it, &e, &err)) == 1) (*count)++;
  free(t);
  if (rc < 0 && !err.reason) return 99;
  return rc;
}

TEST(batch_vector_decodes_in_order) {
  load();
  tern_batch_iter_t it;
  tern_batch_entry_t e;
  unsigned k = 0;
  int rc;
  tern_batch_iter_init(&it, body, body_len);
  while ((rc = tern_batch_iter_next(&it, &e, NULL)) == 1) {
    const char *want = vec_get(&cases[0], "entry", k);
    ASSERT(want != NULL);
    ASSERT_EQ(e.flag, vec_int(want, 0));
    ASSERT(tok_eq(e.body, want, 1));
    ASSERT(tok_eq(e.properties, want, 2));
    ASSERT_EQ(e.total_size, TERN_BATCH_BASE_SIZE + e.body.n + e.properties.n);
    ASSERT_EQ(e.magic, 0);
    ASSERT_EQ(e.body_crc, 0);
    k++;
  }
  ASSERT_EQ(rc, 0);
  ASSERT_EQ(k, 3);
  ASSERT(vec_get(&cases[0], "entry", 3) == NULL);
}

TEST(batch_reencode_byte_exact) {
  load();
  tern_buf_t b;
  tern_buf_init(&b, 0);
  for (unsigned k = 0; vec_get(&cases[0], "entry", k); k++) {
    const char *want = vec_get(&cases[0], "entry", k);
    uint8_t bb[1024], pb[1024];
    long bn = vec_tok(want, 1, bb, sizeof bb), pn = vec_tok(want, 2, pb, sizeof pb);
    ASSERT_OK(tern_batch_entry_encode(&b, (int32_t)vec_int(want, 0), (tern_str_t){(const char *)bb, (size_t)bn},
                                      (tern_str_t){(const char *)pb, (size_t)pn}));
  }
  ASSERT_EQ(b.len, body_len);
  ASSERT_MEM_EQ(b.p, body, body_len);
  tern_buf_free(&b);
}

TEST(batch_every_truncation_fails) {
  load();
  /* Cutting at an entry boundary leaves a shorter valid batch; anywhere else fails. */
  size_t bounds[4] = {0};
  tern_batch_iter_t it;
  tern_batch_entry_t e;
  unsigned nb = 1;
  tern_batch_iter_init(&it, body, body_len);
  while (tern_batch_iter_next(&it, &e, NULL) == 1) bounds[nb++] = it.off;
  for (size_t cut = 0; cut < body_len; cut++) {
    unsigned count;
    int rc = walk(body, cut, &count);
    bool boundary = false;
    for (unsigned i = 0; i < nb; i++) boundary |= bounds[i] == cut;
    if (boundary) ASSERT_EQ(rc, 0);
    else ASSERT_EQ(rc, TERN_EPROTO);
  }
}

TEST(batch_lying_lengths_fail) {
  load();
  uint8_t t[4096];
  unsigned count;
  /* First entry: total size off by one either way, negative. */
  int32_t total = (int32_t)tern_load_be32(body);
  int32_t vals[] = {total - 1, total + 1, -1, 0, INT32_MAX};
  for (size_t i = 0; i < TERN_ARRAY_SIZE(vals); i++) {
    memcpy(t, body, body_len);
    tern_store_be32(t, (uint32_t)vals[i]);
    ASSERT_EQ(walk(t, body_len, &count), TERN_EPROTO);
  }
  /* Body length: negative, past the end, one more (steals the props length). */
  int32_t blen = (int32_t)tern_load_be32(body + 16);
  int32_t bvals[] = {-1, INT32_MAX, (int32_t)body_len, blen + 1, blen - 1};
  for (size_t i = 0; i < TERN_ARRAY_SIZE(bvals); i++) {
    memcpy(t, body, body_len);
    tern_store_be32(t + 16, (uint32_t)bvals[i]);
    ASSERT_EQ(walk(t, body_len, &count), TERN_EPROTO);
  }
  /* Properties length: negative, one more, one less. */
  size_t plen_at = 20 + (size_t)blen;
  uint16_t plen = tern_load_be16(body + plen_at);
  uint16_t pvals[] = {0xFFFF, (uint16_t)(plen + 1), (uint16_t)(plen - 1), 0x7FFF};
  for (size_t i = 0; i < TERN_ARRAY_SIZE(pvals); i++) {
    memcpy(t, body, body_len);
    tern_store_be16(t + plen_at, pvals[i]);
    ASSERT_EQ(walk(t, body_len, &count), TERN_EPROTO);
  }
}

TEST(batch_encode_refuses_oversized_properties) {
  tern_buf_t b;
  tern_buf_init(&b, 0);
  static char big[40000];
  ASSERT_EQ(tern_batch_entry_encode(&b, 0, TERN_STR("x"), (tern_str_t){big, sizeof big}), TERN_EINVAL);
  ASSERT_EQ(b.len, 0);
  tern_buf_free(&b);
}
