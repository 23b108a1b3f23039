/* The client instance: one libuv loop thread per producer or consumer that
 * owns every connection (a runtime pool keyed by address), the route cache,
 * the route-refresh and heartbeat timers, and answers the requests brokers
 * send to clients (NOTIFY_CONSUMER_IDS_CHANGED). User threads reach it only
 * through tern_loop_post (tc_run_wait, tc_request_wait); see
 * runtime/THREADING.md. Also the client id, configuration defaults and the
 * generic request helpers every other file uses. */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client_int.h"
#include "runtime/clock.h"

void tern_client_conf_default(tern_client_conf_t *c) {
  memset(c, 0, sizeof *c);
  c->timeout_ms = 3000;
  c->retry_times = 2;
  c->compress_over = 4096;
  c->compress_level = 5;
  c->max_message_size = 4 * 1024 * 1024;
  c->latency_fault = true;
  c->message_model = TERN_CLUSTERING;
  c->consume_from_where = TERN_FROM_LAST_OFFSET;
  c->consume_threads = 20;
  c->consume_batch = 1;
  c->pull_batch = 32;
  c->pull_threshold_queue = 1000;
  c->max_reconsume_times = 16;
  c->route_poll_ms = 30000;
  c->heartbeat_ms = 30000;
  c->rebalance_ms = 20000;
  c->persist_ms = 5000;
  c->lock_retry_ms = 1000;
}

int tern_mq_cmp(const tern_mq_t *a, const tern_mq_t *b) {
  int r = strcmp(a->topic, b->topic);
  if (r) return r;
  r = strcmp(a->broker_name, b->broker_name);
  if (r) return r;
  return (a->queue_id > b->queue_id) - (a->queue_id < b->queue_id);
}

uint64_t tc_now_ms(void) { return tern_clock_now_ms(); }
uint64_t tc_mono_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void local_ip(char *out, size_t cap) {
  struct ifaddrs *ifa = NULL, *i;
  snprintf(out, cap, "127.0.0.1");
  if (getifaddrs(&ifa) != 0) return;
  for (i = ifa; i; i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || (i->ifa_flags & IFF_LOOPBACK)) continue;
    inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, out, (socklen_t)cap);
    break;
  }
  freeifaddrs(ifa);
}

static char *dupstr(const char *s) { return s ? strdup(s) : NULL; }

static int on_ids_changed(void *ctx, tern_conn_t *c, const tern_cmd_t *req,
                          const tern_hdr_notify_consumer_ids_changed_request_t *h) {
  tc_inst_t *in = ctx;
  TERN_UNUSED(c), TERN_UNUSED(req), TERN_UNUSED(h);
  if (in->hooks.ids_changed) in->hooks.ids_changed(in->hooks.ctx);
  return 0;
}

int tc_inst_init(tc_inst_t *in, const tern_client_conf_t *conf, const tc_hooks_t *hooks) {
  static atomic_int seq;
  char ip[64];
  const char *p;
  memset(in, 0, sizeof *in);
  in->conf = *conf;
  if (!conf->namesrv_addr || !*conf->namesrv_addr || !conf->group || !tern_group_valid(tern_str_from_cstr(conf->group)))
    return TERN_EINVAL;
  in->conf_strs[0] = dupstr(conf->namesrv_addr);
  in->conf_strs[1] = dupstr(conf->group);
  in->conf_strs[2] = dupstr(conf->instance_name);
  in->conf_strs[3] = dupstr(conf->offset_dir);
  in->conf.namesrv_addr = in->conf_strs[0];
  in->conf.group = in->conf_strs[1];
  in->conf.instance_name = in->conf_strs[2];
  in->conf.offset_dir = in->conf_strs[3];
  in->conf.access_key = in->conf.secret_key = in->conf.security_token = NULL; /* kept in in->acl only */
  if (tc_acl_init(&in->acl, conf)) return TERN_EINVAL;
  if (in->conf.timeout_ms == 0) in->conf.timeout_ms = 3000;
  /* name servers: "a:1;b:2" */
  for (p = in->conf.namesrv_addr; *p;) {
    const char *e = strchr(p, ';');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    if (n) {
      char **ns = realloc(in->ns, sizeof(char *) * (size_t)(in->nns + 1));
      if (!ns) return TERN_ENOMEM;
      in->ns = ns;
      in->ns[in->nns] = strndup(p, n);
      if (!in->ns[in->nns]) return TERN_ENOMEM;
      in->nns++;
    }
    p += n + (e ? 1 : 0);
  }
  if (in->nns == 0) return TERN_EINVAL;
  local_ip(ip, sizeof ip);
  if (in->conf.instance_name)
    snprintf(in->client_id, sizeof in->client_id, "%s@%s", ip, in->conf.instance_name);
  else
    snprintf(in->client_id, sizeof in->client_id, "%s@%d#%d#%llu", ip, (int)getpid(), atomic_fetch_add(&seq, 1),
             (unsigned long long)tc_mono_us());
  if (hooks) in->hooks = *hooks;
  in->handlers.notify_consumer_ids_changed = on_ids_changed;
  in->rpc.handlers = &in->handlers;
  in->rpc.ctx = in;
  pthread_mutex_init(&in->stop_mu, NULL);
  pthread_cond_init(&in->stop_cv, NULL);
  return 0;
}

