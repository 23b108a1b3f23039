/* Message sending (SendMessageProcessor, reference §5.7): SEND_MESSAGE (10),
 * SEND_MESSAGE_V2 (310, converted to the V1 header by the generated
 * converter) and SEND_BATCH_MESSAGE (320; batch vs single is decided by the
 * header's batch flag, as Java does). Checks in 4.9.8's order (topic name,
 * forbidden topics, auto-creation from the default topic, queue id), retry
 * topics and the DLQ redirect, the stored properties (WAIT dropped, CLUSTER
 * added), the store status -> response code mapping with Java's remarks, and
 * MSG_REGION/TRACE_ON on every reply. With SYNC_FLUSH the reply is parked in
 * sendq.c until the group commit confirms it. Each stored message wakes the
 * suspended pulls of its queue. Loop-thread only.
 * Delayed messages go through schedule.c, half messages (TRAN_MSG=true)
 * through transaction.c. Not done: SEND_REPLY_MESSAGE (324/325). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>

#include "broker/broker_int.h"
#include "broker/ha/ha.h"
#include "broker/transaction.h"
#include "runtime/clock.h"
#include "runtime/log.h"

#define DLQ_NUMS_PER_GROUP 1
#define V3_4_9 121 /* MQVersion.Version.V3_4_9.ordinal(): maxReconsumeTimes honoured from here on */

static uint32_t rnd_state = 2463534242u;
static int32_t rnd_queue(int32_t n) {
  rnd_state ^= rnd_state << 13;
  rnd_state ^= rnd_state >> 17;
  rnd_state ^= rnd_state << 5;
  return (int32_t)(rnd_state % (uint32_t)n);
}

/* Adds MSG_REGION and TRACE_ON, which every send reply carries. */
static int add_send_ext(tern_broker_t *b, tern_cmd_t *resp) {
  int rc = tern_cmd_ext_add(resp, TERN_STR(TERN_HDR_SEND_MESSAGE_RESPONSE_EXTRA_MSG_REGION),
                            tern_str_from_cstr(b->conf.region_id ? b->conf.region_id : "DefaultRegion"));
  if (!rc)
    rc = tern_cmd_ext_add(resp, TERN_STR(TERN_HDR_SEND_MESSAGE_RESPONSE_EXTRA_TRACE_ON),
                          b->conf.trace_on ? TERN_STR("true") : TERN_STR("false"));
  return rc;
}

static int send_error(tern_broker_t *b, tern_conn_t *c, const tern_cmd_t *req, int32_t code, const char *remark) {
  tern_cmd_t resp;
  tern_broker_resp_init(&resp, code);
  if (remark) {
    resp.has_remark = true;
    resp.remark = tern_str_from_cstr(remark);
  }
  add_send_ext(b, &resp);
  tern_conn_reply(c, req, &resp);
  return 0;
}

int tern_broker_send_reply_ok(tern_broker_t *b, tern_conn_t *c, const tern_cmd_t *req, int32_t code, tern_str_t msg_id,
                              int32_t queue_id, int64_t queue_offset, tern_arena_t *scratch) {
  tern_cmd_t resp;
  tern_hdr_send_message_response_t rh;
  memset(&rh, 0, sizeof rh);
  tern_broker_resp_init(&resp, code);
  rh.msg_id = msg_id;
  rh.queue_id = queue_id;
  rh.queue_offset = queue_offset;
  rh.present = TERN_HDR_SEND_MESSAGE_RESPONSE_HAS_MSG_ID | TERN_HDR_SEND_MESSAGE_RESPONSE_HAS_QUEUE_ID |
               TERN_HDR_SEND_MESSAGE_RESPONSE_HAS_QUEUE_OFFSET;
  if (tern_hdr_send_message_response_encode(&rh, &resp, scratch) || add_send_ext(b, &resp))
    return send_error(b, c, req, TERN_RESP_SYSTEM_ERROR, "response header too large");
  tern_conn_reply(c, req, &resp);
  return 0;
}

