/* The network test fixture; see net_fixture.h. */
#include "net_fixture.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "gen/codes.h"
#include "runtime/conn_internal.h"

void fx_sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* ---- the server side (runs on the fixture thread) ---- */

typedef struct deferred {
  uv_timer_t timer;
  tern_conn_t *conn;
  tern_cmd_t req;
  tern_arena_t arena;
} deferred_t;

static void deferred_closed(uv_handle_t *h) {
  deferred_t *d = h->data;
  tern_arena_free(&d->arena);
  free(d);
}

static void echo_reply(tern_conn_t *c, const tern_cmd_t *req) {
  tern_cmd_t resp;
  const tern_str_t *k = tern_cmd_ext_get(req, "k");
  tern_cmd_init(&resp);
  resp.code = TERN_RESP_SUCCESS;
  resp.body = req->body;
  if (k) {
    resp.has_remark = true;
    resp.remark = *k;
  }
  tern_conn_reply(c, req, &resp);
}

static void on_deferred(uv_timer_t *t) {
  deferred_t *d = t->data;
  echo_reply(d->conn, &d->req); /* ECLOSED if the peer went away: fine */
  tern_conn_unref(d->conn);
  uv_close((uv_handle_t *)&d->timer, deferred_closed);
}

static uint8_t span_memory[64 << 10];

static void span_release(void *arg) {
  fx_server_t *fx = arg;
  atomic_fetch_add(&fx->spans_released, 1);
}

static void note_queued(fx_server_t *fx, tern_conn_t *c) {
  size_t q = tern_conn_queued(c), m = atomic_load(&fx->max_queued);
  while (q > m && !atomic_compare_exchange_weak(&fx->max_queued, &m, q)) {
  }
}

/* A server-to-client call (as a broker asks a producer CHECK_TRANSACTION_STATE)
 * whose answer completes the client's original request. */
typedef struct callback_call {
  tern_conn_t *conn;
  tern_cmd_t req;
  tern_arena_t arena;
} callback_call_t;

static void on_client_answer(void *arg, int status, const tern_cmd_t *answer) {
  callback_call_t *cc = arg;
  tern_cmd_t resp;
  tern_cmd_init(&resp);
  resp.code = status ? TERN_RESP_SYSTEM_ERROR : TERN_RESP_SUCCESS;
  if (!status) resp.body = answer->body;
  tern_conn_reply(cc->conn, &cc->req, &resp);
  tern_conn_unref(cc->conn);
  tern_arena_free(&cc->arena);
  free(cc);
}

static int fx_handle(void *ctx, tern_conn_t *c, const tern_cmd_t *req, tern_err_t *err) {
  fx_server_t *fx = ctx;
  atomic_fetch_add(&fx->requests, 1);
  switch (req->code) {
    case FX_ECHO:
      echo_reply(c, req);
      note_queued(fx, c);
      return 0;
    case FX_DEFER: {
      const tern_str_t *ds = tern_cmd_ext_get(req, "delay");
      int32_t ms = 0;
      deferred_t *d = calloc(1, sizeof *d);
      if (!d) return TERN_ENOMEM;
      if (ds) tern_str_to_i32(*ds, &ms);
      tern_arena_init(&d->arena, 0, NULL, 0);
      tern_cmd_copy(&d->req, req, &d->arena);
      d->conn = c;
      tern_conn_ref(c);
      uv_timer_init(tern_conn_loop(c)->uv, &d->timer);
      d->timer.data = d;
      uv_timer_start(&d->timer, on_deferred, (uint64_t)ms, 0);
      return 0;
    }
    case FX_SILENT:
      return 0;
    case FX_SPANS: {
      const tern_str_t *ns = tern_cmd_ext_get(req, "n");
      int32_t kib = 1;
      tern_span_t spans[64];
      size_t n = 0;
      tern_cmd_t resp;
      if (ns) tern_str_to_i32(*ns, &kib);
      if (kib < 1 || kib > 64 * 16) kib = 1;
      for (int32_t left = kib; left > 0 && n < 64; n++) {
        int32_t take = left > 64 ? 64 : left;
        spans[n].p = span_memory;
        spans[n].n = (size_t)take << 10;
        left -= take;
      }
      tern_cmd_init(&resp);
      resp.code = TERN_RESP_SUCCESS;
      tern_conn_reply_spans(c, req, &resp, spans, n, span_release, fx);
      note_queued(fx, c);
      return 0;
    }
    case FX_BAD_HEADER:
      return tern_fail(err, TERN_EMISSING, "required field missing", "topic", 0);
    case FX_CLOSE:
      tern_conn_close(c);
      return 0;
    case FX_BAD_REPLY: {
      tern_cmd_t resp;
      tern_cmd_init(&resp);
      resp.code = 100000;
      tern_conn_reply(c, req, &resp);
      return 0;
    }
    case FX_CALL_BACK: {
      callback_call_t *cc = calloc(1, sizeof *cc);
      tern_cmd_t ask;
      int rc;
      if (!cc) return TERN_ENOMEM;
      tern_arena_init(&cc->arena, 0, NULL, 0);
      tern_cmd_copy(&cc->req, req, &cc->arena);
      cc->conn = c;
      tern_conn_ref(c);
      tern_cmd_init(&ask);
      ask.code = FX_CLIENT_CODE;
      ask.body = req->body;
      rc = tern_conn_request(c, &ask, 2000, on_client_answer, cc);
      if (rc) {
        tern_conn_unref(c);
        tern_arena_free(&cc->arena);
        free(cc);
      }
      return rc;
    }
  }
  return TERN_ENOTFOUND;
}

