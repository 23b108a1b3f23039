/* Metadata files are replaced atomically: the new content appears whole or
 * not at all, the previous version is kept as .bak, and a missing, empty or
 * unparsable file falls back to .bak. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tern_test.h"
#include "test_util.h"

static char loaded[256];
static int accept_json(void *ctx, const uint8_t *d, size_t n) {
  (void)ctx;
  if (n == 0 || d[0] != '{' || d[n - 1] != '}' || n >= sizeof loaded) return TERN_EPROTO;
  memcpy(loaded, d, n);
  loaded[n] = 0;
  return TERN_OK;
}

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  static char buf[512];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  return buf;
}

TEST(write_keeps_bak_and_leaves_no_tmp) {
  char *dir = tst_tmpdir("meta");
  tern_err_t err = {0};
  ASSERT_OK(tern_meta_write_file(dir, "topics.json", "{\"v\":1}", 7, &err));
  ASSERT_OK(tern_meta_write_file(dir, "topics.json", "{\"v\":2}", 7, &err));
  char *p = tst_path(dir, "topics.json");
  char *bak = tst_path(dir, "topics.json.bak");
  char *tmp = tst_path(dir, "topics.json.tmp");
  ASSERT_STREQ(slurp(p), "{\"v\":2}");
  ASSERT_STREQ(slurp(bak), "{\"v\":1}");
  ASSERT(access(tmp, F_OK) != 0);
  ASSERT_OK(tern_meta_load_file(dir, "topics.json", accept_json, NULL, &err));
  ASSERT_STREQ(loaded, "{\"v\":2}");
  free(p);
  free(bak);
  free(tmp);
  tst_rmrf(dir);
  free(dir);
}

TEST(load_falls_back_to_bak) {
  char *dir = tst_tmpdir("meta2");
  tern_err_t err = {0};
  ASSERT_EQ(tern_meta_load_file(dir, "consumerOffset.json", accept_json, NULL, &err), TERN_ENOTFOUND);
  ASSERT_OK(tern_meta_write_file(dir, "consumerOffset.json", "{\"a\":1}", 7, &err));
  ASSERT_OK(tern_meta_write_file(dir, "consumerOffset.json", "{\"a\":2}", 7, &err));
  char *p = tst_path(dir, "consumerOffset.json");
  /* a crash that left a half-written file under the real name (only possible
   * with a non-atomic writer) or an emptied file: the .bak is used */
  ASSERT_OK(tst_poke(p, 0, "{\"a\"", 4));
  ASSERT_OK(truncate(p, 4));
  ASSERT_OK(tern_meta_load_file(dir, "consumerOffset.json", accept_json, NULL, &err));
  ASSERT_STREQ(loaded, "{\"a\":1}");
  ASSERT_OK(truncate(p, 0));
  ASSERT_OK(tern_meta_load_file(dir, "consumerOffset.json", accept_json, NULL, &err));
  ASSERT_STREQ(loaded, "{\"a\":1}");
  unlink(p);
  ASSERT_OK(tern_meta_load_file(dir, "consumerOffset.json", accept_json, NULL, &err));
  ASSERT_STREQ(loaded, "{\"a\":1}");
  /* a stale .tmp from a crash before the rename is ignored */
  char *tmp = tst_path(dir, "consumerOffset.json.tmp");
  FILE *f = fopen(tmp, "w");
  fputs("{\"a\":99", f);
  fclose(f);
  ASSERT_OK(tern_meta_write_file(dir, "consumerOffset.json", "{\"a\":3}", 7, &err));
  ASSERT_OK(tern_meta_load_file(dir, "consumerOffset.json", accept_json, NULL, &err));
  ASSERT_STREQ(loaded, "{\"a\":3}");
  /* both unusable: the parse error is returned */
  char *bak = tst_path(dir, "consumerOffset.json.bak");
  ASSERT_OK(truncate(p, 0));
  ASSERT_OK(truncate(bak, 0));
  ASSERT_EQ(tern_meta_load_file(dir, "consumerOffset.json", accept_json, NULL, &err), TERN_EPROTO);
  ASSERT_EQ(tern_meta_write_file(dir, "../x", "{}", 2, &err), TERN_EINVAL);
  free(p);
  free(tmp);
  free(bak);
  tst_rmrf(dir);
  free(dir);
}

/* The typed files: written as the Java broker writes them and read back. */
#include "broker/store/meta.h"
#include "runtime/arena.h"