/* "ip:port" / "[v6]:port" of a peer into a host record (0.0.0.0:0 when unknown). */
static void parse_host(const char *s, tern_host_t *h) {
  char ip[64];
  const char *colon = strrchr(s, ':');
  size_t n;
  memset(h, 0, sizeof *h);
  h->ip_len = 4;
  if (!colon) return;
  n = (size_t)(colon - s);
  if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
    s++;
    n -= 2;
  }
  if (n >= sizeof ip) return;
  memcpy(ip, s, n);
  ip[n] = 0;
  h->port = atoi(colon + 1);
  if (inet_pton(AF_INET, ip, h->ip) == 1) return;
  if (inet_pton(AF_INET6, ip, h->ip) == 1) {
    h->ip_len = 16;
    return;
  }
  memset(h->ip, 0, sizeof h->ip);
}

/* tern_msgid_encode with the store host's hex (the first 16 or 40 digits)
 * formatted once: only the offset's 16 digits change per message. */
static _Thread_local struct {
  tern_host_t host;
  char hex[TERN_MSGID_HEX_V6 + 1];
  size_t n; /* prefix digits; 0 = empty */
} id_cache;

static size_t msgid_hex(const tern_host_t *h, int64_t off, char *out) {
  static const char digits[] = "0123456789ABCDEF";
  uint64_t v = (uint64_t)off;
  if (!(id_cache.n && id_cache.host.ip_len == h->ip_len && id_cache.host.port == h->port &&
        memcmp(id_cache.host.ip, h->ip, sizeof h->ip) == 0)) {
    size_t n = tern_msgid_encode(h, off, out);
    if (n < 16) return n; /* not an IPv4/IPv6 host: nothing to cache */
    memcpy(id_cache.hex, out, n - 16);
    id_cache.n = n - 16;
    id_cache.host = *h;
    return n;
  }
  memcpy(out, id_cache.hex, id_cache.n);
  for (int i = 15; i >= 0; i--, v >>= 4) out[id_cache.n + (size_t)i] = digits[v & 15];
  out[id_cache.n + 16] = '\0';
  return id_cache.n + 16;
}

static const char *perm_string(int32_t perm, char out[4]) {
  out[0] = (perm & TERN_PERM_READ) ? 'R' : '-';
  out[1] = (perm & TERN_PERM_WRITE) ? 'W' : '-';
  out[2] = (perm & TERN_PERM_INHERIT) ? 'X' : '-';
  out[3] = 0;
  return out;
}

/* What one pass over the sent properties tells send_single: the hooks that act
 * only when a key is present (transaction.c on TRAN_MSG, schedule.c on DELAY)
 * are skipped when it is absent, and TAGS (the last one, as tern_props_get)
 * needs no second pass. */
typedef struct props_seen {
  bool tran, delay, has_tags;
  tern_str_t tags;
} props_seen_t;

#define KEY_IS(k, lit) ((k).n == sizeof(lit) - 1 && memcmp((k).p, lit, sizeof(lit) - 1) == 0)

/* tern_props_append for a pair from tern_props_cursor_next, whose key holds no
 * separator and whose value no 0x02: only the empty key or value it refuses
 * needs checking. */
static void put_prop(tern_buf_t *out, tern_str_t key, tern_str_t val) {
  uint8_t *d;
  if (key.n == 0 || val.n == 0 || tern_buf_reserve(out, key.n + val.n + 2)) return;
  d = out->p + out->len;
  memcpy(d, key.p, key.n);
  d[key.n] = TERN_PROPS_NAME_VALUE_SEP;
  memcpy(d + key.n + 1, val.p, val.n);
  d[key.n + 1 + val.n] = TERN_PROPS_SEP;
  out->len += key.n + val.n + 2;
}

/* The stored properties: the sent ones without WAIT and CLUSTER, then CLUSTER=<cluster>
 * (SendMessageProcessor). *wait gets Boolean.parseBoolean(WAIT), true when absent.
 * seen (may be NULL) records the keys above. */
