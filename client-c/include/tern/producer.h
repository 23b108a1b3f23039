/* Tern producer: sync, async and oneway sends, a queue selector for ordered
 * messages, batches; bodies of compress_over bytes or more are zlib-compressed
 * (sysFlag bit 0, as RocketMQ 4.9 clients flag it); every message gets a
 * UNIQ_KEY. Failed sends are retried retry_times times on another broker,
 * brokers that failed or answered slowly being avoided for a while (Java's
 * MQFaultStrategy latency table). Routes are refreshed from the name servers
 * every route_poll_ms and heartbeats go to the brokers every heartbeat_ms.
 *
 * Thread-safety: after tern_producer_start every send function may be called
 * from any number of threads at once. start and shutdown are called once, by
 * one thread, with no send running; async callbacks run on the producer's
 * loop thread and must not block (they may call tern_producer_send_async,
 * never the blocking sends). */
#ifndef TERN_PRODUCER_H
#define TERN_PRODUCER_H

#include "tern/client.h"

enum { TERN_SEND_OK = 0, TERN_SEND_FLUSH_DISK_TIMEOUT, TERN_SEND_FLUSH_SLAVE_TIMEOUT, TERN_SEND_SLAVE_NOT_AVAILABLE };

typedef struct tern_send_result {
  tern_client_error_t err;       /* err.error 0: sent, status valid */
  int status;                    /* TERN_SEND_* */
  char msg_id[TERN_UNIQ_HEX_V6 + 1]; /* the UNIQ_KEY (first one of a batch) */
  char offset_msg_id[TERN_MSGID_HEX_V6 + 1]; /* the broker's id of the (first) stored record */
  tern_mq_t mq;
  int64_t queue_offset;
  int attempts;
} tern_send_result_t;

typedef struct tern_producer tern_producer_t;
typedef void (*tern_send_cb)(void *arg, const tern_send_result_t *r);
/* Picks a queue index in [0, n) for m; runs on the caller's thread. */
typedef int (*tern_queue_selector_fn)(void *arg, const tern_mq_t *mqs, int n, const tern_msg_t *m);

/* Any thread; copies conf. NULL for a missing name server or an invalid group. */
tern_producer_t *tern_producer_new(const tern_client_conf_t *conf);
/* Once, before any send (not thread-safe against sends). */
int tern_producer_start(tern_producer_t *p);
/* Any thread, concurrently. Blocking send (up to 1 + retry_times attempts within timeout_ms in all). */
int tern_producer_send(tern_producer_t *p, const tern_msg_t *m, tern_send_result_t *r);
/* Any thread (the loop thread too, i.e. from a callback). Copies m; cb runs
 * exactly once on the loop thread (also when shutdown fails it). */
int tern_producer_send_async(tern_producer_t *p, const tern_msg_t *m, tern_send_cb cb, void *arg);
/* Any thread. Fire and forget: no response, no retry. */
int tern_producer_send_oneway(tern_producer_t *p, const tern_msg_t *m);
/* Any thread, concurrently. Blocking send to the queue the selector picks (no
 * retry on another queue, which would break the order). */
int tern_producer_send_select(tern_producer_t *p, const tern_msg_t *m, tern_queue_selector_fn sel, void *arg,
                              tern_send_result_t *r);
/* Selector: arg is a NUL-terminated key; queue = Java hashCode(key) mod n (non-negative). */
int tern_select_by_key(void *arg, const tern_mq_t *mqs, int n, const tern_msg_t *m);
/* Any thread, concurrently. Blocking batch send: every message the same topic, no delay level (RocketMQ's rules); never compressed. */
int tern_producer_send_batch(tern_producer_t *p, const tern_msg_t *const *msgs, size_t n, tern_send_result_t *r);
/* Any thread. The writable queues of topic (fetched when unknown); *out malloc'd, free() it. */
int tern_producer_queues(tern_producer_t *p, const char *topic, tern_mq_t **out, int *n);
/* Once, from a user thread (never from a callback), with no other call
 * running or to come. Waits for in-flight async sends (up to timeout_ms), unregisters, stops the
 * loop thread and frees p. Sends still pending after the wait fail with
 * TERN_ECLOSED. */
void tern_producer_shutdown(tern_producer_t *p, uint32_t timeout_ms);

#endif
