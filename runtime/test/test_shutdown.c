/* Clean shutdown on SIGTERM/SIGINT, as a server binary runs it: the signal
 * closes the listeners, replies still being worked on are delivered, then the
 * connections close and the loop returns (exit 0). A request that is never
 * answered cannot hold shutdown past the grace time. */
#include <errno.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gen/codes.h"
#include "net_fixture.h"
#include "tern_test.h"

static uint8_t rbuf[1 << 16];

TEST(sigterm_finishes_in_flight_replies_then_exits) {
  fx_server_t fx;
  tern_buf_t b;
  tern_cmd_t cmd;
  tern_arena_t a;
  int fd, idle_fd;
  fx_start(&fx, NULL, true);
  fd = fx_connect(fx.port);
  idle_fd = fx_connect(fx.port2);
  ASSERT(fd >= 0 && idle_fd >= 0);
  tern_buf_init(&b, 0);
  tern_arena_init(&a, 0, NULL, 0);
  fx_encode(&b, FX_DEFER, 21, TERN_SER_JSON, "in flight", 0, "delay", "200");
  ASSERT_OK(fx_send_all(fd, b.p, b.len));
  fx_sleep_ms(50); /* the server has parked the request */
  ASSERT_EQ(atomic_load(&fx.requests), 1);
  raise(SIGTERM);
  fx_sleep_ms(50);
  ASSERT(fx_connect(fx.port) < 0); /* listeners are closed at once */
  ASSERT(fx_wait_eof(idle_fd, 2000)); /* idle connections go straight away */
  ASSERT(fx_read_cmd(fd, rbuf, sizeof rbuf, &cmd, &a, 2000) > 0);
  ASSERT_EQ(cmd.opaque, 21);
  ASSERT_STR(cmd.body, "in flight");
  ASSERT(fx_wait_eof(fd, 2000));
  fx_join(&fx);
  ASSERT_EQ(fx.exit_code, 0);
  ASSERT_EQ(atomic_load(&fx.server_closed), 1);
  tern_arena_free(&a);
  tern_buf_free(&b);
  close(fd);
  close(idle_fd);
}

TEST(sigint_shutdown_is_bounded_by_the_grace_time) {
  fx_server_t fx;
  tern_net_opts_t o;
  tern_buf_t b;
  int fd;
  uint64_t t0;
  tern_net_opts_default(&o);
  o.shutdown_grace_ms = 300;
  fx_start(&fx, &o, true);
  fd = fx_connect(fx.port);
  tern_buf_init(&b, 0);
  fx_encode(&b, FX_SILENT, 1, TERN_SER_JSON, NULL, 0, NULL, NULL);
  ASSERT_OK(fx_send_all(fd, b.p, b.len));
  fx_sleep_ms(50);
  t0 = uv_hrtime();
  raise(SIGINT);
  ASSERT(fx_wait_eof(fd, 3000));
  fx_join(&fx);
  ASSERT((uv_hrtime() - t0) / 1000000 >= 250);
  ASSERT((uv_hrtime() - t0) / 1000000 < 2000);
  ASSERT_EQ(fx.exit_code, 0);
  tern_buf_free(&b);
  close(fd);
}

/* Every process that starts a loop (servers, tools, the client) ignores
 * SIGPIPE: a write to a peer that has gone is EPIPE, never a fatal signal.
 * The servers' mains do not set it themselves. */
TEST(loop_init_ignores_sigpipe) {
  static tern_loop_t l;
  struct sigaction sa;
  int sv[2];
  ASSERT_OK(tern_loop_init(&l, NULL, NULL));
  ASSERT_OK(sigaction(SIGPIPE, NULL, &sa));
  ASSERT(sa.sa_handler == SIG_IGN);
  ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
  close(sv[1]);
  ASSERT_EQ(write(sv[0], "x", 1), -1); /* still alive */
  ASSERT_EQ(errno, EPIPE);
  close(sv[0]);
  tern_loop_close(&l);
}
