#include "conformance/server/rs_net.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "runtime/buf.h"

double rs_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int rs_connect(rs_conn_t *c, const char *addr, uint8_t ser, int timeout_ms) {
  char host[96], port[16];
  const char *colon = strrchr(addr, ':');
  struct addrinfo hints, *res = NULL;
  int fd, one = 1;
  (void)timeout_ms;
  memset(c, 0, sizeof *c);
  c->fd = -1;
  if (!colon || (size_t)(colon - addr) >= sizeof host) return TERN_EINVAL;
  memcpy(host, addr, (size_t)(colon - addr));
  host[colon - addr] = 0;
  snprintf(port, sizeof port, "%s", colon + 1);
  if (host[0] == '[') { /* [v6]:port */
    memmove(host, host + 1, strlen(host));
    host[strlen(host) - 1] = 0;
  }
  memset(&hints, 0, sizeof hints);
  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo(host, port, &hints, &res) != 0 || !res) return TERN_EINVAL;
  fd = socket(res->ai_family, SOCK_STREAM, 0);
  if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
    if (fd >= 0) close(fd);
    freeaddrinfo(res);
    return TERN_ECLOSED;
  }
  freeaddrinfo(res);
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  c->fd = fd;
  c->ser = ser;
  snprintf(c->addr, sizeof c->addr, "%s", addr);
  tern_frame_parser_init(&c->fp, 0);
  tern_arena_init(&c->arena, 0, NULL, 0);
  c->next_opaque = 1;
  return 0;
}

void rs_close(rs_conn_t *c) {
  if (c->fd >= 0) close(c->fd);
  c->fd = -1;
  free(c->buf);
  c->buf = NULL;
  c->len = c->cap = c->consumed = 0;
  tern_arena_free(&c->arena);
}

int rs_write(rs_conn_t *c, const void *p, size_t n) {
  const uint8_t *b = p;
  while (n) {
    ssize_t w = send(c->fd, b, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return TERN_ECLOSED;
    b += w;
    n -= (size_t)w;
  }
  return 0;
}

int rs_read(rs_conn_t *c, tern_cmd_t *cmd, int timeout_ms) {
  double deadline = rs_now_ms() + timeout_ms;
  tern_frame_t f;
  tern_err_t err = {0};
  if (c->consumed) {
    memmove(c->buf, c->buf + c->consumed, c->len - c->consumed);
    c->len -= c->consumed;
    c->consumed = 0;
  }
  for (;;) {
    int rc = tern_frame_next(&c->fp, c->buf, c->len, &f, &err);
    if (rc < 0) return rc;
    if (rc > 0) {
      c->consumed = (size_t)rc;
      tern_arena_reset(&c->arena);
      return tern_cmd_decode(&f, cmd, &c->arena, &err);
    }
    int left = (int)(deadline - rs_now_ms());
    if (left <= 0) return TERN_ETIMEDOUT;
    struct pollfd pfd = {c->fd, POLLIN, 0};
    int pr = poll(&pfd, 1, left);
    if (pr < 0 && errno == EINTR) continue;
    if (pr == 0) return TERN_ETIMEDOUT;
    if (c->cap - c->len < 65536) {
      size_t nc = c->cap ? c->cap * 2 : 131072;
      uint8_t *nb = realloc(c->buf, nc);
      if (!nb) return TERN_ENOMEM;
      c->buf = nb;
      c->cap = nc;
    }
    ssize_t r = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return TERN_ECLOSED;
    c->len += (size_t)r;
  }
}

int rs_encode(rs_conn_t *c, tern_cmd_t *req, tern_buf_t *out) {
  req->opaque = c->next_opaque++;
  req->serialize_type = c->ser;
  return tern_cmd_encode(req, out);
}

int rs_call(rs_conn_t *c, tern_cmd_t *req, tern_cmd_t *resp, int timeout_ms) {
  tern_buf_t b;
  int rc;
  double deadline = rs_now_ms() + timeout_ms;
  tern_buf_init(&b, 0);
  rc = rs_encode(c, req, &b);
  if (rc == 0) rc = rs_write(c, b.p, b.len);
  tern_buf_free(&b);
  if (rc || (req->flag & TERN_FLAG_ONEWAY)) return rc;
  for (;;) {
    int left = (int)(deadline - rs_now_ms());
    if (left <= 0) return TERN_ETIMEDOUT;
    rc = rs_read(c, resp, left);
    if (rc) return rc;
    if ((resp->flag & TERN_FLAG_RESPONSE) && resp->opaque == req->opaque) return 0;
  }
}

bool rs_wait_closed(rs_conn_t *c, int timeout_ms) {
  double deadline = rs_now_ms() + timeout_ms;
  tern_cmd_t cmd;
  for (;;) {
    int left = (int)(deadline - rs_now_ms());
    if (left <= 0) return false;
    int rc = rs_read(c, &cmd, left);
    if (rc == TERN_ETIMEDOUT) return false;
    if (rc == TERN_ECLOSED) return true;
    if (rc < 0) { /* unparsable bytes: treat as not closed by the peer */
      return false;
    }
  }
}
