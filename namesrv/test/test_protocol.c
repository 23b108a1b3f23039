/* Protocol tests against the real mqnamesrv on a loopback port, speaking
 * through the runtime's blocking client and the generated header and body
 * codecs, as a broker, a client and an admin tool would: registration of
 * several brokers and clusters (JSON, compressed and CRC-checked bodies),
 * route queries in both JSON flavours, cluster info and topic lists, KV
 * config with persistence, admin calls, data-version queries, unregistration,
 * removal when a broker's connection closes, expiry driven by short
 * configured timeouts, and the error answers (unknown topic, unknown code,
 * missing header field). */
#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>

#include "gen/bodies.h"
#include "gen/codes.h"
#include "gen/headers.h"
#include "proc_fixture.h"
#include "ns_wire.h"
#include "runtime/pool.h"
#include "tern_test.h"

static tern_fixture_proc_t g_srv;
static tern_sync_client_t *g_cli;
static tern_arena_t g_a;

static int addr_of(const tern_fixture_proc_t *p, char *out, size_t n) { return snprintf(out, n, "127.0.0.1:%d", p->port); }

static tern_sync_client_t *open_client(const tern_fixture_proc_t *p) {
  char addr[64];
  tern_sync_client_t *sc = calloc(1, sizeof *sc);
  addr_of(p, addr, sizeof addr);
  if (!sc || tern_sync_open(sc, addr, NULL) != 0) {
    free(sc);
    return NULL;
  }
  return sc;
}

static void close_client(tern_sync_client_t *sc) {
  if (!sc) return;
  tern_sync_close(sc);
  free(sc);
}

static int setup(void) {
  if (g_cli) return 0;
  tern_arena_init(&g_a, 0, NULL, 0);
  if (tern_fixture_namesrv_start(&g_srv, NULL, NULL) != 0) return -1;
  g_cli = open_client(&g_srv);
  return g_cli ? 0 : -1;
}

static void req_init(tern_cmd_t *c, int32_t code) {
  tern_cmd_init(c);
  c->code = code;
  c->version = 409;
}

/* Sends req on sc and waits; the response lives in g_a. */
static int call(tern_sync_client_t *sc, tern_cmd_t *req, tern_cmd_t *resp) {
  return tern_sync_call(sc, req, 5000, resp, &g_a);
}

typedef struct topic_spec {
  const char *name;
  int32_t rq, wq, perm, sysflag;
} topic_spec_t;

/* Builds a RegisterBrokerBody (JSON, or compressed) into out. */
static void register_body(const topic_spec_t *t, uint32_t n, int64_t counter, bool compressed, tern_buf_t *out) {
  tern_body_register_broker_body_t b;
  tern_body_topic_config_serialize_wrapper_t *w = &b.topic_config_serialize_wrapper;
  memset(&b, 0, sizeof b);
  b.has = TERN_BODY_REGISTER_BROKER_BODY_HAS_FILTER_SERVER_LIST | TERN_BODY_REGISTER_BROKER_BODY_HAS_TOPIC_CONFIG_SERIALIZE_WRAPPER;
  w->has = TERN_BODY_TOPIC_CONFIG_SERIALIZE_WRAPPER_HAS_DATA_VERSION | TERN_BODY_TOPIC_CONFIG_SERIALIZE_WRAPPER_HAS_TOPIC_CONFIG_TABLE;
  w->data_version.timestamp = 1700000000000;
  w->data_version.counter = counter;
  w->data_version.has = TERN_BODY_DATA_VERSION_HAS_TIMESTAMP | TERN_BODY_DATA_VERSION_HAS_COUNTER;
  w->topic_config_table.v = tern_arena_calloc(&g_a, n ? n : 1, sizeof *w->topic_config_table.v);
  for (uint32_t i = 0; i < n; i++) {
    tern_body_topic_config_t *tc = &w->topic_config_table.v[i].val;
    w->topic_config_table.v[i].key = tern_str_from_cstr(t[i].name);
    tc->topic_name = tern_str_from_cstr(t[i].name);
    tc->read_queue_nums = t[i].rq;
    tc->write_queue_nums = t[i].wq;
    tc->perm = t[i].perm;
    tc->topic_sys_flag = t[i].sysflag;
    tc->has = TERN_BODY_TOPIC_CONFIG_HAS_TOPIC_NAME | TERN_BODY_TOPIC_CONFIG_HAS_READ_QUEUE_NUMS |
              TERN_BODY_TOPIC_CONFIG_HAS_WRITE_QUEUE_NUMS | TERN_BODY_TOPIC_CONFIG_HAS_PERM |
              TERN_BODY_TOPIC_CONFIG_HAS_TOPIC_SYS_FLAG | TERN_BODY_TOPIC_CONFIG_HAS_ORDER |
              TERN_BODY_TOPIC_CONFIG_HAS_TOPIC_FILTER_TYPE;
  }
  w->topic_config_table.n = n;
  tern_buf_reset(out);
  if (compressed) tern_body_register_broker_body_encode_compressed(&b, false, out);
  else tern_body_register_broker_body_encode(&b, out, 0);
}

typedef struct reg_opts {
  bool compressed;
  int32_t crc; /* 0: none */
  int64_t timeout_ms; /* 0: not sent */
  int64_t counter;
} reg_opts_t;

static int do_register(tern_sync_client_t *sc, const char *cluster, const char *name, int64_t id, const char *addr,
                       const topic_spec_t *t, uint32_t n, const reg_opts_t *o, tern_cmd_t *resp) {
  tern_hdr_register_broker_request_t h;
  tern_cmd_t req;
  tern_buf_t body;
  int rc;
  reg_opts_t def = {false, 0, 0, 1};
  if (!o) o = &def;
  memset(&h, 0, sizeof h);
  h.cluster_name = tern_str_from_cstr(cluster);
  h.broker_name = tern_str_from_cstr(name);
  h.broker_addr = tern_str_from_cstr(addr);
  h.ha_server_addr = tern_str_from_cstr(addr);
  h.broker_id = id;
  h.present = TERN_HDR_REGISTER_BROKER_REQUEST_HAS_CLUSTER_NAME | TERN_HDR_REGISTER_BROKER_REQUEST_HAS_BROKER_NAME |
              TERN_HDR_REGISTER_BROKER_REQUEST_HAS_BROKER_ADDR | TERN_HDR_REGISTER_BROKER_REQUEST_HAS_HA_SERVER_ADDR |
              TERN_HDR_REGISTER_BROKER_REQUEST_HAS_BROKER_ID | TERN_HDR_REGISTER_BROKER_REQUEST_HAS_COMPRESSED;
  h.compressed = o->compressed;
  if (o->crc) {
    h.body_crc32 = o->crc;
    h.present |= TERN_HDR_REGISTER_BROKER_REQUEST_HAS_BODY_CRC32;
  }
  if (o->timeout_ms) {
    h.heartbeat_timeout_millis = o->timeout_ms;
    h.present |= TERN_HDR_REGISTER_BROKER_REQUEST_HAS_HEARTBEAT_TIMEOUT_MILLIS;
  }
  req_init(&req, TERN_REQ_REGISTER_BROKER);
  if (tern_hdr_register_broker_request_encode(&h, &req, &g_a)) return -1;
  tern_buf_init(&body, 0);
  register_body(t, n, o->counter, o->compressed, &body);
  req.body.p = (const char *)body.p;
  req.body.n = body.len;
  rc = call(sc, &req, resp);
  tern_buf_free(&body);
  return rc;
}

