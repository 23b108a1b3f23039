/* mqadmin message and consumer-group commands: sendMessage and
 * consumeMessage (through the Tern client library), queryMsgById
 * (VIEW_MESSAGE_BY_ID at the offset id's store host), queryMsgByKey
 * (QUERY_MESSAGE on every broker of the topic), queryMsgByOffset,
 * consumerProgress (GET_CONSUME_STATS), consumerConnection
 * (GET_CONSUMER_CONNECTION_LIST), updateSubGroup. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gen/message.h"
#include "mqadmin.h"
#include "tern/consumer.h"
#include "tern/producer.h"

static void host_str(const tern_host_t *h, char *out, size_t cap) {
  if (h->ip_len == 4) snprintf(out, cap, "%u.%u.%u.%u:%d", h->ip[0], h->ip[1], h->ip[2], h->ip[3], h->port);
  else snprintf(out, cap, "[ipv6]:%d", h->port);
}

static void print_props(tern_str_t props) {
  tern_props_cursor_t cur;
  tern_prop_t p;
  bool first = true;
  tern_props_cursor_init(&cur, props);
  printf("%-20s: {", "Properties");
  while (tern_props_cursor_next(&cur, &p) == 1) {
    printf("%s%.*s=%.*s", first ? "" : ", ", TERN_STR_ARG(p.key), TERN_STR_ARG(p.val));
    first = false;
  }
  printf("}\n");
}

static void print_rec(const tern_msg_record_t *r) {
  char bh[64], sh[64], id[TERN_MSGID_HEX_V6 + 1];
  tern_str_t v = TERN_STR_NULL;
  host_str(&r->born_host, bh, sizeof bh);
  host_str(&r->store_host, sh, sizeof sh);
  tern_msgid_encode(&r->store_host, r->physical_offset, id);
  printf("%-20s: %s\n", "OffsetID", id);
  if (tern_props_get(r->properties, TERN_PROP_UNIQ_KEY, &v) == 0) printf("%-20s: %.*s\n", "Msg Id", TERN_STR_ARG(v));
  printf("%-20s: %.*s\n", "Topic", TERN_STR_ARG(r->topic));
  v = TERN_STR_NULL;
  tern_props_get(r->properties, TERN_PROP_TAGS, &v);
  printf("%-20s: [%.*s]\n", "Tags", TERN_STR_ARG(v));
  v = TERN_STR_NULL;
  tern_props_get(r->properties, TERN_PROP_KEYS, &v);
  printf("%-20s: [%.*s]\n", "Keys", TERN_STR_ARG(v));
  printf("%-20s: %d\n%-20s: %lld\n%-20s: %lld\n%-20s: %d\n", "Queue ID", r->queue_id, "Queue Offset",
         (long long)r->queue_offset, "CommitLog Offset", (long long)r->physical_offset, "Reconsume Times",
         r->reconsume_times);
  printf("%-20s: %lld\n%-20s: %lld\n%-20s: %s\n%-20s: %s\n%-20s: %d\n", "Born Timestamp", (long long)r->born_timestamp,
         "Store Timestamp", (long long)r->store_timestamp, "Born Host", bh, "Store Host", sh, "System Flag", r->sys_flag);
  print_props(r->properties);
  printf("%-20s: %.*s\n\n", "Message Body", (int)(r->body.n > 4096 ? 4096 : r->body.n), r->body.p);
}

void adm_print_msg(const uint8_t *p, size_t n) {
  tern_msg_record_iter_t it;
  tern_msg_record_t r;
  tern_err_t err;
  tern_msg_record_iter_init(&it, p, n);
  while (tern_msg_record_iter_next(&it, &r, &err) == 1 && !tern_msg_record_is_blank(&r)) print_rec(&r);
}

static void conf_init(tern_client_conf_t *c, const adm_opts_t *o, const char *group) {
  tern_client_conf_default(c);
  c->namesrv_addr = o->v['n'];
  c->group = group;
}

/* Selector for -b/-i: the queue with that broker name and id (-1: none, refused). */
static int pick_queue(void *arg, const tern_mq_t *mqs, int n, const tern_msg_t *m) {
  const tern_mq_t *t = arg;
  int i;
  (void)m;
  for (i = 0; i < n; i++)
    if (strcmp(mqs[i].broker_name, t->broker_name) == 0 && mqs[i].queue_id == t->queue_id) return i;
  return -1;
}

