/* SQL92 filtering against the real mqbroker with enablePropertyFilter=true
 * (reference §11.2, §5.8, §5.10): messages with properties are sent, pulls
 * with an SQL92 subscription (from the request header, or from the group's
 * HEART_BEAT registration) return exactly the matching records, a read with
 * no match answers PULL_RETRY_IMMEDIATELY past the scanned records, invalid
 * expressions are refused (SUBSCRIPTION_PARSE_FAILED with the header,
 * FILTER_DATA_NOT_EXIST from a heartbeat), CHECK_CLIENT_CONFIG compiles the
 * expression, and a suspended SQL92 pull is answered by a matching send. */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "bt.h"
#include "tern_test.h"

#define SUB 0x4
#define SUSPEND 0x2
#define TOPIC "TopicSql"

static bt_broker_t B;
static bt_client_t C;
static bool up;

static void setup(void) {
  if (up) return;
  if (bt_broker_start(&B, NULL, 0, "enablePropertyFilter=true\n") == 0 && bt_open(&C, B.port) == 0) up = true;
}

__attribute__((destructor)) static void teardown(void) {
  if (!up) return;
  bt_close(&C);
  bt_broker_stop(&B, 0);
}

static int send_props(bt_client_t *c, const char *topic, int32_t qid, const char *props) {
  tern_cmd_t r;
  if (bt_send(c, TERN_REQ_SEND_MESSAGE_V2, topic, qid, TERN_STR("body"), tern_str_from_cstr(props), false, &r)) return -1;
  return r.code;
}

/* The "id" property of each record in a pull body, joined with ','. */
static void ids_of(const tern_cmd_t *r, char *out, size_t cap) {
  tern_msg_record_iter_t it;
  tern_msg_record_t rec;
  size_t n = 0;
  out[0] = 0;
  tern_msg_record_iter_init(&it, (const uint8_t *)r->body.p, r->body.n);
  while (tern_msg_record_iter_next(&it, &rec, NULL) == 1) {
    tern_str_t v = TERN_STR("?");
    tern_props_get(rec.properties, "id", &v);
    n += (size_t)snprintf(out + n, cap - n, "%s%.*s", n ? "," : "", TERN_STR_ARG(v));
    if (n >= cap) break;
  }
}

static int pull_sql(bt_client_t *c, const char *group, int32_t qid, int64_t offset, int32_t flags, int64_t suspend_ms,
                    const char *expr, tern_cmd_t *r, uint32_t timeout_ms) {
  tern_hdr_pull_message_request_t h;
  memset(&h, 0, sizeof h);
  h.consumer_group = tern_str_from_cstr(group);
  h.topic = TERN_STR(TOPIC);
  h.queue_id = qid;
  h.queue_offset = offset;
  h.max_msg_nums = 32;
  h.sys_flag = flags;
  h.suspend_timeout_millis = suspend_ms;
  h.sub_version = 0;
  h.present = 0x3ff;
  if (expr) {
    h.subscription = tern_str_from_cstr(expr);
    h.expression_type = TERN_STR("SQL92");
    h.present |= TERN_HDR_PULL_MESSAGE_REQUEST_HAS_EXPRESSION_TYPE;
  } else {
    h.present &= ~(uint32_t)TERN_HDR_PULL_MESSAGE_REQUEST_HAS_SUBSCRIPTION;
  }
  return bt_pull_h(c, &h, r, timeout_ms);
}

/* 12 messages on queue 0: id=0..9 with a=id, TAGS TagA (even) / TagB (odd),
 * region=hz on even ids; id=10 without a; id=11 with a non-numeric a. */
static bool sent;
static int send_all(void) {
  char props[128];
  if (sent) return 0;
  for (int i = 0; i < 10; i++) {
    snprintf(props, sizeof props, "id\x01%d\x02" "a\x01%d\x02TAGS\x01%s\x02%s", i, i, i % 2 ? "TagB" : "TagA",
             i % 2 ? "" : "region\x01hz\x02");
    if (send_props(&C, TOPIC, 0, props) != 0) return -1;
  }
  if (send_props(&C, TOPIC, 0, "id\x01" "10\x02TAGS\x01TagA\x02") != 0) return -1;
  if (send_props(&C, TOPIC, 0, "id\x01" "11\x02" "a\x01" "abc\x02TAGS\x01TagB\x02") != 0) return -1;
  sent = true;
  return 0;
}

