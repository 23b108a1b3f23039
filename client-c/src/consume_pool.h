/* The consume thread pool (consume_pool.c): listener calls run here, never on
 * the loop thread. */
#ifndef TERN_CLIENT_CONSUME_POOL_H
#define TERN_CLIENT_CONSUME_POOL_H

#include <pthread.h>
#include <stdbool.h>

typedef struct tc_task tc_task_t;
struct tc_task {
  tc_task_t *next;
  void (*run)(tc_task_t *t);  /* on a pool thread */
  void (*drop)(tc_task_t *t); /* instead of run, for tasks still queued at stop (on the stopping thread) */
};

typedef struct tc_cpool {
  pthread_t *threads;
  int n;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  tc_task_t *head, *tail;
  bool stop;
} tc_cpool_t;

int tc_cpool_start(tc_cpool_t *p, int nthreads);
/* Queues a linked list of tasks (head..tail) with one lock and one wake-up. Thread-safe. */
void tc_cpool_submit(tc_cpool_t *p, tc_task_t *head, tc_task_t *tail, int count);
/* Lets running tasks finish, drops queued ones, joins the threads. */
void tc_cpool_stop(tc_cpool_t *p);

#endif
