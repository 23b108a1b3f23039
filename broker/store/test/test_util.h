/* Helpers shared by the store tests: scratch directories, a small-file
 * configuration, message builders, an injectable clock and disk probe, and a
 * log capture to check that corruption is reported with file and offset. */
#ifndef TERN_STORE_TEST_UTIL_H
#define TERN_STORE_TEST_UTIL_H

#include "broker/store/store.h"

extern _Atomic int64_t tst_clock_ms; /* 0: real time; read by store threads too */
extern _Atomic double tst_disk_ratio;    /* < 0: real statvfs */

char *tst_tmpdir(const char *tag);       /* malloc'd fresh directory */
void tst_rmrf(const char *path);
/* Small files: 64 KiB commit-log files, 100-entry consume-queue files,
 * 64-slot / 256-entry index files; hooks wired to the globals above. */
void tst_config(tern_store_config_t *c, const char *root);
/* A message with IPv4 hosts; props may be NULL. */
tern_store_msg_t tst_msg(const char *topic, int32_t qid, const char *body, const char *props);
void tst_log_clear(void);
bool tst_log_contains(const char *needle);
const char *tst_log_text(void);
/* Writes `n` bytes of random-ish data to path at offset (for corruption). */
int tst_poke(const char *path, long off, const void *bytes, size_t n);
char *tst_path(const char *a, const char *b); /* static buffer rotation not used: malloc'd */

#endif
