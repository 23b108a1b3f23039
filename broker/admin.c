/* The broker's admin request codes (RocketMQ 4.9's AdminBrokerProcessor, as
 * mqadmin and the consoles use them; reference §5.15): topics
 * (UPDATE_AND_CREATE_TOPIC, DELETE_TOPIC_IN_BROKER, GET_ALL_TOPIC_CONFIG),
 * subscription groups (UPDATE_AND_CREATE_SUBSCRIPTIONGROUP,
 * GET_ALL_SUBSCRIPTIONGROUP_CONFIG, DELETE_SUBSCRIPTIONGROUP), broker config
 * and runtime info (GET/UPDATE_BROKER_CONFIG, GET_BROKER_RUNTIME_INFO),
 * offsets and statistics (GET_ALL_CONSUMER_OFFSET, GET_CONSUME_STATS,
 * GET_TOPIC_STATS_INFO, QUERY_TOPIC_CONSUME_BY_WHO). Bodies go through the
 * generated codecs; topics and offsets through the core's tables (broker.h).
 * Loop-thread only. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/statvfs.h>

#include "broker/clients.h"
#include "broker/locks.h"
#include "broker/subgroups.h"
#include "gen/codes.h"
#include "gen/message.h"
#include "runtime/clock.h"
#include "runtime/log.h"

#define SLAVE_REMARK "Can't modify topic or subscription group from slave broker, please execute it from master broker."

static tern_body_data_version_t config_version; /* of the broker's config (GET_BROKER_CONFIG header) */

static void scratch_reset(tern_broker_t *b) {
  tern_arena_reset(&b->arena);
  tern_buf_reset(&b->out);
}

static bool is_slave(const tern_broker_t *b) {
  return b->conf.broker_role && strcmp(b->conf.broker_role, "SLAVE") == 0;
}

static tern_subgroups_t *SG(tern_broker_t *b) { return b->clients->subgroups; }

static tern_str_t broker_name(const tern_broker_t *b) {
  return tern_str_from_cstr(b->conf.broker_name ? b->conf.broker_name : "");
}

/* Store time of the record at (topic, queue, offset), 0 when unknown
 * (messageStore.getMessageStoreTimeStamp). */
static int64_t store_time_at(tern_broker_t *b, tern_str_t topic, int32_t qid, int64_t offset) {
  tern_store_span_t span;
  tern_get_result_t res;
  tern_msg_record_t rec;
  tern_err_t err = {0};
  if (!b->store || offset < 0) return 0;
  memset(&res, 0, sizeof res);
  res.spans = &span;
  res.cap = 1;
  if (tern_store_get_messages(b->store, topic, qid, offset, 1, NULL, &res) || res.status != TERN_GET_FOUND || res.n < 1)
    return 0;
  if (tern_msg_record_decode(span.p, span.len, &rec, &err)) return 0;
  return rec.store_timestamp;
}

/* ---- topics ---- */

