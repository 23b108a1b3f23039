/* ACL 1.0 from the Tern client against the real mqbroker with aclEnable=true:
 * a producer and a pull consumer with access_key/secret_key sign every request
 * (routes, heartbeats, sends, batches, pulls, offsets) and get through; a
 * SecurityToken is signed along; a wrong secret, a topic without PUB and a
 * denied group come back as NO_PERMISSION (16) with the broker's remark; half
 * a credential refuses to build a client; the signature a client puts on the
 * wire is the golden vector's when the request is the vector's. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client-c/src/acl_int.h" /* tc_acl_sign, for the golden-vector case */
#include "ct_env.h"
#include "tern/consumer.h"
#include "tern/producer.h"
#include "tern_test.h"

static ct_env_t E;
static bool up_done, up_ok;
static char DIR_[128], YML[256];

#define YML_TEXT                                                                               \
  "accounts:\n"                                                                                \
  "  - accessKey: tern-prod\n    secretKey: prod-secret-1\n    admin: false\n"                 \
  "    defaultTopicPerm: DENY\n    defaultGroupPerm: SUB\n"                                    \
  "    topicPerms:\n      - TopicAclC=PUB|SUB\n"                                               \
  "    groupPerms:\n      - GroupDenied=DENY\n"

static bool up(void) {
  char extra[512];
  FILE *f;
  if (up_done) return up_ok;
  up_done = true;
  snprintf(DIR_, sizeof DIR_, "/tmp/tern_cacl_XXXXXX");
  if (!mkdtemp(DIR_)) return false;
  snprintf(YML, sizeof YML, "%s/plain_acl.yml", DIR_);
  if (!(f = fopen(YML, "w"))) return false;
  fputs(YML_TEXT, f);
  fclose(f);
  snprintf(extra, sizeof extra, "aclEnable=true\naclFile=%s\n", YML);
  if (ct_env_start(&E, 1, extra)) return false;
  up_ok = true;
  return true;
}

__attribute__((destructor)) static void down(void) {
  if (up_ok) ct_env_stop(&E);
  if (DIR_[0]) {
    unlink(YML);
    rmdir(DIR_);
  }
}

static void creds(tern_client_conf_t *c, const char *ak, const char *sk, const char *token) {
  c->access_key = ak;
  c->secret_key = sk;
  c->security_token = token;
}

static tern_producer_t *producer(const char *group, const char *sk, const char *token) {
  tern_client_conf_t c;
  tern_producer_t *p;
  ct_conf(&E, &c, group);
  creds(&c, "tern-prod", sk, token);
  c.retry_times = 0;
  if (!(p = tern_producer_new(&c))) return NULL;
  if (tern_producer_start(p)) {
    tern_producer_shutdown(p, 1000);
    return NULL;
  }
  return p;
}

static int send_one(tern_producer_t *p, const char *topic, tern_send_result_t *r) {
  tern_msg_t *m = tern_msg_new(topic, "signed hello", 12);
  int rc;
  if (!m) return -1;
  tern_msg_set_tags(m, "T");
  rc = tern_producer_send(p, m, r);
  tern_msg_free(m);
  return rc;
}

TEST(signed_producer_and_pull_consumer_pass) {
  tern_producer_t *p;
  tern_pull_consumer_t *pc;
  tern_client_conf_t c;
  tern_send_result_t r;
  tern_mq_t *mqs = NULL;
  int n = 0, got = 0;
  int64_t off = -1;
  ASSERT(up());
  ASSERT((p = producer("PG_ACL", "prod-secret-1", NULL)) != NULL);
  ASSERT_OK(send_one(p, "TopicAclC", &r));
  ASSERT_EQ(r.err.error, 0);
  ASSERT_EQ(r.status, TERN_SEND_OK);
  {
    tern_msg_t *m1 = tern_msg_new("TopicAclC", "b1", 2), *m2 = tern_msg_new("TopicAclC", "b2", 2);
    const tern_msg_t *ms[2] = {m1, m2};
    ASSERT_OK(tern_producer_send_batch(p, ms, 2, &r));
    ASSERT_EQ(r.status, TERN_SEND_OK);
    tern_msg_free(m1);
    tern_msg_free(m2);
  }
  tern_producer_shutdown(p, 3000);

  ct_conf(&E, &c, "GroupAclOk");
  creds(&c, "tern-prod", "prod-secret-1", NULL);
  ASSERT((pc = tern_pull_consumer_new(&c)) != NULL);
  ASSERT_OK(tern_pull_consumer_start(pc));
  ASSERT_OK(tern_pull_consumer_fetch_queues(pc, "TopicAclC", &mqs, &n));
  ASSERT(n > 0);
  for (int i = 0; i < n; i++) {
    tern_pull_result_t *res = NULL;
    tern_client_error_t e;
    ASSERT_OK(tern_pull_consumer_pull(pc, &mqs[i], "*", 0, 32, &res, &e));
    got += (int)res->n;
    if (res->n) { /* UPDATE_CONSUMER_OFFSET, signed, then read back */
      ASSERT_OK(tern_pull_consumer_update_offset(pc, &mqs[i], res->next_begin_offset));
      ASSERT_OK(tern_pull_consumer_commit(pc));
      ASSERT_OK(tern_pull_consumer_fetch_offset(pc, &mqs[i], &off));
      ASSERT_EQ(off, res->next_begin_offset);
    }
    tern_pull_result_free(res);
  }
  ASSERT_EQ(got, 3);
  free(mqs);
  tern_pull_consumer_shutdown(pc);
}

