/* Frame handling against a real loopback server: reassembly across every
 * split point, many frames in one write, garbage and oversize frames closing
 * only their own connection, unknown codes answered with
 * REQUEST_CODE_NOT_SUPPORTED, decode failures with SYSTEM_ERROR, and replies
 * in the request's serialization with language JAVA and the configured version. */
#include <stdlib.h>
#include <unistd.h>

#include "gen/codes.h"
#include "net_fixture.h"
#include "tern_test.h"

static uint8_t rbuf[1 << 20];

/* Reads one reply and checks it answers `opaque` with `body`. */
static int expect_echo(int fd, int32_t opaque, const char *body, uint8_t ser) {
  tern_cmd_t cmd;
  tern_arena_t a;
  int ok;
  tern_arena_init(&a, 0, NULL, 0);
  ok = fx_read_cmd(fd, rbuf, sizeof rbuf, &cmd, &a, 3000) > 0 && cmd.opaque == opaque &&
       (cmd.flag & TERN_FLAG_RESPONSE) && cmd.code == TERN_RESP_SUCCESS && tern_str_eq_cstr(cmd.body, body) &&
       cmd.serialize_type == ser && cmd.language == TERN_LANG_JAVA && cmd.version == 409;
  if (!ok) fprintf(stderr, "  reply: opaque %d code %d ser %d body %.*s\n", cmd.opaque, cmd.code, cmd.serialize_type,
                   (int)cmd.body.n, cmd.body.p ? cmd.body.p : "");
  tern_arena_free(&a);
  return ok;
}

TEST(split_at_every_byte) {
  fx_server_t fx;
  tern_buf_t b;
  size_t cut1, cut2;
  int fd;
  fx_start(&fx, NULL, false);
  ASSERT(fx.port > 0);
  fd = fx_connect(fx.port);
  ASSERT(fd >= 0);
  tern_buf_init(&b, 0);
  fx_encode(&b, FX_ECHO, 1, TERN_SER_JSON, "first", 0, "k", "v1");
  cut1 = b.len;
  fx_encode(&b, FX_ECHO, 2, TERN_SER_ROCKETMQ, "second body", 0, "k", "v2");
  cut2 = b.len;
  fx_encode(&b, FX_ECHO, 3, TERN_SER_JSON, "", 0, NULL, NULL);
  for (size_t k = 1; k < b.len; k++) {
    ASSERT_OK(fx_send_all(fd, b.p, k));
    fx_sleep_ms(1); /* let the server read the first part on its own */
    ASSERT_OK(fx_send_all(fd, b.p + k, b.len - k));
    ASSERT(expect_echo(fd, 1, "first", TERN_SER_JSON));
    ASSERT(expect_echo(fd, 2, "second body", TERN_SER_ROCKETMQ));
    ASSERT(expect_echo(fd, 3, "", TERN_SER_JSON));
  }
  ASSERT(cut1 < cut2);
  tern_buf_free(&b);
  close(fd);
  fx_stop(&fx);
  ASSERT_EQ(fx.exit_code, 0);
}

TEST(thousand_frames_in_one_write) {
  fx_server_t fx;
  tern_buf_t b;
  char body[32];
  int fd;
  fx_start(&fx, NULL, false);
  fd = fx_connect(fx.port2); /* the second listener serves the same way */
  ASSERT(fd >= 0);
  tern_buf_init(&b, 0);
  for (int i = 0; i < 1000; i++) {
    snprintf(body, sizeof body, "msg-%d", i);
    fx_encode(&b, FX_ECHO, 100 + i, i % 2 ? TERN_SER_ROCKETMQ : TERN_SER_JSON, body, 0, NULL, NULL);
  }
  ASSERT_OK(fx_send_all(fd, b.p, b.len));
  for (int i = 0; i < 1000; i++) {
    snprintf(body, sizeof body, "msg-%d", i);
    ASSERT(expect_echo(fd, 100 + i, body, i % 2 ? TERN_SER_ROCKETMQ : TERN_SER_JSON));
  }
  ASSERT_EQ(atomic_load(&fx.requests), 1000);
  tern_buf_free(&b);
  close(fd);
  fx_stop(&fx);
  /* replies are batched: one writev per read batch, not one write per reply */
  printf("  1000 requests: %llu reads, %llu writes\n", (unsigned long long)fx.loop.stats.reads,
         (unsigned long long)fx.loop.stats.writes);
  ASSERT_EQ(fx.loop.stats.frames_in, 1000);
  ASSERT(fx.loop.stats.writes <= fx.loop.stats.reads);
  ASSERT(fx.loop.stats.writes < 100);
}

