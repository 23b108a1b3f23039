/* Outbound connections by address ("host:port"): one connection per address,
 * opened on first use (requests queue while it connects, bounded by the
 * connect timeout), replaced after it closes. A pool also serves requests its
 * peers send back (a broker calling its clients). Plus a blocking client for
 * tools and tests that runs its own loop. */
#ifndef TERN_RUNTIME_POOL_H
#define TERN_RUNTIME_POOL_H

#include "runtime/conn.h"

typedef struct tern_pool tern_pool_t;
typedef void (*tern_pool_close_fn)(tern_pool_t *p);

struct tern_pool {
  tern_loop_t *loop;
  tern_request_fn on_request;       /* may be NULL: peers' requests get REQUEST_CODE_NOT_SUPPORTED */
  void *ctx;
  tern_conn_close_fn on_conn_close; /* optional */
  void *data;
  /* private */
  tern_conn_t *conns;
  size_t nconns;
  bool closing;
  tern_pool_close_fn close_cb;
};

void tern_pool_init(tern_pool_t *p, tern_loop_t *l, tern_request_fn on_request, void *ctx);
/* The open or connecting connection to addr ("ip:port", "[v6]:port" or
 * "name:port"), creating it if needed. TERN_EINVAL for a malformed address. */
int tern_pool_get(tern_pool_t *p, const char *addr, tern_conn_t **out);
/* tern_pool_get + tern_conn_request. */
int tern_pool_request(tern_pool_t *p, const char *addr, tern_cmd_t *req, uint32_t timeout_ms, tern_rpc_cb cb,
                      void *arg);
/* Closes every connection (pending requests fail with TERN_ECLOSED); cb when done. */
void tern_pool_close(tern_pool_t *p, tern_pool_close_fn cb);

/* Blocking client with its own loop on the calling thread. */
typedef struct tern_sync_client {
  tern_loop_t loop;
  tern_pool_t pool;
  char addr[96];
} tern_sync_client_t;

int tern_sync_open(tern_sync_client_t *sc, const char *addr, const tern_net_opts_t *opts);
/* Sends req and waits for its response, deep-copied into arena (resp valid
 * until the arena is reset). For a oneway req, returns once it is written.
 * TERN_ETIMEDOUT, TERN_ECLOSED, TERN_EINVAL as tern_conn_request. */
int tern_sync_call(tern_sync_client_t *sc, tern_cmd_t *req, uint32_t timeout_ms, tern_cmd_t *resp,
                   tern_arena_t *arena);
void tern_sync_close(tern_sync_client_t *sc);
/* One call on a fresh connection: open, call, close. */
int tern_rpc_sync(const char *addr, tern_cmd_t *req, uint32_t timeout_ms, tern_cmd_t *resp, tern_arena_t *arena);

#endif
