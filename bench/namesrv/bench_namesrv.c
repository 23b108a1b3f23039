/* Name-server benchmark (not a timed test; run it on a release build):
 *   - time from exec to accepting connections (median of 5 starts);
 *   - resident memory after start and with 1,000 topics x 10 brokers registered;
 *   - GET_ROUTEINFO_BY_TOPIC requests/s and p50/p99 latency over 1 and 32
 *     connections, beside a plain loopback echo server answering frames of the
 *     same sizes, measured in the same run.
 * Targets (issue #3): start < 20 ms, RSS < 10 MB / < 30 MB, route rate >= 50%
 * of the echo's. Usage: bench_namesrv [seconds-per-load-run] (default 3). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gen/bodies.h"
#include "gen/codes.h"
#include "gen/headers.h"
#include "load.h"
#include "proc_fixture.h"
#include "ns_wire.h"

#define N_TOPICS 1000
#define N_BROKERS 10

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Registers broker `i` (a master in cluster DefaultCluster) with every topic. */
static int register_broker(int fd, int i, tern_arena_t *a) {
  tern_body_register_broker_body_t b;
  tern_body_topic_config_serialize_wrapper_t *w = &b.topic_config_serialize_wrapper;
  tern_hdr_register_broker_request_t h;
  tern_cmd_t req, resp;
  tern_buf_t body, in;
  char name[32], addr[32];
  int rc;
  memset(&b, 0, sizeof b);
  b.has = TERN_BODY_REGISTER_BROKER_BODY_HAS_FILTER_SERVER_LIST | TERN_BODY_REGISTER_BROKER_BODY_HAS_TOPIC_CONFIG_SERIALIZE_WRAPPER;
  w->has = TERN_BODY_TOPIC_CONFIG_SERIALIZE_WRAPPER_HAS_DATA_VERSION | TERN_BODY_TOPIC_CONFIG_SERIALIZE_WRAPPER_HAS_TOPIC_CONFIG_TABLE;
  w->data_version.timestamp = 1700000000000;
  w->data_version.counter = 1;
  w->data_version.has = TERN_BODY_DATA_VERSION_HAS_TIMESTAMP | TERN_BODY_DATA_VERSION_HAS_COUNTER;
  w->topic_config_table.v = tern_arena_calloc(a, N_TOPICS, sizeof *w->topic_config_table.v);
  if (!w->topic_config_table.v) return -1;
  for (int t = 0; t < N_TOPICS; t++) {
    char tn[32];
    tern_body_topic_config_t *tc = &w->topic_config_table.v[t].val;
    snprintf(tn, sizeof tn, "BenchTopic-%04d", t);
    tc->topic_name = tern_arena_strdup(a, tern_str_from_cstr(tn));
    w->topic_config_table.v[t].key = tc->topic_name;
    tc->read_queue_nums = tc->write_queue_nums = 8;
    tc->perm = 6;
    tc->has = TERN_BODY_TOPIC_CONFIG_HAS_TOPIC_NAME | TERN_BODY_TOPIC_CONFIG_HAS_READ_QUEUE_NUMS |
              TERN_BODY_TOPIC_CONFIG_HAS_WRITE_QUEUE_NUMS | TERN_BODY_TOPIC_CONFIG_HAS_PERM |
              TERN_BODY_TOPIC_CONFIG_HAS_TOPIC_SYS_FLAG | TERN_BODY_TOPIC_CONFIG_HAS_ORDER |
              TERN_BODY_TOPIC_CONFIG_HAS_TOPIC_FILTER_TYPE;
  }
  w->topic_config_table.n = N_TOPICS;
  snprintf(name, sizeof name, "broker-%d", i);
  snprintf(addr, sizeof addr, "10.0.0.%d:10911", i + 1);
  memset(&h, 0, sizeof h);
  h.cluster_name = TERN_STR("DefaultCluster");
  h.broker_name = tern_str_from_cstr(name);
  h.broker_addr = tern_str_from_cstr(addr);
  h.ha_server_addr = tern_str_from_cstr(addr);
  h.present = TERN_HDR_REGISTER_BROKER_REQUEST_HAS_CLUSTER_NAME | TERN_HDR_REGISTER_BROKER_REQUEST_HAS_BROKER_NAME |
              TERN_HDR_REGISTER_BROKER_REQUEST_HAS_BROKER_ADDR | TERN_HDR_REGISTER_BROKER_REQUEST_HAS_HA_SERVER_ADDR |
              TERN_HDR_REGISTER_BROKER_REQUEST_HAS_BROKER_ID;
  ns_wire_request(&req, TERN_REQ_REGISTER_BROKER, 100 + i);
  if (tern_hdr_register_broker_request_encode(&h, &req, a)) return -1;
  tern_buf_init(&body, 0);
  tern_body_register_broker_body_encode(&b, &body, 0);
  req.body.p = (const char *)body.p;
  req.body.n = body.len;
  rc = ns_wire_send_cmd(fd, &req);
  tern_buf_free(&body);
  tern_buf_init(&in, 0);
  if (!rc) rc = ns_wire_read_cmd(fd, &in, &resp, a, 10000);
  if (!rc && resp.code != TERN_RESP_SUCCESS) rc = -1;
  tern_buf_free(&in);
  return rc;
}

