/* The producer: turns a tern_msg_t into SEND_MESSAGE_V2 / SEND_BATCH_MESSAGE
 * requests (properties string with UNIQ_KEY, zlib compression from
 * compress_over bytes flagged 0x1|0x300 as Java 4.9.4+ does), picks queues
 * round robin with the fault table (fault.c), retries failures on another
 * broker within one overall timeout as Java's sendDefaultImpl does, and
 * reports results synchronously (caller waits on its own condition variable)
 * or through callbacks on the loop thread. Requests are handed to the loop
 * with tern_loop_post: one wake-up serves every send queued meanwhile. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client_int.h"
#include "fault.h"
#include "msg_int.h"
#include "tern/producer.h"
#include "transaction_int.h"

enum { MODE_SYNC, MODE_ASYNC, MODE_ONEWAY };

struct tern_producer {
  tc_inst_t in;
  pthread_mutex_t uniq_mu;
  tern_uniq_gen_t uniq;
  atomic_int inflight;
  tc_fault_t fault; /* loop thread */
  bool started;
};

typedef struct tc_send {
  tern_post_t post;
  tern_producer_t *p;
  int mode;
  char topic[TERN_TOPIC_MAX_LEN + 1];
  uint8_t *body;
  size_t len;
  bool own_body;
  tern_buf_t props;
  int32_t sys_flag, flag;
  bool batch;
  bool fixed;          /* queue chosen by a selector */
  tern_mq_t mq;
  int attempts, max_attempts;
  char last_broker[128];
  uint64_t begin_ms, attempt_ms;
  tern_send_result_t res;
  tern_send_cb cb;
  void *arg;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  bool done;
} tc_send_t;

static void hb_fill(void *ctx, tern_body_heartbeat_data_t *hb, tern_arena_t *a) {
  tern_producer_t *p = ctx;
  tern_body_producer_data_t *pd = tern_arena_calloc(a, 2, sizeof *pd);
  if (!pd) return;
  pd[0].group_name = tern_str_from_cstr(p->in.conf.group);
  pd[0].has = TERN_BODY_PRODUCER_DATA_HAS_GROUP_NAME;
  pd[1].group_name = TERN_STR(TERN_GROUP_CLIENT_INNER_PRODUCER);
  pd[1].has = TERN_BODY_PRODUCER_DATA_HAS_GROUP_NAME;
  hb->producer_data_set.v = pd;
  hb->producer_data_set.n = 2;
}

/* ---- shutdown: UNREGISTER_CLIENT to every broker, then the instance closes ---- */
typedef struct unreg {
  tc_inst_t *in;
  int left;
  void (*done)(tc_inst_t *);
} unreg_t;

static void unreg_cb(void *arg, int status, const tern_cmd_t *resp) {
  unreg_t *u = arg;
  TERN_UNUSED(status), TERN_UNUSED(resp);
  if (--u->left == 0) {
    u->done(u->in);
    free(u);
  }
}

void tc_unregister_all(tc_inst_t *in, const char *producer_group, const char *consumer_group,
                       void (*done)(tc_inst_t *)) {
  const char *addrs[64];
  int n = tc_broker_addrs(in, addrs, 64), i;
  unreg_t *u = calloc(1, sizeof *u);
  tern_hdr_unregister_client_request_t h;
  if (!u || n == 0) {
    free(u);
    done(in);
    return;
  }
  u->in = in;
  u->done = done;
  u->left = 1;
  memset(&h, 0, sizeof h);
  h.client_id = tern_str_from_cstr(in->client_id);
  h.present = TERN_HDR_UNREGISTER_CLIENT_REQUEST_HAS_CLIENT_ID;
  if (producer_group) {
    h.producer_group = tern_str_from_cstr(producer_group);
    h.present |= TERN_HDR_UNREGISTER_CLIENT_REQUEST_HAS_PRODUCER_GROUP;
  }
  if (consumer_group) {
    h.consumer_group = tern_str_from_cstr(consumer_group);
    h.present |= TERN_HDR_UNREGISTER_CLIENT_REQUEST_HAS_CONSUMER_GROUP;
  }
  for (i = 0; i < n; i++) {
    u->left++;
    if (tc_request(in, addrs[i], TERN_REQ_UNREGISTER_CLIENT, (tc_hdr_enc_fn)tern_hdr_unregister_client_request_encode,
                   &h, TERN_STR_NULL, false, 1000, unreg_cb, u) != 0)
      u->left--;
  }
  unreg_cb(u, 0, NULL);
}

