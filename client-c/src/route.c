/* The route cache of a client instance: GET_ROUTEINFO_BY_TOPIC answers from
 * the name servers (tried in turn), decoded with the generated TopicRouteData
 * codec into one arena per topic, plus the queue lists derived from them as
 * Java's topicRouteData2TopicPublishInfo / ...SubscribeInfo do: writable
 * queues of brokers with a master for producers, readable queues (sorted)
 * for consumers. Callers waiting for a topic's route queue up behind one
 * fetch. Loop thread only, apart from tc_route_queues_wait. */
#include <stdlib.h>
#include <string.h>

#include "client_int.h"

#define PERM_WRITE 2
#define PERM_READ 4

tc_route_t *tc_route_find(tc_inst_t *in, const char *topic) {
  tc_route_t *r;
  for (r = in->routes; r; r = r->next)
    if (strcmp(r->topic, topic) == 0) return r;
  return NULL;
}

static void route_clear(tc_route_t *r) {
  tern_arena_free(&r->arena);
  free(r->pub);
  free(r->sub);
  r->pub = r->sub = NULL;
  r->npub = r->nsub = 0;
  memset(&r->rd, 0, sizeof r->rd);
  r->have = false;
}

void tc_routes_free(tc_inst_t *in) {
  tc_route_t *r, *n;
  for (r = in->routes; r; r = n) {
    tc_route_waiter_t *w, *wn;
    n = r->next;
    for (w = r->waiters; w; w = wn) {
      wn = w->next;
      w->cb(w->arg, r, TERN_ECLOSED);
      free(w);
    }
    route_clear(r);
    free(r->topic);
    free(r);
  }
  in->routes = NULL;
}

static bool has_master(const tern_body_topic_route_data_t *rd, tern_str_t broker) {
  uint32_t i, j;
  for (i = 0; i < rd->broker_datas.n; i++) {
    if (!tern_str_eq(rd->broker_datas.v[i].broker_name, broker)) continue;
    for (j = 0; j < rd->broker_datas.v[i].broker_addrs.n; j++)
      if (rd->broker_datas.v[i].broker_addrs.v[j].key == 0) return true;
  }
  return false;
}

static int qd_cmp(const void *a, const void *b) {
  const tern_body_queue_data_t *x = a, *y = b;
  size_t n = x->broker_name.n < y->broker_name.n ? x->broker_name.n : y->broker_name.n;
  int r = memcmp(x->broker_name.p, y->broker_name.p, n);
  if (r) return r;
  return (x->broker_name.n > y->broker_name.n) - (x->broker_name.n < y->broker_name.n);
}

static int mq_qsort_cmp(const void *a, const void *b) { return tern_mq_cmp(a, b); }

static void fill_mq(tern_mq_t *m, const char *topic, tern_str_t broker, int qid) {
  memset(m, 0, sizeof *m);
  snprintf(m->topic, sizeof m->topic, "%s", topic);
  snprintf(m->broker_name, sizeof m->broker_name, "%.*s", (int)broker.n, broker.p);
  m->queue_id = qid;
}

/* Builds r->pub from rd's writable queues (max_per_broker > 0 caps the count,
 * as for a route borrowed from TBW102) and r->sub from readable queues. */
static int build_lists(tc_route_t *r, const tern_body_topic_route_data_t *rd, int max_per_broker, bool subs) {
  uint32_t i;
  int q, np = 0, ns = 0, tp = 0, ts = 0;
  tern_body_queue_data_t *qds = rd->queue_datas.v;
  if (rd->queue_datas.n) qsort(qds, rd->queue_datas.n, sizeof *qds, qd_cmp);
  for (i = 0; i < rd->queue_datas.n; i++) {
    int w = qds[i].write_queue_nums, rq = qds[i].read_queue_nums;
    if (w < 0 || w > 1024 || rq < 0 || rq > 1024) return TERN_EPROTO;
    if (max_per_broker > 0 && w > max_per_broker) w = max_per_broker;
    if ((qds[i].perm & PERM_WRITE) && has_master(rd, qds[i].broker_name)) tp += w;
    if (qds[i].perm & PERM_READ) ts += rq;
  }
  free(r->pub);
  r->pub = calloc((size_t)tp + 1, sizeof *r->pub);
  if (!r->pub) return TERN_ENOMEM;
  for (i = 0; i < rd->queue_datas.n; i++) {
    int w = qds[i].write_queue_nums;
    if (max_per_broker > 0 && w > max_per_broker) w = max_per_broker;
    if (!(qds[i].perm & PERM_WRITE) || !has_master(rd, qds[i].broker_name)) continue;
    for (q = 0; q < w; q++) fill_mq(&r->pub[np++], r->topic, qds[i].broker_name, q);
  }
  r->npub = np;
  if (!subs) return 0;
  free(r->sub);
  r->sub = calloc((size_t)ts + 1, sizeof *r->sub);
  if (!r->sub) return TERN_ENOMEM;
  for (i = 0; i < rd->queue_datas.n; i++) {
    if (!(qds[i].perm & PERM_READ)) continue;
    for (q = 0; q < qds[i].read_queue_nums; q++) fill_mq(&r->sub[ns++], r->topic, qds[i].broker_name, q);
  }
  if (ns) qsort(r->sub, (size_t)ns, sizeof *r->sub, mq_qsort_cmp);
  r->nsub = ns;
  return 0;
}

