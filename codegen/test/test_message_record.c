/* The stored-record codec against spec/vectors/message/records.vec: decode to
 * the listed fields, re-encode to the same bytes, msgId and consume-queue values,
 * every truncation and every lying length rejected, the iterator over a
 * concatenated pull body, and the in-place offset helpers. */
#include <stdlib.h>

#include "gen/message.h"
#include "tern_test.h"
#include "test_message_vec.h"

#define MAXREC 4096

static vec_case_t *cases;
static size_t ncases;

static void load(void) {
  if (!cases) ncases = vec_load("records.vec", &cases);
}

static size_t case_bytes(const vec_case_t *c, uint8_t *out) {
  const char *h = vec_get(c, "hex", 0);
  return h ? vec_hex(h, out, MAXREC) : 0;
}

static int str_is(tern_str_t s, const char *val) {
  uint8_t buf[MAXREC];
  long n = vec_tok(val, 0, buf, sizeof buf);
  return n >= 0 && (size_t)n == s.n && (n == 0 || memcmp(s.p, buf, (size_t)n) == 0);
}

static int host_is(const tern_host_t *h, const char *val) {
  uint8_t ip[32];
  char hex[64];
  long n = vec_tok(val, 0, (uint8_t *)hex, sizeof hex - 1);
  if (n < 0) return 0;
  hex[n] = '\0';
  size_t iplen = vec_hex(hex, ip, sizeof ip);
  return h->ip_len == iplen && memcmp(h->ip, ip, iplen) == 0 && h->port == vec_int(val, 1);
}

TEST(record_vectors_decode_to_fields) {
  load();
  int seen = 0;
  for (size_t i = 0; i < ncases; i++) {
    const vec_case_t *c = &cases[i];
    if (strcmp(c->kind, "record") != 0) continue;
    seen++;
    uint8_t b[MAXREC];
    size_t n = case_bytes(c, b);
    tern_msg_record_t r;
    tern_err_t err = {0};
    ASSERT_OK(tern_msg_record_decode(b, n, &r, &err));
    ASSERT_EQ(r.total_size, vec_int(vec_get(c, "total_size", 0), 0));
    ASSERT_EQ(r.total_size, n);
    ASSERT_EQ(r.magic, vec_int(vec_get(c, "magic", 0), 0));
    ASSERT_EQ(r.body_crc, vec_int(vec_get(c, "body_crc", 0), 0));
    ASSERT_EQ(r.queue_id, vec_int(vec_get(c, "queue_id", 0), 0));
    ASSERT_EQ(r.flag, vec_int(vec_get(c, "flag", 0), 0));
    ASSERT_EQ(r.queue_offset, vec_int(vec_get(c, "queue_offset", 0), 0));
    ASSERT_EQ(r.physical_offset, vec_int(vec_get(c, "physical_offset", 0), 0));
    ASSERT_EQ(r.sys_flag, vec_int(vec_get(c, "sys_flag", 0), 0));
    ASSERT_EQ(r.born_timestamp, vec_int(vec_get(c, "born_timestamp", 0), 0));
    ASSERT_EQ(r.store_timestamp, vec_int(vec_get(c, "store_timestamp", 0), 0));
    ASSERT_EQ(r.reconsume_times, vec_int(vec_get(c, "reconsume_times", 0), 0));
    ASSERT_EQ(r.prepared_transaction_offset, vec_int(vec_get(c, "prepared_transaction_offset", 0), 0));
    ASSERT(host_is(&r.born_host, vec_get(c, "born_host", 0)));
    ASSERT(host_is(&r.store_host, vec_get(c, "store_host", 0)));
    ASSERT(str_is(r.body, vec_get(c, "body", 0)));
    ASSERT(str_is(r.topic, vec_get(c, "topic", 0)));
    ASSERT(str_is(r.properties, vec_get(c, "properties", 0)));
    /* Slices point into the input, not into copies. */
    ASSERT(r.topic.p > (const char *)b && r.topic.p < (const char *)b + n);
    /* The stored CRC is the body's. */
    ASSERT_EQ(tern_crc32_body((const uint8_t *)r.body.p, r.body.n), (uint32_t)r.body_crc);
    /* The size rule reproduces TOTALSIZE. */
    ASSERT_EQ(tern_msg_record_size(&r), n);
  }
  ASSERT(seen >= 5);
}

