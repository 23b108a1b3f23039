/* The pending-request table: chained hash by opaque + deadline min-heap, with
 * pooled entries. Sizes double as needed and never shrink (a loop's working
 * set is stable), which keeps the hot path free of malloc. */
#include "runtime/pending.h"

#include <stdlib.h>

void tern_pending_init(tern_pending_table_t *t) { memset(t, 0, sizeof *t); }

void tern_pending_free(tern_pending_table_t *t) {
  for (uint32_t i = 0; i < t->nbuckets; i++)
    for (tern_pending_t *e = t->buckets[i], *n; e; e = n) {
      n = e->hnext;
      free(e);
    }
  for (tern_pending_t *e = t->free_list, *n; e; e = n) {
    n = e->hnext;
    free(e);
  }
  free(t->buckets);
  free(t->heap);
  memset(t, 0, sizeof *t);
}

static uint32_t slot(const tern_pending_table_t *t, int32_t opaque) {
  uint32_t h = (uint32_t)opaque * 2654435761u; /* Fibonacci hashing spreads sequential ids */
  return (h ^ (h >> 16)) & (t->nbuckets - 1);
}

static int grow_buckets(tern_pending_table_t *t) {
  uint32_t nb = t->nbuckets ? t->nbuckets * 2 : 64;
  tern_pending_t **b = calloc(nb, sizeof *b);
  tern_pending_t **old = t->buckets;
  uint32_t on = t->nbuckets;
  if (!b) return TERN_ENOMEM;
  t->buckets = b;
  t->nbuckets = nb;
  for (uint32_t i = 0; i < on; i++)
    for (tern_pending_t *e = old[i], *n; e; e = n) {
      uint32_t s = slot(t, e->opaque);
      n = e->hnext;
      e->hnext = b[s];
      b[s] = e;
    }
  free(old);
  return 0;
}

static bool earlier(const tern_pending_t *a, const tern_pending_t *b) { return a->deadline < b->deadline; }

static void heap_set(tern_pending_table_t *t, uint32_t i, tern_pending_t *e) {
  t->heap[i] = e;
  e->heap_idx = i;
}

static void sift_up(tern_pending_table_t *t, uint32_t i) {
  tern_pending_t *e = t->heap[i];
  while (i > 0) {
    uint32_t p = (i - 1) / 2;
    if (!earlier(e, t->heap[p])) break;
    heap_set(t, i, t->heap[p]);
    i = p;
  }
  heap_set(t, i, e);
}

static void sift_down(tern_pending_table_t *t, uint32_t i) {
  tern_pending_t *e = t->heap[i];
  for (;;) {
    uint32_t l = 2 * i + 1, m = l;
    if (l >= t->heap_n) break;
    if (l + 1 < t->heap_n && earlier(t->heap[l + 1], t->heap[l])) m = l + 1;
    if (!earlier(t->heap[m], e)) break;
    heap_set(t, i, t->heap[m]);
    i = m;
  }
  heap_set(t, i, e);
}

static void heap_remove(tern_pending_table_t *t, tern_pending_t *e) {
  uint32_t i = e->heap_idx;
  tern_pending_t *last = t->heap[--t->heap_n];
  if (i == t->heap_n) return;
  heap_set(t, i, last);
  sift_up(t, i);
  sift_down(t, last->heap_idx);
}

tern_pending_t *tern_pending_add(tern_pending_table_t *t, int32_t opaque, uint64_t deadline) {
  tern_pending_t *e;
  uint32_t s;
  if (t->count >= t->nbuckets && grow_buckets(t)) return NULL;
  if (t->heap_n == t->heap_cap) {
    uint32_t nc = t->heap_cap ? t->heap_cap * 2 : 64;
    tern_pending_t **h = realloc(t->heap, nc * sizeof *h);
    if (!h) return NULL;
    t->heap = h;
    t->heap_cap = nc;
  }
  s = slot(t, opaque);
  for (e = t->buckets[s]; e; e = e->hnext)
    if (e->opaque == opaque) return NULL;
  if (t->free_list) {
    e = t->free_list;
    t->free_list = e->hnext;
  } else if (!(e = malloc(sizeof *e))) {
    return NULL;
  }
  memset(e, 0, sizeof *e);
  e->opaque = opaque;
  e->deadline = deadline;
  e->hnext = t->buckets[s];
  t->buckets[s] = e;
  t->count++;
  t->heap[t->heap_n] = e;
  e->heap_idx = t->heap_n++;
  sift_up(t, e->heap_idx);
  return e;
}

void tern_pending_remove(tern_pending_table_t *t, tern_pending_t *e) {
  tern_pending_t **pp = &t->buckets[slot(t, e->opaque)];
  while (*pp && *pp != e) pp = &(*pp)->hnext;
  if (*pp) *pp = e->hnext;
  e->hnext = NULL;
  t->count--;
  heap_remove(t, e);
}

tern_pending_t *tern_pending_find(const tern_pending_table_t *t, int32_t opaque) {
  if (!t->nbuckets) return NULL;
  for (tern_pending_t *e = t->buckets[slot(t, opaque)]; e; e = e->hnext)
    if (e->opaque == opaque) return e;
  return NULL;
}

tern_pending_t *tern_pending_take(tern_pending_table_t *t, int32_t opaque) {
  tern_pending_t *e;
  if (!t->nbuckets) return NULL;
  for (e = t->buckets[slot(t, opaque)]; e; e = e->hnext)
    if (e->opaque == opaque) {
      tern_pending_remove(t, e);
      return e;
    }
  return NULL;
}

tern_pending_t *tern_pending_pop_expired(tern_pending_table_t *t, uint64_t now) {
  tern_pending_t *e;
  if (!t->heap_n || t->heap[0]->deadline > now) return NULL;
  e = t->heap[0];
  tern_pending_remove(t, e);
  return e;
}

uint64_t tern_pending_next_deadline(const tern_pending_table_t *t) {
  return t->heap_n ? t->heap[0]->deadline : UINT64_MAX;
}

void tern_pending_release(tern_pending_table_t *t, tern_pending_t *e) {
  e->hnext = t->free_list;
  t->free_list = e;
}
