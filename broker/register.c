/* Registration with the name servers (BrokerOuterAPI / BrokerController,
 * reference §5.3): REGISTER_BROKER to every name server in namesrvAddr at
 * start and every registerNameServerPeriod (clamped to 10..60 s, first after
 * 10 s) with the whole topic table and its data version (topic perms replaced
 * by brokerPermission when that lacks read or write), again at once when a
 * topic is created, and UNREGISTER_BROKER to each on clean shutdown. Requests
 * go through the broker's connection pool with the generated stubs, in
 * parallel; a round is done when every name server answered or failed.
 * Loop-thread only. */
#include <stdio.h>
#include <stdlib.h>

#include "broker/broker_int.h"
#include "broker/ha/ha.h"
#include "namesrv/strmap.h"
#include "runtime/log.h"

#define UNREGISTER_TIMEOUT_MS 3000

typedef struct round {
  tern_broker_t *b;
  int pending;
  bool first;
  void (*done)(tern_broker_t *b);
} round_t;

static void parse_namesrv(tern_broker_t *b) {
  const char *s = b->conf.namesrv_addr;
  if (b->namesrv || !s) return;
  while (*s) {
    const char *e = strchr(s, ';');
    size_t n = e ? (size_t)(e - s) : strlen(s);
    if (n > 0 && n < 96) {
      char **v = realloc(b->namesrv, (b->n_namesrv + 1) * sizeof *v);
      if (!v) break;
      b->namesrv = v;
      if (!(v[b->n_namesrv] = strndup(s, n))) break;
      b->n_namesrv++;
    }
    if (!e) break;
    s = e + 1;
  }
}

static void round_step(round_t *r) {
  if (--r->pending > 0) return;
  if (r->first) {
    r->b->registered_once = true;
    r->b->register_rounds++;
    if (r->b->on_registered) r->b->on_registered(r->b);
  } else {
    r->b->register_rounds++;
  }
  if (r->done) r->done(r->b);
  free(r);
}

static void on_register_reply(void *arg, int status, const tern_cmd_t *resp) {
  round_t *r = arg;
  if (status)
    tern_warn("broker: REGISTER_BROKER failed: %s", tern_strerror(status));
  else if (resp->code != TERN_RESP_SUCCESS)
    tern_warn("broker: REGISTER_BROKER answered %d: %.*s", resp->code, TERN_STR_ARG(resp->remark));
  else
    tern_broker_ha_on_register_reply(r->b, resp); /* HA: a slave learns masterAddr / haServerAddr */
  round_step(r);
}

/* The REGISTER_BROKER body (uncompressed RegisterBrokerBody JSON) into b->out. */
static int build_body(tern_broker_t *b, tern_buf_t *out) {
  tern_body_register_broker_body_t body;
  tern_body_map_str_topic_config_entry_t *ents;
  tern_broker_topic_t *t;
  uint32_t pos = 0, n = 0;
  bool rw = (b->conf.broker_permission & (TERN_PERM_READ | TERN_PERM_WRITE)) == (TERN_PERM_READ | TERN_PERM_WRITE);
  ents = calloc(b->topics->len ? b->topics->len : 1, sizeof *ents);
  if (!ents) return TERN_ENOMEM;
  while ((t = tern_broker_topic_next(b, &pos))) {
    ents[n].key = t->cfg.topic_name;
    ents[n].val = t->cfg;
    if (!rw) ents[n].val.perm = b->conf.broker_permission;
    n++;
  }
  memset(&body, 0, sizeof body);
  body.has = TERN_BODY_REGISTER_BROKER_BODY_HAS_FILTER_SERVER_LIST |
             TERN_BODY_REGISTER_BROKER_BODY_HAS_TOPIC_CONFIG_SERIALIZE_WRAPPER;
  body.topic_config_serialize_wrapper.has = TERN_BODY_TOPIC_CONFIG_SERIALIZE_WRAPPER_HAS_DATA_VERSION |
                                            TERN_BODY_TOPIC_CONFIG_SERIALIZE_WRAPPER_HAS_TOPIC_CONFIG_TABLE;
  body.topic_config_serialize_wrapper.data_version = b->topics_version;
  body.topic_config_serialize_wrapper.topic_config_table.v = ents;
  body.topic_config_serialize_wrapper.topic_config_table.n = n;
  tern_buf_reset(out);
  tern_body_register_broker_body_encode(&body, out, 0);
  free(ents);
  return out->err;
}

static void ha_addr(tern_broker_t *b, char *dst, size_t cap) {
  const char *colon = strrchr(b->store_host, ':');
  int len = colon ? (int)(colon - b->store_host) : (int)strlen(b->store_host);
  snprintf(dst, cap, "%.*s:%d", len, b->store_host, tern_broker_ha_port(b)); /* the bound HA port (broker/ha/) */
}

