/* Test environment of the client-management and admin tests: starts the real
 * mqnamesrv (listenPort=0, port read from its "listening on" line) and mqbroker
 * (free listenPort / listenPort-2 picked here, temp store directory, extra
 * broker.conf lines from the test) and talks to them through the runtime's
 * blocking client and the generated stubs (gen/rpc.h). A client may also serve
 * the requests the broker sends it (NOTIFY_CONSUMER_IDS_CHANGED): they are
 * recorded while the test pumps the client's loop. Header-only (static
 * functions) so each test binary stays one file plus this. */
#ifndef TERN_BROKER_TEST_CLIENTS_ENV_H
#define TERN_BROKER_TEST_CLIENTS_ENV_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gen/bodies.h"
#include "gen/codes.h"
#include "gen/rpc.h"
#include "runtime/pool.h"
#include "tern_test.h"

static double env_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static const char *env_bin(const char *sub, const char *envname) {
  static char path[2][1024];
  static int k;
  const char *e = getenv(envname), *b = getenv("TERN_BINARY_DIR");
  if (e && *e) return e;
  k ^= 1;
  snprintf(path[k], sizeof path[k], "%s/%s", b && *b ? b : ".", sub);
  return path[k];
}

/* ---- processes ---- */

typedef struct env_proc {
  pid_t pid;
  int port;
  int out_fd;
} env_proc_t;

static int env_port_free(int port) {
  struct sockaddr_in a;
  int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1, ok;
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

/* A port p with p and p-2 free (the broker listens on both). */
static int env_pick_port(void) {
  for (int i = 0; i < 200; i++) {
    int p = 20000 + (int)((unsigned)(getpid() * 7919 + i * 104729 + (int)env_now_ms()) % 30000);
    if (env_port_free(p) && env_port_free(p - 2)) return p;
  }
  return -1;
}

static int env_can_connect(int port) {
  struct sockaddr_in a;
  int fd = socket(AF_INET, SOCK_STREAM, 0), ok;
  if (fd < 0) return 0;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
  close(fd);
  return ok;
}

static pid_t env_spawn(const char *bin, const char *argv0, const char *conf, int *out_fd) {
  int out[2];
  pid_t pid;
  if (pipe(out) != 0) return -1;
  pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* a crashed test must not leave servers holding ctest's pipes */
    signal(SIGPIPE, SIG_DFL);
    dup2(out[1], STDOUT_FILENO);
    close(out[0]);
    close(out[1]);
    execl(bin, argv0, "-c", conf, (char *)NULL);
    perror("exec");
    _exit(127);
  }
  close(out[1]);
  *out_fd = out[0];
  return pid;
}

static void env_proc_stop(env_proc_t *p, int sig) {
  int st;
  if (p->pid <= 0) return;
  kill(p->pid, sig);
  for (int i = 0; i < 1000; i++) {
    if (waitpid(p->pid, &st, WNOHANG) == p->pid) {
      p->pid = 0;
      break;
    }
    usleep(10000);
  }
  if (p->pid > 0) {
    kill(p->pid, SIGKILL);
    waitpid(p->pid, &st, 0);
    p->pid = 0;
  }
  if (p->out_fd > 0) close(p->out_fd);
  p->out_fd = 0;
}

typedef struct env {
  char dir[128];
  env_proc_t ns, br;
  char ns_addr[64], br_addr[64];
  char broker_extra[1024];
} env_t;

static int env_start_namesrv(env_t *e) {
  char conf[256], line[512];
  size_t got = 0;
  double deadline = env_now_ms() + 10000;
  FILE *f;
  snprintf(conf, sizeof conf, "%s/namesrv.conf", e->dir);
  f = fopen(conf, "w");
  if (!f) return -1;
  fprintf(f, "listenPort=0\nbindAddress=127.0.0.1\nkvConfigPath=%s/kv/kvConfig.json\nlogLevel=warn\n", e->dir);
  fclose(f);
  e->ns.pid = env_spawn(env_bin("namesrv/mqnamesrv", "TERN_MQNAMESRV"), "mqnamesrv", conf, &e->ns.out_fd);
  if (e->ns.pid < 0) return -1;
  while (env_now_ms() < deadline && got < sizeof line - 1) {
    struct pollfd pfd = {e->ns.out_fd, POLLIN, 0};
    ssize_t r;
    char *at;
    if (poll(&pfd, 1, 100) <= 0) continue;
    r = read(e->ns.out_fd, line + got, sizeof line - 1 - got);
    if (r <= 0) break;
    got += (size_t)r;
    line[got] = '\0';
    if (!strchr(line, '\n')) continue;
    at = strstr(line, "listening on ");
    if (at && strrchr(at, ':')) e->ns.port = atoi(strrchr(at, ':') + 1);
    break;
  }
  if (e->ns.port <= 0) {
    fprintf(stderr, "mqnamesrv did not report its port\n");
    return -1;
  }
  snprintf(e->ns_addr, sizeof e->ns_addr, "127.0.0.1:%d", e->ns.port);
  return 0;
}