static int build_props(tern_broker_t *b, tern_str_t in, bool drop_wait, tern_buf_t *out, bool *wait,
                       props_seen_t *seen) {
  tern_props_cursor_t cur;
  tern_prop_t p;
  props_seen_t dummy;
  tern_str_t cluster = tern_str_from_cstr(b->conf.broker_cluster_name);
  size_t guess = in.n + sizeof(TERN_PROP_CLUSTER) + cluster.n + 2;
  if (!seen) seen = &dummy;
  memset(seen, 0, sizeof *seen);
  *wait = true;
  tern_buf_reserve(out, guess < out->max ? guess : out->max); /* one allocation; the appends stay checked */
  tern_props_cursor_init(&cur, in);
  while (tern_props_cursor_next(&cur, &p) == 1) {
    if (KEY_IS(p.key, TERN_PROP_WAIT_STORE_MSG_OK)) {
      *wait = tern_str_to_bool(p.val);
      if (drop_wait) continue;
    } else if (KEY_IS(p.key, TERN_PROP_CLUSTER)) {
      continue;
    } else if (KEY_IS(p.key, TERN_PROP_TAGS)) {
      seen->has_tags = true;
      seen->tags = p.val;
    } else if (KEY_IS(p.key, TERN_PROP_TRANSACTION_PREPARED)) {
      seen->tran = true;
    } else if (KEY_IS(p.key, TERN_PROP_DELAY_TIME_LEVEL)) {
      seen->delay = true;
    }
    put_prop(out, p.key, p.val);
  }
  if (!memchr(cluster.p, TERN_PROPS_SEP, cluster.n)) /* refused by tern_props_append, as before */
    put_prop(out, TERN_STR(TERN_PROP_CLUSTER), cluster);
  return out->err;
}

/* The born host of a connection's peer, parsed once: a few entries keyed by the
 * connection and checked against its peer text (a reused connection struct
 * with another peer misses), so nothing needs invalidating on close. */
#define HOST_CACHE 8
static _Thread_local struct {
  const tern_conn_t *conn;
  char peer[64];
  tern_host_t host;
} host_cache[HOST_CACHE];

static void peer_host(tern_conn_t *c, tern_host_t *h) {
  const char *peer = tern_conn_peer(c);
  size_t n = strlen(peer);
  unsigned i = (unsigned)(((uintptr_t)c >> 4) % HOST_CACHE);
  if (host_cache[i].conn == c && n < sizeof host_cache[i].peer && memcmp(host_cache[i].peer, peer, n + 1) == 0) {
    *h = host_cache[i].host;
    return;
  }
  parse_host(peer, h);
  if (n < sizeof host_cache[i].peer) {
    host_cache[i].conn = c;
    memcpy(host_cache[i].peer, peer, n + 1);
    host_cache[i].host = *h;
  }
}

static const char *put_status_remark(tern_broker_t *b, tern_put_status_t st, int32_t *code) {
  switch (st) {
  case TERN_PUT_OK: *code = TERN_RESP_SUCCESS; return NULL;
  case TERN_PUT_FLUSH_DISK_TIMEOUT: *code = TERN_RESP_FLUSH_DISK_TIMEOUT; return NULL;
  case TERN_PUT_CREATE_MAPPED_FILE_FAILED:
    *code = TERN_RESP_SYSTEM_ERROR;
    return "create mapped file failed, server is busy or broken.";
  case TERN_PUT_MESSAGE_ILLEGAL:
  case TERN_PUT_PROPERTIES_SIZE_EXCEEDED:
    *code = TERN_RESP_MESSAGE_ILLEGAL;
    return tern_broker_remarkf(b,
                               "the message is illegal, maybe msg body or properties length not matched. msg body "
                               "length limit %dB, msg properties length limit 32KB.",
                               b->conf.max_message_size);
  case TERN_PUT_SERVICE_NOT_AVAILABLE:
    *code = TERN_RESP_SERVICE_NOT_AVAILABLE;
    return "service not available now. It may be caused by one of the following reasons: the broker's disk is full, "
           "messages are put to the slave, message store has been shut down, etc.";
  case TERN_PUT_UNKNOWN_ERROR:
  default: *code = TERN_RESP_SYSTEM_ERROR; return "UNKNOWN_ERROR";
  }
}

