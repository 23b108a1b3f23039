/* mqadmin against a real name server and broker: every subcommand is run as
 * a process and its output checked for what it must show. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ct_env.h"
#include "proc_fixture.h"
#include "tern/consumer.h"
#include "tern_test.h"

static char out[65536];

static int on_any(void *arg, tern_rmsg_t *const *msgs, size_t n) {
  TERN_UNUSED(arg), TERN_UNUSED(msgs), TERN_UNUSED(n);
  return TERN_CONSUME_SUCCESS;
}

/* Runs mqadmin with the arguments fmt makes (split at spaces: no argument
 * holds one) through tern_fixture_run; returns its exit status (-1 when it
 * could not be run), stdout and stderr in out. */
static int adm(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int adm(const char *fmt, ...) {
  char bin[1024], args[768], *save = NULL, *tok;
  const char *argv[32];
  const char *dir = getenv("TERN_BINARY_DIR");
  int argc = 0;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(args, sizeof args, fmt, ap);
  va_end(ap);
  snprintf(bin, sizeof bin, "%s/tools/mqadmin", dir && *dir ? dir : ".");
  argv[argc++] = "mqadmin";
  for (tok = strtok_r(args, " ", &save); tok && argc < 31; tok = strtok_r(NULL, " ", &save)) argv[argc++] = tok;
  argv[argc] = NULL;
  return tern_fixture_run(bin, (const char *const *)argv, out, sizeof out);
}

TEST(mqadmin_subcommands) {
  ct_env_t env;
  char *p, id[64];
  ASSERT_OK(ct_env_start(&env, 1, NULL));
  ASSERT_OK(adm("updateTopic -b %s -t AdmTopic -r 3 -w 3 -n %s", env.br_addr[0], env.ns_addr));
  ASSERT(strstr(out, "create topic to") != NULL);
  ASSERT_OK(ct_wait_route(&env, "AdmTopic", 1));
  ASSERT_OK(adm("topicList -n %s", env.ns_addr));
  ASSERT(strstr(out, "AdmTopic\n") != NULL);
  ASSERT_OK(adm("topicRoute -n %s -t AdmTopic", env.ns_addr));
  ASSERT(strstr(out, "\"writeQueueNums\":3") != NULL || strstr(out, "\"writeQueueNums\": 3") != NULL);
  ASSERT_OK(adm("clusterList -n %s", env.ns_addr));
  ASSERT(strstr(out, "TernCluster") && strstr(out, "broker-a"));
  ASSERT_OK(adm("sendMessage -n %s -t AdmTopic -p hello-admin -k key-adm -c TagAdm", env.ns_addr));
  ASSERT(strstr(out, "SEND_OK") != NULL);
  ASSERT_OK(adm("topicStatus -n %s -t AdmTopic", env.ns_addr));
  ASSERT(strstr(out, "broker-a") != NULL);
  ASSERT_OK(adm("consumeMessage -n %s -t AdmTopic", env.ns_addr));
  ASSERT(strstr(out, "Body: hello-admin") != NULL);
  ASSERT_OK(adm("queryMsgByKey -n %s -t AdmTopic -k key-adm", env.ns_addr));
  ASSERT(strstr(out, "#Message ID") != NULL);
  ASSERT_OK(adm("queryMsgByOffset -n %s -t AdmTopic -b broker-a -i 0 -o 0", env.ns_addr));
  /* queue 0 may be empty (the send picked any queue): accept either answer, but the tool must run */
  ASSERT_OK(adm("brokerStatus -b %s", env.br_addr[0]));
  ASSERT(strstr(out, ":") != NULL);
  ASSERT_OK(adm("getBrokerConfig -b %s", env.br_addr[0]));
  ASSERT(strstr(out, "brokerName") != NULL);
  ASSERT_OK(adm("updateBrokerConfig -b %s -k fileReservedTime -v 48", env.br_addr[0]));
  ASSERT_OK(adm("getBrokerConfig -b %s", env.br_addr[0]));
  p = strstr(out, "fileReservedTime");
  ASSERT(p && strstr(p, "48"));
  ASSERT_OK(adm("updateSubGroup -b %s -g GID_adm -q 5", env.br_addr[0]));
  ASSERT(strstr(out, "\"retryMaxTimes\":5") != NULL);
  /* queryMsgById takes the offset id printed by consumeMessage's broker: take it from topicStatus-independent view */
  {
    tern_client_conf_t conf;
    tern_pull_consumer_t *c;
    tern_mq_t *mqs;
    int n, i;
    id[0] = 0;
    ct_conf(&env, &conf, "GID_adm_pull");
    c = tern_pull_consumer_new(&conf);
    ASSERT_OK(tern_pull_consumer_start(c));
    ASSERT_OK(tern_pull_consumer_fetch_queues(c, "AdmTopic", &mqs, &n));
    for (i = 0; i < n && !id[0]; i++) {
      tern_pull_result_t *r = NULL;
      if (tern_pull_consumer_pull(c, &mqs[i], "*", 0, 1, &r, NULL) == 0 && r->n == 1)
        snprintf(id, sizeof id, "%s", r->msgs[0]->offset_msg_id);
      tern_pull_result_free(r);
    }
    free(mqs);
    tern_pull_consumer_shutdown(c);
  }
  ASSERT(id[0] != 0);
  ASSERT_OK(adm("queryMsgById -n %s -i %s", env.ns_addr, id));
  ASSERT(strstr(out, "hello-admin") && strstr(out, "TagAdm"));
  ASSERT_OK(adm("consumerProgress -n %s -g GID_adm_pull", env.ns_addr));
  ASSERT(strstr(out, "Diff Total") != NULL);
  /* a live push consumer shows up with its client id and subscription */
  {
    tern_client_conf_t conf;
    tern_push_consumer_t *pc;
    int t;
    ct_conf(&env, &conf, "GID_adm_push");
    pc = tern_push_consumer_new(&conf);
    ASSERT_OK(tern_push_consumer_subscribe(pc, "AdmTopic", "TagAdm || TagX"));
    tern_push_consumer_set_listener(pc, on_any, NULL, false);
    ASSERT_OK(tern_push_consumer_start(pc));
    for (t = 0; t < 50; t++) {
      if (adm("consumerConnection -n %s -g GID_adm_push", env.ns_addr) == 0 &&
          strstr(out, tern_push_consumer_client_id(pc)))
        break;
      ct_sleep_ms(100);
    }
    ASSERT(strstr(out, tern_push_consumer_client_id(pc)) != NULL);
    ASSERT(strstr(out, "TagAdm || TagX") != NULL);
    ASSERT(strstr(out, "CLUSTERING") != NULL);
    tern_push_consumer_shutdown(pc);
  }
  ASSERT(adm("noSuchCommand") != 0);
  ASSERT_OK(adm("deleteTopic -n %s -c TernCluster -t AdmTopic", env.ns_addr));
  ASSERT(strstr(out, "success") != NULL);
  ct_env_stop(&env);
}
