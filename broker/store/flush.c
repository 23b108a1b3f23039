/* Flushing. One thread owns the commit log's durability: in ASYNC_FLUSH it
 * fdatasyncs every flushIntervalCommitLog ms once flushCommitLogLeastPages
 * are dirty (everything every flushCommitLogThoroughInterval); in SYNC_FLUSH
 * it group-commits: each round syncs up to the highest written offset and
 * completes every waiting writer at or below it, so one fdatasync serves all
 * of them, with one round_done notification per round. A second thread
 * flushes consume queues, the index and the checkpoint each
 * flushIntervalConsumeQueue ms, so those syncs never delay a group commit. */
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "broker/store/store_int.h"

int64_t tern_mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void deadline_ts(int64_t mono_ms, struct timespec *out) {
  out->tv_sec = (time_t)(mono_ms / 1000);
  out->tv_nsec = (long)(mono_ms % 1000) * 1000000L;
}

int clog_flush(tern_store_t *s, int64_t least_bytes) {
  /* Timestamp first: it then belongs to a record at or before `upto`. */
  int64_t ts = atomic_load_explicit(&s->clog_written_ts, memory_order_acquire);
  int64_t upto = atomic_load_explicit(&s->clog_written, memory_order_acquire);
  if (upto <= atomic_load(&s->clog_flushed)) return 0;
  if (s->cfg.before_flush) s->cfg.before_flush(s->cfg.hook_ctx);
  int rc = fq_flush(&s->clog, upto, least_bytes);
  if (rc) {
    tern_store_logf(s, "store: commit-log fdatasync failed");
    return rc;
  }
  /* fq_flush may have skipped (too few dirty bytes): believe the files. */
  int64_t fl = fq_flushed(&s->clog);
  if (fl >= upto) {
    /* raise only: the owner thread (flush_now) and the flush thread may race */
    int64_t cur = atomic_load(&s->clog_flushed);
    while (cur < upto && !atomic_compare_exchange_weak(&s->clog_flushed, &cur, upto)) {
    }
    if (cur < upto) atomic_store(&s->clog_flushed_ts, ts);
    atomic_fetch_add(&s->st_flush_rounds, 1);
  }
  return 0;
}

/* Completes waiters whose offset is durable and those past their deadline. */
static void complete_waiters(tern_store_t *s) {
  flusher_t *fl = &s->fl;
  int64_t durable = atomic_load(&s->clog_flushed), now = tern_mono_ms();
  waiter_t local[64];
  tern_put_status_t st[64];
  bool any = false;
  for (;;) {
    size_t k = 0;
    pthread_mutex_lock(&fl->mu);
    while (fl->wn && k < 64) {
      waiter_t *w = &fl->w[fl->whead];
      if (w->end <= durable)
        st[k] = TERN_PUT_OK;
      else if (w->deadline <= now)
        st[k] = TERN_PUT_FLUSH_DISK_TIMEOUT;
      else
        break;
      local[k++] = *w;
      fl->whead = (fl->whead + 1) % fl->wcap;
      fl->wn--;
    }
    pthread_mutex_unlock(&fl->mu);
    for (size_t i = 0; i < k; i++) local[i].cb(local[i].arg, st[i]);
    if (k) {
      any = true;
      atomic_fetch_add(&s->st_waiters_done, (int64_t)k);
    }
    if (k < 64) break;
  }
  if (any && fl->round_done) fl->round_done(fl->round_ctx);
}

static void *clog_flush_main(void *arg) {
  tern_store_t *s = arg;
  flusher_t *fl = &s->fl;
  bool sync = s->cfg.flush_disk_type == TERN_FLUSH_SYNC;
  int64_t interval = sync ? 10 : s->cfg.flush_interval_commit_log;
  int64_t last = tern_mono_ms(), last_thorough = last;
  pthread_mutex_lock(&fl->mu);
  while (!fl->stop) {
    int64_t now = tern_mono_ms();
    /* Sleep until kicked (a waiter, or the owner's end-of-batch kick) or the
     * interval ends; deferred waiters alone do not start a round early. */
    if (!fl->kick && now < last + interval) {
      struct timespec dl;
      deadline_ts(last + interval, &dl);
      pthread_cond_timedwait(&fl->cv, &fl->mu, &dl);
      continue;
    }
    fl->kick = false;
    bool waiters = fl->wn > 0;
    pthread_mutex_unlock(&fl->mu);
    now = tern_mono_ms();
    bool thorough = now - last_thorough >= s->cfg.flush_commit_log_thorough_interval;
    int64_t least = (sync || waiters || thorough) ? 0 : (int64_t)s->cfg.flush_commit_log_least_pages * TERN_OS_PAGE;
    clog_flush(s, least);
    if (thorough) last_thorough = now;
    last = now;
    complete_waiters(s);
    pthread_mutex_lock(&fl->mu);
    if (fl->wn && atomic_load(&s->clog_flushed) >= atomic_load(&s->clog_written)) {
      /* Nothing left to sync but waiters not yet due: sleep to the first deadline. */
      struct timespec dl;
      deadline_ts(fl->w[fl->whead].deadline, &dl);
      if (fl->w[fl->whead].end > atomic_load(&s->clog_written)) pthread_cond_timedwait(&fl->cv, &fl->mu, &dl);
    }
  }
  pthread_mutex_unlock(&fl->mu);
  clog_flush(s, 0);
  complete_waiters(s);
  return NULL;
}

