/* Route state through its own API: the REGISTER_BROKER steps of reference
 * §5.3 (cluster sets, addresses by brokerId, master-only topic configs gated
 * by the data version, slave learns its master), unregistration and address
 * removal with their cascades (§8.1), and the admin operations of §5.6. */
#include "namesrv/routes.h"

#include <stdlib.h>

#include "tern_test.h"

static tern_ns_topic_conf_t tc(const char *name, int32_t rq, int32_t wq, int32_t perm) {
  tern_ns_topic_conf_t t = {tern_str_from_cstr(name), rq, wq, perm, 0};
  return t;
}

/* Registers one broker with the given topics and data version counter. */
static int reg(tern_ns_routes_t *r, const char *cluster, const char *name, int64_t id, const char *addr,
               const tern_ns_topic_conf_t *topics, uint32_t n, int64_t counter, int64_t now,
               tern_ns_register_result_t *res) {
  tern_ns_register_t q;
  tern_ns_register_result_t dummy;
  memset(&q, 0, sizeof q);
  q.cluster = tern_str_from_cstr(cluster);
  q.broker_name = tern_str_from_cstr(name);
  q.broker_addr = tern_str_from_cstr(addr);
  q.ha_addr = tern_str_from_cstr(addr); /* distinct enough for the checks */
  q.broker_id = id;
  q.dv.timestamp = 1700000000000;
  q.dv.counter = counter;
  q.topics = topics;
  q.n_topics = n;
  return tern_ns_routes_register(r, &q, now, res ? res : &dummy);
}

static int str_cmp_for_test(tern_str_t a, tern_str_t b) {
  size_t n = a.n < b.n ? a.n : b.n;
  int c = n ? memcmp(a.p, b.p, n) : 0;
  return c ? c : (a.n > b.n) - (a.n < b.n);
}

static const tern_ns_queue_t *queue_of(const tern_ns_routes_t *r, const char *topic, const char *broker) {
  const tern_ns_topic_t *t = tern_ns_routes_topic(r, tern_str_from_cstr(topic));
  if (!t) return NULL;
  for (uint32_t i = 0; i < t->n; i++)
    if (tern_str_eq_cstr(t->q[i].group->name, broker)) return &t->q[i];
  return NULL;
}

TEST(master_registration_creates_route) {
  tern_ns_routes_t r;
  tern_ns_topic_conf_t t[2] = {tc("TopicTest", 4, 4, 6), tc("Other", 8, 2, 4)};
  const tern_ns_group_t *g;
  const tern_ns_queue_t *q;
  const tern_ns_live_t *l;
  tern_ns_routes_init(&r);
  ASSERT_OK(reg(&r, "DefaultCluster", "broker-a", 0, "10.0.0.1:10911", t, 2, 1, 1000, NULL));
  g = tern_ns_routes_group(&r, TERN_STR("broker-a"));
  ASSERT(g != NULL);
  ASSERT_STR(g->cluster, "DefaultCluster");
  ASSERT_EQ(g->n_addrs, 1);
  ASSERT_EQ(g->addrs[0].id, 0);
  ASSERT_STR(tern_ns_group_master(g), "10.0.0.1:10911");
  q = queue_of(&r, "Other", "broker-a");
  ASSERT(q != NULL);
  ASSERT_EQ(q->read_queue_nums, 8);
  ASSERT_EQ(q->write_queue_nums, 2);
  ASSERT_EQ(q->perm, 4);
  l = tern_ns_routes_live(&r, TERN_STR("10.0.0.1:10911"));
  ASSERT(l != NULL);
  ASSERT_EQ(l->last_update_ms, 1000);
  ASSERT_EQ(l->timeout_ms, TERN_NS_DEFAULT_BROKER_TIMEOUT_MS);
  ASSERT_EQ(l->dv.counter, 1);
  ASSERT(tern_ns_routes_topic(&r, TERN_STR("Nope")) == NULL);
  tern_ns_routes_free(&r);
}

TEST(empty_names_rejected) {
  tern_ns_routes_t r;
  tern_ns_routes_init(&r);
  ASSERT_EQ(reg(&r, "", "b", 0, "a:1", NULL, 0, 0, 0, NULL), TERN_EINVAL);
  ASSERT_EQ(reg(&r, "c", "", 0, "a:1", NULL, 0, 0, 0, NULL), TERN_EINVAL);
  ASSERT_EQ(reg(&r, "c", "b", 0, "", NULL, 0, 0, 0, NULL), TERN_EINVAL);
  ASSERT_EQ(r.groups.len, 0);
  ASSERT_EQ(r.clusters.len, 0);
  tern_ns_routes_free(&r);
}

