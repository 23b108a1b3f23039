/* Listening sockets and accepted connections: accept, register the
 * connection in the server's list, and on close drain every connection before
 * reporting the server closed. */
#include "runtime/server.h"

#include <stdio.h>
#include <sys/socket.h>

#include "runtime/conn_internal.h"
#include "runtime/log.h"

void tern_server_init(tern_server_t *s, tern_loop_t *l, tern_request_fn on_request, void *ctx) {
  memset(s, 0, sizeof *s);
  s->loop = l;
  s->on_request = on_request;
  s->ctx = ctx;
}

void tern_server_set_inspector(tern_server_t *s, tern_inspect_fn fn, void *ctx) {
  s->inspect = fn;
  s->inspect_ctx = ctx;
  for (tern_conn_t *c = s->conns; c; c = c->onext) {
    c->inspect = fn;
    c->inspect_ctx = ctx;
  }
}

void tern_server_set_guard(tern_server_t *s, tern_guard_fn fn, void *ctx) {
  s->guard = fn;
  s->guard_ctx = ctx;
}

/* on_request of accepted connections while a guard is installed. */
static int guarded_request(void *ctx, tern_conn_t *c, const tern_cmd_t *req, tern_err_t *err) {
  tern_server_t *s = ctx;
  if (s->guard && !s->guard(s->guard_ctx, c, req)) return 0; /* answered (or dropped, oneway) by the guard */
  return s->on_request ? s->on_request(s->ctx, c, req, err) : TERN_ENOTFOUND;
}

static void maybe_closed(tern_server_t *s) {
  if (s->closing && s->listeners_open == 0 && s->nconns == 0 && s->close_cb) {
    tern_server_close_fn cb = s->close_cb;
    s->close_cb = NULL;
    cb(s);
  }
}

static void conn_detach(tern_conn_t *c) {
  tern_server_t *s = c->owner;
  if (c->oprev) c->oprev->onext = c->onext;
  else s->conns = c->onext;
  if (c->onext) c->onext->oprev = c->oprev;
  c->onext = c->oprev = NULL;
}

static void conn_closed(tern_conn_t *c) {
  tern_server_t *s = c->owner;
  if (s->on_conn_close) s->on_conn_close(s->ctx, c);
  s->nconns--;
  maybe_closed(s);
}

static uint32_t idle_ms(const tern_loop_t *l) {
  if (l->opts.idle_ms_override > 0) return (uint32_t)l->opts.idle_ms_override;
  return l->opts.server_idle_s > 0 ? (uint32_t)l->opts.server_idle_s * 1000u : 0;
}

static void on_connection(uv_stream_t *ls, int status) {
  tern_server_t *s = ls->data;
  tern_conn_t *c;
  if (status < 0) {
    tern_warn("accept failed: %s", uv_strerror(status));
    return;
  }
  if (s->closing) return;
  c = tern_conn__new(s->loop, false, idle_ms(s->loop));
  if (!c) {
    tern_error("accept: out of memory");
    return;
  }
  c->owner = s;
  c->owner_detach = conn_detach;
  c->owner_closed = conn_closed;
  c->on_request = s->guard ? guarded_request : s->on_request;
  c->req_ctx = s->guard ? (void *)s : s->ctx;
  c->inspect = s->inspect;
  c->inspect_ctx = s->inspect_ctx;
  c->onext = s->conns;
  if (s->conns) s->conns->oprev = c;
  s->conns = c;
  s->nconns++;
  if (uv_accept(ls, (uv_stream_t *)&c->tcp)) {
    tern_conn__close(c, "accept failed");
    return;
  }
  if (tern_conn__start(c)) return;
  tern_debug("accepted connection from %s", tern_conn_peer(c));
  if (s->on_accept) s->on_accept(s->ctx, c);
}

int tern_server_listen(tern_server_t *s, const char *host, int port) {
  struct sockaddr_storage ss;
  uv_tcp_t *t;
  int rc, i = s->nlisten, len = sizeof ss;
  if (i == TERN_SERVER_MAX_LISTEN || s->closing) return TERN_EINVAL;
  memset(&ss, 0, sizeof ss);
  if (uv_ip4_addr(host, port, (struct sockaddr_in *)&ss) && uv_ip6_addr(host, port, (struct sockaddr_in6 *)&ss))
    return TERN_EINVAL;
  t = &s->listeners[i];
  rc = uv_tcp_init_ex(s->loop->uv, t, ss.ss_family);
  if (rc) return TERN_EIO;
  t->data = s;
  s->nlisten++;
  s->listeners_open++;
  if (s->reuseport) {
    uv_os_fd_t fd;
    int one = 1;
    rc = uv_fileno((uv_handle_t *)t, &fd);
    if (!rc && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one)) rc = UV_EINVAL;
  }
  if (!rc) rc = uv_tcp_bind(t, (struct sockaddr *)&ss, 0);
  if (!rc) rc = uv_listen((uv_stream_t *)t, 1024, on_connection);
  if (rc) {
    tern_error("cannot listen on %s:%d: %s", host, port, uv_strerror(rc));
    return rc == UV_EADDRINUSE ? TERN_EEXIST : TERN_EIO;
  }
  uv_tcp_getsockname(t, (struct sockaddr *)&ss, &len);
  s->ports[i] = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                               : ((struct sockaddr_in *)&ss)->sin_port);
  tern_info("listening on %s:%d", host, s->ports[i]);
  return 0;
}

int tern_server_port(const tern_server_t *s, int i) { return i >= 0 && i < s->nlisten ? s->ports[i] : 0; }
size_t tern_server_conn_count(const tern_server_t *s) { return s->nconns; }

static void on_listener_closed(uv_handle_t *h) {
  tern_server_t *s = h->data;
  s->listeners_open--;
  maybe_closed(s);
}

void tern_server_close(tern_server_t *s, tern_server_close_fn cb) {
  tern_conn_t *c, *next;
  if (s->closing) return;
  s->closing = true;
  s->close_cb = cb;
  for (int i = 0; i < s->nlisten; i++) uv_close((uv_handle_t *)&s->listeners[i], on_listener_closed);
  for (c = s->conns; c; c = next) {
    next = c->onext; /* shutdown may detach c at once */
    tern_conn_shutdown(c);
  }
  maybe_closed(s);
}
