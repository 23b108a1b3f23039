/* Load generator and echo baseline for the name-server benchmark; see load.h.
 * The echo server is the yardstick: the same loopback, the same frame sizes,
 * the same one-thread event loop shape, but no decoding and no route lookup,
 * so "namesrv rate / echo rate" is the cost of the protocol work. */
#include "load.h"

#include "proc_fixture.h" /* tern_fixture_connect */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

typedef struct lconn {
  int fd;
  double sent_at;
  size_t have;  /* reply bytes read so far */
  size_t need;  /* whole reply frame length once the prefix is in, else 0 */
  uint8_t buf[1 << 16];
} lconn_t;

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static int send_all(int fd, const uint8_t *p, size_t n) {
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

int load_run(int port, int nconn, const uint8_t *req, size_t req_len, double seconds, load_result_t *out) {
  lconn_t *c = calloc((size_t)nconn, sizeof *c);
  struct pollfd *pfd = calloc((size_t)nconn, sizeof *pfd);
  size_t cap = 1 << 20, ns = 0;
  double *lat = malloc(cap * sizeof *lat), t0, end;
  int rc = 0;
  memset(out, 0, sizeof *out);
  if (!c || !pfd || !lat) {
    rc = -1;
    goto done;
  }
  for (int i = 0; i < nconn; i++) {
    c[i].fd = tern_fixture_connect(port);
    if (c[i].fd < 0) {
      rc = -1;
      goto done;
    }
  }
  t0 = now_us();
  end = t0 + seconds * 1e6;
  for (int i = 0; i < nconn; i++) {
    c[i].sent_at = now_us();
    if (send_all(c[i].fd, req, req_len)) rc = -1;
  }
  while (rc == 0) {
    double t = now_us();
    if (t >= end) break;
    for (int i = 0; i < nconn; i++) {
      pfd[i].fd = c[i].fd;
      pfd[i].events = POLLIN;
      pfd[i].revents = 0;
    }
    if (poll(pfd, (nfds_t)nconn, 100) < 0 && errno != EINTR) {
      rc = -1;
      break;
    }
    for (int i = 0; i < nconn; i++) {
      lconn_t *k = &c[i];
      ssize_t r;
      if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      r = read(k->fd, k->buf + k->have, sizeof k->buf - k->have);
      if (r <= 0) {
        out->errors++;
        rc = -1;
        break;
      }
      k->have += (size_t)r;
      if (!k->need && k->have >= 4) {
        uint32_t len = ((uint32_t)k->buf[0] << 24) | ((uint32_t)k->buf[1] << 16) | ((uint32_t)k->buf[2] << 8) | k->buf[3];
        k->need = (size_t)len + 4;
        if (k->need > sizeof k->buf) {
          out->errors++;
          rc = -1;
          break;
        }
      }
      if (k->need && k->have >= k->need) {
        double done_at = now_us();
        if (ns == cap) {
          double *n2 = realloc(lat, cap * 2 * sizeof *lat);
          if (!n2) {
            rc = -1;
            break;
          }
          lat = n2;
          cap *= 2;
        }
        lat[ns++] = done_at - k->sent_at;
        memmove(k->buf, k->buf + k->need, k->have - k->need);
        k->have -= k->need;
        k->need = 0;
        k->sent_at = now_us();
        if (send_all(k->fd, req, req_len)) rc = -1;
      }
    }
  }
  out->seconds = (now_us() - t0) / 1e6;
  out->requests = ns;
  out->rps = ns / out->seconds;
  if (ns) {
    qsort(lat, ns, sizeof *lat, cmp_double);
    out->p50_us = lat[ns / 2];
    out->p99_us = lat[(size_t)(ns * 0.99)];
  }
done:
  if (c)
    for (int i = 0; i < nconn; i++)
      if (c[i].fd > 0) close(c[i].fd);
  free(c);
  free(pfd);
  free(lat);
  return rc;
}

/* ---- echo server ---- */

typedef struct econn {
  size_t have;
  uint8_t buf[1 << 16];
} econn_t;

static void echo_loop(int lfd, size_t reply_len) {
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL}, evs[64];
  uint8_t *reply = calloc(1, reply_len);
  /* A well-formed frame: length, JSON type with a header the size of the rest. */
  uint32_t len = (uint32_t)(reply_len - 4);
  reply[0] = (uint8_t)(len >> 24), reply[1] = (uint8_t)(len >> 16), reply[2] = (uint8_t)(len >> 8),
  reply[3] = (uint8_t)len;
  uint32_t hl = len - 4;
  reply[4] = 0, reply[5] = (uint8_t)(hl >> 16), reply[6] = (uint8_t)(hl >> 8), reply[7] = (uint8_t)hl;
  memset(reply + 8, ' ', reply_len - 8);
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
  for (;;) {
    int n = epoll_wait(ep, evs, 64, -1);
    for (int i = 0; i < n; i++) {
      econn_t *e = evs[i].data.ptr;
      if (!e) {
        int fd = accept(lfd, NULL, NULL), one = 1;
        econn_t *ne;
        if (fd < 0) continue;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        ne = calloc(1, sizeof *ne + sizeof(int));
        memcpy(ne + 1, &fd, sizeof fd);
        struct epoll_event cev = {.events = EPOLLIN, .data.ptr = ne};
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev);
        continue;
      }
      int fd;
      memcpy(&fd, e + 1, sizeof fd);
      ssize_t r = read(fd, e->buf + e->have, sizeof e->buf - e->have);
      if (r <= 0) {
        close(fd);
        free(e);
        continue;
      }
      e->have += (size_t)r;
      for (;;) {
        size_t need;
        if (e->have < 4) break;
        need = (((size_t)e->buf[0] << 24) | ((size_t)e->buf[1] << 16) | ((size_t)e->buf[2] << 8) | e->buf[3]) + 4;
        if (e->have < need) break;
        memmove(e->buf, e->buf + need, e->have - need);
        e->have -= need;
        if (send_all(fd, reply, reply_len)) break;
      }
    }
  }
}

pid_t echo_server_start(size_t reply_len, int *port) {
  struct sockaddr_in a;
  socklen_t al = sizeof a;
  int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  pid_t pid;
  if (lfd < 0 || reply_len < 12) return -1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(lfd, 128) != 0 ||
      getsockname(lfd, (struct sockaddr *)&a, &al) != 0) {
    close(lfd);
    return -1;
  }
  *port = ntohs(a.sin_port);
  pid = fork();
  if (pid == 0) {
    echo_loop(lfd, reply_len);
    _exit(0);
  }
  close(lfd);
  return pid;
}