static _Thread_local char checked_topic[TERN_TOPIC_MAX_LEN];
static _Thread_local size_t checked_topic_n = SIZE_MAX;

/* msgCheck + handleRetryAndDLQ: the topic config to store into, or NULL after replying. */
static tern_broker_topic_t *check_topic(tern_broker_t *b, tern_conn_t *c, const tern_cmd_t *req,
                                        const tern_hdr_send_message_request_t *h, tern_str_t *topic, int32_t *qid) {
  tern_broker_topic_t *t;
  const char *why;
  char ps[4];
  int32_t valid;
  if (!(b->conf.broker_permission & TERN_PERM_WRITE) && (t = tern_broker_topic_find(b, h->topic)) && t->cfg.order) {
    send_error(b, c, req, TERN_RESP_NO_PERMISSION,
               tern_broker_remarkf(b, "the broker[%s] sending message is forbidden", b->store_host));
    return NULL;
  }
  /* both checks depend on the name only: the last name that passed them is remembered */
  if (!(h->topic.n == checked_topic_n && h->topic.n <= sizeof checked_topic &&
        memcmp(h->topic.p, checked_topic, h->topic.n) == 0)) {
    if ((why = tern_broker_topic_check_name(h->topic))) {
      send_error(b, c, req, TERN_RESP_SYSTEM_ERROR, why);
      return NULL;
    }
    if (!tern_topic_send_allowed(h->topic)) {
      send_error(b, c, req, TERN_RESP_NO_PERMISSION,
                 tern_broker_remarkf(b, "Sending message to topic[%.*s] is forbidden.", TERN_STR_ARG(h->topic)));
      return NULL;
    }
    if (h->topic.n <= sizeof checked_topic) {
      memcpy(checked_topic, h->topic.p, h->topic.n);
      checked_topic_n = h->topic.n;
    }
  }
  t = tern_broker_topic_find(b, h->topic);
  if (!t) {
    int32_t sys = 0;
    if (h->unit_mode) sys = tern_topic_is_retry(h->topic) ? 0x2 : 0x1; /* TopicSysFlag unit / unit-sub */
    t = tern_broker_topic_autocreate(b, h->topic, h->default_topic, h->default_topic_queue_nums, sys);
    if (!t && tern_topic_is_retry(h->topic))
      t = tern_broker_topic_ensure(b, h->topic, 1, TERN_PERM_READ | TERN_PERM_WRITE, sys);
    if (!t) {
      send_error(b, c, req, TERN_RESP_TOPIC_NOT_EXIST,
                 tern_broker_remarkf(b, "topic[%.*s] not exist, apply first please!" TERN_FAQ_SUFFIX(TERN_FAQ_APPLY_TOPIC),
                                     TERN_STR_ARG(h->topic)));
      return NULL;
    }
  }
  valid = t->cfg.write_queue_nums > t->cfg.read_queue_nums ? t->cfg.write_queue_nums : t->cfg.read_queue_nums;
  if (h->queue_id >= valid) {
    send_error(b, c, req, TERN_RESP_SYSTEM_ERROR,
               tern_broker_remarkf(b,
                                   "request queueId[%d] is illegal, TopicConfig [topicName=%s, readQueueNums=%d, "
                                   "writeQueueNums=%d, perm=%s, topicFilterType=%s, topicSysFlag=%d, order=%s] "
                                   "Producer: %s",
                                   h->queue_id, t->name, t->cfg.read_queue_nums, t->cfg.write_queue_nums,
                                   perm_string(t->cfg.perm, ps),
                                   t->cfg.topic_filter_type == TERN_BODY_TOPIC_FILTER_TYPE_MULTI_TAG ? "MULTI_TAG"
                                                                                                    : "SINGLE_TAG",
                                   t->cfg.topic_sys_flag, t->cfg.order ? "true" : "false", tern_conn_peer(c)));
    return NULL;
  }
  *qid = h->queue_id;
  if (*qid < 0) {
    if (t->cfg.write_queue_nums <= 0) {
      send_error(b, c, req, TERN_RESP_SYSTEM_ERROR, "the topic has no writable queue");
      return NULL;
    }
    *qid = rnd_queue(t->cfg.write_queue_nums);
  }
  *topic = tern_str_from_cstr(t->name);
  if (tern_topic_is_retry(h->topic)) {
    tern_str_t group = {h->topic.p + strlen(TERN_RETRY_TOPIC_PREFIX), h->topic.n - strlen(TERN_RETRY_TOPIC_PREFIX)};
    const tern_body_subscription_group_config_t *g = b->hooks.find_group_config ? b->hooks.find_group_config(b, group) : NULL;
    int32_t max_re = g ? g->retry_max_times : 16;
    if (b->hooks.find_group_config && !g) {
      send_error(b, c, req, TERN_RESP_SUBSCRIPTION_GROUP_NOT_EXIST,
                 tern_broker_remarkf(b, "subscription group not exist, %.*s " TERN_FAQ_SUFFIX(TERN_FAQ_SUBSCRIPTION_GROUP_NOT_EXIST),
                                     TERN_STR_ARG(group)));
      return NULL;
    }
    if (req->version >= V3_4_9 && (h->present & TERN_HDR_SEND_MESSAGE_REQUEST_HAS_MAX_RECONSUME_TIMES))
      max_re = h->max_reconsume_times;
    if (h->reconsume_times >= max_re) {
      char dlq[300];
      size_t n;
      tern_broker_topic_t *d;
      if (tern_topic_dlq_name(group, dlq, sizeof dlq, &n) ||
          !(d = tern_broker_topic_ensure(b, (tern_str_t){dlq, n}, DLQ_NUMS_PER_GROUP, TERN_PERM_READ | TERN_PERM_WRITE, 0))) {
        send_error(b, c, req, TERN_RESP_SYSTEM_ERROR, tern_broker_remarkf(b, "topic[%s] not exist", dlq));
        return NULL;
      }
      *topic = tern_str_from_cstr(d->name);
      *qid = rnd_queue(99999999) % DLQ_NUMS_PER_GROUP;
      /* delay level cleared: DELAY is not acted on anyway (see the file comment) */
    }
  }
  return t;
}

