/* The name server's settings: the RocketMQ NamesrvConfig keys Tern honours
 * (reference §9.4), as a config table for runtime/config.h, so `-c file`, `-p`
 * and `-m` behave as in mqnamesrv. Network keys (frameMaxLength, idle
 * timeouts, remotingVersion) come from the runtime's tern_net_cfg_items. */
#ifndef TERN_NAMESRV_CONF_H
#define TERN_NAMESRV_CONF_H

#include "runtime/config.h"

typedef struct tern_namesrv_conf {
  int32_t listen_port;          /* listenPort, 9876 */
  const char *bind_address;     /* bindAddress, 0.0.0.0 */
  const char *rocketmq_home;    /* rocketmqHome (informational) */
  const char *kv_config_path;   /* kvConfigPath; NULL: $HOME/namesrv/kvConfig.json */
  bool order_message_enable;    /* orderMessageEnable: attach orderTopicConf to routes */
  bool enable_all_topic_list;   /* enableAllTopicList (5.x): serve GET_ALL_TOPIC_LIST */
  int64_t scan_interval_ms;     /* scanNotActiveBrokerInterval */
  int64_t broker_expire_ms;     /* brokerChannelExpiredTime: default broker heartbeat timeout */
  const char *log_level;        /* logLevel: debug, info, warn, error */
} tern_namesrv_conf_t;

extern const tern_cfg_item_t tern_namesrv_conf_items[];
extern const size_t tern_namesrv_conf_n_items;

#endif
