/* The broker as one object: its settings (RocketMQ's BrokerConfig and
 * MessageStoreConfig keys), the store, the topic table, the consumer offset
 * table, the generated handler table it dispatches through, the loop and the
 * server it serves on, and the name-server registration state. Everything here
 * is loop-thread only (see runtime/THREADING.md); the store's flush thread
 * talks to the loop only through tern_loop_post.
 *
 * Two owners fill it:
 *  - the service core (broker.c, topics.c, offsets.c, send.c, pull.c,
 *    longpoll.c, query.c, register.c, conf.c, main.c): send, pull, long
 *    polling, offsets, queries, registration;
 *  - client management and admin (clients.c, consumers.c, locks.c, admin.c,
 *    sendback.c, subgroups.c): heartbeats, consumer groups, locks, admin codes,
 *    subscription groups.
 * The second part plugs in through tern_broker_clients_install (below): the
 * broker calls it once, after its own handlers are in the table and before the
 * server listens; it may set any handler slot and the hook slots of
 * tern_broker_t. Until clients.c exists the broker runs without it (weak
 * symbols, linked because mqbroker is built from the object files directly). */
#ifndef TERN_BROKER_BROKER_H
#define TERN_BROKER_BROKER_H

#include "broker/store/store.h"
#include "gen/bodies.h"
#include "gen/rpc.h"
#include "runtime/arena.h"
#include "runtime/buf.h"
#include "runtime/config.h"
#include "runtime/pool.h"
#include "runtime/server.h"

/* ---- configuration (reference §9.3) ---- */
typedef struct tern_broker_conf {
  const char *broker_cluster_name;    /* brokerClusterName, DefaultCluster */
  const char *broker_name;            /* brokerName, the host name in Java; here "broker-a" */
  int64_t broker_id;                  /* brokerId, 0 = master */
  const char *broker_role;            /* brokerRole: ASYNC_MASTER, SYNC_MASTER, SLAVE */
  const char *flush_disk_type;        /* flushDiskType: ASYNC_FLUSH or SYNC_FLUSH */
  int32_t listen_port;                /* listenPort 10911 (also serves listenPort-2, the VIP channel) */
  const char *bind_address;           /* bindAddress (Tern), 0.0.0.0 */
  const char *namesrv_addr;           /* namesrvAddr "a:9876;b:9876" (NULL: no registration) */
  const char *broker_ip1;             /* brokerIP1: the address put into routes and msgIds */
  const char *store_path_root_dir;    /* storePathRootDir, ~/store */
  const char *store_path_commit_log;  /* storePathCommitLog, <root>/commitlog */
  int64_t mapped_file_size_commit_log;   /* mappedFileSizeCommitLog, 1 GiB */
  int64_t mapped_file_size_consume_queue; /* mappedFileSizeConsumeQueue, 300000*20 */
  bool auto_create_topic_enable;      /* autoCreateTopicEnable, true */
  int32_t default_topic_queue_nums;   /* defaultTopicQueueNums, 8 */
  bool auto_create_subscription_group; /* autoCreateSubscriptionGroup, true (used by subgroups.c) */
  int32_t max_message_size;           /* maxMessageSize, 4 MiB */
  bool long_polling_enable;           /* longPollingEnable, true */
  int64_t short_polling_time_mills;   /* shortPollingTimeMills, 1000 */
  int32_t file_reserved_time;         /* fileReservedTime hours, 72 */
  const char *delete_when;            /* deleteWhen, "04" */
  int32_t broker_permission;          /* brokerPermission, 6 */
  int32_t register_broker_timeout_mills; /* registerBrokerTimeoutMills, 6000 */
  int32_t register_name_server_period;   /* registerNameServerPeriod ms, 30000 */
  int32_t flush_consumer_offset_interval; /* flushConsumerOffsetInterval ms, 5000 */
  int32_t sync_flush_timeout;         /* syncFlushTimeout ms, 5000 */
  int32_t flush_interval_commit_log;  /* flushIntervalCommitLog ms, 500 */
  int32_t flush_commit_log_least_pages; /* flushCommitLogLeastPages, 4 */
  int32_t flush_interval_consume_queue; /* flushIntervalConsumeQueue ms, 1000 */
  int32_t max_parked_sends;           /* maxParkedSendReplies (Tern): SYNC_FLUSH replies waiting on disk before SYSTEM_BUSY, 10000 */
  int32_t max_pull_waiters;           /* maxPullWaiters (Tern): suspended pulls before new ones are answered at once, 10000 */
  bool cluster_topic_enable;          /* clusterTopicEnable, true */
  bool broker_topic_enable;           /* brokerTopicEnable, true */
  bool trace_topic_enable;            /* traceTopicEnable, false */
  bool message_index_enable;          /* messageIndexEnable, true */
  const char *message_delay_level;    /* messageDelayLevel, "1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h" */
  int32_t flush_delay_offset_interval; /* flushDelayOffsetInterval ms, 10000 */
  const char *region_id;              /* regionId, DefaultRegion (MSG_REGION of send replies) */
  bool trace_on;                      /* traceOn, true (TRACE_ON of send replies) */
  const char *log_level;              /* logLevel (Tern), info */
} tern_broker_conf_t;

