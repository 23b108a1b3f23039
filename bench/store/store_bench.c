/* Store benchmark (not a test): in one run, the disk's raw sequential write
 * bandwidth and fdatasync rate, then the store's 1 KiB append rate with
 * ASYNC_FLUSH, SYNC_FLUSH with 1 and 64 concurrent writers (group commit),
 * pull-scan read rate from the page cache, and recovery time per GiB.
 * Usage: store_bench [--dir D] [--mb N]   (default: $TMPDIR, 256 MiB). */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "broker/store/store.h"

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static double thread_cpu_s(void) {
  struct rusage ru;
  getrusage(RUSAGE_THREAD, &ru);
  return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
         ru.ru_stime.tv_usec / 1e6;
}

static char root[4096];
static long mb = 256;

static void rmrf(const char *d) {
  char cmd[4200];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", d);
  if (system(cmd) != 0) fprintf(stderr, "cleanup of %s failed\n", d);
}

static double raw_write_mbps(void) {
  char path[4200];
  snprintf(path, sizeof path, "%s/raw.dat", root);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return -1;
  size_t chunk = 1 << 20;
  char *buf = malloc(chunk);
  memset(buf, 'w', chunk);
  double t0 = now_s();
  for (long i = 0; i < mb; i++)
    if (write(fd, buf, chunk) != (ssize_t)chunk) break;
  fdatasync(fd);
  double dt = now_s() - t0;
  close(fd);
  unlink(path);
  free(buf);
  return (double)mb / dt;
}

static double fsync_rate(void) {
  char path[4200];
  snprintf(path, sizeof path, "%s/sync.dat", root);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return -1;
  /* a written, synced 4 MiB region overwritten block by block: the data-only
   * fdatasync, the fastest this disk syncs (no block allocation to journal) */
  char buf[4096];
  memset(buf, 's', sizeof buf);
  for (int i = 0; i < 1024; i++)
    if (write(fd, buf, sizeof buf) != (ssize_t)sizeof buf) return -1;
  fdatasync(fd);
  long n = 0;
  double t0 = now_s();
  while (now_s() - t0 < 1.0) {
    if (pwrite(fd, buf, sizeof buf, (off_t)((n % 1024) * 4096)) != (ssize_t)sizeof buf) break;
    fdatasync(fd);
    n++;
  }
  double dt = now_s() - t0;
  close(fd);
  unlink(path);
  return (double)n / dt;
}

static void config(tern_store_config_t *c, const char *dir, tern_flush_disk_type_t t) {
  tern_store_config_init(c);
  c->store_path_root_dir = dir;
  c->mapped_file_size_commit_log = 128 << 20;
  c->flush_disk_type = t;
}

static tern_store_msg_t msg(const char *body, size_t n, int q) {
  tern_store_msg_t m;
  memset(&m, 0, sizeof m);
  m.topic = TERN_STR("BenchmarkTest");
  m.queue_id = q;
  m.body = (tern_str_t){body, n};
  m.properties = TERN_STR("TAGS\001TagA\002UNIQ_KEY\001C0A8000B1F9C18B4AAC2A7B5D1D20000\002");
  m.born_host = (tern_host_t){{127, 0, 0, 1}, 4, 50000};
  m.store_host = (tern_host_t){{127, 0, 0, 1}, 4, 10911};
  return m;
}

/* 64 producers, each with one send in flight, all served by one writer thread. */
typedef struct {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int free_n;
  int free_ids[64];
  long done;
} prod_t;
typedef struct {
  prod_t *p;
  int id;
} slot_t;

static void on_durable(void *arg, tern_put_status_t st) {
  slot_t *sl = arg;
  pthread_mutex_lock(&sl->p->mu);
  if (st == TERN_PUT_OK) sl->p->done++;
  sl->p->free_ids[sl->p->free_n++] = sl->id;
  pthread_mutex_unlock(&sl->p->mu);
}
static void on_round(void *ctx) {
  prod_t *p = ctx;
  pthread_mutex_lock(&p->mu);
  pthread_cond_signal(&p->cv);
  pthread_mutex_unlock(&p->mu);
}

