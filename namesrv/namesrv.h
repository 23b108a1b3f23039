/* The name server as one object: its settings, route state, KV config and the
 * loop it serves on. processors.c answers requests against it; main.c builds
 * it from the command line and runs it. Loop-thread only. */
#ifndef TERN_NAMESRV_NAMESRV_H
#define TERN_NAMESRV_NAMESRV_H

#include "namesrv/conf.h"
#include "namesrv/kv.h"
#include "namesrv/kv_saver.h"
#include "namesrv/liveness.h"
#include "namesrv/routes.h"
#include "runtime/buf.h"
#include "runtime/conn.h"

#define TERN_NS_ORDER_TOPIC_CONFIG "ORDER_TOPIC_CONFIG"

typedef struct tern_namesrv {
  tern_namesrv_conf_t conf;
  tern_config_t *cfg; /* the config registry (GET/UPDATE_NAMESRV_CONFIG); may be NULL */
  tern_loop_t *loop;
  tern_ns_routes_t routes;
  tern_ns_kv_t kv;
  tern_ns_kv_saver_t kv_saver; /* writes kvConfig.json on its own thread */
  tern_buf_t out;     /* response bodies, reused */
  tern_arena_t arena; /* per-request decoding and response building, reset per request */
  uint8_t arena_block[16384]; /* the arena's first block: typical requests never malloc */
} tern_namesrv_t;

/* Sets up routes and KV (loads kvConfig.json; err says why on failure) and
 * starts the KV writer thread. The caller has filled ns->conf, cfg and loop. */
int tern_namesrv_init(tern_namesrv_t *ns, tern_err_t *err);
/* After the loop stopped serving and before it is closed: finishes pending
 * KV writes (their replies go out or fail on closed connections). */
void tern_namesrv_stop(tern_namesrv_t *ns);
void tern_namesrv_free(tern_namesrv_t *ns);

/* The request handler for every connection (runtime/conn.h tern_request_fn):
 * dispatches through the generated handler table. */
int tern_namesrv_handle(void *ctx, tern_conn_t *c, const tern_cmd_t *req, tern_err_t *err);
/* A connection closed: its brokers go at once (reference §8.1). */
void tern_namesrv_on_close(void *ctx, tern_conn_t *c);
/* One expiry scan at wall-clock time now_ms (the timer calls it every
 * scanNotActiveBrokerInterval); closes the connections of expired brokers. */
int tern_namesrv_scan(tern_namesrv_t *ns, int64_t now_ms);

#endif
