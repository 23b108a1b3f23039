/* Requests from a client pool to a real loopback server: responses matched by
 * opaque when they come back out of order, timeouts that fire exactly once
 * with late responses dropped, oneway sends that get no reply, pending
 * requests failed when their connection closes, zero-copy replies, the
 * blocking client, and work posted to a loop from other threads. */
#include <netdb.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gen/codes.h"
#include "net_fixture.h"
#include "runtime/log.h"
#include "tern_test.h"

static void on_watchdog(uv_timer_t *t) { *(bool *)t->data = true; }

/* Runs the loop until *flag or timeout_ms; returns *flag. */
static bool run_until(tern_loop_t *l, const int *count, int want, int timeout_ms) {
  uv_timer_t t;
  bool expired = false;
  uv_timer_init(l->uv, &t);
  t.data = &expired;
  uv_timer_start(&t, on_watchdog, (uint64_t)timeout_ms, 0);
  while (*count < want && !expired) uv_run(l->uv, UV_RUN_ONCE);
  uv_close((uv_handle_t *)&t, NULL);
  uv_run(l->uv, UV_RUN_NOWAIT);
  return *count >= want;
}

static void run_for(tern_loop_t *l, int ms) {
  int never = 0;
  run_until(l, &never, 1, ms);
}

typedef struct call {
  const char *want_body;
  int calls, status, order;
  int *seq;
  int code;
  size_t body_len;
} call_t;

static void on_resp(void *arg, int status, const tern_cmd_t *resp) {
  call_t *c = arg;
  c->calls++;
  c->status = status;
  c->order = ++*c->seq;
  if (status == 0) {
    c->code = resp->code;
    c->body_len = resp->body.n;
    if (c->want_body && !tern_str_eq_cstr(resp->body, c->want_body)) c->status = -999;
  }
}

typedef struct client {
  tern_loop_t loop;
  tern_pool_t pool;
  char addr[32];
  int seq;
} client_t;

static void client_open(client_t *c, int port) {
  tern_loop_init(&c->loop, NULL, NULL);
  tern_pool_init(&c->pool, &c->loop, NULL, NULL);
  snprintf(c->addr, sizeof c->addr, "127.0.0.1:%d", port);
  c->seq = 0;
}

static void client_close(client_t *c) {
  tern_pool_close(&c->pool, NULL);
  tern_loop_close(&c->loop);
}

static int send_req(client_t *cl, int32_t code, const char *body, const char *k, const char *v, int32_t flag,
                    uint32_t timeout_ms, call_t *call) {
  tern_cmd_t req;
  tern_cmd_init(&req);
  req.code = code;
  req.flag = flag;
  if (body) req.body = tern_str_from_cstr(body);
  if (k) tern_cmd_ext_add(&req, tern_str_from_cstr(k), tern_str_from_cstr(v));
  if (call) call->seq = &cl->seq;
  return tern_pool_request(&cl->pool, cl->addr, &req, timeout_ms, on_resp, call);
}

static int total_calls(call_t *c, int n) {
  int s = 0;
  for (int i = 0; i < n; i++) s += c[i].calls;
  return s;
}

TEST(out_of_order_replies_are_matched_by_opaque) {
  fx_server_t fx;
  client_t cl;
  call_t c[4] = {{.want_body = "a"}, {.want_body = "b"}, {.want_body = "c"}, {.want_body = "d"}};
  int done = 0;
  fx_start(&fx, NULL, false);
  client_open(&cl, fx.port);
  ASSERT_OK(send_req(&cl, FX_DEFER, "a", "delay", "150", 0, 3000, &c[0]));
  ASSERT_OK(send_req(&cl, FX_DEFER, "b", "delay", "10", 0, 3000, &c[1]));
  ASSERT_OK(send_req(&cl, FX_DEFER, "c", "delay", "80", 0, 3000, &c[2]));
  ASSERT_OK(send_req(&cl, FX_ECHO, "d", NULL, NULL, 0, 3000, &c[3]));
  for (int i = 0; i < 100 && done < 4; i++) {
    run_for(&cl.loop, 20);
    done = total_calls(c, 4);
  }
  for (int i = 0; i < 4; i++) {
    ASSERT_EQ(c[i].calls, 1);
    ASSERT_EQ(c[i].status, 0);
  }
  ASSERT_EQ(c[3].order, 1);
  ASSERT_EQ(c[1].order, 2);
  ASSERT_EQ(c[2].order, 3);
  ASSERT_EQ(c[0].order, 4);
  client_close(&cl);
  fx_stop(&fx);
}