static double sync_rate(const char *dir, int writers, double secs, double *per_round, bool warm) {
  tern_store_config_t c;
  config(&c, dir, TERN_FLUSH_SYNC);
  c.warm_mapped_file_enable = warm;
  tern_store_t *s;
  tern_err_t err = {0};
  if (tern_store_open(&c, &s, &err) != 0) return -1;
  static char body[1024];
  memset(body, 'y', sizeof body);
  prod_t p = {.free_n = writers};
  pthread_mutex_init(&p.mu, NULL);
  pthread_cond_init(&p.cv, NULL);
  slot_t slots[64];
  for (int i = 0; i < writers; i++) {
    p.free_ids[i] = i;
    slots[i] = (slot_t){&p, i};
  }
  tern_store_set_flush_notify(s, on_round, &p);
  tern_store_stats_t st0, st1;
  tern_store_get_stats(s, &st0);
  double t0 = now_s();
  while (now_s() - t0 < secs) {
    int ids[64], n;
    pthread_mutex_lock(&p.mu);
    while (p.free_n == 0) pthread_cond_wait(&p.cv, &p.mu);
    n = p.free_n;
    memcpy(ids, p.free_ids, sizeof(int) * (size_t)n);
    p.free_n = 0;
    pthread_mutex_unlock(&p.mu);
    for (int i = 0; i < n; i++) { /* the loop thread: append, park the reply */
      tern_store_msg_t m = msg(body, sizeof body, ids[i] % 8);
      tern_put_result_t pr;
      tern_store_put(s, &m, &pr);
      if (tern_store_wait_flush_deferred(s, pr.end_offset, on_durable, &slots[ids[i]]) == 1)
        on_durable(&slots[ids[i]], TERN_PUT_OK);
    }
    tern_store_flush_kick(s); /* one wake-up for the whole pass */
  }
  pthread_mutex_lock(&p.mu);
  while (p.free_n < writers) pthread_cond_wait(&p.cv, &p.mu);
  long done = p.done;
  pthread_mutex_unlock(&p.mu);
  double dt = now_s() - t0;
  tern_store_get_stats(s, &st1);
  *per_round = (double)done / (double)(st1.flush_rounds - st0.flush_rounds ? st1.flush_rounds - st0.flush_rounds : 1);
  tern_store_close(s);
  return (double)done / dt;
}

