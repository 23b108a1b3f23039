/* Interop with the ali-ons Node.js client (its peer script alions_peer.js,
 * run through run.sh): Tern producer -> ali-ons consumer and ali-ons producer
 * -> Tern push consumer, with tags, keys, user properties, a compressed
 * (> 4 KiB) body and non-ASCII and binary bodies, checked field by field
 * (matched on the "seq" property; ali-ons' msgId against Tern's offset id). */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ct_env.h"
#include "gen/json.h"
#include "tern/consumer.h"
#include "tern/producer.h"
#include "tern_test.h"

#define NMSG 5

typedef struct jmsg {
  char seq[8], msg_id[80], tags[64], keys[128], color[64], unicode[64];
  uint8_t body[16384];
  size_t body_n;
  int sys_flag;
} jmsg_t;

static int jstr(const tern_json_doc_t *d, uint32_t obj, const char *key, tern_arena_t *a, char *out, size_t cap) {
  uint32_t v;
  tern_str_t s;
  out[0] = 0;
  if (tern_json_find(d, obj, key, &v) != 0 || d->toks[v].type != TERN_JSON_STRING) return -1;
  if (tern_json_get_str(d, v, a, &s) != 0) return -1;
  snprintf(out, cap, "%.*s", (int)s.n, s.p);
  return 0;
}

/* One JSON line from the peer into m. */
static int parse_line(const char *line, jmsg_t *m) {
  tern_json_tok_t toks[256];
  tern_json_doc_t d;
  tern_arena_t a;
  tern_err_t err;
  uint32_t props;
  char b64[24000];
  int rc = -1;
  memset(m, 0, sizeof *m);
  memset(&d, 0, sizeof d);
  d.text = line;
  d.len = strlen(line);
  d.toks = toks;
  d.cap = 256;
  tern_arena_init(&a, 0, NULL, 0);
  if (tern_json_parse(&d, NULL, &err) == 0 && d.toks[0].type == TERN_JSON_OBJECT) {
    jstr(&d, 0, "seq", &a, m->seq, sizeof m->seq);
    jstr(&d, 0, "msgId", &a, m->msg_id, sizeof m->msg_id);
    jstr(&d, 0, "tags", &a, m->tags, sizeof m->tags);
    jstr(&d, 0, "keys", &a, m->keys, sizeof m->keys);
    if (tern_json_find(&d, 0, "props", &props) == 0) {
      jstr(&d, props, "color", &a, m->color, sizeof m->color);
      jstr(&d, props, "unicode", &a, m->unicode, sizeof m->unicode);
    }
    if (jstr(&d, 0, "body", &a, b64, sizeof b64) == 0 &&
        sodium_base642bin(m->body, sizeof m->body, b64, strlen(b64), NULL, &m->body_n, NULL,
                          sodium_base64_VARIANT_ORIGINAL) == 0)
      rc = 0;
  }
  tern_arena_free(&a);
  return rc;
}

static const char *peer(void) { return getenv("TERN_ALIONS_PEER"); }

/* What Tern sends: seq i. */
static void tern_set(int i, jmsg_t *m) {
  static const char *bodies[] = {"plain ascii body", "héllo wörld — 日本語 ✓", NULL, "\x00\x01\x02\xff\xfe\n\r", "async one"};
  size_t k;
  memset(m, 0, sizeof *m);
  snprintf(m->seq, sizeof m->seq, "%d", i);
  snprintf(m->tags, sizeof m->tags, "%s", i == 3 ? "Tag中" : i % 2 ? "TagB" : "TagA");
  snprintf(m->keys, sizeof m->keys, i == 1 ? "k-%da k-%db" : "k-%d", i, i);
  snprintf(m->color, sizeof m->color, "c%d", i);
  snprintf(m->unicode, sizeof m->unicode, "ünï-%d", i);
  if (i == 2) {
    for (k = 0; k < 10000; k++) m->body[k] = (uint8_t)('a' + (k * 7) % 26);
    m->body_n = 10000;
  } else if (i == 3) {
    memcpy(m->body, bodies[3], 7);
    m->body_n = 7;
  } else {
    m->body_n = strlen(bodies[i]);
    memcpy(m->body, bodies[i], m->body_n);
  }
}

