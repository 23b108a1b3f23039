/* Quick start: orderly consumption; each queue is locked in the broker and
 * consumed by one thread at a time, in order (RocketMQ's OrderedConsumer).
 * usage: orderly_consumer [namesrv] [topic] [seconds] */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tern/consumer.h"

static int on_msgs(void *arg, tern_rmsg_t *const *msgs, size_t n) {
  size_t i;
  (void)arg;
  for (i = 0; i < n; i++)
    printf("queue %d offset %lld keys %.*s: %.*s\n", msgs[i]->queue_id, (long long)msgs[i]->queue_offset,
           (int)msgs[i]->keys.n, msgs[i]->keys.p, (int)msgs[i]->body.n, msgs[i]->body.p);
  return TERN_ORDERLY_SUCCESS;                   /* TERN_ORDERLY_SUSPEND: the same messages again after 1 s */
}

int main(int argc, char **argv) {
  tern_client_conf_t conf;
  tern_push_consumer_t *c;
  tern_client_conf_default(&conf);
  conf.namesrv_addr = argc > 1 ? argv[1] : "127.0.0.1:9876";
  conf.group = "please_rename_unique_group_name_3";
  conf.consume_from_where = TERN_FROM_FIRST_OFFSET;
  c = tern_push_consumer_new(&conf);
  if (!c) return 1;
  tern_push_consumer_subscribe(c, argc > 2 ? argv[2] : "TopicTest", "TagA || TagC || TagD");
  tern_push_consumer_set_listener(c, on_msgs, NULL, true); /* true: orderly */
  if (tern_push_consumer_start(c) != 0) return fprintf(stderr, "cannot start the consumer\n"), 1;
  printf("Consumer Started.\n");
  sleep(argc > 3 ? (unsigned)atoi(argv[3]) : 30);
  tern_push_consumer_shutdown(c);                /* commits offsets, then unlocks the queues */
  return 0;
}
