/* ACL 1.0 (reference §10): the signature against golden vectors computed
 * independently in Python (spec/vectors/acl/), address patterns, plain_acl.yml
 * loading and its refusals, and the real mqbroker with aclEnable=true: signed
 * requests pass; a wrong secret, a missing signature, a tampered body or
 * extField, an unknown or missing AccessKey, a non-admin calling an admin
 * code, a topic without PUB, a group with DENY, an address outside the
 * account's white list, a heartbeat body that does not decode — each gets
 * NO_PERMISSION (16) with 4.9's exception text; an account white list skips
 * the signature; the file is reloaded when it changes; a missing file stops
 * the broker; with aclEnable=false nothing changes. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/acl/acl.h"
#include "broker/acl/sign.h"
#include "bt.h"
#include "gen/json.h"
#include "tern_test.h"

/* ---- golden vectors ---- */

static char *read_all(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  char *p;
  long n;
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  p = malloc((size_t)n + 1);
  if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
    free(p);
    p = NULL;
  }
  fclose(f);
  if (p) p[n] = '\0', *len = (size_t)n;
  return p;
}

static int unhex(tern_str_t h, uint8_t *out, size_t cap) {
  size_t n = h.n / 2;
  if (h.n % 2 || n > cap) return -1;
  for (size_t i = 0; i < n; i++) {
    unsigned v;
    if (sscanf(h.p + 2 * i, "%2x", &v) != 1) return -1;
    out[i] = (uint8_t)v;
  }
  return (int)n;
}

TEST(golden_vectors_from_python_verify) {
  char path[1024], sig[TERN_ACL_SIG_LEN + 1];
  size_t len = 0;
  char *text;
  tern_json_doc_t d;
  tern_arena_t a;
  tern_err_t err;
  uint32_t cases, c;
  int ncases = 0;
  snprintf(path, sizeof path, "%s/spec/vectors/acl/acl_sign.json", tern_test_srcdir());
  text = read_all(path, &len);
  ASSERT(text != NULL);
  tern_arena_init(&a, 0, NULL, 0);
  memset(&d, 0, sizeof d);
  d.text = text;
  d.len = len;
  d.arena = &a;
  ASSERT_OK(tern_json_parse(&d, NULL, &err));
  ASSERT_OK(tern_json_find(&d, 0, "cases", &cases));
  c = cases + 1;
  for (uint32_t i = 0; i < d.toks[cases].size; i++, c = tern_json_next(&d, c)) {
    uint32_t t, ext, k;
    tern_str_t secret, want, body_hex, s;
    static uint8_t body[4096];
    tern_cmd_t cmd;
    int bn;
    tern_cmd_init(&cmd);
    ASSERT_OK(tern_json_find(&d, c, "secret_key", &t));
    ASSERT_OK(tern_json_get_str(&d, t, &a, &secret));
    ASSERT_OK(tern_json_find(&d, c, "signature", &t));
    ASSERT_OK(tern_json_get_str(&d, t, &a, &want));
    ASSERT_OK(tern_json_find(&d, c, "body_hex", &t));
    ASSERT_OK(tern_json_get_str(&d, t, &a, &body_hex));
    ASSERT((bn = unhex(body_hex, body, sizeof body)) >= 0);
    cmd.body = (tern_str_t){(const char *)body, (size_t)bn};
    ASSERT_OK(tern_json_find(&d, c, "ext", &ext));
    k = TERN_JSON_FIRST(ext);
    /* Stored in Python's insertion order, which is not the sorted order: the signer must sort. */
    for (uint32_t j = 0; j < d.toks[ext].size; j++, k = tern_json_member_next(&d, k)) {
      tern_str_t key, val;
      ASSERT_OK(tern_json_get_str(&d, k, &a, &key));
      ASSERT_OK(tern_json_get_str(&d, tern_json_member_value(&d, k), &a, &val));
      ASSERT_OK(tern_cmd_ext_add(&cmd, key, val));
    }
    ASSERT_OK(tern_acl_signature(secret, &cmd, NULL, sig));
    ASSERT_STR(want, sig);
    ASSERT(tern_acl_signature_eq(want, sig));
    /* the Signature entry itself is not signed, wherever it sits */
    ASSERT_OK(tern_cmd_ext_add(&cmd, TERN_STR(TERN_ACL_SIGNATURE), want));
    ASSERT_OK(tern_acl_signature(secret, &cmd, NULL, sig));
    ASSERT_STR(want, sig);
    /* one byte more in the body, or in the secret, changes it */
    if (bn) {
      cmd.body.n--;
      ASSERT_OK(tern_acl_signature(secret, &cmd, NULL, sig));
      ASSERT(!tern_acl_signature_eq(want, sig));
      cmd.body.n++;
    }
    s = secret;
    s.n--;
    ASSERT_OK(tern_acl_signature(s, &cmd, NULL, sig));
    ASSERT(!tern_acl_signature_eq(want, sig));
    ncases++;
  }
  ASSERT_EQ(ncases, 3);
  tern_arena_free(&a);
  free(text);
}

