/* Sending against the real mqbroker: SEND_MESSAGE (10), SEND_MESSAGE_V2 (310)
 * and SEND_BATCH_MESSAGE (320) read back with PULL_MESSAGE byte for byte
 * (stored properties: WAIT dropped, CLUSTER added, UNIQ_KEY kept), reply
 * fields (msgId, queueId, queueOffset, MSG_REGION, TRACE_ON), topic
 * auto-creation, and every refusal with its code and remark. */
#include <stdlib.h>

#include "bt.h"
#include "tern_test.h"

static tern_fixture_proc_t B;
static bt_client_t C;
static bool up;

static void setup(void) {
  if (up) return;
  if (tern_fixture_broker_start(&B, NULL, 0, "maxMessageSize=65536") == 0 && bt_open(&C, B.port) == 0) up = true;
}

__attribute__((destructor)) static void teardown(void) {
  if (!up) return;
  bt_close(&C);
  tern_fixture_stop(&B, 0);
}

/* Registered last: SIGTERM must end the broker with exit 0 (no sanitizer report, no hang). */
static void stop_clean(void) {
  ASSERT(up);
  bt_close(&C);
  up = false;
  ASSERT_EQ(tern_fixture_stop(&B, 0), 0);
}

#define P(k, v) k "\x01" v "\x02"

static void check_send_ext(const tern_cmd_t *r) {
  const tern_str_t *region = tern_cmd_ext_get(r, "MSG_REGION"), *trace = tern_cmd_ext_get(r, "TRACE_ON");
  if (!region || !trace || !tern_str_eq_cstr(*region, "DefaultRegion") || !tern_str_eq_cstr(*trace, "true")) {
    fprintf(stderr, "  send reply without MSG_REGION/TRACE_ON\n");
    tern_test_failed = 1;
  }
}

/* Pulls everything from offset of (topic, qid) with subscription "*", decodes into recs. */
static int pull_all(const char *topic, int32_t qid, int64_t off, tern_msg_record_t *recs, int cap, tern_cmd_t *resp) {
  tern_msg_record_iter_t it;
  tern_err_t err;
  int n = 0;
  if (bt_pull(&C, "CG_SEND", topic, qid, off, 32, 0x4, 0, "*", resp, 5000) || resp->code != 0) return -1;
  tern_msg_record_iter_init(&it, (const uint8_t *)resp->body.p, resp->body.n);
  while (n < cap && tern_msg_record_iter_next(&it, &recs[n], &err) == 1) n++;
  return n;
}

