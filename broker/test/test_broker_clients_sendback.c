/* CONSUMER_SEND_MSG_BACK (reference §5.11, §8.5) against the real binaries:
 * a failed message goes to %RETRY%<group> with reconsumeTimes + 1 and the
 * RETRY_TOPIC / ORIGIN_MESSAGE_ID / DELAY / WAIT properties; a second retry
 * keeps RETRY_TOPIC and ORIGIN_MESSAGE_ID; reconsumeTimes at the max (or
 * delayLevel -1) sends it to %DLQ%<group>; a bad offset and an unknown group
 * (autoCreateSubscriptionGroup=false) get RocketMQ's error codes. */
#include "test_broker_clients_env.h"

#include "gen/message.h"

static env_t E;
static bool started;

static bool up(void) {
  if (started) return true;
  if (env_start(&E, "autoCreateSubscriptionGroup=false\n"
                    "messageDelayLevel=1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s\n")) {
    fprintf(stderr, "could not start mqnamesrv/mqbroker\n");
    return false;
  }
  started = true;
  return true;
}

static int create_topic(cli_t *c, const char *topic) {
  tern_hdr_create_topic_request_t h;
  tern_cmd_t r;
  memset(&h, 0, sizeof h);
  h.topic = tern_str_from_cstr(topic);
  h.default_topic = TERN_STR("TBW102");
  h.read_queue_nums = h.write_queue_nums = 1;
  h.perm = 6;
  h.topic_filter_type = TERN_STR("SINGLE_TAG");
  h.present = TERN_HDR_CREATE_TOPIC_REQUEST_HAS_TOPIC | TERN_HDR_CREATE_TOPIC_REQUEST_HAS_DEFAULT_TOPIC |
              TERN_HDR_CREATE_TOPIC_REQUEST_HAS_READ_QUEUE_NUMS | TERN_HDR_CREATE_TOPIC_REQUEST_HAS_WRITE_QUEUE_NUMS |
              TERN_HDR_CREATE_TOPIC_REQUEST_HAS_PERM | TERN_HDR_CREATE_TOPIC_REQUEST_HAS_TOPIC_FILTER_TYPE;
  int rc = CALL(c, &r, tern_call_update_and_create_topic(conn, &h, TERN_STR_NULL, 3000, cli_on_resp, &w));
  return rc ? rc : (r.code == TERN_RESP_SUCCESS ? 0 : -1);
}

static int create_group(cli_t *c, const char *json) {
  tern_cmd_t r;
  int rc = CALL(c, &r, tern_call_update_and_create_subscriptiongroup(conn, tern_str_from_cstr(json), 3000, cli_on_resp, &w));
  return rc ? rc : (r.code == TERN_RESP_SUCCESS ? 0 : -1);
}

/* Sends one message; its offset msgId into msgid (room for 64). */
static int send_one(cli_t *c, const char *topic, char *msgid) {
  tern_cmd_t r;
  char now[32];
  const tern_str_t *id;
  snprintf(now, sizeof now, "%lld", (long long)time(NULL) * 1000);
  const char *kv[] = {"a", "pg_sb", "b", topic, "c", "TBW102", "d", "4", "e", "0", "f", "0", "g", now, "h", "7",
                      "i", "TAGS\001TagX\002KEYS\001order-1\002UNIQ_KEY\001AABBCC\002", NULL};
  if (cli_raw(c, TERN_REQ_SEND_MESSAGE_V2, kv, TERN_STR("payload"), &r) || r.code != TERN_RESP_SUCCESS) return -1;
  id = tern_cmd_ext_get(&r, "msgId");
  if (!id || id->n > 60) return -1;
  memcpy(msgid, id->p, id->n);
  msgid[id->n] = '\0';
  return 0;
}

static int send_back(cli_t *c, const char *group, int64_t offset, int delay, int max_times, tern_cmd_t *r) {
  tern_hdr_consumer_send_msg_back_request_t h;
  memset(&h, 0, sizeof h);
  h.present = TERN_HDR_CONSUMER_SEND_MSG_BACK_REQUEST_HAS_OFFSET | TERN_HDR_CONSUMER_SEND_MSG_BACK_REQUEST_HAS_GROUP |
              TERN_HDR_CONSUMER_SEND_MSG_BACK_REQUEST_HAS_DELAY_LEVEL;
  h.offset = offset;
  h.group = tern_str_from_cstr(group);
  h.delay_level = delay;
  if (max_times >= 0) {
    h.present |= TERN_HDR_CONSUMER_SEND_MSG_BACK_REQUEST_HAS_MAX_RECONSUME_TIMES;
    h.max_reconsume_times = max_times;
  }
  return CALL(c, r, tern_call_consumer_send_msg_back(conn, &h, TERN_STR_NULL, 3000, cli_on_resp, &w));
}

/* Pulls queue 0 of topic at offset (subscription "*" in the request),
 * long-polling up to 4 s so a delayed retry (every level is 1 s here) has
 * time to leave SCHEDULE_TOPIC_XXXX, and decodes the first record. */
