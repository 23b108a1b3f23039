/* Tests of the JSON tokenizer, getters and writers (gen/json.h): the lenient
 * forms fastjson peers send, the strict rejections, limits, and the exact
 * bytes the writers produce. */
#include "gen/json.h"
#include "tern_test.h"

#include <stdlib.h>

static tern_json_tok_t toks[256];

static int parse(const char *s, tern_json_doc_t *d, tern_err_t *e) {
  tern_json_doc_init(d, tern_str_from_cstr(s), toks, TERN_ARRAY_SIZE(toks), NULL);
  memset(e, 0, sizeof *e);
  return tern_json_parse(d, NULL, e);
}

static int parse_rc(const char *s) {
  tern_json_doc_t d;
  tern_err_t e;
  return parse(s, &d, &e);
}

TEST(json_object_layout) {
  tern_json_doc_t d;
  tern_err_t e;
  uint32_t v;
  ASSERT_OK(parse(" {\"a\":1,\"b\":[true,false,null],\"c\":{\"d\":\"x\"}} ", &d, &e));
  ASSERT_EQ(d.toks[0].type, TERN_JSON_OBJECT);
  ASSERT_EQ(d.toks[0].size, 3);
  ASSERT_EQ(d.toks[0].next, d.n);
  ASSERT_OK(tern_json_find(&d, 0, "b", &v));
  ASSERT_EQ(d.toks[v].type, TERN_JSON_ARRAY);
  ASSERT_EQ(d.toks[v].size, 3);
  ASSERT_EQ(d.toks[v + 1].type, TERN_JSON_TRUE);
  ASSERT_EQ(d.toks[v + 3].type, TERN_JSON_NULL);
  ASSERT_STR(tern_json_raw(&d, v), "[true,false,null]");
  ASSERT_OK(tern_json_find(&d, 0, "c", &v));
  ASSERT_OK(tern_json_find(&d, v, "d", &v));
  ASSERT_STR(tern_json_raw(&d, v), "x");
  ASSERT_EQ(tern_json_find(&d, 0, "zz", &v), TERN_ENOTFOUND);
}

TEST(json_scalars_at_top_level) {
  tern_json_doc_t d;
  tern_err_t e;
  int64_t i;
  ASSERT_OK(parse("-12", &d, &e));
  ASSERT_EQ(d.n, 1);
  ASSERT_STR(tern_json_raw(&d, 0), "-12");
  ASSERT_OK(tern_json_get_i64(&d, 0, &i));
  ASSERT_EQ(i, -12);
  ASSERT_OK(parse("\"s\"", &d, &e));
  ASSERT_OK(parse("\t1.5e3\n", &d, &e));
  ASSERT_STR(tern_json_raw(&d, 0), "1.5e3");
}

TEST(json_bare_and_integer_keys) {
  tern_json_doc_t d;
  tern_err_t e;
  int64_t k;
  tern_str_t s;
  ASSERT_OK(parse("{0:\"10.0.0.1:10911\",1:\"b\",-1:2,brokerId:3}", &d, &e));
  ASSERT_EQ(d.toks[0].size, 4);
  ASSERT_EQ(d.toks[1].flags & TERN_JSON_F_BARE_KEY, TERN_JSON_F_BARE_KEY);
  ASSERT_OK(tern_json_get_i64(&d, 1, &k));
  ASSERT_EQ(k, 0);
  ASSERT_OK(tern_json_get_str(&d, 2, NULL, &s));
  ASSERT_STR(s, "10.0.0.1:10911");
  ASSERT_OK(tern_json_get_i64(&d, 5, &k));
  ASSERT_EQ(k, -1);
  {
    uint32_t v;
    ASSERT_OK(tern_json_find(&d, 0, "brokerId", &v));
    ASSERT_OK(tern_json_get_i64(&d, v, &k));
    ASSERT_EQ(k, 3);
  }
}

TEST(json_object_keys) {
  tern_json_doc_t d;
  tern_err_t e;
  uint32_t k, v;
  int64_t off;
  ASSERT_OK(parse("{\"offsetTable\":{{\"brokerName\":\"b\",\"queueId\":0,\"topic\":\"t\"}:42,"
                  "{\"brokerName\":\"b\",\"queueId\":1,\"topic\":\"t\"}:7}}", &d, &e));
  ASSERT_OK(tern_json_find(&d, 0, "offsetTable", &v));
  ASSERT_EQ(d.toks[v].size, 2);
  k = TERN_JSON_FIRST(v);
  ASSERT_EQ(d.toks[k].type, TERN_JSON_OBJECT);
  ASSERT_EQ(d.toks[k].flags, TERN_JSON_F_OBJECT_KEY);
  ASSERT_EQ(d.toks[k].size, 3);
  ASSERT_OK(tern_json_get_i64(&d, tern_json_member_value(&d, k), &off));
  ASSERT_EQ(off, 42);
  k = tern_json_member_next(&d, k);
  ASSERT_OK(tern_json_find(&d, k, "queueId", &v));
  ASSERT_OK(tern_json_get_i64(&d, v, &off));
  ASSERT_EQ(off, 1);
  ASSERT_OK(tern_json_get_i64(&d, tern_json_member_value(&d, k), &off));
  ASSERT_EQ(off, 7);
}

