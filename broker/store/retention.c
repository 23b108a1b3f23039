/* Retention and disk safety (RocketMQ's CleanCommitLogService and
 * CleanConsumeQueueService): at the deleteWhen hour, or whenever disk usage is
 * above diskMaxUsedSpaceRatio, commit-log files older than fileReservedTime
 * hours are deleted (at most 10 per tick, never the file being written); above
 * diskSpaceCleanForciblyRatio the oldest files go regardless of age; above
 * diskSpaceWarningLevelRatio writes are refused until usage falls. Consume
 * queue and index files wholly below the new commit-log minimum follow. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>

#include "broker/store/store_int.h"

double store_disk_ratio(tern_store_t *s, const char *path) {
  if (s->cfg.disk_used_ratio) return s->cfg.disk_used_ratio(s->cfg.hook_ctx, path);
  struct statvfs v;
  if (statvfs(path, &v) != 0 || v.f_blocks == 0) return -1;
  return 1.0 - (double)v.f_bavail / (double)v.f_blocks;
}

static bool delete_hour(const char *when, int hour) {
  const char *p = when;
  while (*p) {
    char *end;
    long h = strtol(p, &end, 10);
    if (end != p && h == hour) return true;
    p = end != p ? end : p + 1;
    while (*p == ';' || *p == ' ') p++;
  }
  return false;
}

static int64_t file_mtime_ms(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0) return 0;
  return (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
}

void retention_tick(tern_store_t *s) {
  int64_t now = tern_store_now(s);
  double ratio = store_disk_ratio(s, s->clog_dir);
  bool full = ratio * 100 > s->cfg.disk_space_warning_level_ratio;
  bool was_full = atomic_exchange(&s->disk_full, full);
  if (full != was_full)
    tern_store_logf(s, full ? "store: disk usage %.1f%% above %d%%: refusing writes"
                            : "store: disk usage %.1f%% back under %d%%: accepting writes",
                    ratio * 100, s->cfg.disk_space_warning_level_ratio);
  bool forcibly = ratio < 0 || ratio * 100 > s->cfg.disk_space_clean_forcibly_ratio;
  bool space = ratio < 0 || ratio * 100 > s->cfg.disk_max_used_space_ratio;
  time_t secs = (time_t)(now / 1000);
  struct tm tm;
  localtime_r(&secs, &tm);
  bool hour = delete_hour(s->delete_when, tm.tm_hour);
  bool at_once = s->cfg.clean_file_forcibly_enable && forcibly;
  int64_t grace = s->cfg.destroy_mapped_file_interval_forcibly;

  if (hour || space || at_once) {
    int64_t keep_ms = (int64_t)s->cfg.file_reserved_time * 3600 * 1000;
    int deleted = 0;
    while (s->clog.n > 1 && deleted < 10) {
      mfile_t *f = s->clog.files[0];
      int64_t mt = file_mtime_ms(f->path);
      if (!(now >= mt + keep_ms || at_once)) break;
      tern_store_logf(s, "store: deleting commit-log file %s (%s)", f->path,
                      now >= mt + keep_ms ? "older than fileReservedTime" : "disk above diskSpaceCleanForciblyRatio");
      fq_delete_first(&s->clog, now);
      deleted++;
    }
  }
  int64_t clog_min = fq_min_offset(&s->clog);
  size_t nq = cq_registry_count(s);
  for (size_t i = 0; i < nq; i++) {
    cqueue_t *c = cq_registry_at(s, i);
    cq_delete_expired(s, c, clog_min, now);
    fq_reap_retired(&c->fq, now, grace, false);
  }
  ix_delete_expired(s, clog_min);
  fq_reap_retired(&s->clog, now, grace, false);
}

void tern_store_tick(tern_store_t *s) {
  /* a slave's log may end in a partial replicated record: replica_dispatch stops there quietly */
  if ((s->cfg.slave_mode ? replica_dispatch(s, NULL, NULL, NULL) : dispatch_pending(s)) != TERN_OK) tern_store_logf(s, "store: dispatch still stopped at offset %lld", (long long)s->reput_offset);
  retention_tick(s);
}
