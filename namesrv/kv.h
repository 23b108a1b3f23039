/* The name server's KV config (PUT/GET/DELETE_KV_CONFIG,
 * GET_KVLIST_BY_NAMESPACE; reference §5.5): namespace -> key -> value, kept in
 * memory and persisted after changes (put/delete here, or set/unset plus
 * namesrv/kv_saver.h off the loop thread) to kvConfig.json as
 * {"configTable":{"<namespace>":{"<key>":"<value>"}}}, the file RocketMQ's
 * KVConfigManager reads and writes. The file is replaced atomically (temp file,
 * fsync, rename, fsync of the directory), so a crash leaves the old or the new
 * content, never a torn one. Total stored bytes are capped so a peer cannot
 * grow the process without bound. */
#ifndef TERN_NAMESRV_KV_H
#define TERN_NAMESRV_KV_H

#include "namesrv/strmap.h"
#include "runtime/arena.h"
#include "runtime/buf.h"

#define TERN_NS_KV_DEFAULT_MAX_BYTES ((size_t)32 << 20)

typedef struct tern_ns_kv {
  tern_strmap_t ns; /* namespace -> kv_ns (its own strmap of key -> entry) */
  char *path;       /* kvConfig.json, or NULL for memory only */
  size_t bytes, max_bytes;
} tern_ns_kv_t;

/* path may be NULL (no persistence); max_bytes 0 means the default. */
int tern_ns_kv_init(tern_ns_kv_t *kv, const char *path, size_t max_bytes);
void tern_ns_kv_free(tern_ns_kv_t *kv);

/* Reads the file; a missing file is an empty table. TERN_ECORRUPT (reason in
 * err) when the content is not a configTable of string maps, TERN_EIO when it
 * cannot be read. */
int tern_ns_kv_load(tern_ns_kv_t *kv, tern_err_t *err);
/* Writes the whole table atomically (no-op without a path). 0 or TERN_EIO. */
int tern_ns_kv_save(const tern_ns_kv_t *kv);
/* The two halves of a save, for writing on another thread: the file content
 * (encoded on the owner's thread), and the atomic replacement of path with
 * it (touches only the file system, safe on any thread). */
int tern_ns_kv_encode(const tern_ns_kv_t *kv, tern_buf_t *out);
int tern_ns_kv_write_file(const char *path, const void *data, size_t len);

/* In-memory changes without persisting (the caller saves): same errors as
 * put; unset returns true when the entry existed. */
int tern_ns_kv_set(tern_ns_kv_t *kv, tern_str_t ns, tern_str_t key, tern_str_t val);
bool tern_ns_kv_unset(tern_ns_kv_t *kv, tern_str_t ns, tern_str_t key);

/* Sets and persists. TERN_EINVAL for an empty namespace or key (RocketMQ's
 * "namespace or key is null"), TERN_ETOOBIG past max_bytes, TERN_EIO when the
 * file could not be written (the memory table keeps the new value). */
int tern_ns_kv_put(tern_ns_kv_t *kv, tern_str_t ns, tern_str_t key, tern_str_t val);
/* TERN_ENOTFOUND when absent; *val points into the table until the next change. */
int tern_ns_kv_get(const tern_ns_kv_t *kv, tern_str_t ns, tern_str_t key, tern_str_t *val);
/* Removes and persists when present (absent is not an error, as in RocketMQ). */
int tern_ns_kv_delete(tern_ns_kv_t *kv, tern_str_t ns, tern_str_t key);
/* Sorted keys and their values of one namespace, arrays from the arena;
 * TERN_ENOTFOUND when the namespace is absent or empty. */
int tern_ns_kv_list(const tern_ns_kv_t *kv, tern_str_t ns, tern_arena_t *a, tern_str_t **keys, tern_str_t **vals,
                    uint32_t *n);

#endif
