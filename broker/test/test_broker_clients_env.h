/* Test environment of the client-management and admin tests: starts the real
 * mqnamesrv (listenPort=0) and mqbroker (a free listenPort / listenPort-2
 * picked here so a restart keeps it, cluster TernTestCluster, broker-t, 8 MiB
 * commit-log files, extra broker.conf lines from the test) in one temp
 * directory with runtime/test/proc_fixture.h, and talks to them through the
 * runtime's blocking client and the generated stubs (gen/rpc.h). A client may
 * also serve the requests the broker sends it (NOTIFY_CONSUMER_IDS_CHANGED):
 * they are recorded while the test pumps the client's loop. Header-only
 * (static functions) so each test binary stays one file plus this. */
#ifndef TERN_BROKER_TEST_CLIENTS_ENV_H
#define TERN_BROKER_TEST_CLIENTS_ENV_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gen/bodies.h"
#include "gen/codes.h"
#include "gen/rpc.h"
#include "proc_fixture.h"
#include "runtime/pool.h"
#include "tern_test.h"

static double env_now_ms(void) { return tern_fixture_now_ms(); }

/* ---- processes ---- */

typedef struct env {
  char dir[128];
  tern_fixture_proc_t ns, br;
  char ns_addr[64], br_addr[64];
  char broker_extra[1024];
} env_t;

static int env_start_namesrv(env_t *e) {
  if (tern_fixture_namesrv_start(&e->ns, e->dir, NULL)) return -1;
  snprintf(e->ns_addr, sizeof e->ns_addr, "127.0.0.1:%d", e->ns.port);
  return 0;
}

/* Starts (or restarts over the same store and port) the broker. */
static int env_start_broker(env_t *e) {
  char extra[1400];
  tern_fixture_opts_t o = {.kind = TERN_FIXTURE_BROKER, .dir = e->dir, .ns_port = e->ns.port,
                           .listen_port = e->br.port, .extra_conf = extra, .start_timeout_ms = 20000};
  if (o.listen_port <= 0 && (o.listen_port = tern_fixture_free_port_pair()) <= 0) return -1;
  snprintf(extra, sizeof extra,
           "brokerClusterName=TernTestCluster\nbrokerName=broker-t\nbrokerId=0\nmappedFileSizeCommitLog=8388608\n%s",
           e->broker_extra);
  if (tern_fixture_start(&e->br, &o)) return -1;
  snprintf(e->br_addr, sizeof e->br_addr, "127.0.0.1:%d", e->br.port);
  return 0;
}

__attribute__((unused)) static int env_start(env_t *e, const char *broker_extra) {
  memset(&e->ns, 0, sizeof e->ns);
  memset(&e->br, 0, sizeof e->br);
  snprintf(e->dir, sizeof e->dir, "/tmp/tern_bc_XXXXXX");
  if (!mkdtemp(e->dir)) return -1;
  snprintf(e->broker_extra, sizeof e->broker_extra, "%s", broker_extra ? broker_extra : "");
  if (env_start_namesrv(e)) return -1;
  return env_start_broker(e);
}

static void env_stop(env_t *e) {
  tern_fixture_signal(&e->br, SIGTERM, 10000);
  tern_fixture_signal(&e->ns, SIGTERM, 10000);
  if (e->dir[0]) {
    snprintf(e->ns.dir, sizeof e->ns.dir, "%s", e->dir);
    tern_fixture_rmdir(&e->ns);
    e->dir[0] = '\0';
  }
}

/* ---- clients ---- */

#define CLI_MAX_SEEN 64
typedef struct cli {
  tern_sync_client_t sc;
  tern_arena_t arena; /* responses, reset per call */
  /* requests the broker sent us */
  int n_seen;
  int32_t seen_code[CLI_MAX_SEEN], seen_flag[CLI_MAX_SEEN];
  char seen_group[CLI_MAX_SEEN][64];
  bool closed;
} cli_t;

static int cli_on_request(void *ctx, tern_conn_t *c, const tern_cmd_t *req, tern_err_t *err) {
  cli_t *cl = ctx;
  const tern_str_t *g = tern_cmd_ext_get(req, "consumerGroup");
  TERN_UNUSED(c);
  TERN_UNUSED(err);
  if (cl->n_seen < CLI_MAX_SEEN) {
    cl->seen_code[cl->n_seen] = req->code;
    cl->seen_flag[cl->n_seen] = req->flag;
    snprintf(cl->seen_group[cl->n_seen], sizeof cl->seen_group[0], "%.*s", g ? (int)g->n : 0, g ? g->p : "");
    cl->n_seen++;
  }
  return 0;
}

static void cli_on_close(void *ctx, tern_conn_t *c) {
  cli_t *cl = ctx;
  TERN_UNUSED(c);
  cl->closed = true;
}

