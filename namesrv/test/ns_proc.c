/* Spawning and stopping mqnamesrv for tests; see ns_proc.h. */
#include "ns_proc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

const char *ns_proc_binary(void) {
  static char path[1024];
  const char *b = getenv("TERN_MQNAMESRV");
  if (b && *b) return b;
  b = getenv("TERN_BINARY_DIR");
  snprintf(path, sizeof path, "%s/namesrv/mqnamesrv", b && *b ? b : ".");
  return path;
}

int ns_proc_start(ns_proc_t *p, const char *extra_conf) { return ns_proc_start_in(p, NULL, extra_conf); }

int ns_proc_start_in(ns_proc_t *p, const char *dir, const char *extra_conf) {
  char conf[256], line[512];
  FILE *f;
  int out[2];
  size_t got = 0;
  double t0, deadline;
  memset(p, 0, sizeof *p);
  if (dir) {
    snprintf(p->dir, sizeof p->dir, "%s", dir);
  } else {
    snprintf(p->dir, sizeof p->dir, "/tmp/tern_ns_XXXXXX");
    if (!mkdtemp(p->dir)) return perror("mkdtemp"), -1;
  }
  snprintf(conf, sizeof conf, "%s/namesrv.conf", p->dir);
  f = fopen(conf, "w");
  if (!f) return perror("conf"), -1;
  fprintf(f, "listenPort=0\nbindAddress=127.0.0.1\nkvConfigPath=%s/kv/kvConfig.json\nlogLevel=warn\n%s\n", p->dir,
          extra_conf ? extra_conf : "");
  fclose(f);
  if (pipe(out) != 0) return perror("pipe"), -1;
  t0 = now_ms();
  p->pid = fork();
  if (p->pid < 0) return perror("fork"), -1;
  if (p->pid == 0) {
    signal(SIGPIPE, SIG_DFL); /* as a shell would start it */
    /* Die with the test: a test that fails before stopping its server must
     * not leave it running (holding ctest's output pipe open). */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() == 1) _exit(127);
    dup2(out[1], STDOUT_FILENO);
    close(out[0]);
    close(out[1]);
    execl(ns_proc_binary(), "mqnamesrv", "-c", conf, (char *)NULL);
    perror("exec mqnamesrv");
    _exit(127);
  }
  close(out[1]);
  deadline = t0 + 10000;
  while (now_ms() < deadline && got < sizeof line - 1) {
    struct pollfd pfd = {out[0], POLLIN, 0};
    ssize_t r;
    char *nl, *at;
    if (poll(&pfd, 1, 100) <= 0) continue;
    r = read(out[0], line + got, sizeof line - 1 - got);
    if (r <= 0) break;
    got += (size_t)r;
    line[got] = '\0';
    nl = strchr(line, '\n');
    if (!nl) continue;
    at = strstr(line, "listening on ");
    if (at) {
      char *colon = strrchr(at, ':');
      p->port = colon ? atoi(colon + 1) : 0;
    }
    break;
  }
  p->start_ms = now_ms() - t0;
  p->out_fd = out[0];
  if (p->port <= 0) {
    fprintf(stderr, "mqnamesrv did not report a port (got: %.*s)\n", (int)got, line);
    ns_proc_stop(p, 0);
    return -1;
  }
  return 0;
}

int ns_proc_alive(ns_proc_t *p) {
  int st;
  if (p->pid <= 0) return 0;
  return waitpid(p->pid, &st, WNOHANG) == 0;
}

int ns_proc_stop(ns_proc_t *p, int keep_dir) {
  int st = -1, rc = -1;
  if (p->pid > 0) {
    kill(p->pid, SIGTERM);
    for (int i = 0; i < 500; i++) {
      pid_t w = waitpid(p->pid, &st, WNOHANG);
      if (w == p->pid) {
        rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        break;
      }
      usleep(10000);
    }
    if (rc < 0) {
      kill(p->pid, SIGKILL);
      waitpid(p->pid, &st, 0);
    }
    p->pid = 0;
  }
  if (p->out_fd > 0) close(p->out_fd);
  p->out_fd = 0;
  if (!keep_dir && p->dir[0]) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", p->dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", p->dir);
    p->dir[0] = '\0';
  }
  return rc;
}

int ns_connect(int port) {
  struct sockaddr_in a;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
  if (fd < 0) return -1;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    close(fd);
    return -1;
  }
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}
