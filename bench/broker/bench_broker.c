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
#define _GNU_SOURCE 1 /* ppoll */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bt.h"

#define NCONN 4
#define MAXQ 8
#define BODY 1024
#define RING 8192    /* requests in flight per connection, FIFO of send stamps */
#define TMPL 512     /* pre-encoded frames per template (a multiple of MAXQ) */
#define RBUF (1 << 20)

/* Pre-encoded requests: TMPL frames back to back, queue ids cycling 0..7, all
 * of one length, so "send k more requests" is one write of a contiguous slice
 * (two at the wrap) straight from this buffer: no per-request encode or copy. */
typedef struct tmpl {
  uint8_t *p;
  size_t flen, total;
} tmpl_t;

typedef struct gconn {
  int fd;
  uint64_t queued; /* requests handed to the send stream */
  uint64_t sent;   /* bytes of that stream written */
  double ts[RING]; /* stamps of requests in flight, FIFO */
  uint32_t head, n;
  uint8_t *in;
  size_t have;
} gconn_t;

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

/* user+system CPU seconds of a process (pid 0: this one) */
static double cpu_s(pid_t pid) {
  char path[64], buf[1024], *p;
  unsigned long ut, st;
  size_t n;
  FILE *f;
  if (pid == 0) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
  }
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  if (!(f = fopen(path, "r"))) return 0;
  n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  p = strrchr(buf, ')');
  if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2) return 0;
  return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* minor page faults of a process, all threads (field 10 of /proc/<pid>/stat) */
static double minflt(pid_t pid) {
  char path[64], buf[1024], *p;
  unsigned long mf;
  size_t n;
  FILE *f;
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  if (!(f = fopen(path, "r"))) return 0;
  n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  p = strrchr(buf, ')');
  if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %lu", &mf) != 1) return 0;
  return (double)mf;
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

/* SEND_MESSAGE_V2 frames, 1 KiB body, queue i % 8. */
static int build_send_frames(tmpl_t *t, const char *topic) {
  static char body[BODY];
  uint8_t *one[MAXQ];
  size_t len[MAXQ];
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
    one[q] = out.p;
    len[q] = out.len;
    tern_arena_free(&a);
  }
  for (int q = 1; q < MAXQ; q++)
    if (len[q] != len[0]) return -1; /* one-digit queue ids: all frames have one length */
  t->flen = len[0];
  t->total = t->flen * TMPL;
  t->p = malloc(t->total);
  for (int i = 0; i < TMPL; i++) memcpy(t->p + (size_t)i * t->flen, one[i % MAXQ], t->flen);
  for (int q = 0; q < MAXQ; q++) free(one[q]);
  return 0;
}

typedef struct run {
  uint64_t done, errors;
  double secs;
  double *lat; /* microseconds */
  size_t nlat, caplat;
  size_t reply_len;
  uint8_t reply[512]; /* the first reply frame, for the echo */
  double cpu_gen, cpu_srv; /* CPU seconds used during the run */
  double flt_srv;          /* minor page faults of the server during the run */
} run_t;

/* A reply is checked cheaply: the JSON header a Java-style server writes
 * starts with its code ({"code":0,...}); anything else is decoded in full. */
static bool reply_ok(const uint8_t *p, size_t len) {
  static const char ok[] = "{\"code\":0,";
  if (len >= 8 + sizeof ok - 1 && p[4] == 0 && memcmp(p + 8, ok, sizeof ok - 1) == 0) return true;
  tern_frame_parser_t fp;
  tern_frame_t f;
  tern_cmd_t cmd;
  tern_arena_t a;
  uint8_t blk[4096];
  bool good;
  tern_arena_init(&a, 0, blk, sizeof blk);
  tern_frame_parser_init(&fp, 0);
  good = tern_frame_next(&fp, p, len, &f, NULL) > 0 && tern_cmd_decode(&f, &cmd, &a, NULL) == 0 && cmd.code == 0;
  tern_arena_free(&a);
  return good;
}

