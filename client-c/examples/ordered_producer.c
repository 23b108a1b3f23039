/* Quick start: ordered messages. Every message of one order goes to the same
 * queue (chosen by a selector from the order id), so an orderly consumer sees
 * them in order (RocketMQ's OrderedProducer). usage: ordered_producer [namesrv] [topic] */
#include <stdio.h>
#include <string.h>

#include "tern/producer.h"

int main(int argc, char **argv) {
  static const char *tags[] = {"TagA", "TagB", "TagC", "TagD", "TagE"};
  tern_client_conf_t conf;
  tern_producer_t *p;
  int i;
  tern_client_conf_default(&conf);
  conf.namesrv_addr = argc > 1 ? argv[1] : "127.0.0.1:9876";
  conf.group = "please_rename_unique_group_name";
  p = tern_producer_new(&conf);
  if (!p || tern_producer_start(p) != 0) return fprintf(stderr, "cannot start the producer\n"), 1;
  for (i = 0; i < 100; i++) {
    char body[64], order_id[16];
    tern_send_result_t r;
    tern_msg_t *m;
    snprintf(order_id, sizeof order_id, "%d", i % 10);
    snprintf(body, sizeof body, "Hello RocketMQ %d", i);
    m = tern_msg_new(argc > 2 ? argv[2] : "TopicTest", body, strlen(body));
    tern_msg_set_tags(m, tags[i % 5]);
    tern_msg_set_keys(m, order_id);
    /* tern_select_by_key: queue = hash(order id) mod number of queues */
    if (tern_producer_send_select(p, m, tern_select_by_key, order_id, &r) == 0)
      printf("order %s -> queue %d\n", order_id, r.mq.queue_id);
    tern_msg_free(m);
  }
  tern_producer_shutdown(p, 3000);
  return 0;
}
