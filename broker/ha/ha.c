/* Replication, master side and life cycle (reference §8.10, §8.11; RocketMQ
 * 4.9 HAService / HAConnection / GroupTransferService, re-implemented from the
 * spec). Everything runs on the broker's loop thread: the HA listener and
 * every slave connection are plain libuv TCP handles (the HA protocol has no
 * remoting frames), the commit-log bytes are read from the store's mapping by
 * the store's owner thread, and SYNC_MASTER replies are answered in the same
 * read callback that parses the slave's report, so one slave ack answers every
 * send it covers (one wake-up per ack round). New data is pushed from a
 * uv_prepare handle, which runs once per loop iteration after every request
 * of the pass was stored: one transfer per slave per pass, not per message.
 *
 * Wire format: the slave reports its max offset as an 8-byte big-endian long
 * (only whole units count, the last one wins); the master sends frames of
 * phys offset (8) + size (4) + that many raw commit-log bytes, at most
 * haTransferBatchSize and never across a file boundary; size 0 is a
 * heartbeat, sent after haSendHeartbeatInterval without data. A peer that
 * reports a negative offset or one past the master's log, or one below its
 * oldest file, is disconnected; so is one silent for haHousekeepingInterval. */
#include <stdio.h>
#include <stdlib.h>

#include "broker/clients.h"
#include "broker/ha/ha_int.h"
#include "broker/store/meta.h"
#include "runtime/log.h"

/* ---- configuration ---- */

tern_broker_ha_conf_t tern_broker_ha_conf = {
    .ha_listen_port = 0,
    .ha_master_address = NULL,
    .ha_send_heartbeat_interval = 5000,
    .ha_housekeeping_interval = 20000,
    .ha_transfer_batch_size = 32768,
    .ha_slave_fallbehind_max = 268435456,
    .slave_read_enable = false,
    .slave_sync_interval = 10000,
};

#define C tern_broker_ha_conf_t
const tern_cfg_item_t tern_broker_ha_conf_items[] = {
    TERN_CFG_INT(C, ha_listen_port, "haListenPort", "0", true,
                 "HA port slaves connect to; 0 = listenPort+1 (4.9 always uses listenPort+1)"),
    TERN_CFG_STR(C, ha_master_address, "haMasterAddress", NULL, true,
                 "slave: master's HA address ip:port (default: haServerAddr from the name server)"),
    TERN_CFG_INT(C, ha_send_heartbeat_interval, "haSendHeartbeatInterval", "5000", false,
                 "ms between HA heartbeats / slave reports"),
    TERN_CFG_INT(C, ha_housekeeping_interval, "haHousekeepingInterval", "20000", false,
                 "ms of silence before an HA connection is closed"),
    TERN_CFG_INT(C, ha_transfer_batch_size, "haTransferBatchSize", "32768", false,
                 "largest block of commit-log bytes per HA frame"),
    TERN_CFG_LONG(C, ha_slave_fallbehind_max, "haSlaveFallbehindMax", "268435456", false,
                  "SYNC_MASTER: bytes a slave may lag before sends get SLAVE_NOT_AVAILABLE"),
    TERN_CFG_BOOL(C, slave_read_enable, "slaveReadEnable", "false", true,
                  "consumers may be directed to slaves (suggestWhichBrokerId)"),
    TERN_CFG_INT(C, slave_sync_interval, "slaveSyncInterval", "10000", false,
                 "slave: ms between metadata copies from the master (Tern; 4.9 uses 10 s)"),
};
#undef C
const size_t tern_broker_ha_conf_n_items = TERN_ARRAY_SIZE(tern_broker_ha_conf_items);

int tern_broker_ha_conf_add(tern_config_t *cfg) {
  return tern_config_add(cfg, tern_broker_ha_conf_items, tern_broker_ha_conf_n_items, &tern_broker_ha_conf);
}

static const tern_broker_ha_conf_t *CF(void) { return &tern_broker_ha_conf; }