typedef struct {
  int unmatched;
} log_count_t;

static void count_unmatched(void *arg, tern_log_level_t lvl, const char *line) {
  (void)lvl;
  if (strstr(line, "matches no waiting request")) ((log_count_t *)arg)->unmatched++;
}

TEST(timeout_fires_once_and_late_response_is_dropped) {
  fx_server_t fx;
  client_t cl;
  call_t late = {0}, after = {.want_body = "next"};
  log_count_t lc = {0};
  uint64_t t0;
  fx_start(&fx, NULL, false);
  client_open(&cl, fx.port);
  tern_log_set_sink(count_unmatched, &lc);
  t0 = uv_hrtime();
  ASSERT_OK(send_req(&cl, FX_DEFER, "late", "delay", "300", 0, 60, &late));
  run_until(&cl.loop, &late.calls, 1, 2000);
  ASSERT_EQ(late.calls, 1);
  ASSERT_EQ(late.status, TERN_ETIMEDOUT);
  ASSERT((uv_hrtime() - t0) / 1000000 >= 55);
  ASSERT((uv_hrtime() - t0) / 1000000 < 290); /* well before the reply */
  run_for(&cl.loop, 400);                      /* the late reply arrives meanwhile */
  tern_log_set_sink(NULL, NULL);
  ASSERT_EQ(late.calls, 1);
  ASSERT_EQ(lc.unmatched, 1);
  /* the connection is still good */
  ASSERT_OK(send_req(&cl, FX_ECHO, "next", NULL, NULL, 0, 3000, &after));
  ASSERT(run_until(&cl.loop, &after.calls, 1, 3000));
  ASSERT_EQ(after.status, 0);
  client_close(&cl);
  fx_stop(&fx);
}

TEST(oneway_gets_no_reply) {
  fx_server_t fx;
  client_t cl;
  call_t c = {.want_body = "two"};
  log_count_t lc = {0};
  fx_start(&fx, NULL, false);
  client_open(&cl, fx.port);
  tern_log_set_sink(count_unmatched, &lc);
  ASSERT_OK(send_req(&cl, FX_ECHO, "one", NULL, NULL, TERN_FLAG_ONEWAY, 0, NULL));
  ASSERT_OK(send_req(&cl, 9999, NULL, NULL, NULL, TERN_FLAG_ONEWAY, 0, NULL)); /* not even an error reply */
  ASSERT_EQ(cl.loop.pending.count, 0);
  ASSERT_OK(send_req(&cl, FX_ECHO, "two", NULL, NULL, 0, 3000, &c));
  ASSERT(run_until(&cl.loop, &c.calls, 1, 3000));
  run_for(&cl.loop, 50);
  tern_log_set_sink(NULL, NULL);
  ASSERT_EQ(c.status, 0);
  ASSERT_EQ(atomic_load(&fx.requests), 3);
  ASSERT_EQ(lc.unmatched, 0);
  client_close(&cl);
  fx_stop(&fx);
}

