/* Master-slave replication (broker/ha/) against the real binaries: a name
 * server, a master and a slave of the same brokerName on ephemeral ports with
 * 4 MiB commit-log files. Async master: sends appear on the slave at the same
 * queue offsets with byte-identical records, the slave's commit-log file
 * equals the master's after both stop, the route lists brokerIds 0 and 1 (and
 * still the slave after the master is gone, which keeps serving pulls), the
 * slave refuses sends, consumer offsets committed on the master show up on the
 * slave, a restarted (cleanly or killed) slave resumes from its own max
 * offset. SYNC_MASTER: SEND_OK only once the slave has the record (it is
 * pullable from the slave the moment the reply arrives), FLUSH_SLAVE_TIMEOUT
 * while the slave is frozen (SIGSTOP), SLAVE_NOT_AVAILABLE with the slave
 * stopped (the master is SYNC_FLUSH too: slave, then disk). slaveReadEnable:
 * suggestWhichBrokerId follows the group's brokerId, 0 without it. Bad peers: garbage reports to the master's HA port and garbage
 * frames to a slave are disconnected and nobody crashes. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bt.h"
#include "broker/subgroups.h"
#include "gen/bodies.h"
#include "tern_test.h"

#define TOPIC "TopicHA"

static int route(int ns_port, const char *topic, tern_body_topic_route_data_t *rd, tern_arena_t *a) {
  char addr[64];
  tern_cmd_t req, r;
  tern_hdr_get_route_info_request_t h = {0};
  tern_err_t err;
  snprintf(addr, sizeof addr, "127.0.0.1:%d", ns_port);
  h.topic = tern_str_from_cstr(topic);
  h.present = 1;
  tern_rpc_request_init(&req, TERN_REQ_GET_ROUTEINFO_BY_TOPIC, TERN_STR_NULL);
  if (tern_hdr_get_route_info_request_encode(&h, &req, a)) return -1;
  if (tern_rpc_sync(addr, &req, 5000, &r, a)) return -1;
  if (r.code != 0) return r.code;
  return tern_body_topic_route_data_decode(r.body, a, rd, &err) ? -1 : 0;
}

/* The brokerIds of broker-a in the route of `topic` as a bit mask (bit id), or -1. */
static int route_ids(int ns_port, const char *topic) {
  tern_arena_t a;
  tern_body_topic_route_data_t rd;
  int mask = 0;
  tern_arena_init(&a, 0, NULL, 0);
  if (route(ns_port, topic, &rd, &a) != 0) {
    tern_arena_free(&a);
    return -1;
  }
  for (uint32_t i = 0; i < rd.broker_datas.n; i++)
    for (uint32_t j = 0; j < rd.broker_datas.v[i].broker_addrs.n; j++)
      if (rd.broker_datas.v[i].broker_addrs.v[j].key >= 0 && rd.broker_datas.v[i].broker_addrs.v[j].key < 8)
        mask |= 1 << rd.broker_datas.v[i].broker_addrs.v[j].key;
  tern_arena_free(&a);
  return mask;
}

static int start_master(tern_fixture_proc_t *m, int ns_port, const char *role, int *ha_port, const char *extra) {
  char conf[512];
  *ha_port = tern_fixture_free_port_pair();
  snprintf(conf, sizeof conf, "brokerName=broker-a\nbrokerRole=%s\nhaListenPort=%d\nsyncFlushTimeout=1500\n%s", role,
           *ha_port, extra ? extra : "");
  return tern_fixture_broker_start(m, NULL, ns_port, conf);
}

static int start_slave(tern_fixture_proc_t *s, int ns_port, const char *extra) {
  char conf[512];
  snprintf(conf, sizeof conf,
           "brokerName=broker-a\nbrokerRole=SLAVE\nbrokerId=1\nhaListenPort=%d\nslaveSyncInterval=500\n"
           "haSendHeartbeatInterval=1000\n%s",
           tern_fixture_free_port_pair(), extra ? extra : "");
  return tern_fixture_broker_start(s, NULL, ns_port, conf);
}