TEST(record_vectors_reencode_byte_exact) {
  load();
  for (size_t i = 0; i < ncases; i++) {
    const vec_case_t *c = &cases[i];
    if (strcmp(c->kind, "record") != 0) continue;
    uint8_t b[MAXREC], out[MAXREC];
    size_t n = case_bytes(c, b);
    tern_msg_record_t r;
    ASSERT_OK(tern_msg_record_decode(b, n, &r, NULL));
    memset(out, 0xEE, sizeof out);
    ASSERT_OK(tern_msg_record_encode(&r, out, n));
    ASSERT_MEM_EQ(out, b, n);
    ASSERT_EQ(out[n], 0xEE); /* nothing written past total_size */
    ASSERT_EQ(tern_msg_record_encode(&r, out, n - 1), TERN_EFULL);
  }
}

TEST(record_msgid_and_cq_entry) {
  load();
  for (size_t i = 0; i < ncases; i++) {
    const vec_case_t *c = &cases[i];
    if (strcmp(c->kind, "record") != 0) continue;
    uint8_t b[MAXREC];
    size_t n = case_bytes(c, b);
    tern_msg_record_t r;
    ASSERT_OK(tern_msg_record_decode(b, n, &r, NULL));
    char id[TERN_MSGID_HEX_V6 + 1];
    size_t idn = tern_msgid_encode(&r.store_host, r.physical_offset, id);
    ASSERT_EQ(idn, strlen(id));
    ASSERT_STREQ(id, vec_get(c, "msgid", 0));
    /* Consume-queue entry: (offset, size, tags code). */
    const char *cq = vec_get(c, "cq", 0);
    tern_str_t tags = TERN_STR_NULL;
    (void)tern_props_get(r.properties, TERN_PROP_TAGS, &tags);
    ASSERT_EQ(r.physical_offset, vec_int(cq, 0));
    ASSERT_EQ(r.total_size, vec_int(cq, 1));
    ASSERT_EQ(tern_msg_tags_code(tags), vec_int(cq, 2));
  }
}

TEST(record_every_truncation_fails) {
  load();
  for (size_t i = 0; i < ncases; i++) {
    const vec_case_t *c = &cases[i];
    if (strcmp(c->kind, "record") != 0) continue;
    uint8_t b[MAXREC];
    size_t n = case_bytes(c, b);
    for (size_t k = 0; k < n; k++) {
      /* A heap copy of exactly k bytes lets ASan catch any over-read. */
      uint8_t *t = malloc(k ? k : 1);
      memcpy(t, b, k);
      tern_msg_record_t r;
      tern_err_t err = {0};
      int rc = tern_msg_record_decode(t, k, &r, &err);
      free(t);
      ASSERT_EQ(rc, TERN_EAGAIN);
      ASSERT(err.reason != NULL);
    }
  }
}

/* Flips one length field and expects a clean EPROTO. */
static int decode_with(const uint8_t *b, size_t n, size_t at, int width, int64_t val) {
  uint8_t t[MAXREC];
  memcpy(t, b, n);
  if (width == 1) t[at] = (uint8_t)val;
  else if (width == 2) tern_store_be16(t + at, (uint16_t)val);
  else tern_store_be32(t + at, (uint32_t)val);
  tern_msg_record_t r;
  tern_err_t err = {0};
  int rc = tern_msg_record_decode(t, n, &r, &err);
  if (rc != 0 && !err.reason) return 99;
  return rc;
}

