/* The name server's route tables and every mutation of them (register,
 * unregister, removal of a dead address, topic deletion, write-permission
 * changes) plus the read-side lists the admin requests need. Semantics follow
 * RocketMQ 4.9's RouteInfoManager; where 4.9 and 5.x differ, the choice is
 * noted at the spot. Memory: every string is an owned malloc'd copy held by the
 * struct that the map stores, so map keys point into their own values. */
#include "namesrv/routes.h"

#include <stdlib.h>

static tern_str_t sdup(tern_str_t s) {
  char *p = malloc(s.n + 1);
  tern_str_t r = {NULL, 0};
  if (!p) return r;
  if (s.n) memcpy(p, s.p, s.n);
  p[s.n] = '\0';
  r.p = p;
  r.n = s.n;
  return r;
}

static void sfree(tern_str_t *s) {
  free((void *)s->p);
  s->p = NULL;
  s->n = 0;
}

/* Replaces *dst with a copy of src unless equal; returns 0 or TERN_ENOMEM. */
static int sset(tern_str_t *dst, tern_str_t src) {
  tern_str_t c;
  if (dst->p && tern_str_eq(*dst, src)) return 0;
  c = sdup(src);
  if (!c.p) return TERN_ENOMEM;
  sfree(dst);
  *dst = c;
  return 0;
}

static int str_cmp(tern_str_t a, tern_str_t b) {
  size_t n = a.n < b.n ? a.n : b.n;
  int c = n ? memcmp(a.p, b.p, n) : 0;
  if (c) return c;
  return a.n < b.n ? -1 : a.n > b.n;
}

static int str_qcmp(const void *a, const void *b) { return str_cmp(*(const tern_str_t *)a, *(const tern_str_t *)b); }

/* Grows an array of elem-size items to hold at least need; returns 0 or ENOMEM. */
static int grow_array(void **arr, uint32_t *cap, uint32_t need, size_t elem) {
  uint32_t ncap;
  void *p;
  if (need <= *cap) return 0;
  ncap = *cap ? *cap * 2 : 4;
  while (ncap < need) ncap *= 2;
  p = realloc(*arr, (size_t)ncap * elem);
  if (!p) return TERN_ENOMEM;
  *arr = p;
  *cap = ncap;
  return 0;
}

void tern_ns_routes_init(tern_ns_routes_t *r) {
  tern_strmap_init(&r->topics);
  tern_strmap_init(&r->groups);
  tern_strmap_init(&r->clusters);
  tern_strmap_init(&r->live);
  r->generation = 0;
}

static void topic_free(tern_ns_topic_t *t) {
  sfree(&t->name);
  free(t->q);
  free(t);
}

static void group_free(tern_ns_group_t *g) {
  for (uint32_t i = 0; i < g->n_addrs; i++) sfree(&g->addrs[i].addr);
  free(g->addrs);
  sfree(&g->name);
  sfree(&g->cluster);
  free(g);
}

static void cluster_free(tern_ns_cluster_t *c) {
  for (uint32_t i = 0; i < c->n; i++) sfree(&c->brokers[i]);
  free(c->brokers);
  sfree(&c->name);
  free(c);
}

static void live_free_filters(tern_ns_live_t *l) {
  for (uint32_t i = 0; i < l->n_filter; i++) sfree(&l->filter[i]);
  free(l->filter);
  l->filter = NULL;
  l->n_filter = 0;
}

static void live_free(tern_ns_live_t *l) {
  live_free_filters(l);
  sfree(&l->addr);
  sfree(&l->cluster);
  sfree(&l->ha_addr);
  free(l);
}

void tern_ns_routes_free(tern_ns_routes_t *r) {
  uint32_t i = 0;
  const tern_strmap_slot_t *s;
  while (tern_strmap_next(&r->topics, &i, &s)) topic_free(s->val);
  i = 0;
  while (tern_strmap_next(&r->groups, &i, &s)) group_free(s->val);
  i = 0;
  while (tern_strmap_next(&r->clusters, &i, &s)) cluster_free(s->val);
  i = 0;
  while (tern_strmap_next(&r->live, &i, &s)) live_free(s->val);
  tern_strmap_free(&r->topics);
  tern_strmap_free(&r->groups);
  tern_strmap_free(&r->clusters);
  tern_strmap_free(&r->live);
}

