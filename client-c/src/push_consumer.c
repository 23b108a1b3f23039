/* The push consumer. On the loop thread: rebalance (average allocation of the
 * sorted queues over the sorted consumer ids, every rebalance_ms and on
 * NOTIFY_CONSUMER_IDS_CHANGED; every queue when broadcasting), one process
 * queue per assigned queue (tc_pq_t: long-polling pulls, cached messages in
 * offset order, flow control, the offset to commit), orderly queue locks, and
 * offset persistence (broker for clustering, a local file for broadcasting,
 * offset_file.c). Messages go to the consume pool in batches; finished
 * batches come back in one post per wake-up. A process queue is freed when
 * it is dropped and no pull, consume batch or timer still refers to it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_int.h"
#include "consume_pool.h"
#include "offset_file.h"
#include "tern/consumer.h"

#define PULL_DELAY_ON_ERROR 3000
#define PULL_DELAY_FLOW 50
#define LOCK_RENEW_MS 20000
#define SUSPEND_MS 1000

typedef struct tc_pq tc_pq_t;
typedef struct tc_creq {
  tc_task_t task;
  struct tc_creq *next_done;
  tern_push_consumer_t *c;
  tc_pq_t *pq;
  tc_rmsg_t **msgs;
  size_t n;
  int result; /* listener result, -1 dropped */
  int pending_backs;
  bool back_failed;
} tc_creq_t;

struct tc_pq {
  tc_pq_t *next;
  tern_push_consumer_t *c;
  tern_mq_t mq;
  int sub; /* index into c->subs */
  bool dropped, offset_ready, computing, pulling, timer_armed, timer_closed;
  int64_t pull_offset, commit_offset, persisted_offset;
  tc_rmsg_t **q; /* ring of cached messages in offset order */
  size_t qh, qn, qcap;
  size_t undelivered; /* orderly: index (from qh) of the first message not handed out */
  size_t cached;      /* not yet consumed */
  bool locked, consuming;
  uint64_t lock_at;
  int refs;
  uv_timer_t timer;
};

struct tern_push_consumer {
  tc_inst_t in;
  bool started, orderly, stopping;
  tern_listener_fn fn;
  void *arg;
  tc_sub_t *subs;
  int nsubs;
  tc_pq_t *pqs;
  tc_cpool_t cpool;
  uv_timer_t t_rebalance, t_persist, t_lock, t_retry;
  bool rebalance_soon;
  pthread_mutex_t done_mu;
  tc_creq_t *done_head;
  bool done_posted;
  tern_post_t done_post;
  tc_creq_t *retry_list; /* loop thread */
  tc_offset_file_t local;
  tern_post_t stop_post;
};

static void pull_now(tc_pq_t *pq);
static void dispatch(tc_pq_t *pq);
static void lock_queues(tern_push_consumer_t *c, bool all);

/* ---- process queue lifetime ---- */

static void pq_unref(tc_pq_t *pq) {
  size_t i;
  if (--pq->refs > 0) return;
  for (i = 0; i < pq->qn; i++) tc_rmsg_free(pq->q[(pq->qh + i) % pq->qcap]);
  free(pq->q);
  free(pq);
}

static void pq_timer_closed(uv_handle_t *h) { pq_unref(h->data); }

static void pq_unlink(tern_push_consumer_t *c, tc_pq_t *pq) {
  tc_pq_t **pp;
  for (pp = &c->pqs; *pp; pp = &(*pp)->next)
    if (*pp == pq) {
      *pp = pq->next;
      break;
    }
  pq->dropped = true;
  if (!pq->timer_closed) {
    pq->timer_closed = true;
    uv_timer_stop(&pq->timer);
    uv_close((uv_handle_t *)&pq->timer, pq_timer_closed); /* holds the list's reference until closed */
  } else {
    pq_unref(pq);
  }
}

static void on_pq_timer(uv_timer_t *t) {
  tc_pq_t *pq = t->data;
  pq->timer_armed = false;
  pull_now(pq);
}

static void pull_later(tc_pq_t *pq, uint64_t ms) {
  if (pq->dropped || pq->timer_closed) return;
  pq->timer_armed = true;
  uv_timer_start(&pq->timer, on_pq_timer, ms, 0);
}

/* ---- offsets ---- */

static void persist_pq(tern_push_consumer_t *c, tc_pq_t *pq) {
  tern_hdr_update_consumer_offset_request_t h;
  const char *addr;
  if (pq->commit_offset < 0 || pq->commit_offset == pq->persisted_offset) return;
  if (c->in.conf.message_model == TERN_BROADCASTING) {
    tc_offset_file_set(&c->local, &pq->mq, pq->commit_offset);
    pq->persisted_offset = pq->commit_offset;
    return;
  }
  addr = tc_broker_addr(&c->in, pq->mq.broker_name);
  if (!addr) return;
  memset(&h, 0, sizeof h);
  h.consumer_group = tern_str_from_cstr(c->in.conf.group);
  h.topic = tern_str_from_cstr(pq->mq.topic);
  h.queue_id = pq->mq.queue_id;
  h.commit_offset = pq->commit_offset;
  h.present = TERN_HDR_UPDATE_CONSUMER_OFFSET_REQUEST_HAS_CONSUMER_GROUP |
              TERN_HDR_UPDATE_CONSUMER_OFFSET_REQUEST_HAS_TOPIC | TERN_HDR_UPDATE_CONSUMER_OFFSET_REQUEST_HAS_QUEUE_ID |
              TERN_HDR_UPDATE_CONSUMER_OFFSET_REQUEST_HAS_COMMIT_OFFSET;
  if (tc_request(&c->in, addr, TERN_REQ_UPDATE_CONSUMER_OFFSET,
                 (tc_hdr_enc_fn)tern_hdr_update_consumer_offset_request_encode, &h, TERN_STR_NULL, true, 0, NULL,
                 NULL) == 0)
    pq->persisted_offset = pq->commit_offset;
}

static void persist_all(tern_push_consumer_t *c) {
  tc_pq_t *pq;
  for (pq = c->pqs; pq; pq = pq->next) persist_pq(c, pq);
  if (c->in.conf.message_model == TERN_BROADCASTING) tc_offset_file_save(&c->local);
}

static void on_persist(uv_timer_t *t) { persist_all(t->data); }