TEST(slave_sorted_after_master_and_learns_master) {
  tern_ns_routes_t r;
  tern_ns_topic_conf_t t = tc("T", 4, 4, 6);
  tern_ns_topic_conf_t ts = tc("SlaveOnly", 4, 4, 6);
  tern_ns_register_result_t res;
  const tern_ns_group_t *g;
  tern_ns_routes_init(&r);
  /* A slave before its master: no master to report. */
  ASSERT_OK(reg(&r, "c", "b", 1, "10.0.0.2:10911", &ts, 1, 1, 0, &res));
  ASSERT_EQ(res.master_addr.n, 0);
  /* Slave topic configs never create queue data. */
  ASSERT(tern_ns_routes_topic(&r, TERN_STR("SlaveOnly")) == NULL);
  ASSERT_OK(reg(&r, "c", "b", 0, "10.0.0.1:10911", &t, 1, 1, 0, &res));
  ASSERT_EQ(res.master_addr.n, 0); /* a master gets nothing back */
  ASSERT_OK(reg(&r, "c", "b", 1, "10.0.0.2:10911", &ts, 1, 2, 0, &res));
  ASSERT_STR(res.master_addr, "10.0.0.1:10911");
  ASSERT_STR(res.ha_addr, "10.0.0.1:10911");
  g = tern_ns_routes_group(&r, TERN_STR("b"));
  ASSERT_EQ(g->n_addrs, 2);
  ASSERT_EQ(g->addrs[0].id, 0);
  ASSERT_EQ(g->addrs[1].id, 1);
  ASSERT_STR(g->addrs[1].addr, "10.0.0.2:10911");
  tern_ns_routes_free(&r);
}

TEST(topic_configs_applied_only_when_data_version_changes) {
  tern_ns_routes_t r;
  tern_ns_topic_conf_t t1 = tc("T", 4, 4, 6), t2 = tc("T", 16, 16, 2);
  tern_ns_routes_init(&r);
  ASSERT_OK(reg(&r, "c", "b", 0, "h:1", &t1, 1, 5, 0, NULL));
  /* Same data version: the new config is ignored (the broker had no change). */
  ASSERT_OK(reg(&r, "c", "b", 0, "h:1", &t2, 1, 5, 10, NULL));
  ASSERT_EQ(queue_of(&r, "T", "b")->read_queue_nums, 4);
  ASSERT_EQ(tern_ns_routes_live(&r, TERN_STR("h:1"))->last_update_ms, 10);
  /* New version: applied. */
  ASSERT_OK(reg(&r, "c", "b", 0, "h:1", &t2, 1, 6, 20, NULL));
  ASSERT_EQ(queue_of(&r, "T", "b")->read_queue_nums, 16);
  ASSERT_EQ(queue_of(&r, "T", "b")->perm, 2);
  tern_ns_routes_free(&r);
}

TEST(same_address_under_new_id_replaces_old_id) {
  tern_ns_routes_t r;
  const tern_ns_group_t *g;
  tern_ns_routes_init(&r);
  ASSERT_OK(reg(&r, "c", "b", 0, "h:1", NULL, 0, 1, 0, NULL));
  ASSERT_OK(reg(&r, "c", "b", 1, "h:2", NULL, 0, 1, 0, NULL));
  /* The master leaves, the slave is promoted and re-registers as id 0. */
  tern_ns_routes_unregister(&r, TERN_STR("c"), TERN_STR("h:1"), TERN_STR("b"), 0);
  ASSERT_OK(reg(&r, "c", "b", 0, "h:2", NULL, 0, 1, 0, NULL));
  g = tern_ns_routes_group(&r, TERN_STR("b"));
  ASSERT_EQ(g->n_addrs, 1);
  ASSERT_EQ(g->addrs[0].id, 0);
  ASSERT_STR(g->addrs[0].addr, "h:2");
  tern_ns_routes_free(&r);
}

