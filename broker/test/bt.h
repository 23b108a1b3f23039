/* Request helpers for the broker tests: build requests with the generated
 * header codecs and send them through the runtime's blocking client. The
 * servers are started with runtime/test/proc_fixture.h (tern_fixture_*); the
 * bt_broker_* / bt_rss_kb / bt_now_ms names below are the old ones, kept only
 * for code not yet moved to it (bench/broker/bench_broker.c,
 * test_broker_sql92.c). New code: call tern_fixture_* directly. */
#ifndef TERN_BROKER_TEST_BT_H
#define TERN_BROKER_TEST_BT_H

#include <sys/types.h>

#include "gen/codes.h"
#include "gen/message.h"
#include "gen/rpc.h"
#include "proc_fixture.h"
#include "runtime/pool.h"

typedef tern_fixture_proc_t bt_broker_t;

static inline const char *bt_broker_binary(void) { return tern_fixture_binary(TERN_FIXTURE_BROKER); }
static inline int bt_broker_start(bt_broker_t *p, const char *dir, int ns_port, const char *extra_conf) {
  return tern_fixture_broker_start(p, dir, ns_port, extra_conf);
}
static inline int bt_broker_stop(bt_broker_t *p, int keep_dir) { return tern_fixture_stop(p, keep_dir); }
static inline long bt_rss_kb(pid_t pid) { return tern_fixture_rss_kb(pid); }
static inline double bt_now_ms(void) { return tern_fixture_now_ms(); }

typedef struct bt_client {
  tern_sync_client_t sc;
  tern_arena_t arena; /* responses, reset by each call */
} bt_client_t;

int bt_open(bt_client_t *c, int port);
void bt_close(bt_client_t *c);
/* Sends req (any code), waits up to timeout_ms; *resp valid until the next call. */
int bt_call(bt_client_t *c, tern_cmd_t *req, tern_cmd_t *resp, uint32_t timeout_ms);

/* SEND_MESSAGE (code 10, V1 header) or SEND_MESSAGE_V2 / SEND_BATCH_MESSAGE (V2 header). */
int bt_send(bt_client_t *c, int32_t code, const char *topic, int32_t qid, tern_str_t body, tern_str_t props, bool batch,
            tern_cmd_t *resp);
/* PULL_MESSAGE with the given sysFlag; sub may be NULL. */
int bt_pull(bt_client_t *c, const char *group, const char *topic, int32_t qid, int64_t offset, int32_t max,
            int32_t sys_flag, int64_t suspend_ms, const char *sub, tern_cmd_t *resp, uint32_t timeout_ms);
/* A pull with a header the test filled (commitOffset, expressionType, ...). */
int bt_pull_h(bt_client_t *c, const tern_hdr_pull_message_request_t *h, tern_cmd_t *resp, uint32_t timeout_ms);
/* The pull response header's fields (0 on success). */
int bt_pull_hdr(const tern_cmd_t *resp, tern_hdr_pull_message_response_t *h);
/* The value of an extFields key as int64 (INT64_MIN when absent). */
int64_t bt_ext_i64(const tern_cmd_t *resp, const char *key);

#endif
