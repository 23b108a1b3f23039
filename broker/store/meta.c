/* Metadata files in <root>/config/ (topics.json, consumerOffset.json,
 * subscriptionGroup.json, delayOffset.json): written so that a crash at any
 * moment leaves either the old or the new content under the name. The old
 * file is first copied to <name>.bak (as RocketMQ's ConfigManager does),
 * the new text goes to <name>.tmp, is fsynced, renamed over <name>, and the
 * directory is fsynced so the rename itself is durable. Loading falls back to
 * <name>.bak when <name> is missing, empty or unparsable. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/store/store_int.h"

#define META_MAX_BYTES ((size_t)256 << 20) /* refuse to load absurd files */

static int write_all(int fd, const uint8_t *p, size_t n) {
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return TERN_EIO;
    p += w;
    n -= (size_t)w;
  }
  return TERN_OK;
}

static int read_file(const char *path, uint8_t **out, size_t *len) {
  *out = NULL;
  *len = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT ? TERN_ENOTFOUND : TERN_EIO;
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_size < 0 || (size_t)st.st_size > META_MAX_BYTES) {
    close(fd);
    return TERN_ETOOBIG;
  }
  size_t n = (size_t)st.st_size;
  uint8_t *b = malloc(n + 1);
  if (!b) {
    close(fd);
    return TERN_ENOMEM;
  }
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, b + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += (size_t)r;
  }
  close(fd);
  b[got] = 0;
  *out = b;
  *len = got;
  return TERN_OK;
}

static int fsync_dir(const char *dir) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return TERN_EIO;
  int rc = fsync(fd) == 0 ? TERN_OK : TERN_EIO;
  close(fd);
  return rc;
}

static int write_path(const char *path, const void *data, size_t len, bool sync) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return TERN_EIO;
  int rc = write_all(fd, data, len);
  if (!rc && sync && fsync(fd) != 0) rc = TERN_EIO;
  if (close(fd) != 0 && !rc) rc = TERN_EIO;
  return rc;
}

int tern_meta_write_file(const char *dir, const char *name, const void *data, size_t len, tern_err_t *err) {
  if (!name || !*name || strchr(name, '/')) return tern_fail(err, TERN_EINVAL, "bad metadata file name", NULL, 0);
  if (tern_store_mkdirs(dir) != 0) return tern_fail(err, TERN_EIO, "cannot create the config directory", NULL, 0);
  char path[4096], tmp[4200], bak[4200];
  if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path)
    return tern_fail(err, TERN_EINVAL, "path too long", NULL, 0);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  snprintf(bak, sizeof bak, "%s.bak", path);
  /* keep the previous version as .bak (written atomically too) */
  uint8_t *old;
  size_t olen;
  if (read_file(path, &old, &olen) == TERN_OK) {
    char btmp[4300];
    snprintf(btmp, sizeof btmp, "%s.tmp", bak);
    int rc = olen ? write_path(btmp, old, olen, true) : TERN_OK;
    free(old);
    if (olen && (rc || rename(btmp, bak) != 0)) {
      unlink(btmp);
      return tern_fail(err, TERN_EIO, "cannot write the .bak copy", NULL, 0);
    }
  }
  if (write_path(tmp, data, len, true) != 0) {
    unlink(tmp);
    return tern_fail(err, TERN_EIO, "cannot write the .tmp file", NULL, 0);
  }
  if (rename(tmp, path) != 0) {
    unlink(tmp);
    return tern_fail(err, TERN_EIO, "cannot rename the .tmp file", NULL, 0);
  }
  if (fsync_dir(dir) != 0) return tern_fail(err, TERN_EIO, "cannot fsync the config directory", NULL, 0);
  return TERN_OK;
}

int tern_meta_load_file(const char *dir, const char *name, tern_meta_parse_fn parse, void *ctx, tern_err_t *err) {
  const char *suffix[2] = {"", ".bak"};
  int last = TERN_ENOTFOUND;
  for (int i = 0; i < 2; i++) {
    char path[4200];
    if ((size_t)snprintf(path, sizeof path, "%s/%s%s", dir, name, suffix[i]) >= sizeof path)
      return tern_fail(err, TERN_EINVAL, "path too long", NULL, 0);
    uint8_t *b;
    size_t n;
    int rc = read_file(path, &b, &n);
    if (rc == TERN_ENOTFOUND) continue;
    if (rc == TERN_OK && n == 0) {
      free(b);
      rc = TERN_EPROTO;
    }
    if (rc == TERN_OK) {
      rc = parse(ctx, b, n);
      free(b);
      if (rc == TERN_OK) return TERN_OK;
    }
    last = rc;
  }
  if (last == TERN_ENOTFOUND) return tern_fail(err, TERN_ENOTFOUND, "metadata file not found", NULL, 0);
  return tern_fail(err, last, "metadata file and its .bak are unusable", NULL, 0);
}

int tern_store_meta_write(tern_store_t *s, const char *name, const void *data, size_t len, tern_err_t *err) {
  return tern_meta_write_file(s->config_dir, name, data, len, err);
}

int tern_store_meta_load(tern_store_t *s, const char *name, tern_meta_parse_fn parse, void *ctx, tern_err_t *err) {
  return tern_meta_load_file(s->config_dir, name, parse, ctx, err);
}
