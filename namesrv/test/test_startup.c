/* mqnamesrv's start-up and restart behaviour as an operator sees it: KV
 * config survives a restart (read back from kvConfig.json), a corrupt
 * kvConfig.json or a port already in use stops start-up with exit status 1
 * and a message naming the cause, and -p prints the settings and exits 0. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gen/codes.h"
#include "proc_fixture.h"
#include "ns_wire.h"
#include "tern_test.h"

/* Runs mqnamesrv with args to completion; returns its exit status and the
 * first part of its combined output in out. */
static int run_to_exit(const char *const *args, char *out, size_t cap) {
  return tern_fixture_run(tern_fixture_binary(TERN_FIXTURE_NAMESRV), args, out, cap);
}

static int kv(int fd, int32_t code, int32_t opaque, const char *val, tern_cmd_t *resp, tern_buf_t *in,
              tern_arena_t *a) {
  tern_cmd_t req;
  ns_wire_request(&req, code, opaque);
  tern_cmd_ext_add(&req, TERN_STR("namespace"), TERN_STR("ns"));
  tern_cmd_ext_add(&req, TERN_STR("key"), TERN_STR("k"));
  if (val) tern_cmd_ext_add(&req, TERN_STR("value"), tern_str_from_cstr(val));
  if (ns_wire_send_cmd(fd, &req)) return -1;
  return ns_wire_read_cmd(fd, in, resp, a, 5000);
}

TEST(kv_survives_restart) {
  tern_fixture_proc_t p;
  char dir[128];
  tern_cmd_t resp;
  tern_buf_t in;
  tern_arena_t a;
  const tern_str_t *v;
  int fd;
  tern_buf_init(&in, 0);
  tern_arena_init(&a, 0, NULL, 0);
  ASSERT_OK(tern_fixture_namesrv_start(&p, NULL, NULL));
  snprintf(dir, sizeof dir, "%s", p.dir);
  fd = tern_fixture_connect(p.port);
  ASSERT(fd >= 0);
  ASSERT_OK(kv(fd, TERN_REQ_PUT_KV_CONFIG, 1, "kept", &resp, &in, &a));
  ASSERT_EQ(resp.code, TERN_RESP_SUCCESS);
  close(fd);
  ASSERT_EQ(tern_fixture_stop(&p, 1), 0);

  ASSERT_OK(tern_fixture_namesrv_start(&p, dir, NULL));
  fd = tern_fixture_connect(p.port);
  ASSERT(fd >= 0);
  ASSERT_OK(kv(fd, TERN_REQ_GET_KV_CONFIG, 2, NULL, &resp, &in, &a));
  ASSERT_EQ(resp.code, TERN_RESP_SUCCESS);
  v = tern_cmd_ext_get(&resp, "value");
  ASSERT(v != NULL);
  ASSERT_STR(*v, "kept");
  close(fd);
  ASSERT_EQ(tern_fixture_stop(&p, 0), 0);
  tern_buf_free(&in);
  tern_arena_free(&a);
}

TEST(corrupt_kv_file_stops_startup) {
  char dir[] = "/tmp/tern_ns_bad_XXXXXX", conf[256], kvp[256], out[2048], cmd[300];
  const char *args[] = {"mqnamesrv", "-c", conf, NULL};
  FILE *f;
  ASSERT(mkdtemp(dir) != NULL);
  snprintf(kvp, sizeof kvp, "%s/kvConfig.json", dir);
  snprintf(conf, sizeof conf, "%s/namesrv.conf", dir);
  f = fopen(kvp, "w");
  ASSERT(f != NULL);
  fputs("{\"configTable\":{\"ns\":{\"k\":", f);
  fclose(f);
  f = fopen(conf, "w");
  ASSERT(f != NULL);
  fprintf(f, "listenPort=0\nbindAddress=127.0.0.1\nkvConfigPath=%s\n", kvp);
  fclose(f);
  ASSERT_EQ(run_to_exit(args, out, sizeof out), 1);
  ASSERT(strstr(out, "kvConfig.json") != NULL);
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  ASSERT_EQ(system(cmd), 0);
}

TEST(port_in_use_stops_startup) {
  tern_fixture_proc_t p;
  char conf[256], out[2048];
  const char *args[] = {"mqnamesrv", "-c", conf, NULL};
  FILE *f;
  ASSERT_OK(tern_fixture_namesrv_start(&p, NULL, NULL));
  snprintf(conf, sizeof conf, "%s/second.conf", p.dir);
  f = fopen(conf, "w");
  ASSERT(f != NULL);
  fprintf(f, "listenPort=%d\nbindAddress=127.0.0.1\nkvConfigPath=%s/kv2/kvConfig.json\n", p.port, p.dir);
  fclose(f);
  ASSERT_EQ(run_to_exit(args, out, sizeof out), 1);
  ASSERT(strstr(out, "cannot listen") != NULL);
  ASSERT(tern_fixture_alive(&p));
  ASSERT_EQ(tern_fixture_stop(&p, 0), 0);
}

TEST(print_config_and_exit) {
  char out[4096];
  const char *args[] = {"mqnamesrv", "-p", NULL};
  ASSERT_EQ(run_to_exit(args, out, sizeof out), 0);
  ASSERT(strstr(out, "listenPort=9876\n") != NULL);
  ASSERT(strstr(out, "scanNotActiveBrokerInterval=10000\n") != NULL);
  ASSERT(strstr(out, "frameMaxLength=16777216\n") != NULL);
}
