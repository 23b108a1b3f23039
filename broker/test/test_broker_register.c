/* Registration and SYNC_FLUSH against the real binaries: mqbroker registers
 * with a real mqnamesrv before it reports boot success (TBW102 and the system
 * topics routed to its address), an auto-created topic is routed at once,
 * UNREGISTER_BROKER on SIGTERM removes the routes; a SYNC_FLUSH broker answers
 * sends after the group commit (single and batch, from several threads) and
 * the messages read back. Also the start-up time and idle RSS. */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "bt.h"
#include "gen/bodies.h"
#include "tern_test.h"

static int route(int ns_port, const char *topic, tern_body_topic_route_data_t *rd, tern_arena_t *a) {
  char addr[64];
  tern_cmd_t req, r;
  tern_hdr_get_route_info_request_t h = {0};
  tern_err_t err;
  snprintf(addr, sizeof addr, "127.0.0.1:%d", ns_port);
  h.topic = tern_str_from_cstr(topic);
  h.present = 1;
  tern_rpc_request_init(&req, TERN_REQ_GET_ROUTEINFO_BY_TOPIC, TERN_STR_NULL);
  if (tern_hdr_get_route_info_request_encode(&h, &req, a)) return -1;
  if (tern_rpc_sync(addr, &req, 5000, &r, a)) return -1;
  if (r.code != 0) return r.code;
  return tern_body_topic_route_data_decode(r.body, a, rd, &err) ? -1 : 0;
}

TEST(registration_routes_and_unregister) {
  tern_fixture_proc_t ns;
  tern_fixture_proc_t b;
  bt_client_t c;
  tern_arena_t a;
  tern_body_topic_route_data_t rd;
  tern_cmd_t r;
  char want[64];
  int rc = -1;
  long rss;
  ASSERT_OK(tern_fixture_namesrv_start(&ns, NULL, NULL));
  ASSERT_OK(tern_fixture_broker_start(&b, NULL, ns.port, "brokerName=broker-t\nbrokerClusterName=ClusterT"));
  fprintf(stderr, "  broker boot (incl. first registration) %.1f ms\n", b.start_ms);
  rss = tern_fixture_rss_kb(b.pid);
  fprintf(stderr, "  broker idle RSS %ld KiB\n", rss);
  tern_arena_init(&a, 0, NULL, 0);
  snprintf(want, sizeof want, "127.0.0.1:%d", b.port);
  /* registered before "boot success": routes are there at once */
  ASSERT_EQ(route(ns.port, "TBW102", &rd, &a), 0);
  ASSERT_EQ(rd.broker_datas.n, 1);
  ASSERT_STR(rd.broker_datas.v[0].broker_name, "broker-t");
  ASSERT_STR(rd.broker_datas.v[0].cluster, "ClusterT");
  ASSERT_EQ(rd.broker_datas.v[0].broker_addrs.n, 1);
  ASSERT_EQ(rd.broker_datas.v[0].broker_addrs.v[0].key, 0);
  ASSERT_STR(rd.broker_datas.v[0].broker_addrs.v[0].val, want);
  ASSERT_EQ(rd.queue_datas.n, 1);
  ASSERT_EQ(rd.queue_datas.v[0].perm, 7);
  ASSERT_EQ(rd.queue_datas.v[0].read_queue_nums, 8);
  ASSERT_EQ(route(ns.port, "ClusterT", &rd, &a), 0);
  ASSERT_EQ(route(ns.port, "broker-t", &rd, &a), 0);
  ASSERT_EQ(route(ns.port, "SELF_TEST_TOPIC", &rd, &a), 0);
  ASSERT_EQ(route(ns.port, "TopicReg", &rd, &a), TERN_RESP_TOPIC_NOT_EXIST);
  /* an auto-created topic is announced at once */
  ASSERT_OK(bt_open(&c, b.port));
  ASSERT_OK(bt_send(&c, TERN_REQ_SEND_MESSAGE_V2, "TopicReg", 0, TERN_STR("x"), TERN_STR_NULL, false, &r));
  ASSERT_EQ(r.code, 0);
  for (int i = 0; i < 100 && (rc = route(ns.port, "TopicReg", &rd, &a)) != 0; i++) usleep(20000);
  ASSERT_EQ(rc, 0);
  ASSERT_EQ(rd.queue_datas.v[0].write_queue_nums, 4);
  ASSERT_EQ(rd.queue_datas.v[0].perm, 6);
  bt_close(&c);
  /* clean shutdown unregisters */
  ASSERT_EQ(tern_fixture_stop(&b, 0), 0);
  ASSERT_EQ(route(ns.port, "TBW102", &rd, &a), TERN_RESP_TOPIC_NOT_EXIST);
  tern_arena_free(&a);
  tern_fixture_stop(&ns, 0);
}