static int cli_open(cli_t *cl, const char *addr) {
  int rc;
  memset(cl, 0, sizeof *cl);
  rc = tern_sync_open(&cl->sc, addr, NULL);
  if (rc) return rc;
  cl->sc.pool.on_request = cli_on_request;
  cl->sc.pool.ctx = cl;
  cl->sc.pool.on_conn_close = cli_on_close;
  tern_arena_init(&cl->arena, 0, NULL, 0);
  return 0;
}

static void cli_close(cli_t *cl) {
  tern_sync_close(&cl->sc);
  tern_arena_free(&cl->arena);
}

static tern_conn_t *cli_conn(cli_t *cl) {
  tern_conn_t *c = NULL;
  if (tern_pool_get(&cl->sc.pool, cl->sc.addr, &c)) return NULL;
  return c;
}

typedef struct cli_wait {
  bool done;
  int status;
  tern_cmd_t *resp;
  tern_arena_t *arena;
} cli_wait_t;

static void cli_on_resp(void *arg, int status, const tern_cmd_t *resp) {
  cli_wait_t *w = arg;
  w->done = true;
  w->status = status;
  if (status == 0 && tern_cmd_copy(w->resp, resp, w->arena)) w->status = TERN_ENOMEM;
}

/* Runs the client's loop until the stub call's response arrived. */
static int cli_wait(cli_t *cl, int rc, cli_wait_t *w) {
  if (rc) return rc;
  while (!w->done && uv_run(cl->sc.loop.uv, UV_RUN_ONCE)) {
  }
  return w->done ? w->status : TERN_EIO;
}

/* Lets the loop run for ms (to receive requests from the broker). */
__attribute__((unused)) static void cli_pump(cli_t *cl, int ms) {
  double end = env_now_ms() + ms;
  while (env_now_ms() < end) {
    uv_run(cl->sc.loop.uv, UV_RUN_NOWAIT);
    usleep(2000);
  }
}

/* Stub call helper: `CALL(cl, resp, tern_call_x(conn, h, body, 3000, cli_on_resp, &w))`. */
#define CALL(cl, resp, expr)                                                       \
  ({                                                                               \
    cli_wait_t w = {false, 0, (resp), &(cl)->arena};                               \
    tern_conn_t *conn = cli_conn(cl);                                              \
    conn ? cli_wait((cl), (expr), &w) : TERN_ECLOSED;                              \
  })

/* A raw request: code, ext pairs (NULL-terminated list), body. */
__attribute__((unused)) static int cli_raw(cli_t *cl, int32_t code, const char *const *kv, tern_str_t body, tern_cmd_t *resp) {
  tern_cmd_t req;
  tern_rpc_request_init(&req, code, body);
  for (int i = 0; kv && kv[i]; i += 2) tern_cmd_ext_add(&req, tern_str_from_cstr(kv[i]), tern_str_from_cstr(kv[i + 1]));
  return tern_sync_call(&cl->sc, &req, 5000, resp, &cl->arena);
}

__attribute__((unused)) static int cli_count_seen(const cli_t *cl, int32_t code, const char *group) {
  int n = 0;
  for (int i = 0; i < cl->n_seen; i++)
    if (cl->seen_code[i] == code && (!group || strcmp(cl->seen_group[i], group) == 0)) n++;
  return n;
}

/* Heartbeat body of a Java 4.9 push consumer of `group` subscribed to topic/tags, plus producer group. */
__attribute__((unused)) static void hb_body(char *dst, size_t cap, const char *client_id, const char *group, const char *topic,
                    const char *sub, const char *producer_group) {
  char cons[1024] = "", prod[256] = "";
  if (group)
    snprintf(cons, sizeof cons,
             "{\"consumeFromWhere\":\"CONSUME_FROM_LAST_OFFSET\",\"consumeType\":\"CONSUME_PASSIVELY\",\"groupName\":\"%s\","
             "\"messageModel\":\"CLUSTERING\",\"subscriptionDataSet\":[{\"classFilterMode\":false,\"codeSet\":[],"
             "\"expressionType\":\"TAG\",\"subString\":\"%s\",\"subVersion\":1700000000000,\"tagsSet\":[],\"topic\":\"%s\"},"
             "{\"classFilterMode\":false,\"codeSet\":[],\"expressionType\":\"TAG\",\"subString\":\"*\",\"subVersion\":1700000000001,"
             "\"tagsSet\":[],\"topic\":\"%%RETRY%%%s\"}],\"unitMode\":false}",
             group, sub ? sub : "*", topic ? topic : "TopicTest", group);
  if (producer_group) snprintf(prod, sizeof prod, "{\"groupName\":\"%s\"}", producer_group);
  snprintf(dst, cap, "{\"clientID\":\"%s\",\"consumerDataSet\":[%s],\"producerDataSet\":[%s]}", client_id, cons, prod);
}

__attribute__((unused)) static int cli_heartbeat(cli_t *cl, const char *body, tern_cmd_t *resp) {
  return CALL(cl, resp, tern_call_heart_beat(conn, NULL, tern_str_from_cstr(body), 3000, cli_on_resp, &w));
}

#endif
