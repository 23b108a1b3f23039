/* ACL 1.0 in mqbroker: the config keys, loading plain_acl.yml, the guard on
 * the broker's server (listenPort and listenPort-2) that answers a refused
 * request NO_PERMISSION (16) with 4.9's exception text as remark, and the
 * reload when the file changes. One broker per process (state is static, as
 * for the HA keys). Keys:
 *   aclEnable=false              4.9's switch
 *   aclFile=<path>               Tern's: the plain_acl.yml (4.9 has the system property
 *                                rocketmq.acl.plain.file, relative to ROCKETMQ_HOME); default
 *                                $ROCKETMQ_HOME/conf/plain_acl.yml, else conf/plain_acl.yml
 *   aclReloadIntervalMs=1000     Tern's: how often the file is checked for changes (0: never)
 * A file that is missing or invalid at start stops the broker; a bad edit
 * while running keeps the accounts in force and logs why. */
#ifndef TERN_BROKER_ACL_BROKER_ACL_H
#define TERN_BROKER_ACL_BROKER_ACL_H

#include "broker/broker.h"

typedef struct tern_broker_acl_conf {
  bool acl_enable;
  const char *acl_file;
  int32_t acl_reload_interval_ms;
} tern_broker_acl_conf_t;

extern tern_broker_acl_conf_t tern_broker_acl_conf;
extern const tern_cfg_item_t tern_broker_acl_conf_items[];
extern const size_t tern_broker_acl_conf_n_items;

int tern_broker_acl_conf_add(tern_config_t *cfg);
/* With aclEnable, loads the file (before the broker starts, so a bad file
 * stops mqbroker before it registers anywhere). 0, or an error with
 * err->reason naming the file and the problem. Nothing without aclEnable. */
int tern_broker_acl_load(tern_err_t *err);
/* After tern_broker_start and before the loop runs: installs the guard on
 * b->server and starts the reload timer (when loaded). */
void tern_broker_acl_install(tern_broker_t *b);
/* Stops the reload timer (call on shutdown, before the loop ends). */
void tern_broker_acl_stop(void);
/* Frees the accounts (after the loop closed). */
void tern_broker_acl_free(void);

#endif