static void print_load(const char *what, int nconn, const load_result_t *r) {
  printf("  %-26s %2d conn: %9.0f req/s  p50 %7.1f us  p99 %7.1f us  (%llu requests)\n", what, nconn, r->rps,
         r->p50_us, r->p99_us, (unsigned long long)r->requests);
}

int main(int argc, char **argv) {
  double secs = argc > 1 ? atof(argv[1]) : 3.0, starts[5];
  tern_fixture_proc_t p;
  tern_arena_t a;
  tern_buf_t req, in;
  tern_cmd_t c, resp;
  long rss0, rss1;
  int fd, echo_port, ok = 1;
  pid_t echo;
  size_t reply_len;
  load_result_t ns1, ns32, e1, e32;
  double cpu, c0;

  signal(SIGPIPE, SIG_IGN);
#ifdef TERN_MQNAMESRV_PATH
  setenv("TERN_MQNAMESRV", TERN_MQNAMESRV_PATH, 0); /* the binary built beside this one */
#endif
  printf("mqnamesrv benchmark (binary %s)\n", tern_fixture_binary(TERN_FIXTURE_NAMESRV));
  for (int i = 0; i < 5; i++) {
    if (tern_fixture_namesrv_start(&p, NULL, NULL) != 0) return 1;
    starts[i] = p.start_ms;
    if (i < 4) tern_fixture_stop(&p, 0);
  }
  qsort(starts, 5, sizeof starts[0], cmp_d);
  printf("start: exec to accepting connections, median of 5: %.2f ms (min %.2f, max %.2f)  [target < 20 ms]\n",
         starts[2], starts[0], starts[4]);
  rss0 = tern_fixture_rss_kb(p.pid);
  printf("rss after start: %.2f MB  [target < 10 MB]\n", rss0 / 1024.0);

  tern_arena_init(&a, 0, NULL, 0);
  fd = tern_fixture_connect(p.port);
  if (fd < 0) return 1;
  for (int i = 0; i < N_BROKERS; i++) {
    if (register_broker(fd, i, &a) != 0) {
      fprintf(stderr, "registration %d failed\n", i);
      return 1;
    }
    tern_arena_reset(&a);
  }
  rss1 = tern_fixture_rss_kb(p.pid);
  printf("rss with %d topics x %d brokers registered: %.2f MB  [target < 30 MB]\n", N_TOPICS, N_BROKERS,
         rss1 / 1024.0);

  /* The request frame and the size of its reply (a route with 10 brokers). */
  tern_buf_init(&req, 0);
  tern_buf_init(&in, 0);
  ns_wire_request(&c, TERN_REQ_GET_ROUTEINFO_BY_TOPIC, 1);
  tern_cmd_ext_add(&c, TERN_STR("topic"), TERN_STR("BenchTopic-0500"));
  tern_cmd_encode(&c, &req);
  if (ns_wire_send_all(fd, req.p, req.len) || ns_wire_read_cmd(fd, &in, &resp, &a, 5000) ||
      resp.code != TERN_RESP_SUCCESS) {
    fprintf(stderr, "route query failed\n");
    return 1;
  }
  reply_len = in.len;
  close(fd);
  printf("GET_ROUTEINFO_BY_TOPIC: request %zu bytes, reply %zu bytes; %.1f s per run\n", req.len, reply_len, secs);

  echo = echo_server_start(reply_len, &echo_port);
  if (echo < 0) return 1;
  /* Server CPU is sampled around its own runs only: steadier than the rates
   * on a shared machine. */
  cpu = 0;
  c0 = tern_fixture_cpu_seconds(p.pid);
  if (load_run(p.port, 1, req.p, req.len, secs, &ns1)) ok = 0;
  cpu += tern_fixture_cpu_seconds(p.pid) - c0;
  if (ok && load_run(echo_port, 1, req.p, req.len, secs, &e1)) ok = 0;
  c0 = tern_fixture_cpu_seconds(p.pid);
  if (ok && load_run(p.port, 32, req.p, req.len, secs, &ns32)) ok = 0;
  cpu += tern_fixture_cpu_seconds(p.pid) - c0;
  if (ok && load_run(echo_port, 32, req.p, req.len, secs, &e32)) ok = 0;
  if (!ok) fprintf(stderr, "load run failed\n");
  kill(echo, SIGKILL);
  waitpid(echo, NULL, 0);
  if (ok) {
    print_load("mqnamesrv route query", 1, &ns1);
    print_load("plain echo, same sizes", 1, &e1);
    print_load("mqnamesrv route query", 32, &ns32);
    print_load("plain echo, same sizes", 32, &e32);
    printf("ratio to echo: 1 conn %.0f%%, 32 conn %.0f%%  [target >= 50%%]\n", 100.0 * ns1.rps / e1.rps,
           100.0 * ns32.rps / e32.rps);
    printf("mqnamesrv CPU per route query: %.1f us (user+sys over both runs)\n",
           1e6 * cpu / (double)(ns1.requests + ns32.requests));
  }
  printf("rss after load: %.2f MB\n", tern_fixture_rss_kb(p.pid) / 1024.0);
  tern_fixture_stop(&p, 0);
  tern_buf_free(&req);
  tern_buf_free(&in);
  tern_arena_free(&a);
  return ok ? 0 : 1;
}
