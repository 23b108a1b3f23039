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

/* ---- transactional producer (RocketMQ TransactionMQProducer; reference 5.12) ----
 * A producer becomes transactional once a check listener is set. A
 * transaction sends the message as a half message (TRAN_MSG=true, PGROUP,
 * sysFlag PREPARED; a delay level is dropped), runs the local transaction on
 * the calling thread, then tells the broker the outcome with END_TRANSACTION
 * (oneway): COMMIT makes the message visible, ROLLBACK discards it, UNKNOWN
 * leaves it to the broker, which later asks the producer group
 * (CHECK_TRANSACTION_STATE) on one of its connections; the check listener
 * answers on the producer's check thread and its answer is sent back the
 * same way (fromTransactionCheck=true). */
typedef enum { TERN_TX_UNKNOWN = 0, TERN_TX_COMMIT = 1, TERN_TX_ROLLBACK = 2 } tern_tx_state_t;
/* Runs the local transaction of the half message m just stored (r: its send result). */
typedef tern_tx_state_t (*tern_tx_execute_fn)(void *arg, const tern_msg_t *m, const tern_send_result_t *r);
/* The state of the transaction of half message m (m->msg_id is its UNIQ_KEY, the transaction id). */
typedef tern_tx_state_t (*tern_tx_check_fn)(void *arg, const tern_rmsg_t *m);

typedef struct tern_tx_result {
  tern_send_result_t send; /* the half message's send */
  tern_tx_state_t state;   /* what END_TRANSACTION told the broker */
} tern_tx_result_t;

/* Once, before tern_producer_start: sets the check listener (called on the
 * producer's own check thread, one check at a time) and starts that thread. */
int tern_producer_set_transaction_listener(tern_producer_t *p, tern_tx_check_fn check, void *arg);
/* Any thread, concurrently (not from a callback). Sends m as a half message
 * (adds TRAN_MSG and PGROUP to m, drops its delay level), runs exec(arg, m,
 * &r->send) when the send succeeded (a send stored with another status is
 * rolled back), then sends END_TRANSACTION. Returns 0 when the half message
 * was sent (r->state is the outcome told to the broker), the send's error
 * otherwise; TERN_EINVAL without a check listener. */
int tern_producer_send_in_transaction(tern_producer_t *p, tern_msg_t *m, tern_tx_execute_fn exec, void *arg,
                                      tern_tx_result_t *r);

#endif
