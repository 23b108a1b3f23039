/* tern-bench: load generator in the manner of RocketMQ's benchmark tools.
 *   tern-bench producer -n ns -t topic -w threads -s size [-k] [-l] [-y|-o] [-q count] [-d seconds] [-C clients] [-m window] [-r rate]
 *   tern-bench consumer -n ns -t topic -g group [-w threads] [-q count] [-d seconds] [-f first|last]
 *   tern-bench loopback -s size [-d seconds]      (TCP limit over 127.0.0.1 on this machine)
 * Every run is bounded by a count (-q) or a time (-d, default 10 s). One
 * line per second (TPS, average and max RT, p99, failures) and a summary
 * with latency percentiles (p50/p99/p99.9/max) from a microsecond histogram,
 * plus this process's resident memory. */
#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "hist.h"
#include "runtime/log.h"
#include "tern/consumer.h"
#include "tern/producer.h"

typedef struct opts {
  const char *ns, *topic, *group;
  int threads, size, clients, window, rate;
  bool keys, tags, async, oneway, first;
  long long count;
  int seconds;
} opts_t;

static opts_t o;
static hist_t win, total;
static atomic_llong sent, failed, started_n;
static atomic_int stop_flag;
static uint64_t t_start;

static uint64_t mono_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static long rss_kb(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kb = -1;
  if (!f) return -1;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "VmRSS: %ld kB", &kb) == 1) break;
  fclose(f);
  return kb;
}

static bool should_stop(void) {
  if (atomic_load(&stop_flag)) return true;
  if (o.seconds > 0 && mono_us() - t_start >= (uint64_t)o.seconds * 1000000u) return true;
  return false;
}

/* Claims the right to send one more message (bounded by -q). */
static bool claim(void) {
  if (should_stop()) return false;
  if (o.count > 0 && atomic_fetch_add(&started_n, 1) >= o.count) return false;
  return true;
}

static void record(uint64_t us, bool ok) {
  if (ok) {
    hist_add(&win, us);
    hist_add(&total, us);
    atomic_fetch_add(&sent, 1);
  } else {
    atomic_fetch_add(&failed, 1);
  }
}

static void reporter(const char *what, long long (*done)(void)) {
  long long last = 0, last_fail = 0;
  hist_t *snap = malloc(sizeof *snap);
  int sec = 0;
  for (;;) {
    long long now_done, f;
    bool fin;
    usleep(1000000);
    sec++;
    now_done = done();
    f = atomic_load(&failed);
    hist_drain(&win, snap);
    fin = atomic_load(&stop_flag) != 0;
    printf("[%3ds] %s TPS: %lld  avg RT: %.3f ms  max RT: %.3f ms  p99: %.3f ms  failures: %lld  total: %lld\n", sec,
           what, now_done - last, snap->n ? (double)snap->sum / (double)snap->n / 1000.0 : 0.0,
           (double)snap->max / 1000.0, (double)hist_pct(snap, 0.99) / 1000.0, f - last_fail, now_done);
    fflush(stdout);
    last = now_done;
    last_fail = f;
    if (fin) break;
  }
  free(snap);
}

static void summary(const char *what, long long n, uint64_t elapsed_us) {
  double secs = (double)elapsed_us / 1e6;
  printf("=== %s summary: %lld messages in %.2f s = %.0f msgs/s, failures %lld\n", what, n, secs,
         secs > 0 ? (double)n / secs : 0.0, (long long)atomic_load(&failed));
  printf("=== latency (ms): avg %.3f  p50 %.3f  p99 %.3f  p99.9 %.3f  max %.3f  (n=%llu)\n",
         total.n ? (double)total.sum / (double)total.n / 1000.0 : 0.0, (double)hist_pct(&total, 0.50) / 1000.0,
         (double)hist_pct(&total, 0.99) / 1000.0, (double)hist_pct(&total, 0.999) / 1000.0,
         (double)atomic_load(&total.max) / 1000.0, (unsigned long long)atomic_load(&total.n));
  printf("=== client resident memory: %ld KiB\n", rss_kb());
}

/* ---- producer ---- */

static tern_producer_t **producers;
static char *body;
static atomic_int inflight;

typedef struct async_arg {
  uint64_t t0;
} async_arg_t;

static void on_sent(void *arg, const tern_send_result_t *r) {
  async_arg_t *a = arg;
  if (r->err.error && atomic_load(&failed) < 3)
    fprintf(stderr, "async send failed: %d %s (%s)\n", r->err.response_code, r->err.remark, tern_strerror(r->err.error));
  record(mono_us() - a->t0, r->err.error == 0);
  free(a);
  atomic_fetch_sub(&inflight, 1);
}

