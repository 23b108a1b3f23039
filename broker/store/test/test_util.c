/* Test helpers for the store tests (see test_util.h). */
#include "test_util.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <unistd.h>

_Atomic int64_t tst_clock_ms;
_Atomic double tst_disk_ratio = -1;
static char log_buf[1 << 16];
static size_t log_len;

char *tst_tmpdir(const char *tag) {
  const char *base = getenv("TMPDIR");
  char tmpl[512];
  snprintf(tmpl, sizeof tmpl, "%s/tern-store-%s-XXXXXX", base && *base ? base : "/tmp", tag);
  char *d = mkdtemp(tmpl);
  return d ? strdup(d) : NULL;
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(p);
}

void tst_rmrf(const char *path) {
  if (path) nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int64_t clock_hook(void *ctx) {
  (void)ctx;
  if (tst_clock_ms) return tst_clock_ms;
  struct timeval tv;
  gettimeofday(&tv, NULL);
  return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static double disk_hook(void *ctx, const char *path) {
  (void)ctx;
  (void)path;
  return tst_disk_ratio < 0 ? 0.10 : tst_disk_ratio;
}

static void log_hook(void *ctx, const char *line) {
  (void)ctx;
  size_t n = strlen(line);
  if (log_len + n + 2 > sizeof log_buf) log_len = 0;
  memcpy(log_buf + log_len, line, n);
  log_len += n;
  log_buf[log_len++] = '\n';
  log_buf[log_len] = 0;
  if (getenv("TERN_STORE_TEST_VERBOSE")) fprintf(stderr, "  [store] %s\n", line);
}

void tst_log_clear(void) {
  log_len = 0;
  log_buf[0] = 0;
}
bool tst_log_contains(const char *needle) { return strstr(log_buf, needle) != NULL; }
const char *tst_log_text(void) { return log_buf; }

void tst_config(tern_store_config_t *c, const char *root) {
  tern_store_config_init(c);
  c->store_path_root_dir = root;
  c->mapped_file_size_commit_log = 64 * 1024;
  c->mapped_file_size_consume_queue = 100 * 20;
  c->max_hash_slot_num = 64;
  c->max_index_num = 256;
  c->now_ms = clock_hook;
  c->disk_used_ratio = disk_hook;
  c->log = log_hook;
}

tern_store_msg_t tst_msg(const char *topic, int32_t qid, const char *body, const char *props) {
  tern_store_msg_t m;
  memset(&m, 0, sizeof m);
  m.topic = tern_str_from_cstr(topic);
  m.queue_id = qid;
  m.body = tern_str_from_cstr(body);
  m.properties = tern_str_from_cstr(props ? props : "");
  m.born_timestamp = 1700000000000;
  m.born_host = (tern_host_t){{10, 0, 0, 5}, 4, 50000};
  m.store_host = (tern_host_t){{10, 0, 0, 1}, 4, 10911};
  return m;
}

int tst_poke(const char *path, long off, const void *bytes, size_t n) {
  int fd = open(path, O_WRONLY);
  if (fd < 0) return -1;
  ssize_t w = pwrite(fd, bytes, n, off);
  close(fd);
  return w == (ssize_t)n ? 0 : -1;
}

char *tst_path(const char *a, const char *b) {
  size_t n = strlen(a) + strlen(b) + 2;
  char *p = malloc(n);
  if (p) snprintf(p, n, "%s/%s", a, b);
  return p;
}
