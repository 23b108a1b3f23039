/* Running mqnamesrv/mqbroker for tests and benchmarks; see proc_fixture.h. */
#include "proc_fixture.h"

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

double tern_fixture_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

const char *tern_fixture_binary(int kind) {
  static char path[2][1024];
  int k = kind == TERN_FIXTURE_BROKER;
  const char *e = getenv(k ? "TERN_MQBROKER" : "TERN_MQNAMESRV"), *b = getenv("TERN_BINARY_DIR");
  if (e && *e) return e;
  snprintf(path[k], sizeof path[k], "%s/%s", b && *b ? b : ".", k ? "broker/mqbroker" : "namesrv/mqnamesrv");
  return path[k];
}

/* fork + exec bin -c conf with stdout into a pipe; the child dies with us. */
static pid_t spawn(const char *bin, const char *argv0, const char *conf, int *out_fd) {
  int out[2];
  pid_t pid, parent = getpid();
  if (pipe2(out, O_CLOEXEC) != 0) return perror("pipe"), -1;
  pid = fork();
  if (pid < 0) {
    perror("fork");
    close(out[0]);
    close(out[1]);
    return -1;
  }
  if (pid == 0) {
    signal(SIGPIPE, SIG_DFL); /* as a shell would start it */
    /* A test that fails before stopping its server must not leave it running
     * (holding ctest's output pipe open). */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127); /* the parent died before prctl */
    dup2(out[1], STDOUT_FILENO);          /* dup2 clears close-on-exec */
    execl(bin, argv0, "-c", conf, (char *)NULL);
    perror("exec");
    _exit(127);
  }
  close(out[1]);
  *out_fd = out[0];
  return pid;
}

static void reap(tern_fixture_proc_t *p) {
  p->pid = 0;
  if (p->out_fd > 0) close(p->out_fd);
  p->out_fd = 0;
}

