/* mqadmin: RocketMQ's admin tool with the subcommands operators use most and
 * the same option letters (-n name server, -t topic, -c cluster, -b broker
 * address, -g group, ...), printing tables by default. This file holds the
 * command table, option parsing, request helpers and the cluster, topic and
 * broker commands; message and consumer commands live in mqadmin_msg.c. All
 * requests are built with the generated header/body codecs and sent with the
 * runtime's blocking client. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gen/message.h"
#include "mqadmin.h"
#include "runtime/log.h"

#define TIMEOUT 5000

const char *adm_cstr(tern_str_t s, tern_arena_t *a) {
  tern_str_t c = tern_arena_strdup(a, s);
  return c.p ? c.p : "";
}

int adm_call(const char *addr, int32_t code, adm_enc_fn enc, const void *h, tern_str_t body, tern_cmd_t *resp,
             tern_arena_t *a, bool want_ok) {
  tern_cmd_t req;
  tern_arena_t scratch;
  int rc;
  tern_rpc_request_init(&req, code, body);
  tern_arena_init(&scratch, 0, NULL, 0);
  rc = enc && h ? enc(h, &req, &scratch) : 0;
  if (rc == 0) rc = tern_rpc_sync(addr, &req, TIMEOUT, resp, a);
  tern_arena_free(&scratch);
  if (rc) {
    fprintf(stderr, "%s to %s: %s\n", tern_request_code_name(code) ? tern_request_code_name(code) : "request", addr,
            tern_strerror(rc));
    return rc;
  }
  if (want_ok && resp->code != TERN_RESP_SUCCESS) {
    fprintf(stderr, "%s to %s: CODE: %d DESC: %.*s\n", tern_request_code_name(code), addr, resp->code,
            resp->has_remark ? (int)resp->remark.n : 0, resp->has_remark ? resp->remark.p : "");
    return TERN_EIO;
  }
  return 0;
}

int adm_ns_call(const char *ns, int32_t code, adm_enc_fn enc, const void *h, tern_cmd_t *resp, tern_arena_t *a,
                bool want_ok) {
  char buf[512], *save = NULL, *p;
  int rc = TERN_EINVAL;
  snprintf(buf, sizeof buf, "%s", ns);
  for (p = strtok_r(buf, ";", &save); p; p = strtok_r(NULL, ";", &save)) {
    rc = adm_call(p, code, enc, h, TERN_STR_NULL, resp, a, want_ok);
    if (rc != TERN_ECLOSED && rc != TERN_ETIMEDOUT && rc != TERN_EINVAL) return rc;
  }
  return rc;
}

int adm_route(const char *ns, const char *topic, tern_body_topic_route_data_t *rd, tern_arena_t *a) {
  tern_hdr_get_route_info_request_t h;
  tern_cmd_t resp;
  tern_err_t err;
  memset(&h, 0, sizeof h);
  h.topic = tern_str_from_cstr(topic);
  h.present = TERN_HDR_GET_ROUTE_INFO_REQUEST_HAS_TOPIC;
  if (adm_ns_call(ns, TERN_REQ_GET_ROUTEINFO_BY_TOPIC, (adm_enc_fn)tern_hdr_get_route_info_request_encode, &h, &resp, a,
                  true))
    return -1;
  if (tern_body_topic_route_data_decode(resp.body, a, rd, &err)) {
    fprintf(stderr, "bad route body: %s\n", err.reason);
    return -1;
  }
  return 0;
}

int adm_cluster(const char *ns, tern_body_cluster_info_t *ci, tern_arena_t *a) {
  tern_cmd_t resp;
  tern_err_t err;
  if (adm_ns_call(ns, TERN_REQ_GET_BROKER_CLUSTER_INFO, NULL, NULL, &resp, a, true)) return -1;
  if (tern_body_cluster_info_decode(resp.body, a, ci, &err)) {
    fprintf(stderr, "bad cluster body: %s\n", err.reason);
    return -1;
  }
  return 0;
}

const char *adm_master(const tern_body_broker_data_t *bd, tern_arena_t *a) {
  uint32_t j;
  for (j = 0; j < bd->broker_addrs.n; j++)
    if (bd->broker_addrs.v[j].key == 0) return adm_cstr(bd->broker_addrs.v[j].val, a);
  return NULL;
}

int adm_targets(const adm_opts_t *o, tern_arena_t *a, const char ***out, int *n) {
  tern_body_cluster_info_t ci;
  uint32_t i, j, k;
  const char **v;
  *n = 0;
  if (o->v['b']) {
    v = tern_arena_alloc(a, sizeof *v);
    if (!v) return -1;
    v[0] = o->v['b'];
    *out = v;
    *n = 1;
    return 0;
  }
  if (!o->v['c'] || !o->v['n']) {
    fprintf(stderr, "give -b brokerAddr or -n namesrv with -c clusterName\n");
    return -1;
  }
  if (adm_cluster(o->v['n'], &ci, a)) return -1;
  v = tern_arena_calloc(a, ci.broker_addr_table.n + 1, sizeof *v);
  if (!v) return -1;
  for (i = 0; i < ci.cluster_addr_table.n; i++) {
    if (!tern_str_eq_cstr(ci.cluster_addr_table.v[i].key, o->v['c'])) continue;
    for (j = 0; j < ci.cluster_addr_table.v[i].val.n; j++)
      for (k = 0; k < ci.broker_addr_table.n; k++)
        if (tern_str_eq(ci.broker_addr_table.v[k].key, ci.cluster_addr_table.v[i].val.v[j])) {
          const char *m = adm_master(&ci.broker_addr_table.v[k].val, a);
          if (m) v[(*n)++] = m;
        }
  }
  if (*n == 0) {
    fprintf(stderr, "no broker master in cluster %s\n", o->v['c']);
    return -1;
  }
  *out = v;
  return 0;
}

/* ---- commands ---- */

