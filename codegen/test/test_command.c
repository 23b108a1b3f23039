/* The remoting command against its golden vectors (spec/vectors/command):
 * every vector decodes to its "decoded" fields, roundtrip vectors re-encode to
 * the same bytes, and the frame parser finds the same frames whether the bytes
 * arrive whole, split at any byte, one byte at a time, or 1000 to a buffer. */
#include <stdlib.h>

#include "gen/codes.h"
#include "gen/command.h"
#include "tern_test.h"
#include "vectors.h"

static char names[TERN_VEC_MAX_FILES][TERN_VEC_NAME_MAX];
static int n_names;

static int load_names(void) {
  if (n_names == 0) n_names = tern_vec_list("command", names, TERN_VEC_MAX_FILES);
  return n_names;
}

/* Checks cmd against the vector's "decoded" object; returns false (after a
 * message) on the first difference. */
static bool matches(tern_vec_t *v, const tern_cmd_t *c) {
  uint32_t d = tern_vec_get(v, 0, "decoded");
  bool ok;
#define FIELD_INT(name, got)                                                                       \
  do {                                                                                             \
    int64_t want = tern_vec_int(v, tern_vec_get(v, d, name), &ok);                                 \
    if (!ok || want != (int64_t)(got)) {                                                           \
      fprintf(stderr, "  %s: %s: want %lld, got %lld\n", v->path, name, (long long)want, (long long)(got)); \
      return false;                                                                                \
    }                                                                                              \
  } while (0)
  FIELD_INT("code", c->code);
  FIELD_INT("language", c->language);
  FIELD_INT("version", c->version);
  FIELD_INT("opaque", c->opaque);
  FIELD_INT("flag", c->flag);
  tern_str_t lname = tern_vec_str(v, tern_vec_get(v, d, "language_name"));
  if (!tern_str_eq(lname, c->language_name)) {
    fprintf(stderr, "  %s: language_name differs\n", v->path);
    return false;
  }
  uint32_t r = tern_vec_get(v, d, "remark");
  if (tern_vec_is_null(v, r) ? c->has_remark : (!c->has_remark || !tern_str_eq(tern_vec_str(v, r), c->remark))) {
    fprintf(stderr, "  %s: remark differs (has_remark %d, \"%.*s\")\n", v->path, c->has_remark, TERN_STR_ARG(c->remark));
    return false;
  }
  uint32_t ext = tern_vec_get(v, d, "extFields");
  if (tern_vec_size(v, ext) != c->n_ext) {
    fprintf(stderr, "  %s: %u extFields expected, got %u\n", v->path, tern_vec_size(v, ext), c->n_ext);
    return false;
  }
  for (uint32_t i = 0; i < c->n_ext; i++) {
    uint32_t pair = tern_vec_at(v, ext, i);
    tern_str_t k = tern_vec_str(v, tern_vec_at(v, pair, 0));
    uint32_t vt = tern_vec_at(v, pair, 1);
    bool null_want = tern_vec_is_null(v, vt), null_got = c->ext[i].val.p == NULL;
    if (!tern_str_eq(k, c->ext[i].key) || null_want != null_got ||
        (!null_want && !tern_str_eq(tern_vec_str(v, vt), c->ext[i].val))) {
      fprintf(stderr, "  %s: extFields[%u] (%.*s) differs: got %.*s=%.*s\n", v->path, i, TERN_STR_ARG(k),
              TERN_STR_ARG(c->ext[i].key), TERN_STR_ARG(c->ext[i].val));
      return false;
    }
  }
  tern_str_t body = tern_vec_hex(v, tern_vec_get(v, d, "body_hex"));
  if (!body.p || !tern_str_eq(body, c->body)) {
    fprintf(stderr, "  %s: body differs (%zu vs %zu bytes)\n", v->path, body.n, c->body.n);
    return false;
  }
  return true;
#undef FIELD_INT
}

TEST(vectors_exist) {
  ASSERT(load_names() >= 14);
}

TEST(every_vector_decodes_to_its_fields) {
  ASSERT(load_names() > 0);
  for (int i = 0; i < n_names; i++) {
    tern_vec_t v;
    ASSERT_OK(tern_vec_load(&v, "command", names[i]));
    tern_str_t bytes = tern_vec_hex(&v, tern_vec_get(&v, 0, "hex"));
    ASSERT(bytes.p != NULL);
    tern_frame_parser_t p;
    tern_frame_parser_init(&p, 0);
    tern_frame_t f;
    tern_err_t err = {0};
    ASSERT_EQ(tern_frame_next(&p, (const uint8_t *)bytes.p, bytes.n, &f, &err), (long long)bytes.n);
    ASSERT_EQ(f.frame_len, bytes.n);
    tern_cmd_t cmd;
    tern_arena_t scratch;
    tern_arena_init(&scratch, 1 << 20, NULL, 0);
    int rc = tern_cmd_decode(&f, &cmd, &scratch, &err);
    if (rc) fprintf(stderr, "  %s: %s (%s at %zu)\n", v.path, tern_errname(rc), err.reason, err.pos);
    ASSERT_OK(rc);
    bool ok = matches(&v, &cmd);
    tern_arena_free(&scratch);
    tern_vec_free(&v);
    ASSERT(ok);
  }
}

