/* The client-management part's entry point and client-facing handlers:
 * tern_broker_clients_install (wires every handler of this part into the
 * broker's table and fills b->hooks), this part's config keys, producer groups
 * (RocketMQ's ProducerManager), the channel-expiry timer, and the handlers of
 * HEART_BEAT, UNREGISTER_CLIENT, GET_CONSUMER_LIST_BY_GROUP,
 * CHECK_CLIENT_CONFIG, GET_CONSUMER_CONNECTION_LIST,
 * GET_PRODUCER_CONNECTION_LIST, LOCK_BATCH_MQ and UNLOCK_BATCH_MQ, following
 * RocketMQ 4.9's ClientManageProcessor and AdminBrokerProcessor (reference
 * §5.10, §5.13, §5.15). Bodies go through the generated codecs; per-request
 * memory is b->arena and b->out. Loop-thread only. */
#include "broker/clients.h"

#include <stdio.h>
#include <stdlib.h>

#include "broker/filter/sql92.h" /* CHECK_CLIENT_CONFIG compiles SQL92 subscriptions */
#include "broker/locks.h"
#include "broker/subgroups.h"
#include "broker/transaction.h" /* END_TRANSACTION and the check service, installed with this part */
#include "gen/codes.h"
#include "gen/message.h"
#include "runtime/clock.h"
#include "runtime/log.h"

/* ---- configuration ---- */

tern_broker_clients_conf_t tern_broker_clients_conf;
static bool conf_registered;

const tern_cfg_item_t tern_broker_clients_conf_items[] = {
    TERN_CFG_LONG(tern_broker_clients_conf_t, channel_expired_timeout_ms, "channelExpiredTimeoutMills", "120000", false,
                  "clients silent this long are dropped (Java: 120000, fixed)"),
    TERN_CFG_LONG(tern_broker_clients_conf_t, client_scan_interval_ms, "clientScanIntervalMills", "10000", false,
                  "period of the client expiry scan (Java: 10000, fixed)"),
    TERN_CFG_LONG(tern_broker_clients_conf_t, lock_max_live_time_ms, "rebalanceLockMaxLiveTime", "60000", false,
                  "orderly queue lock lease (Java -Drocketmq.broker.rebalance.lockMaxLiveTime)"),
    TERN_CFG_BOOL(tern_broker_clients_conf_t, notify_consumer_ids_changed_enable, "notifyConsumerIdsChangedEnable",
                  "true", false, "send NOTIFY_CONSUMER_IDS_CHANGED when a group changes"),
    TERN_CFG_BOOL(tern_broker_clients_conf_t, enable_property_filter, "enablePropertyFilter", "false", false,
                  "SQL92 filtering of pulls and CHECK_CLIENT_CONFIG (broker/filter)"),
};
const size_t tern_broker_clients_conf_n_items = TERN_ARRAY_SIZE(tern_broker_clients_conf_items);

int tern_broker_clients_conf_add(tern_config_t *cfg) {
  int rc = tern_config_add(cfg, tern_broker_clients_conf_items, tern_broker_clients_conf_n_items,
                           &tern_broker_clients_conf);
  if (rc == 0) conf_registered = true;
  return rc;
}

/* ---- helpers ---- */

static int64_t now_ms(void) { return (int64_t)tern_clock_now_ms(); }

static tern_broker_clients_t *CL(tern_broker_t *b) { return b->clients; }

/* "<prefix>: <reason> <field>" for a body that did not decode. */
static int reply_bad_body(tern_broker_t *b, tern_conn_t *c, const tern_cmd_t *req, const char *what,
                          const tern_err_t *err) {
  char msg[256];
  TERN_UNUSED(b);
  snprintf(msg, sizeof msg, "%s: %s%s%s", what, err->reason ? err->reason : tern_strerror(err->code),
           err->field ? " " : "", err->field ? err->field : "");
  return tern_broker_reply_code(c, req, TERN_RESP_SYSTEM_ERROR, msg);
}

static void scratch_reset(tern_broker_t *b) {
  tern_arena_reset(&b->arena);
  tern_buf_reset(&b->out);
}

/* ---- channel sets ---- */

tern_client_channel_t *tern_channel_set_find(tern_channel_set_t *s, tern_conn_t *c) {
  for (uint32_t i = 0; i < s->n; i++)
    if (s->v[i].conn == c) return &s->v[i];
  return NULL;
}

