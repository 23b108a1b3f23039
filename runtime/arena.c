/* Chunked bump allocator; see arena.h. */
#include "runtime/arena.h"

#include <stdlib.h>

struct tern_arena_chunk {
  tern_arena_chunk_t *next;
  size_t cap, off;
  _Alignas(8) uint8_t data[];
};

#define ARENA_CHUNK_MIN 4096

void tern_arena_init(tern_arena_t *a, size_t limit, void *block, size_t block_cap) {
  a->head = NULL;
  a->used = 0;
  a->limit = limit ? limit : TERN_ARENA_DEFAULT_LIMIT;
  a->inline_p = block;
  a->inline_cap = block ? block_cap : 0;
  a->inline_off = 0;
  /* Align the caller's block start. */
  if (block) {
    uintptr_t mis = (uintptr_t)block & 7u;
    if (mis) {
      size_t skip = 8 - mis;
      a->inline_off = skip > block_cap ? block_cap : skip;
    }
  }
}

static size_t align8(size_t n) { return (n + 7u) & ~(size_t)7u; }

void *tern_arena_alloc(tern_arena_t *a, size_t n) {
  tern_arena_chunk_t *c;
  size_t sz, cap;
  if (n == 0) n = 1;
  if (n > a->limit) return NULL;
  sz = align8(n);
  if (a->inline_p && a->inline_cap - a->inline_off >= sz) {
    void *r = a->inline_p + a->inline_off;
    a->inline_off += sz;
    return r;
  }
  c = a->head;
  if (c && c->cap - c->off >= sz) {
    void *r = c->data + c->off;
    c->off += sz;
    return r;
  }
  cap = sz > ARENA_CHUNK_MIN ? sz : ARENA_CHUNK_MIN;
  if (c && c->cap * 2 > cap && c->cap * 2 <= ((size_t)1 << 24)) cap = c->cap * 2;
  if (a->used + cap + sizeof *c > a->limit) {
    cap = sz; /* try the exact size before giving up */
    if (a->used + cap + sizeof *c > a->limit) return NULL;
  }
  c = malloc(sizeof *c + cap);
  if (!c) return NULL;
  c->cap = cap;
  c->off = sz;
  c->next = a->head;
  a->head = c;
  a->used += cap + sizeof *c;
  return c->data;
}

void *tern_arena_calloc(tern_arena_t *a, size_t count, size_t size) {
  void *p;
  if (size && count > SIZE_MAX / size) return NULL;
  p = tern_arena_alloc(a, count * size);
  if (p) memset(p, 0, count * size);
  return p;
}

tern_str_t tern_arena_strdup(tern_arena_t *a, tern_str_t s) {
  tern_str_t r = {NULL, 0};
  char *p = tern_arena_alloc(a, s.n + 1);
  if (!p) return r;
  if (s.n) memcpy(p, s.p, s.n);
  p[s.n] = '\0';
  r.p = p;
  r.n = s.n;
  return r;
}

void tern_arena_free(tern_arena_t *a) {
  tern_arena_chunk_t *c = a->head;
  while (c) {
    tern_arena_chunk_t *n = c->next;
    free(c);
    c = n;
  }
  a->head = NULL;
  a->used = 0;
  a->inline_off = 0;
  if (a->inline_p && ((uintptr_t)a->inline_p & 7u)) {
    size_t skip = 8 - ((uintptr_t)a->inline_p & 7u);
    a->inline_off = skip > a->inline_cap ? a->inline_cap : skip;
  }
}

void tern_arena_reset(tern_arena_t *a) { tern_arena_free(a); }