extern const tern_cfg_item_t tern_broker_conf_items[];
extern const size_t tern_broker_conf_n_items;

/* ---- topics (reference §8.7) ---- */
/* Topic names and limits: gen/message.h (TERN_TOPIC_*, TERN_RETRY_TOPIC_PREFIX, tern_topic_valid). */

#define TERN_PERM_PRIORITY 0x8
#define TERN_PERM_READ 0x4
#define TERN_PERM_WRITE 0x2
#define TERN_PERM_INHERIT 0x1

/* One topic: its config (strings point into name[] / the topic's own arena). */
typedef struct tern_broker_topic {
  tern_body_topic_config_t cfg; /* cfg.topic_name points at name */
  char name[256]; /* 127 for sent-to topics; %RETRY%/%DLQ% of a long group may be longer */
} tern_broker_topic_t;

/* ---- consumer offsets ---- */
/* The committed offsets of one (topic, group): (queue id, offset) pairs sorted
 * by queue id. */
typedef struct tern_broker_qoff {
  int32_t queue_id;
  int64_t offset;
} tern_broker_qoff_t;
typedef struct tern_broker_offsets {
  char *key;         /* "topic@group", malloc'd, NUL-terminated */
  tern_str_t topic, group; /* slices of key */
  tern_broker_qoff_t *q;
  uint32_t n, cap;
} tern_broker_offsets_t;

/* ---- hooks the client-management part fills (may stay NULL) ---- */
/* A consumer group's subscription to a topic as its heartbeats registered it. */
typedef struct tern_broker_sub {
  tern_str_t sub_string;      /* "*" or "a || b" */
  tern_str_t expression_type; /* "TAG" (empty = TAG) or "SQL92" */
  int64_t sub_version;
  const int32_t *codes;       /* tag hash codes; n_codes 0 with sub_all */
  size_t n_codes;
  bool sub_all;
  bool class_filter_mode;
} tern_broker_sub_t;

typedef struct tern_broker tern_broker_t;

typedef struct tern_broker_hooks {
  /* The group's subscription of `topic` from heartbeats. 0: found (*out valid
   * during the calling handler); 1: the group is known but has no
   * subscription for the topic; TERN_ENOTFOUND: no such consumer group. */
  int (*find_subscription)(tern_broker_t *b, tern_str_t group, tern_str_t topic, tern_broker_sub_t *out);
  /* The subscription group config (creating it when autoCreateSubscriptionGroup);
   * NULL when the group does not exist. */
  const tern_body_subscription_group_config_t *(*find_group_config)(tern_broker_t *b, tern_str_t group);
  /* An accepted connection closed (after the broker's own cleanup). */
  void (*on_conn_close)(tern_broker_t *b, tern_conn_t *c);
  /* Called every 10 s on the loop (channel expiry etc.). */
  void (*tick)(tern_broker_t *b);
  /* Clean shutdown, before the server closes (their state still valid). */
  void (*shutdown)(tern_broker_t *b);
  void *ctx; /* theirs */
} tern_broker_hooks_t;