static int pull_first(cli_t *c, const char *group, const char *topic, int64_t offset, tern_msg_record_t *rec) {
  tern_hdr_pull_message_request_t h;
  tern_cmd_t r;
  tern_err_t err = {0};
  int rc;
  memset(&h, 0, sizeof h);
  h.present = TERN_HDR_PULL_MESSAGE_REQUEST_HAS_CONSUMER_GROUP | TERN_HDR_PULL_MESSAGE_REQUEST_HAS_TOPIC |
              TERN_HDR_PULL_MESSAGE_REQUEST_HAS_QUEUE_ID | TERN_HDR_PULL_MESSAGE_REQUEST_HAS_QUEUE_OFFSET |
              TERN_HDR_PULL_MESSAGE_REQUEST_HAS_MAX_MSG_NUMS | TERN_HDR_PULL_MESSAGE_REQUEST_HAS_SYS_FLAG |
              TERN_HDR_PULL_MESSAGE_REQUEST_HAS_COMMIT_OFFSET | TERN_HDR_PULL_MESSAGE_REQUEST_HAS_SUSPEND_TIMEOUT_MILLIS |
              TERN_HDR_PULL_MESSAGE_REQUEST_HAS_SUBSCRIPTION | TERN_HDR_PULL_MESSAGE_REQUEST_HAS_SUB_VERSION;
  h.consumer_group = tern_str_from_cstr(group);
  h.topic = tern_str_from_cstr(topic);
  h.queue_offset = offset;
  h.max_msg_nums = 1;
  h.sys_flag = TERN_HDR_PULL_MESSAGE_REQUEST_SYS_FLAG_SUBSCRIPTION | TERN_HDR_PULL_MESSAGE_REQUEST_SYS_FLAG_SUSPEND;
  h.suspend_timeout_millis = 4000;
  h.subscription = TERN_STR("*");
  rc = CALL(c, &r, tern_call_pull_message(conn, &h, TERN_STR_NULL, 6000, cli_on_resp, &w));
  if (rc) return rc;
  if (r.code != TERN_RESP_SUCCESS) {
    fprintf(stderr, "pull %s@%lld: code %d\n", topic, (long long)offset, r.code);
    return -1;
  }
  return tern_msg_record_decode((const uint8_t *)r.body.p, r.body.n, rec, &err);
}

static bool prop_is(const tern_msg_record_t *rec, const char *key, const char *val) {
  tern_str_t v;
  return tern_props_get(rec->properties, key, &v) == 0 && tern_str_eq_cstr(v, val);
}