void tern_channel_set_remove_at(tern_channel_set_t *s, uint32_t i) {
  free(s->v[i].client_id);
  tern_conn_unref(s->v[i].conn);
  s->v[i] = s->v[s->n - 1];
  s->n--;
}

static int channel_set_add(tern_channel_set_t *s, tern_conn_t *c, tern_str_t client_id, tern_client_channel_t **out) {
  char *id = malloc(client_id.n + 1);
  if (!id) return TERN_ENOMEM;
  if (s->n == s->cap) {
    uint32_t cap = s->cap ? s->cap * 2 : 4;
    tern_client_channel_t *v = realloc(s->v, cap * sizeof *v);
    if (!v) {
      free(id);
      return TERN_ENOMEM;
    }
    s->v = v;
    s->cap = cap;
  }
  memcpy(id, client_id.p, client_id.n);
  id[client_id.n] = '\0';
  *out = &s->v[s->n++];
  memset(*out, 0, sizeof **out);
  (*out)->conn = c;
  (*out)->client_id = id;
  tern_conn_ref(c);
  return 0;
}

/* ---- producers (ProducerManager) ---- */

static void producer_group_free(tern_producer_group_t *g) {
  while (g->channels.n) tern_channel_set_remove_at(&g->channels, g->channels.n - 1);
  free(g->channels.v);
  free(g->name);
  free(g);
}

static int producer_register(tern_broker_clients_t *cl, tern_str_t group, tern_conn_t *c, tern_str_t client_id,
                             int32_t language, int32_t version, int64_t now) {
  tern_producer_group_t *g = tern_strmap_get(&cl->producers, group);
  tern_client_channel_t *ch;
  if (!g) {
    g = calloc(1, sizeof *g);
    if (!g || !(g->name = malloc(group.n + 1))) {
      free(g);
      return TERN_ENOMEM;
    }
    memcpy(g->name, group.p, group.n);
    g->name[group.n] = '\0';
    g->name_len = group.n;
    if (tern_strmap_put(&cl->producers, (tern_str_t){g->name, g->name_len}, g, NULL)) {
      producer_group_free(g);
      return TERN_ENOMEM;
    }
  }
  ch = tern_channel_set_find(&g->channels, c);
  if (!ch) {
    int rc = channel_set_add(&g->channels, c, client_id, &ch);
    if (rc) return rc;
    tern_info("broker: new producer connected, group: %s channel: %s", g->name, tern_conn_peer(c));
  }
  ch->language = language;
  ch->version = version;
  ch->last_update_ms = now;
  return 0;
}

static void producer_remove_channel(tern_broker_clients_t *cl, tern_producer_group_t *g, uint32_t i) {
  tern_channel_set_remove_at(&g->channels, i);
  if (g->channels.n == 0) {
    tern_strmap_del(&cl->producers, (tern_str_t){g->name, g->name_len});
    tern_info("broker: unregister a producer group[%s] from groupChannelTable", g->name);
    producer_group_free(g);
  }
}

static void producer_unregister(tern_broker_clients_t *cl, tern_str_t group, tern_conn_t *c) {
  tern_producer_group_t *g = tern_strmap_get(&cl->producers, group);
  tern_client_channel_t *ch;
  if (!g || !(ch = tern_channel_set_find(&g->channels, c))) return;
  tern_info("broker: unregister a producer[%s] from groupChannelTable %s", g->name, ch->client_id);
  producer_remove_channel(cl, g, (uint32_t)(ch - g->channels.v));
}

/* Removes channels of `only` (or silent ones when NULL) from every producer
 * group; expired connections are closed once the tables are consistent. */
static void producers_remove_where(tern_broker_clients_t *cl, tern_conn_t *only, int64_t expire_before) {
  bool again = true;
  tern_conn_t *close_v[32];
  size_t n_close = 0;
  while (again) {
    const tern_strmap_slot_t *slot;
    again = false;
    for (uint32_t i = 0; !again && tern_strmap_next(&cl->producers, &i, &slot);) {
      tern_producer_group_t *g = slot->val;
      for (uint32_t k = 0; k < g->channels.n; k++) {
        tern_client_channel_t *ch = &g->channels.v[k];
        if (only ? ch->conn != only : ch->last_update_ms >= expire_before) continue;
        if (!only) {
          tern_warn("broker: SCAN: remove expired channel[%s] from ProducerManager groupChannelTable, producer group name: %s",
                    tern_conn_peer(ch->conn), g->name);
          if (n_close < TERN_ARRAY_SIZE(close_v)) {
            tern_conn_ref(ch->conn);
            close_v[n_close++] = ch->conn;
          }
        }
        producer_remove_channel(cl, g, k);
        again = true; /* the map may have changed: start over */
        break;
      }
    }
  }
  for (size_t i = 0; i < n_close; i++) {
    tern_conn_close(close_v[i]);
    tern_conn_unref(close_v[i]);
  }
}

