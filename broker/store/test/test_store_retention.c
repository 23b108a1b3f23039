/* Retention and disk safety with an injected clock and disk-usage probe:
 * expired files go at the deleteWhen hour, earlier when the disk passes
 * diskMaxUsedSpaceRatio, unexpired ones above the forcible ratio; past the
 * warning level writes are refused while reads go on; min offsets follow. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "tern_test.h"
#include "test_util.h"

/* A wall-clock time 100 days from now at the given local hour. */
static int64_t future_at_hour(int hour) {
  time_t t = time(NULL) + 100 * 86400;
  struct tm tm;
  localtime_r(&t, &tm);
  tm.tm_hour = hour;
  tm.tm_min = 30;
  tm.tm_sec = 0;
  tm.tm_isdst = -1;
  return (int64_t)mktime(&tm) * 1000;
}

static tern_store_t *setup(const char *tag, char **dir, tern_store_config_t *cfg, int nmsg) {
  *dir = tst_tmpdir(tag);
  tst_config(cfg, *dir);
  cfg->mapped_file_size_consume_queue = 10 * 20;
  tst_clock_ms = 0;
  tst_disk_ratio = 0.10;
  tern_store_t *s = NULL;
  tern_err_t err = {0};
  if (tern_store_open(cfg, &s, &err) != 0) return NULL;
  static char body[3000];
  memset(body, 'r', sizeof body - 1);
  for (int i = 0; i < nmsg; i++) {
    tern_store_msg_t m = tst_msg("Ret", 0, body, NULL);
    tern_put_result_t pr;
    if (tern_store_put(s, &m, &pr) != 0) return s;
  }
  return s;
}

static int count_files(const char *dir, const char *sub) {
  char cmd[700];
  snprintf(cmd, sizeof cmd, "ls %s/%s | wc -l", dir, sub);
  FILE *p = popen(cmd, "r");
  int n = -1;
  if (p) {
    if (fscanf(p, "%d", &n) != 1) n = -1;
    pclose(p);
  }
  return n;
}

TEST(expired_files_deleted_at_delete_hour) {
  char *dir;
  tern_store_config_t cfg;
  tern_store_t *s = setup("hour", &dir, &cfg, 110); /* ~21 records per 64 KiB file: 6 files */
  ASSERT(s);
  int files = count_files(dir, "commitlog");
  ASSERT(files >= 5);
  /* grab a span of record 0 before its file goes: it must stay readable (grace period) */
  tern_store_span_t sp[4];
  tern_get_result_t r = {0};
  r.spans = sp;
  r.cap = 4;
  ASSERT_OK(tern_store_get_messages(s, TERN_STR("Ret"), 0, 0, 1, NULL, &r));
  ASSERT_EQ(r.n, 1);
  uint8_t copy[64];
  memcpy(copy, sp[0].p, sizeof copy);

  tst_clock_ms = future_at_hour(10); /* expired, but not the delete hour, disk fine */
  tern_store_tick(s);
  ASSERT_EQ(count_files(dir, "commitlog"), files);
  ASSERT_EQ(tern_store_commitlog_min_offset(s), 0);

  tst_log_clear();
  tst_clock_ms = future_at_hour(4); /* deleteWhen=04 */
  tern_store_tick(s);
  /* never the file being written (nor the next one, already preallocated) */
  ASSERT_EQ(count_files(dir, "commitlog"), 2);
  ASSERT(tst_log_contains("older than fileReservedTime"));
  int64_t cmin = tern_store_commitlog_min_offset(s);
  ASSERT_EQ(cmin, (int64_t)(files - 2) * cfg.mapped_file_size_commit_log);
  ASSERT_MEM_EQ(sp[0].p, copy, sizeof copy); /* mapping still valid for in-flight reads */
  /* the queue's min offset moved to the first record still in the log */
  int64_t qmin = tern_store_get_min_offset(s, TERN_STR("Ret"), 0);
  ASSERT(qmin > 0);
  r.n = 0;
  ASSERT_OK(tern_store_get_messages(s, TERN_STR("Ret"), 0, 0, 1, NULL, &r));
  ASSERT_EQ(r.status, TERN_GET_OFFSET_TOO_SMALL);
  ASSERT_EQ(r.next_begin_offset, qmin);
  ASSERT_OK(tern_store_get_messages(s, TERN_STR("Ret"), 0, qmin, 4, NULL, &r));
  ASSERT_EQ(r.status, TERN_GET_FOUND);
  ASSERT(sp[0].phys_offset >= cmin);
  ASSERT(count_files(dir, "consumequeue/Ret/0") < 11); /* old queue files went too */
  ASSERT_EQ(tern_store_earliest_store_time(s, TERN_STR("Ret"), 0) > 0, 1);
  tern_store_close(s);
  /* restart keeps the new minimums */
  s = NULL;
  tern_err_t err = {0};
  ASSERT_OK(tern_store_open(&cfg, &s, &err));
  ASSERT_EQ(tern_store_commitlog_min_offset(s), cmin);
  ASSERT_EQ(tern_store_get_min_offset(s, TERN_STR("Ret"), 0), qmin);
  tern_store_close(s);
  tst_clock_ms = 0;
  tst_rmrf(dir);
  free(dir);
}