TEST(pull_with_sql92_in_the_request) {
  tern_cmd_t r;
  char ids[256];
  setup();
  ASSERT(up);
  ASSERT_OK(send_all());
  ASSERT_OK(pull_sql(&C, "cg_sql_req", 0, 0, SUB, 0, "a >= 3 AND a < 8 AND region = 'hz'", &r, 5000));
  ASSERT_EQ(r.code, TERN_RESP_SUCCESS);
  ids_of(&r, ids, sizeof ids);
  ASSERT_STREQ(ids, "4,6");
  ASSERT_EQ(bt_ext_i64(&r, "nextBeginOffset"), 12); /* every scanned record is consumed */

  ASSERT_OK(pull_sql(&C, "cg_sql_req", 0, 0, SUB, 0, "TAGS IN ('TagB') AND a IS NOT NULL", &r, 5000));
  ASSERT_EQ(r.code, TERN_RESP_SUCCESS);
  ids_of(&r, ids, sizeof ids);
  ASSERT_STREQ(ids, "1,3,5,7,9,11");

  /* null and failed conversions do not match; NOT flips only known results */
  ASSERT_OK(pull_sql(&C, "cg_sql_req", 0, 0, SUB, 0, "NOT (a > 4)", &r, 5000));
  ASSERT_EQ(r.code, TERN_RESP_SUCCESS);
  ids_of(&r, ids, sizeof ids);
  ASSERT_STREQ(ids, "0,1,2,3,4");
  ASSERT_OK(pull_sql(&C, "cg_sql_req", 0, 0, SUB, 0, "a IS NULL OR a BETWEEN 8 AND 9", &r, 5000));
  ASSERT_EQ(r.code, TERN_RESP_SUCCESS);
  ids_of(&r, ids, sizeof ids);
  ASSERT_STREQ(ids, "8,9,10");
  ASSERT_OK(pull_sql(&C, "cg_sql_req", 0, 0, SUB, 0, "id = '11' OR id = '2'", &r, 5000));
  ids_of(&r, ids, sizeof ids);
  ASSERT_STREQ(ids, "2,11");
  ASSERT_OK(pull_sql(&C, "cg_sql_req", 0, 5, SUB, 0, "TRUE", &r, 5000));
  ids_of(&r, ids, sizeof ids);
  ASSERT_STREQ(ids, "5,6,7,8,9,10,11");

  /* records scanned, none matched: retry at once, past them */
  ASSERT_OK(pull_sql(&C, "cg_sql_req", 0, 2, SUB, 0, "a > 100", &r, 5000));
  ASSERT_EQ(r.code, TERN_RESP_PULL_RETRY_IMMEDIATELY);
  ASSERT_STR(r.remark, "NO_MATCHED_MESSAGE");
  ASSERT_EQ(bt_ext_i64(&r, "nextBeginOffset"), 12);

  /* an invalid expression */
  ASSERT_OK(pull_sql(&C, "cg_sql_req", 0, 0, SUB, 0, "a >", &r, 5000));
  ASSERT_EQ(r.code, TERN_RESP_SUBSCRIPTION_PARSE_FAILED);
  ASSERT_STR(r.remark, "parse the consumer's subscription failed");
  ASSERT_OK(pull_sql(&C, "cg_sql_req", 0, 0, SUB, 0, "a != 1", &r, 5000));
  ASSERT_EQ(r.code, TERN_RESP_SUBSCRIPTION_PARSE_FAILED);
}

static int heartbeat(bt_client_t *c, const char *group, const char *sql, tern_cmd_t *r) {
  char body[2048];
  tern_cmd_t req;
  snprintf(body, sizeof body,
           "{\"clientID\":\"127.0.0.1@sql\",\"consumerDataSet\":[{\"consumeFromWhere\":\"CONSUME_FROM_LAST_OFFSET\","
           "\"consumeType\":\"CONSUME_PASSIVELY\",\"groupName\":\"%s\",\"messageModel\":\"CLUSTERING\","
           "\"subscriptionDataSet\":[{\"classFilterMode\":false,\"codeSet\":[],\"expressionType\":\"SQL92\","
           "\"subString\":\"%s\",\"subVersion\":1700000000000,\"tagsSet\":[],\"topic\":\"" TOPIC "\"}],"
           "\"unitMode\":false}],\"producerDataSet\":[]}",
           group, sql);
  tern_rpc_request_init(&req, TERN_REQ_HEART_BEAT, tern_str_from_cstr(body));
  return bt_call(c, &req, r, 5000);
}

