/* Consumer groups (RocketMQ 4.9's ConsumerManager and ConsumerGroupInfo): per
 * group its member channels (connection, client id, language, version, last
 * heartbeat), its consume type / message model / consume-from-where, and its
 * subscription table, replaced by every heartbeat with the rules of
 * ConsumerGroupInfo.updateSubscription (a topic's entry changes only for a
 * newer subVersion; topics missing from the heartbeat are dropped). When the
 * membership or the set of subscribed topics changes, every member gets
 * NOTIFY_CONSUMER_IDS_CHANGED (oneway) so it rebalances at once. Members leave
 * by UNREGISTER_CLIENT, by closing their connection, or by staying silent
 * longer than channelExpiredTimeoutMills. Loop-thread only. */
#include <stdlib.h>

#include "broker/clients.h"
#include "gen/rpc.h"
#include "runtime/log.h"

tern_consumer_group_t *tern_consumers_find(tern_broker_clients_t *cl, tern_str_t group) {
  return tern_strmap_get(&cl->consumers, group);
}

const tern_body_subscription_data_t *tern_consumers_find_sub(const tern_consumer_group_t *g, tern_str_t topic) {
  for (uint32_t i = 0; i < g->n_subs; i++)
    if (tern_str_eq(g->subs[i].topic, topic)) return &g->subs[i];
  return NULL;
}

static void group_free(tern_consumer_group_t *g) {
  if (!g) return;
  for (uint32_t i = 0; i < g->channels.n; i++) {
    free(g->channels.v[i].client_id);
    tern_conn_unref(g->channels.v[i].conn);
  }
  free(g->channels.v);
  tern_arena_free(&g->subs_arena);
  free(g->name);
  free(g);
}

void tern_consumers_free_all(tern_broker_clients_t *cl) {
  const tern_strmap_slot_t *slot;
  for (uint32_t i = 0; tern_strmap_next(&cl->consumers, &i, &slot);) group_free(slot->val);
  tern_strmap_free(&cl->consumers);
}

static tern_consumer_group_t *group_new(tern_broker_clients_t *cl, tern_str_t name) {
  tern_consumer_group_t *g = calloc(1, sizeof *g);
  if (!g) return NULL;
  g->name = malloc(name.n + 1);
  if (!g->name) {
    free(g);
    return NULL;
  }
  memcpy(g->name, name.p, name.n);
  g->name[name.n] = '\0';
  g->name_len = name.n;
  tern_arena_init(&g->subs_arena, 16u << 20, NULL, 0);
  if (tern_strmap_put(&cl->consumers, (tern_str_t){g->name, g->name_len}, g, NULL)) {
    group_free(g);
    return NULL;
  }
  return g;
}

static void group_remove(tern_broker_clients_t *cl, tern_consumer_group_t *g) {
  tern_strmap_del(&cl->consumers, (tern_str_t){g->name, g->name_len});
  tern_info("broker: unregister consumer ok, no any connection, and remove consumer group, %s", g->name);
  group_free(g);
}

/* Deep copy of one SubscriptionData into arena a. */
static int copy_sub(tern_arena_t *a, const tern_body_subscription_data_t *src, tern_body_subscription_data_t *dst) {
  *dst = *src;
  dst->topic = tern_arena_strdup(a, src->topic);
  dst->sub_string = tern_arena_strdup(a, src->sub_string);
  dst->expression_type = tern_arena_strdup(a, src->expression_type);
  if (!dst->topic.p || !dst->sub_string.p || !dst->expression_type.p) return TERN_ENOMEM;
  dst->code_set.v = NULL;
  dst->tags_set.v = NULL;
  if (src->code_set.n) {
    int32_t *v = tern_arena_alloc(a, src->code_set.n * sizeof *v);
    if (!v) return TERN_ENOMEM;
    memcpy(v, src->code_set.v, src->code_set.n * sizeof *v);
    dst->code_set.v = v;
  }
  if (src->tags_set.n) {
    tern_str_t *v = tern_arena_calloc(a, src->tags_set.n, sizeof *v);
    if (!v) return TERN_ENOMEM;
    for (uint32_t i = 0; i < src->tags_set.n; i++) {
      v[i] = tern_arena_strdup(a, src->tags_set.v[i]);
      if (!v[i].p) return TERN_ENOMEM;
    }
    dst->tags_set.v = v;
  }
  return 0;
}

static bool in_set(const tern_body_set_subscription_data_t *set, tern_str_t topic) {
  for (uint32_t i = 0; i < set->n; i++)
    if (tern_str_eq(set->v[i].topic, topic)) return true;
  return false;
}