static void unlock_mq(tern_push_consumer_t *c, const tern_mq_t *mq) {
  tern_body_unlock_batch_request_body_t b;
  tern_body_message_queue_t m;
  tern_buf_t buf;
  const char *addr = tc_broker_addr(&c->in, mq->broker_name);
  if (!addr) return;
  memset(&b, 0, sizeof b);
  memset(&m, 0, sizeof m);
  m.topic = tern_str_from_cstr(mq->topic);
  m.broker_name = tern_str_from_cstr(mq->broker_name);
  m.queue_id = mq->queue_id;
  m.has = TERN_BODY_MESSAGE_QUEUE_HAS_TOPIC | TERN_BODY_MESSAGE_QUEUE_HAS_BROKER_NAME;
  b.client_id = tern_str_from_cstr(c->in.client_id);
  b.consumer_group = tern_str_from_cstr(c->in.conf.group);
  b.mq_set.v = &m;
  b.mq_set.n = 1;
  b.has = TERN_BODY_UNLOCK_BATCH_REQUEST_BODY_HAS_CLIENT_ID | TERN_BODY_UNLOCK_BATCH_REQUEST_BODY_HAS_CONSUMER_GROUP;
  tern_buf_init(&buf, 0);
  tern_body_unlock_batch_request_body_encode(&b, &buf, 0);
  if (!buf.err)
    tc_request(&c->in, addr, TERN_REQ_UNLOCK_BATCH_MQ, NULL, NULL, (tern_str_t){(const char *)buf.p, buf.len}, true, 0,
               NULL, NULL);
  tern_buf_free(&buf);
}

/* Gives a queue up: commit its offset, and in orderly mode unlock it once no
 * batch of it is being consumed (the same connection carries both, in order). */
static void pq_release(tern_push_consumer_t *c, tc_pq_t *pq) {
  pq->dropped = true;
  if (c->orderly && pq->consuming) return; /* finished when the running batch returns */
  persist_pq(c, pq);
  if (c->orderly && pq->locked) unlock_mq(c, &pq->mq);
  pq->locked = false;
  pq_unlink(c, pq);
}

/* ---- consuming ---- */

static tc_rmsg_t *q_at(tc_pq_t *pq, size_t i) { return pq->q[(pq->qh + i) % pq->qcap]; }

static int q_push(tc_pq_t *pq, tc_rmsg_t *m) {
  if (pq->qn == pq->qcap) {
    size_t nc = pq->qcap ? pq->qcap * 2 : 64, i;
    tc_rmsg_t **nq = malloc(nc * sizeof *nq);
    if (!nq) return TERN_ENOMEM;
    for (i = 0; i < pq->qn; i++) nq[i] = q_at(pq, i);
    free(pq->q);
    pq->q = nq;
    pq->qh = 0;
    pq->qcap = nc;
  }
  pq->q[(pq->qh + pq->qn) % pq->qcap] = m;
  pq->qn++;
  return 0;
}

/* Frees consumed messages at the head; the commit offset is the first one
 * still cached, or the next offset to pull when none is. */
static void q_trim(tc_pq_t *pq) {
  while (pq->qn > 0 && q_at(pq, 0)->done) {
    tc_rmsg_free(q_at(pq, 0));
    pq->qh = (pq->qh + 1) % pq->qcap;
    pq->qn--;
    if (pq->undelivered > 0) pq->undelivered--;
  }
  pq->commit_offset = pq->qn ? q_at(pq, 0)->pub.queue_offset : pq->pull_offset;
}

static void done_post_fn(tern_post_t *p);

static void creq_finish(tc_creq_t *r) {
  tern_push_consumer_t *c = r->c;
  bool post;
  pthread_mutex_lock(&c->done_mu);
  r->next_done = c->done_head;
  c->done_head = r;
  post = !c->done_posted;
  c->done_posted = true;
  pthread_mutex_unlock(&c->done_mu);
  if (post) tern_loop_post(&c->in.loop, &c->done_post, done_post_fn);
}

static void creq_run(tc_task_t *t) {
  tc_creq_t *r = (tc_creq_t *)t;
  r->result = r->c->fn(r->c->arg, (tern_rmsg_t *const *)r->msgs, r->n);
  creq_finish(r);
}

static void creq_drop(tc_task_t *t) {
  tc_creq_t *r = (tc_creq_t *)t;
  r->result = -1;
  creq_finish(r);
}

static tc_creq_t *creq_new(tern_push_consumer_t *c, tc_pq_t *pq, size_t n) {
  tc_creq_t *r = calloc(1, sizeof *r);
  if (!r) return NULL;
  r->msgs = calloc(n, sizeof *r->msgs);
  if (!r->msgs) {
    free(r);
    return NULL;
  }
  r->task.run = creq_run;
  r->task.drop = creq_drop;
  r->c = c;
  r->pq = pq;
  pq->refs++;
  return r;
}

static void creq_free(tc_creq_t *r) {
  tc_pq_t *pq = r->pq;
  free(r->msgs);
  free(r);
  pq_unref(pq);
}

/* Concurrent: every message from index `from` goes out in batches. */
static void dispatch_concurrent(tc_pq_t *pq, size_t from) {
  tern_push_consumer_t *c = pq->c;
  size_t batch = c->in.conf.consume_batch > 0 ? (size_t)c->in.conf.consume_batch : 1, i;
  tc_task_t *head = NULL, *tail = NULL;
  int count = 0;
  for (i = from; i < pq->qn; i += batch) {
    size_t n = pq->qn - i < batch ? pq->qn - i : batch, k;
    tc_creq_t *r = creq_new(c, pq, n);
    if (!r) break;
    for (k = 0; k < n; k++) r->msgs[k] = q_at(pq, i + k);
    r->n = n;
    if (tail) tail->next = &r->task;
    else head = &r->task;
    tail = &r->task;
    count++;
  }
  if (head) tc_cpool_submit(&c->cpool, head, tail, count);
}

/* Orderly: one batch of the queue at a time, while the lock is held. */
static void dispatch(tc_pq_t *pq) {
  tern_push_consumer_t *c = pq->c;
  size_t batch = c->in.conf.consume_batch > 0 ? (size_t)c->in.conf.consume_batch : 1, n, k;
  tc_creq_t *r;
  if (!c->orderly || pq->dropped || pq->consuming || !pq->locked || c->stopping) return;
  if (pq->undelivered >= pq->qn) return;
  n = pq->qn - pq->undelivered < batch ? pq->qn - pq->undelivered : batch;
  r = creq_new(c, pq, n);
  if (!r) return;
  for (k = 0; k < n; k++) r->msgs[k] = q_at(pq, pq->undelivered + k);
  r->n = n;
  pq->undelivered += n;
  pq->consuming = true;
  tc_cpool_submit(&c->cpool, &r->task, &r->task, 1);
}

static void on_retry(uv_timer_t *t) {
  tern_push_consumer_t *c = t->data;
  tc_creq_t *r = c->retry_list, *n;
  c->retry_list = NULL;
  for (; r; r = n) {
    n = r->next_done;
    if (r->pq->dropped || c->stopping) {
      creq_free(r);
      continue;
    }
    if (c->orderly) {
      /* redeliver the same batch first */
      r->pq->consuming = true;
    }
    r->back_failed = false;
    tc_cpool_submit(&c->cpool, &r->task, &r->task, 1);
  }
}