TEST(disk_pressure_and_disk_full) {
  char *dir;
  tern_store_config_t cfg;
  tern_store_t *s = setup("disk", &dir, &cfg, 110);
  ASSERT(s);
  int files = count_files(dir, "commitlog");
  tst_clock_ms = future_at_hour(10);
  tst_disk_ratio = 0.80; /* over diskMaxUsedSpaceRatio: expired files go at any hour */
  tern_store_tick(s);
  ASSERT_EQ(count_files(dir, "commitlog"), 2);
  tern_store_close(s);
  tst_rmrf(dir);
  free(dir);

  s = setup("disk2", &dir, &cfg, 110);
  ASSERT(s);
  files = count_files(dir, "commitlog");
  tst_clock_ms = 0; /* nothing has expired */
  tst_disk_ratio = 0.80;
  tern_store_tick(s);
  ASSERT_EQ(count_files(dir, "commitlog"), files);
  tst_disk_ratio = 0.87; /* over the forcible ratio: oldest files go regardless of age */
  tst_log_clear();
  tern_store_tick(s);
  ASSERT_EQ(count_files(dir, "commitlog"), 2);
  ASSERT(tst_log_contains("diskSpaceCleanForciblyRatio"));

  tst_disk_ratio = 0.95; /* over the warning level: writes refused, reads served */
  tern_store_tick(s);
  ASSERT(tern_store_disk_full(s));
  tern_store_msg_t m = tst_msg("Ret", 0, "x", NULL);
  tern_put_result_t pr;
  ASSERT_EQ(tern_store_put(s, &m, &pr), TERN_EFULL);
  ASSERT_EQ(pr.status, TERN_PUT_SERVICE_NOT_AVAILABLE);
  ASSERT(strstr(pr.reason, "disk full") != NULL);
  int64_t qmin = tern_store_get_min_offset(s, TERN_STR("Ret"), 0);
  tern_store_span_t sp[4];
  tern_get_result_t r = {0};
  r.spans = sp;
  r.cap = 4;
  ASSERT_OK(tern_store_get_messages(s, TERN_STR("Ret"), 0, qmin, 4, NULL, &r));
  ASSERT_EQ(r.status, TERN_GET_FOUND);
  tst_disk_ratio = 0.50;
  tern_store_tick(s);
  ASSERT(!tern_store_disk_full(s));
  ASSERT_OK(tern_store_put(s, &m, &pr));
  ASSERT_EQ(pr.queue_offset, 110);
  tern_store_close(s);
  tst_disk_ratio = -1;
  tst_clock_ms = 0;
  tst_rmrf(dir);
  free(dir);
}
