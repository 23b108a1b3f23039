/* Consume queues: one per (topic, queue id), in consumequeue/<topic>/<id>/,
 * of fixed 20-byte entries (commit-log offset, size, tag hash). Queue offset n
 * is entry n of the queue's address space. Entries are written by dispatch on
 * the owner thread and are idempotent by queue offset, so recovery can
 * re-dispatch a range safely. The queues live in a hash table for the owner
 * thread and in an append-only registry the flush thread walks without a lock. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/store/store_int.h"

static uint64_t key_hash(tern_str_t topic, int32_t qid) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < topic.n; i++) h = (h ^ (uint8_t)topic.p[i]) * 1099511628211ull;
  h = (h ^ (uint32_t)qid) * 1099511628211ull;
  return h ^ (h >> 29);
}

cqueue_t *cq_find(tern_store_t *s, tern_str_t topic, int32_t qid) {
  if (!s->cq_tab_cap) return NULL;
  for (cqueue_t *c = s->cq_tab[key_hash(topic, qid) & (s->cq_tab_cap - 1)]; c; c = c->hnext)
    if (c->queue_id == qid && c->topic_len == topic.n && memcmp(c->topic, topic.p, topic.n) == 0) return c;
  return NULL;
}

static int tab_grow(tern_store_t *s) {
  size_t nc = s->cq_tab_cap ? s->cq_tab_cap * 2 : 64;
  cqueue_t **nt = calloc(nc, sizeof *nt);
  if (!nt) return TERN_ENOMEM;
  for (size_t i = 0; i < s->cq_tab_cap; i++) {
    cqueue_t *c = s->cq_tab[i];
    while (c) {
      cqueue_t *next = c->hnext;
      size_t b = key_hash((tern_str_t){c->topic, c->topic_len}, c->queue_id) & (nc - 1);
      c->hnext = nt[b];
      nt[b] = c;
      c = next;
    }
  }
  free(s->cq_tab);
  s->cq_tab = nt;
  s->cq_tab_cap = nc;
  return TERN_OK;
}

size_t cq_registry_count(tern_store_t *s) { return atomic_load_explicit(&s->cq_reg_n, memory_order_acquire); }

cqueue_t *cq_registry_at(tern_store_t *s, size_t i) {
  cqueue_t **chunk = atomic_load_explicit(&s->cq_reg[i / CQ_CHUNK], memory_order_acquire);
  return chunk[i % CQ_CHUNK];
}

static cqueue_t *cq_new(tern_store_t *s, tern_str_t topic, int32_t qid) {
  size_t n = atomic_load(&s->cq_reg_n);
  if (n >= (size_t)CQ_CHUNK * CQ_CHUNKS) return NULL;
  if ((s->cq_count + 1) * 2 > s->cq_tab_cap && tab_grow(s) != 0) return NULL;
  cqueue_t **chunk = atomic_load(&s->cq_reg[n / CQ_CHUNK]);
  if (!chunk) {
    chunk = calloc(CQ_CHUNK, sizeof *chunk);
    if (!chunk) return NULL;
    atomic_store_explicit(&s->cq_reg[n / CQ_CHUNK], chunk, memory_order_release);
  }
  cqueue_t *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->topic = malloc(topic.n + 1);
  char qname[16];
  snprintf(qname, sizeof qname, "%d", (int)qid);
  char *tdir = NULL;
  if (c->topic) {
    memcpy(c->topic, topic.p, topic.n);
    c->topic[topic.n] = '\0';
    tdir = tern_store_path_join(s->cq_dir, c->topic);
  }
  char *qdir = tdir ? tern_store_path_join(tdir, qname) : NULL;
  free(tdir);
  if (!qdir || fq_init(&c->fq, s, qdir, s->cfg.mapped_file_size_consume_queue) != 0) {
    free(qdir);
    free(c->topic);
    free(c);
    return NULL;
  }
  free(qdir);
  c->topic_len = topic.n;
  c->queue_id = qid;
  c->max_phys_end = -1;
  size_t b = key_hash(topic, qid) & (s->cq_tab_cap - 1);
  c->hnext = s->cq_tab[b];
  s->cq_tab[b] = c;
  s->cq_count++;
  chunk[n % CQ_CHUNK] = c;
  atomic_store_explicit(&s->cq_reg_n, n + 1, memory_order_release);
  return c;
}

cqueue_t *cq_get_or_create(tern_store_t *s, tern_str_t topic, int32_t qid) {
  cqueue_t *c = cq_find(s, topic, qid);
  return c ? c : cq_new(s, topic, qid);
}

static bool numeric(const char *n, int32_t *v) {
  if (!*n || strlen(n) > 9) return false;
  int32_t x = 0;
  for (; *n; n++) {
    if (*n < '0' || *n > '9') return false;
    x = x * 10 + (*n - '0');
  }
  *v = x;
  return true;
}

/* Unlinks every file of a queue directory that is being rebuilt. */
static void remove_queue_files(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.') continue;
    char *p = tern_store_path_join(dir, de->d_name);
    if (p) unlink(p);
    free(p);
  }
  closedir(d);
}