TEST(pull_with_sql92_from_heartbeat) {
  tern_cmd_t r;
  char ids[256];
  setup();
  ASSERT(up);
  ASSERT_OK(send_all());
  ASSERT_OK(heartbeat(&C, "cg_sql_hb", "(a > 6 AND TAGS = 'TagA') OR id = '1'", &r));
  ASSERT_EQ(r.code, TERN_RESP_SUCCESS);
  ASSERT_OK(pull_sql(&C, "cg_sql_hb", 0, 0, 0, 0, NULL, &r, 5000));
  ASSERT_EQ(r.code, TERN_RESP_SUCCESS);
  ids_of(&r, ids, sizeof ids);
  ASSERT_STREQ(ids, "1,8");
  /* a registration that does not compile has no filter data */
  ASSERT_OK(heartbeat(&C, "cg_sql_bad", "a = = 1", &r));
  ASSERT_EQ(r.code, TERN_RESP_SUCCESS);
  ASSERT_OK(pull_sql(&C, "cg_sql_bad", 0, 0, 0, 0, NULL, &r, 5000));
  ASSERT_EQ(r.code, TERN_RESP_FILTER_DATA_NOT_EXIST);
}

TEST(check_client_config_compiles_sql92) {
  tern_cmd_t r, req;
  const char *ok = "{\"clientId\":\"x@1\",\"group\":\"cg_check\",\"subscriptionData\":{\"classFilterMode\":false,"
                   "\"codeSet\":[],\"expressionType\":\"SQL92\",\"subString\":\"a > 1 AND b IN ('x','y')\","
                   "\"subVersion\":1,\"tagsSet\":[],\"topic\":\"T\"}}";
  const char *bad = "{\"clientId\":\"x@1\",\"group\":\"cg_check\",\"subscriptionData\":{\"classFilterMode\":false,"
                    "\"codeSet\":[],\"expressionType\":\"SQL92\",\"subString\":\"a > 1 AND b IN ('x' 'y')\","
                    "\"subVersion\":1,\"tagsSet\":[],\"topic\":\"T\"}}";
  setup();
  ASSERT(up);
  tern_rpc_request_init(&req, TERN_REQ_CHECK_CLIENT_CONFIG, tern_str_from_cstr(ok));
  ASSERT_OK(bt_call(&C, &req, &r, 5000));
  ASSERT_EQ(r.code, TERN_RESP_SUCCESS);
  tern_rpc_request_init(&req, TERN_REQ_CHECK_CLIENT_CONFIG, tern_str_from_cstr(bad));
  ASSERT_OK(bt_call(&C, &req, &r, 5000));
  ASSERT_EQ(r.code, TERN_RESP_SUBSCRIPTION_PARSE_FAILED);
  ASSERT(r.has_remark);
  ASSERT(r.remark.n > 25 && memcmp(r.remark.p, "Invalid MessageSelector. ", 25) == 0);
  {
    char remark[256];
    snprintf(remark, sizeof remark, "%.*s", TERN_STR_ARG(r.remark));
    ASSERT(strstr(remark, "\"'y'\" at line 1, column 21") != NULL);
  }
}

typedef struct poller {
  int port;
  int64_t offset;
  int code;
  char ids[128];
  double t_done;
} poller_t;

static void *poll_thread(void *arg) {
  poller_t *p = arg;
  bt_client_t c;
  tern_cmd_t r;
  p->code = -1;
  if (bt_open(&c, p->port) != 0) return NULL;
  if (pull_sql(&c, "cg_sql_lp", 1, p->offset, SUB | SUSPEND, 10000, "a = 'wake'", &r, 20000) == 0) {
    ids_of(&r, p->ids, sizeof p->ids);
    p->t_done = bt_now_ms();
    p->code = r.code;
  }
  bt_close(&c);
  return NULL;
}

TEST(suspended_sql92_pull_answered_by_matching_send) {
  pthread_t th;
  poller_t p = {0};
  double t_send;
  setup();
  ASSERT(up);
  ASSERT_OK(send_all());
  p.port = B.port;
  p.offset = 0; /* queue 1 is empty */
  p.code = -2;
  ASSERT_OK(pthread_create(&th, NULL, poll_thread, &p));
  usleep(300000);
  ASSERT_EQ(p.code, -1); /* still held */
  t_send = bt_now_ms();
  ASSERT_EQ(send_props(&C, TOPIC, 1, "id\x01" "12\x02" "a\x01wake\x02"), 0);
  pthread_join(th, NULL);
  ASSERT_EQ(p.code, TERN_RESP_SUCCESS);
  ASSERT_STREQ(p.ids, "12");
  ASSERT(p.t_done - t_send < 1000);
}