/* Sends n messages round-robin over queues 0..3; returns the number SEND_OK. */
static int send_n(bt_client_t *c, int from, int n, int32_t *codes) {
  int ok = 0;
  for (int i = from; i < from + n; i++) {
    char body[96], props[96];
    tern_cmd_t r;
    snprintf(body, sizeof body, "ha-body-%d-%s", i, i % 3 ? "short" : "a somewhat longer body to vary sizes");
    snprintf(props, sizeof props, "TAGS\x01tag%d\x02KEYS\x01key%d\x02", i % 2, i);
    if (bt_send(c, TERN_REQ_SEND_MESSAGE_V2, TOPIC, i % 4, tern_str_from_cstr(body), tern_str_from_cstr(props), false,
                &r) != 0) {
      if (codes) codes[i - from] = -1;
      continue;
    }
    if (codes) codes[i - from] = r.code;
    if (r.code == 0) ok++;
  }
  return ok;
}

/* Pulls queue q from offset 0 up to want records (retrying until timeout_ms);
 * the concatenated record bytes go to out. Returns the record count. */
static int pull_all(bt_client_t *c, int q, int want, tern_buf_t *out, int timeout_ms) {
  int got = 0;
  int64_t off = 0;
  double t0 = tern_fixture_now_ms();
  tern_buf_reset(out);
  while (got < want && tern_fixture_now_ms() - t0 < timeout_ms) {
    tern_cmd_t r;
    if (bt_pull(c, "CG_HA", TOPIC, q, off, 32, 0x4, 0, "*", &r, 3000) != 0 || r.code != 0) {
      usleep(20000);
      continue;
    }
    tern_msg_record_iter_t it;
    tern_msg_record_t rec;
    int n = 0;
    tern_msg_record_iter_init(&it, (const uint8_t *)r.body.p, r.body.n);
    while (tern_msg_record_iter_next(&it, &rec, NULL) == 1) n++;
    tern_buf_append(out, r.body.p, r.body.n);
    got += n;
    off = bt_ext_i64(&r, "nextBeginOffset");
  }
  return got;
}

static int file_equal(const char *a, const char *b) {
  FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
  int eq = fa && fb;
  while (eq) {
    static uint8_t x[65536], y[65536];
    size_t na = fread(x, 1, sizeof x, fa), nb = fread(y, 1, sizeof y, fb);
    if (na != nb || memcmp(x, y, na) != 0) eq = 0;
    if (na == 0) break;
  }
  if (fa) fclose(fa);
  if (fb) fclose(fb);
  return eq;
}

static int64_t query_offset(bt_client_t *c, const char *group, int q) {
  tern_cmd_t req, r;
  tern_arena_t a;
  tern_hdr_query_consumer_offset_request_t h;
  int64_t v = INT64_MIN;
  memset(&h, 0, sizeof h);
  tern_arena_init(&a, 0, NULL, 0);
  h.consumer_group = tern_str_from_cstr(group);
  h.topic = TERN_STR(TOPIC);
  h.queue_id = q;
  h.present = TERN_HDR_QUERY_CONSUMER_OFFSET_REQUEST_HAS_CONSUMER_GROUP |
              TERN_HDR_QUERY_CONSUMER_OFFSET_REQUEST_HAS_TOPIC | TERN_HDR_QUERY_CONSUMER_OFFSET_REQUEST_HAS_QUEUE_ID;
  tern_rpc_request_init(&req, TERN_REQ_QUERY_CONSUMER_OFFSET, TERN_STR_NULL);
  if (tern_hdr_query_consumer_offset_request_encode(&h, &req, &a) == 0 && bt_call(c, &req, &r, 3000) == 0 &&
      r.code == 0)
    v = bt_ext_i64(&r, "offset");
  tern_arena_free(&a);
  return v;
}

static int update_offset(bt_client_t *c, const char *group, int q, int64_t off) {
  tern_cmd_t req, r;
  tern_arena_t a;
  tern_hdr_update_consumer_offset_request_t h;
  int rc = -1;
  memset(&h, 0, sizeof h);
  tern_arena_init(&a, 0, NULL, 0);
  h.consumer_group = tern_str_from_cstr(group);
  h.topic = TERN_STR(TOPIC);
  h.queue_id = q;
  h.commit_offset = off;
  h.present = TERN_HDR_UPDATE_CONSUMER_OFFSET_REQUEST_HAS_CONSUMER_GROUP |
              TERN_HDR_UPDATE_CONSUMER_OFFSET_REQUEST_HAS_TOPIC | TERN_HDR_UPDATE_CONSUMER_OFFSET_REQUEST_HAS_QUEUE_ID |
              TERN_HDR_UPDATE_CONSUMER_OFFSET_REQUEST_HAS_COMMIT_OFFSET;
  tern_rpc_request_init(&req, TERN_REQ_UPDATE_CONSUMER_OFFSET, TERN_STR_NULL);
  if (tern_hdr_update_consumer_offset_request_encode(&h, &req, &a) == 0 && bt_call(c, &req, &r, 3000) == 0)
    rc = r.code;
  tern_arena_free(&a);
  return rc;
}

