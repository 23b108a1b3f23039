/* A file queue: the fixed-size mapped files of one directory (the commit log,
 * or one consume queue), named by the 20-digit offset of their first byte and
 * contiguous. Lookup by offset is arithmetic; the list is changed only by the
 * owner thread, under a mutex that the flush thread also takes. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "broker/store/store_int.h"

int fq_init(fqueue_t *q, struct tern_store *s, const char *dir, int64_t file_size) {
  memset(q, 0, sizeof *q);
  q->dir = strdup(dir);
  if (!q->dir) return TERN_ENOMEM;
  q->file_size = file_size;
  q->store = s;
  pthread_mutex_init(&q->mu, NULL);
  return TERN_OK;
}

/* The flush thread walks files[] under mu, so a grown array is swapped in
 * under the lock and the old one freed only after. */
static int push_file(fqueue_t *q, mfile_t *m) {
  mfile_t **old = NULL;
  if (q->n == q->cap) {
    size_t nc = q->cap ? q->cap * 2 : 8;
    mfile_t **nf = malloc(nc * sizeof *nf);
    if (!nf) return TERN_ENOMEM;
    if (q->n) memcpy(nf, q->files, q->n * sizeof *nf);
    pthread_mutex_lock(&q->mu);
    old = q->files;
    q->files = nf;
    q->cap = nc;
    q->files[q->n++] = m;
    pthread_mutex_unlock(&q->mu);
    free(old);
    return TERN_OK;
  }
  pthread_mutex_lock(&q->mu);
  q->files[q->n++] = m;
  pthread_mutex_unlock(&q->mu);
  return TERN_OK;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

static bool offset_name(const char *name, int64_t *off) {
  if (strlen(name) != 20) return false;
  int64_t v = 0;
  for (int i = 0; i < 20; i++) {
    if (name[i] < '0' || name[i] > '9') return false;
    if (v > (INT64_MAX - 9) / 10) return false;
    v = v * 10 + (name[i] - '0');
  }
  *off = v;
  return true;
}

int fq_load(fqueue_t *q, tern_err_t *err) {
  DIR *d = opendir(q->dir);
  if (!d) return TERN_OK; /* nothing yet */
  int64_t *offs = NULL;
  size_t n = 0, cap = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    int64_t off;
    if (!offset_name(de->d_name, &off)) continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 16;
      int64_t *no = realloc(offs, cap * sizeof *no);
      if (!no) {
        free(offs);
        closedir(d);
        return tern_fail(err, TERN_ENOMEM, "out of memory", NULL, 0);
      }
      offs = no;
    }
    offs[n++] = off;
  }
  closedir(d);
  if (n) qsort(offs, n, sizeof *offs, cmp_i64);
  int rc = TERN_OK;
  for (size_t i = 0; i < n; i++) {
    char name[21];
    tern_store_offset_name(offs[i], name);
    char *path = tern_store_path_join(q->dir, name);
    if (!path) {
      rc = tern_fail(err, TERN_ENOMEM, "out of memory", NULL, 0);
      break;
    }
    if (offs[i] % q->file_size != 0 || (i > 0 && offs[i] != offs[i - 1] + q->file_size)) {
      tern_store_logf(q->store, "store: %s: file offset not contiguous with the previous file", path);
      free(path);
      rc = tern_fail(err, TERN_ECORRUPT, "store files are not contiguous", NULL, (size_t)offs[i]);
      break;
    }
    mfile_t *m;
    rc = mfile_open(path, offs[i], q->file_size, false, &m, err);
    if (rc) {
      tern_store_logf(q->store, "store: %s: %s", path, err ? err->reason : "cannot open");
      free(path);
      break;
    }
    free(path);
    /* Loaded files count as full and durable until recovery says otherwise. */
    atomic_store(&m->wrote, m->size);
    atomic_store(&m->flushed, m->size);
    if ((rc = push_file(q, m)) != 0) {
      mfile_close(m);
      tern_fail(err, rc, "out of memory", NULL, 0);
      break;
    }
  }
  free(offs);
  return rc;
}

void fq_destroy(fqueue_t *q) {
  for (size_t i = 0; i < q->n; i++) mfile_close(q->files[i]);
  fq_reap_retired(q, 0, 0, true);
  free(q->files);
  free(q->dir);
  pthread_mutex_destroy(&q->mu);
  memset(q, 0, sizeof *q);
}

mfile_t *fq_find(const fqueue_t *q, int64_t offset) {
  if (!q->n || offset < q->files[0]->from) return NULL;
  int64_t idx = (offset - q->files[0]->from) / q->file_size;
  if (idx >= (int64_t)q->n) return NULL;
  return q->files[idx];
}

