/* Tern C client: the settings shared by producers and consumers, the message
 * queue type, the outgoing message and the received message view. Each
 * producer or consumer owns one client instance (like Java's MQClientInstance):
 * one libuv loop thread doing all network I/O (routes, heartbeats, sends,
 * pulls, rebalance); user threads hand work to it and get results through
 * callbacks or by waiting. Listener callbacks run on a consume thread pool and
 * never on the loop thread.
 *
 * Thread-safety: tern_client_conf_* and tern_msg_* functions work on the
 * caller's object and are not synchronised (one thread per object at a time);
 * tern_rmsg_* only read. Producer and consumer functions say so per function. */
#ifndef TERN_CLIENT_H
#define TERN_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gen/message.h"
#include "runtime/base.h"

/* Message model and where a new consumer group starts (RocketMQ's enum ordinals). */
enum { TERN_BROADCASTING = 0, TERN_CLUSTERING = 1 };
enum { TERN_FROM_LAST_OFFSET = 0, TERN_FROM_FIRST_OFFSET = 4, TERN_FROM_TIMESTAMP = 5 };

typedef struct tern_client_conf {
  const char *namesrv_addr;   /* "host:port;host:port" (required) */
  const char *group;          /* producer or consumer group (required) */
  const char *instance_name;  /* part of the client id; NULL: pid#n */
  uint32_t timeout_ms;        /* sendMsgTimeout / mqClientApiTimeout: 3000 */
  /* producer */
  int retry_times;            /* retryTimesWhenSendFailed: 2 (so up to 3 attempts) */
  int compress_over;          /* compressMsgBodyOverHowmuch: 4096 */
  int compress_level;         /* zlib level: 5 */
  int max_message_size;       /* 4 MiB */
  bool latency_fault;         /* sendLatencyFaultEnable (Tern default true) */
  /* consumer */
  int message_model;          /* TERN_CLUSTERING */
  int consume_from_where;     /* TERN_FROM_LAST_OFFSET */
  int64_t consume_timestamp;  /* ms, for TERN_FROM_TIMESTAMP (default: 30 minutes ago) */
  int consume_threads;        /* consumeThreadMin/Max: 20 */
  int consume_batch;          /* consumeMessageBatchMaxSize: 1 */
  int pull_batch;             /* pullBatchSize: 32 */
  int pull_threshold_queue;   /* pullThresholdForQueue: 1000 cached messages per queue */
  int max_reconsume_times;    /* 16 */
  const char *offset_dir;     /* broadcasting offsets; NULL: $HOME/.tern_offsets */
  /* timers (ms) */
  int route_poll_ms;          /* pollNameServerInterval: 30000 */
  int heartbeat_ms;           /* heartbeatBrokerInterval: 30000 */
  int rebalance_ms;           /* 20000 */
  int persist_ms;             /* persistConsumerOffsetInterval: 5000 */
  int lock_retry_ms;          /* orderly: retry locking queues not yet held: 1000 (Java waits for the 20 s lock renewal) */
  /* ---- ACL 1.0 credentials (reference §10; 4.9's AclClientRPCHook / SessionCredentials) ----
   * With access_key set, every request the client sends (to name servers and
   * brokers) carries AccessKey, SecurityToken (when set) and Signature =
   * Base64(HmacSHA1(secret_key, sorted extFields values + body)). All NULL
   * (the default): nothing is added. access_key without secret_key (or the
   * reverse) makes the producer/consumer refuse to start (TERN_EINVAL). The
   * strings are copied; the secret is wiped when the client is freed and
   * never logged. */
  const char *access_key;     /* accessKey of plain_acl.yml */
  const char *secret_key;     /* secretKey of plain_acl.yml */
  const char *security_token; /* optional STS token (SecurityToken) */
} tern_client_conf_t;

void tern_client_conf_default(tern_client_conf_t *c);

/* A queue: topic, broker group, queue id. */
typedef struct tern_mq {
  char topic[TERN_TOPIC_MAX_LEN + 1];
  char broker_name[128];
  int32_t queue_id;
} tern_mq_t;
/* Java's MessageQueue.compareTo: topic, broker name, queue id. */
int tern_mq_cmp(const tern_mq_t *a, const tern_mq_t *b);

/* ---- outgoing message (owned by the caller) ---- */
typedef struct tern_msg tern_msg_t;
/* Copies topic and body. NULL on allocation failure. */
tern_msg_t *tern_msg_new(const char *topic, const void *body, size_t len);
void tern_msg_free(tern_msg_t *m);
/* TERN_EINVAL for values that would not survive the properties encoding
 * (empty, or containing 0x01/0x02). */
int tern_msg_set_tags(tern_msg_t *m, const char *tags);
int tern_msg_set_keys(tern_msg_t *m, const char *keys); /* several keys separated by single spaces */
int tern_msg_put_property(tern_msg_t *m, const char *key, const char *val); /* replaces an existing key */
void tern_msg_set_delay_level(tern_msg_t *m, int level);
void tern_msg_set_flag(tern_msg_t *m, int32_t flag);
const char *tern_msg_topic(const tern_msg_t *m);
const char *tern_msg_property(const tern_msg_t *m, const char *key); /* NULL when absent */

/* ---- received message (read-only, valid until the listener returns or the pull result is freed) ---- */
typedef struct tern_rmsg {
  tern_str_t topic, body, tags, keys, properties; /* body is decompressed */
  char msg_id[TERN_UNIQ_HEX_V6 + 1];              /* UNIQ_KEY, or the offset id when absent */
  char offset_msg_id[TERN_MSGID_HEX_V6 + 1];
  const char *broker_name;
  int32_t queue_id, reconsume_times, flag, sys_flag;
  int64_t queue_offset, commit_log_offset, born_timestamp, store_timestamp;
  tern_host_t born_host, store_host;
} tern_rmsg_t;
/* A property's value (TERN_ENOTFOUND when absent). */
int tern_rmsg_property(const tern_rmsg_t *m, const char *key, tern_str_t *val);

/* Errors: functions return 0 or a negative TERN_E* (runtime/base.h); results
 * carry RocketMQ's response code and remark when the broker refused. */
typedef struct tern_client_error {
  int error;          /* TERN_E* or 0 */
  int response_code;  /* RocketMQ response code, -1 when no response */
  char remark[256];
} tern_client_error_t;

#endif