int tern_fixture_start(tern_fixture_proc_t *p, const tern_fixture_opts_t *o) {
  int broker = o->kind == TERN_FIXTURE_BROKER, own_dir = !o->dir;
  char conf[256], line[1024];
  size_t got = 0;
  double t0, deadline;
  FILE *f;
  tern_fixture_proc_t in; /* o's strings may point into *p (a restart) */
  if ((o->extra_conf && strlen(o->extra_conf) >= sizeof in.extra_conf) || (o->dir && strlen(o->dir) >= sizeof in.dir)) {
    fprintf(stderr, "proc_fixture: extra_conf or dir too long\n");
    return -1;
  }
  snprintf(in.extra_conf, sizeof in.extra_conf, "%s", o->extra_conf ? o->extra_conf : "");
  snprintf(in.dir, sizeof in.dir, "%s", o->dir ? o->dir : "");
  memset(p, 0, sizeof *p);
  p->kind = broker ? TERN_FIXTURE_BROKER : TERN_FIXTURE_NAMESRV;
  p->ns_port = o->ns_port;
  p->start_timeout_ms = o->start_timeout_ms > 0 ? o->start_timeout_ms : broker ? 15000 : 10000;
  memcpy(p->extra_conf, in.extra_conf, sizeof p->extra_conf);
  if (!own_dir) {
    memcpy(p->dir, in.dir, sizeof p->dir);
  } else {
    snprintf(p->dir, sizeof p->dir, broker ? "/tmp/tern_bk_XXXXXX" : "/tmp/tern_ns_XXXXXX");
    if (!mkdtemp(p->dir)) return perror("mkdtemp"), -1;
  }
  snprintf(conf, sizeof conf, "%s/%s", p->dir, broker ? "broker.conf" : "namesrv.conf");
  f = fopen(conf, "w");
  if (!f) {
    perror(conf);
    if (own_dir) tern_fixture_rmdir(p);
    return -1;
  }
  if (broker) {
    fprintf(f,
            "listenPort=%d\nbindAddress=127.0.0.1\nbrokerIP1=127.0.0.1\nstorePathRootDir=%s/store\n"
            "mappedFileSizeCommitLog=4194304\nmappedFileSizeConsumeQueue=60000\nlogLevel=warn\n",
            o->listen_port, p->dir);
    if (o->ns_port > 0) fprintf(f, "namesrvAddr=127.0.0.1:%d\n", o->ns_port);
  } else {
    fprintf(f, "listenPort=%d\nbindAddress=127.0.0.1\nkvConfigPath=%s/kv/kvConfig.json\nlogLevel=warn\n",
            o->listen_port, p->dir);
  }
  fprintf(f, "%s\n", p->extra_conf);
  if (fclose(f) != 0) {
    perror(conf);
    if (own_dir) tern_fixture_rmdir(p);
    return -1;
  }
  t0 = tern_fixture_now_ms();
  p->pid = spawn(tern_fixture_binary(p->kind), broker ? "mqbroker" : "mqnamesrv", conf, &p->out_fd);
  if (p->pid < 0) {
    p->pid = 0;
    if (own_dir) tern_fixture_rmdir(p);
    return -1;
  }
  /* The first line on stdout: "... boot success ... listening on A:port[ and B:vip]". */
  deadline = t0 + p->start_timeout_ms;
  while (tern_fixture_now_ms() < deadline && got < sizeof line - 1) {
    struct pollfd pfd = {p->out_fd, POLLIN, 0};
    ssize_t r;
    char *at;
    if (poll(&pfd, 1, 100) <= 0) continue;
    r = read(p->out_fd, line + got, sizeof line - 1 - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break; /* it exited */
    got += (size_t)r;
    line[got] = '\0';
    if (!strchr(line, '\n')) continue;
    at = strstr(line, "listening on ");
    if (at) {
      char *c1 = strchr(at, ':'), *and = strstr(at, " and "), *c2 = and ? strchr(and, ':') : NULL;
      p->port = c1 ? atoi(c1 + 1) : 0;
      p->vip_port = c2 ? atoi(c2 + 1) : 0;
    }
    break;
  }
  p->start_ms = tern_fixture_now_ms() - t0;
  if (p->port <= 0) {
    fprintf(stderr, "%s did not report a port (%s after %.0f ms; got: %.*s)\n", broker ? "mqbroker" : "mqnamesrv",
            tern_fixture_alive(p) ? "still running" : "exited", p->start_ms, (int)got, line);
    tern_fixture_stop(p, !own_dir);
    return -1;
  }
  return 0;
}

int tern_fixture_namesrv_start(tern_fixture_proc_t *p, const char *dir, const char *extra_conf) {
  tern_fixture_opts_t o = {.kind = TERN_FIXTURE_NAMESRV, .dir = dir, .extra_conf = extra_conf};
  return tern_fixture_start(p, &o);
}

int tern_fixture_broker_start(tern_fixture_proc_t *p, const char *dir, int ns_port, const char *extra_conf) {
  tern_fixture_opts_t o = {.kind = TERN_FIXTURE_BROKER, .dir = dir, .ns_port = ns_port, .extra_conf = extra_conf};
  return tern_fixture_start(p, &o);
}

int tern_fixture_restart(tern_fixture_proc_t *p) {
  tern_fixture_opts_t o = {.kind = p->kind, .dir = p->dir, .ns_port = p->ns_port, .listen_port = p->port,
                           .extra_conf = p->extra_conf, .start_timeout_ms = p->start_timeout_ms};
  if (p->pid > 0 || !p->dir[0] || p->port <= 0) {
    fprintf(stderr, "proc_fixture: restart needs a stopped server that had a port and a directory\n");
    return -1;
  }
  return tern_fixture_start(p, &o);
}

int tern_fixture_signal(tern_fixture_proc_t *p, int sig, int timeout_ms) {
  int st, rc = -1;
  double deadline;
  if (p->pid <= 0) return -1;
  if (timeout_ms <= 0) timeout_ms = p->kind == TERN_FIXTURE_BROKER ? 15000 : 5000;
  kill(p->pid, sig);
  deadline = tern_fixture_now_ms() + timeout_ms;
  for (;;) {
    pid_t w = waitpid(p->pid, &st, WNOHANG);
    if (w == p->pid) {
      rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      break;
    }
    if (w < 0 && errno != EINTR) break; /* not our child any more */
    if (tern_fixture_now_ms() >= deadline) {
      fprintf(stderr, "pid %d did not exit within %d ms of signal %d: SIGKILL\n", (int)p->pid, timeout_ms, sig);
      kill(p->pid, SIGKILL);
      waitpid(p->pid, &st, 0);
      break;
    }
    usleep(10000);
  }
  reap(p);
  return rc;
}

int tern_fixture_stop(tern_fixture_proc_t *p, int keep_dir) {
  int rc = tern_fixture_signal(p, SIGTERM, 0);
  reap(p); /* also when it was not running: the pipe */
  if (!keep_dir) tern_fixture_rmdir(p);
  return rc;
}

void tern_fixture_kill(tern_fixture_proc_t *p) {
  int st;
  if (p->pid > 0) {
    kill(p->pid, SIGKILL);
    waitpid(p->pid, &st, 0);
  }
  reap(p);
}

int tern_fixture_alive(tern_fixture_proc_t *p) {
  int st;
  if (p->pid <= 0) return 0;
  return waitpid(p->pid, &st, WNOHANG) == 0;
}

void tern_fixture_rmdir(tern_fixture_proc_t *p) {
  char cmd[300];
  if (!p->dir[0]) return;
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", p->dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", p->dir);
  p->dir[0] = '\0';
}

