/* Producer retries against two real brokers: once broker-b is stopped, sync
 * and async sends that pick its queues fail over to broker-a within one call
 * (retryTimesWhenSendFailed), and the fault table keeps later sends off the
 * stopped broker. */
#include <stdatomic.h>
#include <string.h>

#include "ct_env.h"
#include "tern/producer.h"
#include "tern_test.h"

static atomic_int ok_a, done_n;

static void on_sent(void *arg, const tern_send_result_t *r) {
  TERN_UNUSED(arg);
  if (r->err.error == 0 && strcmp(r->mq.broker_name, "broker-a") == 0) atomic_fetch_add(&ok_a, 1);
  atomic_fetch_add(&done_n, 1);
}

TEST(retry_moves_to_the_other_broker) {
  ct_env_t env;
  tern_client_conf_t conf;
  tern_producer_t *p;
  tern_send_result_t r;
  int i, on_b = 0, retried = 0;
  ASSERT_OK(ct_env_start(&env, 2, NULL));
  ASSERT_OK(ct_create_topic(&env, "TopicR", 4));
  ct_conf(&env, &conf, "pg_retry");
  conf.route_poll_ms = 600000; /* keep the stale route: the retry path, not a refresh, must cope */
  p = tern_producer_new(&conf);
  ASSERT_OK(tern_producer_start(p));
  for (i = 0; i < 16; i++) {
    tern_msg_t *m = tern_msg_new("TopicR", "before", 6);
    ASSERT_OK(tern_producer_send(p, m, &r));
    if (strcmp(r.mq.broker_name, "broker-b") == 0) on_b++;
    tern_msg_free(m);
  }
  ASSERT(on_b > 0); /* both brokers were in use */
  ASSERT(ct_broker_stop(&env, 1) >= 0);
  for (i = 0; i < 20; i++) {
    tern_msg_t *m = tern_msg_new("TopicR", "after", 5);
    int rc = tern_producer_send(p, m, &r);
    tern_msg_free(m);
    if (rc) fprintf(stderr, "send %d failed: %d %s\n", i, r.err.response_code, r.err.remark);
    ASSERT_OK(rc);
    ASSERT_STREQ(r.mq.broker_name, "broker-a");
    if (r.attempts > 1) retried++;
  }
  ASSERT(retried >= 1);
  for (i = 0; i < 20; i++) {
    tern_msg_t *m = tern_msg_new("TopicR", "async", 5);
    ASSERT_OK(tern_producer_send_async(p, m, on_sent, NULL));
    tern_msg_free(m);
  }
  for (i = 0; i < 500 && atomic_load(&done_n) < 20; i++) ct_sleep_ms(10);
  ASSERT_EQ(atomic_load(&ok_a), 20);
  tern_producer_shutdown(p, 2000);
  ct_env_stop(&env);
}