TEST(closed_connection_fails_pending_requests) {
  fx_server_t fx;
  client_t cl;
  call_t silent = {0}, closer = {0}, again = {.want_body = "again"};
  tern_conn_t *conn;
  fx_start(&fx, NULL, false);
  client_open(&cl, fx.port);
  ASSERT_OK(tern_pool_get(&cl.pool, cl.addr, &conn));
  tern_conn_ref(conn);
  ASSERT_OK(send_req(&cl, FX_SILENT, NULL, NULL, NULL, 0, 10000, &silent));
  ASSERT_OK(send_req(&cl, FX_CLOSE, NULL, NULL, NULL, 0, 10000, &closer));
  ASSERT(run_until(&cl.loop, &silent.calls, 1, 3000));
  run_until(&cl.loop, &closer.calls, 1, 1000);
  ASSERT_EQ(silent.status, TERN_ECLOSED);
  ASSERT_EQ(closer.status, TERN_ECLOSED);
  ASSERT(!tern_conn_is_open(conn));
  {
    tern_cmd_t req;
    tern_cmd_init(&req);
    req.code = FX_ECHO;
    ASSERT_EQ(tern_conn_request(conn, &req, 1000, on_resp, &again), TERN_ECLOSED);
  }
  tern_conn_unref(conn);
  ASSERT_EQ(cl.loop.pending.count, 0);
  /* the pool opens a fresh connection for the next request */
  ASSERT_OK(send_req(&cl, FX_ECHO, "again", NULL, NULL, 0, 3000, &again));
  ASSERT(run_until(&cl.loop, &again.calls, 1, 3000));
  ASSERT_EQ(again.status, 0);
  client_close(&cl);
  fx_stop(&fx);
}

TEST(refused_connect_fails_the_request) {
  client_t cl;
  call_t c = {0};
  fx_server_t fx;
  int port;
  /* a port that was just free: start and stop a server to learn one */
  fx_start(&fx, NULL, false);
  port = fx.port;
  fx_stop(&fx);
  client_open(&cl, port);
  ASSERT_OK(send_req(&cl, FX_ECHO, "x", NULL, NULL, 0, 3000, &c));
  ASSERT(run_until(&cl.loop, &c.calls, 1, 3000));
  ASSERT_EQ(c.status, TERN_ECLOSED);
  {
    tern_conn_t *conn;
    ASSERT_EQ(tern_pool_get(&cl.pool, "no-port", &conn), TERN_EINVAL);
    ASSERT_EQ(tern_pool_get(&cl.pool, "host:99999", &conn), TERN_EINVAL);
    ASSERT_EQ(tern_pool_get(&cl.pool, ":9876", &conn), TERN_EINVAL);
  }
  client_close(&cl);
}

static void count_connect_timeouts(void *arg, tern_log_level_t lvl, const char *line) {
  (void)lvl;
  if (strstr(line, "connect timed out")) ++*(int *)arg;
}