TEST(unregister_last_address_cascades) {
  tern_ns_routes_t r;
  tern_ns_topic_conf_t ta = tc("Shared", 4, 4, 6), tb[2] = {tc("Shared", 2, 2, 6), tc("OnlyB", 1, 1, 6)};
  tern_ns_routes_init(&r);
  ASSERT_OK(reg(&r, "c1", "a", 0, "h:1", &ta, 1, 1, 0, NULL));
  ASSERT_OK(reg(&r, "c2", "b", 0, "h:2", tb, 2, 1, 0, NULL));
  ASSERT_OK(reg(&r, "c2", "b", 1, "h:3", NULL, 0, 1, 0, NULL));
  /* Master of b leaves but its slave stays: b's queue data remain. */
  tern_ns_routes_unregister(&r, TERN_STR("c2"), TERN_STR("h:2"), TERN_STR("b"), 0);
  ASSERT(tern_ns_routes_live(&r, TERN_STR("h:2")) == NULL);
  ASSERT(queue_of(&r, "OnlyB", "b") != NULL);
  ASSERT_EQ(tern_ns_routes_group(&r, TERN_STR("b"))->n_addrs, 1);
  ASSERT_EQ(tern_ns_group_master(tern_ns_routes_group(&r, TERN_STR("b"))).n, 0);
  /* The slave leaves too: group, its cluster and its only topic disappear;
   * the shared topic keeps a's queue data. */
  tern_ns_routes_unregister(&r, TERN_STR("c2"), TERN_STR("h:3"), TERN_STR("b"), 1);
  ASSERT(tern_ns_routes_group(&r, TERN_STR("b")) == NULL);
  ASSERT(tern_strmap_get(&r.clusters, TERN_STR("c2")) == NULL);
  ASSERT(tern_ns_routes_topic(&r, TERN_STR("OnlyB")) == NULL);
  ASSERT_EQ(tern_ns_routes_topic(&r, TERN_STR("Shared"))->n, 1);
  ASSERT(queue_of(&r, "Shared", "a") != NULL);
  ASSERT(tern_strmap_get(&r.clusters, TERN_STR("c1")) != NULL);
  tern_ns_routes_free(&r);
}

TEST(remove_addr_drops_only_that_broker) {
  tern_ns_routes_t r;
  tern_ns_topic_conf_t t = tc("T", 4, 4, 6);
  const tern_ns_live_t *l;
  tern_ns_routes_init(&r);
  ASSERT_OK(reg(&r, "c", "a", 0, "h:1", &t, 1, 1, 0, NULL));
  ASSERT_OK(reg(&r, "c", "b", 0, "h:2", &t, 1, 1, 0, NULL));
  ASSERT(!tern_ns_routes_remove_addr(&r, TERN_STR("h:9")));
  /* The address slice may point into the live entry being freed. */
  l = tern_ns_routes_live(&r, TERN_STR("h:1"));
  ASSERT(tern_ns_routes_remove_addr(&r, l->addr));
  ASSERT(tern_ns_routes_group(&r, TERN_STR("a")) == NULL);
  ASSERT_EQ(tern_ns_routes_topic(&r, TERN_STR("T"))->n, 1);
  ASSERT(queue_of(&r, "T", "b") != NULL);
  ASSERT_EQ(((tern_ns_cluster_t *)tern_strmap_get(&r.clusters, TERN_STR("c")))->n, 1);
  ASSERT(tern_ns_routes_remove_addr(&r, TERN_STR("h:2")));
  ASSERT_EQ(r.topics.len, 0);
  ASSERT_EQ(r.groups.len, 0);
  ASSERT_EQ(r.clusters.len, 0);
  ASSERT_EQ(r.live.len, 0);
  tern_ns_routes_free(&r);
}

TEST(query_data_version_refreshes_only_when_unchanged) {
  tern_ns_routes_t r;
  tern_ns_data_version_t dv = {1700000000000, 3, 0};
  const tern_ns_data_version_t *stored;
  bool changed;
  tern_ns_routes_init(&r);
  tern_ns_routes_query_data_version(&r, TERN_STR("h:1"), &dv, 5, &changed, &stored);
  ASSERT(changed);
  ASSERT(stored == NULL);
  ASSERT_OK(reg(&r, "c", "b", 0, "h:1", NULL, 0, 3, 100, NULL));
  tern_ns_routes_query_data_version(&r, TERN_STR("h:1"), &dv, 200, &changed, &stored);
  ASSERT(!changed);
  ASSERT_EQ(stored->counter, 3);
  ASSERT_EQ(tern_ns_routes_live(&r, TERN_STR("h:1"))->last_update_ms, 200);
  dv.counter = 4;
  tern_ns_routes_query_data_version(&r, TERN_STR("h:1"), &dv, 300, &changed, &stored);
  ASSERT(changed);
  ASSERT_EQ(stored->counter, 3);
  ASSERT_EQ(tern_ns_routes_live(&r, TERN_STR("h:1"))->last_update_ms, 200);
  tern_ns_routes_free(&r);
}