bool tern_broker_ha_role_slave(const tern_broker_t *b) {
  return b->conf.broker_role && strcmp(b->conf.broker_role, "SLAVE") == 0;
}

bool tern_broker_ha_sync_master(const tern_broker_t *b) {
  return b->ha && b->ha->sync_master && !b->ha->stopping;
}

int tern_broker_ha_port(const tern_broker_t *b) {
  if (b->ha && b->ha->port > 0) return b->ha->port;
  return tern_broker_port(b, 0) + 1;
}

void tern_broker_ha_get_stats(const tern_broker_t *b, tern_broker_ha_stats_t *st) {
  memset(st, 0, sizeof *st);
  if (!b->ha) return;
  *st = b->ha->st;
  st->slaves = b->ha->nconns;
  st->ack_offset = b->ha->ack;
}

int64_t tern_broker_ha_suggest(const tern_broker_t *b, const tern_body_subscription_group_config_t *g, bool slow) {
  TERN_UNUSED(b);
  if (!CF()->slave_read_enable) return 0;
  if (slow) return g ? g->which_broker_when_consume_slowly : 1;
  return g ? g->broker_id : 0;
}

/* ---- SYNC_MASTER waiters (GroupTransferService) ---- */

static void ha_wait_timer_cb(uv_timer_t *t);

static void park_answer(struct tern_ha *ha, hpark_t *p, int32_t code) {
  tern_broker_t *b = ha->b;
  tern_cmd_t req;
  tern_str_t id = {p->id, p->id_len};
  tern_cmd_init(&req);
  req.code = p->code;
  req.opaque = p->opaque;
  req.flag = p->flag;
  req.language = p->language;
  req.serialize_type = p->serialize_type;
  if (code == TERN_RESP_SUCCESS && p->then_flush && b->sendq && b->store) {
    /* SYNC_FLUSH as well: the disk's answer decides now (sendq refs the connection itself) */
    tern_broker_sendq_park(b, p->c, &req, p->end, id, p->queue_id, p->queue_offset);
  } else {
    tern_arena_reset(&ha->scratch);
    tern_broker_send_reply_ok(b, p->c, &req, code, id, p->queue_id, p->queue_offset, &ha->scratch);
  }
  tern_conn_unref(p->c);
  ha->parked--;
  free(p);
}

static void wait_timer_arm(struct tern_ha *ha) {
  if (!ha->ph) {
    if (ha->wait_timer_on) uv_timer_stop(&ha->wait_timer);
    ha->wait_timer_on = false;
    return;
  }
  uint64_t now = uv_now(ha->b->loop->uv);
  uint64_t due = (uint64_t)ha->ph->deadline > now ? (uint64_t)ha->ph->deadline - now : 0;
  ha->wait_timer_on = true;
  uv_timer_start(&ha->wait_timer, ha_wait_timer_cb, due, 0);
}

/* Answers every parked reply a slave's ack covers (they are in end order). */
static void wake_waiters(struct tern_ha *ha) {
  bool any = false;
  while (ha->ph && ha->ph->end <= ha->ack) {
    hpark_t *p = ha->ph;
    ha->ph = p->next;
    if (!ha->ph) ha->pt = NULL;
    park_answer(ha, p, TERN_RESP_SUCCESS);
    any = true;
  }
  if (any) wait_timer_arm(ha);
}

static void ha_wait_timer_cb(uv_timer_t *t) {
  struct tern_ha *ha = t->data;
  uint64_t now = uv_now(ha->b->loop->uv);
  ha->wait_timer_on = false;
  while (ha->ph && (uint64_t)ha->ph->deadline <= now) {
    hpark_t *p = ha->ph;
    ha->ph = p->next;
    if (!ha->ph) ha->pt = NULL;
    park_answer(ha, p, TERN_RESP_FLUSH_SLAVE_TIMEOUT);
  }
  wait_timer_arm(ha);
}