/* Replies now, or parks the reply until the disk confirms (SYNC_FLUSH). */
static int finish(tern_broker_t *b, tern_conn_t *c, const tern_cmd_t *req, const tern_put_result_t *res, bool wait,
                  tern_str_t msg_id, int32_t qid) {
  int32_t code;
  const char *remark = put_status_remark(b, res->status, &code);
  if (res->status != TERN_PUT_OK) return send_error(b, c, req, code, remark);
  /* HA hook (broker/ha/): SYNC_MASTER waits for a slave's ack, then for the disk when SYNC_FLUSH */
  if (wait && tern_broker_ha_sync_master(b))
    return tern_broker_ha_park(b, c, req, res->end_offset, msg_id, qid, res->queue_offset,
                               b->store_conf.flush_disk_type == TERN_FLUSH_SYNC);
  if (b->store_conf.flush_disk_type == TERN_FLUSH_SYNC && wait)
    return tern_broker_sendq_park(b, c, req, res->end_offset, msg_id, qid, res->queue_offset);
  return tern_broker_send_reply_ok(b, c, req, TERN_RESP_SUCCESS, msg_id, qid, res->queue_offset, &b->arena);
}

static bool busy(tern_broker_t *b, tern_conn_t *c, const tern_cmd_t *req) {
  size_t parked = tern_broker_sendq_parked(b);
  if (b->store_conf.flush_disk_type != TERN_FLUSH_SYNC || parked < (size_t)b->conf.max_parked_sends) return false;
  send_error(b, c, req, TERN_RESP_SYSTEM_BUSY,
             tern_broker_remarkf(b, "[PCBUSY_CLEAN_QUEUE]broker busy, start flow control for a while, size of queue: %zu",
                                 parked));
  return true;
}