TEST(lists_and_delete_topic) {
  tern_ns_routes_t r;
  tern_ns_topic_conf_t ta[2] = {tc("A1", 1, 1, 6), tc("Shared", 1, 1, 6)}, tb[2] = {tc("B1", 1, 1, 6), tc("Shared", 1, 1, 6)};
  tern_arena_t a;
  tern_str_t *l, first;
  uint32_t n;
  tern_arena_init(&a, 0, NULL, 0);
  tern_ns_routes_init(&r);
  ASSERT_OK(reg(&r, "c1", "a", 0, "h:1", ta, 2, 1, 0, NULL));
  ASSERT_OK(reg(&r, "c2", "b", 0, "h:2", tb, 2, 1, 0, NULL));
  ASSERT_OK(reg(&r, "c2", "b", 1, "h:3", NULL, 0, 1, 0, NULL));
  ASSERT_OK(tern_ns_routes_all_topics(&r, &a, &l, &n));
  ASSERT_EQ(n, 3);
  ASSERT_STR(l[0], "A1");
  ASSERT_STR(l[1], "B1");
  ASSERT_STR(l[2], "Shared");
  ASSERT_OK(tern_ns_routes_cluster_topics(&r, TERN_STR("c2"), &a, &l, &n));
  ASSERT_EQ(n, 2);
  ASSERT_STR(l[0], "B1");
  ASSERT_STR(l[1], "Shared");
  ASSERT_OK(tern_ns_routes_cluster_topics(&r, TERN_STR("nope"), &a, &l, &n));
  ASSERT_EQ(n, 0);
  ASSERT_OK(tern_ns_routes_system_topics(&r, &a, &l, &n, &first));
  ASSERT_EQ(n, 4);
  ASSERT_STR(l[0], "c1");
  ASSERT_STR(l[1], "a");
  ASSERT_STR(l[2], "c2");
  ASSERT_STR(l[3], "b");
  ASSERT_STR(first, "h:1");
  /* Delete on one cluster only: Shared keeps a's queues. */
  ASSERT(tern_ns_routes_delete_topic(&r, TERN_STR("Shared"), TERN_STR("c2")));
  ASSERT(queue_of(&r, "Shared", "b") == NULL);
  ASSERT(queue_of(&r, "Shared", "a") != NULL);
  ASSERT(!tern_ns_routes_delete_topic(&r, TERN_STR("Shared"), TERN_STR("c2")));
  ASSERT(tern_ns_routes_delete_topic(&r, TERN_STR("B1"), TERN_STR("c2")));
  ASSERT(tern_ns_routes_topic(&r, TERN_STR("B1")) == NULL);
  ASSERT(tern_ns_routes_delete_topic(&r, TERN_STR("Shared"), TERN_STR_NULL));
  ASSERT(tern_ns_routes_topic(&r, TERN_STR("Shared")) == NULL);
  ASSERT(!tern_ns_routes_delete_topic(&r, TERN_STR("Shared"), TERN_STR_NULL));
  tern_arena_free(&a);
  tern_ns_routes_free(&r);
}

TEST(write_perm_wipe_and_add) {
  tern_ns_routes_t r;
  tern_ns_topic_conf_t t[3] = {tc("T1", 1, 1, 6), tc("T2", 1, 1, 7), tc("T3", 1, 1, 4)};
  tern_ns_routes_init(&r);
  ASSERT_OK(reg(&r, "c", "a", 0, "h:1", t, 3, 1, 0, NULL));
  ASSERT_OK(reg(&r, "c", "b", 0, "h:2", t, 1, 1, 0, NULL));
  ASSERT_EQ(tern_ns_routes_write_perm(&r, TERN_STR("a"), true), 3);
  ASSERT_EQ(queue_of(&r, "T1", "a")->perm, 4);
  ASSERT_EQ(queue_of(&r, "T2", "a")->perm, 5);
  ASSERT_EQ(queue_of(&r, "T3", "a")->perm, 4);
  ASSERT_EQ(queue_of(&r, "T1", "b")->perm, 6); /* other broker untouched */
  ASSERT_EQ(tern_ns_routes_write_perm(&r, TERN_STR("a"), false), 3);
  ASSERT_EQ(queue_of(&r, "T2", "a")->perm, 6);
  ASSERT_EQ(tern_ns_routes_write_perm(&r, TERN_STR("zzz"), true), 0);
  tern_ns_routes_free(&r);
}