int tern_broker_ha_park(tern_broker_t *b, tern_conn_t *c, const tern_cmd_t *req, int64_t end_offset, tern_str_t msg_id,
                        int32_t queue_id, int64_t queue_offset, bool then_flush) {
  struct tern_ha *ha = b->ha;
  hpark_t *p = malloc(sizeof *p + msg_id.n + 1);
  if (!p) return tern_broker_send_reply_ok(b, c, req, TERN_RESP_FLUSH_SLAVE_TIMEOUT, msg_id, queue_id, queue_offset,
                                           &b->arena);
  memset(p, 0, sizeof *p);
  p->c = c;
  p->code = req->code;
  p->opaque = req->opaque;
  p->flag = req->flag;
  p->language = req->language;
  p->serialize_type = req->serialize_type;
  p->end = end_offset;
  p->queue_id = queue_id;
  p->queue_offset = queue_offset;
  p->then_flush = then_flush;
  p->id_len = msg_id.n;
  memcpy(p->id, msg_id.p, msg_id.n);
  p->id[msg_id.n] = 0;
  tern_conn_ref(c);
  ha->parked++;
  /* HAService.isSlaveOK: a slave connected and not too far behind */
  if (ha->nconns == 0 || end_offset - ha->ack >= CF()->ha_slave_fallbehind_max) {
    park_answer(ha, p, TERN_RESP_SLAVE_NOT_AVAILABLE);
    return 0;
  }
  if (end_offset <= ha->ack) {
    park_answer(ha, p, TERN_RESP_SUCCESS);
    return 0;
  }
  p->deadline = (int64_t)uv_now(b->loop->uv) + b->conf.sync_flush_timeout;
  if (ha->pt)
    ha->pt->next = p;
  else
    ha->ph = p;
  ha->pt = p;
  if (!ha->wait_timer_on) wait_timer_arm(ha);
  return 0;
}

/* ---- master: slave connections (HAConnection) ---- */

static void conn_closed(uv_handle_t *h) {
  hconn_t *hc = h->data;
  free(hc->wbuf);
  free(hc);
}

static void conn_close(hconn_t *hc, const char *why, bool bad) {
  struct tern_ha *ha = hc->ha;
  if (hc->closing) return;
  hc->closing = true;
  if (bad) ha->st.bad_peers++;
  if (why) tern_warn("ha: closing slave connection %s: %s", hc->peer, why);
  if (hc->prev)
    hc->prev->next = hc->next;
  else
    ha->conns = hc->next;
  if (hc->next) hc->next->prev = hc->prev;
  ha->nconns--;
  uv_close((uv_handle_t *)&hc->tcp, conn_closed);
}

static void try_transfer(hconn_t *hc);

static void on_conn_write(uv_write_t *w, int status) {
  hconn_t *hc = w->data;
  hc->writing = false;
  if (hc->closing) return;
  if (status < 0) {
    conn_close(hc, uv_strerror(status), false);
    return;
  }
  hc->last_write = uv_now(hc->ha->b->loop->uv);
  try_transfer(hc);
}

/* Sends the next block (or a heartbeat when due) unless a write is in flight. */
static void try_transfer(hconn_t *hc) {
  struct tern_ha *ha = hc->ha;
  const uint8_t *p;
  size_t n;
  if (hc->closing || hc->writing || !hc->reported || !ha->b->store) return;
  int rc = tern_store_read_raw(ha->b->store, hc->next_off, (size_t)CF()->ha_transfer_batch_size, &p, &n);
  if (rc) {
    conn_close(hc, "the slave's offset is no longer in the commit log", false);
    return;
  }
  uint64_t now = uv_now(ha->b->loop->uv);
  if (n == 0 && now - hc->last_write < (uint64_t)CF()->ha_send_heartbeat_interval) return;
  tern_store_be64(hc->wbuf, (uint64_t)hc->next_off);
  tern_store_be32(hc->wbuf + 8, (uint32_t)n);
  if (n) memcpy(hc->wbuf + HA_HEADER, p, n); /* copied: a stalled slave must not pin a mapping */
  uv_buf_t buf = uv_buf_init((char *)hc->wbuf, (unsigned)(HA_HEADER + n));
  hc->wr.data = hc;
  int wrc = uv_write(&hc->wr, (uv_stream_t *)&hc->tcp, &buf, 1, on_conn_write);
  if (wrc) {
    conn_close(hc, uv_strerror(wrc), false);
    return;
  }
  hc->writing = true;
  hc->next_off += (int64_t)n;
  ha->st.bytes_sent += (int64_t)n;
}