/* ---- lookups ---- */

const tern_ns_topic_t *tern_ns_routes_topic(const tern_ns_routes_t *r, tern_str_t topic) {
  return tern_strmap_get(&r->topics, topic);
}
const tern_ns_group_t *tern_ns_routes_group(const tern_ns_routes_t *r, tern_str_t name) {
  return tern_strmap_get(&r->groups, name);
}
const tern_ns_live_t *tern_ns_routes_live(const tern_ns_routes_t *r, tern_str_t addr) {
  return tern_strmap_get(&r->live, addr);
}

tern_str_t tern_ns_group_master(const tern_ns_group_t *g) {
  if (g->n_addrs && g->addrs[0].id == 0) return g->addrs[0].addr;
  return TERN_STR_NULL;
}

/* ---- cluster sets ---- */

static int cluster_add(tern_ns_routes_t *r, tern_str_t cluster, tern_str_t broker) {
  tern_ns_cluster_t *c = tern_strmap_get(&r->clusters, cluster);
  uint32_t lo = 0, hi;
  tern_str_t copy;
  if (!c) {
    c = calloc(1, sizeof *c);
    if (!c) return TERN_ENOMEM;
    c->name = sdup(cluster);
    if (!c->name.p || tern_strmap_put(&r->clusters, c->name, c, NULL)) {
      sfree(&c->name);
      free(c);
      return TERN_ENOMEM;
    }
    r->generation++;
  }
  hi = c->n;
  while (lo < hi) {
    uint32_t mid = (lo + hi) / 2;
    int cmp = str_cmp(c->brokers[mid], broker);
    if (cmp == 0) return 0;
    if (cmp < 0) lo = mid + 1;
    else hi = mid;
  }
  if (grow_array((void **)&c->brokers, &c->cap, c->n + 1, sizeof *c->brokers)) return TERN_ENOMEM;
  copy = sdup(broker);
  if (!copy.p) return TERN_ENOMEM;
  memmove(&c->brokers[lo + 1], &c->brokers[lo], (c->n - lo) * sizeof *c->brokers);
  c->brokers[lo] = copy;
  c->n++;
  r->generation++;
  return 0;
}

/* Removes broker from every cluster set; empty clusters go. */
static void clusters_drop_broker(tern_ns_routes_t *r, tern_str_t broker) {
  tern_str_t dead[8];
  uint32_t n_dead = 0, i = 0;
  const tern_strmap_slot_t *s;
  bool again;
  do {
    again = false;
    i = 0;
    n_dead = 0;
    while (tern_strmap_next(&r->clusters, &i, &s)) {
      tern_ns_cluster_t *c = s->val;
      for (uint32_t k = 0; k < c->n; k++) {
        if (!tern_str_eq(c->brokers[k], broker)) continue;
        sfree(&c->brokers[k]);
        memmove(&c->brokers[k], &c->brokers[k + 1], (c->n - k - 1) * sizeof *c->brokers);
        c->n--;
        r->generation++;
        break;
      }
      if (c->n == 0) {
        if (n_dead < TERN_ARRAY_SIZE(dead)) dead[n_dead++] = c->name;
        else again = true; /* more empty clusters than fit: another pass */
      }
    }
    for (uint32_t k = 0; k < n_dead; k++) cluster_free(tern_strmap_del(&r->clusters, dead[k]));
  } while (again);
}

/* ---- groups and queue data ---- */

/* Removes g's queue data from every topic (topics left empty go), then g from
 * the cluster sets and the group table, and frees it. */
