/* KV config table and its kvConfig.json persistence; see kv.h. Each entry is
 * one malloc block holding key and value bytes; each namespace owns a strmap of
 * entries. The file is encoded and decoded by the generated
 * KVConfigSerializeWrapper body codec (gen/bodies.h). put/delete/save block
 * for an fsync on the caller's thread; the server instead changes the table
 * with set/unset and hands the encoded bytes to kv_saver.c's writer thread. */
#include "namesrv/kv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gen/bodies.h"
#include "runtime/buf.h"

typedef struct kv_entry {
  tern_str_t key, val; /* both inside this block */
} kv_entry_t;

typedef struct kv_ns {
  tern_str_t name; /* inside this block */
  tern_strmap_t map;
} kv_ns_t;

static size_t entry_cost(tern_str_t key, tern_str_t val) { return key.n + val.n + 64; }

int tern_ns_kv_init(tern_ns_kv_t *kv, const char *path, size_t max_bytes) {
  tern_strmap_init(&kv->ns);
  kv->bytes = 0;
  kv->max_bytes = max_bytes ? max_bytes : TERN_NS_KV_DEFAULT_MAX_BYTES;
  kv->path = NULL;
  if (path) {
    kv->path = strdup(path);
    if (!kv->path) return TERN_ENOMEM;
  }
  return 0;
}

static void ns_free(kv_ns_t *n) {
  uint32_t i = 0;
  const tern_strmap_slot_t *s;
  while (tern_strmap_next(&n->map, &i, &s)) free(s->val);
  tern_strmap_free(&n->map);
  free(n);
}

static void clear(tern_ns_kv_t *kv) {
  uint32_t i = 0;
  const tern_strmap_slot_t *s;
  while (tern_strmap_next(&kv->ns, &i, &s)) ns_free(s->val);
  tern_strmap_free(&kv->ns);
  kv->bytes = 0;
}

void tern_ns_kv_free(tern_ns_kv_t *kv) {
  clear(kv);
  free(kv->path);
  kv->path = NULL;
}

int tern_ns_kv_set(tern_ns_kv_t *kv, tern_str_t ns, tern_str_t key, tern_str_t val) {
  kv_ns_t *n = tern_strmap_get(&kv->ns, ns);
  kv_entry_t *e, *old = NULL;
  size_t old_cost = 0;
  if (!ns.n || !key.n) return TERN_EINVAL;
  if (n && (old = tern_strmap_get(&n->map, key))) old_cost = entry_cost(old->key, old->val);
  if (kv->bytes - old_cost + entry_cost(key, val) > kv->max_bytes) return TERN_ETOOBIG;
  if (!n) {
    n = calloc(1, sizeof *n + ns.n + 1);
    if (!n) return TERN_ENOMEM;
    memcpy((char *)(n + 1), ns.p, ns.n);
    n->name.p = (char *)(n + 1);
    n->name.n = ns.n;
    tern_strmap_init(&n->map);
    if (tern_strmap_put(&kv->ns, n->name, n, NULL)) {
      free(n);
      return TERN_ENOMEM;
    }
  }
  e = malloc(sizeof *e + key.n + val.n + 2);
  if (!e) return TERN_ENOMEM;
  {
    char *p = (char *)(e + 1);
    memcpy(p, key.p, key.n);
    p[key.n] = '\0';
    e->key.p = p;
    e->key.n = key.n;
    p += key.n + 1;
    if (val.n) memcpy(p, val.p, val.n);
    p[val.n] = '\0';
    e->val.p = p;
    e->val.n = val.n;
  }
  if (tern_strmap_put(&n->map, e->key, e, NULL)) {
    free(e);
    return TERN_ENOMEM;
  }
  free(old);
  kv->bytes = kv->bytes - old_cost + entry_cost(key, val);
  return 0;
}

int tern_ns_kv_put(tern_ns_kv_t *kv, tern_str_t ns, tern_str_t key, tern_str_t val) {
  int rc = tern_ns_kv_set(kv, ns, key, val);
  if (rc) return rc;
  return tern_ns_kv_save(kv);
}

int tern_ns_kv_get(const tern_ns_kv_t *kv, tern_str_t ns, tern_str_t key, tern_str_t *val) {
  const kv_ns_t *n = tern_strmap_get(&kv->ns, ns);
  const kv_entry_t *e = n ? tern_strmap_get(&n->map, key) : NULL;
  if (!e) return TERN_ENOTFOUND;
  *val = e->val;
  return 0;
}

