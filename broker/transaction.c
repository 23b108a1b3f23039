/* Transactional half messages: the half-topic redirect, END_TRANSACTION and
 * the check service (see transaction.h). Checked against Apache RocketMQ
 * 4.9.8 (TransactionalMessageBridge, TransactionalMessageServiceImpl,
 * EndTransactionProcessor, DefaultTransactionalMessageCheckListener,
 * AbstractTransactionalMessageCheckListener). Where 4.9.8 differs from a
 * plain reading of the reference, 4.9.8 wins:
 *  - the committed message keeps the half message's stored properties string
 *    (TRAN_MSG, REAL_TOPIC, REAL_QID included): Java removes those keys from
 *    the property map only after the string was built, and Java consumers
 *    rely on TRAN_MSG=true to set the transaction id;
 *  - the op message is Message(OP_TOPIC, "d", offset) with waitStoreMsgOK,
 *    i.e. properties WAIT=true and TAGS=d (HashMap order: WAIT first).
 * Tern's deliberate differences: END_TRANSACTION also refuses a commit-log
 * offset that is not a half-topic record ("Find prepared transaction message
 * failed"; Java would fail later with an exception), and a missing PGROUP is
 * "The producer group wrong" (Java: NullPointerException). A half message
 * still within its CHECK_IMMUNITY_TIME_IN_SECONDS stops the scan until it is
 * due (Java re-appends it with TRAN_PREPARED_QUEUE_OFFSET and moves on).
 * The half topic is created (1 queue, RW) with the first half message and the
 * op topic with the first op message, so both can be pulled and kept by the
 * store's housekeeping; TRANS_CHECK_MAX_TIME_TOPIC with the first discard. */
#include <stdio.h>
#include <stdlib.h>

#include "broker/broker_int.h"
#include "broker/clients.h"
#include "broker/transaction.h"
#include "runtime/clock.h"
#include "runtime/log.h"

#define TRANS_QUEUE 0 /* the half and op topics use queue 0 */
#define READ_BATCH 32
#define OP_TAG "d"

tern_broker_trans_conf_t tern_broker_trans_conf;
static bool conf_registered;

#define C tern_broker_trans_conf_t
const tern_cfg_item_t tern_broker_trans_conf_items[] = {
    TERN_CFG_LONG(C, transaction_timeout, "transactionTimeOut", "6000", false,
                  "ms after birth before a half message is checked with its producer"),
    TERN_CFG_INT(C, transaction_check_max, "transactionCheckMax", "15", false,
                 "checks of one half message before it is discarded to TRANS_CHECK_MAX_TIME_TOPIC"),
    TERN_CFG_LONG(C, transaction_check_interval, "transactionCheckInterval", "60000", false,
                  "ms between transaction check rounds"),
    TERN_CFG_BOOL(C, reject_transaction_message, "rejectTransactionMessage", "false", false,
                  "refuse half messages (NO_PERMISSION)"),
};
#undef C
const size_t tern_broker_trans_conf_n_items = TERN_ARRAY_SIZE(tern_broker_trans_conf_items);

int tern_broker_trans_conf_add(tern_config_t *cfg) {
  int rc = tern_config_add(cfg, tern_broker_trans_conf_items, tern_broker_trans_conf_n_items, &tern_broker_trans_conf);
  if (rc == 0) conf_registered = true;
  return rc;
}

typedef struct trans {
  tern_broker_t *b;
  tern_broker_trans_conf_t conf;
  tern_buf_t props; /* the redirected half message's properties (send.c hook) */
  uv_timer_t timer;
  bool timer_on;
  uint32_t rr;      /* round robin over a producer group's channels */
} trans_t;

static trans_t *T; /* one broker per process */