typedef struct sender {
  int port, n, ok;
  double ms;
} sender_t;

static void *send_thread(void *arg) {
  sender_t *s = arg;
  bt_client_t c;
  tern_cmd_t r;
  double t0 = tern_fixture_now_ms();
  if (bt_open(&c, s->port)) return NULL;
  for (int i = 0; i < s->n; i++)
    if (bt_send(&c, TERN_REQ_SEND_MESSAGE_V2, "TopicSync", 0, TERN_STR("durable"), TERN_STR_NULL, false, &r) == 0 &&
        r.code == 0 && tern_cmd_ext_get(&r, "msgId"))
      s->ok++;
  s->ms = tern_fixture_now_ms() - t0;
  bt_close(&c);
  return NULL;
}

TEST(sync_flush_round_trip) {
  tern_fixture_proc_t b;
  bt_client_t c;
  tern_cmd_t r;
  tern_buf_t batch;
  pthread_t th[4];
  sender_t s[4];
  int total = 0;
  int64_t off = 0;
  ASSERT_OK(tern_fixture_broker_start(&b, NULL, 0, "flushDiskType=SYNC_FLUSH"));
  ASSERT_OK(bt_open(&c, b.port));
  for (int i = 0; i < 4; i++) {
    s[i] = (sender_t){b.port, 25, 0, 0};
    ASSERT_OK(pthread_create(&th[i], NULL, send_thread, &s[i]));
  }
  for (int i = 0; i < 4; i++) {
    pthread_join(th[i], NULL);
    ASSERT_EQ(s[i].ok, 25);
    fprintf(stderr, "  SYNC_FLUSH sender %d: 25 sends, %.2f ms each\n", i, s[i].ms / 25);
  }
  tern_buf_init(&batch, 0);
  tern_batch_entry_encode(&batch, 0, TERN_STR("b1"), TERN_STR("UNIQ_KEY\x01" "B1\x02"));
  tern_batch_entry_encode(&batch, 0, TERN_STR("b2"), TERN_STR("UNIQ_KEY\x01" "B2\x02"));
  ASSERT_OK(bt_send(&c, TERN_REQ_SEND_BATCH_MESSAGE, "TopicSync", 0, (tern_str_t){(char *)batch.p, batch.len},
                    TERN_STR_NULL, true, &r));
  tern_buf_free(&batch);
  ASSERT_EQ(r.code, 0);
  ASSERT_EQ(bt_ext_i64(&r, "queueOffset"), 100);
  for (;;) {
    tern_msg_record_iter_t it;
    tern_msg_record_t rec;
    int n = 0;
    ASSERT_OK(bt_pull(&c, "CG", "TopicSync", 0, off, 32, 0x4, 0, "*", &r, 5000));
    if (r.code != 0) break;
    tern_msg_record_iter_init(&it, (const uint8_t *)r.body.p, r.body.n);
    while (tern_msg_record_iter_next(&it, &rec, NULL) == 1) n++;
    total += n;
    off = bt_ext_i64(&r, "nextBeginOffset");
  }
  ASSERT_EQ(total, 102);
  bt_close(&c);
  ASSERT_EQ(tern_fixture_stop(&b, 0), 0);
}

/* 50 pipelined sends in one write to a SYNC_FLUSH broker allowed 1 parked
 * reply: the first waits for the disk, the others arrive in the same loop
 * pass and are refused with SYSTEM_BUSY instead of queueing; only the
 * accepted ones are stored. */
