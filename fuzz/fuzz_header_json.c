/* Fuzzes the JSON header decoder: any input that decodes must re-encode (as
 * fastjson would write it), decode again to the same fields, and re-encode to
 * the same bytes. Inputs that fail must fail with a reason. The single-pass
 * decoder and the generic tokenizer path are also run on their own: whenever
 * the fast one decodes, the generic one decodes the same command, and
 * tern_cmd_decode agrees with the generic one. */
#include <stdlib.h>

#include "gen/codes.h"
#include "gen/command.h"
#include "fuzz_cmd_check.h"

#include <stdio.h>

static bool same_str(tern_str_t a, tern_str_t b) { return (a.p == NULL) == (b.p == NULL) && tern_str_eq(a, b); }

static bool same_cmd(const tern_cmd_t *a, const tern_cmd_t *b) {
  if (a->code != b->code || a->language != b->language || a->version != b->version || a->opaque != b->opaque ||
      a->flag != b->flag || a->has_remark != b->has_remark || a->n_ext != b->n_ext)
    return false;
  if (!same_str(a->language_name, b->language_name) || !same_str(a->remark, b->remark)) return false;
  for (uint32_t i = 0; i < a->n_ext; i++)
    if (!same_str(a->ext[i].key, b->ext[i].key) || !same_str(a->ext[i].val, b->ext[i].val)) return false;
  return true;
}

/* Fast path vs generic path vs tern_cmd_decode on the same header bytes. */
static void both_paths(const uint8_t *frame, size_t size) {
  static tern_cmd_t fast, gen, full;
  tern_arena_t a1, a2, a3;
  tern_err_t e1 = {0}, e2 = {0};
  tern_frame_t f = {.header = frame + 8, .header_len = (uint32_t)size, .serialize_type = TERN_SER_JSON};
  tern_arena_init(&a1, 1 << 20, NULL, 0);
  tern_arena_init(&a2, 1 << 20, NULL, 0);
  tern_arena_init(&a3, 1 << 20, NULL, 0);
  int rf = tern_cmd__decode_json_fast(frame + 8, (uint32_t)size, &fast, &a1);
  int rg = tern_cmd__decode_json_generic(frame + 8, (uint32_t)size, &gen, &a2, &e1);
  int rd = tern_cmd_decode(&f, &full, &a3, &e2);
  check(rf == 0 || rf == -1);
  if (rf == 0) check(rg == 0 && same_cmd(&fast, &gen));
  check(rd == rg);
  if (rd == 0) check(same_cmd(&full, &gen));
  tern_arena_free(&a1);
  tern_arena_free(&a2);
  tern_arena_free(&a3);
}

static int decode(const uint8_t *frame, size_t n, tern_cmd_t *cmd, tern_arena_t *a, tern_err_t *err) {
  tern_frame_parser_t p;
  tern_frame_parser_init(&p, 0);
  tern_frame_t f;
  int r = tern_frame_next(&p, frame, n, &f, err);
  if (r <= 0) return r < 0 ? r : TERN_EAGAIN;
  check((size_t)r == n);
  return tern_cmd_decode(&f, cmd, a, err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > (1 << 16)) return 0;
  uint8_t *frame = malloc(size + 8);
  if (!frame) return 0;
  tern_store_be32(frame, (uint32_t)(4 + size));
  tern_store_be32(frame + 4, (uint32_t)size); /* type 0: JSON */
  if (size) memcpy(frame + 8, data, size);
  both_paths(frame, size);

  tern_arena_t a1, a2;
  tern_arena_init(&a1, 1 << 20, NULL, 0);
  tern_arena_init(&a2, 1 << 20, NULL, 0);
  static tern_cmd_t c1, c2, c3;
  tern_err_t err;
  tern_buf_t b1, b2;
  tern_buf_init(&b1, 0);
  tern_buf_init(&b2, 0);
  if (decode(frame, size + 8, &c1, &a1, &err) == 0) {
    check(tern_cmd_encode(&c1, &b1) == 0);
    check(decode(b1.p, b1.len, &c2, &a2, &err) == 0);
    same_fields(&c1, &c2, false);
    /* Language: written by name (known number, else the name received); when
     * nothing can be written the reader falls back to Java's default, JAVA. */
    const char *known = tern_language_name(c1.language);
    bool written = known != NULL || c1.language_name.n > 0;
    check(written ? c2.language == c1.language : c2.language == TERN_LANG_JAVA);
    check(tern_cmd_encode(&c2, &b2) == 0);
    /* Same bytes again, except when the language could not be written and
     * the reader's default (JAVA) now is; then the next round must be stable. */
    if (written) {
      check(b1.len == b2.len && memcmp(b1.p, b2.p, b1.len) == 0);
    } else {
      tern_buf_t b3;
      tern_buf_init(&b3, 0);
      tern_arena_reset(&a1);
      check(decode(b2.p, b2.len, &c3, &a1, &err) == 0);
      check(tern_cmd_encode(&c3, &b3) == 0);
      check(b3.len == b2.len && memcmp(b3.p, b2.p, b2.len) == 0);
      tern_buf_free(&b3);
      c1 = c3; /* a1 was reset: continue with the stable copy */
    }
    /* The same command also survives the binary form when it fits a short code. */
    if (c1.code >= INT16_MIN && c1.code <= INT16_MAX && c1.version >= INT16_MIN && c1.version <= INT16_MAX) {
      /* A fresh buffer: c1's strings may point into b2. */
      tern_buf_t bb;
      tern_buf_init(&bb, 0);
      c1.serialize_type = TERN_SER_ROCKETMQ;
      if (tern_cmd_encode(&c1, &bb) == 0) {
        tern_arena_reset(&a2);
        check(decode(bb.p, bb.len, &c3, &a2, &err) == 0);
        same_fields(&c1, &c3, true);
      }
      tern_buf_free(&bb);
    }
  } else {
    check(err.reason != NULL);
  }
  tern_buf_free(&b1);
  tern_buf_free(&b2);
  tern_arena_free(&a1);
  tern_arena_free(&a2);
  free(frame);
  return 0;
}
