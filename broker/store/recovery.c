/* Startup recovery (reference 7.7). Clean exit (no `abort` file) with the
 * commit-log end recorded in the checkpoint: trust it, no scan. Clean exit
 * without it (e.g. a store left by another broker): validate the last three
 * files. Abnormal exit: start at the newest file whose first record is older
 * than the checkpoint's flushed times minus 3 s, validate every record
 * (magic, sizes, physical offset, BODYCRC), re-dispatch it, and cut the log at
 * the first invalid byte: a torn record is never exposed. Then consume queues
 * are cut back to the log end and every record past the furthest dispatched
 * one is dispatched again (dispatch is idempotent). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/store/store_int.h"

/* A short last commit-log file (truncated by a crash or by hand) is grown
 * back to full size so its valid prefix can be recovered; a short file
 * anywhere else cannot be repaired and stops the start-up. */
static int repair_short_files(tern_store_t *s, tern_err_t *err) {
  char last[4096] = "";
  DIR *d = opendir(s->clog_dir);
  if (!d) return TERN_OK;
  struct dirent *de;
  while ((de = readdir(d)) != NULL)
    if (strlen(de->d_name) == 20 && strspn(de->d_name, "0123456789") == 20 && strcmp(de->d_name, last) > 0)
      snprintf(last, sizeof last, "%s", de->d_name);
  closedir(d);
  if (!last[0]) return TERN_OK;
  char *path = tern_store_path_join(s->clog_dir, last);
  if (!path) return tern_fail(err, TERN_ENOMEM, "out of memory", NULL, 0);
  struct stat st;
  int rc = TERN_OK;
  if (stat(path, &st) == 0 && st.st_size < s->cfg.mapped_file_size_commit_log) {
    tern_store_corrupt(s, path, st.st_size, "commit-log file shorter than mappedFileSizeCommitLog; zero-extending");
    s->last_exit_ok = false; /* the recorded end can no longer be trusted: scan */
    if (truncate(path, (off_t)s->cfg.mapped_file_size_commit_log) != 0)
      rc = tern_fail(err, TERN_EIO, "cannot extend a short commit-log file", NULL, (size_t)st.st_size);
  }
  free(path);
  return rc;
}

/* Walks records from `from`; with validate, stops at the first invalid one
 * (reporting it); with redispatch, dispatches each. Returns the offset just
 * past the last valid record and its store time. */
static int64_t walk(tern_store_t *s, int64_t from, bool validate, bool redispatch, int64_t *last_ts, bool *cut) {
  fqueue_t *q = &s->clog;
  *cut = false;
  mfile_t *f = fq_find(q, from);
  if (!f) return from;
  size_t i = (size_t)((f->from - q->files[0]->from) / q->file_size);
  int64_t pos = from - f->from;
  for (; i < q->n; i++, pos = 0) {
    f = q->files[i];
    for (;;) {
      tern_msg_record_t r;
      int32_t size;
      const char *why;
      int k = clog_check_at(s, f, pos, validate && s->cfg.check_crc_on_recover, &r, &size, &why);
      if (k == 2) break; /* blank: next file */
      if (k == 0) {
        /* zeros or no room: the end, unless this file is full and more follow */
        if (f->size - pos < TERN_MSG_BLANK_SIZE && i + 1 < q->n) break;
        return f->from + pos;
      }
      if (k < 0) {
        tern_store_corrupt(s, f->path, pos, why);
        *cut = true;
        return f->from + pos;
      }
      if (redispatch) dispatch_record(s, &r, f->from + pos, true);
      *last_ts = r.store_timestamp;
      pos += size;
    }
  }
  mfile_t *l = fq_last(q);
  return l->from + l->size;
}

/* Abnormal recovery starts at the newest file whose first record is older
 * than what the checkpoint says is durable everywhere. */
static size_t abnormal_start(tern_store_t *s) {
  fqueue_t *q = &s->clog;
  int64_t lim = s->ckpt_v.physic_msg_timestamp;
  if (s->ckpt_v.logics_msg_timestamp < lim) lim = s->ckpt_v.logics_msg_timestamp;
  lim -= 3000;
  for (size_t i = q->n; i-- > 0;) {
    tern_msg_record_t r;
    int32_t size;
    const char *why;
    if (clog_check_at(s, q->files[i], 0, false, &r, &size, &why) == 1 && r.store_timestamp <= lim) return i;
  }
  return 0;
}