/* Decodes a route body into r (replacing its previous content). */
static int route_set(tc_route_t *r, tern_str_t body) {
  tern_arena_t a;
  tern_err_t err;
  tern_body_topic_route_data_t rd;
  tern_str_t copy;
  uint32_t i, j;
  int rc;
  tern_arena_init(&a, 0, NULL, 0);
  copy = tern_arena_strdup(&a, body);
  if (!copy.p) {
    tern_arena_free(&a);
    return TERN_ENOMEM;
  }
  memset(&rd, 0, sizeof rd);
  rc = tern_body_topic_route_data_decode(copy, &a, &rd, &err);
  if (rc) {
    tern_warn("route of %s: %s at %zu", r->topic, err.reason ? err.reason : "bad body", err.pos);
    tern_arena_free(&a);
    return rc;
  }
  /* NUL-terminated copies of names and addresses (tc_broker_addr hands them out as C strings). */
  for (i = 0; i < rd.broker_datas.n; i++) {
    tern_body_broker_data_t *bd = &rd.broker_datas.v[i];
    bd->broker_name = tern_arena_strdup(&a, bd->broker_name);
    for (j = 0; j < bd->broker_addrs.n; j++) bd->broker_addrs.v[j].val = tern_arena_strdup(&a, bd->broker_addrs.v[j].val);
  }
  route_clear(r);
  r->arena = a;
  r->rd = rd;
  r->have = true;
  r->not_exist = false;
  rc = build_lists(r, &r->rd, 0, true);
  return rc;
}

typedef struct fetch {
  tc_inst_t *in;
  tc_route_t *r;
  int tries;
} fetch_t;

static void fetch_send(fetch_t *f);

static void finish(tc_inst_t *in, tc_route_t *r, int status) {
  tc_route_waiter_t *w = r->waiters, *n;
  TERN_UNUSED(in);
  r->waiters = NULL;
  r->fetching = false;
  for (; w; w = n) {
    n = w->next;
    w->cb(w->arg, r, status);
    free(w);
  }
}

static void fetch_cb(void *arg, int status, const tern_cmd_t *resp) {
  fetch_t *f = arg;
  tc_inst_t *in = f->in;
  tc_route_t *r = f->r;
  if (status == TERN_ECLOSED && !in->pool.closing && f->tries < in->nns) {
    fetch_send(f);
    return;
  }
  if (status == TERN_ETIMEDOUT && f->tries < in->nns) {
    fetch_send(f);
    return;
  }
  free(f);
  if (status == 0) {
    if (resp->code == TERN_RESP_SUCCESS) status = route_set(r, resp->body);
    else if (resp->code == TERN_RESP_TOPIC_NOT_EXIST) {
      r->not_exist = true;
      status = TERN_ENOTFOUND;
    } else
      status = TERN_EIO;
  }
  finish(in, r, status);
}

static void fetch_send(fetch_t *f) {
  tc_inst_t *in = f->in;
  tern_hdr_get_route_info_request_t h;
  int rc;
  memset(&h, 0, sizeof h);
  h.topic = tern_str_from_cstr(f->r->topic);
  h.present = TERN_HDR_GET_ROUTE_INFO_REQUEST_HAS_TOPIC;
  for (;;) {
    const char *ns = in->ns[in->ns_next % in->nns];
    f->tries++;
    rc = tc_request(in, ns, TERN_REQ_GET_ROUTEINFO_BY_TOPIC, (tc_hdr_enc_fn)tern_hdr_get_route_info_request_encode, &h,
                    TERN_STR_NULL, false, in->conf.timeout_ms, fetch_cb, f);
    if (rc == 0) return;
    in->ns_next++;
    if (f->tries >= in->nns) break;
  }
  finish(in, f->r, rc);
  free(f);
}

