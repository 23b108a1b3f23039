/* Replication, slave side (reference §8.11, RocketMQ 4.9 HAService.HAClient and
 * SlaveSynchronize, re-implemented from the spec), on the broker's loop
 * thread. The HA client connects to haMasterAddress, or to the haServerAddr
 * the name server returned with the master's registration, reports the local
 * commit-log max offset (8 bytes, big-endian) right after connecting, after
 * every read that appended data and at least every haSendHeartbeatInterval,
 * and appends each frame's bytes with tern_store_append_raw at exactly the
 * master's offset (a frame whose offset differs from a non-zero local max
 * offset, a size that is negative or larger than a commit-log file, or bytes
 * that are not records close the connection; it is opened again after
 * HA_RECONNECT_MS). Records completed by a frame are dispatched by the store
 * and wake the pulls suspended on their queues. A connection silent for
 * haHousekeepingInterval is closed.
 *
 * Metadata: every slaveSyncInterval (10 s, first right after the master's
 * address is known) the slave asks the master (masterAddr from the
 * REGISTER_BROKER reply) for GET_ALL_TOPIC_CONFIG, GET_ALL_CONSUMER_OFFSET,
 * GET_ALL_DELAY_OFFSET and GET_ALL_SUBSCRIPTIONGROUP_CONFIG and stores what
 * it gets: topics and subscription groups when the master's data version
 * changed, every consumer offset, delayOffset.json as sent. */
#include <stdio.h>
#include <stdlib.h>

#include "broker/clients.h"
#include "broker/ha/ha_int.h"
#include "broker/store/meta.h"
#include "broker/subgroups.h"
#include "runtime/log.h"

#define SYNC_TIMEOUT_MS 3000

static const tern_broker_ha_conf_t *CF(void) { return &tern_broker_ha_conf; }

/* ---- the HA connection ---- */

static void sl_closed(uv_handle_t *h) {
  hslave_t *sl = h->data;
  sl->state = SL_IDLE;
  sl->writing = false;
  sl->rlen = 0;
}

static void sl_close(hslave_t *sl, const char *why, bool bad) {
  if (sl->state == SL_IDLE || sl->state == SL_CLOSING) return;
  if (bad) sl->ha->st.bad_peers++;
  if (why) tern_warn("ha: closing the connection to master %s: %s", sl->ha_addr, why);
  sl->state = SL_CLOSING;
  sl->next_connect = uv_now(sl->ha->b->loop->uv) + HA_RECONNECT_MS;
  uv_close((uv_handle_t *)&sl->tcp, sl_closed);
}

static void sl_report(hslave_t *sl);

static void on_sl_write(uv_write_t *w, int status) {
  hslave_t *sl = w->data;
  sl->writing = false;
  if (sl->state != SL_CONNECTED) return;
  if (status < 0) {
    sl_close(sl, uv_strerror(status), false);
    return;
  }
  if (sl->report_again) sl_report(sl);
}

/* Writes the local max offset (one 8-byte report in flight at a time). */
static void sl_report(hslave_t *sl) {
  tern_store_t *s = sl->ha->b->store;
  if (sl->state != SL_CONNECTED || !s) return;
  if (sl->writing) {
    sl->report_again = true;
    return;
  }
  sl->report_again = false;
  sl->reported = tern_store_commitlog_max_offset(s);
  tern_store_be64(sl->wbuf, (uint64_t)sl->reported);
  uv_buf_t buf = uv_buf_init((char *)sl->wbuf, 8);
  sl->wr.data = sl;
  if (uv_write(&sl->wr, (uv_stream_t *)&sl->tcp, &buf, 1, on_sl_write) != 0) {
    sl_close(sl, "cannot write the report", false);
    return;
  }
  sl->writing = true;
  sl->last_report = uv_now(sl->ha->b->loop->uv);
}

static void on_record(void *ctx, const tern_msg_record_t *r) {
  hslave_t *sl = ctx;
  if (!tern_str_eq_cstr(r->topic, TERN_TOPIC_SCHEDULE)) tern_broker_notify_arrival(sl->ha->b, r->topic, r->queue_id);
}