int cmd_send_message(const adm_opts_t *o) {
  tern_client_conf_t conf;
  tern_producer_t *p;
  tern_msg_t *m;
  tern_send_result_t r;
  int rc;
  if (!o->v['n'] || !o->v['t'] || !o->v['p']) return fprintf(stderr, "-n, -t and -p body are required\n"), 1;
  conf_init(&conf, o, "TOOLS_PRODUCER");
  p = tern_producer_new(&conf);
  if (!p || tern_producer_start(p)) return fprintf(stderr, "producer start failed\n"), 1;
  m = tern_msg_new(o->v['t'], o->v['p'], strlen(o->v['p']));
  if (o->v['k']) tern_msg_set_keys(m, o->v['k']);
  if (o->v['c']) tern_msg_set_tags(m, o->v['c']);
  if (o->v['b'] && o->v['i']) {
    tern_mq_t target;
    memset(&target, 0, sizeof target);
    snprintf(target.broker_name, sizeof target.broker_name, "%s", o->v['b']);
    target.queue_id = atoi(o->v['i']);
    rc = tern_producer_send_select(p, m, pick_queue, &target, &r);
  } else {
    rc = tern_producer_send(p, m, &r);
  }
  if (rc == 0)
    printf("%-32s %-4s %-20s %-32s\n%-32s %-4d %-20s %-32s\n", "#Broker Name", "#QID", "#Send Result", "#MsgId",
           r.mq.broker_name, r.mq.queue_id, "SEND_OK", r.msg_id);
  else
    fprintf(stderr, "send failed: CODE: %d DESC: %s\n", r.err.response_code, r.err.remark);
  tern_msg_free(m);
  tern_producer_shutdown(p, 3000);
  return rc ? 1 : 0;
}

static void print_rmsg(const tern_rmsg_t *m) {
  printf("MSGID: %s, Topic: %.*s, Tags: %.*s, Keys: %.*s, Queue: %s/%d, Offset: %lld, Body: %.*s\n", m->msg_id,
         TERN_STR_ARG(m->topic), TERN_STR_ARG(m->tags), TERN_STR_ARG(m->keys), m->broker_name, m->queue_id,
         (long long)m->queue_offset, (int)(m->body.n > 1024 ? 1024 : m->body.n), m->body.p);
}

int cmd_consume_message(const adm_opts_t *o) {
  tern_client_conf_t conf;
  tern_pull_consumer_t *c;
  tern_mq_t *mqs = NULL;
  int n = 0, i, left;
  if (!o->v['n'] || !o->v['t']) return fprintf(stderr, "-n and -t are required\n"), 1;
  left = o->v['c'] ? atoi(o->v['c']) : 128;
  conf_init(&conf, o, o->v['g'] ? o->v['g'] : TERN_GROUP_TOOLS_CONSUMER);
  c = tern_pull_consumer_new(&conf);
  if (!c || tern_pull_consumer_start(c) || tern_pull_consumer_fetch_queues(c, o->v['t'], &mqs, &n)) {
    fprintf(stderr, "cannot fetch the queues of %s\n", o->v['t']);
    if (c) tern_pull_consumer_shutdown(c);
    return 1;
  }
  for (i = 0; i < n && left > 0; i++) {
    int64_t off = 0;
    if (o->v['b'] && strcmp(o->v['b'], mqs[i].broker_name) != 0) continue;
    if (o->v['i'] && atoi(o->v['i']) != mqs[i].queue_id) continue;
    if (o->v['o']) off = atoll(o->v['o']);
    else tern_pull_consumer_min_offset(c, &mqs[i], &off);
    while (left > 0) {
      tern_pull_result_t *r = NULL;
      size_t k;
      if (tern_pull_consumer_pull(c, &mqs[i], "*", off, left < 32 ? left : 32, &r, NULL) || r->status != TERN_PULL_FOUND) {
        tern_pull_result_free(r);
        break;
      }
      for (k = 0; k < r->n && left > 0; k++, left--) print_rmsg(r->msgs[k]);
      off = r->next_begin_offset;
      tern_pull_result_free(r);
    }
  }
  free(mqs);
  tern_pull_consumer_shutdown(c);
  return 0;
}