static void on_stop(void *ctx, void (*done)(tc_inst_t *)) {
  tern_producer_t *p = ctx;
  tc_unregister_all(&p->in, p->in.conf.group, NULL, done);
}

tern_producer_t *tern_producer_new(const tern_client_conf_t *conf) {
  tern_producer_t *p = calloc(1, sizeof *p);
  tc_hooks_t hooks = {0};
  uint8_t ip[4] = {127, 0, 0, 1};
  if (!p) return NULL;
  hooks.ctx = p;
  hooks.heartbeat_fill = hb_fill;
  hooks.on_stop = on_stop;
  if (tc_inst_init(&p->in, conf, &hooks) != 0) {
    tc_inst_free(&p->in);
    free(p);
    return NULL;
  }
  {
    unsigned a, b, c, d;
    if (sscanf(p->in.client_id, "%u.%u.%u.%u@", &a, &b, &c, &d) == 4)
      ip[0] = (uint8_t)a, ip[1] = (uint8_t)b, ip[2] = (uint8_t)c, ip[3] = (uint8_t)d;
  }
  tern_uniq_gen_init(&p->uniq, ip, 4, (uint32_t)getpid(), NULL);
  pthread_mutex_init(&p->uniq_mu, NULL);
  atomic_init(&p->inflight, 0);
  return p;
}

int tern_producer_start(tern_producer_t *p) {
  int rc;
  if (p->started) return TERN_EINVAL;
  rc = tc_inst_start(&p->in);
  if (rc == 0) p->started = true;
  return rc;
}

/* transaction.c: the instance of a producer (transaction_int.h). */
tc_inst_t *tc_producer_inst(tern_producer_t *p) { return &p->in; }

/* ---- completion ---- */

static void send_free(tc_send_t *s) {
  tern_buf_free(&s->props);
  if (s->own_body) free(s->body);
  if (s->mode != MODE_SYNC) free(s);
}

static void complete(tc_send_t *s) {
  tern_producer_t *p = s->p;
  s->res.attempts = s->attempts;
  if (s->mode == MODE_SYNC) {
    tern_buf_free(&s->props);
    if (s->own_body) free(s->body);
    s->own_body = false;
    pthread_mutex_lock(&s->mu);
    s->done = true;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return;
  }
  if (s->mode == MODE_ASYNC && s->cb) s->cb(s->arg, &s->res);
  send_free(s);
  atomic_fetch_sub(&p->inflight, 1);
}

static void fail(tc_send_t *s, int error, int code, const char *fmt, const char *a1) {
  s->res.err.error = error;
  s->res.err.response_code = code;
  snprintf(s->res.err.remark, sizeof s->res.err.remark, fmt, a1 ? a1 : "");
  complete(s);
}

static void attempt(tc_send_t *s);

static bool retryable_code(int code) {
  switch (code) {
  case TERN_RESP_TOPIC_NOT_EXIST: case TERN_RESP_SERVICE_NOT_AVAILABLE: case TERN_RESP_SYSTEM_ERROR:
  case TERN_RESP_NO_PERMISSION: case TERN_RESP_NO_BUYER_ID: case TERN_RESP_NOT_IN_CURRENT_UNIT:
    return true;
  default:
    return false;
  }
}

static void retry_or_fail(tc_send_t *s) {
  uint64_t now = uv_now(s->p->in.loop.uv);
  if (!s->fixed && s->attempts < s->max_attempts && now - s->begin_ms < s->p->in.conf.timeout_ms &&
      !s->p->in.pool.closing) {
    attempt(s);
    return;
  }
  complete(s);
}