/* Reads what is there (one read unless the buffer filled) and consumes every
 * complete reply frame. */
static int drain_replies(gconn_t *c, run_t *r, double now, bool check) {
  for (;;) {
    ssize_t n = read(c->fd, c->in + c->have, RBUF - c->have);
    if (n == 0) return -1;
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) break;
      return -1;
    }
    c->have += (size_t)n;
    if (c->have < RBUF) break;
    if (c->have == RBUF) break; /* parse, then read on at the next wake-up */
  }
  size_t off = 0;
  while (c->have - off >= 4) {
    size_t len = tern_load_be32(c->in + off) + 4u;
    if (len > RBUF) return -1;
    if (c->have - off < len) break;
    if (check && !reply_ok(c->in + off, len)) r->errors++;
    if (!r->reply_len && len <= sizeof r->reply) memcpy(r->reply, c->in + off, len);
    if (!r->reply_len) r->reply_len = len;
    if (c->n) {
      double t = c->ts[c->head];
      c->head = (c->head + 1) % RING;
      c->n--;
      if (r->nlat < r->caplat) r->lat[r->nlat++] = (now - t) * 1000.0;
    }
    r->done++;
    off += len;
  }
  if (off) {
    memmove(c->in, c->in + off, c->have - off);
    c->have -= off;
  }
  return 0;
}

/* Writes as much of the queued stream as the socket takes (1–2 iovecs). */
static int flush_out(gconn_t *c, const tmpl_t *t) {
  uint64_t want = c->queued * t->flen;
  while (c->sent < want) {
    size_t pos = (size_t)(c->sent % t->total);
    uint64_t left = want - c->sent;
    struct iovec iov[2];
    int k = 1;
    iov[0].iov_base = t->p + pos;
    iov[0].iov_len = (size_t)(left < t->total - pos ? left : t->total - pos);
    if (left > iov[0].iov_len) {
      iov[1].iov_base = t->p;
      iov[1].iov_len = (size_t)(left - iov[0].iov_len < pos ? left - iov[0].iov_len : pos);
      k = iov[1].iov_len ? 2 : 1;
    }
    ssize_t w = writev(c->fd, iov, k);
    if (w < 0) return errno == EAGAIN || errno == EINTR ? 0 : -1;
    c->sent += (uint64_t)w;
  }
  return 0;
}

static void queue_req(gconn_t *c, double stamp) {
  c->ts[(c->head + c->n) % RING] = stamp;
  c->n++;
  c->queued++;
}

/* One thread, one poll() over all connections. Closed loop (rate 0): keep
 * `depth` in flight per connection. Open loop (rate > 0): requests leave at
 * `rate`/s in total, latency counted from their scheduled time. srv: the
 * server's pid, for its CPU time. */
