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
#include <time.h>
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
#define PREFAULT_AHEAD ((int64_t)64 << 20) /* pre-faulted bytes kept ahead of the writer */
#define PREFAULT_POLL_MS 10       /* while the writer moves (64 MiB last it ~170 ms at 370 MB/s) */
#define PREFAULT_IDLE_POLL_MS 100 /* while it does not */

/* Faults [off, end) of the mapping in for reading (page cache + page
 * tables), without dirtying it. */
static void prefault(mfile_t *m, int64_t off, int64_t end) {
  off = off / TERN_OS_PAGE * TERN_OS_PAGE; /* madvise wants a page-aligned start */
  if (end > m->size) end = m->size;
  if (off >= end) return;
#ifdef MADV_POPULATE_READ
  if (madvise(m->base + off, (size_t)(end - off), MADV_POPULATE_READ) == 0) return;
#endif
  volatile uint8_t sink = 0;
  for (; off < end; off += TERN_OS_PAGE) sink ^= m->base[off];
  (void)sink;
}

/* Files this thread keeps pre-faulting: the one being written and the next
 * one, each up to PREFAULT_AHEAD past its write position, so the page cache
 * holds at most ~2 x 64 MiB of not yet written zeros (not whole 1 GiB files).
 * Mappings stay valid while listed: files are unmapped by store close (after
 * alloc_stop joined this thread), by retention (long after the writer left
 * them, and 120 s after unlinking) or by this thread (an unclaimed file,
 * which it unlists first). */
typedef struct pf {
  mfile_t *m;
  int64_t done;
} pf_t;

/* Pre-faults one chunk of the first file that needs it; false when all are
 * far enough ahead. Drops files the writer has left. Called without the lock. */
static bool prefault_step(pf_t *pf, int *npf) {
  if (*npf == 2 && atomic_load_explicit(&pf[1].m->wrote, memory_order_acquire) > 0) {
    pf[0] = pf[1]; /* the writer moved on to the next file */
    *npf = 1;
  }
  for (int i = 0; i < *npf; i++)
    if (atomic_load_explicit(&pf[i].m->wrote, memory_order_acquire) >= pf[i].m->size) {
      pf[i--] = pf[--*npf]; /* full: never touched here again (retention may delete it later) */
    }
  for (int i = 0; i < *npf; i++) {
    int64_t w = atomic_load_explicit(&pf[i].m->wrote, memory_order_acquire);
    int64_t want = w + PREFAULT_AHEAD < pf[i].m->size ? w + PREFAULT_AHEAD : pf[i].m->size;
    if (pf[i].done < w) pf[i].done = w / TERN_OS_PAGE * TERN_OS_PAGE; /* behind the writer: skip */
    if (pf[i].done + PREFAULT_CHUNK <= want || (pf[i].done < want && want == pf[i].m->size)) { /* whole chunks */
      int64_t end = pf[i].done + PREFAULT_CHUNK < want ? pf[i].done + PREFAULT_CHUNK : want;
      prefault(pf[i].m, pf[i].done, end);
      pf[i].done = end;
      return true;
    }
  }
  return false;
}

static void *alloc_main(void *arg) {
  allocator_t *a = arg;
  pf_t pf[2];
  int npf = 0;
  int64_t last_pos = -1; /* write position at the last idle check: poll slower while it does not move */
  pthread_mutex_lock(&a->mu);
  for (;;) {
    while (!a->stop && !a->want_path) {
      if (npf) {
        pthread_mutex_unlock(&a->mu);
        bool more = prefault_step(pf, &npf);
        pthread_mutex_lock(&a->mu);
        if (more || a->stop || a->want_path) continue;
        int64_t pos = 0;
        for (int i = 0; i < npf; i++) pos += atomic_load_explicit(&pf[i].m->wrote, memory_order_relaxed);
        long wait_ms = pos == last_pos ? PREFAULT_IDLE_POLL_MS : PREFAULT_POLL_MS;
        last_pos = pos;
        struct timespec dl;
        clock_gettime(CLOCK_REALTIME, &dl);
        dl.tv_nsec += wait_ms * 1000000L;
        while (dl.tv_nsec >= 1000000000L) {
          dl.tv_sec++;
          dl.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&a->cv, &a->mu, &dl);
      } else {
        pthread_cond_wait(&a->cv, &a->mu);
      }
    }
    if (a->stop) break;
    char *path = a->want_path;
    int64_t from = a->want_from, size = a->want_size;
    pthread_mutex_unlock(&a->mu);
    mfile_t *m = NULL;
    tern_err_t err = {0};
    int rc = mfile_open(path, from, size, true, &m, &err);
    if (rc == TERN_OK && a->warm) warm(m);
    /* The first chunk before the hand-over (the writer starts there), the
     * rest as the writer advances. */
    if (rc == TERN_OK) prefault(m, 0, PREFAULT_CHUNK);
    pthread_mutex_lock(&a->mu);
    if (a->want_path == path) a->want_path = NULL;
    free(path);
    if (a->ready) { /* an unclaimed older file: not part of the log */
      for (int i = 0; i < npf; i++)
        if (pf[i].m == a->ready) pf[i] = pf[--npf];
      unlink(a->ready->path);
      mfile_close(a->ready);
    }
    a->ready = m;
    a->ready_from = from;
    a->ready_err = rc;
    if (m) {
      if (npf == 2) pf[0] = pf[1], npf = 1; /* keep the newest two */
      pf[npf++] = (pf_t){m, PREFAULT_CHUNK < m->size ? PREFAULT_CHUNK : m->size};
    }
    pthread_cond_broadcast(&a->cv);
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
