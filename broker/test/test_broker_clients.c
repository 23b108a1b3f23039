/* Protocol tests of the broker's client management against the real mqnamesrv
 * and mqbroker binaries (reference §5.10, §5.13): HEART_BEAT in Java, cpp and
 * ali-ons shapes, GET_CONSUMER_LIST_BY_GROUP, GET_CONSUMER/PRODUCER_CONNECTION_LIST,
 * UNREGISTER_CLIENT, NOTIFY_CONSUMER_IDS_CHANGED on join / subscription change /
 * unregister / close / expiry, CHECK_CLIENT_CONFIG, retry topic and
 * subscription-group auto-creation (persisted), LOCK_BATCH_MQ / UNLOCK_BATCH_MQ
 * with a short lease, and error codes for bad input. */
#include "test_broker_clients_env.h"

#define SHORT_TIMES \
  "channelExpiredTimeoutMills=1500\nclientScanIntervalMills=200\nrebalanceLockMaxLiveTime=1000\n"

static env_t E;
static bool started;

static bool up(void) {
  if (started) return true;
  if (env_start(&E, SHORT_TIMES)) {
    fprintf(stderr, "could not start mqnamesrv/mqbroker\n");
    return false;
  }
  started = true;
  return true;
}

static bool body_has(const tern_cmd_t *r, const char *needle) {
  return r->body.n && memmem(r->body.p, r->body.n, needle, strlen(needle)) != NULL;
}

static bool remark_is(const tern_cmd_t *r, const char *s) { return r->has_remark && tern_str_eq_cstr(r->remark, s); }

static int consumer_list(cli_t *c, const char *group, tern_cmd_t *resp, tern_body_get_consumer_list_by_group_response_body_t *out) {
  tern_hdr_get_consumer_list_by_group_request_t h;
  tern_err_t err = {0};
  int rc;
  memset(&h, 0, sizeof h);
  h.present = TERN_HDR_GET_CONSUMER_LIST_BY_GROUP_REQUEST_HAS_CONSUMER_GROUP;
  h.consumer_group = tern_str_from_cstr(group);
  rc = CALL(c, resp, tern_call_get_consumer_list_by_group(conn, &h, TERN_STR_NULL, 3000, cli_on_resp, &w));
  if (rc || resp->code != TERN_RESP_SUCCESS || !out) return rc;
  return tern_body_get_consumer_list_by_group_response_body_decode(resp->body, &c->arena, out, &err);
}

TEST(heartbeat_registers_consumer_and_lists_it) {
  cli_t a;
  tern_cmd_t r;
  tern_body_get_consumer_list_by_group_response_body_t list;
  char body[2048];
  ASSERT(up());
  ASSERT_OK(cli_open(&a, E.br_addr));
  hb_body(body, sizeof body, "127.0.0.1@a1", "cg_list", "TopicTest", "TagA || TagB", "pg_list");
  ASSERT_OK(cli_heartbeat(&a, body, &r));
  ASSERT_EQ(r.code, TERN_RESP_SUCCESS);
  ASSERT(r.version >= 232); /* Java clients refuse SQL92 pulls from brokers reporting less */
  ASSERT_OK(consumer_list(&a, "cg_list", &r, &list));
  ASSERT_EQ(r.code, TERN_RESP_SUCCESS);
  ASSERT_EQ(list.consumer_id_list.n, 1);
  ASSERT(tern_str_eq_cstr(list.consumer_id_list.v[0], "127.0.0.1@a1"));
  /* Unknown group: SYSTEM_ERROR with RocketMQ's remark. */
  ASSERT_OK(consumer_list(&a, "cg_nobody", &r, NULL));
  ASSERT_EQ(r.code, TERN_RESP_SYSTEM_ERROR);
  ASSERT(remark_is(&r, "no consumer for this group, cg_nobody"));
  cli_close(&a);
}

