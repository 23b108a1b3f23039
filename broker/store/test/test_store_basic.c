/* Store behaviour a broker relies on: the stored record is byte-for-byte
 * RocketMQ's, every field round-trips, files roll over at exact boundaries
 * with a blank filler, pulls return the right status/offsets/spans with the
 * tag filter applied, and lookups by physical offset, key and time work. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tern_test.h"
#include "test_util.h"

static tern_store_t *open_store(const char *root, tern_store_config_t *cfg) {
  (void)root;
  tern_store_t *s = NULL;
  tern_err_t err = {0};
  if (tern_store_open(cfg, &s, &err) != 0) fprintf(stderr, "open failed: %s\n", err.reason);
  return s;
}

static tern_get_result_t get(tern_store_t *s, const char *topic, int32_t q, int64_t off, int32_t max,
                             const tern_store_filter_t *f, tern_store_span_t *spans, size_t cap) {
  tern_get_result_t r = {0};
  r.spans = spans;
  r.cap = cap;
  tern_store_get_messages(s, tern_str_from_cstr(topic), q, off, max, f, &r);
  return r;
}

/* Reference 6.4's worked example, stored and pulled back byte for byte. */
TEST(record_matches_reference_example) {
  char *dir = tst_tmpdir("ref");
  tern_store_config_t cfg;
  tst_config(&cfg, dir);
  tst_clock_ms = 1700000000123;
  tern_store_t *s = open_store(dir, &cfg);
  ASSERT(s);
  tern_store_msg_t m = tst_msg("T", 0, "hi", "TAGS\001A\002");
  tern_put_result_t pr;
  ASSERT_OK(tern_store_put(s, &m, &pr));
  ASSERT_EQ(pr.status, TERN_PUT_OK);
  ASSERT_EQ(pr.wrote_offset, 0);
  ASSERT_EQ(pr.wrote_bytes, 101);
  ASSERT_EQ(pr.queue_offset, 0);
  static const uint8_t want[101] = {
      0x00, 0x00, 0x00, 0x65, 0xda, 0xa3, 0x20, 0xa7, 0x58, 0x93, 0x2a, 0xac, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00, 0x0a, 0x00, 0x00,
      0x05, 0x00, 0x00, 0xc3, 0x50, 0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x7b, 0x0a, 0x00, 0x00, 0x01,
      0x00, 0x00, 0x2a, 0x9f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x02, 0x68, 0x69, 0x01, 0x54, 0x00, 0x07, 0x54, 0x41, 0x47, 0x53, 0x01, 0x41, 0x02};
  tern_store_span_t sp[4];
  tern_get_result_t r = get(s, "T", 0, 0, 32, NULL, sp, 4);
  ASSERT_EQ(r.status, TERN_GET_FOUND);
  ASSERT_EQ(r.n, 1);
  ASSERT_EQ(sp[0].len, 101);
  ASSERT_MEM_EQ(sp[0].p, want, 101);
  tern_store_close(s);
  /* the same bytes are in the commit-log file, and the CQ entry is (0, 101, hash("A")=65) */
  char *clog = tst_path(dir, "commitlog/00000000000000000000");
  FILE *f = fopen(clog, "rb");
  ASSERT(f);
  uint8_t got[101];
  ASSERT_EQ(fread(got, 1, 101, f), 101);
  fclose(f);
  ASSERT_MEM_EQ(got, want, 101);
  char *cq = tst_path(dir, "consumequeue/T/0/00000000000000000000");
  f = fopen(cq, "rb");
  ASSERT(f);
  uint8_t e[20];
  ASSERT_EQ(fread(e, 1, 20, f), 20);
  fclose(f);
  const uint8_t want_e[20] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 101, 0, 0, 0, 0, 0, 0, 0, 65};
  ASSERT_MEM_EQ(e, want_e, 20);
  struct stat st;
  ASSERT_OK(stat(clog, &st));
  ASSERT_EQ(st.st_size, 64 * 1024);
  free(clog);
  free(cq);
  tst_clock_ms = 0;
  tst_rmrf(dir);
  free(dir);
}

