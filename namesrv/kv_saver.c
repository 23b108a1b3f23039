/* The KV writer thread and its hand-over with the loop; see kv_saver.h. The
 * loop thread owns the waiter list; the writer sees only the pending bytes
 * and reports the newest sequence number it made durable, with one post per
 * write (a post already queued covers later writes too). While anyone waits,
 * the loop is held alive so the post is delivered even with no other work. */
#include "namesrv/kv_saver.h"

#include <stdlib.h>

struct tern_ns_kv_waiter {
  tern_ns_kv_waiter_t *next;
  uint64_t seq;
  tern_ns_kv_saved_fn cb;
  void *arg;
};

static void on_written(tern_post_t *p);

static void *writer_main(void *arg) {
  tern_ns_kv_saver_t *s = arg;
  pthread_mutex_lock(&s->mu);
  for (;;) {
    tern_buf_t job;
    uint64_t seq;
    int rc;
    while (!s->pending_seq && !s->stop) pthread_cond_wait(&s->cv, &s->mu);
    if (!s->pending_seq) break; /* stop, and nothing left to write */
    job = s->pending;
    seq = s->pending_seq;
    tern_buf_init(&s->pending, 0);
    s->pending_seq = 0;
    pthread_mutex_unlock(&s->mu);
    rc = job.err ? job.err : tern_ns_kv_write_file(s->kv->path, job.p, job.len);
    tern_buf_free(&job);
    pthread_mutex_lock(&s->mu);
    s->done_seq = seq;
    s->done_status = rc;
    if (!s->post_queued) {
      s->post_queued = true;
      tern_loop_post(s->loop, &s->post, on_written); /* the post mutex is a leaf: fine under mu */
    }
  }
  pthread_mutex_unlock(&s->mu);
  return NULL;
}

/* On the loop thread: call back everyone whose change is now on disk. */
static void on_written(tern_post_t *p) {
  tern_ns_kv_saver_t *s = (tern_ns_kv_saver_t *)((char *)p - offsetof(tern_ns_kv_saver_t, post));
  uint64_t done;
  int status;
  pthread_mutex_lock(&s->mu);
  s->post_queued = false;
  done = s->done_seq;
  status = s->done_status;
  pthread_mutex_unlock(&s->mu);
  while (s->waiters && s->waiters->seq <= done) {
    tern_ns_kv_waiter_t *w = s->waiters;
    s->waiters = w->next;
    if (!s->waiters) s->waiters_tail = NULL;
    w->cb(w->arg, status);
    free(w);
  }
  if (!s->waiters && s->held) {
    s->held = false;
    tern_loop_unhold(s->loop);
  }
}

int tern_ns_kv_saver_init(tern_ns_kv_saver_t *s, tern_loop_t *loop, const tern_ns_kv_t *kv) {
  memset(s, 0, sizeof *s);
  s->loop = loop;
  s->kv = kv;
  tern_buf_init(&s->pending, 0);
  if (!kv->path) return 0;
  if (pthread_mutex_init(&s->mu, NULL) || pthread_cond_init(&s->cv, NULL)) return TERN_ENOMEM;
  if (pthread_create(&s->thread, NULL, writer_main, s) != 0) return TERN_ENOMEM;
  s->started = true;
  return 0;
}

int tern_ns_kv_saver_request(tern_ns_kv_saver_t *s, tern_ns_kv_saved_fn cb, void *arg) {
  tern_ns_kv_waiter_t *w;
  tern_buf_t snap;
  int rc;
  if (!s->started) {
    cb(arg, 0);
    return 0;
  }
  w = calloc(1, sizeof *w);
  if (!w) return TERN_ENOMEM;
  tern_buf_init(&snap, 0);
  rc = tern_ns_kv_encode(s->kv, &snap);
  if (rc) {
    tern_buf_free(&snap);
    free(w);
    return rc;
  }
  w->seq = ++s->seq;
  w->cb = cb;
  w->arg = arg;
  if (s->waiters_tail) {
    s->waiters_tail->next = w;
  } else {
    s->waiters = w;
    if (!s->held) {
      s->held = true;
      tern_loop_hold(s->loop); /* keep the loop alive until the writer's post arrives */
    }
  }
  s->waiters_tail = w;
  pthread_mutex_lock(&s->mu);
  tern_buf_free(&s->pending); /* superseded by the newer snapshot */
  s->pending = snap;
  s->pending_seq = w->seq;
  pthread_cond_signal(&s->cv);
  pthread_mutex_unlock(&s->mu);
  return 0;
}

void tern_ns_kv_saver_stop(tern_ns_kv_saver_t *s) {
  if (!s->started) return;
  pthread_mutex_lock(&s->mu);
  s->stop = true;
  pthread_cond_signal(&s->cv);
  pthread_mutex_unlock(&s->mu);
  pthread_join(s->thread, NULL);
  s->started = false;
  /* The writer's last post is queued by now; deliver it. */
  while (s->waiters) uv_run(s->loop->uv, UV_RUN_ONCE);
  tern_buf_free(&s->pending);
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->cv);
}
