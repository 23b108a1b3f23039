/* A small loader of golden vectors (spec/vectors/<dir>/NAME.json) for C tests.
 * It reads a file under the source tree and tokenizes it with gen/json.h; the
 * accessors pick members and decode strings/hex into the vector's arena, so
 * one tern_vec_free releases everything. Failures print the file and reason. */
#ifndef TERN_CODEGEN_TEST_VECTORS_H
#define TERN_CODEGEN_TEST_VECTORS_H

#include "gen/json.h"
#include "runtime/arena.h"

#define TERN_VEC_NONE UINT32_MAX
#define TERN_VEC_MAX_FILES 256
#define TERN_VEC_NAME_MAX 128

typedef struct tern_vec {
  char path[512]; /* spec/vectors/<dir>/<name> */
  char *text;
  size_t len;
  tern_arena_t arena;
  tern_json_doc_t doc;
} tern_vec_t;

/* Sorted file names (*.json) of spec/vectors/<dir>; returns how many, or -1. */
int tern_vec_list(const char *dir, char names[][TERN_VEC_NAME_MAX], int max);
/* Reads and tokenizes spec/vectors/<dir>/<name>; 0 or a negative TERN_E*. */
int tern_vec_load(tern_vec_t *v, const char *dir, const char *name);
void tern_vec_free(tern_vec_t *v);

/* The value token of `key` in object `obj` (0 = the top object), or TERN_VEC_NONE. */
uint32_t tern_vec_get(const tern_vec_t *v, uint32_t obj, const char *key);
bool tern_vec_is_null(const tern_vec_t *v, uint32_t tok);
/* Array element i (0-based) of array token arr, or TERN_VEC_NONE. */
uint32_t tern_vec_at(const tern_vec_t *v, uint32_t arr, uint32_t i);
uint32_t tern_vec_size(const tern_vec_t *v, uint32_t tok);
/* Unescaped string (in the arena); p == NULL when tok is not a string. */
tern_str_t tern_vec_str(tern_vec_t *v, uint32_t tok);
/* Integer value; *ok false when tok is not an integer. */
int64_t tern_vec_int(const tern_vec_t *v, uint32_t tok, bool *ok);
bool tern_vec_bool(const tern_vec_t *v, uint32_t tok);
/* A hex string decoded into the arena; p == NULL when not valid hex. */
tern_str_t tern_vec_hex(tern_vec_t *v, uint32_t tok);

#endif