TEST(typed_files_round_trip) {
  char *dir = tst_tmpdir("meta3");
  tern_store_config_t cfg;
  tst_config(&cfg, dir);
  tern_store_t *s = NULL;
  tern_err_t err = {0};
  ASSERT_OK(tern_store_open(&cfg, &s, &err));

  tern_body_consumer_offset_serialize_wrapper_t co = {0};
  tern_body_map_i32_i64_entry_t qs[2] = {{0, 42}, {3, 9}};
  tern_body_map_str_map_i32_i64_entry_t grp = {TERN_STR("TopicTest@cg"), {qs, 2}};
  co.offset_table = (tern_body_map_str_map_i32_i64_t){&grp, 1};
  co.has = TERN_BODY_CONSUMER_OFFSET_SERIALIZE_WRAPPER_HAS_OFFSET_TABLE;
  ASSERT_OK(tern_store_save_consumer_offsets(s, &co, &err));
  char *p = tst_path(dir, "config/consumerOffset.json");
  const char *text = slurp(p);
  ASSERT(text && strstr(text, "\"TopicTest@cg\"") && strstr(text, "0:42") && strstr(text, "\t"));

  tern_body_delay_offset_serialize_wrapper_t dl = {0};
  tern_body_map_i32_i64_entry_t lv[2] = {{1, 0}, {3, 27}};
  dl.offset_table = (tern_body_map_i32_i64_t){lv, 2};
  dl.has = TERN_BODY_DELAY_OFFSET_SERIALIZE_WRAPPER_HAS_OFFSET_TABLE;
  ASSERT_OK(tern_store_save_delay_offsets(s, &dl, &err));

  tern_body_topic_config_serialize_wrapper_t tw = {0};
  tern_body_map_str_topic_config_entry_t te = {TERN_STR("TopicTest"), {0}};
  te.val.topic_name = TERN_STR("TopicTest");
  te.val.has = TERN_BODY_TOPIC_CONFIG_HAS_TOPIC_NAME;
  te.val.perm = 6;
  te.val.read_queue_nums = 4;
  te.val.write_queue_nums = 4;
  tw.topic_config_table = (tern_body_map_str_topic_config_t){&te, 1};
  tw.data_version.counter = 12;
  tw.data_version.timestamp = 1700000000000;
  tw.has = TERN_BODY_TOPIC_CONFIG_SERIALIZE_WRAPPER_HAS_DATA_VERSION |
           TERN_BODY_TOPIC_CONFIG_SERIALIZE_WRAPPER_HAS_TOPIC_CONFIG_TABLE;
  ASSERT_OK(tern_store_save_topics(s, &tw, &err));
  tern_body_subscription_group_wrapper_t sg = {0};
  ASSERT_OK(tern_store_save_subscription_groups(s, &sg, &err));
  tern_store_close(s);

  ASSERT_OK(tern_store_open(&cfg, &s, &err));
  tern_arena_t a;
  tern_arena_init(&a, 0, NULL, 0);
  tern_body_consumer_offset_serialize_wrapper_t co2;
  ASSERT_OK(tern_store_load_consumer_offsets(s, &a, &co2, &err));
  ASSERT_EQ(co2.offset_table.n, 1);
  ASSERT_STR(co2.offset_table.v[0].key, "TopicTest@cg");
  ASSERT_EQ(co2.offset_table.v[0].val.n, 2);
  ASSERT_EQ(co2.offset_table.v[0].val.v[1].key, 3);
  ASSERT_EQ(co2.offset_table.v[0].val.v[1].val, 9);
  tern_body_delay_offset_serialize_wrapper_t dl2;
  ASSERT_OK(tern_store_load_delay_offsets(s, &a, &dl2, &err));
  ASSERT_EQ(dl2.offset_table.n, 2);
  ASSERT_EQ(dl2.offset_table.v[1].val, 27);
  tern_body_topic_config_serialize_wrapper_t tw2;
  int trc = tern_store_load_topics(s, &a, &tw2, &err);
  if (trc) {
    char *tp = tst_path(dir, "config/topics.json");
    fprintf(stderr, "topics.json: %s\n", slurp(tp));
    free(tp);
  }
  ASSERT_OK(trc);
  ASSERT_EQ(tw2.topic_config_table.n, 1);
  ASSERT_EQ(tw2.topic_config_table.v[0].val.read_queue_nums, 4);
  ASSERT_EQ(tw2.data_version.counter, 12);
  tern_body_subscription_group_wrapper_t sg2;
  ASSERT_OK(tern_store_load_subscription_groups(s, &a, &sg2, &err));
  /* a damaged consumerOffset.json: the previous version (.bak) is used */
  qs[0].val = 43;
  ASSERT_OK(tern_store_save_consumer_offsets(s, &co, &err));
  ASSERT_OK(tst_poke(p, 3, "#####", 5));
  ASSERT_OK(tern_store_load_consumer_offsets(s, &a, &co2, &err));
  ASSERT_EQ(co2.offset_table.v[0].val.v[0].val, 42);
  tern_arena_free(&a);
  tern_store_close(s);
  free(p);
  tst_rmrf(dir);
  free(dir);
}