static int cmp_dbl(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* A producer round-robining over 1024 queues nobody wrote yet: the latency of
 * each first put (it creates the queue's consume-queue file), then of a second
 * round over the same queues. */
static void new_queues(const char *dir) {
  enum { NQ = 1024 };
  static double lat[NQ];
  static char body[1024];
  tern_store_config_t c;
  tern_store_t *s;
  tern_err_t err = {0};
  config(&c, dir, TERN_FLUSH_ASYNC);
  if (tern_store_open(&c, &s, &err) != 0) return;
  memset(body, 'q', sizeof body);
  for (int round = 0; round < 2; round++) {
    double t0 = now_s();
    for (int q = 0; q < NQ; q++) {
      tern_store_msg_t m = msg(body, sizeof body, q);
      tern_put_result_t pr;
      double a = now_s();
      tern_store_put(s, &m, &pr);
      lat[q] = now_s() - a;
    }
    double dt = now_s() - t0;
    qsort(lat, NQ, sizeof lat[0], cmp_dbl);
    printf("%s put to each of %d queues: total %.1f ms, p50 %.1f us, p99 %.1f us, max %.1f us\n",
           round ? "second" : "first", NQ, dt * 1e3, lat[NQ / 2] * 1e6, lat[NQ * 99 / 100] * 1e6, lat[NQ - 1] * 1e6);
  }
  tern_store_close(s);
}

int main(int argc, char **argv) {
  const char *base = getenv("TMPDIR");
  snprintf(root, sizeof root, "%s/tern-store-bench-%d", base && *base ? base : "/tmp", (int)getpid());
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--dir") && i + 1 < argc) snprintf(root, sizeof root, "%s/tern-store-bench-%d", argv[++i], (int)getpid());
    else if (!strcmp(argv[i], "--mb") && i + 1 < argc) mb = atol(argv[++i]);
  }
  if (mkdir(root, 0755) != 0) {
    perror(root);
    return 1;
  }
  printf("store benchmark in %s, %ld MiB of data\n", root, mb);
  double raw = raw_write_mbps();
  double fs = fsync_rate();
  printf("disk: raw sequential write %.0f MiB/s, fdatasync %.0f/s\n", raw, fs);

  char dir[4300];
  snprintf(dir, sizeof dir, "%s/newq", root);
  new_queues(dir);
  if (getenv("STORE_BENCH_NEWQ_ONLY")) return 0;
  snprintf(dir, sizeof dir, "%s/async", root);
  tern_store_config_t c;
  config(&c, dir, TERN_FLUSH_ASYNC);
  tern_store_t *s;
  tern_err_t err = {0};
  if (tern_store_open(&c, &s, &err) != 0) {
    fprintf(stderr, "open: %s\n", err.reason);
    return 1;
  }
  static char body[1024];
  memset(body, 'x', sizeof body);
  long n = 0;
  int64_t bytes = 0;
  double t0 = now_s(), c0 = thread_cpu_s();
  while (bytes < (int64_t)mb << 20) {
    tern_store_msg_t m = msg(body, sizeof body, (int)(n % 8));
    tern_put_result_t pr;
    if (tern_store_put(s, &m, &pr) != 0) break;
    bytes += pr.wrote_bytes;
    n++;
  }
  double cpu = thread_cpu_s() - c0;
  tern_store_flush_now(s);
  double dt = now_s() - t0;
  double mbps = (double)bytes / (1 << 20) / dt;
  printf("ASYNC_FLUSH append, 1 KiB bodies: %.0f msg/s, %.0f MiB/s incl. final flush = %.0f%% of raw write bandwidth (target >= 80%%)\n",
         n / dt, mbps, 100 * mbps / raw);
  printf("  writer thread CPU: %.2f us per append (user+sys, page faults on fresh mapped pages included)\n",
         cpu / (double)n * 1e6);

  /* pull scans from the page cache: 32 messages per call, every queue */
  long read = 0;
  int64_t rbytes = 0;
  t0 = now_s();
  for (int q = 0; q < 8; q++) {
    int64_t off = 0;
    tern_store_span_t sp[32];
    for (;;) {
      tern_get_result_t r = {0};
      r.spans = sp;
      r.cap = 32;
      tern_store_get_messages(s, TERN_STR("BenchmarkTest"), q, off, 32, NULL, &r);
      if (r.status != TERN_GET_FOUND) break;
      read += (long)r.n;
      rbytes += (int64_t)r.bytes;
      off = r.next_begin_offset;
    }
  }
  dt = now_s() - t0;
  printf("pull scan (page cache, 32/pull): %.0f msg/s, %.0f MiB/s (%ld messages)\n", read / dt,
         (double)rbytes / (1 << 20) / dt, read);
  tern_store_close(s);

  /* recovery: clean restart, then an abnormal one forced to scan every file */
  t0 = now_s();
  if (tern_store_open(&c, &s, &err) != 0) return 1;
  double clean = now_s() - t0;
  tern_store_close(s);
  char path[4400];
  snprintf(path, sizeof path, "%s/abort", dir);
  close(open(path, O_CREAT | O_WRONLY, 0644));
  snprintf(path, sizeof path, "%s/checkpoint", dir);
  if (truncate(path, 0) != 0 || truncate(path, 4096) != 0) return 1;
  t0 = now_s();
  if (tern_store_open(&c, &s, &err) != 0) return 1;
  double abn = now_s() - t0;
  tern_store_stats_t st;
  tern_store_get_stats(s, &st);
  double gib = (double)(tern_store_commitlog_max_offset(s) - st.recovered_from) / (1 << 30);
  tern_store_close(s);
  printf("recovery: clean restart %.3f s; abnormal full scan (CRC, re-dispatch) %.3f s for %.2f GiB = %.2f s/GiB\n",
         clean, abn, gib, abn / gib);
  rmrf(dir);

  for (int warm = 0; warm < 2; warm++) {
    double pr1, pr64;
    snprintf(dir, sizeof dir, "%s/sync1", root);
    double s1 = sync_rate(dir, 1, 2.0, &pr1, warm);
    rmrf(dir);
    snprintf(dir, sizeof dir, "%s/sync64", root);
    double s64 = sync_rate(dir, 64, 2.0, &pr64, warm);
    rmrf(dir);
    printf("SYNC_FLUSH 1 KiB%s: 1 writer %.0f msg/s (%.1f per fsync); 64 writers %.0f msg/s (%.1f per fsync) = %.1fx the fdatasync rate (target >= 20x)\n",
           warm ? ", warmMapedFileEnable" : "", s1, pr1, s64, pr64, s64 / fs);
  }
  rmrf(root);
  return 0;
}
