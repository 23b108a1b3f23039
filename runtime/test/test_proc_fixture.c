/* The server fixture (proc_fixture.h) against the real binaries: boot line
 * parsing, a crash (SIGKILL) keeps the directory and a restart comes back on
 * the same port with the same state, SIGTERM gives the exit status, stop
 * removes the directory, a failed start leaves nothing behind, a server dies
 * with the process that started it, and tern_fixture_run's exit status. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc_fixture.h"
#include "tern_test.h"

static int dir_exists(const char *d) {
  struct stat st;
  return stat(d, &st) == 0 && S_ISDIR(st.st_mode);
}

static int file_exists(const char *d, const char *name) {
  char path[512];
  struct stat st;
  snprintf(path, sizeof path, "%s/%s", d, name);
  return stat(path, &st) == 0;
}

static int can_connect(int port) {
  int fd = tern_fixture_connect(port);
  if (fd < 0) return 0;
  close(fd);
  return 1;
}

/* Gone or a zombie nobody reaps (a container's init may not). */
static int dead(pid_t pid) {
  char path[64], buf[512], *p;
  FILE *f;
  size_t n;
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  if (!(f = fopen(path, "r"))) return 1;
  n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  p = strrchr(buf, ')');
  return p && (p[2] == 'Z' || p[2] == 'X');
}

/* The process ignores SIGPIPE (SigIgn in /proc/<pid>/status); the fixture
 * starts it with the default disposition, as a shell would. */
static int ignores_sigpipe(pid_t pid) {
  char path[64], line[256];
  unsigned long long mask = 0;
  FILE *f;
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  if (!(f = fopen(path, "r"))) return 0;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "SigIgn: %llx", &mask) == 1) break;
  fclose(f);
  return (mask >> (SIGPIPE - 1)) & 1;
}

TEST(namesrv_kill_restart_same_port_then_stop) {
  tern_fixture_proc_t p;
  char dir[128];
  int port;
  ASSERT_OK(tern_fixture_namesrv_start(&p, NULL, "scanNotActiveBrokerInterval=500\n"));
  ASSERT(p.pid > 0);
  ASSERT(p.port > 0);
  ASSERT_EQ(p.vip_port, 0);
  ASSERT(p.start_ms > 0);
  ASSERT(file_exists(p.dir, "namesrv.conf"));
  ASSERT(tern_fixture_alive(&p));
  ASSERT(can_connect(p.port));
  ASSERT(ignores_sigpipe(p.pid));
  port = p.port;
  snprintf(dir, sizeof dir, "%s", p.dir);

  tern_fixture_kill(&p); /* a crash: the directory stays */
  ASSERT_EQ(p.pid, 0);
  ASSERT(!tern_fixture_alive(&p));
  ASSERT(dir_exists(dir));
  ASSERT_OK(tern_fixture_restart(&p));
  ASSERT_EQ(p.port, port);
  ASSERT_STREQ(p.dir, dir);
  ASSERT_STREQ(p.extra_conf, "scanNotActiveBrokerInterval=500\n");
  ASSERT(can_connect(p.port));

  ASSERT_EQ(tern_fixture_signal(&p, SIGTERM, 0), 0); /* a clean shutdown exits 0 */
  ASSERT_EQ(p.pid, 0);
  ASSERT(dir_exists(dir));
  ASSERT_EQ(tern_fixture_signal(&p, SIGTERM, 0), -1); /* not running */
  ASSERT_OK(tern_fixture_restart(&p));
  ASSERT_EQ(p.port, port);
  ASSERT_EQ(tern_fixture_stop(&p, 0), 0);
  ASSERT_EQ(p.dir[0], '\0');
  ASSERT(!dir_exists(dir));
  ASSERT(tern_fixture_restart(&p) != 0); /* nothing left to restart */
}