static int update_and_create_topic(void *ctx, tern_conn_t *c, const tern_cmd_t *req,
                                   const tern_hdr_create_topic_request_t *h) {
  tern_broker_t *b = ctx;
  tern_body_topic_config_t cfg;
  const char *bad;
  char remark[300];
  tern_cmd_t resp;
  int rc;
  if (is_slave(b)) return tern_broker_reply_code(c, req, TERN_RESP_SYSTEM_ERROR, SLAVE_REMARK);
  if ((bad = tern_broker_topic_check_name(h->topic)) != NULL) return tern_broker_reply_code(c, req, TERN_RESP_SYSTEM_ERROR, bad);
  if (tern_topic_is_system(h->topic)) {
    snprintf(remark, sizeof remark, "The topic[%.*s] is conflict with system topic.", TERN_STR_ARG(h->topic));
    return tern_broker_reply_code(c, req, TERN_RESP_SYSTEM_ERROR, remark);
  }
  memset(&cfg, 0, sizeof cfg);
  cfg.topic_name = h->topic;
  cfg.read_queue_nums = h->read_queue_nums;
  cfg.write_queue_nums = h->write_queue_nums;
  cfg.perm = h->perm;
  if (tern_str_eq_cstr(h->topic_filter_type, "SINGLE_TAG"))
    cfg.topic_filter_type = TERN_BODY_TOPIC_FILTER_TYPE_SINGLE_TAG;
  else if (tern_str_eq_cstr(h->topic_filter_type, "MULTI_TAG"))
    cfg.topic_filter_type = TERN_BODY_TOPIC_FILTER_TYPE_MULTI_TAG;
  else {
    snprintf(remark, sizeof remark, "No enum constant org.apache.rocketmq.common.TopicFilterType.%.*s",
             (int)(h->topic_filter_type.n > 100 ? 100 : h->topic_filter_type.n), h->topic_filter_type.p);
    return tern_broker_reply_code(c, req, TERN_RESP_SYSTEM_ERROR, remark);
  }
  if (cfg.read_queue_nums < 0 || cfg.write_queue_nums < 0 || cfg.read_queue_nums > 65535 ||
      cfg.write_queue_nums > 65535)
    return tern_broker_reply_code(c, req, TERN_RESP_SYSTEM_ERROR, "readQueueNums/writeQueueNums out of range");
  cfg.topic_sys_flag = (h->present & TERN_HDR_CREATE_TOPIC_REQUEST_HAS_TOPIC_SYS_FLAG) ? h->topic_sys_flag : 0;
  cfg.order = h->order;
  cfg.has = TERN_BODY_TOPIC_CONFIG_HAS_TOPIC_NAME | TERN_BODY_TOPIC_CONFIG_HAS_READ_QUEUE_NUMS |
            TERN_BODY_TOPIC_CONFIG_HAS_WRITE_QUEUE_NUMS | TERN_BODY_TOPIC_CONFIG_HAS_PERM |
            TERN_BODY_TOPIC_CONFIG_HAS_TOPIC_FILTER_TYPE | TERN_BODY_TOPIC_CONFIG_HAS_TOPIC_SYS_FLAG |
            TERN_BODY_TOPIC_CONFIG_HAS_ORDER;
  rc = tern_broker_topic_put(b, &cfg, true, NULL);
  if (rc) {
    snprintf(remark, sizeof remark, "create topic failed: %s", tern_strerror(rc));
    return tern_broker_reply_code(c, req, TERN_RESP_SYSTEM_ERROR, remark);
  }
  tern_info("broker: updateAndCreateTopic %.*s called by %s", TERN_STR_ARG(h->topic), tern_conn_peer(c));
  /* 4.9.8 answers SUCCESS with the remark of an unset response (reference §15). */
  tern_cmd_init(&resp);
  resp.code = TERN_RESP_SUCCESS;
  resp.has_remark = true;
  resp.remark = TERN_STR("not set any response code");
  tern_conn_reply(c, req, &resp);
  return 0;
}

static int delete_topic_in_broker(void *ctx, tern_conn_t *c, const tern_cmd_t *req,
                                  const tern_hdr_delete_topic_request_t *h) {
  tern_broker_t *b = ctx;
  char remark[300];
  if (is_slave(b)) return tern_broker_reply_code(c, req, TERN_RESP_SYSTEM_ERROR, SLAVE_REMARK);
  if (h->topic.n == 0) return tern_broker_reply_code(c, req, TERN_RESP_SYSTEM_ERROR, "The specified topic is blank.");
  if (tern_topic_is_system(h->topic)) {
    snprintf(remark, sizeof remark, "The topic[%.*s] is conflict with system topic.", TERN_STR_ARG(h->topic));
    return tern_broker_reply_code(c, req, TERN_RESP_SYSTEM_ERROR, remark);
  }
  tern_info("broker: deleteTopic called by %s, topic %.*s", tern_conn_peer(c), TERN_STR_ARG(h->topic));
  if (tern_broker_topic_find(b, h->topic)) tern_broker_topic_delete(b, h->topic);
  tern_broker_offset_remove(b, h->topic, TERN_STR_NULL);
  return tern_broker_reply_code(c, req, TERN_RESP_SUCCESS, NULL);
}

