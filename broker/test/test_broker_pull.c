/* Pulling against the real mqbroker: every status with its code, remark and
 * nextBeginOffset/minOffset/maxOffset, bad queue ids and topics, the
 * subscription rules (request expression, parse failures, SQL92, no
 * heartbeat), tag filtering, commit-offset-on-pull, long polling woken by a
 * matching send within milliseconds and answered at its deadline otherwise,
 * short polling, and suspended pulls answered at shutdown. */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "bt.h"
#include "tern_test.h"

#define P(k, v) k "\x01" v "\x02"
#define SUB 0x4
#define SUSPEND 0x2
#define COMMIT 0x1

static tern_fixture_proc_t B;
static bt_client_t C;
static bool up;

static void setup(void) {
  if (up) return;
  if (tern_fixture_broker_start(&B, NULL, 0, NULL) == 0 && bt_open(&C, B.port) == 0) up = true;
}

__attribute__((destructor)) static void teardown(void) {
  if (!up) return;
  bt_close(&C);
  tern_fixture_stop(&B, 0);
}

static int send_tag(bt_client_t *c, const char *topic, int32_t qid, const char *tag) {
  tern_cmd_t r;
  char props[64];
  int n = snprintf(props, sizeof props, "TAGS\x01%s\x02", tag);
  if (bt_send(c, TERN_REQ_SEND_MESSAGE_V2, topic, qid, TERN_STR("body"), (tern_str_t){props, (size_t)n}, false, &r))
    return -1;
  return r.code;
}

static int count_records(const tern_cmd_t *r, int64_t *offs) {
  tern_msg_record_iter_t it;
  tern_msg_record_t rec;
  int n = 0;
  tern_msg_record_iter_init(&it, (const uint8_t *)r->body.p, r->body.n);
  while (tern_msg_record_iter_next(&it, &rec, NULL) == 1) {
    if (offs) offs[n] = rec.queue_offset;
    n++;
  }
  return n;
}

TEST(pull_statuses) {
  tern_cmd_t r;
  setup();
  ASSERT(up);
  /* an existing topic with an empty queue */
  ASSERT_EQ(send_tag(&C, "TopicPull", 1, "x"), 0); /* creates the topic (4 queues) */
  ASSERT_OK(bt_pull(&C, "CG", "TopicPull", 0, 0, 32, SUB, 0, "*", &r, 5000));
  ASSERT_EQ(r.code, TERN_RESP_PULL_NOT_FOUND);
  ASSERT_STR(r.remark, "NO_MESSAGE_IN_QUEUE");
  ASSERT_EQ(bt_ext_i64(&r, "nextBeginOffset"), 0);
  ASSERT_OK(bt_pull(&C, "CG", "TopicPull", 0, 5, 32, SUB, 0, "*", &r, 5000));
  ASSERT_EQ(r.code, TERN_RESP_PULL_OFFSET_MOVED);
  ASSERT_EQ(send_tag(&C, "TopicPull", 0, "x"), 0);
  ASSERT_EQ(send_tag(&C, "TopicPull", 0, "x"), 0);
  /* at the max offset */
  ASSERT_OK(bt_pull(&C, "CG", "TopicPull", 0, 2, 32, SUB, 0, "*", &r, 5000));
  ASSERT_EQ(r.code, TERN_RESP_PULL_NOT_FOUND);
  ASSERT_STR(r.remark, "OFFSET_OVERFLOW_ONE");
  ASSERT_EQ(bt_ext_i64(&r, "nextBeginOffset"), 2);
  ASSERT_EQ(bt_ext_i64(&r, "maxOffset"), 2);
  ASSERT_EQ(bt_ext_i64(&r, "minOffset"), 0);
  /* far past the max: moved to the max */
  ASSERT_OK(bt_pull(&C, "CG", "TopicPull", 0, 1000, 32, SUB, 0, "*", &r, 5000));
  ASSERT_EQ(r.code, TERN_RESP_PULL_OFFSET_MOVED);
  ASSERT_STR(r.remark, "OFFSET_OVERFLOW_BADLY");
  ASSERT_EQ(bt_ext_i64(&r, "nextBeginOffset"), 2);
  /* below the min: moved to the min */
  ASSERT_OK(bt_pull(&C, "CG", "TopicPull", 0, -3, 32, SUB, 0, "*", &r, 5000));
  ASSERT_EQ(r.code, TERN_RESP_PULL_OFFSET_MOVED);
  ASSERT_STR(r.remark, "OFFSET_TOO_SMALL");
  ASSERT_EQ(bt_ext_i64(&r, "nextBeginOffset"), 0);
  /* maxMsgNums 1 then the rest */
  ASSERT_OK(bt_pull(&C, "CG", "TopicPull", 0, 0, 1, SUB, 0, "*", &r, 5000));
  ASSERT_EQ(r.code, 0);
  ASSERT_EQ(count_records(&r, NULL), 1);
  ASSERT_EQ(bt_ext_i64(&r, "nextBeginOffset"), 1);
  /* a huge maxMsgNums is fine */
  ASSERT_OK(bt_pull(&C, "CG", "TopicPull", 0, 0, 2000000000, SUB, 0, "*", &r, 5000));
  ASSERT_EQ(r.code, 0);
  ASSERT_EQ(count_records(&r, NULL), 2);
}

