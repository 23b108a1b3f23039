/* Transactional producer: each message is sent as a half message, the local
 * transaction decides (here: even numbers commit, odd ones stay undecided
 * until the broker checks them, and the checker commits them too).
 * Usage: example_transaction_producer [namesrv] [topic] [count] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tern/producer.h"

static tern_tx_state_t execute(void *arg, const tern_msg_t *m, const tern_send_result_t *r) {
  int *n = arg;
  (void)m;
  printf("half message %s stored at queue %d offset %lld\n", r->msg_id, r->mq.queue_id, (long long)r->queue_offset);
  return (*n)++ % 2 == 0 ? TERN_TX_COMMIT : TERN_TX_UNKNOWN;
}

static tern_tx_state_t check(void *arg, const tern_rmsg_t *m) {
  (void)arg;
  printf("broker asks about %s: commit\n", m->msg_id);
  return TERN_TX_COMMIT;
}

int main(int argc, char **argv) {
  tern_client_conf_t conf;
  tern_producer_t *p;
  int count = argc > 3 ? atoi(argv[3]) : 4, n = 0;
  tern_client_conf_default(&conf);
  conf.namesrv_addr = argc > 1 ? argv[1] : "127.0.0.1:9876";
  conf.group = "example_tx_group";
  p = tern_producer_new(&conf);
  if (!p || tern_producer_set_transaction_listener(p, check, NULL) != 0 || tern_producer_start(p) != 0) {
    fprintf(stderr, "cannot start the producer\n");
    return 1;
  }
  for (int i = 0; i < count; i++) {
    char body[64];
    tern_tx_result_t r;
    snprintf(body, sizeof body, "transaction %d", i);
    tern_msg_t *m = tern_msg_new(argc > 2 ? argv[2] : "TopicTest", body, strlen(body));
    if (tern_producer_send_in_transaction(p, m, execute, &n, &r) != 0)
      fprintf(stderr, "send failed: %s\n", r.send.err.remark);
    else
      printf("%s: %s\n", body, r.state == TERN_TX_COMMIT ? "committed" : "undecided (the broker will check)");
    tern_msg_free(m);
  }
  sleep(70); /* stay up for the broker's checks (transactionCheckInterval, 60 s by default) */
  tern_producer_shutdown(p, 3000);
  return 0;
}