static void check_closes(int port, const void *bytes, size_t n, int other_fd) {
  int fd = fx_connect(port);
  tern_buf_t b;
  ASSERT(fd >= 0);
  ASSERT_OK(fx_send_all(fd, bytes, n));
  ASSERT(fx_wait_eof(fd, 3000));
  close(fd);
  /* the other connection is untouched */
  tern_buf_init(&b, 0);
  fx_encode(&b, FX_ECHO, 77, TERN_SER_JSON, "still here", 0, NULL, NULL);
  ASSERT_OK(fx_send_all(other_fd, b.p, b.len));
  ASSERT(expect_echo(other_fd, 77, "still here", TERN_SER_JSON));
  tern_buf_free(&b);
}

TEST(bad_frames_close_only_their_connection) {
  fx_server_t fx;
  int other;
  uint8_t oversize[8] = {0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02}; /* 16 MiB + prefix: over the limit */
  uint8_t bad_type[12] = {0, 0, 0, 8, 0x07, 0, 0, 2, '{', '}', 0, 0};    /* serialize type 7 */
  uint8_t short_len[8] = {0, 0, 0, 2, 0, 0, 0, 0};                       /* length below 4 */
  uint8_t bad_hdr_len[12] = {0, 0, 0, 8, 0, 0, 0, 9, '{', '}', 0, 0};     /* header longer than the frame */
  static const char bad_json[] = "\0\0\0\x0a\0\0\0\x06{\"a\":]";          /* JSON header that does not parse */
  static const char http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  fx_start(&fx, NULL, false);
  other = fx_connect(fx.port);
  ASSERT(other >= 0);
  check_closes(fx.port, http, sizeof http - 1, other);
  check_closes(fx.port, oversize, sizeof oversize, other);
  check_closes(fx.port, bad_type, sizeof bad_type, other);
  check_closes(fx.port, short_len, sizeof short_len, other);
  check_closes(fx.port, bad_hdr_len, sizeof bad_hdr_len, other);
  check_closes(fx.port, bad_json, sizeof bad_json - 1, other);
  ASSERT_EQ(atomic_load(&fx.conns_closed), 6);
  close(other);
  fx_stop(&fx);
}

TEST(frame_limit_is_configurable_and_large_frames_pass) {
  fx_server_t fx;
  tern_net_opts_t o;
  tern_buf_t b;
  tern_cmd_t cmd;
  tern_arena_t a;
  char *big = malloc(600001);
  int fd;
  tern_net_opts_default(&o);
  o.max_frame = 700000;
  memset(big, 'x', 600000);
  big[600000] = '\0';
  fx_start(&fx, &o, false);
  fd = fx_connect(fx.port);
  tern_buf_init(&b, 0);
  fx_encode(&b, FX_ECHO, 5, TERN_SER_JSON, big, 0, NULL, NULL); /* spans many reads */
  ASSERT_OK(fx_send_all(fd, b.p, b.len));
  tern_arena_init(&a, 0, NULL, 0);
  ASSERT(fx_read_cmd(fd, rbuf, sizeof rbuf, &cmd, &a, 3000) > 0);
  ASSERT_EQ(cmd.opaque, 5);
  ASSERT_EQ(cmd.body.n, 600000);
  tern_arena_free(&a);
  {
    /* 800000 bytes of body: over the 700000-byte limit, refused from the prefix alone */
    char *huge = malloc(800001);
    memset(huge, 'z', 800000);
    huge[800000] = '\0';
    tern_buf_reset(&b);
    fx_encode(&b, FX_ECHO, 8, TERN_SER_JSON, huge, 0, NULL, NULL);
    free(huge);
  }
  ASSERT_OK(fx_send_all(fd, b.p, 64));
  ASSERT(fx_wait_eof(fd, 3000));
  close(fd);
  tern_buf_free(&b);
  free(big);
  fx_stop(&fx);
}