int cq_load_all(tern_store_t *s, tern_err_t *err) {
  DIR *d = opendir(s->cq_dir);
  if (!d) return TERN_OK;
  struct dirent *de;
  int rc = TERN_OK;
  while (rc == TERN_OK && (de = readdir(d)) != NULL) {
    tern_str_t topic = tern_str_from_cstr(de->d_name);
    if (!tern_topic_valid(topic)) continue;
    char *tdir = tern_store_path_join(s->cq_dir, de->d_name);
    DIR *td = tdir ? opendir(tdir) : NULL;
    struct dirent *qe;
    while (td && rc == TERN_OK && (qe = readdir(td)) != NULL) {
      int32_t qid;
      if (!numeric(qe->d_name, &qid)) continue;
      cqueue_t *c = cq_get_or_create(s, topic, qid);
      if (!c) {
        rc = tern_fail(err, TERN_ENOMEM, "out of memory", NULL, 0);
        break;
      }
      tern_err_t ferr = {0};
      if (fq_load(&c->fq, &ferr) != 0) {
        /* A broken queue is derived data: report it, drop its files, rebuild from the log. */
        tern_store_corrupt(s, c->fq.dir, (int64_t)ferr.pos, ferr.reason ? ferr.reason : "unreadable consume queue");
        while (c->fq.n) fq_delete_first(&c->fq, 0);
        fq_reap_retired(&c->fq, 0, 0, true);
        remove_queue_files(c->fq.dir);
        c->rebuild = true;
      }
    }
    if (td) closedir(td);
    free(tdir);
  }
  closedir(d);
  return rc;
}

int cq_delete_topic(tern_store_t *s, tern_str_t topic, int64_t now) {
  int n = 0;
  for (size_t b = 0; b < s->cq_tab_cap; b++) {
    cqueue_t **pp = &s->cq_tab[b];
    while (*pp) {
      cqueue_t *c = *pp;
      if (c->topic_len == topic.n && memcmp(c->topic, topic.p, topic.n) == 0) {
        /* Unlinked from the table so new puts start a fresh queue; the struct
         * stays in the registry (the flusher may be looking at it) with no
         * files, and mappings are released after the grace period. */
        *pp = c->hnext;
        s->cq_count--;
        while (c->fq.n) fq_delete_first(&c->fq, now);
        rmdir(c->fq.dir);
        n++;
      } else {
        pp = &c->hnext;
      }
    }
  }
  if (n) {
    char *tdir = tern_store_path_join(s->cq_dir, "");
    if (tdir) {
      size_t l = strlen(tdir);
      char *full = malloc(l + topic.n + 1);
      if (full) {
        memcpy(full, tdir, l);
        memcpy(full + l, topic.p, topic.n);
        full[l + topic.n] = 0;
        rmdir(full);
        free(full);
      }
      free(tdir);
    }
  }
  return n;
}