static trans_t *get(tern_broker_t *b) {
  if (T) return T;
  T = calloc(1, sizeof *T);
  if (!T) return NULL;
  T->b = b;
  if (!conf_registered) { /* main.c did not register our keys: defaults */
    tern_config_t tmp;
    tern_config_init(&tmp, "mqbroker");
    tern_config_add(&tmp, tern_broker_trans_conf_items, tern_broker_trans_conf_n_items, &tern_broker_trans_conf);
    tern_config_free(&tmp);
  }
  T->conf = tern_broker_trans_conf;
  if (T->conf.transaction_check_interval <= 0) T->conf.transaction_check_interval = 60000;
  tern_buf_init(&T->props, TERN_PROPS_MAX_LEN + 1);
  return T;
}

static const tern_str_t HALF = {TERN_TOPIC_TRANS_HALF, sizeof TERN_TOPIC_TRANS_HALF - 1};
static const tern_str_t OP = {TERN_TOPIC_TRANS_OP_HALF, sizeof TERN_TOPIC_TRANS_OP_HALF - 1};
static const tern_str_t GROUP = {TERN_GROUP_TRANS_CHECK, sizeof TERN_GROUP_TRANS_CHECK - 1};

/* ---- the half-topic redirect (TransactionalMessageBridge.parseHalfMessageInner) ---- */

int tern_broker_trans_redirect(tern_broker_t *b, tern_store_msg_t *m) {
  trans_t *t;
  tern_str_t v;
  tern_props_cursor_t cur;
  tern_prop_t p;
  int32_t level = 0;
  char qid[16];
  if (tern_props_get(m->properties, TERN_PROP_TRANSACTION_PREPARED, &v) != 0 || !tern_str_to_bool(v)) return 0;
  if (tern_props_get(m->properties, TERN_PROP_DELAY_TIME_LEVEL, &v) == 0) tern_str_to_i32(v, &level);
  if (m->reconsume_times > 0 && level > 0) return 0; /* SendMessageProcessor: a delayed retry is not a half message */
  if (!(t = get(b))) return 0;
  if (t->conf.reject_transaction_message) return -1;
  if (!tern_broker_topic_find(b, HALF)) tern_broker_topic_ensure(b, HALF, 1, TERN_PERM_READ | TERN_PERM_WRITE, 0);
  t->props.len = 0;
  t->props.err = 0;
  tern_props_cursor_init(&cur, m->properties);
  while (tern_props_cursor_next(&cur, &p) == 1) {
    if (tern_str_eq_cstr(p.key, TERN_PROP_REAL_TOPIC) || tern_str_eq_cstr(p.key, TERN_PROP_REAL_QUEUE_ID)) continue;
    tern_props_append(&t->props, p.key, p.val);
  }
  snprintf(qid, sizeof qid, "%d", m->queue_id);
  tern_props_append(&t->props, TERN_STR(TERN_PROP_REAL_TOPIC), m->topic);
  tern_props_append(&t->props, TERN_STR(TERN_PROP_REAL_QUEUE_ID), tern_str_from_cstr(qid));
  if (t->props.err) return 0; /* too long: stored as sent, the store refuses it as PROPERTIES_SIZE_EXCEEDED */
  m->properties = (tern_str_t){(const char *)t->props.p, t->props.len};
  m->topic = HALF;
  m->queue_id = TRANS_QUEUE;
  m->sys_flag = tern_sysflag_with_transaction(m->sys_flag, TERN_SYSFLAG_TRANSACTION_NOT_TYPE);
  return 1;
}

/* ---- op messages ---- */

