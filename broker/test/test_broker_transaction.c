/* Transactional half messages against the real mqbroker (transaction.c,
 * reference 5.12/8.6), with short check settings (transactionTimeOut=1500,
 * transactionCheckInterval=300, transactionCheckMax=2): a half message is
 * stored in RMQ_SYS_TRANS_HALF_TOPIC and invisible in its topic; commit makes
 * it visible (COMMIT bits, preparedTransactionOffset, op message "d"),
 * rollback never does; END_TRANSACTION's verification failures answer
 * SYSTEM_ERROR with 4.9.8's remarks and UNKNOW gets no answer; an undecided
 * half message is checked on the producer's heartbeat connection and the
 * check answer commits it; after transactionCheckMax checks it moves to
 * TRANS_CHECK_MAX_TIME_TOPIC; after a restart the check progress
 * (CID_RMQ_SYS_TRANS offsets) is kept: nothing resolved is checked again and
 * a half message sent before the restart is checked after it. */
#include <stdlib.h>
#include <unistd.h>

#include "bt.h"
#include "runtime/clock.h"
#include "test_broker_clients_env.h"

#define P(k, v) k "\x01" v "\x02"
#define PG "PG_TX"
#define TOPIC "TopicTx"
#define QID 1

static env_t E;
static cli_t PR;     /* the producer: heartbeats PG_TX, sends, answers checks */
static bt_client_t C; /* pulls */
static bool up;

/* CHECK_TRANSACTION_STATE requests received by PR */
#define MAX_CHECKS 32
typedef struct check {
  int32_t flag;
  int64_t tso, clo;
  char msg_id[64], offset_msg_id[64], topic[64], props[512];
  int32_t queue_id;
} check_t;
static check_t checks[MAX_CHECKS];
static int n_checks;

static int on_broker_request(void *ctx, tern_conn_t *c, const tern_cmd_t *req, tern_err_t *err) {
  tern_hdr_check_transaction_state_request_t h;
  tern_msg_record_t r;
  check_t *k;
  TERN_UNUSED(ctx), TERN_UNUSED(c), TERN_UNUSED(err);
  if (req->code != TERN_REQ_CHECK_TRANSACTION_STATE || n_checks >= MAX_CHECKS) return 0;
  k = &checks[n_checks++];
  memset(k, 0, sizeof *k);
  k->flag = req->flag;
  k->tso = k->clo = -1;
  if (tern_hdr_check_transaction_state_request_decode(req, &h, NULL) == 0) {
    k->tso = h.tran_state_table_offset;
    k->clo = h.commit_log_offset;
    snprintf(k->msg_id, sizeof k->msg_id, "%.*s", TERN_STR_ARG(h.msg_id));
    snprintf(k->offset_msg_id, sizeof k->offset_msg_id, "%.*s", TERN_STR_ARG(h.offset_msg_id));
  }
  if (tern_msg_record_decode((const uint8_t *)req->body.p, req->body.n, &r, NULL) == 0) {
    snprintf(k->topic, sizeof k->topic, "%.*s", TERN_STR_ARG(r.topic));
    snprintf(k->props, sizeof k->props, "%.*s", TERN_STR_ARG(r.properties));
    k->queue_id = r.queue_id;
  }
  return 0;
}

static int producer_open(void) {
  char hb[512];
  tern_cmd_t r;
  if (cli_open(&PR, E.br_addr)) return -1;
  PR.sc.pool.on_request = on_broker_request;
  hb_body(hb, sizeof hb, "127.0.0.1@tx", NULL, NULL, NULL, PG);
  if (cli_heartbeat(&PR, hb, &r) || r.code != 0) return -1;
  return 0;
}

static void setup(void) {
  if (up) return;
  if (env_start(&E, "transactionTimeOut=1500\ntransactionCheckInterval=300\ntransactionCheckMax=2\n") == 0 &&
      producer_open() == 0 && bt_open(&C, E.br.port) == 0)
    up = true;
}

__attribute__((destructor)) static void teardown(void) {
  if (up) {
    bt_close(&C);
    cli_close(&PR);
  }
  env_stop(&E);
}

typedef struct sent {
  int64_t qoff, phys;
  char offset_msg_id[64];
} sent_t;

