/* Subscription groups (RocketMQ 4.9's SubscriptionGroupManager): a string map
 * from group name to an owned SubscriptionGroupConfig (each entry deep-copies
 * its strings into its own small arena), RocketMQ's built-in groups present
 * from the start, the table's DataVersion, and persistence of
 * config/subscriptionGroup.json through broker/store/meta.h (which encodes with
 * the generated SubscriptionGroupWrapper codec). Loop-thread only. */
#include "broker/subgroups.h"

#include <stdlib.h>

#include "broker/store/meta.h"
#include "gen/message.h"
#include "namesrv/strmap.h"
#include "runtime/clock.h"
#include "runtime/log.h"

typedef struct sg_entry {
  tern_body_subscription_group_config_t cfg;
  tern_arena_t arena;
  uint8_t block[512];
} sg_entry_t;

struct tern_subgroups {
  tern_broker_t *b;
  tern_strmap_t map; /* name -> sg_entry_t*, key = entry's cfg.group_name */
  tern_body_data_version_t version;
};

void tern_subgroups_default_config(tern_body_subscription_group_config_t *c, tern_str_t group) {
  memset(c, 0, sizeof *c);
  c->group_name = group;
  c->consume_enable = true;
  c->consume_from_min_enable = true;
  c->consume_broadcast_enable = true;
  c->retry_queue_nums = 1;
  c->retry_max_times = 16;
  c->broker_id = 0;
  c->which_broker_when_consume_slowly = 1;
  c->notify_consumer_ids_changed_enable = true;
  c->consume_timeout_minute = 15;
  c->has = TERN_BODY_SUBSCRIPTION_GROUP_CONFIG_HAS_GROUP_NAME;
}

static void version_next(tern_body_data_version_t *v) {
  v->timestamp = (int64_t)tern_clock_now_ms();
  v->counter++;
  v->has = TERN_BODY_DATA_VERSION_HAS_COUNTER | TERN_BODY_DATA_VERSION_HAS_TIMESTAMP;
}

static void entry_free(sg_entry_t *e) {
  if (!e) return;
  tern_arena_free(&e->arena);
  free(e);
}

/* A deep copy of cfg in a fresh entry, or NULL (out of memory). */
static sg_entry_t *entry_new(const tern_body_subscription_group_config_t *cfg) {
  sg_entry_t *e = calloc(1, sizeof *e);
  if (!e) return NULL;
  tern_arena_init(&e->arena, 1 << 20, e->block, sizeof e->block);
  e->cfg = *cfg;
  e->cfg.group_name = tern_arena_strdup(&e->arena, cfg->group_name);
  if (!e->cfg.group_name.p) goto oom;
  e->cfg.has |= TERN_BODY_SUBSCRIPTION_GROUP_CONFIG_HAS_GROUP_NAME;
  if (cfg->attributes.n) {
    tern_body_map_str_str_entry_t *v = tern_arena_calloc(&e->arena, cfg->attributes.n, sizeof *v);
    if (!v) goto oom;
    for (uint32_t i = 0; i < cfg->attributes.n; i++) {
      v[i].key = tern_arena_strdup(&e->arena, cfg->attributes.v[i].key);
      v[i].val = tern_arena_strdup(&e->arena, cfg->attributes.v[i].val);
      if (!v[i].key.p || !v[i].val.p) goto oom;
    }
    e->cfg.attributes.v = v;
  } else {
    e->cfg.attributes.v = NULL;
    e->cfg.attributes.n = 0;
  }
  return e;
oom:
  entry_free(e);
  return NULL;
}

static int put_entry(tern_subgroups_t *g, const tern_body_subscription_group_config_t *cfg) {
  void *old = NULL;
  sg_entry_t *e = entry_new(cfg);
  if (!e) return TERN_ENOMEM;
  if (tern_strmap_put(&g->map, e->cfg.group_name, e, &old)) {
    entry_free(e);
    return TERN_ENOMEM;
  }
  entry_free(old);
  return 0;
}

/* The table as a SubscriptionGroupWrapper; *v (malloc'd, caller frees) holds the entries. */
static int build_wrapper(tern_subgroups_t *g, tern_body_subscription_group_wrapper_t *w,
                         tern_body_map_str_subscription_group_config_entry_t **v) {
  const tern_strmap_slot_t *slot;
  uint32_t n = 0;
  *v = calloc(g->map.len ? g->map.len : 1, sizeof **v);
  if (!*v) return TERN_ENOMEM;
  for (uint32_t i = 0; tern_strmap_next(&g->map, &i, &slot);) {
    const sg_entry_t *e = slot->val;
    (*v)[n].key = e->cfg.group_name;
    (*v)[n].val = e->cfg;
    n++;
  }
  memset(w, 0, sizeof *w);
  w->data_version = g->version;
  w->subscription_group_table.v = *v;
  w->subscription_group_table.n = n;
  w->has = TERN_BODY_SUBSCRIPTION_GROUP_WRAPPER_HAS_DATA_VERSION |
           TERN_BODY_SUBSCRIPTION_GROUP_WRAPPER_HAS_SUBSCRIPTION_GROUP_TABLE;
  return 0;
}