/* UPDATE_AND_CREATE_SUBSCRIPTIONGROUP with brokerId (the broker consumers of the group read from). */
static int create_group(bt_client_t *c, const char *group, int64_t broker_id) {
  tern_body_subscription_group_config_t g;
  tern_buf_t body;
  tern_cmd_t req, r;
  int rc = -1;
  tern_subgroups_default_config(&g, tern_str_from_cstr(group));
  g.broker_id = broker_id;
  tern_buf_init(&body, 0);
  tern_body_subscription_group_config_encode(&g, &body, 0);
  tern_rpc_request_init(&req, TERN_REQ_UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, (tern_str_t){(const char *)body.p, body.len});
  if (bt_call(c, &req, &r, 3000) == 0) rc = r.code;
  tern_buf_free(&body);
  return rc;
}

/* Every queue of the slave matches the master's records byte for byte. */
static void expect_same_queues(bt_client_t *cm, bt_client_t *cs, int total) {
  tern_buf_t bm, bs;
  int sum = 0;
  tern_buf_init(&bm, 0);
  tern_buf_init(&bs, 0);
  for (int q = 0; q < 4; q++) {
    int want = total / 4 + (q < total % 4);
    ASSERT_EQ(pull_all(cm, q, want, &bm, 5000), want);
    ASSERT_EQ(pull_all(cs, q, want, &bs, 10000), want);
    ASSERT_EQ(bm.len, bs.len);
    ASSERT(memcmp(bm.p, bs.p, bm.len) == 0);
    sum += want;
  }
  ASSERT_EQ(sum, total);
  tern_buf_free(&bm);
  tern_buf_free(&bs);
}

TEST(async_master_slave_replicates_byte_identical) {
  tern_fixture_proc_t ns, m, s;
  bt_client_t cm, cs;
  tern_cmd_t r;
  int ha_port, mask = 0;
  char mlog[300], slog[300];
  ASSERT_OK(tern_fixture_namesrv_start(&ns, NULL, NULL));
  ASSERT_OK(start_master(&m, ns.port, "ASYNC_MASTER", &ha_port, NULL));
  ASSERT_OK(bt_open(&cm, m.port));
  /* some history before the slave exists, and a committed consumer offset */
  ASSERT_EQ(send_n(&cm, 0, 40, NULL), 40);
  ASSERT_EQ(update_offset(&cm, "CG_OFF", 1, 7), 0);
  ASSERT_OK(start_slave(&s, ns.port, NULL));
  ASSERT_OK(bt_open(&cs, s.port));
  /* more traffic while the slave is attached */
  ASSERT_EQ(send_n(&cm, 40, 60, NULL), 60);
  expect_same_queues(&cm, &cs, 100);
  /* without slaveReadEnable every pull suggests the master, whatever the group says */
  ASSERT_EQ(create_group(&cm, "CG_READ1", 1), 0);
  ASSERT_OK(bt_pull(&cm, "CG_READ1", TOPIC, 0, 0, 4, 0x4, 0, "*", &r, 3000));
  ASSERT_EQ(r.code, 0);
  ASSERT_EQ(bt_ext_i64(&r, "suggestWhichBrokerId"), 0);
  /* the slave refuses sends */
  ASSERT_OK(bt_send(&cs, TERN_REQ_SEND_MESSAGE_V2, TOPIC, 0, TERN_STR("no"), TERN_STR_NULL, false, &r));
  ASSERT_EQ(r.code, TERN_RESP_SERVICE_NOT_AVAILABLE);
  /* consumer offsets written on the master show up on the slave */
  {
    int64_t v = INT64_MIN;
    for (int i = 0; i < 100 && (v = query_offset(&cs, "CG_OFF", 1)) != 7; i++) usleep(50000);
    ASSERT_EQ(v, 7);
    ASSERT_EQ(update_offset(&cm, "CG_OFF", 1, 9), 0); /* and later changes too (periodic sync) */
    for (int i = 0; i < 100 && (v = query_offset(&cs, "CG_OFF", 1)) != 9; i++) usleep(50000);
    ASSERT_EQ(v, 9);
  }
  /* the route lists both brokerIds */
  for (int i = 0; i < 100 && (mask = route_ids(ns.port, TOPIC)) != 3; i++) usleep(50000);
  ASSERT_EQ(mask, 3);

  /* slave restart (clean) resumes from its own max offset */
  ASSERT_EQ(tern_fixture_signal(&s, SIGTERM, 0), 0);
  bt_close(&cs);
  ASSERT_EQ(send_n(&cm, 100, 20, NULL), 20);
  ASSERT_OK(tern_fixture_restart(&s));
  ASSERT_OK(bt_open(&cs, s.port));
  expect_same_queues(&cm, &cs, 120);
  /* and after a crash (SIGKILL) as well */
  tern_fixture_kill(&s);
  bt_close(&cs);
  ASSERT_EQ(send_n(&cm, 120, 20, NULL), 20);
  ASSERT_OK(tern_fixture_restart(&s));
  ASSERT_OK(bt_open(&cs, s.port));
  expect_same_queues(&cm, &cs, 140);

  /* master gone: the route still shows the slave, which keeps serving pulls */
  bt_close(&cm);
  snprintf(mlog, sizeof mlog, "%s/store/commitlog/00000000000000000000", m.dir);
  snprintf(slog, sizeof slog, "%s/store/commitlog/00000000000000000000", s.dir);
  ASSERT_EQ(tern_fixture_signal(&m, SIGTERM, 0), 0);
  for (int i = 0; i < 100 && (mask = route_ids(ns.port, TOPIC)) != 2; i++) usleep(50000);
  ASSERT_EQ(mask, 2);
  {
    tern_buf_t b;
    tern_buf_init(&b, 0);
    ASSERT_EQ(pull_all(&cs, 2, 35, &b, 5000), 35);
    tern_buf_free(&b);
  }
  bt_close(&cs);
  ASSERT_EQ(tern_fixture_signal(&s, SIGTERM, 0), 0);
  /* the slave's commit log is the master's, byte for byte */
  ASSERT(file_equal(mlog, slog));
  tern_fixture_stop(&m, 0);
  tern_fixture_stop(&s, 0);
  tern_fixture_stop(&ns, 0);
}