static void on_async(void *arg, const tern_send_result_t *r) { *(tern_send_result_t *)arg = *r; }

TEST(tern_producer_to_alions_consumer) {
  ct_env_t env;
  tern_client_conf_t conf;
  tern_producer_t *p;
  char cmd[1024], *line = malloc(65536);
  char offset_ids[NMSG][64];
  FILE *f;
  int i, got = 0, matched = 0;
  tern_send_result_t ar;
  ASSERT(peer() != NULL);
  ASSERT_OK(ct_env_start(&env, 1, NULL));
  ASSERT_OK(ct_create_topic(&env, "InteropT2A", 4));
  ct_conf(&env, &conf, "PID_tern_interop");
  p = tern_producer_new(&conf);
  ASSERT_OK(tern_producer_start(p));
  memset(&ar, 0, sizeof ar);
  for (i = 0; i < NMSG; i++) {
    jmsg_t m;
    tern_msg_t *msg;
    tern_send_result_t r;
    tern_set(i, &m);
    msg = tern_msg_new("InteropT2A", m.body, m.body_n);
    ASSERT_OK(tern_msg_set_tags(msg, m.tags));
    ASSERT_OK(tern_msg_set_keys(msg, m.keys));
    ASSERT_OK(tern_msg_put_property(msg, "seq", m.seq));
    ASSERT_OK(tern_msg_put_property(msg, "color", m.color));
    ASSERT_OK(tern_msg_put_property(msg, "unicode", m.unicode));
    if (i == 4) {
      ar.err.error = 1;
      ASSERT_OK(tern_producer_send_async(p, msg, on_async, &ar));
      while (ar.err.error == 1) ct_sleep_ms(5);
      r = ar;
    } else {
      ASSERT_OK(tern_producer_send(p, msg, &r));
    }
    ASSERT_EQ(r.err.error, 0);
    snprintf(offset_ids[i], sizeof offset_ids[i], "%s", r.offset_msg_id);
    tern_msg_free(msg);
  }
  snprintf(cmd, sizeof cmd, "node %s consume %s InteropT2A GID_alions_interop %d 60000", peer(), env.ns_addr, NMSG);
  f = popen(cmd, "r");
  ASSERT(f != NULL);
  while (got < NMSG && fgets(line, 65536, f)) {
    jmsg_t a, want;
    int seq;
    if (parse_line(line, &a) != 0) continue;
    got++;
    seq = atoi(a.seq);
    ASSERT(seq >= 0 && seq < NMSG);
    tern_set(seq, &want);
    ASSERT_STREQ(a.tags, want.tags);
    ASSERT_STREQ(a.keys, want.keys);
    ASSERT_STREQ(a.color, want.color);
    ASSERT_STREQ(a.unicode, want.unicode);
    ASSERT_EQ(a.body_n, want.body_n);
    ASSERT(memcmp(a.body, want.body, a.body_n) == 0);
    ASSERT_STREQ(a.msg_id, offset_ids[seq]); /* ali-ons' msgId is the broker's offset id */
    matched++;
  }
  ASSERT_EQ(pclose(f), 0);
  ASSERT_EQ(matched, NMSG);
  free(line);
  tern_producer_shutdown(p, 2000);
  ct_env_stop(&env);
}

typedef struct got {
  pthread_mutex_t mu;
  int n;
  jmsg_t m[8];
} got_t;