bool tern_ns_kv_unset(tern_ns_kv_t *kv, tern_str_t ns, tern_str_t key) {
  kv_ns_t *n = tern_strmap_get(&kv->ns, ns);
  kv_entry_t *e = n ? tern_strmap_del(&n->map, key) : NULL;
  if (!e) return false;
  kv->bytes -= entry_cost(e->key, e->val);
  free(e);
  if (n->map.len == 0) ns_free(tern_strmap_del(&kv->ns, ns));
  return true;
}

int tern_ns_kv_delete(tern_ns_kv_t *kv, tern_str_t ns, tern_str_t key) {
  if (!tern_ns_kv_unset(kv, ns, key)) return 0;
  return tern_ns_kv_save(kv);
}

static int str_qcmp(const void *a, const void *b) {
  const tern_str_t *x = a, *y = b;
  size_t n = x->n < y->n ? x->n : y->n;
  int c = n ? memcmp(x->p, y->p, n) : 0;
  if (c) return c;
  return x->n < y->n ? -1 : x->n > y->n;
}

/* Sorted keys of a strmap into an arena array. */
static int sorted_keys(const tern_strmap_t *m, tern_arena_t *a, tern_str_t **out) {
  uint32_t i = 0, k = 0;
  const tern_strmap_slot_t *s;
  tern_str_t *arr = tern_arena_calloc(a, m->len ? m->len : 1, sizeof *arr);
  if (!arr) return TERN_ENOMEM;
  while (tern_strmap_next(m, &i, &s)) arr[k++] = s->key;
  qsort(arr, k, sizeof *arr, str_qcmp);
  *out = arr;
  return 0;
}

int tern_ns_kv_list(const tern_ns_kv_t *kv, tern_str_t ns, tern_arena_t *a, tern_str_t **keys, tern_str_t **vals,
                    uint32_t *n) {
  const kv_ns_t *s = tern_strmap_get(&kv->ns, ns);
  tern_str_t *k, *v;
  if (!s || !s->map.len) return TERN_ENOTFOUND;
  if (sorted_keys(&s->map, a, &k)) return TERN_ENOMEM;
  v = tern_arena_calloc(a, s->map.len, sizeof *v);
  if (!v) return TERN_ENOMEM;
  for (uint32_t i = 0; i < s->map.len; i++) v[i] = ((const kv_entry_t *)tern_strmap_get(&s->map, k[i]))->val;
  *keys = k;
  *vals = v;
  *n = s->map.len;
  return 0;
}

/* ---- persistence ---- */

/* The whole table as a KVConfigSerializeWrapper (sorted, so the file is
 * stable), encoded by the generated body codec. */
int tern_ns_kv_encode(const tern_ns_kv_t *kv, tern_buf_t *b) {
  tern_arena_t a;
  tern_str_t *names;
  tern_body_kv_config_serialize_wrapper_t w;
  int rc = TERN_ENOMEM;
  tern_arena_init(&a, 0, NULL, 0);
  memset(&w, 0, sizeof w);
  w.has = TERN_BODY_KV_CONFIG_SERIALIZE_WRAPPER_HAS_CONFIG_TABLE;
  if (sorted_keys(&kv->ns, &a, &names)) goto out;
  w.config_table.v = tern_arena_calloc(&a, kv->ns.len ? kv->ns.len : 1, sizeof *w.config_table.v);
  if (!w.config_table.v) goto out;
  for (uint32_t i = 0; i < kv->ns.len; i++) {
    const kv_ns_t *n = tern_strmap_get(&kv->ns, names[i]);
    tern_body_map_str_map_str_str_entry_t *e = &w.config_table.v[i];
    tern_str_t *keys;
    if (sorted_keys(&n->map, &a, &keys)) goto out;
    e->key = n->name;
    e->val.v = tern_arena_calloc(&a, n->map.len ? n->map.len : 1, sizeof *e->val.v);
    if (!e->val.v) goto out;
    for (uint32_t k = 0; k < n->map.len; k++) {
      const kv_entry_t *ke = tern_strmap_get(&n->map, keys[k]);
      e->val.v[k].key = ke->key;
      e->val.v[k].val = ke->val;
    }
    e->val.n = n->map.len;
  }
  w.config_table.n = kv->ns.len;
  tern_body_kv_config_serialize_wrapper_encode(&w, b, 0);
  rc = b->err;
out:
  tern_arena_free(&a);
  return rc;
}

/* mkdir -p of the directory part of path. */
static int make_parent_dirs(const char *path) {
  char *d = strdup(path);
  if (!d) return TERN_ENOMEM;
  for (char *p = d + 1; *p; p++) {
    if (*p != '/') continue;
    *p = '\0';
    if (mkdir(d, 0755) != 0 && errno != EEXIST) {
      free(d);
      return TERN_EIO;
    }
    *p = '/';
  }
  free(d);
  return 0;
}