static int load(int port, const tmpl_t *t, int nconn, int depth, double rate, double seconds, bool check, pid_t srv,
                run_t *r) {
  gconn_t *c = calloc((size_t)nconn, sizeof *c);
  struct pollfd pfd[NCONN];
  double t0, now, next_due;
  uint64_t sched = 0;
  double cg0 = cpu_s(0), cs0 = srv ? cpu_s(srv) : 0, f0 = srv ? minflt(srv) : 0;
  memset(r, 0, sizeof *r);
  r->caplat = 8000000;
  r->lat = malloc(r->caplat * sizeof *r->lat);
  if (depth >= RING) depth = RING - 1;
  for (int i = 0; i < nconn; i++) {
    c[i].in = malloc(RBUF);
    if ((c[i].fd = connect_port(port)) < 0) return -1;
  }
  t0 = bt_now_ms();
  next_due = t0;
  for (;;) {
    now = bt_now_ms();
    if (now - t0 >= seconds * 1000) break;
    if (rate <= 0) {
      for (int i = 0; i < nconn; i++)
        while (c[i].n < (uint32_t)depth) queue_req(&c[i], now);
    } else {
      while (next_due <= now) {
        gconn_t *cc = &c[sched % (uint64_t)nconn];
        if (cc->n >= RING - 1) break;
        queue_req(cc, next_due);
        sched++;
        next_due = t0 + (double)sched * 1000.0 / rate;
      }
    }
    for (int i = 0; i < nconn; i++) {
      if (flush_out(&c[i], t)) return -1;
      pfd[i] = (struct pollfd){c[i].fd, (short)(POLLIN | (c[i].sent < c[i].queued * t->flen ? POLLOUT : 0)), 0};
    }
    /* open loop: sleep exactly until the next request is due (a poll() in whole
     * milliseconds would round sub-millisecond gaps to 0 and spin a core) */
    double wait = rate > 0 ? next_due - now : 100;
    if (wait < 0) wait = 0;
    struct timespec tmo = {(time_t)(wait / 1000), (long)((wait - (double)(time_t)(wait / 1000) * 1000) * 1e6)};
    if (ppoll(pfd, (nfds_t)nconn, &tmo, NULL) < 0 && errno != EINTR) return -1;
    now = bt_now_ms();
    for (int i = 0; i < nconn; i++)
      if ((pfd[i].revents & (POLLIN | POLLERR | POLLHUP)) && drain_replies(&c[i], r, now, check)) return -1;
  }
  r->secs = (bt_now_ms() - t0) / 1000.0;
  r->cpu_gen = cpu_s(0) - cg0;
  r->cpu_srv = srv ? cpu_s(srv) - cs0 : 0;
  r->flt_srv = srv ? minflt(srv) - f0 : 0;
  /* let the in-flight replies land (not counted in the rate) */
  for (int i = 0; i < nconn; i++) {
    double end = bt_now_ms() + 5000;
    run_t tail;
    memset(&tail, 0, sizeof tail);
    while ((c[i].n || c[i].sent < c[i].queued * t->flen) && bt_now_ms() < end) {
      struct pollfd p1 = {c[i].fd, (short)(POLLIN | (c[i].sent < c[i].queued * t->flen ? POLLOUT : 0)), 0};
      if (flush_out(&c[i], t)) break;
      if (poll(&p1, 1, 100) > 0 && (p1.revents & (POLLIN | POLLERR | POLLHUP)) &&
          drain_replies(&c[i], &tail, bt_now_ms(), check))
        break;
    }
    r->errors += tail.errors;
    close(c[i].fd);
    free(c[i].in);
  }
  free(c);
  return 0;
}

/* ---- the yardstick: a frame echo as lean as a server can be ----
 * Single-threaded epoll; per read it counts the complete frames and answers
 * all of them with one write of that many copies of `reply` (the broker's own
 * reply frame, so the bytes on the wire match). */
typedef struct econn {
  int fd;
  size_t have;
  uint64_t owe; /* bytes of replies not yet written */
  uint64_t pos;
  bool want_out;
  uint8_t buf[RBUF];
} econn_t;

static void echo_main(int lfd, const uint8_t *reply, size_t rlen) {
  size_t nrep = 4096;
  uint8_t *rep = malloc(rlen * nrep);
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL}, evs[64];
  for (size_t i = 0; i < nrep; i++) memcpy(rep + i * rlen, reply, rlen);
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
  for (;;) {
    int n = epoll_wait(ep, evs, 64, -1);
    for (int i = 0; i < n; i++) {
      econn_t *e = evs[i].data.ptr;
      if (!e) {
        int fd = accept(lfd, NULL, NULL), one = 1;
        if (fd < 0) continue;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        fcntl(fd, F_SETFL, O_NONBLOCK);
        e = calloc(1, sizeof *e);
        e->fd = fd;
        struct epoll_event cev = {.events = EPOLLIN, .data.ptr = e};
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev);
        continue;
      }
      if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        ssize_t r = read(e->fd, e->buf + e->have, sizeof e->buf - e->have);
        if (r == 0 || (r < 0 && errno != EAGAIN)) {
          close(e->fd);
          free(e);
          continue;
        }
        if (r > 0) e->have += (size_t)r;
        size_t off = 0;
        while (e->have - off >= 4) {
          size_t need = tern_load_be32(e->buf + off) + 4u;
          if (e->have - off < need) break;
          off += need;
          e->owe += rlen;
        }
        memmove(e->buf, e->buf + off, e->have - off);
        e->have -= off;
      }
      while (e->owe) {
        size_t p = (size_t)(e->pos % (rlen * nrep));
        size_t k = rlen * nrep - p < e->owe ? rlen * nrep - p : (size_t)e->owe;
        ssize_t w = write(e->fd, rep + p, k);
        if (w <= 0) break;
        e->owe -= (uint64_t)w;
        e->pos += (uint64_t)w;
      }
      if ((e->owe != 0) != e->want_out) { /* only when the interest changes: no syscall per frame */
        struct epoll_event cev = {.events = EPOLLIN | (e->owe ? EPOLLOUT : 0), .data.ptr = e};
        e->want_out = e->owe != 0;
        epoll_ctl(ep, EPOLL_CTL_MOD, e->fd, &cev);
      }
    }
  }
}

