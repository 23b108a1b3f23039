/* Tests of the generated RPC layer (gen/rpc.h): the stubs hand tern_conn_request
 * a command with the right code, defaults, flags and encoded header; the
 * dispatchers decode the header, call the right handler and report unknown
 * codes and bad headers the way the runtime expects. The connection is faked
 * here (this binary defines tern_conn_request/tern_conn_reply), so the layer is
 * tested without sockets. */
#include "gen/rpc.h"
#include "tern_test.h"

/* ---- fake connection: records the last request, copying what the stub only lends ---- */
static struct {
  int calls;
  int ret; /* what tern_conn_request returns */
  tern_cmd_t cmd;
  char keys[TERN_CMD_MAX_EXT][64], vals[TERN_CMD_MAX_EXT][256];
  uint32_t timeout_ms;
  tern_rpc_cb cb;
  void *arg;
} fake;

int tern_conn_request(tern_conn_t *c, tern_cmd_t *req, uint32_t timeout_ms, tern_rpc_cb cb, void *arg) {
  (void)c;
  fake.calls++;
  fake.cmd = *req;
  for (uint32_t i = 0; i < req->n_ext && i < TERN_CMD_MAX_EXT; i++) {
    snprintf(fake.keys[i], sizeof fake.keys[i], "%.*s", TERN_STR_ARG(req->ext[i].key));
    snprintf(fake.vals[i], sizeof fake.vals[i], "%.*s", TERN_STR_ARG(req->ext[i].val));
  }
  fake.timeout_ms = timeout_ms;
  fake.cb = cb;
  fake.arg = arg;
  return fake.ret;
}

int tern_conn_reply(tern_conn_t *c, const tern_cmd_t *req, tern_cmd_t *resp) {
  (void)c;
  (void)req;
  (void)resp;
  return 0;
}

static const char *fake_ext(const char *key) {
  for (uint32_t i = 0; i < fake.cmd.n_ext; i++)
    if (strcmp(fake.keys[i], key) == 0) return fake.vals[i];
  return NULL;
}

static void on_resp(void *arg, int status, const tern_cmd_t *resp) {
  (void)arg;
  (void)status;
  (void)resp;
}

static tern_conn_t *const CONN = (tern_conn_t *)(uintptr_t)0x1000; /* never dereferenced */

TEST(call_stub_fills_the_request) {
  memset(&fake, 0, sizeof fake);
  tern_hdr_pull_message_request_t h = {0};
  h.present = TERN_HDR_PULL_MESSAGE_REQUEST_HAS_CONSUMER_GROUP | TERN_HDR_PULL_MESSAGE_REQUEST_HAS_TOPIC |
              TERN_HDR_PULL_MESSAGE_REQUEST_HAS_QUEUE_ID | TERN_HDR_PULL_MESSAGE_REQUEST_HAS_QUEUE_OFFSET |
              TERN_HDR_PULL_MESSAGE_REQUEST_HAS_MAX_MSG_NUMS | TERN_HDR_PULL_MESSAGE_REQUEST_HAS_SYS_FLAG |
              TERN_HDR_PULL_MESSAGE_REQUEST_HAS_COMMIT_OFFSET | TERN_HDR_PULL_MESSAGE_REQUEST_HAS_SUSPEND_TIMEOUT_MILLIS |
              TERN_HDR_PULL_MESSAGE_REQUEST_HAS_SUB_VERSION;
  h.consumer_group = TERN_STR("cg");
  h.topic = TERN_STR("TopicTest");
  h.queue_id = 3;
  h.queue_offset = 1234567890123LL;
  h.max_msg_nums = 32;
  h.sys_flag = TERN_HDR_PULL_MESSAGE_REQUEST_SYS_FLAG_SUSPEND | TERN_HDR_PULL_MESSAGE_REQUEST_SYS_FLAG_SUBSCRIPTION;
  h.suspend_timeout_millis = 15000;
  int token;
  ASSERT_OK(tern_call_pull_message(CONN, &h, TERN_STR_NULL, 30000, on_resp, &token));
  ASSERT_EQ(fake.calls, 1);
  ASSERT_EQ(fake.cmd.code, 11);
  ASSERT_EQ(fake.cmd.language, 0);
  ASSERT_STR(fake.cmd.language_name, "JAVA");
  ASSERT_EQ(fake.cmd.version, 409);
  ASSERT_EQ(fake.cmd.serialize_type, TERN_SER_JSON);
  ASSERT_EQ(fake.cmd.flag, 0);
  ASSERT_EQ(fake.cmd.body.n, 0);
  ASSERT_EQ(fake.timeout_ms, 30000);
  ASSERT(fake.cb == on_resp);
  ASSERT(fake.arg == &token);
  ASSERT_EQ(fake.cmd.n_ext, 9);
  ASSERT_STREQ(fake_ext("consumerGroup"), "cg");
  ASSERT_STREQ(fake_ext("queueId"), "3");
  ASSERT_STREQ(fake_ext("queueOffset"), "1234567890123");
  ASSERT_STREQ(fake_ext("sysFlag"), "6");
  ASSERT_STREQ(fake_ext("suspendTimeoutMillis"), "15000");
  ASSERT(fake_ext("subscription") == NULL);

  /* What the stub sent decodes back to the same header on the server side. */
  tern_cmd_t back = fake.cmd;
  for (uint32_t i = 0; i < back.n_ext; i++) {
    back.ext[i].key = tern_str_from_cstr(fake.keys[i]);
    back.ext[i].val = tern_str_from_cstr(fake.vals[i]);
  }
  tern_hdr_pull_message_request_t d;
  ASSERT_OK(tern_hdr_pull_message_request_decode(&back, &d, NULL));
  ASSERT_EQ(d.present, h.present);
  ASSERT_EQ(d.queue_offset, h.queue_offset);
}