/* updateSubscription: builds the new table in a fresh arena. 1 = topics added
 * or removed, 0 = same topics, <0 = error (table unchanged). */
static int update_subscription(tern_consumer_group_t *g, const tern_body_set_subscription_data_t *set) {
  tern_arena_t a;
  tern_body_subscription_data_t *subs;
  uint32_t n = 0;
  bool updated = false;
  tern_arena_init(&a, 16u << 20, NULL, 0);
  subs = tern_arena_calloc(&a, set->n ? set->n : 1, sizeof *subs);
  if (!subs) goto oom;
  for (uint32_t i = 0; i < set->n; i++) {
    const tern_body_subscription_data_t *nw = &set->v[i], *old = tern_consumers_find_sub(g, nw->topic), *use = nw;
    bool dup = false;
    for (uint32_t k = 0; k < n; k++) dup = dup || tern_str_eq(subs[k].topic, nw->topic);
    if (dup) continue; /* a set: the first entry of a topic wins */
    if (!old) {
      updated = true;
      tern_info("broker: subscription changed, add new topic, group: %s %.*s", g->name, TERN_STR_ARG(nw->topic));
    } else if (nw->sub_version <= old->sub_version) {
      use = old;
    } else if (g->consume_type == TERN_BODY_CONSUME_TYPE_CONSUME_PASSIVELY) {
      tern_info("broker: subscription changed, group: %s OLD: %.*s NEW: %.*s", g->name, TERN_STR_ARG(old->sub_string),
                TERN_STR_ARG(nw->sub_string));
    }
    if (copy_sub(&a, use, &subs[n])) goto oom;
    n++;
  }
  for (uint32_t i = 0; i < g->n_subs; i++) {
    if (!in_set(set, g->subs[i].topic)) {
      tern_warn("broker: subscription changed, group: %s remove topic %.*s", g->name, TERN_STR_ARG(g->subs[i].topic));
      updated = true;
    }
  }
  tern_arena_free(&g->subs_arena);
  g->subs_arena = a;
  g->subs = subs;
  g->n_subs = n;
  return updated ? 1 : 0;
oom:
  tern_arena_free(&a);
  return TERN_ENOMEM;
}

int tern_consumers_register(tern_broker_clients_t *cl, tern_conn_t *c, tern_str_t client_id, int32_t language,
                            int32_t version, const tern_body_consumer_data_t *cd, bool notify, int64_t now_ms) {
  tern_consumer_group_t *g = tern_consumers_find(cl, cd->group_name);
  tern_client_channel_t *ch;
  bool r1 = false;
  int r2 = 0;
  if (!g && !(g = group_new(cl, cd->group_name))) return TERN_ENOMEM;
  g->consume_type = cd->consume_type;
  g->message_model = cd->message_model;
  g->consume_from_where = cd->consume_from_where;
  ch = tern_channel_set_find(&g->channels, c);
  if (!ch) {
    tern_channel_set_t *s = &g->channels;
    char *id = malloc(client_id.n + 1);
    if (!id) return TERN_ENOMEM;
    if (s->n == s->cap) {
      uint32_t cap = s->cap ? s->cap * 2 : 4;
      tern_client_channel_t *v = realloc(s->v, cap * sizeof *v);
      if (!v) {
        free(id);
        if (!s->n) group_remove(cl, g);
        return TERN_ENOMEM;
      }
      s->v = v;
      s->cap = cap;
    }
    memcpy(id, client_id.p, client_id.n);
    id[client_id.n] = '\0';
    ch = &s->v[s->n++];
    memset(ch, 0, sizeof *ch);
    ch->conn = c;
    tern_conn_ref(c);
    ch->client_id = id;
    r1 = true;
    tern_info("broker: new consumer connected, group: %s %s %s", g->name, id, tern_conn_peer(c));
  } else if (!(strlen(ch->client_id) == client_id.n && memcmp(ch->client_id, client_id.p, client_id.n) == 0)) {
    char *id = malloc(client_id.n + 1);
    if (!id) return TERN_ENOMEM;
    memcpy(id, client_id.p, client_id.n);
    id[client_id.n] = '\0';
    tern_error("broker: [BUG] consumer channel exist in broker, but clientId not equal. GROUP: %s OLD: %s NEW: %s",
               g->name, ch->client_id, id);
    free(ch->client_id);
    ch->client_id = id;
  }
  ch->language = language;
  ch->version = version;
  ch->last_update_ms = now_ms;
  g->last_update_ms = now_ms;
  r2 = update_subscription(g, &cd->subscription_data_set);
  if (r2 < 0) return r2;
  if ((r1 || r2) && notify) tern_consumers_notify(cl, g);
  return (r1 || r2) ? 1 : 0;
}