TEST(pull_refusals) {
  tern_cmd_t r;
  char want[256];
  setup();
  ASSERT(up);
  ASSERT_EQ(send_tag(&C, "TopicPull", 0, "x"), 0);
  ASSERT_OK(bt_pull(&C, "CG", "TopicPull", 99, 0, 32, SUB, 0, "*", &r, 5000));
  ASSERT_EQ(r.code, TERN_RESP_SYSTEM_ERROR);
  snprintf(want, sizeof want, "queueId[99] is illegal, topic:[TopicPull] topicConfig.readQueueNums:[4] consumer:[/");
  ASSERT(r.remark.n > strlen(want) && memcmp(r.remark.p, want, strlen(want)) == 0);
  ASSERT_OK(bt_pull(&C, "CG", "TopicPull", -1, 0, 32, SUB, 0, "*", &r, 5000));
  ASSERT_EQ(r.code, TERN_RESP_SYSTEM_ERROR);
  ASSERT_OK(bt_pull(&C, "CG", "NoSuchTopic", 0, 0, 32, SUB, 0, "*", &r, 5000));
  ASSERT_EQ(r.code, TERN_RESP_TOPIC_NOT_EXIST);
  ASSERT_STR(r.remark, "topic[NoSuchTopic] not exist, apply first please! \nSee http://rocketmq.apache.org/docs/faq/ for "
                       "further details.");
  /* no subscription bit and no heartbeat from the group */
  ASSERT_OK(bt_pull(&C, "CG_NEVER_SEEN", "TopicPull", 0, 0, 32, 0, 0, NULL, &r, 5000));
  ASSERT_EQ(r.code, TERN_RESP_SUBSCRIPTION_NOT_EXIST);
  /* an expression of nothing but separators */
  ASSERT_OK(bt_pull(&C, "CG", "TopicPull", 0, 0, 32, SUB, 0, "||", &r, 5000));
  ASSERT_EQ(r.code, TERN_RESP_SUBSCRIPTION_PARSE_FAILED);
  ASSERT_STR(r.remark, "parse the consumer's subscription failed");
  /* SQL92 on a broker without enablePropertyFilter */
  {
    tern_hdr_pull_message_request_t h;
    memset(&h, 0, sizeof h);
    h.consumer_group = TERN_STR("CG");
    h.topic = TERN_STR("TopicPull");
    h.max_msg_nums = 32;
    h.sys_flag = SUB;
    h.subscription = TERN_STR("a > 1");
    h.expression_type = TERN_STR("SQL92");
    h.present = 0x3ff | TERN_HDR_PULL_MESSAGE_REQUEST_HAS_EXPRESSION_TYPE;
    ASSERT_OK(bt_pull_h(&C, &h, &r, 5000));
    ASSERT_EQ(r.code, TERN_RESP_SYSTEM_ERROR);
    ASSERT_STR(r.remark, "The broker does not support consumer to filter message by SQL92");
  }
  /* a header without its required fields */
  {
    tern_cmd_t req;
    tern_rpc_request_init(&req, TERN_REQ_PULL_MESSAGE, TERN_STR_NULL);
    ASSERT_OK(bt_call(&C, &req, &r, 5000));
    ASSERT_EQ(r.code, TERN_RESP_SYSTEM_ERROR);
  }
}