TEST(send_v1_read_back_byte_exact) {
  tern_cmd_t r;
  tern_msg_record_t rec[4];
  tern_host_t host;
  int64_t phys;
  const char props[] = P("TAGS", "tagA") P("KEYS", "k1 k2") P("UNIQ_KEY", "0A000001ABCD") P("WAIT", "true");
  const char stored[] = P("TAGS", "tagA") P("KEYS", "k1 k2") P("UNIQ_KEY", "0A000001ABCD") P("CLUSTER", "DefaultCluster");
  setup();
  ASSERT(up);
  ASSERT_OK(bt_send(&C, TERN_REQ_SEND_MESSAGE, "TopicSendA", 1, TERN_STR("hello v1"),
                    (tern_str_t){props, sizeof props - 1}, false, &r));
  ASSERT_EQ(r.code, 0);
  check_send_ext(&r);
  ASSERT_EQ(bt_ext_i64(&r, "queueId"), 1);
  ASSERT_EQ(bt_ext_i64(&r, "queueOffset"), 0);
  const tern_str_t *id = tern_cmd_ext_get(&r, "msgId");
  ASSERT(id && id->n == 32);
  ASSERT_OK(tern_msgid_decode(*id, &host, &phys, NULL));
  ASSERT_EQ(host.port, B.port);
  ASSERT_EQ(host.ip[0], 127);
  ASSERT_EQ(pull_all("TopicSendA", 1, 0, rec, 4, &r), 1);
  ASSERT_STR(r.remark, "FOUND");
  ASSERT_EQ(phys, rec[0].physical_offset);
  ASSERT_STR(rec[0].topic, "TopicSendA");
  ASSERT_STR(rec[0].body, "hello v1");
  ASSERT_EQ(rec[0].flag, 7);
  ASSERT_EQ(rec[0].queue_id, 1);
  ASSERT_EQ(rec[0].queue_offset, 0);
  ASSERT_EQ(rec[0].physical_offset, phys);
  ASSERT_EQ(rec[0].born_timestamp, 1700000000123);
  ASSERT_EQ(rec[0].body_crc, (int32_t)tern_crc32_body((const uint8_t *)"hello v1", 8));
  ASSERT_EQ(rec[0].magic, TERN_MSG_MAGIC_V1);
  ASSERT_EQ(rec[0].store_host.port, B.port);
  ASSERT_EQ(rec[0].properties.n, sizeof stored - 1);
  ASSERT_MEM_EQ(rec[0].properties.p, stored, sizeof stored - 1);
  ASSERT_EQ(rec[0].total_size, (int32_t)r.body.n);
  /* the pull header: next offset 1, bounds 0..1 */
  ASSERT_EQ(bt_ext_i64(&r, "nextBeginOffset"), 1);
  ASSERT_EQ(bt_ext_i64(&r, "minOffset"), 0);
  ASSERT_EQ(bt_ext_i64(&r, "maxOffset"), 1);
  ASSERT_EQ(bt_ext_i64(&r, "suggestWhichBrokerId"), 0);
}

TEST(send_v2_and_batch_read_back) {
  tern_cmd_t r;
  tern_msg_record_t rec[8];
  tern_buf_t batch;
  const char p1[] = P("UNIQ_KEY", "U1") P("TAGS", "t1");
  const char p2[] = P("UNIQ_KEY", "U2"); /* ends with a separator */
  const char p3[] = "UNIQ_KEY\x01U3";     /* no trailing separator: the broker adds one */
  const char bprops[] = P("WAIT", "true");
  setup();
  ASSERT(up);
  ASSERT_OK(bt_send(&C, TERN_REQ_SEND_MESSAGE_V2, "TopicSendB", 0, TERN_STR("v2 body"),
                    (tern_str_t){p1, sizeof p1 - 1}, false, &r));
  ASSERT_EQ(r.code, 0);
  check_send_ext(&r);
  ASSERT_EQ(bt_ext_i64(&r, "queueOffset"), 0);

  tern_buf_init(&batch, 0);
  tern_batch_entry_encode(&batch, 1, TERN_STR("m1"), (tern_str_t){p1, sizeof p1 - 1});
  tern_batch_entry_encode(&batch, 2, TERN_STR("m22"), (tern_str_t){p2, sizeof p2 - 1});
  tern_batch_entry_encode(&batch, 3, TERN_STR("m333"), (tern_str_t){p3, sizeof p3 - 1});
  ASSERT_OK(bt_send(&C, TERN_REQ_SEND_BATCH_MESSAGE, "TopicSendB", 0, (tern_str_t){(char *)batch.p, batch.len},
                    (tern_str_t){bprops, sizeof bprops - 1}, true, &r));
  tern_buf_free(&batch);
  ASSERT_EQ(r.code, 0);
  ASSERT_EQ(bt_ext_i64(&r, "queueOffset"), 1);
  const tern_str_t *ids = tern_cmd_ext_get(&r, "msgId");
  ASSERT(ids && ids->n == 3 * 32 + 2 && ids->p[32] == ',' && ids->p[65] == ',');
  char idcopy[128];
  memcpy(idcopy, ids->p, ids->n);

  ASSERT_EQ(pull_all("TopicSendB", 0, 0, rec, 8, &r), 4);
  ASSERT_STR(rec[0].body, "v2 body");
  ASSERT_STR(rec[1].body, "m1");
  ASSERT_STR(rec[2].body, "m22");
  ASSERT_STR(rec[3].body, "m333");
  ASSERT_EQ(rec[3].flag, 3);
  for (int i = 1; i < 4; i++) {
    tern_host_t h;
    int64_t phys;
    ASSERT_EQ(rec[i].queue_offset, i);
    ASSERT_OK(tern_msgid_decode((tern_str_t){idcopy + (i - 1) * 33, 32}, &h, &phys, NULL));
    ASSERT_EQ(phys, rec[i].physical_offset);
  }
  /* entry properties + batch properties (WAIT kept in batches as Java does, plus CLUSTER) */
  const char s1[] = P("UNIQ_KEY", "U1") P("TAGS", "t1") P("WAIT", "true") P("CLUSTER", "DefaultCluster");
  const char s3[] = "UNIQ_KEY\x01U3\x02" P("WAIT", "true") P("CLUSTER", "DefaultCluster");
  ASSERT_EQ(rec[1].properties.n, sizeof s1 - 1);
  ASSERT_MEM_EQ(rec[1].properties.p, s1, sizeof s1 - 1);
  ASSERT_EQ(rec[3].properties.n, sizeof s3 - 1);
  ASSERT_MEM_EQ(rec[3].properties.p, s3, sizeof s3 - 1);
}

