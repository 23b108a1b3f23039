/* Quick start: send asynchronously; the callback runs on the producer's I/O
 * thread (RocketMQ's AsyncProducer). usage: async_producer [namesrv] [topic] [count] */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tern/producer.h"

static atomic_int done;

static void on_sent(void *arg, const tern_send_result_t *r) {
  int i = (int)(long)arg;
  if (r->err.error == 0) printf("%-3d OK %s\n", i, r->msg_id);
  else printf("%-3d failed: %s\n", i, r->err.remark);
  atomic_fetch_add(&done, 1);                    /* keep callbacks short: they run on the I/O thread */
}

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
    tern_msg_t *m = tern_msg_new(argc > 2 ? argv[2] : "TopicTest", "Hello world", 11);
    tern_msg_set_tags(m, "TagA");
    tern_msg_set_keys(m, "OrderID188");
    tern_producer_send_async(p, m, on_sent, (void *)(long)i); /* copies m; returns at once */
    tern_msg_free(m);
  }
  tern_producer_shutdown(p, 5000);               /* waits for the callbacks still to come */
  printf("%d callbacks\n", atomic_load(&done));
  return 0;
}
