/* The commit log: records appended back to back in 20-digit-named mapped files
 * by a single writer (the owner thread), a blank filler when a record does not
 * fit the rest of a file, and record lookup by physical offset.
 *
 * Commit protocol: the record is encoded straight into the mapping with a
 * deliberately wrong BODYCRC; only when every byte is in place is the real CRC
 * stored (one 4-byte store after a release fence) and the write position
 * published. A process killed mid-encode therefore leaves a record whose CRC
 * does not match, which recovery treats as the torn tail; readers in the
 * running process only see bytes below the published position. */
#include <stdlib.h>

#include "broker/store/store_int.h"

int commitlog_roll(tern_store_t *s, mfile_t **out, tern_err_t *err) {
  fqueue_t *q = &s->clog;
  mfile_t *last = fq_last(q);
  int64_t from = last ? last->from + q->file_size
                      : atomic_load(&s->clog_written) / q->file_size * q->file_size;
  mfile_t *prep = alloc_take(&s->alloc, from);
  int rc = fq_add(q, from, prep, out, err);
  if (rc) return rc;
  if (!last) atomic_store(&(*out)->wrote, atomic_load(&s->clog_written) - from);
  char name[21];
  tern_store_offset_name(from + q->file_size, name);
  char *path = tern_store_path_join(q->dir, name);
  if (path) {
    alloc_request(&s->alloc, path, from + q->file_size, q->file_size);
    free(path);
  }
  return TERN_OK;
}

static void put_fail(tern_put_result_t *res, tern_put_status_t st, const char *why) {
  res->status = st;
  res->reason = why;
}

int clog_check(tern_store_t *s, const tern_msg_record_t *r, tern_put_result_t *res, uint32_t *size_out) {
  if (r->topic.n == 0 || r->topic.n > TERN_MSG_TOPIC_MAX_V1) {
    put_fail(res, TERN_PUT_MESSAGE_ILLEGAL, "topic length must be 1..127 bytes");
    return TERN_EINVAL;
  }
  if (r->queue_id < 0) {
    put_fail(res, TERN_PUT_MESSAGE_ILLEGAL, "negative queue id");
    return TERN_EINVAL;
  }
  if (r->properties.n > TERN_MSG_PROPS_MAX) {
    put_fail(res, TERN_PUT_PROPERTIES_SIZE_EXCEEDED, "properties longer than 32767 bytes");
    return TERN_ETOOBIG;
  }
  if (r->body.n > (size_t)s->cfg.max_message_size) {
    put_fail(res, TERN_PUT_MESSAGE_ILLEGAL, "body longer than maxMessageSize");
    return TERN_ETOOBIG;
  }
  if ((r->born_host.ip_len != 4 && r->born_host.ip_len != 16) ||
      (r->store_host.ip_len != 4 && r->store_host.ip_len != 16)) {
    put_fail(res, TERN_PUT_MESSAGE_ILLEGAL, "host address must be IPv4 or IPv6");
    return TERN_EINVAL;
  }
  tern_msg_record_t t = *r;
  t.magic = TERN_MSG_MAGIC_V1;
  t.sys_flag &= ~(TERN_SYSFLAG_BORNHOST_V6 | TERN_SYSFLAG_STOREHOSTADDRESS_V6);
  if (t.born_host.ip_len == 16) t.sys_flag |= TERN_SYSFLAG_BORNHOST_V6;
  if (t.store_host.ip_len == 16) t.sys_flag |= TERN_SYSFLAG_STOREHOSTADDRESS_V6;
  uint32_t size = tern_msg_record_size(&t);
  if (size == UINT32_MAX || (int64_t)size + TERN_END_FILE_MIN_BLANK > s->clog.file_size) {
    put_fail(res, TERN_PUT_MESSAGE_ILLEGAL, "record larger than a commit-log file");
    return TERN_ETOOBIG;
  }
  if (size_out) *size_out = size;
  return TERN_OK;
}