static int32_t sys_flag_for(const tern_broker_topic_t *t, int32_t f) {
  if (t->cfg.topic_filter_type == TERN_BODY_TOPIC_FILTER_TYPE_MULTI_TAG) f |= TERN_SYSFLAG_MULTI_TAGS;
  return f;
}

static int send_single(tern_broker_t *b, tern_conn_t *c, const tern_cmd_t *req, const tern_hdr_send_message_request_t *h) {
  tern_broker_topic_t *t;
  tern_store_msg_t m;
  tern_put_result_t res;
  tern_buf_t props, sprops;
  tern_str_t topic, tags;
  props_seen_t seen;
  char idbuf[TERN_MSGID_HEX_V6 + 1];
  size_t idn;
  int32_t qid;
  bool wait;
  int rc;
  if (busy(b, c, req)) return 0;
  if (!(t = check_topic(b, c, req, h, &topic, &qid))) return 0;
  memset(&m, 0, sizeof m);
  tern_buf_init(&props, TERN_PROPS_MAX_LEN + 1);
  if (build_props(b, h->properties, true, &props, &wait, &seen)) {
    tern_buf_free(&props);
    return send_error(b, c, req, TERN_RESP_MESSAGE_ILLEGAL,
                      tern_broker_remarkf(b,
                                          "the message is illegal, maybe msg body or properties length not matched. "
                                          "msg body length limit %dB, msg properties length limit 32KB.",
                                          b->conf.max_message_size));
  }
  m.topic = topic;
  m.queue_id = qid;
  m.flag = h->flag;
  m.body = req->body;
  m.properties = (tern_str_t){(const char *)props.p, props.len};
  m.sys_flag = sys_flag_for(t, h->sys_flag);
  m.born_timestamp = h->born_timestamp;
  peer_host(c, &m.born_host);
  m.store_host = b->store_host_addr;
  m.reconsume_times = h->reconsume_times;
  /* transaction.c hook: TRAN_MSG=true goes to RMQ_SYS_TRANS_HALF_TOPIC queue 0 (reference 5.12) */
  int half = seen.tran ? tern_broker_trans_redirect(b, &m) : 0;
  if (half < 0) {
    tern_buf_free(&props);
    return send_error(b, c, req, TERN_RESP_NO_PERMISSION,
                      tern_broker_remarkf(b, "the broker[%s] sending transaction message is forbidden", b->store_host));
  }
  tern_buf_init(&sprops, TERN_PROPS_MAX_LEN + 1);
  if (seen.delay) tern_broker_sched_redirect(b, &m, &sprops); /* DELAY > 0: parked in SCHEDULE_TOPIC_XXXX */
  rc = tern_store_put(b->store, &m, &res);
  tern_buf_free(&props);
  tern_buf_free(&sprops);
  if (rc && res.status == TERN_PUT_OK) res.status = TERN_PUT_UNKNOWN_ERROR;
  if (res.status != TERN_PUT_OK) return finish(b, c, req, &res, wait, TERN_STR_NULL, qid);
  idn = msgid_hex(&b->store_host_addr, res.wrote_offset, idbuf);
  {
    tern_str_t id = tern_arena_strdup(&b->arena, (tern_str_t){idbuf, idn});
    if (!id.p) return TERN_ENOMEM;
    rc = finish(b, c, req, &res, wait, id, qid);
  }
  tags = seen.has_tags ? seen.tags : TERN_STR_NULL;
  if (!half && !tern_str_eq_cstr(m.topic, TERN_TOPIC_SCHEDULE)) tern_broker_lp_notify(b, topic, qid, tern_msg_tags_code(tags), true);
  return rc;
}