TEST(heartbeat_shapes_cpp_and_ali_ons) {
  cli_t a;
  tern_cmd_t r;
  tern_hdr_get_consumer_connection_list_request_t h;
  tern_body_consumer_connection_t cc;
  tern_err_t err = {0};
  /* rocketmq-client-cpp: ordinals, string subVersion, no expressionType. */
  const char *cpp =
      "{\"clientID\":\"10.0.0.9@cpp\",\"consumerDataSet\":[{\"consumeFromWhere\":4,\"consumeType\":1,\"groupName\":\"cg_cpp\","
      "\"messageModel\":1,\"subscriptionDataSet\":[{\"codeSet\":[2598919],\"subString\":\"TagA\",\"subVersion\":\"1700000000123\","
      "\"tagsSet\":[\"TagA\"],\"topic\":\"TopicCpp\"}]}],\"producerDataSet\":[]}";
  /* ali-ons 3.12: names as strings, numeric subVersion, no expressionType / classFilterMode. */
  const char *ali =
      "{\"clientID\":\"10.0.0.8@ali\",\"consumerDataSet\":[{\"groupName\":\"cg_ali\",\"consumeType\":\"CONSUME_PASSIVELY\","
      "\"messageModel\":\"BROADCASTING\",\"consumeFromWhere\":\"CONSUME_FROM_LAST_OFFSET\",\"subscriptionDataSet\":[{\"topic\":"
      "\"TopicAli\",\"subString\":\"*\",\"classFilterMode\":false,\"tagsSet\":[],\"codeSet\":[],\"subVersion\":1700000000999}],"
      "\"unitMode\":false}],\"producerDataSet\":[{\"groupName\":\"pg_ali\"}]}";
  ASSERT(up());
  ASSERT_OK(cli_open(&a, E.br_addr));
  ASSERT_OK(cli_heartbeat(&a, cpp, &r));
  ASSERT_EQ(r.code, TERN_RESP_SUCCESS);
  ASSERT_OK(cli_heartbeat(&a, ali, &r));
  ASSERT_EQ(r.code, TERN_RESP_SUCCESS);

  memset(&h, 0, sizeof h);
  h.present = TERN_HDR_GET_CONSUMER_CONNECTION_LIST_REQUEST_HAS_CONSUMER_GROUP;
  h.consumer_group = TERN_STR("cg_cpp");
  ASSERT_OK(CALL(&a, &r, tern_call_get_consumer_connection_list(conn, &h, TERN_STR_NULL, 3000, cli_on_resp, &w)));
  ASSERT_EQ(r.code, TERN_RESP_SUCCESS);
  ASSERT_OK(tern_body_consumer_connection_decode(r.body, &a.arena, &cc, &err));
  ASSERT_EQ(cc.consume_type, TERN_BODY_CONSUME_TYPE_CONSUME_PASSIVELY);
  ASSERT_EQ(cc.message_model, TERN_BODY_MESSAGE_MODEL_CLUSTERING);
  ASSERT_EQ(cc.consume_from_where, TERN_BODY_CONSUME_FROM_WHERE_CONSUME_FROM_FIRST_OFFSET);
  ASSERT_EQ(cc.connection_set.n, 1);
  ASSERT(tern_str_eq_cstr(cc.connection_set.v[0].client_id, "10.0.0.9@cpp"));
  ASSERT_EQ(cc.connection_set.v[0].language, TERN_BODY_LANGUAGE_CODE_JAVA); /* the stubs send language JAVA */
  ASSERT_EQ(cc.connection_set.v[0].version, TERN_RPC_VERSION);
  ASSERT_EQ(cc.subscription_table.n, 1);
  ASSERT(tern_str_eq_cstr(cc.subscription_table.v[0].key, "TopicCpp"));
  ASSERT_EQ(cc.subscription_table.v[0].val.sub_version, 1700000000123LL);
  ASSERT_EQ(cc.subscription_table.v[0].val.code_set.n, 1);
  ASSERT_EQ(cc.subscription_table.v[0].val.code_set.v[0], 2598919);

  h.consumer_group = TERN_STR("cg_ali");
  ASSERT_OK(CALL(&a, &r, tern_call_get_consumer_connection_list(conn, &h, TERN_STR_NULL, 3000, cli_on_resp, &w)));
  ASSERT_EQ(r.code, TERN_RESP_SUCCESS);
  ASSERT_OK(tern_body_consumer_connection_decode(r.body, &a.arena, &cc, &err));
  ASSERT_EQ(cc.message_model, TERN_BODY_MESSAGE_MODEL_BROADCASTING);
  ASSERT_EQ(cc.subscription_table.n, 1);
  ASSERT(tern_str_eq_cstr(cc.subscription_table.v[0].key, "TopicAli"));

  /* Not online: CONSUMER_NOT_ONLINE. */
  h.consumer_group = TERN_STR("cg_never");
  ASSERT_OK(CALL(&a, &r, tern_call_get_consumer_connection_list(conn, &h, TERN_STR_NULL, 3000, cli_on_resp, &w)));
  ASSERT_EQ(r.code, TERN_RESP_CONSUMER_NOT_ONLINE);
  ASSERT(remark_is(&r, "the consumer group[cg_never] not online"));
  cli_close(&a);
}

