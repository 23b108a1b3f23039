/* The outbound connection pool and the blocking client built on it. */
#include "runtime/pool.h"

#include <stdio.h>

#include "runtime/conn_internal.h"
#include "runtime/log.h"

void tern_pool_init(tern_pool_t *p, tern_loop_t *l, tern_request_fn on_request, void *ctx) {
  memset(p, 0, sizeof *p);
  p->loop = l;
  p->on_request = on_request;
  p->ctx = ctx;
}

static void maybe_closed(tern_pool_t *p) {
  if (p->closing && p->nconns == 0 && p->close_cb) {
    tern_pool_close_fn cb = p->close_cb;
    p->close_cb = NULL;
    cb(p);
  }
}

static void conn_detach(tern_conn_t *c) {
  tern_pool_t *p = c->owner;
  if (c->oprev) c->oprev->onext = c->onext;
  else p->conns = c->onext;
  if (c->onext) c->onext->oprev = c->oprev;
  c->onext = c->oprev = NULL;
}

static void conn_closed(tern_conn_t *c) {
  tern_pool_t *p = c->owner;
  if (p->on_conn_close) p->on_conn_close(p->ctx, c);
  p->nconns--;
  maybe_closed(p);
}

int tern_pool_get(tern_pool_t *p, const char *addr, tern_conn_t **out) {
  tern_conn_t *c;
  tern_loop_t *l = p->loop;
  uint32_t idle;
  int rc;
  struct sockaddr_storage ss;
  if (p->closing) return TERN_ECLOSED;
  for (c = p->conns; c; c = c->onext)
    if (strcmp(c->addr, addr) == 0) {
      *out = c;
      return 0;
    }
  if (strlen(addr) >= sizeof c->addr || tern_addr_parse(addr, &ss) == TERN_EINVAL) return TERN_EINVAL;
  idle = l->opts.idle_ms_override > 0 ? (uint32_t)l->opts.idle_ms_override
                                      : (l->opts.client_idle_s > 0 ? (uint32_t)l->opts.client_idle_s * 1000u : 0);
  c = tern_conn__new(l, true, idle);
  if (!c) return TERN_ENOMEM;
  c->owner = p;
  c->owner_detach = conn_detach;
  c->owner_closed = conn_closed;
  c->on_request = p->on_request;
  c->req_ctx = p->ctx;
  c->onext = p->conns;
  if (p->conns) p->conns->oprev = c;
  p->conns = c;
  p->nconns++;
  rc = tern_conn__connect(c, addr);
  if (rc) {
    tern_conn__close(c, "cannot start connecting");
    return rc;
  }
  *out = c;
  return 0;
}

int tern_pool_request(tern_pool_t *p, const char *addr, tern_cmd_t *req, uint32_t timeout_ms, tern_rpc_cb cb,
                      void *arg) {
  tern_conn_t *c;
  int rc = tern_pool_get(p, addr, &c);
  if (rc) return rc;
  return tern_conn_request(c, req, timeout_ms, cb, arg);
}

void tern_pool_close(tern_pool_t *p, tern_pool_close_fn cb) {
  p->closing = true;
  p->close_cb = cb;
  while (p->conns) tern_conn__close(p->conns, NULL); /* detaches itself */
  maybe_closed(p);
}

/* ---- blocking client ---- */

int tern_sync_open(tern_sync_client_t *sc, const char *addr, const tern_net_opts_t *opts) {
  struct sockaddr_storage ss;
  int rc;
  memset(sc, 0, sizeof *sc);
  if (strlen(addr) >= sizeof sc->addr || tern_addr_parse(addr, &ss) == TERN_EINVAL) return TERN_EINVAL;
  snprintf(sc->addr, sizeof sc->addr, "%s", addr);
  rc = tern_loop_init(&sc->loop, NULL, opts);
  if (rc) return rc;
  tern_pool_init(&sc->pool, &sc->loop, NULL, NULL);
  return 0;
}

typedef struct sync_wait {
  bool done;
  int status;
  tern_cmd_t *resp;
  tern_arena_t *arena;
} sync_wait_t;

static void on_sync_resp(void *arg, int status, const tern_cmd_t *resp) {
  sync_wait_t *w = arg;
  w->done = true;
  w->status = status;
  if (status == 0 && tern_cmd_copy(w->resp, resp, w->arena)) w->status = TERN_ENOMEM;
}

int tern_sync_call(tern_sync_client_t *sc, tern_cmd_t *req, uint32_t timeout_ms, tern_cmd_t *resp,
                   tern_arena_t *arena) {
  sync_wait_t w = {false, 0, resp, arena};
  tern_conn_t *c;
  int rc = tern_pool_get(&sc->pool, sc->addr, &c);
  if (rc) return rc;
  tern_conn_ref(c);
  rc = tern_conn_request(c, req, timeout_ms, on_sync_resp, &w);
  if (rc) {
    tern_conn_unref(c);
    return rc;
  }
  if (req->flag & TERN_FLAG_ONEWAY) {
    /* Output waiting for the loop pass's flush (which may write it at once,
     * leaving nothing to wake the loop): a non-blocking pass; a connect or a
     * write in flight: wait for it. */
    while (tern_conn_is_open(c) && (c->state == TERN_CONN_CONNECTING || tern_conn_queued(c)))
      uv_run(sc->loop.uv, c->state == TERN_CONN_CONNECTING || c->writing ? UV_RUN_ONCE : UV_RUN_NOWAIT);
    rc = tern_conn_is_open(c) ? 0 : TERN_ECLOSED;
    tern_conn_unref(c);
    return rc;
  }
  tern_conn_unref(c);
  while (!w.done && uv_run(sc->loop.uv, UV_RUN_ONCE)) {
  }
  if (!w.done) {
    /* The loop ran dry: only possible if the request vanished; fail safe. */
    return TERN_EIO;
  }
  return w.status;
}

void tern_sync_close(tern_sync_client_t *sc) {
  tern_pool_close(&sc->pool, NULL);
  tern_loop_close(&sc->loop);
}

int tern_rpc_sync(const char *addr, tern_cmd_t *req, uint32_t timeout_ms, tern_cmd_t *resp, tern_arena_t *arena) {
  tern_sync_client_t sc;
  int rc = tern_sync_open(&sc, addr, NULL);
  if (rc) return rc;
  rc = tern_sync_call(&sc, req, timeout_ms, resp, arena);
  tern_sync_close(&sc);
  return rc;
}