static void *producer_thread(void *arg) {
  long idx = (long)arg;
  tern_producer_t *p = producers[idx % o.clients];
  char keybuf[64];
  uint64_t next_due = mono_us();
  long long seq = 0;
  int window = o.window / o.threads > 0 ? o.window / o.threads : 1;
  int my_inflight_cap = window;
  while (claim()) {
    tern_msg_t *m = tern_msg_new(o.topic, body, (size_t)o.size);
    uint64_t t0;
    if (!m) break;
    if (o.keys) {
      snprintf(keybuf, sizeof keybuf, "key-%ld-%lld", idx, seq);
      tern_msg_set_keys(m, keybuf);
    }
    if (o.tags) tern_msg_set_tags(m, "TagA");
    seq++;
    if (o.rate > 0) { /* per-thread pacing for a fixed total rate */
      uint64_t gap = (uint64_t)(1e6 * o.threads / o.rate), now = mono_us();
      if (next_due > now) usleep((useconds_t)(next_due - now));
      next_due += gap;
    }
    t0 = mono_us();
    if (o.oneway) {
      record(mono_us() - t0, tern_producer_send_oneway(p, m) == 0);
    } else if (o.async) {
      async_arg_t *a = malloc(sizeof *a);
      while (atomic_load(&inflight) >= my_inflight_cap * o.threads && !should_stop()) usleep(50);
      a->t0 = t0;
      atomic_fetch_add(&inflight, 1);
      if (tern_producer_send_async(p, m, on_sent, a) != 0) {
        atomic_fetch_sub(&inflight, 1);
        free(a);
        record(0, false);
      }
    } else {
      tern_send_result_t r;
      int rc = tern_producer_send(p, m, &r);
      record(mono_us() - t0, rc == 0);
      if (rc && atomic_load(&failed) < 5) fprintf(stderr, "send failed: %d %s\n", r.err.response_code, r.err.remark);
    }
    tern_msg_free(m);
  }
  return NULL;
}

static long long sent_count(void) { return atomic_load(&sent); }

static void *reporter_thread(void *arg) {
  reporter((const char *)arg, sent_count);
  return NULL;
}

static int run_producer(void) {
  tern_client_conf_t conf;
  pthread_t *th, rep;
  int i;
  uint64_t el;
  producers = calloc((size_t)o.clients, sizeof *producers);
  body = malloc((size_t)o.size);
  for (i = 0; i < o.size; i++) body[i] = (char)('a' + i % 26);
  tern_client_conf_default(&conf);
  conf.namesrv_addr = o.ns;
  conf.group = o.group ? o.group : "benchmark_producer";
  conf.compress_over = 1 << 30; /* like RocketMQ's benchmark: measure the broker, not zlib */
  for (i = 0; i < o.clients; i++) {
    char inst[32];
    snprintf(inst, sizeof inst, "bench-%d-%d", (int)getpid(), i);
    conf.instance_name = inst;
    producers[i] = tern_producer_new(&conf);
    if (!producers[i] || tern_producer_start(producers[i]) != 0) {
      fprintf(stderr, "producer start failed (check -n)\n");
      return 1;
    }
  }
  { /* warm the route before timing */
    tern_mq_t *mqs = NULL;
    int n = 0;
    for (i = 0; i < o.clients; i++) tern_producer_queues(producers[i], o.topic, &mqs, &n), free(mqs), mqs = NULL;
  }
  printf("producer: topic %s, %d threads, %d clients, %d-byte bodies, %s%s%s, bound: %lld msgs / %d s\n", o.topic,
         o.threads, o.clients, o.size, o.oneway ? "oneway" : o.async ? "async" : "sync", o.keys ? ", keys" : "",
         o.tags ? ", tags" : "", o.count, o.seconds);
  t_start = mono_us();
  th = calloc((size_t)o.threads, sizeof *th);
  pthread_create(&rep, NULL, reporter_thread, "send");
  for (i = 0; i < o.threads; i++) pthread_create(&th[i], NULL, producer_thread, (void *)(long)i);
  for (i = 0; i < o.threads; i++) pthread_join(th[i], NULL);
  while (atomic_load(&inflight) > 0 && mono_us() - t_start < (uint64_t)(o.seconds + 30) * 1000000u) usleep(1000);
  el = mono_us() - t_start;
  atomic_store(&stop_flag, 1);
  pthread_join(rep, NULL);
  summary("producer", atomic_load(&sent), el);
  for (i = 0; i < o.clients; i++) tern_producer_shutdown(producers[i], 5000);
  free(producers);
  free(th);
  free(body);
  return atomic_load(&failed) ? 2 : 0;
}