TEST(send_auto_creates_topic_from_tbw102) {
  tern_cmd_t r;
  setup();
  ASSERT(up);
  ASSERT_OK(bt_send(&C, TERN_REQ_SEND_MESSAGE_V2, "TopicAuto", -1, TERN_STR("x"), TERN_STR_NULL, false, &r));
  ASSERT_EQ(r.code, 0);
  int64_t q = bt_ext_i64(&r, "queueId");
  ASSERT(q >= 0 && q < 4); /* min(defaultTopicQueueNums 4, TBW102's 8) queues, picked at random */
  /* queue 4 does not exist on the auto-created topic */
  ASSERT_OK(bt_send(&C, TERN_REQ_SEND_MESSAGE_V2, "TopicAuto", 4, TERN_STR("x"), TERN_STR_NULL, false, &r));
  ASSERT_EQ(r.code, TERN_RESP_SYSTEM_ERROR);
  ASSERT(r.remark.n > 30 && memcmp(r.remark.p, "request queueId[4] is illegal, TopicConfig [topicName=TopicAuto", 62) == 0);
  check_send_ext(&r);
}

TEST(send_refusals) {
  tern_cmd_t r;
  char *big;
  setup();
  ASSERT(up);
  /* body over maxMessageSize (65536 here) */
  big = calloc(1, 70000);
  ASSERT(big);
  ASSERT_OK(bt_send(&C, TERN_REQ_SEND_MESSAGE_V2, "TopicSendA", 0, (tern_str_t){big, 70000}, TERN_STR_NULL, false, &r));
  ASSERT_EQ(r.code, TERN_RESP_MESSAGE_ILLEGAL);
  ASSERT_STR(r.remark, "the message is illegal, maybe msg body or properties length not matched. msg body length limit "
                       "65536B, msg properties length limit 32KB.");
  check_send_ext(&r);
  /* properties over 32767 bytes */
  memset(big, 'a', 40000);
  memcpy(big, "K\x01", 2);
  big[39999] = '\x02';
  ASSERT_OK(bt_send(&C, TERN_REQ_SEND_MESSAGE_V2, "TopicSendA", 0, TERN_STR("b"), (tern_str_t){big, 40000}, false, &r));
  ASSERT_EQ(r.code, TERN_RESP_MESSAGE_ILLEGAL);
  free(big);
  /* topic name */
  ASSERT_OK(bt_send(&C, TERN_REQ_SEND_MESSAGE_V2, "bad topic!", 0, TERN_STR("b"), TERN_STR_NULL, false, &r));
  ASSERT_EQ(r.code, TERN_RESP_SYSTEM_ERROR);
  ASSERT_STR(r.remark, "The specified topic contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$");
  check_send_ext(&r);
  char longname[200];
  memset(longname, 'T', 150);
  longname[150] = 0;
  ASSERT_OK(bt_send(&C, TERN_REQ_SEND_MESSAGE_V2, longname, 0, TERN_STR("b"), TERN_STR_NULL, false, &r));
  ASSERT_EQ(r.code, TERN_RESP_SYSTEM_ERROR);
  ASSERT_STR(r.remark, "The specified topic is longer than topic max length.");
  /* forbidden system topic */
  ASSERT_OK(bt_send(&C, TERN_REQ_SEND_MESSAGE, "SCHEDULE_TOPIC_XXXX", 0, TERN_STR("b"), TERN_STR_NULL, false, &r));
  ASSERT_EQ(r.code, TERN_RESP_NO_PERMISSION);
  ASSERT_STR(r.remark, "Sending message to topic[SCHEDULE_TOPIC_XXXX] is forbidden.");
  /* unknown topic whose default topic does not exist */
  {
    tern_cmd_t req;
    tern_arena_t a;
    tern_hdr_send_message_request_v2_t h;
    memset(&h, 0, sizeof h);
    tern_arena_init(&a, 0, NULL, 0);
    h.producer_group = TERN_STR("PG");
    h.topic = TERN_STR("TopicNoTemplate");
    h.default_topic = TERN_STR("NOPE");
    h.default_topic_queue_nums = 4;
    h.present = 0x7f | TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_FLAG;
    tern_rpc_request_init(&req, TERN_REQ_SEND_MESSAGE_V2, TERN_STR("b"));
    ASSERT_OK(tern_hdr_send_message_request_v2_encode(&h, &req, &a));
    ASSERT_OK(bt_call(&C, &req, &r, 5000));
    tern_arena_free(&a);
    ASSERT_EQ(r.code, TERN_RESP_TOPIC_NOT_EXIST);
    ASSERT_STR(r.remark, "topic[TopicNoTemplate] not exist, apply first please!\nSee http://rocketmq.apache.org/docs/faq/ "
                         "for further details.");
    check_send_ext(&r);
  }
  /* a batch body that lies about its entry size */
  ASSERT_OK(bt_send(&C, TERN_REQ_SEND_BATCH_MESSAGE, "TopicSendA", 0, TERN_STR("\x00\x00\x00\x7f garbage"),
                    TERN_STR_NULL, true, &r));
  ASSERT_EQ(r.code, TERN_RESP_MESSAGE_ILLEGAL);
  /* a header without its required fields: SYSTEM_ERROR from the decoder, connection kept */
  {
    tern_cmd_t req;
    tern_rpc_request_init(&req, TERN_REQ_SEND_MESSAGE_V2, TERN_STR("b"));
    ASSERT_OK(bt_call(&C, &req, &r, 5000));
    ASSERT_EQ(r.code, TERN_RESP_SYSTEM_ERROR);
  }
  /* nothing of the above was stored: queue 0 of TopicSendA is empty */
  ASSERT_OK(bt_pull(&C, "CG_SEND", "TopicSendA", 0, 0, 32, 0x4, 0, "*", &r, 5000));
  ASSERT_EQ(r.code, TERN_RESP_PULL_NOT_FOUND);
  /* unknown request code */
  {
    tern_cmd_t req;
    tern_rpc_request_init(&req, 9999, TERN_STR_NULL);
    ASSERT_OK(bt_call(&C, &req, &r, 5000));
    ASSERT_EQ(r.code, TERN_RESP_REQUEST_CODE_NOT_SUPPORTED);
  }
}

TEST(stop_exits_0) { stop_clean(); }