static int cmd_update_topic(const adm_opts_t *o) {
  tern_arena_t a;
  const char **t;
  int n, i, rc = 0;
  tern_hdr_create_topic_request_t h;
  if (!o->v['t']) return fprintf(stderr, "-t topic is required\n"), 1;
  if (!tern_topic_valid(tern_str_from_cstr(o->v['t']))) return fprintf(stderr, "invalid topic name\n"), 1;
  tern_arena_init(&a, 0, NULL, 0);
  if (adm_targets(o, &a, &t, &n)) return tern_arena_free(&a), 1;
  memset(&h, 0, sizeof h);
  h.topic = tern_str_from_cstr(o->v['t']);
  h.default_topic = TERN_STR(TERN_TOPIC_AUTO_CREATE);
  h.read_queue_nums = o->v['r'] ? atoi(o->v['r']) : 8;
  h.write_queue_nums = o->v['w'] ? atoi(o->v['w']) : 8;
  h.perm = o->v['p'] ? atoi(o->v['p']) : 6;
  h.topic_filter_type = TERN_STR("SINGLE_TAG");
  h.order = o->v['o'] && strcmp(o->v['o'], "true") == 0;
  h.present = TERN_HDR_CREATE_TOPIC_REQUEST_HAS_TOPIC | TERN_HDR_CREATE_TOPIC_REQUEST_HAS_DEFAULT_TOPIC |
              TERN_HDR_CREATE_TOPIC_REQUEST_HAS_READ_QUEUE_NUMS | TERN_HDR_CREATE_TOPIC_REQUEST_HAS_WRITE_QUEUE_NUMS |
              TERN_HDR_CREATE_TOPIC_REQUEST_HAS_PERM | TERN_HDR_CREATE_TOPIC_REQUEST_HAS_TOPIC_FILTER_TYPE |
              TERN_HDR_CREATE_TOPIC_REQUEST_HAS_TOPIC_SYS_FLAG | TERN_HDR_CREATE_TOPIC_REQUEST_HAS_ORDER;
  for (i = 0; i < n; i++) {
    tern_cmd_t resp;
    if (adm_call(t[i], TERN_REQ_UPDATE_AND_CREATE_TOPIC, (adm_enc_fn)tern_hdr_create_topic_request_encode, &h,
                 TERN_STR_NULL, &resp, &a, true))
      rc = 1;
    else
      printf("create topic to %s success.\n", t[i]);
  }
  if (!rc)
    printf("TopicConfig [topicName=%s, readQueueNums=%d, writeQueueNums=%d, perm=%d, order=%s]\n", o->v['t'],
           h.read_queue_nums, h.write_queue_nums, h.perm, h.order ? "true" : "false");
  tern_arena_free(&a);
  return rc;
}