TEST(connect_timeout_fails_the_request) {
  /* A listener that never accepts, with its accept queue full: the kernel
   * drops further SYNs, so our connect neither succeeds nor fails. */
  struct sockaddr_in sa;
  socklen_t len = sizeof sa;
  int lfd = socket(AF_INET, SOCK_STREAM, 0), fillers[4], timeouts = 0;
  tern_net_opts_t o;
  client_t cl;
  call_t c = {0};
  uint64_t t0;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_OK(bind(lfd, (struct sockaddr *)&sa, sizeof sa));
  ASSERT_OK(listen(lfd, 0));
  ASSERT_OK(getsockname(lfd, (struct sockaddr *)&sa, &len));
  for (int i = 0; i < 4; i++) { /* fill the queue; later ones may hang, so don't wait for them */
    fillers[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    connect(fillers[i], (struct sockaddr *)&sa, sizeof sa);
  }
  fx_sleep_ms(50);
  tern_net_opts_default(&o);
  o.connect_timeout_ms = 300;
  tern_loop_init(&cl.loop, NULL, &o);
  tern_pool_init(&cl.pool, &cl.loop, NULL, NULL);
  snprintf(cl.addr, sizeof cl.addr, "127.0.0.1:%d", ntohs(sa.sin_port));
  cl.seq = 0;
  tern_log_set_sink(count_connect_timeouts, &timeouts);
  t0 = uv_hrtime();
  ASSERT_OK(send_req(&cl, FX_ECHO, "x", NULL, NULL, 0, 10000, &c));
  run_until(&cl.loop, &c.calls, 1, 3000);
  tern_log_set_sink(NULL, NULL);
  ASSERT_EQ(c.calls, 1);
  ASSERT_EQ(c.status, TERN_ECLOSED);
  ASSERT_EQ(timeouts, 1);
  ASSERT((uv_hrtime() - t0) / 1000000 >= 280);
  ASSERT((uv_hrtime() - t0) / 1000000 < 2000);
  client_close(&cl);
  for (int i = 0; i < 4; i++) close(fillers[i]);
  close(lfd);
}

/* True when the machine resolves "localhost" at all: a bare chroot without
 * /etc/hosts does not, and then only the failure path can be checked. */
static bool localhost_resolves(void) {
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
  if (getaddrinfo("localhost", NULL, &hints, &res) != 0) return false;
  freeaddrinfo(res);
  return true;
}

TEST(host_names_are_resolved) {
  fx_server_t fx;
  client_t cl;
  call_t ok = {.want_body = "by name"}, bad = {0};
  char addr[64];
  bool by_name = localhost_resolves();
  if (!by_name) printf("# localhost does not resolve on this machine (no /etc/hosts?): checking only the failure path\n");
  fx_start(&fx, NULL, false);
  client_open(&cl, fx.port);
  snprintf(addr, sizeof addr, "localhost:%d", fx.port);
  {
    tern_cmd_t req;
    if (by_name) {
      tern_cmd_init(&req);
      req.code = FX_ECHO;
      req.body = TERN_STR("by name");
      ok.seq = &cl.seq;
      ASSERT_OK(tern_pool_request(&cl.pool, addr, &req, 3000, on_resp, &ok));
    }
    tern_cmd_init(&req);
    req.code = FX_ECHO;
    bad.seq = &cl.seq;
    ASSERT_OK(tern_pool_request(&cl.pool, "no-such-host.invalid:9876", &req, 5000, on_resp, &bad));
  }
  if (by_name) {
    ASSERT(run_until(&cl.loop, &ok.calls, 1, 3000));
    ASSERT_EQ(ok.status, 0);
  }
  ASSERT(run_until(&cl.loop, &bad.calls, 1, 5000));
  ASSERT_EQ(bad.status, TERN_ECLOSED);
  client_close(&cl);
  fx_stop(&fx);
}

TEST(zero_copy_span_reply) {
  fx_server_t fx;
  client_t cl;
  call_t c = {0};
  fx_start(&fx, NULL, false);
  client_open(&cl, fx.port);
  ASSERT_OK(send_req(&cl, FX_SPANS, NULL, "n", "300", 0, 3000, &c)); /* 300 KiB in 5 spans */
  ASSERT(run_until(&cl.loop, &c.calls, 1, 3000));
  ASSERT_EQ(c.status, 0);
  ASSERT_EQ(c.body_len, 300 * 1024);
  for (int i = 0; i < 100 && atomic_load(&fx.spans_released) < 1; i++) fx_sleep_ms(5);
  ASSERT_EQ(atomic_load(&fx.spans_released), 1);
  client_close(&cl);
  fx_stop(&fx);
}

TEST(blocking_client) {
  fx_server_t fx;
  tern_cmd_t req, resp;
  tern_arena_t a;
  tern_sync_client_t sc;
  char addr[32];
  fx_start(&fx, NULL, false);
  snprintf(addr, sizeof addr, "127.0.0.1:%d", fx.port);
  tern_arena_init(&a, 0, NULL, 0);
  tern_cmd_init(&req);
  req.code = FX_ECHO;
  req.body = TERN_STR("sync body");
  tern_cmd_ext_add(&req, TERN_STR("k"), TERN_STR("remark!"));
  ASSERT_OK(tern_rpc_sync(addr, &req, 3000, &resp, &a));
  ASSERT_STR(resp.body, "sync body"); /* copied: the client's loop and buffers are gone */
  ASSERT_STR(resp.remark, "remark!");
  ASSERT_EQ(resp.code, TERN_RESP_SUCCESS);

  ASSERT_OK(tern_sync_open(&sc, addr, NULL));
  tern_cmd_init(&req);
  req.code = FX_ECHO;
  ASSERT_OK(tern_sync_call(&sc, &req, 1000, &resp, &a));
  fx_sleep_ms(300); /* the client's loop is idle meanwhile: its cached time goes stale */
  {
    uint64_t t0 = uv_hrtime();
    tern_cmd_init(&req);
    req.code = FX_SILENT;
    ASSERT_EQ(tern_sync_call(&sc, &req, 200, &resp, &a), TERN_ETIMEDOUT);
    ASSERT((uv_hrtime() - t0) / 1000000 >= 190); /* counted from the call, not from the stale time */
  }
  tern_cmd_init(&req);
  req.code = FX_ECHO;
  req.flag = TERN_FLAG_ONEWAY;
  ASSERT_OK(tern_sync_call(&sc, &req, 100, &resp, &a));
  tern_cmd_init(&req);
  req.code = 4242;
  ASSERT_OK(tern_sync_call(&sc, &req, 3000, &resp, &a));
  ASSERT_EQ(resp.code, TERN_RESP_REQUEST_CODE_NOT_SUPPORTED);
  tern_sync_close(&sc);
  ASSERT_EQ(atomic_load(&fx.requests), 5);
  tern_arena_free(&a);
  fx_stop(&fx);
}

/* The client side answers a request its server sends on the same connection
 * (a broker calling its producer), and the server completes the original call. */
static int client_handler(void *ctx, tern_conn_t *c, const tern_cmd_t *req, tern_err_t *err) {
  tern_cmd_t resp;
  char body[64];
  (void)err;
  ++*(int *)ctx;
  if (req->code != FX_CLIENT_CODE) return TERN_ENOTFOUND;
  snprintf(body, sizeof body, "client saw %.*s", (int)req->body.n, req->body.p);
  tern_cmd_init(&resp);
  resp.body = tern_str_from_cstr(body);
  return tern_conn_reply(c, req, &resp);
}

TEST(server_calls_back_on_the_client_connection) {
  fx_server_t fx;
  client_t cl;
  call_t c = {.want_body = "client saw ping"};
  int asked = 0;
  fx_start(&fx, NULL, false);
  client_open(&cl, fx.port);
  cl.pool.on_request = client_handler;
  cl.pool.ctx = &asked;
  ASSERT_OK(send_req(&cl, FX_CALL_BACK, "ping", NULL, NULL, 0, 3000, &c));
  ASSERT(run_until(&cl.loop, &c.calls, 1, 3000));
  ASSERT_EQ(c.status, 0);
  ASSERT_EQ(c.code, TERN_RESP_SUCCESS);
  ASSERT_EQ(asked, 1);
  client_close(&cl);
  fx_stop(&fx);
}

/* ---- posting work from other threads ---- */

typedef struct {
  tern_post_t post;
  pthread_t loop_thread;
  int *ran, *wrong_thread;
} job_t;

typedef struct {
  tern_loop_t *loop;
  job_t *jobs;
  int n;
} poster_t;

static void run_job(tern_post_t *p) {
  job_t *j = (job_t *)p;
  ++*j->ran;
  if (!pthread_equal(pthread_self(), j->loop_thread)) ++*j->wrong_thread;
}

static void *poster(void *arg) {
  poster_t *p = arg;
  for (int i = 0; i < p->n; i++) tern_loop_post(p->loop, &p->jobs[i].post, run_job);
  return NULL;
}

TEST(posts_from_other_threads_run_on_the_loop) {
  enum { THREADS = 4, PER = 2000 };
  tern_loop_t l;
  job_t *jobs = calloc(THREADS * PER, sizeof *jobs);
  poster_t ps[THREADS];
  pthread_t th[THREADS];
  int ran = 0, wrong = 0;
  uv_timer_t keepalive;
  ASSERT_OK(tern_loop_init(&l, NULL, NULL));
  for (int i = 0; i < THREADS * PER; i++) {
    jobs[i].loop_thread = pthread_self();
    jobs[i].ran = &ran;
    jobs[i].wrong_thread = &wrong;
  }
  uv_timer_init(l.uv, &keepalive); /* a ref'd handle so the loop waits for posts */
  uv_timer_start(&keepalive, on_watchdog, 100000, 0);
  for (int t = 0; t < THREADS; t++) {
    ps[t].loop = &l;
    ps[t].jobs = jobs + t * PER;
    ps[t].n = PER;
    pthread_create(&th[t], NULL, poster, &ps[t]);
  }
  while (ran < THREADS * PER) uv_run(l.uv, UV_RUN_ONCE);
  for (int t = 0; t < THREADS; t++) pthread_join(th[t], NULL);
  uv_close((uv_handle_t *)&keepalive, NULL);
  tern_loop_close(&l);
  ASSERT_EQ(ran, THREADS * PER);
  ASSERT_EQ(wrong, 0);
  free(jobs);
}

/* A loop with nothing else to do waits for a held post, then ends. */
typedef struct {
  tern_post_t post;
  tern_loop_t *loop;
  int ran;
} held_t;

static void held_done(tern_post_t *p) {
  held_t *h = (held_t *)p;
  h->ran++;
  tern_loop_unhold(h->loop);
}

static void *late_poster(void *arg) {
  held_t *h = arg;
  fx_sleep_ms(100);
  tern_loop_post(h->loop, &h->post, held_done);
  return NULL;
}

TEST(held_loop_waits_for_a_post_then_ends) {
  tern_loop_t l;
  held_t h = {.ran = 0};
  pthread_t th;
  uint64_t t0;
  ASSERT_OK(tern_loop_init(&l, NULL, NULL));
  h.loop = &l;
  tern_loop_hold(&l);
  pthread_create(&th, NULL, late_poster, &h);
  t0 = uv_hrtime();
  tern_loop_run(&l); /* returns once the post ran and released the hold */
  pthread_join(th, NULL);
  ASSERT_EQ(h.ran, 1);
  ASSERT((uv_hrtime() - t0) / 1000000 >= 90);
  ASSERT_EQ(tern_loop_run(&l), 0); /* nothing keeps it alive any more */
  tern_loop_close(&l);
}

/* A response completes only a request sent on the same connection: another
 * peer that guesses the (sequential) opaque cannot answer for it. */
TEST(response_from_another_connection_does_not_complete_a_request) {
  fx_server_t fx;
  client_t cl;
  call_t victim = {0}, spoofer_req = {0};
  struct sockaddr_in sa;
  socklen_t len = sizeof sa;
  int lfd = socket(AF_INET, SOCK_STREAM, 0), pfd;
  char spoof_addr[32];
  tern_cmd_t req;
  tern_buf_t b;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_OK(bind(lfd, (struct sockaddr *)&sa, sizeof sa));
  ASSERT_OK(listen(lfd, 4));
  ASSERT_OK(getsockname(lfd, (struct sockaddr *)&sa, &len));
  snprintf(spoof_addr, sizeof spoof_addr, "127.0.0.1:%d", ntohs(sa.sin_port));
  fx_start(&fx, NULL, false);
  client_open(&cl, fx.port);
  /* the victim request waits on the real server, which never answers */
  tern_cmd_init(&req);
  req.code = FX_SILENT;
  victim.seq = &cl.seq;
  ASSERT_OK(tern_pool_request(&cl.pool, cl.addr, &req, 400, on_resp, &victim));
  /* a second connection, to a peer that answers with the victim's opaque */
  tern_cmd_t req2;
  tern_cmd_init(&req2);
  req2.code = 1;
  spoofer_req.seq = &cl.seq;
  ASSERT_OK(tern_pool_request(&cl.pool, spoof_addr, &req2, 400, on_resp, &spoofer_req));
  run_for(&cl.loop, 50);
  pfd = accept(lfd, NULL, NULL);
  ASSERT(pfd >= 0);
  tern_buf_init(&b, 0);
  fx_encode(&b, TERN_RESP_SUCCESS, req.opaque, TERN_SER_JSON, "spoofed", TERN_FLAG_RESPONSE, NULL, NULL);
  ASSERT_OK(fx_send_all(pfd, b.p, b.len));
  run_for(&cl.loop, 100);
  ASSERT_EQ(victim.calls, 0);
  ASSERT(run_until(&cl.loop, &victim.calls, 1, 2000));
  ASSERT_EQ(victim.status, TERN_ETIMEDOUT);
  run_until(&cl.loop, &spoofer_req.calls, 1, 2000);
  ASSERT_EQ(spoofer_req.status, TERN_ETIMEDOUT);
  tern_buf_free(&b);
  close(pfd);
  close(lfd);
  client_close(&cl);
  fx_stop(&fx);
}