TEST(every_field_round_trips) {
  char *dir = tst_tmpdir("fields");
  tern_store_config_t cfg;
  tst_config(&cfg, dir);
  tst_clock_ms = 1710000000999;
  tern_store_t *s = open_store(dir, &cfg);
  ASSERT(s);
  tern_store_msg_t m = tst_msg("RoundTrip", 3, "body-bytes\001\002\000x", "TAGS\001tg\002KEYS\001k1 k2\002");
  m.flag = -7;
  m.sys_flag = TERN_SYSFLAG_TRANSACTION_COMMIT_TYPE | TERN_SYSFLAG_COMPRESSED;
  m.born_timestamp = 1699999999999;
  m.born_host = (tern_host_t){{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 16, 40001};
  m.store_host = (tern_host_t){{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}, 16, 10911};
  m.reconsume_times = 5;
  m.prepared_transaction_offset = 123456789;
  tern_put_result_t pr;
  ASSERT_OK(tern_store_put(s, &m, &pr));
  m.queue_id = 3;
  ASSERT_OK(tern_store_put(s, &m, &pr)); /* second record: queue offset 1, phys after the first */
  tern_store_span_t sp[4];
  tern_get_result_t r = get(s, "RoundTrip", 3, 0, 32, NULL, sp, 4);
  ASSERT_EQ(r.n, 2);
  for (int i = 0; i < 2; i++) {
    tern_msg_record_t d;
    tern_err_t err = {0};
    ASSERT_OK(tern_msg_record_decode(sp[i].p, sp[i].len, &d, &err));
    ASSERT_EQ(d.magic, TERN_MSG_MAGIC_V1);
    ASSERT_EQ(d.total_size, (int32_t)sp[i].len);
    ASSERT_EQ(d.body_crc, (int32_t)tern_crc32_body((const uint8_t *)d.body.p, d.body.n));
    ASSERT_EQ(d.queue_id, 3);
    ASSERT_EQ(d.flag, -7);
    ASSERT_EQ(d.queue_offset, i);
    ASSERT_EQ(d.physical_offset, sp[i].phys_offset);
    ASSERT_EQ(d.sys_flag, TERN_SYSFLAG_TRANSACTION_COMMIT_TYPE | TERN_SYSFLAG_COMPRESSED | TERN_SYSFLAG_BORNHOST_V6 |
                              TERN_SYSFLAG_STOREHOSTADDRESS_V6);
    ASSERT_EQ(d.born_timestamp, 1699999999999);
    ASSERT_EQ(d.born_host.ip_len, 16);
    ASSERT_MEM_EQ(d.born_host.ip, m.born_host.ip, 16);
    ASSERT_EQ(d.born_host.port, 40001);
    ASSERT_EQ(d.store_timestamp, 1710000000999);
    ASSERT_EQ(d.store_host.ip_len, 16);
    ASSERT_MEM_EQ(d.store_host.ip, m.store_host.ip, 16);
    ASSERT_EQ(d.store_host.port, 10911);
    ASSERT_EQ(d.reconsume_times, 5);
    ASSERT_EQ(d.prepared_transaction_offset, 123456789);
    ASSERT(tern_str_eq(d.body, m.body));
    ASSERT_STR(d.topic, "RoundTrip");
    ASSERT(tern_str_eq(d.properties, m.properties));
  }
  ASSERT_EQ(sp[1].phys_offset, sp[0].len);
  /* by physical offset */
  tern_store_span_t one;
  tern_msg_record_t rec;
  ASSERT_OK(tern_store_lookup_by_phys_offset(s, sp[1].phys_offset, &one, &rec, NULL));
  ASSERT_EQ(rec.queue_offset, 1);
  ASSERT_EQ(tern_store_lookup_by_phys_offset(s, 5, &one, &rec, NULL), TERN_ECORRUPT);
  ASSERT_EQ(tern_store_lookup_by_phys_offset(s, 1 << 20, &one, &rec, NULL), TERN_ENOTFOUND);
  tern_store_close(s);
  tst_clock_ms = 0;
  tst_rmrf(dir);
  free(dir);
}

/* Records of `body_len` bytes in topic "Roll" (91 + body + 4 + 0). */
static int32_t roll_size(size_t body_len) { return (int32_t)(91 + body_len + 4); }

TEST(rollover_at_exact_boundaries) {
  char *dir = tst_tmpdir("roll");
  tern_store_config_t cfg;
  tst_config(&cfg, dir);
  const int64_t FS = cfg.mapped_file_size_commit_log;
  tern_store_t *s = open_store(dir, &cfg);
  ASSERT(s);
  static char body[4000];
  memset(body, 'b', sizeof body - 1);
  /* fill the first file so that exactly size+8 bytes remain for the last record */
  int64_t pos = 0;
  int nmsg = 0;
  size_t blen = 3000;
  while (FS - pos - (roll_size(blen) + 8) >= roll_size(blen) + 8 + roll_size(100)) {
    body[blen] = 0;
    tern_store_msg_t m = tst_msg("Roll", 0, body, NULL);
    tern_put_result_t pr;
    ASSERT_OK(tern_store_put(s, &m, &pr));
    ASSERT_EQ(pr.wrote_offset, pos);
    pos += pr.wrote_bytes;
    nmsg++;
    body[blen] = 'b';
  }
  /* a record leaving exactly 8 bytes fits in this file */
  int64_t left = FS - pos;
  size_t exact = (size_t)(left - 8 - 95);
  memset(body, 'c', exact);
  body[exact] = 0;
  tern_store_msg_t m = tst_msg("Roll", 0, body, NULL);
  tern_put_result_t pr;
  ASSERT_OK(tern_store_put(s, &m, &pr));
  ASSERT_EQ(pr.wrote_offset, pos);
  ASSERT_EQ(pr.wrote_offset + pr.wrote_bytes, FS - 8);
  nmsg++;
  /* the next record goes to the next file at exactly FS, after an 8-byte blank */
  m = tst_msg("Roll", 0, "x", NULL);
  ASSERT_OK(tern_store_put(s, &m, &pr));
  ASSERT_EQ(pr.wrote_offset, FS);
  nmsg++;
  char *f2 = tst_path(dir, "commitlog/00000000000000065536");
  ASSERT_EQ(access(f2, F_OK), 0);
  /* a record one byte too big for the remaining room of file 2 also rolls */
  pos = FS + pr.wrote_bytes;
  left = 2 * FS - pos;
  size_t too_big = (size_t)(left - 8 - 95 + 1);
  char *big = malloc(too_big + 1);
  memset(big, 'd', too_big);
  big[too_big] = 0;
  m = tst_msg("Roll", 0, big, NULL);
  ASSERT_OK(tern_store_put(s, &m, &pr));
  ASSERT_EQ(pr.wrote_offset, 2 * FS);
  nmsg++;
  free(big);
  /* blank fillers at both file ends: TOTALSIZE = rest of file, BLANK magic */
  tern_store_span_t sp[64];
  tern_get_result_t r = get(s, "Roll", 0, 0, 64, NULL, sp, 64);
  ASSERT_EQ(r.status, TERN_GET_FOUND);
  /* pull limits: 32 messages or 256 KiB per pull, the rest on the next one */
  int64_t seen = 0, next = 0;
  while (next < nmsg) {
    r = get(s, "Roll", 0, next, 64, NULL, sp, 64);
    ASSERT_EQ(r.status, TERN_GET_FOUND);
    for (size_t i = 0; i < r.n; i++) ASSERT_EQ(sp[i].queue_offset, seen + (int64_t)i);
    seen += (int64_t)r.n;
    next = r.next_begin_offset;
    ASSERT_EQ(next, seen);
  }
  ASSERT_EQ(seen, nmsg);
  ASSERT_EQ(tern_store_get_max_offset(s, TERN_STR("Roll"), 0), nmsg);
  tern_store_close(s);
  char *f1 = tst_path(dir, "commitlog/00000000000000000000");
  FILE *f = fopen(f1, "rb");
  ASSERT(f);
  uint8_t tail[8];
  fseek(f, (long)(FS - 8), SEEK_SET);
  ASSERT_EQ(fread(tail, 1, 8, f), 8);
  fclose(f);
  ASSERT_EQ(tern_load_be32(tail), 8);
  ASSERT_EQ((int32_t)tern_load_be32(tail + 4), TERN_MSG_MAGIC_BLANK);
  /* reopen: the store continues at the same place */
  s = open_store(dir, &cfg);
  ASSERT(s);
  ASSERT_EQ(tern_store_get_max_offset(s, TERN_STR("Roll"), 0), nmsg);
  m = tst_msg("Roll", 0, "after", NULL);
  ASSERT_OK(tern_store_put(s, &m, &pr));
  ASSERT_EQ(pr.queue_offset, nmsg);
  tern_store_close(s);
  free(f1);
  free(f2);
  tst_rmrf(dir);
  free(dir);
}

TEST(pull_statuses_and_tag_filter) {
  char *dir = tst_tmpdir("pull");
  tern_store_config_t cfg;
  tst_config(&cfg, dir);
  tern_store_t *s = open_store(dir, &cfg);
  ASSERT(s);
  tern_store_span_t sp[64];
  tern_get_result_t r = get(s, "P", 0, 0, 32, NULL, sp, 64);
  ASSERT_EQ(r.status, TERN_GET_NO_MATCHED_LOGIC_QUEUE);
  ASSERT_EQ(r.next_begin_offset, 0);
  for (int i = 0; i < 10; i++) {
    tern_store_msg_t m = tst_msg("P", 1, "x", i % 2 ? "TAGS\001odd\002" : "TAGS\001even\002");
    tern_put_result_t pr;
    ASSERT_OK(tern_store_put(s, &m, &pr));
    ASSERT_EQ(pr.queue_offset, i);
  }
  r = get(s, "P", 1, 10, 32, NULL, sp, 64);
  ASSERT_EQ(r.status, TERN_GET_OFFSET_OVERFLOW_ONE);
  ASSERT_EQ(r.next_begin_offset, 10);
  ASSERT_EQ(r.max_offset, 10);
  r = get(s, "P", 1, 15, 32, NULL, sp, 64);
  ASSERT_EQ(r.status, TERN_GET_OFFSET_OVERFLOW_BADLY);
  ASSERT_EQ(r.next_begin_offset, 10); /* corrected to maxOffset */
  /* everything counts as cold when the hot share of RAM is 0%: 8 per pull */
  tern_store_close(s);
  cfg.access_message_in_memory_max_ratio = 0;
  s = open_store(dir, &cfg);
  ASSERT(s);
  for (int i = 10; i < 40; i++) {
    tern_store_msg_t m = tst_msg("P", 1, "x", i % 2 ? "TAGS\001odd\002" : "TAGS\001even\002");
    tern_put_result_t pr;
    ASSERT_OK(tern_store_put(s, &m, &pr));
  }
  r = get(s, "P", 1, 0, 32, NULL, sp, 64);
  ASSERT_EQ(r.status, TERN_GET_FOUND);
  ASSERT_EQ(r.n, 8);
  ASSERT(r.suggest_pulling_from_slave);
  r = get(s, "P", 1, 39, 32, NULL, sp, 64);
  ASSERT_EQ(r.n, 1);
  tern_store_close(s);
  cfg.access_message_in_memory_max_ratio = 40;
  s = open_store(dir, &cfg);
  ASSERT(s);
  r = get(s, "P", 1, 0, 64, NULL, sp, 64);
  ASSERT_EQ(r.n, 32); /* hot: 32 per pull */
  ASSERT(!r.suggest_pulling_from_slave);
  int32_t odd = tern_java_string_hash(TERN_STR("odd"));
  tern_store_filter_t f = {&odd, 1, NULL, NULL};
  r = get(s, "P", 1, 0, 3, &f, sp, 64);
  ASSERT_EQ(r.status, TERN_GET_FOUND);
  ASSERT_EQ(r.n, 3);
  ASSERT_EQ(sp[0].queue_offset, 1);
  ASSERT_EQ(sp[1].queue_offset, 3);
  ASSERT_EQ(sp[2].queue_offset, 5);
  ASSERT_EQ(r.next_begin_offset, 6);
  int32_t none = tern_java_string_hash(TERN_STR("none"));
  tern_store_filter_t f2 = {&none, 1, NULL, NULL};
  r = get(s, "P", 1, 0, 32, &f2, sp, 64);
  ASSERT_EQ(r.status, TERN_GET_NO_MATCHED_MESSAGE);
  ASSERT_EQ(r.next_begin_offset, 40);
  ASSERT_EQ(tern_store_get_min_offset(s, TERN_STR("P"), 1), 0);
  ASSERT_EQ(tern_store_get_max_offset(s, TERN_STR("P"), 1), 40);
  ASSERT_EQ(tern_store_get_max_offset(s, TERN_STR("P"), 2), 0);
  tern_store_close(s);
  tst_rmrf(dir);
  free(dir);
}

TEST(batch_and_illegal_messages) {
  char *dir = tst_tmpdir("batch");
  tern_store_config_t cfg;
  tst_config(&cfg, dir);
  cfg.max_message_size = 1000;
  tern_store_t *s = open_store(dir, &cfg);
  ASSERT(s);
  tern_store_msg_t b[5];
  for (int i = 0; i < 5; i++) b[i] = tst_msg("B", 0, "batch", NULL);
  tern_put_result_t pr;
  ASSERT_OK(tern_store_put_batch(s, b, 5, &pr));
  ASSERT_EQ(pr.msg_num, 5);
  ASSERT_EQ(pr.queue_offset, 0);
  ASSERT_EQ(tern_store_get_max_offset(s, TERN_STR("B"), 0), 5);
  /* one bad record refuses the whole batch */
  static char big[2000];
  memset(big, 'z', sizeof big - 1);
  b[3].body = tern_str_from_cstr(big);
  ASSERT_NE(tern_store_put_batch(s, b, 5, &pr), 0);
  ASSERT_EQ(pr.status, TERN_PUT_MESSAGE_ILLEGAL);
  ASSERT_EQ(tern_store_get_max_offset(s, TERN_STR("B"), 0), 5);
  tern_store_msg_t m = tst_msg("../etc", 0, "x", NULL);
  ASSERT_NE(tern_store_put(s, &m, &pr), 0);
  ASSERT_EQ(pr.status, TERN_PUT_MESSAGE_ILLEGAL);
  static char longtopic[200];
  memset(longtopic, 'a', 150);
  m = tst_msg(longtopic, 0, "x", NULL);
  ASSERT_NE(tern_store_put(s, &m, &pr), 0);
  ASSERT_EQ(pr.status, TERN_PUT_MESSAGE_ILLEGAL);
  static char props[40000];
  memset(props, 'p', sizeof props - 1);
  m = tst_msg("B", 0, "x", props);
  ASSERT_NE(tern_store_put(s, &m, &pr), 0);
  ASSERT_EQ(pr.status, TERN_PUT_PROPERTIES_SIZE_EXCEEDED);
  m = tst_msg("B", -1, "x", NULL);
  ASSERT_NE(tern_store_put(s, &m, &pr), 0);
  ASSERT_EQ(pr.status, TERN_PUT_MESSAGE_ILLEGAL);
  /* half messages take queue offset 0 and are not dispatched */
  m = tst_msg("B", 0, "half", NULL);
  m.sys_flag = TERN_SYSFLAG_TRANSACTION_PREPARED_TYPE;
  ASSERT_OK(tern_store_put(s, &m, &pr));
  ASSERT_EQ(pr.queue_offset, 0);
  ASSERT_EQ(tern_store_get_max_offset(s, TERN_STR("B"), 0), 5);
  tern_store_close(s);
  tst_rmrf(dir);
  free(dir);
}

TEST(batch_stays_in_one_file) {
  char *dir = tst_tmpdir("batchroll");
  tern_store_config_t cfg;
  tst_config(&cfg, dir);
  tern_store_t *s = open_store(dir, &cfg);
  ASSERT(s);
  static char body[1001];
  memset(body, 'b', 1000);
  tern_store_msg_t m = tst_msg("BR", 0, body, NULL); /* 91 + 1000 + 2 = 1093-byte records */
  const int64_t R = 1093;
  tern_put_result_t pr;
  int64_t end = 0;
  /* leave room for two records but not three */
  while (65536 - end >= 3 * R + 8) {
    ASSERT_OK(tern_store_put(s, &m, &pr));
    ASSERT_EQ(pr.wrote_bytes, R);
    end = pr.end_offset;
  }
  ASSERT(65536 - end >= 2 * R + 8);
  tern_store_msg_t b[3] = {m, m, m};
  ASSERT_OK(tern_store_put_batch(s, b, 3, &pr));
  ASSERT_EQ(pr.wrote_offset, 65536); /* whole batch in the next file, after a blank */
  ASSERT_EQ(pr.wrote_bytes, 3 * R);
  tern_store_span_t sp[64];
  tern_get_result_t r = {0};
  r.spans = sp;
  r.cap = 64;
  int64_t got = 0, off = 0;
  while (tern_store_get_messages(s, TERN_STR("BR"), 0, off, 32, NULL, &r) == 0 && r.status == TERN_GET_FOUND) {
    got += (int64_t)r.n;
    off = r.next_begin_offset;
  }
  ASSERT_EQ(got, tern_store_get_max_offset(s, TERN_STR("BR"), 0));
  tern_store_close(s);
  tst_rmrf(dir);
  free(dir);
}

TEST(query_by_key_time_and_earliest) {
  char *dir = tst_tmpdir("key");
  tern_store_config_t cfg;
  tst_config(&cfg, dir);
  tst_clock_ms = 1700000000000;
  tern_store_t *s = open_store(dir, &cfg);
  ASSERT(s);
  /* 300 records: more than one 256-entry index file (two keys each) */
  for (int i = 0; i < 300; i++) {
    char props[128];
    snprintf(props, sizeof props, "KEYS\001k%d shared\002UNIQ_KEY\001U%08d\002", i, i);
    tern_store_msg_t m = tst_msg("K", 0, "v", props);
    tern_put_result_t pr;
    tst_clock_ms = 1700000000000 + (int64_t)i * 2000;
    ASSERT_OK(tern_store_put(s, &m, &pr));
  }
  tern_store_span_t out[64];
  size_t n;
  ASSERT_OK(tern_store_query_by_key(s, TERN_STR("K"), TERN_STR("k7"), 32, 0, INT64_MAX, out, &n));
  ASSERT_EQ(n, 1);
  tern_msg_record_t d;
  ASSERT_OK(tern_msg_record_decode(out[0].p, out[0].len, &d, NULL));
  ASSERT_EQ(d.queue_offset, 7);
  ASSERT_OK(tern_store_query_by_key(s, TERN_STR("K"), TERN_STR("U00000299"), 32, 0, INT64_MAX, out, &n));
  ASSERT_EQ(n, 1);
  ASSERT_OK(tern_store_query_by_key(s, TERN_STR("K"), TERN_STR("shared"), 10, 0, INT64_MAX, out, &n));
  ASSERT_EQ(n, 10);
  ASSERT_OK(tern_msg_record_decode(out[0].p, out[0].len, &d, NULL));
  ASSERT_EQ(d.queue_offset, 299); /* newest first */
  ASSERT_OK(tern_store_query_by_key(s, TERN_STR("Other"), TERN_STR("k7"), 32, 0, INT64_MAX, out, &n));
  ASSERT_EQ(n, 0);
  /* time window: records 10..14 */
  ASSERT_OK(tern_store_query_by_key(s, TERN_STR("K"), TERN_STR("shared"), 64, 1700000020000, 1700000028000, out,
                                    &n));
  ASSERT_EQ(n, 5);
  /* search by time: exact, between (nearer), before all, after all */
  ASSERT_EQ(tern_store_search_offset_by_time(s, TERN_STR("K"), 0, 1700000010000), 5);
  ASSERT_EQ(tern_store_search_offset_by_time(s, TERN_STR("K"), 0, 1700000010900), 5);
  ASSERT_EQ(tern_store_search_offset_by_time(s, TERN_STR("K"), 0, 1700000011100), 6);
  ASSERT_EQ(tern_store_search_offset_by_time(s, TERN_STR("K"), 0, 1700000011000), 5); /* a tie goes to the earlier */
  ASSERT_EQ(tern_store_search_offset_by_time(s, TERN_STR("K"), 0, 1), 0);
  ASSERT_EQ(tern_store_search_offset_by_time(s, TERN_STR("K"), 0, INT64_MAX), 299);
  ASSERT_EQ(tern_store_search_offset_by_time(s, TERN_STR("Nope"), 0, 5), 0);
  ASSERT_EQ(tern_store_earliest_store_time(s, TERN_STR("K"), 0), 1700000000000);
  ASSERT_EQ(tern_store_earliest_store_time(s, TERN_STR("Nope"), 0), -1);
  ASSERT_EQ(tern_store_get_store_time(s, TERN_STR("K"), 0, 7), 1700000014000);
  ASSERT_EQ(tern_store_get_store_time(s, TERN_STR("K"), 0, 300), -1);
  tern_store_close(s);
  /* the index survives a restart */
  s = open_store(dir, &cfg);
  ASSERT(s);
  ASSERT_OK(tern_store_query_by_key(s, TERN_STR("K"), TERN_STR("k123"), 32, 0, INT64_MAX, out, &n));
  ASSERT_EQ(n, 1);
  tern_store_close(s);
  tst_clock_ms = 0;
  tst_rmrf(dir);
  free(dir);
}

TEST(failed_dispatch_is_retried_in_order) {
  char *dir = tst_tmpdir("redo");
  tern_store_config_t cfg;
  tst_config(&cfg, dir);
  tern_store_t *s = open_store(dir, &cfg);
  ASSERT(s);
  /* a plain file where queue D/0's directory must go: its first file cannot be created */
  char *topic_dir = tst_path(dir, "consumequeue/D");
  ASSERT_OK(mkdir(topic_dir, 0755));
  char *blocker = tst_path(dir, "consumequeue/D/0");
  FILE *b = fopen(blocker, "w");
  ASSERT(b);
  fclose(b);
  tst_log_clear();
  tern_store_msg_t m = tst_msg("D", 0, "first", NULL);
  tern_put_result_t pr;
  ASSERT_OK(tern_store_put(s, &m, &pr)); /* stored; its entry is pending */
  ASSERT(tst_log_contains("dispatch stopped"));
  ASSERT_EQ(tern_store_get_max_offset(s, TERN_STR("D"), 0), 0);
  m = tst_msg("E", 0, "other queue", NULL);
  ASSERT_OK(tern_store_put(s, &m, &pr)); /* waits behind the pending one: order is kept */
  ASSERT_EQ(tern_store_get_max_offset(s, TERN_STR("E"), 0), 0);
  ASSERT_OK(unlink(blocker));
  m = tst_msg("D", 0, "second", NULL);
  ASSERT_OK(tern_store_put(s, &m, &pr));
  ASSERT_EQ(pr.queue_offset, 1);
  ASSERT_EQ(tern_store_get_max_offset(s, TERN_STR("D"), 0), 2);
  ASSERT_EQ(tern_store_get_max_offset(s, TERN_STR("E"), 0), 1);
  tern_store_span_t sp[4];
  tern_get_result_t r = get(s, "D", 0, 0, 4, NULL, sp, 4);
  ASSERT_EQ(r.n, 2);
  tern_msg_record_t d;
  ASSERT_OK(tern_msg_record_decode(sp[0].p, sp[0].len, &d, NULL));
  ASSERT_STR(d.body, "first");
  tern_store_close(s);
  free(topic_dir);
  free(blocker);
  tst_rmrf(dir);
  free(dir);
}

TEST(delete_topic) {
  char *dir = tst_tmpdir("deltopic");
  tern_store_config_t cfg;
  tst_config(&cfg, dir);
  tern_store_t *s = open_store(dir, &cfg);
  ASSERT(s);
  for (int i = 0; i < 6; i++) {
    tern_store_msg_t m = tst_msg(i % 2 ? "Gone" : "Kept", i % 3, "x", NULL);
    tern_put_result_t pr;
    ASSERT_OK(tern_store_put(s, &m, &pr));
  }
  ASSERT_EQ(tern_store_delete_topic(s, TERN_STR("Gone")), 3);
  ASSERT_EQ(tern_store_get_max_offset(s, TERN_STR("Gone"), 1), 0);
  ASSERT_EQ(tern_store_get_max_offset(s, TERN_STR("Kept"), 0), 1);
  char *gone = tst_path(dir, "consumequeue/Gone");
  ASSERT(access(gone, F_OK) != 0);
  tern_store_span_t sp[4];
  tern_get_result_t r = get(s, "Gone", 1, 0, 4, NULL, sp, 4);
  ASSERT_EQ(r.status, TERN_GET_NO_MATCHED_LOGIC_QUEUE);
  tern_store_msg_t m = tst_msg("Gone", 1, "again", NULL);
  tern_put_result_t pr;
  ASSERT_OK(tern_store_put(s, &m, &pr));
  ASSERT_EQ(pr.queue_offset, 0);
  tern_store_tick(s);
  tern_store_close(s);
  /* the deleted queue's old entries do not come back after a restart */
  s = open_store(dir, &cfg);
  ASSERT(s);
  ASSERT_EQ(tern_store_get_max_offset(s, TERN_STR("Gone"), 1), 1);
  ASSERT_EQ(tern_store_get_max_offset(s, TERN_STR("Gone"), 0), 0);
  tern_store_close(s);
  free(gone);
  tst_rmrf(dir);
  free(dir);
}

static int64_t seen_codes[8];
static size_t n_seen;
static bool capture_code(void *ctx, int64_t code) {
  (void)ctx;
  if (n_seen < 8) seen_codes[n_seen++] = code;
  return true;
}

TEST(schedule_topic_entries_carry_delivery_time) {
  char *dir = tst_tmpdir("sched");
  tern_store_config_t cfg;
  tst_config(&cfg, dir);
  tst_clock_ms = 1700000000000;
  tern_store_t *s = open_store(dir, &cfg);
  ASSERT(s);
  const char *props[] = {"DELAY\0013\002TAGS\001t\002", "DELAY\00199\002", "DELAY\0010\002TAGS\001A\002"};
  for (int i = 0; i < 3; i++) {
    tern_store_msg_t m = tst_msg("SCHEDULE_TOPIC_XXXX", 2, "d", props[i]);
    tern_put_result_t pr;
    ASSERT_OK(tern_store_put(s, &m, &pr));
  }
  tern_store_filter_t f = {NULL, 0, capture_code, NULL};
  tern_store_span_t sp[8];
  n_seen = 0;
  tern_get_result_t r = get(s, "SCHEDULE_TOPIC_XXXX", 2, 0, 8, &f, sp, 8);
  ASSERT_EQ(r.n, 3);
  ASSERT_EQ(seen_codes[0], 1700000000000 + 10000);   /* level 3 = 10s */
  ASSERT_EQ(seen_codes[1], 1700000000000 + 7200000); /* past the last level: the last (2h) */
  ASSERT_EQ(seen_codes[2], 65);                      /* no delay: the tag hash */
  tern_store_close(s);
  cfg.message_delay_level = "1s 5x";
  tern_err_t err = {0};
  ASSERT_EQ(tern_store_open(&cfg, &s, &err), TERN_EINVAL);
  ASSERT_STREQ(err.field, "messageDelayLevel");
  tst_clock_ms = 0;
  tst_rmrf(dir);
  free(dir);
}

TEST(second_open_is_refused) {
  char *dir = tst_tmpdir("lock");
  tern_store_config_t cfg;
  tst_config(&cfg, dir);
  tern_store_t *s = open_store(dir, &cfg);
  ASSERT(s);
  tern_store_t *s2 = NULL;
  tern_err_t err = {0};
  /* fcntl locks are per process: check from a child */
  pid_t pid = fork();
  if (pid == 0) {
    int rc = tern_store_open(&cfg, &s2, &err);
    _exit(rc == TERN_EBUSY ? 0 : 1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  tern_store_close(s);
  tst_rmrf(dir);
  free(dir);
}