TEST(producer_connection_list) {
  cli_t a;
  tern_cmd_t r;
  tern_hdr_get_producer_connection_list_request_t h;
  tern_hdr_unregister_client_request_t u;
  tern_body_producer_connection_t pc;
  tern_err_t err = {0};
  char body[1024];
  ASSERT(up());
  ASSERT_OK(cli_open(&a, E.br_addr));
  hb_body(body, sizeof body, "127.0.0.1@p1", NULL, NULL, NULL, "pg_conn");
  ASSERT_OK(cli_heartbeat(&a, body, &r));
  ASSERT_EQ(r.code, TERN_RESP_SUCCESS);
  memset(&h, 0, sizeof h);
  h.present = TERN_HDR_GET_PRODUCER_CONNECTION_LIST_REQUEST_HAS_PRODUCER_GROUP;
  h.producer_group = TERN_STR("pg_conn");
  ASSERT_OK(CALL(&a, &r, tern_call_get_producer_connection_list(conn, &h, TERN_STR_NULL, 3000, cli_on_resp, &w)));
  ASSERT_EQ(r.code, TERN_RESP_SUCCESS);
  ASSERT_OK(tern_body_producer_connection_decode(r.body, &a.arena, &pc, &err));
  ASSERT_EQ(pc.connection_set.n, 1);
  ASSERT(tern_str_eq_cstr(pc.connection_set.v[0].client_id, "127.0.0.1@p1"));
  ASSERT(pc.connection_set.v[0].client_addr.n > 10);
  /* UNREGISTER_CLIENT of the producer group: gone. */
  memset(&u, 0, sizeof u);
  u.present = TERN_HDR_UNREGISTER_CLIENT_REQUEST_HAS_CLIENT_ID | TERN_HDR_UNREGISTER_CLIENT_REQUEST_HAS_PRODUCER_GROUP;
  u.client_id = TERN_STR("127.0.0.1@p1");
  u.producer_group = TERN_STR("pg_conn");
  ASSERT_OK(CALL(&a, &r, tern_call_unregister_client(conn, &u, TERN_STR_NULL, 3000, cli_on_resp, &w)));
  ASSERT_EQ(r.code, TERN_RESP_SUCCESS);
  ASSERT_OK(CALL(&a, &r, tern_call_get_producer_connection_list(conn, &h, TERN_STR_NULL, 3000, cli_on_resp, &w)));
  ASSERT_EQ(r.code, TERN_RESP_SYSTEM_ERROR);
  ASSERT(remark_is(&r, "the producer group[pg_conn] not exist"));
  cli_close(&a);
}