static int write_op(tern_broker_t *b, int32_t half_qid, int64_t half_qoff) {
  static const char props[] = TERN_PROP_WAIT_STORE_MSG_OK "\x01true\x02" TERN_PROP_TAGS "\x01" OP_TAG "\x02";
  tern_store_msg_t m;
  tern_put_result_t res;
  char body[24];
  int n = snprintf(body, sizeof body, "%lld", (long long)half_qoff);
  if (!tern_broker_topic_find(b, OP)) tern_broker_topic_ensure(b, OP, 1, TERN_PERM_READ | TERN_PERM_WRITE, 0);
  memset(&m, 0, sizeof m);
  m.topic = OP;
  m.queue_id = half_qid;
  m.body = (tern_str_t){body, (size_t)n};
  m.properties = (tern_str_t){props, sizeof props - 1};
  m.born_timestamp = (int64_t)tern_clock_now_ms();
  m.born_host = b->store_host_addr;
  m.store_host = b->store_host_addr;
  if (tern_broker_put(b, &m, &res) != 0 || res.status != TERN_PUT_OK) {
    tern_warn("broker: transaction: op message for half offset %lld not stored (%s)", (long long)half_qoff,
              tern_put_status_name(res.status));
    return -1;
  }
  return 0;
}

/* ---- END_TRANSACTION (EndTransactionProcessor) ---- */

/* checkPrepareMessage: NULL when the half message matches the request. */
static const char *check_prepared(const tern_msg_record_t *r, const tern_hdr_end_transaction_request_t *h) {
  tern_str_t g;
  if (tern_props_get(r->properties, TERN_PROP_PRODUCER_GROUP, &g) != 0 || !tern_str_eq(g, h->producer_group))
    return "The producer group wrong";
  if (r->queue_offset != h->tran_state_table_offset) return "The transaction state table offset wrong";
  if (r->physical_offset != h->commit_log_offset) return "The commit log offset wrong";
  return NULL;
}

/* sendFinalMessage's status mapping. */
static int32_t final_code(tern_broker_t *b, tern_put_status_t st, const char **remark) {
  *remark = NULL;
  switch (st) {
  case TERN_PUT_OK:
  case TERN_PUT_FLUSH_DISK_TIMEOUT: return TERN_RESP_SUCCESS;
  case TERN_PUT_CREATE_MAPPED_FILE_FAILED: *remark = "Create mapped file failed."; return TERN_RESP_SYSTEM_ERROR;
  case TERN_PUT_MESSAGE_ILLEGAL:
  case TERN_PUT_PROPERTIES_SIZE_EXCEEDED:
    *remark = tern_broker_remarkf(b,
                                  "The message is illegal, maybe msg body or properties length not matched. msg body "
                                  "length limit %dB, msg properties length limit 32KB.",
                                  b->conf.max_message_size);
    return TERN_RESP_MESSAGE_ILLEGAL;
  case TERN_PUT_SERVICE_NOT_AVAILABLE: *remark = "Service not available now."; return TERN_RESP_SERVICE_NOT_AVAILABLE;
  case TERN_PUT_UNKNOWN_ERROR:
  default: *remark = "UNKNOWN_ERROR"; return TERN_RESP_SYSTEM_ERROR;
  }
}