/* Largest frame body accepted: a commit-log file, at most 64 MiB (a master sends haTransferBatchSize, 32 KiB). */
static size_t max_body(const hslave_t *sl) {
  return sl->ha->file_size < (64 << 20) ? (size_t)sl->ha->file_size : (size_t)64 << 20;
}
static size_t max_frame(const hslave_t *sl) { return HA_HEADER + max_body(sl); }

static void on_sl_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  hslave_t *sl = h->data;
  size_t want = sl->rlen + 65536;
  TERN_UNUSED(suggested);
  if (want > max_frame(sl) + 65536) want = max_frame(sl) + 65536;
  if (sl->rcap < want) {
    uint8_t *n = realloc(sl->rb, want);
    if (n) {
      sl->rb = n;
      sl->rcap = want;
    }
  }
  *buf = uv_buf_init((char *)sl->rb + sl->rlen, (unsigned)(sl->rcap > sl->rlen ? sl->rcap - sl->rlen : 0));
}

static void on_sl_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf) {
  hslave_t *sl = st->data;
  tern_broker_t *b = sl->ha->b;
  size_t pos = 0;
  bool appended = false;
  TERN_UNUSED(buf);
  if (sl->state != SL_CONNECTED) return;
  if (nread < 0) {
    sl_close(sl, nread == UV_EOF ? "the master closed the connection" : uv_strerror((int)nread), false);
    return;
  }
  if (nread == 0) return;
  sl->rlen += (size_t)nread;
  sl->last_read = uv_now(b->loop->uv);
  while (sl->rlen - pos >= HA_HEADER) {
    const uint8_t *h = sl->rb + pos;
    int64_t off = (int64_t)tern_load_be64(h);
    int32_t size = (int32_t)tern_load_be32(h + 8);
    if (size < 0 || (size_t)size > max_body(sl) || off < 0) {
      sl_close(sl, "frame size or offset out of range", true);
      return;
    }
    if (sl->rlen - pos < HA_HEADER + (size_t)size) break;
    int64_t mine = tern_store_commitlog_max_offset(b->store);
    if (mine != 0 && mine != off) {
      char why[128];
      snprintf(why, sizeof why, "master sent offset %lld, local max offset is %lld", (long long)off, (long long)mine);
      sl_close(sl, why, true);
      return;
    }
    tern_err_t err = {0};
    if (tern_store_append_raw(b->store, off, h + HA_HEADER, (size_t)size, on_record, sl, &err) != 0) {
      sl_close(sl, err.reason ? err.reason : "cannot append replicated data", true);
      return;
    }
    if (size) appended = true;
    sl->ha->st.bytes_received += size;
    pos += HA_HEADER + (size_t)size;
  }
  if (pos) {
    memmove(sl->rb, sl->rb + pos, sl->rlen - pos);
    sl->rlen -= pos;
  }
  if (appended || tern_store_commitlog_max_offset(b->store) != sl->reported) sl_report(sl);
}

static void on_sl_connect(uv_connect_t *req, int status) {
  hslave_t *sl = req->data;
  if (sl->state != SL_CONNECTING) return;
  if (status < 0) {
    tern_warn("ha: cannot connect to master %s: %s", sl->ha_addr, uv_strerror(status));
    sl->state = SL_CONNECTED; /* so sl_close runs */
    sl_close(sl, NULL, false);
    return;
  }
  sl->state = SL_CONNECTED;
  sl->last_read = uv_now(sl->ha->b->loop->uv);
  uv_tcp_nodelay(&sl->tcp, 1);
  tern_info("ha: connected to master %s", sl->ha_addr);
  uv_read_start((uv_stream_t *)&sl->tcp, on_sl_alloc, on_sl_read);
  sl_report(sl);
}

