/* What the crash test's child writes and the parent checks: the store
 * configuration both use and the deterministic content of message `seq`. */
#ifndef TERN_STORE_CRASH_COMMON_H
#define TERN_STORE_CRASH_COMMON_H

#include <stdio.h>
#include <string.h>

#include "test_util.h"

#define CRASH_QUEUES 4
#define CRASH_TOPIC "Crash"

static inline void crash_config(tern_store_config_t *c, const char *dir) {
  tst_config(c, dir);
  c->mapped_file_size_commit_log = 256 * 1024;
  c->flush_disk_type = TERN_FLUSH_SYNC;
}

/* Body of message seq: "seq=<n>;" then bytes that depend on seq, 40..1000 long. */
static inline size_t crash_body(long long seq, char *out, size_t cap) {
  size_t len = 40 + (size_t)((seq * 7919) % 960);
  if (len > cap) len = cap;
  int h = snprintf(out, cap, "seq=%lld;", seq);
  for (size_t i = (size_t)h; i < len; i++) out[i] = (char)('A' + (seq * 31 + (long long)i) % 26);
  return len;
}

#endif