/* ---- HEART_BEAT (34) ---- */

static int heart_beat(void *ctx, tern_conn_t *c, const tern_cmd_t *req, const tern_hdr_heartbeat_request_t *h) {
  tern_broker_t *b = ctx;
  tern_broker_clients_t *cl = CL(b);
  tern_body_heartbeat_data_t hb;
  tern_err_t err = {0};
  int64_t now = now_ms();
  int32_t language = req->language >= 0 ? req->language : TERN_BODY_LANGUAGE_CODE_OTHER;
  TERN_UNUSED(h);
  scratch_reset(b);
  if (cl->stopping) return tern_broker_reply_code(c, req, TERN_RESP_SUCCESS, NULL); /* shutting down: nothing kept */
  if (tern_body_heartbeat_data_decode(req->body, &b->arena, &hb, &err))
    return reply_bad_body(b, c, req, "HeartbeatData", &err);
  for (uint32_t i = 0; i < hb.consumer_data_set.n; i++) {
    tern_body_consumer_data_t cd = hb.consumer_data_set.v[i];
    const tern_body_subscription_group_config_t *sg = tern_subgroups_find(cl->subgroups, cd.group_name, true);
    bool notify = true;
    int rc;
    if (sg) {
      char retry[TERN_GROUP_MAX_LEN + 16];
      size_t rn;
      notify = sg->notify_consumer_ids_changed_enable;
      if (tern_topic_retry_name(cd.group_name, retry, sizeof retry, &rn) == 0)
        tern_broker_topic_ensure(b, (tern_str_t){retry, rn}, sg->retry_queue_nums, TERN_PERM_READ | TERN_PERM_WRITE,
                                 cd.unit_mode ? 0x2 /* TopicSysFlag.buildSysFlag(false, true) */ : 0);
    }
    /* 5.x heartbeat v2: subscriptions left out because they did not change. */
    if (hb.heartbeat_fingerprint != 0 && hb.without_sub) {
      tern_consumer_group_t *g = tern_consumers_find(cl, cd.group_name);
      if (g) {
        cd.subscription_data_set.v = g->subs;
        cd.subscription_data_set.n = g->n_subs;
      }
    }
    rc = tern_consumers_register(cl, c, hb.client_id, language, req->version, &cd, notify, now);
    if (rc < 0) return tern_broker_reply_code(c, req, TERN_RESP_SYSTEM_ERROR, "out of memory registering the consumer");
    if (rc > 0)
      tern_info("broker: registerConsumer info changed, group %.*s client %.*s %s", TERN_STR_ARG(cd.group_name),
                TERN_STR_ARG(hb.client_id), tern_conn_peer(c));
  }
  for (uint32_t i = 0; i < hb.producer_data_set.n; i++) {
    if (producer_register(cl, hb.producer_data_set.v[i].group_name, c, hb.client_id, language, req->version, now))
      return tern_broker_reply_code(c, req, TERN_RESP_SYSTEM_ERROR, "out of memory registering the producer");
  }
  return tern_broker_reply_code(c, req, TERN_RESP_SUCCESS, NULL);
}

/* ---- UNREGISTER_CLIENT (35) ---- */

static int unregister_client(void *ctx, tern_conn_t *c, const tern_cmd_t *req,
                             const tern_hdr_unregister_client_request_t *h) {
  tern_broker_t *b = ctx;
  tern_broker_clients_t *cl = CL(b);
  if (h->present & TERN_HDR_UNREGISTER_CLIENT_REQUEST_HAS_PRODUCER_GROUP) producer_unregister(cl, h->producer_group, c);
  if (h->present & TERN_HDR_UNREGISTER_CLIENT_REQUEST_HAS_CONSUMER_GROUP) {
    const tern_body_subscription_group_config_t *sg = tern_subgroups_find(cl->subgroups, h->consumer_group, true);
    tern_consumers_unregister(cl, h->consumer_group, c, sg ? sg->notify_consumer_ids_changed_enable : true);
  }
  return tern_broker_reply_code(c, req, TERN_RESP_SUCCESS, NULL);
}