static int end_transaction(void *ctx, tern_conn_t *c, const tern_cmd_t *req, const tern_hdr_end_transaction_request_t *h) {
  tern_broker_t *b = ctx;
  tern_store_span_t span;
  tern_msg_record_t r;
  tern_err_t err = {0};
  const char *why;
  int32_t tt = h->commit_or_rollback;
  if (b->conf.broker_role && strcmp(b->conf.broker_role, "SLAVE") == 0)
    return tern_broker_reply_code(c, req, TERN_RESP_SLAVE_NOT_AVAILABLE, NULL);
  /* TRANSACTION_NOT_TYPE (state unknown: wait for the check) and anything else: no action, no response */
  if (tt != TERN_SYSFLAG_TRANSACTION_COMMIT_TYPE && tt != TERN_SYSFLAG_TRANSACTION_ROLLBACK_TYPE) return 0;
  if (tern_store_lookup_by_phys_offset(b->store, h->commit_log_offset, &span, &r, &err) != 0 ||
      !tern_str_eq(r.topic, HALF))
    return tern_broker_reply_code(c, req, TERN_RESP_SYSTEM_ERROR, "Find prepared transaction message failed");
  if ((why = check_prepared(&r, h))) return tern_broker_reply_code(c, req, TERN_RESP_SYSTEM_ERROR, why);
  if (tt == TERN_SYSFLAG_TRANSACTION_COMMIT_TYPE) {
    tern_store_msg_t m = r; /* endMessageTransaction */
    tern_put_result_t res;
    tern_str_t topic, qid;
    int32_t q;
    const char *remark;
    int32_t code;
    if (tern_props_get(r.properties, TERN_PROP_REAL_TOPIC, &topic) != 0 ||
        tern_props_get(r.properties, TERN_PROP_REAL_QUEUE_ID, &qid) != 0 || tern_str_to_i32(qid, &q) != 0)
      return tern_broker_reply_code(c, req, TERN_RESP_SYSTEM_ERROR, "Find prepared transaction message failed");
    m.topic = topic;
    m.queue_id = q;
    m.sys_flag = tern_sysflag_with_transaction(r.sys_flag, TERN_SYSFLAG_TRANSACTION_COMMIT_TYPE);
    m.prepared_transaction_offset = h->commit_log_offset;
    /* properties: the half message's stored string, as 4.9.8 writes it (file comment) */
    if (tern_broker_put(b, &m, &res) != 0 && res.status == TERN_PUT_OK) res.status = TERN_PUT_UNKNOWN_ERROR;
    code = final_code(b, res.status, &remark);
    if (code == TERN_RESP_SUCCESS) write_op(b, r.queue_id, r.queue_offset);
    return tern_broker_reply_code(c, req, code, remark);
  }
  write_op(b, r.queue_id, r.queue_offset); /* rollback */
  return tern_broker_reply_code(c, req, TERN_RESP_SUCCESS, NULL);
}

/* ---- the check service (TransactionalMessageServiceImpl.check) ---- */

typedef struct op_entry {
  int64_t op_off, half_off;
} op_entry_t;

/* Reads every op message from *op_off on (following a moved queue start). */
static int read_ops(tern_broker_t *b, int64_t *op_off, op_entry_t **out, size_t *n) {
  size_t cap = 0;
  int64_t off = *op_off;
  *out = NULL;
  *n = 0;
  for (;;) {
    tern_store_span_t spans[READ_BATCH];
    tern_get_result_t res;
    memset(&res, 0, sizeof res);
    res.spans = spans;
    res.cap = READ_BATCH;
    tern_store_get_messages(b->store, OP, TRANS_QUEUE, off, READ_BATCH, NULL, &res);
    if (res.status == TERN_GET_OFFSET_TOO_SMALL || res.status == TERN_GET_OFFSET_OVERFLOW_BADLY ||
        res.status == TERN_GET_OFFSET_FOUND_NULL || res.status == TERN_GET_MESSAGE_WAS_REMOVING) {
      if (res.next_begin_offset == off) break;
      off = res.next_begin_offset;
      if (*n == 0) *op_off = off;
      continue;
    }
    if (res.status != TERN_GET_FOUND || res.n == 0) break;
    for (size_t i = 0; i < res.n; i++) {
      tern_msg_record_t r;
      tern_str_t tags;
      int64_t half;
      if (tern_msg_record_decode(spans[i].p, spans[i].len, &r, NULL) != 0) continue;
      if (tern_props_get(r.properties, TERN_PROP_TAGS, &tags) != 0 || !tern_str_eq_cstr(tags, OP_TAG)) continue;
      if (tern_str_to_i64(r.body, &half) != 0) half = -1;
      if (*n == cap) {
        size_t nc = cap ? cap * 2 : 64;
        op_entry_t *v = realloc(*out, nc * sizeof *v);
        if (!v) return TERN_ENOMEM;
        *out = v;
        cap = nc;
      }
      (*out)[(*n)++] = (op_entry_t){spans[i].queue_offset, half};
    }
    off = res.next_begin_offset;
  }
  return 0;
}

/* Removes the op entry naming half offset `half`; true when there was one. */
static bool op_take(op_entry_t *v, size_t n, int64_t half) {
  for (size_t i = 0; i < n; i++)
    if (v[i].half_off == half) {
      v[i].half_off = INT64_MIN; /* done */
      return true;
    }
  return false;
}