static int cmd_delete_topic(const adm_opts_t *o) {
  tern_arena_t a;
  const char **t;
  int n, i, rc = 0;
  tern_hdr_delete_topic_request_t h;
  tern_hdr_delete_topic_from_namesrv_request_t hn;
  tern_cmd_t resp;
  if (!o->v['t'] || !o->v['c'] || !o->v['n']) return fprintf(stderr, "-n, -c and -t are required\n"), 1;
  tern_arena_init(&a, 0, NULL, 0);
  if (adm_targets(o, &a, &t, &n)) return tern_arena_free(&a), 1;
  memset(&h, 0, sizeof h);
  h.topic = tern_str_from_cstr(o->v['t']);
  h.present = TERN_HDR_DELETE_TOPIC_REQUEST_HAS_TOPIC;
  for (i = 0; i < n; i++)
    if (adm_call(t[i], TERN_REQ_DELETE_TOPIC_IN_BROKER, (adm_enc_fn)tern_hdr_delete_topic_request_encode, &h,
                 TERN_STR_NULL, &resp, &a, true))
      rc = 1;
  memset(&hn, 0, sizeof hn);
  hn.topic = h.topic;
  hn.cluster_name = tern_str_from_cstr(o->v['c']);
  hn.present = TERN_HDR_DELETE_TOPIC_FROM_NAMESRV_REQUEST_HAS_TOPIC | TERN_HDR_DELETE_TOPIC_FROM_NAMESRV_REQUEST_HAS_CLUSTER_NAME;
  if (adm_ns_call(o->v['n'], TERN_REQ_DELETE_TOPIC_IN_NAMESRV,
                  (adm_enc_fn)tern_hdr_delete_topic_from_namesrv_request_encode, &hn, &resp, &a, true))
    rc = 1;
  if (!rc) printf("delete topic [%s] from cluster [%s] success.\n", o->v['t'], o->v['c']);
  tern_arena_free(&a);
  return rc;
}

static int str_cmp(const void *x, const void *y) {
  const tern_str_t *a = x, *b = y;
  size_t n = a->n < b->n ? a->n : b->n;
  int r = memcmp(a->p, b->p, n);
  return r ? r : (a->n > b->n) - (a->n < b->n);
}

static int cmd_topic_list(const adm_opts_t *o) {
  tern_arena_t a;
  tern_cmd_t resp;
  tern_body_topic_list_t tl;
  tern_err_t err;
  uint32_t i;
  if (!o->v['n']) return fprintf(stderr, "-n is required\n"), 1;
  tern_arena_init(&a, 0, NULL, 0);
  if (adm_ns_call(o->v['n'], TERN_REQ_GET_ALL_TOPIC_LIST_FROM_NAMESERVER, NULL, NULL, &resp, &a, true) ||
      tern_body_topic_list_decode(resp.body, &a, &tl, &err)) {
    tern_arena_free(&a);
    return 1;
  }
  if (tl.topic_list.n) qsort(tl.topic_list.v, tl.topic_list.n, sizeof *tl.topic_list.v, str_cmp);
  for (i = 0; i < tl.topic_list.n; i++) printf("%.*s\n", TERN_STR_ARG(tl.topic_list.v[i]));
  tern_arena_free(&a);
  return 0;
}

