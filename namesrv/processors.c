/* The name server's request processors: one typed handler per request code,
 * reached through the generated dispatch table (gen/rpc.h), with headers and
 * bodies decoded and encoded by the generated codecs (gen/headers.h,
 * gen/bodies.h). Each handler applies the request to the route state or the
 * KV table and replies; semantics and remark texts follow RocketMQ 4.9's
 * DefaultRequestProcessor (reference §5.2-§5.6, §15). Everything here runs on
 * the loop thread; per-request memory comes from ns->arena, reset per request. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "gen/bodies.h"
#include "gen/codes.h"
#include "gen/message.h" /* tern_crc32_body */
#include "gen/rpc.h"
#include "namesrv/namesrv.h"
#include "runtime/clock.h"
#include "runtime/log.h"
#include "runtime/props.h"

#define NS_ARENA_LIMIT ((size_t)64 << 20) /* bounds one request's decoded body */
#define NS_MIN_VERSION_REGISTER_BODY 37   /* V3_0_11: older brokers send a bare TopicConfigSerializeWrapper */
#define NS_MIN_VERSION_STANDARD_JSON 401  /* V4_9_4: routes in standard JSON */

static int64_t now_ms(void) { return (int64_t)tern_clock_now_ms(); }

int tern_namesrv_init(tern_namesrv_t *ns, tern_err_t *err) {
  char path[1024];
  const char *kvp = ns->conf.kv_config_path;
  int rc;
  tern_ns_routes_init(&ns->routes);
  tern_buf_init(&ns->out, 0);
  tern_arena_init(&ns->arena, NS_ARENA_LIMIT, ns->arena_block, sizeof ns->arena_block);
  if (!kvp || !*kvp) {
    const char *home = getenv("HOME");
    snprintf(path, sizeof path, "%s/namesrv/kvConfig.json", home && *home ? home : ".");
    kvp = path;
  }
  rc = tern_ns_kv_init(&ns->kv, kvp, 0);
  if (rc) return tern_fail(err, rc, "out of memory", NULL, 0);
  rc = tern_ns_kv_load(&ns->kv, err);
  if (rc) return rc;
  rc = tern_ns_kv_saver_init(&ns->kv_saver, ns->loop, &ns->kv);
  return rc ? tern_fail(err, rc, "cannot start the KV writer thread", NULL, 0) : 0;
}

void tern_namesrv_stop(tern_namesrv_t *ns) { tern_ns_kv_saver_stop(&ns->kv_saver); }

void tern_namesrv_free(tern_namesrv_t *ns) {
  tern_ns_routes_free(&ns->routes);
  tern_ns_kv_free(&ns->kv);
  tern_buf_free(&ns->out);
  tern_arena_free(&ns->arena);
}

/* ---- reply helpers ---- */

static void resp_init(tern_cmd_t *r, int32_t code) {
  tern_cmd_init(r);
  r->code = code;
}

static int reply_body(tern_conn_t *c, const tern_cmd_t *req, tern_cmd_t *resp, const tern_buf_t *body) {
  if (body->err) return tern_conn_reply_error(c, req, TERN_RESP_SYSTEM_ERROR, "response body too large");
  resp->body.p = (const char *)body->p;
  resp->body.n = body->len;
  tern_conn_reply(c, req, resp);
  return 0;
}

static int reply_code(tern_conn_t *c, const tern_cmd_t *req, int32_t code, const char *remark) {
  tern_conn_reply_error(c, req, code, remark);
  return 0;
}

