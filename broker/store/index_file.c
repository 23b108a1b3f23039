/* The index service: IndexFiles in index/, named by creation time
 * (yyyyMMddHHmmssSSS, local time), each a 40-byte header, a hash-slot table
 * and a fixed array of 20-byte entries chained per slot (newest first). Keys
 * are "topic#key" for every KEYS element and the UNIQ_KEY. Written by dispatch
 * on the owner thread; flushed when a file fills, about once a minute and at
 * shutdown (as RocketMQ does: the index is rebuilt from the log when lost). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "broker/store/store_int.h"

static int64_t slot_pos(int32_t slot) {
  return TERN_INDEX_HEADER_SIZE + (int64_t)slot * TERN_INDEX_HEADER_SLOT_SIZE;
}
static int64_t entry_pos(const ixservice_t *ix, int32_t k) {
  return TERN_INDEX_HEADER_SIZE + (int64_t)ix->slot_num * TERN_INDEX_HEADER_SLOT_SIZE +
         (int64_t)k * TERN_INDEX_ENTRY_SIZE;
}

static int push(ixservice_t *ix, ixfile_t *f) {
  ixfile_t **old = NULL;
  if (ix->n == ix->cap) {
    size_t nc = ix->cap ? ix->cap * 2 : 8;
    ixfile_t **nf = malloc(nc * sizeof *nf);
    if (!nf) return TERN_ENOMEM;
    if (ix->n) memcpy(nf, ix->files, ix->n * sizeof *nf);
    old = ix->files;
    pthread_mutex_lock(&ix->mu);
    ix->files = nf;
    ix->cap = nc;
    pthread_mutex_unlock(&ix->mu);
    free(old);
  }
  pthread_mutex_lock(&ix->mu);
  ix->files[ix->n++] = f;
  pthread_mutex_unlock(&ix->mu);
  return TERN_OK;
}

static bool index_name(const char *n) {
  if (strlen(n) != 17) return false;
  for (int i = 0; i < 17; i++)
    if (n[i] < '0' || n[i] > '9') return false;
  return true;
}

static int cmp_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void set_aside(const char *path) {
  if (!path) return;
  char bad[4200];
  snprintf(bad, sizeof bad, "%s.bad", path);
  rename(path, bad);
}

int ix_init(tern_store_t *s, tern_err_t *err) {
  ixservice_t *ix = &s->ix;
  ix->slot_num = s->cfg.max_hash_slot_num;
  ix->index_num = s->cfg.max_index_num;
  ix->file_size = entry_pos(ix, ix->index_num);
  pthread_mutex_init(&ix->mu, NULL);
  DIR *d = opendir(ix->dir);
  if (!d) return TERN_OK;
  char **names = NULL;
  size_t n = 0, cap = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (!index_name(de->d_name)) continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 8;
      char **nn = realloc(names, cap * sizeof *nn);
      if (!nn) break;
      names = nn;
    }
    names[n] = strdup(de->d_name);
    if (names[n]) n++;
  }
  closedir(d);
  if (n) qsort(names, n, sizeof *names, cmp_name);
  int rc = TERN_OK;
  for (size_t i = 0; i < n; i++) {
    char *path = tern_store_path_join(ix->dir, names[i]);
    mfile_t *m = NULL;
    tern_err_t ferr = {0};
    tern_index_header_t h;
    if (!path || mfile_open(path, 0, ix->file_size, false, &m, &ferr) != 0) {
      /* Derived data: a damaged index file is reported and set aside (renamed
       * <name>.bad for the operator), never fatal. */
      tern_store_corrupt(s, path ? path : names[i], 0, ferr.reason ? ferr.reason : "cannot open index file");
      set_aside(path);
      free(path);
      continue;
    }
    free(path);
    tern_index_header_decode(m->base, TERN_INDEX_HEADER_SIZE, &h, NULL);
    if (h.index_count < 1 || h.index_count > ix->index_num || h.hash_slot_count < 0 ||
        h.hash_slot_count > ix->slot_num) {
      tern_store_corrupt(s, m->path, 0, "index header out of range; file set aside");
      set_aside(m->path);
      mfile_close(m);
      continue;
    }
    ixfile_t *f = calloc(1, sizeof *f);
    if (!f || push(ix, f) != 0) {
      free(f);
      mfile_close(m);
      rc = tern_fail(err, TERN_ENOMEM, "out of memory", NULL, 0);
      break;
    }
    f->mf = m;
    f->hdr = h;
    atomic_store(&m->wrote, m->size);
    atomic_store(&m->flushed, m->size);
    f->flushed_full = h.index_count >= ix->index_num;
  }
  for (size_t i = 0; i < n; i++) free(names[i]);
  free(names);
  if (ix->n) ix->skip_below = ix->files[ix->n - 1]->hdr.end_phy_offset;
  return rc;
}

