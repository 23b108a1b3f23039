/* Restart behaviour: a clean exit restarts without a scan; an abnormal exit
 * (the `abort` file left behind) validates the log from the checkpoint, cuts a
 * torn tail, and rebuilds consume queues and index entries that lag or are
 * damaged. Corrupted and truncated commit-log, queue and index files are
 * detected, reported with file and offset, and never crash the store. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tern_test.h"
#include "test_util.h"

typedef struct fixture {
  char *dir;
  tern_store_config_t cfg;
  tern_store_t *s;
  int64_t phys[128];
  int32_t len[128];
  int n;
} fixture_t;

static tern_store_t *reopen(fixture_t *fx) {
  tern_err_t err = {0};
  fx->s = NULL;
  if (tern_store_open(&fx->cfg, &fx->s, &err) != 0) fprintf(stderr, "  open: %s\n", err.reason);
  return fx->s;
}

/* n messages, alternately in queues 0 and 1 of topic R, each with a key. */
static void fill(fixture_t *fx, const char *tag, int n) {
  fx->dir = tst_tmpdir(tag);
  tst_config(&fx->cfg, fx->dir);
  tst_log_clear();
  reopen(fx);
  static char body[2500];
  for (int i = 0; i < n; i++) {
    memset(body, 'a' + i % 26, sizeof body - 1);
    char props[64];
    snprintf(props, sizeof props, "KEYS\001key%d\002TAGS\001t\002", i);
    tern_store_msg_t m = tst_msg("R", i % 2, body, props);
    tern_put_result_t pr;
    tern_store_put(fx->s, &m, &pr);
    fx->phys[i] = pr.wrote_offset;
    fx->len[i] = pr.wrote_bytes;
  }
  fx->n = n;
}

static void done(fixture_t *fx) {
  if (fx->s) tern_store_close(fx->s);
  tst_rmrf(fx->dir);
  free(fx->dir);
}

static void make_abort(fixture_t *fx) {
  char *p = tst_path(fx->dir, "abort");
  int fd = open(p, O_CREAT | O_WRONLY, 0644);
  if (fd >= 0) close(fd);
  free(p);
}

static char *clog_file(fixture_t *fx, int64_t off) {
  char name[64];
  snprintf(name, sizeof name, "commitlog/%020lld", (long long)(off / fx->cfg.mapped_file_size_commit_log *
                                                              fx->cfg.mapped_file_size_commit_log));
  return tst_path(fx->dir, name);
}

/* Every message 0..upto-1 readable with its queue offset and body. */
static int count_readable(fixture_t *fx) {
  int ok = 0;
  for (int q = 0; q < 2; q++) {
    int64_t off = 0;
    for (;;) {
      tern_store_span_t sp[32];
      tern_get_result_t r = {0};
      r.spans = sp;
      r.cap = 32;
      tern_store_get_messages(fx->s, TERN_STR("R"), q, off, 32, NULL, &r);
      if (r.status != TERN_GET_FOUND) break;
      for (size_t i = 0; i < r.n; i++) {
        tern_msg_record_t d;
        if (tern_msg_record_decode(sp[i].p, sp[i].len, &d, NULL) != 0) return -1;
        if ((int32_t)tern_crc32_body((const uint8_t *)d.body.p, d.body.n) != d.body_crc) return -1;
        if (d.queue_offset != sp[i].queue_offset) return -1;
        ok++;
      }
      off = r.next_begin_offset;
    }
  }
  return ok;
}

TEST(clean_restart_without_scan) {
  fixture_t fx = {0};
  fill(&fx, "clean", 60);
  int64_t end = tern_store_commitlog_max_offset(fx.s);
  tern_store_close(fx.s);
  ASSERT(reopen(&fx));
  tern_store_stats_t st;
  tern_store_get_stats(fx.s, &st);
  ASSERT(st.last_exit_ok);
  ASSERT_EQ(st.recovered_from, end); /* nothing scanned */
  ASSERT_EQ(tern_store_commitlog_max_offset(fx.s), end);
  ASSERT_EQ(count_readable(&fx), 60);
  tern_store_msg_t m = tst_msg("R", 0, "more", NULL);
  tern_put_result_t pr;
  ASSERT_OK(tern_store_put(fx.s, &m, &pr));
  ASSERT_EQ(pr.queue_offset, 30);
  ASSERT_EQ(pr.wrote_offset, end);
  done(&fx);
}