static int parse_addr(const char *a, struct sockaddr_storage *ss) {
  char host[96];
  const char *colon = strrchr(a, ':');
  size_t n;
  if (!colon) return -1;
  n = (size_t)(colon - a);
  if (n >= 2 && a[0] == '[' && a[n - 1] == ']') {
    a++;
    n -= 2;
  }
  if (n == 0 || n >= sizeof host) return -1;
  memcpy(host, a, n);
  host[n] = 0;
  int port = atoi(colon + 1);
  if (port <= 0 || port > 65535) return -1;
  if (uv_ip4_addr(host, port, (struct sockaddr_in *)ss) == 0) return 0;
  if (uv_ip6_addr(host, port, (struct sockaddr_in6 *)ss) == 0) return 0;
  return -1;
}

static void sl_connect(hslave_t *sl) {
  struct sockaddr_storage ss;
  tern_broker_t *b = sl->ha->b;
  if (parse_addr(sl->ha_addr, &ss) != 0) {
    tern_warn("ha: master HA address '%s' is not ip:port", sl->ha_addr);
    sl->next_connect = uv_now(b->loop->uv) + 10000;
    return;
  }
  uv_tcp_init(b->loop->uv, &sl->tcp);
  sl->tcp.data = sl;
  sl->creq.data = sl;
  sl->state = SL_CONNECTING;
  sl->rlen = 0;
  sl->reported = -1;
  if (uv_tcp_connect(&sl->creq, &sl->tcp, (struct sockaddr *)&ss, on_sl_connect) != 0) {
    sl->state = SL_CONNECTED;
    sl_close(sl, "cannot start connecting", false);
  }
}

/* ---- metadata sync (SlaveSynchronize) ---- */

typedef struct sync_state {
  tern_body_data_version_t topics_v, groups_v;
  bool have_topics_v, have_groups_v;
  uint32_t delay_crc;
  bool have_delay;
} sync_state_t;
static sync_state_t g_sync; /* one broker per process */

static bool same_version(const tern_body_data_version_t *a, const tern_body_data_version_t *b) {
  return a->timestamp == b->timestamp && a->counter == b->counter;
}

static void sync_done(hslave_t *sl) {
  if (sl->sync_inflight > 0) sl->sync_inflight--;
}

static bool sync_usable(void *arg, int status, const tern_cmd_t *resp, const char *what) {
  hslave_t *sl = arg;
  sync_done(sl);
  if (sl->ha->stopping || !sl->ha->b->store) return false;
  if (status) {
    tern_warn("ha: %s from master %s failed: %s", what, sl->master_addr, tern_strerror(status));
    return false;
  }
  if (resp->code != TERN_RESP_SUCCESS) {
    if (resp->code != TERN_RESP_SYSTEM_ERROR || strcmp(what, "GET_ALL_DELAY_OFFSET") != 0)
      tern_warn("ha: %s from master %s answered %d", what, sl->master_addr, resp->code);
    return false;
  }
  return true;
}

static void on_topics(void *arg, int status, const tern_cmd_t *resp) {
  hslave_t *sl = arg;
  tern_broker_t *b = sl->ha->b;
  tern_body_topic_config_serialize_wrapper_t w;
  tern_arena_t a;
  tern_err_t err = {0};
  if (!sync_usable(arg, status, resp, "GET_ALL_TOPIC_CONFIG")) return;
  tern_arena_init(&a, 64 << 20, NULL, 0);
  if (tern_body_topic_config_serialize_wrapper_decode(resp->body, &a, &w, &err) == 0) {
    if (!g_sync.have_topics_v || !same_version(&g_sync.topics_v, &w.data_version)) {
      for (uint32_t i = 0; i < w.topic_config_table.n; i++)
        tern_broker_topic_put(b, &w.topic_config_table.v[i].val, false, NULL);
      g_sync.topics_v = w.data_version;
      g_sync.have_topics_v = true;
      tern_info("ha: %u topic configs copied from the master", w.topic_config_table.n);
    }
  } else {
    tern_warn("ha: bad GET_ALL_TOPIC_CONFIG body: %s", err.reason ? err.reason : "?");
  }
  tern_arena_free(&a);
}