static int fsync_dir_of(const char *path) {
  char *d = strdup(path), *slash;
  int fd, rc = 0;
  if (!d) return TERN_ENOMEM;
  slash = strrchr(d, '/');
  if (slash == d) slash[1] = '\0';
  else if (slash) *slash = '\0';
  else strcpy(d, ".");
  fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || fsync(fd) != 0) rc = TERN_EIO;
  if (fd >= 0) close(fd);
  free(d);
  return rc;
}

int tern_ns_kv_write_file(const char *path, const void *data, size_t len) {
  char *tmp;
  size_t plen = strlen(path);
  int fd, rc;
  const uint8_t *p;
  size_t left;
  rc = make_parent_dirs(path);
  if (rc) return rc;
  tmp = malloc(plen + 5);
  if (!tmp) return TERN_ENOMEM;
  memcpy(tmp, path, plen);
  memcpy(tmp + plen, ".tmp", 5);
  fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    free(tmp);
    return TERN_EIO;
  }
  for (p = data, left = len; left;) {
    ssize_t w = write(fd, p, left);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    p += w;
    left -= (size_t)w;
  }
  if (left || fsync(fd) != 0) rc = TERN_EIO;
  if (close(fd) != 0) rc = TERN_EIO;
  if (!rc && rename(tmp, path) != 0) rc = TERN_EIO;
  if (rc) unlink(tmp);
  else rc = fsync_dir_of(path);
  free(tmp);
  return rc;
}

int tern_ns_kv_save(const tern_ns_kv_t *kv) {
  tern_buf_t b;
  int rc;
  if (!kv->path) return 0;
  tern_buf_init(&b, 0);
  rc = tern_ns_kv_encode(kv, &b);
  if (!rc) rc = tern_ns_kv_write_file(kv->path, b.p, b.len);
  tern_buf_free(&b);
  return rc;
}

/* Reads a whole file (bounded by max). */
static int read_file(const char *path, size_t max, char **out, size_t *len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  char *buf;
  size_t got = 0;
  if (fd < 0) return errno == ENOENT ? TERN_ENOTFOUND : TERN_EIO;
  if (fstat(fd, &st) != 0 || st.st_size < 0 || (uint64_t)st.st_size > max) {
    close(fd);
    return st.st_size > 0 && (uint64_t)st.st_size > max ? TERN_ETOOBIG : TERN_EIO;
  }
  buf = malloc((size_t)st.st_size + 1);
  if (!buf) {
    close(fd);
    return TERN_ENOMEM;
  }
  while (got < (size_t)st.st_size) {
    ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += (size_t)r;
  }
  close(fd);
  *out = buf;
  *len = got;
  return 0;
}

int tern_ns_kv_load(tern_ns_kv_t *kv, tern_err_t *err) {
  char *text = NULL;
  size_t len = 0;
  tern_arena_t a;
  tern_body_kv_config_serialize_wrapper_t w;
  int rc;
  if (!kv->path) return 0;
  rc = read_file(kv->path, kv->max_bytes * 2 + 4096, &text, &len);
  if (rc == TERN_ENOTFOUND) return 0;
  if (rc) return tern_fail(err, rc == TERN_ETOOBIG ? TERN_ECORRUPT : rc, "cannot read kvConfig file", NULL, 0);
  tern_arena_init(&a, 0, NULL, 0);
  clear(kv);
  rc = tern_body_kv_config_serialize_wrapper_decode((tern_str_t){text, len}, &a, &w, err);
  if (rc) {
    rc = tern_fail(err, TERN_ECORRUPT, err && err->reason ? err->reason : "kvConfig is not a KV table",
                   err ? err->field : NULL, err ? err->pos : 0);
    goto out;
  }
  for (uint32_t i = 0; i < w.config_table.n && !rc; i++) {
    const tern_body_map_str_map_str_str_entry_t *e = &w.config_table.v[i];
    for (uint32_t k = 0; k < e->val.n; k++) {
      rc = tern_ns_kv_set(kv, e->key, e->val.v[k].key, e->val.v[k].val);
      if (rc) {
        rc = tern_fail(err, rc == TERN_ENOMEM ? rc : TERN_ECORRUPT, "config entry refused (empty or over the limit)",
                       "configTable", 0);
        break;
      }
    }
  }
out:
  if (rc) clear(kv);
  tern_arena_free(&a);
  free(text);
  return rc;
}
