/* Offsets, lookups and restarts against the real mqbroker:
 * QUERY_CONSUMER_OFFSET (with QUERY_NOT_FOUND semantics), UPDATE_CONSUMER_OFFSET
 * (oneway too), GET_MAX/MIN_OFFSET, GET_EARLIEST_MSG_STORETIME,
 * SEARCH_OFFSET_BY_TIMESTAMP, VIEW_MESSAGE_BY_ID, QUERY_MESSAGE (key and
 * _UNIQUE_KEY_QUERY), then a clean restart and a SIGKILL restart that find the
 * messages, offsets and topics again. */
#include <stdlib.h>
#include <unistd.h>

#include "bt.h"
#include "tern_test.h"

#define P(k, v) k "\x01" v "\x02"

static tern_fixture_proc_t B;
static bt_client_t C;
static bool up;
static char dir[128];
static int64_t phys_of_second;

static void setup(void) {
  if (up) return;
  if (tern_fixture_broker_start(&B, dir[0] ? dir : NULL, 0, NULL) == 0 && bt_open(&C, B.port) == 0) {
    up = true;
    snprintf(dir, sizeof dir, "%s", B.dir);
  }
}

static void restart(bool crash) {
  bt_close(&C);
  up = false;
  if (crash)
    tern_fixture_kill(&B);
  else if (tern_fixture_stop(&B, 1) != 0)
    tern_test_failed = 1;
  setup();
}

__attribute__((destructor)) static void teardown(void) {
  if (up) bt_close(&C);
  if (B.pid) tern_fixture_stop(&B, 0);
}

static int call_simple(int32_t code, int (*enc)(const void *, tern_cmd_t *, tern_arena_t *), const void *h,
                       tern_cmd_t *r) {
  tern_cmd_t req;
  tern_arena_t a;
  int rc;
  tern_arena_init(&a, 0, NULL, 0);
  tern_rpc_request_init(&req, code, TERN_STR_NULL);
  rc = enc(h, &req, &a);
  if (rc == 0) rc = bt_call(&C, &req, r, 5000);
  tern_arena_free(&a);
  return rc;
}
#define ENC(fn) ((int (*)(const void *, tern_cmd_t *, tern_arena_t *))(fn))

static int64_t query_offset(const char *group, const char *topic, int32_t qid, int zero_flag, int32_t *code) {
  tern_hdr_query_consumer_offset_request_t h;
  tern_cmd_t r;
  memset(&h, 0, sizeof h);
  h.consumer_group = tern_str_from_cstr(group);
  h.topic = tern_str_from_cstr(topic);
  h.queue_id = qid;
  h.present = TERN_HDR_QUERY_CONSUMER_OFFSET_REQUEST_HAS_CONSUMER_GROUP | TERN_HDR_QUERY_CONSUMER_OFFSET_REQUEST_HAS_TOPIC |
              TERN_HDR_QUERY_CONSUMER_OFFSET_REQUEST_HAS_QUEUE_ID;
  if (zero_flag >= 0) {
    h.set_zero_if_not_found = zero_flag;
    h.present |= TERN_HDR_QUERY_CONSUMER_OFFSET_REQUEST_HAS_SET_ZERO_IF_NOT_FOUND;
  }
  *code = -1;
  if (call_simple(TERN_REQ_QUERY_CONSUMER_OFFSET, ENC(tern_hdr_query_consumer_offset_request_encode), &h, &r)) return -2;
  *code = r.code;
  return bt_ext_i64(&r, "offset");
}

static int update_offset(const char *group, const char *topic, int32_t qid, int64_t off, bool oneway) {
  tern_hdr_update_consumer_offset_request_t h;
  tern_cmd_t req, r;
  tern_arena_t a;
  int rc;
  memset(&h, 0, sizeof h);
  h.consumer_group = tern_str_from_cstr(group);
  h.topic = tern_str_from_cstr(topic);
  h.queue_id = qid;
  h.commit_offset = off;
  h.present = 0xf;
  tern_arena_init(&a, 0, NULL, 0);
  tern_rpc_request_init(&req, TERN_REQ_UPDATE_CONSUMER_OFFSET, TERN_STR_NULL);
  if (oneway) req.flag |= TERN_FLAG_ONEWAY;
  rc = tern_hdr_update_consumer_offset_request_encode(&h, &req, &a);
  if (rc == 0) rc = bt_call(&C, &req, &r, 5000);
  if (rc == 0 && !oneway) rc = r.code;
  tern_arena_free(&a);
  return rc;
}