/* ---- consumer ---- */

static atomic_llong received;

static int on_msgs(void *arg, tern_rmsg_t *const *msgs, size_t n) {
  size_t i;
  uint64_t now_ms = (uint64_t)time(NULL) * 1000u;
  struct timespec ts;
  TERN_UNUSED(arg);
  clock_gettime(CLOCK_REALTIME, &ts);
  now_ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
  for (i = 0; i < n; i++) {
    int64_t lat = (int64_t)now_ms - msgs[i]->born_timestamp;
    hist_add(&win, lat > 0 ? (uint64_t)lat * 1000u : 0); /* born to consumed, ms resolution */
    hist_add(&total, lat > 0 ? (uint64_t)lat * 1000u : 0);
  }
  atomic_fetch_add(&received, (long long)n);
  return TERN_CONSUME_SUCCESS;
}

static long long recv_count(void) { return atomic_load(&received); }

static void *creporter_thread(void *arg) {
  TERN_UNUSED(arg);
  reporter("consume", recv_count);
  return NULL;
}

static int run_consumer(void) {
  tern_client_conf_t conf;
  tern_push_consumer_t *c;
  pthread_t rep;
  uint64_t el, first_at = 0;
  tern_client_conf_default(&conf);
  conf.namesrv_addr = o.ns;
  conf.group = o.group ? o.group : "benchmark_consumer";
  conf.consume_threads = o.threads;
  conf.consume_batch = 32;
  conf.consume_from_where = o.first ? TERN_FROM_FIRST_OFFSET : TERN_FROM_LAST_OFFSET;
  c = tern_push_consumer_new(&conf);
  if (!c || tern_push_consumer_subscribe(c, o.topic, "*") != 0) return 1;
  tern_push_consumer_set_listener(c, on_msgs, NULL, false);
  printf("consumer: topic %s, group %s, %d threads, from %s, bound: %lld msgs / %d s\n", o.topic, conf.group,
         o.threads, o.first ? "first" : "last", o.count, o.seconds);
  t_start = mono_us();
  if (tern_push_consumer_start(c) != 0) {
    fprintf(stderr, "consumer start failed\n");
    return 1;
  }
  pthread_create(&rep, NULL, creporter_thread, NULL);
  for (;;) {
    if (!first_at && atomic_load(&received) > 0) first_at = mono_us();
    if (o.count > 0 && atomic_load(&received) >= o.count) break;
    if (should_stop()) break;
    usleep(1000);
  }
  el = mono_us() - (first_at ? first_at : t_start);
  atomic_store(&stop_flag, 1);
  pthread_join(rep, NULL);
  summary("consumer (rate from the first message; latency born->consumed, ms resolution)", atomic_load(&received), el);
  tern_push_consumer_shutdown(c);
  return 0;
}

/* ---- loopback TCP limit ---- */

static int lb_listen(int *port) {
  struct sockaddr_in a;
  socklen_t al = sizeof a;
  int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 4) || getsockname(s, (struct sockaddr *)&a, &al)) return -1;
  *port = ntohs(a.sin_port);
  return s;
}

static int lb_full(int fd, char *p, size_t n, bool rd) {
  size_t d = 0;
  while (d < n) {
    ssize_t r = rd ? read(fd, p + d, n - d) : write(fd, p + d, n - d);
    if (r <= 0) return -1;
    d += (size_t)r;
  }
  return 0;
}

static void *lb_echo(void *arg) {
  int ls = *(int *)arg, fd = accept(ls, NULL, NULL), one = 1;
  char *buf = malloc((size_t)o.size);
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  while (lb_full(fd, buf, (size_t)o.size, true) == 0 && lb_full(fd, buf, (size_t)o.size, false) == 0) {
  }
  close(fd);
  free(buf);
  return NULL;
}

static void *lb_sink(void *arg) {
  int ls = *(int *)arg, fd = accept(ls, NULL, NULL);
  char buf[65536];
  while (read(fd, buf, sizeof buf) > 0) {
  }
  close(fd);
  return NULL;
}

static int lb_connect(int port) {
  struct sockaddr_in a;
  int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons((uint16_t)port);
  if (connect(s, (struct sockaddr *)&a, sizeof a)) return -1;
  setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return s;
}