static void on_report(hconn_t *hc, int64_t off) {
  struct tern_ha *ha = hc->ha;
  tern_store_t *s = ha->b->store;
  int64_t max = tern_store_commitlog_max_offset(s);
  if (off < 0 || off > max) {
    conn_close(hc, off < 0 ? "negative offset reported" : "reported offset is past the master's commit log", true);
    return;
  }
  if (!hc->reported) {
    /* The first report fixes the start: 0 = the beginning of the master's last file. */
    int64_t start = off == 0 ? max - max % ha->file_size : off;
    if (start < tern_store_commitlog_min_offset(s) && max > 0) {
      conn_close(hc, "the slave needs commit-log data the master has deleted", true);
      return;
    }
    hc->reported = true;
    hc->next_off = start;
    tern_info("ha: slave %s reported offset %lld, transfer starts at %lld", hc->peer, (long long)off,
              (long long)start);
  }
  hc->ack = off;
  if (off > ha->ack) {
    ha->ack = off;
    wake_waiters(ha);
  }
}

static void on_conn_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  hconn_t *hc = h->data;
  TERN_UNUSED(suggested);
  *buf = uv_buf_init((char *)hc->rbuf + hc->rlen, (unsigned)(sizeof hc->rbuf - hc->rlen));
}

static void on_conn_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf) {
  hconn_t *hc = st->data;
  TERN_UNUSED(buf);
  if (hc->closing) return;
  if (nread < 0) {
    conn_close(hc, nread == UV_EOF ? NULL : uv_strerror((int)nread), false);
    return;
  }
  if (nread == 0) return;
  hc->rlen += (size_t)nread;
  hc->last_read = uv_now(hc->ha->b->loop->uv);
  size_t units = hc->rlen / 8;
  if (!units) return;
  int64_t off = (int64_t)tern_load_be64(hc->rbuf + (units - 1) * 8); /* the last whole report wins */
  size_t rest = hc->rlen - units * 8;
  memmove(hc->rbuf, hc->rbuf + units * 8, rest);
  hc->rlen = rest;
  on_report(hc, off);
  if (!hc->closing) try_transfer(hc);
}