TEST(json_pretty_whitespace) {
  ASSERT_OK(parse_rc("{\n\t\"dataVersion\":{\r\n\t\t\"counter\":12\n\t},\n\t\"t\" : [ 1 , 2 ]\n}\n"));
}

TEST(json_strings_unescape) {
  tern_json_doc_t d;
  tern_err_t e;
  tern_arena_t a;
  tern_str_t s;
  tern_arena_init(&a, 4096, NULL, 0);
  ASSERT_OK(parse("[\"a\\\"b\\\\c\\/\\b\\f\\n\\r\\t\",\"\\u00e9\\u4e2d\\ud83d\\ude00\",\"plain \xc3\xa9\"]", &d, &e));
  ASSERT_EQ(d.toks[1].flags, TERN_JSON_F_ESCAPED);
  ASSERT_EQ(tern_json_get_str(&d, 1, NULL, &s), TERN_ENOMEM);
  ASSERT_OK(tern_json_get_str(&d, 1, &a, &s));
  ASSERT_STR(s, "a\"b\\c/\b\f\n\r\t");
  ASSERT_OK(tern_json_get_str(&d, 2, &a, &s));
  ASSERT_STR(s, "\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80");
  ASSERT_OK(tern_json_get_str(&d, 3, NULL, &s));
  ASSERT(s.p == d.text + d.toks[3].start); /* zero-copy */
  ASSERT_STR(s, "plain \xc3\xa9");
  ASSERT_EQ(tern_json_get_str(&d, 0, &a, &s), TERN_EPROTO);
  tern_arena_free(&a);
}

TEST(json_numbers_as_strings_and_ranges) {
  tern_json_doc_t d;
  tern_err_t e;
  int64_t i;
  int32_t i32;
  double f;
  bool b;
  ASSERT_OK(parse("[\"123\",9223372036854775807,9223372036854775808,-9223372036854775808,2147483648,1.5,"
                  "\"abc\",true,\"false\",1,\"2.5e1\",0]", &d, &e));
  ASSERT_OK(tern_json_get_i64(&d, 1, &i));
  ASSERT_EQ(i, 123);
  ASSERT_OK(tern_json_get_i64(&d, 2, &i));
  ASSERT_EQ(i, INT64_MAX);
  ASSERT_EQ(tern_json_get_i64(&d, 3, &i), TERN_ERANGE);
  ASSERT_OK(tern_json_get_i64(&d, 4, &i));
  ASSERT_EQ(i, INT64_MIN);
  ASSERT_EQ(tern_json_get_i32(&d, 5, &i32), TERN_ERANGE);
  ASSERT_EQ(tern_json_get_i64(&d, 6, &i), TERN_EPROTO);
  ASSERT_OK(tern_json_get_double(&d, 6, &f));
  ASSERT(f == 1.5);
  ASSERT_EQ(tern_json_get_i64(&d, 7, &i), TERN_EPROTO);
  ASSERT_EQ(tern_json_get_double(&d, 7, &f), TERN_EPROTO);
  ASSERT_OK(tern_json_get_bool(&d, 8, &b));
  ASSERT(b);
  ASSERT_OK(tern_json_get_bool(&d, 9, &b));
  ASSERT(!b);
  ASSERT_OK(tern_json_get_bool(&d, 10, &b));
  ASSERT(b);
  ASSERT_OK(tern_json_get_double(&d, 11, &f));
  ASSERT(f == 25.0);
  ASSERT_EQ(tern_json_get_bool(&d, 7, &b), TERN_EPROTO);
  ASSERT_EQ(tern_json_get_i64(&d, 0, &i), TERN_EPROTO);
  ASSERT_EQ(tern_json_get_i64(&d, 99, &i), TERN_EINVAL);
}