static void on_conn_close(void *ctx, tern_conn_t *c) {
  fx_server_t *fx = ctx;
  (void)c;
  atomic_fetch_add(&fx->conns_closed, 1);
}

static void on_server_closed(tern_server_t *s) {
  fx_server_t *fx = s->data;
  atomic_store(&fx->server_closed, 1);
  tern_loop_signals_off(&fx->loop);
}

static void on_signal(tern_loop_t *l, int signum, void *arg) {
  fx_server_t *fx = arg;
  (void)l;
  (void)signum;
  tern_server_close(&fx->server, on_server_closed);
}

static void on_stop_post(tern_post_t *p) {
  fx_server_t *fx = (fx_server_t *)((char *)p - offsetof(fx_server_t, stop_post));
  tern_server_close(&fx->server, on_server_closed);
}

static void *fx_thread(void *arg) {
  fx_server_t *fx = arg;
  int rc = tern_loop_init(&fx->loop, NULL, &fx->opts);
  if (!rc) {
    tern_server_init(&fx->server, &fx->loop, fx_handle, fx);
    fx->server.data = fx;
    fx->server.on_conn_close = on_conn_close;
    fx->server.reuseport = fx->reuseport;
    rc = tern_server_listen(&fx->server, "127.0.0.1", fx->want_port);
    fx->server.reuseport = false;
    if (!rc) rc = tern_server_listen(&fx->server, "127.0.0.1", 0);
    if (!rc && fx->use_signals) rc = tern_loop_on_signals(&fx->loop, on_signal, fx);
    /* The post queue must keep the loop alive while idle: a ref'd dummy
     * handle is the server's listeners themselves. */
  }
  pthread_mutex_lock(&fx->mu);
  fx->port = rc ? -1 : tern_server_port(&fx->server, 0);
  fx->port2 = rc ? -1 : tern_server_port(&fx->server, 1);
  fx->ready = true;
  pthread_cond_broadcast(&fx->cv);
  pthread_mutex_unlock(&fx->mu);
  if (rc) return NULL;
  tern_loop_run(&fx->loop);
  tern_loop_close(&fx->loop);
  fx->exit_code = atomic_load(&fx->server_closed) ? 0 : 1;
  return NULL;
}

static void fx_launch(fx_server_t *fx);

void fx_start(fx_server_t *fx, const tern_net_opts_t *opts, bool use_signals) {
  memset(fx, 0, sizeof *fx);
  if (opts) fx->opts = *opts;
  else tern_net_opts_default(&fx->opts);
  fx->use_signals = use_signals;
  fx_launch(fx);
}

void fx_start_shared(fx_server_t *fx, int port) {
  memset(fx, 0, sizeof *fx);
  tern_net_opts_default(&fx->opts);
  fx->reuseport = true;
  fx->want_port = port;
  fx_launch(fx);
}

static void fx_launch(fx_server_t *fx) {
  fx->exit_code = -1;
  pthread_mutex_init(&fx->mu, NULL);
  pthread_cond_init(&fx->cv, NULL);
  pthread_create(&fx->thread, NULL, fx_thread, fx);
  pthread_mutex_lock(&fx->mu);
  while (!fx->ready) pthread_cond_wait(&fx->cv, &fx->mu);
  pthread_mutex_unlock(&fx->mu);
}