void checkpoint_write(tern_store_t *s, bool clean) {
  if (!s->ckpt) return;
  tern_checkpoint_t c = s->ckpt_v;
  int64_t t = atomic_load(&s->clog_flushed_ts);
  if (t > 0) c.physic_msg_timestamp = t;
  int64_t ix = atomic_load(&s->ix.flushed_ts);
  if (ix > 0) c.index_msg_timestamp = ix;
  c.confirm_phy_offset = clean ? atomic_load(&s->clog_written) : 0;
  c.master_flushed_offset = atomic_load(&s->clog_flushed);
  s->ckpt_v = c;
  tern_checkpoint_encode(&c, s->ckpt);
  if (fdatasync(s->ckpt_fd) != 0) tern_store_logf(s, "store: checkpoint fdatasync failed");
}

static void flush_logics(tern_store_t *s, bool force) {
  int64_t lts = atomic_load_explicit(&s->dispatched_ts, memory_order_acquire);
  cq_flush_all(s, force);
  if (lts > 0) s->ckpt_v.logics_msg_timestamp = lts;
  ix_flush(s, force);
  checkpoint_write(s, false);
}

static void *cq_flush_main(void *arg) {
  tern_store_t *s = arg;
  flusher_t *fl = &s->fl;
  pthread_mutex_lock(&fl->mu);
  while (!fl->stop) {
    struct timespec dl;
    deadline_ts(tern_mono_ms() + s->cfg.flush_interval_consume_queue, &dl);
    while (!fl->stop && pthread_cond_timedwait(&fl->cv, &fl->mu, &dl) != ETIMEDOUT) {
    }
    if (fl->stop) break;
    pthread_mutex_unlock(&fl->mu);
    flush_logics(s, false);
    pthread_mutex_lock(&fl->mu);
  }
  pthread_mutex_unlock(&fl->mu);
  return NULL;
}

/* Times out waiters at their deadline even while the flush thread is stuck
 * in a slow fdatasync: a writer learns FLUSH_DISK_TIMEOUT on time. */
static void *timeout_main(void *arg) {
  tern_store_t *s = arg;
  flusher_t *fl = &s->fl;
  pthread_mutex_lock(&fl->mu);
  while (!fl->stop) {
    if (!fl->wn) {
      pthread_cond_wait(&fl->cv, &fl->mu);
      continue;
    }
    int64_t dl = fl->w[fl->whead].deadline;
    if (tern_mono_ms() < dl) {
      struct timespec ts;
      deadline_ts(dl, &ts);
      pthread_cond_timedwait(&fl->cv, &fl->mu, &ts);
      continue;
    }
    pthread_mutex_unlock(&fl->mu);
    complete_waiters(s);
    pthread_mutex_lock(&fl->mu);
  }
  pthread_mutex_unlock(&fl->mu);
  return NULL;
}

int flusher_start(tern_store_t *s) {
  flusher_t *fl = &s->fl;
  pthread_mutex_init(&fl->mu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&fl->cv, &ca);
  pthread_condattr_destroy(&ca);
  if (pthread_create(&fl->th, NULL, clog_flush_main, s) != 0) return TERN_ENOMEM;
  bool cq_ok = pthread_create(&fl->cq_th, NULL, cq_flush_main, s) == 0;
  bool to_ok = cq_ok && pthread_create(&fl->to_th, NULL, timeout_main, s) == 0;
  if (!to_ok) {
    pthread_mutex_lock(&fl->mu);
    fl->stop = true;
    pthread_cond_broadcast(&fl->cv);
    pthread_mutex_unlock(&fl->mu);
    pthread_join(fl->th, NULL);
    if (cq_ok) pthread_join(fl->cq_th, NULL);
    return TERN_ENOMEM;
  }
  fl->started = true;
  return TERN_OK;
}