int fq_add(fqueue_t *q, int64_t from, mfile_t *prepared, mfile_t **out, tern_err_t *err) {
  mfile_t *last = fq_last(q);
  if (from % q->file_size != 0 || (last && from != last->from + q->file_size)) {
    if (prepared) mfile_close(prepared);
    return tern_fail(err, TERN_EINVAL, "new file does not follow the last one", NULL, (size_t)from);
  }
  mfile_t *m = prepared;
  if (!m) {
    char name[21];
    tern_store_offset_name(from, name);
    char *path = tern_store_path_join(q->dir, name);
    if (!path) return tern_fail(err, TERN_ENOMEM, "out of memory", NULL, 0);
    tern_store_mkdirs(q->dir);
    int rc = mfile_open(path, from, q->file_size, true, &m, err);
    free(path);
    if (rc) return rc;
  }
  int rc = push_file(q, m);
  if (rc) {
    mfile_close(m);
    return tern_fail(err, rc, "out of memory", NULL, 0);
  }
  *out = m;
  return TERN_OK;
}

int64_t fq_min_offset(const fqueue_t *q) { return q->n ? q->files[0]->from : 0; }

int64_t fq_max_offset(const fqueue_t *q) {
  mfile_t *l = fq_last(q);
  return l ? l->from + atomic_load_explicit(&l->wrote, memory_order_acquire) : 0;
}

int fq_truncate(fqueue_t *q, int64_t offset) {
  while (q->n) {
    mfile_t *l = q->files[q->n - 1];
    if (l->from + l->size <= offset) break; /* wholly before the cut */
    if (l->from >= offset && !(l->from == offset && q->n == 1)) {
      pthread_mutex_lock(&q->mu);
      q->n--;
      pthread_mutex_unlock(&q->mu);
      unlink(l->path);
      mfile_close(l);
      continue;
    }
    int64_t pos = offset - l->from;
    mfile_zero(l, pos, l->size);
    atomic_store(&l->wrote, pos);
    if (atomic_load(&l->flushed) > pos) atomic_store(&l->flushed, pos);
    break;
  }
  return TERN_OK;
}

void fq_delete_first(fqueue_t *q, int64_t now_ms) {
  if (!q->n) return;
  pthread_mutex_lock(&q->mu);
  mfile_t *f = q->files[0];
  memmove(q->files, q->files + 1, (q->n - 1) * sizeof *q->files);
  q->n--;
  pthread_mutex_unlock(&q->mu);
  unlink(f->path);
  f->retired_at = now_ms;
  f->next_retired = q->retired;
  q->retired = f;
}

void fq_reap_retired(fqueue_t *q, int64_t now_ms, int64_t grace_ms, bool all) {
  mfile_t **pp = &q->retired;
  while (*pp) {
    mfile_t *f = *pp;
    if (all || now_ms - f->retired_at >= grace_ms) {
      *pp = f->next_retired;
      mfile_close(f);
    } else {
      pp = &f->next_retired;
    }
  }
}

int fq_flush(fqueue_t *q, int64_t upto, int64_t least_bytes) {
  int rc = 0;
  pthread_mutex_lock(&q->mu);
  if (least_bytes > 0 && q->n) {
    mfile_t *l = q->files[q->n - 1];
    int64_t dirty = atomic_load_explicit(&l->wrote, memory_order_acquire) - atomic_load(&l->flushed);
    bool older_dirty = q->n > 1 && atomic_load(&q->files[q->n - 2]->flushed) < q->files[q->n - 2]->size;
    if (dirty < least_bytes && !older_dirty) {
      pthread_mutex_unlock(&q->mu);
      return 0;
    }
  }
  for (size_t i = 0; i < q->n; i++) {
    mfile_t *f = q->files[i];
    if (f->from >= upto) break;
    int64_t end = upto - f->from;
    int64_t wrote = atomic_load_explicit(&f->wrote, memory_order_acquire);
    if (end > wrote) end = wrote;
    if (end > 0 && mfile_sync(f, end) != 0) rc = TERN_EIO;
  }
  pthread_mutex_unlock(&q->mu);
  return rc;
}

int64_t fq_flushed(fqueue_t *q) {
  int64_t r = 0;
  pthread_mutex_lock(&q->mu);
  for (size_t i = 0; i < q->n; i++) {
    mfile_t *f = q->files[i];
    int64_t fl = atomic_load(&f->flushed);
    r = f->from + fl;
    if (fl < f->size) break;
  }
  pthread_mutex_unlock(&q->mu);
  return r;
}
