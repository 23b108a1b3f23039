/* Orderly-consumption queue locks (RocketMQ's RebalanceLockManager): per
 * (consumer group, message queue) an owner client id and the time of its last
 * lock or renewal. A lock expires lease_ms after that (Java's
 * rocketmq.broker.rebalance.lockMaxLiveTime, 60 s); until then only the owner
 * may renew or release it. Loop-thread only; time is passed in by the caller. */
#ifndef TERN_BROKER_LOCKS_H
#define TERN_BROKER_LOCKS_H

#include "gen/bodies.h"

typedef struct tern_broker_locks tern_broker_locks_t;

tern_broker_locks_t *tern_broker_locks_new(int64_t lease_ms);
void tern_broker_locks_free(tern_broker_locks_t *l);
/* tryLockBatch for one queue: true when client_id holds the lock of mq in
 * group afterwards (newly taken, renewed, or taken over from an expired
 * owner); false while another client's lease is live. TERN_ENOMEM is
 * reported as false. */
bool tern_broker_locks_try(tern_broker_locks_t *l, tern_str_t group, const tern_body_message_queue_t *mq,
                           tern_str_t client_id, int64_t now_ms);
/* unlockBatch for one queue: releases it when client_id owns it (live or
 * not); returns true when something was released. */
bool tern_broker_locks_unlock(tern_broker_locks_t *l, tern_str_t group, const tern_body_message_queue_t *mq,
                              tern_str_t client_id);
/* Changes the lease (UPDATE_BROKER_CONFIG). */
void tern_broker_locks_set_lease(tern_broker_locks_t *l, int64_t lease_ms);
/* Locks currently held (live or expired but not yet taken over). */
size_t tern_broker_locks_count(const tern_broker_locks_t *l);

#endif
