/* The broker's life cycle: builds the store config from the broker config,
 * opens the store, loads topics and consumer offsets, fills the generated
 * handler table with the core handlers (send, pull, offsets, queries) and
 * lets the client-management part add its own, listens on listenPort and
 * listenPort-2, registers with the name servers, runs the periodic work
 * (offset persistence every flushConsumerOffsetInterval, store housekeeping
 * every 10 s) and shuts down in order: answer suspended pulls, unregister,
 * drain replies, persist, close the store. Also the small reply helpers the
 * handlers share. Loop-thread only. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "broker/broker_int.h"
#include "broker/ha/ha.h"
#include "runtime/clock.h"
#include "runtime/log.h"

#define BROKER_ARENA_LIMIT ((size_t)64 << 20)
#define BROKER_TICK_MS 10000

/* ---- reply helpers ---- */

void tern_broker_resp_init(tern_cmd_t *r, int32_t code) {
  tern_cmd_init(r);
  r->code = code;
}

int tern_broker_reply_code(tern_conn_t *c, const tern_cmd_t *req, int32_t code, const char *remark) {
  tern_conn_reply_error(c, req, code, remark);
  return 0;
}

int tern_broker_reply_out(tern_broker_t *b, tern_conn_t *c, const tern_cmd_t *req) {
  tern_cmd_t resp;
  if (b->out.err) return tern_broker_reply_code(c, req, TERN_RESP_SYSTEM_ERROR, "response body too large");
  tern_cmd_init(&resp);
  resp.code = TERN_RESP_SUCCESS;
  resp.body = (tern_str_t){(const char *)b->out.p, b->out.len};
  tern_conn_reply(c, req, &resp);
  return 0;
}

const char *tern_broker_remarkf(tern_broker_t *b, const char *fmt, ...) {
  va_list ap;
  int n;
  char *p;
  va_start(ap, fmt);
  n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0 || !(p = tern_arena_alloc(&b->arena, (size_t)n + 1))) return "(remark too long)";
  va_start(ap, fmt);
  vsnprintf(p, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return p;
}

/* ---- request entry ---- */

static int on_request(void *ctx, tern_conn_t *c, const tern_cmd_t *req, tern_err_t *err) {
  tern_broker_t *b = ctx;
  tern_arena_reset(&b->arena);
  return tern_broker_dispatch(&b->handlers, b, c, req, err);
}

static void on_conn_close(void *ctx, tern_conn_t *c) {
  tern_broker_t *b = ctx;
  if (b->hooks.on_conn_close) b->hooks.on_conn_close(b, c);
}

/* ---- store glue ---- */

static void store_log(void *ctx, const char *line) {
  TERN_UNUSED(ctx);
  tern_warn("store: %s", line);
}

static void fill_store_conf(tern_broker_t *b) {
  tern_store_config_t *s = &b->store_conf;
  tern_store_config_init(s);
  s->store_path_root_dir = b->conf.store_path_root_dir;
  s->store_path_commit_log = b->conf.store_path_commit_log;
  s->mapped_file_size_commit_log = b->conf.mapped_file_size_commit_log;
  s->mapped_file_size_consume_queue = b->conf.mapped_file_size_consume_queue;
  s->flush_disk_type = (b->conf.flush_disk_type && strcmp(b->conf.flush_disk_type, "SYNC_FLUSH") == 0)
                           ? TERN_FLUSH_SYNC
                           : TERN_FLUSH_ASYNC;
  s->flush_interval_commit_log = b->conf.flush_interval_commit_log;
  s->flush_commit_log_least_pages = b->conf.flush_commit_log_least_pages;
  s->flush_interval_consume_queue = b->conf.flush_interval_consume_queue;
  s->sync_flush_timeout = b->conf.sync_flush_timeout;
  s->file_reserved_time = b->conf.file_reserved_time;
  s->delete_when = b->conf.delete_when;
  s->max_message_size = b->conf.max_message_size;
  s->message_index_enable = b->conf.message_index_enable;
  if (b->conf.message_delay_level) s->message_delay_level = b->conf.message_delay_level;
  s->slave_mode = tern_broker_ha_role_slave(b); /* HA: a slave's store takes only replicated bytes */
  s->log = store_log;
  s->hook_ctx = b;
}