static int64_t queue_value(int32_t code, const char *topic, int32_t qid, int64_t ts, const char *field) {
  tern_cmd_t r;
  int rc;
  if (code == TERN_REQ_SEARCH_OFFSET_BY_TIMESTAMP) {
    tern_hdr_search_offset_request_t h = {0};
    h.topic = tern_str_from_cstr(topic);
    h.queue_id = qid;
    h.timestamp = ts;
    h.present = 0x7;
    rc = call_simple(code, ENC(tern_hdr_search_offset_request_encode), &h, &r);
  } else {
    tern_hdr_get_max_offset_request_t h = {0}; /* the same two fields as GET_MIN_OFFSET / GET_EARLIEST_MSG_STORETIME */
    h.topic = tern_str_from_cstr(topic);
    h.queue_id = qid;
    h.present = 0x3;
    rc = call_simple(code, ENC(tern_hdr_get_max_offset_request_encode), &h, &r);
  }
  if (rc || r.code != 0) return INT64_MIN;
  return bt_ext_i64(&r, field);
}

TEST(offsets_query_update) {
  int32_t code;
  tern_cmd_t r;
  setup();
  ASSERT(up);
  ASSERT_OK(bt_send(&C, TERN_REQ_SEND_MESSAGE_V2, "TopicOff", 0, TERN_STR("a"), TERN_STR(P("KEYS", "order-1 order-2") P("UNIQ_KEY", "UNIQ0001")), false, &r));
  ASSERT_EQ(r.code, 0);
  ASSERT_OK(bt_send(&C, TERN_REQ_SEND_MESSAGE_V2, "TopicOff", 0, TERN_STR("b"), TERN_STR(P("KEYS", "order-2")), false, &r));
  ASSERT_EQ(r.code, 0);
  {
    tern_host_t h;
    const tern_str_t *id = tern_cmd_ext_get(&r, "msgId");
    ASSERT(id);
    ASSERT_OK(tern_msgid_decode(*id, &h, &phys_of_second, NULL));
  }
  /* a new group on a queue that starts at 0: offset 0 (4.9) */
  ASSERT_EQ(query_offset("CG_NEW", "TopicOff", 0, -1, &code), 0);
  ASSERT_EQ(code, 0);
  /* 5.x setZeroIfNotFound=false: QUERY_NOT_FOUND */
  query_offset("CG_NEW", "TopicOff", 0, 0, &code);
  ASSERT_EQ(code, TERN_RESP_QUERY_NOT_FOUND);
  ASSERT_OK(update_offset("CG_OFF", "TopicOff", 0, 2, false));
  ASSERT_OK(update_offset("CG_OFF", "TopicOff", 3, 17, true));
  ASSERT_EQ(query_offset("CG_OFF", "TopicOff", 0, -1, &code), 2);
  ASSERT_EQ(query_offset("CG_OFF", "TopicOff", 3, -1, &code), 17);
  ASSERT_EQ(code, 0);
}

