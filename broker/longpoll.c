/* Suspended pulls (PullRequestHoldService, reference §8.3). A pull that
 * found nothing is parked with a copy of its request, indexed by
 * (topic, queue id). It is re-run without the right to suspend when a
 * message matching its tag filter is stored in that queue past its offset
 * (send.c calls tern_broker_lp_notify right after the store's put, on the
 * same loop pass: no poll loop), or by its own timer exactly at its
 * deadline (suspendTimeoutMillis, or shortPollingTimeMills when
 * longPollingEnable is false; capped at 10 minutes). The number parked is
 * bounded by maxPullWaiters; beyond it a pull is answered at once.
 * Loop-thread only. */
#include <stdio.h>
#include <stdlib.h>

#include "broker/broker_int.h"
#include "namesrv/strmap.h"
#include "runtime/log.h"

#define LP_MAX_HOLD_MS (600u * 1000u)

typedef struct lp_queue {
  struct waiter *head;
  size_t key_len;
  char key[]; /* "topic@queueId" */
} lp_queue_t;

typedef struct waiter {
  struct waiter *next, *prev;
  lp_queue_t *q;
  struct tern_longpoll *lp;
  tern_conn_t *c;
  uv_timer_t timer;
  int64_t offset;
  tern_pull_filter_t filter;
  tern_arena_t arena; /* the request copy and the filter codes */
  tern_cmd_t req;
} waiter_t;

struct tern_longpoll {
  tern_broker_t *b;
  tern_strmap_t queues; /* key -> lp_queue_t */
  size_t count;
  tern_arena_t scratch; /* re-runs: reset per re-run */
};

int tern_broker_lp_init(tern_broker_t *b) {
  struct tern_longpoll *lp = calloc(1, sizeof *lp);
  if (!lp) return TERN_ENOMEM;
  lp->b = b;
  tern_strmap_init(&lp->queues);
  tern_arena_init(&lp->scratch, 0, NULL, 0);
  b->lp = lp;
  return 0;
}

size_t tern_broker_lp_count(const tern_broker_t *b) { return b->lp ? b->lp->count : 0; }

static size_t make_key(char *dst, size_t cap, tern_str_t topic, int32_t qid) {
  int n;
  if (topic.n + 16 > cap) return 0;
  memcpy(dst, topic.p, topic.n);
  n = snprintf(dst + topic.n, cap - topic.n, "@%d", qid);
  return topic.n + (size_t)n;
}

static void on_timer_closed(uv_handle_t *h) {
  waiter_t *w = h->data;
  tern_arena_free(&w->arena);
  free(w);
}

/* Unlinks w, re-runs its pull, releases it. */
static void fire(waiter_t *w) {
  struct tern_longpoll *lp = w->lp;
  tern_hdr_pull_message_request_t h;
  tern_err_t err = {0};
  lp_queue_t *q = w->q;
  if (w->prev)
    w->prev->next = w->next;
  else
    q->head = w->next;
  if (w->next) w->next->prev = w->prev;
  if (!q->head) {
    tern_strmap_del(&lp->queues, (tern_str_t){q->key, q->key_len});
    free(q);
  }
  lp->count--;
  uv_timer_stop(&w->timer);
  tern_arena_reset(&lp->scratch);
  if (!tern_conn_is_open(w->c)) {
    /* the consumer went away: nothing to answer */
  } else if (tern_hdr_pull_message_request_decode(&w->req, &h, &err) == 0) {
    int rc = tern_broker_pull_run(lp->b, w->c, &w->req, &h, false, &lp->scratch);
    if (rc) tern_conn_reply_error(w->c, &w->req, TERN_RESP_SYSTEM_ERROR, tern_strerror(rc));
  } else {
    tern_conn_reply_decode_error(w->c, &w->req, &err);
  }
  tern_conn_unref(w->c);
  uv_close((uv_handle_t *)&w->timer, on_timer_closed);
}

