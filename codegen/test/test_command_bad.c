/* Bad input for the frame parser and both header decoders: every rule of
 * spec/remoting (lengths that lie, bad serialize types, malformed binary and
 * JSON headers) is refused with its specific error code, and the lenient cases
 * real clients need are accepted. Encoders refuse what cannot be represented. */
#include <stdlib.h>

#include "gen/command.h"
#include "tern_test.h"

static uint8_t fbuf[1 << 16];

/* A frame with the given serialize type and header bytes (and no body). */
static size_t mkframe(uint8_t stype, const void *hdr, size_t n) {
  tern_store_be32(fbuf, (uint32_t)(4 + n));
  tern_store_be32(fbuf + 4, ((uint32_t)stype << 24) | (uint32_t)n);
  memcpy(fbuf + 8, hdr, n);
  return 8 + n;
}

static tern_arena_t scratch;
static tern_err_t err;
static tern_cmd_t cmd;

/* Frames then decodes; returns the decoder's result. */
static int decode(uint8_t stype, const void *hdr, size_t n) {
  size_t len = mkframe(stype, hdr, n);
  tern_frame_parser_t p;
  tern_frame_parser_init(&p, 0);
  tern_frame_t f;
  memset(&err, 0, sizeof err);
  int r = tern_frame_next(&p, fbuf, len, &f, &err);
  if (r != (int)len) return -1000 + r;
  tern_arena_reset(&scratch);
  return tern_cmd_decode(&f, &cmd, &scratch, &err);
}

static int decode_json(const char *text) { return decode(TERN_SER_JSON, text, strlen(text)); }

/* ------------------------------------------------------------ frame prefix */

static int prefix(uint32_t length, uint32_t word, uint32_t max, size_t give) {
  uint8_t b[8];
  tern_store_be32(b, length);
  tern_store_be32(b + 4, word);
  tern_frame_parser_t p;
  tern_frame_parser_init(&p, max);
  tern_frame_t f;
  memset(&err, 0, sizeof err);
  return tern_frame_next(&p, b, give, &f, &err);
}

TEST(frame_length_below_4) {
  ASSERT_EQ(prefix(0, 0, 0, 8), TERN_EPROTO);
  ASSERT_STREQ(err.field, "length");
  ASSERT_EQ(prefix(3, 0, 0, 8), TERN_EPROTO);
  /* Refused as soon as the 4 length bytes are in, before the second word. */
  ASSERT_EQ(prefix(3, 0, 0, 4), TERN_EPROTO);
  ASSERT_EQ(prefix(4, 0, 0, 8), 8); /* 4 is valid: an empty JSON header, no body */
}

TEST(frame_over_max_refused_before_buffering) {
  /* Default 16 MiB counts the 4-byte prefix, like Netty. */
  ASSERT_EQ(prefix(TERN_FRAME_DEFAULT_MAX - 4, 0, 0, 8), 0);
  ASSERT_EQ(prefix(TERN_FRAME_DEFAULT_MAX - 3, 0, 0, 8), TERN_ETOOBIG);
  ASSERT_EQ(prefix(TERN_FRAME_DEFAULT_MAX - 3, 0, 0, 4), TERN_ETOOBIG);
  ASSERT_EQ(prefix(0x7fffffff, 0, 0, 4), TERN_ETOOBIG);
  ASSERT_EQ(prefix(0xffffffff, 0, 0, 4), TERN_ETOOBIG); /* negative as a Java int */
  ASSERT_EQ(prefix(1020, 0, 1024, 8), 0);
  ASSERT_EQ(prefix(1021, 0, 1024, 8), TERN_ETOOBIG);
}

TEST(frame_header_longer_than_frame) {
  ASSERT_EQ(prefix(4 + 10, 10, 0, 8), 0);
  ASSERT_EQ(prefix(4 + 10, 11, 0, 8), TERN_EPROTO);
  ASSERT_STREQ(err.field, "header_length");
  ASSERT_EQ(prefix(4, 0x00ffffff, 0, 8), TERN_EPROTO);
  ASSERT_EQ(prefix(4 + 10, (1u << 24) | 11, 0, 8), TERN_EPROTO);
}

