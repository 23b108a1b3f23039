/* Internal glue of the transactional producer (transaction.c) with the
 * producer (producer.c). */
#ifndef TERN_CLIENT_TRANSACTION_INT_H
#define TERN_CLIENT_TRANSACTION_INT_H

#include "client_int.h"
#include "tern/producer.h"

/* producer.c: the producer's client instance. */
tc_inst_t *tc_producer_inst(tern_producer_t *p);
/* transaction.c: stops and joins the check thread of the instance's
 * producer, if any (called by tern_producer_shutdown while the loop runs). */
void tc_tx_free(tc_inst_t *in);

#endif
