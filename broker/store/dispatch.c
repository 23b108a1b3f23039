/* Dispatch ("reput"): turns one stored record into its consume-queue entry
 * (NOT_TYPE and COMMIT_TYPE records only) and its index entries (UNIQ_KEY and
 * each KEYS element; not for rolled-back records). Runs on the owner thread
 * right after the append, and again over a range of the log during recovery,
 * where it is idempotent. */
#include "broker/store/store_int.h"

/* The properties dispatch needs, found in one pass (last duplicate wins, as
 * Java's map keeps it). */
typedef struct wanted {
  tern_str_t tags, keys, uniq, delay;
  bool has_tags, has_keys, has_uniq, has_delay;
} wanted_t;

static void scan_props(tern_str_t props, wanted_t *w) {
  memset(w, 0, sizeof *w);
  tern_props_cursor_t c;
  tern_props_cursor_init(&c, props);
  tern_prop_t p;
  while (tern_props_cursor_next(&c, &p) == 1) {
    if (tern_str_eq_cstr(p.key, TERN_PROP_TAGS)) {
      w->tags = p.val;
      w->has_tags = true;
    } else if (tern_str_eq_cstr(p.key, TERN_PROP_KEYS)) {
      w->keys = p.val;
      w->has_keys = true;
    } else if (tern_str_eq_cstr(p.key, TERN_PROP_UNIQ_KEY)) {
      w->uniq = p.val;
      w->has_uniq = true;
    } else if (tern_str_eq_cstr(p.key, TERN_PROP_DELAY_TIME_LEVEL)) {
      w->delay = p.val;
      w->has_delay = true;
    }
  }
}

int dispatch_record(tern_store_t *s, const tern_msg_record_t *r, int64_t phys, bool recovering) {
  int32_t tran = tern_sysflag_transaction(r->sys_flag);
  int rc = TERN_OK;
  wanted_t w;
  scan_props(r->properties, &w);
  if (tran == TERN_SYSFLAG_TRANSACTION_NOT_TYPE || tran == TERN_SYSFLAG_TRANSACTION_COMMIT_TYPE) {
    cqueue_t *cq = cq_get_or_create(s, r->topic, r->queue_id);
    if (!cq) return TERN_ENOMEM;
    int64_t code = w.has_tags ? tern_msg_tags_code(w.tags) : 0;
    int32_t level;
    if (w.has_delay && tern_str_eq_cstr(r->topic, TERN_TOPIC_SCHEDULE) && tern_str_to_i32(w.delay, &level) == TERN_OK &&
        level > 0) {
      /* delayed messages: the entry carries the delivery time (reference 8.4) */
      if (level > s->max_delay_level) level = s->max_delay_level;
      code = r->store_timestamp + (level > 0 ? s->delay_ms[level] : 1000);
    }
    rc = cq_put(s, cq, r->queue_offset, phys, r->total_size, code);
    if (rc) return rc;
  }
  if (s->cfg.message_index_enable && tran != TERN_SYSFLAG_TRANSACTION_ROLLBACK_TYPE) {
    if (w.has_uniq && w.uniq.n) rc = ix_put(s, r->topic, w.uniq, phys, r->store_timestamp);
    if (w.has_keys) {
      tern_str_t v = w.keys;
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