/* brokerIP1, or the first non-loopback IPv4 address (RemotingUtil.getLocalAddress), else 127.0.0.1. */
static void pick_ip(tern_broker_t *b, char *ip, size_t cap) {
  uv_interface_address_t *ifs = NULL;
  int n = 0;
  if (b->conf.broker_ip1 && *b->conf.broker_ip1) {
    snprintf(ip, cap, "%s", b->conf.broker_ip1);
    return;
  }
  snprintf(ip, cap, "127.0.0.1");
  if (uv_interface_addresses(&ifs, &n) == 0) {
    for (int i = 0; i < n; i++) {
      if (ifs[i].is_internal || ifs[i].address.address4.sin_family != AF_INET) continue;
      uv_ip4_name(&ifs[i].address.address4, ip, cap);
      break;
    }
    uv_free_interface_addresses(ifs, n);
  }
}

int tern_broker_init(tern_broker_t *b, tern_err_t *err) {
  static char root[1024];
  int rc;
  tern_buf_init(&b->out, 0);
  tern_arena_init(&b->arena, BROKER_ARENA_LIMIT, b->arena_block, sizeof b->arena_block);
  if (!b->conf.store_path_root_dir || !*b->conf.store_path_root_dir) {
    const char *home = getenv("HOME");
    snprintf(root, sizeof root, "%s/store", home && *home ? home : ".");
    b->conf.store_path_root_dir = root;
  }
  if (b->conf.broker_role && strcmp(b->conf.broker_role, "SLAVE") != 0) b->conf.broker_id = 0; /* masters are id 0 */
  fill_store_conf(b);
  rc = tern_store_open(&b->store_conf, &b->store, err);
  if (rc) return rc;
  if ((rc = tern_broker_topics_init(b, err))) return rc;
  if ((rc = tern_broker_offsets_init(b, err))) return rc;
  if ((rc = tern_broker_sched_init(b, err))) return rc;
  if ((rc = tern_broker_sendq_init(b)) || (rc = tern_broker_lp_init(b)))
    return tern_fail(err, rc, "out of memory", NULL, 0);
  memset(&b->handlers, 0, sizeof b->handlers);
  tern_broker_send_install(&b->handlers);
  tern_broker_pull_install(&b->handlers);
  tern_broker_offsets_install(&b->handlers);
  tern_broker_query_install(&b->handlers);
  tern_broker_ha_install(b, &b->handlers); /* GET_ALL_DELAY_OFFSET for slaves (broker/ha/) */
  b->rpc.handlers = &b->handlers;
  b->rpc.ctx = b;
  return 0;
}

static void on_offsets_timer(uv_timer_t *t) {
  tern_broker_t *b = t->data;
  if (b->offsets_dirty) tern_broker_offsets_persist(b);
}

static void on_tick(uv_timer_t *t) {
  tern_broker_t *b = t->data;
  tern_store_tick(b->store);
  if (b->hooks.tick) b->hooks.tick(b);
}

int tern_broker_port(const tern_broker_t *b, int i) { return tern_server_port(&b->server, i); }