TEST(filter_servers_and_generation) {
  tern_ns_routes_t r;
  tern_ns_register_t q;
  tern_ns_register_result_t res;
  tern_str_t fs[2] = {TERN_STR("f:1"), TERN_STR("f:2")};
  tern_ns_topic_conf_t t = tc("T", 1, 1, 6);
  uint64_t g0;
  const tern_ns_live_t *l;
  tern_ns_routes_init(&r);
  memset(&q, 0, sizeof q);
  q.cluster = TERN_STR("c");
  q.broker_name = TERN_STR("b");
  q.broker_addr = TERN_STR("h:1");
  q.topics = &t;
  q.n_topics = 1;
  q.has_filter_list = true;
  q.filter = fs;
  q.n_filter = 2;
  q.timeout_ms = 3000;
  ASSERT_OK(tern_ns_routes_register(&r, &q, 0, &res));
  l = tern_ns_routes_live(&r, TERN_STR("h:1"));
  ASSERT_EQ(l->n_filter, 2);
  ASSERT_STR(l->filter[1], "f:2");
  ASSERT_EQ(l->timeout_ms, 3000);
  g0 = r.generation;
  ASSERT_OK(tern_ns_routes_register(&r, &q, 10, &res)); /* identical heartbeat */
  ASSERT_EQ(r.generation, g0);
  q.n_filter = 1;
  ASSERT_OK(tern_ns_routes_register(&r, &q, 20, &res));
  ASSERT(r.generation != g0);
  ASSERT_EQ(tern_ns_routes_live(&r, TERN_STR("h:1"))->n_filter, 1);
  tern_ns_routes_free(&r);
}

TEST(touch_register_topic_and_unit_lists) {
  tern_ns_routes_t r;
  tern_ns_topic_conf_t t[3] = {{TERN_STR("U"), 1, 1, 6, 1}, {TERN_STR("S"), 1, 1, 6, 2}, {TERN_STR("US"), 1, 1, 6, 3}};
  tern_str_t names[2] = {TERN_STR("a"), TERN_STR("nope")}, *l;
  tern_ns_topic_conf_t q[2] = {{TERN_STR_NULL, 8, 4, 6, 0}, {TERN_STR_NULL, 1, 1, 6, 0}};
  tern_arena_t a;
  uint32_t n;
  tern_arena_init(&a, 0, NULL, 0);
  tern_ns_routes_init(&r);
  ASSERT_OK(reg(&r, "c", "a", 0, "h:1", t, 3, 1, 0, NULL));
  ASSERT(!tern_ns_routes_touch(&r, TERN_STR("h:9"), 0, 50));
  ASSERT(tern_ns_routes_touch(&r, TERN_STR("h:1"), 7000, 50));
  ASSERT_EQ(tern_ns_routes_live(&r, TERN_STR("h:1"))->last_update_ms, 50);
  ASSERT_EQ(tern_ns_routes_live(&r, TERN_STR("h:1"))->timeout_ms, 7000);
  /* An unknown broker in the list: nothing registered at all. */
  ASSERT_EQ(tern_ns_routes_register_topic(&r, TERN_STR("New"), names, q, 2), TERN_ENOTFOUND);
  ASSERT(tern_ns_routes_topic(&r, TERN_STR("New")) == NULL);
  ASSERT_OK(tern_ns_routes_register_topic(&r, TERN_STR("New"), names, q, 1));
  ASSERT_EQ(queue_of(&r, "New", "a")->read_queue_nums, 8);
  ASSERT_OK(tern_ns_routes_unit_topics(&r, TERN_NS_UNIT, &a, &l, &n));
  ASSERT_EQ(n, 2);
  ASSERT_STR(l[0], "U");
  ASSERT_STR(l[1], "US");
  ASSERT_OK(tern_ns_routes_unit_topics(&r, TERN_NS_UNIT_SUB, &a, &l, &n));
  ASSERT_EQ(n, 2);
  ASSERT_STR(l[0], "S");
  ASSERT_OK(tern_ns_routes_unit_topics(&r, TERN_NS_UNIT_SUB_NOT_UNIT, &a, &l, &n));
  ASSERT_EQ(n, 1);
  ASSERT_STR(l[0], "S");
  tern_arena_free(&a);
  tern_ns_routes_free(&r);
}