TEST(abnormal_restart_cuts_torn_tail) {
  fixture_t fx = {0};
  fill(&fx, "torn", 20);
  int64_t end = tern_store_commitlog_max_offset(fx.s);
  tern_store_close(fx.s);
  /* a torn record at the end: a copy of the last record whose second half never arrived */
  char *f = clog_file(&fx, end);
  int fd = open(f, O_RDWR);
  ASSERT(fd >= 0);
  int32_t n = fx.len[19];
  uint8_t *buf = calloc(1, (size_t)n);
  ASSERT_EQ(pread(fd, buf, (size_t)n / 2, fx.phys[19] % fx.cfg.mapped_file_size_commit_log), n / 2);
  tern_store_be64(buf + 28, (uint64_t)end);
  ASSERT_EQ(pwrite(fd, buf, (size_t)n / 2, end % fx.cfg.mapped_file_size_commit_log), n / 2);
  close(fd);
  free(buf);
  make_abort(&fx);
  tst_log_clear();
  ASSERT(reopen(&fx));
  tern_store_stats_t st;
  tern_store_get_stats(fx.s, &st);
  ASSERT(!st.last_exit_ok);
  ASSERT(st.recovery_truncated_bytes > 0);
  ASSERT(tst_log_contains("corrupt data in"));
  ASSERT_EQ(tern_store_commitlog_max_offset(fx.s), end);
  ASSERT_EQ(count_readable(&fx), 20);
  /* the next record takes the torn one's place and reads back whole */
  tern_store_msg_t m = tst_msg("R", 0, "next", NULL);
  tern_put_result_t pr;
  ASSERT_OK(tern_store_put(fx.s, &m, &pr));
  ASSERT_EQ(pr.wrote_offset, end);
  ASSERT_EQ(pr.queue_offset, 10);
  ASSERT_EQ(count_readable(&fx), 21);
  free(f);
  done(&fx);
}

TEST(abnormal_restart_rebuilds_queues_and_index) {
  fixture_t fx = {0};
  fill(&fx, "rebuild", 40);
  tern_store_close(fx.s);
  char *cq = tst_path(fx.dir, "consumequeue");
  char *ix = tst_path(fx.dir, "index");
  tst_rmrf(cq);
  tst_rmrf(ix);
  make_abort(&fx);
  ASSERT(reopen(&fx));
  ASSERT_EQ(tern_store_get_max_offset(fx.s, TERN_STR("R"), 0), 20);
  ASSERT_EQ(tern_store_get_max_offset(fx.s, TERN_STR("R"), 1), 20);
  ASSERT_EQ(count_readable(&fx), 40);
  tern_store_span_t out[4];
  size_t n;
  ASSERT_OK(tern_store_query_by_key(fx.s, TERN_STR("R"), TERN_STR("key33"), 4, 0, INT64_MAX, out, &n));
  ASSERT_EQ(n, 1);
  ASSERT_EQ(out[0].phys_offset, fx.phys[33]);
  free(cq);
  free(ix);
  done(&fx);
}

TEST(flipped_commitlog_byte_is_reported_and_cut) {
  fixture_t fx = {0};
  fill(&fx, "flip", 30);
  tern_store_close(fx.s);
  char *f = clog_file(&fx, fx.phys[10]);
  int64_t at = fx.phys[10] % fx.cfg.mapped_file_size_commit_log;
  ASSERT_OK(tst_poke(f, (long)(at + 200), "\x01", 1)); /* inside the body */
  make_abort(&fx);
  tst_log_clear();
  ASSERT(reopen(&fx));
  char want[256];
  snprintf(want, sizeof want, "%s at offset %lld: BODYCRC mismatch", f, (long long)at);
  ASSERT(tst_log_contains(want));
  /* everything before the damaged record is intact; it and what follows are cut */
  ASSERT_EQ(tern_store_commitlog_max_offset(fx.s), fx.phys[10]);
  ASSERT_EQ(count_readable(&fx), 10);
  ASSERT_EQ(tern_store_get_max_offset(fx.s, TERN_STR("R"), 0), 5);
  free(f);
  done(&fx);
}

TEST(damaged_queue_entry_is_reported_and_rebuilt) {
  fixture_t fx = {0};
  fill(&fx, "cqflip", 30);
  tern_store_close(fx.s);
  char *f = tst_path(fx.dir, "consumequeue/R/1/00000000000000000000");
  ASSERT_OK(tst_poke(f, 5 * 20 + 8, "\x00\x00\x00\x00", 4)); /* entry 5: size 0 */
  tst_log_clear();
  ASSERT(reopen(&fx));
  char want[256];
  snprintf(want, sizeof want, "%s at offset 100", f);
  ASSERT(tst_log_contains(want));
  ASSERT_EQ(tern_store_get_max_offset(fx.s, TERN_STR("R"), 1), 15);
  ASSERT_EQ(count_readable(&fx), 30);
  free(f);
  done(&fx);
}