static int32_t prop_i32(tern_str_t props, const char *key, int32_t absent) {
  tern_str_t v;
  int32_t x;
  if (tern_props_get(props, key, &v) != 0) return absent;
  return tern_str_to_i32(v, &x) == 0 ? x : -1; /* Java getInt: -1 when unparsable */
}

/* renewHalfMessageInner + putBackHalfMsgQueue: the half message again at the
 * end of the half queue with TRANSACTION_CHECK_TIMES = times. */
static int put_back(tern_broker_t *b, const tern_msg_record_t *r, int32_t times, tern_put_result_t *res) {
  tern_store_msg_t m = *r;
  tern_buf_t props;
  tern_props_cursor_t cur;
  tern_prop_t p;
  char tv[16];
  bool replaced = false;
  int rc;
  snprintf(tv, sizeof tv, "%d", times);
  tern_buf_init(&props, TERN_PROPS_MAX_LEN + 1);
  tern_props_cursor_init(&cur, r->properties);
  while (tern_props_cursor_next(&cur, &p) == 1) {
    if (tern_str_eq_cstr(p.key, TERN_PROP_TRANSACTION_CHECK_TIMES)) {
      tern_props_append(&props, p.key, tern_str_from_cstr(tv));
      replaced = true;
      continue;
    }
    tern_props_append(&props, p.key, p.val);
  }
  if (!replaced) tern_props_append(&props, TERN_STR(TERN_PROP_TRANSACTION_CHECK_TIMES), tern_str_from_cstr(tv));
  m.properties = (tern_str_t){(const char *)props.p, props.len};
  m.store_host = b->store_host_addr;
  rc = props.err ? props.err : tern_store_put(b->store, &m, res);
  tern_buf_free(&props);
  if (rc == 0 && res->status != TERN_PUT_OK) rc = TERN_EIO;
  return rc;
}

/* resolveDiscardMsg: to TRANS_CHECK_MAX_TIME_TOPIC queue 0, properties as stored. */
static void discard(tern_broker_t *b, const tern_msg_record_t *r) {
  tern_store_msg_t m = *r;
  tern_put_result_t res;
  tern_broker_topic_t *t =
      tern_broker_topic_ensure(b, TERN_STR(TERN_TOPIC_TRANS_CHECK_MAX_TIME), 1, TERN_PERM_READ | TERN_PERM_WRITE, 0);
  if (!t) return;
  m.topic = tern_str_from_cstr(t->name);
  m.queue_id = 0;
  if (tern_broker_put(b, &m, &res) != 0 || res.status != TERN_PUT_OK)
    tern_warn("broker: transaction: discarding half offset %lld failed (%s)", (long long)r->queue_offset,
              tern_put_status_name(res.status));
}

/* AbstractTransactionalMessageCheckListener.sendCheckMessage: CHECK_TRANSACTION_STATE
 * (oneway) to one channel of the PGROUP with the re-appended record at phys_off,
 * its topic and queue id replaced by REAL_TOPIC / REAL_QID. */
