/* The frame machine (spec/machines/frame.json) is the documented model of the
 * Ragel frame parser (gen/frame.rl.c). This test holds the two together: for
 * well-formed and lying frames, cut at every length, it drives the model with
 * the events and guards the bytes imply and checks the parser agrees: complete
 * <-> a frame of that size, reading <-> need more, error <-> protocol error.
 * The parser may reject a lying prefix a few bytes earlier than the model
 * (it checks byte by byte); then the model must reach an error on the whole
 * input. */
#include <stdlib.h>

#include "gen/command.h"
#include "gen/machines.h"
#include "tern_test.h"

#define MAX_FRAME 1024u

static int step(int s, int e, uint32_t g) {
  int to = tern_sm_frame_step(s, e, g);
  if (to == TERN_SM_INVALID) abort(); /* the driver below only makes legal moves */
  return to;
}

/* The model's state after seeing the first n bytes of one frame. */
static int model(const uint8_t *b, size_t n) {
  int s = TERN_SM_FRAME_INITIAL;
  if (n < 4) return n ? step(s, TERN_SM_FRAME_E_PARTIAL, 0) : s;
  uint32_t length = tern_load_be32(b);
  uint32_t g = 0;
  if ((uint64_t)length + 4 > MAX_FRAME) g |= TERN_SM_FRAME_G_OVER_MAX;
  if (length < 4) g |= TERN_SM_FRAME_G_UNDER_MIN;
  s = step(s, TERN_SM_FRAME_E_LENGTH_READ, g);
  if (tern_sm_frame.terminal[s]) return s;
  if (n < 8) return n > 4 ? step(s, TERN_SM_FRAME_E_PARTIAL, 0) : s;
  uint32_t word = tern_load_be32(b + 4), hlen = word & 0xFFFFFF, type = word >> 24;
  g = 0;
  if (type > 1) g |= TERN_SM_FRAME_G_BAD_TYPE;
  if (hlen > length - 4) g |= TERN_SM_FRAME_G_HEADER_PAST_FRAME;
  s = step(s, TERN_SM_FRAME_E_HEADER_LEN_READ, g);
  if (tern_sm_frame.terminal[s]) return s;
  if (n < 8 + (size_t)hlen) return n > 8 ? step(s, TERN_SM_FRAME_E_PARTIAL, 0) : s;
  s = step(s, TERN_SM_FRAME_E_HEADER_READ, length - 4 - hlen == 0 ? TERN_SM_FRAME_G_NO_BODY : 0);
  if (s == TERN_SM_FRAME_S_COMPLETE) return s;
  if (n < 4 + (size_t)length) return n > 8 + hlen ? step(s, TERN_SM_FRAME_E_PARTIAL, 0) : s;
  return step(s, TERN_SM_FRAME_E_BODY_READ, 0);
}

static bool is_error(int s) { return tern_sm_frame.terminal[s]; }

/* Checks every prefix of b[0..n) with a fresh parser and with one resumed parser. */
static int check_frame(const uint8_t *b, size_t n) {
  int final = model(b, n);
  tern_frame_parser_t resumed;
  tern_frame_parser_init(&resumed, MAX_FRAME);
  bool resumed_done = false;
  for (size_t k = 0; k <= n; k++) {
    uint8_t *copy = malloc(k ? k : 1);
    memcpy(copy, b, k);
    tern_frame_parser_t p;
    tern_frame_t f;
    tern_frame_parser_init(&p, MAX_FRAME);
    int rc = tern_frame_next(&p, copy, k, &f, NULL);
    int rc2 = resumed_done ? rc : tern_frame_next(&resumed, copy, k, &f, NULL);
    free(copy);
    if (rc2 != 0) resumed_done = true;
    int s = model(b, k);
    bool ok;
    if (is_error(s)) ok = rc < 0;
    else if (s == TERN_SM_FRAME_S_COMPLETE) ok = rc > 0 && (size_t)rc == 4 + (size_t)tern_load_be32(b);
    else ok = rc == 0 || (rc < 0 && is_error(final));
    if (!ok || (rc2 > 0) != (rc > 0) || ((rc2 < 0) != (rc < 0) && !is_error(final))) {
      fprintf(stderr, "  prefix %zu: model %s, parser %d (resumed %d)\n", k,
              tern_sm_state_name(&tern_sm_frame, s), rc, rc2);
      return 0;
    }
  }
  return 1;
}

static size_t frame(uint8_t *b, uint32_t length, uint8_t type, uint32_t hlen, size_t fill) {
  tern_store_be32(b, length);
  tern_store_be32(b + 4, (uint32_t)type << 24 | (hlen & 0xFFFFFF));
  for (size_t i = 8; i < fill; i++) b[i] = (uint8_t)('{' + i % 7);
  return fill;
}

TEST(frame_model_agrees_with_parser_on_good_frames) {
  static uint8_t b[MAX_FRAME + 64];
  struct { uint32_t hlen, blen; uint8_t type; } cases[] = {
      {2, 0, 0}, {2, 5, 0}, {10, 100, 1}, {0, 3, 1}, {1, 0, 1}, {500, 500, 0}, {MAX_FRAME - 8, 0, 0}};
  for (size_t i = 0; i < TERN_ARRAY_SIZE(cases); i++) {
    uint32_t length = 4 + cases[i].hlen + cases[i].blen;
    size_t n = frame(b, length, cases[i].type, cases[i].hlen, 4 + length);
    ASSERT_EQ(model(b, n), TERN_SM_FRAME_S_COMPLETE);
    if (!check_frame(b, n)) TERN__FAIL("good frame case %zu", i);
  }
}

TEST(frame_model_agrees_with_parser_on_lying_frames) {
  static uint8_t b[64];
  struct { uint32_t length; uint8_t type; uint32_t hlen; int want; } cases[] = {
      {MAX_FRAME - 3, 0, 2, TERN_SM_FRAME_S_ERROR_TOO_BIG},
      {0xFFFFFFFFu, 0, 2, TERN_SM_FRAME_S_ERROR_TOO_BIG},
      {3, 0, 0, TERN_SM_FRAME_S_ERROR_TOO_SMALL},
      {0, 0, 0, TERN_SM_FRAME_S_ERROR_TOO_SMALL},
      {20, 2, 4, TERN_SM_FRAME_S_ERROR_SERIALIZE_TYPE},
      {20, 0xFF, 4, TERN_SM_FRAME_S_ERROR_SERIALIZE_TYPE},
      {20, 0, 17, TERN_SM_FRAME_S_ERROR_HEADER_LEN},
      {20, 1, 0xFFFFFF, TERN_SM_FRAME_S_ERROR_HEADER_LEN},
  };
  for (size_t i = 0; i < TERN_ARRAY_SIZE(cases); i++) {
    size_t n = frame(b, cases[i].length, cases[i].type, cases[i].hlen, 40);
    ASSERT_EQ(model(b, n), cases[i].want);
    if (!check_frame(b, n)) TERN__FAIL("lying frame case %zu", i);
  }
}