int cmd_query_msg_by_offset(const adm_opts_t *o) {
  tern_client_conf_t conf;
  tern_pull_consumer_t *c;
  tern_mq_t mq;
  tern_pull_result_t *r = NULL;
  int rc = 1;
  if (!o->v['n'] || !o->v['t'] || !o->v['b'] || !o->v['i'] || !o->v['o'])
    return fprintf(stderr, "-n -t -b brokerName -i queueId -o offset are required\n"), 1;
  memset(&mq, 0, sizeof mq);
  snprintf(mq.topic, sizeof mq.topic, "%s", o->v['t']);
  snprintf(mq.broker_name, sizeof mq.broker_name, "%s", o->v['b']);
  mq.queue_id = atoi(o->v['i']);
  conf_init(&conf, o, TERN_GROUP_TOOLS_CONSUMER);
  c = tern_pull_consumer_new(&conf);
  if (c && tern_pull_consumer_start(c) == 0 &&
      tern_pull_consumer_pull(c, &mq, "*", atoll(o->v['o']), 1, &r, NULL) == 0 && r->status == TERN_PULL_FOUND &&
      r->n > 0) {
    print_rmsg(r->msgs[0]);
    rc = 0;
  } else {
    fprintf(stderr, "no message at %s/%s/%s offset %s\n", o->v['t'], o->v['b'], o->v['i'], o->v['o']);
  }
  tern_pull_result_free(r);
  if (c) tern_pull_consumer_shutdown(c);
  return rc;
}

int cmd_query_msg_by_id(const adm_opts_t *o) {
  tern_host_t h;
  int64_t off;
  tern_err_t err;
  tern_arena_t a;
  tern_hdr_view_message_request_t vh;
  tern_cmd_t resp;
  char addr[64];
  if (!o->v['i']) return fprintf(stderr, "-i msgId is required\n"), 1;
  if (tern_msgid_decode(tern_str_from_cstr(o->v['i']), &h, &off, &err))
    return fprintf(stderr, "%s is not an offset message id\n", o->v['i']), 1;
  host_str(&h, addr, sizeof addr);
  memset(&vh, 0, sizeof vh);
  vh.offset = off;
  vh.present = TERN_HDR_VIEW_MESSAGE_REQUEST_HAS_OFFSET;
  tern_arena_init(&a, 0, NULL, 0);
  if (adm_call(addr, TERN_REQ_VIEW_MESSAGE_BY_ID, (adm_enc_fn)tern_hdr_view_message_request_encode, &vh, TERN_STR_NULL,
               &resp, &a, true))
    return tern_arena_free(&a), 1;
  adm_print_msg((const uint8_t *)resp.body.p, resp.body.n);
  tern_arena_free(&a);
  return 0;
}

int cmd_query_msg_by_key(const adm_opts_t *o) {
  tern_arena_t a;
  tern_body_topic_route_data_t rd;
  uint32_t i;
  int found = 0;
  if (!o->v['n'] || !o->v['t'] || !o->v['k']) return fprintf(stderr, "-n -t -k are required\n"), 1;
  tern_arena_init(&a, 0, NULL, 0);
  if (adm_route(o->v['n'], o->v['t'], &rd, &a)) return tern_arena_free(&a), 1;
  printf("%-40s %-4s %s\n", "#Message ID", "#QID", "#Offset");
  for (i = 0; i < rd.broker_datas.n; i++) {
    const char *m = adm_master(&rd.broker_datas.v[i], &a);
    tern_hdr_query_message_request_t h;
    tern_cmd_t resp;
    tern_msg_record_iter_t it;
    tern_msg_record_t r;
    tern_err_t err;
    if (!m) continue;
    memset(&h, 0, sizeof h);
    h.topic = tern_str_from_cstr(o->v['t']);
    h.key = tern_str_from_cstr(o->v['k']);
    h.max_num = 64;
    h.begin_timestamp = o->v['b'] ? atoll(o->v['b']) : 0;
    h.end_timestamp = o->v['e'] ? atoll(o->v['e']) : INT64_MAX;
    h.present = TERN_HDR_QUERY_MESSAGE_REQUEST_HAS_TOPIC | TERN_HDR_QUERY_MESSAGE_REQUEST_HAS_KEY |
                TERN_HDR_QUERY_MESSAGE_REQUEST_HAS_MAX_NUM | TERN_HDR_QUERY_MESSAGE_REQUEST_HAS_BEGIN_TIMESTAMP |
                TERN_HDR_QUERY_MESSAGE_REQUEST_HAS_END_TIMESTAMP;
    if (adm_call(m, TERN_REQ_QUERY_MESSAGE, (adm_enc_fn)tern_hdr_query_message_request_encode, &h, TERN_STR_NULL, &resp,
                 &a, false) || resp.code != TERN_RESP_SUCCESS)
      continue;
    tern_msg_record_iter_init(&it, (const uint8_t *)resp.body.p, resp.body.n);
    while (tern_msg_record_iter_next(&it, &r, &err) == 1 && !tern_msg_record_is_blank(&r)) {
      tern_str_t u = TERN_STR_NULL;
      char id[TERN_MSGID_HEX_V6 + 1];
      tern_msgid_encode(&r.store_host, r.physical_offset, id);
      if (tern_props_get(r.properties, TERN_PROP_UNIQ_KEY, &u) == 0) printf("%-40.*s %-4d %lld\n", TERN_STR_ARG(u), r.queue_id, (long long)r.queue_offset);
      else printf("%-40s %-4d %lld\n", id, r.queue_id, (long long)r.queue_offset);
      found++;
    }
  }
  tern_arena_free(&a);
  return found ? 0 : 1;
}

