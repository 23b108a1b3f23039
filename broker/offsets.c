/* Consumer offsets (ConsumerOffsetManager) and the offset requests of
 * reference §5.9: the table "topic@group" -> (queue id -> committed offset),
 * consumerOffset.json through the generated ConsumerOffsetSerializeWrapper
 * codec, and the handlers QUERY_CONSUMER_OFFSET (14), UPDATE_CONSUMER_OFFSET
 * (15), GET_MAX_OFFSET (30), GET_MIN_OFFSET (31), GET_EARLIEST_MSG_STORETIME
 * (32) and SEARCH_OFFSET_BY_TIMESTAMP (29), answered from the store.
 * Loop-thread only. */
#include <stdio.h>
#include <stdlib.h>

#include "broker/broker_int.h"
#include "broker/store/meta.h"
#include "namesrv/strmap.h"
#include "runtime/log.h"

#define OFFSETS_MAX_QUEUES 65536 /* queue ids kept per (topic, group); more is refused */

static tern_broker_offsets_t *entry_find(tern_broker_t *b, tern_str_t topic, tern_str_t group, bool create) {
  char stack[512];
  size_t n = topic.n + 1 + group.n;
  tern_broker_offsets_t *o;
  tern_str_t key;
  if (n >= sizeof stack) return NULL; /* names are bounded far below this by the callers' checks */
  memcpy(stack, topic.p, topic.n);
  stack[topic.n] = '@';
  memcpy(stack + topic.n + 1, group.p, group.n);
  key = (tern_str_t){stack, n};
  o = tern_strmap_get(b->offsets, key);
  if (o || !create) return o;
  if (!(o = calloc(1, sizeof *o)) || !(o->key = malloc(n + 1))) {
    free(o);
    return NULL;
  }
  memcpy(o->key, stack, n);
  o->key[n] = 0;
  o->topic = (tern_str_t){o->key, topic.n};
  o->group = (tern_str_t){o->key + topic.n + 1, group.n};
  if (tern_strmap_put(b->offsets, (tern_str_t){o->key, n}, o, NULL)) {
    free(o->key);
    free(o);
    return NULL;
  }
  return o;
}

/* Index of queue_id in o->q, or where it would go (*found false). */
static uint32_t qpos(const tern_broker_offsets_t *o, int32_t qid, bool *found) {
  uint32_t lo = 0, hi = o->n;
  while (lo < hi) {
    uint32_t mid = (lo + hi) / 2;
    if (o->q[mid].queue_id < qid)
      lo = mid + 1;
    else
      hi = mid;
  }
  *found = lo < o->n && o->q[lo].queue_id == qid;
  return lo;
}

int64_t tern_broker_offset_get(tern_broker_t *b, tern_str_t topic, tern_str_t group, int32_t queue_id) {
  tern_broker_offsets_t *o = entry_find(b, topic, group, false);
  bool found;
  uint32_t i;
  if (!o) return -1;
  i = qpos(o, queue_id, &found);
  return found ? o->q[i].offset : -1;
}

int tern_broker_offset_set(tern_broker_t *b, tern_str_t topic, tern_str_t group, int32_t queue_id, int64_t offset) {
  tern_broker_offsets_t *o = entry_find(b, topic, group, true);
  bool found;
  uint32_t i;
  if (!o) return TERN_ENOMEM;
  i = qpos(o, queue_id, &found);
  if (!found) {
    if (o->n >= OFFSETS_MAX_QUEUES) return TERN_ETOOBIG;
    if (o->n == o->cap) {
      uint32_t nc = o->cap ? o->cap * 2 : 8;
      tern_broker_qoff_t *q = realloc(o->q, nc * sizeof *q);
      if (!q) return TERN_ENOMEM;
      o->q = q;
      o->cap = nc;
    }
    memmove(&o->q[i + 1], &o->q[i], (o->n - i) * sizeof *o->q);
    o->n++;
    o->q[i].queue_id = queue_id;
  }
  o->q[i].offset = offset;
  b->offsets_dirty = true;
  return 0;
}

static void entry_free(tern_broker_offsets_t *o) {
  free(o->q);
  free(o->key);
  free(o);
}

void tern_broker_offset_remove(tern_broker_t *b, tern_str_t topic, tern_str_t group) {
  uint32_t pos = 0;
  const tern_strmap_slot_t *slot;
  /* Deleting while iterating is not allowed: collect, then delete. */
  for (;;) {
    tern_broker_offsets_t *hit = NULL;
    pos = 0;
    while (tern_strmap_next(b->offsets, &pos, &slot)) {
      tern_broker_offsets_t *o = slot->val;
      if ((group.n == 0 || tern_str_eq(o->group, group)) && (topic.n == 0 || tern_str_eq(o->topic, topic))) {
        hit = o;
        break;
      }
    }
    if (!hit) break;
    tern_strmap_del(b->offsets, (tern_str_t){hit->key, strlen(hit->key)});
    entry_free(hit);
    b->offsets_dirty = true;
  }
}

