/* Persists the KV config off the loop thread, as runtime/THREADING.md asks of
 * anything that fsyncs: the loop encodes the table and hands the bytes to one
 * writer thread, which replaces kvConfig.json atomically and posts the result
 * back. Requests made while a write is running are coalesced into the next
 * write (only the newest content is written), and every requester is called
 * back on the loop thread once a write that includes its change is durable. */
#ifndef TERN_NAMESRV_KV_SAVER_H
#define TERN_NAMESRV_KV_SAVER_H

#include <pthread.h>

#include "namesrv/kv.h"
#include "runtime/loop.h"

/* status: 0, or TERN_EIO / TERN_ENOMEM when the write failed. */
typedef void (*tern_ns_kv_saved_fn)(void *arg, int status);

typedef struct tern_ns_kv_waiter tern_ns_kv_waiter_t;

typedef struct tern_ns_kv_saver {
  tern_loop_t *loop;
  const tern_ns_kv_t *kv;
  pthread_t thread;
  bool started;
  /* loop thread only */
  uint64_t seq;                 /* changes requested so far */
  tern_ns_kv_waiter_t *waiters; /* oldest first */
  tern_ns_kv_waiter_t *waiters_tail;
  tern_post_t post;
  bool held; /* we hold the loop alive (tern_loop_hold) while anyone waits */
  /* shared, under mu */
  pthread_mutex_t mu;
  pthread_cond_t cv;
  tern_buf_t pending; /* newest content not yet taken by the writer */
  uint64_t pending_seq; /* 0: nothing pending */
  uint64_t done_seq;    /* newest change durable (or failed) */
  int done_status;
  bool post_queued, stop;
} tern_ns_kv_saver_t;

/* Starts the writer thread (none when kv has no path). */
int tern_ns_kv_saver_init(tern_ns_kv_saver_t *s, tern_loop_t *loop, const tern_ns_kv_t *kv);
/* Snapshot the table now and write it; cb(arg, status) runs on the loop
 * thread when that content (or newer) is on disk. Without a path, cb runs
 * before the call returns. TERN_ENOMEM when the snapshot fails (cb not run). */
int tern_ns_kv_saver_request(tern_ns_kv_saver_t *s, tern_ns_kv_saved_fn cb, void *arg);
/* Writes what is pending, joins the thread and runs the loop until every
 * callback has run. Call after the loop stopped serving, before freeing. */
void tern_ns_kv_saver_stop(tern_ns_kv_saver_t *s);

#endif
