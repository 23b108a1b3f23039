/* mqbroker: reads the configuration (-c file, -n name servers, -p/-m print,
 * RocketMQ's keys), opens the store, listens on listenPort and listenPort-2,
 * registers with the name servers and serves until SIGINT/SIGTERM, then
 * unregisters, drains, persists and exits 0. The "boot success" line on
 * stdout (printed after the first registration round) names the bound ports,
 * so a supervisor or a test using listenPort=0 learns them. */
#include <stdio.h>
#include <stdlib.h>

#include "broker/broker.h"
#include "broker/acl/broker_acl.h" /* ACL 1.0: aclEnable, aclFile, aclReloadIntervalMs */
#include "conformance/strict.h" /* strict mode (conformance suite) */
#include "broker/clients.h" /* client-management keys (channelExpiredTimeoutMills, ...) */
#include "broker/ha/ha.h"     /* HA keys (haListenPort, haMasterAddress, slaveReadEnable, ...) */
#include "broker/transaction.h" /* transactionTimeOut, transactionCheckMax, transactionCheckInterval */
#include "runtime/log.h"

typedef struct app {
  tern_broker_t b;
  tern_loop_t loop;
  tern_strict_conf_t strict_conf; /* strictMode / --strict */
  tern_strict_t strict;
} app_t;

static void on_stopped(tern_broker_t *b) { tern_loop_stop(b->loop); }

static void on_registered(tern_broker_t *b) {
  printf("The broker[%s, %s] boot success. serializeType=JSON and name server is %s, listening on %s:%d and %s:%d\n",
         b->conf.broker_name, b->store_host, b->conf.namesrv_addr ? b->conf.namesrv_addr : "(none)",
         b->conf.bind_address, tern_broker_port(b, 0), b->conf.bind_address, tern_broker_port(b, 1));
  fflush(stdout);
}

static void on_signal(tern_loop_t *l, int signum, void *arg) {
  app_t *a = arg;
  TERN_UNUSED(l);
  tern_info("broker: signal %d, shutting down", signum);
  tern_broker_acl_stop();
  tern_broker_stop(&a->b);
}

int main(int argc, char **argv) {
  static app_t a; /* large: keep it off the stack */
  tern_config_t cfg;
  tern_net_opts_t net;
  tern_err_t err = {0};
  int rc, lvl;

  /* SIGPIPE: ignored by tern_loop_init (runtime/loop.h), as in every process with a loop. */
  tern_config_init(&cfg, "mqbroker");
  if (tern_config_add(&cfg, tern_broker_conf_items, tern_broker_conf_n_items, &a.b.conf) ||
      tern_config_add(&cfg, tern_net_cfg_items, tern_net_cfg_count, &net) ||
      tern_broker_clients_conf_add(&cfg) || tern_broker_trans_conf_add(&cfg) || tern_broker_ha_conf_add(&cfg) ||
      tern_broker_acl_conf_add(&cfg) ||
      tern_config_add(&cfg, tern_strict_cfg_items, tern_strict_cfg_count, &a.strict_conf)) {
    fprintf(stderr, "mqbroker: %s\n", cfg.errmsg);
    return 1;
  }
  bool strict_flag = tern_strict_take_flag(&argc, argv); /* --strict: tern_config_main does not know it */
  rc = tern_config_main(&cfg, argc, argv, stdout);
  if (strict_flag) a.strict_conf.strict_mode = true;
  if (rc == TERN_CONFIG_EXIT) return 0;
  if (rc < 0) return 1;
  lvl = tern_log_level_parse(a.b.conf.log_level ? a.b.conf.log_level : "info");
  if (lvl < 0) {
    fprintf(stderr, "mqbroker: logLevel: unknown level '%s'\n", a.b.conf.log_level);
    return 1;
  }
  tern_log_set_level((tern_log_level_t)lvl);
  if (a.b.conf.listen_port < 0 || a.b.conf.listen_port > 65535 || a.b.conf.max_message_size <= 0 ||
      a.b.conf.default_topic_queue_nums <= 0) {
    fprintf(stderr, "mqbroker: listenPort must be within 0..65535, maxMessageSize and defaultTopicQueueNums > 0\n");
    return 1;
  }
  if (a.b.conf.namesrv_addr && *a.b.conf.namesrv_addr) {
    char why[256];
    if (tern_config_check_addr_list(a.b.conf.namesrv_addr, why, sizeof why)) {
      fprintf(stderr, "mqbroker: namesrvAddr: %s\n", why);
      return 1;
    }
  }
  if (tern_broker_acl_load(&err)) { /* aclEnable: plain_acl.yml must load before anything starts */
    fprintf(stderr, "mqbroker: %s\n", err.reason);
    return 1;
  }
  if (tern_loop_init(&a.loop, NULL, &net) != 0) {
    fprintf(stderr, "mqbroker: cannot create the event loop\n");
    return 1;
  }
  a.b.loop = &a.loop;
  a.b.cfg = &cfg;
  a.b.on_stopped = on_stopped;
  a.b.on_registered = on_registered;
  rc = tern_broker_init(&a.b, &err);
  if (rc) {
    fprintf(stderr, "mqbroker: %s (%s%s%s)\n", err.reason ? err.reason : tern_strerror(rc), tern_errname(rc),
            err.field ? ", " : "", err.field ? err.field : "");
    tern_broker_free(&a.b);
    return 1;
  }
  rc = tern_broker_start(&a.b, &err);
  if (rc) {
    fprintf(stderr, "mqbroker: %s (%s)\n", err.reason ? err.reason : tern_strerror(rc), tern_errname(rc));
    tern_broker_free(&a.b);
    return 1;
  }
  tern_broker_acl_install(&a.b); /* after start: the server exists, nothing accepted yet */
  if (a.strict_conf.strict_mode) { /* after start: the server is initialised, nothing accepted yet */
    tern_strict_init(&a.strict, TERN_ROLE_BROKER, "broker");
    tern_server_set_inspector(&a.b.server, tern_strict_inspect, &a.strict);
    tern_warn("broker: strict mode: every request is checked against the spec (conformance/strict.h)");
  }
  tern_loop_on_signals(&a.loop, on_signal, &a);
  tern_loop_run(&a.loop);
  tern_loop_signals_off(&a.loop);
  tern_loop_close(&a.loop);
  tern_broker_free(&a.b);
  tern_broker_acl_free();
  tern_config_free(&cfg);
  if (a.strict_conf.strict_mode) tern_strict_free(&a.strict);
  return 0;
}