TEST(call_stub_without_header_and_with_body) {
  memset(&fake, 0, sizeof fake);
  ASSERT_OK(tern_call_get_routeinfo_by_topic(CONN, NULL, TERN_STR_NULL, 3000, on_resp, NULL));
  ASSERT_EQ(fake.cmd.code, 105);
  ASSERT_EQ(fake.cmd.n_ext, 0);
  static const char body[] = "{\"clientID\":\"c1\",\"consumerDataSet\":[],\"producerDataSet\":[]}";
  ASSERT_OK(tern_call_heart_beat(CONN, NULL, TERN_STR(body), 3000, on_resp, NULL));
  ASSERT_EQ(fake.cmd.code, 34);
  ASSERT(fake.cmd.body.p == body);
  ASSERT_EQ(fake.cmd.body.n, sizeof body - 1);
  ASSERT_OK(tern_call_get_broker_cluster_info(CONN, TERN_STR_NULL, 3000, on_resp, NULL));
  ASSERT_EQ(fake.cmd.code, 106);
}

/* Oneway codes get a send variant: ONEWAY flag, no callback, no timeout. */
TEST(send_variant_is_oneway) {
  memset(&fake, 0, sizeof fake);
  tern_hdr_update_consumer_offset_request_t h = {0};
  h.present = TERN_HDR_UPDATE_CONSUMER_OFFSET_REQUEST_HAS_CONSUMER_GROUP | TERN_HDR_UPDATE_CONSUMER_OFFSET_REQUEST_HAS_TOPIC |
              TERN_HDR_UPDATE_CONSUMER_OFFSET_REQUEST_HAS_QUEUE_ID | TERN_HDR_UPDATE_CONSUMER_OFFSET_REQUEST_HAS_COMMIT_OFFSET;
  h.consumer_group = TERN_STR("cg");
  h.topic = TERN_STR("T");
  h.commit_offset = -1;
  ASSERT_OK(tern_send_update_consumer_offset(CONN, &h, TERN_STR_NULL));
  ASSERT_EQ(fake.cmd.code, 15);
  ASSERT_EQ(fake.cmd.flag, TERN_FLAG_ONEWAY);
  ASSERT(fake.cb == NULL);
  ASSERT_STREQ(fake_ext("commitOffset"), "-1");

  tern_hdr_notify_consumer_ids_changed_request_t n = {0};
  n.present = TERN_HDR_NOTIFY_CONSUMER_IDS_CHANGED_REQUEST_HAS_CONSUMER_GROUP;
  n.consumer_group = TERN_STR("cg");
  ASSERT_OK(tern_send_notify_consumer_ids_changed(CONN, &n, TERN_STR_NULL));
  ASSERT_EQ(fake.cmd.code, 40);
  ASSERT_EQ(fake.cmd.flag, TERN_FLAG_ONEWAY);
  ASSERT_STREQ(fake_ext("consumerGroup"), "cg");
}

TEST(call_stub_returns_the_connection_error) {
  memset(&fake, 0, sizeof fake);
  fake.ret = TERN_ECLOSED;
  ASSERT_EQ(tern_call_get_kv_config(CONN, NULL, TERN_STR_NULL, 1000, on_resp, NULL), TERN_ECLOSED);
  fake.ret = 0;
}

