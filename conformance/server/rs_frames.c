/* run-server cases that need exact control of bytes or time, written in C:
 * split and pipelined frames, refused frame prefixes, long-poll wake-up and
 * deadline. Requests are built with the generated header encoders. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "conformance/server/rs.h"
#include "gen/codes.h"
#include "gen/headers.h"
#include "gen/rpc.h"

static int route_req(tern_cmd_t *req, tern_arena_t *a, const char *topic) {
  tern_hdr_get_route_info_request_t h;
  memset(&h, 0, sizeof h);
  h.topic = tern_str_from_cstr(topic);
  h.present = TERN_HDR_GET_ROUTE_INFO_REQUEST_HAS_TOPIC;
  tern_rpc_request_init(req, TERN_REQ_GET_ROUTEINFO_BY_TOPIC, TERN_STR_NULL);
  return tern_hdr_get_route_info_request_encode(&h, req, a);
}

/* §1: a frame may arrive in pieces; the server reassembles it. */
static int split_frame(const rs_env_t *env, tern_buf_t *why) {
  rs_conn_t c;
  tern_cmd_t req, resp;
  tern_buf_t b;
  tern_arena_t a;
  int st = RS_FAIL, rc;
  if (rs_connect(&c, env->namesrv, env->ser, env->timeout_ms)) return tern_buf_printf(why, "    cannot connect\n"), RS_FAIL;
  tern_arena_init(&a, 0, NULL, 0);
  tern_buf_init(&b, 0);
  route_req(&req, &a, "conf_split_no_such_topic");
  rs_encode(&c, &req, &b);
  for (size_t i = 0; i < b.len; i++) {
    if (rs_write(&c, b.p + i, 1)) break;
    if (i % 8 == 0) usleep(1000);
  }
  rc = rs_read(&c, &resp, env->timeout_ms);
  rs_describe(why, "sent one byte at a time", &req);
  if (rc) {
    tern_buf_printf(why, "    no reply: %s\n    expected: one reply to the reassembled frame\n", tern_errname(rc));
  } else {
    rs_describe(why, "received", &resp);
    if (rs_check_reply_shape(&req, env->ser, &resp, why) && resp.code == TERN_RESP_TOPIC_NOT_EXIST) st = RS_PASS;
    else tern_buf_printf(why, "    expected: TOPIC_NOT_EXIST (17) for an unknown topic\n");
  }
  tern_buf_free(&b);
  tern_arena_free(&a);
  rs_close(&c);
  return st;
}

/* §1: several frames in one write are all answered, each reply with its request's opaque. */
static int pipelined(const rs_env_t *env, tern_buf_t *why) {
  rs_conn_t c;
  tern_cmd_t req, resp;
  tern_buf_t b;
  tern_arena_t a;
  int seen = 0, st = RS_PASS;
  int32_t first;
  if (rs_connect(&c, env->namesrv, env->ser, env->timeout_ms)) return tern_buf_printf(why, "    cannot connect\n"), RS_FAIL;
  tern_arena_init(&a, 0, NULL, 0);
  tern_buf_init(&b, 0);
  first = c.next_opaque;
  for (int i = 0; i < 5; i++) {
    route_req(&req, &a, "conf_pipelined_no_such_topic");
    rs_encode(&c, &req, &b);
  }
  rs_write(&c, b.p, b.len);
  tern_buf_printf(why, "    sent: 5 GET_ROUTEINFO_BY_TOPIC frames in one write, opaques %d..%d\n", (int)first, (int)first + 4);
  for (int i = 0; i < 5; i++) {
    int rc = rs_read(&c, &resp, env->timeout_ms);
    if (rc) {
      tern_buf_printf(why, "    reply %d missing: %s\n", i + 1, tern_errname(rc));
      st = RS_FAIL;
      break;
    }
    if (!(resp.flag & TERN_FLAG_RESPONSE) || resp.opaque < first || resp.opaque > first + 4 ||
        (seen & (1 << (resp.opaque - first)))) {
      rs_describe(why, "received", &resp);
      tern_buf_printf(why, "    expected: one reply per request, opaques %d..%d each once\n", (int)first, (int)first + 4);
      st = RS_FAIL;
      break;
    }
    seen |= 1 << (resp.opaque - first);
  }
  tern_buf_free(&b);
  tern_arena_free(&a);
  rs_close(&c);
  return st;
}

static int closes_on(const rs_env_t *env, const uint8_t *prefix, size_t n, const char *what, tern_buf_t *why) {
  rs_conn_t c;
  if (rs_connect(&c, env->namesrv, env->ser, env->timeout_ms)) return tern_buf_printf(why, "    cannot connect\n"), RS_FAIL;
  rs_write(&c, prefix, n);
  bool closed = rs_wait_closed(&c, 3000);
  rs_close(&c);
  if (closed) return RS_PASS;
  tern_buf_printf(why, "    sent: %s\n    expected: the server closes the connection (within 3 s); it stayed open\n", what);
  return RS_FAIL;
}