/* ---- GET_CONSUMER_LIST_BY_GROUP (38) ---- */

static int get_consumer_list_by_group(void *ctx, tern_conn_t *c, const tern_cmd_t *req,
                                      const tern_hdr_get_consumer_list_by_group_request_t *h) {
  tern_broker_t *b = ctx;
  tern_consumer_group_t *g = tern_consumers_find(CL(b), h->consumer_group);
  char remark[300];
  scratch_reset(b);
  if (g && g->channels.n) {
    tern_body_get_consumer_list_by_group_response_body_t body;
    tern_str_t *ids = tern_arena_calloc(&b->arena, g->channels.n, sizeof *ids);
    if (!ids) return TERN_ENOMEM;
    for (uint32_t i = 0; i < g->channels.n; i++) ids[i] = tern_str_from_cstr(g->channels.v[i].client_id);
    memset(&body, 0, sizeof body);
    body.consumer_id_list.v = ids;
    body.consumer_id_list.n = g->channels.n;
    body.has = TERN_BODY_GET_CONSUMER_LIST_BY_GROUP_RESPONSE_BODY_HAS_CONSUMER_ID_LIST;
    tern_body_get_consumer_list_by_group_response_body_encode(&body, &b->out, 0);
    return tern_broker_reply_out(b, c, req);
  }
  tern_warn("broker: getConsumerGroupInfo failed, %.*s %s", TERN_STR_ARG(h->consumer_group), tern_conn_peer(c));
  snprintf(remark, sizeof remark, "no consumer for this group, %.*s", TERN_STR_ARG(h->consumer_group));
  return tern_broker_reply_code(c, req, TERN_RESP_SYSTEM_ERROR, remark);
}

/* ---- CHECK_CLIENT_CONFIG (46) ---- */

static int check_client_config(void *ctx, tern_conn_t *c, const tern_cmd_t *req) {
  tern_broker_t *b = ctx;
  tern_body_check_client_request_body_t body;
  tern_err_t err = {0};
  tern_str_t type;
  char remark[200];
  scratch_reset(b);
  if (tern_body_check_client_request_body_decode(req->body, &b->arena, &body, &err))
    return reply_bad_body(b, c, req, "CheckClientRequestBody", &err);
  if (!(body.has & TERN_BODY_CHECK_CLIENT_REQUEST_BODY_HAS_SUBSCRIPTION_DATA))
    return tern_broker_reply_code(c, req, TERN_RESP_SUCCESS, NULL);
  type = body.subscription_data.expression_type;
  if (type.n == 0 || tern_str_eq_cstr(type, "TAG")) return tern_broker_reply_code(c, req, TERN_RESP_SUCCESS, NULL);
  if (!CL(b)->conf.enable_property_filter) {
    snprintf(remark, sizeof remark, "The broker does not support consumer to filter message by %.*s",
             (int)(type.n > 64 ? 64 : type.n), type.p);
    return tern_broker_reply_code(c, req, TERN_RESP_SYSTEM_ERROR, remark);
  }
  /* SQL92 (broker/filter/sql92.h): compile it as a pull would; an invalid expression is
   * SUBSCRIPTION_PARSE_FAILED with the parser's message (Java: e.getMessage()). Another type has
   * no filter factory in Java (a NullPointerException, caught the same way). */
  if (!tern_sql92_is_type(type)) {
    snprintf(remark, sizeof remark, "no filter for expression type %.*s", (int)(type.n > 64 ? 64 : type.n), type.p);
    return tern_broker_reply_code(c, req, TERN_RESP_SUBSCRIPTION_PARSE_FAILED, remark);
  }
  {
    tern_sql92_expr_t *expr;
    tern_str_t text = body.subscription_data.sub_string;
    int rc = tern_sql92_compile(text, &b->arena, NULL, &expr, &err);
    if (rc == 0) return tern_broker_reply_code(c, req, TERN_RESP_SUCCESS, NULL);
    tern_sql92_error_message(text, &err, remark, sizeof remark);
    return tern_broker_reply_code(c, req, TERN_RESP_SUBSCRIPTION_PARSE_FAILED, remark);
  }
}

/* ---- GET_CONSUMER_CONNECTION_LIST (203), GET_PRODUCER_CONNECTION_LIST (204) ---- */