void ix_destroy(ixservice_t *ix) {
  for (size_t i = 0; i < ix->n; i++) {
    mfile_close(ix->files[i]->mf);
    free(ix->files[i]);
  }
  free(ix->files);
  ix->files = NULL;
  ix->n = ix->cap = 0;
  pthread_mutex_destroy(&ix->mu);
}

static int sync_file(ixfile_t *f) {
  if (fdatasync(f->mf->fd) != 0) return TERN_EIO;
  return TERN_OK;
}

static ixfile_t *new_file(tern_store_t *s) {
  ixservice_t *ix = &s->ix;
  int64_t now = tern_store_now(s);
  char name[96];
  char *path = NULL;
  mfile_t *m = NULL;
  tern_store_mkdirs(ix->dir);
  for (int tries = 0; tries < 1000 && !m; tries++, now++) {
    time_t secs = (time_t)(now / 1000);
    struct tm tm;
    localtime_r(&secs, &tm);
    snprintf(name, sizeof name, "%04d%02d%02d%02d%02d%02d%03d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec, (int)((now % 1000 + 1000) % 1000));
    free(path);
    path = tern_store_path_join(ix->dir, name);
    if (!path) return NULL;
    tern_err_t err = {0};
    if (mfile_open_ex(path, 0, ix->file_size, true, true, &m, &err) != 0) m = NULL;
  }
  free(path);
  if (!m) {
    tern_store_logf(s, "store: cannot create an index file in %s", ix->dir);
    return NULL;
  }
  ixfile_t *f = calloc(1, sizeof *f);
  if (!f || push(ix, f) != 0) {
    free(f);
    mfile_close(m);
    return NULL;
  }
  f->mf = m;
  f->hdr.index_count = 1;
  tern_index_header_encode(&f->hdr, m->base);
  return f;
}

int64_t ix_end_phy(tern_store_t *s) { return s->ix.n ? s->ix.files[s->ix.n - 1]->hdr.end_phy_offset : 0; }

int ix_put(tern_store_t *s, tern_str_t topic, tern_str_t key, int64_t phys, int64_t store_ts) {
  ixservice_t *ix = &s->ix;
  if (phys < ix->skip_below) return TERN_OK;
  ixfile_t *f = ix->n ? ix->files[ix->n - 1] : NULL;
  if (!f || f->hdr.index_count >= ix->index_num) {
    if (f && !f->flushed_full) {
      f->flushed_full = sync_file(f) == TERN_OK;
      atomic_store(&ix->flushed_ts, f->hdr.end_timestamp);
    }
    if (!(f = new_file(s))) return TERN_EIO;
  }
  uint8_t *b = f->mf->base;
  tern_index_header_t *h = &f->hdr;
  int32_t hash = tern_msg_index_key_hash(topic, key);
  int32_t slot = (int32_t)((uint32_t)hash % (uint32_t)ix->slot_num);
  int32_t prev = (int32_t)tern_load_be32(b + slot_pos(slot));
  if (prev == h->index_count) {
    /* Left by a put torn between its slot and header writes: that entry
     * was written first and still holds the real previous link. */
    prev = (int32_t)tern_load_be32(b + entry_pos(ix, prev) + TERN_INDEX_ENTRY_OFF_PREV_INDEX);
  }
  bool fresh_slot = prev <= 0 || prev >= h->index_count;
  if (fresh_slot) prev = 0;
  int64_t diff = 0;
  if (h->begin_timestamp > 0) {
    diff = (store_ts - h->begin_timestamp) / 1000;
    if (diff < 0) diff = 0;
    if (diff > INT32_MAX) diff = INT32_MAX;
  }
  tern_index_entry_t e = {hash, phys, (int32_t)diff, prev};
  tern_index_entry_encode(&e, b + entry_pos(ix, h->index_count));
  tern_store_be32(b + slot_pos(slot), (uint32_t)h->index_count);
  if (h->index_count <= 1) {
    h->begin_phy_offset = phys;
    h->begin_timestamp = store_ts;
  }
  if (fresh_slot) h->hash_slot_count++;
  h->index_count++;
  h->end_phy_offset = phys;
  h->end_timestamp = store_ts;
  tern_index_header_encode(h, b);
  atomic_store_explicit(&ix->end_ts, store_ts, memory_order_release);
  return TERN_OK;
}

static bool time_matched(const tern_index_header_t *h, int64_t begin, int64_t end) {
  return (begin < h->begin_timestamp && end > h->end_timestamp) ||
         (begin >= h->begin_timestamp && begin <= h->end_timestamp) ||
         (end >= h->begin_timestamp && end <= h->end_timestamp);
}

size_t ix_query(tern_store_t *s, tern_str_t topic, tern_str_t key, size_t max, int64_t begin, int64_t end,
                int64_t *phys_out) {
  ixservice_t *ix = &s->ix;
  size_t n = 0;
  int32_t hash = tern_msg_index_key_hash(topic, key);
  int32_t slot = (int32_t)((uint32_t)hash % (uint32_t)ix->slot_num);
  for (size_t fi = ix->n; fi-- > 0 && n < max;) {
    ixfile_t *f = ix->files[fi];
    const tern_index_header_t *h = &f->hdr;
    const uint8_t *b = f->mf->base;
    if (time_matched(h, begin, end)) {
      int32_t cur = (int32_t)tern_load_be32(b + slot_pos(slot));
      /* bounded walk: a damaged chain may loop */
      for (int32_t steps = 0; cur > 0 && cur < h->index_count && steps < h->index_count && n < max; steps++) {
        tern_index_entry_t e;
        tern_index_entry_decode(b + entry_pos(ix, cur), TERN_INDEX_ENTRY_SIZE, &e, NULL);
        if (e.time_diff < 0) break;
        int64_t t = h->begin_timestamp + (int64_t)e.time_diff * 1000;
        if (e.key_hash == hash && t >= begin && t <= end) {
          bool dup = false;
          for (size_t i = 0; i < n && !dup; i++) dup = phys_out[i] == e.phys_offset;
          if (!dup) phys_out[n++] = e.phys_offset;
        }
        if (e.prev_index <= 0 || e.prev_index >= h->index_count || e.prev_index == cur || t < begin) break;
        cur = e.prev_index;
      }
    }
    if (h->begin_timestamp < begin) break;
  }
  return n;
}

void ix_flush(tern_store_t *s, bool force) {
  ixservice_t *ix = &s->ix;
  int64_t now = tern_store_now(s);
  if (!force && now - ix->last_flush_ms < 60000) return;
  ix->last_flush_ms = now;
  pthread_mutex_lock(&ix->mu);
  if (ix->n) {
    /* the time first: the sync then covers at least the entries up to it */
    int64_t ts = atomic_load_explicit(&ix->end_ts, memory_order_acquire);
    if (sync_file(ix->files[ix->n - 1]) == TERN_OK && ts > 0) atomic_store(&ix->flushed_ts, ts);
  }
  pthread_mutex_unlock(&ix->mu);
}

void ix_delete_expired(tern_store_t *s, int64_t clog_min) {
  ixservice_t *ix = &s->ix;
  while (ix->n > 1 && ix->files[0]->hdr.end_phy_offset < clog_min) {
    ixfile_t *f = ix->files[0];
    pthread_mutex_lock(&ix->mu);
    memmove(ix->files, ix->files + 1, (ix->n - 1) * sizeof *ix->files);
    ix->n--;
    pthread_mutex_unlock(&ix->mu);
    tern_store_logf(s, "store: deleting index file %s (ends below commit-log min %lld)", f->mf->path,
                    (long long)clog_min);
    unlink(f->mf->path);
    mfile_close(f->mf);
    free(f);
  }
}

void ix_truncate_phys(tern_store_t *s, int64_t clog_max) {
  /* Entries past the log end stay (queries verify every hit against the
   * log) but must not stop the records that now take those offsets from
   * being indexed. */
  if (s->ix.skip_below > clog_max) s->ix.skip_below = clog_max;
}