TEST(sync_flush_overload_answers_system_busy) {
  tern_fixture_proc_t b;
  bt_client_t c;
  tern_buf_t out, in;
  tern_cmd_t r;
  int fd, ok = 0, busy = 0, other = 0, got = 0, stored = 0;
  int64_t off = 0;
  ASSERT_OK(tern_fixture_broker_start(&b, NULL, 0, "flushDiskType=SYNC_FLUSH\nmaxParkedSendReplies=1"));
  ASSERT_OK(bt_open(&c, b.port));
  ASSERT_OK(bt_send(&c, TERN_REQ_SEND_MESSAGE_V2, "TopicBusy", 0, TERN_STR("first"), TERN_STR_NULL, false, &r));
  ASSERT_EQ(r.code, 0);
  tern_buf_init(&out, 0);
  for (int i = 0; i < 50; i++) {
    tern_cmd_t req;
    tern_arena_t a;
    tern_hdr_send_message_request_v2_t h;
    memset(&h, 0, sizeof h);
    tern_arena_init(&a, 0, NULL, 0);
    h.producer_group = TERN_STR("PG");
    h.topic = TERN_STR("TopicBusy");
    h.default_topic = TERN_STR("TBW102");
    h.default_topic_queue_nums = 4;
    h.present = 0xff;
    tern_rpc_request_init(&req, TERN_REQ_SEND_MESSAGE_V2, TERN_STR("pipelined"));
    ASSERT_OK(tern_hdr_send_message_request_v2_encode(&h, &req, &a));
    req.opaque = 1000 + i;
    ASSERT_OK(tern_cmd_encode(&req, &out));
    tern_arena_free(&a);
  }
  fd = tern_fixture_connect(b.port);
  ASSERT(fd >= 0);
  ASSERT_EQ(write(fd, out.p, out.len), (ssize_t)out.len);
  tern_buf_free(&out);
  tern_buf_init(&in, 0);
  while (got < 50) {
    uint8_t tmp[8192];
    ssize_t n = read(fd, tmp, sizeof tmp);
    ASSERT(n > 0);
    tern_buf_append(&in, tmp, (size_t)n);
    for (;;) {
      tern_frame_parser_t fp;
      tern_frame_t f;
      tern_cmd_t cmd;
      tern_arena_t a;
      int len;
      tern_frame_parser_init(&fp, 0);
      len = tern_frame_next(&fp, in.p, in.len, &f, NULL);
      if (len <= 0) break;
      tern_arena_init(&a, 0, NULL, 0);
      ASSERT_OK(tern_cmd_decode(&f, &cmd, &a, NULL));
      if (cmd.code == 0)
        ok++;
      else if (cmd.code == TERN_RESP_SYSTEM_BUSY)
        busy++;
      else
        other++;
      tern_arena_free(&a);
      tern_buf_consume(&in, (size_t)len);
      got++;
    }
  }
  tern_buf_free(&in);
  close(fd);
  fprintf(stderr, "  50 pipelined SYNC_FLUSH sends, 1 parked allowed: %d stored, %d SYSTEM_BUSY\n", ok, busy);
  ASSERT_EQ(other, 0);
  ASSERT(ok >= 1);
  ASSERT(busy >= 1);
  for (;;) {
    tern_msg_record_iter_t it;
    tern_msg_record_t rec;
    int n = 0;
    ASSERT_OK(bt_pull(&c, "CG", "TopicBusy", 0, off, 32, 0x4, 0, "*", &r, 5000));
    if (r.code != 0) break;
    tern_msg_record_iter_init(&it, (const uint8_t *)r.body.p, r.body.n);
    while (tern_msg_record_iter_next(&it, &rec, NULL) == 1) n++;
    stored += n;
    off = bt_ext_i64(&r, "nextBeginOffset");
  }
  ASSERT_EQ(stored, 1 + ok); /* "first" + the accepted ones: nothing refused was stored */
  bt_close(&c);
  ASSERT_EQ(tern_fixture_stop(&b, 0), 0);
}
