/* The pull consumer: the application lists a topic's queues, pulls at
 * offsets it chooses (PULL_MESSAGE without long polling, tag filtering as
 * the push consumer), and keeps offsets itself or remembers them here; the
 * remembered offsets go to the broker (UPDATE_CONSUMER_OFFSET) every
 * persist_ms from the loop thread, on tern_pull_consumer_commit and at
 * shutdown. The offset table is the only state shared between user threads
 * and the loop thread; a mutex guards it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_int.h"
#include "tern/consumer.h"

typedef struct off_entry {
  tern_mq_t mq;
  int64_t offset;
  bool dirty;
} off_entry_t;

struct tern_pull_consumer {
  tc_inst_t in;
  bool started;
  pthread_mutex_t mu;
  off_entry_t *offs;
  int noffs, capoffs;
  uv_timer_t t_persist;
};

static void hb_fill(void *ctx, tern_body_heartbeat_data_t *hb, tern_arena_t *a) {
  tern_pull_consumer_t *c = ctx;
  tern_body_consumer_data_t *cd = tern_arena_calloc(a, 1, sizeof *cd);
  if (!cd) return;
  cd->group_name = tern_str_from_cstr(c->in.conf.group);
  cd->consume_type = TERN_BODY_CONSUME_TYPE_CONSUME_ACTIVELY;
  cd->message_model = TERN_BODY_MESSAGE_MODEL_CLUSTERING;
  cd->consume_from_where = TERN_BODY_CONSUME_FROM_WHERE_CONSUME_FROM_LAST_OFFSET;
  cd->has = TERN_BODY_CONSUMER_DATA_HAS_GROUP_NAME | TERN_BODY_CONSUMER_DATA_HAS_CONSUME_TYPE |
            TERN_BODY_CONSUMER_DATA_HAS_MESSAGE_MODEL | TERN_BODY_CONSUMER_DATA_HAS_CONSUME_FROM_WHERE;
  hb->consumer_data_set.v = cd;
  hb->consumer_data_set.n = 1;
}

static void persist_one(tc_inst_t *in, const tern_mq_t *mq, int64_t off) {
  tern_hdr_update_consumer_offset_request_t h;
  const char *addr = tc_broker_addr(in, mq->broker_name);
  if (!addr) return;
  memset(&h, 0, sizeof h);
  h.consumer_group = tern_str_from_cstr(in->conf.group);
  h.topic = tern_str_from_cstr(mq->topic);
  h.queue_id = mq->queue_id;
  h.commit_offset = off;
  h.present = TERN_HDR_UPDATE_CONSUMER_OFFSET_REQUEST_HAS_CONSUMER_GROUP |
              TERN_HDR_UPDATE_CONSUMER_OFFSET_REQUEST_HAS_TOPIC | TERN_HDR_UPDATE_CONSUMER_OFFSET_REQUEST_HAS_QUEUE_ID |
              TERN_HDR_UPDATE_CONSUMER_OFFSET_REQUEST_HAS_COMMIT_OFFSET;
  tc_request(in, addr, TERN_REQ_UPDATE_CONSUMER_OFFSET, (tc_hdr_enc_fn)tern_hdr_update_consumer_offset_request_encode,
             &h, TERN_STR_NULL, true, in->conf.timeout_ms, NULL, NULL);
}

static void on_persist(uv_timer_t *t) {
  tern_pull_consumer_t *c = t->data;
  int i;
  pthread_mutex_lock(&c->mu);
  for (i = 0; i < c->noffs; i++)
    if (c->offs[i].dirty) {
      persist_one(&c->in, &c->offs[i].mq, c->offs[i].offset);
      c->offs[i].dirty = false;
    }
  pthread_mutex_unlock(&c->mu);
}

static void on_stop(void *ctx, void (*done)(tc_inst_t *)) {
  tern_pull_consumer_t *c = ctx;
  uv_timer_stop(&c->t_persist);
  uv_close((uv_handle_t *)&c->t_persist, NULL);
  tc_unregister_all(&c->in, NULL, c->in.conf.group, done);
}

tern_pull_consumer_t *tern_pull_consumer_new(const tern_client_conf_t *conf) {
  tern_pull_consumer_t *c = calloc(1, sizeof *c);
  tc_hooks_t hooks = {0};
  if (!c) return NULL;
  hooks.ctx = c;
  hooks.heartbeat_fill = hb_fill;
  hooks.on_stop = on_stop;
  if (tc_inst_init(&c->in, conf, &hooks) != 0) {
    tc_inst_free(&c->in);
    free(c);
    return NULL;
  }
  pthread_mutex_init(&c->mu, NULL);
  return c;
}

static void start_timer(tc_wait_t *w) {
  tern_pull_consumer_t *c = w->arg;
  uv_timer_init(c->in.loop.uv, &c->t_persist);
  c->t_persist.data = c;
  uv_timer_start(&c->t_persist, on_persist, (uint64_t)c->in.conf.persist_ms, (uint64_t)c->in.conf.persist_ms);
  tc_done(w, 0);
}

int tern_pull_consumer_start(tern_pull_consumer_t *c) {
  tc_wait_t w;
  int rc;
  if (c->started) return TERN_EINVAL;
  rc = tc_inst_start(&c->in);
  if (rc) return rc;
  c->started = true;
  return tc_run_wait(&c->in, &w, start_timer, c);
}

int tern_pull_consumer_fetch_queues(tern_pull_consumer_t *c, const char *topic, tern_mq_t **out, int *n) {
  if (!c->started) return TERN_EINVAL;
  return tc_route_queues_wait(&c->in, topic, false, out, n);
}

void tern_pull_result_free(tern_pull_result_t *r) {
  size_t i;
  if (!r) return;
  for (i = 0; i < r->n; i++) tc_rmsg_free((tc_rmsg_t *)r->msgs[i]);
  free(r->msgs);
  free(r);
}

int tern_pull_consumer_pull(tern_pull_consumer_t *c, const tern_mq_t *mq, const char *expr, int64_t offset, int max,
                            tern_pull_result_t **out, tern_client_error_t *e) {
  tern_hdr_pull_message_request_t h;
  tern_hdr_pull_message_response_t rh;
  tern_cmd_t resp;
  tern_arena_t a;
  tern_err_t err;
  tc_sub_t sub;
  tern_pull_result_t *r;
  int rc;
  *out = NULL;
  if (!c->started || max <= 0) return TERN_EINVAL;
  rc = tc_sub_parse(&sub, mq->topic, expr);
  if (rc) return rc;
  memset(&h, 0, sizeof h);
  h.consumer_group = tern_str_from_cstr(c->in.conf.group);
  h.topic = tern_str_from_cstr(mq->topic);
  h.queue_id = mq->queue_id;
  h.queue_offset = offset;
  h.max_msg_nums = max;
  h.sys_flag = TERN_HDR_PULL_MESSAGE_REQUEST_SYS_FLAG_SUBSCRIPTION;
  h.commit_offset = 0;
  h.suspend_timeout_millis = 0;
  h.subscription = tern_str_from_cstr(sub.expr);
  h.sub_version = 0;
  h.expression_type = TERN_STR("TAG");
  h.present = TERN_HDR_PULL_MESSAGE_REQUEST_HAS_CONSUMER_GROUP | TERN_HDR_PULL_MESSAGE_REQUEST_HAS_TOPIC |
              TERN_HDR_PULL_MESSAGE_REQUEST_HAS_QUEUE_ID | TERN_HDR_PULL_MESSAGE_REQUEST_HAS_QUEUE_OFFSET |
              TERN_HDR_PULL_MESSAGE_REQUEST_HAS_MAX_MSG_NUMS | TERN_HDR_PULL_MESSAGE_REQUEST_HAS_SYS_FLAG |
              TERN_HDR_PULL_MESSAGE_REQUEST_HAS_COMMIT_OFFSET | TERN_HDR_PULL_MESSAGE_REQUEST_HAS_SUSPEND_TIMEOUT_MILLIS |
              TERN_HDR_PULL_MESSAGE_REQUEST_HAS_SUBSCRIPTION | TERN_HDR_PULL_MESSAGE_REQUEST_HAS_SUB_VERSION |
              TERN_HDR_PULL_MESSAGE_REQUEST_HAS_EXPRESSION_TYPE;
  tern_arena_init(&a, 0, NULL, 0);
  rc = tc_broker_request_wait(&c->in, mq, TERN_REQ_PULL_MESSAGE, (tc_hdr_enc_fn)tern_hdr_pull_message_request_encode,
                              &h, TERN_STR_NULL, c->in.conf.timeout_ms > 10000 ? c->in.conf.timeout_ms : 10000, &resp,
                              &a);
  tc_err_set(e, rc, rc ? NULL : &resp);
  if (rc) goto done;
  if (resp.code != TERN_RESP_SUCCESS && resp.code != TERN_RESP_PULL_NOT_FOUND &&
      resp.code != TERN_RESP_PULL_RETRY_IMMEDIATELY && resp.code != TERN_RESP_PULL_OFFSET_MOVED) {
    rc = tc_err_from_code(resp.code);
    if (!rc) rc = TERN_EIO;
    goto done;
  }
  if (e) memset(e, 0, sizeof *e);
  if ((rc = tern_hdr_pull_message_response_decode(&resp, &rh, &err)) != 0) goto done;
  r = calloc(1, sizeof *r);
  if (!r) {
    rc = TERN_ENOMEM;
    goto done;
  }
  r->next_begin_offset = rh.next_begin_offset;
  r->min_offset = rh.min_offset;
  r->max_offset = rh.max_offset;
  switch (resp.code) {
  case TERN_RESP_SUCCESS: {
    tc_rmsg_t **v;
    size_t n;
    rc = tc_rmsgs_decode(resp.body, mq->broker_name, sub.tags, sub.ntags, &v, &n, NULL);
    if (rc < 0) {
      free(r);
      goto done;
    }
    rc = 0;
    r->msgs = (tern_rmsg_t **)v;
    r->n = n;
    r->status = n ? TERN_PULL_FOUND : TERN_PULL_NO_MATCHED_MSG;
    break;
  }
  case TERN_RESP_PULL_NOT_FOUND: r->status = TERN_PULL_NO_NEW_MSG; break;
  case TERN_RESP_PULL_RETRY_IMMEDIATELY: r->status = TERN_PULL_NO_MATCHED_MSG; break;
  default: r->status = TERN_PULL_OFFSET_ILLEGAL; break;
  }
  *out = r;
done:
  tern_arena_free(&a);
  tc_sub_free(&sub);
  return rc;
}

static int offset_call(tern_pull_consumer_t *c, const tern_mq_t *mq, int32_t code, tc_hdr_enc_fn enc, const void *h,
                       int64_t *off) {
  tern_cmd_t resp;
  tern_arena_t a;
  tern_err_t err;
  int rc;
  tern_arena_init(&a, 0, NULL, 0);
  rc = tc_broker_request_wait(&c->in, mq, code, enc, h, TERN_STR_NULL, c->in.conf.timeout_ms, &resp, &a);
  if (rc == 0) {
    rc = tc_err_from_code(resp.code);
    if (rc == 0) {
      /* every offset reply header carries one "offset" field */
      tern_hdr_get_max_offset_response_t rh;
      rc = tern_hdr_get_max_offset_response_decode(&resp, &rh, &err);
      if (rc == 0) *off = rh.offset;
    }
  }
  tern_arena_free(&a);
  return rc;
}