static void send_check(trans_t *t, int64_t phys_off) {
  tern_broker_t *b = t->b;
  tern_store_span_t span;
  tern_msg_record_t r;
  tern_err_t err = {0};
  tern_str_t group, topic, qid, uniq;
  tern_producer_group_t *g;
  tern_hdr_check_transaction_state_request_t h;
  char idbuf[TERN_MSGID_HEX_V6 + 1];
  int32_t q;
  uint8_t *body;
  uint32_t size;
  if (tern_store_lookup_by_phys_offset(b->store, phys_off, &span, &r, &err) != 0) return;
  if (tern_props_get(r.properties, TERN_PROP_PRODUCER_GROUP, &group) != 0 || !b->clients ||
      !(g = tern_strmap_get(&b->clients->producers, group)) || g->channels.n == 0) {
    tern_debug("broker: transaction: no producer online for the check of half offset %lld", (long long)r.queue_offset);
    return;
  }
  memset(&h, 0, sizeof h);
  h.tran_state_table_offset = r.queue_offset;
  h.commit_log_offset = r.physical_offset;
  h.present = TERN_HDR_CHECK_TRANSACTION_STATE_REQUEST_HAS_TRAN_STATE_TABLE_OFFSET |
              TERN_HDR_CHECK_TRANSACTION_STATE_REQUEST_HAS_COMMIT_LOG_OFFSET |
              TERN_HDR_CHECK_TRANSACTION_STATE_REQUEST_HAS_OFFSET_MSG_ID;
  h.offset_msg_id = (tern_str_t){idbuf, tern_msgid_encode(&r.store_host, r.physical_offset, idbuf)};
  if (tern_props_get(r.properties, TERN_PROP_UNIQ_KEY, &uniq) == 0) {
    h.msg_id = h.transaction_id = uniq;
    h.present |= TERN_HDR_CHECK_TRANSACTION_STATE_REQUEST_HAS_MSG_ID | TERN_HDR_CHECK_TRANSACTION_STATE_REQUEST_HAS_TRANSACTION_ID;
  }
  if (tern_props_get(r.properties, TERN_PROP_REAL_TOPIC, &topic) == 0 &&
      tern_props_get(r.properties, TERN_PROP_REAL_QUEUE_ID, &qid) == 0 && tern_str_to_i32(qid, &q) == 0) {
    r.topic = topic;
    r.queue_id = q;
  }
  size = tern_msg_record_size(&r);
  r.total_size = (int32_t)size;
  if (!(body = malloc(size)) || tern_msg_record_encode(&r, body, size) != 0) {
    free(body);
    return;
  }
  {
    tern_conn_t *c = g->channels.v[t->rr++ % g->channels.n].conn; /* getAvailableChannel */
    int rc = tern_send_check_transaction_state(c, &h, (tern_str_t){(const char *)body, size});
    if (rc) tern_warn("broker: transaction: CHECK_TRANSACTION_STATE not sent: %s", tern_strerror(rc));
  }
  free(body);
}

