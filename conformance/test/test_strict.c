/* The strict checker on crafted requests: each rule fires on its departure and
 * stays silent on the well-formed request next to it. */
#include <string.h>

#include "conformance/strict.h"
#include "gen/codes.h"
#include "tern_test.h"

typedef struct seen {
  char rules[16][48];
  char fields[16][48];
  int n;
} seen_t;

static void collect(void *arg, const tern_strict_violation_t *v) {
  seen_t *s = arg;
  if (s->n < 16) {
    snprintf(s->rules[s->n], sizeof s->rules[0], "%s", v->rule);
    snprintf(s->fields[s->n], sizeof s->fields[0], "%s", v->field);
  }
  s->n++;
}

static bool has(const seen_t *s, const char *rule, const char *field) {
  for (int i = 0; i < s->n && i < 16; i++)
    if (strcmp(s->rules[i], rule) == 0 && (!field || strcmp(s->fields[i], field) == 0)) return true;
  return false;
}

static void req(tern_cmd_t *c, int32_t code) {
  tern_cmd_init(c);
  c->code = code;
  c->language = TERN_LANG_JAVA;
}

static void ext(tern_cmd_t *c, const char *k, const char *v) {
  tern_cmd_ext_add(c, tern_str_from_cstr(k), tern_str_from_cstr(v));
}

static int check(tern_strict_t *st, seen_t *s, const tern_cmd_t *c) {
  memset(s, 0, sizeof *s);
  st->report = collect;
  st->report_arg = s;
  return tern_strict_check(st, "127.0.0.1:1234", c);
}

static void pull_fields(tern_cmd_t *c, const char *group, const char *qid, const char *sysflag) {
  req(c, TERN_REQ_PULL_MESSAGE);
  ext(c, "consumerGroup", group);
  ext(c, "topic", "T");
  ext(c, "queueId", qid);
  ext(c, "queueOffset", "0");
  ext(c, "maxMsgNums", "32");
  ext(c, "sysFlag", sysflag);
  ext(c, "commitOffset", "0");
  ext(c, "suspendTimeoutMillis", "15000");
  ext(c, "subVersion", "0");
}

TEST(route_query_ok_and_missing_topic) {
  tern_strict_t st;
  seen_t s;
  tern_cmd_t c;
  tern_strict_init(&st, TERN_ROLE_NAMESRV, "namesrv");
  req(&c, TERN_REQ_GET_ROUTEINFO_BY_TOPIC);
  ext(&c, "topic", "T");
  ASSERT_EQ(check(&st, &s, &c), 0);
  req(&c, TERN_REQ_GET_ROUTEINFO_BY_TOPIC);
  ASSERT_EQ(check(&st, &s, &c), 1);
  ASSERT(has(&s, "header.required", "topic"));
  tern_strict_free(&st);
}

TEST(codes_roles_flags) {
  tern_strict_t st;
  seen_t s;
  tern_cmd_t c;
  tern_strict_init(&st, TERN_ROLE_BROKER, "broker");
  req(&c, 9999);
  ASSERT_EQ(check(&st, &s, &c), 1);
  ASSERT(has(&s, "code.unknown", "code"));
  req(&c, TERN_REQ_GET_ROUTEINFO_BY_TOPIC);
  ext(&c, "topic", "T");
  ASSERT_EQ(check(&st, &s, &c), 1);
  ASSERT(has(&s, "code.role", "code"));
  req(&c, TERN_REQ_GET_BROKER_RUNTIME_INFO);
  c.flag = 0x4;
  ASSERT_EQ(check(&st, &s, &c), 1);
  ASSERT(has(&s, "command.flag", "flag"));
  req(&c, TERN_REQ_GET_BROKER_RUNTIME_INFO);
  c.language = -1;
  c.language_name = tern_str_from_cstr("COBOL");
  ASSERT_EQ(check(&st, &s, &c), 1);
  ASSERT(has(&s, "command.language", "language"));
  tern_strict_free(&st);
}