int64_t cq_max_offset(const cqueue_t *cq) { return fq_max_offset(&cq->fq) / TERN_CQ_ENTRY_SIZE; }

int cq_entry_at(tern_store_t *s, cqueue_t *cq, int64_t qoff, tern_cq_entry_t *e) {
  TERN_UNUSED(s);
  int64_t byte = qoff * TERN_CQ_ENTRY_SIZE;
  mfile_t *f = fq_find(&cq->fq, byte);
  if (!f) return TERN_ENOTFOUND;
  int64_t pos = byte - f->from;
  if (pos + TERN_CQ_ENTRY_SIZE > atomic_load_explicit(&f->wrote, memory_order_acquire)) return TERN_ENOTFOUND;
  return tern_cq_entry_decode(f->base + pos, TERN_CQ_ENTRY_SIZE, e, NULL);
}

/* A new consume-queue file for the writer (the loop thread). Its mapping is
 * marked MADV_RANDOM: the file is fresh (preallocated, unwritten), so there is
 * nothing to read ahead, and the kernel's fault-time readahead would otherwise
 * populate up to read_ahead_kb of zero pages (the whole 5.7 MiB file with
 * read_ahead_kb 8192) synchronously in the first write's page fault. Measured
 * (bench/store "first put to each of 1024 queues"): 23 ms per new queue before,
 * see bench/README.md for after. Files reopened at start-up keep the default
 * (sequential reads of old entries benefit from readahead). */
static int cq_add_file(cqueue_t *cq, int64_t from, mfile_t **f, tern_err_t *err) {
  int rc = fq_add(&cq->fq, from, NULL, f, err);
  if (rc == 0) (void)madvise((*f)->base, (size_t)(*f)->size, MADV_RANDOM); /* a hint: failure changes nothing */
  return rc;
}

static int append_entry(tern_store_t *s, cqueue_t *cq, int64_t phys, int32_t size, int64_t tags) {
  mfile_t *f = fq_last(&cq->fq);
  tern_err_t err = {0};
  if (!f || atomic_load(&f->wrote) >= f->size) {
    int64_t from = f ? f->from + f->size : 0;
    if (cq_add_file(cq, from, &f, &err) != 0) {
      tern_store_logf(s, "store: %s: cannot create consume-queue file: %s", cq->fq.dir, err.reason);
      return TERN_EIO;
    }
  }
  int64_t pos = atomic_load(&f->wrote);
  tern_cq_entry_t e = {phys, size, tags};
  tern_cq_entry_encode(&e, f->base + pos);
  atomic_store_explicit(&f->wrote, pos + TERN_CQ_ENTRY_SIZE, memory_order_release);
  return TERN_OK;
}

int cq_put(tern_store_t *s, cqueue_t *cq, int64_t qoff, int64_t phys, int32_t size, int64_t tags) {
  int64_t max = cq_max_offset(cq);
  if (qoff < max) return TERN_OK; /* already there (re-dispatch during recovery) */
  if (cq->fq.n == 0) {
    /* First file of a queue that starts past 0: begin at the file holding
     * qoff and fill the slots before it with blank entries. */
    int64_t fsz = cq->fq.file_size;
    int64_t from = qoff * TERN_CQ_ENTRY_SIZE / fsz * fsz;
    mfile_t *f;
    tern_err_t err = {0};
    if (cq_add_file(cq, from, &f, &err) != 0) {
      tern_store_logf(s, "store: %s: cannot create consume-queue file: %s", cq->fq.dir, err.reason);
      return TERN_EIO;
    }
    max = from / TERN_CQ_ENTRY_SIZE;
    cq->min_logic = qoff;
  } else if (qoff > max) {
    tern_store_logf(s, "store: %s: queue offset %lld dispatched past the queue end %lld; filling with blanks",
                    cq->fq.dir, (long long)qoff, (long long)max);
  }
  for (; max < qoff; max++)
    if (append_entry(s, cq, 0, TERN_CQ_ENTRY_BLANK_SIZE, 0) != 0) return TERN_EIO;
  if (append_entry(s, cq, phys, size, tags) != 0) return TERN_EIO;
  cq->max_phys_end = phys + size;
  if (cq->next_assign < qoff + 1) cq->next_assign = qoff + 1;
  return TERN_OK;
}