void fx_join(fx_server_t *fx) {
  pthread_join(fx->thread, NULL);
  pthread_mutex_destroy(&fx->mu);
  pthread_cond_destroy(&fx->cv);
}

void fx_stop(fx_server_t *fx) {
  tern_loop_post(&fx->loop, &fx->stop_post, on_stop_post);
  fx_join(fx);
}

typedef struct measure {
  tern_post_t post;
  fx_server_t *fx;
  size_t max_rcap;
  bool done;
} measure_t;

static void measure_on_loop(tern_post_t *p) {
  measure_t *m = (measure_t *)p;
  size_t mx = 0;
  for (tern_conn_t *c = m->fx->server.conns; c; c = c->onext)
    if (c->rcap > mx) mx = c->rcap;
  pthread_mutex_lock(&m->fx->mu);
  m->max_rcap = mx;
  m->done = true;
  pthread_cond_broadcast(&m->fx->cv);
  pthread_mutex_unlock(&m->fx->mu);
}

size_t fx_max_read_buffer(fx_server_t *fx) {
  measure_t m = {.fx = fx};
  tern_loop_post(&fx->loop, &m.post, measure_on_loop);
  pthread_mutex_lock(&fx->mu);
  while (!m.done) pthread_cond_wait(&fx->cv, &fx->mu);
  pthread_mutex_unlock(&fx->mu);
  return m.max_rcap;
}

/* ---- the raw client side ---- */

int fx_connect(int port) {
  struct sockaddr_in sa;
  int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa)) {
    close(fd);
    return -1;
  }
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

int fx_send_all(int fd, const void *p, size_t n) {
  const uint8_t *b = p;
  while (n) {
    ssize_t k = send(fd, b, n, MSG_NOSIGNAL);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return -1;
    b += k;
    n -= (size_t)k;
  }
  return 0;
}

/* Reads exactly n bytes; 1 ok, 0 EOF, -1 error or timeout. */
static int read_exact(int fd, uint8_t *p, size_t n, int timeout_ms) {
  while (n) {
    struct pollfd pf = {fd, POLLIN, 0};
    ssize_t k;
    int r = poll(&pf, 1, timeout_ms);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    k = recv(fd, p, n, 0);
    if (k < 0 && errno == EINTR) continue;
    if (k == 0) return 0;
    if (k < 0) return -1;
    p += k;
    n -= (size_t)k;
  }
  return 1;
}

int fx_read_cmd(int fd, uint8_t *buf, size_t cap, tern_cmd_t *cmd, tern_arena_t *scratch, int timeout_ms) {
  tern_frame_parser_t fp;
  tern_frame_t f;
  uint32_t len;
  int r = read_exact(fd, buf, 4, timeout_ms);
  if (r <= 0) return r;
  len = tern_load_be32(buf);
  if ((size_t)len + 4 > cap) return -1;
  if (read_exact(fd, buf + 4, len, timeout_ms) != 1) return -1;
  tern_frame_parser_init(&fp, 0);
  if (tern_frame_next(&fp, buf, len + 4, &f, NULL) != (int)(len + 4)) return -1;
  if (tern_cmd_decode(&f, cmd, scratch, NULL)) return -1;
  return (int)(len + 4);
}

bool fx_wait_eof(int fd, int timeout_ms) {
  uint8_t tmp[65536];
  for (;;) {
    struct pollfd pf = {fd, POLLIN, 0};
    ssize_t k;
    int r = poll(&pf, 1, timeout_ms);
    if (r <= 0) return false;
    k = recv(fd, tmp, sizeof tmp, 0);
    if (k == 0) return true;
    if (k < 0) return errno == ECONNRESET;
  }
}

void fx_encode(tern_buf_t *b, int32_t code, int32_t opaque, uint8_t ser, const char *body, int32_t flag,
               const char *k, const char *v) {
  tern_cmd_t cmd;
  tern_cmd_init(&cmd);
  cmd.code = code;
  cmd.opaque = opaque;
  cmd.version = 409;
  cmd.flag = flag;
  cmd.serialize_type = ser;
  if (body) cmd.body = tern_str_from_cstr(body);
  if (k) tern_cmd_ext_add(&cmd, tern_str_from_cstr(k), tern_str_from_cstr(v));
  tern_cmd_encode(&cmd, b);
}