TEST(pull_tag_filter) {
  tern_cmd_t r;
  int64_t offs[8];
  setup();
  ASSERT(up);
  ASSERT_EQ(send_tag(&C, "TopicTags", 0, "tagA"), 0);
  ASSERT_EQ(send_tag(&C, "TopicTags", 0, "tagB"), 0);
  ASSERT_EQ(send_tag(&C, "TopicTags", 0, "tagA"), 0);
  ASSERT_OK(bt_pull(&C, "CG", "TopicTags", 0, 0, 32, SUB, 0, "tagA", &r, 5000));
  ASSERT_EQ(r.code, 0);
  ASSERT_EQ(count_records(&r, offs), 2);
  ASSERT_EQ(offs[0], 0);
  ASSERT_EQ(offs[1], 2);
  ASSERT_EQ(bt_ext_i64(&r, "nextBeginOffset"), 3);
  ASSERT_OK(bt_pull(&C, "CG", "TopicTags", 0, 0, 32, SUB, 0, " tagB || tagZ ", &r, 5000));
  ASSERT_EQ(r.code, 0);
  ASSERT_EQ(count_records(&r, offs), 1);
  ASSERT_EQ(offs[0], 1);
  ASSERT_OK(bt_pull(&C, "CG", "TopicTags", 0, 0, 32, SUB, 0, "tagC", &r, 5000));
  ASSERT_EQ(r.code, TERN_RESP_PULL_RETRY_IMMEDIATELY);
  ASSERT_STR(r.remark, "NO_MATCHED_MESSAGE");
  ASSERT_EQ(bt_ext_i64(&r, "nextBeginOffset"), 3);
  /* the class-filter bit turns broker-side filtering off */
  ASSERT_OK(bt_pull(&C, "CG", "TopicTags", 0, 0, 32, SUB | 0x8, 0, "tagC", &r, 5000));
  ASSERT_EQ(r.code, 0);
  ASSERT_EQ(count_records(&r, NULL), 3);
}

static int64_t query_offset(const char *group, const char *topic, int32_t qid, int32_t *code) {
  tern_cmd_t req, r;
  tern_arena_t a;
  tern_hdr_query_consumer_offset_request_t h;
  memset(&h, 0, sizeof h);
  tern_arena_init(&a, 0, NULL, 0);
  h.consumer_group = tern_str_from_cstr(group);
  h.topic = tern_str_from_cstr(topic);
  h.queue_id = qid;
  h.present = TERN_HDR_QUERY_CONSUMER_OFFSET_REQUEST_HAS_CONSUMER_GROUP | TERN_HDR_QUERY_CONSUMER_OFFSET_REQUEST_HAS_TOPIC |
              TERN_HDR_QUERY_CONSUMER_OFFSET_REQUEST_HAS_QUEUE_ID;
  tern_rpc_request_init(&req, TERN_REQ_QUERY_CONSUMER_OFFSET, TERN_STR_NULL);
  tern_hdr_query_consumer_offset_request_encode(&h, &req, &a);
  *code = -1;
  if (bt_call(&C, &req, &r, 5000) == 0) *code = r.code;
  tern_arena_free(&a);
  return bt_ext_i64(&r, "offset");
}

TEST(pull_commits_offset) {
  tern_cmd_t r;
  tern_hdr_pull_message_request_t h;
  int32_t code;
  setup();
  ASSERT(up);
  ASSERT_EQ(send_tag(&C, "TopicCommit", 2, "x"), 0);
  ASSERT_EQ(send_tag(&C, "TopicCommit", 2, "x"), 0);
  memset(&h, 0, sizeof h);
  h.consumer_group = TERN_STR("CG_COMMIT");
  h.topic = TERN_STR("TopicCommit");
  h.queue_id = 2;
  h.queue_offset = 1;
  h.max_msg_nums = 32;
  h.sys_flag = SUB | COMMIT;
  h.commit_offset = 1;
  h.subscription = TERN_STR("*");
  h.present = 0x3ff;
  ASSERT_OK(bt_pull_h(&C, &h, &r, 5000));
  ASSERT_EQ(r.code, 0);
  ASSERT_EQ(query_offset("CG_COMMIT", "TopicCommit", 2, &code), 1);
  ASSERT_EQ(code, 0);
  /* without the commit bit nothing is stored */
  h.sys_flag = SUB;
  h.commit_offset = 2;
  ASSERT_OK(bt_pull_h(&C, &h, &r, 5000));
  ASSERT_EQ(query_offset("CG_COMMIT", "TopicCommit", 2, &code), 1);
}

typedef struct poller {
  int port;
  const char *topic, *sub;
  int64_t offset, suspend;
  int32_t code;
  int nrec;
  double t_done;
} poller_t;

static void *poll_thread(void *arg) {
  poller_t *p = arg;
  bt_client_t c;
  tern_cmd_t r;
  p->code = -1;
  if (bt_open(&c, p->port) == 0) {
    if (bt_pull(&c, "CG_LP", p->topic, 0, p->offset, 32, SUB | SUSPEND, p->suspend, p->sub, &r, 30000) == 0) {
      p->code = r.code;
      p->nrec = r.code == 0 ? count_records(&r, NULL) : 0;
    }
    p->t_done = tern_fixture_now_ms();
    bt_close(&c);
  }
  return NULL;
}

