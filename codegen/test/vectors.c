/* Golden-vector loader for the C tests: finds spec/vectors/<dir>/NAME.json under
 * the source tree (tern_test_srcdir), tokenizes each with the generated JSON
 * tokenizer and offers typed accessors; everything lives in one arena. */
#include "vectors.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

#include "tern_test.h"

static int cmp_names(const void *a, const void *b) { return strcmp((const char *)a, (const char *)b); }

int tern_vec_list(const char *dir, char names[][TERN_VEC_NAME_MAX], int max) {
  char path[512];
  snprintf(path, sizeof path, "%s/spec/vectors/%s", tern_test_srcdir(), dir);
  DIR *d = opendir(path);
  if (!d) {
    fprintf(stderr, "vectors: cannot open %s\n", path);
    return -1;
  }
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    size_t l = strlen(e->d_name);
    if (l < 6 || l >= TERN_VEC_NAME_MAX || strcmp(e->d_name + l - 5, ".json") != 0) continue;
    if (n == max) break;
    memcpy(names[n++], e->d_name, l + 1);
  }
  closedir(d);
  qsort(names, (size_t)n, TERN_VEC_NAME_MAX, cmp_names);
  return n;
}

int tern_vec_load(tern_vec_t *v, const char *dir, const char *name) {
  memset(v, 0, sizeof *v);
  snprintf(v->path, sizeof v->path, "spec/vectors/%s/%s", dir, name);
  char full[1024];
  snprintf(full, sizeof full, "%s/%s", tern_test_srcdir(), v->path);
  FILE *f = fopen(full, "rb");
  if (!f) {
    fprintf(stderr, "vectors: cannot open %s\n", full);
    return TERN_EIO;
  }
  fseek(f, 0, SEEK_END);
  long sz = ftell(f);
  fseek(f, 0, SEEK_SET);
  tern_arena_init(&v->arena, 0, NULL, 0);
  v->text = sz >= 0 ? tern_arena_alloc(&v->arena, (size_t)sz + 1) : NULL;
  if (!v->text || fread(v->text, 1, (size_t)sz, f) != (size_t)sz) {
    fclose(f);
    fprintf(stderr, "vectors: cannot read %s\n", full);
    return TERN_EIO;
  }
  fclose(f);
  v->len = (size_t)sz;
  tern_str_t text = {v->text, v->len};
  tern_json_doc_init(&v->doc, text, NULL, 0, &v->arena);
  tern_err_t err = {0};
  int rc = tern_json_parse(&v->doc, NULL, &err);
  if (rc < 0 || v->doc.n == 0 || v->doc.toks[0].type != TERN_JSON_OBJECT) {
    fprintf(stderr, "vectors: %s: not a JSON object (%s at byte %zu)\n", v->path, err.reason ? err.reason : "?", err.pos);
    return rc < 0 ? rc : TERN_EPROTO;
  }
  return TERN_OK;
}

void tern_vec_free(tern_vec_t *v) { tern_arena_free(&v->arena); }

uint32_t tern_vec_get(const tern_vec_t *v, uint32_t obj, const char *key) {
  uint32_t val;
  if (obj == TERN_VEC_NONE || tern_json_find(&v->doc, obj, key, &val) < 0) return TERN_VEC_NONE;
  return val;
}

bool tern_vec_is_null(const tern_vec_t *v, uint32_t tok) {
  return tok == TERN_VEC_NONE || v->doc.toks[tok].type == TERN_JSON_NULL;
}

uint32_t tern_vec_size(const tern_vec_t *v, uint32_t tok) { return tok == TERN_VEC_NONE ? 0 : v->doc.toks[tok].size; }

uint32_t tern_vec_at(const tern_vec_t *v, uint32_t arr, uint32_t i) {
  if (arr == TERN_VEC_NONE || v->doc.toks[arr].type != TERN_JSON_ARRAY || i >= v->doc.toks[arr].size) return TERN_VEC_NONE;
  uint32_t t = arr + 1;
  while (i--) t = v->doc.toks[t].next;
  return t;
}

tern_str_t tern_vec_str(tern_vec_t *v, uint32_t tok) {
  tern_str_t s = TERN_STR_NULL;
  if (tok == TERN_VEC_NONE || v->doc.toks[tok].type != TERN_JSON_STRING) return s;
  if (tern_json_get_str(&v->doc, tok, &v->arena, &s) < 0) return TERN_STR_NULL;
  if (!s.p) s.p = v->text + v->doc.toks[tok].start; /* "" is a string, not null */
  return s;
}

int64_t tern_vec_int(const tern_vec_t *v, uint32_t tok, bool *ok) {
  int64_t x = 0;
  *ok = tok != TERN_VEC_NONE && v->doc.toks[tok].type == TERN_JSON_NUMBER && tern_json_get_i64(&v->doc, tok, &x) == 0;
  return x;
}

bool tern_vec_bool(const tern_vec_t *v, uint32_t tok) {
  return tok != TERN_VEC_NONE && v->doc.toks[tok].type == TERN_JSON_TRUE;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

tern_str_t tern_vec_hex(tern_vec_t *v, uint32_t tok) {
  tern_str_t s = tern_vec_str(v, tok), r = TERN_STR_NULL;
  if (!s.p || s.n % 2) return r;
  char *out = tern_arena_alloc(&v->arena, s.n / 2 + 1);
  if (!out) return r;
  for (size_t i = 0; i < s.n / 2; i++) {
    int hi = hexval(s.p[2 * i]), lo = hexval(s.p[2 * i + 1]);
    if (hi < 0 || lo < 0) return r;
    out[i] = (char)(hi << 4 | lo);
  }
  r.p = out;
  r.n = s.n / 2;
  return r;
}