static void on_offsets(void *arg, int status, const tern_cmd_t *resp) {
  hslave_t *sl = arg;
  tern_broker_t *b = sl->ha->b;
  tern_body_consumer_offset_serialize_wrapper_t w;
  tern_arena_t a;
  tern_err_t err = {0};
  if (!sync_usable(arg, status, resp, "GET_ALL_CONSUMER_OFFSET")) return;
  tern_arena_init(&a, 64 << 20, NULL, 0);
  if (tern_body_consumer_offset_serialize_wrapper_decode(resp->body, &a, &w, &err) == 0) {
    for (uint32_t i = 0; i < w.offset_table.n; i++) {
      tern_str_t key = w.offset_table.v[i].key;
      const char *at = memchr(key.p, '@', key.n);
      if (!at) continue;
      tern_str_t topic = {key.p, (size_t)(at - key.p)}, group = {at + 1, key.n - (size_t)(at - key.p) - 1};
      for (uint32_t j = 0; j < w.offset_table.v[i].val.n; j++)
        tern_broker_offset_set(b, topic, group, w.offset_table.v[i].val.v[j].key, w.offset_table.v[i].val.v[j].val);
    }
    if (w.offset_table.n) tern_broker_offsets_persist(b);
  } else {
    tern_warn("ha: bad GET_ALL_CONSUMER_OFFSET body: %s", err.reason ? err.reason : "?");
  }
  tern_arena_free(&a);
}

static void on_delay(void *arg, int status, const tern_cmd_t *resp) {
  hslave_t *sl = arg;
  tern_broker_t *b = sl->ha->b;
  tern_body_delay_offset_serialize_wrapper_t w;
  tern_arena_t a;
  tern_err_t err = {0};
  if (!sync_usable(arg, status, resp, "GET_ALL_DELAY_OFFSET")) return;
  uint32_t crc = tern_crc32_body((const uint8_t *)resp->body.p, resp->body.n);
  if (g_sync.have_delay && crc == g_sync.delay_crc) return;
  tern_arena_init(&a, 1 << 20, NULL, 0);
  if (tern_body_delay_offset_serialize_wrapper_decode(resp->body, &a, &w, &err) == 0) {
    if (tern_store_save_delay_offsets(b->store, &w, &err) == 0) {
      g_sync.delay_crc = crc;
      g_sync.have_delay = true;
    }
  } else {
    tern_warn("ha: bad GET_ALL_DELAY_OFFSET body: %s", err.reason ? err.reason : "?");
  }
  tern_arena_free(&a);
}

static void on_groups(void *arg, int status, const tern_cmd_t *resp) {
  hslave_t *sl = arg;
  tern_broker_t *b = sl->ha->b;
  tern_body_subscription_group_wrapper_t w;
  tern_arena_t a;
  tern_err_t err = {0};
  if (!sync_usable(arg, status, resp, "GET_ALL_SUBSCRIPTIONGROUP_CONFIG")) return;
  if (!b->clients || !b->clients->subgroups) return;
  tern_arena_init(&a, 64 << 20, NULL, 0);
  if (tern_body_subscription_group_wrapper_decode(resp->body, &a, &w, &err) == 0) {
    if (!g_sync.have_groups_v || !same_version(&g_sync.groups_v, &w.data_version)) {
      for (uint32_t i = 0; i < w.subscription_group_table.n; i++)
        tern_subgroups_put(b->clients->subgroups, &w.subscription_group_table.v[i].val);
      g_sync.groups_v = w.data_version;
      g_sync.have_groups_v = true;
    }
  } else {
    tern_warn("ha: bad GET_ALL_SUBSCRIPTIONGROUP_CONFIG body: %s", err.reason ? err.reason : "?");
  }
  tern_arena_free(&a);
}