TEST(unknown_code_and_decode_errors_are_answered) {
  fx_server_t fx;
  tern_buf_t b;
  tern_cmd_t cmd;
  tern_arena_t a;
  int fd;
  fx_start(&fx, NULL, false);
  fd = fx_connect(fx.port);
  tern_buf_init(&b, 0);
  tern_arena_init(&a, 0, NULL, 0);
  fx_encode(&b, 9999, 11, TERN_SER_JSON, NULL, TERN_FLAG_ONEWAY, NULL, NULL); /* oneway: no answer even so */
  fx_encode(&b, 9999, 12, TERN_SER_JSON, NULL, 0, NULL, NULL);
  fx_encode(&b, FX_BAD_HEADER, 13, TERN_SER_ROCKETMQ, NULL, 0, NULL, NULL);
  fx_encode(&b, FX_BAD_HEADER, 14, TERN_SER_JSON, NULL, TERN_FLAG_ONEWAY, NULL, NULL);
  fx_encode(&b, FX_ECHO, 15, TERN_SER_JSON, "after", 0, NULL, NULL);
  ASSERT_OK(fx_send_all(fd, b.p, b.len));
  ASSERT(fx_read_cmd(fd, rbuf, sizeof rbuf, &cmd, &a, 3000) > 0);
  ASSERT_EQ(cmd.opaque, 12);
  ASSERT_EQ(cmd.code, TERN_RESP_REQUEST_CODE_NOT_SUPPORTED);
  ASSERT_STR(cmd.remark, " request type 9999 not supported");
  ASSERT_EQ(cmd.language, TERN_LANG_JAVA);
  ASSERT(fx_read_cmd(fd, rbuf, sizeof rbuf, &cmd, &a, 3000) > 0);
  ASSERT_EQ(cmd.opaque, 13);
  ASSERT_EQ(cmd.code, TERN_RESP_SYSTEM_ERROR);
  ASSERT_EQ(cmd.serialize_type, TERN_SER_ROCKETMQ);
  ASSERT_STR(cmd.remark, "the custom field <topic> is null");
  ASSERT(expect_echo(fd, 15, "after", TERN_SER_JSON));
  tern_arena_free(&a);
  tern_buf_free(&b);
  close(fd);
  fx_stop(&fx);
}

TEST(unencodable_reply_becomes_system_error) {
  fx_server_t fx;
  tern_buf_t b;
  tern_cmd_t cmd;
  tern_arena_t a;
  int fd;
  fx_start(&fx, NULL, false);
  fd = fx_connect(fx.port);
  tern_buf_init(&b, 0);
  tern_arena_init(&a, 0, NULL, 0);
  fx_encode(&b, FX_BAD_REPLY, 31, TERN_SER_ROCKETMQ, NULL, 0, NULL, NULL); /* code 100000 does not fit */
  fx_encode(&b, FX_BAD_REPLY, 32, TERN_SER_JSON, NULL, 0, NULL, NULL);     /* JSON carries it */
  ASSERT_OK(fx_send_all(fd, b.p, b.len));
  ASSERT(fx_read_cmd(fd, rbuf, sizeof rbuf, &cmd, &a, 3000) > 0);
  ASSERT_EQ(cmd.opaque, 31);
  ASSERT_EQ(cmd.code, TERN_RESP_SYSTEM_ERROR);
  ASSERT(cmd.remark.n > 0 && memcmp(cmd.remark.p, "cannot encode the response", 26) == 0);
  ASSERT(fx_read_cmd(fd, rbuf, sizeof rbuf, &cmd, &a, 3000) > 0);
  ASSERT_EQ(cmd.opaque, 32);
  ASSERT_EQ(cmd.code, 100000);
  tern_arena_free(&a);
  tern_buf_free(&b);
  close(fd);
  fx_stop(&fx);
}

TEST(configured_version_is_written) {
  fx_server_t fx;
  tern_net_opts_t o;
  tern_buf_t b;
  tern_cmd_t cmd;
  tern_arena_t a;
  int fd;
  tern_net_opts_default(&o);
  o.version = 475;
  fx_start(&fx, &o, false);
  fd = fx_connect(fx.port);
  tern_buf_init(&b, 0);
  tern_arena_init(&a, 0, NULL, 0);
  fx_encode(&b, FX_ECHO, 1, TERN_SER_ROCKETMQ, "x", 0, NULL, NULL);
  ASSERT_OK(fx_send_all(fd, b.p, b.len));
  ASSERT(fx_read_cmd(fd, rbuf, sizeof rbuf, &cmd, &a, 3000) > 0);
  ASSERT_EQ(cmd.version, 475);
  ASSERT_EQ(cmd.language, TERN_LANG_JAVA);
  tern_arena_free(&a);
  tern_buf_free(&b);
  close(fd);
  fx_stop(&fx);
}

TEST(two_loops_share_a_port) {
  /* Each loop thread listens on the same port with SO_REUSEPORT; the kernel
   * spreads new connections over both, so a server can use both cores. */
  fx_server_t a, b;
  tern_buf_t req;
  int fds[32];
  fx_start_shared(&a, 0);
  ASSERT(a.port > 0);
  fx_start_shared(&b, a.port);
  ASSERT_EQ(b.port, a.port);
  tern_buf_init(&req, 0);
  fx_encode(&req, FX_ECHO, 3, TERN_SER_JSON, "shared", 0, NULL, NULL);
  for (int i = 0; i < 32; i++) {
    fds[i] = fx_connect(a.port);
    ASSERT(fds[i] >= 0);
    ASSERT_OK(fx_send_all(fds[i], req.p, req.len));
    ASSERT(expect_echo(fds[i], 3, "shared", TERN_SER_JSON));
  }
  ASSERT_EQ(atomic_load(&a.requests) + atomic_load(&b.requests), 32);
  ASSERT(atomic_load(&a.requests) > 0);
  ASSERT(atomic_load(&b.requests) > 0);
  for (int i = 0; i < 32; i++) close(fds[i]);
  tern_buf_free(&req);
  fx_stop(&a);
  fx_stop(&b);
}

