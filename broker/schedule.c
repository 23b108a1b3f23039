/* Delayed messages (ScheduleMessageService, reference §8.4): a message whose
 * DELAY property names a level > 0 (capped at the last level) and that is not
 * a prepared/rollback transaction is stored in SCHEDULE_TOPIC_XXXX, queue
 * level-1, with REAL_TOPIC/REAL_QID added (the store writes the delivery time
 * as the consume-queue tagsCode). Every 100 ms each level's queue is read from
 * its delivery offset; records whose store time + the level's delay has come
 * are stored again in their real topic and queue (properties as parked,
 * as 4.9.8 stores them), which wakes the pulls waiting there; the offsets are kept
 * in delayOffset.json (every flushDelayOffsetInterval and at shutdown).
 * Loop-thread only. */
#include <stdio.h>
#include <stdlib.h>

#include "broker/broker_int.h"
#include "broker/store/meta.h"
#include "runtime/clock.h"
#include "runtime/log.h"

#define SCHED_MAX_LEVELS 64
#define SCHED_TICK_MS 100
#define DELIVER_BATCH 32

struct tern_schedule {
  tern_broker_t *b;
  int nlevels;
  int64_t delay_ms[SCHED_MAX_LEVELS + 1]; /* by level, 1-based */
  int64_t offset[SCHED_MAX_LEVELS + 1];   /* next schedule-queue offset to deliver */
  bool dirty;
  uv_timer_t tick, persist;
  bool started;
};

/* "1s 5s 10s 30s 1m ..." as Java parses messageDelayLevel (s, m, h, d). */
static int parse_levels(struct tern_schedule *s, const char *text) {
  const char *p = text ? text : "";
  s->nlevels = 0;
  while (*p) {
    while (*p == ' ') p++;
    if (!*p) break;
    char *end;
    long long v = strtoll(p, &end, 10);
    int64_t unit;
    switch (*end) {
    case 's': unit = 1000; break;
    case 'm': unit = 60000; break;
    case 'h': unit = 3600000; break;
    case 'd': unit = 86400000; break;
    default: return TERN_EINVAL;
    }
    if (end == p || v < 0 || s->nlevels >= SCHED_MAX_LEVELS) return TERN_EINVAL;
    s->delay_ms[++s->nlevels] = (int64_t)v * unit;
    p = end + 1;
  }
  return 0;
}

static int persist(struct tern_schedule *s) {
  tern_body_delay_offset_serialize_wrapper_t w;
  tern_body_map_i32_i64_entry_t e[SCHED_MAX_LEVELS];
  tern_err_t err = {0};
  int n = 0, rc;
  for (int l = 1; l <= s->nlevels; l++)
    if (s->offset[l] > 0) e[n++] = (tern_body_map_i32_i64_entry_t){l, s->offset[l]};
  memset(&w, 0, sizeof w);
  w.has = TERN_BODY_DELAY_OFFSET_SERIALIZE_WRAPPER_HAS_OFFSET_TABLE;
  w.offset_table.v = e;
  w.offset_table.n = (uint32_t)n;
  rc = tern_store_save_delay_offsets(s->b->store, &w, &err);
  if (rc)
    tern_error("broker: cannot write delayOffset.json: %s", err.reason ? err.reason : tern_strerror(rc));
  else
    s->dirty = false;
  return rc;
}

int tern_broker_sched_init(tern_broker_t *b, tern_err_t *err) {
  struct tern_schedule *s = calloc(1, sizeof *s);
  tern_body_delay_offset_serialize_wrapper_t w;
  tern_arena_t a;
  int rc;
  if (!s) return TERN_ENOMEM;
  s->b = b;
  b->sched = s;
  if (parse_levels(s, b->conf.message_delay_level))
    return tern_fail(err, TERN_EINVAL, "bad messageDelayLevel", "messageDelayLevel", 0);
  tern_arena_init(&a, 0, NULL, 0);
  rc = tern_store_load_delay_offsets(b->store, &a, &w, err);
  if (rc == 0)
    for (uint32_t i = 0; i < w.offset_table.n; i++)
      if (w.offset_table.v[i].key >= 1 && w.offset_table.v[i].key <= s->nlevels)
        s->offset[w.offset_table.v[i].key] = w.offset_table.v[i].val;
  tern_arena_free(&a);
  return rc == TERN_ENOTFOUND ? 0 : rc;
}

bool tern_broker_sched_redirect(tern_broker_t *b, tern_store_msg_t *m, tern_buf_t *props) {
  struct tern_schedule *s = b->sched;
  tern_str_t v;
  int32_t level, tt = tern_sysflag_transaction(m->sys_flag);
  char qid[16];
  if (!s || s->nlevels == 0 || tern_props_get(m->properties, TERN_PROP_DELAY_TIME_LEVEL, &v) != 0) return false;
  if (tern_str_to_i32(v, &level) != 0 || level <= 0) return false;
  if (tt != TERN_SYSFLAG_TRANSACTION_NOT_TYPE && tt != TERN_SYSFLAG_TRANSACTION_COMMIT_TYPE) return false;
  if (tern_str_eq_cstr(m->topic, TERN_TOPIC_SCHEDULE)) return false;
  if (level > s->nlevels) level = s->nlevels;
  /* Java keeps DELAY (the schedule service needs it) and adds REAL_TOPIC / REAL_QID */
  tern_props_cursor_t cur;
  tern_prop_t p;
  tern_props_cursor_init(&cur, m->properties);
  while (tern_props_cursor_next(&cur, &p) == 1) {
    if (tern_str_eq_cstr(p.key, TERN_PROP_REAL_TOPIC) || tern_str_eq_cstr(p.key, TERN_PROP_REAL_QUEUE_ID)) continue;
    if (tern_str_eq_cstr(p.key, TERN_PROP_DELAY_TIME_LEVEL)) {
      char lv[16];
      snprintf(lv, sizeof lv, "%d", level);
      tern_props_append(props, p.key, tern_str_from_cstr(lv));
      continue;
    }
    tern_props_append(props, p.key, p.val);
  }
  snprintf(qid, sizeof qid, "%d", m->queue_id);
  tern_props_append(props, TERN_STR(TERN_PROP_REAL_TOPIC), m->topic);
  tern_props_append(props, TERN_STR(TERN_PROP_REAL_QUEUE_ID), tern_str_from_cstr(qid));
  if (props->err) return false;
  m->properties = (tern_str_t){(const char *)props->p, props->len};
  m->topic = TERN_STR(TERN_TOPIC_SCHEDULE);
  m->queue_id = level - 1;
  return true;
}

