/* Transactional (half) messages in the broker (reference §5.12, §8.6;
 * RocketMQ 4.9.8 TransactionalMessageBridge, TransactionalMessageServiceImpl,
 * EndTransactionProcessor, TransactionalMessageCheckService):
 *  - send.c calls tern_broker_trans_redirect for every single message: one
 *    whose TRAN_MSG property is "true" is stored in RMQ_SYS_TRANS_HALF_TOPIC
 *    queue 0 with REAL_TOPIC/REAL_QID appended and its transaction bits reset;
 *  - END_TRANSACTION (37) commits (the real message re-appended to
 *    REAL_TOPIC/REAL_QID with COMMIT bits and preparedTransactionOffset, then
 *    an op message) or rolls back (op message only); op messages go to
 *    RMQ_SYS_TRANS_OP_HALF_TOPIC queue 0, tags "d", body = the half queue offset;
 *  - the check service runs every transactionCheckInterval: half messages not
 *    resolved by an op message and older than transactionTimeOut (or their
 *    CHECK_IMMUNITY_TIME_IN_SECONDS) are re-appended with
 *    TRANSACTION_CHECK_TIMES + 1 and CHECK_TRANSACTION_STATE (oneway) goes to
 *    one producer channel of their PGROUP; past transactionCheckMax (or
 *    fileReservedTime) they move to TRANS_CHECK_MAX_TIME_TOPIC. Progress is
 *    the consumer offset of CID_RMQ_SYS_TRANS on the half and op topics
 *    (consumerOffset.json), so it survives a restart.
 * One broker per process; loop-thread only. */
#ifndef TERN_BROKER_TRANSACTION_H
#define TERN_BROKER_TRANSACTION_H

#include "broker/broker.h"

typedef struct tern_broker_trans_conf {
  int64_t transaction_timeout;        /* transactionTimeOut ms, 6000 */
  int32_t transaction_check_max;      /* transactionCheckMax, 15 */
  int64_t transaction_check_interval; /* transactionCheckInterval ms, 60000 */
  bool reject_transaction_message;    /* rejectTransactionMessage, false */
} tern_broker_trans_conf_t;

extern const tern_cfg_item_t tern_broker_trans_conf_items[];
extern const size_t tern_broker_trans_conf_n_items;
extern tern_broker_trans_conf_t tern_broker_trans_conf;
/* main.c: registers the keys above with the broker's config registry (defaults without it). */
int tern_broker_trans_conf_add(tern_config_t *cfg);

/* Sets the END_TRANSACTION handler and starts the check timer (from
 * tern_broker_clients_install, which needs the producer channels). */
int tern_broker_trans_install(tern_broker_t *b, tern_broker_handlers_t *h);
/* Stops the check timer (shutdown hook); frees the module's state. */
void tern_broker_trans_stop(tern_broker_t *b);
void tern_broker_trans_free(tern_broker_t *b);

/* send.c hook: when m carries TRAN_MSG=true, rewrites *m into the half topic
 * (properties rebuilt in a buffer this module owns, valid until the next
 * call) and returns 1; 0 when m is not a half message; -1 when half messages
 * are refused (rejectTransactionMessage: the caller answers NO_PERMISSION). */
int tern_broker_trans_redirect(tern_broker_t *b, tern_store_msg_t *m);

#endif
