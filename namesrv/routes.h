/* The name server's route state, in plain C with no I/O: which broker groups
 * (brokerName) belong to which cluster, the addresses of each group by
 * brokerId (0 = master, >0 = slaves), each topic's queue data per broker
 * group, and the live table of registered broker addresses (last update time,
 * heartbeat timeout, data version, HA address, filter servers and the
 * connection the registration came in on). Semantics follow the RocketMQ 4.9
 * RouteInfoManager (reference §5.2, §5.3, §5.6, §8.1). The clock is always a
 * parameter (now_ms), so tests drive time themselves.
 *
 * Invariants kept by every mutation: a group exists only while it has at least
 * one address; queue data only refer to existing groups; a topic exists only
 * while it has queue data; cluster sets only name existing groups and are
 * removed when empty. */
#ifndef TERN_NAMESRV_ROUTES_H
#define TERN_NAMESRV_ROUTES_H

#include "namesrv/strmap.h"
#include "runtime/arena.h"

#define TERN_NS_DEFAULT_BROKER_TIMEOUT_MS 120000 /* BROKER_CHANNEL_EXPIRED_TIME */
#define TERN_NS_PERM_WRITE 0x2
#define TERN_NS_PERM_READ 0x4

typedef struct tern_ns_data_version {
  int64_t timestamp, counter, state_version;
} tern_ns_data_version_t;

typedef struct tern_ns_addr {
  int64_t id;
  tern_str_t addr; /* owned */
} tern_ns_addr_t;

/* BrokerData: one broker group (master and slaves sharing a brokerName). */
typedef struct tern_ns_group {
  tern_str_t name, cluster; /* owned */
  uint32_t n_addrs, cap_addrs;
  tern_ns_addr_t *addrs; /* sorted by id */
} tern_ns_group_t;

/* QueueData of one topic on one broker group. */
typedef struct tern_ns_queue {
  tern_ns_group_t *group;
  int32_t read_queue_nums, write_queue_nums, perm, topic_sys_flag;
} tern_ns_queue_t;

typedef struct tern_ns_topic {
  tern_str_t name; /* owned */
  uint32_t n, cap;
  tern_ns_queue_t *q; /* sorted by group name */
} tern_ns_topic_t;

typedef struct tern_ns_cluster {
  tern_str_t name; /* owned */
  uint32_t n, cap;
  tern_str_t *brokers; /* broker names, owned, sorted */
} tern_ns_cluster_t;

/* BrokerLiveInfo, keyed by broker address. */
typedef struct tern_ns_live {
  tern_str_t addr, cluster, ha_addr; /* owned */
  int64_t last_update_ms, timeout_ms;
  tern_ns_data_version_t dv;
  void *conn; /* opaque connection handle the registration came in on */
  uint32_t n_filter;
  tern_str_t *filter; /* filter server addresses, owned */
} tern_ns_live_t;

typedef struct tern_ns_routes {
  tern_strmap_t topics;   /* name -> tern_ns_topic_t */
  tern_strmap_t groups;   /* brokerName -> tern_ns_group_t */
  tern_strmap_t clusters; /* clusterName -> tern_ns_cluster_t */
  tern_strmap_t live;     /* brokerAddr -> tern_ns_live_t */
  /* Bumped by every change that can alter a route, cluster info or topic list;
   * lets callers cache encoded answers. */
  uint64_t generation;
} tern_ns_routes_t;

void tern_ns_routes_init(tern_ns_routes_t *r);
void tern_ns_routes_free(tern_ns_routes_t *r);

/* One TopicConfig as sent in a registration body. */
typedef struct tern_ns_topic_conf {
  tern_str_t name;
  int32_t read_queue_nums, write_queue_nums, perm, topic_sys_flag;
} tern_ns_topic_conf_t;

typedef struct tern_ns_register {
  tern_str_t cluster, broker_addr, broker_name, ha_addr;
  int64_t broker_id;
  int64_t timeout_ms; /* heartbeatTimeoutMillis; <= 0 means 120 s */
  tern_ns_data_version_t dv;
  const tern_ns_topic_conf_t *topics;
  uint32_t n_topics;
  bool has_filter_list; /* false: leave the stored filter servers alone */
  const tern_str_t *filter;
  uint32_t n_filter;
  void *conn;
} tern_ns_register_t;

typedef struct tern_ns_register_result {
  /* For a slave whose master is live: the master's HA and broker address
   * (slices into the route state, valid until the next mutation); else empty. */
  tern_str_t ha_addr, master_addr;
} tern_ns_register_result_t;

/* REGISTER_BROKER, steps 2-5 of reference §5.3 (the CRC check is the caller's).
 * Returns 0 or TERN_EINVAL (empty name/address) or TERN_ENOMEM. */
