/* Push consumer against a real name server and broker: clustering with a tag
 * subscription and committed offsets; broadcasting delivering every message to
 * every instance with local offset files; orderly consumption keeping
 * per-key order while a second consumer joins and takes half the queues. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "ct_env.h"
#include "tern/consumer.h"
#include "tern/producer.h"
#include "tern_test.h"

#define NKEYS 8

typedef struct seen {
  pthread_mutex_t mu;
  int count, bad;
  char ids[2000][64]; /* msg ids: up to 56 hex chars (IPv6 store host) */
  int last_seq[NKEYS], per_key[NKEYS], order_errors;
  int by_consumer[2];
} seen_t;

static bool seen_add(seen_t *s, const char *id) {
  int i;
  for (i = 0; i < s->count; i++)
    if (strcmp(s->ids[i], id) == 0) return false;
  if (s->count < 2000) snprintf(s->ids[s->count++], sizeof s->ids[0], "%s", id);
  return true;
}

static int on_tag_a(void *arg, tern_rmsg_t *const *msgs, size_t n) {
  seen_t *s = arg;
  size_t i;
  pthread_mutex_lock(&s->mu);
  for (i = 0; i < n; i++) {
    if (!tern_str_eq_cstr(msgs[i]->tags, "TagA")) s->bad++;
    seen_add(s, msgs[i]->msg_id);
  }
  pthread_mutex_unlock(&s->mu);
  return TERN_CONSUME_SUCCESS;
}

static tern_producer_t *start_producer(const ct_env_t *env) {
  tern_client_conf_t conf;
  tern_producer_t *p;
  ct_conf(env, &conf, "pg_push");
  p = tern_producer_new(&conf);
  if (p && tern_producer_start(p) != 0) {
    tern_producer_shutdown(p, 0);
    return NULL;
  }
  return p;
}

static int wait_count(seen_t *s, int want, int ms) {
  int t, c = 0;
  for (t = 0; t < ms / 20; t++) {
    pthread_mutex_lock(&s->mu);
    c = s->count;
    pthread_mutex_unlock(&s->mu);
    if (c >= want) break;
    ct_sleep_ms(20);
  }
  return c;
}

TEST(clustering_tags_and_offsets) {
  ct_env_t env;
  tern_client_conf_t conf;
  tern_producer_t *p;
  tern_push_consumer_t *c;
  tern_pull_consumer_t *pc;
  static seen_t s;
  int i, tag_a_in[4] = {0};
  memset(&s, 0, sizeof s);
  pthread_mutex_init(&s.mu, NULL);
  ASSERT_OK(ct_env_start(&env, 1, NULL));
  ASSERT_OK(ct_create_topic(&env, "TopicC", 4));
  p = start_producer(&env);
  ASSERT(p != NULL);
  ct_conf(&env, &conf, "cg_clu");
  conf.consume_threads = 4;
  conf.consume_from_where = TERN_FROM_FIRST_OFFSET;
  c = tern_push_consumer_new(&conf);
  ASSERT(c != NULL);
  ASSERT_OK(tern_push_consumer_subscribe(c, "TopicC", "TagA || TagC"));
  tern_push_consumer_set_listener(c, on_tag_a, &s, false);
  ASSERT_OK(tern_push_consumer_start(c));
  for (i = 0; i < 200; i++) {
    tern_send_result_t r;
    char b[32];
    tern_msg_t *m;
    snprintf(b, sizeof b, "m%d", i);
    m = tern_msg_new("TopicC", b, strlen(b));
    tern_msg_set_tags(m, i % 2 ? "TagB" : "TagA");
    ASSERT_OK(tern_producer_send(p, m, &r));
    if (i % 2 == 0 && r.mq.queue_id >= 0 && r.mq.queue_id < 4) tag_a_in[r.mq.queue_id]++;
    tern_msg_free(m);
  }
  ASSERT_EQ(wait_count(&s, 100, 20000), 100);
  ct_sleep_ms(300);
  pthread_mutex_lock(&s.mu);
  ASSERT_EQ(s.count, 100);
  ASSERT_EQ(s.bad, 0);
  pthread_mutex_unlock(&s.mu);
  tern_push_consumer_shutdown(c);
  /* every queue that delivered messages is committed up to its end */
  pc = tern_pull_consumer_new(&conf);
  ASSERT_OK(tern_pull_consumer_start(pc));
  {
    tern_mq_t *mqs;
    int n, k;
    int64_t sum_max = 0, sum_off = 0;
    ASSERT_OK(tern_pull_consumer_fetch_queues(pc, "TopicC", &mqs, &n));
    ASSERT_EQ(n, 4);
    for (k = 0; k < n; k++) {
      int64_t mx = 0, off = -1;
      ASSERT_OK(tern_pull_consumer_max_offset(pc, &mqs[k], &mx));
      ASSERT_OK(tern_pull_consumer_fetch_offset(pc, &mqs[k], &off));
      /* a queue that delivered TagA messages is committed to its end; one holding only TagB
       * advances only when a pull answers "no match" (a parked long poll is not woken by
       * non-matching messages, as in Java's broker) */
      if (tag_a_in[mqs[k].queue_id] > 0) ASSERT_EQ(off, mx);
      else ASSERT(off >= 0 && off <= mx);
      sum_max += mx;
      sum_off += off;
    }
    free(mqs);
    ASSERT_EQ(sum_max, 200);
    ASSERT(sum_off >= 100);
  }
  tern_pull_consumer_shutdown(pc);
  tern_producer_shutdown(p, 1000);
  ct_env_stop(&env);
}