static void send_cb(void *arg, int status, const tern_cmd_t *resp) {
  tc_send_t *s = arg;
  tern_producer_t *p = s->p;
  uint64_t now = uv_now(p->in.loop.uv), lat = now - s->attempt_ms;
  tern_hdr_send_message_response_t h;
  tern_err_t err;
  if (status != 0) {
    tc_fault_update(&p->fault, s->mq.broker_name, lat, true, now);
    s->res.err.error = status;
    s->res.err.response_code = -1;
    snprintf(s->res.err.remark, sizeof s->res.err.remark, "send to broker %s: %s", s->mq.broker_name,
             tern_strerror(status));
    retry_or_fail(s);
    return;
  }
  tc_fault_update(&p->fault, s->mq.broker_name, lat, false, now);
  switch (resp->code) {
  case TERN_RESP_SUCCESS: s->res.status = TERN_SEND_OK; break;
  case TERN_RESP_FLUSH_DISK_TIMEOUT: s->res.status = TERN_SEND_FLUSH_DISK_TIMEOUT; break;
  case TERN_RESP_FLUSH_SLAVE_TIMEOUT: s->res.status = TERN_SEND_FLUSH_SLAVE_TIMEOUT; break;
  case TERN_RESP_SLAVE_NOT_AVAILABLE: s->res.status = TERN_SEND_SLAVE_NOT_AVAILABLE; break;
  default:
    tc_err_set(&s->res.err, 0, resp);
    if (retryable_code(resp->code)) retry_or_fail(s);
    else complete(s);
    return;
  }
  if (tern_hdr_send_message_response_decode(resp, &h, &err) != 0) {
    s->res.err.error = TERN_EPROTO;
    s->res.err.response_code = resp->code;
    snprintf(s->res.err.remark, sizeof s->res.err.remark, "bad send response: %s", err.reason ? err.reason : "");
    complete(s);
    return;
  }
  memset(&s->res.err, 0, sizeof s->res.err);
  {
    size_t n = 0;
    while (n < h.msg_id.n && h.msg_id.p[n] != ',') n++;
    snprintf(s->res.offset_msg_id, sizeof s->res.offset_msg_id, "%.*s", (int)n, h.msg_id.p);
  }
  s->res.queue_offset = h.queue_offset;
  s->res.mq = s->mq;
  s->res.mq.queue_id = h.queue_id;
  complete(s);
}

static void attempt(tc_send_t *s) {
  tern_producer_t *p = s->p;
  tc_route_t *r = tc_route_find(&p->in, s->topic);
  tern_hdr_send_message_request_v2_t h;
  const char *addr;
  int rc;
  uint64_t now = uv_now(p->in.loop.uv);
  if (!s->fixed) {
    int i;
    if (!r || r->npub == 0) {
      fail(s, TERN_ENOTFOUND, -1, "No route info of this topic: %s", s->topic);
      return;
    }
    i = tc_fault_select(&p->fault, p->in.conf.latency_fault, r->pub, r->npub, &r->send_index, s->last_broker,
                        tc_now_ms());
    s->mq = r->pub[i];
  }
  s->attempts++;
  snprintf(s->last_broker, sizeof s->last_broker, "%s", s->mq.broker_name);
  addr = tc_broker_addr(&p->in, s->mq.broker_name);
  if (!addr) {
    s->res.err.error = TERN_ENOTFOUND;
    s->res.err.response_code = -1;
    snprintf(s->res.err.remark, sizeof s->res.err.remark, "The broker[%s] not exist", s->mq.broker_name);
    retry_or_fail(s);
    return;
  }
  memset(&h, 0, sizeof h);
  h.producer_group = tern_str_from_cstr(p->in.conf.group);
  h.topic = tern_str_from_cstr(s->topic);
  h.default_topic = TERN_STR(TERN_TOPIC_AUTO_CREATE);
  h.default_topic_queue_nums = 4;
  h.queue_id = s->mq.queue_id;
  h.sys_flag = s->sys_flag;
  h.born_timestamp = (int64_t)tc_now_ms();
  h.flag = s->flag;
  h.properties = (tern_str_t){(const char *)s->props.p, s->props.len};
  h.reconsume_times = 0;
  h.unit_mode = false;
  h.batch = s->batch;
  h.broker_name = tern_str_from_cstr(s->mq.broker_name);
  h.present = TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_PRODUCER_GROUP | TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_TOPIC |
              TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_DEFAULT_TOPIC |
              TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_DEFAULT_TOPIC_QUEUE_NUMS | TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_QUEUE_ID |
              TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_SYS_FLAG | TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_BORN_TIMESTAMP |
              TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_FLAG | TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_PROPERTIES |
              TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_RECONSUME_TIMES | TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_UNIT_MODE |
              TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_BATCH | TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_BROKER_NAME;
  s->attempt_ms = now;
  {
    uint64_t left = p->in.conf.timeout_ms - (now - s->begin_ms < p->in.conf.timeout_ms ? now - s->begin_ms : 0);
    if (left == 0) left = 1;
    rc = tc_request(&p->in, addr, s->batch ? TERN_REQ_SEND_BATCH_MESSAGE : TERN_REQ_SEND_MESSAGE_V2,
                    (tc_hdr_enc_fn)tern_hdr_send_message_request_v2_encode, &h,
                    (tern_str_t){(const char *)s->body, s->len}, s->mode == MODE_ONEWAY, (uint32_t)left, send_cb, s);
  }
  if (rc != 0) {
    s->res.err.error = rc;
    s->res.err.response_code = -1;
    snprintf(s->res.err.remark, sizeof s->res.err.remark, "send to %s: %s", addr, tern_strerror(rc));
    if (s->mode == MODE_ONEWAY) complete(s);
    else retry_or_fail(s);
    return;
  }
  if (s->mode == MODE_ONEWAY) {
    memset(&s->res.err, 0, sizeof s->res.err);
    complete(s);
  }
}