void tc_inst_free(tc_inst_t *in) {
  int i;
  for (i = 0; i < in->nns; i++) free(in->ns[i]);
  free(in->ns);
  for (i = 0; i < 4; i++) free(in->conf_strs[i]);
  tc_acl_free(&in->acl);
  pthread_mutex_destroy(&in->stop_mu);
  pthread_cond_destroy(&in->stop_cv);
}

static void on_route_timer(uv_timer_t *t) { tc_route_refresh_all(t->data); }
static void on_hb_timer(uv_timer_t *t) { tc_heartbeat_now(t->data); }

static void *loop_main(void *arg) {
  tc_inst_t *in = arg;
  tern_loop_run(&in->loop);
  return NULL;
}

int tc_inst_start(tc_inst_t *in) {
  int rc = tern_loop_init(&in->loop, NULL, NULL);
  if (rc) return rc;
  tern_pool_init(&in->pool, &in->loop, tern_client_on_request, &in->rpc);
  uv_timer_init(in->loop.uv, &in->t_route);
  uv_timer_init(in->loop.uv, &in->t_hb);
  in->t_route.data = in->t_hb.data = in;
  uv_timer_start(&in->t_route, on_route_timer, (uint64_t)in->conf.route_poll_ms, (uint64_t)in->conf.route_poll_ms);
  uv_timer_start(&in->t_hb, on_hb_timer, 1000, (uint64_t)in->conf.heartbeat_ms);
  if (pthread_create(&in->thread, NULL, loop_main, in) != 0) {
    uv_close((uv_handle_t *)&in->t_route, NULL);
    uv_close((uv_handle_t *)&in->t_hb, NULL);
    uv_run(in->loop.uv, UV_RUN_DEFAULT);
    tern_loop_close(&in->loop);
    return TERN_ENOMEM;
  }
  in->running = true;
  return 0;
}

static void pool_closed(tern_pool_t *p) { TERN_UNUSED(p); }

static void stop_finish(tc_inst_t *in) {
  uv_timer_stop(&in->t_route);
  uv_timer_stop(&in->t_hb);
  uv_close((uv_handle_t *)&in->t_route, NULL);
  uv_close((uv_handle_t *)&in->t_hb, NULL);
  tern_pool_close(&in->pool, pool_closed);
  tc_routes_free(in);
}

static void stop_post(tern_post_t *p) {
  tc_inst_t *in = (tc_inst_t *)((char *)p - offsetof(tc_inst_t, stop_post));
  if (in->hooks.on_stop)
    in->hooks.on_stop(in->hooks.ctx, stop_finish);
  else
    stop_finish(in);
}

void tc_inst_stop(tc_inst_t *in) {
  if (!in->running) return;
  tern_loop_post(&in->loop, &in->stop_post, stop_post);
  pthread_join(in->thread, NULL);
  in->running = false;
  tern_loop_close(&in->loop);
}

/* ---- run on the loop and wait ---- */

static void wait_post(tern_post_t *p) {
  tc_wait_t *w = (tc_wait_t *)p;
  w->fn(w);
}

int tc_run_wait(tc_inst_t *in, tc_wait_t *w, void (*fn)(tc_wait_t *w), void *arg) {
  pthread_mutex_init(&w->mu, NULL);
  pthread_cond_init(&w->cv, NULL);
  w->done = false;
  w->fn = fn;
  w->in = in;
  w->arg = arg;
  w->rc = 0;
  tern_loop_post(&in->loop, &w->post, wait_post);
  pthread_mutex_lock(&w->mu);
  while (!w->done) pthread_cond_wait(&w->cv, &w->mu);
  pthread_mutex_unlock(&w->mu);
  pthread_mutex_destroy(&w->mu);
  pthread_cond_destroy(&w->cv);
  return w->rc;
}

