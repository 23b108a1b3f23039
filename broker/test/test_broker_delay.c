/* Delayed messages against the real mqbroker (messageDelayLevel "1s 2s"):
 * a send with DELAY=1 is parked in SCHEDULE_TOPIC_XXXX with REAL_TOPIC/REAL_QID,
 * is not visible in its topic before its time, wakes a long-polling consumer
 * about 1 s later with the properties 4.9.8 stores, a level past the last is
 * capped, delivery resumes from delayOffset.json after a restart, and a delayed
 * batch is refused. */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "bt.h"
#include "tern_test.h"

#define P(k, v) k "\x01" v "\x02"

static tern_fixture_proc_t B;
static bt_client_t C;
static bool up;

static void setup(void) {
  if (up) return;
  if (tern_fixture_broker_start(&B, NULL, 0, "messageDelayLevel=1s 2s") == 0 && bt_open(&C, B.port) == 0) up = true;
}

__attribute__((destructor)) static void teardown(void) {
  if (up) bt_close(&C);
  if (B.pid) tern_fixture_stop(&B, 0);
}

TEST(delayed_message_delivered_at_its_time) {
  tern_cmd_t r;
  tern_msg_record_t rec;
  double t_sent, t_got;
  const char props[] = P("TAGS", "d") P("DELAY", "1") P("UNIQ_KEY", "D1");
  const char want[] = P("TAGS", "d") P("DELAY", "1") P("UNIQ_KEY", "D1") P("CLUSTER", "DefaultCluster")
      P("REAL_TOPIC", "TopicDelay") P("REAL_QID", "2");
  setup();
  ASSERT(up);
  ASSERT_OK(bt_send(&C, TERN_REQ_SEND_MESSAGE_V2, "TopicDelay", 2, TERN_STR("later"), (tern_str_t){props, sizeof props - 1},
                    false, &r));
  t_sent = tern_fixture_now_ms();
  ASSERT_EQ(r.code, 0);
  ASSERT_EQ(bt_ext_i64(&r, "queueId"), 2);
  /* parked: in the schedule topic's queue 0, not yet in TopicDelay */
  ASSERT_OK(bt_pull(&C, "CG", "SCHEDULE_TOPIC_XXXX", 0, 0, 32, 0x4, 0, "*", &r, 5000));
  ASSERT_EQ(r.code, 0);
  ASSERT_OK(tern_msg_record_decode((const uint8_t *)r.body.p, r.body.n, &rec, NULL));
  ASSERT_EQ(rec.properties.n, sizeof want - 1);
  ASSERT_MEM_EQ(rec.properties.p, want, sizeof want - 1);
  ASSERT_OK(bt_pull(&C, "CG", "TopicDelay", 2, 0, 32, 0x4, 0, "*", &r, 5000));
  ASSERT_EQ(r.code, TERN_RESP_PULL_NOT_FOUND);
  /* a long poll is woken by the delivery */
  ASSERT_OK(bt_pull(&C, "CG", "TopicDelay", 2, 0, 32, 0x4 | 0x2, 5000, "*", &r, 10000));
  t_got = tern_fixture_now_ms();
  ASSERT_EQ(r.code, 0);
  fprintf(stderr, "  level 1 (1 s) delivered after %.0f ms\n", t_got - t_sent);
  ASSERT(t_got - t_sent >= 900 && t_got - t_sent < 2500);
  ASSERT_OK(tern_msg_record_decode((const uint8_t *)r.body.p, r.body.n, &rec, NULL));
  ASSERT_STR(rec.topic, "TopicDelay");
  ASSERT_EQ(rec.queue_id, 2);
  ASSERT_STR(rec.body, "later");
  ASSERT_MEM_EQ(rec.properties.p, want, sizeof want - 1);
}

TEST(level_past_the_last_is_capped_and_survives_restart) {
  tern_cmd_t r;
  char dir[128];
  setup();
  ASSERT(up);
  ASSERT_OK(bt_send(&C, TERN_REQ_SEND_MESSAGE_V2, "TopicDelay2", 0, TERN_STR("capped"), TERN_STR(P("DELAY", "18")), false,
                    &r));
  ASSERT_EQ(r.code, 0);
  /* level 18 > 2 levels: parked in queue 1 (level 2, 2 s) */
  ASSERT_OK(bt_pull(&C, "CG", "SCHEDULE_TOPIC_XXXX", 1, 0, 32, 0x4, 0, "*", &r, 5000));
  ASSERT_EQ(r.code, 0);
  /* restart before it is due: delivery continues from delayOffset.json */
  snprintf(dir, sizeof dir, "%s", B.dir);
  bt_close(&C);
  up = false;
  ASSERT_EQ(tern_fixture_stop(&B, 1), 0);
  ASSERT_OK(tern_fixture_broker_start(&B, dir, 0, "messageDelayLevel=1s 2s"));
  ASSERT_OK(bt_open(&C, B.port));
  up = true;
  ASSERT_OK(bt_pull(&C, "CG", "TopicDelay2", 0, 0, 32, 0x4 | 0x2, 5000, "*", &r, 10000));
  ASSERT_EQ(r.code, 0);
  /* the level-1 message of the first test was delivered once, not again after the restart */
  ASSERT_OK(bt_pull(&C, "CG", "TopicDelay", 2, 0, 32, 0x4, 0, "*", &r, 5000));
  ASSERT_EQ(r.code, 0);
  ASSERT_EQ(bt_ext_i64(&r, "maxOffset"), 1);
}

TEST(delayed_batch_refused) {
  tern_cmd_t r;
  tern_buf_t batch;
  setup();
  ASSERT(up);
  tern_buf_init(&batch, 0);
  tern_batch_entry_encode(&batch, 0, TERN_STR("b"), TERN_STR_NULL);
  ASSERT_OK(bt_send(&C, TERN_REQ_SEND_BATCH_MESSAGE, "TopicDelay", 0, (tern_str_t){(char *)batch.p, batch.len},
                    TERN_STR(P("DELAY", "1")), true, &r));
  tern_buf_free(&batch);
  ASSERT_EQ(r.code, TERN_RESP_MESSAGE_ILLEGAL);
  bt_close(&C);
  up = false;
  ASSERT_EQ(tern_fixture_stop(&B, 0), 0);
}
