/* Producer and pull consumer against a real name server and broker: sync,
 * async, oneway, batch, ordered (selector), compressed and non-ASCII bodies,
 * auto-created topics; every message read back with the pull consumer and
 * checked field by field; offsets stored in the broker and read back. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "ct_env.h"
#include "tern/consumer.h"
#include "tern/producer.h"
#include "tern_test.h"

static atomic_int async_ok, async_done;

static void on_sent(void *arg, const tern_send_result_t *r) {
  TERN_UNUSED(arg);
  if (r->err.error == 0 && r->status == TERN_SEND_OK && strlen(r->msg_id) == 32) atomic_fetch_add(&async_ok, 1);
  else fprintf(stderr, "async send failed: %d %d %s\n", r->err.error, r->err.response_code, r->err.remark);
  atomic_fetch_add(&async_done, 1);
}

/* Pulls every queue of topic from 0; returns all messages (caller frees results). */
static int pull_all(tern_pull_consumer_t *pc, const char *topic, const char *expr, tern_pull_result_t **res, int *nres,
                    size_t *total) {
  tern_mq_t *mqs = NULL;
  int n = 0, i;
  *nres = 0;
  *total = 0;
  if (tern_pull_consumer_fetch_queues(pc, topic, &mqs, &n) != 0) return -1;
  for (i = 0; i < n; i++) {
    int64_t off = 0;
    for (;;) {
      tern_pull_result_t *r = NULL;
      tern_client_error_t e;
      if (tern_pull_consumer_pull(pc, &mqs[i], expr, off, 32, &r, &e) != 0) {
        fprintf(stderr, "pull failed: %d %s\n", e.response_code, e.remark);
        free(mqs);
        return -1;
      }
      if (r->status == TERN_PULL_NO_NEW_MSG || r->next_begin_offset == off) {
        tern_pull_result_free(r);
        break;
      }
      off = r->next_begin_offset;
      *total += r->n;
      res[(*nres)++] = r;
      if (*nres >= 255) break;
    }
  }
  free(mqs);
  return n;
}

static const tern_rmsg_t *find_msg(tern_pull_result_t **res, int nres, const char *msg_id) {
  int i;
  size_t j;
  for (i = 0; i < nres; i++)
    for (j = 0; j < res[i]->n; j++)
      if (strcmp(res[i]->msgs[j]->msg_id, msg_id) == 0) return res[i]->msgs[j];
  return NULL;
}