TEST(signature_rules) {
  tern_cmd_t a, b;
  char s1[TERN_ACL_SIG_LEN + 1], s2[TERN_ACL_SIG_LEN + 1];
  tern_cmd_init(&a);
  tern_cmd_init(&b);
  /* last duplicate wins, as Java's extFields HashMap keeps it */
  ASSERT_OK(tern_cmd_ext_add(&a, TERN_STR("k"), TERN_STR("old")));
  ASSERT_OK(tern_cmd_ext_add(&a, TERN_STR("k"), TERN_STR("new")));
  ASSERT_OK(tern_cmd_ext_add(&b, TERN_STR("k"), TERN_STR("new")));
  ASSERT_OK(tern_acl_signature(TERN_STR("1234567"), &a, NULL, s1));
  ASSERT_OK(tern_acl_signature(TERN_STR("1234567"), &b, NULL, s2));
  ASSERT_STREQ(s1, s2);
  ASSERT_EQ(strlen(s1), TERN_ACL_SIG_LEN);
  /* the skipped key does not count */
  ASSERT_OK(tern_cmd_ext_add(&a, TERN_STR(TERN_ACL_UNIQUE_KEY_QUERY), TERN_STR("true")));
  ASSERT_OK(tern_acl_signature(TERN_STR("1234567"), &a, TERN_ACL_UNIQUE_KEY_QUERY, s1));
  ASSERT_STREQ(s1, s2);
  ASSERT_OK(tern_acl_signature(TERN_STR("1234567"), &a, NULL, s1));
  ASSERT(strcmp(s1, s2) != 0);
  ASSERT_EQ(tern_acl_signature(TERN_STR_NULL, &a, NULL, s1), TERN_EINVAL);
  ASSERT(!tern_acl_signature_eq(TERN_STR("short"), s2));
  ASSERT(!tern_acl_signature_eq(TERN_STR_NULL, s2));
}

/* ---- addresses and permissions ---- */

TEST(address_patterns) {
  ASSERT_EQ(tern_acl_addr_match("*", "1.2.3.4"), 1);
  ASSERT_EQ(tern_acl_addr_match("*.*.*.*", "::1"), 1);
  ASSERT_EQ(tern_acl_addr_match("", "1.2.3.4"), 0);
  ASSERT_EQ(tern_acl_addr_match(NULL, "1.2.3.4"), 0);
  ASSERT_EQ(tern_acl_addr_match("192.168.0.1", "192.168.0.1"), 1);
  ASSERT_EQ(tern_acl_addr_match("192.168.0.1", "192.168.0.2"), 0);
  ASSERT_EQ(tern_acl_addr_match("192.168.0.*", "192.168.0.200"), 1);
  ASSERT_EQ(tern_acl_addr_match("192.168.0.*", "192.168.1.200"), 0);
  ASSERT_EQ(tern_acl_addr_match("192.168.*.*", "192.168.7.9"), 1);
  ASSERT_EQ(tern_acl_addr_match("192.168.1.1-100", "192.168.1.100"), 1);
  ASSERT_EQ(tern_acl_addr_match("192.168.1.1-100", "192.168.1.101"), 0);
  ASSERT_EQ(tern_acl_addr_match("192.168.1.1-100", "192.168.1.0"), 0);
  ASSERT_EQ(tern_acl_addr_match("10.1-3.*.*", "10.2.200.1"), 1);
  ASSERT_EQ(tern_acl_addr_match("10.1-3.*.*", "10.4.0.1"), 0);
  ASSERT_EQ(tern_acl_addr_match("192.168.1.{1,2,3}", "192.168.1.2"), 1);
  ASSERT_EQ(tern_acl_addr_match("192.168.1.{1,2,3}", "192.168.1.4"), 0);
  ASSERT_EQ(tern_acl_addr_match("1.1.1.1,2.2.2.2", "2.2.2.2"), 1);
  ASSERT_EQ(tern_acl_addr_match("1.1.1.1,2.2.2.2", "3.3.3.3"), 0);
  ASSERT_EQ(tern_acl_addr_match("::1", "0:0:0:0:0:0:0:1"), 1);
  ASSERT_EQ(tern_acl_addr_match("127.0.0.1", "::ffff:127.0.0.1"), 1);
  ASSERT_EQ(tern_acl_addr_match("1050:0:0:0:5:600:300c:*", "1050::5:600:300c:326b"), 1);
  ASSERT_EQ(tern_acl_addr_match("1050:0:0:0:5:600:300c:1-ff", "1050::5:600:300c:326b"), 0);
  ASSERT_EQ(tern_acl_addr_match("1050::5:600:300c:{1,326b}", "1050::5:600:300c:326b"), 1);
  /* malformed patterns */
  ASSERT_EQ(tern_acl_addr_match("192.168.1.300", "1.2.3.4"), TERN_EINVAL);
  ASSERT_EQ(tern_acl_addr_match("192.168.1.100-1", "1.2.3.4"), TERN_EINVAL);
  ASSERT_EQ(tern_acl_addr_match("192.168.*", "1.2.3.4"), TERN_EINVAL);
  ASSERT_EQ(tern_acl_addr_match("*.168.1.1", "1.2.3.4"), TERN_EINVAL);
  ASSERT_EQ(tern_acl_addr_match("1.1.1.1,nope", "1.2.3.4"), TERN_EINVAL);
  ASSERT_EQ(tern_acl_addr_match("host.example", "1.2.3.4"), TERN_EINVAL);
  ASSERT_EQ(tern_acl_addr_match("192.168.1.{1,x}", "1.2.3.4"), TERN_EINVAL);
  ASSERT_EQ(tern_acl_addr_match("192.168.1.-5", "1.2.3.4"), TERN_EINVAL);
}