static void on_deadline(uv_timer_t *t) { fire(t->data); }

int tern_broker_lp_park(tern_broker_t *b, tern_conn_t *c, const tern_cmd_t *req, const tern_hdr_pull_message_request_t *h,
                        const tern_pull_filter_t *f, uint64_t hold_ms) {
  struct tern_longpoll *lp = b->lp;
  char key[512];
  size_t kn = make_key(key, sizeof key, h->topic, h->queue_id);
  lp_queue_t *q;
  waiter_t *w;
  if (!kn || lp->count >= (size_t)b->conf.max_pull_waiters) return TERN_EBUSY;
  if (!(w = calloc(1, sizeof *w))) return TERN_ENOMEM;
  tern_arena_init(&w->arena, 0, NULL, 0);
  if (tern_cmd_copy(&w->req, req, &w->arena)) goto fail;
  w->filter = *f;
  if (!f->all && f->n) {
    int32_t *codes = tern_arena_alloc(&w->arena, f->n * sizeof *codes);
    if (!codes) goto fail;
    memcpy(codes, f->codes, f->n * sizeof *codes);
    w->filter.codes = codes;
  }
  q = tern_strmap_get(&lp->queues, (tern_str_t){key, kn});
  if (!q) {
    if (!(q = calloc(1, sizeof *q + kn + 1))) goto fail;
    memcpy(q->key, key, kn);
    q->key_len = kn;
    if (tern_strmap_put(&lp->queues, (tern_str_t){q->key, kn}, q, NULL)) {
      free(q);
      goto fail;
    }
  }
  w->lp = lp;
  w->q = q;
  w->c = c;
  w->offset = h->queue_offset;
  w->next = q->head;
  if (q->head) q->head->prev = w;
  q->head = w;
  lp->count++;
  tern_conn_ref(c);
  uv_timer_init(b->loop->uv, &w->timer);
  w->timer.data = w;
  uv_timer_start(&w->timer, on_deadline, hold_ms > LP_MAX_HOLD_MS ? LP_MAX_HOLD_MS : hold_ms, 0);
  return 0;
fail:
  tern_arena_free(&w->arena);
  free(w);
  return TERN_ENOMEM;
}

void tern_broker_lp_notify(tern_broker_t *b, tern_str_t topic, int32_t queue_id, int64_t tags_code, bool known) {
  struct tern_longpoll *lp = b->lp;
  char key[512];
  size_t kn;
  lp_queue_t *q;
  waiter_t *w;
  int64_t max;
  if (!lp || !lp->count || !(kn = make_key(key, sizeof key, topic, queue_id))) return;
  if (!(q = tern_strmap_get(&lp->queues, (tern_str_t){key, kn}))) return;
  max = tern_store_get_max_offset(b->store, topic, queue_id);
  w = q->head;
  while (w) {
    waiter_t *next = w->next; /* fire() frees q when w was its last waiter; then next is NULL */
    if (max > w->offset && (!known || tern_pull_filter_match(&w->filter, tags_code))) fire(w);
    w = next;
  }
}

void tern_broker_lp_flush_all(tern_broker_t *b) {
  struct tern_longpoll *lp = b->lp;
  if (!lp) return;
  for (;;) {
    uint32_t pos = 0;
    const tern_strmap_slot_t *slot;
    if (!tern_strmap_next(&lp->queues, &pos, &slot)) break;
    lp_queue_t *q = slot->val;
    for (;;) {
      waiter_t *w = q->head;
      bool last = !w->next;
      fire(w);
      if (last) break; /* q is freed with its last waiter */
    }
  }
}

void tern_broker_lp_free(tern_broker_t *b) {
  struct tern_longpoll *lp = b->lp;
  if (!lp) return;
  tern_strmap_free(&lp->queues);
  tern_arena_free(&lp->scratch);
  free(lp);
  b->lp = NULL;
}
