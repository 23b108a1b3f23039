/* Fuzzes the generated custom-header decoders (gen/headers.h). The first byte
 * picks a header type; the rest is an ext list: entries split on 0x00, key and
 * value split on the first 0x01 (no 0x01 = a null value), and an entry 0x02 <b>
 * <value> stands for the header's own field number b, so the fuzzer reaches every key.
 * Whatever decodes must encode, decode again to the same fields, and encode to
 * the same ext list; whatever fails must name a field and a reason. */
#include <stdlib.h>

#include "gen/headers.h"

static void check(bool ok) {
  if (!ok) abort();
}

static bool field_eq(const uint8_t *a, const uint8_t *b, const tern_hdr_field_info_t *f) {
  switch (f->type) {
  case TERN_HDR_T_STRING: {
    tern_str_t x, y;
    memcpy(&x, a + f->offset, sizeof x);
    memcpy(&y, b + f->offset, sizeof y);
    return tern_str_eq(x, y);
  }
  case TERN_HDR_T_INT64:
    return memcmp(a + f->offset, b + f->offset, 8) == 0;
  case TERN_HDR_T_BOOL:
    return *(const bool *)(a + f->offset) == *(const bool *)(b + f->offset);
  default:
    return memcmp(a + f->offset, b + f->offset, 4) == 0;
  }
}

static tern_cmd_t in, out1, out2;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  const tern_hdr_info_t *hi = &tern_hdr_infos[data[0] % TERN_HDR_COUNT];
  memset(&in, 0, sizeof in);
  size_t i = 1;
  while (i <= size && in.n_ext < TERN_CMD_MAX_EXT) {
    size_t end = i;
    while (end < size && data[end] != 0) end++;
    const char *p = (const char *)data + i;
    size_t n = end - i, k = 0;
    while (k < n && p[k] != 1) k++;
    tern_kv_t *kv = &in.ext[in.n_ext++];
    if (n >= 2 && p[0] == 2 && hi->n_fields) {
      /* 0x02 <b> <value...>: field b's key; no value bytes = null */
      kv->key = tern_str_from_cstr(hi->fields[(uint8_t)p[1] % hi->n_fields].key);
      kv->val = n > 2 ? (tern_str_t){p + 2, n - 2} : TERN_STR_NULL;
    } else {
      kv->key = (tern_str_t){p, k};
      kv->val = k < n ? (tern_str_t){p + k + 1, n - k - 1} : TERN_STR_NULL;
    }
    i = end + 1;
  }

  _Alignas(16) uint8_t a[1024], b[1024];
  check(hi->size <= sizeof a);
  tern_err_t err = {0};
  int r = hi->decode(&in, a, &err);
  if (r != 0) {
    check(r == TERN_EMISSING || r == TERN_EPROTO || r == TERN_ERANGE);
    check(err.code == r && err.reason != NULL && err.field != NULL);
    return 0;
  }
  tern_arena_t ar;
  tern_arena_init(&ar, 1 << 16, NULL, 0);
  memset(&out1, 0, sizeof out1);
  memset(&out2, 0, sizeof out2);
  check(hi->encode(a, &out1, &ar) == 0);
  check(hi->decode(&out1, b, &err) == 0);
  check(*(const uint32_t *)a == *(const uint32_t *)b);
  for (uint32_t f = 0; f < hi->n_fields; f++) check(field_eq(a, b, &hi->fields[f]));
  check(hi->encode(b, &out2, &ar) == 0);
  check(out1.n_ext == out2.n_ext);
  for (uint32_t e = 0; e < out1.n_ext; e++)
    check(tern_str_eq(out1.ext[e].key, out2.ext[e].key) && tern_str_eq(out1.ext[e].val, out2.ext[e].val));
  tern_arena_free(&ar);
  return 0;
}