TEST(queue_offsets_and_times) {
  int64_t t_first, max, min;
  setup();
  ASSERT(up);
  max = queue_value(TERN_REQ_GET_MAX_OFFSET, "TopicOff", 0, 0, "offset");
  min = queue_value(TERN_REQ_GET_MIN_OFFSET, "TopicOff", 0, 0, "offset");
  ASSERT_EQ(max, 2);
  ASSERT_EQ(min, 0);
  ASSERT_EQ(queue_value(TERN_REQ_GET_MAX_OFFSET, "TopicOff", 1, 0, "offset"), 0); /* empty queue */
  ASSERT_EQ(queue_value(TERN_REQ_GET_MAX_OFFSET, "NoSuchTopic", 0, 0, "offset"), 0);
  t_first = queue_value(TERN_REQ_GET_EARLIEST_MSG_STORETIME, "TopicOff", 0, 0, "timestamp");
  ASSERT(t_first > 1700000000000);
  ASSERT_EQ(queue_value(TERN_REQ_GET_EARLIEST_MSG_STORETIME, "TopicOff", 1, 0, "timestamp"), -1);
  ASSERT_EQ(queue_value(TERN_REQ_SEARCH_OFFSET_BY_TIMESTAMP, "TopicOff", 0, t_first, "offset"), 0);
  ASSERT_EQ(queue_value(TERN_REQ_SEARCH_OFFSET_BY_TIMESTAMP, "TopicOff", 1, t_first, "offset"), 0);
}

TEST(view_and_query_message) {
  tern_cmd_t req, r;
  tern_arena_t a;
  tern_msg_record_t rec;
  tern_msg_record_iter_t it;
  int n = 0;
  setup();
  ASSERT(up);
  {
    tern_hdr_view_message_request_t h = {0};
    h.offset = phys_of_second;
    h.present = TERN_HDR_VIEW_MESSAGE_REQUEST_HAS_OFFSET;
    ASSERT_OK(call_simple(TERN_REQ_VIEW_MESSAGE_BY_ID, ENC(tern_hdr_view_message_request_encode), &h, &r));
    ASSERT_EQ(r.code, 0);
    ASSERT_OK(tern_msg_record_decode((const uint8_t *)r.body.p, r.body.n, &rec, NULL));
    ASSERT_EQ(rec.total_size, (int32_t)r.body.n);
    ASSERT_STR(rec.body, "b");
    ASSERT_EQ(rec.physical_offset, phys_of_second);
    h.offset = 1 << 30;
    ASSERT_OK(call_simple(TERN_REQ_VIEW_MESSAGE_BY_ID, ENC(tern_hdr_view_message_request_encode), &h, &r));
    ASSERT_EQ(r.code, TERN_RESP_SYSTEM_ERROR);
    ASSERT_STR(r.remark, "can not find message by the offset, 1073741824");
    h.offset = phys_of_second + 3; /* inside a record */
    ASSERT_OK(call_simple(TERN_REQ_VIEW_MESSAGE_BY_ID, ENC(tern_hdr_view_message_request_encode), &h, &r));
    ASSERT_EQ(r.code, TERN_RESP_SYSTEM_ERROR);
  }
  {
    tern_hdr_query_message_request_t h = {0};
    tern_arena_init(&a, 0, NULL, 0);
    h.topic = TERN_STR("TopicOff");
    h.key = TERN_STR("order-2");
    h.max_num = 32;
    h.begin_timestamp = 0;
    h.end_timestamp = INT64_MAX / 2;
    h.present = 0x1f;
    tern_rpc_request_init(&req, TERN_REQ_QUERY_MESSAGE, TERN_STR_NULL);
    ASSERT_OK(tern_hdr_query_message_request_encode(&h, &req, &a));
    ASSERT_OK(tern_cmd_ext_add(&req, TERN_STR("_UNIQUE_KEY_QUERY"), TERN_STR("false")));
    ASSERT_OK(bt_call(&C, &req, &r, 5000));
    ASSERT_EQ(r.code, 0);
    ASSERT(bt_ext_i64(&r, "indexLastUpdatePhyoffset") >= phys_of_second);
    tern_msg_record_iter_init(&it, (const uint8_t *)r.body.p, r.body.n);
    while (tern_msg_record_iter_next(&it, &rec, NULL) == 1) n++;
    ASSERT_EQ(n, 2);
    /* by UNIQ_KEY */
    h.key = TERN_STR("UNIQ0001");
    tern_rpc_request_init(&req, TERN_REQ_QUERY_MESSAGE, TERN_STR_NULL);
    ASSERT_OK(tern_hdr_query_message_request_encode(&h, &req, &a));
    ASSERT_OK(tern_cmd_ext_add(&req, TERN_STR("_UNIQUE_KEY_QUERY"), TERN_STR("true")));
    ASSERT_OK(bt_call(&C, &req, &r, 5000));
    ASSERT_EQ(r.code, 0);
    ASSERT_OK(tern_msg_record_decode((const uint8_t *)r.body.p, r.body.n, &rec, NULL));
    ASSERT_STR(rec.body, "a");
    /* unknown key */
    h.key = TERN_STR("nope");
    tern_rpc_request_init(&req, TERN_REQ_QUERY_MESSAGE, TERN_STR_NULL);
    ASSERT_OK(tern_hdr_query_message_request_encode(&h, &req, &a));
    ASSERT_OK(bt_call(&C, &req, &r, 5000));
    ASSERT_EQ(r.code, TERN_RESP_QUERY_NOT_FOUND);
    ASSERT_STR(r.remark, "can not find message, maybe time range not correct");
    tern_arena_free(&a);
  }
}

