/* mqnamesrv: reads the configuration (-c file, -p/-m print, RocketMQ's keys),
 * loads the KV config, listens (9876 by default), expires silent brokers on a
 * timer and answers requests until SIGINT/SIGTERM, then closes gracefully and
 * exits 0. The "boot success" line on stdout names the bound address, so a
 * supervisor (or a test using listenPort=0) learns the port. */
#include <stdio.h>
#include <stdlib.h>

#include "conformance/strict.h" /* strict mode (conformance suite) */
#include "namesrv/namesrv.h"
#include "runtime/clock.h"
#include "runtime/log.h"
#include "runtime/server.h"

typedef struct app {
  tern_namesrv_t ns;
  tern_loop_t loop;
  tern_server_t server;
  uv_timer_t scan;
  bool stopping;
  tern_strict_conf_t strict_conf; /* strictMode / --strict */
  tern_strict_t strict;
} app_t;

static void on_scan(uv_timer_t *t) {
  app_t *a = t->data;
  int n = tern_namesrv_scan(&a->ns, (int64_t)tern_clock_now_ms());
  if (n > 0) tern_info("namesrv: expiry scan removed %d broker(s)", n);
}

static void on_server_closed(tern_server_t *s) {
  app_t *a = s->data;
  tern_loop_stop(&a->loop);
}

static void on_signal(tern_loop_t *l, int signum, void *arg) {
  app_t *a = arg;
  TERN_UNUSED(l);
  if (a->stopping) return;
  a->stopping = true;
  tern_info("namesrv: signal %d, shutting down", signum);
  uv_timer_stop(&a->scan);
  tern_server_close(&a->server, on_server_closed);
}

int main(int argc, char **argv) {
  static app_t a; /* large (loop scratch): keep it off the stack */
  tern_config_t cfg;
  tern_net_opts_t net;
  tern_err_t err = {0};
  int rc, lvl;
  uint64_t first;

  /* SIGPIPE: ignored by tern_loop_init (runtime/loop.h), as in every process with a loop. */
  tern_config_init(&cfg, "mqnamesrv");
  if (tern_config_add(&cfg, tern_namesrv_conf_items, tern_namesrv_conf_n_items, &a.ns.conf) ||
      tern_config_add(&cfg, tern_net_cfg_items, tern_net_cfg_count, &net) ||
      tern_config_add(&cfg, tern_strict_cfg_items, tern_strict_cfg_count, &a.strict_conf)) {
    fprintf(stderr, "mqnamesrv: %s\n", cfg.errmsg);
    return 1;
  }
  bool strict_flag = tern_strict_take_flag(&argc, argv); /* --strict: tern_config_main does not know it */
  rc = tern_config_main(&cfg, argc, argv, stdout);
  if (strict_flag) a.strict_conf.strict_mode = true;
  if (rc == TERN_CONFIG_EXIT) return 0;
  if (rc < 0) return 1;
  lvl = tern_log_level_parse(a.ns.conf.log_level ? a.ns.conf.log_level : "info");
  if (lvl < 0) {
    fprintf(stderr, "mqnamesrv: logLevel: unknown level '%s'\n", a.ns.conf.log_level);
    return 1;
  }
  tern_log_set_level((tern_log_level_t)lvl);
  if (a.ns.conf.scan_interval_ms <= 0 || a.ns.conf.listen_port < 0 || a.ns.conf.listen_port > 65535) {
    fprintf(stderr, "mqnamesrv: scanNotActiveBrokerInterval must be > 0 and listenPort within 0..65535\n");
    return 1;
  }

  if (tern_loop_init(&a.loop, NULL, &net) != 0) {
    fprintf(stderr, "mqnamesrv: cannot create the event loop\n");
    return 1;
  }
  a.ns.loop = &a.loop;
  a.ns.cfg = &cfg;
  rc = tern_namesrv_init(&a.ns, &err);
  if (rc) {
    fprintf(stderr, "mqnamesrv: %s: %s (%s at byte %zu)\n", a.ns.kv.path ? a.ns.kv.path : "kvConfig",
            err.reason ? err.reason : tern_strerror(rc), tern_errname(rc), err.pos);
    return 1;
  }
  tern_server_init(&a.server, &a.loop, tern_namesrv_handle, &a.ns);
  if (a.strict_conf.strict_mode) {
    tern_strict_init(&a.strict, TERN_ROLE_NAMESRV, "namesrv");
    tern_server_set_inspector(&a.server, tern_strict_inspect, &a.strict);
    tern_warn("namesrv: strict mode: every request is checked against the spec (conformance/strict.h)");
  }
  a.server.on_conn_close = tern_namesrv_on_close;
  a.server.data = &a;
  rc = tern_server_listen(&a.server, a.ns.conf.bind_address, a.ns.conf.listen_port);
  if (rc) {
    fprintf(stderr, "mqnamesrv: cannot listen on %s:%d: %s\n", a.ns.conf.bind_address, a.ns.conf.listen_port,
            tern_strerror(rc));
    return 1;
  }
  /* RocketMQ 4.9 scans first after 5 s, then every interval. */
  uv_timer_init(a.loop.uv, &a.scan);
  a.scan.data = &a;
  first = a.ns.conf.scan_interval_ms < 5000 ? (uint64_t)a.ns.conf.scan_interval_ms : 5000;
  uv_timer_start(&a.scan, on_scan, first, (uint64_t)a.ns.conf.scan_interval_ms);
  tern_loop_on_signals(&a.loop, on_signal, &a);

  printf("The Name Server boot success. serializeType=JSON, listening on %s:%d\n", a.ns.conf.bind_address,
         tern_server_port(&a.server, 0));
  fflush(stdout);

  tern_loop_run(&a.loop);

  tern_namesrv_stop(&a.ns);
  tern_loop_signals_off(&a.loop);
  uv_close((uv_handle_t *)&a.scan, NULL);
  tern_loop_close(&a.loop);
  tern_namesrv_free(&a.ns);
  tern_config_free(&cfg);
  if (a.strict_conf.strict_mode) tern_strict_free(&a.strict);
  return 0;
}