static int on_msgs(void *arg, tern_rmsg_t *const *msgs, size_t n) {
  got_t *g = arg;
  size_t i;
  pthread_mutex_lock(&g->mu);
  for (i = 0; i < n && g->n < 8; i++) {
    jmsg_t *m = &g->m[g->n++];
    tern_str_t v;
    memset(m, 0, sizeof *m);
    if (tern_rmsg_property(msgs[i], "seq", &v) == 0) snprintf(m->seq, sizeof m->seq, "%.*s", (int)v.n, v.p);
    if (tern_rmsg_property(msgs[i], "color", &v) == 0) snprintf(m->color, sizeof m->color, "%.*s", (int)v.n, v.p);
    if (tern_rmsg_property(msgs[i], "unicode", &v) == 0) snprintf(m->unicode, sizeof m->unicode, "%.*s", (int)v.n, v.p);
    snprintf(m->tags, sizeof m->tags, "%.*s", (int)msgs[i]->tags.n, msgs[i]->tags.p);
    snprintf(m->keys, sizeof m->keys, "%.*s", (int)msgs[i]->keys.n, msgs[i]->keys.p);
    snprintf(m->msg_id, sizeof m->msg_id, "%s", msgs[i]->offset_msg_id);
    m->body_n = msgs[i]->body.n < sizeof m->body ? msgs[i]->body.n : sizeof m->body;
    memcpy(m->body, msgs[i]->body.p, m->body_n);
    m->sys_flag = msgs[i]->sys_flag;
  }
  pthread_mutex_unlock(&g->mu);
  return TERN_CONSUME_SUCCESS;
}

TEST(alions_producer_to_tern_consumer) {
  ct_env_t env;
  tern_client_conf_t conf;
  tern_push_consumer_t *c;
  static got_t g;
  jmsg_t sent[8];
  int nsent = 0, i, j, t;
  char cmd[1024], *line = malloc(65536);
  FILE *f;
  ASSERT(peer() != NULL);
  memset(&g, 0, sizeof g);
  pthread_mutex_init(&g.mu, NULL);
  ASSERT_OK(ct_env_start(&env, 1, NULL));
  ASSERT_OK(ct_create_topic(&env, "InteropA2T", 4));
  snprintf(cmd, sizeof cmd, "node %s produce %s InteropA2T", peer(), env.ns_addr);
  f = popen(cmd, "r");
  ASSERT(f != NULL);
  while (nsent < 8 && fgets(line, 65536, f))
    if (parse_line(line, &sent[nsent]) == 0) nsent++;
  ASSERT_EQ(pclose(f), 0);
  ASSERT_EQ(nsent, 4);
  ct_conf(&env, &conf, "GID_tern_interop");
  conf.consume_from_where = TERN_FROM_FIRST_OFFSET;
  c = tern_push_consumer_new(&conf);
  ASSERT_OK(tern_push_consumer_subscribe(c, "InteropA2T", "*"));
  tern_push_consumer_set_listener(c, on_msgs, &g, false);
  ASSERT_OK(tern_push_consumer_start(c));
  for (t = 0; t < 1500; t++) {
    int n;
    pthread_mutex_lock(&g.mu);
    n = g.n;
    pthread_mutex_unlock(&g.mu);
    if (n >= nsent) break;
    ct_sleep_ms(20);
  }
  tern_push_consumer_shutdown(c);
  ASSERT_EQ(g.n, nsent);
  for (i = 0; i < nsent; i++) {
    for (j = 0; j < g.n; j++)
      if (strcmp(g.m[j].seq, sent[i].seq) == 0) break;
    ASSERT(j < g.n);
    ASSERT_STREQ(g.m[j].tags, sent[i].tags);
    ASSERT_STREQ(g.m[j].keys, sent[i].keys);
    ASSERT_STREQ(g.m[j].msg_id, sent[i].msg_id); /* the offset id ali-ons got back from its send */
    if (strcmp(sent[i].seq, "0") == 0) ASSERT_STREQ(g.m[j].color, "red");
    if (strcmp(sent[i].seq, "3") == 0) ASSERT_STREQ(g.m[j].unicode, "ünïcödé");
    ASSERT_EQ(g.m[j].body_n, sent[i].body_n);
    ASSERT(memcmp(g.m[j].body, sent[i].body, sent[i].body_n) == 0);
    if (sent[i].body_n > 4096) ASSERT(g.m[j].sys_flag & TERN_SYSFLAG_COMPRESSED); /* ali-ons compressed it, Tern inflated it */
  }
  free(line);
  ct_env_stop(&env);
}
