/* Master–slave replication, RocketMQ 4.x DefaultHAService (reference §8.10,
 * §8.11): masters accept slaves on the HA port and stream commit-log bytes to
 * them; slaves connect to their master, append those bytes at the master's
 * physical offsets, report their max offset, and copy the master's metadata
 * every 10 s. SYNC_MASTER send replies wait for a slave's acknowledgement.
 * Everything runs on the broker's loop thread (see broker/ha/README.md).
 * The broker core calls the hooks below; each is a no-op for roles it does
 * not concern. */
#ifndef TERN_BROKER_HA_H
#define TERN_BROKER_HA_H

#include "broker/broker.h"

/* Settings (keys read from broker.conf like the core's). */
typedef struct tern_broker_ha_conf {
  int32_t ha_listen_port;            /* haListenPort: 0 = listenPort+1 (a free port when listenPort=0) */
  const char *ha_master_address;     /* haMasterAddress "ip:port" of the master's HA port (slave); NULL: from
                                        the name server's REGISTER_BROKER reply (haServerAddr) */
  int32_t ha_send_heartbeat_interval; /* haSendHeartbeatInterval ms, 5000 */
  int32_t ha_housekeeping_interval;   /* haHousekeepingInterval ms, 20000 */
  int32_t ha_transfer_batch_size;     /* haTransferBatchSize bytes, 32768 */
  int64_t ha_slave_fallbehind_max;    /* haSlaveFallbehindMax bytes, 268435456 */
  bool slave_read_enable;             /* slaveReadEnable, false */
  int32_t slave_sync_interval;        /* slaveSyncInterval (Tern) ms between metadata copies, 10000 */
} tern_broker_ha_conf_t;

extern const tern_cfg_item_t tern_broker_ha_conf_items[];
extern const size_t tern_broker_ha_conf_n_items;
extern tern_broker_ha_conf_t tern_broker_ha_conf;
/* Registers the table above with the broker's config registry (main.c). */
int tern_broker_ha_conf_add(tern_config_t *cfg);

/* brokerRole=SLAVE (valid before tern_broker_init, from b->conf). */
bool tern_broker_ha_role_slave(const tern_broker_t *b);
/* Installs the GET_ALL_DELAY_OFFSET handler when no one else did (tern_broker_init). */
void tern_broker_ha_install(tern_broker_t *b, tern_broker_handlers_t *h);
/* Starts HA after the remoting server listens (before the first registration):
 * the HA listener, the slave's client and metadata sync, the timers. */
int tern_broker_ha_start(tern_broker_t *b, tern_err_t *err);
/* Clean shutdown: answers parked SYNC_MASTER replies (FLUSH_SLAVE_TIMEOUT),
 * closes every HA handle. */
void tern_broker_ha_stop(tern_broker_t *b);
void tern_broker_ha_free(tern_broker_t *b);

/* The HA port actually bound (what REGISTER_BROKER announces as haServerAddr). */
int tern_broker_ha_port(const tern_broker_t *b);
/* A REGISTER_BROKER reply: a slave takes masterAddr (metadata sync) and,
 * unless haMasterAddress is set, haServerAddr (replication). */
void tern_broker_ha_on_register_reply(tern_broker_t *b, const tern_cmd_t *resp);

/* SYNC_MASTER: true when a send's reply must wait for a slave. */
bool tern_broker_ha_sync_master(const tern_broker_t *b);
/* Parks a SYNC_MASTER send reply until a slave acknowledged end_offset:
 * SUCCESS (then, when then_flush, handed to the SYNC_FLUSH queue), or
 * FLUSH_SLAVE_TIMEOUT after syncFlushTimeout, or SLAVE_NOT_AVAILABLE at once
 * when no slave is connected or the slave is more than haSlaveFallbehindMax
 * behind. Every answer carries msgId/queueId/queueOffset (the message is stored). */
int tern_broker_ha_park(tern_broker_t *b, tern_conn_t *c, const tern_cmd_t *req, int64_t end_offset, tern_str_t msg_id,
                        int32_t queue_id, int64_t queue_offset, bool then_flush);

/* suggestWhichBrokerId of a pull answer (PullMessageProcessor 4.9): with
 * slaveReadEnable, the group's whichBrokerWhenConsumeSlowly when the reader is
 * behind in memory, else the group's brokerId; without it, 0 (the master). */
int64_t tern_broker_ha_suggest(const tern_broker_t *b, const tern_body_subscription_group_config_t *g, bool slow);

/* Counters for tests and logs. */
typedef struct tern_broker_ha_stats {
  int slaves;               /* master: connected slaves */
  int64_t ack_offset;       /* master: largest offset a slave acknowledged */
  int64_t bytes_sent;       /* master: commit-log bytes streamed */
  int64_t bytes_received;   /* slave: commit-log bytes appended */
  int64_t bad_peers;        /* connections dropped for protocol errors */
} tern_broker_ha_stats_t;
void tern_broker_ha_get_stats(const tern_broker_t *b, tern_broker_ha_stats_t *st);

#endif