static pid_t echo_start(const uint8_t *reply, size_t rlen, int *port) {
  struct sockaddr_in a;
  socklen_t al = sizeof a;
  int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  pid_t pid;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(lfd, 128) != 0 ||
      getsockname(lfd, (struct sockaddr *)&a, &al) != 0)
    return -1;
  *port = ntohs(a.sin_port);
  if ((pid = fork()) == 0) {
    echo_main(lfd, reply, rlen);
    _exit(0);
  }
  close(lfd);
  return pid;
}

/* ---- the disk yardstick, in the file system the broker's store uses ---- */
static double raw_write_mbps(const char *dir, int mbytes) {
  char path[256];
  size_t chunk = 1 << 20;
  char *buf = malloc(chunk);
  snprintf(path, sizeof path, "%s/raw.dat", dir);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return -1;
  memset(buf, 'w', chunk);
  double t0 = bt_now_ms();
  for (int i = 0; i < mbytes; i++)
    if (write(fd, buf, chunk) != (ssize_t)chunk) break;
  fdatasync(fd);
  double dt = (bt_now_ms() - t0) / 1000;
  close(fd);
  unlink(path);
  free(buf);
  return mbytes / dt;
}

/* Appending 64 KiB + fdatasync, repeated: what one group commit of ~50 records costs. */
static double append_sync_per_s(const char *dir) {
  char path[256];
  static char buf[65536];
  snprintf(path, sizeof path, "%s/sync.dat", dir);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return -1;
  memset(buf, 's', sizeof buf);
  long n = 0;
  double t0 = bt_now_ms();
  while (bt_now_ms() - t0 < 1000) {
    if (write(fd, buf, sizeof buf) != (ssize_t)sizeof buf) break;
    fdatasync(fd);
    n++;
  }
  double dt = (bt_now_ms() - t0) / 1000;
  close(fd);
  unlink(path);
  return n / dt;
}

static void report(const char *what, run_t *r, bool lat) {
  printf("  %-40s %8.0f msg/s", what, r->done / r->secs);
  if (lat && r->nlat) {
    qsort(r->lat, r->nlat, sizeof *r->lat, cmp_d);
    printf("  p50 %6.0f p99 %6.0f p99.9 %6.0f us", r->lat[r->nlat / 2], r->lat[(size_t)(r->nlat * 0.99)],
           r->lat[(size_t)(r->nlat * 0.999)]);
  }
  if (r->done)
    printf("  cpu/msg srv %.2f gen %.2f us, srv faults/msg %.3f", r->cpu_srv * 1e6 / (double)r->done,
           r->cpu_gen * 1e6 / (double)r->done, r->flt_srv / (double)r->done);
  if (r->errors) printf("  (%llu errors)", (unsigned long long)r->errors);
  printf("\n");
  free(r->lat);
  r->lat = NULL;
}