static int query_route(tern_sync_client_t *sc, const char *topic, int32_t version, bool std_only, tern_cmd_t *resp) {
  tern_hdr_get_route_info_request_t h;
  tern_cmd_t req;
  memset(&h, 0, sizeof h);
  h.topic = tern_str_from_cstr(topic);
  h.present = TERN_HDR_GET_ROUTE_INFO_REQUEST_HAS_TOPIC;
  if (std_only) {
    h.accept_standard_json_only = true;
    h.present |= TERN_HDR_GET_ROUTE_INFO_REQUEST_HAS_ACCEPT_STANDARD_JSON_ONLY;
  }
  req_init(&req, TERN_REQ_GET_ROUTEINFO_BY_TOPIC);
  req.version = version;
  if (tern_hdr_get_route_info_request_encode(&h, &req, &g_a)) return -1;
  return call(sc, &req, resp);
}

static bool body_has(const tern_cmd_t *r, const char *needle) {
  return r->body.n && memmem(r->body.p, r->body.n, needle, strlen(needle)) != NULL;
}

static const tern_body_broker_data_t *route_broker(const tern_body_topic_route_data_t *rd, const char *name) {
  for (uint32_t i = 0; i < rd->broker_datas.n; i++)
    if (tern_str_eq_cstr(rd->broker_datas.v[i].broker_name, name)) return &rd->broker_datas.v[i];
  return NULL;
}

static const tern_body_queue_data_t *route_queue(const tern_body_topic_route_data_t *rd, const char *name) {
  for (uint32_t i = 0; i < rd->queue_datas.n; i++)
    if (tern_str_eq_cstr(rd->queue_datas.v[i].broker_name, name)) return &rd->queue_datas.v[i];
  return NULL;
}

static const topic_spec_t A_TOPICS[] = {{"TopicTest", 4, 4, 6, 0}, {"Shared", 8, 8, 6, 0}, {"TBW102", 8, 8, 7, 0}};
static const topic_spec_t B_TOPICS[] = {{"Shared", 2, 2, 6, 0}, {"OnlyB", 1, 1, 6, 0}};

TEST(register_several_brokers_and_clusters_then_route) {
  tern_cmd_t resp;
  tern_body_topic_route_data_t rd;
  const tern_body_broker_data_t *bd;
  tern_err_t err;
  tern_hdr_register_broker_response_t rh;
  ASSERT_OK(setup());
  ASSERT_OK(do_register(g_cli, "c1", "broker-a", 0, "10.0.0.1:10911", A_TOPICS, 3, NULL, &resp));
  ASSERT_EQ(resp.code, TERN_RESP_SUCCESS);
  ASSERT_EQ(resp.version, 409); /* the server's own version, language JAVA */
  ASSERT_EQ(resp.language, 0);
  ASSERT_OK(do_register(g_cli, "c2", "broker-b", 0, "10.0.0.3:10911", B_TOPICS, 2, NULL, &resp));
  ASSERT_EQ(resp.code, TERN_RESP_SUCCESS);
  /* The slave learns its master's address and HA endpoint. */
  ASSERT_OK(do_register(g_cli, "c1", "broker-a", 1, "10.0.0.2:10911", NULL, 0, NULL, &resp));
  ASSERT_EQ(resp.code, TERN_RESP_SUCCESS);
  ASSERT_OK(tern_hdr_register_broker_response_decode(&resp, &rh, &err));
  ASSERT_STR(rh.master_addr, "10.0.0.1:10911");
  ASSERT_STR(rh.ha_server_addr, "10.0.0.1:10911");

  ASSERT_OK(query_route(g_cli, "Shared", 409, false, &resp));
  ASSERT_EQ(resp.code, TERN_RESP_SUCCESS);
  ASSERT_OK(tern_body_topic_route_data_decode(resp.body, &g_a, &rd, &err));
  ASSERT_EQ(rd.broker_datas.n, 2);
  ASSERT_EQ(rd.queue_datas.n, 2);
  bd = route_broker(&rd, "broker-a");
  ASSERT(bd != NULL);
  ASSERT_STR(bd->cluster, "c1");
  ASSERT_EQ(bd->broker_addrs.n, 2); /* master and slave by brokerId */
  ASSERT_EQ(bd->broker_addrs.v[0].key, 0);
  ASSERT_STR(bd->broker_addrs.v[0].val, "10.0.0.1:10911");
  ASSERT_EQ(bd->broker_addrs.v[1].key, 1);
  ASSERT_STR(bd->broker_addrs.v[1].val, "10.0.0.2:10911");
  ASSERT_EQ(route_queue(&rd, "broker-a")->read_queue_nums, 8);
  ASSERT_EQ(route_queue(&rd, "broker-b")->write_queue_nums, 2);
  ASSERT(body_has(&resp, "\"filterServerTable\":{}"));
}

TEST(route_json_flavour_follows_version) {
  tern_cmd_t resp;
  ASSERT_OK(setup());
  ASSERT_OK(query_route(g_cli, "TopicTest", 409, false, &resp));
  ASSERT(body_has(&resp, "\"brokerAddrs\":{\"0\":\"10.0.0.1:10911\""));
  ASSERT_OK(query_route(g_cli, "TopicTest", 333, false, &resp)); /* cpp client: legacy keys */
  ASSERT(body_has(&resp, "\"brokerAddrs\":{0:\"10.0.0.1:10911\""));
  ASSERT_OK(query_route(g_cli, "TopicTest", 333, true, &resp)); /* acceptStandardJsonOnly */
  ASSERT(body_has(&resp, "{\"0\":\"10.0.0.1:10911\""));
}

