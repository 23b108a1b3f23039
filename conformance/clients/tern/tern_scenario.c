/* The client-conformance scenario for Tern's own C client (tern_client),
 * driven by conformance/run-client: produce with tags and keys (sync, batch,
 * oneway), consume with a tag filter through the pull consumer, store offsets
 * and read them back from a second consumer instance (offset restart).
 * Name server from $TERN_NAMESRV_ADDR. Prints "SCENARIO <name> PASS|FAIL
 * <detail>" lines; exit 0 when all passed. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tern/consumer.h"
#include "tern/producer.h"

static int failures;

static void result(const char *name, bool ok, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void result(const char *name, bool ok, const char *fmt, ...) {
  char d[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(d, sizeof d, fmt, ap);
  va_end(ap);
  printf("SCENARIO %s %s %s\n", name, ok ? "PASS" : "FAIL", d);
  fflush(stdout);
  if (!ok) failures++;
}

#define N 20

int main(void) {
  const char *ns = getenv("TERN_NAMESRV_ADDR");
  char topic[64], group[64], pgroup[64];
  tern_client_conf_t conf;
  int sent = 0;
  if (!ns) {
    fprintf(stderr, "TERN_NAMESRV_ADDR is not set (run me through conformance/run-client)\n");
    return 2;
  }
  snprintf(topic, sizeof topic, "ConfTern_%d", (int)getpid());
  snprintf(group, sizeof group, "CG_ConfTern_%d", (int)getpid());
  snprintf(pgroup, sizeof pgroup, "PG_ConfTern_%d", (int)getpid());

  /* 1. produce with tags and keys */
  tern_client_conf_default(&conf);
  conf.namesrv_addr = ns;
  conf.group = pgroup;
  tern_producer_t *p = tern_producer_new(&conf);
  if (!p || tern_producer_start(p)) {
    result("produce_tags_keys", false, "producer did not start");
    return 1;
  }
  for (int i = 0; i < N; i++) {
    char body[32], key[32];
    tern_send_result_t r;
    snprintf(body, sizeof body, "msg-%d", i);
    snprintf(key, sizeof key, "key-%d", i);
    tern_msg_t *m = tern_msg_new(topic, body, strlen(body));
    tern_msg_set_tags(m, i % 2 ? "TagB" : "TagA");
    tern_msg_set_keys(m, key);
    if (tern_producer_send(p, m, &r) == 0 && r.err.error == 0 && r.status == TERN_SEND_OK) sent++;
    tern_msg_free(m);
  }
  result("produce_tags_keys", sent == N, "%d of %d sync sends OK", sent, N);

  tern_msg_t *batch[3];
  tern_send_result_t br;
  for (int i = 0; i < 3; i++) {
    batch[i] = tern_msg_new(topic, "batch", 5);
    tern_msg_set_tags(batch[i], "TagC");
  }
  int brc = tern_producer_send_batch(p, (const tern_msg_t *const *)batch, 3, &br);
  for (int i = 0; i < 3; i++) tern_msg_free(batch[i]);
  result("produce_batch", brc == 0 && br.err.error == 0, "batch of 3: rc %d, broker code %d", brc, br.err.response_code);
  tern_msg_t *ow = tern_msg_new(topic, "oneway", 6);
  tern_msg_set_tags(ow, "TagD");
  int orc = tern_producer_send_oneway(p, ow);
  tern_msg_free(ow);
  result("produce_oneway", orc == 0, "rc %d", orc);
  tern_producer_shutdown(p, 3000);

  /* 2. consume TagA through the pull consumer, commit offsets */
  tern_client_conf_default(&conf);
  conf.namesrv_addr = ns;
  conf.group = group;
  tern_pull_consumer_t *c = tern_pull_consumer_new(&conf);
  tern_mq_t *mqs = NULL;
  int nq = 0, tag_a = 0, other = 0;
  if (!c || tern_pull_consumer_start(c) || tern_pull_consumer_fetch_queues(c, topic, &mqs, &nq) || nq == 0) {
    result("consume_tag_filter", false, "pull consumer could not start or list %s's queues", topic);
    return 1;
  }
  for (int q = 0; q < nq; q++) {
    int64_t off = 0;
    for (int round = 0; round < 10; round++) {
      tern_pull_result_t *r = NULL;
      if (tern_pull_consumer_pull(c, &mqs[q], "TagA", off, 32, &r, NULL) != 0 || !r) break;
      for (size_t i = 0; i < r->n; i++) {
        if (tern_str_eq_cstr(r->msgs[i]->tags, "TagA")) tag_a++;
        else other++;
      }
      int st = r->status;
      off = r->next_begin_offset;
      tern_pull_result_free(r);
      if (st != TERN_PULL_FOUND) break;
    }
    tern_pull_consumer_update_offset(c, &mqs[q], off);
  }
  result("consume_tag_filter", tag_a == N / 2 && other == 0, "TagA messages %d (want %d), others %d (want 0)", tag_a,
         N / 2, other);
  int crc = tern_pull_consumer_commit(c);
  result("offset_commit", crc == 0, "commit rc %d", crc);
  tern_pull_consumer_shutdown(c);

  /* 3. a new instance of the group resumes from the stored offsets */
  tern_pull_consumer_t *c2 = tern_pull_consumer_new(&conf);
  int same = 0;
  if (c2 && tern_pull_consumer_start(c2) == 0) {
    for (int q = 0; q < nq; q++) {
      int64_t stored = -1, max = -2;
      if (tern_pull_consumer_fetch_offset(c2, &mqs[q], &stored) == 0 &&
          tern_pull_consumer_max_offset(c2, &mqs[q], &max) == 0 && stored == max)
        same++;
    }
    tern_pull_consumer_shutdown(c2);
  }
  result("offset_restart", same == nq, "%d of %d queues resume at their max offset", same, nq);
  free(mqs);
  return failures ? 1 : 0;
}