TEST(security_token_is_signed_along) {
  tern_producer_t *p;
  tern_send_result_t r;
  ASSERT(up());
  ASSERT((p = producer("PG_ACL_TOKEN", "prod-secret-1", "sts-token-42")) != NULL);
  ASSERT_OK(send_one(p, "TopicAclC", &r));
  ASSERT_EQ(r.status, TERN_SEND_OK);
  tern_producer_shutdown(p, 3000);
}

TEST(refusals_come_back_as_no_permission) {
  tern_producer_t *p;
  tern_pull_consumer_t *pc;
  tern_client_conf_t c;
  tern_send_result_t r;
  tern_mq_t *mqs = NULL;
  tern_pull_result_t *res = NULL;
  tern_client_error_t e;
  int n = 0;
  ASSERT(up());
  ASSERT((p = producer("PG_ACL_BAD", "wrong-secret", NULL)) != NULL);
  ASSERT(send_one(p, "TopicAclC", &r) != 0);
  ASSERT_EQ(r.err.response_code, 16);
  ASSERT_STREQ(r.err.remark, "Check signature failed for accessKey=tern-prod");
  tern_producer_shutdown(p, 3000);

  ASSERT((p = producer("PG_ACL", "prod-secret-1", NULL)) != NULL);
  ASSERT(send_one(p, "TopicAclDenied", &r) != 0);
  ASSERT_EQ(r.err.response_code, 16);
  ASSERT_STREQ(r.err.remark, "No default permission for topic:TopicAclDenied");
  tern_producer_shutdown(p, 3000);

  ct_conf(&E, &c, "GroupDenied");
  creds(&c, "tern-prod", "prod-secret-1", NULL);
  ASSERT((pc = tern_pull_consumer_new(&c)) != NULL);
  ASSERT_OK(tern_pull_consumer_start(pc));
  ASSERT_OK(tern_pull_consumer_fetch_queues(pc, "TopicAclC", &mqs, &n));
  ASSERT(n > 0);
  ASSERT(tern_pull_consumer_pull(pc, &mqs[0], "*", 0, 32, &res, &e) != 0);
  ASSERT_EQ(e.response_code, 16);
  ASSERT_STREQ(e.remark, "No default permission for group:GroupDenied");
  free(mqs);
  tern_pull_consumer_shutdown(pc);
}

TEST(half_a_credential_is_refused) {
  tern_client_conf_t c;
  tern_client_conf_default(&c);
  c.namesrv_addr = "127.0.0.1:9876";
  c.group = "PG_HALF";
  c.access_key = "tern-prod";
  ASSERT(tern_producer_new(&c) == NULL);
  c.access_key = NULL;
  c.secret_key = "prod-secret-1";
  ASSERT(tern_producer_new(&c) == NULL);
  c.access_key = "";
  ASSERT(tern_pull_consumer_new(&c) == NULL);
}

/* The client's signing step on the golden vector's SEND_MESSAGE_V2 (spec/vectors/acl/acl_sign.json,
 * case send_v2, computed in Python): the same Signature, AccessKey added by the client. */
TEST(client_signs_like_the_golden_vector) {
  tern_client_conf_t c;
  tc_acl_t a;
  tern_cmd_t cmd;
  char sig[TERN_ACL_SIG_LEN + 1];
  const char *kv[] = {"a", "ProducerGroupA", "b", "TopicA", "c", "TBW102", "d", "4", "e", "1", "f", "0",
                      "g", "1700000000123", "h", "0",
                      "i", "UNIQ_KEY\001C0A8000100002A9F0000000000000000\002WAIT\001true\002TAGS\001TagA\002",
                      "j", "0", "k", "false", "m", "false", NULL};
  const tern_str_t *v;
  tern_client_conf_default(&c);
  creds(&c, "RocketMQ", "12345678", NULL);
  ASSERT_OK(tc_acl_init(&a, &c));
  tern_rpc_request_init(&cmd, TERN_REQ_SEND_MESSAGE_V2, TERN_STR("Hello RocketMQ ACL"));
  for (int i = 0; kv[i]; i += 2) ASSERT_OK(tern_cmd_ext_add(&cmd, tern_str_from_cstr(kv[i]), tern_str_from_cstr(kv[i + 1])));
  ASSERT_OK(tc_acl_sign(&a, &cmd, sig));
  ASSERT((v = tern_cmd_ext_get(&cmd, "Signature")) != NULL);
  ASSERT_STR(*v, "iN5PUIqz8LM5M1G4ApNZdzh/iYw=");
  ASSERT((v = tern_cmd_ext_get(&cmd, "AccessKey")) != NULL);
  ASSERT_STR(*v, "RocketMQ");
  ASSERT(tern_cmd_ext_get(&cmd, "SecurityToken") == NULL);
  tc_acl_free(&a);
}
