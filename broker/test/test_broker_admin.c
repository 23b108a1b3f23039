/* Protocol tests of the broker's admin request codes against the real
 * mqnamesrv and mqbroker binaries (reference §5.15): topic create / list /
 * delete (with the route reaching the name server and the error remarks for
 * bad names), subscription groups create / list / delete (persisted), broker
 * config get / update, runtime info keys, consumer offsets, consume stats,
 * topic stats and QUERY_TOPIC_CONSUME_BY_WHO. */
#include "test_broker_clients_env.h"

static env_t E;
static bool started;

static bool up(void) {
  if (started) return true;
  if (env_start(&E, "autoCreateTopicEnable=true\n")) {
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

static int create_topic(cli_t *c, const char *topic, int queues, const char *filter, tern_cmd_t *r) {
  tern_hdr_create_topic_request_t h;
  memset(&h, 0, sizeof h);
  h.topic = tern_str_from_cstr(topic);
  h.default_topic = TERN_STR("TBW102");
  h.read_queue_nums = queues;
  h.write_queue_nums = queues;
  h.perm = 6;
  h.topic_filter_type = tern_str_from_cstr(filter);
  h.present = TERN_HDR_CREATE_TOPIC_REQUEST_HAS_TOPIC | TERN_HDR_CREATE_TOPIC_REQUEST_HAS_DEFAULT_TOPIC |
              TERN_HDR_CREATE_TOPIC_REQUEST_HAS_READ_QUEUE_NUMS | TERN_HDR_CREATE_TOPIC_REQUEST_HAS_WRITE_QUEUE_NUMS |
              TERN_HDR_CREATE_TOPIC_REQUEST_HAS_PERM | TERN_HDR_CREATE_TOPIC_REQUEST_HAS_TOPIC_FILTER_TYPE;
  return CALL(c, r, tern_call_update_and_create_topic(conn, &h, TERN_STR_NULL, 3000, cli_on_resp, &w));
}

static bool route_exists(const char *topic) {
  cli_t ns;
  tern_cmd_t r;
  tern_hdr_get_route_info_request_t h;
  bool ok = false;
  if (cli_open(&ns, E.ns_addr)) return false;
  memset(&h, 0, sizeof h);
  h.present = TERN_HDR_GET_ROUTE_INFO_REQUEST_HAS_TOPIC;
  h.topic = tern_str_from_cstr(topic);
  if (CALL(&ns, &r, tern_call_get_routeinfo_by_topic(conn, &h, TERN_STR_NULL, 3000, cli_on_resp, &w)) == 0)
    ok = r.code == TERN_RESP_SUCCESS;
  cli_close(&ns);
  return ok;
}

/* Sends one message (SEND_MESSAGE_V2); returns the queue offset or -1. */
static int64_t send_one(cli_t *c, const char *topic, int qid, const char *tags) {
  tern_cmd_t r;
  char q[16], props[128], now[32];
  const tern_str_t *off;
  int64_t v;
  snprintf(q, sizeof q, "%d", qid);
  snprintf(props, sizeof props, "TAGS\001%s\002KEYS\001k1\002", tags);
  snprintf(now, sizeof now, "%lld", (long long)time(NULL) * 1000);
  const char *kv[] = {"a", "pg_admin", "b", topic, "c", "TBW102", "d", "4", "e", q, "f", "0", "g", now, "h", "0", "i", props, NULL};
  if (cli_raw(c, TERN_REQ_SEND_MESSAGE_V2, kv, TERN_STR("hello"), &r) || r.code != TERN_RESP_SUCCESS) return -1;
  off = tern_cmd_ext_get(&r, "queueOffset");
  if (!off || tern_str_to_i64(*off, &v)) return -1;
  return v;
}

TEST(create_topic_lists_registers_and_deletes) {
  cli_t a;
  tern_cmd_t r;
  bool routed = false;
  ASSERT(up());
  ASSERT_OK(cli_open(&a, E.br_addr));
  ASSERT_OK(create_topic(&a, "TopicAdmin", 4, "SINGLE_TAG", &r));
  ASSERT_EQ(r.code, TERN_RESP_SUCCESS);
  ASSERT_OK(CALL(&a, &r, tern_call_get_all_topic_config(conn, NULL, TERN_STR_NULL, 3000, cli_on_resp, &w)));
  ASSERT_EQ(r.code, TERN_RESP_SUCCESS);
  {
    tern_body_topic_config_serialize_wrapper_t tw;
    tern_err_t err = {0};
    bool found = false;
    ASSERT_OK(tern_body_topic_config_serialize_wrapper_decode(r.body, &a.arena, &tw, &err));
    for (uint32_t i = 0; i < tw.topic_config_table.n; i++)
      if (tern_str_eq_cstr(tw.topic_config_table.v[i].key, "TopicAdmin")) {
        ASSERT_EQ(tw.topic_config_table.v[i].val.read_queue_nums, 4);
        ASSERT_EQ(tw.topic_config_table.v[i].val.perm, 6);
        found = true;
      }
    ASSERT(found);
  }
  /* Creation re-registers at once: the route is there well before the 30 s period. */
  for (int i = 0; i < 30 && !routed; i++) {
    routed = route_exists("TopicAdmin");
    if (!routed) usleep(100000);
  }
  ASSERT(routed);
  /* Update: 8 queues now. */
  ASSERT_OK(create_topic(&a, "TopicAdmin", 8, "MULTI_TAG", &r));
  ASSERT_EQ(r.code, TERN_RESP_SUCCESS);
  ASSERT_OK(CALL(&a, &r, tern_call_get_all_topic_config(conn, NULL, TERN_STR_NULL, 3000, cli_on_resp, &w)));
  ASSERT(body_has(&r, "\"topicFilterType\":\"MULTI_TAG\""));
  /* Delete. */
  {
    tern_hdr_delete_topic_request_t d;
    memset(&d, 0, sizeof d);
    d.present = TERN_HDR_DELETE_TOPIC_REQUEST_HAS_TOPIC;
    d.topic = TERN_STR("TopicAdmin");
    ASSERT_OK(CALL(&a, &r, tern_call_delete_topic_in_broker(conn, &d, TERN_STR_NULL, 3000, cli_on_resp, &w)));
    ASSERT_EQ(r.code, TERN_RESP_SUCCESS);
    ASSERT_OK(CALL(&a, &r, tern_call_get_all_topic_config(conn, NULL, TERN_STR_NULL, 3000, cli_on_resp, &w)));
    ASSERT(!body_has(&r, "\"TopicAdmin\""));
    d.topic = TERN_STR("SCHEDULE_TOPIC_XXXX");
    ASSERT_OK(CALL(&a, &r, tern_call_delete_topic_in_broker(conn, &d, TERN_STR_NULL, 3000, cli_on_resp, &w)));
    ASSERT_EQ(r.code, TERN_RESP_SYSTEM_ERROR);
    ASSERT(remark_is(&r, "The topic[SCHEDULE_TOPIC_XXXX] is conflict with system topic."));
  }
  cli_close(&a);
}

TEST(create_topic_refuses_bad_names_and_types) {
  cli_t a;
  tern_cmd_t r;
  char longname[200];
  ASSERT(up());
  ASSERT_OK(cli_open(&a, E.br_addr));
  ASSERT_OK(create_topic(&a, "bad topic!", 4, "SINGLE_TAG", &r));
  ASSERT_EQ(r.code, TERN_RESP_SYSTEM_ERROR);
  memset(longname, 'x', 150);
  longname[150] = '\0';
  ASSERT_OK(create_topic(&a, longname, 4, "SINGLE_TAG", &r));
  ASSERT_EQ(r.code, TERN_RESP_SYSTEM_ERROR);
  ASSERT_OK(create_topic(&a, "TBW102", 4, "SINGLE_TAG", &r));
  ASSERT_EQ(r.code, TERN_RESP_SYSTEM_ERROR);
  ASSERT(remark_is(&r, "The topic[TBW102] is conflict with system topic."));
  ASSERT_OK(create_topic(&a, "TopicBadFilter", 4, "NO_SUCH", &r));
  ASSERT_EQ(r.code, TERN_RESP_SYSTEM_ERROR);
  /* Required header field missing: decode error from the dispatcher. */
  {
    const char *kv[] = {"topic", "TopicNoQueues", NULL};
    ASSERT_OK(cli_raw(&a, TERN_REQ_UPDATE_AND_CREATE_TOPIC, kv, TERN_STR_NULL, &r));
    ASSERT_EQ(r.code, TERN_RESP_SYSTEM_ERROR);
  }
  ASSERT_OK(CALL(&a, &r, tern_call_get_all_topic_config(conn, NULL, TERN_STR_NULL, 3000, cli_on_resp, &w)));
  ASSERT(!body_has(&r, "TopicBadFilter"));
  ASSERT(!body_has(&r, "TopicNoQueues"));
  cli_close(&a);
}

TEST(subscription_groups_create_list_delete_persist) {
  cli_t a;
  tern_cmd_t r;
  tern_hdr_delete_subscription_group_request_t d;
  char path[256], file[65536];
  FILE *f;
  size_t n;
  ASSERT(up());
  ASSERT_OK(cli_open(&a, E.br_addr));
  ASSERT_OK(CALL(&a, &r, tern_call_update_and_create_subscriptiongroup(conn,
      TERN_STR("{\"groupName\":\"cg_admin\",\"retryMaxTimes\":3,\"retryQueueNums\":2,\"consumeBroadcastEnable\":false}"),
      3000, cli_on_resp, &w)));
  ASSERT_EQ(r.code, TERN_RESP_SUCCESS);
  ASSERT_OK(CALL(&a, &r, tern_call_get_all_subscriptiongroup_config(conn, NULL, TERN_STR_NULL, 3000, cli_on_resp, &w)));
  ASSERT_EQ(r.code, TERN_RESP_SUCCESS);
  {
    tern_body_subscription_group_wrapper_t sw;
    tern_err_t err = {0};
    bool found = false;
    ASSERT_OK(tern_body_subscription_group_wrapper_decode(r.body, &a.arena, &sw, &err));
    ASSERT(sw.data_version.counter > 0);
    for (uint32_t i = 0; i < sw.subscription_group_table.n; i++) {
      const tern_body_subscription_group_config_t *g = &sw.subscription_group_table.v[i].val;
      if (!tern_str_eq_cstr(g->group_name, "cg_admin")) continue;
      ASSERT_EQ(g->retry_max_times, 3);
      ASSERT_EQ(g->retry_queue_nums, 2);
      ASSERT(!g->consume_broadcast_enable);
      ASSERT(g->consume_enable); /* defaulted */
      found = true;
    }
    ASSERT(found);
  }
  snprintf(path, sizeof path, "%s/store/config/subscriptionGroup.json", E.dir);
  ASSERT((f = fopen(path, "r")) != NULL);
  n = fread(file, 1, sizeof file - 1, f);
  fclose(f);
  file[n] = '\0';
  ASSERT(strstr(file, "\"cg_admin\"") != NULL);
  /* Bad bodies. */
  ASSERT_OK(CALL(&a, &r, tern_call_update_and_create_subscriptiongroup(conn, TERN_STR("{\"retryMaxTimes\":3}"), 3000, cli_on_resp, &w)));
  ASSERT_EQ(r.code, TERN_RESP_SYSTEM_ERROR);
  ASSERT_OK(CALL(&a, &r, tern_call_update_and_create_subscriptiongroup(conn, TERN_STR("nope"), 3000, cli_on_resp, &w)));
  ASSERT_EQ(r.code, TERN_RESP_SYSTEM_ERROR);
  /* Delete. */
  memset(&d, 0, sizeof d);
  d.present = TERN_HDR_DELETE_SUBSCRIPTION_GROUP_REQUEST_HAS_GROUP_NAME;
  d.group_name = TERN_STR("cg_admin");
  ASSERT_OK(CALL(&a, &r, tern_call_delete_subscriptiongroup(conn, &d, TERN_STR_NULL, 3000, cli_on_resp, &w)));
  ASSERT_EQ(r.code, TERN_RESP_SUCCESS);
  ASSERT_OK(CALL(&a, &r, tern_call_get_all_subscriptiongroup_config(conn, NULL, TERN_STR_NULL, 3000, cli_on_resp, &w)));
  ASSERT(!body_has(&r, "\"cg_admin\""));
  ASSERT((f = fopen(path, "r")) != NULL);
  n = fread(file, 1, sizeof file - 1, f);
  fclose(f);
  file[n] = '\0';
  ASSERT(strstr(file, "\"cg_admin\"") == NULL);
  cli_close(&a);
}

TEST(broker_config_get_and_update) {
  cli_t a;
  tern_cmd_t r;
  const tern_str_t *ver;
  char expect[64];
  ASSERT(up());
  ASSERT_OK(cli_open(&a, E.br_addr));
  ASSERT_OK(CALL(&a, &r, tern_call_get_broker_config(conn, TERN_STR_NULL, 3000, cli_on_resp, &w)));
  ASSERT_EQ(r.code, TERN_RESP_SUCCESS);
  snprintf(expect, sizeof expect, "listenPort=%d\n", E.br.port);
  ASSERT(body_has(&r, expect));
  ASSERT(body_has(&r, "brokerName=broker-t\n"));
  ASSERT(body_has(&r, "rebalanceLockMaxLiveTime=60000\n"));
  ver = tern_cmd_ext_get(&r, "version");
  ASSERT(ver && ver->n > 10 && memmem(ver->p, ver->n, "\"counter\"", 9));
  ASSERT_OK(CALL(&a, &r, tern_call_update_broker_config(conn, TERN_STR("rebalanceLockMaxLiveTime=45000\nshortPollingTimeMills=900\n"), 3000, cli_on_resp, &w)));
  ASSERT_EQ(r.code, TERN_RESP_SUCCESS);
  ASSERT_OK(CALL(&a, &r, tern_call_get_broker_config(conn, TERN_STR_NULL, 3000, cli_on_resp, &w)));
  ASSERT(body_has(&r, "rebalanceLockMaxLiveTime=45000\n"));
  ASSERT(body_has(&r, "shortPollingTimeMills=900\n"));
  ASSERT_OK(CALL(&a, &r, tern_call_update_broker_config(conn, TERN_STR("rebalanceLockMaxLiveTime=notanumber\n"), 3000, cli_on_resp, &w)));
  ASSERT_EQ(r.code, TERN_RESP_SYSTEM_ERROR);
  cli_close(&a);
}

TEST(runtime_info_offsets_and_stats) {
  cli_t a;
  tern_cmd_t r;
  tern_body_kv_table_t kv;
  tern_err_t err = {0};
  int64_t o1, o2;
  ASSERT(up());
  ASSERT_OK(cli_open(&a, E.br_addr));
  ASSERT_OK(create_topic(&a, "TopicStats", 2, "SINGLE_TAG", &r));
  ASSERT_EQ(r.code, TERN_RESP_SUCCESS);
  o1 = send_one(&a, "TopicStats", 0, "TagA");
  o2 = send_one(&a, "TopicStats", 0, "TagB");
  ASSERT_EQ(o1, 0);
  ASSERT_EQ(o2, 1);
  ASSERT_EQ(send_one(&a, "TopicStats", 1, "TagA"), 0);

  ASSERT_OK(CALL(&a, &r, tern_call_get_broker_runtime_info(conn, TERN_STR_NULL, 3000, cli_on_resp, &w)));
  ASSERT_EQ(r.code, TERN_RESP_SUCCESS);
  ASSERT_OK(tern_body_kv_table_decode(r.body, &a.arena, &kv, &err));
  {
    const char *keys[] = {"brokerVersionDesc", "brokerVersion", "msgPutTotalTodayNow", "commitLogMaxOffset",
                          "commitLogMinOffset", "commitLogDirCapacity", "dispatchBehindBytes", "earliestMessageTimeStamp"};
    for (size_t k = 0; k < TERN_ARRAY_SIZE(keys); k++) {
      bool found = false;
      for (uint32_t i = 0; i < kv.table.n; i++) found = found || tern_str_eq_cstr(kv.table.v[i].key, keys[k]);
      if (!found) fprintf(stderr, "missing runtime key %s\n", keys[k]);
      ASSERT(found);
    }
    for (uint32_t i = 0; i < kv.table.n; i++) {
      if (tern_str_eq_cstr(kv.table.v[i].key, "msgPutTotalTodayNow")) {
        int64_t v = 0;
        ASSERT_OK(tern_str_to_i64(kv.table.v[i].val, &v));
        ASSERT(v >= 3);
      }
      if (tern_str_eq_cstr(kv.table.v[i].key, "commitLogMaxOffset")) {
        int64_t v = 0;
        ASSERT_OK(tern_str_to_i64(kv.table.v[i].val, &v));
        ASSERT(v > 0);
      }
    }
  }

  /* A committed offset shows in GET_ALL_CONSUMER_OFFSET and GET_CONSUME_STATS. */
  {
    tern_hdr_update_consumer_offset_request_t u;
    tern_hdr_get_consume_stats_request_t s;
    tern_body_consume_stats_t cs;
    bool q0 = false;
    memset(&u, 0, sizeof u);
    u.present = TERN_HDR_UPDATE_CONSUMER_OFFSET_REQUEST_HAS_CONSUMER_GROUP | TERN_HDR_UPDATE_CONSUMER_OFFSET_REQUEST_HAS_TOPIC |
                TERN_HDR_UPDATE_CONSUMER_OFFSET_REQUEST_HAS_QUEUE_ID | TERN_HDR_UPDATE_CONSUMER_OFFSET_REQUEST_HAS_COMMIT_OFFSET;
    u.consumer_group = TERN_STR("cg_stats");
    u.topic = TERN_STR("TopicStats");
    u.queue_id = 0;
    u.commit_offset = 1;
    ASSERT_OK(CALL(&a, &r, tern_call_update_consumer_offset(conn, &u, TERN_STR_NULL, 3000, cli_on_resp, &w)));
    ASSERT_EQ(r.code, TERN_RESP_SUCCESS);
    ASSERT_OK(CALL(&a, &r, tern_call_get_all_consumer_offset(conn, TERN_STR_NULL, 3000, cli_on_resp, &w)));
    ASSERT_EQ(r.code, TERN_RESP_SUCCESS);
    ASSERT(body_has(&r, "\"TopicStats@cg_stats\":{0:1}"));

    memset(&s, 0, sizeof s);
    s.present = TERN_HDR_GET_CONSUME_STATS_REQUEST_HAS_CONSUMER_GROUP;
    s.consumer_group = TERN_STR("cg_stats");
    ASSERT_OK(CALL(&a, &r, tern_call_get_consume_stats(conn, &s, TERN_STR_NULL, 3000, cli_on_resp, &w)));
    ASSERT_EQ(r.code, TERN_RESP_SUCCESS);
    ASSERT_OK(tern_body_consume_stats_decode(r.body, &a.arena, &cs, &err));
    ASSERT_EQ(cs.offset_table.n, 2);
    for (uint32_t i = 0; i < cs.offset_table.n; i++) {
      const tern_body_offset_wrapper_t *ow = &cs.offset_table.v[i].val;
      ASSERT(tern_str_eq_cstr(cs.offset_table.v[i].key.topic, "TopicStats"));
      ASSERT(tern_str_eq_cstr(cs.offset_table.v[i].key.broker_name, "broker-t"));
      if (cs.offset_table.v[i].key.queue_id == 0) {
        q0 = true;
        ASSERT_EQ(ow->broker_offset, 2);
        ASSERT_EQ(ow->consumer_offset, 1);
        ASSERT(ow->last_timestamp > 1600000000000LL); /* store time of message 0 */
      } else {
        ASSERT_EQ(ow->broker_offset, 1);
        ASSERT_EQ(ow->consumer_offset, 0);
      }
    }
    ASSERT(q0);
  }

  /* GET_TOPIC_STATS_INFO. */
  {
    tern_hdr_get_topic_stats_info_request_t t;
    tern_body_topic_stats_table_t st;
    memset(&t, 0, sizeof t);
    t.present = TERN_HDR_GET_TOPIC_STATS_INFO_REQUEST_HAS_TOPIC;
    t.topic = TERN_STR("TopicStats");
    ASSERT_OK(CALL(&a, &r, tern_call_get_topic_stats_info(conn, &t, TERN_STR_NULL, 3000, cli_on_resp, &w)));
    ASSERT_EQ(r.code, TERN_RESP_SUCCESS);
    ASSERT_OK(tern_body_topic_stats_table_decode(r.body, &a.arena, &st, &err));
    ASSERT_EQ(st.offset_table.n, 2);
    for (uint32_t i = 0; i < st.offset_table.n; i++) {
      int q = st.offset_table.v[i].key.queue_id;
      ASSERT_EQ(st.offset_table.v[i].val.min_offset, 0);
      ASSERT_EQ(st.offset_table.v[i].val.max_offset, q == 0 ? 2 : 1);
      ASSERT(st.offset_table.v[i].val.last_update_timestamp > 1600000000000LL);
    }
    t.topic = TERN_STR("TopicNoSuch");
    ASSERT_OK(CALL(&a, &r, tern_call_get_topic_stats_info(conn, &t, TERN_STR_NULL, 3000, cli_on_resp, &w)));
    ASSERT_EQ(r.code, TERN_RESP_TOPIC_NOT_EXIST);
    ASSERT(remark_is(&r, "topic[TopicNoSuch] not exist"));
  }

  /* QUERY_TOPIC_CONSUME_BY_WHO: groups from offsets and from heartbeats. */
  {
    tern_hdr_query_topic_consume_by_who_request_t q;
    tern_body_group_list_t gl;
    char body[2048];
    bool by_off = false, by_hb = false;
    hb_body(body, sizeof body, "127.0.0.1@who", "cg_who", "TopicStats", "*", NULL);
    ASSERT_OK(cli_heartbeat(&a, body, &r));
    memset(&q, 0, sizeof q);
    q.present = TERN_HDR_QUERY_TOPIC_CONSUME_BY_WHO_REQUEST_HAS_TOPIC;
    q.topic = TERN_STR("TopicStats");
    ASSERT_OK(CALL(&a, &r, tern_call_query_topic_consume_by_who(conn, &q, TERN_STR_NULL, 3000, cli_on_resp, &w)));
    ASSERT_EQ(r.code, TERN_RESP_SUCCESS);
    ASSERT_OK(tern_body_group_list_decode(r.body, &a.arena, &gl, &err));
    for (uint32_t i = 0; i < gl.group_list.n; i++) {
      by_off = by_off || tern_str_eq_cstr(gl.group_list.v[i], "cg_stats");
      by_hb = by_hb || tern_str_eq_cstr(gl.group_list.v[i], "cg_who");
    }
    ASSERT(by_off);
    ASSERT(by_hb);
    ASSERT_EQ(gl.group_list.n, 2);
  }
  cli_close(&a);
}

TEST(zz_stop) {
  if (started) env_stop(&E);
  started = false;
}
