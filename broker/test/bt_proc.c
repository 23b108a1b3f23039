/* Starting/stopping mqbroker and building requests for the broker tests; see bt.h. */
#include "bt.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

double bt_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

const char *bt_broker_binary(void) {
  static char path[1024];
  const char *b = getenv("TERN_MQBROKER");
  if (b && *b) return b;
  b = getenv("TERN_BINARY_DIR");
  snprintf(path, sizeof path, "%s/broker/mqbroker", b && *b ? b : ".");
  return path;
}

int bt_broker_start(bt_broker_t *p, const char *dir, int ns_port, const char *extra_conf) {
  char conf[256], line[1024];
  FILE *f;
  int out[2];
  size_t got = 0;
  double t0, deadline;
  memset(p, 0, sizeof *p);
  if (dir) {
    snprintf(p->dir, sizeof p->dir, "%s", dir);
  } else {
    snprintf(p->dir, sizeof p->dir, "/tmp/tern_bk_XXXXXX");
    if (!mkdtemp(p->dir)) return perror("mkdtemp"), -1;
  }
  snprintf(conf, sizeof conf, "%s/broker.conf", p->dir);
  f = fopen(conf, "w");
  if (!f) return perror("conf"), -1;
  fprintf(f,
          "listenPort=0\nbindAddress=127.0.0.1\nbrokerIP1=127.0.0.1\nstorePathRootDir=%s/store\n"
          "mappedFileSizeCommitLog=4194304\nmappedFileSizeConsumeQueue=60000\nlogLevel=warn\n",
          p->dir);
  if (ns_port) fprintf(f, "namesrvAddr=127.0.0.1:%d\n", ns_port);
  fprintf(f, "%s\n", extra_conf ? extra_conf : "");
  fclose(f);
  if (pipe(out) != 0) return perror("pipe"), -1;
  t0 = bt_now_ms();
  p->pid = fork();
  if (p->pid < 0) return perror("fork"), -1;
  if (p->pid == 0) {
    signal(SIGPIPE, SIG_DFL);
    dup2(out[1], STDOUT_FILENO);
    close(out[0]);
    close(out[1]);
    execl(bt_broker_binary(), "mqbroker", "-c", conf, (char *)NULL);
    perror("exec mqbroker");
    _exit(127);
  }
  close(out[1]);
  deadline = t0 + 15000;
  while (bt_now_ms() < deadline && got < sizeof line - 1) {
    struct pollfd pfd = {out[0], POLLIN, 0};
    ssize_t r;
    char *at;
    if (poll(&pfd, 1, 100) <= 0) continue;
    r = read(out[0], line + got, sizeof line - 1 - got);
    if (r <= 0) break;
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
  p->start_ms = bt_now_ms() - t0;
  p->out_fd = out[0];
  if (p->port <= 0) {
    fprintf(stderr, "mqbroker did not report a port (got: %.*s)\n", (int)got, line);
    bt_broker_stop(p, 1);
    return -1;
  }
  return 0;
}

int bt_broker_stop(bt_broker_t *p, int keep_dir) {
  int st = -1, rc = -1;
  if (p->pid > 0) {
    kill(p->pid, SIGTERM);
    for (int i = 0; i < 1500; i++) {
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

void bt_broker_kill(bt_broker_t *p) {
  int st;
  if (p->pid <= 0) return;
  kill(p->pid, SIGKILL);
  waitpid(p->pid, &st, 0);
  p->pid = 0;
  if (p->out_fd > 0) close(p->out_fd);
  p->out_fd = 0;
}

long bt_rss_kb(pid_t pid) {
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

int bt_open(bt_client_t *c, int port) {
  char addr[64];
  snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
  tern_arena_init(&c->arena, 0, NULL, 0);
  return tern_sync_open(&c->sc, addr, NULL);
}

void bt_close(bt_client_t *c) {
  tern_sync_close(&c->sc);
  tern_arena_free(&c->arena);
}

int bt_call(bt_client_t *c, tern_cmd_t *req, tern_cmd_t *resp, uint32_t timeout_ms) {
  tern_arena_reset(&c->arena);
  return tern_sync_call(&c->sc, req, timeout_ms, resp, &c->arena);
}

int bt_send(bt_client_t *c, int32_t code, const char *topic, int32_t qid, tern_str_t body, tern_str_t props, bool batch,
            tern_cmd_t *resp) {
  tern_cmd_t req;
  tern_arena_t a;
  int rc;
  tern_arena_init(&a, 0, NULL, 0);
  tern_rpc_request_init(&req, code, body);
  if (code == TERN_REQ_SEND_MESSAGE) {
    tern_hdr_send_message_request_t h;
    memset(&h, 0, sizeof h);
    h.producer_group = TERN_STR("PG_TEST");
    h.topic = tern_str_from_cstr(topic);
    h.default_topic = TERN_STR("TBW102");
    h.default_topic_queue_nums = 4;
    h.queue_id = qid;
    h.born_timestamp = 1700000000123;
    h.flag = 7;
    h.properties = props;
    h.batch = batch;
    h.present = TERN_HDR_SEND_MESSAGE_REQUEST_HAS_PRODUCER_GROUP | TERN_HDR_SEND_MESSAGE_REQUEST_HAS_TOPIC |
                TERN_HDR_SEND_MESSAGE_REQUEST_HAS_DEFAULT_TOPIC | TERN_HDR_SEND_MESSAGE_REQUEST_HAS_DEFAULT_TOPIC_QUEUE_NUMS |
                TERN_HDR_SEND_MESSAGE_REQUEST_HAS_QUEUE_ID | TERN_HDR_SEND_MESSAGE_REQUEST_HAS_SYS_FLAG |
                TERN_HDR_SEND_MESSAGE_REQUEST_HAS_BORN_TIMESTAMP | TERN_HDR_SEND_MESSAGE_REQUEST_HAS_FLAG |
                (props.n ? TERN_HDR_SEND_MESSAGE_REQUEST_HAS_PROPERTIES : 0) |
                (batch ? TERN_HDR_SEND_MESSAGE_REQUEST_HAS_BATCH : 0);
    rc = tern_hdr_send_message_request_encode(&h, &req, &a);
  } else {
    tern_hdr_send_message_request_v2_t h;
    memset(&h, 0, sizeof h);
    h.producer_group = TERN_STR("PG_TEST");
    h.topic = tern_str_from_cstr(topic);
    h.default_topic = TERN_STR("TBW102");
    h.default_topic_queue_nums = 4;
    h.queue_id = qid;
    h.born_timestamp = 1700000000123;
    h.flag = 7;
    h.properties = props;
    h.batch = batch;
    h.present = TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_PRODUCER_GROUP | TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_TOPIC |
                TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_DEFAULT_TOPIC |
                TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_DEFAULT_TOPIC_QUEUE_NUMS | TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_QUEUE_ID |
                TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_SYS_FLAG | TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_BORN_TIMESTAMP |
                TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_FLAG | (props.n ? TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_PROPERTIES : 0) |
                (batch ? TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_BATCH : 0);
    rc = tern_hdr_send_message_request_v2_encode(&h, &req, &a);
  }
  if (rc == 0) rc = bt_call(c, &req, resp, 10000);
  tern_arena_free(&a);
  return rc;
}

int bt_pull(bt_client_t *c, const char *group, const char *topic, int32_t qid, int64_t offset, int32_t max,
            int32_t sys_flag, int64_t suspend_ms, const char *sub, tern_cmd_t *resp, uint32_t timeout_ms) {
  tern_cmd_t req;
  tern_arena_t a;
  tern_hdr_pull_message_request_t h;
  int rc;
  tern_arena_init(&a, 0, NULL, 0);
  tern_rpc_request_init(&req, TERN_REQ_PULL_MESSAGE, TERN_STR_NULL);
  memset(&h, 0, sizeof h);
  h.consumer_group = tern_str_from_cstr(group);
  h.topic = tern_str_from_cstr(topic);
  h.queue_id = qid;
  h.queue_offset = offset;
  h.max_msg_nums = max;
  h.sys_flag = sys_flag;
  h.commit_offset = 0;
  h.suspend_timeout_millis = suspend_ms;
  h.sub_version = 0;
  h.present = TERN_HDR_PULL_MESSAGE_REQUEST_HAS_CONSUMER_GROUP | TERN_HDR_PULL_MESSAGE_REQUEST_HAS_TOPIC |
              TERN_HDR_PULL_MESSAGE_REQUEST_HAS_QUEUE_ID | TERN_HDR_PULL_MESSAGE_REQUEST_HAS_QUEUE_OFFSET |
              TERN_HDR_PULL_MESSAGE_REQUEST_HAS_MAX_MSG_NUMS | TERN_HDR_PULL_MESSAGE_REQUEST_HAS_SYS_FLAG |
              TERN_HDR_PULL_MESSAGE_REQUEST_HAS_COMMIT_OFFSET | TERN_HDR_PULL_MESSAGE_REQUEST_HAS_SUSPEND_TIMEOUT_MILLIS |
              TERN_HDR_PULL_MESSAGE_REQUEST_HAS_SUB_VERSION;
  if (sub) {
    h.subscription = tern_str_from_cstr(sub);
    h.present |= TERN_HDR_PULL_MESSAGE_REQUEST_HAS_SUBSCRIPTION;
  }
  rc = tern_hdr_pull_message_request_encode(&h, &req, &a);
  if (rc == 0) rc = bt_call(c, &req, resp, timeout_ms);
  tern_arena_free(&a);
  return rc;
}

int bt_pull_h(bt_client_t *c, const tern_hdr_pull_message_request_t *h, tern_cmd_t *resp, uint32_t timeout_ms) {
  tern_cmd_t req;
  tern_arena_t a;
  int rc;
  tern_arena_init(&a, 0, NULL, 0);
  tern_rpc_request_init(&req, TERN_REQ_PULL_MESSAGE, TERN_STR_NULL);
  rc = tern_hdr_pull_message_request_encode(h, &req, &a);
  if (rc == 0) rc = bt_call(c, &req, resp, timeout_ms);
  tern_arena_free(&a);
  return rc;
}

int bt_pull_hdr(const tern_cmd_t *resp, tern_hdr_pull_message_response_t *h) {
  tern_err_t err;
  return tern_hdr_pull_message_response_decode(resp, h, &err);
}

int64_t bt_ext_i64(const tern_cmd_t *resp, const char *key) {
  const tern_str_t *v = tern_cmd_ext_get(resp, key);
  int64_t x;
  if (!v || tern_str_to_i64(*v, &x)) return INT64_MIN;
  return x;
}