static void retry_later(tern_push_consumer_t *c, tc_creq_t *r) {
  size_t i;
  for (i = 0; i < r->n; i++) r->msgs[i]->pub.reconsume_times++;
  r->next_done = c->retry_list;
  c->retry_list = r;
}

static void creq_settle(tc_creq_t *r) {
  tc_pq_t *pq = r->pq;
  tern_push_consumer_t *c = r->c;
  size_t i;
  if (r->back_failed && !pq->dropped && !c->stopping) {
    retry_later(c, r); /* Java re-consumes locally after 5 s when the send-back fails */
    return;
  }
  for (i = 0; i < r->n; i++) r->msgs[i]->done = true;
  q_trim(pq);
  creq_free(r);
}

static void back_cb(void *arg, int status, const tern_cmd_t *resp) {
  tc_creq_t *r = arg;
  if (status != 0 || resp->code != 0) r->back_failed = true;
  if (--r->pending_backs == 0) creq_settle(r);
}

static void send_back(tc_creq_t *r) {
  tern_push_consumer_t *c = r->c;
  const char *addr = tc_broker_addr(&c->in, r->pq->mq.broker_name);
  size_t i;
  r->pending_backs = 1;
  for (i = 0; i < r->n; i++) {
    tern_hdr_consumer_send_msg_back_request_t h;
    tern_rmsg_t *m = &r->msgs[i]->pub;
    memset(&h, 0, sizeof h);
    h.offset = m->commit_log_offset;
    h.group = tern_str_from_cstr(c->in.conf.group);
    h.delay_level = 0;
    h.origin_msg_id = tern_str_from_cstr(m->msg_id);
    h.origin_topic = m->topic;
    h.max_reconsume_times = c->in.conf.max_reconsume_times;
    h.present = TERN_HDR_CONSUMER_SEND_MSG_BACK_REQUEST_HAS_OFFSET | TERN_HDR_CONSUMER_SEND_MSG_BACK_REQUEST_HAS_GROUP |
                TERN_HDR_CONSUMER_SEND_MSG_BACK_REQUEST_HAS_DELAY_LEVEL |
                TERN_HDR_CONSUMER_SEND_MSG_BACK_REQUEST_HAS_ORIGIN_MSG_ID |
                TERN_HDR_CONSUMER_SEND_MSG_BACK_REQUEST_HAS_ORIGIN_TOPIC |
                TERN_HDR_CONSUMER_SEND_MSG_BACK_REQUEST_HAS_MAX_RECONSUME_TIMES;
    r->pending_backs++;
    if (!addr || tc_request(&c->in, addr, TERN_REQ_CONSUMER_SEND_MSG_BACK,
                            (tc_hdr_enc_fn)tern_hdr_consumer_send_msg_back_request_encode, &h, TERN_STR_NULL, false,
                            c->in.conf.timeout_ms, back_cb, r) != 0) {
      r->pending_backs--;
      r->back_failed = true;
    }
  }
  back_cb(r, 0, &(tern_cmd_t){0});
}

static void handle_done_pq(tc_creq_t *r);
static void handle_done(tc_creq_t *r) {
  tc_pq_t *pq = r->pq;
  pq->refs++; /* keeps pq while the batch is settled */
  handle_done_pq(r);
  pq_unref(pq);
}

static void handle_done_pq(tc_creq_t *r) {
  tc_pq_t *pq = r->pq;
  tern_push_consumer_t *c = r->c;
  size_t i;
  if (r->result < 0) { /* dropped at shutdown: not consumed */
    if (c->orderly) pq->consuming = false;
    creq_free(r);
    return;
  }
  if (c->orderly) {
    pq->consuming = false;
    if (r->result == TERN_ORDERLY_SUCCESS) {
      for (i = 0; i < r->n; i++) r->msgs[i]->done = true;
      q_trim(pq);
      creq_free(r);
      if (pq->dropped) {
        pq_release(c, pq); /* the queue was given up while this batch ran */
        return;
      }
      dispatch(pq);
      if (!pq->pulling && !pq->timer_armed && pq->cached <= (size_t)c->in.conf.pull_threshold_queue) pull_now(pq);
    } else {
      pq->undelivered = 0; /* the suspended batch is first again */
      if (pq->dropped) {
        creq_free(r);
        pq_release(c, pq);
        return;
      }
      pq->consuming = true; /* held until the retry resubmits it */
      retry_later(c, r);
    }
    pq->cached = pq->qn;
    return;
  }
  if (r->result == TERN_CONSUME_SUCCESS || c->in.conf.message_model == TERN_BROADCASTING || pq->dropped) {
    /* broadcasting drops failed messages, as Java does */
    creq_settle(r);
  } else {
    send_back(r);
  }
  pq->cached = pq->qn;
  if (!pq->dropped && !pq->pulling && !pq->timer_armed && pq->qn <= (size_t)c->in.conf.pull_threshold_queue)
    pull_now(pq);
}

static void done_post_fn(tern_post_t *p) {
  tern_push_consumer_t *c = (tern_push_consumer_t *)((char *)p - offsetof(tern_push_consumer_t, done_post));
  tc_creq_t *r, *n, *rev = NULL;
  pthread_mutex_lock(&c->done_mu);
  r = c->done_head;
  c->done_head = NULL;
  c->done_posted = false;
  pthread_mutex_unlock(&c->done_mu);
  for (; r; r = n) { /* restore completion order */
    n = r->next_done;
    r->next_done = rev;
    rev = r;
  }
  for (r = rev; r; r = n) {
    n = r->next_done;
    handle_done(r);
  }
}

/* ---- pulling ---- */

