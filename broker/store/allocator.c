/* The commit-log file allocator: a background thread that creates, reserves
 * and maps the next commit-log file while the writer is still filling the
 * current one, so a roll-over costs the writer a pointer swap instead of a
 * file creation (RocketMQ's AllocateMappedFileService). One request at a
 * time: the writer asks for file N+1 as soon as it starts file N.
 *
 * Every prepared file is also pre-faulted for reading: its page-cache pages
 * are allocated and zero-filled here and mapped into the page tables, so the
 * writer (the broker's loop thread) never takes the expensive first-touch
 * fault (page allocation, zeroing the unwritten extent, memcg charge); what is
 * left for it is the cheap write-protect fault per page. Nothing is dirtied,
 * so no extra disk write. Measured with bench/broker: see README.md. */
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "broker/store/store_int.h"

/* Writes zeros through the whole file and syncs it: its extents become
 * "written", so the fdatasyncs of SYNC_FLUSH later carry data only. */
static void warm(mfile_t *m) {
  static const uint8_t zero[1 << 16];
  for (int64_t off = 0; off < m->size; off += (int64_t)sizeof zero) {
    size_t n = (size_t)(m->size - off < (int64_t)sizeof zero ? m->size - off : (int64_t)sizeof zero);
    if (pwrite(m->fd, zero, n, (off_t)off) != (ssize_t)n) return;
  }
  fdatasync(m->fd);
}

#define PREFAULT_CHUNK ((int64_t)8 << 20)

/* Faults [off, end) of the mapping in for reading (page cache + page
 * tables), without dirtying it. */
static void prefault(mfile_t *m, int64_t off, int64_t end) {
  if (end > m->size) end = m->size;
  if (off >= end) return;
#ifdef MADV_POPULATE_READ
  if (madvise(m->base + off, (size_t)(end - off), MADV_POPULATE_READ) == 0) return;
#endif
  volatile uint8_t sink = 0;
  for (; off < end; off += TERN_OS_PAGE) sink ^= m->base[off];
  (void)sink;
}

static void *alloc_main(void *arg) {
  allocator_t *a = arg;
  pthread_mutex_lock(&a->mu);
  for (;;) {
    while (!a->stop && !a->want_path) pthread_cond_wait(&a->cv, &a->mu);
    if (a->stop) break;
    char *path = a->want_path;
    int64_t from = a->want_from, size = a->want_size;
    pthread_mutex_unlock(&a->mu);
    mfile_t *m = NULL;
    tern_err_t err = {0};
    int rc = mfile_open(path, from, size, true, &m, &err);
    if (rc == TERN_OK && a->warm) warm(m);
    /* The first chunk before the hand-over (the writer starts there); the
     * rest after it, so a writer waiting for this file (an empty store's
     * first) waits for 8 MiB, not the whole file. */
    if (rc == TERN_OK) prefault(m, 0, PREFAULT_CHUNK);
    pthread_mutex_lock(&a->mu);
    if (a->want_path == path) a->want_path = NULL;
    free(path);
    if (a->ready) { /* an unclaimed older file: not part of the log */
      unlink(a->ready->path);
      mfile_close(a->ready);
    }
    a->ready = m;
    a->ready_from = from;
    a->ready_err = rc;
    pthread_cond_broadcast(&a->cv);
    /* Still ahead of the writer (GB/s against its few hundred MB/s). The
     * mapping stays valid: files are unmapped only by store close (after
     * alloc_stop joined this thread), retention (120 s later) or by this
     * thread (an unclaimed file, never this one while it runs here). */
    for (int64_t off = PREFAULT_CHUNK; m && off < size && !a->stop; off += PREFAULT_CHUNK) {
      pthread_mutex_unlock(&a->mu);
      prefault(m, off, off + PREFAULT_CHUNK);
      pthread_mutex_lock(&a->mu);
    }
  }
  pthread_mutex_unlock(&a->mu);
  return NULL;
}

int alloc_start(allocator_t *a, bool warm) {
  memset(a, 0, sizeof *a);
  a->warm = warm;
  pthread_mutex_init(&a->mu, NULL);
  pthread_cond_init(&a->cv, NULL);
  if (pthread_create(&a->th, NULL, alloc_main, a) != 0) return TERN_ENOMEM;
  a->started = true;
  return TERN_OK;
}

/* Stops the thread; a prepared but unclaimed file is removed again so the
 * directory holds only files that are part of the log. */
void alloc_stop(allocator_t *a) {
  if (!a->started) return;
  pthread_mutex_lock(&a->mu);
  a->stop = true;
  pthread_cond_broadcast(&a->cv);
  pthread_mutex_unlock(&a->mu);
  pthread_join(a->th, NULL);
  free(a->want_path);
  if (a->ready) {
    unlink(a->ready->path);
    mfile_close(a->ready);
  }
  pthread_mutex_destroy(&a->mu);
  pthread_cond_destroy(&a->cv);
  a->started = false;
}

void alloc_request(allocator_t *a, const char *path, int64_t from, int64_t size) {
  if (!a->started) return;
  char *p = strdup(path);
  if (!p) return;
  pthread_mutex_lock(&a->mu);
  if (a->want_path || (a->ready && a->ready_from == from)) {
    free(p); /* already asked for (or made) */
  } else {
    a->want_path = p;
    a->want_from = from;
    a->want_size = size;
    pthread_cond_broadcast(&a->cv);
  }
  pthread_mutex_unlock(&a->mu);
}

mfile_t *alloc_take(allocator_t *a, int64_t from) {
  if (!a->started) return NULL;
  mfile_t *m = NULL;
  pthread_mutex_lock(&a->mu);
  while (a->want_path && a->want_from == from) pthread_cond_wait(&a->cv, &a->mu);
  if (a->ready && a->ready_from == from) {
    m = a->ready;
    a->ready = NULL;
  }
  pthread_mutex_unlock(&a->mu);
  return m;
}
