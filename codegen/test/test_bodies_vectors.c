/* Runs every vector in spec/vectors/bodies/: decode with the named body codec;
 * expected errors must match code and field; otherwise encode in the vector's
 * flavour and compare byte for byte with the input (roundtrip) or with the
 * vector's canonical text; the re-encoded text must decode again to the same
 * bytes. The vector files are read with the tokenizer under test. */
#include "gen/bodies.h"
#include "tern_test.h"

#include <dirent.h>
#include <stdlib.h>

typedef struct {
  char name[256];
  tern_str_t type, flavor, body, canonical, error, field;
  bool roundtrip, has_canonical;
} vector_t;

static char *slurp(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  char *p;
  long sz;
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  sz = ftell(f);
  fseek(f, 0, SEEK_SET);
  p = malloc((size_t)sz + 1);
  if (p && fread(p, 1, (size_t)sz, f) != (size_t)sz) {
    free(p);
    p = NULL;
  }
  fclose(f);
  if (p) p[sz] = '\0';
  *n = (size_t)sz;
  return p;
}

static int load_vector(const char *text, size_t n, tern_arena_t *a, vector_t *v) {
  tern_json_doc_t d;
  tern_err_t e;
  uint32_t t;
  bool b;
  int rc;
  tern_json_doc_init(&d, (tern_str_t){text, n}, NULL, 0, a);
  if ((rc = tern_json_parse(&d, NULL, &e))) return rc;
#define STR(key, dst)                                                  \
  if (tern_json_find(&d, 0, key, &t) == 0 && tern_json_get_str(&d, t, a, &dst)) return TERN_EPROTO;
  STR("type", v->type);
  STR("flavor", v->flavor);
  STR("body", v->body);
  STR("error", v->error);
  STR("field", v->field);
  v->has_canonical = tern_json_find(&d, 0, "canonical", &t) == 0;
  STR("canonical", v->canonical);
#undef STR
  if (tern_json_find(&d, 0, "roundtrip", &t) || tern_json_get_bool(&d, t, &b)) return TERN_EPROTO;
  v->roundtrip = b;
  return 0;
}

static unsigned flavor_flags(tern_str_t f) {
  if (tern_str_eq_cstr(f, "legacy")) return TERN_JSON_LEGACY_KEYS;
  if (tern_str_eq_cstr(f, "pretty")) return TERN_JSON_PRETTY;
  if (tern_str_eq_cstr(f, "pretty-legacy")) return TERN_JSON_PRETTY | TERN_JSON_LEGACY_KEYS;
  return 0;
}

/* Returns NULL when the vector holds, else a static description. */
static const char *run_vector(const vector_t *v, tern_arena_t *a, char *why, size_t whylen) {
  char type[128];
  const tern_body_codec_t *c;
  void *obj, *obj2;
  tern_err_t e = {0};
  tern_buf_t b, b2;
  int rc;
  snprintf(type, sizeof type, "%.*s", (int)v->type.n, v->type.p);
  c = tern_body_codec_find(type);
  if (!c) return "unknown body type";
  obj = tern_arena_calloc(a, 1, c->size);
  obj2 = tern_arena_calloc(a, 1, c->size);
  rc = c->decode(v->body, a, obj, &e);
  if (v->error.n) {
    if (!tern_str_eq_cstr(v->error, tern_errname(rc))) {
      snprintf(why, whylen, "expected %.*s, got %s (%s)", (int)v->error.n, v->error.p, tern_errname(rc),
               e.reason ? e.reason : "");
      return why;
    }
    if (!e.reason) return "error without a reason";
    if (v->field.n && (!e.field || !tern_str_eq_cstr(v->field, e.field))) {
      snprintf(why, whylen, "error names field %s, expected %.*s", e.field ? e.field : "(none)", (int)v->field.n,
               v->field.p);
      return why;
    }
    return NULL;
  }
  if (rc) {
    snprintf(why, whylen, "decode failed: %s: %s (field %s, pos %zu)", tern_errname(rc), e.reason,
             e.field ? e.field : "-", e.pos);
    return why;
  }
  tern_buf_init(&b, 0);
  tern_buf_init(&b2, 0);
  c->encode(obj, &b, flavor_flags(v->flavor));
  {
    tern_str_t want = v->roundtrip ? v->body : v->canonical;
    if (!v->roundtrip && !v->has_canonical) want = (tern_str_t){NULL, 0};
    if (want.p && (b.err || b.len != want.n || memcmp(b.p, want.p, want.n) != 0)) {
      snprintf(why, whylen, "encoded differs:\n    got  %.*s\n    want %.*s", (int)b.len, (const char *)b.p,
               (int)want.n, want.p);
      tern_buf_free(&b);
      tern_buf_free(&b2);
      return why;
    }
  }
  /* Stability: what we write decodes and re-encodes to the same bytes. */
  rc = c->decode((tern_str_t){(const char *)b.p, b.len}, a, obj2, &e);
  if (!rc) c->encode(obj2, &b2, flavor_flags(v->flavor));
  if (rc || b2.len != b.len || memcmp(b.p, b2.p, b.len) != 0) {
    tern_buf_free(&b);
    tern_buf_free(&b2);
    return "re-decoding our own output did not reproduce it";
  }
  tern_buf_free(&b);
  tern_buf_free(&b2);
  return NULL;
}

TEST(body_vectors) {
  char dir[1024], path[2048], why[4096];
  DIR *dp;
  struct dirent *de;
  int count = 0, failed = 0;
  snprintf(dir, sizeof dir, "%s/spec/vectors/bodies", tern_test_srcdir());
  dp = opendir(dir);
  ASSERT(dp != NULL);
  while ((de = readdir(dp))) {
    size_t n, l = strlen(de->d_name);
    char *text;
    vector_t v;
    tern_arena_t a;
    const char *res;
    if (l < 6 || strcmp(de->d_name + l - 5, ".json") != 0) continue;
    snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
    text = slurp(path, &n);
    if (!text) {
      fprintf(stderr, "  %s: unreadable\n", de->d_name);
      failed++;
      continue;
    }
    memset(&v, 0, sizeof v);
    tern_arena_init(&a, 1 << 22, NULL, 0);
    if (load_vector(text, n, &a, &v)) res = "malformed vector file";
    else res = run_vector(&v, &a, why, sizeof why);
    if (res) {
      fprintf(stderr, "  %s: %s\n", de->d_name, res);
      failed++;
    }
    count++;
    tern_arena_free(&a);
    free(text);
  }
  closedir(dp);
  fprintf(stderr, "  %d body vectors, %d failed\n", count, failed);
  ASSERT(count >= 40);
  ASSERT_EQ(failed, 0);
}