static int persist(tern_subgroups_t *g) {
  tern_body_subscription_group_wrapper_t w;
  tern_body_map_str_subscription_group_config_entry_t *v;
  tern_err_t err = {0};
  int rc;
  if (!g->b->store) return 0;
  if ((rc = build_wrapper(g, &w, &v)) != 0) return rc;
  rc = tern_store_save_subscription_groups(g->b->store, &w, &err);
  free(v);
  if (rc) tern_warn("broker: could not persist %s: %s", TERN_META_SUBSCRIPTION_GROUP, err.reason ? err.reason : tern_strerror(rc));
  return rc;
}

static const char *const builtin_groups[] = {
    "TOOLS_CONSUMER", "FILTERSRV_CONSUMER", "SELF_TEST_C_GROUP", "CID_ONS-HTTP-PROXY",
    "CID_ONSAPI_PULL", "CID_ONSAPI_PERMISSION", "CID_ONSAPI_OWNER",
};

int tern_subgroups_open(tern_broker_t *b, tern_subgroups_t **out, tern_err_t *err) {
  tern_subgroups_t *g = calloc(1, sizeof *g);
  tern_arena_t a;
  tern_body_subscription_group_wrapper_t w;
  int rc = 0;
  *out = NULL;
  if (!g) return tern_fail(err, TERN_ENOMEM, "out of memory", NULL, 0);
  g->b = b;
  tern_strmap_init(&g->map);
  version_next(&g->version);
  for (size_t i = 0; i < TERN_ARRAY_SIZE(builtin_groups); i++) {
    tern_body_subscription_group_config_t c;
    tern_subgroups_default_config(&c, tern_str_from_cstr(builtin_groups[i]));
    if (put_entry(g, &c)) {
      tern_subgroups_free(g);
      return tern_fail(err, TERN_ENOMEM, "out of memory", NULL, 0);
    }
  }
  if (b->store) {
    tern_arena_init(&a, 0, NULL, 0);
    memset(&w, 0, sizeof w);
    rc = tern_store_load_subscription_groups(b->store, &a, &w, err);
    if (rc == 0) {
      if (w.has & TERN_BODY_SUBSCRIPTION_GROUP_WRAPPER_HAS_DATA_VERSION) g->version = w.data_version;
      for (uint32_t i = 0; i < w.subscription_group_table.n && rc == 0; i++)
        rc = put_entry(g, &w.subscription_group_table.v[i].val);
      if (rc) tern_fail(err, rc, "out of memory", NULL, 0);
    } else if (rc == TERN_ENOTFOUND) {
      rc = 0;
    }
    tern_arena_free(&a);
  }
  if (rc) {
    tern_subgroups_free(g);
    return rc;
  }
  *out = g;
  return 0;
}

void tern_subgroups_free(tern_subgroups_t *g) {
  const tern_strmap_slot_t *slot;
  if (!g) return;
  for (uint32_t i = 0; tern_strmap_next(&g->map, &i, &slot);) entry_free(slot->val);
  tern_strmap_free(&g->map);
  free(g);
}

static bool is_sys_group(tern_str_t group) {
  size_t n = strlen(TERN_SYSTEM_GROUP_PREFIX);
  return group.n >= n && memcmp(group.p, TERN_SYSTEM_GROUP_PREFIX, n) == 0;
}

const tern_body_subscription_group_config_t *tern_subgroups_find(tern_subgroups_t *g, tern_str_t group,
                                                                 bool auto_create) {
  sg_entry_t *e = tern_strmap_get(&g->map, group);
  if (e) return &e->cfg;
  if (!auto_create || group.n == 0) return NULL;
  if (!g->b->conf.auto_create_subscription_group && !is_sys_group(group)) return NULL;
  {
    tern_body_subscription_group_config_t c;
    tern_subgroups_default_config(&c, group);
    if (put_entry(g, &c)) return NULL;
  }
  tern_info("broker: auto create a subscription group, %.*s", TERN_STR_ARG(group));
  version_next(&g->version);
  persist(g);
  e = tern_strmap_get(&g->map, group);
  return e ? &e->cfg : NULL;
}

int tern_subgroups_put(tern_subgroups_t *g, const tern_body_subscription_group_config_t *cfg) {
  int rc;
  if (!cfg->group_name.n) return TERN_EINVAL;
  rc = put_entry(g, cfg);
  if (rc) return rc;
  tern_info("broker: update subscription group config, %.*s", TERN_STR_ARG(cfg->group_name));
  version_next(&g->version);
  persist(g);
  return 0;
}

int tern_subgroups_delete(tern_subgroups_t *g, tern_str_t group) {
  sg_entry_t *e = tern_strmap_del(&g->map, group);
  if (!e) return TERN_ENOTFOUND;
  entry_free(e);
  version_next(&g->version);
  persist(g);
  return 0;
}

void tern_subgroups_encode(tern_subgroups_t *g, tern_buf_t *out, unsigned flags) {
  tern_body_subscription_group_wrapper_t w;
  tern_body_map_str_subscription_group_config_entry_t *v;
  if (build_wrapper(g, &w, &v)) {
    out->err = out->err ? out->err : TERN_ENOMEM;
    return;
  }
  tern_body_subscription_group_wrapper_encode(&w, out, flags);
  free(v);
}

const tern_body_subscription_group_config_t *tern_subgroups_next(tern_subgroups_t *g, uint32_t *pos) {
  const tern_strmap_slot_t *slot;
  if (!tern_strmap_next(&g->map, pos, &slot)) return NULL;
  return &((const sg_entry_t *)slot->val)->cfg;
}