TEST(producer_modes_and_pull_back) {
  ct_env_t env;
  tern_client_conf_t conf;
  tern_producer_t *p;
  tern_pull_consumer_t *pc;
  tern_send_result_t r, r_big, r_batch;
  tern_msg_t *m;
  tern_pull_result_t *res[256];
  int nres = 0, i;
  size_t total = 0;
  char big[10000];
  const char *utf8 = "héllo wörld — 日本語 ✓";
  const tern_rmsg_t *got;
  tern_str_t v;
  char sync_id[64];
  ASSERT_OK(ct_env_start(&env, 1, NULL));
  ASSERT_OK(ct_create_topic(&env, "TopicP", 4));
  ct_conf(&env, &conf, "pg_test");
  p = tern_producer_new(&conf);
  ASSERT(p != NULL);
  ASSERT_OK(tern_producer_start(p));

  /* sync with tags, keys, a user property and a non-ASCII body */
  m = tern_msg_new("TopicP", utf8, strlen(utf8));
  ASSERT_OK(tern_msg_set_tags(m, "TagA"));
  ASSERT_OK(tern_msg_set_keys(m, "k1 k2"));
  ASSERT_OK(tern_msg_put_property(m, "color", "blue"));
  ASSERT_EQ(tern_msg_put_property(m, "TAGS", "x"), TERN_EINVAL);
  ASSERT_OK(tern_producer_send(p, m, &r));
  ASSERT_EQ(r.status, TERN_SEND_OK);
  ASSERT_EQ(strlen(r.msg_id), 32);
  ASSERT_EQ(strlen(r.offset_msg_id), 32);
  ASSERT_STREQ(r.mq.topic, "TopicP");
  ASSERT_STREQ(r.mq.broker_name, "broker-a");
  snprintf(sync_id, sizeof sync_id, "%s", r.msg_id);
  tern_msg_free(m);

  /* async x100, oneway x10 */
  for (i = 0; i < 100; i++) {
    char b[32];
    snprintf(b, sizeof b, "async-%d", i);
    m = tern_msg_new("TopicP", b, strlen(b));
    ASSERT_OK(tern_producer_send_async(p, m, on_sent, NULL));
    tern_msg_free(m);
  }
  for (i = 0; i < 10; i++) {
    m = tern_msg_new("TopicP", "oneway", 6);
    ASSERT_OK(tern_producer_send_oneway(p, m));
    tern_msg_free(m);
  }
  for (i = 0; i < 500 && atomic_load(&async_done) < 100; i++) ct_sleep_ms(10);
  ASSERT_EQ(atomic_load(&async_ok), 100);

  /* compressed: 10000 bytes, compressible */
  for (i = 0; i < (int)sizeof big; i++) big[i] = (char)('a' + (i * 7) % 26);
  m = tern_msg_new("TopicP", big, sizeof big);
  tern_msg_set_tags(m, "Big");
  ASSERT_OK(tern_producer_send(p, m, &r_big));
  tern_msg_free(m);

  /* batch of 5 */
  {
    tern_msg_t *bm[5];
    for (i = 0; i < 5; i++) {
      char b[16];
      snprintf(b, sizeof b, "batch-%d", i);
      bm[i] = tern_msg_new("TopicP", b, strlen(b));
      tern_msg_set_tags(bm[i], "TagB");
    }
    ASSERT_OK(tern_producer_send_batch(p, (const tern_msg_t *const *)bm, 5, &r_batch));
    for (i = 0; i < 5; i++) tern_msg_free(bm[i]);
  }

  /* ordered: every message with the same key lands on the same queue */
  {
    int q = -1;
    for (i = 0; i < 10; i++) {
      m = tern_msg_new("TopicP", "ordered", 7);
      ASSERT_OK(tern_producer_send_select(p, m, tern_select_by_key, "order-key-1", &r));
      tern_msg_free(m);
      if (q < 0) q = r.mq.queue_id;
      ASSERT_EQ(r.mq.queue_id, q);
    }
  }

  /* a topic nobody created: routed through TBW102, created by the broker */
  m = tern_msg_new("AutoTopicX", "auto", 4);
  ASSERT_OK(tern_producer_send(p, m, &r));
  tern_msg_free(m);
  /* invalid input */
  m = tern_msg_new("bad topic!", "x", 1);
  ASSERT_EQ(tern_producer_send(p, m, &r), TERN_EINVAL);
  tern_msg_free(m);

  ct_sleep_ms(300); /* oneway sends have no reply to wait for */
  pc = tern_pull_consumer_new(&conf);
  conf.group = "cg_pull";
  tern_pull_consumer_t *pc2 = tern_pull_consumer_new(&conf);
  ASSERT(pc && pc2);
  ASSERT_OK(tern_pull_consumer_start(pc));
  ASSERT_OK(tern_pull_consumer_start(pc2));
  ASSERT_EQ(pull_all(pc2, "TopicP", "*", res, &nres, &total), 4);
  ASSERT_EQ(total, 1 + 100 + 10 + 1 + 5 + 10);
  got = find_msg(res, nres, sync_id);
  ASSERT(got != NULL);
  ASSERT(got->body.n == strlen(utf8) && memcmp(got->body.p, utf8, got->body.n) == 0);
  ASSERT(tern_str_eq_cstr(got->tags, "TagA"));
  ASSERT(tern_str_eq_cstr(got->keys, "k1 k2"));
  ASSERT_OK(tern_rmsg_property(got, "color", &v));
  ASSERT(tern_str_eq_cstr(v, "blue"));
  ASSERT_STREQ(got->broker_name, "broker-a");
  got = find_msg(res, nres, r_big.msg_id);
  ASSERT(got != NULL);
  ASSERT(got->sys_flag & TERN_SYSFLAG_COMPRESSED);
  ASSERT(got->body.n == sizeof big && memcmp(got->body.p, big, sizeof big) == 0);
  ASSERT(find_msg(res, nres, r_batch.msg_id) != NULL);
  for (i = 0; i < nres; i++) tern_pull_result_free(res[i]);

  /* tag filter: only TagB (the batch) */
  ASSERT_EQ(pull_all(pc2, "TopicP", "TagB || Nope", res, &nres, &total), 4);
  ASSERT_EQ(total, 5);
  for (i = 0; i < nres; i++) tern_pull_result_free(res[i]);

  /* offsets in the broker */
  {
    tern_mq_t mq;
    int64_t off = -1, maxo = -1;
    memset(&mq, 0, sizeof mq);
    snprintf(mq.topic, sizeof mq.topic, "TopicP");
    snprintf(mq.broker_name, sizeof mq.broker_name, "broker-a");
    mq.queue_id = 1;
    ASSERT_OK(tern_pull_consumer_max_offset(pc2, &mq, &maxo));
    ASSERT(maxo > 0);
    ASSERT_OK(tern_pull_consumer_update_offset(pc2, &mq, maxo - 1));
    ASSERT_OK(tern_pull_consumer_commit(pc2));
    ASSERT_OK(tern_pull_consumer_fetch_offset(pc2, &mq, &off));
    ASSERT_EQ(off, maxo - 1);
  }
  tern_pull_consumer_shutdown(pc);
  tern_pull_consumer_shutdown(pc2);
  tern_producer_shutdown(p, 3000);
  ct_env_stop(&env);
}
