/* Client test fixture: a real mqnamesrv and one or more mqbroker processes on
 * ephemeral loopback ports with temp stores (runtime/test/proc_fixture.h),
 * client settings pointing at them, and a topic creation helper that waits
 * until the name server routes the topic. A test whose ASSERT fails returns
 * early and leaves its servers running; the fixture starts them to die with
 * the test binary (PR_SET_PDEATHSIG), so none outlives it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ct_env.h"
#include "gen/bodies.h"

int ct_env_start(ct_env_t *e, int nbrokers, const char *extra_conf) {
  int i;
  char conf[512];
  memset(e, 0, sizeof *e);
  if (tern_fixture_namesrv_start(&e->ns, NULL, NULL) != 0) return -1;
  snprintf(e->ns_addr, sizeof e->ns_addr, "127.0.0.1:%d", e->ns.port);
  for (i = 0; i < nbrokers && i < CT_MAX_BROKERS; i++) {
    snprintf(conf, sizeof conf, "brokerName=broker-%c\nbrokerClusterName=TernCluster\nflushDiskType=ASYNC_FLUSH\n%s",
             'a' + i, extra_conf ? extra_conf : "");
    if (tern_fixture_broker_start(&e->br[i], NULL, e->ns.port, conf) != 0) {
      ct_env_stop(e);
      return -1;
    }
    snprintf(e->br_addr[i], sizeof e->br_addr[i], "127.0.0.1:%d", e->br[i].port);
    e->nbr++;
  }
  return 0;
}

void ct_env_stop(ct_env_t *e) {
  int i;
  for (i = 0; i < e->nbr; i++)
    if (e->br[i].pid > 0) tern_fixture_stop(&e->br[i], 0);
  e->nbr = 0;
  if (e->ns.pid > 0) tern_fixture_stop(&e->ns, 0);
}

int ct_broker_stop(ct_env_t *e, int i) {
  if (i < 0 || i >= e->nbr || e->br[i].pid <= 0) return -1;
  return tern_fixture_stop(&e->br[i], 0);
}

void ct_conf(const ct_env_t *e, tern_client_conf_t *c, const char *group) {
  tern_client_conf_default(c);
  c->namesrv_addr = e->ns_addr;
  c->group = group;
  c->heartbeat_ms = 2000;
  c->rebalance_ms = 2000;
  c->persist_ms = 1000;
  c->route_poll_ms = 2000;
}

void ct_sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

int ct_create_topic(const ct_env_t *e, const char *topic, int queues) {
  int i, rc;
  for (i = 0; i < e->nbr; i++) {
    bt_client_t c;
    tern_cmd_t req, resp;
    tern_hdr_create_topic_request_t h;
    tern_arena_t scratch;
    if (e->br[i].pid <= 0) continue;
    if (bt_open(&c, e->br[i].port) != 0) return -1;
    memset(&h, 0, sizeof h);
    h.topic = tern_str_from_cstr(topic);
    h.default_topic = TERN_STR(TERN_TOPIC_AUTO_CREATE);
    h.read_queue_nums = h.write_queue_nums = queues;
    h.perm = 6;
    h.topic_filter_type = TERN_STR("SINGLE_TAG");
    h.present = TERN_HDR_CREATE_TOPIC_REQUEST_HAS_TOPIC | TERN_HDR_CREATE_TOPIC_REQUEST_HAS_DEFAULT_TOPIC |
                TERN_HDR_CREATE_TOPIC_REQUEST_HAS_READ_QUEUE_NUMS | TERN_HDR_CREATE_TOPIC_REQUEST_HAS_WRITE_QUEUE_NUMS |
                TERN_HDR_CREATE_TOPIC_REQUEST_HAS_PERM | TERN_HDR_CREATE_TOPIC_REQUEST_HAS_TOPIC_FILTER_TYPE;
    tern_rpc_request_init(&req, TERN_REQ_UPDATE_AND_CREATE_TOPIC, TERN_STR_NULL);
    tern_arena_init(&scratch, 0, NULL, 0);
    tern_hdr_create_topic_request_encode(&h, &req, &scratch);
    rc = bt_call(&c, &req, &resp, 5000);
    tern_arena_free(&scratch);
    if (rc != 0 || resp.code != 0) {
      fprintf(stderr, "create topic %s on broker %d: rc %d code %d\n", topic, i, rc, rc ? -1 : resp.code);
      bt_close(&c);
      return -1;
    }
    bt_close(&c);
  }
  return ct_wait_route(e, topic, e->nbr);
}

int ct_wait_route(const ct_env_t *e, const char *topic, int nbrokers) {
  int tries;
  for (tries = 0; tries < 100; tries++) {
    tern_cmd_t req, resp;
    tern_arena_t a, scratch;
    tern_hdr_get_route_info_request_t h;
    tern_body_topic_route_data_t rd;
    tern_err_t err;
    int ok = 0;
    memset(&h, 0, sizeof h);
    h.topic = tern_str_from_cstr(topic);
    h.present = TERN_HDR_GET_ROUTE_INFO_REQUEST_HAS_TOPIC;
    tern_rpc_request_init(&req, TERN_REQ_GET_ROUTEINFO_BY_TOPIC, TERN_STR_NULL);
    tern_arena_init(&a, 0, NULL, 0);
    tern_arena_init(&scratch, 0, NULL, 0);
    tern_hdr_get_route_info_request_encode(&h, &req, &scratch);
    if (tern_rpc_sync(e->ns_addr, &req, 3000, &resp, &a) == 0 && resp.code == 0 &&
        tern_body_topic_route_data_decode(resp.body, &a, &rd, &err) == 0 && (int)rd.queue_datas.n >= nbrokers)
      ok = 1;
    tern_arena_free(&a);
    tern_arena_free(&scratch);
    if (ok) return 0;
    ct_sleep_ms(100);
  }
  fprintf(stderr, "route of %s never appeared\n", topic);
  return -1;
}