TEST(pull_types_bits_session) {
  tern_strict_t st;
  seen_t s;
  tern_cmd_t c;
  tern_strict_init(&st, TERN_ROLE_BROKER, "broker");
  /* SUBSCRIPTION bit set: no heartbeat needed; well-formed. */
  pull_fields(&c, "G", "0", "6");
  ext(&c, "subscription", "*");
  ASSERT_EQ(check(&st, &s, &c), 0);
  /* bad int, undefined bit, oneway pull */
  pull_fields(&c, "G", "zero", "64");
  c.flag = TERN_FLAG_ONEWAY;
  ASSERT_EQ(check(&st, &s, &c), 3);
  ASSERT(has(&s, "header.type", "queueId"));
  ASSERT(has(&s, "header.bits", "sysFlag"));
  ASSERT(has(&s, "command.oneway", "flag"));
  /* well-formed, but no heartbeat registered G */
  pull_fields(&c, "G", "0", "2");
  ASSERT_EQ(check(&st, &s, &c), 1);
  ASSERT(has(&s, "session.heartbeat_before_pull", "consumerGroup"));
  /* heartbeat registers G; then the same pull (fixed) passes */
  req(&c, TERN_REQ_HEART_BEAT);
  c.body = tern_str_from_cstr("{\"clientID\":\"127.0.0.1@1\",\"consumerDataSet\":[{\"consumeFromWhere\":"
                              "\"CONSUME_FROM_LAST_OFFSET\",\"consumeType\":\"CONSUME_PASSIVELY\",\"groupName\":\"G\","
                              "\"messageModel\":\"CLUSTERING\",\"subscriptionDataSet\":[],\"unitMode\":false}],"
                              "\"producerDataSet\":[]}");
  ASSERT_EQ(check(&st, &s, &c), 0);
  pull_fields(&c, "G", "0", "2");
  ASSERT_EQ(check(&st, &s, &c), 0);
  tern_strict_free(&st);
}

TEST(bodies) {
  tern_strict_t st;
  seen_t s;
  tern_cmd_t c;
  tern_strict_init(&st, TERN_ROLE_BROKER, "broker");
  req(&c, TERN_REQ_HEART_BEAT);
  ASSERT_EQ(check(&st, &s, &c), 1);
  ASSERT(has(&s, "body.missing", NULL));
  c.body = tern_str_from_cstr("{\"consumerDataSet\":[],\"producerDataSet\":[]}"); /* no clientID */
  ASSERT_EQ(check(&st, &s, &c), 1);
  ASSERT(has(&s, "body.shape", NULL));
  c.body = tern_str_from_cstr("{");
  ASSERT_EQ(check(&st, &s, &c), 1);
  req(&c, TERN_REQ_GET_BROKER_RUNTIME_INFO);
  c.body = tern_str_from_cstr("x");
  ASSERT_EQ(check(&st, &s, &c), 1);
  ASSERT(has(&s, "body.unexpected", NULL));
  tern_strict_free(&st);
}

static void send_v2(tern_cmd_t *c, const char *props) {
  req(c, TERN_REQ_SEND_MESSAGE_V2);
  ext(c, "a", "PG");
  ext(c, "b", "T");
  ext(c, "c", "TBW102");
  ext(c, "d", "4");
  ext(c, "e", "0");
  ext(c, "f", "0");
  ext(c, "g", "1700000000000");
  ext(c, "h", "0");
  ext(c, "i", props);
  ext(c, "j", "0");
  ext(c, "k", "false");
  c->body = tern_str_from_cstr("hello");
}

TEST(send_properties) {
  tern_strict_t st;
  seen_t s;
  tern_cmd_t c;
  tern_strict_init(&st, TERN_ROLE_BROKER, "broker");
  send_v2(&c, "TAGS\001a\002KEYS\001k1\002");
  ASSERT_EQ(check(&st, &s, &c), 0);
  send_v2(&c, "TAGS\001a\002KEYS\001k1"); /* last pair not terminated */
  ASSERT_EQ(check(&st, &s, &c), 1);
  ASSERT(has(&s, "header.properties", "i"));
  send_v2(&c, "TAGS\002\001x\002");
  ASSERT_EQ(check(&st, &s, &c), 1);
  send_v2(&c, "TAGS\001a\002");
  c.ext[10].val = tern_str_from_cstr("maybe"); /* k: unitMode, a boolean */
  ASSERT_EQ(check(&st, &s, &c), 1);
  ASSERT(has(&s, "header.type", "k"));
  tern_strict_free(&st);
}

TEST(format_line) {
  tern_strict_violation_t v = {"1.2.3.4:5", "cid", "JAVA", 11, "header.type", "queueId", "say \"x\""};
  char line[512];
  tern_strict_format(&v, "broker", line, sizeof line);
  ASSERT_STREQ(line, "{\"server\":\"broker\",\"conn\":\"1.2.3.4:5\",\"clientId\":\"cid\",\"language\":\"JAVA\","
                     "\"code\":11,\"codeName\":\"PULL_MESSAGE\",\"rule\":\"header.type\",\"field\":\"queueId\","
                     "\"spec\":\"say \\\"x\\\"\"}");
}

TEST(take_flag) {
  char a0[] = "mqbroker", a1[] = "--strict", a2[] = "-c", a3[] = "x.conf";
  char *argv[] = {a0, a1, a2, a3, NULL};
  int argc = 4;
  ASSERT(tern_strict_take_flag(&argc, argv));
  ASSERT_EQ(argc, 3);
  ASSERT_STREQ(argv[1], "-c");
  ASSERT(!tern_strict_take_flag(&argc, argv));
}