TEST(unknown_topic_unknown_code_and_missing_field) {
  tern_cmd_t resp, req;
  ASSERT_OK(setup());
  ASSERT_OK(query_route(g_cli, "NoSuchTopic", 409, false, &resp));
  ASSERT_EQ(resp.code, TERN_RESP_TOPIC_NOT_EXIST);
  ASSERT(resp.has_remark);
  ASSERT(resp.remark.n > 60 && memcmp(resp.remark.p, "No topic route info in name server for the topic: NoSuchTopic\nSee http://rocketmq.apache.org/docs/faq/", 60) == 0);
  req_init(&req, 9999);
  ASSERT_OK(call(g_cli, &req, &resp));
  ASSERT_EQ(resp.code, TERN_RESP_REQUEST_CODE_NOT_SUPPORTED);
  req_init(&req, TERN_REQ_GET_ROUTEINFO_BY_TOPIC); /* no topic key */
  ASSERT_OK(call(g_cli, &req, &resp));
  ASSERT_EQ(resp.code, TERN_RESP_SYSTEM_ERROR);
  ASSERT(resp.has_remark && memmem(resp.remark.p, resp.remark.n, "topic", 5));
}

TEST(cluster_info_and_topic_lists) {
  tern_cmd_t req, resp;
  tern_body_cluster_info_t ci;
  tern_body_topic_list_t tl;
  tern_hdr_get_topics_by_cluster_request_t h;
  tern_err_t err;
  ASSERT_OK(setup());
  req_init(&req, TERN_REQ_GET_BROKER_CLUSTER_INFO);
  ASSERT_OK(call(g_cli, &req, &resp));
  ASSERT_EQ(resp.code, TERN_RESP_SUCCESS);
  ASSERT(body_has(&resp, "{0:\"10.0.0.1:10911\",1:\"10.0.0.2:10911\"}")); /* always legacy */
  ASSERT_OK(tern_body_cluster_info_decode(resp.body, &g_a, &ci, &err));
  ASSERT_EQ(ci.broker_addr_table.n, 2);
  ASSERT_EQ(ci.cluster_addr_table.n, 2);
  ASSERT_STR(ci.cluster_addr_table.v[0].key, "c1");
  ASSERT_EQ(ci.cluster_addr_table.v[0].val.n, 1);
  ASSERT_STR(ci.cluster_addr_table.v[0].val.v[0], "broker-a");

  req_init(&req, TERN_REQ_GET_ALL_TOPIC_LIST_FROM_NAMESERVER);
  ASSERT_OK(call(g_cli, &req, &resp));
  ASSERT_OK(tern_body_topic_list_decode(resp.body, &g_a, &tl, &err));
  ASSERT_EQ(tl.topic_list.n, 4);
  ASSERT_STR(tl.topic_list.v[0], "OnlyB");

  memset(&h, 0, sizeof h);
  h.cluster = TERN_STR("c2");
  h.present = TERN_HDR_GET_TOPICS_BY_CLUSTER_REQUEST_HAS_CLUSTER;
  req_init(&req, TERN_REQ_GET_TOPICS_BY_CLUSTER);
  ASSERT_OK(tern_hdr_get_topics_by_cluster_request_encode(&h, &req, &g_a));
  ASSERT_OK(call(g_cli, &req, &resp));
  ASSERT_OK(tern_body_topic_list_decode(resp.body, &g_a, &tl, &err));
  ASSERT_EQ(tl.topic_list.n, 2);
  ASSERT_STR(tl.topic_list.v[0], "OnlyB");
  ASSERT_STR(tl.topic_list.v[1], "Shared");

  req_init(&req, TERN_REQ_GET_SYSTEM_TOPIC_LIST_FROM_NS);
  ASSERT_OK(call(g_cli, &req, &resp));
  ASSERT_OK(tern_body_topic_list_decode(resp.body, &g_a, &tl, &err));
  ASSERT_EQ(tl.topic_list.n, 4);
  ASSERT_STR(tl.topic_list.v[0], "c1");
  ASSERT_STR(tl.topic_list.v[1], "broker-a");
  ASSERT_STR(tl.broker_addr, "10.0.0.1:10911");
}

static int kv_call(int32_t code, const char *ns, const char *key, const char *val, tern_cmd_t *resp) {
  tern_cmd_t req;
  req_init(&req, code);
  if (ns) tern_cmd_ext_add(&req, TERN_STR("namespace"), tern_str_from_cstr(ns));
  if (key) tern_cmd_ext_add(&req, TERN_STR("key"), tern_str_from_cstr(key));
  if (val) tern_cmd_ext_add(&req, TERN_STR("value"), tern_str_from_cstr(val));
  return call(g_cli, &req, resp);
}

TEST(kv_config_put_get_list_delete_persisted) {
  tern_cmd_t resp;
  tern_hdr_get_kv_config_response_t rh;
  tern_body_kv_table_t t;
  tern_err_t err;
  char path[256];
  FILE *f;
  ASSERT_OK(setup());
  ASSERT_OK(kv_call(TERN_REQ_GET_KV_CONFIG, "ORDER_TOPIC_CONFIG", "TopicTest", NULL, &resp));
  ASSERT_EQ(resp.code, TERN_RESP_QUERY_NOT_FOUND);
  ASSERT_STR(resp.remark, "No config item, Namespace: ORDER_TOPIC_CONFIG Key: TopicTest");
  ASSERT_OK(kv_call(TERN_REQ_PUT_KV_CONFIG, "ORDER_TOPIC_CONFIG", "TopicTest", "broker-a:4", &resp));
  ASSERT_EQ(resp.code, TERN_RESP_SUCCESS);
  ASSERT_OK(kv_call(TERN_REQ_GET_KV_CONFIG, "ORDER_TOPIC_CONFIG", "TopicTest", NULL, &resp));
  ASSERT_EQ(resp.code, TERN_RESP_SUCCESS);
  ASSERT_OK(tern_hdr_get_kv_config_response_decode(&resp, &rh, &err));
  ASSERT_STR(rh.value, "broker-a:4");
  ASSERT_OK(kv_call(TERN_REQ_GET_KVLIST_BY_NAMESPACE, "ORDER_TOPIC_CONFIG", NULL, NULL, &resp));
  ASSERT_OK(tern_body_kv_table_decode(resp.body, &g_a, &t, &err));
  ASSERT_EQ(t.table.n, 1);
  ASSERT_STR(t.table.v[0].val, "broker-a:4");
  /* A registration's reply carries the ORDER_TOPIC_CONFIG table. */
  ASSERT_OK(do_register(g_cli, "c1", "broker-a", 0, "10.0.0.1:10911", A_TOPICS, 3, NULL, &resp));
  ASSERT(body_has(&resp, "\"table\":{\"TopicTest\":\"broker-a:4\"}"));
  /* Persisted under kvConfigPath. */
  snprintf(path, sizeof path, "%s/kv/kvConfig.json", g_srv.dir);
  f = fopen(path, "r");
  ASSERT(f != NULL);
  {
    char buf[256] = {0};
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    ASSERT(n > 0 && strstr(buf, "\"configTable\":{\"ORDER_TOPIC_CONFIG\":{\"TopicTest\":\"broker-a:4\"}}"));
  }
  ASSERT_OK(kv_call(TERN_REQ_DELETE_KV_CONFIG, "ORDER_TOPIC_CONFIG", "TopicTest", NULL, &resp));
  ASSERT_EQ(resp.code, TERN_RESP_SUCCESS);
  ASSERT_OK(kv_call(TERN_REQ_GET_KVLIST_BY_NAMESPACE, "ORDER_TOPIC_CONFIG", NULL, NULL, &resp));
  ASSERT_EQ(resp.code, TERN_RESP_QUERY_NOT_FOUND);
  ASSERT_STR(resp.remark, "No config item, Namespace: ORDER_TOPIC_CONFIG");
}