TEST(queue_entry_naming_another_record_is_skipped) {
  fixture_t fx = {0};
  fill(&fx, "cqswap", 10);
  /* while running: entry 2 of queue 0 is made to point at a record of queue 1 */
  char *f = tst_path(fx.dir, "consumequeue/R/0/00000000000000000000");
  uint8_t e[12];
  tern_store_be64(e, (uint64_t)fx.phys[5]);
  tern_store_be32(e + 8, (uint32_t)fx.len[5]);
  ASSERT_OK(tst_poke(f, 2 * 20, e, 12));
  tst_log_clear();
  tern_store_span_t sp[32];
  tern_get_result_t r = {0};
  r.spans = sp;
  r.cap = 32;
  ASSERT_OK(tern_store_get_messages(fx.s, TERN_STR("R"), 0, 0, 32, NULL, &r));
  ASSERT_EQ(r.status, TERN_GET_FOUND);
  ASSERT_EQ(r.n, 4);
  ASSERT(tst_log_contains("at offset 40: consume-queue entry names a record of another queue"));
  /* and an entry pointing into the middle of a record */
  tern_store_be64(e, (uint64_t)fx.phys[4] + 7);
  ASSERT_OK(tst_poke(f, 3 * 20, e, 12));
  r.n = 0;
  ASSERT_OK(tern_store_get_messages(fx.s, TERN_STR("R"), 0, 0, 32, NULL, &r));
  ASSERT_EQ(r.n, 3);
  free(f);
  done(&fx);
}

TEST(truncated_files_are_detected) {
  fixture_t fx = {0};
  fill(&fx, "trunc", 30);
  int64_t end = tern_store_commitlog_max_offset(fx.s);
  tern_store_close(fx.s);
  /* the last commit-log file cut in the middle of a record */
  char *f = clog_file(&fx, end);
  int64_t base = end / fx.cfg.mapped_file_size_commit_log * fx.cfg.mapped_file_size_commit_log;
  int k = 0;
  while (k < 30 && fx.phys[k] < base) k++;
  ASSERT(k + 2 < 30);
  ASSERT_OK(truncate(f, (off_t)(fx.phys[k + 1] - base + 10)));
  /* and a consume-queue file cut short */
  char *q = tst_path(fx.dir, "consumequeue/R/0/00000000000000000000");
  ASSERT_OK(truncate(q, 33));
  tst_log_clear();
  ASSERT(reopen(&fx));
  ASSERT(tst_log_contains("shorter than mappedFileSizeCommitLog"));
  ASSERT(tst_log_contains("consumequeue/R/0"));
  ASSERT_EQ(tern_store_commitlog_max_offset(fx.s), fx.phys[k + 1]);
  ASSERT_EQ(count_readable(&fx), k + 1);
  ASSERT_EQ(tern_store_get_max_offset(fx.s, TERN_STR("R"), 0) + tern_store_get_max_offset(fx.s, TERN_STR("R"), 1),
            k + 1);
  tern_store_close(fx.s);
  fx.s = NULL;
  /* a short file that is not the last cannot be repaired: open fails and says which */
  char *first = clog_file(&fx, 0);
  ASSERT_OK(truncate(first, 1000));
  tst_log_clear();
  tern_err_t err = {0};
  tern_store_t *s2 = NULL;
  ASSERT_EQ(tern_store_open(&fx.cfg, &s2, &err), TERN_ECORRUPT);
  ASSERT(tst_log_contains(first));
  free(first);
  free(f);
  free(q);
  done(&fx);
}