TEST(roundtrip_vectors_reencode_byte_for_byte) {
  int roundtrips = 0;
  ASSERT(load_names() > 0);
  for (int i = 0; i < n_names; i++) {
    tern_vec_t v;
    ASSERT_OK(tern_vec_load(&v, "command", names[i]));
    if (!tern_vec_bool(&v, tern_vec_get(&v, 0, "roundtrip"))) {
      tern_vec_free(&v);
      continue;
    }
    roundtrips++;
    tern_str_t bytes = tern_vec_hex(&v, tern_vec_get(&v, 0, "hex"));
    tern_frame_parser_t p;
    tern_frame_parser_init(&p, 0);
    tern_frame_t f;
    tern_cmd_t cmd;
    ASSERT(tern_frame_next(&p, (const uint8_t *)bytes.p, bytes.n, &f, NULL) > 0);
    ASSERT_OK(tern_cmd_decode(&f, &cmd, &v.arena, NULL));
    tern_buf_t out;
    tern_buf_init(&out, 0);
    ASSERT_OK(tern_cmd_encode(&cmd, &out));
    if (out.len != bytes.n) fprintf(stderr, "  %s: %zu bytes, want %zu\n", v.path, out.len, bytes.n);
    ASSERT_EQ(out.len, bytes.n);
    ASSERT_MEM_EQ(out.p, bytes.p, bytes.n);
    /* encode_head writes the same prefix and header, leaving the body to the caller. */
    tern_buf_reset(&out);
    ASSERT_OK(tern_cmd_encode_head(&cmd, (uint32_t)cmd.body.n, &out));
    ASSERT_EQ(out.len + cmd.body.n, bytes.n);
    ASSERT_MEM_EQ(out.p, bytes.p, out.len);
    tern_buf_free(&out);
    tern_vec_free(&v);
  }
  ASSERT(roundtrips >= 8);
}

/* Builds a command from scratch (as a server does) and checks the exact JSON. */
TEST(encode_from_scratch_is_fastjson_layout) {
  tern_cmd_t c;
  tern_cmd_init(&c);
  c.code = TERN_RESP_SUCCESS;
  c.flag = TERN_FLAG_RESPONSE;
  c.opaque = 7;
  c.version = 409;
  ASSERT_OK(tern_cmd_ext_add(&c, TERN_STR("queueId"), TERN_STR("1")));
  ASSERT_OK(tern_cmd_ext_add(&c, TERN_STR("msgId"), TERN_STR("old")));
  ASSERT_OK(tern_cmd_ext_add(&c, TERN_STR("drop"), TERN_STR_NULL)); /* null: omitted */
  ASSERT_OK(tern_cmd_ext_add(&c, TERN_STR("MSG_REGION"), TERN_STR("DefaultRegion")));
  ASSERT_OK(tern_cmd_ext_add(&c, TERN_STR("msgId"), TERN_STR("A\"B"))); /* last wins */
  tern_buf_t b;
  tern_buf_init(&b, 0);
  ASSERT_OK(tern_cmd_encode(&c, &b));
  const char *want =
      "{\"code\":0,\"extFields\":{\"MSG_REGION\":\"DefaultRegion\",\"msgId\":\"A\\\"B\",\"queueId\":\"1\"},"
      "\"flag\":1,\"language\":\"JAVA\",\"opaque\":7,\"serializeTypeCurrentRPC\":\"JSON\",\"version\":409}";
  ASSERT_EQ(b.len, 8 + strlen(want));
  ASSERT_EQ(tern_load_be32(b.p), 4 + strlen(want));
  ASSERT_EQ(tern_load_be32(b.p + 4), strlen(want));
  ASSERT_MEM_EQ(b.p + 8, want, strlen(want));
  ASSERT_STR(*tern_cmd_ext_get(&c, "msgId"), "A\"B");
  ASSERT(tern_cmd_ext_get(&c, "drop") == NULL);
  ASSERT(tern_cmd_ext_get(&c, "missing") == NULL);
  tern_buf_free(&b);
}

