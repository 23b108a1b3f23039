/* Quick start: oneway sends (no reply, no retry), e.g. for logs (RocketMQ's
 * OnewayProducer). usage: oneway_producer [namesrv] [topic] [count] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tern/producer.h"

int main(int argc, char **argv) {
  tern_client_conf_t conf;
  tern_producer_t *p;
  int i, n = argc > 3 ? atoi(argv[3]) : 100;
  tern_client_conf_default(&conf);
  conf.namesrv_addr = argc > 1 ? argv[1] : "127.0.0.1:9876";
  conf.group = "please_rename_unique_group_name";
  p = tern_producer_new(&conf);
  if (!p || tern_producer_start(p) != 0) return fprintf(stderr, "cannot start the producer\n"), 1;
  for (i = 0; i < n; i++) {
    tern_msg_t *m = tern_msg_new(argc > 2 ? argv[2] : "TopicTest", "Hello RocketMQ", 14);
    tern_producer_send_oneway(p, m);             /* queued for the I/O thread; nothing comes back */
    tern_msg_free(m);
  }
  tern_producer_shutdown(p, 3000);               /* lets the queued sends go out */
  return 0;
}
