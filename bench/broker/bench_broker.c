/* Broker benchmark (not a test; run it on a release build):
 *   - start-up: exec to "boot success" (median of 5), idle RSS;
 *   - produce: SEND_MESSAGE_V2 of 1 KiB bodies, ASYNC_FLUSH, over 4 loopback
 *     connections with 1 and with 64 requests in flight per connection,
 *     beside the same load against a frame echo that answers with replies of
 *     the broker's reply size (the yardstick: loopback + framing only);
 *   - latency p50/p99/p99.9 at half the 64-in-flight peak rate (open loop:
 *     requests leave on a fixed schedule, latency counted from the schedule);
 *   - drain: pull a backlog of N messages (default 200,000) with 32-message
 *     pulls over 8 queues, messages/s; broker RSS under load.
 * Usage: bench_broker [backlog-messages] [seconds-per-run]; BENCH_BROKER_CONF adds broker.conf lines. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bt.h"
#include "load.h"

#define NCONN 4
#define MAXQ 8
#define BODY 1024
#define RING 4096

typedef struct lconn {
  int fd;
  uint8_t *in;
  size_t have, cap;
  double ts[RING]; /* send times of requests in flight, FIFO */
  uint32_t head, n;
  uint8_t *out; /* requests queued, written with one write() per wake-up */
  size_t out_len, out_off, out_cap;
} lconn_t;

typedef struct frames {
  uint8_t *p[MAXQ];
  size_t n[MAXQ];
  int k;
} frames_t;

static long rss_anon_kb(pid_t pid) {
  char path[64], line[256];
  long kb = -1;
  FILE *fp;
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  if (!(fp = fopen(path, "r"))) return -1;
  while (fgets(line, sizeof line, fp))
    if (strncmp(line, "RssAnon:", 8) == 0) kb = atol(line + 8);
  fclose(fp);
  return kb;
}

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static int connect_port(int port) {
  struct sockaddr_in a;
  int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) return -1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  fcntl(fd, F_SETFL, O_NONBLOCK);
  return fd;
}

/* One SEND_MESSAGE_V2 frame per queue (queue i), 1 KiB body. */
static void build_send_frames(frames_t *f, const char *topic) {
  static char body[BODY];
  memset(body, 'm', sizeof body);
  for (int q = 0; q < MAXQ; q++) {
    tern_cmd_t req;
    tern_arena_t a;
    tern_buf_t out;
    tern_hdr_send_message_request_v2_t h;
    memset(&h, 0, sizeof h);
    tern_arena_init(&a, 0, NULL, 0);
    h.producer_group = TERN_STR("PG_BENCH");
    h.topic = tern_str_from_cstr(topic);
    h.default_topic = TERN_STR("TBW102");
    h.default_topic_queue_nums = 8;
    h.queue_id = q;
    h.born_timestamp = 1700000000000;
    h.properties = TERN_STR("TAGS\x01" "bench\x02" "WAIT\x01" "true\x02");
    h.present = 0xff | TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_PROPERTIES;
    tern_rpc_request_init(&req, TERN_REQ_SEND_MESSAGE_V2, (tern_str_t){body, sizeof body});
    tern_hdr_send_message_request_v2_encode(&h, &req, &a);
    req.opaque = q + 1;
    tern_buf_init(&out, 0);
    tern_cmd_encode(&req, &out);
    f->p[q] = out.p;
    f->n[q] = out.len;
    tern_arena_free(&a);
  }
  f->k = MAXQ;
}

typedef struct run {
  uint64_t done, errors;
  double secs;
  double *lat; /* microseconds */
  size_t nlat, caplat;
  size_t reply_len;
} run_t;