/* Checks every invariant routes.h promises; returns a description of the
 * first violation or NULL. */
static const char *check_invariants(const tern_ns_routes_t *r) {
  uint32_t i = 0;
  const tern_strmap_slot_t *s;
  while (tern_strmap_next(&r->topics, &i, &s)) {
    const tern_ns_topic_t *t = s->val;
    if (t->n == 0) return "topic without queue data";
    for (uint32_t k = 0; k < t->n; k++) {
      if (tern_strmap_get(&r->groups, t->q[k].group->name) != t->q[k].group) return "queue data of a dropped group";
      if (k && str_cmp_for_test(t->q[k - 1].group->name, t->q[k].group->name) >= 0) return "queue data unsorted";
    }
  }
  i = 0;
  while (tern_strmap_next(&r->groups, &i, &s)) {
    const tern_ns_group_t *g = s->val;
    if (g->n_addrs == 0) return "group without addresses";
    for (uint32_t k = 1; k < g->n_addrs; k++)
      if (g->addrs[k - 1].id >= g->addrs[k].id) return "addresses not sorted by id";
  }
  i = 0;
  while (tern_strmap_next(&r->clusters, &i, &s)) {
    const tern_ns_cluster_t *c = s->val;
    if (c->n == 0) return "empty cluster";
    for (uint32_t k = 0; k < c->n; k++)
      if (!tern_strmap_get(&r->groups, c->brokers[k])) return "cluster names a dropped group";
  }
  return NULL;
}

/* Random registrations, unregistrations, address removals, topic deletions
 * and permission changes over a small name space; the invariants hold after
 * every step and everything is freed at the end (ASan checks leaks). */
static uint32_t rnd(uint32_t *seed, uint32_t n) {
  *seed = *seed * 1103515245u + 12345u;
  return (*seed >> 16) % n;
}

TEST(random_operations_keep_invariants) {
  tern_ns_routes_t r;
  static const char *clusters[] = {"c1", "c2"}, *brokers[] = {"a", "b", "c", "d"},
                    *addrs[] = {"h:1", "h:2", "h:3", "h:4", "h:5", "h:6"}, *topics[] = {"T1", "T2", "T3", "T4", "T5"};
  uint32_t seed = 12345;
  tern_ns_routes_init(&r);
  for (int step = 0; step < 20000; step++) {
    const char *why;
    /* Draw every choice up front, in a fixed order. */
    uint32_t op = rnd(&seed, 6), ci = rnd(&seed, 2), bi = rnd(&seed, 4), ai = rnd(&seed, 6), id = rnd(&seed, 3);
    uint32_t n = rnd(&seed, 4), ver = rnd(&seed, 3), flip = rnd(&seed, 2);
    tern_ns_topic_conf_t t[3];
    for (uint32_t k = 0; k < 3; k++) {
      uint32_t ti = rnd(&seed, 5), rq = 1 + rnd(&seed, 8), wq = 1 + rnd(&seed, 8);
      t[k] = tc(topics[ti], (int32_t)rq, (int32_t)wq, 6);
    }
    if (n > 3) n = 3;
    switch (op) {
      case 0:
      case 1:
        ASSERT_OK(reg(&r, clusters[ci], brokers[bi], id, addrs[ai], t, n, ver, step, NULL));
        break;
      case 2:
        tern_ns_routes_unregister(&r, tern_str_from_cstr(clusters[ci]), tern_str_from_cstr(addrs[ai]),
                                  tern_str_from_cstr(brokers[bi]), id);
        break;
      case 3:
        tern_ns_routes_remove_addr(&r, tern_str_from_cstr(addrs[ai]));
        break;
      case 4:
        tern_ns_routes_delete_topic(&r, t[0].name, flip ? tern_str_from_cstr(clusters[ci]) : TERN_STR_NULL);
        break;
      default:
        tern_ns_routes_write_perm(&r, tern_str_from_cstr(brokers[bi]), flip);
        break;
    }
    why = check_invariants(&r);
    if (why) TERN__FAIL("step %d: %s", step, why);
  }
  tern_ns_routes_free(&r);
}