static int get_all_topic_config(void *ctx, tern_conn_t *c, const tern_cmd_t *req,
                                const tern_hdr_get_all_topic_config_request_t *h) {
  tern_broker_t *b = ctx;
  tern_body_topic_config_serialize_wrapper_t w;
  tern_body_map_str_topic_config_entry_t *v;
  tern_broker_topic_t *t;
  uint32_t n = 0, cap = 64;
  TERN_UNUSED(h);
  scratch_reset(b);
  v = malloc(cap * sizeof *v);
  if (!v) return TERN_ENOMEM;
  for (uint32_t i = 0; (t = tern_broker_topic_next(b, &i));) {
    if (n == cap) {
      tern_body_map_str_topic_config_entry_t *nv = realloc(v, 2 * cap * sizeof *v);
      if (!nv) {
        free(v);
        return TERN_ENOMEM;
      }
      v = nv;
      cap *= 2;
    }
    v[n].key = t->cfg.topic_name;
    v[n].val = t->cfg;
    n++;
  }
  if (n == 0) {
    free(v);
    return tern_broker_reply_code(c, req, TERN_RESP_SYSTEM_ERROR, "No topic in this broker");
  }
  memset(&w, 0, sizeof w);
  w.data_version = b->topics_version;
  w.topic_config_table.v = v;
  w.topic_config_table.n = n;
  w.has = TERN_BODY_TOPIC_CONFIG_SERIALIZE_WRAPPER_HAS_DATA_VERSION |
          TERN_BODY_TOPIC_CONFIG_SERIALIZE_WRAPPER_HAS_TOPIC_CONFIG_TABLE;
  tern_body_topic_config_serialize_wrapper_encode(&w, &b->out, 0);
  free(v);
  return tern_broker_reply_out(b, c, req);
}

/* ---- subscription groups ---- */

static int update_and_create_subscriptiongroup(void *ctx, tern_conn_t *c, const tern_cmd_t *req) {
  tern_broker_t *b = ctx;
  tern_body_subscription_group_config_t cfg;
  tern_err_t err = {0};
  char remark[300];
  if (is_slave(b)) return tern_broker_reply_code(c, req, TERN_RESP_SYSTEM_ERROR, SLAVE_REMARK);
  scratch_reset(b);
  if (tern_body_subscription_group_config_decode(req->body, &b->arena, &cfg, &err)) {
    snprintf(remark, sizeof remark, "SubscriptionGroupConfig: %s%s%s", err.reason ? err.reason : tern_strerror(err.code),
             err.field ? " " : "", err.field ? err.field : "");
    return tern_broker_reply_code(c, req, TERN_RESP_SYSTEM_ERROR, remark);
  }
  if (!tern_group_valid(cfg.group_name)) {
    snprintf(remark, sizeof remark, "the group name is illegal: %.*s",
             (int)(cfg.group_name.n > 200 ? 200 : cfg.group_name.n), cfg.group_name.p);
    return tern_broker_reply_code(c, req, TERN_RESP_SYSTEM_ERROR, remark);
  }
  tern_info("broker: updateAndCreateSubscriptionGroup called by %s, group %.*s", tern_conn_peer(c),
            TERN_STR_ARG(cfg.group_name));
  if (tern_subgroups_put(SG(b), &cfg)) return tern_broker_reply_code(c, req, TERN_RESP_SYSTEM_ERROR, "out of memory");
  return tern_broker_reply_code(c, req, TERN_RESP_SUCCESS, NULL);
}

static int get_all_subscriptiongroup_config(void *ctx, tern_conn_t *c, const tern_cmd_t *req,
                                            const tern_hdr_get_all_subscription_group_request_t *h) {
  tern_broker_t *b = ctx;
  TERN_UNUSED(h);
  scratch_reset(b);
  tern_subgroups_encode(SG(b), &b->out, 0);
  return tern_broker_reply_out(b, c, req);
}

static int delete_subscriptiongroup(void *ctx, tern_conn_t *c, const tern_cmd_t *req,
                                    const tern_hdr_delete_subscription_group_request_t *h) {
  tern_broker_t *b = ctx;
  if (is_slave(b)) return tern_broker_reply_code(c, req, TERN_RESP_SYSTEM_ERROR, SLAVE_REMARK);
  tern_info("broker: deleteSubscriptionGroup called by %s, group %.*s", tern_conn_peer(c), TERN_STR_ARG(h->group_name));
  if (tern_subgroups_delete(SG(b), h->group_name) == TERN_ENOTFOUND)
    tern_warn("broker: delete subscription group failed, subscription group not exist. %.*s",
              TERN_STR_ARG(h->group_name));
  if (h->remove_offset || h->clean_offset) tern_broker_offset_remove(b, TERN_STR_NULL, h->group_name);
  return tern_broker_reply_code(c, req, TERN_RESP_SUCCESS, NULL);
}

/* ---- broker config ---- */