TEST(record_lying_lengths_fail) {
  load();
  for (size_t i = 0; i < ncases; i++) {
    const vec_case_t *c = &cases[i];
    if (strcmp(c->kind, "record") != 0) continue;
    uint8_t b[MAXREC];
    size_t n = case_bytes(c, b);
    tern_msg_record_t r;
    ASSERT_OK(tern_msg_record_decode(b, n, &r, NULL));
    const bool v2 = r.magic == TERN_MSG_MAGIC_V2;
    size_t body_len_at = (size_t)(r.body.p - (const char *)b) - 4;
    size_t topic_len_at = (size_t)(r.topic.p - (const char *)b) - (v2 ? 2 : 1);
    size_t props_len_at = (size_t)(r.properties.p - (const char *)b) - 2;
    /* TOTALSIZE: too small for the fixed part, one short of the fields, one past. */
    ASSERT_EQ(decode_with(b, n, 0, 4, 90), TERN_EPROTO);
    ASSERT_EQ(decode_with(b, n, 0, 4, (int64_t)n - 1), TERN_EPROTO);
    ASSERT_EQ(decode_with(b, n, 0, 4, (int64_t)n + 1), TERN_EAGAIN);
    ASSERT_EQ(decode_with(b, n, 0, 4, -1), TERN_EPROTO);
    /* Unknown magic. */
    ASSERT_EQ(decode_with(b, n, 4, 4, 0x12345678), TERN_EPROTO);
    /* Body length: negative, past the end, one more or one less. */
    ASSERT_EQ(decode_with(b, n, body_len_at, 4, -1), TERN_EPROTO);
    ASSERT_EQ(decode_with(b, n, body_len_at, 4, 0x7FFFFFFF), TERN_EPROTO);
    ASSERT_EQ(decode_with(b, n, body_len_at, 4, (int64_t)r.body.n + 1), TERN_EPROTO);
    if (r.body.n) ASSERT_EQ(decode_with(b, n, body_len_at, 4, (int64_t)r.body.n - 1), TERN_EPROTO);
    /* Topic length: negative (a v1 byte >= 0x80), one more, one less. */
    ASSERT_EQ(decode_with(b, n, topic_len_at, v2 ? 2 : 1, v2 ? 0x8000 : 0x80), TERN_EPROTO);
    ASSERT_EQ(decode_with(b, n, topic_len_at, v2 ? 2 : 1, (int64_t)r.topic.n + 1), TERN_EPROTO);
    ASSERT_EQ(decode_with(b, n, topic_len_at, v2 ? 2 : 1, (int64_t)r.topic.n - 1), TERN_EPROTO);
    /* Properties length: negative, one more, one less. */
    ASSERT_EQ(decode_with(b, n, props_len_at, 2, 0xFFFF), TERN_EPROTO);
    ASSERT_EQ(decode_with(b, n, props_len_at, 2, (int64_t)r.properties.n + 1), TERN_EPROTO);
    if (r.properties.n) ASSERT_EQ(decode_with(b, n, props_len_at, 2, (int64_t)r.properties.n - 1), TERN_EPROTO);
    /* Flipping an IPv6 bit changes the layout under the same TOTALSIZE. */
    ASSERT_EQ(decode_with(b, n, TERN_MSG_OFF_SYS_FLAG, 4, r.sys_flag ^ TERN_SYSFLAG_BORNHOST_V6), TERN_EPROTO);
  }
}

TEST(record_blank) {
  load();
  int seen = 0;
  for (size_t i = 0; i < ncases; i++) {
    const vec_case_t *c = &cases[i];
    if (strcmp(c->kind, "blank") != 0) continue;
    seen++;
    uint8_t b[MAXREC];
    size_t n = case_bytes(c, b);
    ASSERT_EQ(n, TERN_MSG_BLANK_SIZE);
    tern_msg_record_t r;
    ASSERT_OK(tern_msg_record_decode(b, n, &r, NULL));
    ASSERT(tern_msg_record_is_blank(&r));
    ASSERT_EQ(r.total_size, vec_int(vec_get(c, "total_size", 0), 0));
    uint8_t out[8];
    ASSERT_OK(tern_msg_blank_encode(out, sizeof out, r.total_size));
    ASSERT_MEM_EQ(out, b, n);
    ASSERT_EQ(tern_msg_blank_encode(out, 7, r.total_size), TERN_EFULL);
    ASSERT_EQ(tern_msg_blank_encode(out, 8, 7), TERN_EINVAL);
    for (size_t k = 0; k < n; k++) ASSERT_EQ(tern_msg_record_decode(b, k, &r, NULL), TERN_EAGAIN);
    /* A blank claiming fewer than its own 8 bytes is corrupt. */
    tern_store_be32(b, 7);
    ASSERT_EQ(tern_msg_record_decode(b, n, &r, NULL), TERN_EPROTO);
  }
  ASSERT_EQ(seen, 1);
}

TEST(record_iterator_over_pull_body) {
  load();
  static uint8_t body[MAXREC * 8];
  size_t len = 0, nrec = 0;
  for (size_t i = 0; i < ncases; i++) {
    if (strcmp(cases[i].kind, "record") != 0) continue;
    len += case_bytes(&cases[i], body + len);
    nrec++;
  }
  tern_msg_record_iter_t it;
  tern_msg_record_t r;
  size_t got = 0;
  tern_msg_record_iter_init(&it, body, len);
  int rc;
  while ((rc = tern_msg_record_iter_next(&it, &r, NULL)) == 1) got++;
  ASSERT_EQ(rc, 0);
  ASSERT_EQ(got, nrec);
  ASSERT_EQ(it.off, len);
  /* Cut anywhere inside the last record: the walk reports it, after the others. */
  for (size_t cut = 1; cut < 120; cut++) {
    tern_err_t err = {0};
    tern_msg_record_iter_init(&it, body, len - cut);
    got = 0;
    while ((rc = tern_msg_record_iter_next(&it, &r, &err)) == 1) got++;
    ASSERT_EQ(rc, TERN_EPROTO);
    ASSERT(got < nrec);
    ASSERT(err.reason != NULL);
    ASSERT_EQ(tern_msg_record_iter_next(&it, &r, &err), 0); /* stays finished */
  }
  /* A blank ends a CommitLog walk even with bytes after it. */
  uint8_t seq[MAXREC];
  size_t n = case_bytes(&cases[0], seq);
  ASSERT_OK(tern_msg_blank_encode(seq + n, 8, 64));
  memset(seq + n + 8, 0, 56);
  tern_msg_record_iter_init(&it, seq, n + 64);
  ASSERT_EQ(tern_msg_record_iter_next(&it, &r, NULL), 1);
  ASSERT(!tern_msg_record_is_blank(&r));
  ASSERT_EQ(tern_msg_record_iter_next(&it, &r, NULL), 1);
  ASSERT(tern_msg_record_is_blank(&r));
  ASSERT_EQ(tern_msg_record_iter_next(&it, &r, NULL), 0);
}