static void pull_cb(void *arg, int status, const tern_cmd_t *resp) {
  tc_pq_t *pq = arg;
  tern_push_consumer_t *c = pq->c;
  tern_hdr_pull_message_response_t h;
  tern_err_t err;
  pq->pulling = false;
  if (pq->dropped || c->stopping) {
    pq_unref(pq);
    return;
  }
  pq_unref(pq);
  if (status != 0) {
    pull_later(pq, PULL_DELAY_ON_ERROR);
    return;
  }
  if (resp->code != TERN_RESP_SUCCESS && resp->code != TERN_RESP_PULL_NOT_FOUND &&
      resp->code != TERN_RESP_PULL_RETRY_IMMEDIATELY && resp->code != TERN_RESP_PULL_OFFSET_MOVED) {
    tern_debug("pull %s/%d refused: %d", pq->mq.topic, pq->mq.queue_id, resp->code);
    pull_later(pq, PULL_DELAY_ON_ERROR);
    return;
  }
  if (tern_hdr_pull_message_response_decode(resp, &h, &err) != 0) {
    pull_later(pq, PULL_DELAY_ON_ERROR);
    return;
  }
  if (resp->code == TERN_RESP_SUCCESS) {
    tc_rmsg_t **v = NULL;
    size_t n = 0, i, from = pq->qn;
    const tc_sub_t *s = &c->subs[pq->sub];
    if (tc_rmsgs_decode(resp->body, pq->mq.broker_name, s->tags, s->ntags, &v, &n, NULL) < 0) {
      pull_later(pq, PULL_DELAY_ON_ERROR);
      return;
    }
    for (i = 0; i < n; i++) {
      tern_str_t rt;
      if (tern_topic_is_retry(v[i]->pub.topic) && tern_rmsg_property(&v[i]->pub, TERN_PROP_RETRY_TOPIC, &rt) == 0)
        v[i]->pub.topic = rt;
      if (v[i]->pub.queue_offset < pq->pull_offset || q_push(pq, v[i]) != 0) tc_rmsg_free(v[i]);
    }
    free(v);
    pq->pull_offset = h.next_begin_offset;
    pq->cached = pq->qn;
    if (pq->qn == 0) pq->commit_offset = pq->pull_offset;
    if (c->orderly) dispatch(pq);
    else dispatch_concurrent(pq, from);
  } else {
    pq->pull_offset = h.next_begin_offset;
    if (pq->qn == 0) pq->commit_offset = pq->pull_offset;
    if (resp->code == TERN_RESP_PULL_OFFSET_MOVED) persist_pq(c, pq);
  }
  pull_now(pq);
}

static void offset_ready(tc_pq_t *pq, int64_t off) {
  pq->computing = false;
  pq->offset_ready = true;
  pq->pull_offset = off < 0 ? 0 : off;
  pq->commit_offset = pq->pull_offset;
  pq->persisted_offset = pq->pull_offset;
  pull_now(pq);
}

static void where_cb(void *arg, int status, const tern_cmd_t *resp) {
  tc_pq_t *pq = arg;
  tern_hdr_get_max_offset_response_t h; /* max and search replies share the one "offset" field */
  tern_err_t err;
  pq_unref(pq);
  if (pq->dropped) return;
  if (status || resp->code != 0 || tern_hdr_get_max_offset_response_decode(resp, &h, &err) != 0) {
    pq->computing = false;
    pull_later(pq, PULL_DELAY_ON_ERROR);
    return;
  }
  offset_ready(pq, h.offset);
}

/* Where a queue without a stored offset starts (Java computePullFromWhere). */
static void from_where(tc_pq_t *pq) {
  tern_push_consumer_t *c = pq->c;
  const char *addr = tc_broker_addr(&c->in, pq->mq.broker_name);
  bool retry = tern_topic_is_retry(tern_str_from_cstr(pq->mq.topic));
  int rc = TERN_ENOTFOUND;
  if (c->in.conf.consume_from_where == TERN_FROM_FIRST_OFFSET || (retry && c->in.conf.consume_from_where ==
                                                                               TERN_FROM_LAST_OFFSET)) {
    offset_ready(pq, 0);
    return;
  }
  if (!addr) {
    pq->computing = false;
    pull_later(pq, PULL_DELAY_ON_ERROR);
    return;
  }
  pq->refs++;
  if (c->in.conf.consume_from_where == TERN_FROM_TIMESTAMP && !retry) {
    tern_hdr_search_offset_request_t h;
    memset(&h, 0, sizeof h);
    h.topic = tern_str_from_cstr(pq->mq.topic);
    h.queue_id = pq->mq.queue_id;
    h.timestamp = c->in.conf.consume_timestamp ? c->in.conf.consume_timestamp : (int64_t)tc_now_ms() - 30 * 60 * 1000;
    h.present = TERN_HDR_SEARCH_OFFSET_REQUEST_HAS_TOPIC | TERN_HDR_SEARCH_OFFSET_REQUEST_HAS_QUEUE_ID |
                TERN_HDR_SEARCH_OFFSET_REQUEST_HAS_TIMESTAMP;
    rc = tc_request(&c->in, addr, TERN_REQ_SEARCH_OFFSET_BY_TIMESTAMP,
                    (tc_hdr_enc_fn)tern_hdr_search_offset_request_encode, &h, TERN_STR_NULL, false,
                    c->in.conf.timeout_ms, where_cb, pq);
  } else {
    tern_hdr_get_max_offset_request_t h;
    memset(&h, 0, sizeof h);
    h.topic = tern_str_from_cstr(pq->mq.topic);
    h.queue_id = pq->mq.queue_id;
    h.present = TERN_HDR_GET_MAX_OFFSET_REQUEST_HAS_TOPIC | TERN_HDR_GET_MAX_OFFSET_REQUEST_HAS_QUEUE_ID;
    rc = tc_request(&c->in, addr, TERN_REQ_GET_MAX_OFFSET, (tc_hdr_enc_fn)tern_hdr_get_max_offset_request_encode, &h,
                    TERN_STR_NULL, false, c->in.conf.timeout_ms, where_cb, pq);
  }
  if (rc) {
    pq_unref(pq);
    pq->computing = false;
    pull_later(pq, PULL_DELAY_ON_ERROR);
  }
}

static void query_cb(void *arg, int status, const tern_cmd_t *resp) {
  tc_pq_t *pq = arg;
  tern_hdr_query_consumer_offset_response_t h;
  tern_err_t err;
  pq_unref(pq);
  if (pq->dropped) return;
  if (status) {
    pq->computing = false;
    pull_later(pq, PULL_DELAY_ON_ERROR);
    return;
  }
  if (resp->code == TERN_RESP_SUCCESS && tern_hdr_query_consumer_offset_response_decode(resp, &h, &err) == 0 &&
      h.offset >= 0) {
    offset_ready(pq, h.offset);
    return;
  }
  if (resp->code == TERN_RESP_QUERY_NOT_FOUND || resp->code == TERN_RESP_SUCCESS) {
    from_where(pq);
    return;
  }
  pq->computing = false;
  pull_later(pq, PULL_DELAY_ON_ERROR);
}