static void config_version_next(void) {
  config_version.counter++;
  config_version.timestamp = (int64_t)tern_clock_now_ms();
  config_version.has = TERN_BODY_DATA_VERSION_HAS_COUNTER | TERN_BODY_DATA_VERSION_HAS_TIMESTAMP;
}

static int update_broker_config(void *ctx, tern_conn_t *c, const tern_cmd_t *req) {
  tern_broker_t *b = ctx;
  char *text;
  int rc;
  if (!b->cfg) return tern_broker_reply_code(c, req, TERN_RESP_SYSTEM_ERROR, "this broker has no config registry");
  text = malloc(req->body.n + 1);
  if (!text) return TERN_ENOMEM;
  if (req->body.n) memcpy(text, req->body.p, req->body.n);
  text[req->body.n] = '\0';
  tern_info("broker: updateBrokerConfig called by %s: %s", tern_conn_peer(c), text);
  rc = tern_config_load_text(b->cfg, "UPDATE_BROKER_CONFIG", text, req->body.n);
  free(text);
  if (rc) return tern_broker_reply_code(c, req, TERN_RESP_SYSTEM_ERROR, b->cfg->errmsg[0] ? b->cfg->errmsg : "string2Properties error");
  config_version_next();
  /* Settings of this part are read at once. */
  b->clients->conf = tern_broker_clients_conf;
  tern_broker_locks_set_lease(b->clients->locks, b->clients->conf.lock_max_live_time_ms);
  if (memmem(req->body.p, req->body.n, "brokerPermission", 16)) {
    b->topics_version.counter++;
    b->topics_version.timestamp = (int64_t)tern_clock_now_ms();
    tern_broker_register_all(b);
  }
  return tern_broker_reply_code(c, req, TERN_RESP_SUCCESS, NULL);
}

static int get_broker_config(void *ctx, tern_conn_t *c, const tern_cmd_t *req) {
  tern_broker_t *b = ctx;
  tern_hdr_get_broker_config_response_t rh;
  tern_cmd_t resp;
  tern_buf_t ver;
  char *text = NULL;
  size_t len = 0;
  FILE *f;
  int rc;
  if (!b->cfg) return tern_broker_reply_code(c, req, TERN_RESP_SYSTEM_ERROR, "this broker has no config registry");
  if (!config_version.has) config_version_next();
  scratch_reset(b);
  f = open_memstream(&text, &len);
  if (!f) return TERN_ENOMEM;
  tern_config_print(b->cfg, f, false);
  fclose(f);
  tern_buf_init(&ver, 0);
  tern_body_data_version_encode(&config_version, &ver, 0);
  memset(&rh, 0, sizeof rh);
  rh.present = TERN_HDR_GET_BROKER_CONFIG_RESPONSE_HAS_VERSION;
  rh.version = (tern_str_t){(const char *)ver.p, ver.len};
  tern_cmd_init(&resp);
  resp.code = TERN_RESP_SUCCESS;
  rc = ver.err ? ver.err : tern_hdr_get_broker_config_response_encode(&rh, &resp, &b->arena);
  if (rc == 0) {
    resp.body = (tern_str_t){text, len};
    tern_conn_reply(c, req, &resp);
  } else {
    tern_broker_reply_code(c, req, TERN_RESP_SYSTEM_ERROR, "could not encode the broker config");
  }
  tern_buf_free(&ver);
  free(text);
  return 0;
}

/* ---- runtime info ---- */

static void kv_put(tern_broker_t *b, tern_body_map_str_str_entry_t *v, uint32_t *n, uint32_t cap, const char *key,
                   const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static void kv_put(tern_broker_t *b, tern_body_map_str_str_entry_t *v, uint32_t *n, uint32_t cap, const char *key,
                   const char *fmt, ...) {
  char tmp[256];
  va_list ap;
  if (*n >= cap) return;
  va_start(ap, fmt);
  vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  v[*n].key = tern_str_from_cstr(key);
  v[*n].val = tern_arena_strdup(&b->arena, tern_str_from_cstr(tmp));
  if (v[*n].val.p) (*n)++;
}

static void human_bytes(char *dst, size_t cap, double bytes) {
  const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024 && u < 4) {
    bytes /= 1024;
    u++;
  }
  snprintf(dst, cap, "%.2f %s", bytes, units[u]);
}

