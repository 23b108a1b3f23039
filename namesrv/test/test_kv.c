/* KV config through its own API: put/get/delete/list semantics of reference
 * §5.5, persistence to kvConfig.json in RocketMQ's layout (written atomically,
 * read back by a fresh table, including escapes and a file Java wrote), the
 * size cap, and refusal of a corrupt file. */
#include "namesrv/kv.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tern_test.h"

static char g_dir[256];

static const char *tmp_path(const char *name) {
  static char p[512];
  if (!g_dir[0]) {
    snprintf(g_dir, sizeof g_dir, "/tmp/tern_kv_test_XXXXXX");
    if (!mkdtemp(g_dir)) return NULL;
  }
  snprintf(p, sizeof p, "%s/%s", g_dir, name);
  return p;
}

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  static char buf[4096];
  size_t n;
  if (!f) return NULL;
  n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  return buf;
}

TEST(put_get_delete_list_in_memory) {
  tern_ns_kv_t kv;
  tern_str_t v, *keys, *vals;
  uint32_t n;
  tern_arena_t a;
  tern_arena_init(&a, 0, NULL, 0);
  ASSERT_OK(tern_ns_kv_init(&kv, NULL, 0));
  ASSERT_EQ(tern_ns_kv_get(&kv, TERN_STR("ns"), TERN_STR("k"), &v), TERN_ENOTFOUND);
  ASSERT_EQ(tern_ns_kv_put(&kv, TERN_STR(""), TERN_STR("k"), TERN_STR("v")), TERN_EINVAL);
  ASSERT_EQ(tern_ns_kv_put(&kv, TERN_STR("ns"), TERN_STR(""), TERN_STR("v")), TERN_EINVAL);
  ASSERT_OK(tern_ns_kv_put(&kv, TERN_STR("ORDER_TOPIC_CONFIG"), TERN_STR("T"), TERN_STR("broker-a:4")));
  ASSERT_OK(tern_ns_kv_put(&kv, TERN_STR("ORDER_TOPIC_CONFIG"), TERN_STR("A"), TERN_STR("x")));
  ASSERT_OK(tern_ns_kv_put(&kv, TERN_STR("ORDER_TOPIC_CONFIG"), TERN_STR("T"), TERN_STR("broker-a:8")));
  ASSERT_OK(tern_ns_kv_get(&kv, TERN_STR("ORDER_TOPIC_CONFIG"), TERN_STR("T"), &v));
  ASSERT_STR(v, "broker-a:8");
  ASSERT_OK(tern_ns_kv_list(&kv, TERN_STR("ORDER_TOPIC_CONFIG"), &a, &keys, &vals, &n));
  ASSERT_EQ(n, 2);
  ASSERT_STR(keys[0], "A");
  ASSERT_STR(vals[1], "broker-a:8");
  ASSERT_EQ(tern_ns_kv_list(&kv, TERN_STR("other"), &a, &keys, &vals, &n), TERN_ENOTFOUND);
  ASSERT_OK(tern_ns_kv_delete(&kv, TERN_STR("ORDER_TOPIC_CONFIG"), TERN_STR("T")));
  ASSERT_OK(tern_ns_kv_delete(&kv, TERN_STR("ORDER_TOPIC_CONFIG"), TERN_STR("T"))); /* absent: fine */
  ASSERT_EQ(tern_ns_kv_get(&kv, TERN_STR("ORDER_TOPIC_CONFIG"), TERN_STR("T"), &v), TERN_ENOTFOUND);
  ASSERT_OK(tern_ns_kv_delete(&kv, TERN_STR("ORDER_TOPIC_CONFIG"), TERN_STR("A")));
  ASSERT_EQ(tern_ns_kv_list(&kv, TERN_STR("ORDER_TOPIC_CONFIG"), &a, &keys, &vals, &n), TERN_ENOTFOUND);
  tern_ns_kv_free(&kv);
  tern_arena_free(&a);
}

TEST(size_cap_refuses_growth) {
  tern_ns_kv_t kv;
  char big[200];
  memset(big, 'x', sizeof big);
  ASSERT_OK(tern_ns_kv_init(&kv, NULL, 400));
  ASSERT_OK(tern_ns_kv_put(&kv, TERN_STR("n"), TERN_STR("a"), ((tern_str_t){big, 100})));
  ASSERT_EQ(tern_ns_kv_put(&kv, TERN_STR("n"), TERN_STR("b"), ((tern_str_t){big, 200})), TERN_ETOOBIG);
  /* Replacing an entry frees its old share of the budget. */
  ASSERT_OK(tern_ns_kv_put(&kv, TERN_STR("n"), TERN_STR("a"), ((tern_str_t){big, 150})));
  tern_ns_kv_free(&kv);
}