/* Writes the blank filler at the end of file f and starts the next file. */
static int fill_and_roll(tern_store_t *s, mfile_t **f, tern_err_t *err) {
  int64_t pos = atomic_load_explicit(&(*f)->wrote, memory_order_relaxed);
  if (s->reput_offset == (*f)->from + pos) s->reput_offset = (*f)->from + (*f)->size; /* nothing to dispatch in a blank */
  tern_msg_blank_encode((*f)->base + pos, (size_t)((*f)->size - pos), (int32_t)((*f)->size - pos));
  atomic_store_explicit(&(*f)->wrote, (*f)->size, memory_order_release);
  atomic_store_explicit(&s->clog_written, (*f)->from + (*f)->size, memory_order_release);
  return commitlog_roll(s, f, err);
}

int clog_reserve(tern_store_t *s, int64_t total, tern_put_result_t *res) {
  mfile_t *f = fq_last(&s->clog);
  if (!f || total + TERN_END_FILE_MIN_BLANK > f->size) return TERN_OK;
  int64_t pos = atomic_load_explicit(&f->wrote, memory_order_relaxed);
  if (pos >= f->size || pos + total + TERN_END_FILE_MIN_BLANK <= f->size) return TERN_OK;
  tern_err_t err = {0};
  if (fill_and_roll(s, &f, &err)) {
    put_fail(res, TERN_PUT_CREATE_MAPPED_FILE_FAILED, err.reason ? err.reason : "cannot create commit-log file");
    return TERN_EIO;
  }
  return TERN_OK;
}

int clog_append(tern_store_t *s, tern_msg_record_t *r, cqueue_t *cq, tern_put_result_t *res) {
  r->magic = TERN_MSG_MAGIC_V1;
  r->sys_flag &= ~(TERN_SYSFLAG_BORNHOST_V6 | TERN_SYSFLAG_STOREHOSTADDRESS_V6);
  if (r->born_host.ip_len == 16) r->sys_flag |= TERN_SYSFLAG_BORNHOST_V6;
  if (r->store_host.ip_len == 16) r->sys_flag |= TERN_SYSFLAG_STOREHOSTADDRESS_V6;
  uint32_t size = tern_msg_record_size(r);
  if (size == UINT32_MAX || (int64_t)size + TERN_END_FILE_MIN_BLANK > s->clog.file_size) {
    put_fail(res, TERN_PUT_MESSAGE_ILLEGAL, "record larger than a commit-log file");
    return TERN_ETOOBIG;
  }
  r->total_size = (int32_t)size;
  int32_t crc = (int32_t)tern_crc32_body((const uint8_t *)r->body.p, r->body.n);
  int32_t tran = tern_sysflag_transaction(r->sys_flag);
  bool queued = tran == TERN_SYSFLAG_TRANSACTION_NOT_TYPE || tran == TERN_SYSFLAG_TRANSACTION_COMMIT_TYPE;
  r->queue_offset = queued ? cq->next_assign : 0;

  tern_err_t err = {0};
  mfile_t *f = fq_last(&s->clog);
  if (!f || atomic_load_explicit(&f->wrote, memory_order_relaxed) >= f->size) {
    if (commitlog_roll(s, &f, &err)) {
      put_fail(res, TERN_PUT_CREATE_MAPPED_FILE_FAILED, err.reason ? err.reason : "cannot create commit-log file");
      return TERN_EIO;
    }
  }
  int64_t pos = atomic_load_explicit(&f->wrote, memory_order_relaxed);
  if (pos + (int64_t)size + TERN_END_FILE_MIN_BLANK > f->size) {
    /* Fill the rest of this file with a blank and start the next one. */
    if (fill_and_roll(s, &f, &err)) {
      put_fail(res, TERN_PUT_CREATE_MAPPED_FILE_FAILED, err.reason ? err.reason : "cannot create commit-log file");
      return TERN_EIO;
    }
    pos = 0;
  }
  r->physical_offset = f->from + pos;
  r->store_timestamp = tern_store_now(s);
  r->body_crc = (int32_t)(~(uint32_t)crc & 0x7FFFFFFFu); /* placeholder: differs from the real CRC */
  uint8_t *dst = f->base + pos;
  if (tern_msg_record_encode(r, dst, (size_t)(f->size - pos)) != 0) {
    memset(dst, 0, size < (uint32_t)(f->size - pos) ? size : (size_t)(f->size - pos));
    put_fail(res, TERN_PUT_MESSAGE_ILLEGAL, "record does not encode");
    return TERN_EINVAL;
  }
  atomic_thread_fence(memory_order_release);
  uint8_t crcb[4];
  tern_store_be32(crcb, (uint32_t)crc);
  memcpy(dst + TERN_MSG_OFF_BODY_CRC, crcb, 4); /* the commit point */
  r->body_crc = crc;
  atomic_store_explicit(&s->clog_written_ts, r->store_timestamp, memory_order_release);
  atomic_store_explicit(&f->wrote, pos + size, memory_order_release);
  atomic_store_explicit(&s->clog_written, r->physical_offset + size, memory_order_release);
  if (queued) cq->next_assign++;

  if (res->msg_num == 0) {
    res->wrote_offset = r->physical_offset;
    res->queue_offset = r->queue_offset;
    res->store_timestamp = r->store_timestamp;
  }
  res->msg_num++;
  res->wrote_bytes += (int32_t)size;
  res->end_offset = r->physical_offset + size;
  return TERN_OK;
}