TEST(admin_write_perm_and_delete_topic) {
  tern_cmd_t req, resp;
  tern_hdr_wipe_write_perm_of_broker_response_t wr;
  tern_hdr_add_write_perm_of_broker_response_t ar;
  tern_body_topic_route_data_t rd;
  tern_err_t err;
  ASSERT_OK(setup());
  req_init(&req, TERN_REQ_WIPE_WRITE_PERM_OF_BROKER);
  tern_cmd_ext_add(&req, TERN_STR("brokerName"), TERN_STR("broker-a"));
  ASSERT_OK(call(g_cli, &req, &resp));
  ASSERT_EQ(resp.code, TERN_RESP_SUCCESS);
  ASSERT_OK(tern_hdr_wipe_write_perm_of_broker_response_decode(&resp, &wr, &err));
  ASSERT_EQ(wr.wipe_topic_count, 3);
  ASSERT_OK(query_route(g_cli, "TBW102", 409, false, &resp));
  ASSERT_OK(tern_body_topic_route_data_decode(resp.body, &g_a, &rd, &err));
  ASSERT_EQ(route_queue(&rd, "broker-a")->perm, 5); /* 7 without the write bit */
  req_init(&req, TERN_REQ_ADD_WRITE_PERM_OF_BROKER);
  tern_cmd_ext_add(&req, TERN_STR("brokerName"), TERN_STR("broker-a"));
  ASSERT_OK(call(g_cli, &req, &resp));
  ASSERT_OK(tern_hdr_add_write_perm_of_broker_response_decode(&resp, &ar, &err));
  ASSERT_EQ(ar.add_topic_count, 3);
  ASSERT_OK(query_route(g_cli, "TBW102", 409, false, &resp));
  ASSERT_OK(tern_body_topic_route_data_decode(resp.body, &g_a, &rd, &err));
  ASSERT_EQ(route_queue(&rd, "broker-a")->perm, 6);

  /* Delete Shared on cluster c2 only, then entirely. */
  req_init(&req, TERN_REQ_DELETE_TOPIC_IN_NAMESRV);
  tern_cmd_ext_add(&req, TERN_STR("topic"), TERN_STR("Shared"));
  tern_cmd_ext_add(&req, TERN_STR("clusterName"), TERN_STR("c2"));
  ASSERT_OK(call(g_cli, &req, &resp));
  ASSERT_EQ(resp.code, TERN_RESP_SUCCESS);
  ASSERT_OK(query_route(g_cli, "Shared", 409, false, &resp));
  ASSERT_OK(tern_body_topic_route_data_decode(resp.body, &g_a, &rd, &err));
  ASSERT_EQ(rd.queue_datas.n, 1);
  ASSERT(route_queue(&rd, "broker-a") != NULL);
  req_init(&req, TERN_REQ_DELETE_TOPIC_IN_NAMESRV);
  tern_cmd_ext_add(&req, TERN_STR("topic"), TERN_STR("Shared"));
  ASSERT_OK(call(g_cli, &req, &resp));
  ASSERT_OK(query_route(g_cli, "Shared", 409, false, &resp));
  ASSERT_EQ(resp.code, TERN_RESP_TOPIC_NOT_EXIST);
}

static int query_dv(int64_t counter, tern_cmd_t *resp) {
  tern_cmd_t req;
  tern_buf_t b;
  tern_body_data_version_t dv;
  int rc;
  memset(&dv, 0, sizeof dv);
  dv.timestamp = 1700000000000;
  dv.counter = counter;
  dv.has = TERN_BODY_DATA_VERSION_HAS_TIMESTAMP | TERN_BODY_DATA_VERSION_HAS_COUNTER;
  tern_buf_init(&b, 0);
  tern_body_data_version_encode(&dv, &b, 0);
  req_init(&req, TERN_REQ_QUERY_DATA_VERSION);
  tern_cmd_ext_add(&req, TERN_STR("brokerName"), TERN_STR("broker-b"));
  tern_cmd_ext_add(&req, TERN_STR("brokerAddr"), TERN_STR("10.0.0.3:10911"));
  tern_cmd_ext_add(&req, TERN_STR("clusterName"), TERN_STR("c2"));
  tern_cmd_ext_add(&req, TERN_STR("brokerId"), TERN_STR("0"));
  req.body.p = (const char *)b.p;
  req.body.n = b.len;
  rc = call(g_cli, &req, resp);
  tern_buf_free(&b);
  return rc;
}

TEST(query_data_version) {
  tern_cmd_t resp;
  tern_hdr_query_data_version_response_t rh;
  tern_body_data_version_t dv;
  tern_err_t err;
  ASSERT_OK(setup());
  ASSERT_OK(query_dv(1, &resp));
  ASSERT_EQ(resp.code, TERN_RESP_SUCCESS);
  ASSERT_OK(tern_hdr_query_data_version_response_decode(&resp, &rh, &err));
  ASSERT(!rh.changed);
  ASSERT_OK(tern_body_data_version_decode(resp.body, &g_a, &dv, &err));
  ASSERT_EQ(dv.counter, 1);
  ASSERT_OK(query_dv(2, &resp));
  ASSERT_OK(tern_hdr_query_data_version_response_decode(&resp, &rh, &err));
  ASSERT(rh.changed);
}