static int pull_count(const char *topic, int32_t qid) {
  tern_cmd_t r;
  tern_msg_record_iter_t it;
  tern_msg_record_t rec;
  int n = 0;
  if (bt_pull(&C, "CG", topic, qid, 0, 32, 0x4, 0, "*", &r, 5000) || r.code != 0) return -1;
  tern_msg_record_iter_init(&it, (const uint8_t *)r.body.p, r.body.n);
  while (tern_msg_record_iter_next(&it, &rec, NULL) == 1) n++;
  return n;
}

TEST(clean_restart_keeps_messages_offsets_topics) {
  int32_t code;
  setup();
  ASSERT(up);
  restart(false);
  ASSERT(up);
  ASSERT_EQ(pull_count("TopicOff", 0), 2);
  ASSERT_EQ(query_offset("CG_OFF", "TopicOff", 0, -1, &code), 2);
  ASSERT_EQ(query_offset("CG_OFF", "TopicOff", 3, -1, &code), 17);
  /* the auto-created topic is still there with its 4 queues (queue 3 readable, 4 not) */
  {
    tern_cmd_t r;
    ASSERT_OK(bt_pull(&C, "CG", "TopicOff", 4, 0, 32, 0x4, 0, "*", &r, 5000));
    ASSERT_EQ(r.code, TERN_RESP_SYSTEM_ERROR);
    ASSERT_OK(bt_pull(&C, "CG", "TopicOff", 3, 0, 32, 0x4, 0, "*", &r, 5000));
    ASSERT_EQ(r.code, TERN_RESP_PULL_NOT_FOUND);
  }
}

TEST(crash_restart_keeps_acknowledged_messages) {
  tern_cmd_t r;
  setup();
  ASSERT(up);
  for (int i = 0; i < 50; i++) {
    ASSERT_OK(bt_send(&C, TERN_REQ_SEND_MESSAGE_V2, "TopicCrash", 1, TERN_STR("acked"), TERN_STR_NULL, false, &r));
    ASSERT_EQ(r.code, 0);
  }
  restart(true); /* SIGKILL right after the last reply */
  ASSERT(up);
  {
    int total = 0, n;
    int64_t off = 0;
    do {
      tern_msg_record_iter_t it;
      tern_msg_record_t rec;
      ASSERT_OK(bt_pull(&C, "CG", "TopicCrash", 1, off, 32, 0x4, 0, "*", &r, 5000));
      if (r.code != 0) break;
      n = 0;
      tern_msg_record_iter_init(&it, (const uint8_t *)r.body.p, r.body.n);
      while (tern_msg_record_iter_next(&it, &rec, NULL) == 1) n++;
      total += n;
      off = bt_ext_i64(&r, "nextBeginOffset");
    } while (n > 0);
    ASSERT_EQ(total, 50);
  }
  bt_close(&C);
  up = false;
  ASSERT_EQ(tern_fixture_stop(&B, 0), 0);
}
