/* A bump allocator with a byte limit. Decoders allocate everything they build
 * (unescaped strings, arrays of decoded structs) from an arena the caller owns,
 * so one tern_arena_reset()/free releases a whole decoded message, and hostile
 * input cannot make a decoder allocate without bound. */
#ifndef TERN_RUNTIME_ARENA_H
#define TERN_RUNTIME_ARENA_H

#include "runtime/base.h"

typedef struct tern_arena_chunk tern_arena_chunk_t;

typedef struct tern_arena {
  tern_arena_chunk_t *head; /* newest chunk first */
  size_t used;              /* bytes handed out plus chunk overhead */
  size_t limit;             /* tern_arena_alloc fails past this */
  uint8_t *inline_p;        /* optional caller-supplied first block */
  size_t inline_cap, inline_off;
} tern_arena_t;

#define TERN_ARENA_DEFAULT_LIMIT ((size_t)64 << 20)

/* limit 0 means TERN_ARENA_DEFAULT_LIMIT. `block`/`block_cap` (may be NULL/0)
 * is used first, e.g. a stack array, so small decodes never touch malloc. */
void tern_arena_init(tern_arena_t *a, size_t limit, void *block, size_t block_cap);
/* 8-byte aligned memory, or NULL past the limit or on OOM. */
void *tern_arena_alloc(tern_arena_t *a, size_t n);
void *tern_arena_calloc(tern_arena_t *a, size_t count, size_t size);
/* Copies s into the arena; returns a slice (NUL-terminated copy), or p=NULL on failure. */
tern_str_t tern_arena_strdup(tern_arena_t *a, tern_str_t s);
/* Frees every chunk; the arena may be reused (equivalent to a fresh init with the same limit). */
void tern_arena_reset(tern_arena_t *a);
void tern_arena_free(tern_arena_t *a);

#endif