TEST(permissions) {
  ASSERT_EQ(tern_acl_perm_parse(TERN_STR("PUB")), TERN_ACL_PUB);
  ASSERT_EQ(tern_acl_perm_parse(TERN_STR(" SUB ")), TERN_ACL_SUB);
  ASSERT_EQ(tern_acl_perm_parse(TERN_STR("SUB|PUB")), TERN_ACL_PUB | TERN_ACL_SUB);
  ASSERT_EQ(tern_acl_perm_parse(TERN_STR("pub")), TERN_ACL_DENY);
  ASSERT(tern_acl_perm_ok(TERN_ACL_PUB, TERN_ACL_PUB | TERN_ACL_SUB));
  ASSERT(!tern_acl_perm_ok(TERN_ACL_PUB, TERN_ACL_SUB));
  ASSERT(!tern_acl_perm_ok(TERN_ACL_SUB, TERN_ACL_DENY));
  ASSERT(tern_acl_perm_ok(TERN_ACL_ANY, TERN_ACL_SUB));
  ASSERT(!tern_acl_perm_ok(TERN_ACL_ANY, TERN_ACL_DENY | TERN_ACL_SUB));
}

/* ---- plain_acl.yml ---- */

static int parse(const char *yml, char *why, size_t cap) {
  tern_acl_t *a = NULL;
  int rc = tern_acl_parse(yml, strlen(yml), &a, why, cap);
  if (rc == 0) tern_acl_free(a);
  return rc;
}

#define ACCT(extra) "accounts:\n  - accessKey: RocketMQ\n    secretKey: 12345678\n" extra

