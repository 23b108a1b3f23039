/* Frame torture against a live mqnamesrv: a request split at every byte
 * boundary, 1000 frames in one write, garbage, a bad serialize type, oversize
 * and undersize length fields, a header longer than its frame, and a frame
 * whose JSON header is broken. The server must answer or close the offending
 * connection, never crash, and keep serving a bystander connection opened
 * before the abuse started. */
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gen/codes.h"
#include "proc_fixture.h"
#include "ns_wire.h"
#include "tern_test.h"

static tern_fixture_proc_t g_srv;
static int g_started;

static int server(void) {
  if (!g_started) {
    if (tern_fixture_namesrv_start(&g_srv, NULL, NULL) != 0) return -1;
    g_started = 1;
  }
  return g_srv.port;
}

/* Encodes GET_ROUTEINFO_BY_TOPIC for an unknown topic. */
static void route_req(tern_buf_t *b, int32_t opaque) {
  tern_cmd_t c;
  ns_wire_request(&c, TERN_REQ_GET_ROUTEINFO_BY_TOPIC, opaque);
  tern_cmd_ext_add(&c, TERN_STR("topic"), TERN_STR("NoSuchTopic"));
  tern_cmd_encode(&c, b);
}

/* Expects one TOPIC_NOT_EXIST reply with this opaque. */
static int expect_reply(int fd, int32_t opaque) {
  tern_buf_t in;
  tern_cmd_t r;
  tern_arena_t a;
  int rc;
  tern_buf_init(&in, 0);
  tern_arena_init(&a, 0, NULL, 0);
  rc = ns_wire_read_cmd(fd, &in, &r, &a, 5000);
  if (rc == 0 && (r.opaque != opaque || r.code != TERN_RESP_TOPIC_NOT_EXIST || !(r.flag & TERN_FLAG_RESPONSE))) {
    fprintf(stderr, "  reply opaque %d code %d flag %d (wanted opaque %d)\n", r.opaque, r.code, r.flag, opaque);
    rc = -1;
  }
  tern_arena_free(&a);
  tern_buf_free(&in);
  return rc;
}

TEST(split_at_every_byte) {
  tern_buf_t b;
  int port = server(), fd;
  ASSERT(port > 0);
  fd = tern_fixture_connect(port);
  ASSERT(fd >= 0);
  tern_buf_init(&b, 0);
  route_req(&b, 1);
  for (size_t cut = 1; cut < b.len; cut++) {
    ASSERT_OK(ns_wire_send_all(fd, b.p, cut));
    usleep(300); /* let the first part arrive as its own read */
    ASSERT_OK(ns_wire_send_all(fd, b.p + cut, b.len - cut));
    ASSERT_OK(expect_reply(fd, 1));
  }
  /* One byte per write. */
  for (size_t i = 0; i < b.len; i++) ASSERT_OK(ns_wire_send_all(fd, b.p + i, 1));
  ASSERT_OK(expect_reply(fd, 1));
  tern_buf_free(&b);
  close(fd);
}

TEST(thousand_frames_in_one_write) {
  tern_buf_t b;
  int port = server(), fd;
  ASSERT(port > 0);
  fd = tern_fixture_connect(port);
  ASSERT(fd >= 0);
  tern_buf_init(&b, 0);
  for (int i = 0; i < 1000; i++) route_req(&b, 1000 + i);
  ASSERT_OK(b.err);
  ASSERT_OK(ns_wire_send_all(fd, b.p, b.len));
  for (int i = 0; i < 1000; i++) ASSERT_OK(expect_reply(fd, 1000 + i));
  tern_buf_free(&b);
  close(fd);
}

/* Sends bytes on a fresh connection; the server must close it (or answer
 * something well-formed and keep going), and the bystander must still work. */
static int abuse(int port, int bystander, const void *p, size_t n, int32_t *opaque) {
  int fd = tern_fixture_connect(port), closed;
  if (fd < 0) return -1;
  if (ns_wire_send_all(fd, p, n) != 0) {
    close(fd);
    return -1;
  }
  closed = ns_wire_wait_closed(fd, 3000);
  close(fd);
  if (!closed) {
    fprintf(stderr, "  connection stayed open after bad input\n");
    return -1;
  }
  {
    tern_buf_t b;
    int rc;
    tern_buf_init(&b, 0);
    route_req(&b, ++*opaque);
    rc = ns_wire_send_all(bystander, b.p, b.len);
    tern_buf_free(&b);
    if (rc) return -1;
  }
  return expect_reply(bystander, *opaque);
}