static void default_route_cb(void *arg, tc_route_t *def, int status) {
  tc_send_t *s = arg;
  tc_route_t *r = tc_route_find(&s->p->in, s->topic);
  if (status == 0 && r) status = tc_route_use_default(r, def);
  if (status != 0 || !r || r->npub == 0) {
    fail(s, TERN_ENOTFOUND, -1, "No route info of this topic: %s", s->topic);
    return;
  }
  attempt(s);
}

static void route_cb(void *arg, tc_route_t *r, int status) {
  tc_send_t *s = arg;
  if (r && r->npub > 0) {
    attempt(s);
    return;
  }
  if (status == TERN_ENOTFOUND && r) {
    tc_route_get(&s->p->in, TERN_TOPIC_AUTO_CREATE, false, default_route_cb, s);
    return;
  }
  if (status == TERN_ECLOSED) {
    fail(s, TERN_ECLOSED, -1, "producer shut down%s", "");
    return;
  }
  fail(s, status ? status : TERN_ENOTFOUND, -1, "No route info of this topic: %s", s->topic);
}

static void send_post(tern_post_t *post) {
  tc_send_t *s = (tc_send_t *)post;
  tern_producer_t *p = s->p;
  tc_route_t *r;
  s->begin_ms = uv_now(p->in.loop.uv);
  if (p->in.pool.closing) {
    fail(s, TERN_ECLOSED, -1, "producer shut down%s", "");
    return;
  }
  r = tc_route_find(&p->in, s->topic);
  if (r && r->npub > 0) {
    attempt(s);
    return;
  }
  tc_route_get(&p->in, s->topic, false, route_cb, s);
}

/* ---- building a request from a message ---- */

static int prepare(tern_producer_t *p, tc_send_t *s, const tern_msg_t *m, int mode, bool copy_body) {
  char uniq[TERN_UNIQ_HEX_V6 + 1];
  int rc;
  memset(s, 0, sizeof *s);
  s->p = p;
  s->mode = mode;
  s->flag = m->flag;
  { /* transaction.c: a half message (TRAN_MSG=true) is flagged PREPARED, as Java's sendKernelImpl does */
    const char *tx = tern_msg_property(m, TERN_PROP_TRANSACTION_PREPARED);
    if (tx && tern_str_to_bool(tern_str_from_cstr(tx))) s->sys_flag |= TERN_SYSFLAG_TRANSACTION_PREPARED_TYPE;
  }
  s->max_attempts = mode == MODE_ONEWAY ? 1 : 1 + (p->in.conf.retry_times > 0 ? p->in.conf.retry_times : 0);
  if (!tern_topic_valid(tern_str_from_cstr(m->topic)) || !tern_topic_send_allowed(tern_str_from_cstr(m->topic)))
    return TERN_EINVAL;
  if (m->len == 0) return TERN_EINVAL; /* Java: "the message body length is zero" */
  if ((int64_t)m->len > p->in.conf.max_message_size) return TERN_ETOOBIG;
  snprintf(s->topic, sizeof s->topic, "%s", m->topic);
  pthread_mutex_lock(&p->uniq_mu);
  tern_uniq_gen_next(&p->uniq, (int64_t)tc_now_ms(), uniq);
  pthread_mutex_unlock(&p->uniq_mu);
  tern_buf_init(&s->props, TERN_PROPS_MAX_LEN + 1);
  rc = tc_msg_props(m, uniq, &s->props);
  if (rc) {
    tern_buf_free(&s->props);
    return rc;
  }
  {
    const char *u = tern_msg_property(m, TERN_PROP_UNIQ_KEY);
    snprintf(s->res.msg_id, sizeof s->res.msg_id, "%s", u ? u : uniq);
  }
  if (p->in.conf.compress_over > 0 && m->len >= (size_t)p->in.conf.compress_over) {
    uint8_t *z;
    size_t zn;
    if (tc_deflate(m->body, m->len, p->in.conf.compress_level, &z, &zn) == 0) {
      s->body = z;
      s->len = zn;
      s->own_body = true;
      s->sys_flag |= TERN_SYSFLAG_COMPRESSED | TERN_SYSFLAG_COMPRESSION_TYPE_ZLIB;
      return 0;
    }
  }
  if (copy_body) {
    s->body = malloc(m->len);
    if (!s->body) {
      tern_buf_free(&s->props);
      return TERN_ENOMEM;
    }
    memcpy(s->body, m->body, m->len);
    s->own_body = true;
  } else {
    s->body = m->body;
  }
  s->len = m->len;
  return 0;
}