static void register_round(tern_broker_t *b, bool first, void (*done)(tern_broker_t *b)) {
  tern_hdr_register_broker_request_t h;
  tern_buf_t body;
  char ha[96];
  round_t *r;
  parse_namesrv(b);
  if (b->n_namesrv == 0 || !(r = calloc(1, sizeof *r))) {
    if (first) {
      b->registered_once = true;
      if (b->on_registered) b->on_registered(b);
    }
    if (done) done(b);
    return;
  }
  r->b = b;
  r->first = first;
  r->done = done;
  r->pending = 1; /* held until every request is out */
  tern_buf_init(&body, 0);
  if (build_body(b, &body)) {
    tern_error("broker: cannot build the REGISTER_BROKER body");
  } else {
    ha_addr(b, ha, sizeof ha);
    memset(&h, 0, sizeof h);
    h.broker_name = tern_str_from_cstr(b->conf.broker_name);
    h.broker_addr = tern_str_from_cstr(b->store_host);
    h.cluster_name = tern_str_from_cstr(b->conf.broker_cluster_name);
    h.ha_server_addr = tern_str_from_cstr(ha);
    h.broker_id = b->conf.broker_id;
    h.compressed = false;
    h.body_crc32 = (int32_t)tern_crc32_body(body.p, body.len);
    h.present = TERN_HDR_REGISTER_BROKER_REQUEST_HAS_BROKER_NAME | TERN_HDR_REGISTER_BROKER_REQUEST_HAS_BROKER_ADDR |
                TERN_HDR_REGISTER_BROKER_REQUEST_HAS_CLUSTER_NAME | TERN_HDR_REGISTER_BROKER_REQUEST_HAS_HA_SERVER_ADDR |
                TERN_HDR_REGISTER_BROKER_REQUEST_HAS_BROKER_ID | TERN_HDR_REGISTER_BROKER_REQUEST_HAS_COMPRESSED |
                TERN_HDR_REGISTER_BROKER_REQUEST_HAS_BODY_CRC32;
    for (size_t i = 0; i < b->n_namesrv; i++) {
      tern_conn_t *c;
      if (tern_pool_get(&b->pool, b->namesrv[i], &c)) {
        tern_warn("broker: bad name server address '%s'", b->namesrv[i]);
        continue;
      }
      r->pending++;
      if (tern_call_register_broker(c, &h, (tern_str_t){(const char *)body.p, body.len},
                                    (uint32_t)b->conf.register_broker_timeout_mills, on_register_reply, r)) {
        tern_warn("broker: cannot send REGISTER_BROKER to %s", b->namesrv[i]);
        r->pending--;
      }
    }
  }
  tern_buf_free(&body);
  round_step(r);
}

void tern_broker_register_all(tern_broker_t *b) {
  if (b->stopping || !b->registered_once) return;
  register_round(b, false, NULL);
}

static void on_register_timer(uv_timer_t *t) {
  tern_broker_t *b = t->data;
  if (!b->stopping) register_round(b, false, NULL);
}

void tern_broker_register_start(tern_broker_t *b) {
  int64_t period = b->conf.register_name_server_period;
  if (period < 10000) period = 10000;
  if (period > 60000) period = 60000;
  uv_timer_init(b->loop->uv, &b->t_register);
  b->t_register.data = b;
  uv_timer_start(&b->t_register, on_register_timer, 10000, (uint64_t)period);
  register_round(b, true, NULL);
}

void tern_broker_register_stop(tern_broker_t *b) {
  uv_timer_stop(&b->t_register);
  uv_close((uv_handle_t *)&b->t_register, NULL);
}

static void on_unregister_reply(void *arg, int status, const tern_cmd_t *resp) {
  round_t *r = arg;
  TERN_UNUSED(resp);
  if (status) tern_warn("broker: UNREGISTER_BROKER failed: %s", tern_strerror(status));
  round_step(r);
}

void tern_broker_unregister_all(tern_broker_t *b, void (*done)(tern_broker_t *b)) {
  tern_hdr_un_register_broker_request_t h;
  round_t *r;
  parse_namesrv(b);
  if (b->n_namesrv == 0 || !(r = calloc(1, sizeof *r))) {
    done(b);
    return;
  }
  r->b = b;
  r->done = done;
  r->pending = 1;
  memset(&h, 0, sizeof h);
  h.broker_name = tern_str_from_cstr(b->conf.broker_name);
  h.broker_addr = tern_str_from_cstr(b->store_host);
  h.cluster_name = tern_str_from_cstr(b->conf.broker_cluster_name);
  h.broker_id = b->conf.broker_id;
  h.present = TERN_HDR_UN_REGISTER_BROKER_REQUEST_HAS_BROKER_NAME | TERN_HDR_UN_REGISTER_BROKER_REQUEST_HAS_BROKER_ADDR |
              TERN_HDR_UN_REGISTER_BROKER_REQUEST_HAS_CLUSTER_NAME | TERN_HDR_UN_REGISTER_BROKER_REQUEST_HAS_BROKER_ID;
  for (size_t i = 0; i < b->n_namesrv; i++) {
    tern_conn_t *c;
    if (tern_pool_get(&b->pool, b->namesrv[i], &c)) continue;
    r->pending++;
    if (tern_call_unregister_broker(c, &h, TERN_STR_NULL, UNREGISTER_TIMEOUT_MS, on_unregister_reply, r)) r->pending--;
  }
  round_step(r);
}

void tern_broker_register_free(tern_broker_t *b) {
  for (size_t i = 0; i < b->n_namesrv; i++) free(b->namesrv[i]);
  free(b->namesrv);
  b->namesrv = NULL;
  b->n_namesrv = 0;
}