TEST(frame_serialize_type_not_0_or_1) {
  ASSERT_EQ(prefix(14, (2u << 24) | 10, 0, 8), TERN_EPROTO);
  ASSERT_STREQ(err.field, "serialize_type");
  ASSERT_EQ(prefix(14, (0xffu << 24) | 10, 0, 5), TERN_EPROTO); /* refused at byte 5 */
  ASSERT_EQ(prefix(14, (1u << 24) | 10, 0, 8), 0);
}

TEST(frame_parser_stays_failed) {
  uint8_t b[16] = {0, 0, 0, 1};
  tern_frame_parser_t p;
  tern_frame_parser_init(&p, 0);
  tern_frame_t f;
  ASSERT_EQ(tern_frame_next(&p, b, 16, &f, NULL), TERN_EPROTO);
  ASSERT(tern_frame_next(&p, b, 16, &f, NULL) < 0);
}

/* --------------------------------------------------------- binary headers */

/* A valid binary header: code 310, JAVA, version 409, opaque 5, flag 0. */
static size_t bin(uint8_t *h, int32_t rlen, const char *remark, int32_t elen, const void *ext, size_t ext_n) {
  static const uint8_t fixed[13] = {0x01, 0x36, 0, 0x01, 0x99, 0, 0, 0, 5, 0, 0, 0, 0};
  size_t o = 0;
  memcpy(h, fixed, 13);
  o = 13;
  tern_store_be32(h + o, (uint32_t)rlen);
  o += 4;
  size_t rn = remark ? strlen(remark) : 0;
  if (rn) memcpy(h + o, remark, rn);
  o += rn;
  tern_store_be32(h + o, (uint32_t)elen);
  o += 4;
  if (ext_n) memcpy(h + o, ext, ext_n);
  return o + ext_n;
}

TEST(binary_valid_baseline) {
  uint8_t h[256];
  const uint8_t ext[] = {0, 1, 'k', 0, 0, 0, 1, 'v'};
  ASSERT_OK(decode(TERN_SER_ROCKETMQ, h, bin(h, 2, "hi", 8, ext, 8)));
  ASSERT_EQ(cmd.code, 310);
  ASSERT_EQ(cmd.version, 409);
  ASSERT_STR(cmd.remark, "hi");
  ASSERT_STR(*tern_cmd_ext_get(&cmd, "k"), "v");
}

TEST(binary_shorter_than_fixed_part) {
  uint8_t h[32] = {0};
  for (size_t n = 0; n < TERN_CMD_BIN_FIXED; n++) ASSERT_EQ(decode(TERN_SER_ROCKETMQ, h, n), TERN_EPROTO);
  ASSERT_OK(decode(TERN_SER_ROCKETMQ, h, TERN_CMD_BIN_FIXED));
}

TEST(binary_remark_length_lies) {
  uint8_t h[256];
  ASSERT_EQ(decode(TERN_SER_ROCKETMQ, h, bin(h, -1, NULL, 0, NULL, 0)), TERN_EPROTO);
  ASSERT_STREQ(err.field, "remark");
  ASSERT_EQ(decode(TERN_SER_ROCKETMQ, h, bin(h, 3, "hi", 0, NULL, 0)), TERN_EPROTO);
  ASSERT_EQ(decode(TERN_SER_ROCKETMQ, h, bin(h, 0x7fffffff, "hi", 0, NULL, 0)), TERN_EPROTO);
  /* A remark that eats the extFields length is refused too. */
  ASSERT_EQ(decode(TERN_SER_ROCKETMQ, h, bin(h, 6, "hi", 0, NULL, 0)), TERN_EPROTO);
}

TEST(binary_ext_length_lies) {
  uint8_t h[256];
  const uint8_t ext[] = {0, 1, 'k', 0, 0, 0, 1, 'v'};
  ASSERT_EQ(decode(TERN_SER_ROCKETMQ, h, bin(h, 0, NULL, -1, NULL, 0)), TERN_EPROTO);
  ASSERT_STREQ(err.field, "extFields");
  ASSERT_EQ(decode(TERN_SER_ROCKETMQ, h, bin(h, 0, NULL, 9, ext, 8)), TERN_EPROTO);
  /* Shorter than its entries: the entry overruns the extFields. */
  ASSERT_EQ(decode(TERN_SER_ROCKETMQ, h, bin(h, 0, NULL, 7, ext, 8)), TERN_EPROTO);
}