static int cmd_topic_route(const adm_opts_t *o) {
  tern_arena_t a;
  tern_body_topic_route_data_t rd;
  tern_buf_t b;
  if (!o->v['n'] || !o->v['t']) return fprintf(stderr, "-n and -t are required\n"), 1;
  tern_arena_init(&a, 0, NULL, 0);
  if (adm_route(o->v['n'], o->v['t'], &rd, &a)) return tern_arena_free(&a), 1;
  tern_buf_init(&b, 0);
  tern_body_topic_route_data_encode(&rd, &b, TERN_JSON_PRETTY);
  printf("%.*s\n", (int)b.len, (const char *)b.p);
  tern_buf_free(&b);
  tern_arena_free(&a);
  return 0;
}

/* "yyyy-MM-dd HH:mm:ss,SSS" in local time, as RocketMQ's mqadmin prints a
 * last-update time; empty for 0 (the queue never received a message). */
static const char *human_ms(int64_t ms, char *buf, size_t cap) {
  time_t t = (time_t)(ms / 1000);
  struct tm tm;
  if (ms <= 0 || !localtime_r(&t, &tm)) return "";
  snprintf(buf, cap, "%04d-%02d-%02d %02d:%02d:%02d,%03d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
           tm.tm_min, tm.tm_sec, (int)(ms % 1000));
  return buf;
}

static int cmd_topic_status(const adm_opts_t *o) {
  tern_arena_t a;
  tern_body_topic_route_data_t rd;
  uint32_t i, j;
  if (!o->v['n'] || !o->v['t']) return fprintf(stderr, "-n and -t are required\n"), 1;
  tern_arena_init(&a, 0, NULL, 0);
  if (adm_route(o->v['n'], o->v['t'], &rd, &a)) return tern_arena_free(&a), 1;
  printf("%-32s  %-4s  %-20s  %-20s  %s\n", "#Broker Name", "#QID", "#Min Offset", "#Max Offset", "#Last Updated");
  for (i = 0; i < rd.broker_datas.n; i++) {
    const char *m = adm_master(&rd.broker_datas.v[i], &a);
    tern_hdr_get_topic_stats_info_request_t h;
    tern_body_topic_stats_table_t st;
    tern_cmd_t resp;
    tern_err_t err;
    if (!m) continue;
    memset(&h, 0, sizeof h);
    h.topic = tern_str_from_cstr(o->v['t']);
    h.present = TERN_HDR_GET_TOPIC_STATS_INFO_REQUEST_HAS_TOPIC;
    if (adm_call(m, TERN_REQ_GET_TOPIC_STATS_INFO, (adm_enc_fn)tern_hdr_get_topic_stats_info_request_encode, &h,
                 TERN_STR_NULL, &resp, &a, true) ||
        tern_body_topic_stats_table_decode(resp.body, &a, &st, &err))
      continue;
    for (j = 0; j < st.offset_table.n; j++) {
      const tern_body_map_message_queue_topic_offset_entry_t *e = &st.offset_table.v[j];
      char when[48];
      printf("%-32.*s  %-4d  %-20lld  %-20lld  %s\n", TERN_STR_ARG(e->key.broker_name), e->key.queue_id,
             (long long)e->val.min_offset, (long long)e->val.max_offset,
             human_ms(e->val.last_update_timestamp, when, sizeof when));
    }
  }
  tern_arena_free(&a);
  return 0;
}

