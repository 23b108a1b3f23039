/* The frame prefix machine (reference sections 1.2 and 1.3): reads the 4-byte
 * length and the serialize-type/header-length word one byte at a time, so a
 * frame split at any byte resumes where it stopped, and rejects every length
 * that lies before the caller buffers the rest of the frame. Ragel source;
 * codegen/gen_command.py turns it into gen/frame.rl.c. */
#include "gen/command.h"

/* Ragel -G2 code jumps into the middle of its state blocks by design. */
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"

%%{
  machine tern_frame;
  alphtype unsigned char;
  access st->;

  action len_byte  { st->length = (st->length << 8) | fc; }
  action hlen_byte { st->header_len = (st->header_len << 8) | fc; }
  action type_byte { st->serialize_type = fc; }

  action len_done {
    if (st->length < TERN_FRAME_MIN_LENGTH) {
      rc = tern_fail(err, TERN_EPROTO, "frame length below 4", "length", 0);
      fbreak;
    }
    if (st->length > st->max_frame - 4) {
      rc = tern_fail(err, TERN_ETOOBIG, "frame longer than the maximum frame size", "length", 0);
      fbreak;
    }
  }
  action header_done {
    if (st->header_len > st->length - 4) {
      rc = tern_fail(err, TERN_EPROTO, "header length exceeds the frame", "header_length", 5);
      fbreak;
    }
  }

  length      = (any @len_byte){4} @len_done;
  # Every other byte is `any`, so the machine can only fail here.
  stype       = (0x00 | 0x01) @type_byte;
  header_len  = (any @hlen_byte){3} @header_done;
  main       := length stype header_len;
}%%

%% write data;

static void frame_reset(tern_frame_parser_t *st) {
  st->seen = 0;
  st->length = 0;
  st->header_len = 0;
  st->serialize_type = 0;
  %% write init;
}

void tern_frame_parser_init(tern_frame_parser_t *st, uint32_t max_frame) {
  if (max_frame == 0) max_frame = TERN_FRAME_DEFAULT_MAX;
  /* The frame size is returned as an int, and a frame needs its 8-byte prefix. */
  if (max_frame > (uint32_t)INT32_MAX) max_frame = (uint32_t)INT32_MAX;
  if (max_frame < TERN_FRAME_PREFIX) max_frame = TERN_FRAME_PREFIX;
  st->max_frame = max_frame;
  frame_reset(st);
}

int tern_frame_next(tern_frame_parser_t *st, const uint8_t *buf, size_t len, tern_frame_t *f, tern_err_t *err) {
  int rc = 0;
  if (st->cs == tern_frame_error) return tern_fail(err, TERN_EPROTO, "frame parser used after an error", NULL, 0);
  if (st->seen < TERN_FRAME_PREFIX) {
    /* Feed only the prefix bytes not seen on an earlier call. */
    size_t end = len < TERN_FRAME_PREFIX ? len : TERN_FRAME_PREFIX;
    if (end <= st->seen) return 0;
    const uint8_t *p = buf + st->seen, *pe = buf + end;
    %% write exec;
    if (rc < 0 || st->cs == tern_frame_error) {
      if (rc == 0)
        rc = tern_fail(err, TERN_EPROTO, "serialize type is neither 0 (JSON) nor 1 (ROCKETMQ)", "serialize_type", 4);
      else if (err)
        err->pos = (size_t)(p - buf);
      st->cs = tern_frame_error;
      return rc;
    }
    st->seen = (uint32_t)end;
    if (st->seen < TERN_FRAME_PREFIX) return 0;
  }
  /* Prefix accepted: lengths are consistent and within max_frame. */
  size_t total = (size_t)st->length + 4;
  if (len < total) return 0;
  f->header = buf + TERN_FRAME_PREFIX;
  f->header_len = st->header_len;
  f->serialize_type = st->serialize_type;
  f->body = buf + TERN_FRAME_PREFIX + st->header_len;
  f->body_len = st->length - 4 - st->header_len;
  f->frame_len = (uint32_t)total;
  frame_reset(st);
  (void)tern_frame_first_final;
  (void)tern_frame_en_main;
  return (int)total;
}