/* Starts (or restarts over the same store and port) the broker. */
static int env_start_broker(env_t *e) {
  char conf[256];
  double deadline = env_now_ms() + 20000;
  FILE *f;
  if (e->br.port <= 0 && (e->br.port = env_pick_port()) <= 0) return -1;
  snprintf(conf, sizeof conf, "%s/broker.conf", e->dir);
  f = fopen(conf, "w");
  if (!f) return -1;
  fprintf(f,
          "brokerClusterName=TernTestCluster\nbrokerName=broker-t\nbrokerId=0\nlistenPort=%d\nbindAddress=127.0.0.1\n"
          "brokerIP1=127.0.0.1\nnamesrvAddr=%s\nstorePathRootDir=%s/store\nmappedFileSizeCommitLog=8388608\n"
          "mappedFileSizeConsumeQueue=60000\nlogLevel=warn\n%s\n",
          e->br.port, e->ns_addr, e->dir, e->broker_extra);
  fclose(f);
  e->br.pid = env_spawn(env_bin("broker/mqbroker", "TERN_MQBROKER"), "mqbroker", conf, &e->br.out_fd);
  if (e->br.pid < 0) return -1;
  while (env_now_ms() < deadline) {
    int st;
    if (waitpid(e->br.pid, &st, WNOHANG) == e->br.pid) {
      fprintf(stderr, "mqbroker exited during start-up (status %d)\n", st);
      e->br.pid = 0;
      return -1;
    }
    if (env_can_connect(e->br.port)) break;
    usleep(20000);
  }
  snprintf(e->br_addr, sizeof e->br_addr, "127.0.0.1:%d", e->br.port);
  return env_can_connect(e->br.port) ? 0 : -1;
}

__attribute__((unused)) static int env_start(env_t *e, const char *broker_extra) {
  memset(&e->ns, 0, sizeof e->ns);
  memset(&e->br, 0, sizeof e->br);
  snprintf(e->dir, sizeof e->dir, "/tmp/tern_bc_XXXXXX");
  if (!mkdtemp(e->dir)) return -1;
  snprintf(e->broker_extra, sizeof e->broker_extra, "%s", broker_extra ? broker_extra : "");
  if (env_start_namesrv(e)) return -1;
  return env_start_broker(e);
}

static void env_stop(env_t *e) {
  char cmd[300];
  env_proc_stop(&e->br, SIGTERM);
  env_proc_stop(&e->ns, SIGTERM);
  if (e->dir[0]) {
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", e->dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", e->dir);
    e->dir[0] = '\0';
  }
}

/* ---- clients ---- */

#define CLI_MAX_SEEN 64
typedef struct cli {
  tern_sync_client_t sc;
  tern_arena_t arena; /* responses, reset per call */
  /* requests the broker sent us */
  int n_seen;
  int32_t seen_code[CLI_MAX_SEEN], seen_flag[CLI_MAX_SEEN];
  char seen_group[CLI_MAX_SEEN][64];
  bool closed;
} cli_t;

static int cli_on_request(void *ctx, tern_conn_t *c, const tern_cmd_t *req, tern_err_t *err) {
  cli_t *cl = ctx;
  const tern_str_t *g = tern_cmd_ext_get(req, "consumerGroup");
  TERN_UNUSED(c);
  TERN_UNUSED(err);
  if (cl->n_seen < CLI_MAX_SEEN) {
    cl->seen_code[cl->n_seen] = req->code;
    cl->seen_flag[cl->n_seen] = req->flag;
    snprintf(cl->seen_group[cl->n_seen], sizeof cl->seen_group[0], "%.*s", g ? (int)g->n : 0, g ? g->p : "");
    cl->n_seen++;
  }
  return 0;
}

static void cli_on_close(void *ctx, tern_conn_t *c) {
  cli_t *cl = ctx;
  TERN_UNUSED(c);
  cl->closed = true;
}

static int cli_open(cli_t *cl, const char *addr) {
  int rc;
  memset(cl, 0, sizeof *cl);
  rc = tern_sync_open(&cl->sc, addr, NULL);
  if (rc) return rc;
  cl->sc.pool.on_request = cli_on_request;
  cl->sc.pool.ctx = cl;
  cl->sc.pool.on_conn_close = cli_on_close;
  tern_arena_init(&cl->arena, 0, NULL, 0);
  return 0;
}