TEST(notify_consumer_ids_changed_on_join_change_leave_close_expiry) {
  cli_t a, b, c;
  tern_cmd_t r;
  tern_body_get_consumer_list_by_group_response_body_t list;
  tern_hdr_unregister_client_request_t u;
  char body_a[2048], body_a2[2048], body_b[2048];
  int before;
  ASSERT(up());
  ASSERT_OK(cli_open(&a, E.br_addr));
  ASSERT_OK(cli_open(&b, E.br_addr));
  hb_body(body_a, sizeof body_a, "127.0.0.1@na", "cg_notify", "TopicN", "*", NULL);
  hb_body(body_b, sizeof body_b, "127.0.0.1@nb", "cg_notify", "TopicN", "*", NULL);
  ASSERT_OK(cli_heartbeat(&a, body_a, &r));
  ASSERT_EQ(r.code, TERN_RESP_SUCCESS);
  cli_pump(&a, 100);
  before = cli_count_seen(&a, 40, "cg_notify"); /* its own join notifies itself (Java does too) */
  ASSERT_EQ(before, 1);

  /* Same heartbeat again: nothing changed, no notification. */
  ASSERT_OK(cli_heartbeat(&a, body_a, &r));
  cli_pump(&a, 150);
  ASSERT_EQ(cli_count_seen(&a, 40, "cg_notify"), before);

  /* A second member joins: the first is told, oneway (flag 2). */
  ASSERT_OK(cli_heartbeat(&b, body_b, &r));
  ASSERT_EQ(r.code, TERN_RESP_SUCCESS);
  cli_pump(&a, 300);
  ASSERT_EQ(cli_count_seen(&a, 40, "cg_notify"), before + 1);
  ASSERT_EQ(a.seen_flag[a.n_seen - 1], TERN_FLAG_ONEWAY);
  ASSERT_OK(consumer_list(&a, "cg_notify", &r, &list));
  ASSERT_EQ(list.consumer_id_list.n, 2);

  /* A subscription change (a new topic) notifies too. */
  hb_body(body_a2, sizeof body_a2, "127.0.0.1@na", "cg_notify", "TopicN2", "*", NULL);
  ASSERT_OK(cli_heartbeat(&a, body_a2, &r));
  cli_pump(&a, 300);
  ASSERT_EQ(cli_count_seen(&a, 40, "cg_notify"), before + 2);

  /* The second leaves by UNREGISTER_CLIENT. */
  ASSERT_OK(cli_heartbeat(&a, body_a2, &r));
  memset(&u, 0, sizeof u);
  u.present = TERN_HDR_UNREGISTER_CLIENT_REQUEST_HAS_CLIENT_ID | TERN_HDR_UNREGISTER_CLIENT_REQUEST_HAS_CONSUMER_GROUP;
  u.client_id = TERN_STR("127.0.0.1@nb");
  u.consumer_group = TERN_STR("cg_notify");
  ASSERT_OK(CALL(&b, &r, tern_call_unregister_client(conn, &u, TERN_STR_NULL, 3000, cli_on_resp, &w)));
  ASSERT_EQ(r.code, TERN_RESP_SUCCESS);
  cli_pump(&a, 300);
  ASSERT_EQ(cli_count_seen(&a, 40, "cg_notify"), before + 3);
  ASSERT_OK(consumer_list(&a, "cg_notify", &r, &list));
  ASSERT_EQ(list.consumer_id_list.n, 1);

  /* It joins again (same subscriptions as the first now has) and then closes
   * its connection. The first refreshes its heartbeat (no change, no notice). */
  ASSERT_OK(cli_heartbeat(&a, body_a2, &r));
  hb_body(body_b, sizeof body_b, "127.0.0.1@nb", "cg_notify", "TopicN2", "*", NULL);
  ASSERT_OK(cli_heartbeat(&b, body_b, &r));
  cli_pump(&a, 300);
  ASSERT_EQ(cli_count_seen(&a, 40, "cg_notify"), before + 4);
  cli_close(&b);
  cli_pump(&a, 400);
  ASSERT_EQ(cli_count_seen(&a, 40, "cg_notify"), before + 5);
  ASSERT_OK(consumer_list(&a, "cg_notify", &r, &list));
  ASSERT_EQ(list.consumer_id_list.n, 1);

  /* A third joins and goes silent: expired after 1.5 s (scan every 200 ms),
   * its connection closed, the first told. The first keeps heartbeating. */
  ASSERT_OK(cli_heartbeat(&a, body_a2, &r));
  ASSERT_OK(cli_open(&c, E.br_addr));
  hb_body(body_b, sizeof body_b, "127.0.0.1@nc", "cg_notify", "TopicN2", "*", NULL);
  ASSERT_OK(cli_heartbeat(&c, body_b, &r));
  cli_pump(&a, 300);
  ASSERT_EQ(cli_count_seen(&a, 40, "cg_notify"), before + 6);
  for (int i = 0; i < 8; i++) {
    ASSERT_OK(cli_heartbeat(&a, body_a2, &r));
    cli_pump(&a, 400);
    cli_pump(&c, 1);
  }
  ASSERT_EQ(cli_count_seen(&a, 40, "cg_notify"), before + 7);
  ASSERT(c.closed); /* the broker closed the expired channel */
  ASSERT_OK(consumer_list(&a, "cg_notify", &r, &list));
  ASSERT_EQ(list.consumer_id_list.n, 1);
  ASSERT(tern_str_eq_cstr(list.consumer_id_list.v[0], "127.0.0.1@na"));
  cli_close(&c);
  cli_close(&a);
}

