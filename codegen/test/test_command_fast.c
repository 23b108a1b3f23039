/* The JSON header's single-pass decoder against the generic tokenizer path:
 * whenever the fast path decodes a header, the generic path decodes it to the
 * same command; tern_cmd_decode always gives the generic path's answer. Run
 * over the shapes real clients send, edge cases on both sides of what the fast
 * path accepts, and many mutations of a real SEND_MESSAGE_V2 header. The
 * fuzzer fuzz/fuzz_header_json.c checks the same property on its inputs. */
#include <stdio.h>
#include <stdlib.h>

#include "gen/command.h"
#include "gen/json.h"
#include "tern_test.h"

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

static int n_fast, n_declined;

/* Checks the property for one header; returns the fast path's result. */
static int check_one(const uint8_t *h, size_t n) {
  static tern_cmd_t fast, gen, full;
  tern_arena_t a1, a2, a3;
  tern_err_t err = {0}, err2 = {0};
  tern_frame_t f = {.header = h, .header_len = (uint32_t)n, .serialize_type = TERN_SER_JSON};
  tern_arena_init(&a1, 1 << 20, NULL, 0);
  tern_arena_init(&a2, 1 << 20, NULL, 0);
  tern_arena_init(&a3, 1 << 20, NULL, 0);
  int rf = tern_cmd__decode_json_fast(h, (uint32_t)n, &fast, &a1);
  int rg = tern_cmd__decode_json_generic(h, (uint32_t)n, &gen, &a2, &err);
  int rd = tern_cmd_decode(&f, &full, &a3, &err2);
  if (rf == 0) {
    n_fast++;
    if (rg != 0 || !same_cmd(&fast, &gen)) {
      fprintf(stderr, "fast/generic differ (generic rc %d) on: %.*s\n", rg, (int)n, (const char *)h);
      abort();
    }
  } else {
    n_declined++;
  }
  if (rd != rg || (rd == 0 && !same_cmd(&full, &gen)) || (rd != 0 && err.reason != err2.reason)) {
    fprintf(stderr, "tern_cmd_decode (rc %d) differs from the generic path (rc %d) on: %.*s\n", rd, rg, (int)n,
            (const char *)h);
    abort();
  }
  tern_arena_free(&a1);
  tern_arena_free(&a2);
  tern_arena_free(&a3);
  return rf;
}

static int check_str(const char *s) { return check_one((const uint8_t *)s, strlen(s)); }

/* A Java 4.9 SEND_MESSAGE_V2 header as fastjson writes it. */
static const char SEND_V2[] =
    "{\"code\":310,\"extFields\":{\"a\":\"please_rename_unique_group_name\",\"b\":\"BenchTopic\",\"c\":\"TBW102\","
    "\"d\":\"4\",\"e\":\"3\",\"f\":\"0\",\"g\":\"1700000000000\",\"h\":\"0\",\"i\":\"UNIQ_KEY\\u0001"
    "7F0000010C2318B4AAC2\\u0002WAIT\\u0001true\\u0002TAGS\\u0001TagA\\u0002\",\"j\":\"0\",\"k\":\"false\","
    "\"m\":\"false\",\"n\":\"broker-a\"},\"flag\":0,\"language\":\"JAVA\",\"opaque\":42,"
    "\"serializeTypeCurrentRPC\":\"JSON\",\"version\":409}";

TEST(fast_path_takes_the_usual_shapes) {
  ASSERT_EQ(check_str(SEND_V2), 0);
  ASSERT_EQ(check_str("{}"), 0);
  ASSERT_EQ(check_str(" {\"code\":0} \n"), 0);
  ASSERT_EQ(check_str("{\"code\":-2147483648,\"opaque\":2147483647,\"flag\":-0}"), 0);
  ASSERT_EQ(check_str("{\"code\":1,\"remark\":\"\",\"extFields\":{}}"), 0);
  /* cpp/Go: typed values, empty remark, trailing newline */
  ASSERT_EQ(check_str("{\"code\":11,\"language\":\"CPP\",\"version\":1,\"opaque\":7,\"flag\":0,\"remark\":\"\","
                      "\"extFields\":{\"d\":4,\"k\":false,\"m\":true,\"x\":null,\"y\":-1.5e+3,\"z\":0.25}}\n"),
            0);
  ASSERT_EQ(check_str("{\"language\":\"UNKNOWN_LANG\",\"code\":1}"), 0);
  ASSERT_EQ(check_str("{\"language\":\"J\\u0041VA\",\"code\":1}"), 0); /* escaped name */
  ASSERT_EQ(check_str("{\"remark\":\"caf\xc3\xa9 \xf0\x9f\x98\x80 \\\"q\\\" \\\\ \\/ \\b\\f\\n\\r\\t\"}"), 0);
  ASSERT_EQ(check_str("{\"code\":null,\"language\":null,\"remark\":null,\"extFields\":null}"), 0);
  ASSERT_EQ(check_str("{ \"code\" : 1 , \"extFields\" : { \"k\" : \"v\" , \"k\" : \"w\" } }"), 0); /* dup ext keys kept */
  ASSERT_EQ(check_str("{\"extFields\":{\"\":\"\"}}"), 0);
}

