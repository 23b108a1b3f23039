/* Fuzzes every JSON body decoder (gen/bodies.h) and the compressed
 * REGISTER_BROKER form. Input: one byte of encoder flags, then
 * "<JavaClassName>:" and the body (seeds name their codec, so they stay valid
 * as spec/bodies grows); without a known name, byte 0 also picks the codec,
 * "RegisterBrokerBody.compressed:" (or the last pick) is the zlib form. Whatever
 * decodes must encode, and our own encoding must decode and re-encode to the
 * same bytes. */
#include <stdlib.h>

#include "gen/bodies.h"

static void check(bool ok) {
  if (!ok) abort();
}

static void json_stable(const tern_body_codec_t *c, const void *obj, unsigned flags, tern_arena_t *a) {
  tern_buf_t b1, b2;
  tern_err_t err;
  void *obj2 = tern_arena_calloc(a, 1, c->size);
  if (!obj2) return;
  tern_buf_init(&b1, 0);
  tern_buf_init(&b2, 0);
  c->encode(obj, &b1, flags);
  check(b1.err == 0);
  if (c->decode((tern_str_t){(const char *)b1.p, b1.len}, a, obj2, &err) == 0) {
    c->encode(obj2, &b2, flags);
    check(b2.len == b1.len && memcmp(b1.p, b2.p, b1.len) == 0);
  } else {
    check(err.code == TERN_ENOMEM); /* only the arena may stop us re-reading our own output */
  }
  tern_buf_free(&b1);
  tern_buf_free(&b2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tern_arena_t a;
  tern_err_t err;
  tern_str_t body;
  unsigned pick, flags;
  if (size < 1) return 0;
  flags = data[0] & (TERN_JSON_LEGACY_KEYS | TERN_JSON_PRETTY);
  pick = data[0] % (TERN_BODY_CODEC_COUNT + 1);
  body = (tern_str_t){(const char *)data + 1, size - 1};
  {
    const char *colon = memchr(body.p, ':', body.n < 64 ? body.n : 64);
    if (colon) {
      char name[64];
      size_t n = (size_t)(colon - body.p);
      const tern_body_codec_t *c;
      memcpy(name, body.p, n);
      name[n] = '\0';
      if ((c = tern_body_codec_find(name)) != NULL) pick = (unsigned)(c - tern_body_codecs);
      else if (strcmp(name, "RegisterBrokerBody.compressed") == 0) pick = TERN_BODY_CODEC_COUNT;
      if (c || pick == TERN_BODY_CODEC_COUNT) {
        body.p = colon + 1;
        body.n -= n + 1;
      }
    }
  }
  tern_arena_init(&a, 4 << 20, NULL, 0);
  if (pick < TERN_BODY_CODEC_COUNT) {
    const tern_body_codec_t *c = &tern_body_codecs[pick];
    void *obj = tern_arena_calloc(&a, 1, c->size);
    check(obj != NULL);
    if (c->decode(body, &a, obj, &err) == 0) json_stable(c, obj, flags, &a);
    else check(err.reason != NULL);
  } else {
    tern_body_register_broker_body_t rb, rb2;
    if (tern_body_register_broker_body_decode_compressed(body, 1 << 20, &a, &rb, &err) == 0) {
      tern_buf_t z, j1, j2;
      tern_buf_init(&z, 0);
      tern_buf_init(&j1, 0);
      tern_buf_init(&j2, 0);
      check(tern_body_register_broker_body_encode_compressed(&rb, flags & 1, &z) == 0);
      if (tern_body_register_broker_body_decode_compressed((tern_str_t){(const char *)z.p, z.len}, 0, &a, &rb2, &err) == 0) {
        /* The 5.x layout always carries attributes ("{}" when there are none). */
        for (uint32_t i = 0; (flags & 1) && i < rb.topic_config_serialize_wrapper.topic_config_table.n; i++)
          rb.topic_config_serialize_wrapper.topic_config_table.v[i].val.has |= TERN_BODY_TOPIC_CONFIG_HAS_ATTRIBUTES;
        tern_body_register_broker_body_encode(&rb, &j1, 0);
        tern_body_register_broker_body_encode(&rb2, &j2, 0);
        /* Attributes only survive the 5.x layout. */
        if (flags & 1) check(j1.len == j2.len && memcmp(j1.p, j2.p, j1.len) == 0);
      } else {
        check(err.code == TERN_ENOMEM);
      }
      tern_buf_free(&z);
      tern_buf_free(&j1);
      tern_buf_free(&j2);
    } else {
      check(err.reason != NULL);
    }
  }
  tern_arena_free(&a);
  return 0;
}