/* Reads complete reply frames; counts non-SUCCESS codes as errors when check. */
static int drain_replies(lconn_t *c, run_t *r, double now, bool check) {
  for (;;) {
    if (c->cap - c->have < 65536) {
      c->cap = c->cap ? c->cap * 2 : 1 << 20;
      c->in = realloc(c->in, c->cap);
    }
    ssize_t n = read(c->fd, c->in + c->have, c->cap - c->have);
    if (n == 0) return -1;
    if (n < 0) {
      if (errno == EAGAIN) break;
      return -1;
    }
    c->have += (size_t)n;
  }
  size_t off = 0;
  while (c->have - off >= 4) {
    size_t len = tern_load_be32(c->in + off) + 4u;
    if (c->have - off < len) break;
    if (check) {
      tern_frame_parser_t fp;
      tern_frame_t f;
      tern_cmd_t cmd;
      tern_arena_t a;
      uint8_t blk[4096];
      tern_arena_init(&a, 0, blk, sizeof blk);
      tern_frame_parser_init(&fp, 0);
      if (tern_frame_next(&fp, c->in + off, len, &f, NULL) <= 0 || tern_cmd_decode(&f, &cmd, &a, NULL) || cmd.code != 0)
        r->errors++;
      tern_arena_free(&a);
    }
    r->reply_len = len;
    if (c->n) {
      double t = c->ts[c->head];
      c->head = (c->head + 1) % RING;
      c->n--;
      if (r->nlat < r->caplat) r->lat[r->nlat++] = (now - t) * 1000.0;
    }
    r->done++;
    off += len;
  }
  memmove(c->in, c->in + off, c->have - off);
  c->have -= off;
  return 0;
}

/* Queues one request (sent by flush_out); false when the FIFO is full. */
static bool send_one(lconn_t *c, const frames_t *f, uint64_t seq, double stamp) {
  const uint8_t *p = f->p[seq % (uint64_t)f->k];
  size_t n = f->n[seq % (uint64_t)f->k];
  if (c->n >= RING - 1) return false;
  if (c->out_len + n > c->out_cap) {
    c->out_cap = (c->out_len + n) * 2;
    c->out = realloc(c->out, c->out_cap);
  }
  memcpy(c->out + c->out_len, p, n);
  c->out_len += n;
  c->ts[(c->head + c->n) % RING] = stamp;
  c->n++;
  return true;
}

static void flush_out(lconn_t *c) {
  while (c->out_off < c->out_len) {
    ssize_t w = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
    if (w <= 0) break;
    c->out_off += (size_t)w;
  }
  if (c->out_off == c->out_len) c->out_off = c->out_len = 0;
}

/* Closed loop (rate 0): keep `depth` in flight per connection. Open loop (rate > 0):
 * requests leave at `rate`/s in total, latency counted from their scheduled time. */
static int load(int port, const frames_t *f, int depth, double rate, double seconds, bool check, run_t *r) {
  lconn_t c[NCONN];
  struct pollfd pfd[NCONN];
  double t0, now, next_due;
  uint64_t seq = 0, sched = 0;
  memset(c, 0, sizeof c);
  memset(r, 0, sizeof *r);
  r->caplat = 4000000;
  r->lat = malloc(r->caplat * sizeof *r->lat);
  for (int i = 0; i < NCONN; i++)
    if ((c[i].fd = connect_port(port)) < 0) return -1;
  t0 = bt_now_ms();
  next_due = t0;
  for (;;) {
    now = bt_now_ms();
    if (now - t0 >= seconds * 1000) break;
    for (int i = 0; i < NCONN; i++) {
      if (rate <= 0) {
        while (c[i].n < (uint32_t)depth && send_one(&c[i], f, seq, now)) seq++;
      }
    }
    if (rate > 0) {
      while (next_due <= now) {
        lconn_t *cc = &c[sched % NCONN];
        if (cc->n >= RING - 1 || !send_one(cc, f, seq, next_due)) break;
        seq++;
        sched++;
        next_due = t0 + (double)sched * 1000.0 / rate;
      }
    }
    for (int i = 0; i < NCONN; i++) {
      flush_out(&c[i]);
      pfd[i] = (struct pollfd){c[i].fd, (short)(POLLIN | (c[i].out_len ? POLLOUT : 0)), 0};
    }
    int wait_ms = rate > 0 ? (int)(next_due - now) : 100;
    if (wait_ms < 0) wait_ms = 0;
    if (poll(pfd, NCONN, wait_ms) < 0) return -1;
    now = bt_now_ms();
    for (int i = 0; i < NCONN; i++)
      if ((pfd[i].revents & (POLLIN | POLLERR | POLLHUP)) && drain_replies(&c[i], r, now, check)) return -1;
  }
  r->secs = (bt_now_ms() - t0) / 1000.0;
  /* let the in-flight replies land (not counted in the rate) */
  for (int i = 0; i < NCONN; i++) {
    double end = bt_now_ms() + 3000;
    run_t tail = {0};
    tail.caplat = 0;
    while (c[i].n && bt_now_ms() < end) {
      struct pollfd p1 = {c[i].fd, POLLIN, 0};
      if (poll(&p1, 1, 100) > 0 && drain_replies(&c[i], &tail, bt_now_ms(), check)) break;
    }
    r->errors += tail.errors;
    close(c[i].fd);
    free(c[i].in);
    free(c[i].out);
  }
  return 0;
}