TEST(sync_master_acks_only_after_the_slave_has_it) {
  tern_fixture_proc_t ns, m, s;
  bt_client_t cm, cs;
  tern_cmd_t r;
  int ha_port;
  ASSERT_OK(tern_fixture_namesrv_start(&ns, NULL, NULL));
  ASSERT_OK(start_master(&m, ns.port, "SYNC_MASTER", &ha_port, "flushDiskType=SYNC_FLUSH\n"));
  ASSERT_OK(bt_open(&cm, m.port));
  /* no slave yet: stored, but SLAVE_NOT_AVAILABLE */
  ASSERT_OK(bt_send(&cm, TERN_REQ_SEND_MESSAGE_V2, TOPIC, 0, TERN_STR("lonely"), TERN_STR_NULL, false, &r));
  ASSERT_EQ(r.code, TERN_RESP_SLAVE_NOT_AVAILABLE);
  ASSERT(tern_cmd_ext_get(&r, "msgId") != NULL);
  ASSERT_OK(start_slave(&s, ns.port, NULL));
  ASSERT_OK(bt_open(&cs, s.port));
  /* wait until the slave is attached (a send succeeds) */
  {
    int code = -1;
    for (int i = 0; i < 100 && code != 0; i++) {
      ASSERT_OK(bt_send(&cm, TERN_REQ_SEND_MESSAGE_V2, TOPIC, 0, TERN_STR("probe"), TERN_STR_NULL, false, &r));
      code = r.code;
      if (code) usleep(50000);
    }
    ASSERT_EQ(code, 0);
  }
  /* every SEND_OK: the record is already on the slave (pullable there at once) */
  {
    int64_t qoff = bt_ext_i64(&r, "queueOffset");
    double worst = 0, sum = 0;
    for (int i = 0; i < 20; i++) {
      double t0 = tern_fixture_now_ms();
      ASSERT_OK(bt_send(&cm, TERN_REQ_SEND_MESSAGE_V2, TOPIC, 0, TERN_STR("synced"), TERN_STR_NULL, false, &r));
      ASSERT_EQ(r.code, 0);
      if (tern_fixture_now_ms() - t0 > worst) worst = tern_fixture_now_ms() - t0;
      sum += tern_fixture_now_ms() - t0;
      qoff = bt_ext_i64(&r, "queueOffset");
      int code = -1;
      /* the slave may not know the topic until its first metadata copy */
      for (int k = 0; k < 100; k++) {
        ASSERT_OK(bt_pull(&cs, "CG_SYNC", TOPIC, 0, qoff, 1, 0x4, 0, "*", &r, 3000));
        code = r.code;
        if (code != TERN_RESP_TOPIC_NOT_EXIST) break;
        usleep(50000);
      }
      ASSERT_EQ(code, 0);
    }
    fprintf(stderr, "  SYNC_MASTER send round trip: mean %.2f ms, worst %.1f ms (20 sends)\n", sum / 20, worst);
  }
  /* slave frozen: the reply waits syncFlushTimeout (1.5 s), then FLUSH_SLAVE_TIMEOUT */
  {
    double t0;
    ASSERT_OK(kill(s.pid, SIGSTOP));
    t0 = tern_fixture_now_ms();
    ASSERT_OK(bt_send(&cm, TERN_REQ_SEND_MESSAGE_V2, TOPIC, 0, TERN_STR("frozen"), TERN_STR_NULL, false, &r));
    ASSERT_EQ(r.code, TERN_RESP_FLUSH_SLAVE_TIMEOUT);
    ASSERT(tern_fixture_now_ms() - t0 >= 1400);
    ASSERT(tern_cmd_ext_get(&r, "msgId") != NULL);
    ASSERT_OK(kill(s.pid, SIGCONT));
  }
  /* WAIT=false does not wait for the slave */
  ASSERT_OK(bt_send(&cm, TERN_REQ_SEND_MESSAGE_V2, TOPIC, 0, TERN_STR("nowait"), TERN_STR("WAIT\x01" "false\x02"),
                    false, &r));
  ASSERT_EQ(r.code, 0);
  /* slave stopped: SLAVE_NOT_AVAILABLE */
  bt_close(&cs);
  ASSERT_EQ(tern_fixture_signal(&s, SIGTERM, 0), 0);
  {
    int code = -1;
    for (int i = 0; i < 100 && code != TERN_RESP_SLAVE_NOT_AVAILABLE; i++) {
      ASSERT_OK(bt_send(&cm, TERN_REQ_SEND_MESSAGE_V2, TOPIC, 0, TERN_STR("alone"), TERN_STR_NULL, false, &r));
      code = r.code;
      if (code != TERN_RESP_SLAVE_NOT_AVAILABLE) usleep(20000);
    }
    ASSERT_EQ(code, TERN_RESP_SLAVE_NOT_AVAILABLE);
  }
  bt_close(&cm);
  tern_fixture_stop(&m, 0);
  tern_fixture_stop(&s, 0);
  tern_fixture_stop(&ns, 0);
}