static int send_batch(tern_broker_t *b, tern_conn_t *c, const tern_cmd_t *req, const tern_hdr_send_message_request_t *h) {
  tern_broker_topic_t *t;
  tern_store_msg_t *ms;
  tern_put_result_t res;
  tern_batch_iter_t it;
  tern_batch_entry_t e;
  tern_buf_t bprops, all;
  tern_host_t born;
  tern_str_t topic;
  tern_err_t err = {0};
  size_t n = 0, k;
  int32_t qid;
  bool wait;
  int rc;
  const char *illegal = NULL;
  if (busy(b, c, req)) return 0;
  if (!(t = check_topic(b, c, req, h, &topic, &qid))) return 0;
  if (topic.n > 127)
    return send_error(b, c, req, TERN_RESP_MESSAGE_ILLEGAL,
                      tern_broker_remarkf(b, "message topic length too long %zu", topic.n));
  {
    tern_str_t dl;
    int32_t level = 0;
    if (tern_props_get(h->properties, TERN_PROP_DELAY_TIME_LEVEL, &dl) == 0) tern_str_to_i32(dl, &level);
    /* CommitLog.asyncPutMessages: batches cannot be delayed or transactional */
    if (req->body.n > (size_t)b->conf.max_message_size || tern_sysflag_transaction(h->sys_flag) != 0 || level > 0)
      illegal = "";
  }
  /* count and validate the entries */
  tern_batch_iter_init(&it, (const uint8_t *)req->body.p, req->body.n);
  while (!illegal && (rc = tern_batch_iter_next(&it, &e, &err)) == 1) n++;
  if (!illegal && (rc < 0 || n == 0)) illegal = "";
  if (illegal) {
    int32_t code;
    const char *remark = put_status_remark(b, TERN_PUT_MESSAGE_ILLEGAL, &code);
    return send_error(b, c, req, code, remark);
  }
  ms = tern_arena_calloc(&b->arena, n, sizeof *ms);
  if (!ms) return send_error(b, c, req, TERN_RESP_SYSTEM_ERROR, "batch too large");
  tern_buf_init(&bprops, TERN_PROPS_MAX_LEN + 1);
  tern_buf_init(&all, 0);
  build_props(b, h->properties, false, &bprops, &wait, NULL);
  /* one properties string per entry: its own, a separator if needed, then the batch's */
  tern_batch_iter_init(&it, (const uint8_t *)req->body.p, req->body.n);
  for (k = 0; k < n && tern_batch_iter_next(&it, &e, &err) == 1; k++) {
    size_t start = all.len;
    tern_buf_append_str(&all, e.properties);
    if (e.properties.n > 0 && bprops.len > 0 && e.properties.p[e.properties.n - 1] != TERN_PROPS_SEP)
      tern_buf_put_u8(&all, TERN_PROPS_SEP);
    tern_buf_append(&all, bprops.p, bprops.len);
    ms[k].body = e.body;
    ms[k].flag = e.flag;
    ms[k].properties.n = all.len - start; /* pointer fixed below: `all` may move while growing */
    ms[k].properties.p = (const char *)(uintptr_t)start;
  }
  if (all.err) {
    tern_buf_free(&bprops);
    tern_buf_free(&all);
    return send_error(b, c, req, TERN_RESP_SYSTEM_ERROR, "batch too large");
  }
  peer_host(c, &born);
  for (k = 0; k < n; k++) {
    ms[k].properties.p = (const char *)all.p + (size_t)(uintptr_t)ms[k].properties.p;
    ms[k].topic = topic;
    ms[k].queue_id = qid;
    ms[k].sys_flag = sys_flag_for(t, h->sys_flag);
    ms[k].born_timestamp = h->born_timestamp;
    ms[k].born_host = born;
    ms[k].store_host = b->store_host_addr;
    ms[k].reconsume_times = h->reconsume_times;
  }
  rc = tern_store_put_batch(b->store, ms, n, &res);
  if (rc && res.status == TERN_PUT_OK) res.status = TERN_PUT_UNKNOWN_ERROR;
  if (res.status != TERN_PUT_OK) {
    tern_buf_free(&bprops);
    tern_buf_free(&all);
    return finish(b, c, req, &res, wait, TERN_STR_NULL, qid);
  }
  {
    /* the ids of every record, comma-joined: records are back to back from wrote_offset */
    char *ids = tern_arena_alloc(&b->arena, n * (TERN_MSGID_HEX_V6 + 1) + 1);
    size_t len = 0;
    int64_t off = res.wrote_offset;
    if (!ids) {
      tern_buf_free(&bprops);
      tern_buf_free(&all);
      return TERN_ENOMEM;
    }
    for (k = 0; k < n; k++) {
      tern_msg_record_t r = ms[k];
      if (k) ids[len++] = ',';
      r.magic = TERN_MSG_MAGIC_V1;
      if (r.born_host.ip_len == 16) r.sys_flag |= TERN_SYSFLAG_BORNHOST_V6;
      if (r.store_host.ip_len == 16) r.sys_flag |= TERN_SYSFLAG_STOREHOSTADDRESS_V6;
      len += msgid_hex(&b->store_host_addr, off, ids + len);
      off += tern_msg_record_size(&r);
    }
    ids[len] = 0;
    rc = finish(b, c, req, &res, wait, (tern_str_t){ids, len}, qid);
  }
  tern_buf_free(&bprops);
  tern_buf_free(&all);
  tern_broker_lp_notify(b, topic, qid, 0, false);
  return rc;
}

