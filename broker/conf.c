/* The broker's config table: RocketMQ's BrokerConfig, NettyServerConfig and
 * MessageStoreConfig keys that Tern honours (reference §9.3), with 4.9.8's
 * defaults, for runtime/config.h (-c file, -n, -p, -m). Store keys are copied
 * into tern_store_config_t by tern_broker_init. A few keys are Tern's own
 * (bindAddress, logLevel, maxParkedSendReplies, maxPullWaiters). */
#include "broker/broker.h"

#define C tern_broker_conf_t
const tern_cfg_item_t tern_broker_conf_items[] = {
    TERN_CFG_STR(C, broker_cluster_name, "brokerClusterName", "DefaultCluster", true, "cluster name"),
    TERN_CFG_STR(C, broker_name, "brokerName", "broker-a", true, "broker group name (master and slaves share it)"),
    TERN_CFG_LONG(C, broker_id, "brokerId", "0", true, "0 master, >0 slave"),
    TERN_CFG_STR(C, broker_role, "brokerRole", "ASYNC_MASTER", true, "ASYNC_MASTER, SYNC_MASTER or SLAVE"),
    TERN_CFG_STR(C, flush_disk_type, "flushDiskType", "ASYNC_FLUSH", true, "ASYNC_FLUSH or SYNC_FLUSH"),
    TERN_CFG_INT(C, listen_port, "listenPort", "10911", true, "remoting port; listenPort-2 is served too"),
    TERN_CFG_STR(C, bind_address, "bindAddress", "0.0.0.0", false, "local address to listen on"),
    TERN_CFG_STR(C, namesrv_addr, "namesrvAddr", NULL, true, "name servers host:port;host:port"),
    TERN_CFG_STR(C, broker_ip1, "brokerIP1", NULL, true, "address put into routes and message ids (default: first non-loopback IPv4)"),
    TERN_CFG_STR(C, store_path_root_dir, "storePathRootDir", NULL, true, "store root (default $HOME/store)"),
    TERN_CFG_STR(C, store_path_commit_log, "storePathCommitLog", NULL, true, "commit-log directory (default <root>/commitlog)"),
    TERN_CFG_LONG(C, mapped_file_size_commit_log, "mappedFileSizeCommitLog", "1073741824", false, "commit-log file size"),
    TERN_CFG_LONG(C, mapped_file_size_consume_queue, "mappedFileSizeConsumeQueue", "6000000", false,
                  "consume-queue file size (multiple of 20)"),
    TERN_CFG_BOOL(C, auto_create_topic_enable, "autoCreateTopicEnable", "true", true, "create TBW102 and topics on first send"),
    TERN_CFG_INT(C, default_topic_queue_nums, "defaultTopicQueueNums", "8", false, "queues of TBW102"),
    TERN_CFG_BOOL(C, auto_create_subscription_group, "autoCreateSubscriptionGroup", "true", true,
                  "create subscription groups on first use"),
    TERN_CFG_INT(C, max_message_size, "maxMessageSize", "4194304", false, "largest message body accepted"),
    TERN_CFG_BOOL(C, long_polling_enable, "longPollingEnable", "true", false, "hold pulls until a message arrives"),
    TERN_CFG_LONG(C, short_polling_time_mills, "shortPollingTimeMills", "1000", false,
                  "hold time of a pull when long polling is off"),
    TERN_CFG_INT(C, file_reserved_time, "fileReservedTime", "72", false, "hours a commit-log file is kept"),
    TERN_CFG_STR(C, delete_when, "deleteWhen", "04", false, "hours when expired files are deleted, e.g. 04 or 01;02"),
    TERN_CFG_INT(C, broker_permission, "brokerPermission", "6", false, "broker-wide permission bits"),
    TERN_CFG_INT(C, register_broker_timeout_mills, "registerBrokerTimeoutMills", "6000", false,
                 "timeout of REGISTER_BROKER"),
    TERN_CFG_INT(C, register_name_server_period, "registerNameServerPeriod", "30000", false,
                 "ms between registrations (clamped to 10000..60000)"),
    TERN_CFG_INT(C, flush_consumer_offset_interval, "flushConsumerOffsetInterval", "5000", false,
                 "ms between consumerOffset.json writes"),
    TERN_CFG_INT(C, sync_flush_timeout, "syncFlushTimeout", "5000", false, "SYNC_FLUSH wait before FLUSH_DISK_TIMEOUT"),
    TERN_CFG_INT(C, flush_interval_commit_log, "flushIntervalCommitLog", "500", false, "ASYNC_FLUSH interval ms"),
    TERN_CFG_INT(C, flush_commit_log_least_pages, "flushCommitLogLeastPages", "4", false,
                 "dirty pages before an ASYNC_FLUSH round syncs"),
    TERN_CFG_INT(C, flush_interval_consume_queue, "flushIntervalConsumeQueue", "1000", false,
                 "consume-queue flush interval ms"),
    TERN_CFG_INT(C, max_parked_sends, "maxParkedSendReplies", "10000", false,
                 "SYNC_FLUSH replies waiting for the disk before sends get SYSTEM_BUSY"),
    TERN_CFG_INT(C, max_pull_waiters, "maxPullWaiters", "10000", false,
                 "suspended pulls before new ones are answered at once"),
    TERN_CFG_BOOL(C, cluster_topic_enable, "clusterTopicEnable", "true", false, "the cluster-name topic inherits"),
    TERN_CFG_BOOL(C, broker_topic_enable, "brokerTopicEnable", "true", false, "the broker-name topic inherits"),
    TERN_CFG_BOOL(C, trace_topic_enable, "traceTopicEnable", "false", false, "create RMQ_SYS_TRACE_TOPIC"),
    TERN_CFG_BOOL(C, message_index_enable, "messageIndexEnable", "true", false, "build the key index"),
    TERN_CFG_STR(C, message_delay_level, "messageDelayLevel", "1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h",
                 false, "delay of each level (DELAY property), s/m/h/d units"),
    TERN_CFG_INT(C, flush_delay_offset_interval, "flushDelayOffsetInterval", "10000", false,
                 "ms between delayOffset.json writes"),
    TERN_CFG_STR(C, region_id, "regionId", "DefaultRegion", false, "MSG_REGION of send replies"),
    TERN_CFG_BOOL(C, trace_on, "traceOn", "true", false, "TRACE_ON of send replies"),
    TERN_CFG_STR(C, log_level, "logLevel", "info", false, "debug, info, warn or error"),
};
#undef C
const size_t tern_broker_conf_n_items = TERN_ARRAY_SIZE(tern_broker_conf_items);