typedef struct bc {
  seen_t s;
} bc_t;

static int on_any(void *arg, tern_rmsg_t *const *msgs, size_t n) {
  seen_t *s = arg;
  size_t i;
  pthread_mutex_lock(&s->mu);
  for (i = 0; i < n; i++) seen_add(s, msgs[i]->msg_id);
  pthread_mutex_unlock(&s->mu);
  return TERN_CONSUME_SUCCESS;
}

TEST(broadcasting_every_instance_gets_everything) {
  ct_env_t env;
  tern_client_conf_t conf;
  tern_producer_t *p;
  tern_push_consumer_t *c[2];
  static seen_t s[2];
  char dir[] = "/tmp/tern_bcast_XXXXXX";
  int i;
  ASSERT(mkdtemp(dir) != NULL);
  ASSERT_OK(ct_env_start(&env, 1, NULL));
  ASSERT_OK(ct_create_topic(&env, "TopicB", 4));
  p = start_producer(&env);
  ASSERT(p != NULL);
  for (i = 0; i < 2; i++) {
    memset(&s[i], 0, sizeof s[i]);
    pthread_mutex_init(&s[i].mu, NULL);
    ct_conf(&env, &conf, "cg_bcast");
    conf.message_model = TERN_BROADCASTING;
    conf.consume_from_where = TERN_FROM_FIRST_OFFSET;
    conf.offset_dir = dir;
    conf.instance_name = i ? "inst1" : "inst0";
    conf.consume_threads = 2;
    c[i] = tern_push_consumer_new(&conf);
    ASSERT(c[i] != NULL);
    ASSERT_OK(tern_push_consumer_subscribe(c[i], "TopicB", "*"));
    tern_push_consumer_set_listener(c[i], on_any, &s[i], false);
    ASSERT_OK(tern_push_consumer_start(c[i]));
  }
  for (i = 0; i < 60; i++) {
    tern_send_result_t r;
    tern_msg_t *m = tern_msg_new("TopicB", "bcast", 5);
    ASSERT_OK(tern_producer_send(p, m, &r));
    tern_msg_free(m);
  }
  ASSERT_EQ(wait_count(&s[0], 60, 20000), 60);
  ASSERT_EQ(wait_count(&s[1], 60, 20000), 60);
  for (i = 0; i < 2; i++) tern_push_consumer_shutdown(c[i]);
  /* each instance wrote its own offset file covering the 60 messages */
  {
    char path[256], buf[4096];
    FILE *f;
    size_t n;
    snprintf(path, sizeof path, "%s/inst0/cg_bcast/offsets.json", dir);
    f = fopen(path, "r");
    ASSERT(f != NULL);
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    ASSERT(strstr(buf, "\"offsetTable\"") != NULL);
    ASSERT(strstr(buf, "TopicB") != NULL);
  }
  {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ASSERT_OK(system(cmd));
  }
  tern_producer_shutdown(p, 1000);
  ct_env_stop(&env);
}

typedef struct ord {
  seen_t *s;
  int who;
} ord_t;

static int on_ordered(void *arg, tern_rmsg_t *const *msgs, size_t n) {
  ord_t *o = arg;
  seen_t *s = o->s;
  size_t i;
  for (i = 0; i < n; i++) {
    int key = -1, seq = -1;
    char b[64];
    snprintf(b, sizeof b, "%.*s", (int)msgs[i]->body.n, msgs[i]->body.p);
    if (sscanf(b, "k%d-s%d", &key, &seq) != 2 || key < 0 || key >= NKEYS) {
      s->bad++;
      continue;
    }
    pthread_mutex_lock(&s->mu);
    if (seq != s->last_seq[key] + 1) {
      if (seq <= s->last_seq[key]) s->order_errors++; /* went backwards or repeated */
      else s->order_errors++;                         /* skipped one */
    }
    if (seq > s->last_seq[key]) s->last_seq[key] = seq;
    s->per_key[key]++;
    s->count++;
    s->by_consumer[o->who]++;
    pthread_mutex_unlock(&s->mu);
  }
  ct_sleep_ms(2);
  return TERN_ORDERLY_SUCCESS;
}

