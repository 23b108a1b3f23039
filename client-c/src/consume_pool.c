/* A fixed pool of consume threads fed by one mutex-guarded task list. Tasks
 * arrive in batches (one lock, one broadcast per pull response) so the loop
 * thread pays one hand-off per batch, not per message; results go back to
 * the loop by the push consumer's own batched post. */
#include <stdlib.h>

#include "consume_pool.h"

static void *worker(void *arg) {
  tc_cpool_t *p = arg;
  for (;;) {
    tc_task_t *t;
    pthread_mutex_lock(&p->mu);
    while (!p->head && !p->stop) pthread_cond_wait(&p->cv, &p->mu);
    if (p->stop) {
      pthread_mutex_unlock(&p->mu);
      return NULL;
    }
    t = p->head;
    p->head = t->next;
    if (!p->head) p->tail = NULL;
    pthread_mutex_unlock(&p->mu);
    t->next = NULL;
    t->run(t);
  }
}

int tc_cpool_start(tc_cpool_t *p, int nthreads) {
  int i;
  p->head = p->tail = NULL;
  p->stop = false;
  p->n = 0;
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->cv, NULL);
  p->threads = calloc((size_t)nthreads, sizeof *p->threads);
  if (!p->threads) return -1;
  for (i = 0; i < nthreads; i++) {
    if (pthread_create(&p->threads[i], NULL, worker, p) != 0) break;
    p->n++;
  }
  return p->n > 0 ? 0 : -1;
}

void tc_cpool_submit(tc_cpool_t *p, tc_task_t *head, tc_task_t *tail, int count) {
  if (!head) return;
  tail->next = NULL;
  pthread_mutex_lock(&p->mu);
  if (p->tail) p->tail->next = head;
  else p->head = head;
  p->tail = tail;
  if (count > 1) pthread_cond_broadcast(&p->cv);
  else pthread_cond_signal(&p->cv);
  pthread_mutex_unlock(&p->mu);
}

void tc_cpool_stop(tc_cpool_t *p) {
  tc_task_t *t, *n;
  int i;
  pthread_mutex_lock(&p->mu);
  p->stop = true;
  pthread_cond_broadcast(&p->cv);
  pthread_mutex_unlock(&p->mu);
  for (i = 0; i < p->n; i++) pthread_join(p->threads[i], NULL);
  free(p->threads);
  p->threads = NULL;
  for (t = p->head; t; t = n) {
    n = t->next;
    t->drop(t);
  }
  p->head = p->tail = NULL;
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->cv);
}