static void report(const char *what, run_t *r, bool lat) {
  printf("  %-44s %9.0f msg/s", what, r->done / r->secs);
  if (lat && r->nlat) {
    qsort(r->lat, r->nlat, sizeof *r->lat, cmp_d);
    printf("  p50 %7.0f us  p99 %7.0f us  p99.9 %7.0f us", r->lat[r->nlat / 2], r->lat[(size_t)(r->nlat * 0.99)],
           r->lat[(size_t)(r->nlat * 0.999)]);
  }
  if (r->errors) printf("  (%llu errors)", (unsigned long long)r->errors);
  printf("\n");
}

/* Pulls every queue of topic to its end with 32-message pulls, 8 queues in flight on one connection. */
static double drain(int port, const char *topic, uint64_t expect, uint64_t *got) {
  bt_client_t c;
  tern_arena_t a;
  double t0;
  int64_t off[MAXQ] = {0};
  bool done[MAXQ] = {false};
  int ndone = 0;
  *got = 0;
  if (bt_open(&c, port)) return -1;
  tern_arena_init(&a, 0, NULL, 0);
  t0 = bt_now_ms();
  while (ndone < MAXQ) {
    for (int q = 0; q < MAXQ; q++) {
      tern_cmd_t r;
      tern_msg_record_iter_t it;
      tern_msg_record_t rec;
      if (done[q]) continue;
      if (bt_pull(&c, "CG_BENCH", topic, q, off[q], 32, 0x4, 0, "*", &r, 10000) || r.code != 0) {
        done[q] = true;
        ndone++;
        continue;
      }
      tern_msg_record_iter_init(&it, (const uint8_t *)r.body.p, r.body.n);
      while (tern_msg_record_iter_next(&it, &rec, NULL) == 1) (*got)++;
      off[q] = bt_ext_i64(&r, "nextBeginOffset");
    }
  }
  double secs = (bt_now_ms() - t0) / 1000.0;
  (void)expect;
  tern_arena_free(&a);
  bt_close(&c);
  return *got / secs;
}

