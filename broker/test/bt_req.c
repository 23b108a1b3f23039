/* Building requests for the broker tests and sending them; see bt.h. */
#include "bt.h"

#include <stdio.h>
#include <string.h>

int bt_open(bt_client_t *c, int port) {
  char addr[64];
  snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
  tern_arena_init(&c->arena, 0, NULL, 0);
  return tern_sync_open(&c->sc, addr, NULL);
}

void bt_close(bt_client_t *c) {
  tern_sync_close(&c->sc);
  tern_arena_free(&c->arena);
}

int bt_call(bt_client_t *c, tern_cmd_t *req, tern_cmd_t *resp, uint32_t timeout_ms) {
  tern_arena_reset(&c->arena);
  return tern_sync_call(&c->sc, req, timeout_ms, resp, &c->arena);
}

int bt_send(bt_client_t *c, int32_t code, const char *topic, int32_t qid, tern_str_t body, tern_str_t props, bool batch,
            tern_cmd_t *resp) {
  tern_cmd_t req;
  tern_arena_t a;
  int rc;
  tern_arena_init(&a, 0, NULL, 0);
  tern_rpc_request_init(&req, code, body);
  if (code == TERN_REQ_SEND_MESSAGE) {
    tern_hdr_send_message_request_t h;
    memset(&h, 0, sizeof h);
    h.producer_group = TERN_STR("PG_TEST");
    h.topic = tern_str_from_cstr(topic);
    h.default_topic = TERN_STR("TBW102");
    h.default_topic_queue_nums = 4;
    h.queue_id = qid;
    h.born_timestamp = 1700000000123;
    h.flag = 7;
    h.properties = props;
    h.batch = batch;
    h.present = TERN_HDR_SEND_MESSAGE_REQUEST_HAS_PRODUCER_GROUP | TERN_HDR_SEND_MESSAGE_REQUEST_HAS_TOPIC |
                TERN_HDR_SEND_MESSAGE_REQUEST_HAS_DEFAULT_TOPIC | TERN_HDR_SEND_MESSAGE_REQUEST_HAS_DEFAULT_TOPIC_QUEUE_NUMS |
                TERN_HDR_SEND_MESSAGE_REQUEST_HAS_QUEUE_ID | TERN_HDR_SEND_MESSAGE_REQUEST_HAS_SYS_FLAG |
                TERN_HDR_SEND_MESSAGE_REQUEST_HAS_BORN_TIMESTAMP | TERN_HDR_SEND_MESSAGE_REQUEST_HAS_FLAG |
                (props.n ? TERN_HDR_SEND_MESSAGE_REQUEST_HAS_PROPERTIES : 0) |
                (batch ? TERN_HDR_SEND_MESSAGE_REQUEST_HAS_BATCH : 0);
    rc = tern_hdr_send_message_request_encode(&h, &req, &a);
  } else {
    tern_hdr_send_message_request_v2_t h;
    memset(&h, 0, sizeof h);
    h.producer_group = TERN_STR("PG_TEST");
    h.topic = tern_str_from_cstr(topic);
    h.default_topic = TERN_STR("TBW102");
    h.default_topic_queue_nums = 4;
    h.queue_id = qid;
    h.born_timestamp = 1700000000123;
    h.flag = 7;
    h.properties = props;
    h.batch = batch;
    h.present = TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_PRODUCER_GROUP | TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_TOPIC |
                TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_DEFAULT_TOPIC |
                TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_DEFAULT_TOPIC_QUEUE_NUMS | TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_QUEUE_ID |
                TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_SYS_FLAG | TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_BORN_TIMESTAMP |
                TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_FLAG | (props.n ? TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_PROPERTIES : 0) |
                (batch ? TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_BATCH : 0);
    rc = tern_hdr_send_message_request_v2_encode(&h, &req, &a);
  }
  if (rc == 0) rc = bt_call(c, &req, resp, 10000);
  tern_arena_free(&a);
  return rc;
}

int bt_pull(bt_client_t *c, const char *group, const char *topic, int32_t qid, int64_t offset, int32_t max,
            int32_t sys_flag, int64_t suspend_ms, const char *sub, tern_cmd_t *resp, uint32_t timeout_ms) {
  tern_cmd_t req;
  tern_arena_t a;
  tern_hdr_pull_message_request_t h;
  int rc;
  tern_arena_init(&a, 0, NULL, 0);
  tern_rpc_request_init(&req, TERN_REQ_PULL_MESSAGE, TERN_STR_NULL);
  memset(&h, 0, sizeof h);
  h.consumer_group = tern_str_from_cstr(group);
  h.topic = tern_str_from_cstr(topic);
  h.queue_id = qid;
  h.queue_offset = offset;
  h.max_msg_nums = max;
  h.sys_flag = sys_flag;
  h.commit_offset = 0;
  h.suspend_timeout_millis = suspend_ms;
  h.sub_version = 0;
  h.present = TERN_HDR_PULL_MESSAGE_REQUEST_HAS_CONSUMER_GROUP | TERN_HDR_PULL_MESSAGE_REQUEST_HAS_TOPIC |
              TERN_HDR_PULL_MESSAGE_REQUEST_HAS_QUEUE_ID | TERN_HDR_PULL_MESSAGE_REQUEST_HAS_QUEUE_OFFSET |
              TERN_HDR_PULL_MESSAGE_REQUEST_HAS_MAX_MSG_NUMS | TERN_HDR_PULL_MESSAGE_REQUEST_HAS_SYS_FLAG |
              TERN_HDR_PULL_MESSAGE_REQUEST_HAS_COMMIT_OFFSET | TERN_HDR_PULL_MESSAGE_REQUEST_HAS_SUSPEND_TIMEOUT_MILLIS |
              TERN_HDR_PULL_MESSAGE_REQUEST_HAS_SUB_VERSION;
  if (sub) {
    h.subscription = tern_str_from_cstr(sub);
    h.present |= TERN_HDR_PULL_MESSAGE_REQUEST_HAS_SUBSCRIPTION;
  }
  rc = tern_hdr_pull_message_request_encode(&h, &req, &a);
  if (rc == 0) rc = bt_call(c, &req, resp, timeout_ms);
  tern_arena_free(&a);
  return rc;
}

int bt_pull_h(bt_client_t *c, const tern_hdr_pull_message_request_t *h, tern_cmd_t *resp, uint32_t timeout_ms) {
  tern_cmd_t req;
  tern_arena_t a;
  int rc;
  tern_arena_init(&a, 0, NULL, 0);
  tern_rpc_request_init(&req, TERN_REQ_PULL_MESSAGE, TERN_STR_NULL);
  rc = tern_hdr_pull_message_request_encode(h, &req, &a);
  if (rc == 0) rc = bt_call(c, &req, resp, timeout_ms);
  tern_arena_free(&a);
  return rc;
}

int bt_pull_hdr(const tern_cmd_t *resp, tern_hdr_pull_message_response_t *h) {
  tern_err_t err;
  return tern_hdr_pull_message_response_decode(resp, h, &err);
}

int64_t bt_ext_i64(const tern_cmd_t *resp, const char *key) {
  const tern_str_t *v = tern_cmd_ext_get(resp, key);
  int64_t x;
  if (!v || tern_str_to_i64(*v, &x)) return INT64_MIN;
  return x;
}