static int run_sync(tern_producer_t *p, tc_send_t *s, tern_send_result_t *r) {
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->cv, NULL);
  tern_loop_post(&p->in.loop, &s->post, send_post);
  pthread_mutex_lock(&s->mu);
  while (!s->done) pthread_cond_wait(&s->cv, &s->mu);
  pthread_mutex_unlock(&s->mu);
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->cv);
  if (r) *r = s->res;
  return s->res.err.error;
}

static void fill_err(tern_send_result_t *r, int rc, const char *what) {
  if (!r) return;
  memset(r, 0, sizeof *r);
  r->err.error = rc;
  r->err.response_code = -1;
  snprintf(r->err.remark, sizeof r->err.remark, "%s: %s", what, tern_strerror(rc));
}

int tern_producer_send(tern_producer_t *p, const tern_msg_t *m, tern_send_result_t *r) {
  tc_send_t s;
  int rc;
  if (!p->started) return TERN_EINVAL;
  rc = prepare(p, &s, m, MODE_SYNC, false);
  if (rc) {
    fill_err(r, rc, "bad message");
    return rc;
  }
  return run_sync(p, &s, r);
}

int tern_producer_send_async(tern_producer_t *p, const tern_msg_t *m, tern_send_cb cb, void *arg) {
  tc_send_t *s;
  int rc;
  if (!p->started) return TERN_EINVAL;
  s = malloc(sizeof *s);
  if (!s) return TERN_ENOMEM;
  rc = prepare(p, s, m, MODE_ASYNC, true);
  if (rc) {
    free(s);
    return rc;
  }
  s->cb = cb;
  s->arg = arg;
  atomic_fetch_add(&p->inflight, 1);
  tern_loop_post(&p->in.loop, &s->post, send_post);
  return 0;
}

int tern_producer_send_oneway(tern_producer_t *p, const tern_msg_t *m) {
  tc_send_t *s;
  int rc;
  if (!p->started) return TERN_EINVAL;
  s = malloc(sizeof *s);
  if (!s) return TERN_ENOMEM;
  rc = prepare(p, s, m, MODE_ONEWAY, true);
  if (rc) {
    free(s);
    return rc;
  }
  atomic_fetch_add(&p->inflight, 1);
  tern_loop_post(&p->in.loop, &s->post, send_post);
  return 0;
}

int tern_producer_queues(tern_producer_t *p, const char *topic, tern_mq_t **out, int *n) {
  if (!p->started) return TERN_EINVAL;
  return tc_route_queues_wait(&p->in, topic, true, out, n);
}

int tern_select_by_key(void *arg, const tern_mq_t *mqs, int n, const tern_msg_t *m) {
  int32_t h = tern_java_string_hash(tern_str_from_cstr(arg ? (const char *)arg : ""));
  int v;
  TERN_UNUSED(mqs), TERN_UNUSED(m);
  v = (int)(h % n);
  return v < 0 ? -v : v;
}