static void drop_group(tern_ns_routes_t *r, tern_ns_group_t *g) {
  uint32_t i = 0, n_empty = 0;
  const tern_strmap_slot_t *s;
  tern_ns_topic_t **empty = NULL;
  if (r->topics.len) empty = malloc(r->topics.len * sizeof *empty);
  while (tern_strmap_next(&r->topics, &i, &s)) {
    tern_ns_topic_t *t = s->val;
    for (uint32_t k = 0; k < t->n; k++) {
      if (t->q[k].group != g) continue;
      memmove(&t->q[k], &t->q[k + 1], (t->n - k - 1) * sizeof *t->q);
      t->n--;
      break;
    }
    if (t->n == 0 && empty) empty[n_empty++] = t;
  }
  for (uint32_t k = 0; k < n_empty; k++) {
    tern_strmap_del(&r->topics, empty[k]->name);
    topic_free(empty[k]);
  }
  free(empty);
  if (!empty && r->topics.len) {
    /* Out of memory for the list: fall back to deleting one at a time so the
     * "no empty topic" invariant still holds. */
    bool found;
    do {
      found = false;
      i = 0;
      while (tern_strmap_next(&r->topics, &i, &s)) {
        tern_ns_topic_t *t = s->val;
        if (t->n) continue;
        tern_strmap_del(&r->topics, t->name);
        topic_free(t);
        found = true;
        break;
      }
    } while (found);
  }
  clusters_drop_broker(r, g->name);
  tern_strmap_del(&r->groups, g->name);
  group_free(g);
  r->generation++;
}

/* Removes the address entries equal to addr (other than keep_id, -1 keeps
 * none... ids are compared only when keep is true). Returns removed count. */
static uint32_t group_remove_addr(tern_ns_group_t *g, tern_str_t addr, bool keep, int64_t keep_id) {
  uint32_t removed = 0, w = 0;
  for (uint32_t k = 0; k < g->n_addrs; k++) {
    if (tern_str_eq(g->addrs[k].addr, addr) && !(keep && g->addrs[k].id == keep_id)) {
      sfree(&g->addrs[k].addr);
      removed++;
      continue;
    }
    g->addrs[w++] = g->addrs[k];
  }
  g->n_addrs = w;
  return removed;
}

/* Puts addrs[id] = addr; *was_new = the id had no address before. */
static int group_put_addr(tern_ns_routes_t *r, tern_ns_group_t *g, int64_t id, tern_str_t addr, bool *was_new) {
  uint32_t k = 0;
  tern_str_t copy;
  while (k < g->n_addrs && g->addrs[k].id < id) k++;
  if (k < g->n_addrs && g->addrs[k].id == id) {
    *was_new = false;
    if (tern_str_eq(g->addrs[k].addr, addr)) return 0;
    r->generation++;
    return sset(&g->addrs[k].addr, addr);
  }
  *was_new = true;
  if (grow_array((void **)&g->addrs, &g->cap_addrs, g->n_addrs + 1, sizeof *g->addrs)) return TERN_ENOMEM;
  copy = sdup(addr);
  if (!copy.p) return TERN_ENOMEM;
  memmove(&g->addrs[k + 1], &g->addrs[k], (g->n_addrs - k) * sizeof *g->addrs);
  g->addrs[k].id = id;
  g->addrs[k].addr = copy;
  g->n_addrs++;
  r->generation++;
  return 0;
}

