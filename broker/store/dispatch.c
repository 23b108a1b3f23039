/* Dispatch ("reput"): turns one stored record into its consume-queue entry
 * (NOT_TYPE and COMMIT_TYPE records only) and its index entries (UNIQ_KEY and
 * each KEYS element; not for rolled-back records). Runs on the owner thread
 * right after the append, and again over a range of the log during recovery,
 * where it is idempotent. */
#include "broker/store/store_int.h"

int dispatch_record(tern_store_t *s, const tern_msg_record_t *r, int64_t phys, bool recovering) {
  int32_t tran = tern_sysflag_transaction(r->sys_flag);
  int rc = TERN_OK;
  if (tran == TERN_SYSFLAG_TRANSACTION_NOT_TYPE || tran == TERN_SYSFLAG_TRANSACTION_COMMIT_TYPE) {
    cqueue_t *cq = cq_get_or_create(s, r->topic, r->queue_id);
    if (!cq) return TERN_ENOMEM;
    tern_str_t tags;
    int64_t code = tern_props_get(r->properties, TERN_PROP_TAGS, &tags) == TERN_OK ? tern_msg_tags_code(tags) : 0;
    tern_str_t lv;
    int32_t level;
    if (tern_str_eq_cstr(r->topic, TERN_TOPIC_SCHEDULE) &&
        tern_props_get(r->properties, TERN_PROP_DELAY_TIME_LEVEL, &lv) == TERN_OK &&
        tern_str_to_i32(lv, &level) == TERN_OK && level > 0) {
      /* delayed messages: the entry carries the delivery time (reference 8.4) */
      if (level > s->max_delay_level) level = s->max_delay_level;
      code = r->store_timestamp + (level > 0 ? s->delay_ms[level] : 1000);
    }
    rc = cq_put(s, cq, r->queue_offset, phys, r->total_size, code);
    if (rc) return rc;
  }
  if (s->cfg.message_index_enable && tran != TERN_SYSFLAG_TRANSACTION_ROLLBACK_TYPE) {
    tern_str_t v;
    if (tern_props_get(r->properties, TERN_PROP_UNIQ_KEY, &v) == TERN_OK && v.n)
      rc = ix_put(s, r->topic, v, phys, r->store_timestamp);
    if (tern_props_get(r->properties, TERN_PROP_KEYS, &v) == TERN_OK) {
      size_t i = 0;
      while (i < v.n && rc == TERN_OK) {
        size_t j = i;
        while (j < v.n && v.p[j] != ' ') j++;
        if (j > i) rc = ix_put(s, r->topic, (tern_str_t){v.p + i, j - i}, phys, r->store_timestamp);
        i = j + 1;
      }
    }
    if (rc && !recovering) tern_store_logf(s, "store: index entry for offset %lld not written", (long long)phys);
    rc = TERN_OK; /* the index is best effort: a missing entry must not fail a send */
  }
  atomic_store_explicit(&s->dispatched_ts, r->store_timestamp, memory_order_release);
  s->reput_offset = phys + r->total_size;
  return rc;
}

int dispatch_pending(tern_store_t *s) {
  int64_t end = atomic_load_explicit(&s->clog_written, memory_order_acquire);
  while (s->reput_offset < end) {
    int64_t pos = s->reput_offset;
    mfile_t *f = fq_find(&s->clog, pos);
    if (!f) return TERN_ENOTFOUND;
    int64_t in = pos - f->from;
    if (in + TERN_MSG_BLANK_SIZE > f->size ||
        (int32_t)tern_load_be32(f->base + in + TERN_MSG_OFF_MAGIC) == TERN_MSG_MAGIC_BLANK) {
      s->reput_offset = f->from + f->size; /* blank filler: next file */
      continue;
    }
    tern_store_span_t sp;
    tern_msg_record_t r;
    int rc = clog_read(s, pos, -1, &sp, &r, NULL);
    if (rc == TERN_OK) rc = dispatch_record(s, &r, pos, false);
    if (rc) return rc;
  }
  return TERN_OK;
}
