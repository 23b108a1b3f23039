/* Fuzzes the ROCKETMQ binary header decoder: any header that decodes must
 * re-encode, decode again to the same fields and re-encode to the same bytes;
 * its JSON encoding must decode to the same fields too unless a string is not
 * UTF-8 (binary headers carry raw bytes; JSON reads them back as U+FFFD). */
#include <stdlib.h>

#include "gen/command.h"
#include "fuzz_cmd_check.h"

#include <stdio.h>

static int decode(const uint8_t *frame, size_t n, tern_cmd_t *cmd, tern_arena_t *a, tern_err_t *err) {
  tern_frame_parser_t p;
  tern_frame_parser_init(&p, 0);
  tern_frame_t f;
  int r = tern_frame_next(&p, frame, n, &f, err);
  if (r <= 0) return r < 0 ? r : TERN_EAGAIN;
  check((size_t)r == n);
  return tern_cmd_decode(&f, cmd, a, err);
}

/* Well-formed UTF-8 (no overlongs, no encoded surrogates, nothing past U+10FFFF). */
static bool valid_utf8(const uint8_t *p, size_t n) {
  size_t i = 0;
  while (i < n) {
    uint8_t c = p[i], lo = 0x80, hi = 0xBF;
    size_t need;
    if (c < 0x80) {
      i++;
      continue;
    }
    if (c >= 0xC2 && c <= 0xDF) need = 1;
    else if (c >= 0xE0 && c <= 0xEF) need = 2, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    else if (c >= 0xF0 && c <= 0xF4) need = 3, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    else return false;
    if (n - i <= need || p[i + 1] < lo || p[i + 1] > hi) return false;
    for (size_t k = 2; k <= need; k++)
      if (p[i + k] < 0x80 || p[i + k] > 0xBF) return false;
    i += need + 1;
  }
  return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > (1 << 16)) return 0;
  uint8_t *frame = malloc(size + 8);
  if (!frame) return 0;
  tern_store_be32(frame, (uint32_t)(4 + size));
  tern_store_be32(frame + 4, (1u << 24) | (uint32_t)size); /* type 1: ROCKETMQ */
  if (size) memcpy(frame + 8, data, size);

  tern_arena_t a;
  tern_arena_init(&a, 1 << 20, NULL, 0);
  static tern_cmd_t c1, c2;
  tern_err_t err;
  tern_buf_t b1, b2;
  tern_buf_init(&b1, 0);
  tern_buf_init(&b2, 0);
  if (decode(frame, size + 8, &c1, &a, &err) == 0) {
    check(c1.language_name.n == 0);
    check(tern_cmd_encode(&c1, &b1) == 0);
    check(decode(b1.p, b1.len, &c2, &a, &err) == 0);
    same_fields(&c1, &c2, true);
    check(c2.language == c1.language);
    check(tern_cmd_encode(&c2, &b2) == 0);
    check(b1.len == b2.len && memcmp(b1.p, b2.p, b1.len) == 0);
    /* The JSON form of the same command. */
    tern_buf_reset(&b2);
    c1.serialize_type = TERN_SER_JSON;
    check(tern_cmd_encode(&c1, &b2) == 0);
    /* Invalid UTF-8 (raw bytes of a binary header) reads back as U+FFFD, as in
     * Java (spec/remoting/command.json, rules.json_utf8): same fields only
     * when the JSON text is valid. */
    int rc = decode(b2.p, b2.len, &c2, &a, &err);
    check(rc == 0);
    if (valid_utf8(b2.p + 8, b2.len - 8)) same_fields(&c1, &c2, true);
  } else {
    check(err.reason != NULL);
  }
  tern_buf_free(&b1);
  tern_buf_free(&b2);
  tern_arena_free(&a);
  free(frame);
  return 0;
}
