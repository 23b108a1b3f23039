/* Flow control against a real loopback server: a client that never reads
 * makes the server pause reading its connection with memory bounded near the
 * high-water mark (other clients unaffected); past the hard limit the
 * connection is closed; zero-copy spans are released either way; idle
 * connections are closed after the (injected, short) idle time while busy
 * ones stay open. */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gen/codes.h"
#include "net_fixture.h"
#include "tern_test.h"

static uint8_t rbuf[1 << 20];

static int connect_small_rcvbuf(int port) {
  int fd = fx_connect(port), sz = 4096;
  if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
  return fd;
}

/* Sends as much of b as the socket takes without blocking. */
static size_t send_some(int fd, const tern_buf_t *b) {
  size_t off = 0;
  while (off < b->len) {
    ssize_t k = send(fd, b->p + off, b->len - off, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (k <= 0) break;
    off += (size_t)k;
  }
  return off;
}

static bool echo_ok(int port) {
  tern_buf_t b;
  tern_cmd_t cmd;
  tern_arena_t a;
  bool ok;
  int fd = fx_connect(port);
  if (fd < 0) return false;
  tern_buf_init(&b, 0);
  tern_arena_init(&a, 0, NULL, 0);
  fx_encode(&b, FX_ECHO, 9, TERN_SER_JSON, "alive", 0, NULL, NULL);
  ok = fx_send_all(fd, b.p, b.len) == 0 && fx_read_cmd(fd, rbuf, sizeof rbuf, &cmd, &a, 2000) > 0 &&
       tern_str_eq_cstr(cmd.body, "alive");
  tern_arena_free(&a);
  tern_buf_free(&b);
  close(fd);
  return ok;
}

TEST(reader_that_never_reads_is_paused_with_bounded_memory) {
  fx_server_t fx;
  tern_net_opts_t o;
  tern_buf_t b;
  int fd, handled;
  tern_net_opts_default(&o);
  o.write_high = 256 << 10;
  o.write_low = 64 << 10;
  fx_start(&fx, &o, false);
  fd = connect_small_rcvbuf(fx.port);
  ASSERT(fd >= 0);
  tern_buf_init(&b, 0);
  for (int i = 0; i < 2000; i++) fx_encode(&b, FX_SPANS, i, TERN_SER_JSON, NULL, 0, "n", "64"); /* 125 MiB of replies */
  send_some(fd, &b);
  /* wait until the server stops taking requests from this connection */
  handled = -1;
  for (int i = 0; i < 50; i++) {
    int now = atomic_load(&fx.requests);
    if (now == handled) break;
    handled = now;
    fx_sleep_ms(200);
  }
  ASSERT_EQ(atomic_load(&fx.requests), handled);
  ASSERT(handled < 2000);
  printf("  paused after %d of 2000 requests, largest output queue %zu bytes\n", handled,
         (size_t)atomic_load(&fx.max_queued));
  /* the queue stopped growing one reply past the high-water mark */
  ASSERT(atomic_load(&fx.max_queued) <= (size_t)o.write_high + (64 << 10) + 1024);
  /* others are served meanwhile */
  ASSERT(echo_ok(fx.port));
  ASSERT(echo_ok(fx.port2));
  close(fd);
  for (int i = 0; i < 200 && atomic_load(&fx.conns_closed) < 3; i++) fx_sleep_ms(10);
  ASSERT_EQ(atomic_load(&fx.conns_closed), 3);
  /* every span reply was released: written or dropped at close */
  ASSERT_EQ(atomic_load(&fx.spans_released), handled);
  tern_buf_free(&b);
  fx_stop(&fx);
}

TEST(output_over_the_hard_limit_closes_the_connection) {
  fx_server_t fx;
  tern_net_opts_t o;
  tern_buf_t b;
  int fd;
  tern_net_opts_default(&o);
  o.write_high = 1 << 30; /* never pause: only the hard limit is left */
  o.write_low = 1 << 20;
  o.write_limit = 1 << 20;
  fx_start(&fx, &o, false);
  fd = connect_small_rcvbuf(fx.port);
  tern_buf_init(&b, 0);
  for (int i = 0; i < 200; i++) fx_encode(&b, FX_SPANS, i, TERN_SER_JSON, NULL, 0, "n", "64");
  send_some(fd, &b);
  for (int i = 0; i < 300 && atomic_load(&fx.conns_closed) < 1; i++) fx_sleep_ms(10);
  ASSERT_EQ(atomic_load(&fx.conns_closed), 1);
  ASSERT(atomic_load(&fx.max_queued) <= (size_t)o.write_limit + (64 << 10) + 1024);
  ASSERT(fx_wait_eof(fd, 2000));
  for (int i = 0; i < 100 && atomic_load(&fx.spans_released) < atomic_load(&fx.requests); i++) fx_sleep_ms(10);
  ASSERT_EQ(atomic_load(&fx.spans_released), atomic_load(&fx.requests));
  ASSERT(echo_ok(fx.port));
  close(fd);
  tern_buf_free(&b);
  fx_stop(&fx);
}

TEST(idle_connections_are_closed) {
  fx_server_t fx;
  tern_net_opts_t o;
  tern_buf_t b;
  tern_cmd_t cmd;
  tern_arena_t a;
  int idle_fd, busy_fd;
  uint64_t t0;
  tern_net_opts_default(&o);
  o.idle_ms_override = 400;
  fx_start(&fx, &o, false);
  idle_fd = fx_connect(fx.port);
  busy_fd = fx_connect(fx.port);
  ASSERT(idle_fd >= 0 && busy_fd >= 0);
  tern_buf_init(&b, 0);
  tern_arena_init(&a, 0, NULL, 0);
  t0 = uv_hrtime();
  /* the busy connection talks every 50 ms for longer than the idle time */
  for (int i = 0; i < 14; i++) {
    tern_buf_reset(&b);
    fx_encode(&b, FX_ECHO, i, TERN_SER_JSON, "tick", 0, NULL, NULL);
    ASSERT_OK(fx_send_all(busy_fd, b.p, b.len));
    ASSERT(fx_read_cmd(busy_fd, rbuf, sizeof rbuf, &cmd, &a, 2000) > 0);
    ASSERT_EQ(cmd.opaque, i);
    fx_sleep_ms(50);
  }
  ASSERT((uv_hrtime() - t0) / 1000000 >= 700);
  ASSERT(fx_wait_eof(idle_fd, 2000)); /* closed long ago */
  ASSERT_EQ(atomic_load(&fx.conns_closed), 1);
  ASSERT(fx_wait_eof(busy_fd, 2000)); /* and the busy one once it goes quiet */
  tern_arena_free(&a);
  tern_buf_free(&b);
  close(idle_fd);
  close(busy_fd);
  fx_stop(&fx);
}

TEST(a_large_length_prefix_alone_does_not_allocate_the_frame) {
  /* A peer announces a frame just under 16 MiB and sends 100 KiB of it: the
   * read buffer grows with what arrived (at most twofold per read), not to
   * the announced size. Once the frame is complete it is served. */
  fx_server_t fx;
  uint8_t *frame;
  uint32_t len = (16u << 20) - 8; /* length field: frame is len + 4 bytes */
  size_t sent = 100 << 10, rcap;
  int fd;
  tern_buf_t b;
  tern_cmd_t cmd;
  tern_arena_t a;
  fx_start(&fx, NULL, false);
  fd = fx_connect(fx.port);
  tern_buf_init(&b, 20u << 20);
  tern_arena_init(&a, 0, NULL, 0);
  fx_encode(&b, FX_ECHO, 1, TERN_SER_JSON, NULL, 0, NULL, NULL);
  /* Turn it into a frame with a body of the right size. */
  frame = calloc(1, (size_t)len + 4);
  memcpy(frame, b.p, b.len);
  tern_store_be32(frame, len);
  ASSERT_OK(fx_send_all(fd, frame, sent));
  fx_sleep_ms(200);
  rcap = fx_max_read_buffer(&fx);
  printf("  16 MiB frame announced, %zu bytes sent: read buffer %zu bytes\n", sent, rcap);
  ASSERT(rcap <= 4 * sent);
  ASSERT_OK(fx_send_all(fd, frame + sent, (size_t)len + 4 - sent));
  {
    static uint8_t rb[17u << 20];
    ASSERT(fx_read_cmd(fd, rb, sizeof rb, &cmd, &a, 5000) > 0);
  }
  ASSERT_EQ(cmd.opaque, 1);
  ASSERT_EQ(cmd.body.n, (size_t)len + 4 - b.len);
  fx_sleep_ms(50);
  ASSERT(fx_max_read_buffer(&fx) <= (256u << 10)); /* given back after the big frame */
  free(frame);
  tern_arena_free(&a);
  tern_buf_free(&b);
  close(fd);
  fx_stop(&fx);
}