/* A half message (TRAN_MSG=true, PGROUP, sysFlag PREPARED) born now, sent by the producer. */
static int send_half(const char *uniq, const char *tags, sent_t *s) {
  char props[256];
  tern_cmd_t req, resp;
  tern_hdr_send_message_request_v2_t h;
  tern_arena_t a;
  const tern_str_t *id;
  tern_host_t host;
  int rc;
  int n = snprintf(props, sizeof props, P("TRAN_MSG", "true") P("PGROUP", PG) P("UNIQ_KEY", "%s") P("TAGS", "%s"), uniq,
                   tags);
  tern_arena_init(&a, 0, NULL, 0);
  tern_rpc_request_init(&req, TERN_REQ_SEND_MESSAGE_V2, tern_str_from_cstr(uniq));
  memset(&h, 0, sizeof h);
  h.producer_group = TERN_STR(PG);
  h.topic = TERN_STR(TOPIC);
  h.default_topic = TERN_STR("TBW102");
  h.default_topic_queue_nums = 4;
  h.queue_id = QID;
  h.sys_flag = TERN_SYSFLAG_TRANSACTION_PREPARED_TYPE;
  h.born_timestamp = (int64_t)tern_clock_now_ms();
  h.properties = (tern_str_t){props, (size_t)n};
  h.present = TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_PRODUCER_GROUP | TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_TOPIC |
              TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_DEFAULT_TOPIC |
              TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_DEFAULT_TOPIC_QUEUE_NUMS | TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_QUEUE_ID |
              TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_SYS_FLAG | TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_BORN_TIMESTAMP |
              TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_FLAG | TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_PROPERTIES;
  rc = tern_hdr_send_message_request_v2_encode(&h, &req, &a);
  if (rc == 0) rc = tern_sync_call(&PR.sc, &req, 5000, &resp, &PR.arena);
  tern_arena_free(&a);
  if (rc) return rc;
  if (resp.code != 0 || bt_ext_i64(&resp, "queueId") != QID) return -1;
  s->qoff = bt_ext_i64(&resp, "queueOffset");
  if (!(id = tern_cmd_ext_get(&resp, "msgId")) || tern_msgid_decode(*id, &host, &s->phys, NULL) != 0) return -1;
  snprintf(s->offset_msg_id, sizeof s->offset_msg_id, "%.*s", TERN_STR_ARG(*id));
  return 0;
}

/* END_TRANSACTION; oneway: returns once written (resp untouched). */
static int end_tx(const char *group, int64_t tso, int64_t clo, int32_t type, bool from_check, const char *uniq, bool oneway,
                  uint32_t timeout_ms, tern_cmd_t *resp) {
  tern_cmd_t req;
  tern_hdr_end_transaction_request_t h;
  tern_arena_t a;
  int rc;
  tern_arena_init(&a, 0, NULL, 0);
  tern_rpc_request_init(&req, TERN_REQ_END_TRANSACTION, TERN_STR_NULL);
  if (oneway) req.flag |= TERN_FLAG_ONEWAY;
  memset(&h, 0, sizeof h);
  h.producer_group = tern_str_from_cstr(group);
  h.tran_state_table_offset = tso;
  h.commit_log_offset = clo;
  h.commit_or_rollback = type;
  h.from_transaction_check = from_check;
  h.msg_id = h.transaction_id = tern_str_from_cstr(uniq);
  h.present = TERN_HDR_END_TRANSACTION_REQUEST_HAS_PRODUCER_GROUP | TERN_HDR_END_TRANSACTION_REQUEST_HAS_TRAN_STATE_TABLE_OFFSET |
              TERN_HDR_END_TRANSACTION_REQUEST_HAS_COMMIT_LOG_OFFSET | TERN_HDR_END_TRANSACTION_REQUEST_HAS_COMMIT_OR_ROLLBACK |
              TERN_HDR_END_TRANSACTION_REQUEST_HAS_FROM_TRANSACTION_CHECK | TERN_HDR_END_TRANSACTION_REQUEST_HAS_MSG_ID |
              TERN_HDR_END_TRANSACTION_REQUEST_HAS_TRANSACTION_ID;
  rc = tern_hdr_end_transaction_request_encode(&h, &req, &a);
  if (rc == 0) rc = tern_sync_call(&PR.sc, &req, timeout_ms, resp, &PR.arena);
  tern_arena_free(&a);
  return rc;
}