static int topic_put_queue(tern_ns_routes_t *r, tern_ns_group_t *g, const tern_ns_topic_conf_t *tc) {
  tern_ns_topic_t *t = tern_strmap_get(&r->topics, tc->name);
  uint32_t k = 0;
  tern_ns_queue_t q = {g, tc->read_queue_nums, tc->write_queue_nums, tc->perm, tc->topic_sys_flag};
  if (!t) {
    t = calloc(1, sizeof *t);
    if (!t) return TERN_ENOMEM;
    t->name = sdup(tc->name);
    if (!t->name.p || grow_array((void **)&t->q, &t->cap, 1, sizeof *t->q) ||
        tern_strmap_put(&r->topics, t->name, t, NULL)) {
      topic_free(t);
      return TERN_ENOMEM;
    }
  }
  while (k < t->n && str_cmp(t->q[k].group->name, g->name) < 0) k++;
  if (k < t->n && t->q[k].group == g) {
    if (memcmp(&t->q[k], &q, sizeof q) != 0) {
      t->q[k] = q;
      r->generation++;
    }
    return 0;
  }
  if (grow_array((void **)&t->q, &t->cap, t->n + 1, sizeof *t->q)) {
    if (t->n == 0) {
      tern_strmap_del(&r->topics, t->name);
      topic_free(t);
    }
    return TERN_ENOMEM;
  }
  memmove(&t->q[k + 1], &t->q[k], (t->n - k) * sizeof *t->q);
  t->q[k] = q;
  t->n++;
  r->generation++;
  return 0;
}

static bool dv_eq(const tern_ns_data_version_t *a, const tern_ns_data_version_t *b) {
  return a->timestamp == b->timestamp && a->counter == b->counter && a->state_version == b->state_version;
}

/* Returns 1 when the list changed, 0 when equal, or TERN_ENOMEM. */
static int live_set_filters(tern_ns_live_t *l, const tern_str_t *f, uint32_t n) {
  tern_str_t *arr = NULL;
  bool same = n == l->n_filter;
  for (uint32_t i = 0; same && i < n; i++) same = tern_str_eq(f[i], l->filter[i]);
  if (same) return 0;
  if (n) {
    arr = calloc(n, sizeof *arr);
    if (!arr) return TERN_ENOMEM;
    for (uint32_t i = 0; i < n; i++) {
      arr[i] = sdup(f[i]);
      if (!arr[i].p) {
        for (uint32_t k = 0; k < i; k++) sfree(&arr[k]);
        free(arr);
        return TERN_ENOMEM;
      }
    }
  }
  live_free_filters(l);
  l->filter = arr;
  l->n_filter = n;
  return 1;
}

int tern_ns_routes_register(tern_ns_routes_t *r, const tern_ns_register_t *req, int64_t now_ms,
                            tern_ns_register_result_t *res) {
  tern_ns_group_t *g;
  tern_ns_live_t *l;
  bool first = false, was_new = false, changed;
  int rc;

  res->ha_addr = res->master_addr = TERN_STR_NULL;
  if (!req->cluster.n || !req->broker_addr.n || !req->broker_name.n) return TERN_EINVAL;

  /* Step 2: cluster set, group, same address under another id removed
   * (slave promoted to master), then addrs[brokerId] = brokerAddr. */
  rc = cluster_add(r, req->cluster, req->broker_name);
  if (rc) return rc;
  g = tern_strmap_get(&r->groups, req->broker_name);
  if (!g) {
    g = calloc(1, sizeof *g);
    if (!g) return TERN_ENOMEM;
    g->name = sdup(req->broker_name);
    g->cluster = sdup(req->cluster);
    if (!g->name.p || !g->cluster.p || tern_strmap_put(&r->groups, g->name, g, NULL)) {
      group_free(g);
      return TERN_ENOMEM;
    }
    first = true;
    r->generation++;
  }
  if (group_remove_addr(g, req->broker_addr, true, req->broker_id)) r->generation++;
  rc = group_put_addr(r, g, req->broker_id, req->broker_addr, &was_new);
  if (rc) {
    if (g->n_addrs == 0) drop_group(r, g);
    return rc;
  }
  first = first || was_new;

  /* Step 3: a master's topic configs replace its queue data when its data
   * version changed or this is the first registration of that id. */
  l = tern_strmap_get(&r->live, req->broker_addr);
  changed = !l || !dv_eq(&l->dv, &req->dv);
  if (req->broker_id == 0 && (changed || first)) {
    for (uint32_t i = 0; i < req->n_topics; i++) {
      if (!req->topics[i].name.n) continue; /* a nameless topic cannot be routed */
      rc = topic_put_queue(r, g, &req->topics[i]);
      if (rc) return rc;
    }
  }

  /* Step 4: the live entry. */
  if (!l) {
    l = calloc(1, sizeof *l);
    if (!l) return TERN_ENOMEM;
    l->addr = sdup(req->broker_addr);
    if (!l->addr.p || tern_strmap_put(&r->live, l->addr, l, NULL)) {
      live_free(l);
      return TERN_ENOMEM;
    }
  }
  l->last_update_ms = now_ms;
  l->timeout_ms = req->timeout_ms > 0 ? req->timeout_ms : TERN_NS_DEFAULT_BROKER_TIMEOUT_MS;
  l->dv = req->dv;
  l->conn = req->conn;
  if (sset(&l->cluster, req->cluster) || sset(&l->ha_addr, req->ha_addr)) return TERN_ENOMEM;
  if (req->has_filter_list) {
    rc = live_set_filters(l, req->filter, req->n_filter);
    if (rc < 0) return rc;
    if (rc) r->generation++;
  }

  /* Step 5: a slave learns its live master's addresses. */
  if (req->broker_id != 0) {
    tern_str_t master = tern_ns_group_master(g);
    const tern_ns_live_t *ml = master.n ? tern_strmap_get(&r->live, master) : NULL;
    if (ml) {
      res->master_addr = master;
      res->ha_addr = ml->ha_addr;
    }
  }
  return 0;
}