/* ---- dispatch ---- */
static struct {
  int which;
  bool ctx_ok;
  tern_hdr_send_message_request_v2_t v2;
  tern_str_t topic;
} seen;

static int h_send_v2(void *ctx, tern_conn_t *c, const tern_cmd_t *req, const tern_hdr_send_message_request_v2_t *h) {
  seen.ctx_ok = *(int *)ctx == 42;
  (void)c;
  (void)req;
  seen.which = 310;
  seen.v2 = *h;
  return 0;
}
static int h_pull(void *ctx, tern_conn_t *c, const tern_cmd_t *req, const tern_hdr_pull_message_request_t *h) {
  (void)ctx;
  (void)c;
  (void)req;
  seen.which = 11;
  seen.topic = h->topic;
  return TERN_EBUSY; /* a handler's own result goes back unchanged */
}
static int h_runtime_info(void *ctx, tern_conn_t *c, const tern_cmd_t *req) {
  (void)ctx;
  (void)c;
  seen.which = req->code;
  return 0;
}
static int h_route(void *ctx, tern_conn_t *c, const tern_cmd_t *req, const tern_hdr_get_route_info_request_t *h) {
  (void)ctx;
  (void)c;
  (void)req;
  seen.which = 105;
  seen.topic = h->topic;
  return 0;
}
static int h_notify(void *ctx, tern_conn_t *c, const tern_cmd_t *req, const tern_hdr_notify_consumer_ids_changed_request_t *h) {
  (void)ctx;
  (void)c;
  (void)req;
  seen.which = 40;
  seen.topic = h->consumer_group;
  return 0;
}

static tern_cmd_t g_req;
static void req(int32_t code) {
  memset(&g_req, 0, sizeof g_req);
  g_req.code = code;
}
static void add(const char *k, const char *v) {
  g_req.ext[g_req.n_ext].key = tern_str_from_cstr(k);
  g_req.ext[g_req.n_ext].val = tern_str_from_cstr(v);
  g_req.n_ext++;
}

TEST(broker_dispatch_decodes_and_calls) {
  tern_broker_handlers_t t = {0};
  t.send_message_v2 = h_send_v2;
  t.pull_message = h_pull;
  t.get_broker_runtime_info = h_runtime_info;
  int ctx = 42;
  tern_err_t err = {0};
  memset(&seen, 0, sizeof seen);
  req(310);
  add("a", "pg");
  add("b", "TopicTest");
  add("c", "TBW102");
  add("d", "4");
  add("e", "1");
  add("f", "0");
  add("g", "1700000000000");
  add("h", "0");
  ASSERT_OK(tern_broker_dispatch(&t, &ctx, CONN, &g_req, &err));
  ASSERT_EQ(seen.which, 310);
  ASSERT(seen.ctx_ok);
  ASSERT_STR(seen.v2.topic, "TopicTest");
  ASSERT_EQ(seen.v2.queue_id, 1);

  req(11);
  add("consumerGroup", "cg");
  add("topic", "T2");
  add("queueId", "0");
  add("queueOffset", "0");
  add("maxMsgNums", "32");
  add("sysFlag", "7");
  add("commitOffset", "0");
  add("suspendTimeoutMillis", "15000");
  add("subVersion", "0");
  ASSERT_EQ(tern_broker_dispatch(&t, &ctx, CONN, &g_req, &err), TERN_EBUSY);
  ASSERT_EQ(seen.which, 11);
  ASSERT_STR(seen.topic, "T2");

  req(28);
  ASSERT_OK(tern_broker_dispatch(&t, &ctx, CONN, &g_req, &err));
  ASSERT_EQ(seen.which, 28);
}

TEST(dispatch_reports_missing_handler_and_unknown_code) {
  tern_broker_handlers_t t = {0};
  tern_err_t err = {0};
  memset(&seen, 0, sizeof seen);
  req(310); /* served by brokers, but this table has no handler */
  ASSERT_EQ(tern_broker_dispatch(&t, NULL, CONN, &g_req, &err), TERN_ENOTFOUND);
  ASSERT_EQ(err.code, TERN_ENOTFOUND);
  req(9999);
  ASSERT_EQ(tern_broker_dispatch(&t, NULL, CONN, &g_req, &err), TERN_ENOTFOUND);
  /* A name-server code sent to a broker, and a broker code sent to a name server. */
  tern_namesrv_handlers_t n = {0};
  n.get_routeinfo_by_topic = h_route;
  req(105);
  ASSERT_EQ(tern_broker_dispatch(&t, NULL, CONN, &g_req, &err), TERN_ENOTFOUND);
  req(10);
  ASSERT_EQ(tern_namesrv_dispatch(&n, NULL, CONN, &g_req, &err), TERN_ENOTFOUND);
  ASSERT_EQ(seen.which, 0);
}