TEST(compressed_body_and_crc) {
  tern_cmd_t resp;
  tern_body_topic_route_data_t rd;
  tern_err_t err;
  reg_opts_t o = {true, 0, 0, 7};
  topic_spec_t t[1] = {{"Zipped", 3, 5, 6, 0}};
  ASSERT_OK(setup());
  ASSERT_OK(do_register(g_cli, "c3", "broker-z", 0, "10.0.0.9:10911", t, 1, &o, &resp));
  ASSERT_EQ(resp.code, TERN_RESP_SUCCESS);
  ASSERT_OK(query_route(g_cli, "Zipped", 409, false, &resp));
  ASSERT_EQ(resp.code, TERN_RESP_SUCCESS);
  ASSERT_OK(tern_body_topic_route_data_decode(resp.body, &g_a, &rd, &err));
  ASSERT_EQ(rd.queue_datas.v[0].read_queue_nums, 3);
  ASSERT_EQ(rd.queue_datas.v[0].write_queue_nums, 5);
  /* A wrong CRC is refused with RocketMQ's remark and changes nothing. */
  o.compressed = false;
  o.crc = 12345;
  o.counter = 8;
  t[0].name = "BadCrc";
  ASSERT_OK(do_register(g_cli, "c3", "broker-z", 0, "10.0.0.9:10911", t, 1, &o, &resp));
  ASSERT_EQ(resp.code, TERN_RESP_SYSTEM_ERROR);
  ASSERT_STR(resp.remark, "crc32 not match");
  ASSERT_OK(query_route(g_cli, "BadCrc", 409, false, &resp));
  ASSERT_EQ(resp.code, TERN_RESP_TOPIC_NOT_EXIST);
  /* The right CRC (zlib crc32 & 0x7FFFFFFF of the body) is accepted. */
  {
    tern_buf_t b;
    tern_buf_init(&b, 0);
    register_body(t, 1, 8, false, &b);
    o.crc = (int32_t)(crc32(0L, b.p, (uInt)b.len) & 0x7FFFFFFF);
    tern_buf_free(&b);
  }
  ASSERT_OK(do_register(g_cli, "c3", "broker-z", 0, "10.0.0.9:10911", t, 1, &o, &resp));
  ASSERT_EQ(resp.code, TERN_RESP_SUCCESS);
  ASSERT_OK(query_route(g_cli, "BadCrc", 409, false, &resp));
  ASSERT_EQ(resp.code, TERN_RESP_SUCCESS);
}

TEST(unregister_removes_group_and_topics) {
  tern_cmd_t req, resp;
  ASSERT_OK(setup());
  req_init(&req, TERN_REQ_UNREGISTER_BROKER);
  tern_cmd_ext_add(&req, TERN_STR("brokerName"), TERN_STR("broker-z"));
  tern_cmd_ext_add(&req, TERN_STR("brokerAddr"), TERN_STR("10.0.0.9:10911"));
  tern_cmd_ext_add(&req, TERN_STR("clusterName"), TERN_STR("c3"));
  tern_cmd_ext_add(&req, TERN_STR("brokerId"), TERN_STR("0"));
  ASSERT_OK(call(g_cli, &req, &resp));
  ASSERT_EQ(resp.code, TERN_RESP_SUCCESS);
  ASSERT_OK(query_route(g_cli, "Zipped", 409, false, &resp));
  ASSERT_EQ(resp.code, TERN_RESP_TOPIC_NOT_EXIST);
}

TEST(connection_close_removes_its_brokers) {
  tern_sync_client_t *b;
  tern_cmd_t resp;
  topic_spec_t t[1] = {{"OnClosing", 1, 1, 6, 0}};
  int tries;
  ASSERT_OK(setup());
  b = open_client(&g_srv);
  ASSERT(b != NULL);
  ASSERT_OK(do_register(b, "c4", "broker-x", 0, "10.0.0.7:10911", t, 1, NULL, &resp));
  ASSERT_EQ(resp.code, TERN_RESP_SUCCESS);
  ASSERT_OK(query_route(g_cli, "OnClosing", 409, false, &resp));
  ASSERT_EQ(resp.code, TERN_RESP_SUCCESS);
  close_client(b);
  for (tries = 0; tries < 100; tries++) {
    ASSERT_OK(query_route(g_cli, "OnClosing", 409, false, &resp));
    if (resp.code == TERN_RESP_TOPIC_NOT_EXIST) break;
    usleep(10000);
  }
  ASSERT_EQ(resp.code, TERN_RESP_TOPIC_NOT_EXIST);
  /* Brokers registered over other connections are untouched. */
  ASSERT_OK(query_route(g_cli, "TopicTest", 409, false, &resp));
  ASSERT_EQ(resp.code, TERN_RESP_SUCCESS);
}

/* A second server with a fast expiry scan: a broker that stops registering
 * is dropped after its heartbeatTimeoutMillis and its connection is closed by
 * the server; one that keeps registering stays. The quiet broker registers
 * over a raw socket so the test can see the server close it. */