TEST(long_poll_woken_by_send) {
  pthread_t th;
  poller_t p = {0};
  double t_send;
  setup();
  ASSERT(up);
  ASSERT_EQ(send_tag(&C, "TopicLP", 0, "tagA"), 0);
  p.port = B.port;
  p.topic = "TopicLP";
  p.sub = "tagA";
  p.offset = 1;
  p.suspend = 10000;
  ASSERT_OK(pthread_create(&th, NULL, poll_thread, &p));
  usleep(300000);
  ASSERT_EQ(p.code, -1); /* still held */
  /* a message the filter does not match leaves it parked */
  ASSERT_EQ(send_tag(&C, "TopicLP", 0, "tagB"), 0);
  usleep(200000);
  ASSERT_EQ(p.t_done, 0);
  t_send = tern_fixture_now_ms();
  ASSERT_EQ(send_tag(&C, "TopicLP", 0, "tagA"), 0);
  pthread_join(th, NULL);
  ASSERT_EQ(p.code, 0);
  ASSERT_EQ(p.nrec, 1); /* offset 1 is tagB (filtered), offset 2 tagA */
  fprintf(stderr, "  long poll answered %.2f ms after the send\n", p.t_done - t_send);
  ASSERT(p.t_done - t_send < 200);
}

TEST(long_poll_answered_at_deadline) {
  pthread_t th;
  poller_t p = {0};
  double t0;
  setup();
  ASSERT(up);
  p.port = B.port;
  p.topic = "TopicLP";
  p.sub = "*";
  p.offset = 3;
  p.suspend = 400;
  t0 = tern_fixture_now_ms();
  ASSERT_OK(pthread_create(&th, NULL, poll_thread, &p));
  pthread_join(th, NULL);
  ASSERT_EQ(p.code, TERN_RESP_PULL_NOT_FOUND);
  fprintf(stderr, "  suspend 400 ms answered after %.1f ms\n", p.t_done - t0);
  ASSERT(p.t_done - t0 >= 390 && p.t_done - t0 < 1200);
}

TEST(short_polling_when_long_polling_off) {
  tern_fixture_proc_t b2;
  pthread_t th;
  poller_t p = {0};
  bt_client_t c2;
  tern_cmd_t r;
  double t0;
  ASSERT_OK(tern_fixture_broker_start(&b2, NULL, 0, "longPollingEnable=false\nshortPollingTimeMills=250"));
  ASSERT_OK(bt_open(&c2, b2.port));
  ASSERT_OK(bt_send(&c2, TERN_REQ_SEND_MESSAGE_V2, "TopicSP", 0, TERN_STR("x"), TERN_STR_NULL, false, &r));
  ASSERT_EQ(r.code, 0);
  p.port = b2.port;
  p.topic = "TopicSP";
  p.sub = "*";
  p.offset = 1;
  p.suspend = 10000;
  t0 = tern_fixture_now_ms();
  ASSERT_OK(pthread_create(&th, NULL, poll_thread, &p));
  pthread_join(th, NULL);
  bt_close(&c2);
  ASSERT_EQ(p.code, TERN_RESP_PULL_NOT_FOUND);
  fprintf(stderr, "  short poll answered after %.1f ms\n", p.t_done - t0);
  ASSERT(p.t_done - t0 >= 240 && p.t_done - t0 < 2000);
  ASSERT_EQ(tern_fixture_stop(&b2, 0), 0);
}

TEST(suspended_pull_answered_at_shutdown) {
  pthread_t th;
  poller_t p = {0};
  double t0;
  setup();
  ASSERT(up);
  p.port = B.port;
  p.topic = "TopicLP";
  p.sub = "*";
  p.offset = 3;
  p.suspend = 20000;
  ASSERT_OK(pthread_create(&th, NULL, poll_thread, &p));
  usleep(300000);
  t0 = tern_fixture_now_ms();
  bt_close(&C);
  up = false;
  ASSERT_EQ(tern_fixture_stop(&B, 0), 0);
  pthread_join(th, NULL);
  ASSERT_EQ(p.code, TERN_RESP_PULL_NOT_FOUND);
  fprintf(stderr, "  shutdown with a suspended pull took %.1f ms\n", tern_fixture_now_ms() - t0);
  ASSERT(p.t_done - t0 < 3000);
}
