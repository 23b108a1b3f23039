/* Broker expiry and connection-close removal with a clock the test drives:
 * 120 s default (strictly older), a per-broker heartbeat timeout, refresh by
 * re-registration, the callback that lets the server close the connection,
 * and removal of every broker that registered over a closed connection. */
#include "namesrv/liveness.h"

#include "tern_test.h"

static int reg(tern_ns_routes_t *r, const char *name, int64_t id, const char *addr, void *conn, int64_t timeout,
               int64_t now) {
  tern_ns_register_t q;
  tern_ns_register_result_t res;
  tern_ns_topic_conf_t t = {TERN_STR("T"), 4, 4, 6, 0};
  memset(&q, 0, sizeof q);
  q.cluster = TERN_STR("c");
  q.broker_name = tern_str_from_cstr(name);
  q.broker_addr = tern_str_from_cstr(addr);
  q.broker_id = id;
  q.conn = conn;
  q.timeout_ms = timeout;
  q.topics = &t;
  q.n_topics = 1;
  return tern_ns_routes_register(r, &q, now, &res);
}

typedef struct seen {
  int n;
  void *conn[4];
  char addr[4][32];
} seen_t;

static void on_expired(void *ctx, void *conn, tern_str_t addr) {
  seen_t *s = ctx;
  if (s->n < 4) {
    s->conn[s->n] = conn;
    snprintf(s->addr[s->n], sizeof s->addr[s->n], "%.*s", TERN_STR_ARG(addr));
  }
  s->n++;
}

TEST(expiry_after_120s_strictly) {
  tern_ns_routes_t r;
  seen_t s = {0};
  int conn;
  tern_ns_routes_init(&r);
  ASSERT_OK(reg(&r, "b", 0, "h:1", &conn, 0, 1000));
  ASSERT_EQ(tern_ns_liveness_scan(&r, 1000 + 120000, on_expired, &s), 0); /* exactly at the limit: alive */
  ASSERT(tern_ns_routes_topic(&r, TERN_STR("T")) != NULL);
  ASSERT_EQ(tern_ns_liveness_scan(&r, 1000 + 120001, on_expired, &s), 1);
  ASSERT_EQ(s.n, 1);
  ASSERT(s.conn[0] == &conn);
  ASSERT_STREQ(s.addr[0], "h:1");
  ASSERT(tern_ns_routes_topic(&r, TERN_STR("T")) == NULL);
  ASSERT(tern_ns_routes_group(&r, TERN_STR("b")) == NULL);
  ASSERT_EQ(r.live.len, 0);
  tern_ns_routes_free(&r);
}

TEST(heartbeat_refresh_and_custom_timeout) {
  tern_ns_routes_t r;
  seen_t s = {0};
  tern_ns_routes_init(&r);
  ASSERT_OK(reg(&r, "a", 0, "h:1", NULL, 0, 0));
  ASSERT_OK(reg(&r, "b", 0, "h:2", NULL, 5000, 0)); /* heartbeatTimeoutMillis = 5 s */
  ASSERT_OK(reg(&r, "a", 0, "h:1", NULL, 0, 100000)); /* re-registration refreshes */
  ASSERT_EQ(tern_ns_liveness_scan(&r, 6000, on_expired, &s), 1);
  ASSERT_STREQ(s.addr[0], "h:2");
  ASSERT(tern_ns_routes_group(&r, TERN_STR("a")) != NULL);
  ASSERT_EQ(tern_ns_liveness_scan(&r, 200000, on_expired, &s), 0);
  ASSERT_EQ(tern_ns_liveness_scan(&r, 220001, on_expired, &s), 1);
  ASSERT_EQ(r.groups.len, 0);
  tern_ns_routes_free(&r);
}

TEST(hostile_timeout_does_not_overflow) {
  tern_ns_routes_t r;
  tern_ns_routes_init(&r);
  ASSERT_OK(reg(&r, "a", 0, "h:1", NULL, INT64_MAX, 10));
  ASSERT_EQ(tern_ns_liveness_scan(&r, INT64_MAX, NULL, NULL), 0);
  ASSERT_OK(reg(&r, "b", 0, "h:2", NULL, 1, INT64_MIN + 1));
  ASSERT_EQ(tern_ns_liveness_scan(&r, 100, NULL, NULL), 1);
  ASSERT(tern_ns_routes_group(&r, TERN_STR("a")) != NULL);
  tern_ns_routes_free(&r);
}

TEST(conn_close_removes_every_broker_on_it) {
  tern_ns_routes_t r;
  int c1, c2;
  tern_ns_routes_init(&r);
  ASSERT_OK(reg(&r, "a", 0, "h:1", &c1, 0, 0));
  ASSERT_OK(reg(&r, "a", 1, "h:2", &c1, 0, 0));
  ASSERT_OK(reg(&r, "b", 0, "h:3", &c2, 0, 0));
  ASSERT_EQ(tern_ns_liveness_conn_closed(&r, NULL), 0);
  ASSERT_EQ(tern_ns_liveness_conn_closed(&r, &c1), 2);
  ASSERT(tern_ns_routes_group(&r, TERN_STR("a")) == NULL);
  ASSERT(tern_ns_routes_group(&r, TERN_STR("b")) != NULL);
  ASSERT(tern_ns_routes_topic(&r, TERN_STR("T")) != NULL);
  ASSERT_EQ(tern_ns_liveness_conn_closed(&r, &c1), 0);
  /* A broker that re-registered over a new connection is not removed when
   * its old connection closes. */
  ASSERT_OK(reg(&r, "b", 0, "h:3", &c1, 0, 0));
  ASSERT_EQ(tern_ns_liveness_conn_closed(&r, &c2), 0);
  ASSERT(tern_ns_routes_group(&r, TERN_STR("b")) != NULL);
  tern_ns_routes_free(&r);
}