/* An entry recovery accepts: a blank filler, or a positive size and an
 * offset that moves forward and stays inside the commit log. */
static bool entry_ok(const tern_cq_entry_t *e, int64_t prev_end, int64_t clog_max) {
  if (e->size == TERN_CQ_ENTRY_BLANK_SIZE && e->phys_offset == 0) return true;
  return e->size > 0 && e->phys_offset >= 0 && e->phys_offset >= prev_end && e->phys_offset + e->size <= clog_max;
}

/* Finds the last valid entry, scanning the last file (and the one before it
 * when the last holds none); reports and cuts anything invalid after it.
 * Returns true when the queue was cut because of an invalid entry. */
static bool cq_scan_tail(tern_store_t *s, cqueue_t *cq, int64_t clog_max) {
  fqueue_t *q = &cq->fq;
  if (!q->n) return false;
  size_t start = q->n >= 2 ? q->n - 2 : 0;
  int64_t prev_end = 0, end = q->files[start]->from;
  bool cut = false;
  for (size_t i = start; i < q->n && !cut; i++) {
    mfile_t *f = q->files[i];
    for (int64_t pos = 0; pos + TERN_CQ_ENTRY_SIZE <= f->size; pos += TERN_CQ_ENTRY_SIZE) {
      tern_cq_entry_t e;
      tern_cq_entry_decode(f->base + pos, TERN_CQ_ENTRY_SIZE, &e, NULL);
      if (e.phys_offset == 0 && e.size == 0 && e.tags_code == 0) {
        /* zeros: the end, unless non-zero bytes follow (a damaged entry) */
        if (pos + 2 * TERN_CQ_ENTRY_SIZE <= f->size) {
          static const uint8_t z[TERN_CQ_ENTRY_SIZE];
          if (memcmp(f->base + pos + TERN_CQ_ENTRY_SIZE, z, TERN_CQ_ENTRY_SIZE) != 0) {
            tern_store_corrupt(s, f->path, pos, "zero consume-queue entry followed by data");
            cut = true;
          }
        }
        end = f->from + pos;
        goto done;
      }
      if (!entry_ok(&e, prev_end, clog_max)) {
        char why[160];
        snprintf(why, sizeof why, "invalid consume-queue entry (offset %lld, size %d)", (long long)e.phys_offset,
                 (int)e.size);
        tern_store_corrupt(s, f->path, pos, why);
        end = f->from + pos;
        cut = true;
        goto done;
      }
      if (e.size != TERN_CQ_ENTRY_BLANK_SIZE) {
        prev_end = e.phys_offset + e.size;
        cq->max_phys_end = prev_end;
      }
      end = f->from + pos + TERN_CQ_ENTRY_SIZE;
    }
  }
done:
  fq_truncate(q, end);
  return cut;
}

void cq_recover(tern_store_t *s, cqueue_t *cq) {
  TERN_UNUSED(s);
  cq->max_phys_end = -1;
  bool cut = cq_scan_tail(s, cq, atomic_load(&s->clog_written));
  cq->next_assign = cq_max_offset(cq);
  cq->min_logic = fq_min_offset(&cq->fq) / TERN_CQ_ENTRY_SIZE;
  cq->rebuild = cut || cq->rebuild;
}