static bool has_prop(tern_str_t props, const char *k, const char *v) {
  tern_str_t x;
  return tern_props_get(props, k, &x) == 0 && tern_str_eq_cstr(x, v);
}

static int count_checks(const char *uniq) {
  int n = 0;
  for (int i = 0; i < n_checks; i++)
    if (strcmp(checks[i].msg_id, uniq) == 0) n++;
  return n;
}

/* Pumps the producer's loop until `uniq` has been checked `want` times (or ms passed). */
static bool wait_checks(const char *uniq, int want, int ms) {
  double end = env_now_ms() + ms;
  while (env_now_ms() < end) {
    if (count_checks(uniq) >= want) return true;
    cli_pump(&PR, 20);
  }
  return count_checks(uniq) >= want;
}

static const check_t *last_check(const char *uniq) {
  for (int i = n_checks - 1; i >= 0; i--)
    if (strcmp(checks[i].msg_id, uniq) == 0) return &checks[i];
  return NULL;
}

TEST(half_invisible_commit_visible_rollback_never) {
  tern_cmd_t r;
  tern_msg_record_t rec;
  sent_t a, b;
  setup();
  ASSERT(up);
  ASSERT_OK(send_half("TXA", "ta", &a));
  /* stored in the half topic, queue 0, REAL_TOPIC/REAL_QID added, transaction bits reset */
  ASSERT_OK(bt_pull(&C, "CG_TX", "RMQ_SYS_TRANS_HALF_TOPIC", 0, a.qoff, 1, 0x4, 0, "*", &r, 5000));
  ASSERT_EQ(r.code, 0);
  ASSERT_OK(tern_msg_record_decode((const uint8_t *)r.body.p, r.body.n, &rec, NULL));
  ASSERT_STR(rec.topic, "RMQ_SYS_TRANS_HALF_TOPIC");
  ASSERT_EQ(rec.queue_id, 0);
  ASSERT_EQ(rec.physical_offset, a.phys);
  ASSERT_EQ(tern_sysflag_transaction(rec.sys_flag), 0);
  ASSERT(has_prop(rec.properties, "REAL_TOPIC", TOPIC));
  ASSERT(has_prop(rec.properties, "REAL_QID", "1"));
  ASSERT(has_prop(rec.properties, "TRAN_MSG", "true"));
  /* invisible in its topic */
  ASSERT_OK(bt_pull(&C, "CG_TX", TOPIC, QID, 0, 32, 0x4, 0, "*", &r, 5000));
  ASSERT(r.code == TERN_RESP_PULL_NOT_FOUND || r.code == TERN_RESP_PULL_OFFSET_MOVED);

  /* verification failures, 4.9.8's remarks */
  ASSERT_OK(end_tx("PG_OTHER", a.qoff, a.phys, 8, false, "TXA", false, 5000, &r));
  ASSERT_EQ(r.code, TERN_RESP_SYSTEM_ERROR);
  ASSERT_STR(r.remark, "The producer group wrong");
  ASSERT_OK(end_tx(PG, a.qoff + 100, a.phys, 8, false, "TXA", false, 5000, &r));
  ASSERT_EQ(r.code, TERN_RESP_SYSTEM_ERROR);
  ASSERT_STR(r.remark, "The transaction state table offset wrong");
  ASSERT_OK(end_tx(PG, a.qoff, (int64_t)1 << 40, 8, false, "TXA", false, 5000, &r));
  ASSERT_EQ(r.code, TERN_RESP_SYSTEM_ERROR);
  ASSERT_STR(r.remark, "Find prepared transaction message failed");
  /* UNKNOW (0): no action and no response */
  ASSERT_EQ(end_tx(PG, a.qoff, a.phys, 0, false, "TXA", false, 600, &r), TERN_ETIMEDOUT);
  ASSERT_OK(bt_pull(&C, "CG_TX", TOPIC, QID, 0, 32, 0x4, 0, "*", &r, 5000));
  ASSERT(r.code != 0);

  /* commit: visible, COMMIT bits, preparedTransactionOffset, the half's properties (4.9.8) */
  ASSERT_OK(end_tx(PG, a.qoff, a.phys, 8, false, "TXA", false, 5000, &r));
  ASSERT_EQ(r.code, 0);
  ASSERT_OK(bt_pull(&C, "CG_TX", TOPIC, QID, 0, 32, 0x4, 0, "*", &r, 5000));
  ASSERT_EQ(r.code, 0);
  ASSERT_OK(tern_msg_record_decode((const uint8_t *)r.body.p, r.body.n, &rec, NULL));
  ASSERT_EQ(rec.total_size, (int32_t)r.body.n); /* exactly one message */
  ASSERT_STR(rec.topic, TOPIC);
  ASSERT_EQ(rec.queue_id, QID);
  ASSERT_STR(rec.body, "TXA");
  ASSERT_EQ(tern_sysflag_transaction(rec.sys_flag), TERN_SYSFLAG_TRANSACTION_COMMIT_TYPE);
  ASSERT_EQ(rec.prepared_transaction_offset, a.phys);
  ASSERT(has_prop(rec.properties, "UNIQ_KEY", "TXA"));
  ASSERT(has_prop(rec.properties, "TAGS", "ta"));
  ASSERT(has_prop(rec.properties, "TRAN_MSG", "true"));
  /* the op message: tags d, body = the half queue offset */
  ASSERT_OK(bt_pull(&C, "CG_TX", "RMQ_SYS_TRANS_OP_HALF_TOPIC", 0, 0, 32, 0x4, 0, "*", &r, 5000));
  ASSERT_EQ(r.code, 0);
  ASSERT_OK(tern_msg_record_decode((const uint8_t *)r.body.p, r.body.n, &rec, NULL));
  ASSERT(has_prop(rec.properties, "TAGS", "d"));
  {
    char want[24];
    snprintf(want, sizeof want, "%lld", (long long)a.qoff);
    ASSERT_STR(rec.body, want);
  }

  /* rollback: an op message, nothing in the topic */
  ASSERT_OK(send_half("TXB", "tb", &b));
  ASSERT_EQ(b.qoff, a.qoff + 1);
  ASSERT_OK(end_tx(PG, b.qoff, b.phys, 12, false, "TXB", false, 5000, &r));
  ASSERT_EQ(r.code, 0);
  ASSERT_OK(bt_pull(&C, "CG_TX", TOPIC, QID, 1, 32, 0x4, 0, "*", &r, 5000));
  ASSERT(r.code != 0);
  ASSERT_OK(bt_pull(&C, "CG_TX", "RMQ_SYS_TRANS_OP_HALF_TOPIC", 0, 1, 32, 0x4, 0, "*", &r, 5000));
  ASSERT_EQ(r.code, 0);
  ASSERT_OK(tern_msg_record_decode((const uint8_t *)r.body.p, r.body.n, &rec, NULL));
  {
    char want[24];
    snprintf(want, sizeof want, "%lld", (long long)b.qoff);
    ASSERT_STR(rec.body, want);
  }
}

