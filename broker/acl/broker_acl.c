/* ACL 1.0 wiring for mqbroker: config keys, the server guard, file reload.
 * See broker_acl.h. Loop-thread only after tern_broker_acl_start. */
#include "broker/acl/broker_acl.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "broker/acl/acl.h"
#include "gen/codes.h"
#include "runtime/log.h"

tern_broker_acl_conf_t tern_broker_acl_conf;

#define C tern_broker_acl_conf_t
const tern_cfg_item_t tern_broker_acl_conf_items[] = {
    TERN_CFG_BOOL(C, acl_enable, "aclEnable", "false", true, "check ACL 1.0 signatures and permissions (plain_acl.yml)"),
    TERN_CFG_STR(C, acl_file, "aclFile", NULL, false,
                 "plain_acl.yml path (default $ROCKETMQ_HOME/conf/plain_acl.yml, else conf/plain_acl.yml)"),
    TERN_CFG_INT(C, acl_reload_interval_ms, "aclReloadIntervalMs", "1000", false,
                 "ms between checks of the ACL file for changes (0: never)"),
};
#undef C
const size_t tern_broker_acl_conf_n_items = TERN_ARRAY_SIZE(tern_broker_acl_conf_items);

int tern_broker_acl_conf_add(tern_config_t *cfg) {
  return tern_config_add(cfg, tern_broker_acl_conf_items, tern_broker_acl_conf_n_items, &tern_broker_acl_conf);
}

static struct {
  tern_acl_t *acl;
  char path[1024];
  struct stat st; /* of the file loaded (size, mtime, inode) */
  bool have_st, timer_on;
  uv_timer_t timer;
  tern_arena_t arena; /* heartbeat bodies, reset per request */
} S;

static bool guard(void *ctx, tern_conn_t *c, const tern_cmd_t *req) {
  char remark[384];
  TERN_UNUSED(ctx);
  tern_arena_reset(&S.arena);
  if (tern_acl_check(S.acl, tern_conn_peer(c), req, &S.arena, remark, sizeof remark) == 0) return true;
  tern_info("acl: refused request code %d from %s: %s", (int)req->code, tern_conn_peer(c), remark);
  tern_conn_reply_error(c, req, TERN_RESP_NO_PERMISSION, remark);
  return false;
}

static bool same_file(const struct stat *a, const struct stat *b) {
  return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
         a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static void on_reload_timer(uv_timer_t *t) {
  struct stat st;
  tern_acl_t *n;
  char why[512];
  TERN_UNUSED(t);
  if (stat(S.path, &st) != 0) return; /* gone for now (an editor's rename): keep what is in force */
  if (S.have_st && same_file(&st, &S.st)) return;
  S.st = st;
  S.have_st = true;
  if (tern_acl_load_file(S.path, &n, why, sizeof why)) {
    tern_warn("acl: %s changed but is not valid, the former accounts stay in force: %s", S.path, why);
    return;
  }
  tern_acl_free(S.acl);
  S.acl = n;
  tern_info("acl: reloaded %s (%zu accounts)", S.path, tern_acl_account_count(n));
}

int tern_broker_acl_load(tern_err_t *err) {
  const tern_broker_acl_conf_t *cf = &tern_broker_acl_conf;
  static char why[1700];
  char w[512];
  int rc;
  if (!cf->acl_enable) return 0;
  if (cf->acl_file && *cf->acl_file) {
    snprintf(S.path, sizeof S.path, "%s", cf->acl_file);
  } else {
    const char *home = getenv("ROCKETMQ_HOME");
    snprintf(S.path, sizeof S.path, "%s%sconf/plain_acl.yml", home && *home ? home : "", home && *home ? "/" : "");
  }
  S.have_st = stat(S.path, &S.st) == 0;
  if ((rc = tern_acl_load_file(S.path, &S.acl, w, sizeof w))) {
    snprintf(why, sizeof why, "aclEnable: %s: %s", S.path, w);
    return tern_fail(err, rc, why, "aclFile", 0);
  }
  tern_arena_init(&S.arena, (size_t)16 << 20, NULL, 0);
  tern_info("acl: enabled, %zu accounts from %s", tern_acl_account_count(S.acl), S.path);
  return 0;
}

void tern_broker_acl_install(tern_broker_t *b) {
  const tern_broker_acl_conf_t *cf = &tern_broker_acl_conf;
  if (!S.acl) return;
  tern_server_set_guard(&b->server, guard, NULL);
  if (cf->acl_reload_interval_ms > 0) {
    uv_timer_init(b->loop->uv, &S.timer);
    uv_timer_start(&S.timer, on_reload_timer, (uint64_t)cf->acl_reload_interval_ms,
                   (uint64_t)cf->acl_reload_interval_ms);
    uv_unref((uv_handle_t *)&S.timer);
    S.timer_on = true;
  }
}

void tern_broker_acl_stop(void) {
  if (!S.timer_on) return;
  S.timer_on = false;
  uv_timer_stop(&S.timer);
  uv_close((uv_handle_t *)&S.timer, NULL);
}

void tern_broker_acl_free(void) {
  tern_acl_free(S.acl);
  S.acl = NULL;
  tern_arena_free(&S.arena);
}