TEST(yaml_loading_and_refusals) {
  char why[512];
  tern_acl_t *a = NULL;
  const char *ok = "globalWhiteRemoteAddresses:\n  - 10.10.103.*\n  - 192.168.0.*\n" ACCT(
      "    whiteRemoteAddress:\n    admin: false\n    defaultTopicPerm: DENY\n    defaultGroupPerm: SUB\n"
      "    topicPerms:\n      - topicA=DENY\n      - topicB=PUB|SUB\n    groupPerms:\n      - groupA=DENY\n"
      "    futureKey: ignored\n"
      "  - accessKey: rocketmq2\n    secretKey: '12345678'\n    whiteRemoteAddress: 192.168.1.*\n    admin: true\n")
      "dataVersion:\n  - counter: 1\n    timestamp: 1700000000000\n";
  ASSERT_OK(tern_acl_parse(ok, strlen(ok), &a, why, sizeof why));
  ASSERT_EQ(tern_acl_account_count(a), 2);
  tern_acl_free(a);
  ASSERT_EQ(parse("", why, sizeof why), TERN_EINVAL);
  ASSERT(strstr(why, "no data"));
  ASSERT_EQ(parse("accounts: [\n", why, sizeof why), TERN_EINVAL);
  ASSERT_EQ(parse("- a\n- b\n", why, sizeof why), TERN_EINVAL);
  ASSERT_EQ(parse("accounts:\n  accessKey: RocketMQ\n", why, sizeof why), TERN_EINVAL);
  ASSERT_EQ(parse("accounts:\n  - accessKey: Rocket\n    secretKey: 12345678\n", why, sizeof why), TERN_EINVAL);
  ASSERT(strstr(why, "accessKey"));
  ASSERT_EQ(parse("accounts:\n  - accessKey: RocketMQ\n    secretKey: 123456\n", why, sizeof why), TERN_EINVAL);
  ASSERT(strstr(why, "secretKey") && !strstr(why, "123456")); /* the secret is never shown */
  ASSERT_EQ(parse("accounts:\n  - accessKey: RocketMQ\n", why, sizeof why), TERN_EINVAL);
  ASSERT_EQ(parse(ACCT("  - accessKey: RocketMQ\n    secretKey: 87654321\n"), why, sizeof why), TERN_EINVAL);
  ASSERT(strstr(why, "twice"));
  ASSERT_EQ(parse(ACCT("    topicPerms:\n      - topicA\n"), why, sizeof why), TERN_EINVAL);
  ASSERT_EQ(parse(ACCT("    topicPerms:\n      - topicA=READ\n"), why, sizeof why), TERN_EINVAL);
  ASSERT_EQ(parse(ACCT("    topicPerms: topicA=PUB\n"), why, sizeof why), TERN_EINVAL);
  ASSERT_EQ(parse(ACCT("    defaultTopicPerm: ALL\n"), why, sizeof why), TERN_EINVAL);
  ASSERT_EQ(parse(ACCT("    admin: maybe\n"), why, sizeof why), TERN_EINVAL);
  ASSERT_EQ(parse(ACCT("    whiteRemoteAddress: 192.168.1.999\n"), why, sizeof why), TERN_EINVAL);
  ASSERT_EQ(parse("globalWhiteRemoteAddresses:\n  - nowhere\n", why, sizeof why), TERN_EINVAL);
  ASSERT_EQ(parse(ACCT("    secretKey:\n      - x\n"), why, sizeof why), TERN_EINVAL);
  /* aliases resolve to the same node: still one account per list entry, checked as such */
  ASSERT_EQ(parse("accounts:\n  - &a {accessKey: RocketMQ, secretKey: 12345678}\n  - *a\n", why, sizeof why),
            TERN_EINVAL);
}

/* ---- tern_acl_check without a broker ---- */

static tern_acl_t *load(const char *yml) {
  char why[512];
  tern_acl_t *a = NULL;
  if (tern_acl_parse(yml, strlen(yml), &a, why, sizeof why)) fprintf(stderr, "load: %s\n", why);
  return a;
}

static void sign(tern_cmd_t *c, const char *ak, const char *sk, char *sig) {
  tern_cmd_ext_add(c, TERN_STR(TERN_ACL_ACCESS_KEY), tern_str_from_cstr(ak));
  tern_acl_signature(tern_str_from_cstr(sk), c, NULL, sig);
  tern_cmd_ext_add(c, TERN_STR(TERN_ACL_SIGNATURE), (tern_str_t){sig, TERN_ACL_SIG_LEN});
}