int store_recover(tern_store_t *s, tern_err_t *err) {
  int rc = repair_short_files(s, err);
  if (rc) return rc;
  if ((rc = fq_load(&s->clog, err)) != 0) return rc;
  if ((rc = ix_init(s, err)) != 0) return rc;
  if ((rc = cq_load_all(s, err)) != 0) return rc;
  fqueue_t *q = &s->clog;
  int64_t end = 0, last_ts = 0, scan_from = 0;
  bool cut = false, scanned = false;
  if (q->n) {
    mfile_t *l = fq_last(q);
    int64_t conf = s->ckpt_v.confirm_phy_offset;
    /* trusted only when both offsets an orderly shutdown writes agree and
     * nothing was written past it */
    bool conf_ok = s->last_exit_ok && conf == s->ckpt_v.master_flushed_offset && conf >= l->from &&
                   conf <= l->from + l->size &&
                   (conf == l->from + l->size || conf - l->from + 4 > l->size ||
                    tern_load_be32(l->base + (conf - l->from)) == 0) &&
                   conf >= q->files[0]->from;
    if (conf_ok) {
      end = conf;
      scan_from = conf;
      last_ts = s->ckpt_v.physic_msg_timestamp;
    } else if (s->last_exit_ok) {
      size_t i = q->n >= 3 ? q->n - 3 : 0;
      scan_from = q->files[i]->from;
      end = walk(s, scan_from, true, false, &last_ts, &cut);
      scanned = true;
    } else {
      scan_from = q->files[abnormal_start(s)]->from;
      tern_store_logf(s, "store: abnormal exit detected; recovering the commit log from offset %lld",
                      (long long)scan_from);
      /* validate first, dispatch after the consume queues are cut to the end */
      end = walk(s, scan_from, true, false, &last_ts, &cut);
      scanned = true;
    }
    mfile_t *cf = fq_find(q, end);
    int64_t file_end = (cf ? cf->from + cf->size : end);
    if (cut) s->st_truncated = file_end - end;
    if (scanned && cut)
      tern_store_logf(s, "store: commit log ends at offset %lld; cutting what follows", (long long)end);
    fq_truncate(q, end);
    /* fq_truncate leaves earlier files full; the file holding `end` now says where writing resumes */
  }
  s->st_recovered_from = scan_from;
  atomic_store(&s->clog_written, end);
  atomic_store(&s->clog_flushed, end);
  atomic_store(&s->clog_written_ts, last_ts);
  atomic_store(&s->clog_flushed_ts, last_ts);
  if (q->n) {
    /* the files after the one holding `end` were deleted; files before are full */
    mfile_t *l = fq_last(q);
    if (end >= l->from + l->size) atomic_store(&l->wrote, l->size);
    atomic_store(&l->flushed, atomic_load(&l->wrote));
  }

  int64_t clog_min = fq_min_offset(q);
  int64_t reput = -1, lagging = INT64_MAX;
  size_t nq = cq_registry_count(s);
  for (size_t i = 0; i < nq; i++) {
    cqueue_t *c = cq_registry_at(s, i);
    cq_recover(s, c);
    cq_truncate_phys(s, c, end);
    cq_correct_min(s, c, clog_min);
    if (c->max_phys_end > reput) reput = c->max_phys_end;
  }
  /* queues cut because of damage are rebuilt from their last good entry */
  for (size_t i = 0; i < nq; i++) {
    cqueue_t *c = cq_registry_at(s, i);
    if (c->fq.n && c->max_phys_end >= 0 && c->rebuild && c->max_phys_end < lagging) lagging = c->max_phys_end;
    if (c->rebuild && c->max_phys_end < 0 && clog_min < lagging) lagging = clog_min;
    c->rebuild = false;
  }
  if (reput < 0) reput = clog_min;
  if (lagging < reput) reput = lagging;
  if (!s->last_exit_ok && scan_from < reput) reput = scan_from;
  if (reput < clog_min) reput = clog_min;
  ix_truncate_phys(s, end);
  s->reput_offset = reput;
  if (reput < end) {
    bool c2;
    int64_t ts2 = 0;
    tern_store_logf(s, "store: dispatching commit log [%lld, %lld) to consume queues and index", (long long)reput,
                    (long long)end);
    walk(s, reput, false, true, &ts2, &c2);
  }
  s->reput_offset = end;
  return TERN_OK;
}