int tern_producer_send_select(tern_producer_t *p, const tern_msg_t *m, tern_queue_selector_fn sel, void *arg,
                              tern_send_result_t *r) {
  tern_mq_t *mqs = NULL;
  int n = 0, i, rc;
  tc_send_t s;
  if (!p->started || !sel) return TERN_EINVAL;
  rc = tern_producer_queues(p, m->topic, &mqs, &n);
  if (rc == 0 && n == 0) rc = TERN_ENOTFOUND;
  if (rc) {
    free(mqs);
    fill_err(r, rc, "no route");
    return rc;
  }
  i = sel(arg, mqs, n, m);
  if (i < 0 || i >= n) {
    free(mqs);
    fill_err(r, TERN_EINVAL, "selector");
    return TERN_EINVAL;
  }
  rc = prepare(p, &s, m, MODE_SYNC, false);
  if (rc) {
    free(mqs);
    fill_err(r, rc, "bad message");
    return rc;
  }
  s.fixed = true;
  s.mq = mqs[i];
  free(mqs);
  return run_sync(p, &s, r);
}

int tern_producer_send_batch(tern_producer_t *p, const tern_msg_t *const *msgs, size_t n, tern_send_result_t *r) {
  tc_send_t s;
  tern_buf_t body, props;
  size_t i;
  char uniq[TERN_UNIQ_HEX_V6 + 1];
  if (!p->started || n == 0) return TERN_EINVAL;
  for (i = 0; i < n; i++)
    if (strcmp(msgs[i]->topic, msgs[0]->topic) != 0 || tern_msg_property(msgs[i], TERN_PROP_DELAY_TIME_LEVEL) ||
        tern_topic_is_retry(tern_str_from_cstr(msgs[i]->topic)) || msgs[i]->len == 0) {
      fill_err(r, TERN_EINVAL, "batch: one topic, no delay, no retry topic, no empty body");
      return TERN_EINVAL;
    }
  if (!tern_topic_valid(tern_str_from_cstr(msgs[0]->topic))) return TERN_EINVAL;
  memset(&s, 0, sizeof s);
  tern_buf_init(&body, (size_t)p->in.conf.max_message_size);
  for (i = 0; i < n; i++) {
    tern_buf_init(&props, TERN_PROPS_MAX_LEN + 1);
    pthread_mutex_lock(&p->uniq_mu);
    tern_uniq_gen_next(&p->uniq, (int64_t)tc_now_ms(), uniq);
    pthread_mutex_unlock(&p->uniq_mu);
    if (i == 0) {
      const char *u = tern_msg_property(msgs[0], TERN_PROP_UNIQ_KEY);
      snprintf(s.res.msg_id, sizeof s.res.msg_id, "%s", u ? u : uniq);
    }
    if (tc_msg_props(msgs[i], uniq, &props) == 0)
      tern_batch_entry_encode(&body, msgs[i]->flag, (tern_str_t){(const char *)msgs[i]->body, msgs[i]->len},
                              (tern_str_t){(const char *)props.p, props.len});
    else
      body.err = TERN_ETOOBIG;
    tern_buf_free(&props);
  }
  if (body.err) {
    int rc = body.err;
    tern_buf_free(&body);
    fill_err(r, rc, "batch too large");
    return rc;
  }
  {
    tern_send_result_t keep = s.res;
    s.p = p;
    s.mode = MODE_SYNC;
    s.res = keep;
  }
  s.max_attempts = 1 + (p->in.conf.retry_times > 0 ? p->in.conf.retry_times : 0);
  snprintf(s.topic, sizeof s.topic, "%s", msgs[0]->topic);
  s.batch = true;
  s.body = body.p;
  s.len = body.len;
  s.own_body = true; /* freed in complete() */
  tern_buf_init(&s.props, 0);
  tern_props_append(&s.props, TERN_STR(TERN_PROP_WAIT_STORE_MSG_OK), TERN_STR("true"));
  return run_sync(p, &s, r);
}

void tern_producer_shutdown(tern_producer_t *p, uint32_t timeout_ms) {
  uint64_t end = tc_mono_us() + (uint64_t)timeout_ms * 1000u;
  if (!p) return;
  tc_tx_free(&p->in); /* transaction.c: stops the check thread (the loop still runs) */
  if (p->started) {
    while (atomic_load(&p->inflight) > 0 && tc_mono_us() < end) {
      struct timespec ts = {0, 1000000};
      nanosleep(&ts, NULL);
    }
    tc_inst_stop(&p->in);
  }
  tc_fault_free(&p->fault);
  tc_inst_free(&p->in);
  pthread_mutex_destroy(&p->uniq_mu);
  free(p);
}
