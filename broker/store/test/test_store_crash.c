/* The crash test: a child process appends with SYNC_FLUSH and is SIGKILLed
 * at random moments (sometimes during start-up and recovery, mostly while
 * appending); after each kill the store is reopened here and must hold every
 * acknowledged message intact, expose nothing partial, and keep queue offsets
 * dense. Quick mode runs 20 rounds; --long runs 100; --rounds N and
 * --seed S override. Prints the seed so a failure can be replayed. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crash_common.h"

static int failures;
#define CHECK(c, ...)                                     \
  do {                                                    \
    if (!(c)) {                                           \
      fprintf(stderr, "  FAIL %s:%d: ", __FILE__, __LINE__); \
      fprintf(stderr, __VA_ARGS__);                       \
      fputc('\n', stderr);                                \
      failures++;                                         \
      return -1;                                          \
    }                                                     \
  } while (0)

static long long now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

/* Reads every record of every queue; returns how many messages the store holds. */
static int torn_tails;

static long long verify(const char *dir, long long max_acked, unsigned *rnd) {
  tern_store_config_t cfg;
  crash_config(&cfg, dir);
  tern_store_t *s = NULL;
  tern_err_t err = {0};
  CHECK(tern_store_open(&cfg, &s, &err) == 0, "reopen failed: %s", err.reason);
  tern_store_stats_t st;
  tern_store_get_stats(s, &st);
  if (st.recovery_truncated_bytes > 0) torn_tails++;
  long long total = 0;
  static char want[1024];
  for (int q = 0; q < CRASH_QUEUES; q++) {
    int64_t max = tern_store_get_max_offset(s, TERN_STR(CRASH_TOPIC), q);
    int64_t off = 0;
    while (off < max) {
      tern_store_span_t sp[32];
      tern_get_result_t r = {0};
      r.spans = sp;
      r.cap = 32;
      tern_store_get_messages(s, TERN_STR(CRASH_TOPIC), q, off, 32, NULL, &r);
      CHECK(r.status == TERN_GET_FOUND && r.n > 0, "queue %d offset %lld: %s", q, (long long)off,
            tern_get_status_name(r.status));
      for (size_t i = 0; i < r.n; i++) {
        tern_msg_record_t d;
        CHECK(tern_msg_record_decode(sp[i].p, sp[i].len, &d, NULL) == 0, "undecodable record");
        CHECK(d.queue_offset == off + (int64_t)i, "queue %d: offset %lld where %lld expected (not dense)", q,
              (long long)d.queue_offset, (long long)(off + (int64_t)i));
        CHECK((int32_t)tern_crc32_body((const uint8_t *)d.body.p, d.body.n) == d.body_crc, "body CRC mismatch");
        long long seq = (long long)d.queue_offset * CRASH_QUEUES + q;
        size_t n = crash_body(seq, want, sizeof want);
        CHECK(d.body.n == n && memcmp(d.body.p, want, n) == 0, "message %lld: body differs", seq);
      }
      off += (int64_t)r.n;
    }
    total += max;
  }
  /* seq s lives at queue s%4 offset s/4: the per-queue counts must describe 0..total-1 */
  for (int q = 0; q < CRASH_QUEUES; q++) {
    long long want_q = total / CRASH_QUEUES + (q < total % CRASH_QUEUES ? 1 : 0);
    CHECK(tern_store_get_max_offset(s, TERN_STR(CRASH_TOPIC), q) == want_q, "queue %d holds %lld, expected %lld",
          q, (long long)tern_store_get_max_offset(s, TERN_STR(CRASH_TOPIC), q), want_q);
  }
  CHECK(total > max_acked, "acknowledged message %lld missing (store holds %lld)", max_acked, total);
  if (total > 0) {
    long long probe = (long long)(rand_r(rnd) % (unsigned)total);
    char key[32];
    snprintf(key, sizeof key, "k%lld", probe);
    tern_store_span_t out[4];
    size_t n = 0;
    tern_store_query_by_key(s, TERN_STR(CRASH_TOPIC), tern_str_from_cstr(key), 4, 0, INT64_MAX, out, &n);
    CHECK(n == 1, "key %s not found by the index", key);
  }
  tern_store_close(s);
  return total;
}