/* Stores one due record in its real topic; false when it must be retried
 * later. As 4.9.8's messageTimeup the stored properties string is the parked
 * one, unchanged (DELAY, REAL_TOPIC and REAL_QID stay in it: Java clears DELAY
 * from the map only after the string was built), so it is not parked again. */
static bool deliver(struct tern_schedule *s, const tern_msg_record_t *r) {
  tern_broker_t *b = s->b;
  tern_store_msg_t m = *r;
  tern_put_result_t res;
  tern_str_t topic, qid, tags;
  int32_t q;
  int rc;
  if (tern_props_get(r->properties, TERN_PROP_REAL_TOPIC, &topic) != 0 ||
      tern_props_get(r->properties, TERN_PROP_REAL_QUEUE_ID, &qid) != 0 || tern_str_to_i32(qid, &q) != 0) {
    tern_warn("broker: schedule: record at %lld has no REAL_TOPIC/REAL_QID; skipped", (long long)r->physical_offset);
    return true;
  }
  m.topic = topic;
  m.queue_id = q;
  m.store_host = b->store_host_addr;
  rc = tern_store_put(b->store, &m, &res);
  if (rc == 0 && res.status == TERN_PUT_OK) {
    if (tern_props_get(m.properties, TERN_PROP_TAGS, &tags) != 0) tags = TERN_STR_NULL;
    tern_broker_lp_notify(b, m.topic, m.queue_id, tern_msg_tags_code(tags), true);
    return true;
  }
  if (res.status == TERN_PUT_MESSAGE_ILLEGAL || res.status == TERN_PUT_PROPERTIES_SIZE_EXCEEDED) {
    tern_warn("broker: schedule: record at %lld cannot be delivered (%s); skipped", (long long)r->physical_offset,
              tern_put_status_name(res.status));
    return true;
  }
  return false;
}

static void on_tick(uv_timer_t *t) {
  struct tern_schedule *s = t->data;
  tern_broker_t *b = s->b;
  int64_t now = (int64_t)tern_clock_now_ms();
  for (int l = 1; l <= s->nlevels; l++) {
    for (;;) {
      tern_store_span_t spans[DELIVER_BATCH];
      tern_get_result_t res;
      bool stop = false;
      memset(&res, 0, sizeof res);
      res.spans = spans;
      res.cap = DELIVER_BATCH;
      tern_store_get_messages(b->store, TERN_STR(TERN_TOPIC_SCHEDULE), l - 1, s->offset[l], DELIVER_BATCH, NULL, &res);
      if (res.status == TERN_GET_OFFSET_TOO_SMALL || res.status == TERN_GET_OFFSET_OVERFLOW_BADLY) {
        s->offset[l] = res.next_begin_offset; /* the queue moved (retention): follow it */
        s->dirty = true;
        continue;
      }
      if (res.status != TERN_GET_FOUND) {
        if (res.status == TERN_GET_MESSAGE_WAS_REMOVING || res.status == TERN_GET_OFFSET_FOUND_NULL) {
          s->offset[l] = res.next_begin_offset;
          s->dirty = true;
        }
        break;
      }
      for (size_t i = 0; i < res.n && !stop; i++) {
        tern_msg_record_t r;
        if (tern_msg_record_decode(spans[i].p, spans[i].len, &r, NULL) != 0) {
          s->offset[l] = spans[i].queue_offset + 1;
          continue;
        }
        if (r.store_timestamp + s->delay_ms[l] > now || !deliver(s, &r)) {
          stop = true;
          break;
        }
        s->offset[l] = spans[i].queue_offset + 1;
        s->dirty = true;
      }
      if (stop || res.n == 0) break;
    }
  }
}

static void on_persist(uv_timer_t *t) {
  struct tern_schedule *s = t->data;
  if (s->dirty) persist(s);
}

void tern_broker_sched_start(tern_broker_t *b) {
  struct tern_schedule *s = b->sched;
  uint64_t every = b->conf.flush_delay_offset_interval > 0 ? (uint64_t)b->conf.flush_delay_offset_interval : 10000;
  uv_timer_init(b->loop->uv, &s->tick);
  s->tick.data = s;
  uv_timer_start(&s->tick, on_tick, SCHED_TICK_MS, SCHED_TICK_MS);
  uv_timer_init(b->loop->uv, &s->persist);
  s->persist.data = s;
  uv_timer_start(&s->persist, on_persist, every, every);
  s->started = true;
}

void tern_broker_sched_stop(tern_broker_t *b) {
  struct tern_schedule *s = b->sched;
  if (!s || !s->started) return;
  uv_timer_stop(&s->tick);
  uv_timer_stop(&s->persist);
  uv_close((uv_handle_t *)&s->tick, NULL);
  uv_close((uv_handle_t *)&s->persist, NULL);
  s->started = false;
  persist(s);
}

void tern_broker_sched_free(tern_broker_t *b) {
  free(b->sched);
  b->sched = NULL;
}
