/* SYNC_FLUSH replies parked until the store's group commit confirms them.
 * A send registers (end offset, parked reply) with
 * tern_store_wait_flush_deferred, which does not wake the flush thread; the
 * first park of a loop pass posts one kick to the loop itself, which runs
 * after every request read in that pass was stored, so one
 * tern_store_flush_kick (one fdatasync) covers the whole pass instead of
 * whatever had been written when the first waiter woke the flush thread.
 * The store's flush thread calls back per waiter (OK or FLUSH_DISK_TIMEOUT),
 * which only links the entry into a mutex-protected done list, and once per
 * flush round (round_done) posts one hop to the loop; there every finished
 * entry is answered (SUCCESS or FLUSH_DISK_TIMEOUT, both with the stored
 * message's msgId/queueId/queueOffset, as Java reports them) and its
 * connection reference dropped. The number parked is what send.c compares
 * with maxParkedSendReplies to answer SYSTEM_BUSY instead of queueing. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "broker/broker_int.h"
#include "runtime/log.h"

typedef struct parked {
  struct parked *next;
  struct tern_sendq *q;
  tern_conn_t *c;
  int32_t code, opaque, flag, language;
  uint8_t serialize_type;
  tern_put_status_t status;
  int32_t queue_id;
  int64_t queue_offset;
  size_t id_len;
  char id[]; /* msgId (comma-joined for a batch) */
} parked_t;

struct tern_sendq {
  tern_broker_t *b;
  pthread_mutex_t mu;
  parked_t *done; /* finished by the flush thread, newest first */
  atomic_bool posted;
  tern_post_t post;
  bool kick_posted; /* loop thread: a kick is queued for the end of this pass */
  tern_post_t kick_post;
  size_t parked; /* loop thread: parked and not yet answered */
  tern_arena_t scratch;
};

static void on_round_done(void *ctx);

int tern_broker_sendq_init(tern_broker_t *b) {
  struct tern_sendq *q = calloc(1, sizeof *q);
  if (!q) return TERN_ENOMEM;
  q->b = b;
  pthread_mutex_init(&q->mu, NULL);
  atomic_init(&q->posted, false);
  tern_arena_init(&q->scratch, 0, NULL, 0);
  b->sendq = q;
  tern_store_set_flush_notify(b->store, on_round_done, q); /* the store is open: tern_broker_init's order */
  return 0;
}

size_t tern_broker_sendq_parked(const tern_broker_t *b) { return b->sendq ? b->sendq->parked : 0; }

static void answer(struct tern_sendq *q, parked_t *p) {
  tern_cmd_t req;
  tern_cmd_init(&req);
  req.code = p->code;
  req.opaque = p->opaque;
  req.flag = p->flag;
  req.language = p->language;
  req.serialize_type = p->serialize_type;
  tern_arena_reset(&q->scratch);
  tern_broker_send_reply_ok(q->b, p->c, &req,
                            p->status == TERN_PUT_OK ? TERN_RESP_SUCCESS : TERN_RESP_FLUSH_DISK_TIMEOUT,
                            (tern_str_t){p->id, p->id_len}, p->queue_id, p->queue_offset, &q->scratch);
  tern_conn_unref(p->c);
  q->parked--;
  free(p);
}

/* Loop thread: answer everything the flush thread finished, oldest first. */
void tern_broker_sendq_drain(tern_broker_t *b) {
  struct tern_sendq *q = b->sendq;
  parked_t *list, *rev = NULL;
  if (!q) return;
  atomic_store(&q->posted, false);
  pthread_mutex_lock(&q->mu);
  list = q->done;
  q->done = NULL;
  pthread_mutex_unlock(&q->mu);
  while (list) {
    parked_t *n = list->next;
    list->next = rev;
    rev = list;
    list = n;
  }
  while (rev) {
    parked_t *n = rev->next;
    answer(q, rev);
    rev = n;
  }
}

static void on_post(tern_post_t *p) {
  struct tern_sendq *q = (struct tern_sendq *)((char *)p - offsetof(struct tern_sendq, post));
  tern_broker_sendq_drain(q->b);
}

/* Loop thread, after the pass that parked replies: one fdatasync for all of them. */
static void on_kick(tern_post_t *p) {
  struct tern_sendq *q = (struct tern_sendq *)((char *)p - offsetof(struct tern_sendq, kick_post));
  q->kick_posted = false;
  if (q->b->store) tern_store_flush_kick(q->b->store); /* NULL once the store closed (it completed every waiter) */
}

/* Flush thread. */
static void on_flushed(void *arg, tern_put_status_t status) {
  parked_t *p = arg;
  struct tern_sendq *q = p->q;
  p->status = status;
  pthread_mutex_lock(&q->mu);
  p->next = q->done;
  q->done = p;
  pthread_mutex_unlock(&q->mu);
}

/* Flush thread, once per round: one hop to the loop. */
static void on_round_done(void *ctx) {
  struct tern_sendq *q = ctx;
  if (!atomic_exchange(&q->posted, true)) tern_loop_post(q->b->loop, &q->post, on_post);
}

int tern_broker_sendq_park(tern_broker_t *b, tern_conn_t *c, const tern_cmd_t *req, int64_t end_offset, tern_str_t msg_id,
                           int32_t queue_id, int64_t queue_offset) {
  struct tern_sendq *q = b->sendq;
  parked_t *p;
  int rc;
  p = malloc(sizeof *p + msg_id.n + 1);
  if (!p) return tern_broker_send_reply_ok(b, c, req, TERN_RESP_FLUSH_DISK_TIMEOUT, msg_id, queue_id, queue_offset, &b->arena);
  p->q = q;
  p->c = c;
  p->code = req->code;
  p->opaque = req->opaque;
  p->flag = req->flag;
  p->language = req->language;
  p->serialize_type = req->serialize_type;
  p->queue_id = queue_id;
  p->queue_offset = queue_offset;
  p->id_len = msg_id.n;
  memcpy(p->id, msg_id.p, msg_id.n);
  p->id[msg_id.n] = 0;
  tern_conn_ref(c);
  q->parked++;
  rc = tern_store_wait_flush_deferred(b->store, end_offset, on_flushed, p);
  if (rc == 0) {
    if (!q->kick_posted) {
      q->kick_posted = true;
      tern_loop_post(b->loop, &q->kick_post, on_kick);
    }
    return 0;
  }
  /* already durable (1) or the store could not register it: answer now */
  p->status = rc == 1 ? TERN_PUT_OK : TERN_PUT_FLUSH_DISK_TIMEOUT;
  answer(q, p);
  return 0;
}

void tern_broker_sendq_free(tern_broker_t *b) {
  struct tern_sendq *q = b->sendq;
  if (!q) return;
  tern_broker_sendq_drain(b);
  pthread_mutex_destroy(&q->mu);
  tern_arena_free(&q->scratch);
  free(q);
  b->sendq = NULL;
}