int tern_pull_consumer_max_offset(tern_pull_consumer_t *c, const tern_mq_t *mq, int64_t *off) {
  tern_hdr_get_max_offset_request_t h;
  memset(&h, 0, sizeof h);
  h.topic = tern_str_from_cstr(mq->topic);
  h.queue_id = mq->queue_id;
  h.present = TERN_HDR_GET_MAX_OFFSET_REQUEST_HAS_TOPIC | TERN_HDR_GET_MAX_OFFSET_REQUEST_HAS_QUEUE_ID;
  return offset_call(c, mq, TERN_REQ_GET_MAX_OFFSET, (tc_hdr_enc_fn)tern_hdr_get_max_offset_request_encode, &h, off);
}

int tern_pull_consumer_min_offset(tern_pull_consumer_t *c, const tern_mq_t *mq, int64_t *off) {
  tern_hdr_get_min_offset_request_t h;
  memset(&h, 0, sizeof h);
  h.topic = tern_str_from_cstr(mq->topic);
  h.queue_id = mq->queue_id;
  h.present = TERN_HDR_GET_MIN_OFFSET_REQUEST_HAS_TOPIC | TERN_HDR_GET_MIN_OFFSET_REQUEST_HAS_QUEUE_ID;
  return offset_call(c, mq, TERN_REQ_GET_MIN_OFFSET, (tc_hdr_enc_fn)tern_hdr_get_min_offset_request_encode, &h, off);
}