TEST(binary_entry_lengths_lie) {
  uint8_t h[256];
  const uint8_t cut_key_len[] = {0};
  const uint8_t neg_key[] = {0xff, 0xff, 'k'};
  const uint8_t long_key[] = {0, 5, 'k'};
  const uint8_t cut_val_len[] = {0, 1, 'k', 0, 0};
  const uint8_t neg_val[] = {0, 1, 'k', 0xff, 0xff, 0xff, 0xff};
  const uint8_t long_val[] = {0, 1, 'k', 0, 0, 0, 2, 'v'};
  ASSERT_EQ(decode(TERN_SER_ROCKETMQ, h, bin(h, 0, NULL, 1, cut_key_len, 1)), TERN_EPROTO);
  ASSERT_EQ(decode(TERN_SER_ROCKETMQ, h, bin(h, 0, NULL, 3, neg_key, 3)), TERN_EPROTO);
  ASSERT_EQ(decode(TERN_SER_ROCKETMQ, h, bin(h, 0, NULL, 3, long_key, 3)), TERN_EPROTO);
  ASSERT_EQ(decode(TERN_SER_ROCKETMQ, h, bin(h, 0, NULL, 5, cut_val_len, 5)), TERN_EPROTO);
  ASSERT_EQ(decode(TERN_SER_ROCKETMQ, h, bin(h, 0, NULL, 7, neg_val, 7)), TERN_EPROTO);
  ASSERT_EQ(decode(TERN_SER_ROCKETMQ, h, bin(h, 0, NULL, 8, long_val, 8)), TERN_EPROTO);
}

TEST(binary_bytes_after_ext) {
  uint8_t h[256];
  const uint8_t ext[] = {0, 1, 'k', 0, 0, 0, 1, 'v', 0xAA};
  ASSERT_EQ(decode(TERN_SER_ROCKETMQ, h, bin(h, 0, NULL, 8, ext, 9)), TERN_EPROTO);
}

TEST(binary_too_many_entries) {
  uint8_t h[4096], ext[2048];
  size_t n = 0;
  for (int i = 0; i <= TERN_CMD_MAX_EXT; i++) {
    const uint8_t e[] = {0, 2, 'k', (uint8_t)('0' + i % 64), 0, 0, 0, 1, 'v'};
    memcpy(ext + n, e, sizeof e);
    n += sizeof e;
  }
  ASSERT_EQ(decode(TERN_SER_ROCKETMQ, h, bin(h, 0, NULL, (int32_t)n, ext, n)), TERN_ETOOBIG);
  ASSERT_OK(decode(TERN_SER_ROCKETMQ, h, bin(h, 0, NULL, (int32_t)(n - 9), ext, n - 9)));
  ASSERT_EQ(cmd.n_ext, TERN_CMD_MAX_EXT);
}

TEST(binary_zero_lengths_are_null) {
  uint8_t h[256];
  const uint8_t ext[] = {0, 1, 'k', 0, 0, 0, 0, 0, 1, 'j', 0, 0, 0, 1, 'x', 0, 1, 'j', 0, 0, 0, 0};
  ASSERT_OK(decode(TERN_SER_ROCKETMQ, h, bin(h, 0, NULL, (int32_t)sizeof ext, ext, sizeof ext)));
  ASSERT(!cmd.has_remark);
  ASSERT_EQ(cmd.n_ext, 3);
  ASSERT(tern_cmd_ext_get(&cmd, "k") == NULL);
  ASSERT(tern_cmd_ext_get(&cmd, "j") == NULL); /* a later null wins over "x", as HashMap.put does */
}

/* ----------------------------------------------------------- JSON headers */