static char *child_path(void) {
  static char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 32);
  if (n <= 0) return NULL;
  self[n] = 0;
  char *d = dirname(self);
  static char path[4200];
  snprintf(path, sizeof path, "%s/store_crash_child", d);
  return path;
}

int main(int argc, char **argv) {
  int rounds = 20;
  unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--long")) rounds = 100;
    else if (!strcmp(argv[i], "--rounds") && i + 1 < argc) rounds = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--seed") && i + 1 < argc) seed = (unsigned)strtoul(argv[++i], NULL, 10);
  }
  printf("crash test: %d rounds, seed %u\n", rounds, seed);
  char *dir = tst_tmpdir("crash");
  char *child = child_path();
  if (!dir || !child) return 1;
  long long max_acked = -1, held = 0;
  int killed_in_append = 0;
  for (int round = 0; round < rounds && !failures; round++) {
    int fds[2];
    if (pipe(fds) != 0) return 1;
    bool burst = rand_r(&seed) % 3 == 0; /* mostly unacknowledged appends: kills land mid-record */
    pid_t pid = fork();
    if (pid == 0) {
      dup2(fds[1], 1);
      close(fds[0]);
      close(fds[1]);
      execl(child, child, dir, burst ? "burst" : (char *)NULL, (char *)NULL);
      _exit(127);
    }
    close(fds[1]);
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    /* one round in five dies early (open/recovery); the rest after it has acknowledged something */
    bool early = rand_r(&seed) % 5 == 0;
    long long start = now_us(), kill_at = early ? start + (long long)(rand_r(&seed) % 30000) : 0;
    long long acked_this_round = 0;
    for (;;) {
      long long seq;
      ssize_t n = read(fds[0], &seq, sizeof seq);
      if (n == (ssize_t)sizeof seq) {
        if (seq <= max_acked) {
          fprintf(stderr, "  FAIL: child acknowledged %lld after %lld\n", seq, max_acked);
          failures++;
        }
        max_acked = seq;
        if (!acked_this_round++ && !early)
          kill_at = now_us() + (long long)(rand_r(&seed) % (burst ? 20000 : 100000));
        continue;
      }
      if (n == 0) break; /* child exited on its own */
      if (kill_at && now_us() >= kill_at) break;
      if (now_us() - start > 20000000) break;
      usleep(200);
    }
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    for (;;) { /* acknowledgements already in the pipe count */
      long long seq;
      if (read(fds[0], &seq, sizeof seq) != (ssize_t)sizeof seq) break;
      max_acked = seq;
    }
    close(fds[0]);
    if (WIFEXITED(status)) {
      fprintf(stderr, "  FAIL: child exited with %d before the kill\n", WEXITSTATUS(status));
      failures++;
      break;
    }
    if (acked_this_round) killed_in_append++;
    held = verify(dir, max_acked, &seed);
    if (getenv("TERN_CRASH_VERBOSE"))
      printf("  round %d (%s%s): %lld acknowledged, %lld stored\n", round, burst ? "burst" : "sync",
             early ? ", early" : "", max_acked + 1, held);
    if (held < 0) break;
  }
  printf("crash test: %d rounds, %d killed while appending, %d torn tails cut, %lld acknowledged, %lld stored, %s\n",
         rounds, killed_in_append, torn_tails, max_acked + 1, held, failures ? "FAILED" : "ok");
  if (!failures) tst_rmrf(dir);
  else fprintf(stderr, "  store left in %s (seed %u)\n", dir, seed);
  free(dir);
  return failures ? 1 : 0;
}
