/* Crash-test child: appends messages with SYNC_FLUSH to the store named on
 * the command line and, after each one is durable, writes its sequence
 * number (8 bytes, native order) to stdout. Runs until SIGKILLed. Message
 * seq goes to queue seq % 4 and so must get queue offset seq / 4. With
 * "burst" as second argument it waits for the disk only every 1024th message,
 * so most kills land in the middle of an append (torn records). */
#include <stdlib.h>
#include <unistd.h>

#include "crash_common.h"

int main(int argc, char **argv) {
  if (argc != 2 && argc != 3) return 2;
  bool burst = argc == 3 && !strcmp(argv[2], "burst");
  tern_store_config_t cfg;
  crash_config(&cfg, argv[1]);
  tern_store_t *s = NULL;
  tern_err_t err = {0};
  if (tern_store_open(&cfg, &s, &err) != 0) {
    fprintf(stderr, "crash child: open failed: %s\n", err.reason);
    return 1;
  }
  long long seq = 0;
  for (int q = 0; q < CRASH_QUEUES; q++) seq += tern_store_get_max_offset(s, TERN_STR(CRASH_TOPIC), q);
  static char body[1024];
  for (;; seq++) {
    size_t n = crash_body(seq, body, sizeof body);
    char props[64];
    snprintf(props, sizeof props, "KEYS\001k%lld\002", seq);
    tern_store_msg_t m = tst_msg(CRASH_TOPIC, (int32_t)(seq % CRASH_QUEUES), "", props);
    m.body = (tern_str_t){body, n};
    tern_put_result_t pr;
    if (tern_store_put(s, &m, &pr) != 0) {
      fprintf(stderr, "crash child: put failed: %s\n", pr.reason);
      return 1;
    }
    if (burst && seq % 1024 != 1023) continue;
    tern_put_status_t st = tern_store_flush_block(s, pr.end_offset);
    if (st != TERN_PUT_OK) { /* stored but not acknowledged */
      fprintf(stderr, "crash child: message %lld: %s\n", seq, tern_put_status_name(st));
      continue;
    }
    if (write(1, &seq, sizeof seq) != (ssize_t)sizeof seq) return 1;
  }
}