void cq_truncate_phys(tern_store_t *s, cqueue_t *cq, int64_t clog_max) {
  /* Walk back from the end while entries point past the log end. */
  int64_t n = cq_max_offset(cq), lo = fq_min_offset(&cq->fq) / TERN_CQ_ENTRY_SIZE;
  int64_t keep = n;
  while (keep > lo) {
    tern_cq_entry_t e;
    if (cq_entry_at(s, cq, keep - 1, &e) != 0) break;
    if (e.size == TERN_CQ_ENTRY_BLANK_SIZE || e.phys_offset + e.size <= clog_max) break;
    keep--;
  }
  if (keep < n) {
    tern_store_logf(s, "store: %s: dropping %lld consume-queue entries past the commit-log end %lld", cq->fq.dir,
                    (long long)(n - keep), (long long)clog_max);
    fq_truncate(&cq->fq, keep * TERN_CQ_ENTRY_SIZE);
  }
  cq->next_assign = cq_max_offset(cq);
  cq->max_phys_end = -1;
  if (keep > lo) {
    tern_cq_entry_t e;
    if (cq_entry_at(s, cq, keep - 1, &e) == 0 && e.size != TERN_CQ_ENTRY_BLANK_SIZE)
      cq->max_phys_end = e.phys_offset + e.size;
  }
}

void cq_correct_min(tern_store_t *s, cqueue_t *cq, int64_t clog_min) {
  mfile_t *f = fq_first(&cq->fq);
  if (!f) return;
  int64_t lo = f->from / TERN_CQ_ENTRY_SIZE, hi = cq_max_offset(cq);
  if (hi > (f->from + f->size) / TERN_CQ_ENTRY_SIZE) hi = (f->from + f->size) / TERN_CQ_ENTRY_SIZE;
  /* first entry with phys >= clog_min that is not a blank (a monotone predicate) */
  while (lo < hi) {
    int64_t mid = lo + (hi - lo) / 2;
    tern_cq_entry_t e;
    if (cq_entry_at(s, cq, mid, &e) != 0) break;
    if (e.size != TERN_CQ_ENTRY_BLANK_SIZE && e.phys_offset >= clog_min)
      hi = mid;
    else
      lo = mid + 1;
  }
  if (lo > cq->min_logic) cq->min_logic = lo;
}

void cq_delete_expired(tern_store_t *s, cqueue_t *cq, int64_t clog_min, int64_t now) {
  while (cq->fq.n > 1) {
    mfile_t *f = cq->fq.files[0];
    tern_cq_entry_t e;
    tern_cq_entry_decode(f->base + f->size - TERN_CQ_ENTRY_SIZE, TERN_CQ_ENTRY_SIZE, &e, NULL);
    if (e.size != TERN_CQ_ENTRY_BLANK_SIZE && e.phys_offset + e.size > clog_min) break;
    tern_store_logf(s, "store: deleting consume-queue file %s (all entries below commit-log min %lld)", f->path,
                    (long long)clog_min);
    fq_delete_first(&cq->fq, now);
  }
  cq_correct_min(s, cq, clog_min);
}

void cq_flush_all(tern_store_t *s, bool force) {
  size_t n = cq_registry_count(s);
  for (size_t i = 0; i < n; i++) {
    cqueue_t *c = cq_registry_at(s, i);
    if (fq_flush(&c->fq, INT64_MAX, force ? 0 : 2 * TERN_OS_PAGE) != 0)
      tern_store_logf(s, "store: %s: fdatasync failed", c->fq.dir);
  }
}

void cq_free_all(tern_store_t *s) {
  size_t n = atomic_load(&s->cq_reg_n);
  for (size_t i = 0; i < n; i++) {
    cqueue_t *c = cq_registry_at(s, i);
    fq_destroy(&c->fq);
    free(c->topic);
    free(c);
  }
  for (size_t i = 0; i < CQ_CHUNKS; i++) free(atomic_load(&s->cq_reg[i]));
  free(s->cq_tab);
  s->cq_tab = NULL;
  s->cq_tab_cap = s->cq_count = 0;
  atomic_store(&s->cq_reg_n, 0);
}