static void compute_offset(tc_pq_t *pq) {
  tern_push_consumer_t *c = pq->c;
  const char *addr;
  tern_hdr_query_consumer_offset_request_t h;
  int64_t off;
  pq->computing = true;
  if (c->in.conf.message_model == TERN_BROADCASTING) {
    if (tc_offset_file_get(&c->local, &pq->mq, &off) == 0) offset_ready(pq, off);
    else from_where(pq);
    return;
  }
  addr = tc_broker_addr(&c->in, pq->mq.broker_name);
  memset(&h, 0, sizeof h);
  h.consumer_group = tern_str_from_cstr(c->in.conf.group);
  h.topic = tern_str_from_cstr(pq->mq.topic);
  h.queue_id = pq->mq.queue_id;
  h.present = TERN_HDR_QUERY_CONSUMER_OFFSET_REQUEST_HAS_CONSUMER_GROUP |
              TERN_HDR_QUERY_CONSUMER_OFFSET_REQUEST_HAS_TOPIC | TERN_HDR_QUERY_CONSUMER_OFFSET_REQUEST_HAS_QUEUE_ID;
  pq->refs++;
  if (!addr || tc_request(&c->in, addr, TERN_REQ_QUERY_CONSUMER_OFFSET,
                          (tc_hdr_enc_fn)tern_hdr_query_consumer_offset_request_encode, &h, TERN_STR_NULL, false,
                          c->in.conf.timeout_ms, query_cb, pq) != 0) {
    pq_unref(pq);
    pq->computing = false;
    pull_later(pq, PULL_DELAY_ON_ERROR);
  }
}

static void pull_now(tc_pq_t *pq) {
  tern_push_consumer_t *c = pq->c;
  tern_hdr_pull_message_request_t h;
  const tc_sub_t *s = &c->subs[pq->sub];
  const char *addr;
  int32_t flag;
  if (pq->dropped || c->stopping || pq->pulling || pq->computing) return;
  if (pq->timer_armed) return;
  if (c->orderly && !pq->locked) return; /* the lock timer starts pulling once the lock is held */
  if (!pq->offset_ready) {
    compute_offset(pq);
    return;
  }
  if (pq->qn > (size_t)c->in.conf.pull_threshold_queue) { /* flow control */
    pull_later(pq, PULL_DELAY_FLOW);
    return;
  }
  addr = tc_broker_addr(&c->in, pq->mq.broker_name);
  if (!addr) {
    pull_later(pq, PULL_DELAY_ON_ERROR);
    return;
  }
  flag = TERN_HDR_PULL_MESSAGE_REQUEST_SYS_FLAG_SUSPEND | TERN_HDR_PULL_MESSAGE_REQUEST_SYS_FLAG_SUBSCRIPTION;
  if (c->in.conf.message_model == TERN_CLUSTERING && pq->commit_offset > 0)
    flag |= TERN_HDR_PULL_MESSAGE_REQUEST_SYS_FLAG_COMMIT_OFFSET;
  memset(&h, 0, sizeof h);
  h.consumer_group = tern_str_from_cstr(c->in.conf.group);
  h.topic = tern_str_from_cstr(pq->mq.topic);
  h.queue_id = pq->mq.queue_id;
  h.queue_offset = pq->pull_offset;
  h.max_msg_nums = c->in.conf.pull_batch > 0 ? c->in.conf.pull_batch : 32;
  h.sys_flag = flag;
  h.commit_offset = pq->commit_offset > 0 ? pq->commit_offset : 0;
  h.suspend_timeout_millis = 15000;
  h.subscription = tern_str_from_cstr(s->expr);
  h.sub_version = s->version;
  h.expression_type = TERN_STR("TAG");
  h.present = TERN_HDR_PULL_MESSAGE_REQUEST_HAS_CONSUMER_GROUP | TERN_HDR_PULL_MESSAGE_REQUEST_HAS_TOPIC |
              TERN_HDR_PULL_MESSAGE_REQUEST_HAS_QUEUE_ID | TERN_HDR_PULL_MESSAGE_REQUEST_HAS_QUEUE_OFFSET |
              TERN_HDR_PULL_MESSAGE_REQUEST_HAS_MAX_MSG_NUMS | TERN_HDR_PULL_MESSAGE_REQUEST_HAS_SYS_FLAG |
              TERN_HDR_PULL_MESSAGE_REQUEST_HAS_COMMIT_OFFSET | TERN_HDR_PULL_MESSAGE_REQUEST_HAS_SUSPEND_TIMEOUT_MILLIS |
              TERN_HDR_PULL_MESSAGE_REQUEST_HAS_SUBSCRIPTION | TERN_HDR_PULL_MESSAGE_REQUEST_HAS_SUB_VERSION |
              TERN_HDR_PULL_MESSAGE_REQUEST_HAS_EXPRESSION_TYPE;
  pq->refs++;
  pq->pulling = true;
  if (tc_request(&c->in, addr, TERN_REQ_PULL_MESSAGE, (tc_hdr_enc_fn)tern_hdr_pull_message_request_encode, &h,
                 TERN_STR_NULL, false, 30000, pull_cb, pq) != 0) {
    pq->pulling = false;
    pq_unref(pq);
    pull_later(pq, PULL_DELAY_ON_ERROR);
  }
}

/* ---- rebalance ---- */

static tc_pq_t *pq_find(tern_push_consumer_t *c, const tern_mq_t *mq) {
  tc_pq_t *pq;
  for (pq = c->pqs; pq; pq = pq->next)
    if (!pq->dropped && tern_mq_cmp(&pq->mq, mq) == 0) return pq;
  return NULL;
}

static void update_pqs(tern_push_consumer_t *c, int sub, const tern_mq_t *mqs, int n) {
  tc_pq_t *pq, *next;
  int i;
  bool added = false;
  for (pq = c->pqs; pq; pq = next) {
    next = pq->next;
    if (pq->sub != sub || pq->dropped) continue;
    for (i = 0; i < n; i++)
      if (tern_mq_cmp(&pq->mq, &mqs[i]) == 0) break;
    if (i == n) pq_release(c, pq);
  }
  for (i = 0; i < n; i++) {
    if (pq_find(c, &mqs[i])) continue;
    pq = calloc(1, sizeof *pq);
    if (!pq) return;
    pq->c = c;
    pq->mq = mqs[i];
    pq->sub = sub;
    pq->commit_offset = pq->persisted_offset = -1;
    pq->refs = 1;
    uv_timer_init(c->in.loop.uv, &pq->timer);
    pq->timer.data = pq;
    pq->next = c->pqs;
    c->pqs = pq;
    added = true;
    pull_now(pq);
  }
  if (added && c->orderly) lock_queues(c, false);
}

/* AllocateMessageQueueAveragely. */
static int allocate(const tern_mq_t *all, int nall, char **cids, int ncid, const char *me, tern_mq_t *out) {
  int idx = -1, i, mod, avg, start, range, n = 0;
  for (i = 0; i < ncid; i++)
    if (strcmp(cids[i], me) == 0) idx = i;
  if (idx < 0 || nall == 0) return 0;
  mod = nall % ncid;
  avg = nall <= ncid ? 1 : (mod > 0 && idx < mod ? nall / ncid + 1 : nall / ncid);
  start = (mod > 0 && idx < mod) ? idx * avg : idx * avg + mod;
  range = avg < nall - start ? avg : nall - start;
  for (i = 0; i < range; i++) out[n++] = all[(start + i) % nall];
  return n;
}