static int get_broker_runtime_info(void *ctx, tern_conn_t *c, const tern_cmd_t *req) {
  tern_broker_t *b = ctx;
  tern_body_kv_table_t kv;
  tern_body_map_str_str_entry_t v[48];
  uint32_t n = 0;
  int64_t put_total = 0, min_off = 0, max_off = 0, earliest = -1;
  tern_broker_topic_t *t;
  struct statvfs sv;
  char total[32] = "0", freeb[32] = "0";
  double ratio = 0;
  scratch_reset(b);
  /* Messages in the consume queues (the store keeps no per-day counters). */
  for (uint32_t i = 0; (t = tern_broker_topic_next(b, &i));) {
    for (int32_t q = 0; b->store && q < t->cfg.write_queue_nums && q < 1024; q++) {
      int64_t mx = tern_store_get_max_offset(b->store, t->cfg.topic_name, q);
      int64_t mn = tern_store_get_min_offset(b->store, t->cfg.topic_name, q);
      if (mx > 0) put_total += mx;
      if (mx > mn && mn >= 0) {
        int64_t e = tern_store_earliest_store_time(b->store, t->cfg.topic_name, q);
        if (e > 0 && (earliest < 0 || e < earliest)) earliest = e;
      }
    }
  }
  if (b->store) {
    min_off = tern_store_commitlog_min_offset(b->store);
    max_off = tern_store_commitlog_max_offset(b->store);
  }
  if (b->store_conf.store_path_root_dir && statvfs(b->store_conf.store_path_root_dir, &sv) == 0 && sv.f_blocks) {
    human_bytes(total, sizeof total, (double)sv.f_blocks * sv.f_frsize);
    human_bytes(freeb, sizeof freeb, (double)sv.f_bavail * sv.f_frsize);
    ratio = 1.0 - (double)sv.f_bavail / (double)sv.f_blocks;
  }
  kv_put(b, v, &n, 48, "brokerVersionDesc", "V4_9_8");
  kv_put(b, v, &n, 48, "brokerVersion", "%d", b->loop ? (int)b->loop->opts.version : 409);
  kv_put(b, v, &n, 48, "msgPutTotalTodayNow", "%lld", (long long)put_total);
  kv_put(b, v, &n, 48, "msgPutTotalTodayMorning", "%d", 0);
  kv_put(b, v, &n, 48, "msgPutTotalYesterdayMorning", "%d", 0);
  kv_put(b, v, &n, 48, "msgGetTotalTodayNow", "%d", 0);
  kv_put(b, v, &n, 48, "msgGetTotalTodayMorning", "%d", 0);
  kv_put(b, v, &n, 48, "msgGetTotalYesterdayMorning", "%d", 0);
  /* One loop thread, no executor queues: these are truly zero. */
  kv_put(b, v, &n, 48, "sendThreadPoolQueueSize", "%d", 0);
  kv_put(b, v, &n, 48, "sendThreadPoolQueueCapacity", "%d", 10000);
  kv_put(b, v, &n, 48, "pullThreadPoolQueueSize", "%d", 0);
  kv_put(b, v, &n, 48, "pullThreadPoolQueueCapacity", "%d", 100000);
  kv_put(b, v, &n, 48, "queryThreadPoolQueueSize", "%d", 0);
  kv_put(b, v, &n, 48, "queryThreadPoolQueueCapacity", "%d", 20000);
  kv_put(b, v, &n, 48, "EndTransactionQueueSize", "%d", 0);
  kv_put(b, v, &n, 48, "EndTransactionThreadPoolQueueCapacity", "%d", 100000);
  kv_put(b, v, &n, 48, "sendThreadPoolQueueHeadWaitTimeMills", "%d", 0);
  kv_put(b, v, &n, 48, "pullThreadPoolQueueHeadWaitTimeMills", "%d", 0);
  kv_put(b, v, &n, 48, "queryThreadPoolQueueHeadWaitTimeMills", "%d", 0);
  /* The store dispatches each record on append. */
  kv_put(b, v, &n, 48, "dispatchBehindBytes", "%d", 0);
  kv_put(b, v, &n, 48, "pageCacheLockTimeMills", "%d", 0);
  kv_put(b, v, &n, 48, "earliestMessageTimeStamp", "%lld", (long long)earliest);
  kv_put(b, v, &n, 48, "commitLogMinOffset", "%lld", (long long)min_off);
  kv_put(b, v, &n, 48, "commitLogMaxOffset", "%lld", (long long)max_off);
  kv_put(b, v, &n, 48, "commitLogDirCapacity", "Total : %s, Free : %s.", total, freeb);
  kv_put(b, v, &n, 48, "commitLogDiskRatio", "%f", ratio);
  kv_put(b, v, &n, 48, "consumeQueueDiskRatio", "%f", ratio);
  kv_put(b, v, &n, 48, "bootTimestamp", "%lld", (long long)b->clients->boot_ms);
  kv_put(b, v, &n, 48, "runtime", "[ %lld days, %lld hours, %lld minutes, %lld seconds ]",
         (long long)((tern_clock_now_ms() - (uint64_t)b->clients->boot_ms) / 86400000),
         (long long)((tern_clock_now_ms() - (uint64_t)b->clients->boot_ms) / 3600000 % 24),
         (long long)((tern_clock_now_ms() - (uint64_t)b->clients->boot_ms) / 60000 % 60),
         (long long)((tern_clock_now_ms() - (uint64_t)b->clients->boot_ms) / 1000 % 60));
  memset(&kv, 0, sizeof kv);
  kv.table.v = v;
  kv.table.n = n;
  kv.has = TERN_BODY_KV_TABLE_HAS_TABLE;
  tern_body_kv_table_encode(&kv, &b->out, 0);
  return tern_broker_reply_out(b, c, req);
}