/* Broker masters of a consumer group: those routing its retry topic, else
 * every master the name server knows (a group that never heartbeated has no
 * retry topic yet). */
static int group_brokers(const adm_opts_t *o, tern_arena_t *a, const char ***out, int *n) {
  char retry[TERN_GROUP_MAX_LEN + 16];
  size_t rn;
  tern_body_topic_route_data_t rd;
  tern_body_cluster_info_t ci;
  uint32_t i;
  const char **v;
  *n = 0;
  if (!o->v['n'] || !o->v['g']) return fprintf(stderr, "-n and -g are required\n"), -1;
  if (tern_topic_retry_name(tern_str_from_cstr(o->v['g']), retry, sizeof retry, &rn))
    return fprintf(stderr, "invalid group\n"), -1;
  if (adm_route(o->v['n'], retry, &rd, a) == 0) {
    v = tern_arena_calloc(a, rd.broker_datas.n + 1, sizeof *v);
    for (i = 0; v && i < rd.broker_datas.n; i++)
      if ((v[*n] = adm_master(&rd.broker_datas.v[i], a))) (*n)++;
  } else {
    if (adm_cluster(o->v['n'], &ci, a)) return -1;
    v = tern_arena_calloc(a, ci.broker_addr_table.n + 1, sizeof *v);
    for (i = 0; v && i < ci.broker_addr_table.n; i++)
      if ((v[*n] = adm_master(&ci.broker_addr_table.v[i].val, a))) (*n)++;
  }
  *out = v;
  return v ? 0 : -1;
}

int cmd_consumer_progress(const adm_opts_t *o) {
  tern_arena_t a;
  const char **bk;
  int nb, i;
  uint32_t j;
  int64_t diff_total = 0;
  tern_arena_init(&a, 0, NULL, 0);
  if (group_brokers(o, &a, &bk, &nb)) return tern_arena_free(&a), 1;
  printf("%-40s %-24s %-4s %-16s %-16s %s\n", "#Topic", "#Broker Name", "#QID", "#Broker Offset", "#Consumer Offset",
         "#Diff");
  for (i = 0; i < nb; i++) {
    const char *m = bk[i];
    tern_hdr_get_consume_stats_request_t h;
    tern_body_consume_stats_t cs;
    tern_cmd_t resp;
    tern_err_t err;
    if (!m) continue;
    memset(&h, 0, sizeof h);
    h.consumer_group = tern_str_from_cstr(o->v['g']);
    h.present = TERN_HDR_GET_CONSUME_STATS_REQUEST_HAS_CONSUMER_GROUP;
    if (adm_call(m, TERN_REQ_GET_CONSUME_STATS, (adm_enc_fn)tern_hdr_get_consume_stats_request_encode, &h, TERN_STR_NULL,
                 &resp, &a, true) ||
        tern_body_consume_stats_decode(resp.body, &a, &cs, &err))
      continue;
    for (j = 0; j < cs.offset_table.n; j++) {
      const tern_body_map_message_queue_offset_wrapper_entry_t *e = &cs.offset_table.v[j];
      int64_t d = e->val.broker_offset - e->val.consumer_offset;
      diff_total += d;
      printf("%-40.*s %-24.*s %-4d %-16lld %-16lld %lld\n", TERN_STR_ARG(e->key.topic), TERN_STR_ARG(e->key.broker_name),
             e->key.queue_id, (long long)e->val.broker_offset, (long long)e->val.consumer_offset, (long long)d);
    }
  }
  printf("\nDiff Total: %lld\n", (long long)diff_total);
  tern_arena_free(&a);
  return 0;
}

