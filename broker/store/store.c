/* The store's public face: configuration defaults, open/close (directories,
 * lock file, checkpoint, recovery, threads), put (append + dispatch on the
 * caller's thread), and the lookups a broker serves: pull by queue offset,
 * by physical offset, by key, by time, min/max offsets. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "broker/store/store_int.h"

void tern_store_config_init(tern_store_config_t *c) {
  memset(c, 0, sizeof *c);
  c->mapped_file_size_commit_log = 1073741824;
  c->mapped_file_size_consume_queue = 300000 * TERN_CQ_ENTRY_SIZE;
  c->flush_disk_type = TERN_FLUSH_ASYNC;
  c->flush_interval_commit_log = 500;
  c->flush_commit_log_least_pages = 4;
  c->flush_commit_log_thorough_interval = 10000;
  c->flush_interval_consume_queue = 1000;
  c->sync_flush_timeout = 5000;
  c->file_reserved_time = 72;
  c->delete_when = "04";
  c->disk_max_used_space_ratio = 75;
  c->disk_space_clean_forcibly_ratio = 85;
  c->disk_space_warning_level_ratio = 90;
  c->clean_file_forcibly_enable = true;
  c->destroy_mapped_file_interval_forcibly = 120000;
  c->message_index_enable = true;
  c->max_hash_slot_num = TERN_INDEX_HEADER_DEFAULT_SLOT_NUM;
  c->max_index_num = TERN_INDEX_HEADER_DEFAULT_INDEX_NUM;
  c->max_message_size = 4194304;
  c->check_crc_on_recover = true;
  c->message_delay_level = "1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h";
  c->max_transfer_bytes_on_message_in_memory = 262144;
  c->max_transfer_count_on_message_in_memory = 32;
  c->max_transfer_bytes_on_message_in_disk = 65536;
  c->max_transfer_count_on_message_in_disk = 8;
  c->access_message_in_memory_max_ratio = 40;
}

const char *tern_put_status_name(tern_put_status_t s) {
  static const char *n[] = {"PUT_OK", "FLUSH_DISK_TIMEOUT", "SERVICE_NOT_AVAILABLE", "CREATE_MAPEDFILE_FAILED",
                            "MESSAGE_ILLEGAL", "PROPERTIES_SIZE_EXCEEDED", "UNKNOWN_ERROR"};
  return (unsigned)s < TERN_ARRAY_SIZE(n) ? n[s] : "UNKNOWN_ERROR";
}

const char *tern_get_status_name(tern_get_status_t s) {
  static const char *n[] = {"FOUND", "NO_MATCHED_MESSAGE", "MESSAGE_WAS_REMOVING", "OFFSET_FOUND_NULL",
                            "OFFSET_OVERFLOW_BADLY", "OFFSET_OVERFLOW_ONE", "OFFSET_TOO_SMALL",
                            "NO_MATCHED_LOGIC_QUEUE", "NO_MESSAGE_IN_QUEUE"};
  return (unsigned)s < TERN_ARRAY_SIZE(n) ? n[s] : "UNKNOWN";
}

int64_t tern_store_now(tern_store_t *s) {
  if (s->cfg.now_ms) return s->cfg.now_ms(s->cfg.hook_ctx);
  struct timeval tv;
  gettimeofday(&tv, NULL);
  return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

void tern_store_logf(tern_store_t *s, const char *fmt, ...) {
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (s && s->cfg.log)
    s->cfg.log(s->cfg.hook_ctx, line);
  else
    fprintf(stderr, "%s\n", line);
}

void tern_store_corrupt(tern_store_t *s, const char *file, int64_t off, const char *what) {
  atomic_fetch_add(&s->st_corruptions, 1);
  tern_store_logf(s, "store: corrupt data in %s at offset %lld: %s", file, (long long)off, what);
}

/* messageDelayLevel: space-separated numbers with a unit s, m, h or d
 * (ScheduleMessageService.parseDelayLevel). */