/* A remark built with printf into the arena (falls back to a fixed text). */
static const char *remarkf(tern_namesrv_t *ns, const char *fallback, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static const char *remarkf(tern_namesrv_t *ns, const char *fallback, const char *fmt, ...) {
  va_list ap;
  int n;
  char *p;
  va_start(ap, fmt);
  n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0 || !(p = tern_arena_alloc(&ns->arena, (size_t)n + 1))) return fallback;
  va_start(ap, fmt);
  vsnprintf(p, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return p;
}

static tern_body_set_str_t set_of(tern_str_t *v, uint32_t n) {
  tern_body_set_str_t s = {v, n};
  return s;
}

/* Encodes a TopicList body and replies SUCCESS. */
static int reply_topic_list(tern_namesrv_t *ns, tern_conn_t *c, const tern_cmd_t *req, tern_str_t *names, uint32_t n,
                            tern_str_t broker_addr) {
  tern_body_topic_list_t tl;
  tern_cmd_t resp;
  memset(&tl, 0, sizeof tl);
  tl.topic_list = set_of(names, n);
  tl.has = TERN_BODY_TOPIC_LIST_HAS_TOPIC_LIST;
  if (broker_addr.n) {
    tl.broker_addr = broker_addr;
    tl.has |= TERN_BODY_TOPIC_LIST_HAS_BROKER_ADDR;
  }
  tern_buf_reset(&ns->out);
  tern_body_topic_list_encode(&tl, &ns->out, 0);
  resp_init(&resp, TERN_RESP_SUCCESS);
  return reply_body(c, req, &resp, &ns->out);
}

/* ---- KV config (100, 101, 102, 219) ---- */

/* A PUT/DELETE_KV_CONFIG waiting for its change to reach kvConfig.json:
 * RocketMQ answers after persisting, and so do we, from the writer's post. */
typedef struct kv_reply {
  tern_namesrv_t *ns;
  tern_conn_t *conn;
  tern_cmd_t req; /* header fields only: what tern_conn_reply needs */
} kv_reply_t;

static void on_kv_saved(void *arg, int status) {
  kv_reply_t *w = arg;
  if (status) tern_warn("namesrv: could not persist %s: %s (value kept in memory)", w->ns->kv.path, tern_strerror(status));
  tern_conn_reply_error(w->conn, &w->req, TERN_RESP_SUCCESS, NULL);
  tern_conn_unref(w->conn);
  free(w);
}

/* Replies SUCCESS once the table as it is now is on disk. */
static int reply_after_save(tern_namesrv_t *ns, tern_conn_t *c, const tern_cmd_t *req) {
  kv_reply_t *w = malloc(sizeof *w);
  int rc;
  if (!w) return TERN_ENOMEM;
  w->ns = ns;
  w->conn = c;
  w->req = *req;
  w->req.n_ext = 0;
  w->req.has_remark = false;
  w->req.remark = w->req.body = w->req.language_name = TERN_STR_NULL;
  tern_conn_ref(c);
  rc = tern_ns_kv_saver_request(&ns->kv_saver, on_kv_saved, w);
  if (rc) {
    tern_conn_unref(c);
    free(w);
  }
  return rc;
}

static int put_kv_config(void *ctx, tern_conn_t *c, const tern_cmd_t *req, const tern_hdr_put_kv_config_request_t *h) {
  tern_namesrv_t *ns = ctx;
  int rc = tern_ns_kv_set(&ns->kv, h->namespace, h->key, h->value);
  if (rc == TERN_EINVAL) return reply_code(c, req, TERN_RESP_SYSTEM_ERROR, "namespace or key is null");
  if (rc == TERN_ETOOBIG) return reply_code(c, req, TERN_RESP_SYSTEM_ERROR, "KV config is full");
  if (rc) return rc;
  return reply_after_save(ns, c, req);
}

static int get_kv_config(void *ctx, tern_conn_t *c, const tern_cmd_t *req, const tern_hdr_get_kv_config_request_t *h) {
  tern_namesrv_t *ns = ctx;
  tern_hdr_get_kv_config_response_t rh;
  tern_cmd_t resp;
  memset(&rh, 0, sizeof rh);
  if (tern_ns_kv_get(&ns->kv, h->namespace, h->key, &rh.value) != 0)
    return reply_code(c, req, TERN_RESP_QUERY_NOT_FOUND,
                      remarkf(ns, "No config item", "No config item, Namespace: %.*s Key: %.*s",
                              TERN_STR_ARG(h->namespace), TERN_STR_ARG(h->key)));
  rh.present = TERN_HDR_GET_KV_CONFIG_RESPONSE_HAS_VALUE;
  resp_init(&resp, TERN_RESP_SUCCESS);
  if (tern_hdr_get_kv_config_response_encode(&rh, &resp, &ns->arena)) return TERN_ENOMEM;
  tern_conn_reply(c, req, &resp);
  return 0;
}

static int delete_kv_config(void *ctx, tern_conn_t *c, const tern_cmd_t *req,
                            const tern_hdr_delete_kv_config_request_t *h) {
  tern_namesrv_t *ns = ctx;
  /* As RocketMQ: deleting an absent key succeeds without a write. */
  if (!tern_ns_kv_unset(&ns->kv, h->namespace, h->key)) return reply_code(c, req, TERN_RESP_SUCCESS, NULL);
  return reply_after_save(ns, c, req);
}

/* Encodes a namespace as a KVTable into ns->out; TERN_ENOTFOUND when empty. */
static int encode_kv_table(tern_namesrv_t *ns, tern_str_t namespace) {
  tern_str_t *keys, *vals;
  uint32_t n;
  tern_body_kv_table_t t;
  int rc = tern_ns_kv_list(&ns->kv, namespace, &ns->arena, &keys, &vals, &n);
  if (rc) return rc;
  memset(&t, 0, sizeof t);
  t.table.v = tern_arena_calloc(&ns->arena, n, sizeof *t.table.v);
  if (!t.table.v) return TERN_ENOMEM;
  for (uint32_t i = 0; i < n; i++) {
    t.table.v[i].key = keys[i];
    t.table.v[i].val = vals[i];
  }
  t.table.n = n;
  t.has = TERN_BODY_KV_TABLE_HAS_TABLE;
  tern_buf_reset(&ns->out);
  tern_body_kv_table_encode(&t, &ns->out, 0);
  return ns->out.err;
}

static int get_kvlist_by_namespace(void *ctx, tern_conn_t *c, const tern_cmd_t *req,
                                   const tern_hdr_get_kv_list_by_namespace_request_t *h) {
  tern_namesrv_t *ns = ctx;
  tern_cmd_t resp;
  int rc = encode_kv_table(ns, h->namespace);
  if (rc == TERN_ENOTFOUND)
    return reply_code(c, req, TERN_RESP_QUERY_NOT_FOUND,
                      remarkf(ns, "No config item", "No config item, Namespace: %.*s", TERN_STR_ARG(h->namespace)));
  if (rc) return rc;
  resp_init(&resp, TERN_RESP_SUCCESS);
  return reply_body(c, req, &resp, &ns->out);
}

/* ---- broker registration (103, 104, 322, 904) ---- */

/* Decodes whichever body form the request carries into a RegisterBrokerBody. */
static int decode_register_body(tern_namesrv_t *ns, const tern_cmd_t *req, const tern_hdr_register_broker_request_t *h,
                                tern_body_register_broker_body_t *body, tern_err_t *err) {
  memset(body, 0, sizeof *body);
  if (!req->body.n) return 0; /* no body: no topics, DataVersion {0, 0} */
  if (h->compressed) return tern_body_register_broker_body_decode_compressed(req->body, 0, &ns->arena, body, err);
  if (req->version < NS_MIN_VERSION_REGISTER_BODY) {
    body->has = TERN_BODY_REGISTER_BROKER_BODY_HAS_TOPIC_CONFIG_SERIALIZE_WRAPPER;
    return tern_body_topic_config_serialize_wrapper_decode(req->body, &ns->arena,
                                                           &body->topic_config_serialize_wrapper, err);
  }
  return tern_body_register_broker_body_decode(req->body, &ns->arena, body, err);
}

static int register_broker(void *ctx, tern_conn_t *c, const tern_cmd_t *req,
                           const tern_hdr_register_broker_request_t *h) {
  tern_namesrv_t *ns = ctx;
  tern_body_register_broker_body_t body;
  const tern_body_topic_config_serialize_wrapper_t *w = &body.topic_config_serialize_wrapper;
  tern_ns_register_t r;
  tern_ns_register_result_t res;
  tern_hdr_register_broker_response_t rh;
  tern_ns_topic_conf_t *topics = NULL;
  tern_err_t err = {0};
  tern_cmd_t resp;
  int rc;

  /* Step 1: the 4.9 body checksum of the raw body bytes (0 = not sent):
   * zlib CRC32 & 0x7FFFFFFF (reference §5.3), as the broker computes it. */
  if (h->body_crc32 != 0 && (int32_t)tern_crc32_body((const uint8_t *)req->body.p, req->body.n) != h->body_crc32)
    return reply_code(c, req, TERN_RESP_SYSTEM_ERROR, "crc32 not match");
  if (decode_register_body(ns, req, h, &body, &err))
    return reply_code(c, req, TERN_RESP_SYSTEM_ERROR,
                      remarkf(ns, "bad register body", "bad register body: %s%s%s",
                              err.reason ? err.reason : "malformed", err.field ? ": " : "",
                              err.field ? err.field : ""));

  memset(&r, 0, sizeof r);
  r.cluster = h->cluster_name;
  r.broker_addr = h->broker_addr;
  r.broker_name = h->broker_name;
  r.ha_addr = h->ha_server_addr;
  r.broker_id = h->broker_id;
  r.timeout_ms = (h->present & TERN_HDR_REGISTER_BROKER_REQUEST_HAS_HEARTBEAT_TIMEOUT_MILLIS)
                     ? h->heartbeat_timeout_millis
                     : ns->conf.broker_expire_ms;
  r.dv.timestamp = w->data_version.timestamp;
  r.dv.counter = w->data_version.counter;
  r.dv.state_version = w->data_version.state_version;
  if (w->topic_config_table.n) {
    topics = tern_arena_calloc(&ns->arena, w->topic_config_table.n, sizeof *topics);
    if (!topics) return TERN_ENOMEM;
    for (uint32_t i = 0; i < w->topic_config_table.n; i++) {
      const tern_body_topic_config_t *tc = &w->topic_config_table.v[i].val;
      /* The map key is the topic; topicName inside wins when present, as Java
       * registers by TopicConfig.getTopicName(). */
      topics[i].name = tc->topic_name.n ? tc->topic_name : w->topic_config_table.v[i].key;
      topics[i].read_queue_nums = tc->read_queue_nums;
      topics[i].write_queue_nums = tc->write_queue_nums;
      topics[i].perm = tc->perm;
      topics[i].topic_sys_flag = tc->topic_sys_flag;
    }
  }
  r.topics = topics;
  r.n_topics = w->topic_config_table.n;
  /* As 4.9: a RegisterBrokerBody always carries the list (a missing body
   * counts as an empty one and clears the stored servers); the pre-3.0.11
   * path passes none and leaves them alone. */
  r.has_filter_list = req->version >= NS_MIN_VERSION_REGISTER_BODY;
  r.filter = body.filter_server_list.v;
  r.n_filter = body.filter_server_list.n;
  r.conn = c;
  rc = tern_ns_routes_register(&ns->routes, &r, now_ms(), &res);
  if (rc == TERN_EINVAL) return reply_code(c, req, TERN_RESP_SYSTEM_ERROR, "empty clusterName, brokerName or brokerAddr");
  if (rc) return rc;

  resp_init(&resp, TERN_RESP_SUCCESS);
  memset(&rh, 0, sizeof rh);
  if (res.master_addr.n) {
    rh.master_addr = res.master_addr;
    rh.ha_server_addr = res.ha_addr;
    rh.present = TERN_HDR_REGISTER_BROKER_RESPONSE_HAS_MASTER_ADDR | TERN_HDR_REGISTER_BROKER_RESPONSE_HAS_HA_SERVER_ADDR;
  }
  if (tern_hdr_register_broker_response_encode(&rh, &resp, &ns->arena)) return TERN_ENOMEM;
  /* Body: the ORDER_TOPIC_CONFIG namespace as a KVTable, absent when empty. */
  rc = encode_kv_table(ns, TERN_STR(TERN_NS_ORDER_TOPIC_CONFIG));
  if (rc == TERN_ENOTFOUND) tern_buf_reset(&ns->out);
  else if (rc) return rc;
  return reply_body(c, req, &resp, &ns->out);
}

static int unregister_broker(void *ctx, tern_conn_t *c, const tern_cmd_t *req,
                             const tern_hdr_un_register_broker_request_t *h) {
  tern_namesrv_t *ns = ctx;
  tern_ns_routes_unregister(&ns->routes, h->cluster_name, h->broker_addr, h->broker_name, h->broker_id);
  return reply_code(c, req, TERN_RESP_SUCCESS, NULL);
}

static int query_data_version(void *ctx, tern_conn_t *c, const tern_cmd_t *req,
                              const tern_hdr_query_data_version_request_t *h) {
  tern_namesrv_t *ns = ctx;
  tern_body_data_version_t dv;
  tern_ns_data_version_t sent;
  const tern_ns_data_version_t *stored;
  tern_hdr_query_data_version_response_t rh;
  tern_cmd_t resp;
  tern_err_t err = {0};
  bool changed;
  memset(&dv, 0, sizeof dv);
  if (tern_body_data_version_decode(req->body, &ns->arena, &dv, &err))
    return reply_code(c, req, TERN_RESP_SYSTEM_ERROR,
                      remarkf(ns, "bad DataVersion body", "bad DataVersion body: %s",
                              err.reason ? err.reason : "malformed"));
  sent.timestamp = dv.timestamp;
  sent.counter = dv.counter;
  sent.state_version = dv.state_version;
  tern_ns_routes_query_data_version(&ns->routes, h->broker_addr, &sent, now_ms(), &changed, &stored);
  memset(&rh, 0, sizeof rh);
  rh.changed = changed;
  rh.present = TERN_HDR_QUERY_DATA_VERSION_RESPONSE_HAS_CHANGED;
  resp_init(&resp, TERN_RESP_SUCCESS);
  if (tern_hdr_query_data_version_response_encode(&rh, &resp, &ns->arena)) return TERN_ENOMEM;
  tern_buf_reset(&ns->out);
  if (stored) {
    memset(&dv, 0, sizeof dv);
    dv.timestamp = stored->timestamp;
    dv.counter = stored->counter;
    dv.state_version = stored->state_version;
    dv.has = TERN_BODY_DATA_VERSION_HAS_TIMESTAMP | TERN_BODY_DATA_VERSION_HAS_COUNTER;
    if (stored->state_version) dv.has |= TERN_BODY_DATA_VERSION_HAS_STATE_VERSION;
    tern_body_data_version_encode(&dv, &ns->out, 0);
  }
  return reply_body(c, req, &resp, &ns->out);
}

static int broker_heartbeat(void *ctx, tern_conn_t *c, const tern_cmd_t *req,
                            const tern_hdr_broker_heartbeat_request_t *h) {
  tern_namesrv_t *ns = ctx;
  int64_t timeout = (h->present & TERN_HDR_BROKER_HEARTBEAT_REQUEST_HAS_HEARTBEAT_TIMEOUT_MILLS)
                        ? h->heartbeat_timeout_mills
                        : 0;
  tern_ns_routes_touch(&ns->routes, h->broker_addr, timeout, now_ms());
  return reply_code(c, req, TERN_RESP_SUCCESS, NULL);
}

/* ---- routes (105, 217) ---- */

static int entry_cmp(const void *a, const void *b) {
  const tern_body_map_str_list_str_entry_t *x = a, *y = b;
  size_t n = x->key.n < y->key.n ? x->key.n : y->key.n;
  int c = n ? memcmp(x->key.p, y->key.p, n) : 0;
  return c ? c : (x->key.n > y->key.n) - (x->key.n < y->key.n);
}

/* Builds the TopicRouteData of topic into ns->arena; false when the topic has
 * no route (no queue data, or none of its brokers known). */
static bool build_route(tern_namesrv_t *ns, const tern_ns_topic_t *t, tern_body_topic_route_data_t *rd) {
  uint32_t nf = 0;
  memset(rd, 0, sizeof rd[0]);
  rd->has = TERN_BODY_TOPIC_ROUTE_DATA_HAS_BROKER_DATAS | TERN_BODY_TOPIC_ROUTE_DATA_HAS_QUEUE_DATAS |
            TERN_BODY_TOPIC_ROUTE_DATA_HAS_FILTER_SERVER_TABLE;
  rd->queue_datas.v = tern_arena_calloc(&ns->arena, t->n, sizeof *rd->queue_datas.v);
  rd->broker_datas.v = tern_arena_calloc(&ns->arena, t->n, sizeof *rd->broker_datas.v);
  if (!rd->queue_datas.v || !rd->broker_datas.v) return false;
  for (uint32_t i = 0; i < t->n; i++) {
    const tern_ns_queue_t *q = &t->q[i];
    const tern_ns_group_t *g = q->group;
    tern_body_queue_data_t *qd = &rd->queue_datas.v[rd->queue_datas.n++];
    tern_body_broker_data_t *bd = &rd->broker_datas.v[rd->broker_datas.n++];
    qd->broker_name = g->name;
    qd->read_queue_nums = q->read_queue_nums;
    qd->write_queue_nums = q->write_queue_nums;
    qd->perm = q->perm;
    qd->topic_sys_flag = q->topic_sys_flag;
    qd->has = TERN_BODY_QUEUE_DATA_HAS_BROKER_NAME | TERN_BODY_QUEUE_DATA_HAS_PERM |
              TERN_BODY_QUEUE_DATA_HAS_READ_QUEUE_NUMS | TERN_BODY_QUEUE_DATA_HAS_WRITE_QUEUE_NUMS |
              TERN_BODY_QUEUE_DATA_HAS_TOPIC_SYS_FLAG;
    bd->broker_name = g->name;
    bd->cluster = g->cluster;
    bd->has = TERN_BODY_BROKER_DATA_HAS_BROKER_NAME | TERN_BODY_BROKER_DATA_HAS_CLUSTER |
              TERN_BODY_BROKER_DATA_HAS_BROKER_ADDRS;
    bd->broker_addrs.v = tern_arena_calloc(&ns->arena, g->n_addrs ? g->n_addrs : 1, sizeof *bd->broker_addrs.v);
    if (!bd->broker_addrs.v) return false;
    for (uint32_t k = 0; k < g->n_addrs; k++) {
      const tern_ns_live_t *l = tern_ns_routes_live(&ns->routes, g->addrs[k].addr);
      bd->broker_addrs.v[k].key = g->addrs[k].id;
      bd->broker_addrs.v[k].val = g->addrs[k].addr;
      if (l && l->n_filter) nf++;
    }
    bd->broker_addrs.n = g->n_addrs;
  }
  if (nf) {
    /* Filter servers per broker address (legacy; almost always empty). */
    rd->filter_server_table.v = tern_arena_calloc(&ns->arena, nf, sizeof *rd->filter_server_table.v);
    if (!rd->filter_server_table.v) return false;
    for (uint32_t i = 0; i < rd->broker_datas.n; i++) {
      const tern_body_broker_data_t *bd = &rd->broker_datas.v[i];
      for (uint32_t k = 0; k < bd->broker_addrs.n; k++) {
        const tern_ns_live_t *l = tern_ns_routes_live(&ns->routes, bd->broker_addrs.v[k].val);
        tern_body_map_str_list_str_entry_t *e;
        if (!l || !l->n_filter) continue;
        e = &rd->filter_server_table.v[rd->filter_server_table.n++];
        e->key = bd->broker_addrs.v[k].val;
        e->val.v = l->filter;
        e->val.n = l->n_filter;
      }
    }
    /* Sorted by address, as 4.9.4+ writes maps (MapSortField). */
    qsort(rd->filter_server_table.v, rd->filter_server_table.n, sizeof *rd->filter_server_table.v, entry_cmp);
  }
  return rd->broker_datas.n > 0;
}

static int get_routeinfo_by_topic(void *ctx, tern_conn_t *c, const tern_cmd_t *req,
                                  const tern_hdr_get_route_info_request_t *h) {
  tern_namesrv_t *ns = ctx;
  const tern_ns_topic_t *t = tern_ns_routes_topic(&ns->routes, h->topic);
  tern_body_topic_route_data_t rd;
  tern_cmd_t resp;
  unsigned flags;
  if (!t || !build_route(ns, t, &rd))
    return reply_code(c, req, TERN_RESP_TOPIC_NOT_EXIST,
                      remarkf(ns, "No topic route info in name server for the topic",
                              "No topic route info in name server for the topic: %.*s\n"
                              "See http://rocketmq.apache.org/docs/faq/ for further details.",
                              TERN_STR_ARG(h->topic)));
  if (ns->conf.order_message_enable) {
    tern_str_t conf;
    if (tern_ns_kv_get(&ns->kv, TERN_STR(TERN_NS_ORDER_TOPIC_CONFIG), h->topic, &conf) == 0) {
      rd.order_topic_conf = conf;
      rd.has |= TERN_BODY_TOPIC_ROUTE_DATA_HAS_ORDER_TOPIC_CONF;
    }
  }
  /* Standard JSON for 4.9.4+ clients or when asked; fastjson's unquoted
   * integer keys otherwise (reference §5.1). */
  flags = (req->version >= NS_MIN_VERSION_STANDARD_JSON || h->accept_standard_json_only) ? 0 : TERN_JSON_LEGACY_KEYS;
  tern_buf_reset(&ns->out);
  tern_body_topic_route_data_encode(&rd, &ns->out, flags);
  resp_init(&resp, TERN_RESP_SUCCESS);
  return reply_body(c, req, &resp, &ns->out);
}

static int register_topic_in_namesrv(void *ctx, tern_conn_t *c, const tern_cmd_t *req,
                                     const tern_hdr_register_topic_request_t *h) {
  tern_namesrv_t *ns = ctx;
  tern_body_topic_route_data_t rd;
  tern_err_t err = {0};
  tern_str_t *names;
  tern_ns_topic_conf_t *q;
  memset(&rd, 0, sizeof rd);
  if (req->body.n && tern_body_topic_route_data_decode(req->body, &ns->arena, &rd, &err))
    return reply_code(c, req, TERN_RESP_SYSTEM_ERROR,
                      remarkf(ns, "bad TopicRouteData body", "bad TopicRouteData body: %s",
                              err.reason ? err.reason : "malformed"));
  if (rd.queue_datas.n) {
    names = tern_arena_calloc(&ns->arena, rd.queue_datas.n, sizeof *names);
    q = tern_arena_calloc(&ns->arena, rd.queue_datas.n, sizeof *q);
    if (!names || !q) return TERN_ENOMEM;
    for (uint32_t i = 0; i < rd.queue_datas.n; i++) {
      names[i] = rd.queue_datas.v[i].broker_name;
      q[i].read_queue_nums = rd.queue_datas.v[i].read_queue_nums;
      q[i].write_queue_nums = rd.queue_datas.v[i].write_queue_nums;
      q[i].perm = rd.queue_datas.v[i].perm;
      q[i].topic_sys_flag = rd.queue_datas.v[i].topic_sys_flag;
    }
    /* As RocketMQ: a list naming an unknown broker is ignored (logged). */
    if (tern_ns_routes_register_topic(&ns->routes, h->topic, names, q, rd.queue_datas.n) == TERN_ENOTFOUND)
      tern_warn("namesrv: REGISTER_TOPIC_IN_NAMESRV %.*s names an unknown broker; ignored", TERN_STR_ARG(h->topic));
  }
  return reply_code(c, req, TERN_RESP_SUCCESS, NULL);
}

/* ---- cluster and topic lists (106, 206, 224, 304, 311-313) ---- */

static int get_broker_cluster_info(void *ctx, tern_conn_t *c, const tern_cmd_t *req) {
  tern_namesrv_t *ns = ctx;
  tern_body_cluster_info_t ci;
  tern_str_t *groups, *clusters;
  uint32_t ng, nc;
  tern_cmd_t resp;
  if (tern_ns_routes_sorted_keys(&ns->routes.groups, &ns->arena, &groups, &ng) ||
      tern_ns_routes_sorted_keys(&ns->routes.clusters, &ns->arena, &clusters, &nc))
    return TERN_ENOMEM;
  memset(&ci, 0, sizeof ci);
  ci.has = TERN_BODY_CLUSTER_INFO_HAS_BROKER_ADDR_TABLE | TERN_BODY_CLUSTER_INFO_HAS_CLUSTER_ADDR_TABLE;
  ci.broker_addr_table.v = tern_arena_calloc(&ns->arena, ng ? ng : 1, sizeof *ci.broker_addr_table.v);
  ci.cluster_addr_table.v = tern_arena_calloc(&ns->arena, nc ? nc : 1, sizeof *ci.cluster_addr_table.v);
  if (!ci.broker_addr_table.v || !ci.cluster_addr_table.v) return TERN_ENOMEM;
  for (uint32_t i = 0; i < ng; i++) {
    const tern_ns_group_t *g = tern_ns_routes_group(&ns->routes, groups[i]);
    tern_body_broker_data_t *bd = &ci.broker_addr_table.v[i].val;
    ci.broker_addr_table.v[i].key = g->name;
    bd->broker_name = g->name;
    bd->cluster = g->cluster;
    bd->has = TERN_BODY_BROKER_DATA_HAS_BROKER_NAME | TERN_BODY_BROKER_DATA_HAS_CLUSTER |
              TERN_BODY_BROKER_DATA_HAS_BROKER_ADDRS;
    bd->broker_addrs.v = tern_arena_calloc(&ns->arena, g->n_addrs ? g->n_addrs : 1, sizeof *bd->broker_addrs.v);
    if (!bd->broker_addrs.v) return TERN_ENOMEM;
    for (uint32_t k = 0; k < g->n_addrs; k++) {
      bd->broker_addrs.v[k].key = g->addrs[k].id;
      bd->broker_addrs.v[k].val = g->addrs[k].addr;
    }
    bd->broker_addrs.n = g->n_addrs;
  }
  ci.broker_addr_table.n = ng;
  for (uint32_t i = 0; i < nc; i++) {
    const tern_ns_cluster_t *cl = tern_strmap_get(&ns->routes.clusters, clusters[i]);
    ci.cluster_addr_table.v[i].key = cl->name;
    ci.cluster_addr_table.v[i].val = set_of(cl->brokers, cl->n);
  }
  ci.cluster_addr_table.n = nc;
  tern_buf_reset(&ns->out);
  /* Always fastjson's default (unquoted integer keys), as 4.9 and 5.x do. */
  tern_body_cluster_info_encode(&ci, &ns->out, TERN_JSON_LEGACY_KEYS);
  resp_init(&resp, TERN_RESP_SUCCESS);
  return reply_body(c, req, &resp, &ns->out);
}

static int get_all_topic_list_from_nameserver(void *ctx, tern_conn_t *c, const tern_cmd_t *req) {
  tern_namesrv_t *ns = ctx;
  tern_str_t *l;
  uint32_t n;
  if (!ns->conf.enable_all_topic_list) return reply_code(c, req, TERN_RESP_SYSTEM_ERROR, "disable");
  if (tern_ns_routes_all_topics(&ns->routes, &ns->arena, &l, &n)) return TERN_ENOMEM;
  return reply_topic_list(ns, c, req, l, n, TERN_STR_NULL);
}

static int get_topics_by_cluster(void *ctx, tern_conn_t *c, const tern_cmd_t *req,
                                 const tern_hdr_get_topics_by_cluster_request_t *h) {
  tern_namesrv_t *ns = ctx;
  tern_str_t *l;
  uint32_t n;
  if (tern_ns_routes_cluster_topics(&ns->routes, h->cluster, &ns->arena, &l, &n)) return TERN_ENOMEM;
  return reply_topic_list(ns, c, req, l, n, TERN_STR_NULL);
}

static int get_system_topic_list_from_ns(void *ctx, tern_conn_t *c, const tern_cmd_t *req) {
  tern_namesrv_t *ns = ctx;
  tern_str_t *l, first;
  uint32_t n;
  if (tern_ns_routes_system_topics(&ns->routes, &ns->arena, &l, &n, &first)) return TERN_ENOMEM;
  return reply_topic_list(ns, c, req, l, n, first);
}

static int unit_list(tern_namesrv_t *ns, tern_conn_t *c, const tern_cmd_t *req, int which) {
  tern_str_t *l;
  uint32_t n;
  if (tern_ns_routes_unit_topics(&ns->routes, which, &ns->arena, &l, &n)) return TERN_ENOMEM;
  return reply_topic_list(ns, c, req, l, n, TERN_STR_NULL);
}
static int get_unit_topic_list(void *ctx, tern_conn_t *c, const tern_cmd_t *req) {
  return unit_list(ctx, c, req, TERN_NS_UNIT);
}
static int get_has_unit_sub_topic_list(void *ctx, tern_conn_t *c, const tern_cmd_t *req) {
  return unit_list(ctx, c, req, TERN_NS_UNIT_SUB);
}
static int get_has_unit_sub_ununit_topic_list(void *ctx, tern_conn_t *c, const tern_cmd_t *req) {
  return unit_list(ctx, c, req, TERN_NS_UNIT_SUB_NOT_UNIT);
}

/* ---- admin mutations (205, 216, 327) ---- */

static int wipe_write_perm_of_broker(void *ctx, tern_conn_t *c, const tern_cmd_t *req,
                                     const tern_hdr_wipe_write_perm_of_broker_request_t *h) {
  tern_namesrv_t *ns = ctx;
  tern_hdr_wipe_write_perm_of_broker_response_t rh;
  tern_cmd_t resp;
  memset(&rh, 0, sizeof rh);
  rh.wipe_topic_count = tern_ns_routes_write_perm(&ns->routes, h->broker_name, true);
  rh.present = TERN_HDR_WIPE_WRITE_PERM_OF_BROKER_RESPONSE_HAS_WIPE_TOPIC_COUNT;
  resp_init(&resp, TERN_RESP_SUCCESS);
  if (tern_hdr_wipe_write_perm_of_broker_response_encode(&rh, &resp, &ns->arena)) return TERN_ENOMEM;
  tern_conn_reply(c, req, &resp);
  return 0;
}

static int add_write_perm_of_broker(void *ctx, tern_conn_t *c, const tern_cmd_t *req,
                                    const tern_hdr_add_write_perm_of_broker_request_t *h) {
  tern_namesrv_t *ns = ctx;
  tern_hdr_add_write_perm_of_broker_response_t rh;
  tern_cmd_t resp;
  memset(&rh, 0, sizeof rh);
  rh.add_topic_count = tern_ns_routes_write_perm(&ns->routes, h->broker_name, false);
  rh.present = TERN_HDR_ADD_WRITE_PERM_OF_BROKER_RESPONSE_HAS_ADD_TOPIC_COUNT;
  resp_init(&resp, TERN_RESP_SUCCESS);
  if (tern_hdr_add_write_perm_of_broker_response_encode(&rh, &resp, &ns->arena)) return TERN_ENOMEM;
  tern_conn_reply(c, req, &resp);
  return 0;
}

static int delete_topic_in_namesrv(void *ctx, tern_conn_t *c, const tern_cmd_t *req,
                                   const tern_hdr_delete_topic_from_namesrv_request_t *h) {
  tern_namesrv_t *ns = ctx;
  tern_ns_routes_delete_topic(&ns->routes, h->topic, h->cluster_name);
  return reply_code(c, req, TERN_RESP_SUCCESS, NULL);
}

/* ---- name-server config (318, 319) ---- */

static int get_namesrv_config(void *ctx, tern_conn_t *c, const tern_cmd_t *req) {
  tern_namesrv_t *ns = ctx;
  char *text = NULL;
  size_t len = 0;
  FILE *f;
  tern_cmd_t resp;
  if (!ns->cfg) return reply_code(c, req, TERN_RESP_SYSTEM_ERROR, "no configuration registry");
  f = open_memstream(&text, &len);
  if (!f) return TERN_ENOMEM;
  tern_config_print(ns->cfg, f, false);
  fclose(f);
  tern_buf_reset(&ns->out);
  tern_buf_append(&ns->out, text, len);
  free(text);
  resp_init(&resp, TERN_RESP_SUCCESS);
  return reply_body(c, req, &resp, &ns->out);
}

/* Keys UPDATE_NAMESRV_CONFIG may not change (RocketMQ's configBlackList plus
 * the ones that only make sense at start-up). */
static bool blacklisted(tern_str_t key) {
  static const char *const deny[] = {"configBlackList", "configStorePath", "kvConfigPath", "rocketmqHome",
                                     "listenPort", "bindAddress"};
  for (size_t i = 0; i < TERN_ARRAY_SIZE(deny); i++)
    if (tern_str_eq_cstr(key, deny[i])) return true;
  return false;
}

static int update_namesrv_config(void *ctx, tern_conn_t *c, const tern_cmd_t *req) {
  tern_namesrv_t *ns = ctx;
  tern_props_lexer_t lx;
  tern_props_entry_t e;
  tern_buf_t scratch;
  tern_err_t err = {0};
  char *text;
  int rc, bad = 0;
  if (!ns->cfg) return reply_code(c, req, TERN_RESP_SYSTEM_ERROR, "no configuration registry");
  /* The lexer wants a NUL sentinel after the text. */
  text = tern_arena_alloc(&ns->arena, req->body.n + 1);
  if (!text) return TERN_ENOMEM;
  if (req->body.n) memcpy(text, req->body.p, req->body.n);
  text[req->body.n] = '\0';
  /* First pass: refuse the whole update if it touches a protected key. */
  tern_buf_init(&scratch, (size_t)1 << 20);
  tern_props_init(&lx, text, req->body.n);
  while ((rc = tern_props_next(&lx, &scratch, &e, &err)) == 1)
    if (blacklisted(e.key)) bad = 1;
  if (rc < 0 || bad) {
    tern_buf_free(&scratch);
    return reply_code(c, req, rc < 0 ? TERN_RESP_SYSTEM_ERROR : TERN_RESP_NO_PERMISSION,
                      rc < 0 ? "malformed properties body" : "Can not update config in black list.");
  }
  tern_props_init(&lx, text, req->body.n);
  while ((rc = tern_props_next(&lx, &scratch, &e, &err)) == 1) {
    int r = tern_config_set(ns->cfg, e.key, e.val, "UPDATE_NAMESRV_CONFIG", e.line);
    if (r && r != TERN_ENOTFOUND) {
      const char *why = remarkf(ns, "bad config value", "%s", ns->cfg->errmsg);
      tern_buf_free(&scratch);
      return reply_code(c, req, TERN_RESP_SYSTEM_ERROR, why);
    }
  }
  tern_buf_free(&scratch);
  return reply_code(c, req, TERN_RESP_SUCCESS, NULL);
}

/* ---- dispatch ---- */

static const tern_namesrv_handlers_t handlers = {
    .put_kv_config = put_kv_config,
    .get_kv_config = get_kv_config,
    .delete_kv_config = delete_kv_config,
    .register_broker = register_broker,
    .unregister_broker = unregister_broker,
    .get_routeinfo_by_topic = get_routeinfo_by_topic,
    .get_broker_cluster_info = get_broker_cluster_info,
    .wipe_write_perm_of_broker = wipe_write_perm_of_broker,
    .get_all_topic_list_from_nameserver = get_all_topic_list_from_nameserver,
    .delete_topic_in_namesrv = delete_topic_in_namesrv,
    .register_topic_in_namesrv = register_topic_in_namesrv,
    .get_kvlist_by_namespace = get_kvlist_by_namespace,
    .get_topics_by_cluster = get_topics_by_cluster,
    .get_system_topic_list_from_ns = get_system_topic_list_from_ns,
    .get_unit_topic_list = get_unit_topic_list,
    .get_has_unit_sub_topic_list = get_has_unit_sub_topic_list,
    .get_has_unit_sub_ununit_topic_list = get_has_unit_sub_ununit_topic_list,
    .update_namesrv_config = update_namesrv_config,
    .get_namesrv_config = get_namesrv_config,
    .query_data_version = query_data_version,
    .add_write_perm_of_broker = add_write_perm_of_broker,
    .broker_heartbeat = broker_heartbeat,
    /* GET_BROKER_MEMBER_GROUP (901, 5.x) has no generated body yet: answered
     * REQUEST_CODE_NOT_SUPPORTED by leaving it NULL. */
};

int tern_namesrv_handle(void *ctx, tern_conn_t *c, const tern_cmd_t *req, tern_err_t *err) {
  tern_namesrv_t *ns = ctx;
  /* Unknown codes (ENOTFOUND) become REQUEST_CODE_NOT_SUPPORTED and header
   * decode failures SYSTEM_ERROR with the decoder's reason, both answered by
   * the runtime. */
  int rc = tern_namesrv_dispatch(&handlers, ns, c, req, err);
  tern_arena_reset(&ns->arena);
  return rc;
}

void tern_namesrv_on_close(void *ctx, tern_conn_t *c) {
  tern_namesrv_t *ns = ctx;
  int n = tern_ns_liveness_conn_closed(&ns->routes, c);
  if (n > 0) tern_info("namesrv: connection %s closed, %d broker(s) removed", tern_conn_peer(c), n);
}

static void on_expired(void *ctx, void *conn, tern_str_t addr) {
  TERN_UNUSED(ctx);
  tern_warn("namesrv: broker %.*s expired (no registration within its timeout)", TERN_STR_ARG(addr));
  if (conn) tern_conn_close(conn);
}

int tern_namesrv_scan(tern_namesrv_t *ns, int64_t now) { return tern_ns_liveness_scan(&ns->routes, now, on_expired, ns); }
