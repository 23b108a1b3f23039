/* The broker's client-management part: producer and consumer channels from
 * heartbeats (clients.c, consumers.c), queue locks (locks.c), subscription
 * groups (subgroups.c), CONSUMER_SEND_MSG_BACK (sendback.c) and the admin
 * request codes (admin.c). tern_broker_clients_install (declared in
 * broker/broker.h) wires all of it into the broker's handler table and hooks.
 *
 * For the pull path the core uses b->hooks.find_subscription, or directly
 * tern_broker_clients_find_subscription below: "the subscription of consumer
 * group G for topic T" as the group's latest heartbeat registered it.
 * Loop-thread only. */
#ifndef TERN_BROKER_CLIENTS_H
#define TERN_BROKER_CLIENTS_H

#include "broker/broker.h"
#include "namesrv/strmap.h"

struct tern_broker_locks;
struct tern_subgroups;

/* Settings of this part (keys read from broker.conf like the core's). */
typedef struct tern_broker_clients_conf {
  int64_t channel_expired_timeout_ms; /* channelExpiredTimeoutMills (Tern; Java's fixed 120000): silent clients are dropped */
  int64_t client_scan_interval_ms;    /* clientScanIntervalMills (Tern; Java's fixed 10000): expiry scan period */
  int64_t lock_max_live_time_ms;      /* rebalanceLockMaxLiveTime (Java -Drocketmq.broker.rebalance.lockMaxLiveTime), 60000 */
  bool notify_consumer_ids_changed_enable; /* notifyConsumerIdsChangedEnable, true */
  bool enable_property_filter;        /* enablePropertyFilter, false: SQL92 subscriptions refused; true: filtered (broker/filter) */
} tern_broker_clients_conf_t;

extern const tern_cfg_item_t tern_broker_clients_conf_items[];
extern const size_t tern_broker_clients_conf_n_items;
/* The settings object the items above fill (one broker per process). */
extern tern_broker_clients_conf_t tern_broker_clients_conf;
/* Registers the table above with the broker's config registry: main.c calls
 * it next to tern_config_add(tern_broker_conf_items) so broker.conf and -p see
 * these keys. Without it the defaults apply. */
int tern_broker_clients_conf_add(tern_config_t *cfg);

/* One client connection registered by a heartbeat (Java ClientChannelInfo). */
typedef struct tern_client_channel {
  tern_conn_t *conn; /* referenced while registered */
  char *client_id;
  int32_t language;  /* LanguageCode of the heartbeat command */
  int32_t version;
  int64_t last_update_ms;
} tern_client_channel_t;

/* A set of channels (a producer group, or the members of a consumer group). */
typedef struct tern_channel_set {
  tern_client_channel_t *v;
  uint32_t n, cap;
} tern_channel_set_t;

/* A subscription as stored (owned copy of a heartbeat's SubscriptionData). */
typedef struct tern_consumer_sub {
  tern_body_subscription_data_t data; /* strings and arrays in the group's arena */
} tern_consumer_sub_t;

/* A consumer group (Java ConsumerGroupInfo). */
typedef struct tern_consumer_group {
  char *name;
  size_t name_len;
  int32_t consume_type, message_model, consume_from_where;
  tern_channel_set_t channels;
  tern_body_subscription_data_t *subs; /* in subs_arena; replaced as a whole */
  uint32_t n_subs;
  tern_arena_t subs_arena;
  int64_t last_update_ms;
} tern_consumer_group_t;

typedef struct tern_producer_group {
  char *name;
  size_t name_len;
  tern_channel_set_t channels;
} tern_producer_group_t;

struct tern_broker_clients {
  tern_broker_t *b;
  tern_broker_clients_conf_t conf;
  tern_strmap_t producers; /* name -> tern_producer_group_t* */
  tern_strmap_t consumers; /* name -> tern_consumer_group_t* */
  struct tern_broker_locks *locks;
  struct tern_subgroups *subgroups;
  uv_timer_t scan_timer;
  bool timer_started;
  bool stopping;                /* after the shutdown hook: no new registrations (no connection refs past the loop) */
  uint64_t notifications_sent; /* NOTIFY_CONSUMER_IDS_CHANGED requests written */
  int64_t boot_ms;             /* wall clock at install (runtime info) */
};
typedef struct tern_broker_clients tern_broker_clients_t;

/* ---- consumer groups (consumers.c) ---- */
tern_consumer_group_t *tern_consumers_find(tern_broker_clients_t *cl, tern_str_t group);
/* registerConsumer: refreshes or adds the channel, replaces the subscription
 * table; returns 1 when membership or subscriptions changed (the group was
 * notified when notify is set), 0 when not, or a negative error. */
int tern_consumers_register(tern_broker_clients_t *cl, tern_conn_t *c, tern_str_t client_id, int32_t language,
                            int32_t version, const tern_body_consumer_data_t *cd, bool notify, int64_t now_ms);
/* unregisterConsumer: removes the connection from the group (notifies the rest). */
void tern_consumers_unregister(tern_broker_clients_t *cl, tern_str_t group, tern_conn_t *c, bool notify);
/* Removes a closed connection from every consumer group (notifying each). */
void tern_consumers_conn_closed(tern_broker_clients_t *cl, tern_conn_t *c);
/* Drops channels silent for longer than the timeout (closing them), notifying. */
void tern_consumers_scan(tern_broker_clients_t *cl, int64_t now_ms);
/* Sends NOTIFY_CONSUMER_IDS_CHANGED (oneway) to every member of the group. */
void tern_consumers_notify(tern_broker_clients_t *cl, tern_consumer_group_t *g);
void tern_consumers_free_all(tern_broker_clients_t *cl);
/* The group's subscription of a topic: NULL when none. */
const tern_body_subscription_data_t *tern_consumers_find_sub(const tern_consumer_group_t *g, tern_str_t topic);

/* ---- subscription lookup for the pull path ----
 * The subscription of consumer group `group` for `topic` as the latest
 * heartbeat registered it: 0 with *out filled (pointers valid until the next
 * heartbeat or close on the loop, i.e. during the calling handler), 1 when the
 * group is online but has no subscription of the topic, TERN_ENOTFOUND when no
 * consumer of the group is online. */
int tern_broker_clients_find_subscription(tern_broker_t *b, tern_str_t group, tern_str_t topic,
                                          tern_broker_sub_t *out);

/* ---- channel sets (clients.c) ---- */
tern_client_channel_t *tern_channel_set_find(tern_channel_set_t *s, tern_conn_t *c);
void tern_channel_set_remove_at(tern_channel_set_t *s, uint32_t i);

/* ---- handlers of the other files, installed by clients.c ---- */
void tern_broker_admin_install(tern_broker_t *b, tern_broker_handlers_t *h);   /* admin.c */
void tern_broker_sendback_install(tern_broker_t *b, tern_broker_handlers_t *h); /* sendback.c */

#endif