struct tern_longpoll;
struct tern_sendq;
struct tern_strmap;

struct tern_broker {
  tern_broker_conf_t conf;
  tern_config_t *cfg;        /* the config registry (GET/UPDATE_BROKER_CONFIG), may be NULL */
  tern_store_config_t store_conf;
  tern_store_t *store;
  tern_loop_t *loop;
  tern_server_t server;      /* listens on listenPort and listenPort-2 */
  tern_pool_t pool;          /* outbound: name servers (and clients the broker calls) */
  tern_broker_handlers_t handlers; /* the dispatch table (fill slots, then tern_broker_start) */
  tern_broker_rpc_t rpc;     /* {&handlers, b}: ctx of tern_broker_on_request */
  tern_broker_hooks_t hooks;
  struct tern_broker_clients *clients; /* the client-management part's state (theirs) */

  struct tern_strmap *topics;   /* name -> tern_broker_topic_t* */
  tern_body_data_version_t topics_version;
  struct tern_strmap *offsets;  /* "topic@group" -> tern_broker_offsets_t* */
  bool offsets_dirty;

  struct tern_longpoll *lp;     /* suspended pulls */
  struct tern_sendq *sendq;     /* SYNC_FLUSH replies parked until the disk confirms */
  struct tern_schedule *sched;  /* delayed messages (SCHEDULE_TOPIC_XXXX) */
  struct tern_ha *ha;           /* master-slave replication (broker/ha/, theirs) */
  char store_host[64];          /* brokerIP1:listenPort */
  tern_host_t store_host_addr;

  /* registration */
  bool registered_once;
  int32_t register_inflight;
  uint64_t register_rounds;     /* completed register rounds (every name server answered or failed) */

  uv_timer_t t_register, t_offsets, t_tick;
  bool stopping;
  tern_buf_t out;               /* response bodies, reused */
  tern_arena_t arena;           /* per-request scratch, reset per request */
  uint8_t arena_block[16384];
  void (*on_stopped)(tern_broker_t *b); /* main.c: the server closed and everything is flushed */
  void (*on_registered)(tern_broker_t *b); /* main.c: the first registration round finished (or failed) */
  char **namesrv; /* namesrvAddr split on ';' */
  size_t n_namesrv;
};

/* ---- life cycle (broker.c) ---- */
/* Opens the store, loads topics.json and consumerOffset.json, creates the
 * system topics, fills the handler table with the core handlers. b->conf,
 * b->cfg and b->loop are set by the caller. */
int tern_broker_init(tern_broker_t *b, tern_err_t *err);
/* Lets the client-management part install itself, listens, registers with
 * every name server and starts the timers. */
int tern_broker_start(tern_broker_t *b, tern_err_t *err);
/* Clean shutdown: unregisters, closes the server (parked replies drain),
 * persists offsets and topics, closes the store; b->on_stopped when done. */
void tern_broker_stop(tern_broker_t *b);
void tern_broker_free(tern_broker_t *b);
/* The port of listenPort (i = 0) or the VIP channel (i = 1) actually bound. */
int tern_broker_port(const tern_broker_t *b, int i);

/* ---- topic table (topics.c) ---- */
tern_broker_topic_t *tern_broker_topic_find(tern_broker_t *b, tern_str_t name);
/* Creates or replaces a topic with cfg (name copied), bumps the data version,
 * persists topics.json and, when `announce`, re-registers with the name
 * servers at once. TERN_EINVAL for a bad name. */
int tern_broker_topic_put(tern_broker_t *b, const tern_body_topic_config_t *cfg, bool announce,
                          tern_broker_topic_t **out);