void flusher_stop(tern_store_t *s) {
  flusher_t *fl = &s->fl;
  if (!fl->started) return;
  pthread_mutex_lock(&fl->mu);
  fl->stop = true;
  pthread_cond_broadcast(&fl->cv);
  pthread_mutex_unlock(&fl->mu);
  pthread_join(fl->th, NULL);
  pthread_join(fl->cq_th, NULL);
  pthread_join(fl->to_th, NULL);
  fl->started = false;
  /* waiters registered after the last round: nothing is pending any more */
  complete_waiters(s);
  free(fl->w);
  fl->w = NULL;
  pthread_mutex_destroy(&fl->mu);
  pthread_cond_destroy(&fl->cv);
}

static int register_waiter(tern_store_t *s, int64_t end_offset, tern_flush_cb cb, void *arg, bool wake);

int tern_store_wait_flush(tern_store_t *s, int64_t end_offset, tern_flush_cb cb, void *arg) {
  return register_waiter(s, end_offset, cb, arg, true);
}

int tern_store_wait_flush_deferred(tern_store_t *s, int64_t end_offset, tern_flush_cb cb, void *arg) {
  return register_waiter(s, end_offset, cb, arg, false);
}

void tern_store_flush_kick(tern_store_t *s) {
  flusher_t *fl = &s->fl;
  pthread_mutex_lock(&fl->mu);
  if (fl->wn) {
    fl->kick = true;
    pthread_cond_broadcast(&fl->cv);
  }
  pthread_mutex_unlock(&fl->mu);
}

static int register_waiter(tern_store_t *s, int64_t end_offset, tern_flush_cb cb, void *arg, bool wake) {
  if (atomic_load(&s->clog_flushed) >= end_offset) return 1;
  flusher_t *fl = &s->fl;
  pthread_mutex_lock(&fl->mu);
  if (fl->wn == fl->wcap) {
    size_t nc = fl->wcap ? fl->wcap * 2 : 256;
    waiter_t *nw = malloc(nc * sizeof *nw);
    if (!nw) {
      pthread_mutex_unlock(&fl->mu);
      return TERN_ENOMEM;
    }
    for (size_t i = 0; i < fl->wn; i++) nw[i] = fl->w[(fl->whead + i) % fl->wcap];
    free(fl->w);
    fl->w = nw;
    fl->wcap = nc;
    fl->whead = 0;
  }
  waiter_t *w = &fl->w[(fl->whead + fl->wn) % fl->wcap];
  w->end = end_offset;
  w->deadline = tern_mono_ms() + s->cfg.sync_flush_timeout;
  w->cb = cb;
  w->arg = arg;
  fl->wn++;
  if (wake && !fl->kick) { /* one wake-up per round, however many writers register */
    fl->kick = true;
    pthread_cond_broadcast(&fl->cv);
  }
  pthread_mutex_unlock(&fl->mu);
  return TERN_OK;
}

void tern_store_set_flush_notify(tern_store_t *s, void (*round_done)(void *ctx), void *ctx) {
  pthread_mutex_lock(&s->fl.mu);
  s->fl.round_done = round_done;
  s->fl.round_ctx = ctx;
  pthread_mutex_unlock(&s->fl.mu);
}

typedef struct blocker {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  bool done;
  tern_put_status_t st;
} blocker_t;

static void unblock(void *arg, tern_put_status_t st) {
  blocker_t *b = arg;
  pthread_mutex_lock(&b->mu);
  b->done = true;
  b->st = st;
  pthread_cond_signal(&b->cv);
  pthread_mutex_unlock(&b->mu);
}

tern_put_status_t tern_store_flush_block(tern_store_t *s, int64_t end_offset) {
  blocker_t b = {.done = false, .st = TERN_PUT_OK};
  pthread_mutex_init(&b.mu, NULL);
  pthread_cond_init(&b.cv, NULL);
  int rc = tern_store_wait_flush(s, end_offset, unblock, &b);
  if (rc == TERN_OK) {
    pthread_mutex_lock(&b.mu);
    while (!b.done) pthread_cond_wait(&b.cv, &b.mu);
    pthread_mutex_unlock(&b.mu);
  } else if (rc < 0) {
    b.st = TERN_PUT_UNKNOWN_ERROR;
  }
  pthread_mutex_destroy(&b.mu);
  pthread_cond_destroy(&b.cv);
  return b.st;
}

int tern_store_flush_now(tern_store_t *s) { return clog_flush(s, 0); }