typedef struct rb_ctx {
  tern_push_consumer_t *c;
  int sub;
  tern_mq_t *mqs;
  int n;
} rb_ctx_t;

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void ids_cb(void *arg, int status, const tern_cmd_t *resp) {
  rb_ctx_t *x = arg;
  tern_push_consumer_t *c = x->c;
  tern_arena_t a;
  tern_body_get_consumer_list_by_group_response_body_t body;
  tern_err_t err;
  tern_str_t copy;
  tern_arena_init(&a, 0, NULL, 0);
  if (status == 0 && resp->code == 0 && !c->stopping && (copy = tern_arena_strdup(&a, resp->body)).p &&
      tern_body_get_consumer_list_by_group_response_body_decode(copy, &a, &body, &err) == 0 &&
      body.consumer_id_list.n > 0) {
    uint32_t i;
    int nids = (int)body.consumer_id_list.n;
    char **ids = tern_arena_calloc(&a, (size_t)nids, sizeof *ids);
    tern_mq_t *mine = calloc((size_t)x->n + 1, sizeof *mine);
    if (ids && mine) {
      for (i = 0; i < body.consumer_id_list.n; i++) ids[i] = (char *)tern_arena_strdup(&a, body.consumer_id_list.v[i]).p;
      qsort(ids, (size_t)nids, sizeof *ids, cmp_str);
      update_pqs(c, x->sub, mine, allocate(x->mqs, x->n, ids, nids, c->in.client_id, mine));
    }
    free(mine);
  }
  tern_arena_free(&a);
  free(x->mqs);
  free(x);
}

static void rb_route_cb(void *arg, tc_route_t *r, int status) {
  rb_ctx_t *x = arg;
  tern_push_consumer_t *c = x->c;
  tern_hdr_get_consumer_list_by_group_request_t h;
  const char *addr;
  if (status || !r || r->nsub == 0 || c->stopping) {
    free(x);
    return;
  }
  if (c->in.conf.message_model == TERN_BROADCASTING) {
    update_pqs(c, x->sub, r->sub, r->nsub);
    free(x);
    return;
  }
  x->mqs = malloc(sizeof *x->mqs * (size_t)r->nsub);
  if (!x->mqs) {
    free(x);
    return;
  }
  memcpy(x->mqs, r->sub, sizeof *x->mqs * (size_t)r->nsub);
  x->n = r->nsub;
  addr = tc_broker_addr(&c->in, r->sub[tc_mono_us() % (uint64_t)r->nsub].broker_name);
  memset(&h, 0, sizeof h);
  h.consumer_group = tern_str_from_cstr(c->in.conf.group);
  h.present = TERN_HDR_GET_CONSUMER_LIST_BY_GROUP_REQUEST_HAS_CONSUMER_GROUP;
  if (!addr || tc_request(&c->in, addr, TERN_REQ_GET_CONSUMER_LIST_BY_GROUP,
                          (tc_hdr_enc_fn)tern_hdr_get_consumer_list_by_group_request_encode, &h, TERN_STR_NULL, false,
                          c->in.conf.timeout_ms, ids_cb, x) != 0) {
    free(x->mqs);
    free(x);
  }
}

static void rebalance(tern_push_consumer_t *c) {
  int i;
  if (c->stopping) return;
  for (i = 0; i < c->nsubs; i++) {
    rb_ctx_t *x = calloc(1, sizeof *x);
    if (!x) return;
    x->c = c;
    x->sub = i;
    tc_route_get(&c->in, c->subs[i].topic, false, rb_route_cb, x);
  }
}

static void on_rebalance(uv_timer_t *t) {
  tern_push_consumer_t *c = t->data;
  if (c->rebalance_soon) { /* after a notification: back to the normal period */
    c->rebalance_soon = false;
    uv_timer_start(&c->t_rebalance, on_rebalance, (uint64_t)c->in.conf.rebalance_ms, (uint64_t)c->in.conf.rebalance_ms);
  }
  rebalance(c);
}

static void ids_changed(void *ctx) {
  tern_push_consumer_t *c = ctx;
  if (c->stopping) return;
  c->rebalance_soon = true;
  uv_timer_start(&c->t_rebalance, on_rebalance, 10, (uint64_t)c->in.conf.rebalance_ms);
}

/* ---- orderly locks ---- */

typedef struct lock_ctx {
  tern_push_consumer_t *c;
} lock_ctx_t;

static void lock_cb(void *arg, int status, const tern_cmd_t *resp) {
  tern_push_consumer_t *c = arg;
  tern_arena_t a;
  tern_body_lock_batch_response_body_t body;
  tern_err_t err;
  tern_str_t copy;
  uint32_t i;
  if (status || resp->code != 0 || c->stopping) return;
  tern_arena_init(&a, 0, NULL, 0);
  if ((copy = tern_arena_strdup(&a, resp->body)).p &&
      tern_body_lock_batch_response_body_decode(copy, &a, &body, &err) == 0) {
    for (i = 0; i < body.lock_okmq_set.n; i++) {
      tern_mq_t mq;
      tc_pq_t *pq;
      memset(&mq, 0, sizeof mq);
      snprintf(mq.topic, sizeof mq.topic, "%.*s", TERN_STR_ARG(body.lock_okmq_set.v[i].topic));
      snprintf(mq.broker_name, sizeof mq.broker_name, "%.*s", TERN_STR_ARG(body.lock_okmq_set.v[i].broker_name));
      mq.queue_id = body.lock_okmq_set.v[i].queue_id;
      pq = pq_find(c, &mq);
      if (!pq || pq->dropped) continue;
      pq->lock_at = uv_now(c->in.loop.uv);
      if (!pq->locked) {
        pq->locked = true;
        pull_now(pq);
        dispatch(pq);
      }
    }
  }
  tern_arena_free(&a);
}