TEST(check_rules_offline) {
  tern_acl_t *a = load("globalWhiteRemoteAddresses:\n  - 10.0.0.*\n" ACCT(
      "    defaultTopicPerm: PUB\n    topicPerms:\n      - TopicX=SUB\n"
      "  - accessKey: adminNoRes\n    secretKey: 12345678\n    admin: true\n"));
  tern_arena_t ar;
  tern_cmd_t c;
  char sig[TERN_ACL_SIG_LEN + 1], remark[384];
  ASSERT(a != NULL);
  tern_arena_init(&ar, 0, NULL, 0);
  /* global white list: no credentials needed */
  tern_rpc_request_init(&c, TERN_REQ_SEND_MESSAGE_V2, TERN_STR("x"));
  tern_cmd_ext_add(&c, TERN_STR("b"), TERN_STR("TopicX"));
  ASSERT_OK(tern_acl_check(a, "10.0.0.7:5555", &c, &ar, remark, sizeof remark));
  ASSERT_EQ(tern_acl_check(a, "10.0.1.7:5555", &c, &ar, remark, sizeof remark), TERN_EINVAL);
  ASSERT_STREQ(remark, "No accessKey is configured");
  /* the trace topic is always publishable (after the signature) */
  tern_rpc_request_init(&c, TERN_REQ_SEND_MESSAGE_V2, TERN_STR("x"));
  tern_cmd_ext_add(&c, TERN_STR("b"), TERN_STR("RMQ_SYS_TRACE_TOPIC"));
  sign(&c, "RocketMQ", "12345678", sig);
  ASSERT_OK(tern_acl_check(a, "1.2.3.4:1", &c, &ar, remark, sizeof remark));
  /* a batch to a topic with SUB only is refused too (4.9 leaves batches unchecked) */
  tern_rpc_request_init(&c, TERN_REQ_SEND_BATCH_MESSAGE, TERN_STR("x"));
  tern_cmd_ext_add(&c, TERN_STR("b"), TERN_STR("TopicX"));
  sign(&c, "RocketMQ", "12345678", sig);
  ASSERT_EQ(tern_acl_check(a, "1.2.3.4:1", &c, &ar, remark, sizeof remark), TERN_EINVAL);
  ASSERT_STREQ(remark, "No default permission for topic:TopicX");
  /* sending to a retry topic needs SUB on the group (defaultGroupPerm absent = DENY) */
  tern_rpc_request_init(&c, TERN_REQ_SEND_MESSAGE, TERN_STR("x"));
  tern_cmd_ext_add(&c, TERN_STR("topic"), TERN_STR("%RETRY%G1"));
  tern_cmd_ext_add(&c, TERN_STR("group"), TERN_STR("G1"));
  sign(&c, "RocketMQ", "12345678", sig);
  ASSERT_EQ(tern_acl_check(a, "1.2.3.4:1", &c, &ar, remark, sizeof remark), TERN_EINVAL);
  ASSERT_STREQ(remark, "No default permission for group:G1");
  /* an admin without resource entries passes everything */
  tern_rpc_request_init(&c, TERN_REQ_SEND_MESSAGE, TERN_STR("x"));
  tern_cmd_ext_add(&c, TERN_STR("topic"), TERN_STR("%RETRY%G1"));
  tern_cmd_ext_add(&c, TERN_STR("group"), TERN_STR("G1"));
  sign(&c, "adminNoRes", "12345678", sig);
  ASSERT_OK(tern_acl_check(a, "1.2.3.4:1", &c, &ar, remark, sizeof remark));
  /* QUERY_MESSAGE: 4.9's client signs _UNIQUE_KEY_QUERY, 4.9's broker leaves it out: both verify */
  tern_rpc_request_init(&c, TERN_REQ_QUERY_MESSAGE, TERN_STR_NULL);
  tern_cmd_ext_add(&c, TERN_STR("topic"), TERN_STR("TopicX"));
  tern_cmd_ext_add(&c, TERN_STR(TERN_ACL_UNIQUE_KEY_QUERY), TERN_STR("true"));
  sign(&c, "RocketMQ", "12345678", sig);
  ASSERT_OK(tern_acl_check(a, "1.2.3.4:1", &c, &ar, remark, sizeof remark));
  /* an IPv6 peer is parsed, not refused as garbage */
  ASSERT_OK(tern_acl_check(a, "::1:40000", &c, &ar, remark, sizeof remark));
  tern_arena_free(&ar);
  tern_acl_free(a);
}

/* ---- the real broker ---- */

#define ACL_YML                                                                                     \
  "globalWhiteRemoteAddresses:\n  - 10.10.103.*\n"                                                  \
  "accounts:\n"                                                                                     \
  "  - accessKey: RocketMQ\n    secretKey: 12345678\n    whiteRemoteAddress:\n    admin: false\n"   \
  "    defaultTopicPerm: DENY\n    defaultGroupPerm: SUB\n"                                         \
  "    topicPerms:\n      - TopicPub=PUB|SUB\n      - TopicSubOnly=SUB\n"                           \
  "    groupPerms:\n      - GroupDeny=DENY\n"                                                       \
  "  - accessKey: rocketmq2\n    secretKey: 87654321\n    whiteRemoteAddress: 192.168.1.*\n"      \
  "    admin: true\n"                                                                               \
  "  - accessKey: whitelisted\n    secretKey: whatever-secret\n    whiteRemoteAddress: 127.0.0.1\n"

static tern_fixture_proc_t NS, BR;
static char DIR_[128], YML[256];
static bool up_done, up_ok;

static bool write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (!f) return false;
  fputs(text, f);
  return fclose(f) == 0;
}

static bool up(void) {
  char extra[512];
  if (up_done) return up_ok;
  up_done = true;
  snprintf(DIR_, sizeof DIR_, "/tmp/tern_acl_XXXXXX");
  if (!mkdtemp(DIR_)) return false;
  snprintf(YML, sizeof YML, "%s/plain_acl.yml", DIR_);
  if (!write_file(YML, ACL_YML)) return false;
  if (tern_fixture_namesrv_start(&NS, NULL, NULL)) return false;
  snprintf(extra, sizeof extra, "aclEnable=true\naclFile=%s\naclReloadIntervalMs=200\n", YML);
  if (tern_fixture_broker_start(&BR, NULL, NS.port, extra)) return false;
  up_ok = true;
  return true;
}

