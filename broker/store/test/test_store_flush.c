/* Flushing: SYNC_FLUSH group commit (one fdatasync completes every writer
 * waiting at that moment), FLUSH_DISK_TIMEOUT after syncFlushTimeout, and
 * ASYNC_FLUSH's periodic flush with flushCommitLogLeastPages; the checkpoint
 * records what was flushed. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "gen/store.h"
#include "tern_test.h"
#include "test_util.h"

static _Atomic int slow_ms;
static void slow_disk(void *ctx) {
  (void)ctx;
  if (slow_ms) usleep((useconds_t)slow_ms * 1000);
}

static atomic_int ok_count, timeout_count, rounds_seen;
static void on_flush(void *arg, tern_put_status_t st) {
  (void)arg;
  if (st == TERN_PUT_OK)
    atomic_fetch_add(&ok_count, 1);
  else if (st == TERN_PUT_FLUSH_DISK_TIMEOUT)
    atomic_fetch_add(&timeout_count, 1);
}
static void on_round(void *ctx) {
  (void)ctx;
  atomic_fetch_add(&rounds_seen, 1);
}

static tern_store_t *open_with(tern_store_config_t *cfg) {
  tern_store_t *s = NULL;
  tern_err_t err = {0};
  if (tern_store_open(cfg, &s, &err) != 0) fprintf(stderr, "  open: %s\n", err.reason);
  return s;
}

TEST(sync_flush_group_commit) {
  char *dir = tst_tmpdir("gc");
  tern_store_config_t cfg;
  tst_config(&cfg, dir);
  cfg.flush_disk_type = TERN_FLUSH_SYNC;
  cfg.before_flush = slow_disk;
  slow_ms = 3; /* a disk whose sync takes 3 ms: writers pile up behind it */
  atomic_store(&ok_count, 0);
  atomic_store(&timeout_count, 0);
  atomic_store(&rounds_seen, 0);
  tern_store_t *s = open_with(&cfg);
  ASSERT(s);
  tern_store_set_flush_notify(s, on_round, NULL);
  int registered = 0, already = 0;
  for (int i = 0; i < 200; i++) {
    tern_store_msg_t m = tst_msg("G", i % 4, "payload", NULL);
    tern_put_result_t pr;
    ASSERT_OK(tern_store_put(s, &m, &pr));
    int rc = tern_store_wait_flush(s, pr.end_offset, on_flush, NULL);
    ASSERT(rc >= 0);
    if (rc == 0) registered++;
    else already++;
    if (i % 20 == 0) usleep(1000);
  }
  for (int i = 0; i < 500 && atomic_load(&ok_count) < registered; i++) usleep(10000);
  ASSERT_EQ(atomic_load(&ok_count), registered);
  ASSERT_EQ(atomic_load(&timeout_count), 0);
  tern_store_stats_t st;
  tern_store_get_stats(s, &st);
  /* far fewer syncs than writers: each one served many waiters */
  ASSERT(st.flush_rounds * 4 < 200);
  ASSERT(atomic_load(&rounds_seen) >= 1);
  ASSERT(atomic_load(&rounds_seen) <= st.flush_rounds + 1);
  ASSERT_EQ(st.sync_waiters_done, registered);
  /* blocking form */
  tern_store_msg_t m = tst_msg("G", 0, "last", NULL);
  tern_put_result_t pr;
  ASSERT_OK(tern_store_put(s, &m, &pr));
  ASSERT_EQ(tern_store_flush_block(s, pr.end_offset), TERN_PUT_OK);
  tern_store_close(s);
  slow_ms = 0;
  tst_rmrf(dir);
  free(dir);
}

TEST(deferred_waiters_one_round_per_kick) {
  char *dir = tst_tmpdir("kick");
  tern_store_config_t cfg;
  tst_config(&cfg, dir);
  cfg.flush_disk_type = TERN_FLUSH_SYNC;
  atomic_store(&ok_count, 0);
  tern_store_t *s = open_with(&cfg);
  ASSERT(s);
  tern_store_stats_t st0, st1;
  for (int pass = 0; pass < 5; pass++) {
    tern_store_get_stats(s, &st0);
    int before = atomic_load(&ok_count);
    for (int i = 0; i < 64; i++) { /* one loop pass: 64 sends, one kick */
      tern_store_msg_t m = tst_msg("K", i % 4, "payload", NULL);
      tern_put_result_t pr;
      ASSERT_OK(tern_store_put(s, &m, &pr));
      ASSERT_EQ(tern_store_wait_flush_deferred(s, pr.end_offset, on_flush, NULL), 0);
    }
    if (pass < 4) tern_store_flush_kick(s); /* the last pass is never kicked: the 10 ms round serves it */
    for (int i = 0; i < 300 && atomic_load(&ok_count) < before + 64; i++) usleep(1000);
    ASSERT_EQ(atomic_load(&ok_count), before + 64);
    tern_store_get_stats(s, &st1);
    ASSERT(st1.flush_rounds - st0.flush_rounds <= 2); /* the pass went to disk in one sync (two at a tick boundary) */
  }
  tern_store_close(s);
  tst_rmrf(dir);
  free(dir);
}

