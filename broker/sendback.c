/* CONSUMER_SEND_MSG_BACK (36): a consumer hands back a message it failed to
 * consume. As RocketMQ 4.9's SendMessageProcessor.asyncConsumerSendMsgBack
 * (reference §5.11, §8.5): the group must exist, the broker be writable; the
 * original record is looked up by its commit-log offset and re-appended to
 * %RETRY%<group> (or %DLQ%<group> once reconsumeTimes reaches the max, or for
 * delayLevel < 0) with reconsumeTimes + 1 and the properties RocketMQ sets:
 * RETRY_TOPIC (the original topic, kept from earlier retries), ORIGIN_MESSAGE_ID
 * (the first delivery's msgId), WAIT=false and DELAY=<level> (0 for the DLQ).
 * The record goes through tern_broker_put_scheduled: a retry with DELAY > 0
 * is parked in SCHEDULE_TOPIC_XXXX and reaches %RETRY%<group> when its delay
 * level is due (schedule.c), as in RocketMQ; DLQ records (DELAY 0) land at once.
 * Loop-thread only. */
#include <stdio.h>
#include <stdlib.h>

#include "broker/clients.h"
#include "broker/subgroups.h"
#include "gen/codes.h"
#include "gen/message.h"
#include "runtime/log.h"

#define DLQ_NUMS_PER_GROUP 1
#define VERSION_V3_4_9 121 /* MQVersion.Version.V3_4_9.ordinal(): maxReconsumeTimes honoured from here */

static bool is_override(tern_str_t key) {
  return tern_str_eq_cstr(key, TERN_PROP_WAIT_STORE_MSG_OK) || tern_str_eq_cstr(key, TERN_PROP_DELAY_TIME_LEVEL) ||
         tern_str_eq_cstr(key, TERN_PROP_ORIGIN_MESSAGE_ID);
}

/* The properties of the new record, built in out. */
static int build_properties(tern_buf_t *out, const tern_msg_record_t *rec, int32_t delay_level) {
  tern_props_cursor_t cur;
  tern_prop_t p;
  tern_str_t origin, tmp;
  char idbuf[TERN_MSGID_HEX_V6 + 1], lvl[16];
  bool has_origin = tern_props_get(rec->properties, TERN_PROP_ORIGIN_MESSAGE_ID, &origin) == 0 && origin.n > 0;
  tern_props_cursor_init(&cur, rec->properties);
  while (tern_props_cursor_next(&cur, &p) == 1) {
    if (is_override(p.key)) continue;
    /* Java keeps a map: only the last value of a duplicated key survives. */
    if (tern_props_get_str(rec->properties, p.key, &tmp) == 0 && tmp.p != p.val.p) continue;
    (void)tern_props_append(out, p.key, p.val); /* an empty value cannot be written back: dropped */
  }
  if (tern_props_get(rec->properties, TERN_PROP_RETRY_TOPIC, &tmp) != 0)
    tern_props_append(out, TERN_STR(TERN_PROP_RETRY_TOPIC), rec->topic);
  tern_props_append(out, TERN_STR(TERN_PROP_WAIT_STORE_MSG_OK), TERN_STR("false"));
  snprintf(lvl, sizeof lvl, "%d", (int)delay_level);
  tern_props_append(out, TERN_STR(TERN_PROP_DELAY_TIME_LEVEL), tern_str_from_cstr(lvl));
  if (!has_origin) {
    size_t n = tern_msgid_encode(&rec->store_host, rec->physical_offset, idbuf);
    origin = (tern_str_t){idbuf, n};
  }
  if (origin.n) tern_props_append(out, TERN_STR(TERN_PROP_ORIGIN_MESSAGE_ID), origin);
  if (out->err) return out->err;
  return out->len > TERN_PROPS_MAX_LEN ? TERN_ETOOBIG : 0;
}

