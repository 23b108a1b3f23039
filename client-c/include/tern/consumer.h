/* Tern consumers.
 *
 * Push consumer: subscribes topics with tag expressions ("*", "A || B"),
 * pulls with long polling and hands messages to a listener on a pool of
 * consume_threads threads, consume_batch messages per call.
 * - CLUSTERING: queues are shared out by average allocation, rebalanced every
 *   rebalance_ms and whenever the broker sends NOTIFY_CONSUMER_IDS_CHANGED;
 *   offsets are stored in the broker every persist_ms and at shutdown; failed
 *   messages go back to the broker (CONSUMER_SEND_MSG_BACK) for redelivery.
 * - BROADCASTING: every instance takes every queue; offsets live in a local
 *   file (offset_dir/<group>/<client id>.json).
 * - Orderly listener: the consumer locks its queues in the broker
 *   (LOCK_BATCH_MQ) and hands each queue's messages to one thread at a time,
 *   in order; on a rebalance it commits and unlocks (UNLOCK_BATCH_MQ) a queue
 *   it gives up only after the running call returned.
 * Pulling pauses while a queue has more than pull_threshold_queue messages
 * cached.
 *
 * Pull consumer: lists a topic's queues and pulls at offsets the application
 * chooses; offsets are kept by the application or stored in the broker.
 *
 * Thread-safety: subscribe/set_listener before start, on one thread; start and
 * shutdown once, on one thread. Pull-consumer calls may be made from any
 * number of threads after start. Listeners run on pool threads, several at
 * once (concurrent) or one per queue (orderly); they must not call shutdown. */
#ifndef TERN_CONSUMER_H
#define TERN_CONSUMER_H

#include "tern/client.h"

/* Concurrent listener results. */
enum { TERN_CONSUME_SUCCESS = 0, TERN_RECONSUME_LATER = 1 };
/* Orderly listener results. */
enum { TERN_ORDERLY_SUCCESS = 0, TERN_ORDERLY_SUSPEND = 1 };

/* msgs[0..n) are valid during the call only. */
typedef int (*tern_listener_fn)(void *arg, tern_rmsg_t *const *msgs, size_t n);

typedef struct tern_push_consumer tern_push_consumer_t;
/* Any thread; copies conf. The following three: one thread, before start. */
tern_push_consumer_t *tern_push_consumer_new(const tern_client_conf_t *conf);
/* expr: "*" or tags joined by "||". TERN_EINVAL for a bad topic or expression. */
int tern_push_consumer_subscribe(tern_push_consumer_t *c, const char *topic, const char *expr);
void tern_push_consumer_set_listener(tern_push_consumer_t *c, tern_listener_fn fn, void *arg, bool orderly);
/* Once; returns after the routes were fetched and the first heartbeat sent. */
int tern_push_consumer_start(tern_push_consumer_t *c);
/* Once, from a user thread (never from a listener). Stops pulling, waits for running listener calls, commits offsets (and
 * unlocks queues), unregisters from the brokers and frees c. */
void tern_push_consumer_shutdown(tern_push_consumer_t *c);
/* Any thread after start. Queues this instance holds now (orderly: locked ones); *out malloc'd. */
int tern_push_consumer_assigned(tern_push_consumer_t *c, tern_mq_t **out, int *n);
/* Any thread after start. Messages pulled and not yet consumed, over all queues. */
long tern_push_consumer_cached(tern_push_consumer_t *c);
/* The client id the brokers know this consumer by. */
const char *tern_push_consumer_client_id(const tern_push_consumer_t *c);

/* ---- pull consumer ---- */
enum { TERN_PULL_FOUND = 0, TERN_PULL_NO_NEW_MSG, TERN_PULL_NO_MATCHED_MSG, TERN_PULL_OFFSET_ILLEGAL };

typedef struct tern_pull_result {
  int status;
  int64_t next_begin_offset, min_offset, max_offset;
  size_t n;
  tern_rmsg_t **msgs;
} tern_pull_result_t;

typedef struct tern_pull_consumer tern_pull_consumer_t;
/* Any thread. new/start/shutdown: once each, one thread; every other pull-consumer call: any thread, concurrently. */
tern_pull_consumer_t *tern_pull_consumer_new(const tern_client_conf_t *conf);
int tern_pull_consumer_start(tern_pull_consumer_t *c);
/* The readable queues of topic, sorted; *out malloc'd, free() it. */
int tern_pull_consumer_fetch_queues(tern_pull_consumer_t *c, const char *topic, tern_mq_t **out, int *n);
/* Pulls up to max messages at offset (expr as subscribe; NULL = "*"); no
 * long polling. *out freed with tern_pull_result_free. err may be NULL. */
int tern_pull_consumer_pull(tern_pull_consumer_t *c, const tern_mq_t *mq, const char *expr, int64_t offset, int max,
                            tern_pull_result_t **out, tern_client_error_t *err);
void tern_pull_result_free(tern_pull_result_t *r);
/* Offsets of the queue in the broker. */
int tern_pull_consumer_min_offset(tern_pull_consumer_t *c, const tern_mq_t *mq, int64_t *off);
int tern_pull_consumer_max_offset(tern_pull_consumer_t *c, const tern_mq_t *mq, int64_t *off);
int tern_pull_consumer_search_offset(tern_pull_consumer_t *c, const tern_mq_t *mq, int64_t ts_ms, int64_t *off);
/* The group's stored offset (TERN_ENOTFOUND when none). */
int tern_pull_consumer_fetch_offset(tern_pull_consumer_t *c, const tern_mq_t *mq, int64_t *off);
/* Remembers an offset; stored in the broker every persist_ms, by commit and at shutdown. */
int tern_pull_consumer_update_offset(tern_pull_consumer_t *c, const tern_mq_t *mq, int64_t off);
/* Stores the remembered offsets now and waits for the broker's answers. */
int tern_pull_consumer_commit(tern_pull_consumer_t *c);
void tern_pull_consumer_shutdown(tern_pull_consumer_t *c);

#endif
