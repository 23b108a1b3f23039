/* A string-keyed hash table (open addressing, linear probing, backward-shift
 * deletion) mapping byte strings to caller-owned pointers. Keys are hashed with
 * a per-process random SipHash key so that names chosen by a peer (topics,
 * broker names) cannot be crafted to collide. The table stores the key slice,
 * not a copy: the caller keeps the key bytes alive as long as the entry (in
 * practice the key lives inside the value). Written for the name server, kept
 * free of namesrv types so it can move to runtime/. */
#ifndef TERN_NAMESRV_STRMAP_H
#define TERN_NAMESRV_STRMAP_H

#include "runtime/base.h"

typedef struct tern_strmap_slot {
  uint64_t hash;
  tern_str_t key; /* key.p == NULL marks an empty slot */
  void *val;
} tern_strmap_slot_t;

typedef struct tern_strmap {
  tern_strmap_slot_t *slots;
  uint32_t cap; /* power of two, or 0 before the first insert */
  uint32_t len;
} tern_strmap_t;

void tern_strmap_init(tern_strmap_t *m);
void tern_strmap_free(tern_strmap_t *m); /* frees the slots only, never the values */
void *tern_strmap_get(const tern_strmap_t *m, tern_str_t key);
/* Inserts or replaces. *old (when non-NULL) receives the replaced value or
 * NULL. Returns 0 or TERN_ENOMEM (the table is unchanged then). */
int tern_strmap_put(tern_strmap_t *m, tern_str_t key, void *val, void **old);
/* Removes key; returns its value or NULL when absent. */
void *tern_strmap_del(tern_strmap_t *m, tern_str_t key);

/* Iteration over live slots: `for (uint32_t i = 0; tern_strmap_next(m, &i, &slot);)`.
 * The table must not be modified while iterating. */
bool tern_strmap_next(const tern_strmap_t *m, uint32_t *pos, const tern_strmap_slot_t **slot);

#endif
