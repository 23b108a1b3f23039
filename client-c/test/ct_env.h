/* Client test fixture (ct_env.c): servers started with runtime/test/proc_fixture.h. */
#ifndef TERN_CLIENT_TEST_CT_ENV_H
#define TERN_CLIENT_TEST_CT_ENV_H

#include "bt.h"
#include "proc_fixture.h"
#include "tern/client.h"

#define CT_MAX_BROKERS 2

typedef struct ct_env {
  tern_fixture_proc_t ns;
  char ns_addr[64];
  tern_fixture_proc_t br[CT_MAX_BROKERS];
  char br_addr[CT_MAX_BROKERS][64];
  int nbr;
} ct_env_t;

/* Name server plus nbrokers brokers broker-a, broker-b (cluster TernCluster). */
int ct_env_start(ct_env_t *e, int nbrokers, const char *extra_conf);
void ct_env_stop(ct_env_t *e);
/* Stops broker i alone (SIGTERM, wait); its status, or -1. */
int ct_broker_stop(ct_env_t *e, int i);
/* Defaults with fast timers (heartbeat/rebalance 2 s, persist 1 s). */
void ct_conf(const ct_env_t *e, tern_client_conf_t *c, const char *group);
/* UPDATE_AND_CREATE_TOPIC on every running broker, then waits for the route. */
int ct_create_topic(const ct_env_t *e, const char *topic, int queues);
int ct_wait_route(const ct_env_t *e, const char *topic, int nbrokers);
void ct_sleep_ms(int ms);

#endif