/* ---- many connections, random frame sizes, random write splits ---- */

typedef struct stream {
  int fd;
  unsigned seed;
  int frames;
  tern_buf_t wire;          /* every request, back to back */
  uint32_t *body_len;       /* per frame */
  uint8_t *ser;             /* per frame */
  int bad;                  /* reader: mismatches seen */
  uint8_t *rbuf;
} stream_t;

static unsigned rnd(unsigned *s) {
  *s = *s * 1103515245u + 12345u;
  return (*s >> 8) & 0xFFFFFF;
}

/* The body of frame i: bytes derived from (i, position), so the reader can check them. */
static uint8_t body_byte(int i, uint32_t pos) { return (uint8_t)(i * 31 + pos * 7 + (pos >> 8)); }

static void *stream_writer(void *arg) {
  stream_t *st = arg;
  size_t off = 0;
  unsigned s = st->seed ^ 0x5555;
  while (off < st->wire.len) {
    size_t n = 1 + rnd(&s) % 100000;
    if (n > st->wire.len - off) n = st->wire.len - off;
    if (fx_send_all(st->fd, st->wire.p + off, n)) break;
    off += n;
  }
  return NULL;
}

static void *stream_reader(void *arg) {
  stream_t *st = arg;
  tern_arena_t a;
  tern_arena_init(&a, 0, NULL, 0);
  for (int i = 0; i < st->frames; i++) {
    tern_cmd_t cmd;
    tern_arena_reset(&a);
    if (fx_read_cmd(st->fd, st->rbuf, 200000, &cmd, &a, 10000) <= 0) {
      st->bad += st->frames - i;
      break;
    }
    if (cmd.opaque != i || cmd.body.n != st->body_len[i] || cmd.serialize_type != st->ser[i]) {
      st->bad++;
      continue;
    }
    for (uint32_t k = 0; k < cmd.body.n; k++)
      if ((uint8_t)cmd.body.p[k] != body_byte(i, k)) {
        st->bad++;
        break;
      }
  }
  tern_arena_free(&a);
  return NULL;
}

TEST(many_connections_random_sizes_and_splits) {
  enum { CONNS = 6, FRAMES = 150 };
  fx_server_t fx;
  stream_t st[CONNS];
  pthread_t wr[CONNS], rd[CONNS];
  uint8_t *body = malloc(140000);
  fx_start(&fx, NULL, false);
  for (int c = 0; c < CONNS; c++) {
    stream_t *s = &st[c];
    memset(s, 0, sizeof *s);
    s->seed = 1000u + (unsigned)c;
    s->frames = FRAMES;
    s->fd = fx_connect(c % 2 ? fx.port2 : fx.port);
    ASSERT(s->fd >= 0);
    s->body_len = calloc(FRAMES, sizeof *s->body_len);
    s->ser = calloc(FRAMES, 1);
    s->rbuf = malloc(200000);
    tern_buf_init(&s->wire, 0);
    for (int i = 0; i < FRAMES; i++) {
      tern_cmd_t cmd;
      unsigned r = rnd(&s->seed);
      /* mostly small, some across the 64 KiB read size */
      uint32_t n = r % 8 == 0 ? 60000 + r % 70000 : r % 2000;
      for (uint32_t k = 0; k < n; k++) body[k] = body_byte(i, k);
      tern_cmd_init(&cmd);
      cmd.code = FX_ECHO;
      cmd.opaque = i;
      cmd.serialize_type = (uint8_t)(r >> 4 & 1);
      cmd.body.p = (const char *)body;
      cmd.body.n = n;
      ASSERT_OK(tern_cmd_encode(&cmd, &s->wire));
      s->body_len[i] = n;
      s->ser[i] = cmd.serialize_type;
    }
  }
  for (int c = 0; c < CONNS; c++) {
    pthread_create(&rd[c], NULL, stream_reader, &st[c]);
    pthread_create(&wr[c], NULL, stream_writer, &st[c]);
  }
  for (int c = 0; c < CONNS; c++) {
    pthread_join(wr[c], NULL);
    pthread_join(rd[c], NULL);
  }
  for (int c = 0; c < CONNS; c++) {
    ASSERT_EQ(st[c].bad, 0);
    close(st[c].fd);
    tern_buf_free(&st[c].wire);
    free(st[c].body_len);
    free(st[c].ser);
    free(st[c].rbuf);
  }
  ASSERT_EQ(atomic_load(&fx.requests), CONNS * FRAMES);
  free(body);
  fx_stop(&fx);
}
