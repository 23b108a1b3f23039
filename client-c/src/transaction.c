/* The transactional producer (RocketMQ 4.9 TransactionMQProducer,
 * DefaultMQProducerImpl#sendMessageInTransaction / endTransaction /
 * checkTransactionState, ClientRemotingProcessor#checkTransactionState;
 * reference 5.12). A transaction is a normal sync send of the message with
 * TRAN_MSG=true and PGROUP (producer.c flags it PREPARED), the user's local
 * transaction on the calling thread, then END_TRANSACTION oneway to the
 * master of the broker that stored the half message (commitLogOffset from the
 * send's offset msgId, tranStateTableOffset = its queue offset).
 * CHECK_TRANSACTION_STATE arrives on the loop thread: its body (the half
 * message as a stored record) is decoded and queued for the producer's check
 * thread, which runs the check listener and answers END_TRANSACTION oneway
 * (fromTransactionCheck=true) to the address the check came from. Producers
 * are found from their instance through a small registry. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg_int.h"
#include "transaction_int.h"

typedef struct tx_job {
  struct tx_job *next;
  tc_rmsg_t *msg;
  int64_t tso, clo;
  char addr[TC_ADDR_MAX];
  char transaction_id[TERN_UNIQ_HEX_V6 + 1];
  bool has_transaction_id;
} tx_job_t;

typedef struct tx_state {
  struct tx_state *next;
  tc_inst_t *in;
  tern_tx_check_fn check;
  void *arg;
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  tx_job_t *head, *tail;
  bool stop;
} tx_state_t;

static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static tx_state_t *reg;

static tx_state_t *find(tc_inst_t *in) {
  tx_state_t *t;
  pthread_mutex_lock(&reg_mu);
  for (t = reg; t && t->in != in; t = t->next) {
  }
  pthread_mutex_unlock(&reg_mu);
  return t;
}

static int32_t tx_code(tern_tx_state_t s) {
  switch (s) {
  case TERN_TX_COMMIT: return TERN_SYSFLAG_TRANSACTION_COMMIT_TYPE;
  case TERN_TX_ROLLBACK: return TERN_SYSFLAG_TRANSACTION_ROLLBACK_TYPE;
  default: return TERN_SYSFLAG_TRANSACTION_NOT_TYPE;
  }
}

/* ---- END_TRANSACTION (oneway) from a user or the check thread ---- */
typedef struct end_req {
  tc_wait_t w;
  const char *addr;        /* or: */
  const char *broker_name; /* the master of this broker */
  tern_hdr_end_transaction_request_t h;
} end_req_t;

static void end_on_loop(tc_wait_t *w) {
  end_req_t *e = w->arg;
  const char *addr = e->addr ? e->addr : tc_broker_addr(w->in, e->broker_name);
  if (!addr) {
    tc_done(w, TERN_ENOTFOUND);
    return;
  }
  tc_done(w, tc_request(w->in, addr, TERN_REQ_END_TRANSACTION, (tc_hdr_enc_fn)tern_hdr_end_transaction_request_encode,
                        &e->h, TERN_STR_NULL, true, 3000, NULL, NULL));
}

static int end_transaction(tc_inst_t *in, const char *addr, const char *broker_name, int64_t tso, int64_t clo,
                           tern_tx_state_t state, bool from_check, tern_str_t msg_id, tern_str_t transaction_id) {
  end_req_t e;
  memset(&e, 0, sizeof e);
  e.addr = addr;
  e.broker_name = broker_name;
  e.h.producer_group = tern_str_from_cstr(in->conf.group);
  e.h.tran_state_table_offset = tso;
  e.h.commit_log_offset = clo;
  e.h.commit_or_rollback = tx_code(state);
  e.h.from_transaction_check = from_check;
  e.h.msg_id = msg_id;
  e.h.present = TERN_HDR_END_TRANSACTION_REQUEST_HAS_PRODUCER_GROUP |
                TERN_HDR_END_TRANSACTION_REQUEST_HAS_TRAN_STATE_TABLE_OFFSET |
                TERN_HDR_END_TRANSACTION_REQUEST_HAS_COMMIT_LOG_OFFSET |
                TERN_HDR_END_TRANSACTION_REQUEST_HAS_COMMIT_OR_ROLLBACK |
                TERN_HDR_END_TRANSACTION_REQUEST_HAS_FROM_TRANSACTION_CHECK | TERN_HDR_END_TRANSACTION_REQUEST_HAS_MSG_ID;
  if (transaction_id.p) {
    e.h.transaction_id = transaction_id;
    e.h.present |= TERN_HDR_END_TRANSACTION_REQUEST_HAS_TRANSACTION_ID;
  }
  return tc_run_wait(in, &e.w, end_on_loop, &e);
}