/* LOCK_BATCH_MQ per broker for our queues (all = renew every lock too). */
static void lock_queues(tern_push_consumer_t *c, bool all) {
  tc_pq_t *pq, *p2;
  for (pq = c->pqs; pq; pq = pq->next) {
    tern_body_lock_batch_request_body_t b;
    tern_body_message_queue_t *ms;
    tern_buf_t buf;
    const char *addr;
    int n = 0, cap = 0;
    bool first = true;
    if (pq->dropped || (!all && pq->locked)) continue;
    /* only the first pq of each broker builds that broker's request */
    for (p2 = c->pqs; p2 != pq; p2 = p2->next)
      if (!p2->dropped && (all || !p2->locked) && strcmp(p2->mq.broker_name, pq->mq.broker_name) == 0) first = false;
    if (!first) continue;
    addr = tc_broker_addr(&c->in, pq->mq.broker_name);
    if (!addr) continue;
    for (p2 = pq; p2; p2 = p2->next) cap++;
    ms = calloc((size_t)cap, sizeof *ms);
    if (!ms) return;
    for (p2 = pq; p2; p2 = p2->next) {
      if (p2->dropped || (!all && p2->locked) || strcmp(p2->mq.broker_name, pq->mq.broker_name) != 0) continue;
      ms[n].topic = tern_str_from_cstr(p2->mq.topic);
      ms[n].broker_name = tern_str_from_cstr(p2->mq.broker_name);
      ms[n].queue_id = p2->mq.queue_id;
      ms[n].has = TERN_BODY_MESSAGE_QUEUE_HAS_TOPIC | TERN_BODY_MESSAGE_QUEUE_HAS_BROKER_NAME;
      n++;
    }
    memset(&b, 0, sizeof b);
    b.client_id = tern_str_from_cstr(c->in.client_id);
    b.consumer_group = tern_str_from_cstr(c->in.conf.group);
    b.mq_set.v = ms;
    b.mq_set.n = (uint32_t)n;
    b.has = TERN_BODY_LOCK_BATCH_REQUEST_BODY_HAS_CLIENT_ID | TERN_BODY_LOCK_BATCH_REQUEST_BODY_HAS_CONSUMER_GROUP;
    tern_buf_init(&buf, 0);
    tern_body_lock_batch_request_body_encode(&b, &buf, 0);
    if (!buf.err)
      tc_request(&c->in, addr, TERN_REQ_LOCK_BATCH_MQ, NULL, NULL, (tern_str_t){(const char *)buf.p, buf.len}, false,
                 c->in.conf.timeout_ms, lock_cb, c);
    tern_buf_free(&buf);
    free(ms);
  }
}

static void on_lock(uv_timer_t *t) {
  tern_push_consumer_t *c = t->data;
  uint64_t now = uv_now(c->in.loop.uv);
  tc_pq_t *pq;
  bool renew = false;
  for (pq = c->pqs; pq; pq = pq->next) {
    if (pq->locked && now - pq->lock_at > 30000) pq->locked = false; /* Java: the lock expired on the client */
    if (pq->locked && now - pq->lock_at >= LOCK_RENEW_MS) renew = true;
  }
  lock_queues(c, renew);
}

/* ---- heartbeat, lifecycle ---- */

static void hb_fill(void *ctx, tern_body_heartbeat_data_t *hb, tern_arena_t *a) {
  tern_push_consumer_t *c = ctx;
  tern_body_consumer_data_t *cd = tern_arena_calloc(a, 1, sizeof *cd);
  tern_body_subscription_data_t *sd = tern_arena_calloc(a, (size_t)c->nsubs + 1, sizeof *sd);
  tern_body_producer_data_t *pd = tern_arena_calloc(a, 1, sizeof *pd);
  int i;
  if (!cd || !sd || !pd) return;
  for (i = 0; i < c->nsubs; i++) tc_sub_to_body(&c->subs[i], &sd[i]);
  cd->group_name = tern_str_from_cstr(c->in.conf.group);
  cd->consume_type = TERN_BODY_CONSUME_TYPE_CONSUME_PASSIVELY;
  cd->message_model = c->in.conf.message_model == TERN_BROADCASTING ? TERN_BODY_MESSAGE_MODEL_BROADCASTING
                                                                     : TERN_BODY_MESSAGE_MODEL_CLUSTERING;
  cd->consume_from_where = c->in.conf.consume_from_where;
  cd->subscription_data_set.v = sd;
  cd->subscription_data_set.n = (uint32_t)c->nsubs;
  cd->has = TERN_BODY_CONSUMER_DATA_HAS_GROUP_NAME | TERN_BODY_CONSUMER_DATA_HAS_CONSUME_TYPE |
            TERN_BODY_CONSUMER_DATA_HAS_MESSAGE_MODEL | TERN_BODY_CONSUMER_DATA_HAS_CONSUME_FROM_WHERE;
  hb->consumer_data_set.v = cd;
  hb->consumer_data_set.n = 1;
  pd->group_name = TERN_STR(TERN_GROUP_CLIENT_INNER_PRODUCER);
  pd->has = TERN_BODY_PRODUCER_DATA_HAS_GROUP_NAME;
  hb->producer_data_set.v = pd;
  hb->producer_data_set.n = 1;
}

tern_push_consumer_t *tern_push_consumer_new(const tern_client_conf_t *conf) {
  tern_push_consumer_t *c = calloc(1, sizeof *c);
  tc_hooks_t hooks = {0};
  if (!c) return NULL;
  hooks.ctx = c;
  hooks.heartbeat_fill = hb_fill;
  hooks.ids_changed = ids_changed;
  if (tc_inst_init(&c->in, conf, &hooks) != 0) {
    tc_inst_free(&c->in);
    free(c);
    return NULL;
  }
  pthread_mutex_init(&c->done_mu, NULL);
  return c;
}

int tern_push_consumer_subscribe(tern_push_consumer_t *c, const char *topic, const char *expr) {
  tc_sub_t s;
  void *n;
  int rc, i;
  if (c->started) return TERN_EINVAL;
  rc = tc_sub_parse(&s, topic, expr);
  if (rc) return rc;
  for (i = 0; i < c->nsubs; i++)
    if (strcmp(c->subs[i].topic, topic) == 0) {
      tc_sub_free(&c->subs[i]);
      c->subs[i] = s;
      return 0;
    }
  n = realloc(c->subs, sizeof *c->subs * (size_t)(c->nsubs + 2));
  if (!n) {
    tc_sub_free(&s);
    return TERN_ENOMEM;
  }
  c->subs = n;
  c->subs[c->nsubs++] = s;
  return 0;
}

void tern_push_consumer_set_listener(tern_push_consumer_t *c, tern_listener_fn fn, void *arg, bool orderly) {
  c->fn = fn;
  c->arg = arg;
  c->orderly = orderly;
}

const char *tern_push_consumer_client_id(const tern_push_consumer_t *c) { return c->in.client_id; }

static void start_on_loop(tc_wait_t *w) {
  tern_push_consumer_t *c = w->arg;
  uv_loop_t *uv = c->in.loop.uv;
  uv_timer_init(uv, &c->t_rebalance);
  uv_timer_init(uv, &c->t_persist);
  uv_timer_init(uv, &c->t_lock);
  uv_timer_init(uv, &c->t_retry);
  c->t_rebalance.data = c->t_persist.data = c->t_lock.data = c->t_retry.data = c;
  uv_timer_start(&c->t_persist, on_persist, (uint64_t)c->in.conf.persist_ms, (uint64_t)c->in.conf.persist_ms);
  uv_timer_start(&c->t_retry, on_retry, SUSPEND_MS, SUSPEND_MS);
  if (c->orderly)
    uv_timer_start(&c->t_lock, on_lock, (uint64_t)c->in.conf.lock_retry_ms, (uint64_t)c->in.conf.lock_retry_ms);
  tc_done(w, 0);
}