TEST(fast_path_declines_the_unusual) {
  const char *declined[] = {
      "{\"code\":1,\"code\":2}",                      /* duplicate: EDUP */
      "{\"code\":1,\"c\\u006fde\":2}",                /* escaped key */
      "{\"unknown\":1}",                              /* unknown keys are ignored by the generic path */
      "{code:1}",                                     /* bare key */
      "{\"code\":\"12\"}",                            /* numeric string */
      "{\"code\":1.0}",
      "{\"code\":1e2}",
      "{\"code\":01}",
      "{\"code\":2147483648}",
      "{\"code\":-2147483649}",
      "{\"code\":99999999999999999999999}",
      "{\"language\":3}",                             /* an ordinal */
      "{\"remark\":1}",
      "{\"extFields\":[]}",
      "{\"extFields\":{\"k\":{\"x\":1}}}",
      "{\"extFields\":{\"k\":[1]}}",
      "{\"extFields\":{k:\"v\"}}",
      "{\"extFields\":{\"k\":\"\\ud83d\\ude00\"}}",  /* surrogate pair */
      "{\"extFields\":{\"k\":\"\\ud83d\"}}",           /* lone surrogate: EUTF8 */
      "{\"extFields\":{\"k\":\"\\x\"}}",
      "{\"extFields\":{\"k\":\"\\u12\"}}",
      "{\"extFields\":{\"k\":\"a\tb\"}}",             /* raw control character */
      "{\"remark\":\"\xff\"}",                        /* invalid UTF-8: replaced by the generic path */
      "{\"remark\":\"\xc3\"}",
      "{\"remark\":\"\xed\xa0\x80\"}",
      "{\"remark\":\"\xe0\x80\x80\"}",
      "{\"remark\":\"\xf4\x90\x80\x80\"}",
      "{\"code\":1,}",
      "{\"code\":1",
      "{\"code\":1}x",
      "{\"code\":1}{}",
      "[]",
      "",
      "{\"code\":tru}",
      "{\"serializeTypeCurrentRPC\":{\"a\":1}}",
      "{\"extFields\":{\"k\":truex}}",
      "{\"extFields\":{\"k\":-}}",
      "{\"extFields\":{\"k\":1.}}",
      "{\"extFields\":{\"k\":1e}}",
      "{\"extFields\":{\"k\":01}}",
  };
  for (size_t i = 0; i < sizeof declined / sizeof declined[0]; i++) {
    if (check_str(declined[i]) != -1) {
      fprintf(stderr, "fast path accepted: %s\n", declined[i]);
      ASSERT(0);
    }
  }
}

TEST(fast_path_many_ext_entries) {
  char buf[8192];
  size_t n = (size_t)snprintf(buf, sizeof buf, "{\"extFields\":{");
  for (int i = 0; i < TERN_CMD_MAX_EXT; i++) n += (size_t)snprintf(buf + n, sizeof buf - n, "%s\"k%d\":\"v\"", i ? "," : "", i);
  snprintf(buf + n, sizeof buf - n, "}}");
  ASSERT_EQ(check_str(buf), 0);
  n = strlen(buf) - 2;
  snprintf(buf + n, sizeof buf - n, ",\"over\":\"v\"}}");
  ASSERT_EQ(check_str(buf), -1); /* ETOOBIG from the generic path */
}

/* Mutations of the real header: every byte replaced by a set of interesting
 * bytes, every truncation, random multi-byte edits. */