int tern_pull_consumer_search_offset(tern_pull_consumer_t *c, const tern_mq_t *mq, int64_t ts_ms, int64_t *off) {
  tern_hdr_search_offset_request_t h;
  memset(&h, 0, sizeof h);
  h.topic = tern_str_from_cstr(mq->topic);
  h.queue_id = mq->queue_id;
  h.timestamp = ts_ms;
  h.present = TERN_HDR_SEARCH_OFFSET_REQUEST_HAS_TOPIC | TERN_HDR_SEARCH_OFFSET_REQUEST_HAS_QUEUE_ID |
              TERN_HDR_SEARCH_OFFSET_REQUEST_HAS_TIMESTAMP;
  return offset_call(c, mq, TERN_REQ_SEARCH_OFFSET_BY_TIMESTAMP, (tc_hdr_enc_fn)tern_hdr_search_offset_request_encode,
                     &h, off);
}

int tern_pull_consumer_fetch_offset(tern_pull_consumer_t *c, const tern_mq_t *mq, int64_t *off) {
  tern_hdr_query_consumer_offset_request_t h;
  memset(&h, 0, sizeof h);
  h.consumer_group = tern_str_from_cstr(c->in.conf.group);
  h.topic = tern_str_from_cstr(mq->topic);
  h.queue_id = mq->queue_id;
  h.present = TERN_HDR_QUERY_CONSUMER_OFFSET_REQUEST_HAS_CONSUMER_GROUP |
              TERN_HDR_QUERY_CONSUMER_OFFSET_REQUEST_HAS_TOPIC | TERN_HDR_QUERY_CONSUMER_OFFSET_REQUEST_HAS_QUEUE_ID;
  return offset_call(c, mq, TERN_REQ_QUERY_CONSUMER_OFFSET,
                     (tc_hdr_enc_fn)tern_hdr_query_consumer_offset_request_encode, &h, off);
}