/* §1 frame.json limits: a length above the 16 MiB frame limit is refused before it is buffered. */
static int oversize(const rs_env_t *env, tern_buf_t *why) {
  const uint8_t p[8] = {0x7f, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x10};
  return closes_on(env, p, sizeof p, "length prefix 0x7fffffff (2 GiB frame)", why);
}

/* §1: the serialize-type byte is 0 (JSON) or 1 (ROCKETMQ). */
static int bad_serialize_type(const rs_env_t *env, tern_buf_t *why) {
  const uint8_t p[14] = {0, 0, 0, 10, 0x05, 0, 0, 2, '{', '}', 0, 0, 0, 0};
  return closes_on(env, p, sizeof p, "a frame whose serialize type byte is 5", why);
}

static int send_one(rs_conn_t *c, const char *topic, const char *group, int32_t qid, const char *tags, tern_cmd_t *resp,
                    int timeout_ms) {
  tern_hdr_send_message_request_v2_t h;
  tern_cmd_t req;
  tern_arena_t a;
  char props[128];
  int rc;
  memset(&h, 0, sizeof h);
  h.producer_group = tern_str_from_cstr(group);
  h.topic = tern_str_from_cstr(topic);
  h.default_topic = tern_str_from_cstr("TBW102");
  h.default_topic_queue_nums = 4;
  h.queue_id = qid;
  h.born_timestamp = 1700000000000;
  snprintf(props, sizeof props, "TAGS\001%s\002WAIT\001true\002", tags);
  h.properties = tern_str_from_cstr(props);
  h.present = TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_PRODUCER_GROUP | TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_TOPIC |
              TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_DEFAULT_TOPIC |
              TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_DEFAULT_TOPIC_QUEUE_NUMS | TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_QUEUE_ID |
              TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_SYS_FLAG | TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_BORN_TIMESTAMP |
              TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_FLAG | TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_PROPERTIES;
  tern_arena_init(&a, 0, NULL, 0);
  tern_rpc_request_init(&req, TERN_REQ_SEND_MESSAGE_V2, tern_str_from_cstr("long-poll wake-up"));
  tern_hdr_send_message_request_v2_encode(&h, &req, &a);
  rc = rs_call(c, &req, resp, timeout_ms);
  tern_arena_free(&a);
  return rc;
}

static void pull_req(tern_cmd_t *req, tern_arena_t *a, const char *topic, const char *group, int64_t offset,
                     int64_t suspend_ms) {
  tern_hdr_pull_message_request_t h;
  memset(&h, 0, sizeof h);
  h.consumer_group = tern_str_from_cstr(group);
  h.topic = tern_str_from_cstr(topic);
  h.queue_id = 0;
  h.queue_offset = offset;
  h.max_msg_nums = 32;
  h.sys_flag = 2 | 4; /* SUSPEND | SUBSCRIPTION */
  h.suspend_timeout_millis = suspend_ms;
  h.subscription = tern_str_from_cstr("*");
  h.present = TERN_HDR_PULL_MESSAGE_REQUEST_HAS_CONSUMER_GROUP | TERN_HDR_PULL_MESSAGE_REQUEST_HAS_TOPIC |
              TERN_HDR_PULL_MESSAGE_REQUEST_HAS_QUEUE_ID | TERN_HDR_PULL_MESSAGE_REQUEST_HAS_QUEUE_OFFSET |
              TERN_HDR_PULL_MESSAGE_REQUEST_HAS_MAX_MSG_NUMS | TERN_HDR_PULL_MESSAGE_REQUEST_HAS_SYS_FLAG |
              TERN_HDR_PULL_MESSAGE_REQUEST_HAS_COMMIT_OFFSET | TERN_HDR_PULL_MESSAGE_REQUEST_HAS_SUSPEND_TIMEOUT_MILLIS |
              TERN_HDR_PULL_MESSAGE_REQUEST_HAS_SUBSCRIPTION | TERN_HDR_PULL_MESSAGE_REQUEST_HAS_SUB_VERSION;
  tern_rpc_request_init(req, TERN_REQ_PULL_MESSAGE, TERN_STR_NULL);
  tern_hdr_pull_message_request_encode(&h, req, a);
}