__attribute__((destructor)) static void down(void) {
  if (BR.pid) tern_fixture_stop(&BR, 0);
  if (NS.pid) tern_fixture_stop(&NS, 0);
  if (DIR_[0]) {
    unlink(YML);
    rmdir(DIR_);
  }
}

enum { T_NONE, T_NO_SIG, T_BODY, T_EXT, T_NO_AK };

/* Sends code with kv extFields and body, signed by ak/sk (ak NULL: unsigned), tampered as asked. */
static int call(int port, int32_t code, const char *const *kv, const char *body, const char *ak, const char *sk,
                int tamper, int32_t *code_out, char *remark, size_t cap) {
  bt_client_t c;
  tern_cmd_t req, resp;
  char sig[TERN_ACL_SIG_LEN + 1];
  int rc;
  tern_rpc_request_init(&req, code, tern_str_from_cstr(body));
  for (int i = 0; kv && kv[i]; i += 2) tern_cmd_ext_add(&req, tern_str_from_cstr(kv[i]), tern_str_from_cstr(kv[i + 1]));
  if (ak) {
    tern_cmd_ext_add(&req, TERN_STR(TERN_ACL_ACCESS_KEY), tern_str_from_cstr(ak));
    if (tern_acl_signature(tern_str_from_cstr(sk), &req, NULL, sig)) return -1;
    if (tamper != T_NO_SIG) tern_cmd_ext_add(&req, TERN_STR(TERN_ACL_SIGNATURE), (tern_str_t){sig, TERN_ACL_SIG_LEN});
    if (tamper == T_BODY) req.body = TERN_STR("tampered body");
    if (tamper == T_EXT) req.ext[0].val = TERN_STR("tampered");
  }
  if (bt_open(&c, port)) return -1;
  rc = bt_call(&c, &req, &resp, 5000);
  if (rc == 0) {
    *code_out = resp.code;
    snprintf(remark, cap, "%.*s", resp.has_remark ? (int)resp.remark.n : 0, resp.has_remark ? resp.remark.p : "");
  }
  bt_close(&c);
  return rc;
}

static int send_v2(int port, const char *topic, const char *ak, const char *sk, int tamper, int32_t *code,
                   char *remark) {
  char now[32];
  snprintf(now, sizeof now, "%lld", (long long)time(NULL) * 1000);
  const char *kv[] = {"a", "PG_ACL", "b", topic, "c", "TBW102", "d", "4", "e", "0", "f", "0",
                      "g", now, "h", "0", "i", "TAGS\001t\002", NULL};
  return call(port, TERN_REQ_SEND_MESSAGE_V2, kv, "hello acl", ak, sk, tamper, code, remark, 256);
}

TEST(broker_signed_send_passes) {
  int32_t code = -1;
  char remark[256];
  ASSERT(up());
  ASSERT_OK(send_v2(BR.port, "TopicPub", "RocketMQ", "12345678", T_NONE, &code, remark));
  ASSERT_EQ(code, TERN_RESP_SUCCESS);
  /* the VIP channel (listenPort-2) is guarded too */
  ASSERT_OK(send_v2(BR.vip_port, "TopicPub", "RocketMQ", "12345678", T_NONE, &code, remark));
  ASSERT_EQ(code, TERN_RESP_SUCCESS);
  ASSERT_OK(send_v2(BR.vip_port, "TopicPub", NULL, NULL, T_NONE, &code, remark));
  ASSERT_EQ(code, TERN_RESP_NO_PERMISSION);
}

