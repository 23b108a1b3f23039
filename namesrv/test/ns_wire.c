/* Raw frame I/O over blocking sockets with poll() timeouts; see ns_wire.h. */
#include "ns_wire.h"

#include <errno.h>
#include <poll.h>
#include <unistd.h>

int ns_wire_send_all(int fd, const void *p, size_t n) {
  const uint8_t *b = p;
  while (n) {
    ssize_t w = write(fd, b, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    b += w;
    n -= (size_t)w;
  }
  return 0;
}

int ns_wire_send_cmd(int fd, const tern_cmd_t *cmd) {
  tern_buf_t b;
  int rc;
  tern_buf_init(&b, 0);
  rc = tern_cmd_encode(cmd, &b) == 0 ? ns_wire_send_all(fd, b.p, b.len) : -1;
  tern_buf_free(&b);
  return rc;
}

/* Reads exactly n more bytes into buf; 0, 1 (EOF at the very start) or -1. */
static int read_n(int fd, tern_buf_t *buf, size_t n, int timeout_ms, bool at_start) {
  size_t want = buf->len + n;
  if (tern_buf_reserve(buf, n)) return -1;
  while (buf->len < want) {
    struct pollfd pfd = {fd, POLLIN, 0};
    ssize_t r;
    int pr = poll(&pfd, 1, timeout_ms);
    if (pr < 0 && errno == EINTR) continue;
    if (pr <= 0) return -1;
    r = read(fd, buf->p + buf->len, want - buf->len);
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) return at_start && buf->len == 0 ? 1 : -1;
    if (r < 0) return -1;
    buf->len += (size_t)r;
  }
  return 0;
}

int ns_wire_read_cmd(int fd, tern_buf_t *buf, tern_cmd_t *cmd, tern_arena_t *scratch, int timeout_ms) {
  tern_frame_parser_t p;
  tern_frame_t f;
  tern_err_t err;
  uint32_t len;
  int rc;
  tern_buf_reset(buf);
  rc = read_n(fd, buf, 4, timeout_ms, true);
  if (rc) return rc;
  len = tern_load_be32(buf->p);
  if (len < 4 || len > TERN_FRAME_DEFAULT_MAX) return -1;
  if (read_n(fd, buf, len, timeout_ms, false)) return -1;
  tern_frame_parser_init(&p, 0);
  if (tern_frame_next(&p, buf->p, buf->len, &f, &err) != (int)buf->len) return -1;
  return tern_cmd_decode(&f, cmd, scratch, &err) == 0 ? 0 : -1;
}

int ns_wire_wait_closed(int fd, int timeout_ms) {
  uint8_t junk[4096];
  for (;;) {
    struct pollfd pfd = {fd, POLLIN, 0};
    ssize_t r;
    int pr = poll(&pfd, 1, timeout_ms);
    if (pr < 0 && errno == EINTR) continue;
    if (pr <= 0) return 0;
    r = read(fd, junk, sizeof junk);
    if (r <= 0) return 1; /* EOF or reset */
  }
}

void ns_wire_request(tern_cmd_t *cmd, int32_t code, int32_t opaque) {
  tern_cmd_init(cmd);
  cmd->code = code;
  cmd->opaque = opaque;
  cmd->version = 409;
  cmd->serialize_type = TERN_SER_JSON;
}