TEST(garbage_oversize_and_bad_headers_close_only_that_connection) {
  int port = server(), by;
  int32_t opaque = 5000;
  uint8_t m[96];
  ASSERT(port > 0);
  by = tern_fixture_connect(port);
  ASSERT(by >= 0);

  /* Oversize: 2 GiB length field; and just over the 16 MiB default. */
  tern_store_be32(m, 0x7fffffff);
  tern_store_be32(m + 4, 20);
  ASSERT_OK(abuse(port, by, m, 8, &opaque));
  tern_store_be32(m, 16u << 20); /* +4 prefix > 16 MiB */
  tern_store_be32(m + 4, 20);
  ASSERT_OK(abuse(port, by, m, 8, &opaque));
  /* Length below the 4 bytes of the second word. */
  tern_store_be32(m, 2);
  ASSERT_OK(abuse(port, by, m, 8, &opaque));
  /* Serialize type 5. */
  tern_store_be32(m, 12);
  tern_store_be32(m + 4, 0x05000004);
  memcpy(m + 8, "{}{}", 4);
  ASSERT_OK(abuse(port, by, m, 16, &opaque));
  /* Header longer than the frame. */
  tern_store_be32(m, 8);
  tern_store_be32(m + 4, 100);
  ASSERT_OK(abuse(port, by, m, 12, &opaque));
  /* A complete frame whose JSON header is not JSON. */
  tern_store_be32(m, 4 + 9);
  tern_store_be32(m + 4, 9);
  memcpy(m + 8, "{\"code\":1", 9);
  ASSERT_OK(abuse(port, by, m, 17, &opaque));
  /* A binary header whose remark length runs past the header. */
  {
    uint8_t h[21] = {0};
    tern_store_be16(h, 105);
    tern_store_be32(h + 13, 1000);
    tern_store_be32(m, 4 + 21);
    tern_store_be32(m + 4, 0x01000000 | 21);
    memcpy(m + 8, h, 21);
    ASSERT_OK(abuse(port, by, m, 29, &opaque));
  }
  /* A JSON header that is not UTF-8 is read as Java reads it (each bad
   * sequence one U+FFFD) and answered; the connection stays open
   * (spec/remoting/command.json, rules.json_utf8). */
  {
    static const char h[] = "{\"code\":105,\"extFields\":{\"topic\":\"\xff\xfe\"},\"flag\":0,\"opaque\":4242}";
    int fd = tern_fixture_connect(port);
    ASSERT(fd >= 0);
    tern_store_be32(m, 4 + (uint32_t)(sizeof h - 1));
    tern_store_be32(m + 4, (uint32_t)(sizeof h - 1));
    ASSERT(8 + sizeof h - 1 <= sizeof m);
    memcpy(m + 8, h, sizeof h - 1);
    ASSERT_OK(ns_wire_send_all(fd, m, 8 + sizeof h - 1));
    ASSERT_OK(expect_reply(fd, 4242));
    close(fd);
  }
  /* Random bytes. */
  {
    uint8_t junk[4096];
    srand(42);
    for (size_t i = 0; i < sizeof junk; i++) junk[i] = (uint8_t)rand();
    junk[0] = 0x40; /* a length far over the limit, so it cannot be a valid frame */
    ASSERT_OK(abuse(port, by, junk, sizeof junk, &opaque));
  }
  close(by);
  ASSERT(tern_fixture_alive(&g_srv));
}

/* Clients that vanish with replies still to be written (the write hits a
 * reset connection: EPIPE, never a fatal SIGPIPE). */
TEST(clients_vanishing_mid_reply) {
  tern_buf_t b;
  int port = server();
  ASSERT(port > 0);
  tern_buf_init(&b, 0);
  for (int i = 0; i < 40000; i++) route_req(&b, i); /* replies overflow the socket buffers */
  for (int round = 0; round < 3; round++) {
    int fd = tern_fixture_connect(port);
    struct linger lg = {1, 0}; /* close with RST */
    ASSERT(fd >= 0);
    ASSERT_OK(ns_wire_send_all(fd, b.p, b.len));
    usleep(20000);
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
  }
  tern_buf_free(&b);
  usleep(50000);
  ASSERT(tern_fixture_alive(&g_srv));
}

/* Well-formed frames with hostile content: every name-server code with
 * random header values (numbers out of range, empty strings, non-ASCII) and random
 * or truncated bodies (JSON, "compressed" bytes, nothing). Each request must be
 * answered on the same connection (an error with a reason is fine); the
 * server must stay up. Deterministic seed, so a failure reproduces. */
