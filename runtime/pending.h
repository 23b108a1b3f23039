/* Requests waiting for their response: found by opaque (hash), expired by
 * deadline (binary min-heap), and listed per connection so a closed connection
 * fails its own. Entries come from a free list, so steady-state request/response
 * traffic does not allocate. Loop-thread only. */
#ifndef TERN_RUNTIME_PENDING_H
#define TERN_RUNTIME_PENDING_H

#include "runtime/base.h"

struct tern_cmd;
struct tern_conn;
/* status 0: resp valid for the duration of the call; else TERN_ETIMEDOUT / TERN_ECLOSED (resp NULL). */
typedef void (*tern_rpc_cb)(void *arg, int status, const struct tern_cmd *resp);

typedef struct tern_pending {
  int32_t opaque;
  uint32_t heap_idx;
  uint64_t deadline; /* loop time in ms */
  tern_rpc_cb cb;
  void *arg;
  struct tern_conn *conn;
  struct tern_pending *hnext;         /* hash chain, or free-list link */
  struct tern_pending *cprev, *cnext; /* the connection's list */
} tern_pending_t;

typedef struct tern_pending_table {
  tern_pending_t **buckets;
  uint32_t nbuckets, count;
  tern_pending_t **heap;
  uint32_t heap_n, heap_cap;
  tern_pending_t *free_list;
} tern_pending_table_t;

void tern_pending_init(tern_pending_table_t *t);
/* Frees the table and every entry (callbacks are not called). */
void tern_pending_free(tern_pending_table_t *t);
/* A new entry (cb/arg/conn for the caller to fill), or NULL when out of memory
 * or the opaque is already waiting (TERN_EEXIST would be a caller bug). */
tern_pending_t *tern_pending_add(tern_pending_table_t *t, int32_t opaque, uint64_t deadline);
/* The entry for opaque (left in place), or NULL. */
tern_pending_t *tern_pending_find(const tern_pending_table_t *t, int32_t opaque);
/* Removes and returns the entry for opaque, or NULL. */
tern_pending_t *tern_pending_take(tern_pending_table_t *t, int32_t opaque);
/* Removes a known entry (e.g. when its connection closes). */
void tern_pending_remove(tern_pending_table_t *t, tern_pending_t *e);
/* Removes and returns one entry whose deadline is <= now, or NULL. */
tern_pending_t *tern_pending_pop_expired(tern_pending_table_t *t, uint64_t now);
/* The earliest deadline, or UINT64_MAX when nothing waits. */
uint64_t tern_pending_next_deadline(const tern_pending_table_t *t);
/* Returns a removed entry to the free list. */
void tern_pending_release(tern_pending_table_t *t, tern_pending_t *e);

#endif