TEST(broker_refuses_bad_credentials) {
  int32_t code = -1;
  char remark[256];
  ASSERT(up());
  ASSERT_OK(send_v2(BR.port, "TopicPub", "RocketMQ", "wrong-secret", T_NONE, &code, remark));
  ASSERT_EQ(code, TERN_RESP_NO_PERMISSION);
  ASSERT_STREQ(remark, "Check signature failed for accessKey=RocketMQ");
  ASSERT_OK(send_v2(BR.port, "TopicPub", "RocketMQ", "12345678", T_NO_SIG, &code, remark));
  ASSERT_EQ(code, TERN_RESP_NO_PERMISSION);
  ASSERT_STREQ(remark, "Check signature failed for accessKey=RocketMQ");
  ASSERT_OK(send_v2(BR.port, "TopicPub", "RocketMQ", "12345678", T_BODY, &code, remark));
  ASSERT_EQ(code, TERN_RESP_NO_PERMISSION);
  ASSERT_OK(send_v2(BR.port, "TopicPub", "RocketMQ", "12345678", T_EXT, &code, remark));
  ASSERT_EQ(code, TERN_RESP_NO_PERMISSION);
  ASSERT_STREQ(remark, "Check signature failed for accessKey=RocketMQ");
  ASSERT_OK(send_v2(BR.port, "TopicPub", "nobody12", "12345678", T_NONE, &code, remark));
  ASSERT_EQ(code, TERN_RESP_NO_PERMISSION);
  ASSERT_STREQ(remark, "No acl config for nobody12");
  ASSERT_OK(send_v2(BR.port, "TopicPub", NULL, NULL, T_NONE, &code, remark));
  ASSERT_EQ(code, TERN_RESP_NO_PERMISSION);
  ASSERT_STREQ(remark, "No accessKey is configured");
  /* a request with no extFields at all */
  ASSERT_OK(call(BR.port, TERN_REQ_GET_BROKER_RUNTIME_INFO, NULL, NULL, NULL, NULL, T_NONE, &code, remark, 256));
  ASSERT_EQ(code, TERN_RESP_NO_PERMISSION);
  /* signed, it passes (authentication only) */
  ASSERT_OK(call(BR.port, TERN_REQ_GET_BROKER_RUNTIME_INFO, NULL, NULL, "RocketMQ", "12345678", T_NONE, &code, remark,
                 256));
  ASSERT_EQ(code, TERN_RESP_SUCCESS);
}

TEST(broker_checks_permissions) {
  int32_t code = -1;
  char remark[256];
  const char *topic_kv[] = {"topic", "TopicAclNew", "defaultTopic", "TBW102", "readQueueNums", "4",
                            "writeQueueNums", "4", "perm", "6", "topicFilterType", "SINGLE_TAG", NULL};
  const char *pull_kv[] = {"consumerGroup", "GroupDeny", "topic", "TopicPub", "queueId", "0", "queueOffset", "0",
                           "maxMsgNums", "1", "sysFlag", "0", "commitOffset", "0", "suspendTimeoutMillis", "0",
                           "subscription", "*", "subVersion", "0", NULL};
  ASSERT(up());
  ASSERT_OK(send_v2(BR.port, "TopicSubOnly", "RocketMQ", "12345678", T_NONE, &code, remark));
  ASSERT_EQ(code, TERN_RESP_NO_PERMISSION);
  ASSERT_STREQ(remark, "No default permission for topic:TopicSubOnly");
  ASSERT_OK(send_v2(BR.port, "TopicOther", "RocketMQ", "12345678", T_NONE, &code, remark)); /* defaultTopicPerm DENY */
  ASSERT_EQ(code, TERN_RESP_NO_PERMISSION);
  ASSERT_STREQ(remark, "No default permission for topic:TopicOther");
  ASSERT_OK(call(BR.port, TERN_REQ_PULL_MESSAGE, pull_kv, NULL, "RocketMQ", "12345678", T_NONE, &code, remark, 256));
  ASSERT_EQ(code, TERN_RESP_NO_PERMISSION);
  ASSERT_STREQ(remark, "No default permission for group:GroupDeny");
  pull_kv[1] = "GroupOk"; /* defaultGroupPerm SUB, TopicPub has SUB */
  ASSERT_OK(call(BR.port, TERN_REQ_PULL_MESSAGE, pull_kv, NULL, "RocketMQ", "12345678", T_NONE, &code, remark, 256));
  ASSERT(code != TERN_RESP_NO_PERMISSION);
  /* admin codes */
  ASSERT_OK(call(BR.port, TERN_REQ_UPDATE_AND_CREATE_TOPIC, topic_kv, NULL, "RocketMQ", "12345678", T_NONE, &code,
                 remark, 256));
  ASSERT_EQ(code, TERN_RESP_NO_PERMISSION);
  ASSERT_STREQ(remark, "Need admin permission for request code=17, but accessKey=RocketMQ is not");
  ASSERT_OK(call(BR.port, TERN_REQ_UPDATE_AND_CREATE_TOPIC, topic_kv, NULL, "rocketmq2", "87654321", T_NONE, &code,
                 remark, 256));
  ASSERT_EQ(code, TERN_RESP_SUCCESS);
  /* a heartbeat body that does not decode is refused before anything else */
  ASSERT_OK(call(BR.port, TERN_REQ_HEART_BEAT, NULL, "{not json", "RocketMQ", "12345678", T_NONE, &code, remark, 256));
  ASSERT_EQ(code, TERN_RESP_NO_PERMISSION);
  ASSERT(strstr(remark, "heartbeat body") != NULL);
  ASSERT_OK(call(BR.port, TERN_REQ_HEART_BEAT, NULL,
                 "{\"clientID\":\"c1\",\"consumerDataSet\":[{\"groupName\":\"GroupDeny\",\"subscriptionDataSet\":[]}],"
                 "\"producerDataSet\":[]}",
                 "RocketMQ", "12345678", T_NONE, &code, remark, 256));
  ASSERT_EQ(code, TERN_RESP_NO_PERMISSION);
  ASSERT_STREQ(remark, "No default permission for group:GroupDeny");
}