static int consumer_send_msg_back(void *ctx, tern_conn_t *c, const tern_cmd_t *req,
                                  const tern_hdr_consumer_send_msg_back_request_t *h) {
  tern_broker_t *b = ctx;
  const tern_body_subscription_group_config_t *sg;
  tern_broker_topic_t *topic;
  tern_store_span_t span;
  tern_msg_record_t rec;
  tern_store_msg_t m;
  tern_put_result_t res;
  tern_err_t err = {0};
  tern_buf_t props;
  char name[TERN_GROUP_MAX_LEN + 16], remark[300];
  size_t nlen;
  int32_t queue_id, delay_level = h->delay_level, max_times;
  int rc;

  sg = tern_subgroups_find(b->clients->subgroups, h->group, true);
  if (!sg) {
    snprintf(remark, sizeof remark, "subscription group not exist, %.*s", TERN_STR_ARG(h->group));
    return tern_broker_reply_code(c, req, TERN_RESP_SUBSCRIPTION_GROUP_NOT_EXIST, remark);
  }
  if (!(b->conf.broker_permission & TERN_PERM_WRITE)) {
    snprintf(remark, sizeof remark, "the broker[%s] sending message is forbidden",
             b->conf.broker_ip1 ? b->conf.broker_ip1 : "");
    return tern_broker_reply_code(c, req, TERN_RESP_NO_PERMISSION, remark);
  }
  if (sg->retry_queue_nums <= 0) return tern_broker_reply_code(c, req, TERN_RESP_SUCCESS, NULL);
  if (tern_topic_retry_name(h->group, name, sizeof name, &nlen))
    return tern_broker_reply_code(c, req, TERN_RESP_SYSTEM_ERROR, "the group name is illegal");
  queue_id = (int32_t)(random() % sg->retry_queue_nums);
  topic = tern_broker_topic_ensure(b, (tern_str_t){name, nlen}, sg->retry_queue_nums, TERN_PERM_READ | TERN_PERM_WRITE,
                                   h->unit_mode ? 0x2 : 0);
  if (!topic) {
    snprintf(remark, sizeof remark, "topic[%s] not exist", name);
    return tern_broker_reply_code(c, req, TERN_RESP_SYSTEM_ERROR, remark);
  }
  if (!(topic->cfg.perm & TERN_PERM_WRITE)) {
    snprintf(remark, sizeof remark, "the topic[%s] sending message is forbidden", name);
    return tern_broker_reply_code(c, req, TERN_RESP_NO_PERMISSION, remark);
  }
  if (!b->store || tern_store_lookup_by_phys_offset(b->store, h->offset, &span, &rec, &err) ||
      tern_msg_record_is_blank(&rec)) {
    snprintf(remark, sizeof remark, "look message by offset failed, %lld", (long long)h->offset);
    return tern_broker_reply_code(c, req, TERN_RESP_SYSTEM_ERROR, remark);
  }
  max_times = sg->retry_max_times;
  if (req->version >= VERSION_V3_4_9 && (h->present & TERN_HDR_CONSUMER_SEND_MSG_BACK_REQUEST_HAS_MAX_RECONSUME_TIMES))
    max_times = h->max_reconsume_times;
  if (rec.reconsume_times >= max_times || delay_level < 0) {
    if (tern_topic_dlq_name(h->group, name, sizeof name, &nlen))
      return tern_broker_reply_code(c, req, TERN_RESP_SYSTEM_ERROR, "the group name is illegal");
    queue_id = (int32_t)(random() % DLQ_NUMS_PER_GROUP);
    topic = tern_broker_topic_ensure(b, (tern_str_t){name, nlen}, DLQ_NUMS_PER_GROUP, TERN_PERM_READ | TERN_PERM_WRITE, 0);
    if (!topic) {
      snprintf(remark, sizeof remark, "topic[%s] not exist", name);
      return tern_broker_reply_code(c, req, TERN_RESP_SYSTEM_ERROR, remark);
    }
    delay_level = 0;
  } else if (delay_level == 0) {
    delay_level = 3 + rec.reconsume_times;
  }
  if (delay_level > 18) delay_level = 18; /* messageDelayLevel has 18 levels; the store clamps too */

  tern_buf_init(&props, TERN_PROPS_MAX_LEN + 1024);
  rc = build_properties(&props, &rec, delay_level);
  if (rc) {
    tern_buf_free(&props);
    return tern_broker_reply_code(c, req, TERN_RESP_SYSTEM_ERROR, "PROPERTIES_SIZE_EXCEEDED");
  }
  memset(&m, 0, sizeof m);
  m.topic = (tern_str_t){name, nlen};
  m.queue_id = queue_id;
  m.flag = rec.flag;
  m.body = rec.body;
  m.properties = (tern_str_t){(const char *)props.p, props.len};
  m.sys_flag = rec.sys_flag & ~(TERN_SYSFLAG_BORNHOST_V6 | TERN_SYSFLAG_STOREHOSTADDRESS_V6);
  m.born_timestamp = rec.born_timestamp;
  m.born_host = rec.born_host;
  m.store_host = b->store_host_addr;
  m.reconsume_times = rec.reconsume_times + 1;
  m.prepared_transaction_offset = 0;
  m.magic = TERN_MSG_MAGIC_V1;
  rc = tern_broker_put_scheduled(b, &m, &res);
  tern_buf_free(&props);
  if (rc == 0 && res.status == TERN_PUT_OK) {
    tern_debug("broker: send back %lld of group %.*s to %s queue %d (reconsume %d, delay %d)", (long long)h->offset,
               TERN_STR_ARG(h->group), name, (int)queue_id, (int)m.reconsume_times, (int)delay_level);
    return tern_broker_reply_code(c, req, TERN_RESP_SUCCESS, NULL);
  }
  return tern_broker_reply_code(c, req, TERN_RESP_SYSTEM_ERROR, rc ? tern_strerror(rc) : tern_put_status_name(res.status));
}

void tern_broker_sendback_install(tern_broker_t *b, tern_broker_handlers_t *h) {
  TERN_UNUSED(b);
  h->consumer_send_msg_back = consumer_send_msg_back;
}