tern_broker_offsets_t *tern_broker_offset_next(tern_broker_t *b, uint32_t *pos) {
  const tern_strmap_slot_t *slot;
  return tern_strmap_next(b->offsets, pos, &slot) ? slot->val : NULL;
}

int tern_broker_offsets_persist(tern_broker_t *b) {
  tern_body_consumer_offset_serialize_wrapper_t w;
  tern_body_map_str_map_i32_i64_entry_t *ents;
  tern_body_map_i32_i64_entry_t *qs;
  tern_broker_offsets_t *o;
  tern_err_t err = {0};
  size_t nq = 0;
  uint32_t n = 0, pos = 0;
  int rc;
  while ((o = tern_broker_offset_next(b, &pos))) nq += o->n;
  ents = calloc(b->offsets->len ? b->offsets->len : 1, sizeof *ents);
  qs = calloc(nq ? nq : 1, sizeof *qs);
  if (!ents || !qs) {
    free(ents);
    free(qs);
    return TERN_ENOMEM;
  }
  nq = 0;
  pos = 0;
  while ((o = tern_broker_offset_next(b, &pos))) {
    ents[n].key = (tern_str_t){o->key, strlen(o->key)};
    ents[n].val.v = &qs[nq];
    ents[n].val.n = o->n;
    for (uint32_t i = 0; i < o->n; i++) {
      qs[nq].key = o->q[i].queue_id;
      qs[nq].val = o->q[i].offset;
      nq++;
    }
    n++;
  }
  memset(&w, 0, sizeof w);
  w.has = TERN_BODY_CONSUMER_OFFSET_SERIALIZE_WRAPPER_HAS_OFFSET_TABLE;
  w.offset_table.v = ents;
  w.offset_table.n = n;
  rc = tern_store_save_consumer_offsets(b->store, &w, &err);
  free(ents);
  free(qs);
  if (rc)
    tern_error("broker: cannot write consumerOffset.json: %s", err.reason ? err.reason : tern_strerror(rc));
  else
    b->offsets_dirty = false;
  return rc;
}

int tern_broker_offsets_init(tern_broker_t *b, tern_err_t *err) {
  tern_arena_t a;
  tern_body_consumer_offset_serialize_wrapper_t w;
  int rc;
  if (!(b->offsets = calloc(1, sizeof(tern_strmap_t)))) return TERN_ENOMEM;
  tern_strmap_init(b->offsets);
  tern_arena_init(&a, 0, NULL, 0);
  rc = tern_store_load_consumer_offsets(b->store, &a, &w, err);
  if (rc == 0) {
    for (uint32_t i = 0; i < w.offset_table.n; i++) {
      tern_str_t key = w.offset_table.v[i].key;
      const char *at = NULL;
      /* "topic@group": topics cannot contain '@', groups in 4.9 cannot either; split at the first. */
      for (size_t k = 0; k < key.n; k++)
        if (key.p[k] == '@') {
          at = key.p + k;
          break;
        }
      if (!at) {
        tern_warn("broker: consumerOffset.json: skipping key '%.*s' without '@'", TERN_STR_ARG(key));
        continue;
      }
      tern_str_t topic = {key.p, (size_t)(at - key.p)}, group = {at + 1, key.n - topic.n - 1};
      for (uint32_t j = 0; j < w.offset_table.v[i].val.n; j++)
        tern_broker_offset_set(b, topic, group, w.offset_table.v[i].val.v[j].key, w.offset_table.v[i].val.v[j].val);
    }
  }
  tern_arena_free(&a);
  b->offsets_dirty = false;
  return rc == TERN_ENOTFOUND ? 0 : rc;
}

void tern_broker_offsets_free(tern_broker_t *b) {
  uint32_t pos = 0;
  tern_broker_offsets_t *o;
  if (!b->offsets) return;
  while ((o = tern_broker_offset_next(b, &pos))) entry_free(o);
  tern_strmap_free(b->offsets);
  free(b->offsets);
  b->offsets = NULL;
}

/* ---- handlers ---- */

static int reply_offset_hdr(tern_broker_t *b, tern_conn_t *c, const tern_cmd_t *req, tern_cmd_t *resp) {
  TERN_UNUSED(b);
  tern_conn_reply(c, req, resp);
  return 0;
}

static int query_consumer_offset(void *ctx, tern_conn_t *c, const tern_cmd_t *req,
                                 const tern_hdr_query_consumer_offset_request_t *h) {
  tern_broker_t *b = ctx;
  tern_cmd_t resp;
  tern_hdr_query_consumer_offset_response_t rh = {0};
  int64_t off = tern_broker_offset_get(b, h->topic, h->consumer_group, h->queue_id);
  if (off < 0) {
    /* 5.x setZeroIfNotFound=false asks for QUERY_NOT_FOUND; 4.9: offset 0 when the queue still starts at 0. */
    bool zero_ok = !((h->present & TERN_HDR_QUERY_CONSUMER_OFFSET_REQUEST_HAS_SET_ZERO_IF_NOT_FOUND) &&
                     !h->set_zero_if_not_found);
    if (zero_ok && tern_store_get_min_offset(b->store, h->topic, h->queue_id) <= 0) {
      off = 0;
    } else {
      return tern_broker_reply_code(c, req, TERN_RESP_QUERY_NOT_FOUND,
                                    "Not found, V3_0_6_SNAPSHOT maybe this group consumer boot first");
    }
  }
  tern_broker_resp_init(&resp, TERN_RESP_SUCCESS);
  rh.offset = off;
  rh.present = TERN_HDR_QUERY_CONSUMER_OFFSET_RESPONSE_HAS_OFFSET;
  if (tern_hdr_query_consumer_offset_response_encode(&rh, &resp, &b->arena)) return TERN_ENOMEM;
  return reply_offset_hdr(b, c, req, &resp);
}