static void live_drop(tern_ns_routes_t *r, tern_str_t addr) {
  tern_ns_live_t *l = tern_strmap_del(&r->live, addr);
  if (l) {
    if (l->n_filter) r->generation++;
    live_free(l);
  }
}

void tern_ns_routes_unregister(tern_ns_routes_t *r, tern_str_t cluster, tern_str_t broker_addr,
                               tern_str_t broker_name, int64_t broker_id) {
  tern_ns_group_t *g;
  TERN_UNUSED(cluster);
  TERN_UNUSED(broker_id);
  live_drop(r, broker_addr);
  g = tern_strmap_get(&r->groups, broker_name);
  if (!g) return;
  /* 5.x removes the entries holding this address (4.9 removed by brokerId,
   * which could drop a newer broker that has since taken the id). */
  if (group_remove_addr(g, broker_addr, false, 0)) r->generation++;
  if (g->n_addrs == 0) drop_group(r, g);
}

bool tern_ns_routes_remove_addr(tern_ns_routes_t *r, tern_str_t broker_addr) {
  bool removed = tern_strmap_get(&r->live, broker_addr) != NULL;
  tern_ns_group_t *empty[16];
  uint32_t n_empty, i;
  const tern_strmap_slot_t *s;
  bool again;
  /* broker_addr may point into the live entry itself: copy it first. */
  char stack[256];
  tern_str_t addr = broker_addr;
  char *heap = NULL;
  if (addr.n <= sizeof stack) {
    if (addr.n) memcpy(stack, addr.p, addr.n);
    addr.p = stack;
  } else {
    heap = malloc(addr.n);
    if (!heap) return false;
    memcpy(heap, broker_addr.p, addr.n);
    addr.p = heap;
  }
  live_drop(r, addr);
  do {
    again = false;
    n_empty = 0;
    i = 0;
    while (tern_strmap_next(&r->groups, &i, &s)) {
      tern_ns_group_t *g = s->val;
      if (group_remove_addr(g, addr, false, 0)) {
        removed = true;
        r->generation++;
      }
      if (g->n_addrs == 0) {
        if (n_empty < TERN_ARRAY_SIZE(empty)) empty[n_empty++] = g;
        else again = true;
      }
    }
    for (uint32_t k = 0; k < n_empty; k++) drop_group(r, empty[k]);
  } while (again);
  free(heap);
  return removed;
}