int tern_ns_routes_register(tern_ns_routes_t *r, const tern_ns_register_t *req, int64_t now_ms,
                            tern_ns_register_result_t *res);

/* UNREGISTER_BROKER: drops the live entry and the address from the group;
 * a group left without addresses is removed with its queue data. */
void tern_ns_routes_unregister(tern_ns_routes_t *r, tern_str_t cluster, tern_str_t broker_addr,
                               tern_str_t broker_name, int64_t broker_id);

/* Connection closed or expired: removes the live entry of broker_addr and the
 * address from every group (groups left empty go, as above). Returns true when
 * something was removed. */
bool tern_ns_routes_remove_addr(tern_ns_routes_t *r, tern_str_t broker_addr);

/* QUERY_DATA_VERSION: *changed = the stored version differs from dv (or the
 * broker is unknown); when unchanged the broker's last update becomes now_ms.
 * *stored is the stored version or NULL when the broker is unknown. */
void tern_ns_routes_query_data_version(tern_ns_routes_t *r, tern_str_t broker_addr,
                                       const tern_ns_data_version_t *dv, int64_t now_ms,
                                       bool *changed, const tern_ns_data_version_t **stored);

/* BROKER_HEARTBEAT: refreshes a registered broker's last update (and its
 * timeout when > 0). Returns false for an unknown address. */
bool tern_ns_routes_touch(tern_ns_routes_t *r, tern_str_t broker_addr, int64_t timeout_ms, int64_t now_ms);

/* REGISTER_TOPIC_IN_NAMESRV (5.x): sets the topic's queue data for each named
 * broker group. Like RocketMQ, nothing changes when any group is unknown
 * (returns TERN_ENOTFOUND then). */
int tern_ns_routes_register_topic(tern_ns_routes_t *r, tern_str_t topic, const tern_str_t *broker_names,
                                  const tern_ns_topic_conf_t *queues, uint32_t n);

const tern_ns_topic_t *tern_ns_routes_topic(const tern_ns_routes_t *r, tern_str_t topic);
const tern_ns_group_t *tern_ns_routes_group(const tern_ns_routes_t *r, tern_str_t broker_name);
const tern_ns_live_t *tern_ns_routes_live(const tern_ns_routes_t *r, tern_str_t broker_addr);
/* The master address (brokerId 0) of a group, or an empty slice. */
tern_str_t tern_ns_group_master(const tern_ns_group_t *g);

/* Lists (sorted, slices into the route state, arrays from the arena). */
int tern_ns_routes_all_topics(const tern_ns_routes_t *r, tern_arena_t *a, tern_str_t **out, uint32_t *n);
/* Topics with queue data on any group of the cluster (empty for an unknown cluster). */
int tern_ns_routes_cluster_topics(const tern_ns_routes_t *r, tern_str_t cluster, tern_arena_t *a,
                                  tern_str_t **out, uint32_t *n);
/* GET_SYSTEM_TOPIC_LIST_FROM_NS: every cluster name followed by its broker
 * names; *first_addr = the lowest-id address of the first group by name. */
int tern_ns_routes_system_topics(const tern_ns_routes_t *r, tern_arena_t *a, tern_str_t **out, uint32_t *n,
                                 tern_str_t *first_addr);
/* Topics whose first queue data's topicSysFlag matches: the unit lists of
 * GET_UNIT_TOPIC_LIST (unit), GET_HAS_UNIT_SUB_TOPIC_LIST (unit_sub) and
 * GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST (unit_sub and not unit). */
enum { TERN_NS_UNIT = 1, TERN_NS_UNIT_SUB = 2, TERN_NS_UNIT_SUB_NOT_UNIT = 3 };
#define TERN_NS_SYSFLAG_UNIT 0x1
#define TERN_NS_SYSFLAG_UNIT_SUB 0x2
int tern_ns_routes_unit_topics(const tern_ns_routes_t *r, int which, tern_arena_t *a, tern_str_t **out, uint32_t *n);
/* Sorted keys of one of the route maps (clusters, groups) for encoders. */
int tern_ns_routes_sorted_keys(const tern_strmap_t *m, tern_arena_t *a, tern_str_t **out, uint32_t *n);

/* DELETE_TOPIC_IN_NAMESRV: the whole topic (cluster empty) or only its queue
 * data on the cluster's groups. Returns true when something was removed. */
bool tern_ns_routes_delete_topic(tern_ns_routes_t *r, tern_str_t topic, tern_str_t cluster);

/* WIPE_WRITE_PERM_OF_BROKER (wipe) / ADD_WRITE_PERM_OF_BROKER (!wipe): returns
 * the number of topics that have queue data on the group. */
int tern_ns_routes_write_perm(tern_ns_routes_t *r, tern_str_t broker_name, bool wipe);

#endif