static void expect_err(const char *s, int code, size_t pos) {
  tern_json_doc_t d;
  tern_err_t e;
  int rc = parse(s, &d, &e);
  if (rc != code || e.pos != pos)
    fprintf(stderr, "  input %s: got %s at %zu (%s), want %s at %zu\n", s, tern_errname(rc), e.pos,
            e.reason ? e.reason : "", tern_errname(code), pos);
  if (rc != code || e.pos != pos || !e.reason) tern_test_failed = 1;
}

TEST(json_rejects_malformed) {
  expect_err("", TERN_EPROTO, 0);
  expect_err("   ", TERN_EPROTO, 3);
  expect_err("{\"a\":1", TERN_EPROTO, 6);
  expect_err("{\"a\":1}x", TERN_EPROTO, 7);
  expect_err("{\"a\":1} {}", TERN_EPROTO, 8);
  expect_err("[1,]", TERN_EPROTO, 3);
  expect_err("{\"a\" 1}", TERN_EPROTO, 5);
  expect_err("01", TERN_EPROTO, 1);
  expect_err("[-]", TERN_EPROTO, 2);
  expect_err("[1.]", TERN_EPROTO, 3);
  expect_err("[.5]", TERN_EPROTO, 1);
  expect_err("[+1]", TERN_EPROTO, 1);
  expect_err("[1e]", TERN_EPROTO, 3);
  expect_err("[0x10]", TERN_EPROTO, 2);
  expect_err("[tru]", TERN_EPROTO, 4);
  expect_err("[truex]", TERN_EPROTO, 5);
  expect_err("['a']", TERN_EPROTO, 1);
  expect_err("{a b:1}", TERN_EPROTO, 3);
  expect_err("[\"a\tb\"]", TERN_EPROTO, 3);
  expect_err("[\"a\nb\"]", TERN_EPROTO, 3);
  expect_err("[\"\\x\"]", TERN_EPROTO, 3);
  expect_err("[\"\\u12g4\"]", TERN_EPROTO, 6);
  expect_err("[nan]", TERN_EPROTO, 2);
  expect_err("[\"abc", TERN_EPROTO, 5);        /* unterminated after the plain-ASCII fast path */
  expect_err("{\"k\":\"v\"", TERN_EPROTO, 8);
}

TEST(json_rejects_bad_utf8) {
  expect_err("[\"\xff\"]", TERN_EUTF8, 2);
  expect_err("[\"\xc0\xaf\"]", TERN_EUTF8, 2);       /* overlong '/' */
  expect_err("[\"\xe0\x80\xaf\"]", TERN_EUTF8, 3);   /* overlong */
  expect_err("[\"\xed\xa0\x80\"]", TERN_EUTF8, 3);   /* encoded surrogate */
  expect_err("[\"\xf4\x90\x80\x80\"]", TERN_EUTF8, 3); /* past U+10FFFF */
  expect_err("[\"\xc3\"]", TERN_EUTF8, 3);          /* truncated sequence */
  expect_err("[\"\\ud800\"]", TERN_EUTF8, 8);       /* lone high surrogate */
  expect_err("[\"\\ud800\\u0041\"]", TERN_EUTF8, 10);
  expect_err("[\"\\udc00\"]", TERN_EUTF8, 5);       /* lone low surrogate */
  expect_err("{\xff:1}", TERN_EPROTO, 1);
}

TEST(json_depth_limit_without_recursion) {
  size_t n = 10000;
  char *s = malloc(n + 1);
  tern_json_doc_t d;
  tern_err_t e;
  tern_arena_t a;
  ASSERT(s);
  memset(s, '[', n);
  s[n] = '\0';
  tern_arena_init(&a, 1 << 20, NULL, 0);
  tern_json_doc_init(&d, tern_str_from_cstr(s), NULL, 0, &a);
  ASSERT_EQ(tern_json_parse(&d, NULL, &e), TERN_EDEPTH);
  ASSERT_EQ(e.pos, 64);
  {
    tern_json_limits_t lim = {100000, 0}; /* clamped to the hard cap */
    ASSERT_EQ(tern_json_parse(&d, &lim, &e), TERN_EDEPTH);
    ASSERT_EQ(e.pos, TERN_JSON_DEPTH_HARD);
  }
  /* Exactly at the limit is fine. */
  {
    tern_json_limits_t lim = {3, 0};
    tern_json_doc_init(&d, TERN_STR("[[[]]]"), NULL, 0, &a);
    ASSERT_OK(tern_json_parse(&d, &lim, &e));
    tern_json_doc_init(&d, TERN_STR("[[[[]]]]"), NULL, 0, &a);
    ASSERT_EQ(tern_json_parse(&d, &lim, &e), TERN_EDEPTH);
  }
  tern_arena_free(&a);
  free(s);
}

