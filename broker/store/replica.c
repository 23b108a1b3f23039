/* Replication support for broker/ha/ (reference 8.11): the master reads raw
 * commit-log bytes by physical offset for its HA sender, and a slave appends
 * the bytes its master sent at exactly the same physical offsets, then
 * dispatches every record they complete, so the slave's consume queues and
 * index match the master's. Owner thread only (the broker loop), like every
 * other store call.
 *
 * The master cuts its transfers at 32 KiB, not at record boundaries, so a
 * slave's log may end inside a record. That tail counts in the max offset (the
 * slave reports it and the master resumes right after it) but is never
 * dispatched, so no consume-queue entry or read can reach it; an orderly
 * close cuts it back to the last whole record, and abnormal recovery cuts it
 * anyway (the CRC of a torn record does not match). */
#include <stdlib.h>

#include "broker/store/store_int.h"

int tern_store_read_raw(tern_store_t *s, int64_t phys, size_t max, const uint8_t **p, size_t *n) {
  *p = NULL;
  *n = 0;
  int64_t end = atomic_load_explicit(&s->clog_written, memory_order_acquire);
  if (phys < 0 || phys > end) return TERN_ENOTFOUND;
  if (phys == end) return TERN_OK;
  mfile_t *f = fq_find(&s->clog, phys);
  if (!f) return TERN_ENOTFOUND;
  int64_t pos = phys - f->from;
  int64_t wrote = atomic_load_explicit(&f->wrote, memory_order_acquire);
  if (pos >= wrote) return TERN_OK;
  int64_t k = wrote - pos;
  if ((uint64_t)k > max) k = (int64_t)max;
  *p = f->base + pos;
  *n = (size_t)k;
  return TERN_OK;
}

int replica_dispatch(tern_store_t *s, tern_store_record_fn on_record, void *ctx, tern_err_t *err) {
  fqueue_t *q = &s->clog;
  int64_t end = atomic_load_explicit(&s->clog_written, memory_order_acquire);
  while (s->reput_offset < end) {
    int64_t at = s->reput_offset;
    mfile_t *f = fq_find(q, at);
    if (!f) return tern_fail(err, TERN_EINVAL, "replicated offset outside the commit log", NULL, 0);
    int64_t in = at - f->from;
    int64_t avail = atomic_load_explicit(&f->wrote, memory_order_acquire) - in;
    int64_t room = f->size - in;
    if (room < TERN_MSG_BLANK_SIZE) {
      /* a master always leaves room for a blank filler */
      tern_store_corrupt(s, f->path, in, "replicated data leaves no room for a blank filler");
      return tern_fail(err, TERN_EINVAL, "replicated data leaves no room for a blank filler", NULL, (size_t)in);
    }
    if (avail < TERN_MSG_BLANK_SIZE) break; /* the rest of the header is still on its way */
    const uint8_t *p = f->base + in;
    int32_t total = (int32_t)tern_load_be32(p), magic = (int32_t)tern_load_be32(p + 4);
    if (magic == TERN_MSG_MAGIC_BLANK) {
      if (total != room) {
        tern_store_corrupt(s, f->path, in, "replicated blank filler does not reach the end of the file");
        return tern_fail(err, TERN_EINVAL, "replicated blank filler does not reach the end of the file", NULL,
                         (size_t)in);
      }
      if (avail < room) break; /* the filler's bytes are still arriving */
      s->reput_offset = f->from + f->size;
      continue;
    }
    if ((magic != TERN_MSG_MAGIC_V1 && magic != TERN_MSG_MAGIC_V2) || total <= 0 ||
        (int64_t)total + TERN_END_FILE_MIN_BLANK > room) {
      tern_store_corrupt(s, f->path, in, "replicated bytes are not a record");
      return tern_fail(err, TERN_EINVAL, "replicated bytes are not a record", NULL, (size_t)in);
    }
    if (avail < total) break; /* a partial record: wait for the rest */
    tern_msg_record_t r;
    tern_err_t derr = {0};
    if (tern_msg_record_decode(p, (size_t)total, &r, &derr) != 0 || r.physical_offset != at ||
        (s->cfg.check_crc_on_recover &&
         (int32_t)tern_crc32_body((const uint8_t *)r.body.p, r.body.n) != r.body_crc)) {
      const char *why = derr.reason ? derr.reason : "replicated record fails its offset or CRC check";
      tern_store_corrupt(s, f->path, in, why);
      return tern_fail(err, TERN_EINVAL, why, NULL, (size_t)in);
    }
    atomic_store_explicit(&s->clog_written_ts, r.store_timestamp, memory_order_release);
    int rc = dispatch_record(s, &r, at, false); /* sets reput_offset past the record */
    if (rc) {
      tern_store_logf(s, "store: dispatch of replicated record at %lld failed (%s); retried later", (long long)at,
                      tern_strerror(rc));
      return TERN_OK; /* not the master's fault: keep the connection, tick retries */
    }
    if (on_record) on_record(ctx, &r);
  }
  return TERN_OK;
}