TEST(retry_topic_and_subscription_group_created_and_persisted) {
  cli_t a;
  tern_cmd_t r;
  char body[2048], path[256];
  FILE *f;
  char file[65536];
  size_t n;
  ASSERT(up());
  ASSERT_OK(cli_open(&a, E.br_addr));
  hb_body(body, sizeof body, "127.0.0.1@rt", "cg_retry_auto", "TopicR", "*", NULL);
  ASSERT_OK(cli_heartbeat(&a, body, &r));
  ASSERT_EQ(r.code, TERN_RESP_SUCCESS);
  ASSERT_OK(CALL(&a, &r, tern_call_get_all_topic_config(conn, NULL, TERN_STR_NULL, 3000, cli_on_resp, &w)));
  ASSERT_EQ(r.code, TERN_RESP_SUCCESS);
  ASSERT(body_has(&r, "\"%RETRY%cg_retry_auto\""));
  ASSERT_OK(CALL(&a, &r, tern_call_get_all_subscriptiongroup_config(conn, NULL, TERN_STR_NULL, 3000, cli_on_resp, &w)));
  ASSERT_EQ(r.code, TERN_RESP_SUCCESS);
  ASSERT(body_has(&r, "\"cg_retry_auto\""));
  ASSERT(body_has(&r, "\"TOOLS_CONSUMER\""));
  snprintf(path, sizeof path, "%s/store/config/subscriptionGroup.json", E.dir);
  f = fopen(path, "r");
  ASSERT(f != NULL);
  n = fread(file, 1, sizeof file - 1, f);
  fclose(f);
  file[n] = '\0';
  ASSERT(strstr(file, "\"cg_retry_auto\"") != NULL);
  /* The retry topic reaches the name server. */
  {
    cli_t ns;
    tern_hdr_get_route_info_request_t h;
    bool ok = false;
    ASSERT_OK(cli_open(&ns, E.ns_addr));
    memset(&h, 0, sizeof h);
    h.present = TERN_HDR_GET_ROUTE_INFO_REQUEST_HAS_TOPIC;
    h.topic = TERN_STR("%RETRY%cg_retry_auto");
    for (int i = 0; i < 50 && !ok; i++) {
      ASSERT_OK(CALL(&ns, &r, tern_call_get_routeinfo_by_topic(conn, &h, TERN_STR_NULL, 3000, cli_on_resp, &w)));
      ok = r.code == TERN_RESP_SUCCESS;
      if (!ok) usleep(100000);
    }
    ASSERT(ok);
    cli_close(&ns);
  }
  cli_close(&a);
}