TEST(unknown_is_checked_on_the_producer_connection_and_committed) {
  tern_cmd_t r;
  tern_msg_record_t rec;
  sent_t c;
  const check_t *k;
  double t0;
  setup();
  ASSERT(up);
  ASSERT_OK(send_half("TXC", "tc", &c));
  t0 = env_now_ms();
  ASSERT_OK(end_tx(PG, c.qoff, c.phys, 0, false, "TXC", true, 3000, &r)); /* UNKNOW, oneway as Java sends it */
  ASSERT(wait_checks("TXC", 1, 8000));
  fprintf(stderr, "  first check after %.0f ms (transactionTimeOut 1500)\n", env_now_ms() - t0);
  ASSERT(env_now_ms() - t0 >= 1200);
  k = last_check("TXC");
  ASSERT(k->flag & TERN_FLAG_ONEWAY);
  ASSERT(k->tso > c.qoff); /* the re-appended half message */
  ASSERT(k->clo > c.phys);
  ASSERT(k->offset_msg_id[0]);
  ASSERT_STR(tern_str_from_cstr(k->topic), TOPIC);
  ASSERT_EQ(k->queue_id, QID);
  ASSERT(has_prop(tern_str_from_cstr(k->props), "TRANSACTION_CHECK_TIMES", "1"));
  /* the producer's answer commits it */
  ASSERT_OK(end_tx(PG, k->tso, k->clo, 8, true, "TXC", false, 5000, &r));
  ASSERT_EQ(r.code, 0);
  ASSERT_OK(bt_pull(&C, "CG_TX", TOPIC, QID, 1, 32, 0x4, 0, "*", &r, 5000));
  ASSERT_EQ(r.code, 0);
  ASSERT_OK(tern_msg_record_decode((const uint8_t *)r.body.p, r.body.n, &rec, NULL));
  ASSERT_STR(rec.body, "TXC");
  ASSERT_EQ(rec.prepared_transaction_offset, k->clo);
  /* resolved: not checked again; the earlier ones never were */
  cli_pump(&PR, 1500);
  ASSERT_EQ(count_checks("TXC"), 1);
  ASSERT_EQ(count_checks("TXA"), 0);
  ASSERT_EQ(count_checks("TXB"), 0);
}