TEST(broker_white_lists) {
  int32_t code = -1;
  char remark[256];
  ASSERT(up());
  /* 127.0.0.1 is this account's whiteRemoteAddress: no signature check (nor permission check, as 4.9) */
  ASSERT_OK(send_v2(BR.port, "TopicWhite", "whitelisted", "not-its-secret", T_NONE, &code, remark));
  ASSERT_EQ(code, TERN_RESP_SUCCESS);
  /* outside rocketmq2's white list (192.168.1.*): the signature counts */
  ASSERT_OK(send_v2(BR.port, "TopicPub", "rocketmq2", "not-its-secret", T_NONE, &code, remark));
  ASSERT_EQ(code, TERN_RESP_NO_PERMISSION);
  ASSERT_STREQ(remark, "Check signature failed for accessKey=rocketmq2");
}

TEST(broker_reloads_changed_file) {
  int32_t code = -1;
  char remark[256], text[2048];
  double t0;
  ASSERT(up());
  ASSERT_OK(send_v2(BR.port, "TopicPub", NULL, NULL, T_NONE, &code, remark));
  ASSERT_EQ(code, TERN_RESP_NO_PERMISSION);
  /* a broken edit keeps the accounts in force */
  ASSERT(write_file(YML, "accounts: [\n"));
  usleep(600 * 1000);
  ASSERT_OK(send_v2(BR.port, "TopicPub", "RocketMQ", "12345678", T_NONE, &code, remark));
  ASSERT_EQ(code, TERN_RESP_SUCCESS);
  /* 127.0.0.1 becomes globally white: unsigned requests pass once the file is reloaded */
  snprintf(text, sizeof text, "globalWhiteRemoteAddresses:\n  - 127.0.0.1\n%s", strstr(ACL_YML, "accounts:"));
  ASSERT(write_file(YML, text));
  t0 = tern_fixture_now_ms();
  do {
    usleep(100 * 1000);
    ASSERT_OK(send_v2(BR.port, "TopicPub", NULL, NULL, T_NONE, &code, remark));
  } while (code != TERN_RESP_SUCCESS && tern_fixture_now_ms() - t0 < 5000);
  ASSERT_EQ(code, TERN_RESP_SUCCESS);
  ASSERT(write_file(YML, ACL_YML)); /* back, for the other cases */
  t0 = tern_fixture_now_ms();
  do {
    usleep(100 * 1000);
    ASSERT_OK(send_v2(BR.port, "TopicPub", NULL, NULL, T_NONE, &code, remark));
  } while (code == TERN_RESP_SUCCESS && tern_fixture_now_ms() - t0 < 5000);
  ASSERT_EQ(code, TERN_RESP_NO_PERMISSION);
}

TEST(broker_without_acl_is_unchanged_and_bad_file_stops_it) {
  tern_fixture_proc_t br;
  int32_t code = -1;
  char remark[256], extra[512];
  ASSERT(up());
  memset(&br, 0, sizeof br);
  snprintf(extra, sizeof extra, "aclFile=%s\n", YML); /* aclEnable defaults to false */
  ASSERT_OK(tern_fixture_broker_start(&br, NULL, 0, extra));
  ASSERT_OK(send_v2(br.port, "TopicOther", NULL, NULL, T_NONE, &code, remark));
  ASSERT_EQ(code, TERN_RESP_SUCCESS);
  ASSERT_OK(send_v2(br.port, "TopicOther", "RocketMQ", "wrong-secret", T_NONE, &code, remark));
  ASSERT_EQ(code, TERN_RESP_SUCCESS);
  ASSERT_EQ(tern_fixture_stop(&br, 0), 0);
  /* aclEnable with a file that does not exist: mqbroker refuses to start */
  memset(&br, 0, sizeof br);
  snprintf(extra, sizeof extra, "aclEnable=true\naclFile=%s/missing.yml\n", DIR_);
  fprintf(stderr, "  (a start failure is expected next)\n");
  ASSERT(tern_fixture_broker_start(&br, NULL, 0, extra) != 0);
}

/* Last (cases run in file order): the ACL broker exits 0 on SIGTERM (under ASan: no leak, no error). */
TEST(zz_acl_broker_stops_cleanly) {
  ASSERT(up());
  ASSERT_EQ(tern_fixture_stop(&BR, 0), 0);
  memset(&BR, 0, sizeof BR);
}