void tc_done(tc_wait_t *w, int rc) {
  pthread_mutex_lock(&w->mu);
  w->rc = rc;
  w->done = true;
  pthread_cond_signal(&w->cv);
  pthread_mutex_unlock(&w->mu);
}

/* ---- requests ---- */

int tc_request(tc_inst_t *in, const char *addr, int32_t code, tc_hdr_enc_fn enc, const void *h, tern_str_t body,
               bool oneway, uint32_t timeout_ms, tern_rpc_cb cb, void *arg) {
  tern_cmd_t cmd;
  uint8_t block[2048];
  tern_arena_t scratch;
  char sig[TERN_ACL_SIG_LEN + 1];
  int rc = 0;
  tern_rpc_request_init(&cmd, code, body);
  if (oneway) cmd.flag = TERN_FLAG_ONEWAY;
  tern_arena_init(&scratch, 0, block, sizeof block);
  if (enc && h) rc = enc(h, &cmd, &scratch);
  if (rc == 0) rc = tc_acl_sign(&in->acl, &cmd, sig); /* ACL 1.0: AccessKey, SecurityToken, Signature (acl.c) */
  if (rc == 0) rc = tern_pool_request(&in->pool, addr, &cmd, timeout_ms, oneway ? NULL : cb, oneway ? NULL : arg);
  tern_arena_free(&scratch);
  return rc;
}

typedef struct req_wait {
  tc_wait_t w;
  const char *addr;
  int32_t code;
  tc_hdr_enc_fn enc;
  const void *h;
  tern_str_t body;
  uint32_t timeout_ms;
  tern_cmd_t *resp;
  tern_arena_t *arena;
} req_wait_t;

static void req_wait_cb(void *arg, int status, const tern_cmd_t *resp) {
  req_wait_t *r = arg;
  if (status == 0 && tern_cmd_copy(r->resp, resp, r->arena) != 0) status = TERN_ENOMEM;
  tc_done(&r->w, status);
}

static void req_wait_run(tc_wait_t *w) {
  req_wait_t *r = (req_wait_t *)w;
  int rc = tc_request(w->in, r->addr, r->code, r->enc, r->h, r->body, false, r->timeout_ms, req_wait_cb, r);
  if (rc) tc_done(w, rc);
}

int tc_request_wait(tc_inst_t *in, const char *addr, int32_t code, tc_hdr_enc_fn enc, const void *h, tern_str_t body,
                    uint32_t timeout_ms, tern_cmd_t *resp, tern_arena_t *arena) {
  req_wait_t r;
  memset(&r, 0, sizeof r);
  r.addr = addr;
  r.code = code;
  r.enc = enc;
  r.h = h;
  r.body = body;
  r.timeout_ms = timeout_ms;
  r.resp = resp;
  r.arena = arena;
  return tc_run_wait(in, &r.w, req_wait_run, NULL);
}

typedef struct addr_wait {
  tc_wait_t w;
  const char *broker;
  char addr[TC_ADDR_MAX];
} addr_wait_t;

static void addr_run(tc_wait_t *w) {
  addr_wait_t *a = (addr_wait_t *)w;
  const char *s = tc_broker_addr(w->in, a->broker);
  if (s) snprintf(a->addr, sizeof a->addr, "%s", s);
  tc_done(w, s ? 0 : TERN_ENOTFOUND);
}

int tc_broker_request_wait(tc_inst_t *in, const tern_mq_t *mq, int32_t code, tc_hdr_enc_fn enc, const void *h,
                           tern_str_t body, uint32_t timeout_ms, tern_cmd_t *resp, tern_arena_t *arena) {
  addr_wait_t a;
  int rc;
  memset(&a, 0, sizeof a);
  a.broker = mq->broker_name;
  rc = tc_run_wait(in, &a.w, addr_run, NULL);
  if (rc == TERN_ENOTFOUND) { /* route not cached yet: fetch it once */
    tern_mq_t *qs = NULL;
    int n = 0;
    if (tc_route_queues_wait(in, mq->topic, false, &qs, &n) == 0) rc = tc_run_wait(in, &a.w, addr_run, NULL);
    free(qs);
  }
  if (rc) return rc;
  return tc_request_wait(in, a.addr, code, enc, h, body, timeout_ms, resp, arena);
}