TEST(damaged_index_never_crashes_queries) {
  fixture_t fx = {0};
  fill(&fx, "ixflip", 30);
  tern_store_close(fx.s);
  char *ixdir = tst_path(fx.dir, "index");
  char cmd[600];
  snprintf(cmd, sizeof cmd, "ls %s", ixdir);
  FILE *ls = popen(cmd, "r");
  char name[64] = "";
  ASSERT(fgets(name, sizeof name, ls));
  pclose(ls);
  name[strcspn(name, "\n")] = 0;
  char *f = tst_path(ixdir, name);
  /* garbage in every slot: chains point anywhere */
  uint8_t junk[64 * 4];
  for (size_t i = 0; i < sizeof junk; i++) junk[i] = (uint8_t)(i * 37 + 11);
  ASSERT_OK(tst_poke(f, 40, junk, sizeof junk));
  ASSERT(reopen(&fx));
  tern_store_span_t out[8];
  size_t n = 99;
  for (int i = 0; i < 30; i++) {
    char key[16];
    snprintf(key, sizeof key, "key%d", i);
    ASSERT_OK(tern_store_query_by_key(fx.s, TERN_STR("R"), tern_str_from_cstr(key), 8, 0, INT64_MAX, out, &n));
    ASSERT(n <= 1);
    if (n) ASSERT_EQ(out[0].phys_offset, fx.phys[i]); /* only verified hits */
  }
  tern_store_close(fx.s);
  /* a header that lies about its count: reported, file ignored */
  ASSERT_OK(tst_poke(f, 36, "\x7f\xff\xff\xff", 4));
  tst_log_clear();
  ASSERT(reopen(&fx));
  ASSERT(tst_log_contains("index header out of range"));
  char *bad = tst_path(ixdir, name);
  bad = realloc(bad, strlen(bad) + 8);
  strcat(bad, ".bad");
  ASSERT_EQ(access(bad, F_OK), 0); /* kept for the operator, not loaded again */
  free(bad);
  ASSERT_OK(tern_store_query_by_key(fx.s, TERN_STR("R"), TERN_STR("key3"), 8, 0, INT64_MAX, out, &n));
  ASSERT_EQ(count_readable(&fx), 30);
  free(f);
  free(ixdir);
  done(&fx);
}

TEST(damaged_checkpoint_falls_back_to_a_scan) {
  fixture_t fx = {0};
  fill(&fx, "ckpt", 40);
  int64_t end = tern_store_commitlog_max_offset(fx.s);
  tern_store_close(fx.s);
  /* the recorded end now points into the middle of record 30 */
  char *ck = tst_path(fx.dir, "checkpoint");
  uint8_t v[8];
  tern_store_be64(v, (uint64_t)(fx.phys[30] + 12));
  ASSERT_OK(tst_poke(ck, 32, v, 8));
  ASSERT(reopen(&fx));
  tern_store_stats_t st;
  tern_store_get_stats(fx.s, &st);
  ASSERT(st.recovered_from < end); /* it scanned instead of trusting the damaged value */
  ASSERT_EQ(tern_store_commitlog_max_offset(fx.s), end);
  ASSERT_EQ(count_readable(&fx), 40);
  free(ck);
  done(&fx);
}

TEST(truncated_index_file_is_set_aside) {
  fixture_t fx = {0};
  fill(&fx, "ixtrunc", 20);
  tern_store_close(fx.s);
  char *ixdir = tst_path(fx.dir, "index");
  char cmd[600];
  snprintf(cmd, sizeof cmd, "ls %s", ixdir);
  FILE *ls = popen(cmd, "r");
  char name[64] = "";
  ASSERT(fgets(name, sizeof name, ls));
  pclose(ls);
  name[strcspn(name, "\n")] = 0;
  char *f = tst_path(ixdir, name);
  ASSERT_OK(truncate(f, 1000));
  tst_log_clear();
  ASSERT(reopen(&fx));
  ASSERT(tst_log_contains(f));
  tern_store_span_t out[4];
  size_t n = 9;
  ASSERT_OK(tern_store_query_by_key(fx.s, TERN_STR("R"), TERN_STR("key3"), 4, 0, INT64_MAX, out, &n));
  ASSERT(n <= 1);
  ASSERT_EQ(count_readable(&fx), 20);
  /* new messages are indexed in a fresh file */
  tern_store_msg_t m = tst_msg("R", 0, "late", "KEYS\001late-key\002");
  tern_put_result_t pr;
  ASSERT_OK(tern_store_put(fx.s, &m, &pr));
  ASSERT_OK(tern_store_query_by_key(fx.s, TERN_STR("R"), TERN_STR("late-key"), 4, 0, INT64_MAX, out, &n));
  ASSERT_EQ(n, 1);
  free(f);
  free(ixdir);
  done(&fx);
}

/* Random damage: bytes flipped anywhere in commit-log, queue, index and
 * checkpoint files, after clean and abnormal exits. The store must open (or
 * refuse with an error) and every lookup must return well-formed records. */