TEST(send_back_to_retry_then_dlq) {
  cli_t a;
  tern_cmd_t r;
  tern_msg_record_t rec;
  tern_host_t host;
  tern_err_t err = {0};
  char msgid[64], retry_id[64];
  int64_t phys, phys2;
  tern_str_t v;
  ASSERT(up());
  ASSERT_OK(cli_open(&a, E.br_addr));
  ASSERT_OK(create_topic(&a, "TopicSB"));
  ASSERT_OK(create_group(&a, "{\"groupName\":\"cg_sb\",\"retryMaxTimes\":2}"));
  ASSERT_OK(send_one(&a, "TopicSB", msgid));
  ASSERT_OK(tern_msgid_decode(tern_str_from_cstr(msgid), &host, &phys, &err));

  /* First failure: %RETRY%cg_sb, reconsumeTimes 1, DELAY 3 (= 3 + 0). */
  ASSERT_OK(send_back(&a, "cg_sb", phys, 0, -1, &r));
  ASSERT_EQ(r.code, TERN_RESP_SUCCESS);
  ASSERT_OK(pull_first(&a, "cg_sb", "%RETRY%cg_sb", 0, &rec));
  ASSERT(tern_str_eq_cstr(rec.topic, "%RETRY%cg_sb"));
  ASSERT_EQ(rec.reconsume_times, 1);
  ASSERT_EQ(rec.flag, 7);
  ASSERT(tern_str_eq_cstr(rec.body, "payload"));
  ASSERT(prop_is(&rec, "RETRY_TOPIC", "TopicSB"));
  ASSERT(prop_is(&rec, "ORIGIN_MESSAGE_ID", msgid));
  ASSERT(prop_is(&rec, "DELAY", "3"));
  ASSERT(prop_is(&rec, "WAIT", "false"));
  ASSERT(prop_is(&rec, "TAGS", "TagX"));
  ASSERT(prop_is(&rec, "KEYS", "order-1"));
  ASSERT(prop_is(&rec, "UNIQ_KEY", "AABBCC"));
  snprintf(retry_id, sizeof retry_id, "%s", "");
  {
    char buf[TERN_MSGID_HEX_V6 + 1];
    tern_msgid_encode(&rec.store_host, rec.physical_offset, buf);
    snprintf(retry_id, sizeof retry_id, "%s", buf);
  }
  phys2 = rec.physical_offset;

  /* Second failure of the retried copy, explicit level 5: RETRY_TOPIC and
   * ORIGIN_MESSAGE_ID stay those of the first delivery. */
  ASSERT_OK(send_back(&a, "cg_sb", phys2, 5, -1, &r));
  ASSERT_EQ(r.code, TERN_RESP_SUCCESS);
  ASSERT_OK(pull_first(&a, "cg_sb", "%RETRY%cg_sb", 1, &rec));
  ASSERT_EQ(rec.reconsume_times, 2);
  ASSERT(prop_is(&rec, "RETRY_TOPIC", "TopicSB"));
  ASSERT(prop_is(&rec, "ORIGIN_MESSAGE_ID", msgid));
  ASSERT(prop_is(&rec, "DELAY", "5"));
  ASSERT(tern_props_get(rec.properties, "ORIGIN_MESSAGE_ID", &v) == 0 && !tern_str_eq_cstr(v, retry_id));

  /* Third failure: reconsumeTimes 2 >= retryMaxTimes 2 (old client, no
   * maxReconsumeTimes header): %DLQ%cg_sb with DELAY 0. */
  ASSERT_OK(send_back(&a, "cg_sb", rec.physical_offset, 0, -1, &r));
  ASSERT_EQ(r.code, TERN_RESP_SUCCESS);
  ASSERT_OK(pull_first(&a, "cg_sb", "%DLQ%cg_sb", 0, &rec));
  ASSERT(tern_str_eq_cstr(rec.topic, "%DLQ%cg_sb"));
  ASSERT_EQ(rec.reconsume_times, 3);
  ASSERT(prop_is(&rec, "DELAY", "0"));
  ASSERT(prop_is(&rec, "ORIGIN_MESSAGE_ID", msgid));

  /* delayLevel -1 goes straight to the DLQ; the client's maxReconsumeTimes wins over the group's. */
  ASSERT_OK(send_back(&a, "cg_sb", phys, -1, -1, &r));
  ASSERT_EQ(r.code, TERN_RESP_SUCCESS);
  ASSERT_OK(pull_first(&a, "cg_sb", "%DLQ%cg_sb", 1, &rec));
  ASSERT_EQ(rec.reconsume_times, 1);
  ASSERT_OK(send_back(&a, "cg_sb", phys2, 0, 16, &r)); /* reconsumeTimes 1 < 16: retry, not DLQ */
  ASSERT_EQ(r.code, TERN_RESP_SUCCESS);
  ASSERT_OK(pull_first(&a, "cg_sb", "%RETRY%cg_sb", 2, &rec));
  ASSERT_EQ(rec.reconsume_times, 2);
  ASSERT(prop_is(&rec, "DELAY", "4"));

  /* The retry and DLQ topics exist (and reached the name server's table). */
  ASSERT_OK(CALL(&a, &r, tern_call_get_all_topic_config(conn, NULL, TERN_STR_NULL, 3000, cli_on_resp, &w)));
  ASSERT(memmem(r.body.p, r.body.n, "\"%DLQ%cg_sb\"", 12) != NULL);
  cli_close(&a);
}

TEST(send_back_errors) {
  cli_t a;
  tern_cmd_t r;
  char msgid[64];
  tern_host_t host;
  tern_err_t err = {0};
  int64_t phys;
  ASSERT(up());
  ASSERT_OK(cli_open(&a, E.br_addr));
  ASSERT_OK(create_topic(&a, "TopicSB2"));
  ASSERT_OK(create_group(&a, "{\"groupName\":\"cg_sb2\"}"));
  ASSERT_OK(send_one(&a, "TopicSB2", msgid));
  ASSERT_OK(tern_msgid_decode(tern_str_from_cstr(msgid), &host, &phys, &err));
  /* No such group (auto-creation off). */
  ASSERT_OK(send_back(&a, "cg_unknown", phys, 0, -1, &r));
  ASSERT_EQ(r.code, TERN_RESP_SUBSCRIPTION_GROUP_NOT_EXIST);
  /* No record at that offset. */
  ASSERT_OK(send_back(&a, "cg_sb2", phys + 1000000000LL, 0, -1, &r));
  ASSERT_EQ(r.code, TERN_RESP_SYSTEM_ERROR);
  ASSERT(r.has_remark && tern_str_eq_cstr(r.remark, "look message by offset failed, 1000000000") == (phys == 0));
  ASSERT_OK(send_back(&a, "cg_sb2", -5, 0, -1, &r));
  ASSERT_EQ(r.code, TERN_RESP_SYSTEM_ERROR);
  /* An offset inside a record (not at its start) is refused, not misread. */
  ASSERT_OK(send_back(&a, "cg_sb2", phys + 3, 0, -1, &r));
  ASSERT_EQ(r.code, TERN_RESP_SYSTEM_ERROR);
  /* Missing required header field. */
  {
    const char *kv[] = {"group", "cg_sb2", NULL};
    ASSERT_OK(cli_raw(&a, TERN_REQ_CONSUMER_SEND_MSG_BACK, kv, TERN_STR_NULL, &r));
    ASSERT_EQ(r.code, TERN_RESP_SYSTEM_ERROR);
  }
  cli_close(&a);
}

TEST(zz_stop) {
  if (started) env_stop(&E);
  started = false;
}