TEST(fast_path_agrees_on_mutations) {
  static const uint8_t subst[] = {'"', '\\', '{', '}', '[', ':', ',', ' ', 'n', 't', '0', '-', '.', 'e', 'u',
                                  0x01, 0x7f, 0x80, 0xc3, 0xe0, 0xed, 0xf0, 0xff};
  size_t n = strlen(SEND_V2);
  uint8_t *b = malloc(n + 8);
  ASSERT(b != NULL);
  for (size_t i = 0; i < n; i++) {
    for (size_t k = 0; k < sizeof subst; k++) {
      memcpy(b, SEND_V2, n);
      b[i] = subst[k];
      check_one(b, n);
    }
    check_one((const uint8_t *)SEND_V2, i);
  }
  uint32_t x = 12345;
  for (int round = 0; round < 20000; round++) {
    memcpy(b, SEND_V2, n);
    int edits = 1 + round % 4;
    for (int e = 0; e < edits; e++) {
      x ^= x << 13, x ^= x >> 17, x ^= x << 5;
      size_t at = x % n;
      x ^= x << 13, x ^= x >> 17, x ^= x << 5;
      b[at] = (round & 1) ? subst[x % sizeof subst] : (uint8_t)x;
    }
    check_one(b, n);
  }
  free(b);
  fprintf(stderr, "  fast path decoded %d headers, declined %d\n", n_fast, n_declined);
  ASSERT(n_fast > 100 && n_declined > 100);
}

/* The reply writer's shortcuts (plain strings copied 8 bytes at a time, known
 * extFields keys sorted by their codegen-time rank) write what the generic
 * escaping and a byte-wise key sort write. */
TEST(encode_shortcuts_match_generic_writer) {
  static const char *vals[] = {"", "a", "1234567", "12345678", "123456789", "0123456789abcdef",
                               "0123456789abcdef\"", "\"0123456789abcdef", "0123456\\89abcdef", "abcdefg\x7f",
                               "abcdefgh\x01", "caf\xc3\xa9 au lait", "\xc2\x85 next line", "tab\there", "/slash/"};
  for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
    tern_cmd_t c;
    tern_buf_t out, ref;
    tern_cmd_init(&c);
    c.code = -12345678;
    c.opaque = INT32_MIN;
    c.has_remark = true;
    c.remark = tern_str_from_cstr(vals[i]);
    ASSERT_EQ(tern_cmd_ext_add(&c, TERN_STR("queueOffset"), tern_str_from_cstr(vals[i])), 0);
    ASSERT_EQ(tern_cmd_ext_add(&c, TERN_STR("MSG_REGION"), TERN_STR("DefaultRegion")), 0);
    ASSERT_EQ(tern_cmd_ext_add(&c, TERN_STR("a"), TERN_STR("x")), 0);
    tern_buf_init(&out, 0);
    tern_buf_init(&ref, 0);
    ASSERT_EQ(tern_cmd_encode(&c, &out), 0);
    tern_buf_append_cstr(&ref, "{\"code\":-12345678,\"extFields\":{\"MSG_REGION\":\"DefaultRegion\",\"a\":\"x\",\"queueOffset\":");
    tern_json_put_str(&ref, c.remark);
    tern_buf_append_cstr(&ref, "},\"flag\":0,\"language\":\"JAVA\",\"opaque\":-2147483648,\"remark\":");
    tern_json_put_str(&ref, c.remark);
    tern_buf_append_cstr(&ref, ",\"serializeTypeCurrentRPC\":\"JSON\",\"version\":0}");
    ASSERT_EQ(out.len - 8, ref.len);
    ASSERT(memcmp(out.p + 8, ref.p, ref.len) == 0);
    tern_buf_free(&out);
    tern_buf_free(&ref);
  }
  /* Unknown keys among known ones: byte order of the key text. */
  {
    tern_cmd_t c, d;
    tern_buf_t out;
    tern_arena_t a;
    tern_frame_parser_t fp;
    tern_frame_t f;
    tern_err_t err = {0};
    static const char *keys[] = {"zz", "msgId", "Zebra", "a", "queueId", "_x", "MSG_REGION", "aa", "TRACE_ON", "b"};
    tern_cmd_init(&c);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
      ASSERT_EQ(tern_cmd_ext_add(&c, tern_str_from_cstr(keys[i]), TERN_STR("v")), 0);
    tern_buf_init(&out, 0);
    tern_arena_init(&a, 0, NULL, 0);
    ASSERT_EQ(tern_cmd_encode(&c, &out), 0);
    tern_frame_parser_init(&fp, 0);
    ASSERT(tern_frame_next(&fp, out.p, out.len, &f, &err) > 0);
    ASSERT_EQ(tern_cmd_decode(&f, &d, &a, &err), 0);
    ASSERT_EQ(d.n_ext, sizeof keys / sizeof keys[0]);
    for (uint32_t i = 1; i < d.n_ext; i++) {
      size_t m = d.ext[i - 1].key.n < d.ext[i].key.n ? d.ext[i - 1].key.n : d.ext[i].key.n;
      int r = memcmp(d.ext[i - 1].key.p, d.ext[i].key.p, m);
      ASSERT(r < 0 || (r == 0 && d.ext[i - 1].key.n < d.ext[i].key.n));
    }
    tern_buf_free(&out);
    tern_arena_free(&a);
  }
}