TEST(random_requests_always_answered) {
  static const int32_t codes[] = {100, 101, 102, 103, 104, 105, 106, 205, 206, 216, 217, 219, 224,
                                  304, 311, 312, 313, 318, 319, 322, 327, 901, 904, 9999};
  static const char *keys[] = {"topic", "brokerName", "brokerAddr", "clusterName", "haServerAddr", "brokerId",
                               "compressed", "bodyCrc32", "heartbeatTimeoutMillis", "namespace", "key", "value",
                               "cluster", "acceptStandardJsonOnly", "heartbeatTimeoutMills", "enableActingMaster"};
  static const char *vals[] = {"", "0", "1", "-1", "true", "false", "99999999999999999999", "2147483648", "x",
                               "10.0.0.1:10911", "TopicTest", "c1", "\xc3\xa9t\xc3\xa9", "%RETRY%g", "-9223372036854775808"};
  static const char *bodies[] = {"", "{", "{}", "[]", "null", "{\"topicConfigSerializeWrapper\":{\"topicConfigTable\":{\"t\":{}}}}",
                                 "{\"filterServerList\":[1,2],\"topicConfigSerializeWrapper\":[]}",
                                 "{\"timestamp\":\"x\",\"counter\":1}", "{\"queueDatas\":[{\"brokerName\":\"c1\"}]}",
                                 "\x78\xda\x01\x02", "a=b\nkvConfigPath=/x\n", "{\"topicConfigSerializeWrapper\":{\"dataVersion\":{}}}"};
  uint32_t seed = 2024;
  int port = server(), fd;
  tern_buf_t in, out;
  tern_arena_t a;
  ASSERT(port > 0);
  fd = tern_fixture_connect(port);
  ASSERT(fd >= 0);
  tern_buf_init(&in, 0);
  tern_buf_init(&out, 0);
  tern_arena_init(&a, 0, NULL, 0);
  for (int i = 0; i < 3000; i++) {
    tern_cmd_t c, r;
    uint32_t next;
    char junk[64];
    int nk;
#define RND(n) (seed = seed * 1664525u + 1013904223u, (seed >> 8) % (n))
    next = RND(TERN_ARRAY_SIZE(codes));
    ns_wire_request(&c, codes[next], 10000 + i);
    nk = (int)RND(8);
    for (int k = 0; k < nk; k++) {
      uint32_t ki = RND(TERN_ARRAY_SIZE(keys)), vi = RND(TERN_ARRAY_SIZE(vals));
      tern_cmd_ext_add(&c, tern_str_from_cstr(keys[ki]), tern_str_from_cstr(vals[vi]));
    }
    if (RND(4) == 0) {
      uint32_t n = RND(sizeof junk);
      for (uint32_t b = 0; b < n; b++) junk[b] = (char)RND(256);
      c.body.p = junk;
      c.body.n = n;
    } else {
      uint32_t bi = RND(TERN_ARRAY_SIZE(bodies));
      c.body = tern_str_from_cstr(bodies[bi]);
    }
#undef RND
    tern_buf_reset(&out);
    ASSERT_OK(tern_cmd_encode(&c, &out));
    ASSERT_OK(ns_wire_send_all(fd, out.p, out.len));
    if (ns_wire_read_cmd(fd, &in, &r, &a, 5000) != 0) {
      fprintf(stderr, "  request %d: code %d, %u ext, body %zu bytes:", i, c.code, c.n_ext, c.body.n);
      for (uint32_t k = 0; k < c.n_ext; k++)
        fprintf(stderr, " %.*s=%.*s", TERN_STR_ARG(c.ext[k].key), TERN_STR_ARG(c.ext[k].val));
      fprintf(stderr, "\n");
      TERN__FAIL("request %d (code %d): no answer", i, c.code);
    }
    ASSERT_EQ(r.opaque, 10000 + i);
    ASSERT(r.flag & TERN_FLAG_RESPONSE);
    tern_arena_reset(&a);
  }
  tern_arena_free(&a);
  tern_buf_free(&in);
  tern_buf_free(&out);
  close(fd);
  ASSERT(tern_fixture_alive(&g_srv));
}

/* Declared last, so it runs last: one more request, then SIGTERM must end
 * the server with exit status 0. */
TEST(zz_server_survived_and_stops_cleanly) {
  int port = server(), fd;
  ASSERT(port > 0);
  fd = tern_fixture_connect(port);
  ASSERT(fd >= 0);
  {
    tern_buf_t b;
    tern_buf_init(&b, 0);
    route_req(&b, 77);
    ASSERT_OK(ns_wire_send_all(fd, b.p, b.len));
    tern_buf_free(&b);
  }
  ASSERT_OK(expect_reply(fd, 77));
  close(fd);
  ASSERT_EQ(tern_fixture_stop(&g_srv, 0), 0);
  g_started = 0;
}