typedef struct boot {
  tc_wait_t w;
  int left;
} boot_t;

static void boot_route_cb(void *arg, tc_route_t *r, int status) {
  boot_t *b = arg;
  TERN_UNUSED(r), TERN_UNUSED(status);
  if (--b->left == 0) {
    tern_push_consumer_t *c = b->w.arg;
    /* Java: heartbeat right after start, then the first rebalance */
    tc_heartbeat_now(&c->in);
    uv_timer_start(&c->t_rebalance, on_rebalance, 200, (uint64_t)c->in.conf.rebalance_ms);
    tc_done(&b->w, 0);
  }
}

static void boot_run(tc_wait_t *w) {
  boot_t *b = (boot_t *)w;
  tern_push_consumer_t *c = w->arg;
  int i, n = c->nsubs;
  b->left = n + 1;
  for (i = 0; i < n; i++) tc_route_get(&c->in, c->subs[i].topic, true, boot_route_cb, b);
  boot_route_cb(b, NULL, 0);
}

int tern_push_consumer_start(tern_push_consumer_t *c) {
  tc_wait_t w;
  boot_t b;
  int rc;
  if (c->started || !c->fn || c->nsubs == 0) return TERN_EINVAL;
  if (c->in.conf.message_model == TERN_CLUSTERING) {
    char retry[TERN_TOPIC_MAX_LEN + 16];
    size_t n;
    if (tern_topic_retry_name(tern_str_from_cstr(c->in.conf.group), retry, sizeof retry, &n) != 0) return TERN_EINVAL;
    if ((rc = tern_push_consumer_subscribe(c, retry, "*")) != 0) return rc;
  } else {
    rc = tc_offset_file_open(&c->local, c->in.conf.offset_dir, c->in.conf.instance_name, c->in.conf.group);
    if (rc) return rc;
  }
  if (tc_cpool_start(&c->cpool, c->in.conf.consume_threads > 0 ? c->in.conf.consume_threads : 1) != 0)
    return TERN_ENOMEM;
  rc = tc_inst_start(&c->in);
  if (rc) {
    tc_cpool_stop(&c->cpool);
    return rc;
  }
  c->started = true;
  tc_run_wait(&c->in, &w, start_on_loop, c);
  memset(&b, 0, sizeof b);
  return tc_run_wait(&c->in, &b.w, boot_run, c);
}

static void stop_pulling(tc_wait_t *w) {
  tern_push_consumer_t *c = w->arg;
  c->stopping = true;
  uv_timer_stop(&c->t_rebalance);
  uv_timer_stop(&c->t_lock);
  uv_timer_stop(&c->t_retry);
  tc_done(w, 0);
}

static void final_run(tc_wait_t *w) {
  tern_push_consumer_t *c = w->arg;
  tc_pq_t *pq, *n;
  tc_creq_t *r, *rn;
  for (r = c->retry_list; r; r = rn) {
    rn = r->next_done;
    if (c->orderly) r->pq->consuming = false;
    creq_free(r);
  }
  c->retry_list = NULL;
  persist_all(c);
  for (pq = c->pqs; pq; pq = n) {
    n = pq->next;
    if (c->orderly && pq->locked) unlock_mq(c, &pq->mq);
    pq_unlink(c, pq);
  }
  uv_timer_stop(&c->t_persist);
  uv_close((uv_handle_t *)&c->t_rebalance, NULL);
  uv_close((uv_handle_t *)&c->t_persist, NULL);
  uv_close((uv_handle_t *)&c->t_lock, NULL);
  uv_close((uv_handle_t *)&c->t_retry, NULL);
  tc_done(w, 0);
}

static void unreg_on_stop(void *ctx, void (*done)(tc_inst_t *)) {
  tern_push_consumer_t *c = ctx;
  tc_unregister_all(&c->in, NULL, c->in.conf.group, done);
}

/* Waits (briefly) for offset updates written before the unregister to leave. */
void tern_push_consumer_shutdown(tern_push_consumer_t *c) {
  tc_wait_t w;
  int i;
  if (!c) return;
  if (c->started) {
    tc_run_wait(&c->in, &w, stop_pulling, c);
    tc_cpool_stop(&c->cpool); /* running listeners finish; their results are posted before the next post */
    tc_run_wait(&c->in, &w, final_run, c);
    c->in.hooks.on_stop = unreg_on_stop;
    tc_inst_stop(&c->in);
  }
  if (c->in.conf.message_model == TERN_BROADCASTING) tc_offset_file_close(&c->local);
  for (i = 0; i < c->nsubs; i++) tc_sub_free(&c->subs[i]);
  free(c->subs);
  tc_inst_free(&c->in);
  pthread_mutex_destroy(&c->done_mu);
  free(c);
}

typedef struct asg_wait {
  tc_wait_t w;
  tern_mq_t *out;
  int n;
} asg_wait_t;

static void asg_run(tc_wait_t *w) {
  asg_wait_t *a = (asg_wait_t *)w;
  tern_push_consumer_t *c = w->arg;
  tc_pq_t *pq;
  int n = 0;
  for (pq = c->pqs; pq; pq = pq->next) n++;
  a->out = calloc((size_t)n + 1, sizeof *a->out);
  if (!a->out) {
    tc_done(w, TERN_ENOMEM);
    return;
  }
  for (pq = c->pqs; pq; pq = pq->next)
    if (!pq->dropped && (!c->orderly || pq->locked) && !tern_topic_is_retry(tern_str_from_cstr(pq->mq.topic)))
      a->out[a->n++] = pq->mq;
  tc_done(w, 0);
}

int tern_push_consumer_assigned(tern_push_consumer_t *c, tern_mq_t **out, int *n) {
  asg_wait_t a;
  int rc;
  if (!c->started) return TERN_EINVAL;
  memset(&a, 0, sizeof a);
  rc = tc_run_wait(&c->in, &a.w, asg_run, c);
  if (rc) return rc;
  *out = a.out;
  *n = a.n;
  return 0;
}

static void cached_run(tc_wait_t *w) {
  tern_push_consumer_t *c = w->arg;
  tc_pq_t *pq;
  long n = 0;
  for (pq = c->pqs; pq; pq = pq->next) {
    size_t i;
    for (i = 0; i < pq->qn; i++)
      if (!q_at(pq, i)->done) n++;
  }
  tc_done(w, (int)(n > INT32_MAX ? INT32_MAX : n));
}

long tern_push_consumer_cached(tern_push_consumer_t *c) {
  tc_wait_t w;
  if (!c->started) return TERN_EINVAL;
  return tc_run_wait(&c->in, &w, cached_run, c);
}