/* ---- offsets and statistics ---- */

static int get_all_consumer_offset(void *ctx, tern_conn_t *c, const tern_cmd_t *req) {
  tern_broker_t *b = ctx;
  tern_body_consumer_offset_serialize_wrapper_t w;
  tern_body_map_str_map_i32_i64_entry_t *v = NULL;
  tern_broker_offsets_t *o;
  uint32_t n = 0, cap = 0;
  scratch_reset(b);
  for (uint32_t i = 0; (o = tern_broker_offset_next(b, &i));) {
    tern_body_map_i32_i64_entry_t *q;
    uint32_t nq = 0;
    if (n == cap) {
      uint32_t ncap = cap ? cap * 2 : 32;
      tern_body_map_str_map_i32_i64_entry_t *nv = tern_arena_calloc(&b->arena, ncap, sizeof *nv);
      if (!nv) return TERN_ENOMEM;
      if (n) memcpy(nv, v, n * sizeof *nv);
      v = nv;
      cap = ncap;
    }
    q = tern_arena_calloc(&b->arena, o->n ? (size_t)o->n : 1, sizeof *q);
    if (!q) return TERN_ENOMEM;
    for (uint32_t k = 0; k < o->n; k++) {
      q[nq].key = o->q[k].queue_id;
      q[nq].val = o->q[k].offset;
      nq++;
    }
    v[n].key = tern_str_from_cstr(o->key);
    v[n].val.v = q;
    v[n].val.n = nq;
    n++;
  }
  memset(&w, 0, sizeof w);
  w.offset_table.v = v;
  w.offset_table.n = n;
  w.has = TERN_BODY_CONSUMER_OFFSET_SERIALIZE_WRAPPER_HAS_OFFSET_TABLE;
  tern_body_consumer_offset_serialize_wrapper_encode(&w, &b->out, TERN_JSON_LEGACY_KEYS);
  return tern_broker_reply_out(b, c, req);
}

/* Topics with committed offsets of `group` (whichTopicByConsumer) into names[]. */
static uint32_t topics_of_group(tern_broker_t *b, tern_str_t group, tern_str_t *names, uint32_t cap) {
  tern_broker_offsets_t *o;
  uint32_t n = 0;
  for (uint32_t i = 0; n < cap && (o = tern_broker_offset_next(b, &i));) {
    if (tern_str_eq(o->group, group)) names[n++] = o->topic;
  }
  return n;
}