TEST(sync_flush_timeout) {
  char *dir = tst_tmpdir("to");
  tern_store_config_t cfg;
  tst_config(&cfg, dir);
  cfg.flush_disk_type = TERN_FLUSH_SYNC;
  cfg.sync_flush_timeout = 30;
  cfg.before_flush = slow_disk;
  tern_store_t *s = open_with(&cfg);
  ASSERT(s);
  slow_ms = 300;
  tern_store_msg_t m = tst_msg("T", 0, "x", NULL);
  tern_put_result_t pr;
  ASSERT_OK(tern_store_put(s, &m, &pr));
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  tern_put_status_t st = tern_store_flush_block(s, pr.end_offset);
  clock_gettime(CLOCK_MONOTONIC, &b);
  ASSERT_EQ(st, TERN_PUT_FLUSH_DISK_TIMEOUT);
  long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
  ASSERT(ms >= 28 && ms < 300); /* at the deadline, not when the slow sync ends */
  slow_ms = 0;
  usleep(400 * 1000); /* let the slow sync in progress finish */
  /* once the disk recovers, writes become durable in time again */
  ASSERT_OK(tern_store_put(s, &m, &pr));
  ASSERT_EQ(tern_store_flush_block(s, pr.end_offset), TERN_PUT_OK);
  tern_store_close(s);
  tst_rmrf(dir);
  free(dir);
}

TEST(async_flush_interval_and_least_pages) {
  char *dir = tst_tmpdir("async");
  tern_store_config_t cfg;
  tst_config(&cfg, dir);
  cfg.mapped_file_size_commit_log = 1 << 20;
  cfg.flush_interval_commit_log = 20;
  cfg.flush_interval_consume_queue = 50;
  tst_clock_ms = 1700000000000;
  tern_store_t *s = open_with(&cfg);
  ASSERT(s);
  tern_store_msg_t m = tst_msg("A", 0, "small", NULL);
  tern_put_result_t pr;
  ASSERT_OK(tern_store_put(s, &m, &pr));
  usleep(200 * 1000);
  tern_store_stats_t st;
  tern_store_get_stats(s, &st);
  ASSERT_EQ(st.flush_rounds, 0); /* under 4 dirty pages: waits for the thorough flush */
  static char body[8192];
  memset(body, 'q', sizeof body - 1);
  m = tst_msg("A", 0, body, NULL);
  ASSERT_OK(tern_store_put(s, &m, &pr));
  ASSERT_OK(tern_store_put(s, &m, &pr));
  for (int i = 0; i < 100 && st.flush_rounds == 0; i++) {
    usleep(10 * 1000);
    tern_store_get_stats(s, &st);
  }
  ASSERT(st.flush_rounds >= 1);
  /* the checkpoint names the flushed record's store time */
  usleep(200 * 1000);
  char *ck = tst_path(dir, "checkpoint");
  FILE *f = fopen(ck, "rb");
  ASSERT(f);
  uint8_t b[40];
  ASSERT_EQ(fread(b, 1, 40, f), 40);
  fclose(f);
  tern_checkpoint_t c;
  ASSERT_OK(tern_checkpoint_decode(b, 40, &c, NULL));
  ASSERT_EQ(c.physic_msg_timestamp, 1700000000000);
  ASSERT_EQ(c.logics_msg_timestamp, 1700000000000);
  ASSERT_EQ(c.confirm_phy_offset, 0); /* only an orderly shutdown writes the end */
  tern_store_close(s);
  f = fopen(ck, "rb");
  ASSERT_EQ(fread(b, 1, 40, f), 40);
  fclose(f);
  ASSERT_OK(tern_checkpoint_decode(b, 40, &c, NULL));
  ASSERT_EQ(c.confirm_phy_offset, pr.end_offset);
  free(ck);
  tst_clock_ms = 0;
  tst_rmrf(dir);
  free(dir);
}