static void cli_close(cli_t *cl) {
  tern_sync_close(&cl->sc);
  tern_arena_free(&cl->arena);
}

static tern_conn_t *cli_conn(cli_t *cl) {
  tern_conn_t *c = NULL;
  if (tern_pool_get(&cl->sc.pool, cl->sc.addr, &c)) return NULL;
  return c;
}

typedef struct cli_wait {
  bool done;
  int status;
  tern_cmd_t *resp;
  tern_arena_t *arena;
} cli_wait_t;

static void cli_on_resp(void *arg, int status, const tern_cmd_t *resp) {
  cli_wait_t *w = arg;
  w->done = true;
  w->status = status;
  if (status == 0 && tern_cmd_copy(w->resp, resp, w->arena)) w->status = TERN_ENOMEM;
}

/* Runs the client's loop until the stub call's response arrived. */
static int cli_wait(cli_t *cl, int rc, cli_wait_t *w) {
  if (rc) return rc;
  while (!w->done && uv_run(cl->sc.loop.uv, UV_RUN_ONCE)) {
  }
  return w->done ? w->status : TERN_EIO;
}

/* Lets the loop run for ms (to receive requests from the broker). */
__attribute__((unused)) static void cli_pump(cli_t *cl, int ms) {
  double end = env_now_ms() + ms;
  while (env_now_ms() < end) {
    uv_run(cl->sc.loop.uv, UV_RUN_NOWAIT);
    usleep(2000);
  }
}

/* Stub call helper: `CALL(cl, resp, tern_call_x(conn, h, body, 3000, cli_on_resp, &w))`. */
#define CALL(cl, resp, expr)                                                       \
  ({                                                                               \
    cli_wait_t w = {false, 0, (resp), &(cl)->arena};                               \
    tern_conn_t *conn = cli_conn(cl);                                              \
    conn ? cli_wait((cl), (expr), &w) : TERN_ECLOSED;                              \
  })

/* A raw request: code, ext pairs (NULL-terminated list), body. */
__attribute__((unused)) static int cli_raw(cli_t *cl, int32_t code, const char *const *kv, tern_str_t body, tern_cmd_t *resp) {
  tern_cmd_t req;
  tern_rpc_request_init(&req, code, body);
  for (int i = 0; kv && kv[i]; i += 2) tern_cmd_ext_add(&req, tern_str_from_cstr(kv[i]), tern_str_from_cstr(kv[i + 1]));
  return tern_sync_call(&cl->sc, &req, 5000, resp, &cl->arena);
}

__attribute__((unused)) static int cli_count_seen(const cli_t *cl, int32_t code, const char *group) {
  int n = 0;
  for (int i = 0; i < cl->n_seen; i++)
    if (cl->seen_code[i] == code && (!group || strcmp(cl->seen_group[i], group) == 0)) n++;
  return n;
}

/* Heartbeat body of a Java 4.9 push consumer of `group` subscribed to topic/tags, plus producer group. */
__attribute__((unused)) static void hb_body(char *dst, size_t cap, const char *client_id, const char *group, const char *topic,
                    const char *sub, const char *producer_group) {
  char cons[1024] = "", prod[256] = "";
  if (group)
    snprintf(cons, sizeof cons,
             "{\"consumeFromWhere\":\"CONSUME_FROM_LAST_OFFSET\",\"consumeType\":\"CONSUME_PASSIVELY\",\"groupName\":\"%s\","
             "\"messageModel\":\"CLUSTERING\",\"subscriptionDataSet\":[{\"classFilterMode\":false,\"codeSet\":[],"
             "\"expressionType\":\"TAG\",\"subString\":\"%s\",\"subVersion\":1700000000000,\"tagsSet\":[],\"topic\":\"%s\"},"
             "{\"classFilterMode\":false,\"codeSet\":[],\"expressionType\":\"TAG\",\"subString\":\"*\",\"subVersion\":1700000000001,"
             "\"tagsSet\":[],\"topic\":\"%%RETRY%%%s\"}],\"unitMode\":false}",
             group, sub ? sub : "*", topic ? topic : "TopicTest", group);
  if (producer_group) snprintf(prod, sizeof prod, "{\"groupName\":\"%s\"}", producer_group);
  snprintf(dst, cap, "{\"clientID\":\"%s\",\"consumerDataSet\":[%s],\"producerDataSet\":[%s]}", client_id, cons, prod);
}

__attribute__((unused)) static int cli_heartbeat(cli_t *cl, const char *body, tern_cmd_t *resp) {
  return CALL(cl, resp, tern_call_heart_beat(conn, NULL, tern_str_from_cstr(body), 3000, cli_on_resp, &w));
}

#endif