/* Long polling (reference §8.3): a pull at the end of a queue with SUSPEND is held and answered as soon as a message arrives. */
static int longpoll(const rs_env_t *env, tern_buf_t *why, bool wake) {
  rs_conn_t cp, cs;
  tern_cmd_t req, resp;
  tern_arena_t a;
  tern_buf_t b;
  char topic[96], group[96];
  int st = RS_FAIL, rc;
  snprintf(topic, sizeof topic, "conf_lp_%s", env->run);
  snprintf(group, sizeof group, "CG_conf_lp_%s", env->run);
  if (rs_connect(&cp, env->broker, env->ser, env->timeout_ms)) return tern_buf_printf(why, "    cannot connect\n"), RS_FAIL;
  if (rs_connect(&cs, env->broker, env->ser, env->timeout_ms)) {
    rs_close(&cp);
    return tern_buf_printf(why, "    cannot connect\n"), RS_FAIL;
  }
  tern_arena_init(&a, 0, NULL, 0);
  tern_buf_init(&b, 0);
  /* one message so the topic exists and queue 0's max offset is 1 (repeated sends keep it at n) */
  rc = send_one(&cs, topic, "PG_conf", 0, "a", &resp, env->timeout_ms);
  if (rc || resp.code != 0) {
    tern_buf_printf(why, "    setup send failed: %s code %d\n", tern_errname(rc), rc ? -1 : (int)resp.code);
    goto out;
  }
  const tern_str_t *qo = tern_cmd_ext_get(&resp, "queueOffset");
  int64_t next = 1;
  if (qo && tern_str_to_i64(*qo, &next) == 0) next++;
  pull_req(&req, &a, topic, group, next, wake ? 8000 : 1000);
  rs_encode(&cp, &req, &b);
  double t0 = rs_now_ms();
  rs_write(&cp, b.p, b.len);
  rs_describe(why, "sent", &req);
  if (wake) {
    usleep(400 * 1000);
    double ts = rs_now_ms();
    rc = send_one(&cs, topic, "PG_conf", 0, "b", &resp, env->timeout_ms);
    double ts_done = rs_now_ms();
    rc = rs_read(&cp, &resp, 6000);
    double t1 = rs_now_ms();
    if (rc) {
      tern_buf_printf(why, "    no reply to the held pull: %s\n", tern_errname(rc));
    } else {
      rs_describe(why, "received", &resp);
      tern_buf_printf(why, "    held %.0f ms before the send; answered %.0f ms after the send completed\n", ts - t0,
                      t1 - ts_done);
      if (resp.opaque == req.opaque && resp.code == 0 && ts - t0 >= 300 && t1 - ts_done < 1500 &&
          rs_check_reply_shape(&req, env->ser, &resp, why))
        st = RS_PASS;
      else
        tern_buf_printf(why, "    expected: SUCCESS (FOUND) with the new message within 1.5 s of the send, not before it\n");
    }
  } else {
    rc = rs_read(&cp, &resp, 8000);
    double t1 = rs_now_ms();
    if (rc) {
      tern_buf_printf(why, "    no reply to the held pull: %s\n", tern_errname(rc));
    } else {
      rs_describe(why, "received", &resp);
      tern_buf_printf(why, "    answered after %.0f ms (suspendTimeoutMillis 1000)\n", t1 - t0);
      if (resp.code == TERN_RESP_PULL_NOT_FOUND && t1 - t0 >= 900) st = RS_PASS;
      else tern_buf_printf(why, "    expected: PULL_NOT_FOUND (19) once the suspend timeout passed (not before)\n");
    }
  }
out:
  tern_buf_free(&b);
  tern_arena_free(&a);
  rs_close(&cp);
  rs_close(&cs);
  return st;
}

static int longpoll_wake(const rs_env_t *env, tern_buf_t *why) { return longpoll(env, why, true); }
static int longpoll_deadline(const rs_env_t *env, tern_buf_t *why) { return longpoll(env, why, false); }

const rs_ccase_t rs_ccases[] = {
    {"frame.split_one_byte_at_a_time", "reference §1.2 (frame layout), §1.4", false, split_frame},
    {"frame.pipelined_five_in_one_write", "reference §1.4 (request/response matching by opaque)", false, pipelined},
    {"frame.oversize_length_closes", "reference §1.3 (size limits), spec/remoting/frame.json", false, oversize},
    {"frame.bad_serialize_type_closes", "reference §1.2, spec/remoting/frame.json (serialize type 0/1)", false,
     bad_serialize_type},
    {"pull.long_poll_woken_by_send", "reference §8.3 (long polling), §5.8", true, longpoll_wake},
    {"pull.long_poll_answered_at_deadline", "reference §8.3 (suspendTimeoutMillis), §5.8", true, longpoll_deadline},
};
const size_t rs_n_ccases = sizeof rs_ccases / sizeof rs_ccases[0];