static int connect_port(int port) { return tern_fixture_connect(port); }

/* True when the peer closes fd within timeout_ms (reads until EOF). */
static int closed_by_peer(int fd, int timeout_ms) {
  double t0 = tern_fixture_now_ms();
  while (tern_fixture_now_ms() - t0 < timeout_ms) {
    struct pollfd p = {fd, POLLIN, 0};
    char tmp[4096];
    if (poll(&p, 1, 100) <= 0) continue;
    ssize_t n = read(fd, tmp, sizeof tmp);
    if (n <= 0) return 1;
  }
  return 0;
}

TEST(bad_ha_peers_are_disconnected) {
  tern_fixture_proc_t m, s;
  bt_client_t cm;
  tern_cmd_t r;
  int ha_port, fd;
  ASSERT_OK(start_master(&m, 0, "ASYNC_MASTER", &ha_port, "slaveReadEnable=true\n"));
  ASSERT_OK(bt_open(&cm, m.port));
  ASSERT_EQ(send_n(&cm, 0, 5, NULL), 5);
  /* a negative report */
  fd = connect_port(ha_port);
  ASSERT(fd >= 0);
  ASSERT_EQ(write(fd, "\xff\xff\xff\xff\xff\xff\xff\xff", 8), 8);
  ASSERT(closed_by_peer(fd, 3000));
  close(fd);
  /* a report far past the master's log */
  fd = connect_port(ha_port);
  ASSERT(fd >= 0);
  ASSERT_EQ(write(fd, "\x00\x00\x10\x00\x00\x00\x00\x00", 8), 8);
  ASSERT(closed_by_peer(fd, 3000));
  close(fd);
  /* random bytes */
  fd = connect_port(ha_port);
  ASSERT(fd >= 0);
  {
    uint8_t junk[1000];
    for (size_t i = 0; i < sizeof junk; i++) junk[i] = (uint8_t)(i * 131 + 7);
    ASSERT_EQ(write(fd, junk, sizeof junk), (ssize_t)sizeof junk);
  }
  ASSERT(closed_by_peer(fd, 3000));
  close(fd);
  /* a well-behaved report 0 gets the log from the start of the last file */
  fd = connect_port(ha_port);
  ASSERT(fd >= 0);
  ASSERT_EQ(write(fd, "\0\0\0\0\0\0\0\0", 8), 8);
  {
    uint8_t h[12];
    size_t got = 0;
    while (got < 12) {
      ssize_t n = read(fd, h + got, 12 - got);
      ASSERT(n > 0);
      got += (size_t)n;
    }
    ASSERT_EQ(tern_load_be64(h), 0);
    ASSERT(tern_load_be32(h + 8) > 0 && tern_load_be32(h + 8) <= 32768);
  }
  close(fd);
  /* the master is fine */
  ASSERT_OK(bt_send(&cm, TERN_REQ_SEND_MESSAGE_V2, TOPIC, 0, TERN_STR("still"), TERN_STR_NULL, false, &r));
  ASSERT_EQ(r.code, 0);
  /* slaveReadEnable=true (this master): suggestWhichBrokerId is the group's brokerId when the reader keeps up */
  ASSERT_EQ(create_group(&cm, "CG_READ1", 1), 0);
  ASSERT_OK(bt_pull(&cm, "CG_READ1", TOPIC, 0, 0, 4, 0x4, 0, "*", &r, 3000));
  ASSERT_EQ(r.code, 0);
  ASSERT_EQ(bt_ext_i64(&r, "suggestWhichBrokerId"), 1);
  ASSERT_OK(bt_pull(&cm, "CG_READ0", TOPIC, 0, 0, 4, 0x4, 0, "*", &r, 3000));
  ASSERT_EQ(r.code, 0);
  ASSERT_EQ(bt_ext_i64(&r, "suggestWhichBrokerId"), 0);

  /* a fake master feeding a slave garbage: the slave drops it and reconnects */
  {
    int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1, cfd;
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    char conf[256];
    uint8_t rep[8];
    ASSERT(lfd >= 0);
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_OK(bind(lfd, (struct sockaddr *)&sa, sizeof sa));
    ASSERT_OK(listen(lfd, 4));
    ASSERT_OK(getsockname(lfd, (struct sockaddr *)&sa, &sl));
    snprintf(conf, sizeof conf, "brokerRole=SLAVE\nbrokerId=1\nhaListenPort=%d\nhaMasterAddress=127.0.0.1:%d\n",
             tern_fixture_free_port_pair(), ntohs(sa.sin_port));
    ASSERT_OK(tern_fixture_broker_start(&s, NULL, 0, conf));
    for (int round = 0; round < 3; round++) {
      cfd = accept(lfd, NULL, NULL);
      ASSERT(cfd >= 0);
      ASSERT_EQ(read(cfd, rep, 8), 8); /* the slave reports first */
      ASSERT_EQ(tern_load_be64(rep), 0);
      if (round == 0) { /* a negative size */
        ASSERT_EQ(write(cfd, "\0\0\0\0\0\0\0\0\xff\xff\xff\xff", 12), 12);
      } else if (round == 1) { /* an offset that is not a file start */
        ASSERT_EQ(write(cfd, "\0\0\0\0\0\0\0\x07\0\0\0\x04junk", 16), 16);
      } else { /* bytes that are not a record */
        uint8_t f[12 + 64];
        memset(f, 0x5a, sizeof f);
        memset(f, 0, 8);
        tern_store_be32(f + 8, 64);
        ASSERT_EQ(write(cfd, f, sizeof f), (ssize_t)sizeof f);
      }
      ASSERT(closed_by_peer(cfd, 3000));
      close(cfd);
    }
    /* nothing of the garbage stayed in the slave's log: it reports 0 again */
    cfd = accept(lfd, NULL, NULL);
    ASSERT(cfd >= 0);
    ASSERT_EQ(read(cfd, rep, 8), 8);
    ASSERT_EQ(tern_load_be64(rep), 0);
    close(cfd);
    close(lfd);
    ASSERT(tern_fixture_alive(&s));
    ASSERT_EQ(tern_fixture_signal(&s, SIGTERM, 0), 0);
    tern_fixture_stop(&s, 0);
  }
  bt_close(&cm);
  tern_fixture_stop(&m, 0);
}
