/* Fuzzes the frame parser and the header decoders behind it. The input is a
 * byte stream delivered in pieces whose sizes come from the input itself; the
 * frames found must be exactly those a second parser finds in the whole
 * stream, each frame's parts must lie inside the stream, and every frame must
 * decode or fail cleanly (ASan/UBSan catch the rest). */
#include <stdlib.h>

#include "gen/command.h"

#include <stdio.h>

/* A violated property: report where, then crash so libFuzzer keeps the input. */
#define check(ok)                                                    \
  do {                                                               \
    if (!(ok)) {                                                     \
      fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #ok); \
      abort();                                                       \
    }                                                                \
  } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2) return 0;
  /* First byte: piece size (1..64); the rest is the stream. */
  size_t piece = (size_t)(data[0] & 63) + 1;
  const uint8_t *s = data + 1;
  size_t n = size - 1;

  tern_frame_parser_t whole, pieces;
  tern_frame_parser_init(&whole, 1 << 16);
  tern_frame_parser_init(&pieces, 1 << 16);
  uint8_t block[4096];
  tern_arena_t scratch;
  tern_arena_init(&scratch, 1 << 20, block, sizeof block);

  size_t start = 0, avail = 0;
  while (start < n) {
    tern_frame_t f;
    tern_err_t err;
    int r = tern_frame_next(&pieces, s + start, avail - start, &f, &err);
    if (r == 0) {
      if (avail == n) break; /* stream ends mid-frame */
      avail = avail + piece > n ? n : avail + piece;
      continue;
    }
    /* The same stream handed over at once gives the same answer. */
    tern_frame_t g;
    int w = tern_frame_next(&whole, s + start, n - start, &g, NULL);
    check(w == r);
    if (r < 0) break;
    check(f.frame_len == (uint32_t)r && f.frame_len == 8 + f.header_len + f.body_len);
    check(f.header == s + start + 8 && f.body == f.header + f.header_len);
    check(start + f.frame_len <= avail);
    check(f.header_len == g.header_len && f.body_len == g.body_len && f.serialize_type == g.serialize_type);
    tern_cmd_t cmd;
    if (tern_cmd_decode(&f, &cmd, &scratch, &err) == 0) {
      check(cmd.n_ext <= TERN_CMD_MAX_EXT);
      check(cmd.body.n == f.body_len);
    } else {
      check(err.reason != NULL);
    }
    tern_arena_reset(&scratch);
    start += (size_t)r;
  }
  tern_arena_free(&scratch);
  return 0;
}