/* Deletes a topic (not its messages); persists and re-registers. */
int tern_broker_topic_delete(tern_broker_t *b, tern_str_t name);
/* createTopicInSendMessageBackMethod: finds or creates `name` with the given
 * queue count, perm and sysFlag (retry / DLQ topics). */
tern_broker_topic_t *tern_broker_topic_ensure(tern_broker_t *b, tern_str_t name, int32_t queues, int32_t perm,
                                              int32_t sys_flag);
/* Iteration: for (uint32_t i = 0; (t = tern_broker_topic_next(b, &i));) */
tern_broker_topic_t *tern_broker_topic_next(tern_broker_t *b, uint32_t *pos);
/* Writes topics.json (atomically, via the generated codec). */
int tern_broker_topics_persist(tern_broker_t *b);
/* Topic name rules of Validators/TopicValidator (4.9.8): 0 or the remark text. */
const char *tern_broker_topic_check_name(tern_str_t name);

/* ---- consumer offsets (offsets.c) ---- */
/* The committed offset, or -1 when none. */
int64_t tern_broker_offset_get(tern_broker_t *b, tern_str_t topic, tern_str_t group, int32_t queue_id);
/* Commits an offset (persisted by the 5 s timer and at shutdown). */
int tern_broker_offset_set(tern_broker_t *b, tern_str_t topic, tern_str_t group, int32_t queue_id, int64_t offset);
/* Drops every offset of a group (or of a topic when group is empty). */
void tern_broker_offset_remove(tern_broker_t *b, tern_str_t topic, tern_str_t group);
/* Iteration over (topic, group) entries: for (uint32_t i = 0; (o = tern_broker_offset_next(b, &i));) */
tern_broker_offsets_t *tern_broker_offset_next(tern_broker_t *b, uint32_t *pos);
int tern_broker_offsets_persist(tern_broker_t *b);

/* ---- replies (broker.c) ---- */
/* Answers req with code and remark (no header, no body); returns 0 so handlers
 * can `return tern_broker_reply_code(...)`. Nothing is sent for a oneway request. */
int tern_broker_reply_code(tern_conn_t *c, const tern_cmd_t *req, int32_t code, const char *remark);
/* Answers req with SUCCESS and b->out as the body (SYSTEM_ERROR when b->out
 * overflowed its limit while being built); returns 0. */
int tern_broker_reply_out(tern_broker_t *b, tern_conn_t *c, const tern_cmd_t *req);

/* ---- messages (send.c / longpoll.c) ---- */
/* Appends one record through the store and wakes suspended pulls of its
 * queue (for CONSUMER_SEND_MSG_BACK and internal producers); stored as given. */
int tern_broker_put(tern_broker_t *b, const tern_store_msg_t *m, tern_put_result_t *res);
/* The same, but a record with a DELAY property > 0 (and no prepared/rollback
 * transaction type) is parked in SCHEDULE_TOPIC_XXXX queue level-1 with
 * REAL_TOPIC/REAL_QID, as CommitLog.putMessage does, and delivered to its
 * topic when due (schedule.c) — what send-back retries need. */
int tern_broker_put_scheduled(tern_broker_t *b, const tern_store_msg_t *m, tern_put_result_t *res);
/* Wakes the suspended pulls of (topic, queue) now (after any store append). */
void tern_broker_notify_arrival(tern_broker_t *b, tern_str_t topic, int32_t queue_id);

/* ---- registration (register.c) ---- */
/* Registers with every name server now (topic table changed). */
void tern_broker_register_all(tern_broker_t *b);

/* ---- implemented by the client-management part (weak until it exists) ---- */
/* Sets handler slots (heart_beat, unregister_client, admin codes, ...) and
 * b->hooks / b->clients. 0 or a negative error (start fails). */
int tern_broker_clients_install(tern_broker_t *b, tern_broker_handlers_t *h) __attribute__((weak));
/* Frees b->clients after the loop stopped. */
void tern_broker_clients_free(tern_broker_t *b) __attribute__((weak));

#endif