static tern_body_connection_t *connections_of(tern_broker_t *b, const tern_channel_set_t *s) {
  tern_body_connection_t *v = tern_arena_calloc(&b->arena, s->n ? s->n : 1, sizeof *v);
  if (!v) return NULL;
  for (uint32_t i = 0; i < s->n; i++) {
    const tern_client_channel_t *ch = &s->v[i];
    v[i].client_id = tern_str_from_cstr(ch->client_id);
    v[i].client_addr = tern_arena_strdup(&b->arena, tern_str_from_cstr(tern_conn_peer(ch->conn)));
    v[i].language = ch->language >= 0 && ch->language < TERN_BODY_LANGUAGE_CODE__COUNT ? ch->language
                                                                                       : TERN_BODY_LANGUAGE_CODE_OTHER;
    v[i].version = ch->version;
    v[i].has = TERN_BODY_CONNECTION_HAS_CLIENT_ID | TERN_BODY_CONNECTION_HAS_CLIENT_ADDR |
               TERN_BODY_CONNECTION_HAS_LANGUAGE | TERN_BODY_CONNECTION_HAS_VERSION;
  }
  return v;
}

static int get_consumer_connection_list(void *ctx, tern_conn_t *c, const tern_cmd_t *req,
                                        const tern_hdr_get_consumer_connection_list_request_t *h) {
  tern_broker_t *b = ctx;
  tern_consumer_group_t *g = tern_consumers_find(CL(b), h->consumer_group);
  tern_body_consumer_connection_t body;
  tern_body_map_str_subscription_data_entry_t *subs;
  char remark[300];
  scratch_reset(b);
  if (!g) {
    snprintf(remark, sizeof remark, "the consumer group[%.*s] not online", TERN_STR_ARG(h->consumer_group));
    return tern_broker_reply_code(c, req, TERN_RESP_CONSUMER_NOT_ONLINE, remark);
  }
  memset(&body, 0, sizeof body);
  body.connection_set.v = connections_of(b, &g->channels);
  body.connection_set.n = g->channels.n;
  subs = tern_arena_calloc(&b->arena, g->n_subs ? g->n_subs : 1, sizeof *subs);
  if (!body.connection_set.v || !subs) return TERN_ENOMEM;
  for (uint32_t i = 0; i < g->n_subs; i++) {
    subs[i].key = g->subs[i].topic;
    subs[i].val = g->subs[i];
  }
  body.subscription_table.v = subs;
  body.subscription_table.n = g->n_subs;
  body.consume_type = g->consume_type;
  body.message_model = g->message_model;
  body.consume_from_where = g->consume_from_where;
  body.has = TERN_BODY_CONSUMER_CONNECTION_HAS_CONNECTION_SET | TERN_BODY_CONSUMER_CONNECTION_HAS_SUBSCRIPTION_TABLE |
             TERN_BODY_CONSUMER_CONNECTION_HAS_CONSUME_TYPE | TERN_BODY_CONSUMER_CONNECTION_HAS_MESSAGE_MODEL |
             TERN_BODY_CONSUMER_CONNECTION_HAS_CONSUME_FROM_WHERE;
  tern_body_consumer_connection_encode(&body, &b->out, 0);
  return tern_broker_reply_out(b, c, req);
}

static int get_producer_connection_list(void *ctx, tern_conn_t *c, const tern_cmd_t *req,
                                        const tern_hdr_get_producer_connection_list_request_t *h) {
  tern_broker_t *b = ctx;
  tern_producer_group_t *g = tern_strmap_get(&CL(b)->producers, h->producer_group);
  tern_body_producer_connection_t body;
  char remark[300];
  scratch_reset(b);
  if (!g) {
    snprintf(remark, sizeof remark, "the producer group[%.*s] not exist", TERN_STR_ARG(h->producer_group));
    return tern_broker_reply_code(c, req, TERN_RESP_SYSTEM_ERROR, remark);
  }
  memset(&body, 0, sizeof body);
  body.connection_set.v = connections_of(b, &g->channels);
  body.connection_set.n = g->channels.n;
  if (!body.connection_set.v) return TERN_ENOMEM;
  body.has = TERN_BODY_PRODUCER_CONNECTION_HAS_CONNECTION_SET;
  tern_body_producer_connection_encode(&body, &b->out, 0);
  return tern_broker_reply_out(b, c, req);
}

