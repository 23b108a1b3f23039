/* run-server --setup-topic: creates a topic on the broker (UPDATE_AND_CREATE_TOPIC
 * with the generated CreateTopicRequestHeader encoder) and waits until the name
 * server routes it. run-client uses it before starting a client whose library
 * cannot create topics (ali-ons). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "conformance/server/rs.h"
#include "gen/codes.h"
#include "gen/headers.h"
#include "gen/rpc.h"

int rs_setup_topic(const rs_env_t *env, const char *topic, int queues) {
  rs_conn_t c;
  tern_cmd_t req, resp;
  tern_arena_t a;
  tern_hdr_create_topic_request_t h;
  int rc;
  if (!env->broker) return fprintf(stderr, "run-server: --setup-topic needs --broker\n"), 2;
  memset(&h, 0, sizeof h);
  h.topic = tern_str_from_cstr(topic);
  h.default_topic = tern_str_from_cstr("TBW102");
  h.read_queue_nums = h.write_queue_nums = queues;
  h.perm = 6;
  h.topic_filter_type = tern_str_from_cstr("SINGLE_TAG");
  h.present = TERN_HDR_CREATE_TOPIC_REQUEST_HAS_TOPIC | TERN_HDR_CREATE_TOPIC_REQUEST_HAS_DEFAULT_TOPIC |
              TERN_HDR_CREATE_TOPIC_REQUEST_HAS_READ_QUEUE_NUMS | TERN_HDR_CREATE_TOPIC_REQUEST_HAS_WRITE_QUEUE_NUMS |
              TERN_HDR_CREATE_TOPIC_REQUEST_HAS_PERM | TERN_HDR_CREATE_TOPIC_REQUEST_HAS_TOPIC_FILTER_TYPE |
              TERN_HDR_CREATE_TOPIC_REQUEST_HAS_ORDER;
  tern_arena_init(&a, 0, NULL, 0);
  tern_rpc_request_init(&req, TERN_REQ_UPDATE_AND_CREATE_TOPIC, TERN_STR_NULL);
  tern_hdr_create_topic_request_encode(&h, &req, &a);
  if ((rc = rs_connect(&c, env->broker, env->ser, env->timeout_ms)) == 0) {
    rc = rs_call(&c, &req, &resp, env->timeout_ms);
    if (rc == 0 && resp.code != 0) rc = -1;
    rs_close(&c);
  }
  tern_arena_free(&a);
  if (rc) return fprintf(stderr, "run-server: creating topic %s failed (%s)\n", topic, tern_errname(rc)), 1;
  for (int i = 0; i < 100; i++) {
    tern_hdr_get_route_info_request_t g;
    memset(&g, 0, sizeof g);
    g.topic = tern_str_from_cstr(topic);
    g.present = TERN_HDR_GET_ROUTE_INFO_REQUEST_HAS_TOPIC;
    tern_arena_init(&a, 0, NULL, 0);
    tern_rpc_request_init(&req, TERN_REQ_GET_ROUTEINFO_BY_TOPIC, TERN_STR_NULL);
    tern_hdr_get_route_info_request_encode(&g, &req, &a);
    int ok = 0;
    if (rs_connect(&c, env->namesrv, env->ser, env->timeout_ms) == 0) {
      ok = rs_call(&c, &req, &resp, env->timeout_ms) == 0 && resp.code == 0;
      rs_close(&c);
    }
    tern_arena_free(&a);
    if (ok) return 0;
    usleep(100 * 1000);
  }
  fprintf(stderr, "run-server: topic %s is not routed by the name server after 10 s\n", topic);
  return 1;
}