static void sync_all(hslave_t *sl) {
  tern_broker_t *b = sl->ha->b;
  tern_conn_t *c;
  tern_hdr_get_all_topic_config_request_t th;
  tern_hdr_get_all_subscription_group_request_t gh;
  if (!sl->master_addr[0] || sl->sync_inflight > 0 || b->stopping) return;
  if (tern_pool_get(&b->pool, sl->master_addr, &c) != 0) {
    tern_warn("ha: bad master address '%s'", sl->master_addr);
    return;
  }
  memset(&th, 0, sizeof th);
  memset(&gh, 0, sizeof gh);
  if (tern_call_get_all_topic_config(c, &th, TERN_STR_NULL, SYNC_TIMEOUT_MS, on_topics, sl) == 0) sl->sync_inflight++;
  if (tern_call_get_all_consumer_offset(c, TERN_STR_NULL, SYNC_TIMEOUT_MS, on_offsets, sl) == 0) sl->sync_inflight++;
  if (tern_call_get_all_delay_offset(c, TERN_STR_NULL, SYNC_TIMEOUT_MS, on_delay, sl) == 0) sl->sync_inflight++;
  if (tern_call_get_all_subscriptiongroup_config(c, &gh, TERN_STR_NULL, SYNC_TIMEOUT_MS, on_groups, sl) == 0)
    sl->sync_inflight++;
}

/* ---- hooks from ha.c ---- */

void ha_slave_init(struct tern_ha *ha) {
  hslave_t *sl = &ha->sl;
  sl->ha = ha;
  sl->state = SL_IDLE;
  sl->reported = -1;
  memset(&g_sync, 0, sizeof g_sync);
  if (CF()->ha_master_address && *CF()->ha_master_address)
    snprintf(sl->ha_addr, sizeof sl->ha_addr, "%s", CF()->ha_master_address);
  if (sl->ha_addr[0]) sl_connect(sl);
}

void ha_slave_set_addrs(struct tern_ha *ha, tern_str_t master_addr, tern_str_t ha_addr) {
  hslave_t *sl = &ha->sl;
  bool first = !sl->master_addr[0];
  if (master_addr.n && master_addr.n < sizeof sl->master_addr) {
    memcpy(sl->master_addr, master_addr.p, master_addr.n);
    sl->master_addr[master_addr.n] = 0;
    if (first) sync_all(sl); /* the first copy at once, then every slaveSyncInterval */
    if (first) sl->next_sync = uv_now(ha->b->loop->uv) + (uint64_t)CF()->slave_sync_interval;
  }
  if (CF()->ha_master_address && *CF()->ha_master_address) return; /* configured address wins */
  if (ha_addr.n && ha_addr.n < sizeof sl->ha_addr &&
      (strlen(sl->ha_addr) != ha_addr.n || memcmp(sl->ha_addr, ha_addr.p, ha_addr.n) != 0)) {
    memcpy(sl->ha_addr, ha_addr.p, ha_addr.n);
    sl->ha_addr[ha_addr.n] = 0;
    tern_info("ha: master HA address from the name server: %s", sl->ha_addr);
    if (sl->state == SL_IDLE)
      sl_connect(sl);
    else
      sl_close(sl, "the master's HA address changed", false);
  }
}

void ha_slave_tick(struct tern_ha *ha, uint64_t now) {
  hslave_t *sl = &ha->sl;
  if (ha->stopping) return;
  if (sl->state == SL_IDLE && sl->ha_addr[0] && now >= sl->next_connect) sl_connect(sl);
  if (sl->state == SL_CONNECTED) {
    if (now - sl->last_read > (uint64_t)CF()->ha_housekeeping_interval)
      sl_close(sl, "nothing received within haHousekeepingInterval", false);
    else if (now - sl->last_report >= (uint64_t)CF()->ha_send_heartbeat_interval)
      sl_report(sl);
  }
  if (sl->master_addr[0] && now >= sl->next_sync) {
    sl->next_sync = now + (uint64_t)CF()->slave_sync_interval;
    sync_all(sl);
  }
}

void ha_slave_stop(struct tern_ha *ha) {
  hslave_t *sl = &ha->sl;
  if (sl->state == SL_CONNECTING || sl->state == SL_CONNECTED) {
    sl->state = SL_CONNECTED;
    sl_close(sl, NULL, false);
  }
}

void ha_slave_free(struct tern_ha *ha) {
  free(ha->sl.rb);
  ha->sl.rb = NULL;
}