TEST(record_encode_rejects_inconsistent_records) {
  load();
  uint8_t b[MAXREC], out[MAXREC];
  size_t n = case_bytes(&cases[0], b);
  tern_msg_record_t r, t;
  ASSERT_OK(tern_msg_record_decode(b, n, &r, NULL));
  t = r;
  t.total_size++;
  ASSERT_EQ(tern_msg_record_encode(&t, out, sizeof out), TERN_EINVAL);
  t = r;
  t.magic = 0;
  ASSERT_EQ(tern_msg_record_encode(&t, out, sizeof out), TERN_EINVAL);
  t = r;
  t.sys_flag |= TERN_SYSFLAG_STOREHOSTADDRESS_V6; /* host still 4 bytes */
  t.total_size = (int32_t)tern_msg_record_size(&t);
  ASSERT_EQ(tern_msg_record_encode(&t, out, sizeof out), TERN_EINVAL);
  /* v1 cannot carry a topic of 128 bytes; v2 can. */
  static const char long_topic[128] = {0};
  t = r;
  t.topic.p = long_topic;
  t.topic.n = sizeof long_topic;
  t.total_size = (int32_t)tern_msg_record_size(&t);
  ASSERT_EQ(tern_msg_record_encode(&t, out, sizeof out), TERN_EINVAL);
  t.magic = TERN_MSG_MAGIC_V2;
  t.total_size = (int32_t)tern_msg_record_size(&t);
  ASSERT_EQ(t.total_size, (int32_t)n + 127 + 1);
  ASSERT_OK(tern_msg_record_encode(&t, out, sizeof out));
  tern_msg_record_t back;
  ASSERT_OK(tern_msg_record_decode(out, (size_t)t.total_size, &back, NULL));
  ASSERT_EQ(back.topic.n, 128);
}

TEST(record_offset_helpers_match_layout) {
  load();
  for (size_t i = 0; i < ncases; i++) {
    const vec_case_t *c = &cases[i];
    if (strcmp(c->kind, "record") != 0) continue;
    uint8_t b[MAXREC];
    size_t n = case_bytes(c, b);
    tern_msg_record_t r;
    ASSERT_OK(tern_msg_record_decode(b, n, &r, NULL));
    ASSERT_EQ((int64_t)tern_load_be64(b + TERN_MSG_OFF_QUEUE_OFFSET), r.queue_offset);
    ASSERT_EQ((int64_t)tern_load_be64(b + TERN_MSG_OFF_PHYSICAL_OFFSET), r.physical_offset);
    ASSERT_EQ((int64_t)tern_load_be64(b + tern_msg_off_store_timestamp(r.sys_flag)), r.store_timestamp);
    ASSERT_EQ((int32_t)tern_load_be32(b + tern_msg_off_reconsume_times(r.sys_flag)), r.reconsume_times);
    ASSERT_EQ((int64_t)tern_load_be64(b + tern_msg_off_prepared_transaction_offset(r.sys_flag)),
              r.prepared_transaction_offset);
  }
}

TEST(sysflag_helpers) {
  int32_t f = TERN_SYSFLAG_COMPRESSED | TERN_SYSFLAG_COMPRESSION_TYPE_ZLIB | TERN_SYSFLAG_TRANSACTION_PREPARED_TYPE;
  ASSERT_EQ(f, 0x305);
  ASSERT_EQ(tern_sysflag_transaction(f), TERN_SYSFLAG_TRANSACTION_PREPARED_TYPE);
  f = tern_sysflag_with_transaction(f, TERN_SYSFLAG_TRANSACTION_COMMIT_TYPE);
  ASSERT_EQ(f, 0x309);
  ASSERT_EQ(tern_sysflag_compression(f), 0x300);
  ASSERT_EQ(tern_sysflag_with_transaction(f, TERN_SYSFLAG_TRANSACTION_NOT_TYPE), 0x301);
}