void tern_ns_routes_query_data_version(tern_ns_routes_t *r, tern_str_t broker_addr,
                                       const tern_ns_data_version_t *dv, int64_t now_ms,
                                       bool *changed, const tern_ns_data_version_t **stored) {
  tern_ns_live_t *l = tern_strmap_get(&r->live, broker_addr);
  *changed = !l || !dv_eq(&l->dv, dv);
  *stored = l ? &l->dv : NULL;
  if (l && !*changed) l->last_update_ms = now_ms;
}

bool tern_ns_routes_touch(tern_ns_routes_t *r, tern_str_t broker_addr, int64_t timeout_ms, int64_t now_ms) {
  tern_ns_live_t *l = tern_strmap_get(&r->live, broker_addr);
  if (!l) return false;
  l->last_update_ms = now_ms;
  if (timeout_ms > 0) l->timeout_ms = timeout_ms;
  return true;
}

int tern_ns_routes_register_topic(tern_ns_routes_t *r, tern_str_t topic, const tern_str_t *broker_names,
                                  const tern_ns_topic_conf_t *queues, uint32_t n) {
  if (!topic.n || !n) return TERN_EINVAL;
  for (uint32_t i = 0; i < n; i++)
    if (!tern_strmap_get(&r->groups, broker_names[i])) return TERN_ENOTFOUND;
  for (uint32_t i = 0; i < n; i++) {
    tern_ns_topic_conf_t tc = queues[i];
    int rc;
    tc.name = topic;
    rc = topic_put_queue(r, tern_strmap_get(&r->groups, broker_names[i]), &tc);
    if (rc) return rc;
  }
  return 0;
}

/* ---- lists ---- */

int tern_ns_routes_sorted_keys(const tern_strmap_t *m, tern_arena_t *a, tern_str_t **out, uint32_t *n) {
  uint32_t i = 0, k = 0;
  const tern_strmap_slot_t *s;
  tern_str_t *arr = tern_arena_calloc(a, m->len ? m->len : 1, sizeof *arr);
  if (!arr) return TERN_ENOMEM;
  while (tern_strmap_next(m, &i, &s)) arr[k++] = s->key;
  qsort(arr, k, sizeof *arr, str_qcmp);
  *out = arr;
  *n = k;
  return 0;
}

int tern_ns_routes_all_topics(const tern_ns_routes_t *r, tern_arena_t *a, tern_str_t **out, uint32_t *n) {
  return tern_ns_routes_sorted_keys(&r->topics, a, out, n);
}

int tern_ns_routes_cluster_topics(const tern_ns_routes_t *r, tern_str_t cluster, tern_arena_t *a,
                                  tern_str_t **out, uint32_t *n) {
  const tern_ns_cluster_t *c = tern_strmap_get(&r->clusters, cluster);
  uint32_t i = 0, k = 0;
  const tern_strmap_slot_t *s;
  tern_str_t *arr = tern_arena_calloc(a, r->topics.len ? r->topics.len : 1, sizeof *arr);
  if (!arr) return TERN_ENOMEM;
  while (c && tern_strmap_next(&r->topics, &i, &s)) {
    const tern_ns_topic_t *t = s->val;
    bool hit = false;
    for (uint32_t q = 0; q < t->n && !hit; q++) {
      tern_str_t *key = &t->q[q].group->name;
      hit = bsearch(key, c->brokers, c->n, sizeof *c->brokers, str_qcmp) != NULL;
    }
    if (hit) arr[k++] = t->name;
  }
  qsort(arr, k, sizeof *arr, str_qcmp);
  *out = arr;
  *n = k;
  return 0;
}

int tern_ns_routes_unit_topics(const tern_ns_routes_t *r, int which, tern_arena_t *a, tern_str_t **out, uint32_t *n) {
  uint32_t i = 0, k = 0;
  const tern_strmap_slot_t *s;
  tern_str_t *arr = tern_arena_calloc(a, r->topics.len ? r->topics.len : 1, sizeof *arr);
  if (!arr) return TERN_ENOMEM;
  while (tern_strmap_next(&r->topics, &i, &s)) {
    const tern_ns_topic_t *t = s->val;
    int32_t f = t->q[0].topic_sys_flag; /* a topic always has queue data */
    bool unit = (f & TERN_NS_SYSFLAG_UNIT) != 0, sub = (f & TERN_NS_SYSFLAG_UNIT_SUB) != 0;
    if ((which == TERN_NS_UNIT && unit) || (which == TERN_NS_UNIT_SUB && sub) ||
        (which == TERN_NS_UNIT_SUB_NOT_UNIT && sub && !unit))
      arr[k++] = t->name;
  }
  qsort(arr, k, sizeof *arr, str_qcmp);
  *out = arr;
  *n = k;
  return 0;
}