TEST(expiry_with_short_timeouts) {
  tern_fixture_proc_t p;
  tern_sync_client_t *busy;
  tern_cmd_t resp, req;
  tern_hdr_register_broker_request_t h;
  topic_spec_t tq[1] = {{"Quiet", 1, 1, 6, 0}}, tb[1] = {{"Busy", 1, 1, 6, 0}};
  reg_opts_t o = {false, 0, 3000, 1}; /* busy: a wide margin against a loaded machine */
  tern_buf_t body, in;
  int fd;
  ASSERT_OK(setup());
  ASSERT_OK(tern_fixture_namesrv_start(&p, NULL, "scanNotActiveBrokerInterval=100\n"));
  busy = open_client(&p);
  ASSERT(busy != NULL);
  fd = tern_fixture_connect(p.port);
  ASSERT(fd >= 0);
  memset(&h, 0, sizeof h);
  h.cluster_name = TERN_STR("c");
  h.broker_name = TERN_STR("quiet");
  h.broker_addr = TERN_STR("10.1.0.1:10911");
  h.ha_server_addr = TERN_STR("10.1.0.1:10912");
  h.heartbeat_timeout_millis = 300; /* quiet: gone within 300 ms + one 100 ms scan */
  h.present = TERN_HDR_REGISTER_BROKER_REQUEST_HAS_CLUSTER_NAME | TERN_HDR_REGISTER_BROKER_REQUEST_HAS_BROKER_NAME |
              TERN_HDR_REGISTER_BROKER_REQUEST_HAS_BROKER_ADDR | TERN_HDR_REGISTER_BROKER_REQUEST_HAS_HA_SERVER_ADDR |
              TERN_HDR_REGISTER_BROKER_REQUEST_HAS_BROKER_ID | TERN_HDR_REGISTER_BROKER_REQUEST_HAS_HEARTBEAT_TIMEOUT_MILLIS;
  ns_wire_request(&req, TERN_REQ_REGISTER_BROKER, 1);
  ASSERT_OK(tern_hdr_register_broker_request_encode(&h, &req, &g_a));
  tern_buf_init(&body, 0);
  register_body(tq, 1, 1, false, &body);
  req.body.p = (const char *)body.p;
  req.body.n = body.len;
  ASSERT_OK(ns_wire_send_cmd(fd, &req));
  tern_buf_free(&body);
  tern_buf_init(&in, 0);
  ASSERT_OK(ns_wire_read_cmd(fd, &in, &resp, &g_a, 5000));
  ASSERT_EQ(resp.code, TERN_RESP_SUCCESS);
  tern_buf_free(&in);
  ASSERT_OK(do_register(busy, "c", "busy", 0, "10.1.0.2:10911", tb, 1, &o, &resp));
  ASSERT_OK(query_route(busy, "Quiet", 409, false, &resp));
  ASSERT_EQ(resp.code, TERN_RESP_SUCCESS);
  for (int i = 0; i < 10; i++) { /* 1 s of heartbeats from busy only */
    usleep(100000);
    ASSERT_OK(do_register(busy, "c", "busy", 0, "10.1.0.2:10911", tb, 1, &o, &resp));
    ASSERT_EQ(resp.code, TERN_RESP_SUCCESS);
  }
  ASSERT_OK(query_route(busy, "Quiet", 409, false, &resp));
  ASSERT_EQ(resp.code, TERN_RESP_TOPIC_NOT_EXIST);
  ASSERT_OK(query_route(busy, "Busy", 409, false, &resp));
  ASSERT_EQ(resp.code, TERN_RESP_SUCCESS);
  ASSERT_EQ(ns_wire_wait_closed(fd, 2000), 1); /* the server closed the expired broker's connection */
  close(fd);
  close_client(busy);
  ASSERT_EQ(tern_fixture_stop(&p, 0), 0);
}

static int config_update(const char *props, tern_cmd_t *resp) {
  tern_cmd_t req;
  req_init(&req, TERN_REQ_UPDATE_NAMESRV_CONFIG);
  req.body = tern_str_from_cstr(props);
  return call(g_cli, &req, resp);
}

TEST(namesrv_config_get_update_and_order_topic_conf) {
  tern_cmd_t req, resp;
  tern_body_topic_route_data_t rd;
  tern_err_t err;
  ASSERT_OK(setup());
  req_init(&req, TERN_REQ_GET_NAMESRV_CONFIG);
  ASSERT_OK(call(g_cli, &req, &resp));
  ASSERT_EQ(resp.code, TERN_RESP_SUCCESS);
  ASSERT(body_has(&resp, "scanNotActiveBrokerInterval=10000"));
  ASSERT(body_has(&resp, "enableAllTopicList=true"));
  /* Protected keys are refused as a whole. */
  ASSERT_OK(config_update("enableAllTopicList=false\nkvConfigPath=/tmp/elsewhere.json\n", &resp));
  ASSERT_EQ(resp.code, TERN_RESP_NO_PERMISSION);
  ASSERT_STR(resp.remark, "Can not update config in black list.");
  req_init(&req, TERN_REQ_GET_ALL_TOPIC_LIST_FROM_NAMESERVER);
  ASSERT_OK(call(g_cli, &req, &resp));
  ASSERT_EQ(resp.code, TERN_RESP_SUCCESS);
  /* An allowed change takes effect at once. */
  ASSERT_OK(config_update("enableAllTopicList=false\n", &resp));
  ASSERT_EQ(resp.code, TERN_RESP_SUCCESS);
  req_init(&req, TERN_REQ_GET_ALL_TOPIC_LIST_FROM_NAMESERVER);
  ASSERT_OK(call(g_cli, &req, &resp));
  ASSERT_EQ(resp.code, TERN_RESP_SYSTEM_ERROR);
  ASSERT_STR(resp.remark, "disable");
  ASSERT_OK(config_update("enableAllTopicList=true\norderMessageEnable=true\n", &resp));
  ASSERT_EQ(resp.code, TERN_RESP_SUCCESS);
  ASSERT_OK(config_update("enableAllTopicList=maybe\n", &resp)); /* a bad value names the key */
  ASSERT_EQ(resp.code, TERN_RESP_SYSTEM_ERROR);
  ASSERT(resp.has_remark && memmem(resp.remark.p, resp.remark.n, "enableAllTopicList", 18));
  /* With orderMessageEnable, a route carries the ORDER_TOPIC_CONFIG entry. */
  ASSERT_OK(kv_call(TERN_REQ_PUT_KV_CONFIG, "ORDER_TOPIC_CONFIG", "TopicTest", "broker-a:4", &resp));
  ASSERT_OK(query_route(g_cli, "TopicTest", 409, false, &resp));
  ASSERT_OK(tern_body_topic_route_data_decode(resp.body, &g_a, &rd, &err));
  ASSERT_STR(rd.order_topic_conf, "broker-a:4");
  ASSERT_OK(kv_call(TERN_REQ_DELETE_KV_CONFIG, "ORDER_TOPIC_CONFIG", "TopicTest", NULL, &resp));
  ASSERT_OK(config_update("orderMessageEnable=false\n", &resp));
}