static void flip_random(const char *dir, unsigned *seed, int flips) {
  char cmd[700];
  snprintf(cmd, sizeof cmd, "find %s -type f ! -name lock ! -name abort", dir);
  FILE *p = popen(cmd, "r");
  char files[64][512];
  int n = 0;
  while (n < 64 && p && fgets(files[n], sizeof files[n], p)) {
    files[n][strcspn(files[n], "\n")] = 0;
    n++;
  }
  if (p) pclose(p);
  for (int i = 0; i < flips && n > 0; i++) {
    const char *f = files[rand_r(seed) % (unsigned)n];
    FILE *fh = fopen(f, "r+b");
    if (!fh) continue;
    fseek(fh, 0, SEEK_END);
    long size = ftell(fh);
    /* most damage where the data is: the first 16 KiB of each file */
    long lim = size < 16384 ? size : (rand_r(seed) % 4 ? 16384 : size);
    if (lim > 0) {
      long at = (long)(rand_r(seed) % (unsigned)lim);
      uint8_t v = (uint8_t)rand_r(seed);
      fseek(fh, at, SEEK_SET);
      fwrite(&v, 1, 1, fh);
    }
    fclose(fh);
  }
}

TEST(random_damage_never_crashes) {
  fixture_t fx = {0};
  fill(&fx, "fuzz", 40);
  tern_store_close(fx.s);
  fx.s = NULL;
  char *pristine = tst_tmpdir("fuzz-pristine");
  char cmd[1200];
  snprintf(cmd, sizeof cmd, "cp -a %s/. %s/", fx.dir, pristine);
  ASSERT_EQ(system(cmd), 0);
  const char *es = getenv("TERN_STORE_FUZZ_SEED"); /* replay or explore other seeds */
  unsigned seed = es ? (unsigned)strtoul(es, NULL, 10) : 12345;
  int opened = 0;
  for (int round = 0; round < 40; round++) {
    snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir %s && cp -a %s/. %s/", fx.dir, fx.dir, pristine, fx.dir);
    ASSERT_EQ(system(cmd), 0);
    flip_random(fx.dir, &seed, 1 + (int)(rand_r(&seed) % 8));
    if (round % 2) make_abort(&fx);
    tern_err_t err = {0};
    tern_store_t *s = NULL;
    if (tern_store_open(&fx.cfg, &s, &err) != 0) {
      ASSERT(err.reason != NULL);
      continue;
    }
    opened++;
    fx.s = s;
    for (int q = 0; q < 2; q++) {
      int64_t off = tern_store_get_min_offset(s, TERN_STR("R"), q);
      for (int guard = 0; guard < 100; guard++) {
        tern_store_span_t sp[32];
        tern_get_result_t r = {0};
        r.spans = sp;
        r.cap = 32;
        ASSERT_OK(tern_store_get_messages(s, TERN_STR("R"), q, off, 32, NULL, &r));
        for (size_t i = 0; i < r.n; i++) {
          tern_msg_record_t d;
          ASSERT_OK(tern_msg_record_decode(sp[i].p, sp[i].len, &d, NULL));
          ASSERT(tern_str_eq(d.topic, TERN_STR("R")));
          ASSERT_EQ(d.queue_id, q);
        }
        if (r.status != TERN_GET_FOUND && r.status != TERN_GET_NO_MATCHED_MESSAGE) break;
        if (r.next_begin_offset <= off) break;
        off = r.next_begin_offset;
      }
    }
    for (int k = 0; k < 40; k += 7) {
      char key[16];
      snprintf(key, sizeof key, "key%d", k);
      tern_store_span_t out[4];
      size_t n;
      ASSERT_OK(tern_store_query_by_key(s, TERN_STR("R"), tern_str_from_cstr(key), 4, 0, INT64_MAX, out, &n));
      for (size_t i = 0; i < n; i++) {
        tern_msg_record_t d;
        ASSERT_OK(tern_msg_record_decode(out[i].p, out[i].len, &d, NULL));
      }
    }
    tern_store_search_offset_by_time(s, TERN_STR("R"), 0, 1700000000000);
    tern_store_earliest_store_time(s, TERN_STR("R"), 1);
    /* and it still takes writes */
    tern_store_msg_t m = tst_msg("R", 0, "after damage", NULL);
    tern_put_result_t pr;
    ASSERT_OK(tern_store_put(s, &m, &pr));
    tern_store_close(s);
    fx.s = NULL;
  }
  ASSERT(opened > 20);
  tst_rmrf(pristine);
  free(pristine);
  done(&fx);
}