/* Pulls every queue of topic to its end with 32-message pulls, one pull per
 * queue in flight at once (8 pipelined on one connection); records are
 * counted by walking their TOTALSIZE fields. */
static double drain(int port, const char *topic, uint64_t *got) {
  int fd = connect_port(port);
  int64_t off[MAXQ] = {0};
  bool done[MAXQ] = {false};
  int ndone = 0;
  uint8_t *in = malloc(16 << 20);
  size_t have = 0;
  double t0;
  *got = 0;
  if (fd < 0) return -1;
  fcntl(fd, F_SETFL, 0); /* blocking */
  t0 = bt_now_ms();
  while (ndone < MAXQ) {
    tern_buf_t out;
    int inflight = 0;
    tern_buf_init(&out, 0);
    for (int q = 0; q < MAXQ; q++) {
      tern_cmd_t req;
      tern_arena_t a;
      tern_hdr_pull_message_request_t h;
      if (done[q]) continue;
      memset(&h, 0, sizeof h);
      tern_arena_init(&a, 0, NULL, 0);
      tern_rpc_request_init(&req, TERN_REQ_PULL_MESSAGE, TERN_STR_NULL);
      h.consumer_group = TERN_STR("CG_BENCH");
      h.topic = tern_str_from_cstr(topic);
      h.queue_id = q;
      h.queue_offset = off[q];
      h.max_msg_nums = 32;
      h.sys_flag = 0x4;
      h.subscription = TERN_STR("*");
      h.present = TERN_HDR_PULL_MESSAGE_REQUEST_HAS_CONSUMER_GROUP | TERN_HDR_PULL_MESSAGE_REQUEST_HAS_TOPIC |
                  TERN_HDR_PULL_MESSAGE_REQUEST_HAS_QUEUE_ID | TERN_HDR_PULL_MESSAGE_REQUEST_HAS_QUEUE_OFFSET |
                  TERN_HDR_PULL_MESSAGE_REQUEST_HAS_MAX_MSG_NUMS | TERN_HDR_PULL_MESSAGE_REQUEST_HAS_SYS_FLAG |
                  TERN_HDR_PULL_MESSAGE_REQUEST_HAS_COMMIT_OFFSET |
                  TERN_HDR_PULL_MESSAGE_REQUEST_HAS_SUSPEND_TIMEOUT_MILLIS |
                  TERN_HDR_PULL_MESSAGE_REQUEST_HAS_SUB_VERSION | TERN_HDR_PULL_MESSAGE_REQUEST_HAS_SUBSCRIPTION;
      tern_hdr_pull_message_request_encode(&h, &req, &a);
      req.opaque = q;
      tern_cmd_encode(&req, &out);
      tern_arena_free(&a);
      inflight++;
    }
    if (write(fd, out.p, out.len) != (ssize_t)out.len) return -1;
    tern_buf_free(&out);
    while (inflight) {
      size_t len;
      while (have < 4 || have < (len = tern_load_be32(in) + 4u)) {
        ssize_t n = read(fd, in + have, (16u << 20) - have);
        if (n <= 0) return -1;
        have += (size_t)n;
      }
      {
        tern_frame_parser_t fp;
        tern_frame_t f;
        tern_cmd_t cmd;
        tern_arena_t a;
        uint8_t blk[4096];
        tern_arena_init(&a, 0, blk, sizeof blk);
        tern_frame_parser_init(&fp, 0);
        if (tern_frame_next(&fp, in, len, &f, NULL) <= 0 || tern_cmd_decode(&f, &cmd, &a, NULL)) return -1;
        int q = cmd.opaque;
        if (q < 0 || q >= MAXQ) return -1;
        if (cmd.code != 0) {
          done[q] = true;
          ndone++;
        } else {
          const uint8_t *p = (const uint8_t *)cmd.body.p;
          size_t left = cmd.body.n;
          while (left >= 4) {
            size_t sz = tern_load_be32(p);
            if (sz < 4 || sz > left) break;
            (*got)++;
            p += sz;
            left -= sz;
          }
          off[q] = bt_ext_i64(&cmd, "nextBeginOffset");
        }
        tern_arena_free(&a);
      }
      memmove(in, in + len, have - len);
      have -= len;
      inflight--;
    }
  }
  double secs = (bt_now_ms() - t0) / 1000.0;
  close(fd);
  free(in);
  return (double)*got / secs;
}