/* Drops the log past the last dispatched record (a partial or invalid tail). */
static void cut_to_reput(tern_store_t *s) {
  int64_t end = atomic_load(&s->clog_written);
  if (s->reput_offset >= end || s->clog.n == 0) return;
  if (s->reput_offset < fq_min_offset(&s->clog)) return;
  tern_store_logf(s, "store: cutting %lld replicated bytes of an incomplete or invalid record at %lld",
                  (long long)(end - s->reput_offset), (long long)s->reput_offset);
  fq_truncate(&s->clog, s->reput_offset);
  atomic_store(&s->clog_written, s->reput_offset);
  if (atomic_load(&s->clog_flushed) > s->reput_offset) atomic_store(&s->clog_flushed, s->reput_offset);
}

int tern_store_append_raw(tern_store_t *s, int64_t phys, const uint8_t *p, size_t n, tern_store_record_fn on_record,
                          void *ctx, tern_err_t *err) {
  fqueue_t *q = &s->clog;
  if (atomic_load(&s->closing)) return tern_fail(err, TERN_ECLOSED, "store is shutting down", NULL, 0);
  int64_t end = atomic_load(&s->clog_written);
  if (q->n == 0 && end == 0 && phys != 0) {
    /* an empty slave starts where the master's transfer starts: a file start */
    if (phys < 0 || phys % q->file_size != 0)
      return tern_fail(err, TERN_EINVAL, "first replicated offset is not the start of a commit-log file", NULL, 0);
    atomic_store(&s->clog_written, phys);
    atomic_store(&s->clog_flushed, phys);
    s->reput_offset = phys;
    end = phys;
  }
  if (phys != end) return tern_fail(err, TERN_EINVAL, "replicated offset differs from the local max offset", NULL, 0);
  while (n > 0) {
    mfile_t *f = fq_last(q);
    if (!f || atomic_load_explicit(&f->wrote, memory_order_relaxed) >= f->size) {
      int rc = commitlog_roll(s, &f, err);
      if (rc) return rc;
    }
    int64_t pos = atomic_load_explicit(&f->wrote, memory_order_relaxed);
    size_t k = (size_t)(f->size - pos) < n ? (size_t)(f->size - pos) : n;
    memcpy(f->base + pos, p, k);
    atomic_store_explicit(&f->wrote, pos + (int64_t)k, memory_order_release);
    atomic_store_explicit(&s->clog_written, f->from + pos + (int64_t)k, memory_order_release);
    p += k;
    n -= k;
  }
  int rc = replica_dispatch(s, on_record, ctx, err);
  if (rc) cut_to_reput(s); /* bytes that are not records never stay in the log (nor count in the max offset) */
  return rc;
}

void replica_cut_partial(tern_store_t *s) {
  if (s->cfg.slave_mode) cut_to_reput(s);
}
