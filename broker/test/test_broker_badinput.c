/* Hostile and malformed input against the real mqbroker: garbage and lying
 * frames close only their own connection; malformed properties are stored
 * the way Java's parser keeps them (broken pairs dropped); extreme offsets,
 * queue ids and sizes get the right codes; the broker stays up and exits 0. */
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bt.h"
#include "tern_test.h"

static tern_fixture_proc_t B;
static bt_client_t C;
static bool up;

static void setup(void) {
  if (up) return;
  if (tern_fixture_broker_start(&B, NULL, 0, NULL) == 0 && bt_open(&C, B.port) == 0) up = true;
}

__attribute__((destructor)) static void teardown(void) {
  if (up) bt_close(&C);
  if (B.pid) tern_fixture_stop(&B, 0);
}

/* Writes bytes, then reports whether the broker closed the connection within 2 s. */
static bool closes_after(int port, const void *p, size_t n) {
  char buf[4096];
  int fd = tern_fixture_connect(port);
  struct timeval tv = {2, 0};
  ssize_t r;
  if (fd < 0) return false;
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (write(fd, p, n) != (ssize_t)n) {
    close(fd);
    return true;
  }
  do r = read(fd, buf, sizeof buf);
  while (r > 0);
  close(fd);
  return r == 0;
}

TEST(garbage_frames_close_their_connection) {
  tern_cmd_t r;
  setup();
  ASSERT(up);
  ASSERT(closes_after(B.port, "\x00\x00\x00\x02xx", 6));                 /* frame shorter than its header length */
  ASSERT(closes_after(B.port, "\x7f\xff\xff\xff\x00\x00\x00\x10", 8));    /* 2 GiB frame */
  ASSERT(closes_after(B.port, "\x00\x00\x00\x0c\x00\x00\x00\x08{notjson", 16)); /* header not JSON */
  ASSERT(closes_after(B.vip_port, "GET / HTTP/1.1\r\n\r\n", 18));
  /* everyone else is unaffected */
  ASSERT_OK(bt_send(&C, TERN_REQ_SEND_MESSAGE_V2, "TopicBad", 0, TERN_STR("still fine"), TERN_STR_NULL, false, &r));
  ASSERT_EQ(r.code, 0);
}

TEST(vip_port_serves_the_same) {
  bt_client_t v;
  tern_cmd_t r;
  setup();
  ASSERT(up);
  ASSERT(B.vip_port > 0 && B.vip_port != B.port);
  ASSERT_OK(bt_open(&v, B.vip_port));
  ASSERT_OK(bt_send(&v, TERN_REQ_SEND_MESSAGE, "TopicBad", 0, TERN_STR("via vip"), TERN_STR_NULL, false, &r));
  ASSERT_EQ(r.code, 0);
  bt_close(&v);
}

TEST(malformed_properties_stored_as_java_parses_them) {
  tern_cmd_t r;
  tern_msg_record_t rec;
  const char bad[] = "NOVALUE\x02" "A\x01" "1\x02" "\x01" "x\x02" "B\x01" "2"; /* broken pairs among good ones */
  const char want[] = "A\x01" "1\x02" "B\x01" "2\x02" "CLUSTER\x01" "DefaultCluster\x02";
  setup();
  ASSERT(up);
  ASSERT_OK(bt_send(&C, TERN_REQ_SEND_MESSAGE_V2, "TopicProps", 0, TERN_STR("p"), (tern_str_t){bad, sizeof bad - 1}, false,
                    &r));
  ASSERT_EQ(r.code, 0);
  ASSERT_OK(bt_pull(&C, "CG", "TopicProps", 0, 0, 1, 0x4, 0, "*", &r, 5000));
  ASSERT_EQ(r.code, 0);
  ASSERT_OK(tern_msg_record_decode((const uint8_t *)r.body.p, r.body.n, &rec, NULL));
  ASSERT_EQ(rec.properties.n, sizeof want - 1);
  ASSERT_MEM_EQ(rec.properties.p, want, sizeof want - 1);
}

TEST(extreme_numbers) {
  tern_cmd_t r;
  char t127[128], t128[129];
  setup();
  ASSERT(up);
  ASSERT_OK(bt_pull(&C, "CG", "TopicBad", 0, INT64_MAX, 32, 0x4, 0, "*", &r, 5000));
  ASSERT_EQ(r.code, TERN_RESP_PULL_OFFSET_MOVED);
  ASSERT_OK(bt_pull(&C, "CG", "TopicBad", 0, INT64_MIN, -5, 0x4, 0, "*", &r, 5000));
  ASSERT_EQ(r.code, TERN_RESP_PULL_OFFSET_MOVED);
  ASSERT_OK(bt_pull(&C, "CG", "TopicBad", 0, 0, -5, 0x4, 0, "*", &r, 5000)); /* maxMsgNums <= 0 reads one */
  ASSERT_EQ(r.code, 0);
  ASSERT_OK(bt_pull(&C, "CG", "TopicBad", INT32_MAX, 0, 32, 0x4, 0, "*", &r, 5000));
  ASSERT_EQ(r.code, TERN_RESP_SYSTEM_ERROR);
  ASSERT_OK(bt_send(&C, TERN_REQ_SEND_MESSAGE_V2, "TopicBad", INT32_MAX, TERN_STR("q"), TERN_STR_NULL, false, &r));
  ASSERT_EQ(r.code, TERN_RESP_SYSTEM_ERROR);
  ASSERT_OK(bt_send(&C, TERN_REQ_SEND_MESSAGE_V2, "TopicBad", INT32_MIN, TERN_STR("q"), TERN_STR_NULL, false, &r));
  ASSERT_EQ(r.code, 0); /* negative: the broker picks a queue */
  memset(t127, 'T', 127);
  t127[127] = 0;
  memset(t128, 'T', 128);
  t128[128] = 0;
  ASSERT_OK(bt_send(&C, TERN_REQ_SEND_MESSAGE_V2, t127, 0, TERN_STR("q"), TERN_STR_NULL, false, &r));
  ASSERT_EQ(r.code, 0);
  ASSERT_OK(bt_send(&C, TERN_REQ_SEND_MESSAGE_V2, t128, 0, TERN_STR("q"), TERN_STR_NULL, false, &r));
  ASSERT_EQ(r.code, TERN_RESP_SYSTEM_ERROR);
  /* an empty body is legal */
  ASSERT_OK(bt_send(&C, TERN_REQ_SEND_MESSAGE_V2, "TopicBad", 0, TERN_STR_NULL, TERN_STR_NULL, false, &r));
  ASSERT_EQ(r.code, 0);
}

TEST(broker_survives_and_exits_0) {
  setup();
  ASSERT(up);
  bt_close(&C);
  up = false;
  ASSERT_EQ(tern_fixture_stop(&B, 0), 0);
}