TEST(check_client_config_tag_ok_sql92_refused) {
  cli_t a;
  tern_cmd_t r;
  const char *tag = "{\"clientId\":\"x@1\",\"group\":\"cg_check\",\"subscriptionData\":{\"classFilterMode\":false,"
                    "\"codeSet\":[],\"expressionType\":\"TAG\",\"subString\":\"*\",\"subVersion\":1,\"tagsSet\":[],\"topic\":\"T\"}}";
  const char *sql = "{\"clientId\":\"x@1\",\"group\":\"cg_check\",\"subscriptionData\":{\"classFilterMode\":false,"
                    "\"codeSet\":[],\"expressionType\":\"SQL92\",\"subString\":\"a > 1\",\"subVersion\":1,\"tagsSet\":[],\"topic\":\"T\"}}";
  ASSERT(up());
  ASSERT_OK(cli_open(&a, E.br_addr));
  ASSERT_OK(CALL(&a, &r, tern_call_check_client_config(conn, tern_str_from_cstr(tag), 3000, cli_on_resp, &w)));
  ASSERT_EQ(r.code, TERN_RESP_SUCCESS);
  ASSERT_OK(CALL(&a, &r, tern_call_check_client_config(conn, tern_str_from_cstr(sql), 3000, cli_on_resp, &w)));
  ASSERT_EQ(r.code, TERN_RESP_SYSTEM_ERROR);
  ASSERT(remark_is(&r, "The broker does not support consumer to filter message by SQL92"));
  ASSERT_OK(CALL(&a, &r, tern_call_check_client_config(conn, TERN_STR("{not json"), 3000, cli_on_resp, &w)));
  ASSERT_EQ(r.code, TERN_RESP_SYSTEM_ERROR);
  cli_close(&a);
}

static int lock(cli_t *c, const char *client, const char *qids, tern_cmd_t *r, tern_body_lock_batch_response_body_t *out) {
  char body[1024], mqs[800] = "";
  tern_err_t err = {0};
  int rc;
  for (const char *p = qids; *p; p++)
    snprintf(mqs + strlen(mqs), sizeof mqs - strlen(mqs), "%s{\"brokerName\":\"broker-t\",\"queueId\":%c,\"topic\":\"TopicL\"}",
             p == qids ? "" : ",", *p);
  snprintf(body, sizeof body, "{\"clientId\":\"%s\",\"consumerGroup\":\"cg_lock\",\"mqSet\":[%s]}", client, mqs);
  rc = CALL(c, r, tern_call_lock_batch_mq(conn, tern_str_from_cstr(body), 3000, cli_on_resp, &w));
  if (rc || r->code != TERN_RESP_SUCCESS) return rc ? rc : -1;
  return tern_body_lock_batch_response_body_decode(r->body, &c->arena, out, &err);
}

static bool has_q(const tern_body_lock_batch_response_body_t *b, int q) {
  for (uint32_t i = 0; i < b->lock_okmq_set.n; i++)
    if (b->lock_okmq_set.v[i].queue_id == q) return true;
  return false;
}

