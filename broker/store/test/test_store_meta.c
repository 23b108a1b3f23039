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
