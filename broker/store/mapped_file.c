/* Mapped files: one fixed-size file of a commit log, consume queue or index,
 * preallocated on creation (so later writes never allocate blocks or grow
 * the file) and mapped MAP_SHARED for in-place appends and zero-copy reads.
 * Also the small path helpers every store file uses. */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/store/store_int.h"

char *tern_store_path_join(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  char *p = malloc(la + lb + 2);
  if (!p) return NULL;
  memcpy(p, a, la);
  p[la] = '/';
  memcpy(p + la + 1, b, lb + 1);
  return p;
}

void tern_store_offset_name(int64_t off, char out[21]) { snprintf(out, 21, "%020lld", (long long)off); }

int tern_store_mkdirs(const char *path) {
  char buf[4096];
  size_t n = strlen(path);
  if (n == 0 || n >= sizeof buf) return TERN_EINVAL;
  memcpy(buf, path, n + 1);
  for (size_t i = 1; i <= n; i++) {
    if (buf[i] == '/' || buf[i] == '\0') {
      char c = buf[i];
      buf[i] = '\0';
      if (mkdir(buf, 0755) != 0 && errno != EEXIST) return TERN_EIO;
      buf[i] = c;
    }
  }
  return TERN_OK;
}

/* Reserves the blocks up front; file systems without fallocate get a sparse
 * file of the right size instead. */
static int preallocate(int fd, int64_t size) {
  if (fallocate(fd, 0, 0, (off_t)size) == 0) return 0;
  if (errno == ENOSPC) return TERN_EFULL;
  return ftruncate(fd, (off_t)size) == 0 ? 0 : TERN_EIO;
}

int mfile_open(const char *path, int64_t from, int64_t size, bool create, mfile_t **out, tern_err_t *err) {
  return mfile_open_ex(path, from, size, create, false, out, err);
}

int mfile_open_ex(const char *path, int64_t from, int64_t size, bool create, bool sparse, mfile_t **out,
                  tern_err_t *err) {
  *out = NULL;
  if (size <= 0) return tern_fail(err, TERN_EINVAL, "file size must be positive", NULL, 0);
  int fd = open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT | O_EXCL : 0), 0644);
  if (fd < 0) return tern_fail(err, TERN_EIO, create ? "cannot create store file" : "cannot open store file", NULL, 0);
  if (create) {
    int rc = sparse ? (ftruncate(fd, (off_t)size) == 0 ? 0 : TERN_EIO) : preallocate(fd, size);
    if (rc) {
      close(fd);
      unlink(path);
      return tern_fail(err, rc, "cannot preallocate store file", NULL, 0);
    }
  } else {
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size != size) {
      close(fd);
      return tern_fail(err, TERN_ECORRUPT, "store file size differs from the configured size", NULL,
                       (size_t)(st.st_size >= 0 ? st.st_size : 0));
    }
  }
  void *base = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) {
    close(fd);
    return tern_fail(err, TERN_ENOMEM, "mmap of store file failed", NULL, 0);
  }
  mfile_t *m = calloc(1, sizeof *m);
  char *p = strdup(path);
  if (!m || !p) {
    free(m);
    free(p);
    munmap(base, (size_t)size);
    close(fd);
    return tern_fail(err, TERN_ENOMEM, "out of memory", NULL, 0);
  }
  m->path = p;
  m->from = from;
  m->size = size;
  m->fd = fd;
  m->base = base;
  atomic_init(&m->wrote, 0);
  atomic_init(&m->flushed, 0);
  *out = m;
  return TERN_OK;
}

/* Zeroes [pos, end) of the file. Whole pages go through FALLOC_FL_ZERO_RANGE
 * (no page is dirtied, so truncating a 1 GiB tail costs nothing); pages that
 * are already zero are left untouched when the file system lacks it. */
void mfile_zero(mfile_t *m, int64_t pos, int64_t end) {
  if (end > m->size) end = m->size;
  if (pos >= end) return;
  int64_t head_end = (pos + TERN_OS_PAGE - 1) / TERN_OS_PAGE * TERN_OS_PAGE;
  if (head_end > end) head_end = end;
  memset(m->base + pos, 0, (size_t)(head_end - pos));
  if (head_end >= end) return;
  if (fallocate(m->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, (off_t)head_end, (off_t)(end - head_end)) == 0)
    return;
  static const uint8_t zero[TERN_OS_PAGE];
  for (int64_t p = head_end; p < end; p += TERN_OS_PAGE) {
    size_t n = (size_t)(end - p < TERN_OS_PAGE ? end - p : TERN_OS_PAGE);
    if (memcmp(m->base + p, zero, n) != 0) memset(m->base + p, 0, n);
  }
}

void mfile_close(mfile_t *m) {
  if (!m) return;
  munmap(m->base, (size_t)m->size);
  close(m->fd);
  free(m->path);
  free(m);
}

/* fdatasync flushes the dirty pages of a shared mapping of the same file, and
 * metadata only when needed (the size never changes after preallocation). */
int mfile_sync(mfile_t *m, int64_t upto) {
  if (upto > m->size) upto = m->size;
  if (atomic_load_explicit(&m->flushed, memory_order_acquire) >= upto) return 0;
  if (fdatasync(m->fd) != 0) return TERN_EIO;
  atomic_store_explicit(&m->flushed, upto, memory_order_release);
  return 0;
}