void tc_route_get(tc_inst_t *in, const char *topic, bool refresh, tc_route_cb cb, void *arg) {
  tc_route_t *r = tc_route_find(in, topic);
  tc_route_waiter_t *w;
  fetch_t *f;
  if (!r) {
    r = calloc(1, sizeof *r);
    if (!r || !(r->topic = strdup(topic))) {
      free(r);
      cb(arg, NULL, TERN_ENOMEM);
      return;
    }
    tern_arena_init(&r->arena, 0, NULL, 0);
    r->next = in->routes;
    in->routes = r;
  }
  if (!refresh && r->have) {
    if (cb) cb(arg, r, 0);
    return;
  }
  if (in->pool.closing) {
    if (cb) cb(arg, r, TERN_ECLOSED);
    return;
  }
  if (cb) {
    w = malloc(sizeof *w);
    if (!w) {
      cb(arg, r, TERN_ENOMEM);
      return;
    }
    w->cb = cb;
    w->arg = arg;
    w->next = r->waiters;
    r->waiters = w;
  }
  if (r->fetching) return;
  f = calloc(1, sizeof *f);
  if (!f) {
    finish(in, r, TERN_ENOMEM);
    return;
  }
  f->in = in;
  f->r = r;
  r->fetching = true;
  fetch_send(f);
}

void tc_route_refresh_all(tc_inst_t *in) {
  tc_route_t *r;
  for (r = in->routes; r; r = r->next)
    if (!r->fetching) tc_route_get(in, r->topic, true, NULL, NULL);
}

/* Producer fallback for a topic the name servers do not know: the queues of
 * TBW102's brokers, at most 4 per broker (defaultTopicQueueNums); the broker
 * creates the topic on the first send. */
int tc_route_use_default(tc_route_t *r, tc_route_t *def) {
  if (!def || !def->have) return TERN_ENOTFOUND;
  return build_lists(r, &def->rd, 4, false);
}

/* ---- blocking access from user threads ---- */
typedef struct q_wait {
  tc_wait_t w;
  const char *topic;
  bool writable;
  tern_mq_t *out;
  int n;
  bool tried_default;
} q_wait_t;

static void q_copy(q_wait_t *q, tc_route_t *r) {
  int n = q->writable ? r->npub : r->nsub;
  q->out = calloc((size_t)n + 1, sizeof *q->out);
  if (!q->out) {
    tc_done(&q->w, TERN_ENOMEM);
    return;
  }
  if (n) memcpy(q->out, q->writable ? r->pub : r->sub, sizeof *q->out * (size_t)n);
  q->n = n;
  tc_done(&q->w, 0);
}

static void q_default_cb(void *arg, tc_route_t *def, int status) {
  q_wait_t *q = arg;
  tc_route_t *r = tc_route_find(q->w.in, q->topic);
  if (status == 0 && r) status = tc_route_use_default(r, def);
  if (status) {
    tc_done(&q->w, status);
    return;
  }
  q_copy(q, r);
}

static void q_cb(void *arg, tc_route_t *r, int status) {
  q_wait_t *q = arg;
  if (status == TERN_ENOTFOUND && q->writable && r && r->npub == 0) {
    tc_route_get(q->w.in, TERN_TOPIC_AUTO_CREATE, false, q_default_cb, q);
    return;
  }
  if (status && !(r && (q->writable ? r->npub : r->nsub))) {
    tc_done(&q->w, status);
    return;
  }
  q_copy(q, r);
}

static void q_run(tc_wait_t *w) {
  q_wait_t *q = (q_wait_t *)w;
  tc_route_get(w->in, q->topic, false, q_cb, q);
}

int tc_route_queues_wait(tc_inst_t *in, const char *topic, bool writable, tern_mq_t **out, int *n) {
  q_wait_t q;
  int rc;
  memset(&q, 0, sizeof q);
  q.topic = topic;
  q.writable = writable;
  rc = tc_run_wait(in, &q.w, q_run, NULL);
  if (rc) {
    free(q.out);
    return rc;
  }
  *out = q.out;
  *n = q.n;
  return 0;
}
