/* Quick start: a pull consumer that walks every queue of a topic from the
 * group's stored offset and stores its progress in the broker (RocketMQ's
 * PullConsumer). usage: pull_consumer [namesrv] [topic] */
#include <stdio.h>
#include <stdlib.h>

#include "tern/consumer.h"

int main(int argc, char **argv) {
  tern_client_conf_t conf;
  tern_pull_consumer_t *c;
  tern_mq_t *mqs = NULL;
  int n = 0, i;
  tern_client_conf_default(&conf);
  conf.namesrv_addr = argc > 1 ? argv[1] : "127.0.0.1:9876";
  conf.group = "please_rename_unique_group_name_5";
  c = tern_pull_consumer_new(&conf);
  if (!c || tern_pull_consumer_start(c) != 0) return fprintf(stderr, "cannot start the consumer\n"), 1;
  if (tern_pull_consumer_fetch_queues(c, argc > 2 ? argv[2] : "TopicTest", &mqs, &n) != 0)
    return fprintf(stderr, "no route for the topic\n"), 1;
  for (i = 0; i < n; i++) {
    int64_t off = 0;
    tern_pull_consumer_fetch_offset(c, &mqs[i], &off);  /* 0 when the group has none stored */
    for (;;) {
      tern_pull_result_t *r = NULL;
      size_t k;
      if (tern_pull_consumer_pull(c, &mqs[i], "*", off, 32, &r, NULL) != 0) break;
      for (k = 0; k < r->n; k++)
        printf("%s/%d@%lld %.*s\n", mqs[i].broker_name, mqs[i].queue_id, (long long)r->msgs[k]->queue_offset,
               (int)r->msgs[k]->body.n, r->msgs[k]->body.p);
      if (r->status != TERN_PULL_FOUND) {            /* NO_NEW_MSG: caught up */
        tern_pull_result_free(r);
        break;
      }
      off = r->next_begin_offset;
      tern_pull_consumer_update_offset(c, &mqs[i], off); /* stored every 5 s and at shutdown */
      tern_pull_result_free(r);
    }
  }
  free(mqs);
  tern_pull_consumer_shutdown(c);
  return 0;
}
