/* The transactional producer end to end against a real name server and
 * broker (transactionTimeOut=1000, transactionCheckInterval=300): a push
 * consumer receives the committed transaction, never the rolled-back one, and
 * receives the one whose local transaction said UNKNOWN only after the
 * broker checked it on the producer's connection and the check listener
 * answered COMMIT; a producer without a check listener refuses
 * transactions. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ct_env.h"
#include "tern/consumer.h"
#include "tern/producer.h"
#include "tern_test.h"

#define TOPIC "TopicTxC"

typedef struct seen {
  pthread_mutex_t mu;
  int commit, rollback, unknown, other;
  int checks, checks_other;
  char checked_id[64];
  char unknown_id[64];
} seen_t;

static seen_t S = {.mu = PTHREAD_MUTEX_INITIALIZER};

static int on_msgs(void *arg, tern_rmsg_t *const *msgs, size_t n) {
  seen_t *s = arg;
  pthread_mutex_lock(&s->mu);
  for (size_t i = 0; i < n; i++) {
    if (tern_str_eq_cstr(msgs[i]->body, "tx-commit"))
      s->commit++;
    else if (tern_str_eq_cstr(msgs[i]->body, "tx-rollback"))
      s->rollback++;
    else if (tern_str_eq_cstr(msgs[i]->body, "tx-unknown"))
      s->unknown++;
    else
      s->other++;
  }
  pthread_mutex_unlock(&s->mu);
  return TERN_CONSUME_SUCCESS;
}

/* The local transaction: the tag says what it decides. */
static tern_tx_state_t exec_local(void *arg, const tern_msg_t *m, const tern_send_result_t *r) {
  const char *tag = tern_msg_property(m, "TAGS");
  (void)arg;
  if (r->status != TERN_SEND_OK || !tag) return TERN_TX_ROLLBACK;
  if (strcmp(tag, "commit") == 0) return TERN_TX_COMMIT;
  if (strcmp(tag, "unknown") == 0) return TERN_TX_UNKNOWN;
  return TERN_TX_ROLLBACK;
}

/* The broker's check: only the UNKNOWN transaction should be asked about. */
static tern_tx_state_t check_local(void *arg, const tern_rmsg_t *m) {
  seen_t *s = arg;
  tern_tx_state_t st = TERN_TX_ROLLBACK;
  pthread_mutex_lock(&s->mu);
  if (tern_str_eq_cstr(m->body, "tx-unknown") && tern_str_eq_cstr(m->topic, TOPIC)) {
    s->checks++;
    snprintf(s->checked_id, sizeof s->checked_id, "%s", m->msg_id);
    st = TERN_TX_COMMIT;
  } else {
    s->checks_other++;
  }
  pthread_mutex_unlock(&s->mu);
  return st;
}

static int get(int *field) {
  int v;
  pthread_mutex_lock(&S.mu);
  v = *field;
  pthread_mutex_unlock(&S.mu);
  return v;
}

static bool wait_for(int *field, int want, int ms) {
  for (int t = 0; t < ms / 20; t++) {
    if (get(field) >= want) return true;
    ct_sleep_ms(20);
  }
  return get(field) >= want;
}

static tern_msg_t *tx_msg(const char *what) {
  char body[32];
  snprintf(body, sizeof body, "tx-%s", what);
  tern_msg_t *m = tern_msg_new(TOPIC, body, strlen(body));
  if (m) tern_msg_set_tags(m, what);
  return m;
}

TEST(commit_rollback_and_unknown_then_checked) {
  ct_env_t env;
  tern_client_conf_t conf;
  tern_producer_t *p, *plain;
  tern_push_consumer_t *c;
  tern_tx_result_t r;
  tern_msg_t *m;
  ASSERT_OK(ct_env_start(&env, 1, "transactionTimeOut=1000\ntransactionCheckInterval=300\n"));
  ASSERT_OK(ct_create_topic(&env, TOPIC, 2));

  ct_conf(&env, &conf, "cg_tx");
  c = tern_push_consumer_new(&conf);
  ASSERT(c);
  ASSERT_OK(tern_push_consumer_subscribe(c, TOPIC, "*"));
  tern_push_consumer_set_listener(c, on_msgs, &S, false);
  ASSERT_OK(tern_push_consumer_start(c));

  /* no check listener: no transactions */
  ct_conf(&env, &conf, "pg_plain");
  plain = tern_producer_new(&conf);
  ASSERT(plain);
  ASSERT_OK(tern_producer_start(plain));
  m = tx_msg("commit");
  ASSERT_EQ(tern_producer_send_in_transaction(plain, m, exec_local, NULL, &r), TERN_EINVAL);
  tern_msg_free(m);
  tern_producer_shutdown(plain, 1000);

  ct_conf(&env, &conf, "pg_tx");
  conf.heartbeat_ms = 300; /* the broker needs the producer group's channel for the check */
  p = tern_producer_new(&conf);
  ASSERT(p);
  ASSERT_OK(tern_producer_set_transaction_listener(p, check_local, &S));
  ASSERT_OK(tern_producer_start(p));
  ASSERT_EQ(tern_producer_set_transaction_listener(p, check_local, &S), TERN_EINVAL); /* once, before start */

  m = tx_msg("commit");
  tern_msg_set_delay_level(m, 3); /* dropped: a transaction is never delayed */
  ASSERT_OK(tern_producer_send_in_transaction(p, m, exec_local, NULL, &r));
  ASSERT_EQ(r.send.status, TERN_SEND_OK);
  ASSERT_EQ(r.state, TERN_TX_COMMIT);
  ASSERT(tern_msg_property(m, "TRAN_MSG") && strcmp(tern_msg_property(m, "TRAN_MSG"), "true") == 0);
  ASSERT(tern_msg_property(m, "PGROUP") && strcmp(tern_msg_property(m, "PGROUP"), "pg_tx") == 0);
  ASSERT(!tern_msg_property(m, "DELAY"));
  tern_msg_free(m);

  m = tx_msg("rollback");
  ASSERT_OK(tern_producer_send_in_transaction(p, m, exec_local, NULL, &r));
  ASSERT_EQ(r.state, TERN_TX_ROLLBACK);
  tern_msg_free(m);

  m = tx_msg("unknown");
  ASSERT_OK(tern_producer_send_in_transaction(p, m, exec_local, NULL, &r));
  ASSERT_EQ(r.state, TERN_TX_UNKNOWN);
  snprintf(S.unknown_id, sizeof S.unknown_id, "%s", r.send.msg_id);
  tern_msg_free(m);

  ASSERT(wait_for(&S.commit, 1, 10000));
  ASSERT_EQ(get(&S.unknown), 0); /* not before the check */
  ASSERT(wait_for(&S.checks, 1, 15000));
  ASSERT(wait_for(&S.unknown, 1, 10000));
  pthread_mutex_lock(&S.mu);
  ASSERT_STR(tern_str_from_cstr(S.checked_id), S.unknown_id);
  pthread_mutex_unlock(&S.mu);
  ct_sleep_ms(1500); /* rounds after the answer: nothing else shows up or gets checked */
  ASSERT_EQ(get(&S.commit), 1);
  ASSERT_EQ(get(&S.unknown), 1);
  ASSERT_EQ(get(&S.rollback), 0);
  ASSERT_EQ(get(&S.other), 0);
  ASSERT_EQ(get(&S.checks), 1);
  ASSERT_EQ(get(&S.checks_other), 0);

  tern_producer_shutdown(p, 1000);
  tern_push_consumer_shutdown(c);
  ct_env_stop(&env);
}