TEST(broker_registers_and_restarts_over_its_store) {
  tern_fixture_proc_t ns, b;
  char dir[128];
  int port, vip;
  ASSERT_OK(tern_fixture_namesrv_start(&ns, NULL, NULL));
  ASSERT_OK(tern_fixture_broker_start(&b, NULL, ns.port, "brokerName=broker-fx\n"));
  ASSERT(b.port > 0);
  ASSERT(b.vip_port > 0);
  ASSERT(b.vip_port != b.port);
  ASSERT(file_exists(b.dir, "broker.conf"));
  ASSERT(file_exists(b.dir, "store"));
  ASSERT(can_connect(b.port));
  ASSERT(can_connect(b.vip_port));
  ASSERT(ignores_sigpipe(b.pid));
  port = b.port;
  vip = b.vip_port;
  snprintf(dir, sizeof dir, "%s", b.dir);
  tern_fixture_kill(&b);
  ASSERT(file_exists(dir, "store"));
  ASSERT_OK(tern_fixture_restart(&b));
  ASSERT_EQ(b.port, port);
  ASSERT_EQ(b.ns_port, ns.port);
  ASSERT(b.vip_port > 0);
  ASSERT(can_connect(b.port));
  (void)vip;
  ASSERT_EQ(tern_fixture_stop(&b, 0), 0);
  ASSERT(!dir_exists(dir));
  ASSERT_EQ(tern_fixture_stop(&ns, 0), 0);
}

TEST(failed_start_leaves_nothing) {
  tern_fixture_proc_t p;
  const char *old = getenv("TERN_MQNAMESRV");
  char keep[1024] = "";
  if (old) snprintf(keep, sizeof keep, "%s", old);
  setenv("TERN_MQNAMESRV", "/bin/false", 1); /* exits at once, prints nothing */
  ASSERT(tern_fixture_namesrv_start(&p, NULL, NULL) != 0);
  if (keep[0]) setenv("TERN_MQNAMESRV", keep, 1);
  else unsetenv("TERN_MQNAMESRV");
  ASSERT_EQ(p.pid, 0);
  ASSERT_EQ(p.out_fd, 0);
  ASSERT_EQ(p.dir[0], '\0'); /* its new temp directory is gone */
}

TEST(server_dies_with_its_starter) {
  int pfd[2], st;
  pid_t starter;
  tern_fixture_proc_t srv; /* what the starter saw */
  memset(&srv, 0, sizeof srv);
  ASSERT_OK(pipe(pfd));
  starter = fork();
  ASSERT(starter >= 0);
  if (starter == 0) {
    tern_fixture_proc_t p;
    close(pfd[0]);
    if (tern_fixture_namesrv_start(&p, NULL, NULL) != 0) memset(&p, 0, sizeof p);
    if (write(pfd[1], &p, sizeof p) != (ssize_t)sizeof p) _exit(2);
    _exit(0); /* a test that crashed: no stop */
  }
  close(pfd[1]);
  ASSERT_EQ(read(pfd[0], &srv, sizeof srv), (ssize_t)sizeof srv);
  close(pfd[0]);
  ASSERT_EQ(waitpid(starter, &st, 0), starter);
  ASSERT(srv.pid > 0);
  for (int i = 0; i < 500 && !dead(srv.pid); i++) usleep(10000);
  ASSERT(dead(srv.pid));
  srv.pid = 0;
  srv.out_fd = 0;
  tern_fixture_rmdir(&srv);
}

TEST(run_gives_exit_status_and_output) {
  char out[64];
  const char *args[] = {"sh", "-c", "echo hi; echo err >&2; exit 3", NULL};
  const char *big[] = {"sh", "-c", "yes x | head -c 1000", NULL};
  ASSERT_EQ(tern_fixture_run("/bin/sh", args, out, sizeof out), 3);
  ASSERT_STREQ(out, "hi\nerr\n");
  ASSERT_EQ(tern_fixture_run("/bin/sh", big, out, sizeof out), 0);
  ASSERT_EQ(strlen(out), sizeof out - 1);
  ASSERT_EQ(tern_fixture_run("/nonexistent/binary", args, out, sizeof out), 127);
}

TEST(free_port_pair_is_bindable) {
  int p = tern_fixture_free_port_pair();
  ASSERT(p > 2);
  ASSERT(!can_connect(p));
  ASSERT(tern_fixture_rss_kb(getpid()) > 0);
  ASSERT(tern_fixture_cpu_seconds(getpid()) >= 0);
  ASSERT_EQ(tern_fixture_rss_kb(0x7ffffff0), -1);
}