/* ---- checks: loop thread -> check thread ---- */

static void job_free(tx_job_t *j) {
  tc_rmsg_free(j->msg);
  free(j);
}


static int on_check(void *ctx, tern_conn_t *c, const tern_cmd_t *req, const tern_hdr_check_transaction_state_request_t *h) {
  tc_inst_t *in = ctx;
  tx_state_t *t;
  tc_rmsg_t **v = NULL;
  size_t n = 0, i;
  tern_str_t g;
  tx_job_t *j;
  if (tc_rmsgs_decode(req->body, "", NULL, 0, &v, &n, NULL) <= 0 || n == 0) {
    tern_warn("client: CHECK_TRANSACTION_STATE from %s: no message in its body", tern_conn_peer(c));
    free(v);
    return 0;
  }
  for (i = 1; i < n; i++) tc_rmsg_free(v[i]);
  if (tern_rmsg_property(&v[0]->pub, TERN_PROP_PRODUCER_GROUP, &g) != 0 || !tern_str_eq_cstr(g, in->conf.group) ||
      !(j = calloc(1, sizeof *j))) {
    tern_warn("client: CHECK_TRANSACTION_STATE for another producer group (or out of memory); ignored");
    tc_rmsg_free(v[0]);
    free(v);
    return 0;
  }
  j->msg = v[0];
  free(v);
  j->tso = h->tran_state_table_offset;
  j->clo = h->commit_log_offset;
  snprintf(j->addr, sizeof j->addr, "%s", tern_conn_peer(c));
  if ((h->present & TERN_HDR_CHECK_TRANSACTION_STATE_REQUEST_HAS_TRANSACTION_ID) &&
      h->transaction_id.n < sizeof j->transaction_id) {
    snprintf(j->transaction_id, sizeof j->transaction_id, "%.*s", TERN_STR_ARG(h->transaction_id));
    j->has_transaction_id = true;
  }
  pthread_mutex_lock(&reg_mu); /* held while t is used: tc_tx_free unlinks t under it */
  for (t = reg; t && t->in != in; t = t->next) {
  }
  if (t) {
    pthread_mutex_lock(&t->mu);
    if (t->tail)
      t->tail->next = j;
    else
      t->head = j;
    t->tail = j;
    pthread_cond_signal(&t->cv);
    pthread_mutex_unlock(&t->mu);
  }
  pthread_mutex_unlock(&reg_mu);
  if (!t) job_free(j); /* the producer is shutting down */
  return 0;
}

static void *check_main(void *arg) {
  tx_state_t *t = arg;
  for (;;) {
    tx_job_t *j;
    tern_tx_state_t s;
    tern_str_t uniq;
    int rc;
    pthread_mutex_lock(&t->mu);
    while (!t->head && !t->stop) pthread_cond_wait(&t->cv, &t->mu);
    if (t->stop) {
      pthread_mutex_unlock(&t->mu);
      break;
    }
    j = t->head;
    t->head = j->next;
    if (!t->head) t->tail = NULL;
    pthread_mutex_unlock(&t->mu);
    s = t->check(t->arg, &j->msg->pub);
    /* msgId: the UNIQ_KEY, else the offset id (tern_rmsg_t.msg_id is exactly that) */
    uniq = tern_str_from_cstr(j->msg->pub.msg_id);
    rc = end_transaction(t->in, j->addr, NULL, j->tso, j->clo, s, true, uniq,
                         j->has_transaction_id ? tern_str_from_cstr(j->transaction_id) : TERN_STR_NULL);
    if (rc) tern_warn("client: END_TRANSACTION for the check of %s not sent: %s", j->msg->pub.msg_id, tern_strerror(rc));
    job_free(j);
  }
  return NULL;
}