int tc_err_from_code(int32_t code) {
  switch (code) {
  case TERN_RESP_SUCCESS: return 0;
  case TERN_RESP_TOPIC_NOT_EXIST: case TERN_RESP_QUERY_NOT_FOUND: return TERN_ENOTFOUND;
  case TERN_RESP_NO_PERMISSION: return TERN_EINVAL;
  case TERN_RESP_SYSTEM_BUSY: return TERN_EBUSY;
  default: return TERN_EIO;
  }
}

void tc_err_set(tern_client_error_t *e, int status, const tern_cmd_t *resp) {
  if (!e) return;
  memset(e, 0, sizeof *e);
  if (status != 0 || !resp) {
    e->error = status ? status : TERN_EIO;
    e->response_code = -1;
    snprintf(e->remark, sizeof e->remark, "%s", tern_strerror(e->error));
    return;
  }
  e->response_code = resp->code;
  e->error = tc_err_from_code(resp->code);
  if (resp->has_remark)
    snprintf(e->remark, sizeof e->remark, "%.*s", (int)(resp->remark.n < 255 ? resp->remark.n : 255), resp->remark.p);
}

/* ---- heartbeats ---- */

const char *tc_broker_addr(tc_inst_t *in, const char *broker_name) {
  tc_route_t *r;
  uint32_t i, j;
  for (r = in->routes; r; r = r->next) {
    if (!r->have) continue;
    for (i = 0; i < r->rd.broker_datas.n; i++) {
      tern_body_broker_data_t *bd = &r->rd.broker_datas.v[i];
      if (!tern_str_eq_cstr(bd->broker_name, broker_name)) continue;
      for (j = 0; j < bd->broker_addrs.n; j++)
        if (bd->broker_addrs.v[j].key == 0) return bd->broker_addrs.v[j].val.p; /* NUL-terminated copy (route.c) */
    }
  }
  return NULL;
}

/* Distinct master addresses of all known routes; returns count (max cap). */
int tc_broker_addrs(tc_inst_t *in, const char **out, int cap) {
  tc_route_t *r;
  uint32_t i, j;
  int n = 0, k;
  for (r = in->routes; r; r = r->next) {
    if (!r->have) continue;
    for (i = 0; i < r->rd.broker_datas.n; i++) {
      tern_body_broker_data_t *bd = &r->rd.broker_datas.v[i];
      for (j = 0; j < bd->broker_addrs.n; j++) {
        const char *a = bd->broker_addrs.v[j].val.p;
        if (bd->broker_addrs.v[j].key != 0 || !a) continue;
        for (k = 0; k < n; k++)
          if (strcmp(out[k], a) == 0) break;
        if (k == n && n < cap) out[n++] = a;
      }
    }
  }
  return n;
}

static void hb_cb(void *arg, int status, const tern_cmd_t *resp) {
  tc_inst_t *in = arg;
  if (status) tern_debug("client %s: heartbeat failed: %s", in->client_id, tern_strerror(status));
  else if (resp->code != 0)
    tern_warn("client %s: heartbeat refused: code %d %.*s", in->client_id, resp->code,
              resp->has_remark ? (int)resp->remark.n : 0, resp->has_remark ? resp->remark.p : "");
}

void tc_heartbeat_now(tc_inst_t *in) {
  tern_body_heartbeat_data_t hb;
  tern_arena_t a;
  tern_buf_t b;
  const char *addrs[64];
  int n, i;
  if (!in->hooks.heartbeat_fill) return;
  n = tc_broker_addrs(in, addrs, 64);
  if (n == 0) return;
  memset(&hb, 0, sizeof hb);
  tern_arena_init(&a, 0, NULL, 0);
  tern_buf_init(&b, 0);
  hb.client_id = tern_str_from_cstr(in->client_id);
  hb.has = TERN_BODY_HEARTBEAT_DATA_HAS_CLIENT_ID;
  in->hooks.heartbeat_fill(in->hooks.ctx, &hb, &a);
  tern_body_heartbeat_data_encode(&hb, &b, 0);
  if (b.err == 0)
    for (i = 0; i < n; i++)
      tc_request(in, addrs[i], TERN_REQ_HEART_BEAT, NULL, NULL, (tern_str_t){(const char *)b.p, b.len}, false,
                 in->conf.timeout_ms, hb_cb, in);
  tern_buf_free(&b);
  tern_arena_free(&a);
}
