/* A remoting server: listens on one or more host:port pairs (the broker serves
 * listenPort and listenPort-2), accepts connections and hands every request to
 * one handler, typically a generated tern_<role>_dispatch. Closing it stops
 * accepting, lets in-flight replies drain (bounded by shutdown_grace_ms) and
 * then calls back. Loop-thread only. */
#ifndef TERN_RUNTIME_SERVER_H
#define TERN_RUNTIME_SERVER_H

#include "runtime/conn.h"

#define TERN_SERVER_MAX_LISTEN 4

typedef struct tern_server tern_server_t;
typedef void (*tern_server_close_fn)(tern_server_t *s);
typedef void (*tern_accept_fn)(void *ctx, tern_conn_t *c);
/* A pre-dispatch check (the broker's ACL): runs after the inspector and before
 * on_request for every request of an accepted connection. Return true to let
 * the request through; false when the guard answered it itself (e.g. with
 * tern_conn_reply_error; nothing for a oneway request) — on_request is then
 * not called. Loop thread. */
typedef bool (*tern_guard_fn)(void *ctx, tern_conn_t *c, const tern_cmd_t *req);

struct tern_server {
  tern_loop_t *loop;
  tern_request_fn on_request;
  void *ctx;
  tern_accept_fn on_accept;         /* optional: a connection was accepted (called with ctx) */
  tern_conn_close_fn on_conn_close; /* optional: an accepted connection closed (called with ctx,
                                       after its pending requests failed) */
  void *data;                       /* for the owner */
  tern_inspect_fn inspect;          /* optional, see tern_server_set_inspector */
  void *inspect_ctx;
  tern_guard_fn guard;              /* optional, see tern_server_set_guard */
  void *guard_ctx;
  bool reuseport; /* set before listening: several loops (threads) may listen on
                     the same port and the kernel spreads connections (SO_REUSEPORT) */
  /* private */
  uv_tcp_t listeners[TERN_SERVER_MAX_LISTEN];
  int ports[TERN_SERVER_MAX_LISTEN];
  int nlisten, listeners_open;
  tern_conn_t *conns;
  size_t nconns; /* accepted and not yet fully closed */
  bool closing;
  tern_server_close_fn close_cb;
};

/* on_request gets every request of every connection (ctx passed through). */
void tern_server_init(tern_server_t *s, tern_loop_t *l, tern_request_fn on_request, void *ctx);
/* Installs (fn NULL: removes) an inspector that sees every request of every
 * connection, current and future, before on_request. */
void tern_server_set_inspector(tern_server_t *s, tern_inspect_fn fn, void *ctx);
/* Installs (fn NULL: removes) a guard (above) for the connections accepted
 * after the call: install it before the loop runs to cover every connection. */
void tern_server_set_guard(tern_server_t *s, tern_guard_fn fn, void *ctx);
/* Listens on host ("0.0.0.0", "::", an address) and port (0: any free port). */
int tern_server_listen(tern_server_t *s, const char *host, int port);
/* The bound port of the i-th listen call. */
int tern_server_port(const tern_server_t *s, int i);
/* Accepted connections not yet fully closed. */
size_t tern_server_conn_count(const tern_server_t *s);
/* Graceful close; cb (may be NULL) runs once every listener and connection is closed. */
void tern_server_close(tern_server_t *s, tern_server_close_fn cb);

#endif