int tern_producer_set_transaction_listener(tern_producer_t *p, tern_tx_check_fn check, void *arg) {
  tc_inst_t *in;
  tx_state_t *t;
  if (!p || !check) return TERN_EINVAL;
  in = tc_producer_inst(p);
  if (in->running || find(in)) return TERN_EINVAL;
  if (!(t = calloc(1, sizeof *t))) return TERN_ENOMEM;
  t->in = in;
  t->check = check;
  t->arg = arg;
  pthread_mutex_init(&t->mu, NULL);
  pthread_cond_init(&t->cv, NULL);
  if (pthread_create(&t->thread, NULL, check_main, t) != 0) {
    pthread_mutex_destroy(&t->mu);
    pthread_cond_destroy(&t->cv);
    free(t);
    return TERN_ENOMEM;
  }
  pthread_mutex_lock(&reg_mu);
  t->next = reg;
  reg = t;
  pthread_mutex_unlock(&reg_mu);
  in->handlers.check_transaction_state = on_check;
  return 0;
}

void tc_tx_free(tc_inst_t *in) {
  tx_state_t *t, **pp;
  pthread_mutex_lock(&reg_mu);
  for (pp = &reg; *pp && (*pp)->in != in; pp = &(*pp)->next) {
  }
  t = *pp;
  if (t) *pp = t->next;
  pthread_mutex_unlock(&reg_mu);
  if (!t) return;
  pthread_mutex_lock(&t->mu);
  t->stop = true;
  pthread_cond_signal(&t->cv);
  pthread_mutex_unlock(&t->mu);
  pthread_join(t->thread, NULL);
  while (t->head) {
    tx_job_t *j = t->head;
    t->head = j->next;
    job_free(j);
  }
  pthread_mutex_destroy(&t->mu);
  pthread_cond_destroy(&t->cv);
  free(t);
}

/* ---- sendMessageInTransaction ---- */

static void drop_delay(tern_msg_t *m) {
  size_t i;
  for (i = 0; i < m->nprops; i++)
    if (strcmp(m->props[i].k, TERN_PROP_DELAY_TIME_LEVEL) == 0) {
      free(m->props[i].k);
      free(m->props[i].v);
      memmove(&m->props[i], &m->props[i + 1], (m->nprops - i - 1) * sizeof m->props[0]);
      m->nprops--;
      return;
    }
}

int tern_producer_send_in_transaction(tern_producer_t *p, tern_msg_t *m, tern_tx_execute_fn exec, void *arg,
                                      tern_tx_result_t *r) {
  tc_inst_t *in;
  tern_host_t host;
  int64_t clo = 0;
  int rc;
  if (!r) return TERN_EINVAL;
  memset(r, 0, sizeof *r);
  if (!p || !m || !exec) return TERN_EINVAL;
  in = tc_producer_inst(p);
  if (!find(in)) return TERN_EINVAL; /* Java: "TransactionListener is null" */
  drop_delay(m);
  if ((rc = tc_msg_set(m, TERN_PROP_TRANSACTION_PREPARED, "true")) ||
      (rc = tc_msg_set(m, TERN_PROP_PRODUCER_GROUP, in->conf.group)))
    return rc;
  rc = tern_producer_send(p, m, &r->send);
  if (rc == 0 && r->send.err.error) rc = r->send.err.error;
  if (rc) return rc;
  r->state = r->send.status == TERN_SEND_OK ? exec(arg, m, &r->send) : TERN_TX_ROLLBACK;
  if (tern_msgid_decode(tern_str_from_cstr(r->send.offset_msg_id), &host, &clo, NULL) != 0) {
    tern_warn("client: transaction %s: bad offset msgId %s; END_TRANSACTION not sent", r->send.msg_id,
              r->send.offset_msg_id);
    return 0;
  }
  rc = end_transaction(in, NULL, r->send.mq.broker_name, r->send.queue_offset, clo, r->state, false,
                       tern_str_from_cstr(r->send.msg_id), tern_str_from_cstr(r->send.msg_id));
  if (rc) /* as Java: the broker will check the transaction */
    tern_warn("client: transaction %s: END_TRANSACTION not sent: %s", r->send.msg_id, tern_strerror(rc));
  return 0;
}