int main(int argc, char **argv) {
  uint64_t backlog = argc > 1 ? strtoull(argv[1], NULL, 10) : 200000;
  double secs = argc > 2 ? atof(argv[2]) : 4;
  double starts[5];
  bt_broker_t b;
  frames_t f;
  run_t r1, r64, rhalf, e1, e64, ehalf;
  int echo_port;
  pid_t echo;
  long rss_idle, rss_load = 0, anon_load = 0;
  char conf[1024];
  snprintf(conf, sizeof conf, "mappedFileSizeCommitLog=268435456\nmappedFileSizeConsumeQueue=6000000\nlogLevel=error\n%s",
           getenv("BENCH_BROKER_CONF") ? getenv("BENCH_BROKER_CONF") : ""); /* extra broker.conf lines */

  signal(SIGPIPE, SIG_IGN);
  if (!getenv("TERN_MQBROKER")) setenv("TERN_MQBROKER", TERN_MQBROKER_PATH, 1);
  printf("broker benchmark (%s), 1 KiB bodies, ASYNC_FLUSH, %d connections\n", bt_broker_binary(), NCONN);
  for (int i = 0; i < 5; i++) {
    if (bt_broker_start(&b, NULL, 0, conf)) return 1;
    starts[i] = b.start_ms;
    if (i < 4) bt_broker_stop(&b, 0);
  }
  qsort(starts, 5, sizeof *starts, cmp_d);
  usleep(200000);
  rss_idle = bt_rss_kb(b.pid);
  printf("  start-up (exec to boot success, median of 5) %.1f ms; idle RSS %ld KiB (anonymous %ld KiB)\n", starts[2],
         rss_idle, rss_anon_kb(b.pid));

  build_send_frames(&f, "BenchTopic");
  /* warm up: creates the topic, maps the files */
  if (load(b.port, &f, 8, 0, 1, true, &r1)) return 1;
  free(r1.lat);
  if (load(b.port, &f, 1, 0, secs, true, &r1) || load(b.port, &f, 64, 0, secs, true, &r64)) return 1;
  rss_load = bt_rss_kb(b.pid);
  anon_load = rss_anon_kb(b.pid);
  if (load(b.port, &f, 0, r64.done / r64.secs / 2, secs, true, &rhalf)) return 1;

  echo = echo_server_start(r64.reply_len ? r64.reply_len : 200, &echo_port);
  if (echo < 0) return 1;
  usleep(100000);
  if (load(echo_port, &f, 1, 0, secs, false, &e1) || load(echo_port, &f, 64, 0, secs, false, &e64) ||
      load(echo_port, &f, 0, r64.done / r64.secs / 2, secs, false, &ehalf))
    return 1;
  kill(echo, SIGKILL);
  waitpid(echo, NULL, 0);

  printf("produce (reply %zu bytes):\n", r64.reply_len);
  report("broker, 1 in flight x 4 conns", &r1, true);
  report("echo,   1 in flight x 4 conns", &e1, true);
  report("broker, 64 in flight x 4 conns (peak)", &r64, true);
  report("echo,   64 in flight x 4 conns", &e64, true);
  report("broker, open loop at half the broker peak", &rhalf, true);
  report("echo,   open loop at the same rate", &ehalf, true);
  printf("  broker RSS after the 64-in-flight run: %ld KiB (anonymous %ld KiB; the rest is mapped store files)\n",
         rss_load, anon_load);

  /* backlog: a fresh topic filled with `backlog` messages, then drained */
  {
    frames_t g;
    run_t fill;
    uint64_t got;
    build_send_frames(&g, "BenchBacklog");
    double t0 = bt_now_ms();
    memset(&fill, 0, sizeof fill);
    while (fill.done < backlog) {
      run_t part;
      if (load(b.port, &g, 64, 0, 1, false, &part)) return 1;
      fill.done += part.done; /* replies counted; in-flight tails are stored too and show in the drain count */
      free(part.lat);
    }
    printf("backlog: filled %llu+ messages in %.1f s\n", (unsigned long long)fill.done, (bt_now_ms() - t0) / 1000);
    double rate = drain(b.port, "BenchBacklog", fill.done, &got);
    printf("  drain: %llu messages pulled at %.0f msg/s (32 per pull, 8 queues, 1 connection); RSS %ld KiB (anonymous "
           "%ld KiB)\n",
           (unsigned long long)got, rate, bt_rss_kb(b.pid), rss_anon_kb(b.pid));
  }
  printf("clean stop: exit %d\n", bt_broker_stop(&b, 0));
  return 0;
}