static char conf_extra[1024];
static const char *mkconf(char *conf, size_t n, const char *more) {
  snprintf(conf, n, "mappedFileSizeCommitLog=268435456\nmappedFileSizeConsumeQueue=6000000\nlogLevel=error\n%s%s",
           conf_extra, more);
  return conf;
}

int main(int argc, char **argv) {
  uint64_t backlog = argc > 1 ? strtoull(argv[1], NULL, 10) : 200000;
  double secs = argc > 2 ? atof(argv[2]) : 4;
  double starts[5];
  bt_broker_t b;
  tmpl_t f, g;
  run_t r1, r11, r64, rhalf, e1, e11, e64, ehalf, s1, s64;
  int echo_port;
  pid_t echo;
  long rss_idle, rss_load = 0, anon_load = 0;
  char conf[2048];
  snprintf(conf_extra, sizeof conf_extra, "%s", getenv("BENCH_BROKER_CONF") ? getenv("BENCH_BROKER_CONF") : "");

  signal(SIGPIPE, SIG_IGN);
  if (!getenv("TERN_MQBROKER")) setenv("TERN_MQBROKER", TERN_MQBROKER_PATH, 1);
  printf("broker benchmark (%s), 1 KiB bodies, %d connections, %.0f s per run\n", bt_broker_binary(), NCONN, secs);
  for (int i = 0; i < 5; i++) {
    if (bt_broker_start(&b, NULL, 0, mkconf(conf, sizeof conf, ""))) return 1;
    starts[i] = b.start_ms;
    if (i < 4) bt_broker_stop(&b, 0);
  }
  qsort(starts, 5, sizeof *starts, cmp_d);
  usleep(200000);
  rss_idle = bt_rss_kb(b.pid);
  printf("  start-up (exec to boot success, median of 5) %.1f ms; idle RSS %ld KiB (anonymous %ld KiB)\n", starts[2],
         rss_idle, rss_anon_kb(b.pid));
  printf("disk (store's file system, same run): sequential write %.0f MB/s; 64 KiB append+fdatasync %.0f/s\n",
         raw_write_mbps(b.dir, 256), append_sync_per_s(b.dir));

  if (build_send_frames(&f, "BenchTopic") || build_send_frames(&g, "BenchBacklog")) return 1;
  /* warm up: creates the topic, maps the files */
  if (load(b.port, &f, NCONN, 8, 0, 1, true, b.pid, &r1)) return 1;
  free(r1.lat);
  if (getenv("BENCH_BROKER_PEAK")) { /* profiling aid: one closed-loop run, "depth[:conns]" (default 64:4) */
    int depth = 64, nc = NCONN;
    if (sscanf(getenv("BENCH_BROKER_PEAK"), "%d:%d", &depth, &nc) < 1 || depth < 1) depth = 64;
    if (nc < 1 || nc > NCONN) nc = NCONN;
    printf("  broker pid %d\n", (int)b.pid);
    fflush(stdout);
    if (load(b.port, &f, nc, depth, 0, secs, true, b.pid, &r64)) return 1;
    report("broker, closed loop (BENCH_BROKER_PEAK)", &r64, true);
    printf("clean stop: exit %d\n", bt_broker_stop(&b, 0));
    return 0;
  }
  if (load(b.port, &f, 1, 1, 0, secs, true, b.pid, &r11) || load(b.port, &f, NCONN, 1, 0, secs, true, b.pid, &r1) ||
      load(b.port, &f, NCONN, 64, 0, secs, true, b.pid, &r64))
    return 1;
  rss_load = bt_rss_kb(b.pid);
  anon_load = rss_anon_kb(b.pid);
  if (load(b.port, &f, NCONN, 0, r64.done / r64.secs / 2, secs, true, b.pid, &rhalf)) return 1;

  echo = echo_start(r64.reply, r64.reply_len, &echo_port);
  if (echo < 0 || r64.reply_len == 0 || r64.reply_len > sizeof r64.reply) return 1;
  usleep(100000);
  if (load(echo_port, &f, 1, 1, 0, secs, true, echo, &e11) || load(echo_port, &f, NCONN, 1, 0, secs, true, echo, &e1) ||
      load(echo_port, &f, NCONN, 64, 0, secs, true, echo, &e64) ||
      load(echo_port, &f, NCONN, 0, r64.done / r64.secs / 2, secs, true, echo, &ehalf))
    return 1;
  kill(echo, SIGKILL);
  waitpid(echo, NULL, 0);

  printf("produce, ASYNC_FLUSH (reply %zu bytes; cpu/msg = CPU time of server and generator per message):\n",
         r64.reply_len);
  report("broker, 1 in flight x 1 conn", &r11, true);
  report("echo,   1 in flight x 1 conn", &e11, true);
  report("broker, 1 in flight x 4 conns", &r1, true);
  report("echo,   1 in flight x 4 conns", &e1, true);
  report("broker, 64 in flight x 4 conns (peak)", &r64, true);
  report("echo,   64 in flight x 4 conns", &e64, true);
  report("broker, open loop, half the broker peak", &rhalf, true);
  report("echo,   open loop, the same rate", &ehalf, true);
  printf("  broker RSS after the 64-in-flight run: %ld KiB (anonymous %ld KiB; the rest is mapped store files)\n",
         rss_load, anon_load);

  /* backlog: a fresh topic filled with `backlog` messages, then drained */
  {
    run_t fill;
    uint64_t got;
    double t0 = bt_now_ms();
    memset(&fill, 0, sizeof fill);
    while (fill.done < backlog) {
      run_t part;
      if (load(b.port, &g, NCONN, 64, 0, 1, false, 0, &part)) return 1;
      fill.done += part.done; /* replies counted; in-flight tails are stored too and show in the drain count */
      free(part.lat);
    }
    printf("backlog: filled %llu+ messages in %.1f s\n", (unsigned long long)fill.done, (bt_now_ms() - t0) / 1000);
    double cs0 = cpu_s(b.pid), cg0 = cpu_s(0);
    double rate = drain(b.port, "BenchBacklog", &got);
    printf("  drain: %llu messages pulled at %.0f msg/s (32 per pull, 8 queues pipelined, 1 connection); cpu/msg srv "
           "%.2f gen %.2f us; RSS %ld KiB (anonymous %ld KiB)\n",
           (unsigned long long)got, rate, (cpu_s(b.pid) - cs0) * 1e6 / (double)(got ? got : 1),
           (cpu_s(0) - cg0) * 1e6 / (double)(got ? got : 1), bt_rss_kb(b.pid), rss_anon_kb(b.pid));
  }
  printf("clean stop: exit %d\n", bt_broker_stop(&b, 0));

  /* SYNC_FLUSH: a fresh broker, group commit */
  if (bt_broker_start(&b, NULL, 0, mkconf(conf, sizeof conf, "\nflushDiskType=SYNC_FLUSH\n"))) return 1;
  if (load(b.port, &f, NCONN, 8, 0, 1, true, b.pid, &s1)) return 1;
  free(s1.lat);
  if (load(b.port, &f, 1, 1, 0, secs, true, b.pid, &s1) || load(b.port, &f, NCONN, 64, 0, secs, true, b.pid, &s64))
    return 1;
  printf("produce, SYNC_FLUSH (group commit):\n");
  report("broker, 1 in flight x 1 conn", &s1, true);
  report("broker, 64 in flight x 4 conns", &s64, true);
  printf("clean stop: exit %d\n", bt_broker_stop(&b, 0));
  free(f.p);
  free(g.p);
  return 0;
}