static void check_round(trans_t *t) {
  tern_broker_t *b = t->b;
  int64_t start = (int64_t)tern_clock_now_ms(), now;
  int64_t half_off, op_off, i, max_half, new_op;
  int64_t reserved_ms = (int64_t)b->conf.file_reserved_time * 3600 * 1000;
  op_entry_t *ops = NULL;
  size_t nops = 0;
  if (!b->store || b->stopping) return;
  if (!tern_broker_topic_find(b, HALF)) /* fetchMessageQueues creates the half topic */
    tern_broker_topic_ensure(b, HALF, 1, TERN_PERM_READ | TERN_PERM_WRITE, 0);
  half_off = tern_broker_offset_get(b, HALF, GROUP, TRANS_QUEUE);
  if (half_off < 0) half_off = tern_store_get_min_offset(b->store, HALF, TRANS_QUEUE);
  op_off = tern_broker_offset_get(b, OP, GROUP, TRANS_QUEUE);
  if (op_off < 0) op_off = tern_store_get_min_offset(b->store, OP, TRANS_QUEUE);
  if (half_off < 0 || op_off < 0) return;
  if (read_ops(b, &op_off, &ops, &nops) != 0) {
    free(ops);
    return;
  }
  for (size_t k = 0; k < nops; k++)
    if (ops[k].half_off < half_off) ops[k].half_off = INT64_MIN; /* resolved earlier: done */
  max_half = tern_store_get_max_offset(b->store, HALF, TRANS_QUEUE);
  for (i = half_off; i < max_half;) {
    tern_store_span_t span;
    tern_get_result_t res;
    tern_msg_record_t r;
    tern_put_result_t pr;
    int32_t times, max = t->conf.transaction_check_max;
    int64_t age, immunity = t->conf.transaction_timeout;
    tern_str_t v;
    bool has_times;
    if (op_take(ops, nops, i)) { /* committed or rolled back */
      i++;
      continue;
    }
    memset(&res, 0, sizeof res);
    res.spans = &span;
    res.cap = 1;
    tern_store_get_messages(b->store, HALF, TRANS_QUEUE, i, 1, NULL, &res);
    if (res.status != TERN_GET_FOUND || res.n == 0) {
      if (res.next_begin_offset > i && res.status != TERN_GET_NO_MESSAGE_IN_QUEUE &&
          res.status != TERN_GET_OFFSET_OVERFLOW_ONE) {
        i = res.next_begin_offset; /* a moved queue start or a hole */
        continue;
      }
      break;
    }
    if (tern_msg_record_decode(span.p, span.len, &r, NULL) != 0) {
      i++;
      continue;
    }
    now = (int64_t)tern_clock_now_ms();
    /* needDiscard / needSkip */
    has_times = tern_props_get(r.properties, TERN_PROP_TRANSACTION_CHECK_TIMES, &v) == 0;
    times = has_times ? prop_i32(r.properties, TERN_PROP_TRANSACTION_CHECK_TIMES, 0) : 0;
    if (has_times && times >= max) {
      discard(b, &r);
      i++;
      continue;
    }
    if (reserved_ms > 0 && now - r.born_timestamp > reserved_ms) {
      discard(b, &r);
      i++;
      continue;
    }
    if (r.store_timestamp >= start) break; /* appended during this round (a put-back) */
    age = now - r.born_timestamp;
    if (tern_props_get(r.properties, TERN_PROP_CHECK_IMMUNITY_TIME_IN_SECONDS, &v) == 0) {
      int64_t s;
      if (tern_str_to_i64(v, &s) == 0 && s != -1) immunity = s * 1000;
      if (age < immunity) break;
    } else if (age >= 0 && age < immunity) {
      break;
    }
    /* checkTime: 1 the first time, else the stored value + 1 */
    times = has_times ? times + 1 : 1;
    if (put_back(b, &r, times, &pr) != 0) break; /* retried next round */
    send_check(t, pr.wrote_offset);
    i++;
  }
  if (i != half_off) tern_broker_offset_set(b, HALF, GROUP, TRANS_QUEUE, i);
  /* calculateOpOffset: past every leading op message that is done */
  new_op = op_off;
  for (size_t k = 0; k < nops; k++) {
    if (ops[k].half_off != INT64_MIN && ops[k].half_off >= i) break;
    new_op = ops[k].op_off + 1;
  }
  if (new_op != tern_broker_offset_get(b, OP, GROUP, TRANS_QUEUE)) tern_broker_offset_set(b, OP, GROUP, TRANS_QUEUE, new_op);
  free(ops);
}

static void on_timer(uv_timer_t *tm) { check_round(tm->data); }

int tern_broker_trans_install(tern_broker_t *b, tern_broker_handlers_t *h) {
  trans_t *t = get(b);
  if (!t) return TERN_ENOMEM;
  h->end_transaction = end_transaction;
  if (b->loop && !t->timer_on && uv_timer_init(b->loop->uv, &t->timer) == 0) {
    uint64_t every = (uint64_t)t->conf.transaction_check_interval;
    t->timer.data = t;
    uv_unref((uv_handle_t *)&t->timer);
    uv_timer_start(&t->timer, on_timer, every, every);
    t->timer_on = true;
  }
  return 0;
}

void tern_broker_trans_stop(tern_broker_t *b) {
  TERN_UNUSED(b);
  if (!T || !T->timer_on) return;
  uv_timer_stop(&T->timer);
  uv_close((uv_handle_t *)&T->timer, NULL);
  T->timer_on = false;
}

void tern_broker_trans_free(tern_broker_t *b) {
  TERN_UNUSED(b);
  if (!T) return;
  tern_buf_free(&T->props);
  free(T);
  T = NULL;
}