int tern_broker_start(tern_broker_t *b, tern_err_t *err) {
  char ip[46];
  int rc, port = b->conf.listen_port, vip;
  struct in_addr a4;
  struct in6_addr a6;
  if (tern_broker_clients_install) {
    rc = tern_broker_clients_install(b, &b->handlers);
    if (rc) return tern_fail(err, rc, "client management failed to install", NULL, 0);
  }
  tern_server_init(&b->server, b->loop, on_request, b);
  b->server.on_conn_close = on_conn_close;
  b->server.data = b;
  if ((rc = tern_server_listen(&b->server, b->conf.bind_address, port)))
    return tern_fail(err, rc, "cannot listen on listenPort", "listenPort", 0);
  port = tern_server_port(&b->server, 0);
  vip = b->conf.listen_port > 2 ? b->conf.listen_port - 2 : 0; /* listenPort 0 (tests): any free port */
  if ((rc = tern_server_listen(&b->server, b->conf.bind_address, vip)))
    return tern_fail(err, rc, "cannot listen on listenPort-2 (VIP channel)", "listenPort", 0);

  pick_ip(b, ip, sizeof ip);
  snprintf(b->store_host, sizeof b->store_host, "%.46s:%d", ip, port);
  memset(&b->store_host_addr, 0, sizeof b->store_host_addr);
  if (inet_pton(AF_INET, ip, &a4) == 1) {
    memcpy(b->store_host_addr.ip, &a4, 4);
    b->store_host_addr.ip_len = 4;
  } else if (inet_pton(AF_INET6, ip, &a6) == 1) {
    memcpy(b->store_host_addr.ip, &a6, 16);
    b->store_host_addr.ip_len = 16;
  } else {
    return tern_fail(err, TERN_EINVAL, "brokerIP1 is not an IP address", "brokerIP1", 0);
  }
  b->store_host_addr.port = port;

  tern_pool_init(&b->pool, b->loop, on_request, b);
  uv_timer_init(b->loop->uv, &b->t_offsets);
  b->t_offsets.data = b;
  uv_timer_start(&b->t_offsets, on_offsets_timer, (uint64_t)b->conf.flush_consumer_offset_interval,
                 (uint64_t)b->conf.flush_consumer_offset_interval);
  uv_timer_init(b->loop->uv, &b->t_tick);
  b->t_tick.data = b;
  uv_timer_start(&b->t_tick, on_tick, BROKER_TICK_MS, BROKER_TICK_MS);
  /* HA (broker/ha/): listener and slave client before the first registration announces haServerAddr */
  if ((rc = tern_broker_ha_start(b, err))) return rc;
  tern_broker_register_start(b);
  if (!b->store_conf.slave_mode) tern_broker_sched_start(b); /* slaves deliver nothing (ScheduleMessageService runs on masters) */
  return 0;
}

/* ---- shutdown ---- */

static void on_pool_closed(tern_pool_t *p) {
  tern_broker_t *b = p->data;
  uv_close((uv_handle_t *)&b->t_offsets, NULL);
  uv_close((uv_handle_t *)&b->t_tick, NULL);
  if (b->on_stopped) b->on_stopped(b);
}

static void on_server_closed(tern_server_t *s) {
  tern_broker_t *b = s->data;
  tern_broker_offsets_persist(b);
  tern_broker_topics_persist(b);
  tern_broker_sched_stop(b);
  tern_store_close(b->store); /* completes any SYNC_FLUSH waiter left */
  b->store = NULL;
  tern_broker_sendq_drain(b);
  b->pool.data = b;
  tern_pool_close(&b->pool, on_pool_closed);
}

static void after_unregister(tern_broker_t *b) { tern_server_close(&b->server, on_server_closed); }

void tern_broker_stop(tern_broker_t *b) {
  if (b->stopping) return;
  b->stopping = true;
  uv_timer_stop(&b->t_offsets);
  uv_timer_stop(&b->t_tick);
  tern_broker_register_stop(b);
  tern_broker_ha_stop(b); /* parked SYNC_MASTER replies answered, HA handles closed */
  tern_broker_sched_stop(b); /* no deliveries while draining; delayOffset.json written */
  if (b->hooks.shutdown) b->hooks.shutdown(b);
  tern_broker_lp_flush_all(b);
  tern_broker_unregister_all(b, after_unregister);
}

void tern_broker_free(tern_broker_t *b) {
  if (tern_broker_clients_free) tern_broker_clients_free(b);
  if (b->store) tern_store_close(b->store);
  b->store = NULL;
  tern_broker_lp_free(b);
  tern_broker_sendq_free(b);
  tern_broker_sched_free(b);
  tern_broker_topics_free(b);
  tern_broker_offsets_free(b);
  tern_broker_register_free(b);
  tern_broker_ha_free(b);
  tern_buf_free(&b->out);
  tern_arena_free(&b->arena);
}