static void send_ordered(tern_producer_t *p, int from, int to) {
  int i, k;
  for (i = from; i < to; i++)
    for (k = 0; k < NKEYS; k++) {
      char b[32], key[16];
      tern_send_result_t r;
      tern_msg_t *m;
      snprintf(b, sizeof b, "k%d-s%d", k, i);
      snprintf(key, sizeof key, "key-%d", k);
      m = tern_msg_new("TopicO", b, strlen(b));
      if (tern_producer_send_select(p, m, tern_select_by_key, key, &r) != 0)
        fprintf(stderr, "ordered send failed: %s\n", r.err.remark);
      tern_msg_free(m);
    }
}

TEST(orderly_keeps_key_order_across_rebalance) {
  ct_env_t env;
  tern_client_conf_t conf;
  tern_producer_t *p;
  tern_push_consumer_t *a, *b;
  static seen_t s;
  ord_t oa = {&s, 0}, ob = {&s, 1};
  tern_mq_t *mqs;
  int n_a = 0, n_b = 0, k, total = 60;
  memset(&s, 0, sizeof s);
  pthread_mutex_init(&s.mu, NULL);
  for (k = 0; k < NKEYS; k++) s.last_seq[k] = -1;
  ASSERT_OK(ct_env_start(&env, 1, NULL));
  ASSERT_OK(ct_create_topic(&env, "TopicO", 4));
  p = start_producer(&env);
  ASSERT(p != NULL);
  ct_conf(&env, &conf, "cg_order");
  conf.consume_threads = 4;
  conf.consume_from_where = TERN_FROM_FIRST_OFFSET;
  conf.instance_name = "orderA";
  a = tern_push_consumer_new(&conf);
  ASSERT_OK(tern_push_consumer_subscribe(a, "TopicO", "*"));
  tern_push_consumer_set_listener(a, on_ordered, &oa, true);
  ASSERT_OK(tern_push_consumer_start(a));
  send_ordered(p, 0, total / 2);
  wait_count(&s, 40, 10000);
  conf.instance_name = "orderB";
  b = tern_push_consumer_new(&conf);
  ASSERT_OK(tern_push_consumer_subscribe(b, "TopicO", "*"));
  tern_push_consumer_set_listener(b, on_ordered, &ob, true);
  ASSERT_OK(tern_push_consumer_start(b));
  send_ordered(p, total / 2, total);
  ASSERT_EQ(wait_count(&s, total * NKEYS, 60000), total * NKEYS);
  /* both hold queues now */
  ASSERT_OK(tern_push_consumer_assigned(a, &mqs, &n_a));
  free(mqs);
  ASSERT_OK(tern_push_consumer_assigned(b, &mqs, &n_b));
  free(mqs);
  ct_sleep_ms(300);
  pthread_mutex_lock(&s.mu);
  ASSERT_EQ(s.bad, 0);
  ASSERT_EQ(s.order_errors, 0);
  ASSERT_EQ(s.count, total * NKEYS);
  for (k = 0; k < NKEYS; k++) ASSERT_EQ(s.last_seq[k], total - 1);
  ASSERT(s.by_consumer[1] > 0);
  pthread_mutex_unlock(&s.mu);
  ASSERT_EQ(n_a + n_b, 4);
  ASSERT(n_b > 0);
  tern_push_consumer_shutdown(b);
  tern_push_consumer_shutdown(a);
  tern_producer_shutdown(p, 1000);
  ct_env_stop(&env);
}

typedef struct later {
  pthread_mutex_t mu;
  int first, again, again_reconsume, total;
  char topic[64];
} later_t;

static int on_later(void *arg, tern_rmsg_t *const *msgs, size_t n) {
  later_t *l = arg;
  size_t i;
  int rc = TERN_CONSUME_SUCCESS;
  pthread_mutex_lock(&l->mu);
  for (i = 0; i < n; i++) {
    l->total++;
    if (tern_str_eq_cstr(msgs[i]->body, "fail-once")) {
      if (msgs[i]->reconsume_times == 0) {
        l->first++;
        rc = TERN_RECONSUME_LATER;
      } else {
        l->again++;
        l->again_reconsume = msgs[i]->reconsume_times;
        snprintf(l->topic, sizeof l->topic, "%.*s", (int)msgs[i]->topic.n, msgs[i]->topic.p);
      }
    }
  }
  pthread_mutex_unlock(&l->mu);
  return rc;
}

