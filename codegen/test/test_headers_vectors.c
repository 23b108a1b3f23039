/* Golden vectors (spec/vectors/headers/): extFields exactly as real clients send
 * them (Java strings, cpp and ali-ons numbers and booleans turned into text by
 * the JSON layer, repeated keys from ROCKETMQ-serialized Java requests) must
 * decode to the expected typed fields, or fail naming the expected key. The
 * table is built from the JSON files by test_headers_vectors.py at build time. */
#include "gen/headers.h"
#include "tern_test.h"

typedef struct vec {
  const char *file, *header;
  uint32_t n_ext;
  struct { const char *k, *v; } ext[48];
  uint32_t n_expect;
  struct { const char *k; char kind; const char *s; int64_t i; } expect[32];
  uint32_t n_absent;
  const char *absent[16];
  int err_code;
  const char *err_field;
} vec_t;

static const vec_t vectors[] = {
#include "header_vectors.inc"
};

static const tern_hdr_field_info_t *field(const tern_hdr_info_t *hi, const char *key) {
  for (uint32_t i = 0; i < hi->n_fields; i++)
    if (strcmp(hi->fields[i].key, key) == 0) return &hi->fields[i];
  return NULL;
}

/* Checks one expectation; returns NULL or a description of the mismatch. */
static const char *check(const void *h, const tern_hdr_field_info_t *f, char kind, const char *s, int64_t i,
                         char (*msg)[200]) {
  const uint8_t *p = (const uint8_t *)h + f->offset;
  switch (f->type) {
  case TERN_HDR_T_STRING: {
    tern_str_t v;
    memcpy(&v, p, sizeof v);
    if (kind != 's' || !tern_str_eq_cstr(v, s)) {
      snprintf(*msg, sizeof *msg, "got \"%.*s\"", TERN_STR_ARG(v));
      return *msg;
    }
    return NULL;
  }
  case TERN_HDR_T_INT32:
  case TERN_HDR_T_INT64: {
    int64_t v;
    if (f->type == TERN_HDR_T_INT32) {
      int32_t x;
      memcpy(&x, p, sizeof x);
      v = x;
    } else {
      memcpy(&v, p, sizeof v);
    }
    if (kind != 'i' || v != i) {
      snprintf(*msg, sizeof *msg, "got %lld", (long long)v);
      return *msg;
    }
    return NULL;
  }
  case TERN_HDR_T_BOOL:
    if (kind != 'b' || *(const bool *)p != (i != 0)) return "boolean differs";
    return NULL;
  case TERN_HDR_T_ENUM: {
    int32_t x;
    memcpy(&x, p, sizeof x);
    if (kind != 's' || x < 0 || (uint32_t)x >= f->n_enum || strcmp(f->enum_names[x], s) != 0) return "enum differs";
    return NULL;
  }
  }
  return "unknown type";
}

static tern_cmd_t g_cmd;

TEST(client_vectors_decode_as_expected) {
  ASSERT(TERN_ARRAY_SIZE(vectors) >= 15);
  for (size_t n = 0; n < TERN_ARRAY_SIZE(vectors); n++) {
    const vec_t *v = &vectors[n];
    const tern_hdr_info_t *hi = tern_hdr_info_find(tern_str_from_cstr(v->header));
    if (!hi) TERN__FAIL("%s: no header %s", v->file, v->header);
    memset(&g_cmd, 0, sizeof g_cmd);
    for (uint32_t i = 0; i < v->n_ext; i++) {
      g_cmd.ext[i].key = tern_str_from_cstr(v->ext[i].k);
      g_cmd.ext[i].val = tern_str_from_cstr(v->ext[i].v);
    }
    g_cmd.n_ext = v->n_ext;
    _Alignas(16) uint8_t h[1024];
    ASSERT(hi->size <= sizeof h);
    tern_err_t err = {0};
    int r = hi->decode(&g_cmd, h, &err);
    if (v->err_code) {
      if (r != v->err_code) TERN__FAIL("%s: got %d, want %d", v->file, r, v->err_code);
      if (!err.field || strcmp(err.field, v->err_field) != 0)
        TERN__FAIL("%s: error names %s, want %s", v->file, err.field ? err.field : "nothing", v->err_field);
      continue;
    }
    if (r != 0) TERN__FAIL("%s: decode returned %d (%s, %s)", v->file, r, err.reason, err.field);
    for (uint32_t i = 0; i < v->n_expect; i++) {
      const tern_hdr_field_info_t *f = field(hi, v->expect[i].k);
      char msg[200];
      if (!f) TERN__FAIL("%s: %s has no field %s", v->file, v->header, v->expect[i].k);
      const char *bad = check(h, f, v->expect[i].kind, v->expect[i].s, v->expect[i].i, &msg);
      if (bad) TERN__FAIL("%s: field %s: %s", v->file, f->key, bad);
    }
    for (uint32_t i = 0; i < v->n_absent; i++) {
      const tern_hdr_field_info_t *f = field(hi, v->absent[i]);
      if (!f) TERN__FAIL("%s: %s has no field %s", v->file, v->header, v->absent[i]);
      if (*(const uint32_t *)h & f->bit) TERN__FAIL("%s: %s should be absent", v->file, f->key);
    }
  }
}

/* Re-encoding a decoded vector and decoding again gives the same header: what Tern
 * forwards or logs is what the client meant. */
TEST(client_vectors_survive_reencoding) {
  for (size_t n = 0; n < TERN_ARRAY_SIZE(vectors); n++) {
    const vec_t *v = &vectors[n];
    if (v->err_code) continue;
    const tern_hdr_info_t *hi = tern_hdr_info_find(tern_str_from_cstr(v->header));
    ASSERT(hi != NULL);
    memset(&g_cmd, 0, sizeof g_cmd);
    for (uint32_t i = 0; i < v->n_ext; i++) {
      g_cmd.ext[i].key = tern_str_from_cstr(v->ext[i].k);
      g_cmd.ext[i].val = tern_str_from_cstr(v->ext[i].v);
    }
    g_cmd.n_ext = v->n_ext;
    _Alignas(16) uint8_t a[1024], b[1024];
    ASSERT_OK(hi->decode(&g_cmd, a, NULL));
    static tern_cmd_t again;
    memset(&again, 0, sizeof again);
    tern_arena_t ar;
    tern_arena_init(&ar, 0, NULL, 0);
    int r = hi->encode(a, &again, &ar);
    if (r == 0) r = hi->decode(&again, b, NULL);
    int same = r == 0 && memcmp(a, b, sizeof(uint32_t)) == 0;
    for (uint32_t i = 0; same && i < hi->n_fields; i++) {
      const tern_hdr_field_info_t *f = &hi->fields[i];
      if (!(*(const uint32_t *)a & f->bit)) continue;
      if (f->type == TERN_HDR_T_STRING) {
        tern_str_t x, y;
        memcpy(&x, a + f->offset, sizeof x);
        memcpy(&y, b + f->offset, sizeof y);
        same = tern_str_eq(x, y);
      } else {
        size_t w = f->type == TERN_HDR_T_INT64 ? 8 : f->type == TERN_HDR_T_BOOL ? sizeof(bool) : 4;
        same = memcmp(a + f->offset, b + f->offset, w) == 0;
      }
    }
    tern_arena_free(&ar);
    if (!same) TERN__FAIL("%s: re-encoding changed the header (r=%d)", v->file, r);
  }
}