static void on_accept(uv_stream_t *srv, int status) {
  struct tern_ha *ha = srv->data;
  if (status < 0 || ha->stopping) return;
  hconn_t *hc = calloc(1, sizeof *hc);
  if (!hc || !(hc->wbuf = malloc(HA_HEADER + (size_t)CF()->ha_transfer_batch_size))) {
    free(hc); /* out of memory: the connection stays in the backlog until a later accept */
    return;
  }
  hc->ha = ha;
  uv_tcp_init(ha->b->loop->uv, &hc->tcp);
  hc->tcp.data = hc;
  if (uv_accept(srv, (uv_stream_t *)&hc->tcp) != 0) {
    uv_close((uv_handle_t *)&hc->tcp, conn_closed);
    return;
  }
  uv_tcp_nodelay(&hc->tcp, 1);
  struct sockaddr_storage ss;
  int len = sizeof ss;
  snprintf(hc->peer, sizeof hc->peer, "?");
  if (uv_tcp_getpeername(&hc->tcp, (struct sockaddr *)&ss, &len) == 0) {
    char ip[64] = "";
    if (ss.ss_family == AF_INET) {
      uv_ip4_name((struct sockaddr_in *)&ss, ip, sizeof ip);
      snprintf(hc->peer, sizeof hc->peer, "%.64s:%d", ip, ntohs(((struct sockaddr_in *)&ss)->sin_port));
    } else if (ss.ss_family == AF_INET6) {
      uv_ip6_name((struct sockaddr_in6 *)&ss, ip, sizeof ip);
      snprintf(hc->peer, sizeof hc->peer, "[%.64s]:%d", ip, ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
    }
  }
  hc->last_read = hc->last_write = uv_now(ha->b->loop->uv);
  hc->next = ha->conns;
  if (ha->conns) ha->conns->prev = hc;
  ha->conns = hc;
  ha->nconns++;
  tern_info("ha: slave connected from %s", hc->peer);
  uv_read_start((uv_stream_t *)&hc->tcp, on_conn_alloc, on_conn_read);
}

/* Once per loop iteration, after every request of the pass: push new data. */
static void on_prepare(uv_prepare_t *p) {
  struct tern_ha *ha = p->data;
  for (hconn_t *hc = ha->conns, *n; hc; hc = n) {
    n = hc->next;
    if (!hc->writing && hc->reported) try_transfer(hc);
  }
}

static void on_timer(uv_timer_t *t) {
  struct tern_ha *ha = t->data;
  uint64_t now = uv_now(ha->b->loop->uv);
  for (hconn_t *hc = ha->conns, *n; hc; hc = n) {
    n = hc->next;
    if (now - hc->last_read > (uint64_t)CF()->ha_housekeeping_interval) {
      conn_close(hc, "nothing received within haHousekeepingInterval", false);
      continue;
    }
    try_transfer(hc); /* a heartbeat when due */
  }
  if (ha->slave) ha_slave_tick(ha, now);
}

/* ---- GET_ALL_DELAY_OFFSET (45): delayOffset.json as it is on disk (AdminBrokerProcessor) ---- */

static int get_all_delay_offset(void *ctx, tern_conn_t *c, const tern_cmd_t *req) {
  tern_broker_t *b = ctx;
  char path[1100];
  FILE *f;
  tern_cmd_t resp;
  snprintf(path, sizeof path, "%s/config/delayOffset.json", b->conf.store_path_root_dir);
  tern_buf_reset(&b->out);
  if ((f = fopen(path, "rb"))) {
    uint8_t tmp[4096];
    size_t k;
    while ((k = fread(tmp, 1, sizeof tmp, f)) > 0) tern_buf_append(&b->out, tmp, k);
    fclose(f);
  }
  if (!f || b->out.len == 0 || b->out.err)
    return tern_broker_reply_code(c, req, TERN_RESP_SYSTEM_ERROR, "No delay offset in this broker");
  tern_broker_resp_init(&resp, TERN_RESP_SUCCESS);
  resp.body = (tern_str_t){(const char *)b->out.p, b->out.len};
  tern_conn_reply(c, req, &resp);
  return 0;
}

void tern_broker_ha_install(tern_broker_t *b, tern_broker_handlers_t *h) {
  TERN_UNUSED(b);
  if (!h->get_all_delay_offset) h->get_all_delay_offset = get_all_delay_offset;
}

/* ---- life cycle ---- */

int tern_broker_ha_start(tern_broker_t *b, tern_err_t *err) {
  struct tern_ha *ha = calloc(1, sizeof *ha);
  struct sockaddr_storage ss;
  int rc, port;
  if (!ha) return tern_fail(err, TERN_ENOMEM, "out of memory", NULL, 0);
  b->ha = ha;
  ha->b = b;
  ha->slave = tern_broker_ha_role_slave(b);
  ha->sync_master = b->conf.broker_role && strcmp(b->conf.broker_role, "SYNC_MASTER") == 0;
  ha->file_size = b->store_conf.mapped_file_size_commit_log;
  tern_arena_init(&ha->scratch, 0, NULL, 0);
  if (CF()->ha_transfer_batch_size <= 0 || CF()->ha_transfer_batch_size > (64 << 20) ||
      CF()->ha_send_heartbeat_interval <= 0 || CF()->ha_housekeeping_interval <= 0)
    return tern_fail(err, TERN_EINVAL, "haTransferBatchSize, haSendHeartbeatInterval and haHousekeepingInterval must be > 0",
                     "haTransferBatchSize", 0);
  port = CF()->ha_listen_port > 0 ? CF()->ha_listen_port : (b->conf.listen_port > 0 ? b->conf.listen_port + 1 : 0);
  const char *host = b->conf.bind_address && *b->conf.bind_address ? b->conf.bind_address : "0.0.0.0";
  if (uv_ip4_addr(host, port, (struct sockaddr_in *)&ss) != 0 && uv_ip6_addr(host, port, (struct sockaddr_in6 *)&ss) != 0)
    return tern_fail(err, TERN_EINVAL, "bindAddress is not an IP address", "bindAddress", 0);
  uv_tcp_init(b->loop->uv, &ha->listener);
  ha->listener.data = ha;
  ha->listening = true;
  if ((rc = uv_tcp_bind(&ha->listener, (struct sockaddr *)&ss, 0)) != 0 ||
      (rc = uv_listen((uv_stream_t *)&ha->listener, 64, on_accept)) != 0)
    return tern_fail(err, TERN_EIO, "cannot listen on the HA port (haListenPort / listenPort+1)", "haListenPort", 0);
  {
    struct sockaddr_storage bound;
    int len = sizeof bound;
    uv_tcp_getsockname(&ha->listener, (struct sockaddr *)&bound, &len);
    ha->port = bound.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&bound)->sin6_port)
                                           : ntohs(((struct sockaddr_in *)&bound)->sin_port);
  }
  uv_prepare_init(b->loop->uv, &ha->prep);
  ha->prep.data = ha;
  uv_prepare_start(&ha->prep, on_prepare);
  uv_unref((uv_handle_t *)&ha->prep);
  uv_timer_init(b->loop->uv, &ha->timer);
  ha->timer.data = ha;
  uv_timer_start(&ha->timer, on_timer, HA_TIMER_MS, HA_TIMER_MS);
  uv_timer_init(b->loop->uv, &ha->wait_timer);
  ha->wait_timer.data = ha;
  ha->started = true;
  if (ha->slave) ha_slave_init(ha);
  tern_info("ha: %s, HA port %d", b->conf.broker_role ? b->conf.broker_role : "ASYNC_MASTER", ha->port);
  return 0;
}

