/* The four metadata files, typed: each save encodes with the generated body
 * encoder (pretty, legacy integer keys) and hands the text to the atomic
 * writer; each load copies the file text into the caller's arena (decoded
 * strings point into it) and decodes, falling back to .bak when decoding
 * fails. */
#include "broker/store/meta.h"
#include "runtime/arena.h"
#include "runtime/buf.h"

#define META_FLAGS (TERN_JSON_PRETTY | TERN_JSON_LEGACY_KEYS)

typedef int (*decode_fn)(tern_str_t json, tern_arena_t *a, void *out, tern_err_t *err);
typedef struct load_ctx {
  tern_arena_t *a;
  void *out;
  decode_fn decode;
} load_ctx_t;

static int parse_into(void *ctx, const uint8_t *data, size_t len) {
  load_ctx_t *l = ctx;
  char *copy = tern_arena_alloc(l->a, len + 1);
  if (!copy) return TERN_ENOMEM;
  memcpy(copy, data, len);
  copy[len] = 0;
  tern_err_t err = {0};
  return l->decode((tern_str_t){copy, len}, l->a, l->out, &err);
}

static int save(tern_store_t *s, const char *name, tern_buf_t *b, tern_err_t *err) {
  int rc = b->err ? tern_fail(err, b->err, "metadata does not encode", NULL, 0)
                  : tern_store_meta_write(s, name, b->p, b->len, err);
  tern_buf_free(b);
  return rc;
}

#define META_PAIR(fn, type, file)                                                                       \
  int tern_store_save_##fn(tern_store_t *s, const tern_body_##type##_t *v, tern_err_t *err) {            \
    tern_buf_t b;                                                                                       \
    tern_buf_init(&b, 0);                                                                               \
    tern_body_##type##_encode(v, &b, META_FLAGS);                                                       \
    return save(s, file, &b, err);                                                                      \
  }                                                                                                     \
  static int decode_##fn(tern_str_t json, tern_arena_t *a, void *out, tern_err_t *err) {                \
    memset(out, 0, sizeof(tern_body_##type##_t));                                                       \
    return tern_body_##type##_decode(json, a, out, err);                                                \
  }                                                                                                     \
  int tern_store_load_##fn(tern_store_t *s, tern_arena_t *a, tern_body_##type##_t *out, tern_err_t *err) { \
    load_ctx_t l = {a, out, decode_##fn};                                                               \
    return tern_store_meta_load(s, file, parse_into, &l, err);                                          \
  }

META_PAIR(topics, topic_config_serialize_wrapper, TERN_META_TOPICS)
META_PAIR(consumer_offsets, consumer_offset_serialize_wrapper, TERN_META_CONSUMER_OFFSET)
META_PAIR(subscription_groups, subscription_group_wrapper, TERN_META_SUBSCRIPTION_GROUP)
META_PAIR(delay_offsets, delay_offset_serialize_wrapper, TERN_META_DELAY_OFFSET)