int tern_ns_routes_system_topics(const tern_ns_routes_t *r, tern_arena_t *a, tern_str_t **out, uint32_t *n,
                                 tern_str_t *first_addr) {
  tern_str_t *names, *groups;
  uint32_t n_names, n_groups, total = 0, k = 0;
  tern_str_t *arr;
  int rc = tern_ns_routes_sorted_keys(&r->clusters, a, &names, &n_names);
  if (rc) return rc;
  for (uint32_t i = 0; i < n_names; i++) total += 1 + ((tern_ns_cluster_t *)tern_strmap_get(&r->clusters, names[i]))->n;
  arr = tern_arena_calloc(a, total ? total : 1, sizeof *arr);
  if (!arr) return TERN_ENOMEM;
  for (uint32_t i = 0; i < n_names; i++) {
    const tern_ns_cluster_t *c = tern_strmap_get(&r->clusters, names[i]);
    arr[k++] = c->name;
    for (uint32_t b = 0; b < c->n; b++) arr[k++] = c->brokers[b];
  }
  *out = arr;
  *n = k;
  *first_addr = TERN_STR_NULL;
  rc = tern_ns_routes_sorted_keys(&r->groups, a, &groups, &n_groups);
  if (rc) return rc;
  if (n_groups) {
    const tern_ns_group_t *g = tern_strmap_get(&r->groups, groups[0]);
    if (g->n_addrs) *first_addr = g->addrs[0].addr;
  }
  return 0;
}

/* ---- admin mutations ---- */

bool tern_ns_routes_delete_topic(tern_ns_routes_t *r, tern_str_t topic, tern_str_t cluster) {
  tern_ns_topic_t *t = tern_strmap_get(&r->topics, topic);
  const tern_ns_cluster_t *c;
  uint32_t w = 0, before;
  if (!t) return false;
  if (!cluster.n) {
    tern_strmap_del(&r->topics, t->name);
    topic_free(t);
    r->generation++;
    return true;
  }
  c = tern_strmap_get(&r->clusters, cluster);
  if (!c) return false;
  before = t->n;
  for (uint32_t k = 0; k < t->n; k++) {
    if (bsearch(&t->q[k].group->name, c->brokers, c->n, sizeof *c->brokers, str_qcmp)) continue;
    t->q[w++] = t->q[k];
  }
  t->n = w;
  if (w == before) return false;
  r->generation++;
  if (w == 0) {
    tern_strmap_del(&r->topics, t->name);
    topic_free(t);
  }
  return true;
}

int tern_ns_routes_write_perm(tern_ns_routes_t *r, tern_str_t broker_name, bool wipe) {
  const tern_ns_group_t *g = tern_strmap_get(&r->groups, broker_name);
  uint32_t i = 0;
  const tern_strmap_slot_t *s;
  int count = 0;
  if (!g) return 0;
  while (tern_strmap_next(&r->topics, &i, &s)) {
    tern_ns_topic_t *t = s->val;
    for (uint32_t k = 0; k < t->n; k++) {
      if (t->q[k].group != g) continue;
      /* As 4.9/5.x: wipe clears the write bit, add sets read|write. */
      t->q[k].perm = wipe ? (t->q[k].perm & ~TERN_NS_PERM_WRITE) : (TERN_NS_PERM_READ | TERN_NS_PERM_WRITE);
      count++;
      break;
    }
  }
  if (count) r->generation++;
  return count;
}