TEST(dispatch_returns_the_decoder_error) {
  tern_namesrv_handlers_t n = {0};
  n.get_routeinfo_by_topic = h_route;
  tern_err_t err = {0};
  memset(&seen, 0, sizeof seen);
  req(105);
  add("acceptStandardJsonOnly", "true");
  ASSERT_EQ(tern_namesrv_dispatch(&n, NULL, CONN, &g_req, &err), TERN_EMISSING);
  ASSERT_STREQ(err.field, "topic");
  ASSERT_STREQ(err.reason, "the custom field <topic> is null");
  ASSERT_EQ(seen.which, 0); /* the handler never ran */
  add("topic", "TopicTest");
  ASSERT_OK(tern_namesrv_dispatch(&n, NULL, CONN, &g_req, &err));
  ASSERT_EQ(seen.which, 105);
  ASSERT_STR(seen.topic, "TopicTest");

  tern_broker_handlers_t t = {0};
  t.pull_message = h_pull;
  memset(&seen, 0, sizeof seen);
  req(11);
  add("consumerGroup", "cg");
  add("topic", "T");
  add("queueId", "zero");
  ASSERT_EQ(tern_broker_dispatch(&t, NULL, CONN, &g_req, &err), TERN_EPROTO);
  ASSERT_STREQ(err.field, "queueId");
  ASSERT_EQ(seen.which, 0);
}

TEST(client_dispatch_serves_broker_to_client_codes) {
  tern_client_handlers_t t = {0};
  t.notify_consumer_ids_changed = h_notify;
  tern_err_t err = {0};
  memset(&seen, 0, sizeof seen);
  req(40);
  g_req.flag = TERN_FLAG_ONEWAY;
  add("consumerGroup", "cg1");
  ASSERT_OK(tern_client_dispatch(&t, NULL, CONN, &g_req, &err));
  ASSERT_EQ(seen.which, 40);
  ASSERT_STR(seen.topic, "cg1");
  req(39); /* CHECK_TRANSACTION_STATE: no handler set */
  ASSERT_EQ(tern_client_dispatch(&t, NULL, CONN, &g_req, &err), TERN_ENOTFOUND);
}

/* The adapter has exactly runtime/conn.h's tern_request_fn type and reaches the handler. */
TEST(on_request_adapter_fits_the_runtime) {
  tern_request_fn fn = tern_namesrv_on_request;
  tern_namesrv_handlers_t n = {0};
  n.get_routeinfo_by_topic = h_route;
  tern_namesrv_rpc_t rpc = {&n, NULL};
  tern_err_t err = {0};
  memset(&seen, 0, sizeof seen);
  req(105);
  add("topic", "T9");
  ASSERT_OK(fn(&rpc, CONN, &g_req, &err));
  ASSERT_EQ(seen.which, 105);
  ASSERT_STR(seen.topic, "T9");
  req(9999);
  ASSERT_EQ(fn(&rpc, CONN, &g_req, &err), TERN_ENOTFOUND);
}

/* Callers that add their own ext keys start from the same defaults as the stubs. */
TEST(request_init_matches_the_stubs) {
  static tern_cmd_t cmd;
  memset(&cmd, 0x5A, sizeof cmd);
  tern_rpc_request_init(&cmd, 12, TERN_STR_NULL);
  ASSERT_EQ(cmd.code, 12);
  ASSERT_EQ(cmd.language, TERN_RPC_LANGUAGE);
  ASSERT_EQ(cmd.version, TERN_RPC_VERSION);
  ASSERT_EQ(cmd.flag, 0);
  ASSERT_EQ(cmd.n_ext, 0);
  ASSERT_EQ(cmd.has_remark, 0);
  ASSERT_OK(tern_cmd_ext_add(&cmd, TERN_STR(TERN_HDR_QUERY_MESSAGE_REQUEST_EXTRA_UNIQUE_KEY_QUERY), TERN_STR("true")));
  memset(&fake, 0, sizeof fake);
  ASSERT_OK(tern_call_query_message(CONN, NULL, TERN_STR_NULL, 1000, on_resp, NULL));
  ASSERT_EQ(fake.cmd.language, cmd.language);
  ASSERT_EQ(fake.cmd.version, cmd.version);
  ASSERT_EQ(fake.cmd.serialize_type, cmd.serialize_type);
  ASSERT_STR(fake.cmd.language_name, "JAVA");
}