TEST(json_accepts_what_clients_send) {
  ASSERT_OK(decode_json(" {\"code\":\"105\",\"language\":9,\"opaque\":-5,\"flag\":null,\"x\":{\"y\":[1,2]},"
                        "\"serializeTypeCurrentRPC\":\"ROCKETMQ\",\"extFields\":{\"n\":-12,\"t\":true,\"z\":null,"
                        "\"e\":\"\",\"u\":\"\\u00e9\"},\"remark\":\"\"}\r\n"));
  ASSERT_EQ(cmd.code, 105);
  ASSERT_EQ(cmd.language, 9);
  ASSERT_EQ(cmd.opaque, -5);
  ASSERT_EQ(cmd.flag, 0);
  ASSERT(cmd.has_remark);
  ASSERT_EQ(cmd.remark.n, 0);
  ASSERT_STR(*tern_cmd_ext_get(&cmd, "n"), "-12");
  ASSERT_STR(*tern_cmd_ext_get(&cmd, "t"), "true");
  ASSERT(tern_cmd_ext_get(&cmd, "z") == NULL);
  ASSERT(tern_cmd_ext_get(&cmd, "e") != NULL);
  ASSERT_STR(*tern_cmd_ext_get(&cmd, "u"), "\xc3\xa9");
  /* An unknown language name is kept, with language -1. */
  ASSERT_OK(decode_json("{\"code\":1,\"language\":\"KOTLIN\"}"));
  ASSERT_EQ(cmd.language, -1);
  ASSERT_STR(cmd.language_name, "KOTLIN");
  ASSERT_OK(decode_json("{}"));
  ASSERT_EQ(cmd.language, 0);
}

TEST(json_not_an_object) {
  ASSERT_EQ(decode_json("[]"), TERN_EPROTO);
  ASSERT_EQ(decode_json("\"code\""), TERN_EPROTO);
  ASSERT_EQ(decode_json("105"), TERN_EPROTO);
  ASSERT_EQ(decode_json(""), TERN_EPROTO);
  ASSERT_EQ(decode_json("{\"code\":1} {}"), TERN_EPROTO);
  ASSERT_EQ(decode_json("{\"code\":1"), TERN_EPROTO);
}

TEST(json_duplicate_top_level_keys) {
  ASSERT_EQ(decode_json("{\"code\":1,\"code\":2}"), TERN_EDUP);
  ASSERT_EQ(decode_json("{\"a\":1,\"b\":2,\"a\":3}"), TERN_EDUP);
  ASSERT_EQ(decode_json("{\"code\":1,\"c\\u006fde\":2}"), TERN_EDUP); /* equal once unescaped */
}

/* Invalid UTF-8 is replaced with U+FFFD as Java's new String(bytes, UTF_8)
 * does (spec/remoting/command.json, rules.json_utf8), not refused. */
TEST(json_invalid_utf8_replaced) {
  ASSERT_EQ(decode_json("{\"remark\":\"\xff\"}"), 0);
  ASSERT(tern_str_eq(cmd.remark, TERN_STR("\xef\xbf\xbd")));
  ASSERT_EQ(decode_json("{\"extFields\":{\"k\":\"\xc3\"}}"), 0);
  ASSERT_EQ(cmd.n_ext, 1);
  ASSERT(tern_str_eq(cmd.ext[0].val, TERN_STR("\xef\xbf\xbd")));
  ASSERT_EQ(decode_json("{\"remark\":\"\xed\xa0\x80\"}"), 0); /* encoded surrogate: one U+FFFD */
  ASSERT(tern_str_eq(cmd.remark, TERN_STR("\xef\xbf\xbd")));
  /* a cut sequence is one U+FFFD and decoding resumes at the byte that cut it */
  ASSERT_EQ(decode_json("{\"remark\":\"a\xe2\x82z\xc3\xa9\xe0\x80\"}"), 0);
  ASSERT(tern_str_eq(cmd.remark, TERN_STR("a\xef\xbf\xbdz\xc3\xa9\xef\xbf\xbd\xef\xbf\xbd")));
  ASSERT_EQ(decode_json("{\"code\":12,\"extFields\":{\"\xf5k\":\"v\"}}"), 0); /* keys too */
  ASSERT_EQ(cmd.code, 12);
  ASSERT(tern_str_eq(cmd.ext[0].key, TERN_STR("\xef\xbf\xbdk")));
  /* outside strings it stays a syntax error; lone surrogate escapes stay refused */
  ASSERT_EQ(decode_json("{\"code\":1\xff}"), TERN_EPROTO);
  ASSERT_EQ(decode_json("{\"remark\":\"\\ud800\"}"), TERN_EUTF8);
}

TEST(json_too_deep) {
  char deep[256] = "{\"x\":";
  for (int i = 0; i < 20; i++) strcat(deep, "[");
  for (int i = 0; i < 20; i++) strcat(deep, "]");
  strcat(deep, "}");
  ASSERT_EQ(decode_json(deep), TERN_EDEPTH);
}