TEST(reconsume_later_comes_back_through_the_retry_topic) {
  ct_env_t env;
  tern_client_conf_t conf;
  tern_producer_t *p;
  tern_push_consumer_t *c;
  static later_t l;
  tern_send_result_t r;
  tern_msg_t *m;
  int t;
  memset(&l, 0, sizeof l);
  pthread_mutex_init(&l.mu, NULL);
  ASSERT_OK(ct_env_start(&env, 1, "messageDelayLevel=1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s\n"));
  ASSERT_OK(ct_create_topic(&env, "TopicL", 2));
  p = start_producer(&env);
  ASSERT(p != NULL);
  ct_conf(&env, &conf, "cg_later");
  conf.consume_from_where = TERN_FROM_FIRST_OFFSET;
  c = tern_push_consumer_new(&conf);
  ASSERT_OK(tern_push_consumer_subscribe(c, "TopicL", "*"));
  tern_push_consumer_set_listener(c, on_later, &l, false);
  ASSERT_OK(tern_push_consumer_start(c));
  m = tern_msg_new("TopicL", "fail-once", 9);
  ASSERT_OK(tern_producer_send(p, m, &r));
  tern_msg_free(m);
  for (t = 0; t < 1000; t++) {
    int a;
    pthread_mutex_lock(&l.mu);
    a = l.again;
    pthread_mutex_unlock(&l.mu);
    if (a) break;
    ct_sleep_ms(20);
  }
  tern_push_consumer_shutdown(c);
  ASSERT_EQ(l.first, 1);
  ASSERT_EQ(l.again, 1);
  ASSERT_EQ(l.again_reconsume, 1);
  ASSERT_STREQ(l.topic, "TopicL"); /* RETRY_TOPIC restored, as Java's resetRetryAndNamespace */
  tern_producer_shutdown(p, 1000);
  ct_env_stop(&env);
}

typedef struct gate {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  bool open;
  int consumed;
} gate_t;

static int on_gated(void *arg, tern_rmsg_t *const *msgs, size_t n) {
  gate_t *g = arg;
  TERN_UNUSED(msgs);
  pthread_mutex_lock(&g->mu);
  while (!g->open) pthread_cond_wait(&g->cv, &g->mu);
  g->consumed += (int)n;
  pthread_mutex_unlock(&g->mu);
  return TERN_CONSUME_SUCCESS;
}

TEST(flow_control_pauses_pulling) {
  ct_env_t env;
  tern_client_conf_t conf;
  tern_producer_t *p;
  tern_push_consumer_t *c;
  static gate_t g;
  tern_msg_t *bm[50];
  tern_send_result_t r;
  long cached = 0;
  int i, b, t;
  memset(&g, 0, sizeof g);
  pthread_mutex_init(&g.mu, NULL);
  pthread_cond_init(&g.cv, NULL);
  ASSERT_OK(ct_env_start(&env, 1, NULL));
  ASSERT_OK(ct_create_topic(&env, "TopicF", 1));
  p = start_producer(&env);
  ASSERT(p != NULL);
  for (b = 0; b < 10; b++) { /* 500 messages in one queue */
    for (i = 0; i < 50; i++) bm[i] = tern_msg_new("TopicF", "flow", 4);
    ASSERT_OK(tern_producer_send_batch(p, (const tern_msg_t *const *)bm, 50, &r));
    for (i = 0; i < 50; i++) tern_msg_free(bm[i]);
  }
  ct_conf(&env, &conf, "cg_flow");
  conf.consume_from_where = TERN_FROM_FIRST_OFFSET;
  conf.consume_threads = 1;
  conf.pull_threshold_queue = 20;
  conf.pull_batch = 32;
  c = tern_push_consumer_new(&conf);
  ASSERT_OK(tern_push_consumer_subscribe(c, "TopicF", "*"));
  tern_push_consumer_set_listener(c, on_gated, &g, false);
  ASSERT_OK(tern_push_consumer_start(c));
  for (t = 0; t < 200 && cached == 0; t++) {
    ct_sleep_ms(20);
    cached = tern_push_consumer_cached(c);
  }
  ct_sleep_ms(1000); /* long enough for many more pulls were pulling not paused */
  cached = tern_push_consumer_cached(c);
  ASSERT(cached > 0);
  ASSERT(cached <= 20 + 32); /* stopped once over the threshold: at most one pull beyond it */
  pthread_mutex_lock(&g.mu);
  g.open = true;
  pthread_cond_broadcast(&g.cv);
  pthread_mutex_unlock(&g.mu);
  for (t = 0; t < 1000; t++) {
    int n;
    pthread_mutex_lock(&g.mu);
    n = g.consumed;
    pthread_mutex_unlock(&g.mu);
    if (n >= 500) break;
    ct_sleep_ms(20);
  }
  ASSERT_EQ(g.consumed, 500);
  tern_push_consumer_shutdown(c);
  tern_producer_shutdown(p, 1000);
  ct_env_stop(&env);
}