static int cmd_cluster_list(const adm_opts_t *o) {
  tern_arena_t a;
  tern_body_cluster_info_t ci;
  uint32_t i, j, k, l;
  if (!o->v['n']) return fprintf(stderr, "-n is required\n"), 1;
  tern_arena_init(&a, 0, NULL, 0);
  if (adm_cluster(o->v['n'], &ci, &a)) return tern_arena_free(&a), 1;
  printf("%-22s  %-22s  %-4s  %-24s  %s\n", "#Cluster Name", "#Broker Name", "#BID", "#Addr", "#Version");
  for (i = 0; i < ci.cluster_addr_table.n; i++)
    for (j = 0; j < ci.cluster_addr_table.v[i].val.n; j++)
      for (k = 0; k < ci.broker_addr_table.n; k++) {
        const tern_body_broker_data_t *bd = &ci.broker_addr_table.v[k].val;
        if (!tern_str_eq(ci.broker_addr_table.v[k].key, ci.cluster_addr_table.v[i].val.v[j])) continue;
        for (l = 0; l < bd->broker_addrs.n; l++) {
          const char *addr = adm_cstr(bd->broker_addrs.v[l].val, &a);
          tern_cmd_t resp;
          tern_body_kv_table_t kv;
          tern_err_t err;
          const char *ver = "";
          uint32_t m;
          if (adm_call(addr, TERN_REQ_GET_BROKER_RUNTIME_INFO, NULL, NULL, TERN_STR_NULL, &resp, &a, true) == 0 &&
              tern_body_kv_table_decode(resp.body, &a, &kv, &err) == 0)
            for (m = 0; m < kv.table.n; m++)
              if (tern_str_eq_cstr(kv.table.v[m].key, "brokerVersionDesc")) ver = adm_cstr(kv.table.v[m].val, &a);
          printf("%-22.*s  %-22.*s  %-4lld  %-24s  %s\n", TERN_STR_ARG(ci.cluster_addr_table.v[i].key),
                 TERN_STR_ARG(bd->broker_name), (long long)bd->broker_addrs.v[l].key, addr, ver);
        }
      }
  tern_arena_free(&a);
  return 0;
}

static int kv_cmp(const void *x, const void *y) {
  const tern_body_map_str_str_entry_t *a = x, *b = y;
  return str_cmp(&a->key, &b->key);
}

static int cmd_broker_status(const adm_opts_t *o) {
  tern_arena_t a;
  const char **t;
  int n, i;
  tern_arena_init(&a, 0, NULL, 0);
  if (adm_targets(o, &a, &t, &n)) return tern_arena_free(&a), 1;
  for (i = 0; i < n; i++) {
    tern_cmd_t resp;
    tern_body_kv_table_t kv;
    tern_err_t err;
    uint32_t m;
    if (adm_call(t[i], TERN_REQ_GET_BROKER_RUNTIME_INFO, NULL, NULL, TERN_STR_NULL, &resp, &a, true) ||
        tern_body_kv_table_decode(resp.body, &a, &kv, &err))
      continue;
    if (kv.table.n) qsort(kv.table.v, kv.table.n, sizeof *kv.table.v, kv_cmp);
    for (m = 0; m < kv.table.n; m++)
      printf("%s%-32.*s: %.*s\n", n > 1 ? t[i] : "", TERN_STR_ARG(kv.table.v[m].key), TERN_STR_ARG(kv.table.v[m].val));
  }
  tern_arena_free(&a);
  return 0;
}

static int cmd_get_broker_config(const adm_opts_t *o) {
  tern_arena_t a;
  const char **t;
  int n, i;
  tern_arena_init(&a, 0, NULL, 0);
  if (adm_targets(o, &a, &t, &n)) return tern_arena_free(&a), 1;
  for (i = 0; i < n; i++) {
    tern_cmd_t resp;
    const char *p, *e;
    if (adm_call(t[i], TERN_REQ_GET_BROKER_CONFIG, NULL, NULL, TERN_STR_NULL, &resp, &a, true)) continue;
    printf("============%s============\n", t[i]);
    for (p = resp.body.p, e = p + resp.body.n; p < e;) { /* Java Properties text: key=value lines */
      const char *nl = memchr(p, '\n', (size_t)(e - p)), *eq;
      size_t len = nl ? (size_t)(nl - p) : (size_t)(e - p);
      eq = memchr(p, '=', len);
      if (eq) printf("%-50.*s=  %.*s\n", (int)(eq - p), p, (int)(len - (size_t)(eq - p) - 1), eq + 1);
      p += len + 1;
    }
  }
  tern_arena_free(&a);
  return 0;
}