TEST(check_max_discards_to_trans_check_max_time_topic) {
  tern_cmd_t r;
  tern_msg_record_t rec;
  sent_t d;
  setup();
  ASSERT(up);
  ASSERT_OK(send_half("TXD", "td", &d));
  ASSERT(wait_checks("TXD", 2, 8000)); /* never answered */
  ASSERT(has_prop(tern_str_from_cstr(last_check("TXD")->props), "TRANSACTION_CHECK_TIMES", "2"));
  /* transactionCheckMax=2: the next round discards it */
  for (int i = 0; i < 100; i++) {
    ASSERT_OK(bt_pull(&C, "CG_TX", "TRANS_CHECK_MAX_TIME_TOPIC", 0, 0, 32, 0x4, 0, "*", &r, 5000));
    if (r.code == 0) break;
    cli_pump(&PR, 50);
  }
  ASSERT_EQ(r.code, 0);
  ASSERT_OK(tern_msg_record_decode((const uint8_t *)r.body.p, r.body.n, &rec, NULL));
  ASSERT(has_prop(rec.properties, "UNIQ_KEY", "TXD"));
  ASSERT(has_prop(rec.properties, "TRANSACTION_CHECK_TIMES", "2"));
  cli_pump(&PR, 1000);
  ASSERT_EQ(count_checks("TXD"), 2);
  ASSERT_OK(bt_pull(&C, "CG_TX", TOPIC, QID, 2, 32, 0x4, 0, "*", &r, 5000));
  ASSERT(r.code != 0); /* never delivered */
}

TEST(restart_keeps_check_progress) {
  tern_cmd_t r;
  tern_msg_record_t rec;
  sent_t e;
  const check_t *k;
  setup();
  ASSERT(up);
  ASSERT_OK(send_half("TXE", "te", &e));
  /* restart before E is due (transactionTimeOut 1500) */
  bt_close(&C);
  cli_close(&PR);
  up = false;
  ASSERT_EQ(tern_fixture_signal(&E.br, SIGTERM, 15000), 0);
  ASSERT_OK(env_start_broker(&E));
  ASSERT_OK(producer_open());
  ASSERT_OK(bt_open(&C, E.br.port));
  up = true;
  ASSERT(wait_checks("TXE", 1, 8000));
  cli_pump(&PR, 800);
  /* nothing resolved or discarded before the restart is checked again */
  ASSERT_EQ(count_checks("TXA"), 0);
  ASSERT_EQ(count_checks("TXB"), 0);
  ASSERT_EQ(count_checks("TXC"), 1);
  ASSERT_EQ(count_checks("TXD"), 2);
  k = last_check("TXE");
  ASSERT_OK(end_tx(PG, k->tso, k->clo, 8, true, "TXE", false, 5000, &r));
  ASSERT_EQ(r.code, 0);
  ASSERT_OK(bt_pull(&C, "CG_TX", TOPIC, QID, 2, 32, 0x4, 0, "*", &r, 5000));
  ASSERT_EQ(r.code, 0);
  ASSERT_OK(tern_msg_record_decode((const uint8_t *)r.body.p, r.body.n, &rec, NULL));
  ASSERT_STR(rec.body, "TXE");
}