TEST(json_numbers_outside_int32) {
  ASSERT_EQ(decode_json("{\"code\":2147483648}"), TERN_ERANGE);
  ASSERT_STREQ(err.field, "code");
  ASSERT_EQ(decode_json("{\"opaque\":-2147483649}"), TERN_ERANGE);
  ASSERT_STREQ(err.field, "opaque");
  ASSERT_EQ(decode_json("{\"flag\":99999999999999999999}"), TERN_ERANGE);
  ASSERT_EQ(decode_json("{\"version\":\"4294967296\"}"), TERN_ERANGE);
  ASSERT_OK(decode_json("{\"code\":2147483647,\"opaque\":-2147483648}"));
  ASSERT_EQ(cmd.code, INT32_MAX);
  ASSERT_EQ(cmd.opaque, INT32_MIN);
}

TEST(json_wrong_types) {
  ASSERT_EQ(decode_json("{\"code\":\"abc\"}"), TERN_EPROTO);
  ASSERT_EQ(decode_json("{\"code\":1.5}"), TERN_EPROTO);
  ASSERT_EQ(decode_json("{\"remark\":5}"), TERN_EPROTO);
  ASSERT_EQ(decode_json("{\"language\":true}"), TERN_EPROTO);
  ASSERT_EQ(decode_json("{\"language\":300}"), TERN_ERANGE);
  ASSERT_EQ(decode_json("{\"extFields\":[]}"), TERN_EPROTO);
  ASSERT_EQ(decode_json("{\"extFields\":{\"k\":{\"a\":1}}}"), TERN_EPROTO);
  ASSERT_EQ(decode_json("{\"extFields\":{\"k\":[1]}}"), TERN_EPROTO);
}

TEST(json_too_many_ext_entries) {
  char text[4096] = "{\"extFields\":{";
  for (int i = 0; i <= TERN_CMD_MAX_EXT; i++)
    sprintf(text + strlen(text), "%s\"k%d\":\"v\"", i ? "," : "", i);
  strcat(text, "}}");
  ASSERT_EQ(decode_json(text), TERN_ETOOBIG);
}

/* ---------------------------------------------------------------- encoders */

TEST(encode_refuses_unrepresentable) {
  tern_cmd_t c;
  tern_cmd_init(&c);
  c.serialize_type = TERN_SER_ROCKETMQ;
  c.code = 200050; /* POP_MESSAGE: JSON only */
  tern_buf_t b;
  tern_buf_init(&b, 0);
  tern_buf_append(&b, "xy", 2);
  ASSERT_EQ(tern_cmd_encode(&c, &b), TERN_ERANGE);
  ASSERT_EQ(b.len, 2); /* untouched */
  ASSERT_OK(b.err);
  c.serialize_type = TERN_SER_JSON;
  ASSERT_OK(tern_cmd_encode(&c, &b));
  c.serialize_type = 2;
  ASSERT_EQ(tern_cmd_encode(&c, &b), TERN_EINVAL);
  tern_buf_free(&b);
}

TEST(encode_respects_buffer_limit) {
  tern_cmd_t c;
  tern_cmd_init(&c);
  c.body = TERN_STR("0123456789012345678901234567890123456789");
  tern_buf_t b;
  tern_buf_init(&b, 64);
  ASSERT_EQ(tern_cmd_encode(&c, &b), TERN_ETOOBIG);
  ASSERT_EQ(b.len, 0);
  tern_buf_free(&b);
}

TEST(ext_add_refuses_past_max) {
  tern_cmd_t c;
  tern_cmd_init(&c);
  for (int i = 0; i < TERN_CMD_MAX_EXT; i++) ASSERT_OK(tern_cmd_ext_add(&c, TERN_STR("k"), TERN_STR("v")));
  ASSERT_EQ(tern_cmd_ext_add(&c, TERN_STR("k"), TERN_STR("v")), TERN_ETOOBIG);
  ASSERT_EQ(c.n_ext, TERN_CMD_MAX_EXT);
}

__attribute__((constructor)) static void setup(void) { tern_arena_init(&scratch, 1 << 20, NULL, 0); }
__attribute__((destructor)) static void teardown(void) { tern_arena_free(&scratch); }