int clog_read(tern_store_t *s, int64_t phys, int32_t expect_size, tern_store_span_t *span, tern_msg_record_t *rec,
              tern_err_t *err) {
  if (phys < fq_min_offset(&s->clog) || phys >= atomic_load_explicit(&s->clog_written, memory_order_acquire))
    return tern_fail(err, TERN_ENOTFOUND, "offset outside the commit log", NULL, 0);
  mfile_t *f = fq_find(&s->clog, phys);
  if (!f) return tern_fail(err, TERN_ENOTFOUND, "offset outside the commit log", NULL, 0);
  int64_t pos = phys - f->from;
  int64_t avail = atomic_load_explicit(&f->wrote, memory_order_acquire) - pos;
  tern_err_t derr = {0};
  if (avail <= 0 || tern_msg_record_decode(f->base + pos, (size_t)avail, rec, &derr) != 0) {
    tern_store_corrupt(s, f->path, pos, derr.reason ? derr.reason : "no record at this offset");
    return tern_fail(err, TERN_ECORRUPT, "no valid record at this offset", NULL, (size_t)pos);
  }
  if (tern_msg_record_is_blank(rec) || rec->physical_offset != phys ||
      (expect_size >= 0 && rec->total_size != expect_size)) {
    tern_store_corrupt(s, f->path, pos, "record does not match its offset or size");
    return tern_fail(err, TERN_ECORRUPT, "record does not match its offset or size", NULL, (size_t)pos);
  }
  span->p = f->base + pos;
  span->len = (uint32_t)rec->total_size;
  span->phys_offset = phys;
  span->queue_offset = rec->queue_offset;
  return TERN_OK;
}

int clog_check_at(tern_store_t *s, mfile_t *f, int64_t pos, bool check_crc, tern_msg_record_t *rec, int32_t *size,
                  const char **why) {
  TERN_UNUSED(s);
  *why = NULL;
  *size = 0;
  int64_t avail = f->size - pos;
  if (avail < TERN_MSG_BLANK_SIZE) return 0; /* too little room for anything: end of this file */
  const uint8_t *p = f->base + pos;
  int32_t total = (int32_t)tern_load_be32(p), magic = (int32_t)tern_load_be32(p + 4);
  if (total == 0 && magic == 0) return 0;
  if (magic == TERN_MSG_MAGIC_BLANK) {
    if (total != avail) {
      *why = "blank filler does not reach the end of the file";
      return -1;
    }
    *size = total;
    return 2;
  }
  tern_err_t err = {0};
  if (tern_msg_record_decode(p, (size_t)avail, rec, &err) != 0) {
    *why = err.reason ? err.reason : "malformed record";
    return -1;
  }
  if (rec->physical_offset != f->from + pos) {
    *why = "PHYSICALOFFSET differs from the record's position";
    return -1;
  }
  if (check_crc && (int32_t)tern_crc32_body((const uint8_t *)rec->body.p, rec->body.n) != rec->body_crc) {
    *why = "BODYCRC mismatch";
    return -1;
  }
  *size = rec->total_size;
  return 1;
}