TEST(persists_atomically_and_reloads) {
  const char *path = tmp_path("sub/dir/kvConfig.json");
  char saved[512];
  tern_ns_kv_t kv, kv2;
  tern_str_t v;
  tern_err_t err;
  ASSERT(path != NULL);
  snprintf(saved, sizeof saved, "%s", path);
  ASSERT_OK(tern_ns_kv_init(&kv, saved, 0));
  ASSERT_OK(tern_ns_kv_load(&kv, &err)); /* missing file: empty */
  ASSERT_OK(tern_ns_kv_put(&kv, TERN_STR("ns2"), TERN_STR("k\"q"), TERN_STR("line\nbreak")));
  ASSERT_OK(tern_ns_kv_put(&kv, TERN_STR("ns1"), TERN_STR("k"), TERN_STR("v")));
  ASSERT_STREQ(slurp(saved), "{\"configTable\":{\"ns1\":{\"k\":\"v\"},\"ns2\":{\"k\\\"q\":\"line\\nbreak\"}}}");
  {
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.tmp", saved);
    ASSERT(access(tmp, F_OK) != 0); /* no temp file left behind */
  }
  ASSERT_OK(tern_ns_kv_init(&kv2, saved, 0));
  ASSERT_OK(tern_ns_kv_load(&kv2, &err));
  ASSERT_OK(tern_ns_kv_get(&kv2, TERN_STR("ns2"), TERN_STR("k\"q"), &v));
  ASSERT_STR(v, "line\nbreak");
  tern_ns_kv_free(&kv2);
  ASSERT_OK(tern_ns_kv_delete(&kv, TERN_STR("ns2"), TERN_STR("k\"q")));
  ASSERT_STREQ(slurp(saved), "{\"configTable\":{\"ns1\":{\"k\":\"v\"}}}");
  tern_ns_kv_free(&kv);
}

static int write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  fputs(text, f);
  return fclose(f);
}

TEST(reads_java_written_file_and_refuses_corrupt) {
  char path[512];
  tern_ns_kv_t kv;
  tern_str_t v;
  tern_err_t err;
  snprintf(path, sizeof path, "%s", tmp_path("java.json"));
  /* fastjson's pretty form as RocketMQ writes it (with spaces and tabs). */
  ASSERT_OK(write_file(path, "{\n\t\"configTable\":{\n\t\t\"ORDER_TOPIC_CONFIG\":{\n\t\t\t\"T\":\"broker-a:4;broker-b:4\"\n\t\t}\n\t}\n}"));
  ASSERT_OK(tern_ns_kv_init(&kv, path, 0));
  ASSERT_OK(tern_ns_kv_load(&kv, &err));
  ASSERT_OK(tern_ns_kv_get(&kv, TERN_STR("ORDER_TOPIC_CONFIG"), TERN_STR("T"), &v));
  ASSERT_STR(v, "broker-a:4;broker-b:4");
  tern_ns_kv_free(&kv);

  ASSERT_OK(write_file(path, "{\"configTable\":{\"ns\":{\"k\":\"v\"}"));
  ASSERT_OK(tern_ns_kv_init(&kv, path, 0));
  ASSERT_EQ(tern_ns_kv_load(&kv, &err), TERN_ECORRUPT);
  ASSERT(err.reason != NULL);
  ASSERT_EQ(tern_ns_kv_get(&kv, TERN_STR("ns"), TERN_STR("k"), &v), TERN_ENOTFOUND);
  tern_ns_kv_free(&kv);

  ASSERT_OK(write_file(path, "{\"configTable\":{\"ns\":{\"k\":12}}}"));
  ASSERT_OK(tern_ns_kv_init(&kv, path, 0));
  ASSERT_EQ(tern_ns_kv_load(&kv, &err), TERN_ECORRUPT);
  tern_ns_kv_free(&kv);

  ASSERT_OK(write_file(path, "[1,2]"));
  ASSERT_OK(tern_ns_kv_init(&kv, path, 0));
  ASSERT_EQ(tern_ns_kv_load(&kv, &err), TERN_ECORRUPT);
  tern_ns_kv_free(&kv);
}