int tern_pull_consumer_update_offset(tern_pull_consumer_t *c, const tern_mq_t *mq, int64_t off) {
  int i;
  pthread_mutex_lock(&c->mu);
  for (i = 0; i < c->noffs; i++)
    if (tern_mq_cmp(&c->offs[i].mq, mq) == 0) break;
  if (i == c->noffs) {
    if (c->noffs == c->capoffs) {
      int nc = c->capoffs ? c->capoffs * 2 : 16;
      void *p = realloc(c->offs, sizeof *c->offs * (size_t)nc);
      if (!p) {
        pthread_mutex_unlock(&c->mu);
        return TERN_ENOMEM;
      }
      c->offs = p;
      c->capoffs = nc;
    }
    c->offs[c->noffs++].mq = *mq;
  }
  c->offs[i].offset = off;
  c->offs[i].dirty = true;
  pthread_mutex_unlock(&c->mu);
  return 0;
}

int tern_pull_consumer_commit(tern_pull_consumer_t *c) {
  int i, rc = 0;
  off_entry_t *copy;
  int n;
  if (!c->started) return TERN_EINVAL;
  pthread_mutex_lock(&c->mu);
  n = c->noffs;
  copy = malloc(sizeof *copy * (size_t)(n ? n : 1));
  if (!copy) {
    pthread_mutex_unlock(&c->mu);
    return TERN_ENOMEM;
  }
  if (n) memcpy(copy, c->offs, sizeof *copy * (size_t)n);
  for (i = 0; i < n; i++) c->offs[i].dirty = false;
  pthread_mutex_unlock(&c->mu);
  for (i = 0; i < n; i++) {
    tern_hdr_update_consumer_offset_request_t h;
    tern_cmd_t resp;
    tern_arena_t a;
    int r;
    if (!copy[i].dirty) continue;
    memset(&h, 0, sizeof h);
    h.consumer_group = tern_str_from_cstr(c->in.conf.group);
    h.topic = tern_str_from_cstr(copy[i].mq.topic);
    h.queue_id = copy[i].mq.queue_id;
    h.commit_offset = copy[i].offset;
    h.present = TERN_HDR_UPDATE_CONSUMER_OFFSET_REQUEST_HAS_CONSUMER_GROUP |
                TERN_HDR_UPDATE_CONSUMER_OFFSET_REQUEST_HAS_TOPIC | TERN_HDR_UPDATE_CONSUMER_OFFSET_REQUEST_HAS_QUEUE_ID |
                TERN_HDR_UPDATE_CONSUMER_OFFSET_REQUEST_HAS_COMMIT_OFFSET;
    tern_arena_init(&a, 0, NULL, 0);
    r = tc_broker_request_wait(&c->in, &copy[i].mq, TERN_REQ_UPDATE_CONSUMER_OFFSET,
                               (tc_hdr_enc_fn)tern_hdr_update_consumer_offset_request_encode, &h, TERN_STR_NULL,
                               c->in.conf.timeout_ms, &resp, &a);
    if (r == 0) r = tc_err_from_code(resp.code);
    tern_arena_free(&a);
    if (r && !rc) rc = r;
  }
  free(copy);
  return rc;
}

void tern_pull_consumer_shutdown(tern_pull_consumer_t *c) {
  if (!c) return;
  if (c->started) {
    tern_pull_consumer_commit(c);
    tc_inst_stop(&c->in);
  }
  tc_inst_free(&c->in);
  pthread_mutex_destroy(&c->mu);
  free(c->offs);
  free(c);
}