static int get_consume_stats(void *ctx, tern_conn_t *c, const tern_cmd_t *req,
                             const tern_hdr_get_consume_stats_request_t *h) {
  tern_broker_t *b = ctx;
  tern_body_consume_stats_t cs;
  tern_body_map_message_queue_offset_wrapper_entry_t *v = NULL;
  tern_str_t topics[256];
  uint32_t nt, n = 0, cap = 0;
  tern_consumer_group_t *g;
  scratch_reset(b);
  if (h->topic.n) {
    topics[0] = h->topic;
    nt = 1;
  } else {
    nt = topics_of_group(b, h->consumer_group, topics, TERN_ARRAY_SIZE(topics));
  }
  g = tern_consumers_find(b->clients, h->consumer_group);
  for (uint32_t ti = 0; ti < nt; ti++) {
    tern_broker_topic_t *t = tern_broker_topic_find(b, topics[ti]);
    if (!t) {
      tern_warn("broker: consumeStats, topic config not exist, %.*s", TERN_STR_ARG(topics[ti]));
      continue;
    }
    if (g && g->n_subs && !tern_consumers_find_sub(g, topics[ti])) {
      tern_warn("broker: consumeStats, the consumer group[%.*s], topic[%.*s] not exist",
                TERN_STR_ARG(h->consumer_group), TERN_STR_ARG(topics[ti]));
      continue;
    }
    for (int32_t q = 0; q < t->cfg.read_queue_nums; q++) {
      tern_body_offset_wrapper_t ow;
      int64_t bo = b->store ? tern_store_get_max_offset(b->store, t->cfg.topic_name, q) : 0;
      int64_t co = tern_broker_offset_get(b, t->cfg.topic_name, h->consumer_group, q);
      if (n == cap) {
        uint32_t ncap = cap ? cap * 2 : 64;
        tern_body_map_message_queue_offset_wrapper_entry_t *nv = tern_arena_calloc(&b->arena, ncap, sizeof *nv);
        if (!nv) return TERN_ENOMEM;
        if (n) memcpy(nv, v, n * sizeof *nv);
        v = nv;
        cap = ncap;
      }
      if (bo < 0) bo = 0;
      if (co < 0) co = 0;
      memset(&ow, 0, sizeof ow);
      ow.broker_offset = bo;
      ow.consumer_offset = co;
      ow.last_timestamp = co - 1 >= 0 ? store_time_at(b, t->cfg.topic_name, q, co - 1) : 0;
      ow.has = TERN_BODY_OFFSET_WRAPPER_HAS_BROKER_OFFSET | TERN_BODY_OFFSET_WRAPPER_HAS_CONSUMER_OFFSET |
               TERN_BODY_OFFSET_WRAPPER_HAS_LAST_TIMESTAMP;
      memset(&v[n].key, 0, sizeof v[n].key);
      v[n].key.topic = t->cfg.topic_name;
      v[n].key.broker_name = broker_name(b);
      v[n].key.queue_id = q;
      v[n].key.has = TERN_BODY_MESSAGE_QUEUE_HAS_TOPIC | TERN_BODY_MESSAGE_QUEUE_HAS_BROKER_NAME |
                     TERN_BODY_MESSAGE_QUEUE_HAS_QUEUE_ID;
      v[n].val = ow;
      n++;
    }
  }
  memset(&cs, 0, sizeof cs);
  cs.offset_table.v = v;
  cs.offset_table.n = n;
  cs.consume_tps = 0; /* no per-group get statistics are kept */
  cs.has = TERN_BODY_CONSUME_STATS_HAS_OFFSET_TABLE | TERN_BODY_CONSUME_STATS_HAS_CONSUME_TPS;
  tern_body_consume_stats_encode(&cs, &b->out, 0);
  return tern_broker_reply_out(b, c, req);
}