/* ---- LOCK_BATCH_MQ (41), UNLOCK_BATCH_MQ (42) ---- */

static int lock_batch_mq(void *ctx, tern_conn_t *c, const tern_cmd_t *req) {
  tern_broker_t *b = ctx;
  tern_body_lock_batch_request_body_t rb;
  tern_body_lock_batch_response_body_t resp;
  tern_body_message_queue_t *ok;
  tern_err_t err = {0};
  int64_t now = now_ms();
  uint32_t n = 0;
  scratch_reset(b);
  if (tern_body_lock_batch_request_body_decode(req->body, &b->arena, &rb, &err))
    return reply_bad_body(b, c, req, "LockBatchRequestBody", &err);
  if (!rb.consumer_group.n || !rb.client_id.n)
    return tern_broker_reply_code(c, req, TERN_RESP_SYSTEM_ERROR, "LockBatchRequestBody: consumerGroup and clientId are required");
  ok = tern_arena_calloc(&b->arena, rb.mq_set.n ? rb.mq_set.n : 1, sizeof *ok);
  if (!ok) return TERN_ENOMEM;
  for (uint32_t i = 0; i < rb.mq_set.n; i++)
    if (tern_broker_locks_try(CL(b)->locks, rb.consumer_group, &rb.mq_set.v[i], rb.client_id, now)) ok[n++] = rb.mq_set.v[i];
  memset(&resp, 0, sizeof resp);
  resp.lock_okmq_set.v = ok;
  resp.lock_okmq_set.n = n;
  resp.has = TERN_BODY_LOCK_BATCH_RESPONSE_BODY_HAS_LOCK_OKMQ_SET;
  tern_body_lock_batch_response_body_encode(&resp, &b->out, 0);
  return tern_broker_reply_out(b, c, req);
}

static int unlock_batch_mq(void *ctx, tern_conn_t *c, const tern_cmd_t *req) {
  tern_broker_t *b = ctx;
  tern_body_unlock_batch_request_body_t rb;
  tern_err_t err = {0};
  scratch_reset(b);
  if (tern_body_unlock_batch_request_body_decode(req->body, &b->arena, &rb, &err))
    return reply_bad_body(b, c, req, "UnlockBatchRequestBody", &err);
  if (!rb.consumer_group.n || !rb.client_id.n)
    return tern_broker_reply_code(c, req, TERN_RESP_SYSTEM_ERROR, "UnlockBatchRequestBody: consumerGroup and clientId are required");
  for (uint32_t i = 0; i < rb.mq_set.n; i++)
    tern_broker_locks_unlock(CL(b)->locks, rb.consumer_group, &rb.mq_set.v[i], rb.client_id);
  return tern_broker_reply_code(c, req, TERN_RESP_SUCCESS, NULL);
}

/* ---- hooks ---- */

int tern_broker_clients_find_subscription(tern_broker_t *b, tern_str_t group, tern_str_t topic,
                                          tern_broker_sub_t *out) {
  tern_consumer_group_t *g;
  const tern_body_subscription_data_t *s;
  if (!b->clients || !(g = tern_consumers_find(b->clients, group))) return TERN_ENOTFOUND;
  if (!(s = tern_consumers_find_sub(g, topic))) return 1;
  memset(out, 0, sizeof *out);
  out->sub_string = s->sub_string;
  out->expression_type = s->expression_type;
  out->sub_version = s->sub_version;
  out->codes = s->code_set.v;
  out->n_codes = s->code_set.n;
  out->sub_all = s->sub_string.n == 0 || tern_str_eq_cstr(s->sub_string, "*");
  out->class_filter_mode = s->class_filter_mode;
  return 0;
}

static const tern_body_subscription_group_config_t *find_group_config(tern_broker_t *b, tern_str_t group) {
  return b->clients ? tern_subgroups_find(b->clients->subgroups, group, true) : NULL;
}

static void on_conn_close(tern_broker_t *b, tern_conn_t *c) {
  tern_broker_clients_t *cl = CL(b);
  if (!cl) return;
  producers_remove_where(cl, c, 0);
  tern_consumers_conn_closed(cl, c);
}

static void scan_now(tern_broker_clients_t *cl) {
  int64_t now = now_ms();
  producers_remove_where(cl, NULL, now - cl->conf.channel_expired_timeout_ms);
  tern_consumers_scan(cl, now);
}