void tern_consumers_notify(tern_broker_clients_t *cl, tern_consumer_group_t *g) {
  tern_hdr_notify_consumer_ids_changed_request_t h;
  if (!cl->conf.notify_consumer_ids_changed_enable) return;
  memset(&h, 0, sizeof h);
  h.present = TERN_HDR_NOTIFY_CONSUMER_IDS_CHANGED_REQUEST_HAS_CONSUMER_GROUP;
  h.consumer_group = (tern_str_t){g->name, g->name_len};
  for (uint32_t i = 0; i < g->channels.n; i++) {
    tern_conn_t *c = g->channels.v[i].conn;
    if (!tern_conn_is_open(c)) continue;
    if (tern_send_notify_consumer_ids_changed(c, &h, TERN_STR_NULL) == 0)
      cl->notifications_sent++;
    else
      tern_warn("broker: notifyConsumerIdsChanged to %s failed, group %s", tern_conn_peer(c), g->name);
  }
}

void tern_consumers_unregister(tern_broker_clients_t *cl, tern_str_t group, tern_conn_t *c, bool notify) {
  tern_consumer_group_t *g = tern_consumers_find(cl, group);
  tern_client_channel_t *ch;
  if (!g) return;
  ch = tern_channel_set_find(&g->channels, c);
  if (ch) {
    tern_info("broker: unregister consumer ok, group %s, client %s", g->name, ch->client_id);
    tern_channel_set_remove_at(&g->channels, (uint32_t)(ch - g->channels.v));
  }
  if (g->channels.n == 0) {
    group_remove(cl, g);
    return;
  }
  if (notify) tern_consumers_notify(cl, g);
}

/* A growable list of pointers (groups to remove, connections to close). */
typedef struct ptr_list {
  void **v;
  size_t n, cap;
} ptr_list_t;

static int ptr_push(ptr_list_t *l, void *p) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 8;
    void **v = realloc(l->v, cap * sizeof *v);
    if (!v) return TERN_ENOMEM;
    l->v = v;
    l->cap = cap;
  }
  l->v[l->n++] = p;
  return 0;
}

/* Removes the channels of connection `only` (or, when NULL, those silent
 * since before expire_before) from every group, notifies the groups that lost
 * a member, frees emptied groups, and then closes expired connections (after
 * the tables are consistent, since closing runs the close hook). */
static void remove_where(tern_broker_clients_t *cl, tern_conn_t *only, int64_t expire_before) {
  const tern_strmap_slot_t *slot;
  ptr_list_t empty = {0}, to_close = {0};
  for (uint32_t i = 0; tern_strmap_next(&cl->consumers, &i, &slot);) {
    tern_consumer_group_t *g = slot->val;
    bool removed = false;
    for (uint32_t k = 0; k < g->channels.n;) {
      tern_client_channel_t *ch = &g->channels.v[k];
      bool drop = only ? ch->conn == only : ch->last_update_ms < expire_before;
      if (!drop) {
        k++;
        continue;
      }
      if (!only) {
        tern_warn("broker: SCAN: remove expired channel from ConsumerManager consumerTable. channel=%s, consumerGroup=%s, "
                  "clientId=%s, silent %lld ms",
                  tern_conn_peer(ch->conn), g->name, ch->client_id, (long long)(expire_before + cl->conf.channel_expired_timeout_ms - ch->last_update_ms));
        tern_conn_ref(ch->conn);
        if (ptr_push(&to_close, ch->conn)) tern_conn_unref(ch->conn);
      } else {
        tern_info("broker: NETTY EVENT: remove not active channel[%s] from ConsumerGroupInfo groupChannelTable, consumer group: %s",
                  tern_conn_peer(ch->conn), g->name);
      }
      tern_channel_set_remove_at(&g->channels, k);
      removed = true;
    }
    if (!removed) continue;
    if (g->channels.n == 0) {
      if (ptr_push(&empty, g)) tern_warn("broker: out of memory removing group %s (kept empty)", g->name);
    } else {
      tern_consumers_notify(cl, g);
    }
  }
  for (size_t i = 0; i < empty.n; i++) group_remove(cl, empty.v[i]);
  for (size_t i = 0; i < to_close.n; i++) {
    tern_conn_close(to_close.v[i]);
    tern_conn_unref(to_close.v[i]);
  }
  free(empty.v);
  free(to_close.v);
}

void tern_consumers_conn_closed(tern_broker_clients_t *cl, tern_conn_t *c) { remove_where(cl, c, 0); }

void tern_consumers_scan(tern_broker_clients_t *cl, int64_t now_ms) {
  remove_where(cl, NULL, now_ms - cl->conf.channel_expired_timeout_ms);
}