int cmd_consumer_connection(const adm_opts_t *o) {
  tern_arena_t a;
  const char **bk;
  int nb, i;
  uint32_t j;
  tern_arena_init(&a, 0, NULL, 0);
  if (group_brokers(o, &a, &bk, &nb)) return tern_arena_free(&a), 1;
  for (i = 0; i < nb; i++) {
    const char *m = bk[i];
    tern_hdr_get_consumer_connection_list_request_t h;
    tern_body_consumer_connection_t cc;
    tern_cmd_t resp;
    tern_err_t err;
    if (!m) continue;
    memset(&h, 0, sizeof h);
    h.consumer_group = tern_str_from_cstr(o->v['g']);
    h.present = TERN_HDR_GET_CONSUMER_CONNECTION_LIST_REQUEST_HAS_CONSUMER_GROUP;
    if (adm_call(m, TERN_REQ_GET_CONSUMER_CONNECTION_LIST,
                 (adm_enc_fn)tern_hdr_get_consumer_connection_list_request_encode, &h, TERN_STR_NULL, &resp, &a, true) ||
        tern_body_consumer_connection_decode(resp.body, &a, &cc, &err))
      continue;
    printf("%-4s %-48s %-24s %-10s %s\n", "#", "#ClientId", "#ClientAddr", "#Language", "#Version");
    for (j = 0; j < cc.connection_set.n; j++) {
      const tern_body_connection_t *c = &cc.connection_set.v[j];
      const char *lang = c->language >= 0 && c->language < TERN_BODY_LANGUAGE_CODE__COUNT
                             ? tern_body_language_code_names[c->language] : "OTHER";
      printf("%-4u %-48.*s %-24.*s %-10s %d\n", j + 1, TERN_STR_ARG(c->client_id), TERN_STR_ARG(c->client_addr), lang,
             c->version);
    }
    printf("\nBelow is subscription:\n");
    for (j = 0; j < cc.subscription_table.n; j++)
      printf("%-4u Topic: %-40.*s SubExpression: %.*s\n", j + 1, TERN_STR_ARG(cc.subscription_table.v[j].key),
             TERN_STR_ARG(cc.subscription_table.v[j].val.sub_string));
    printf("\nConsumeType: %s\nMessageModel: %s\nConsumeFromWhere: %s\n",
           cc.consume_type >= 0 && cc.consume_type < TERN_BODY_CONSUME_TYPE__COUNT ? tern_body_consume_type_names[cc.consume_type] : "",
           cc.message_model >= 0 && cc.message_model < TERN_BODY_MESSAGE_MODEL__COUNT ? tern_body_message_model_names[cc.message_model] : "",
           cc.consume_from_where >= 0 && cc.consume_from_where < TERN_BODY_CONSUME_FROM_WHERE__COUNT
               ? tern_body_consume_from_where_names[cc.consume_from_where] : "");
    break; /* every broker knows the same connections */
  }
  tern_arena_free(&a);
  return 0;
}

int cmd_update_sub_group(const adm_opts_t *o) {
  tern_arena_t a;
  const char **t;
  int n, i, rc = 0;
  tern_body_subscription_group_config_t g;
  tern_buf_t b;
  if (!o->v['g'] || !tern_group_valid(tern_str_from_cstr(o->v['g']))) return fprintf(stderr, "-g group is required\n"), 1;
  memset(&g, 0, sizeof g);
  g.group_name = tern_str_from_cstr(o->v['g']);
  g.consume_enable = !o->v['s'] || strcmp(o->v['s'], "false") != 0;
  g.consume_from_min_enable = true;
  g.consume_broadcast_enable = true;
  g.retry_queue_nums = o->v['r'] ? atoi(o->v['r']) : 1;
  g.retry_max_times = o->v['q'] ? atoi(o->v['q']) : 16;
  g.broker_id = 0;
  g.which_broker_when_consume_slowly = 1;
  g.notify_consumer_ids_changed_enable = true;
  g.has = TERN_BODY_SUBSCRIPTION_GROUP_CONFIG_HAS_GROUP_NAME;
  tern_buf_init(&b, 0);
  tern_body_subscription_group_config_encode(&g, &b, 0);
  tern_arena_init(&a, 0, NULL, 0);
  if (b.err || adm_targets(o, &a, &t, &n)) {
    tern_buf_free(&b);
    tern_arena_free(&a);
    return 1;
  }
  for (i = 0; i < n; i++) {
    tern_cmd_t resp;
    if (adm_call(t[i], TERN_REQ_UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, NULL, NULL, (tern_str_t){(const char *)b.p, b.len},
                 &resp, &a, true))
      rc = 1;
    else
      printf("create subscription group to %s success.\n%.*s\n", t[i], (int)b.len, (const char *)b.p);
  }
  tern_buf_free(&b);
  tern_arena_free(&a);
  return rc;
}