TEST(binary_encode_writes_each_key_once_and_skips_nulls) {
  tern_cmd_t c;
  tern_cmd_init(&c);
  c.serialize_type = TERN_SER_ROCKETMQ;
  c.code = 310;
  ASSERT_OK(tern_cmd_ext_add(&c, TERN_STR("a"), TERN_STR("1")));
  ASSERT_OK(tern_cmd_ext_add(&c, TERN_STR("n"), TERN_STR_NULL));
  ASSERT_OK(tern_cmd_ext_add(&c, TERN_STR("a"), TERN_STR("2")));
  tern_buf_t b;
  tern_buf_init(&b, 0);
  ASSERT_OK(tern_cmd_encode(&c, &b));
  /* 21 fixed + one entry (2 + 1 + 4 + 1). */
  ASSERT_EQ(b.len, 8 + 21 + 8);
  ASSERT_EQ(b.p[4], TERN_SER_ROCKETMQ);
  ASSERT_EQ(tern_load_be32(b.p + 8 + 17), 8);
  ASSERT_EQ(b.p[8 + 21 + 2], 'a');
  ASSERT_EQ(b.p[8 + 21 + 7], '2');
  tern_buf_free(&b);
}

/* Feeds the prefix [0, k) then the whole frame, for every k. */
TEST(frame_split_at_every_byte) {
  ASSERT(load_names() > 0);
  for (int i = 0; i < n_names; i++) {
    tern_vec_t v;
    ASSERT_OK(tern_vec_load(&v, "command", names[i]));
    tern_str_t bytes = tern_vec_hex(&v, tern_vec_get(&v, 0, "hex"));
    const uint8_t *buf = (const uint8_t *)bytes.p;
    for (size_t k = 0; k < bytes.n; k++) {
      tern_frame_parser_t p;
      tern_frame_parser_init(&p, 0);
      tern_frame_t f;
      ASSERT_EQ(tern_frame_next(&p, buf, k, &f, NULL), 0);
      ASSERT_EQ(tern_frame_next(&p, buf, bytes.n, &f, NULL), (long long)bytes.n);
      ASSERT(f.header == buf + 8);
      ASSERT_EQ(f.header_len + f.body_len + 8, bytes.n);
    }
    /* One byte more per call, the way a slow socket delivers it. */
    tern_frame_parser_t p;
    tern_frame_parser_init(&p, 0);
    tern_frame_t f;
    for (size_t k = 0; k < bytes.n; k++) ASSERT_EQ(tern_frame_next(&p, buf, k, &f, NULL), 0);
    ASSERT_EQ(tern_frame_next(&p, buf, bytes.n, &f, NULL), (long long)bytes.n);
    tern_vec_free(&v);
  }
}

/* All vectors, 1000 times over, in one stream delivered in uneven chunks. */
TEST(frames_back_to_back_1000x) {
  ASSERT(load_names() > 0);
  tern_buf_t stream;
  tern_buf_init(&stream, 0);
  size_t per_round = 0;
  tern_vec_t vs[TERN_VEC_MAX_FILES];
  tern_str_t bytes[TERN_VEC_MAX_FILES];
  for (int i = 0; i < n_names; i++) {
    ASSERT_OK(tern_vec_load(&vs[i], "command", names[i]));
    bytes[i] = tern_vec_hex(&vs[i], tern_vec_get(&vs[i], 0, "hex"));
    per_round += bytes[i].n;
  }
  for (int r = 0; r < 1000; r++)
    for (int i = 0; i < n_names; i++) tern_buf_append_str(&stream, bytes[i]);
  ASSERT_OK(stream.err);
  ASSERT_EQ(stream.len, per_round * 1000);

  tern_frame_parser_t p;
  tern_frame_parser_init(&p, 0);
  size_t start = 0, avail = 0, frames = 0, chunk = 1;
  tern_arena_t scratch;
  tern_arena_init(&scratch, 1 << 20, NULL, 0);
  while (start < stream.len) {
    tern_frame_t f;
    tern_err_t err = {0};
    int n = tern_frame_next(&p, stream.p + start, avail - start, &f, &err);
    ASSERT(n >= 0);
    if (n == 0) {
      ASSERT(avail < stream.len);
      chunk = chunk % 97 + 13; /* uneven deliveries: 14..109 bytes */
      avail = avail + chunk > stream.len ? stream.len : avail + chunk;
      continue;
    }
    int want = (int)(frames % (size_t)n_names);
    ASSERT_EQ(n, (long long)bytes[want].n);
    ASSERT_MEM_EQ(stream.p + start, bytes[want].p, (size_t)n);
    tern_cmd_t cmd;
    ASSERT_OK(tern_cmd_decode(&f, &cmd, &scratch, &err));
    tern_arena_reset(&scratch);
    start += (size_t)n;
    frames++;
  }
  ASSERT_EQ(frames, 1000 * (size_t)n_names);
  tern_arena_free(&scratch);
  for (int i = 0; i < n_names; i++) tern_vec_free(&vs[i]);
  tern_buf_free(&stream);
}
