/* Quick start: send messages synchronously (RocketMQ's SyncProducer).
 * usage: sync_producer [namesrv] [topic] [count] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tern/producer.h"

int main(int argc, char **argv) {
  tern_client_conf_t conf;
  tern_producer_t *p;
  int i, n = argc > 3 ? atoi(argv[3]) : 10;
  const char *topic = argc > 2 ? argv[2] : "TopicTest";

  tern_client_conf_default(&conf);             /* Java's defaults: 3 s timeout, 2 retries, ... */
  conf.namesrv_addr = argc > 1 ? argv[1] : "127.0.0.1:9876";
  conf.group = "please_rename_unique_group_name";
  p = tern_producer_new(&conf);
  if (!p || tern_producer_start(p) != 0) return fprintf(stderr, "cannot start the producer\n"), 1;

  for (i = 0; i < n; i++) {
    char body[64];
    tern_send_result_t r;
    tern_msg_t *m;
    snprintf(body, sizeof body, "Hello RocketMQ %d", i);
    m = tern_msg_new(topic, body, strlen(body));
    tern_msg_set_tags(m, "TagA");                /* consumers can filter on the tag */
    if (tern_producer_send(p, m, &r) == 0)       /* blocks until the broker stored it (or all retries failed) */
      printf("SEND_OK msgId=%s queue=%s/%d offset=%lld\n", r.msg_id, r.mq.broker_name, r.mq.queue_id,
             (long long)r.queue_offset);
    else
      printf("send failed: code %d: %s\n", r.err.response_code, r.err.remark);
    tern_msg_free(m);                            /* the message is ours again once send returns */
  }
  tern_producer_shutdown(p, 3000);
  return 0;
}