void tern_broker_ha_stop(tern_broker_t *b) {
  struct tern_ha *ha = b->ha;
  if (!ha || ha->stopping) return;
  ha->stopping = true;
  /* nothing acknowledged these: they were stored, but no slave confirmed them */
  while (ha->ph) {
    hpark_t *p = ha->ph;
    ha->ph = p->next;
    park_answer(ha, p, TERN_RESP_FLUSH_SLAVE_TIMEOUT);
  }
  ha->pt = NULL;
  if (!ha->started) {
    if (ha->listening) uv_close((uv_handle_t *)&ha->listener, NULL);
    return;
  }
  while (ha->conns) conn_close(ha->conns, NULL, false);
  if (ha->slave) ha_slave_stop(ha);
  uv_close((uv_handle_t *)&ha->listener, NULL);
  uv_close((uv_handle_t *)&ha->prep, NULL);
  uv_close((uv_handle_t *)&ha->timer, NULL);
  uv_close((uv_handle_t *)&ha->wait_timer, NULL);
}

void tern_broker_ha_free(tern_broker_t *b) {
  struct tern_ha *ha = b->ha;
  if (!ha) return;
  ha_slave_free(ha);
  tern_arena_free(&ha->scratch);
  free(ha);
  b->ha = NULL;
}

void tern_broker_ha_on_register_reply(tern_broker_t *b, const tern_cmd_t *resp) {
  const tern_str_t *m, *h;
  if (!b->ha || !b->ha->slave || b->ha->stopping) return;
  m = tern_cmd_ext_get(resp, "masterAddr");
  h = tern_cmd_ext_get(resp, "haServerAddr");
  ha_slave_set_addrs(b->ha, m ? *m : TERN_STR_NULL, h ? *h : TERN_STR_NULL);
}