static int get_topic_stats_info(void *ctx, tern_conn_t *c, const tern_cmd_t *req,
                                const tern_hdr_get_topic_stats_info_request_t *h) {
  tern_broker_t *b = ctx;
  tern_broker_topic_t *t = tern_broker_topic_find(b, h->topic);
  tern_body_topic_stats_table_t st;
  tern_body_map_message_queue_topic_offset_entry_t *v;
  char remark[300];
  int32_t nq;
  scratch_reset(b);
  if (!t) {
    snprintf(remark, sizeof remark, "topic[%.*s] not exist", TERN_STR_ARG(h->topic));
    return tern_broker_reply_code(c, req, TERN_RESP_TOPIC_NOT_EXIST, remark);
  }
  nq = t->cfg.write_queue_nums > 0 ? t->cfg.write_queue_nums : 0;
  v = tern_arena_calloc(&b->arena, nq ? (size_t)nq : 1, sizeof *v);
  if (!v) return TERN_ENOMEM;
  for (int32_t q = 0; q < nq; q++) {
    int64_t mn = b->store ? tern_store_get_min_offset(b->store, t->cfg.topic_name, q) : 0;
    int64_t mx = b->store ? tern_store_get_max_offset(b->store, t->cfg.topic_name, q) : 0;
    if (mn < 0) mn = 0;
    if (mx < 0) mx = 0;
    v[q].key.topic = t->cfg.topic_name;
    v[q].key.broker_name = broker_name(b);
    v[q].key.queue_id = q;
    v[q].key.has = TERN_BODY_MESSAGE_QUEUE_HAS_TOPIC | TERN_BODY_MESSAGE_QUEUE_HAS_BROKER_NAME |
                   TERN_BODY_MESSAGE_QUEUE_HAS_QUEUE_ID;
    v[q].val.min_offset = mn;
    v[q].val.max_offset = mx;
    v[q].val.last_update_timestamp = mx > 0 ? store_time_at(b, t->cfg.topic_name, q, mx - 1) : 0;
    v[q].val.has = TERN_BODY_TOPIC_OFFSET_HAS_MIN_OFFSET | TERN_BODY_TOPIC_OFFSET_HAS_MAX_OFFSET |
                   TERN_BODY_TOPIC_OFFSET_HAS_LAST_UPDATE_TIMESTAMP;
  }
  memset(&st, 0, sizeof st);
  st.offset_table.v = v;
  st.offset_table.n = (uint32_t)nq;
  st.has = TERN_BODY_TOPIC_STATS_TABLE_HAS_OFFSET_TABLE;
  tern_body_topic_stats_table_encode(&st, &b->out, 0);
  return tern_broker_reply_out(b, c, req);
}

static bool has_name(const tern_str_t *v, uint32_t n, tern_str_t s) {
  for (uint32_t i = 0; i < n; i++)
    if (tern_str_eq(v[i], s)) return true;
  return false;
}

static int query_topic_consume_by_who(void *ctx, tern_conn_t *c, const tern_cmd_t *req,
                                      const tern_hdr_query_topic_consume_by_who_request_t *h) {
  tern_broker_t *b = ctx;
  tern_body_group_list_t gl;
  const tern_strmap_slot_t *slot;
  tern_broker_offsets_t *o;
  tern_str_t *names;
  uint32_t n = 0, cap = b->clients->consumers.len + 64;
  scratch_reset(b);
  names = tern_arena_calloc(&b->arena, cap, sizeof *names);
  if (!names) return TERN_ENOMEM;
  for (uint32_t i = 0; n < cap && tern_strmap_next(&b->clients->consumers, &i, &slot);) {
    tern_consumer_group_t *g = slot->val;
    if (tern_consumers_find_sub(g, h->topic)) names[n++] = (tern_str_t){g->name, g->name_len};
  }
  for (uint32_t i = 0; (o = tern_broker_offset_next(b, &i));) {
    tern_str_t group = o->group;
    if (!tern_str_eq(o->topic, h->topic)) continue;
    if (has_name(names, n, group)) continue;
    if (n == cap) {
      tern_str_t *nv = tern_arena_calloc(&b->arena, cap * 2, sizeof *nv);
      if (!nv) return TERN_ENOMEM;
      memcpy(nv, names, n * sizeof *nv);
      names = nv;
      cap *= 2;
    }
    names[n++] = group;
  }
  memset(&gl, 0, sizeof gl);
  gl.group_list.v = names;
  gl.group_list.n = n;
  gl.has = TERN_BODY_GROUP_LIST_HAS_GROUP_LIST;
  tern_body_group_list_encode(&gl, &b->out, 0);
  return tern_broker_reply_out(b, c, req);
}

void tern_broker_admin_install(tern_broker_t *b, tern_broker_handlers_t *h) {
  TERN_UNUSED(b);
  h->update_and_create_topic = update_and_create_topic;
  h->delete_topic_in_broker = delete_topic_in_broker;
  h->get_all_topic_config = get_all_topic_config;
  h->update_and_create_subscriptiongroup = update_and_create_subscriptiongroup;
  h->get_all_subscriptiongroup_config = get_all_subscriptiongroup_config;
  h->delete_subscriptiongroup = delete_subscriptiongroup;
  h->update_broker_config = update_broker_config;
  h->get_broker_config = get_broker_config;
  h->get_broker_runtime_info = get_broker_runtime_info;
  h->get_all_consumer_offset = get_all_consumer_offset;
  h->get_consume_stats = get_consume_stats;
  h->get_topic_stats_info = get_topic_stats_info;
  h->query_topic_consume_by_who = query_topic_consume_by_who;
}