TEST(json_token_limits) {
  tern_json_tok_t small[3];
  tern_json_doc_t d;
  tern_err_t e;
  tern_arena_t a;
  tern_json_limits_t lim = {0, 4};
  tern_json_doc_init(&d, TERN_STR("[1,2,3]"), small, 3, NULL);
  ASSERT_EQ(tern_json_parse(&d, NULL, &e), TERN_ETOOBIG);
  tern_arena_init(&a, 1 << 16, NULL, 0);
  tern_json_doc_init(&d, TERN_STR("[1,2,3]"), small, 3, &a);
  ASSERT_OK(tern_json_parse(&d, NULL, &e));
  ASSERT_EQ(d.n, 4);
  ASSERT(d.toks != small);
  ASSERT_STR(tern_json_raw(&d, 3), "3");
  tern_json_doc_init(&d, TERN_STR("[1,2,3,4]"), NULL, 0, &a);
  ASSERT_EQ(tern_json_parse(&d, &lim, &e), TERN_ETOOBIG);
  tern_arena_free(&a);
  /* Arena limit bounds the token array too. */
  tern_arena_init(&a, 256, NULL, 0);
  tern_json_doc_init(&d, TERN_STR("[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20]"), NULL, 0, &a);
  ASSERT_EQ(tern_json_parse(&d, NULL, &e), TERN_ENOMEM);
  tern_arena_free(&a);
}

static const char *put(tern_buf_t *b) {
  tern_buf_put_u8(b, '\0');
  return (const char *)b->p;
}

TEST(json_writer_fastjson_escapes) {
  tern_buf_t b;
  tern_buf_init(&b, 0);
  tern_json_put_str(&b, TERN_STR("a\"b\\c/\b\t\n\f\r\x01\x0b\x1f\x7f \xc2\x85\xc2\xa0\xe4\xb8\xad"));
  ASSERT_STREQ(put(&b), "\"a\\\"b\\\\c/\\b\\t\\n\\f\\r\\u0001\\u000B\\u001F\\u007F \\u0085\xc2\xa0\xe4\xb8\xad\"");
  tern_buf_reset(&b);
  tern_json_put_key(&b, "k");
  tern_json_put_i64(&b, INT64_MIN);
  tern_buf_put_u8(&b, ',');
  tern_json_put_int_key(&b, 7, TERN_JSON_LEGACY_KEYS);
  tern_json_put_bool(&b, true);
  tern_buf_put_u8(&b, ',');
  tern_json_put_int_key(&b, -1, 0);
  tern_json_put_bool(&b, false);
  tern_json_put_newline(&b, 0, 3);
  tern_json_put_newline(&b, TERN_JSON_PRETTY, 2);
  ASSERT_STREQ(put(&b), "\"k\":-9223372036854775808,7:true,\"-1\":false\n\t\t");
  tern_buf_free(&b);
}

TEST(json_writer_doubles_like_java) {
  static const struct { double v; const char *s; } cases[] = {
      {1.0, "1.0"}, {0.5, "0.5"}, {-2.25, "-2.25"}, {123456.0, "123456.0"}, {1e7, "1.0E7"},
      {1.5e-4, "1.5E-4"}, {0.001, "0.001"}, {0.1, "0.1"}, {12345678.9, "1.23456789E7"}, {0.0, "0.0"},
  };
  tern_buf_t b;
  tern_buf_init(&b, 0);
  for (size_t i = 0; i < TERN_ARRAY_SIZE(cases); i++) {
    tern_buf_reset(&b);
    tern_json_put_double(&b, cases[i].v);
    ASSERT_STREQ(put(&b), cases[i].s);
  }
  tern_buf_free(&b);
}

TEST(json_writer_output_reparses) {
  tern_buf_t b;
  tern_json_doc_t d;
  tern_err_t e;
  tern_arena_t a;
  tern_str_t s, in = {"x\x01y\"\\\xc2\x80\xf0\x9f\x98\x80", 11};
  tern_buf_init(&b, 0);
  tern_arena_init(&a, 4096, NULL, 0);
  tern_json_put_str(&b, in);
  tern_json_doc_init(&d, (tern_str_t){(const char *)b.p, b.len}, toks, 8, NULL);
  ASSERT_OK(tern_json_parse(&d, NULL, &e));
  ASSERT_OK(tern_json_get_str(&d, 0, &a, &s));
  ASSERT_EQ(s.n, in.n);
  ASSERT_MEM_EQ(s.p, in.p, in.n);
  tern_arena_free(&a);
  tern_buf_free(&b);
}