TEST(lock_batch_owner_renew_refuse_unlock_and_lease_expiry) {
  cli_t a;
  tern_cmd_t r;
  tern_body_lock_batch_response_body_t got;
  ASSERT(up());
  ASSERT_OK(cli_open(&a, E.br_addr));
  ASSERT_OK(lock(&a, "c1", "01", &r, &got));
  ASSERT_EQ(got.lock_okmq_set.n, 2);
  ASSERT_OK(lock(&a, "c2", "02", &r, &got)); /* 0 is c1's */
  ASSERT_EQ(got.lock_okmq_set.n, 1);
  ASSERT(has_q(&got, 2));
  ASSERT_OK(lock(&a, "c1", "01", &r, &got)); /* renewal */
  ASSERT_EQ(got.lock_okmq_set.n, 2);
  /* Unlock by a non-owner does nothing; by the owner releases. */
  ASSERT_OK(CALL(&a, &r, tern_call_unlock_batch_mq(conn, TERN_STR("{\"clientId\":\"c2\",\"consumerGroup\":\"cg_lock\",\"mqSet\":[{\"brokerName\":\"broker-t\",\"queueId\":0,\"topic\":\"TopicL\"}]}"), 3000, cli_on_resp, &w)));
  ASSERT_EQ(r.code, TERN_RESP_SUCCESS);
  ASSERT_OK(lock(&a, "c2", "0", &r, &got));
  ASSERT_EQ(got.lock_okmq_set.n, 0);
  ASSERT_OK(CALL(&a, &r, tern_call_unlock_batch_mq(conn, TERN_STR("{\"clientId\":\"c1\",\"consumerGroup\":\"cg_lock\",\"mqSet\":[{\"brokerName\":\"broker-t\",\"queueId\":0,\"topic\":\"TopicL\"}]}"), 3000, cli_on_resp, &w)));
  ASSERT_EQ(r.code, TERN_RESP_SUCCESS);
  ASSERT_OK(lock(&a, "c2", "0", &r, &got));
  ASSERT_EQ(got.lock_okmq_set.n, 1);
  /* Queue 1 is still c1's; after the 1 s lease c2 takes it over. */
  ASSERT_OK(lock(&a, "c2", "1", &r, &got));
  ASSERT_EQ(got.lock_okmq_set.n, 0);
  usleep(1300 * 1000);
  ASSERT_OK(lock(&a, "c2", "1", &r, &got));
  ASSERT_EQ(got.lock_okmq_set.n, 1);
  ASSERT_OK(lock(&a, "c1", "1", &r, &got)); /* and c1 is now refused */
  ASSERT_EQ(got.lock_okmq_set.n, 0);
  /* Another group is independent. */
  ASSERT_OK(CALL(&a, &r, tern_call_lock_batch_mq(conn, TERN_STR("{\"clientId\":\"c9\",\"consumerGroup\":\"cg_lock2\",\"mqSet\":[{\"brokerName\":\"broker-t\",\"queueId\":1,\"topic\":\"TopicL\"}]}"), 3000, cli_on_resp, &w)));
  ASSERT_EQ(r.code, TERN_RESP_SUCCESS);
  ASSERT(body_has(&r, "\"queueId\":1"));
  cli_close(&a);
}

TEST(bad_input_gets_error_codes) {
  cli_t a;
  tern_cmd_t r;
  ASSERT(up());
  ASSERT_OK(cli_open(&a, E.br_addr));
  ASSERT_OK(cli_heartbeat(&a, "{garbage", &r));
  ASSERT_EQ(r.code, TERN_RESP_SYSTEM_ERROR);
  ASSERT_OK(cli_heartbeat(&a, "{\"consumerDataSet\":[],\"producerDataSet\":[]}", &r)); /* no clientID */
  ASSERT_EQ(r.code, TERN_RESP_SYSTEM_ERROR);
  ASSERT_OK(cli_heartbeat(&a, "", &r));
  ASSERT_EQ(r.code, TERN_RESP_SYSTEM_ERROR);
  ASSERT_OK(CALL(&a, &r, tern_call_lock_batch_mq(conn, TERN_STR("[1,2]"), 3000, cli_on_resp, &w)));
  ASSERT_EQ(r.code, TERN_RESP_SYSTEM_ERROR);
  ASSERT_OK(CALL(&a, &r, tern_call_lock_batch_mq(conn, TERN_STR("{\"mqSet\":[]}"), 3000, cli_on_resp, &w)));
  ASSERT_EQ(r.code, TERN_RESP_SYSTEM_ERROR);
  /* A required header field missing: the dispatcher's decode error. */
  ASSERT_OK(cli_raw(&a, TERN_REQ_GET_CONSUMER_LIST_BY_GROUP, NULL, TERN_STR_NULL, &r));
  ASSERT_EQ(r.code, TERN_RESP_SYSTEM_ERROR);
  ASSERT_OK(cli_raw(&a, TERN_REQ_UNREGISTER_CLIENT, NULL, TERN_STR_NULL, &r));
  ASSERT_EQ(r.code, TERN_RESP_SYSTEM_ERROR);
  /* Still serving. */
  ASSERT_OK(cli_heartbeat(&a, "{\"clientID\":\"x@ok\",\"consumerDataSet\":[],\"producerDataSet\":[]}", &r));
  ASSERT_EQ(r.code, TERN_RESP_SUCCESS);
  cli_close(&a);
}

TEST(zz_stop) {
  if (started) env_stop(&E);
  started = false;
}