TEST(unit_lists_register_topic_and_heartbeat) {
  tern_cmd_t req, resp;
  tern_body_topic_list_t tl;
  tern_body_topic_route_data_t rd;
  tern_buf_t b;
  tern_err_t err;
  topic_spec_t t[3] = {{"UnitT", 1, 1, 6, 1}, {"UnitSubT", 1, 1, 6, 2}, {"BothT", 1, 1, 6, 3}};
  ASSERT_OK(setup());
  ASSERT_OK(do_register(g_cli, "c5", "broker-u", 0, "10.0.0.20:10911", t, 3, NULL, &resp));
  req_init(&req, TERN_REQ_GET_UNIT_TOPIC_LIST);
  ASSERT_OK(call(g_cli, &req, &resp));
  ASSERT_OK(tern_body_topic_list_decode(resp.body, &g_a, &tl, &err));
  ASSERT_EQ(tl.topic_list.n, 2);
  ASSERT_STR(tl.topic_list.v[0], "BothT");
  ASSERT_STR(tl.topic_list.v[1], "UnitT");
  req_init(&req, TERN_REQ_GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST);
  ASSERT_OK(call(g_cli, &req, &resp));
  ASSERT_OK(tern_body_topic_list_decode(resp.body, &g_a, &tl, &err));
  ASSERT_EQ(tl.topic_list.n, 1);
  ASSERT_STR(tl.topic_list.v[0], "UnitSubT");

  /* 5.x REGISTER_TOPIC_IN_NAMESRV: queue data for a known broker. */
  memset(&rd, 0, sizeof rd);
  rd.has = TERN_BODY_TOPIC_ROUTE_DATA_HAS_QUEUE_DATAS | TERN_BODY_TOPIC_ROUTE_DATA_HAS_BROKER_DATAS |
           TERN_BODY_TOPIC_ROUTE_DATA_HAS_FILTER_SERVER_TABLE;
  rd.queue_datas.v = tern_arena_calloc(&g_a, 1, sizeof *rd.queue_datas.v);
  rd.queue_datas.n = 1;
  rd.queue_datas.v[0].broker_name = TERN_STR("broker-u");
  rd.queue_datas.v[0].read_queue_nums = 6;
  rd.queue_datas.v[0].write_queue_nums = 6;
  rd.queue_datas.v[0].perm = 6;
  rd.queue_datas.v[0].has = TERN_BODY_QUEUE_DATA_HAS_BROKER_NAME | TERN_BODY_QUEUE_DATA_HAS_PERM |
                            TERN_BODY_QUEUE_DATA_HAS_READ_QUEUE_NUMS | TERN_BODY_QUEUE_DATA_HAS_WRITE_QUEUE_NUMS |
                            TERN_BODY_QUEUE_DATA_HAS_TOPIC_SYS_FLAG;
  tern_buf_init(&b, 0);
  tern_body_topic_route_data_encode(&rd, &b, 0);
  req_init(&req, TERN_REQ_REGISTER_TOPIC_IN_NAMESRV);
  tern_cmd_ext_add(&req, TERN_STR("topic"), TERN_STR("RegisteredTopic"));
  req.body.p = (const char *)b.p;
  req.body.n = b.len;
  ASSERT_OK(call(g_cli, &req, &resp));
  tern_buf_free(&b);
  ASSERT_EQ(resp.code, TERN_RESP_SUCCESS);
  ASSERT_OK(query_route(g_cli, "RegisteredTopic", 409, false, &resp));
  ASSERT_EQ(resp.code, TERN_RESP_SUCCESS);
  ASSERT_OK(tern_body_topic_route_data_decode(resp.body, &g_a, &rd, &err));
  ASSERT_EQ(rd.queue_datas.v[0].read_queue_nums, 6);

  req_init(&req, TERN_REQ_BROKER_HEARTBEAT);
  tern_cmd_ext_add(&req, TERN_STR("clusterName"), TERN_STR("c5"));
  tern_cmd_ext_add(&req, TERN_STR("brokerAddr"), TERN_STR("10.0.0.20:10911"));
  tern_cmd_ext_add(&req, TERN_STR("brokerName"), TERN_STR("broker-u"));
  ASSERT_OK(call(g_cli, &req, &resp));
  ASSERT_EQ(resp.code, TERN_RESP_SUCCESS);
}

/* An old broker (version < 37, V3_0_11) sends a bare TopicConfigSerializeWrapper. */
TEST(old_broker_bare_topic_config_wrapper) {
  tern_hdr_register_broker_request_t h;
  tern_body_topic_config_serialize_wrapper_t w;
  tern_cmd_t req, resp;
  tern_buf_t b;
  ASSERT_OK(setup());
  memset(&w, 0, sizeof w);
  w.has = TERN_BODY_TOPIC_CONFIG_SERIALIZE_WRAPPER_HAS_DATA_VERSION | TERN_BODY_TOPIC_CONFIG_SERIALIZE_WRAPPER_HAS_TOPIC_CONFIG_TABLE;
  w.data_version.has = TERN_BODY_DATA_VERSION_HAS_TIMESTAMP | TERN_BODY_DATA_VERSION_HAS_COUNTER;
  w.data_version.counter = 1;
  w.topic_config_table.v = tern_arena_calloc(&g_a, 1, sizeof *w.topic_config_table.v);
  w.topic_config_table.n = 1;
  w.topic_config_table.v[0].key = TERN_STR("OldTopic");
  w.topic_config_table.v[0].val.topic_name = TERN_STR("OldTopic");
  w.topic_config_table.v[0].val.read_queue_nums = 2;
  w.topic_config_table.v[0].val.write_queue_nums = 2;
  w.topic_config_table.v[0].val.perm = 6;
  w.topic_config_table.v[0].val.has = TERN_BODY_TOPIC_CONFIG_HAS_TOPIC_NAME | TERN_BODY_TOPIC_CONFIG_HAS_READ_QUEUE_NUMS |
                                      TERN_BODY_TOPIC_CONFIG_HAS_WRITE_QUEUE_NUMS | TERN_BODY_TOPIC_CONFIG_HAS_PERM;
  tern_buf_init(&b, 0);
  tern_body_topic_config_serialize_wrapper_encode(&w, &b, 0);
  memset(&h, 0, sizeof h);
  h.cluster_name = TERN_STR("c6");
  h.broker_name = TERN_STR("broker-old");
  h.broker_addr = TERN_STR("10.0.0.30:10911");
  h.ha_server_addr = TERN_STR("10.0.0.30:10912");
  h.present = TERN_HDR_REGISTER_BROKER_REQUEST_HAS_CLUSTER_NAME | TERN_HDR_REGISTER_BROKER_REQUEST_HAS_BROKER_NAME |
              TERN_HDR_REGISTER_BROKER_REQUEST_HAS_BROKER_ADDR | TERN_HDR_REGISTER_BROKER_REQUEST_HAS_HA_SERVER_ADDR |
              TERN_HDR_REGISTER_BROKER_REQUEST_HAS_BROKER_ID;
  req_init(&req, TERN_REQ_REGISTER_BROKER);
  req.version = 36;
  ASSERT_OK(tern_hdr_register_broker_request_encode(&h, &req, &g_a));
  req.body.p = (const char *)b.p;
  req.body.n = b.len;
  ASSERT_OK(call(g_cli, &req, &resp));
  tern_buf_free(&b);
  ASSERT_EQ(resp.code, TERN_RESP_SUCCESS);
  ASSERT_OK(query_route(g_cli, "OldTopic", 409, false, &resp));
  ASSERT_EQ(resp.code, TERN_RESP_SUCCESS);
}

/* What cpp/Go/ali-ons need (reference §2.3): extFields values in a reply to a
 * JSON request are JSON strings; a ROCKETMQ-serialized request is answered. */