static void on_scan_timer(uv_timer_t *t) { scan_now(t->data); }

static void release_all(tern_broker_clients_t *cl) {
  const tern_strmap_slot_t *slot;
  for (uint32_t i = 0; tern_strmap_next(&cl->producers, &i, &slot);) producer_group_free(slot->val);
  tern_strmap_free(&cl->producers);
  tern_strmap_init(&cl->producers);
  tern_consumers_free_all(cl);
  tern_strmap_init(&cl->consumers);
}

static void on_shutdown(tern_broker_t *b) {
  tern_broker_clients_t *cl = CL(b);
  if (!cl) return;
  if (cl->timer_started) {
    uv_timer_stop(&cl->scan_timer);
    uv_close((uv_handle_t *)&cl->scan_timer, NULL);
    cl->timer_started = false;
  }
  cl->stopping = true;
  tern_broker_trans_stop(b); /* transaction check timer (transaction.c) */
  release_all(cl); /* drops the connection references while the loop runs */
}

int tern_broker_clients_install(tern_broker_t *b, tern_broker_handlers_t *h) {
  tern_broker_clients_t *cl = calloc(1, sizeof *cl);
  tern_err_t err = {0};
  int rc;
  if (!cl) return TERN_ENOMEM;
  cl->b = b;
  cl->boot_ms = now_ms();
  if (!conf_registered) { /* main.c did not register our keys: defaults */
    tern_config_t tmp;
    tern_config_init(&tmp, "mqbroker");
    tern_config_add(&tmp, tern_broker_clients_conf_items, tern_broker_clients_conf_n_items, &tern_broker_clients_conf);
    tern_config_free(&tmp);
  }
  cl->conf = tern_broker_clients_conf;
  if (cl->conf.channel_expired_timeout_ms <= 0) cl->conf.channel_expired_timeout_ms = 120000;
  if (cl->conf.client_scan_interval_ms <= 0) cl->conf.client_scan_interval_ms = 10000;
  tern_strmap_init(&cl->producers);
  tern_strmap_init(&cl->consumers);
  cl->locks = tern_broker_locks_new(cl->conf.lock_max_live_time_ms);
  if (!cl->locks) {
    free(cl);
    return TERN_ENOMEM;
  }
  rc = tern_subgroups_open(b, &cl->subgroups, &err);
  if (rc) {
    tern_error("broker: cannot load %s: %s", "subscriptionGroup.json", err.reason ? err.reason : tern_strerror(rc));
    tern_broker_locks_free(cl->locks);
    free(cl);
    return rc;
  }
  b->clients = cl;

  h->heart_beat = heart_beat;
  h->unregister_client = unregister_client;
  h->get_consumer_list_by_group = get_consumer_list_by_group;
  h->check_client_config = check_client_config;
  h->get_consumer_connection_list = get_consumer_connection_list;
  h->get_producer_connection_list = get_producer_connection_list;
  h->lock_batch_mq = lock_batch_mq;
  h->unlock_batch_mq = unlock_batch_mq;
  tern_broker_admin_install(b, h);
  tern_broker_sendback_install(b, h);
  if ((rc = tern_broker_trans_install(b, h))) return rc; /* END_TRANSACTION + check service (transaction.c) */

  b->hooks.find_subscription = tern_broker_clients_find_subscription;
  b->hooks.find_group_config = find_group_config;
  b->hooks.on_conn_close = on_conn_close;
  b->hooks.shutdown = on_shutdown;
  b->hooks.ctx = cl;

  if (b->loop && uv_timer_init(b->loop->uv, &cl->scan_timer) == 0) {
    cl->scan_timer.data = cl;
    uv_unref((uv_handle_t *)&cl->scan_timer);
    uv_timer_start(&cl->scan_timer, on_scan_timer, (uint64_t)cl->conf.client_scan_interval_ms,
                   (uint64_t)cl->conf.client_scan_interval_ms);
    cl->timer_started = true;
  }
  return 0;
}

void tern_broker_clients_free(tern_broker_t *b) {
  tern_broker_clients_t *cl = CL(b);
  if (!cl) return;
  release_all(cl);
  tern_strmap_free(&cl->producers);
  tern_strmap_free(&cl->consumers);
  tern_broker_locks_free(cl->locks);
  tern_subgroups_free(cl->subgroups);
  tern_broker_trans_free(b);
  free(cl);
  b->clients = NULL;
}