static int run_loopback(void) {
  int port = 0, ls = lb_listen(&port), fd;
  pthread_t th;
  char *buf = malloc((size_t)o.size);
  uint64_t t0, end;
  long long n = 0;
  int secs = o.seconds > 0 ? o.seconds : 5;
  if (ls < 0) {
    perror("loopback listen");
    free(buf);
    return 1;
  }
  memset(buf, 'x', (size_t)o.size);
  /* 1: ping-pong, one request outstanding (the sync-send shape) */
  pthread_create(&th, NULL, lb_echo, &ls);
  fd = lb_connect(port);
  t0 = mono_us();
  end = t0 + (uint64_t)secs * 1000000u / 2;
  while (mono_us() < end) {
    uint64_t a = mono_us();
    if (lb_full(fd, buf, (size_t)o.size, false) || lb_full(fd, buf, (size_t)o.size, true)) break;
    hist_add(&total, mono_us() - a);
    n++;
  }
  close(fd);
  pthread_join(th, NULL);
  printf("loopback ping-pong %d B: %.0f round trips/s, p50 %.1f us, p99 %.1f us\n", o.size,
         (double)n * 1e6 / (double)(mono_us() - t0), (double)hist_pct(&total, 0.5), (double)hist_pct(&total, 0.99));
  /* 2: one-way stream of size-byte writes (the async-send shape, one connection) */
  pthread_create(&th, NULL, lb_sink, &ls);
  fd = lb_connect(port);
  n = 0;
  t0 = mono_us();
  end = t0 + (uint64_t)secs * 1000000u / 2;
  while (mono_us() < end) {
    int k;
    for (k = 0; k < 64; k++)
      if (lb_full(fd, buf, (size_t)o.size, false)) break;
    n += 64;
  }
  close(fd);
  pthread_join(th, NULL);
  printf("loopback stream %d B writes: %.0f writes/s, %.1f MiB/s\n", o.size,
         (double)n * 1e6 / (double)(mono_us() - t0), (double)n * o.size / 1048576.0 * 1e6 / (double)(mono_us() - t0));
  close(ls);
  free(buf);
  return 0;
}

static void usage(void) {
  fprintf(stderr,
          "usage: tern-bench producer|consumer|loopback [options]\n"
          "  -n addr   name server(s), host:port;host:port\n"
          "  -t topic  (BenchmarkTest)        -g group\n"
          "  -w n      threads (producer 64, consumer 20)\n"
          "  -s bytes  body size (128)         -k  set keys   -l  set tags\n"
          "  -y        async sends             -o  oneway sends\n"
          "  -q n      message count bound     -d s  time bound (10 s when no -q)\n"
          "  -C n      client instances (connections) (1)   -m n  async window (2000)\n"
          "  -r n      target rate msgs/s (producer)        -f  consumer from first offset\n");
}

static void on_sig(int s) {
  TERN_UNUSED(s);
  atomic_store(&stop_flag, 1);
}

int main(int argc, char **argv) {
  int ch;
  const char *mode;
  if (argc < 2) {
    usage();
    return 1;
  }
  mode = argv[1];
  o.topic = "BenchmarkTest";
  o.threads = strcmp(mode, "consumer") == 0 ? 20 : 64;
  o.size = 128;
  o.clients = 1;
  o.window = 2000;
  o.ns = getenv("NAMESRV_ADDR") ? getenv("NAMESRV_ADDR") : "127.0.0.1:9876";
  optind = 2;
  while ((ch = getopt(argc, argv, "n:t:g:w:s:klyoq:d:C:m:r:fh")) != -1) {
    switch (ch) {
    case 'n': o.ns = optarg; break;
    case 't': o.topic = optarg; break;
    case 'g': o.group = optarg; break;
    case 'w': o.threads = atoi(optarg); break;
    case 's': o.size = atoi(optarg); break;
    case 'k': o.keys = true; break;
    case 'l': o.tags = true; break;
    case 'y': o.async = true; break;
    case 'o': o.oneway = true; break;
    case 'q': o.count = atoll(optarg); break;
    case 'd': o.seconds = atoi(optarg); break;
    case 'C': o.clients = atoi(optarg); break;
    case 'm': o.window = atoi(optarg); break;
    case 'r': o.rate = atoi(optarg); break;
    case 'f': o.first = true; break;
    default: usage(); return 1;
    }
  }
  if (o.threads < 1 || o.size < 1 || o.clients < 1 || o.window < 1) {
    usage();
    return 1;
  }
  if (o.count <= 0 && o.seconds <= 0) o.seconds = 10; /* always bounded */
  tern_log_set_level(TERN_LOG_WARN);
  signal(SIGINT, on_sig);
  signal(SIGTERM, on_sig);
  if (strcmp(mode, "producer") == 0) return run_producer();
  if (strcmp(mode, "consumer") == 0) return run_consumer();
  if (strcmp(mode, "loopback") == 0) return run_loopback();
  usage();
  return 1;
}