static int cmd_update_broker_config(const adm_opts_t *o) {
  tern_arena_t a;
  const char **t;
  int n, i, rc = 0;
  char body[1024];
  if (!o->v['k'] || !o->v['v']) return fprintf(stderr, "-k key and -v value are required\n"), 1;
  snprintf(body, sizeof body, "%s=%s\n", o->v['k'], o->v['v']);
  tern_arena_init(&a, 0, NULL, 0);
  if (adm_targets(o, &a, &t, &n)) return tern_arena_free(&a), 1;
  for (i = 0; i < n; i++) {
    tern_cmd_t resp;
    if (adm_call(t[i], TERN_REQ_UPDATE_BROKER_CONFIG, NULL, NULL, tern_str_from_cstr(body), &resp, &a, true)) rc = 1;
    else printf("update broker config success, %s\n", t[i]);
  }
  tern_arena_free(&a);
  return rc;
}

typedef struct cmd {
  const char *name, *opts, *help;
  int (*fn)(const adm_opts_t *o);
} cmd_t;

static const cmd_t cmds[] = {
    {"updateTopic", "n:b:c:t:r:w:p:o:", "Update or create topic (-b addr | -c cluster) -t -r -w -p -o", cmd_update_topic},
    {"deleteTopic", "n:c:t:", "Delete topic from broker and NameServer (-n -c -t)", cmd_delete_topic},
    {"topicList", "n:", "Fetch all topic list from name server", cmd_topic_list},
    {"topicRoute", "n:t:", "Examine topic route info", cmd_topic_route},
    {"topicStatus", "n:t:", "Examine topic status info", cmd_topic_status},
    {"clusterList", "n:", "List cluster infos", cmd_cluster_list},
    {"brokerStatus", "n:b:c:", "Fetch broker runtime status data", cmd_broker_status},
    {"consumerProgress", "n:g:", "Query consumer's progress, speed", cmd_consumer_progress},
    {"consumerConnection", "n:g:", "Query consumer's socket connection, client version and subscription",
     cmd_consumer_connection},
    {"queryMsgById", "n:i:", "Query Message by offset message id", cmd_query_msg_by_id},
    {"queryMsgByKey", "n:t:k:b:e:", "Query Message by Key (-b begin -e end timestamps)", cmd_query_msg_by_key},
    {"queryMsgByOffset", "n:t:b:i:o:", "Query Message by offset (-b brokerName -i queueId -o offset)",
     cmd_query_msg_by_offset},
    {"sendMessage", "n:t:p:k:c:b:i:", "Send a message (-p body -k keys -c tags -b brokerName -i queueId)",
     cmd_send_message},
    {"consumeMessage", "n:t:b:i:o:c:g:", "Consume messages (-b brokerName -i queueId -o offset -c count -g group)",
     cmd_consume_message},
    {"updateSubGroup", "n:b:c:g:r:q:s:", "Update or create subscription group (-r retryQueueNums -q retryMaxTimes -s consumeEnable)",
     cmd_update_sub_group},
    {"getBrokerConfig", "n:b:c:", "Get broker config by cluster or special broker", cmd_get_broker_config},
    {"updateBrokerConfig", "n:b:c:k:v:", "Update broker's config (-k key -v value)", cmd_update_broker_config},
};

static void usage(void) {
  size_t i;
  printf("usage: mqadmin <command> [-n namesrvAddr] [options]\n\nThe most commonly used mqadmin commands are:\n");
  for (i = 0; i < sizeof cmds / sizeof cmds[0]; i++) printf("   %-22s %s\n", cmds[i].name, cmds[i].help);
}

int main(int argc, char **argv) {
  size_t i;
  adm_opts_t o;
  int ch;
  if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "-h") == 0) {
    usage();
    return argc < 2;
  }
  tern_log_set_level(TERN_LOG_WARN);
  memset(&o, 0, sizeof o);
  o.v['n'] = getenv("NAMESRV_ADDR");
  for (i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
    if (strcmp(argv[1], cmds[i].name) != 0) continue;
    optind = 2;
    while ((ch = getopt(argc, argv, cmds[i].opts)) != -1) {
      if (ch == '?' || ch < 0 || ch >= 128) {
        usage();
        return 1;
      }
      o.v[ch] = optarg;
    }
    return cmds[i].fn(&o);
  }
  fprintf(stderr, "The sub command %s not exist.\n", argv[1]);
  usage();
  return 1;
}