static int parse_delay_levels(tern_store_t *s, const char *text, tern_err_t *err) {
  const char *p = text;
  int32_t n = 0;
  while (*p) {
    while (*p == ' ') p++;
    if (!*p) break;
    char *end;
    long long v = strtoll(p, &end, 10);
    int64_t unit = *end == 's' ? 1000 : *end == 'm' ? 60000 : *end == 'h' ? 3600000 : *end == 'd' ? 86400000 : 0;
    if (end == p || v < 0 || v > 100000 || !unit || (end[1] != ' ' && end[1] != '\0') || n >= 64)
      return tern_fail(err, TERN_EINVAL, "messageDelayLevel is not a list like \"1s 5s 1m 2h\"", "messageDelayLevel",
                       (size_t)(p - text));
    s->delay_ms[++n] = v * unit;
    p = end + 1;
  }
  s->max_delay_level = n;
  return TERN_OK;
}

static int open_checkpoint(tern_store_t *s, tern_err_t *err) {
  int fd = open(s->checkpoint_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return tern_fail(err, TERN_EIO, "cannot open checkpoint", NULL, 0);
  struct stat st;
  if (fstat(fd, &st) != 0 || (st.st_size != TERN_CHECKPOINT_FILE_SIZE && ftruncate(fd, TERN_CHECKPOINT_FILE_SIZE) != 0)) {
    close(fd);
    return tern_fail(err, TERN_EIO, "cannot size checkpoint", NULL, 0);
  }
  void *p = mmap(NULL, TERN_CHECKPOINT_FILE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) {
    close(fd);
    return tern_fail(err, TERN_EIO, "cannot map checkpoint", NULL, 0);
  }
  s->ckpt_fd = fd;
  s->ckpt = p;
  tern_checkpoint_decode(s->ckpt, TERN_CHECKPOINT_FILE_SIZE, &s->ckpt_v, NULL);
  return TERN_OK;
}

static int take_lock(tern_store_t *s, tern_err_t *err) {
  int fd = open(s->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return tern_fail(err, TERN_EIO, "cannot open lock file", NULL, 0);
  struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
  if (fcntl(fd, F_SETLK, &fl) != 0) {
    close(fd);
    return tern_fail(err, TERN_EBUSY, "Lock failed,MQ already started", NULL, 0);
  }
  if (pwrite(fd, "lock", 4, 0) != 4) {
    close(fd);
    return tern_fail(err, TERN_EIO, "cannot write lock file", NULL, 0);
  }
  s->lock_fd = fd;
  return TERN_OK;
}

static void store_free(tern_store_t *s) {
  cq_free_all(s);
  fq_destroy(&s->clog);
  ix_destroy(&s->ix);
  if (s->ckpt) munmap(s->ckpt, TERN_CHECKPOINT_FILE_SIZE);
  if (s->ckpt_fd > 0) close(s->ckpt_fd);
  if (s->lock_fd > 0) close(s->lock_fd);
  free(s->root);
  free(s->clog_dir);
  free(s->cq_dir);
  free(s->index_dir);
  free(s->config_dir);
  free(s->checkpoint_path);
  free(s->abort_path);
  free(s->lock_path);
  free(s->delete_when);
  free(s->delay_levels);
  free(s->ix.dir);
  free(s);
}

int tern_store_open(const tern_store_config_t *cfg, tern_store_t **out, tern_err_t *err) {
  *out = NULL;
  if (!cfg->store_path_root_dir || !*cfg->store_path_root_dir)
    return tern_fail(err, TERN_EINVAL, "storePathRootDir is required", "storePathRootDir", 0);
  if (cfg->mapped_file_size_commit_log < 4096 || cfg->mapped_file_size_consume_queue < TERN_CQ_ENTRY_SIZE ||
      cfg->mapped_file_size_consume_queue % TERN_CQ_ENTRY_SIZE != 0)
    return tern_fail(err, TERN_EINVAL, "mapped file sizes too small or not a multiple of 20", NULL, 0);
  if (cfg->max_hash_slot_num <= 0 || cfg->max_index_num <= 1 || cfg->max_message_size <= 0 ||
      cfg->sync_flush_timeout <= 0 || cfg->flush_interval_commit_log <= 0 || cfg->flush_interval_consume_queue <= 0)
    return tern_fail(err, TERN_EINVAL, "non-positive store setting", NULL, 0);
  tern_store_t *s = calloc(1, sizeof *s);
  if (!s) return tern_fail(err, TERN_ENOMEM, "out of memory", NULL, 0);
  s->cfg = *cfg;
  s->root = strdup(cfg->store_path_root_dir);
  s->clog_dir = cfg->store_path_commit_log && *cfg->store_path_commit_log ? strdup(cfg->store_path_commit_log)
                                                                          : tern_store_path_join(s->root, "commitlog");
  s->cq_dir = tern_store_path_join(s->root, "consumequeue");
  s->ix.dir = tern_store_path_join(s->root, "index");
  s->config_dir = tern_store_path_join(s->root, "config");
  s->checkpoint_path = tern_store_path_join(s->root, "checkpoint");
  s->abort_path = tern_store_path_join(s->root, "abort");
  s->lock_path = tern_store_path_join(s->root, "lock");
  s->delete_when = strdup(cfg->delete_when ? cfg->delete_when : "04");
  s->delay_levels = strdup(cfg->message_delay_level ? cfg->message_delay_level : "");
  s->cfg.store_path_root_dir = s->root;
  s->cfg.store_path_commit_log = s->clog_dir;
  s->cfg.delete_when = s->delete_when;
  s->cfg.message_delay_level = s->delay_levels;
  s->ckpt_fd = -1;
  s->lock_fd = -1;
  long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
  s->ram_bytes = pages > 0 && psz > 0 ? (int64_t)pages * psz : (int64_t)1 << 32;
  int rc = TERN_OK;
  if (!s->root || !s->clog_dir || !s->cq_dir || !s->ix.dir || !s->config_dir || !s->checkpoint_path ||
      !s->abort_path || !s->lock_path || !s->delete_when || !s->delay_levels)
    rc = tern_fail(err, TERN_ENOMEM, "out of memory", NULL, 0);
  if (!rc) rc = parse_delay_levels(s, s->delay_levels, err);
  if (!rc && (tern_store_mkdirs(s->root) || tern_store_mkdirs(s->clog_dir) || tern_store_mkdirs(s->cq_dir) ||
              tern_store_mkdirs(s->config_dir)))
    rc = tern_fail(err, TERN_EIO, "cannot create store directories", NULL, 0);
  if (!rc) rc = fq_init(&s->clog, s, s->clog_dir, cfg->mapped_file_size_commit_log);
  if (!rc) rc = take_lock(s, err);
  if (!rc) rc = open_checkpoint(s, err);
  if (!rc) {
    s->last_exit_ok = access(s->abort_path, F_OK) != 0;
    rc = store_recover(s, err);
  }
  if (!rc) {
    int fd = open(s->abort_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
      rc = tern_fail(err, TERN_EIO, "cannot create abort file", NULL, 0);
    else
      close(fd);
    /* the old run's clean-exit offset no longer describes the log */
    s->ckpt_v.confirm_phy_offset = 0;
    tern_checkpoint_encode(&s->ckpt_v, s->ckpt);
    fdatasync(s->ckpt_fd);
  }
  /* SYNC_FLUSH always warms (README: group commits of written extents sync data only) */
  if (!rc && (rc = alloc_start(&s->alloc, cfg->warm_mapped_file_enable || cfg->flush_disk_type == TERN_FLUSH_SYNC)) !=
                 0)
    tern_fail(err, rc, "cannot start the allocator thread", NULL, 0);
  if (!rc && s->clog.n == 0) {
    /* an empty store: have the first file made (pre-faulted, warmed) by the allocator too */
    char name[21];
    tern_store_offset_name(atomic_load(&s->clog_written) / s->clog.file_size * s->clog.file_size, name);
    char *path = tern_store_path_join(s->clog_dir, name);
    if (path) alloc_request(&s->alloc, path, atomic_load(&s->clog_written) / s->clog.file_size * s->clog.file_size,
                            s->clog.file_size);
    free(path);
  }
  if (!rc && (rc = flusher_start(s)) != 0) tern_fail(err, rc, "cannot start the flush threads", NULL, 0);
  if (rc) {
    flusher_stop(s);
    alloc_stop(&s->alloc);
    store_free(s);
    return rc;
  }
  retention_tick(s); /* disk-full state from the start */
  *out = s;
  return TERN_OK;
}

void tern_store_close(tern_store_t *s) {
  if (!s) return;
  atomic_store(&s->closing, true);
  flusher_stop(s);
  alloc_stop(&s->alloc);
  replica_cut_partial(s); /* slave: no partial replicated record survives a clean exit */
  clog_flush(s, 0);
  cq_flush_all(s, true);
  if (atomic_load(&s->dispatched_ts) > 0) s->ckpt_v.logics_msg_timestamp = atomic_load(&s->dispatched_ts);
  ix_flush(s, true);
  checkpoint_write(s, true);
  unlink(s->abort_path);
  store_free(s);
}

static bool topic_ok(tern_str_t t) { return tern_topic_valid(t); }

int tern_store_put_batch(tern_store_t *s, const tern_store_msg_t *m, size_t n, tern_put_result_t *res) {
  memset(res, 0, sizeof *res);
  res->status = TERN_PUT_OK;
  if (atomic_load(&s->closing)) {
    res->status = TERN_PUT_SERVICE_NOT_AVAILABLE;
    res->reason = "store is shutting down";
    return TERN_ECLOSED;
  }
  if (s->cfg.slave_mode) { /* a slave's log is the master's copy (tern_store_append_raw) */
    res->status = TERN_PUT_SERVICE_NOT_AVAILABLE;
    res->reason = "messages are put to the slave";
    return TERN_EINVAL;
  }
  if (atomic_load(&s->disk_full)) {
    res->status = TERN_PUT_SERVICE_NOT_AVAILABLE;
    res->reason = "disk full: usage above diskSpaceWarningLevelRatio, writes refused";
    return TERN_EFULL;
  }
  if (n == 0) return TERN_OK;
  cqueue_t *cq = NULL;
  for (size_t i = 0; i < n; i++) {
    if (!topic_ok(m[i].topic) || m[i].queue_id < 0 ||
        (i > 0 && (!tern_str_eq(m[i].topic, m[0].topic) || m[i].queue_id != m[0].queue_id))) {
      res->status = TERN_PUT_MESSAGE_ILLEGAL;
      res->reason = i ? "a batch must have one topic and queue" : "invalid topic name or queue id";
      return TERN_EINVAL;
    }
  }
  /* Validate every record first, so a batch is stored whole or not at all. */
  int64_t total = 0;
  for (size_t i = 0; i < n; i++) {
    uint32_t size;
    int rc = clog_check(s, &m[i], res, &size);
    if (rc) return rc;
    total += size;
  }
  cq = cq_get_or_create(s, m[0].topic, m[0].queue_id);
  if (!cq) {
    res->status = TERN_PUT_UNKNOWN_ERROR;
    res->reason = "out of memory";
    return TERN_ENOMEM;
  }
  if (n > 1) {
    int rc = clog_reserve(s, total, res);
    if (rc) return rc;
  }
  int rc = TERN_OK;
  for (size_t i = 0; i < n && rc == TERN_OK; i++) {
    tern_msg_record_t r = m[i];
    rc = clog_append(s, &r, cq, res); /* a failure here: file creation; earlier records are stored */
    if (rc) break;
    /* Dispatch at once, from the record still in hand: no re-read, no thread
     * hop. If an earlier dispatch failed, catch up in log order instead. */
    int drc = s->reput_offset == r.physical_offset ? dispatch_record(s, &r, r.physical_offset, false)
                                                   : dispatch_pending(s);
    if (drc != 0)
      tern_store_logf(s, "store: dispatch stopped at offset %lld (%s); retried on the next put",
                      (long long)s->reput_offset, tern_strerror(drc));
  }
  return rc;
}

int tern_store_put(tern_store_t *s, const tern_store_msg_t *m, tern_put_result_t *res) {
  return tern_store_put_batch(s, m, 1, res);
}

static bool filter_match(const tern_store_filter_t *f, int64_t code) {
  if (!f) return true;
  if (f->n_codes) {
    bool hit = false;
    for (size_t i = 0; i < f->n_codes && !hit; i++) hit = f->codes[i] == (int32_t)code;
    if (!hit) return false;
  }
  return f->cb ? f->cb(f->ctx, code) : true;
}

int64_t tern_store_get_min_offset(tern_store_t *s, tern_str_t topic, int32_t qid) {
  cqueue_t *cq = cq_find(s, topic, qid);
  if (!cq) return 0;
  int64_t max = cq_max_offset(cq);
  return cq->min_logic < max ? cq->min_logic : max;
}

int64_t tern_store_get_max_offset(tern_store_t *s, tern_str_t topic, int32_t qid) {
  cqueue_t *cq = cq_find(s, topic, qid);
  return cq ? cq_max_offset(cq) : 0;
}

int64_t tern_store_commitlog_min_offset(tern_store_t *s) { return fq_min_offset(&s->clog); }
int64_t tern_store_commitlog_max_offset(tern_store_t *s) { return atomic_load(&s->clog_written); }

int tern_store_get_messages(tern_store_t *s, tern_str_t topic, int32_t qid, int64_t offset, int32_t max_msgs,
                            const tern_store_filter_t *filter, tern_get_result_t *res) {
  res->n = 0;
  res->bytes = 0;
  res->min_offset = res->max_offset = 0;
  res->suggest_pulling_from_slave = false;
  cqueue_t *cq = cq_find(s, topic, qid);
  if (!cq) {
    res->status = TERN_GET_NO_MATCHED_LOGIC_QUEUE;
    res->next_begin_offset = 0;
    return TERN_OK;
  }
  int64_t min = tern_store_get_min_offset(s, topic, qid), max = cq_max_offset(cq);
  res->min_offset = min;
  res->max_offset = max;
  if (max == 0) {
    res->status = TERN_GET_NO_MESSAGE_IN_QUEUE;
    res->next_begin_offset = 0;
    return TERN_OK;
  }
  if (offset < min) {
    res->status = TERN_GET_OFFSET_TOO_SMALL;
    res->next_begin_offset = min;
    return TERN_OK;
  }
  if (offset == max) {
    res->status = TERN_GET_OFFSET_OVERFLOW_ONE;
    res->next_begin_offset = offset;
    return TERN_OK;
  }
  if (offset > max) {
    res->status = TERN_GET_OFFSET_OVERFLOW_BADLY;
    res->next_begin_offset = max;
    return TERN_OK;
  }
  mfile_t *f = fq_find(&cq->fq, offset * TERN_CQ_ENTRY_SIZE);
  if (!f) {
    res->status = TERN_GET_OFFSET_FOUND_NULL;
    mfile_t *first = fq_first(&cq->fq);
    int64_t fs = cq->fq.file_size;
    int64_t next = (offset * TERN_CQ_ENTRY_SIZE / fs + 1) * fs / TERN_CQ_ENTRY_SIZE;
    res->next_begin_offset = first && next < first->from / TERN_CQ_ENTRY_SIZE ? first->from / TERN_CQ_ENTRY_SIZE : next;
    return TERN_OK;
  }
  if (max_msgs <= 0) max_msgs = 1;
  size_t want = (size_t)max_msgs < res->cap ? (size_t)max_msgs : res->cap;
  int64_t clog_min = fq_min_offset(&s->clog);
  int64_t pos = offset * TERN_CQ_ENTRY_SIZE - f->from;
  int64_t wrote = atomic_load_explicit(&f->wrote, memory_order_acquire);
  int64_t scan_limit = (int64_t)(max_msgs * TERN_CQ_ENTRY_SIZE > 16000 ? max_msgs * TERN_CQ_ENTRY_SIZE : 16000);
  int64_t scanned = 0;
  bool removing = false;
  /* DefaultMessageStore.checkInDiskByCommitOffset: data further behind the
   * log end than a share of RAM is assumed cold and pulled in smaller batches */
  int64_t clog_max = atomic_load_explicit(&s->clog_written, memory_order_acquire);
  int64_t hot = (int64_t)((double)s->ram_bytes * s->cfg.access_message_in_memory_max_ratio / 100.0);
  int64_t last_phys = clog_max;
  for (; pos + TERN_CQ_ENTRY_SIZE <= wrote && scanned < scan_limit; pos += TERN_CQ_ENTRY_SIZE, scanned += TERN_CQ_ENTRY_SIZE) {
    tern_cq_entry_t e;
    tern_cq_entry_decode(f->base + pos, TERN_CQ_ENTRY_SIZE, &e, NULL);
    if (e.size == TERN_CQ_ENTRY_BLANK_SIZE) continue;
    bool in_disk = clog_max - e.phys_offset > hot;
    size_t max_bytes = (size_t)(in_disk ? s->cfg.max_transfer_bytes_on_message_in_disk
                                        : s->cfg.max_transfer_bytes_on_message_in_memory);
    size_t max_count = (size_t)(in_disk ? s->cfg.max_transfer_count_on_message_in_disk
                                        : s->cfg.max_transfer_count_on_message_in_memory);
    if (res->n >= want) break;
    if (res->n > 0 && (res->bytes + (size_t)e.size > max_bytes || res->n >= max_count)) break;
    last_phys = e.phys_offset;
    if (e.phys_offset < clog_min) {
      removing = true;
      continue;
    }
    if (!filter_match(filter, e.tags_code)) continue;
    tern_store_span_t sp;
    tern_msg_record_t r;
    if (e.size <= 0 || clog_read(s, e.phys_offset, e.size, &sp, &r, NULL) != 0) {
      /* clog_read reported it; the entry does not name its record */
      if (e.size <= 0) tern_store_corrupt(s, f->path, pos, "consume-queue entry with a non-positive size");
      continue;
    }
    if (r.queue_id != qid || !tern_str_eq(r.topic, topic) || r.queue_offset != offset + scanned / TERN_CQ_ENTRY_SIZE) {
      tern_store_corrupt(s, f->path, pos, "consume-queue entry names a record of another queue");
      continue;
    }
    sp.queue_offset = offset + scanned / TERN_CQ_ENTRY_SIZE;
    res->spans[res->n++] = sp;
    res->bytes += sp.len;
  }
  res->next_begin_offset = offset + scanned / TERN_CQ_ENTRY_SIZE;
  res->suggest_pulling_from_slave = clog_max - last_phys > hot;
  res->status = res->n ? TERN_GET_FOUND : removing ? TERN_GET_MESSAGE_WAS_REMOVING : TERN_GET_NO_MATCHED_MESSAGE;
  return TERN_OK;
}

int tern_store_lookup_by_phys_offset(tern_store_t *s, int64_t phys, tern_store_span_t *span, tern_msg_record_t *rec,
                                     tern_err_t *err) {
  return clog_read(s, phys, -1, span, rec, err);
}

static bool record_has_key(const tern_msg_record_t *r, tern_str_t key) {
  tern_str_t v;
  if (tern_props_get(r->properties, TERN_PROP_UNIQ_KEY, &v) == TERN_OK && tern_str_eq(v, key)) return true;
  if (tern_props_get(r->properties, TERN_PROP_KEYS, &v) != TERN_OK) return false;
  size_t i = 0;
  while (i < v.n) {
    size_t j = i;
    while (j < v.n && v.p[j] != ' ') j++;
    if (j > i && tern_str_eq((tern_str_t){v.p + i, j - i}, key)) return true;
    i = j + 1;
  }
  return false;
}

int tern_store_query_by_key(tern_store_t *s, tern_str_t topic, tern_str_t key, int32_t max, int64_t begin_ms,
                            int64_t end_ms, tern_store_span_t *out, size_t *n) {
  *n = 0;
  if (max <= 0) return TERN_OK;
  if (max > 64 * 1024) max = 64 * 1024;
  int64_t *phys = malloc((size_t)max * 2 * sizeof *phys);
  if (!phys) return TERN_ENOMEM;
  /* ask for extra hits: some may be hash collisions that verification drops */
  size_t k = ix_query(s, topic, key, (size_t)max * 2, begin_ms, end_ms, phys);
  for (size_t i = 0; i < k && *n < (size_t)max; i++) {
    tern_store_span_t sp;
    tern_msg_record_t r;
    if (clog_read(s, phys[i], -1, &sp, &r, NULL) != 0) continue;
    if (!tern_str_eq(r.topic, topic) || !record_has_key(&r, key)) continue;
    out[(*n)++] = sp;
  }
  free(phys);
  return TERN_OK;
}

static int64_t entry_time(tern_store_t *s, cqueue_t *cq, int64_t q) {
  tern_cq_entry_t e;
  tern_store_span_t sp;
  tern_msg_record_t r;
  if (cq_entry_at(s, cq, q, &e) != 0 || e.size == TERN_CQ_ENTRY_BLANK_SIZE) return -1;
  if (clog_read(s, e.phys_offset, e.size, &sp, &r, NULL) != 0) return -1;
  return r.store_timestamp;
}

int64_t tern_store_search_offset_by_time(tern_store_t *s, tern_str_t topic, int32_t qid, int64_t ts) {
  cqueue_t *cq = cq_find(s, topic, qid);
  if (!cq) return 0;
  int64_t lo = tern_store_get_min_offset(s, topic, qid), hi = cq_max_offset(cq) - 1;
  /* skip entries whose records are gone */
  while (lo <= hi && entry_time(s, cq, lo) < 0) lo++;
  if (lo > hi) return 0;
  int64_t left = -1, right = -1, left_t = 0, right_t = 0;
  int64_t a = lo, b = hi;
  while (a <= b) {
    int64_t mid = a + (b - a) / 2;
    int64_t t = entry_time(s, cq, mid);
    if (t < 0) { /* unreadable entry: narrow from below */
      a = mid + 1;
      continue;
    }
    if (t == ts) return mid;
    if (t < ts) {
      left = mid;
      left_t = t;
      a = mid + 1;
    } else {
      right = mid;
      right_t = t;
      b = mid - 1;
    }
  }
  if (left < 0) return right;
  if (right < 0) return left;
  return ts - left_t > right_t - ts ? right : left; /* a tie goes left, as ConsumeQueue does */
}

int64_t tern_store_earliest_store_time(tern_store_t *s, tern_str_t topic, int32_t qid) {
  cqueue_t *cq = cq_find(s, topic, qid);
  if (!cq) return -1;
  int64_t max = cq_max_offset(cq);
  for (int64_t q = tern_store_get_min_offset(s, topic, qid); q < max; q++) {
    int64_t t = entry_time(s, cq, q);
    if (t >= 0) return t;
  }
  return -1;
}

int64_t tern_store_get_store_time(tern_store_t *s, tern_str_t topic, int32_t qid, int64_t queue_offset) {
  cqueue_t *cq = cq_find(s, topic, qid);
  if (!cq || queue_offset < 0 || queue_offset >= cq_max_offset(cq)) return -1;
  return entry_time(s, cq, queue_offset);
}

int tern_store_delete_topic(tern_store_t *s, tern_str_t topic) {
  if (!tern_topic_valid(topic)) return 0;
  int n = cq_delete_topic(s, topic, tern_store_now(s));
  if (n) tern_store_logf(s, "store: deleted %d consume queue(s) of topic " TERN_STR_FMT, n, TERN_STR_ARG(topic));
  return n;
}

void tern_store_get_stats(tern_store_t *s, tern_store_stats_t *st) {
  st->flush_rounds = atomic_load(&s->st_flush_rounds);
  st->sync_waiters_done = atomic_load(&s->st_waiters_done);
  st->recovered_from = s->st_recovered_from;
  st->recovery_truncated_bytes = s->st_truncated;
  st->last_exit_ok = s->last_exit_ok;
  st->corruptions = atomic_load(&s->st_corruptions);
}

bool tern_store_disk_full(tern_store_t *s) { return atomic_load(&s->disk_full); }
