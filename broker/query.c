/* Message lookups (QueryMessageProcessor, reference §5.14): QUERY_MESSAGE (12)
 * by key or UNIQ_KEY within a time range through the store's index (the
 * `_UNIQUE_KEY_QUERY` ext field switches maxNum to defaultQueryMaxNum = 32),
 * and VIEW_MESSAGE_BY_ID (33) by commit-log offset. Records go out as
 * zero-copy spans of the mapped commit log. Loop-thread only.
 * indexLastUpdateTimestamp/Phyoffset are the newest returned record's store
 * time and offset (the store does not expose the index header). */
#include <stdio.h>

#include "broker/broker_int.h"

#define QUERY_DEFAULT_MAX_NUM 32 /* defaultQueryMaxNum */
#define QUERY_MAX_MSGS_BATCH 64  /* maxMsgsNumBatch */

static int query_message(void *ctx, tern_conn_t *c, const tern_cmd_t *req, const tern_hdr_query_message_request_t *h) {
  tern_broker_t *b = ctx;
  tern_store_span_t spans[QUERY_MAX_MSGS_BATCH];
  tern_span_t out[QUERY_MAX_MSGS_BATCH];
  tern_hdr_query_message_response_t rh;
  tern_cmd_t resp;
  const tern_str_t *uniq = tern_cmd_ext_get(req, TERN_HDR_QUERY_MESSAGE_REQUEST_EXTRA_UNIQUE_KEY_QUERY);
  int32_t max = h->max_num;
  size_t n = 0;
  if (uniq && tern_str_eq_cstr(*uniq, "true")) max = QUERY_DEFAULT_MAX_NUM;
  if (max > QUERY_MAX_MSGS_BATCH) max = QUERY_MAX_MSGS_BATCH;
  if (max > 0 && tern_store_query_by_key(b->store, h->topic, h->key, max, h->begin_timestamp, h->end_timestamp, spans,
                                         &n) != 0)
    n = 0;
  if (n == 0)
    return tern_broker_reply_code(c, req, TERN_RESP_QUERY_NOT_FOUND,
                                  "can not find message, maybe time range not correct");
  memset(&rh, 0, sizeof rh);
  for (size_t i = 0; i < n; i++) {
    tern_msg_record_t r;
    out[i].p = spans[i].p;
    out[i].n = spans[i].len;
    if (tern_msg_record_decode(spans[i].p, spans[i].len, &r, NULL) == 0 && r.store_timestamp > rh.index_last_update_timestamp)
      rh.index_last_update_timestamp = r.store_timestamp;
    if (spans[i].phys_offset > rh.index_last_update_phyoffset) rh.index_last_update_phyoffset = spans[i].phys_offset;
  }
  rh.present = TERN_HDR_QUERY_MESSAGE_RESPONSE_HAS_INDEX_LAST_UPDATE_TIMESTAMP |
               TERN_HDR_QUERY_MESSAGE_RESPONSE_HAS_INDEX_LAST_UPDATE_PHYOFFSET;
  tern_broker_resp_init(&resp, TERN_RESP_SUCCESS);
  if (tern_hdr_query_message_response_encode(&rh, &resp, &b->arena)) return TERN_ENOMEM;
  tern_conn_reply_spans(c, req, &resp, out, n, NULL, NULL);
  return 0;
}

static int view_message_by_id(void *ctx, tern_conn_t *c, const tern_cmd_t *req, const tern_hdr_view_message_request_t *h) {
  tern_broker_t *b = ctx;
  tern_store_span_t sp;
  tern_msg_record_t r;
  tern_span_t out;
  tern_cmd_t resp;
  if (h->offset < 0 || tern_store_lookup_by_phys_offset(b->store, h->offset, &sp, &r, NULL) != 0 ||
      tern_msg_record_is_blank(&r))
    return tern_broker_reply_code(c, req, TERN_RESP_SYSTEM_ERROR,
                                  tern_broker_remarkf(b, "can not find message by the offset, %lld", (long long)h->offset));
  out.p = sp.p;
  out.n = sp.len;
  tern_broker_resp_init(&resp, TERN_RESP_SUCCESS);
  tern_conn_reply_spans(c, req, &resp, &out, 1, NULL, NULL);
  return 0;
}

void tern_broker_query_install(tern_broker_handlers_t *h) {
  h->query_message = query_message;
  h->view_message_by_id = view_message_by_id;
}