TEST(reply_wire_form) {
  int fd;
  tern_cmd_t req, resp;
  tern_buf_t in;
  ASSERT_OK(setup());
  fd = tern_fixture_connect(g_srv.port);
  ASSERT(fd >= 0);
  tern_buf_init(&in, 0);
  ns_wire_request(&req, TERN_REQ_WIPE_WRITE_PERM_OF_BROKER, 41);
  tern_cmd_ext_add(&req, TERN_STR("brokerName"), TERN_STR("broker-b"));
  ASSERT_OK(ns_wire_send_cmd(fd, &req));
  ASSERT_OK(ns_wire_read_cmd(fd, &in, &resp, &g_a, 5000));
  ASSERT_EQ(in.p[4], TERN_SER_JSON);
  ASSERT(memmem(in.p + 8, in.len - 8, "\"wipeTopicCount\":\"", 18) != NULL);
  ASSERT(memmem(in.p + 8, in.len - 8, "\"language\":\"JAVA\"", 17) != NULL);
  ASSERT(memmem(in.p + 8, in.len - 8, "\"version\":409", 13) != NULL);
  ASSERT_EQ(resp.opaque, 41);
  ns_wire_request(&req, TERN_REQ_GET_ROUTEINFO_BY_TOPIC, 42);
  req.serialize_type = TERN_SER_ROCKETMQ;
  tern_cmd_ext_add(&req, TERN_STR("topic"), TERN_STR("TopicTest"));
  ASSERT_OK(ns_wire_send_cmd(fd, &req));
  ASSERT_OK(ns_wire_read_cmd(fd, &in, &resp, &g_a, 5000));
  ASSERT_EQ(resp.opaque, 42);
  ASSERT_EQ(resp.code, TERN_RESP_SUCCESS);
  ASSERT(resp.body.n > 0);
  tern_buf_free(&in);
  close(fd);
}

/* The route body byte for byte as RocketMQ 4.9 writes it (reference §5.2
 * example), in both flavours, then with a filter server registered. */
TEST(route_body_exact_bytes) {
  tern_cmd_t resp;
  topic_spec_t t[1] = {{"ExactTopic", 4, 4, 6, 0}};
  tern_hdr_register_broker_request_t h;
  tern_body_register_broker_body_t b;
  tern_cmd_t req;
  tern_buf_t body;
  static const char want[] =
      "{\"brokerDatas\":[{\"brokerAddrs\":{\"0\":\"192.168.0.10:10911\",\"1\":\"192.168.0.11:10911\"},"
      "\"brokerName\":\"broker-e\",\"cluster\":\"DefaultCluster\"}],\"filterServerTable\":{},"
      "\"queueDatas\":[{\"brokerName\":\"broker-e\",\"perm\":6,\"readQueueNums\":4,\"topicSysFlag\":0,"
      "\"writeQueueNums\":4}]}";
  ASSERT_OK(setup());
  ASSERT_OK(do_register(g_cli, "DefaultCluster", "broker-e", 0, "192.168.0.10:10911", t, 1, NULL, &resp));
  ASSERT_OK(do_register(g_cli, "DefaultCluster", "broker-e", 1, "192.168.0.11:10911", NULL, 0, NULL, &resp));
  ASSERT_OK(query_route(g_cli, "ExactTopic", 409, false, &resp));
  ASSERT_EQ(resp.body.n, strlen(want));
  ASSERT_MEM_EQ(resp.body.p, want, resp.body.n);
  ASSERT_OK(query_route(g_cli, "ExactTopic", 400, false, &resp));
  ASSERT(body_has(&resp, "{\"brokerAddrs\":{0:\"192.168.0.10:10911\",1:\"192.168.0.11:10911\"},"));
  ASSERT_EQ(resp.body.n, strlen(want) - 4);

  /* The slave re-registers with a filter server: it shows up per address. */
  memset(&b, 0, sizeof b);
  b.has = TERN_BODY_REGISTER_BROKER_BODY_HAS_FILTER_SERVER_LIST | TERN_BODY_REGISTER_BROKER_BODY_HAS_TOPIC_CONFIG_SERIALIZE_WRAPPER;
  b.filter_server_list.v = tern_arena_calloc(&g_a, 1, sizeof *b.filter_server_list.v);
  b.filter_server_list.v[0] = TERN_STR("192.168.0.11:30000");
  b.filter_server_list.n = 1;
  b.topic_config_serialize_wrapper.has = TERN_BODY_TOPIC_CONFIG_SERIALIZE_WRAPPER_HAS_DATA_VERSION;
  b.topic_config_serialize_wrapper.data_version.has = TERN_BODY_DATA_VERSION_HAS_TIMESTAMP | TERN_BODY_DATA_VERSION_HAS_COUNTER;
  tern_buf_init(&body, 0);
  tern_body_register_broker_body_encode(&b, &body, 0);
  memset(&h, 0, sizeof h);
  h.cluster_name = TERN_STR("DefaultCluster");
  h.broker_name = TERN_STR("broker-e");
  h.broker_addr = TERN_STR("192.168.0.11:10911");
  h.ha_server_addr = TERN_STR("192.168.0.11:10912");
  h.broker_id = 1;
  h.present = TERN_HDR_REGISTER_BROKER_REQUEST_HAS_CLUSTER_NAME | TERN_HDR_REGISTER_BROKER_REQUEST_HAS_BROKER_NAME |
              TERN_HDR_REGISTER_BROKER_REQUEST_HAS_BROKER_ADDR | TERN_HDR_REGISTER_BROKER_REQUEST_HAS_HA_SERVER_ADDR |
              TERN_HDR_REGISTER_BROKER_REQUEST_HAS_BROKER_ID;
  req_init(&req, TERN_REQ_REGISTER_BROKER);
  ASSERT_OK(tern_hdr_register_broker_request_encode(&h, &req, &g_a));
  req.body.p = (const char *)body.p;
  req.body.n = body.len;
  ASSERT_OK(call(g_cli, &req, &resp));
  tern_buf_free(&body);
  ASSERT_EQ(resp.code, TERN_RESP_SUCCESS);
  ASSERT_OK(query_route(g_cli, "ExactTopic", 409, false, &resp));
  ASSERT(body_has(&resp, "\"filterServerTable\":{\"192.168.0.11:10911\":[\"192.168.0.11:30000\"]}"));
}

TEST(zz_teardown) {
  close_client(g_cli);
  g_cli = NULL;
  ASSERT_EQ(tern_fixture_stop(&g_srv, 0), 0);
  tern_arena_free(&g_a);
}