static int update_consumer_offset(void *ctx, tern_conn_t *c, const tern_cmd_t *req,
                                  const tern_hdr_update_consumer_offset_request_t *h) {
  tern_broker_t *b = ctx;
  int rc;
  if (!tern_topic_valid(h->topic) || !tern_name_valid(h->consumer_group, 255))
    return tern_broker_reply_code(c, req, TERN_RESP_SYSTEM_ERROR, "illegal topic or consumer group");
  rc = tern_broker_offset_set(b, h->topic, h->consumer_group, h->queue_id, h->commit_offset);
  if (rc) return tern_broker_reply_code(c, req, TERN_RESP_SYSTEM_ERROR, "too many queues for one consumer group");
  return tern_broker_reply_code(c, req, TERN_RESP_SUCCESS, NULL);
}

static int get_max_offset(void *ctx, tern_conn_t *c, const tern_cmd_t *req, const tern_hdr_get_max_offset_request_t *h) {
  tern_broker_t *b = ctx;
  tern_cmd_t resp;
  tern_hdr_get_max_offset_response_t rh = {0};
  tern_broker_resp_init(&resp, TERN_RESP_SUCCESS);
  rh.offset = tern_store_get_max_offset(b->store, h->topic, h->queue_id);
  rh.present = TERN_HDR_GET_MAX_OFFSET_RESPONSE_HAS_OFFSET;
  if (tern_hdr_get_max_offset_response_encode(&rh, &resp, &b->arena)) return TERN_ENOMEM;
  return reply_offset_hdr(b, c, req, &resp);
}

static int get_min_offset(void *ctx, tern_conn_t *c, const tern_cmd_t *req, const tern_hdr_get_min_offset_request_t *h) {
  tern_broker_t *b = ctx;
  tern_cmd_t resp;
  tern_hdr_get_min_offset_response_t rh = {0};
  tern_broker_resp_init(&resp, TERN_RESP_SUCCESS);
  rh.offset = tern_store_get_min_offset(b->store, h->topic, h->queue_id);
  rh.present = TERN_HDR_GET_MIN_OFFSET_RESPONSE_HAS_OFFSET;
  if (tern_hdr_get_min_offset_response_encode(&rh, &resp, &b->arena)) return TERN_ENOMEM;
  return reply_offset_hdr(b, c, req, &resp);
}

static int get_earliest_msg_storetime(void *ctx, tern_conn_t *c, const tern_cmd_t *req,
                                      const tern_hdr_get_earliest_msg_storetime_request_t *h) {
  tern_broker_t *b = ctx;
  tern_cmd_t resp;
  tern_hdr_get_earliest_msg_storetime_response_t rh = {0};
  tern_broker_resp_init(&resp, TERN_RESP_SUCCESS);
  rh.timestamp = tern_store_earliest_store_time(b->store, h->topic, h->queue_id);
  rh.present = TERN_HDR_GET_EARLIEST_MSG_STORETIME_RESPONSE_HAS_TIMESTAMP;
  if (tern_hdr_get_earliest_msg_storetime_response_encode(&rh, &resp, &b->arena)) return TERN_ENOMEM;
  return reply_offset_hdr(b, c, req, &resp);
}

static int search_offset_by_timestamp(void *ctx, tern_conn_t *c, const tern_cmd_t *req,
                                      const tern_hdr_search_offset_request_t *h) {
  tern_broker_t *b = ctx;
  tern_cmd_t resp;
  tern_hdr_search_offset_response_t rh = {0};
  tern_broker_resp_init(&resp, TERN_RESP_SUCCESS);
  rh.offset = tern_store_search_offset_by_time(b->store, h->topic, h->queue_id, h->timestamp);
  rh.present = TERN_HDR_SEARCH_OFFSET_RESPONSE_HAS_OFFSET;
  if (tern_hdr_search_offset_response_encode(&rh, &resp, &b->arena)) return TERN_ENOMEM;
  return reply_offset_hdr(b, c, req, &resp);
}

void tern_broker_offsets_install(tern_broker_handlers_t *h) {
  h->query_consumer_offset = query_consumer_offset;
  h->update_consumer_offset = update_consumer_offset;
  h->get_max_offset = get_max_offset;
  h->get_min_offset = get_min_offset;
  h->get_earliest_msg_storetime = get_earliest_msg_storetime;
  h->search_offset_by_timestamp = search_offset_by_timestamp;
}