static int dispatch_send(tern_broker_t *b, tern_conn_t *c, const tern_cmd_t *req, const tern_hdr_send_message_request_t *h) {
  if (b->stopping) return send_error(b, c, req, TERN_RESP_SERVICE_NOT_AVAILABLE, "broker is shutting down");
  if (b->store_conf.slave_mode) { /* HA hook: a slave refuses sends before any topic is auto-created */
    int32_t code;
    const char *remark = put_status_remark(b, TERN_PUT_SERVICE_NOT_AVAILABLE, &code);
    return send_error(b, c, req, code, remark);
  }
  return h->batch ? send_batch(b, c, req, h) : send_single(b, c, req, h);
}

static int send_message(void *ctx, tern_conn_t *c, const tern_cmd_t *req, const tern_hdr_send_message_request_t *h) {
  return dispatch_send(ctx, c, req, h);
}

static int send_message_v2(void *ctx, tern_conn_t *c, const tern_cmd_t *req,
                           const tern_hdr_send_message_request_v2_t *h2) {
  tern_hdr_send_message_request_t h;
  tern_hdr_send_message_request_v2_to_send_message_request(h2, &h);
  return dispatch_send(ctx, c, req, &h);
}

void tern_broker_send_install(tern_broker_handlers_t *h) {
  h->send_message = send_message;
  h->send_message_v2 = send_message_v2;
  h->send_batch_message = send_message_v2;
}

static int put_and_notify(tern_broker_t *b, const tern_store_msg_t *m0, tern_put_result_t *res, bool schedule) {
  tern_store_msg_t m = *m0;
  tern_buf_t sprops;
  tern_str_t tags;
  bool delayed = false;
  int rc;
  tern_buf_init(&sprops, TERN_PROPS_MAX_LEN + 1);
  if (schedule) delayed = tern_broker_sched_redirect(b, &m, &sprops);
  rc = tern_store_put(b->store, &m, res);
  if (rc == 0 && res->status == TERN_PUT_OK && !delayed) {
    if (tern_props_get(m.properties, TERN_PROP_TAGS, &tags) != 0) tags = TERN_STR_NULL;
    tern_broker_lp_notify(b, m.topic, m.queue_id, tern_msg_tags_code(tags), true);
  }
  tern_buf_free(&sprops);
  return rc;
}

int tern_broker_put(tern_broker_t *b, const tern_store_msg_t *m, tern_put_result_t *res) {
  return put_and_notify(b, m, res, false);
}

int tern_broker_put_scheduled(tern_broker_t *b, const tern_store_msg_t *m, tern_put_result_t *res) {
  return put_and_notify(b, m, res, true);
}

void tern_broker_notify_arrival(tern_broker_t *b, tern_str_t topic, int32_t queue_id) {
  tern_broker_lp_notify(b, topic, queue_id, 0, false);
}
