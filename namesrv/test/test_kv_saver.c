/* The KV writer thread: every requester is called back on the loop thread
 * after a write that includes its change, rapid requests are coalesced, the
 * file ends with the newest content, a failed write reports TERN_EIO, and stop
 * flushes what is pending. */
#include "namesrv/kv_saver.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tern_test.h"

typedef struct seen {
  int calls, last_status, order[64];
} seen_t;

typedef struct cb_arg {
  seen_t *seen;
  int id;
} cb_arg_t;

static void on_saved(void *arg, int status) {
  cb_arg_t *a = arg;
  if (a->seen->calls < 64) a->seen->order[a->seen->calls] = a->id;
  a->seen->calls++;
  a->seen->last_status = status;
}

static char *slurp(const char *path, char *buf, size_t cap) {
  FILE *f = fopen(path, "rb");
  size_t n;
  if (!f) return NULL;
  n = fread(buf, 1, cap - 1, f);
  fclose(f);
  buf[n] = '\0';
  return buf;
}

TEST(callbacks_after_write_in_order_and_coalesced) {
  static tern_loop_t loop;
  tern_ns_kv_t kv;
  tern_ns_kv_saver_t s;
  seen_t seen = {0};
  cb_arg_t args[20];
  char dir[] = "/tmp/tern_kvs_XXXXXX", path[128], buf[4096], cmd[160];
  ASSERT(mkdtemp(dir) != NULL);
  snprintf(path, sizeof path, "%s/sub/kvConfig.json", dir);
  ASSERT_OK(tern_loop_init(&loop, NULL, NULL));
  ASSERT_OK(tern_ns_kv_init(&kv, path, 0));
  ASSERT_OK(tern_ns_kv_saver_init(&s, &loop, &kv));
  for (int i = 0; i < 20; i++) {
    char v[16];
    snprintf(v, sizeof v, "v%d", i);
    ASSERT_OK(tern_ns_kv_set(&kv, TERN_STR("ns"), TERN_STR("k"), tern_str_from_cstr(v)));
    args[i].seen = &seen;
    args[i].id = i;
    ASSERT_OK(tern_ns_kv_saver_request(&s, on_saved, &args[i]));
  }
  ASSERT_EQ(seen.calls, 0); /* never called back from inside the request */
  while (seen.calls < 20) uv_run(loop.uv, UV_RUN_ONCE);
  for (int i = 0; i < 20; i++) ASSERT_EQ(seen.order[i], i);
  ASSERT_EQ(seen.last_status, 0);
  ASSERT_STREQ(slurp(path, buf, sizeof buf), "{\"configTable\":{\"ns\":{\"k\":\"v19\"}}}");
  /* stop writes what is still pending and delivers its callback. */
  ASSERT(tern_ns_kv_unset(&kv, TERN_STR("ns"), TERN_STR("k")));
  ASSERT_OK(tern_ns_kv_saver_request(&s, on_saved, &args[0]));
  tern_ns_kv_saver_stop(&s);
  ASSERT_EQ(seen.calls, 21);
  ASSERT_STREQ(slurp(path, buf, sizeof buf), "{\"configTable\":{}}");
  tern_ns_kv_free(&kv);
  tern_loop_close(&loop);
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  ASSERT_EQ(system(cmd), 0);
}

TEST(failed_write_reports_eio) {
  static tern_loop_t loop;
  tern_ns_kv_t kv;
  tern_ns_kv_saver_t s;
  seen_t seen = {0};
  cb_arg_t a = {&seen, 1};
  ASSERT_OK(tern_loop_init(&loop, NULL, NULL));
  ASSERT_OK(tern_ns_kv_init(&kv, "/dev/null/not-a-dir/kvConfig.json", 0));
  ASSERT_OK(tern_ns_kv_saver_init(&s, &loop, &kv));
  ASSERT_OK(tern_ns_kv_set(&kv, TERN_STR("ns"), TERN_STR("k"), TERN_STR("v")));
  ASSERT_OK(tern_ns_kv_saver_request(&s, on_saved, &a));
  while (seen.calls < 1) uv_run(loop.uv, UV_RUN_ONCE);
  ASSERT_EQ(seen.last_status, TERN_EIO);
  tern_ns_kv_saver_stop(&s);
  tern_ns_kv_free(&kv);
  tern_loop_close(&loop);
}

TEST(no_path_calls_back_at_once) {
  static tern_loop_t loop;
  tern_ns_kv_t kv;
  tern_ns_kv_saver_t s;
  seen_t seen = {0};
  cb_arg_t a = {&seen, 1};
  ASSERT_OK(tern_loop_init(&loop, NULL, NULL));
  ASSERT_OK(tern_ns_kv_init(&kv, NULL, 0));
  ASSERT_OK(tern_ns_kv_saver_init(&s, &loop, &kv));
  ASSERT_OK(tern_ns_kv_saver_request(&s, on_saved, &a));
  ASSERT_EQ(seen.calls, 1);
  tern_ns_kv_saver_stop(&s);
  tern_ns_kv_free(&kv);
  tern_loop_close(&loop);
}
