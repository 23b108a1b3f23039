/* The name server's config table (see conf.h). Defaults are RocketMQ's, except
 * the expiry scan interval: 10 s as in 4.9 (5.x scans every 5 s). The expiry
 * time key exists so tests and operators can shorten the 120 s default. */
#include "namesrv/conf.h"

#include "namesrv/liveness.h"

#define C tern_namesrv_conf_t
const tern_cfg_item_t tern_namesrv_conf_items[] = {
    TERN_CFG_INT(C, listen_port, "listenPort", "9876", true, "TCP port for clients, brokers and tools"),
    TERN_CFG_STR(C, bind_address, "bindAddress", "0.0.0.0", true, "local address to listen on"),
    TERN_CFG_STR(C, rocketmq_home, "rocketmqHome", NULL, false, "RocketMQ home directory (informational)"),
    TERN_CFG_STR(C, kv_config_path, "kvConfigPath", NULL, true,
                 "KV config file (default $HOME/namesrv/kvConfig.json)"),
    TERN_CFG_BOOL(C, order_message_enable, "orderMessageEnable", "false", false,
                  "attach ORDER_TOPIC_CONFIG entries to routes as orderTopicConf"),
    TERN_CFG_BOOL(C, enable_all_topic_list, "enableAllTopicList", "true", false,
                  "answer GET_ALL_TOPIC_LIST_FROM_NAMESERVER"),
    TERN_CFG_LONG(C, scan_interval_ms, "scanNotActiveBrokerInterval", "10000", true,
                  "milliseconds between broker expiry scans"),
    TERN_CFG_LONG(C, broker_expire_ms, "brokerChannelExpiredTime", "120000", false,
                  "milliseconds without registration before a broker is dropped (unless it sent heartbeatTimeoutMillis)"),
    TERN_CFG_STR(C, log_level, "logLevel", "info", false, "debug, info, warn or error"),
};
#undef C
const size_t tern_namesrv_conf_n_items = TERN_ARRAY_SIZE(tern_namesrv_conf_items);