int tern_fixture_run(const char *bin, const char *const *argv, char *out, size_t cap) {
  int pipefd[2], st;
  size_t got = 0;
  pid_t pid;
  if (cap == 0 || pipe2(pipefd, O_CLOEXEC) != 0) return -1;
  pid = fork();
  if (pid < 0) {
    close(pipefd[0]);
    close(pipefd[1]);
    return -1;
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    dup2(pipefd[1], STDOUT_FILENO);
    dup2(pipefd[1], STDERR_FILENO);
    execv(bin, (char *const *)argv);
    _exit(127);
  }
  close(pipefd[1]);
  for (;;) {
    ssize_t r = read(pipefd[0], out + got, cap - 1 - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += (size_t)r;
    if (got == cap - 1) break;
  }
  out[got] = '\0';
  close(pipefd[0]);
  if (waitpid(pid, &st, 0) != pid) return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int port_free(int port) {
  struct sockaddr_in a;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1, ok;
  if (fd < 0) return 0;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
  close(fd);
  return ok;
}

int tern_fixture_free_port_pair(void) {
  for (int i = 0; i < 200; i++) {
    int p = 20000 + (int)((unsigned)(getpid() * 7919 + i * 104729 + (int)tern_fixture_now_ms()) % 30000);
    if (port_free(p) && port_free(p - 2)) return p;
  }
  return -1;
}

int tern_fixture_connect(int port) {
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

long tern_fixture_rss_kb(pid_t pid) {
  char path[64], line[256];
  long kb = -1;
  FILE *f;
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  if (!(f = fopen(path, "r"))) return -1;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, "VmRSS:", 6) == 0) kb = atol(line + 6);
  fclose(f);
  return kb;
}

double tern_fixture_cpu_seconds(pid_t pid) {
  char path[64], buf[1024], *p;
  unsigned long ut, st;
  size_t n;
  FILE *f;
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  if (!(f = fopen(path, "r"))) return -1;
  n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  p = strrchr(buf, ')'); /* the command name may contain spaces */
  if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2) return -1;
  return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}
