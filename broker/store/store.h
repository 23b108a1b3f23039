/* Tern's broker store: the commit log, consume queues, index files, flush,
 * recovery, retention and metadata files, laid out on disk as Apache RocketMQ
 * lays them out. No networking. See broker/store/README.md for the threading
 * model: one owner thread (the broker loop) calls every function here; the
 * store runs its own flush and file-allocation threads. */
#ifndef TERN_BROKER_STORE_H
#define TERN_BROKER_STORE_H

#include "gen/message.h"
#include "runtime/base.h"

typedef enum { TERN_FLUSH_ASYNC = 0, TERN_FLUSH_SYNC = 1 } tern_flush_disk_type_t;

typedef struct tern_store tern_store_t;

/* Configuration: RocketMQ's MessageStoreConfig keys (reference 9.3) as plain
 * fields. tern_store_config_init() fills RocketMQ's defaults; the broker then
 * overrides what broker.conf sets. Strings are copied by tern_store_open. */
typedef struct tern_store_config {
  const char *store_path_root_dir;      /* storePathRootDir (required) */
  const char *store_path_commit_log;    /* storePathCommitLog; NULL = <root>/commitlog */
  int64_t mapped_file_size_commit_log;  /* mappedFileSizeCommitLog, 1 GiB */
  int64_t mapped_file_size_consume_queue; /* mappedFileSizeConsumeQueue, 6000000 (multiple of 20) */
  tern_flush_disk_type_t flush_disk_type; /* flushDiskType, ASYNC_FLUSH */
  int32_t flush_interval_commit_log;    /* flushIntervalCommitLog ms, 500 */
  int32_t flush_commit_log_least_pages; /* flushCommitLogLeastPages, 4 */
  int32_t flush_commit_log_thorough_interval; /* flushCommitLogThoroughInterval ms, 10000 */
  int32_t flush_interval_consume_queue; /* flushIntervalConsumeQueue ms, 1000 */
  int32_t sync_flush_timeout;           /* syncFlushTimeout ms, 5000 */
  int32_t file_reserved_time;           /* fileReservedTime hours, 72 */
  const char *delete_when;              /* deleteWhen, "04" ("01;02" for several hours) */
  int32_t disk_max_used_space_ratio;    /* diskMaxUsedSpaceRatio %, 75 */
  int32_t disk_space_clean_forcibly_ratio; /* diskSpaceCleanForciblyRatio %, 85 */
  int32_t disk_space_warning_level_ratio;  /* diskSpaceWarningLevelRatio %, 90: writes refused above */
  bool clean_file_forcibly_enable;      /* cleanFileForciblyEnable, true */
  int32_t destroy_mapped_file_interval_forcibly; /* destroyMapedFileIntervalForcibly ms, 120000 */
  bool message_index_enable;            /* messageIndexEnable, true */
  int32_t max_hash_slot_num;            /* maxHashSlotNum, 5000000 */
  int32_t max_index_num;                /* maxIndexNum, 20000000 */
  int32_t max_message_size;             /* maxMessageSize, 4194304 (body bytes) */
  bool check_crc_on_recover;            /* checkCRCOnRecover, true */
  bool warm_mapped_file_enable;         /* warmMapedFileEnable, false: the allocator writes zeros through each new
                                           commit-log file and syncs it, so later fdatasyncs flush data only (no
                                           extent conversion to journal): faster SYNC_FLUSH for 2x file writes.
                                           Always on with SYNC_FLUSH (README, "Preparing commit-log files") */
  const char *message_delay_level;      /* messageDelayLevel, "1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h":
                                           SCHEDULE_TOPIC_XXXX entries carry store time + the level's delay as tagsCode */
  int32_t max_transfer_bytes_on_message_in_memory; /* 262144 */
  int32_t max_transfer_count_on_message_in_memory; /* 32 */
  int32_t max_transfer_bytes_on_message_in_disk;   /* 65536 */
  int32_t max_transfer_count_on_message_in_disk;   /* 8 */
  int32_t access_message_in_memory_max_ratio;      /* accessMessageInMemoryMaxRatio %, 40: a record further than this
                                                      share of RAM behind the log end counts as on disk */
  /* Hooks (may be NULL). now_ms: wall clock in ms (store timestamps, file
   * ages, deleteWhen); disk_used_ratio: used fraction 0..1 of the file system
   * holding `path` (default statvfs). log: one line per event worth telling an
   * operator (corruption with file and offset, truncation, deletions). */
  int64_t (*now_ms)(void *ctx);
  double (*disk_used_ratio)(void *ctx, const char *path);
  void (*log)(void *ctx, const char *line);
  void (*before_flush)(void *ctx); /* runs on the flush thread before each commit-log sync (tests: a slow disk) */
  void *hook_ctx;
  /* brokerRole=SLAVE (broker/ha/): puts are refused with SERVICE_NOT_AVAILABLE, as DefaultMessageStore
   * does on a slave; the log grows only through tern_store_append_raw (replication). */
  bool slave_mode;
} tern_store_config_t;

void tern_store_config_init(tern_store_config_t *c);

/* RocketMQ's PutMessageStatus. */
typedef enum {
  TERN_PUT_OK = 0,
  TERN_PUT_FLUSH_DISK_TIMEOUT,
  TERN_PUT_SERVICE_NOT_AVAILABLE,   /* disk past the warning level, or store shut down */
  TERN_PUT_CREATE_MAPPED_FILE_FAILED,
  TERN_PUT_MESSAGE_ILLEGAL,         /* body too big, topic too long, bad queue id */
  TERN_PUT_PROPERTIES_SIZE_EXCEEDED,
  TERN_PUT_UNKNOWN_ERROR,
} tern_put_status_t;
const char *tern_put_status_name(tern_put_status_t s);

/* What to append: the caller fills topic, queue_id, flag, body, properties,
 * sys_flag, born_timestamp, born_host, store_host, reconsume_times and
 * prepared_transaction_offset. The store computes total_size, magic,
 * body_crc, queue_offset, physical_offset and store_timestamp (and sets the
 * IPv6 sysFlag bits from the host lengths). */
typedef tern_msg_record_t tern_store_msg_t;

typedef struct tern_put_result {
  tern_put_status_t status;
  const char *reason;      /* static text when status != OK */
  int64_t wrote_offset;    /* physical offset of the (first) record */
  int32_t wrote_bytes;     /* bytes appended (all records of a batch) */
  int64_t queue_offset;    /* queue offset of the (first) record */
  int32_t msg_num;         /* records appended */
  int64_t store_timestamp;
  int64_t end_offset;      /* commit-log offset just past the last record: what a SYNC_FLUSH waiter waits for */
} tern_put_result_t;

/* Opens (creating if needed) the store, recovers it (normal or abnormal, see
 * README), starts the flush and allocation threads. On failure *out is NULL
 * and err says why (file and offset where it applies). */
int tern_store_open(const tern_store_config_t *cfg, tern_store_t **out, tern_err_t *err);
/* Orderly shutdown: stops threads, flushes everything, writes the checkpoint,
 * deletes `abort`. */
void tern_store_close(tern_store_t *s);

/* Appends one record and dispatches it (consume queue, index) on the calling
 * thread, so a pull right after sees it. Does not wait for the disk: in
 * SYNC_FLUSH mode call tern_store_wait_flush (callback) or
 * tern_store_flush_block with res->end_offset. */
int tern_store_put(tern_store_t *s, const tern_store_msg_t *m, tern_put_result_t *res);
/* Appends n records of one topic/queue back to back (SEND_BATCH_MESSAGE),
 * with consecutive queue offsets, then dispatches them all. */
int tern_store_put_batch(tern_store_t *s, const tern_store_msg_t *m, size_t n, tern_put_result_t *res);

/* SYNC_FLUSH group commit. The flush thread fdatasyncs up to the highest
 * written offset and calls cb(arg, TERN_PUT_OK) for every waiter whose
 * end_offset is durable, or cb(arg, TERN_PUT_FLUSH_DISK_TIMEOUT) once
 * syncFlushTimeout has passed. Callbacks run on a store thread (the flush
 * thread, or the timeout watcher, possibly at the same time), each waiter's
 * exactly once; after each round of callbacks round_done(ctx) (set with
 * tern_store_set_flush_notify) runs once on that thread, which is where a
 * loop-based broker calls uv_async_send. */
typedef void (*tern_flush_cb)(void *arg, tern_put_status_t status);
/* Returns 0 when registered, 1 when end_offset is already durable (cb is not
 * called), TERN_ENOMEM. */
int tern_store_wait_flush(tern_store_t *s, int64_t end_offset, tern_flush_cb cb, void *arg);
/* The same without waking the flush thread: a loop registers every send of
 * one pass this way and calls tern_store_flush_kick once at the end, so one
 * fdatasync covers the whole pass (unkicked waiters are still served within
 * 10 ms). */
int tern_store_wait_flush_deferred(tern_store_t *s, int64_t end_offset, tern_flush_cb cb, void *arg);
void tern_store_flush_kick(tern_store_t *s);
void tern_store_set_flush_notify(tern_store_t *s, void (*round_done)(void *ctx), void *ctx);
/* Blocks the calling thread until end_offset is durable (OK) or the timeout
 * (FLUSH_DISK_TIMEOUT). For tools and tests; the broker uses the callback. */
tern_put_status_t tern_store_flush_block(tern_store_t *s, int64_t end_offset);
/* Flushes the commit log now on the calling thread (offset durable on return). */
int tern_store_flush_now(tern_store_t *s);

/* ---- replication (broker/ha/, reference 8.11) ----
 * Master side: the commit-log bytes from `phys` on, as they are in the mapped
 * file that holds them: *p points into the mapping, *n is at most `max` and
 * never crosses a file boundary (0: nothing written there yet). Copy the
 * bytes before the next loop pass if they may be kept long. TERN_ENOTFOUND
 * when phys is below the oldest file (deleted by retention) or past the end. */
int tern_store_read_raw(tern_store_t *s, int64_t phys, size_t max, const uint8_t **p, size_t *n);
/* Slave side: appends bytes the master sent at exactly its physical offset.
 * `phys` must equal tern_store_commitlog_max_offset(), or, for an empty store,
 * be the start of a file (mappedFileSizeCommitLog multiple). The bytes may end
 * inside a record; every record (and blank filler) completed by them is
 * dispatched to its consume queue and the index as on the master, and
 * on_record (may be NULL) is called for each dispatched record (wake pulls).
 * A trailing partial record is kept (the max offset includes it, so the master
 * resumes right after it) and cut on close or recovery. TERN_EINVAL for a
 * wrong offset or bytes that are not records (the caller drops the master
 * connection), TERN_EIO when a file cannot be created. */
typedef void (*tern_store_record_fn)(void *ctx, const tern_msg_record_t *r);
int tern_store_append_raw(tern_store_t *s, int64_t phys, const uint8_t *p, size_t n, tern_store_record_fn on_record,
                          void *ctx, tern_err_t *err);

/* RocketMQ's GetMessageStatus. */
typedef enum {
  TERN_GET_FOUND = 0,
  TERN_GET_NO_MATCHED_MESSAGE,
  TERN_GET_MESSAGE_WAS_REMOVING,
  TERN_GET_OFFSET_FOUND_NULL,
  TERN_GET_OFFSET_OVERFLOW_BADLY,
  TERN_GET_OFFSET_OVERFLOW_ONE,
  TERN_GET_OFFSET_TOO_SMALL,
  TERN_GET_NO_MATCHED_LOGIC_QUEUE,
  TERN_GET_NO_MESSAGE_IN_QUEUE,
} tern_get_status_t;
const char *tern_get_status_name(tern_get_status_t s);

/* A stored record as it sits in the mapped commit log (zero-copy: hand the
 * spans to writev). Valid until at least destroyMapedFileIntervalForcibly ms
 * after its file is deleted by retention. */
typedef struct tern_store_span {
  const uint8_t *p;
  uint32_t len;
  int64_t phys_offset;
  int64_t queue_offset;
} tern_store_span_t;

/* Message filter: keep an entry when tags_code is in codes[0..n_codes) (no
 * codes = keep all), then, if cb is set, when cb says so. */
typedef struct tern_store_filter {
  const int32_t *codes;
  size_t n_codes;
  bool (*cb)(void *ctx, int64_t tags_code);
  void *ctx;
} tern_store_filter_t;

typedef struct tern_get_result {
  tern_get_status_t status;
  int64_t next_begin_offset, min_offset, max_offset;
  bool suggest_pulling_from_slave; /* the reader is more than accessMessageInMemoryMaxRatio of RAM behind */
  size_t n;                /* spans filled */
  size_t bytes;            /* sum of span lengths */
  tern_store_span_t *spans; /* caller's array of `cap` spans */
  size_t cap;
} tern_get_result_t;

/* Reads up to max_msgs records of (topic, queue) from queue_offset (PULL).
 * res->spans/cap must be set by the caller. Status and offsets follow
 * DefaultMessageStore.getMessage (reference 5.8). */
int tern_store_get_messages(tern_store_t *s, tern_str_t topic, int32_t queue_id, int64_t queue_offset,
                            int32_t max_msgs, const tern_store_filter_t *filter, tern_get_result_t *res);

int64_t tern_store_get_min_offset(tern_store_t *s, tern_str_t topic, int32_t queue_id);
int64_t tern_store_get_max_offset(tern_store_t *s, tern_str_t topic, int32_t queue_id);
int64_t tern_store_commitlog_min_offset(tern_store_t *s);
int64_t tern_store_commitlog_max_offset(tern_store_t *s);
/* The record at a physical offset (VIEW_MESSAGE_BY_ID): span plus decoded
 * fields pointing into it. TERN_ENOTFOUND outside the log; TERN_ECORRUPT
 * when the bytes there are not a record. */
int tern_store_lookup_by_phys_offset(tern_store_t *s, int64_t phys_offset, tern_store_span_t *span,
                                     tern_msg_record_t *rec, tern_err_t *err);
/* QUERY_MESSAGE: records of `topic` indexed under `key` (a KEYS element or a
 * UNIQ_KEY) stored within [begin_ms, end_ms], newest first, at most `max`.
 * Fills out[0..*n). Every returned record has been checked to carry the key. */
int tern_store_query_by_key(tern_store_t *s, tern_str_t topic, tern_str_t key, int32_t max, int64_t begin_ms,
                            int64_t end_ms, tern_store_span_t *out, size_t *n);
/* SEARCH_OFFSET_BY_TIMESTAMP (4.9 semantics: the offset stored exactly at ts or
 * the nearer neighbour; 0 for an empty queue). */
int64_t tern_store_search_offset_by_time(tern_store_t *s, tern_str_t topic, int32_t queue_id, int64_t ts);
/* GET_EARLIEST_MSG_STORETIME: store time of the queue's first record, -1 if none. */
int64_t tern_store_earliest_store_time(tern_store_t *s, tern_str_t topic, int32_t queue_id);
/* Store time of the record at a queue offset (getMessageStoreTimeStamp), -1 if none. */
int64_t tern_store_get_store_time(tern_store_t *s, tern_str_t topic, int32_t queue_id, int64_t queue_offset);

/* DELETE_TOPIC_IN_BROKER: removes the topic's consume queues (files and
 * directories); its records stay in the commit log until retention. A later
 * put to the topic starts its queues at offset 0 again. Returns the number of
 * queues removed. */
int tern_store_delete_topic(tern_store_t *s, tern_str_t topic);

/* Housekeeping the owner thread calls about every 10 s: retries a dispatch
 * that failed, deletes expired or (when the disk is filling) old files, moves
 * min offsets, releases mappings of deleted files after the grace period,
 * refreshes the disk-full state. */
void tern_store_tick(tern_store_t *s);
/* True while writes are refused because the disk is past the warning level. */
bool tern_store_disk_full(tern_store_t *s);

/* Metadata files in <root>/config/ (reference 7.6): written atomically (the
 * old file copied to <name>.bak, new text to <name>.tmp, fsync, rename, fsync
 * of the directory). Loading falls back to <name>.bak when the file is
 * missing, empty or rejected by `parse` (which returns 0 to accept). */
int tern_store_meta_write(tern_store_t *s, const char *name, const void *data, size_t len, tern_err_t *err);
typedef int (*tern_meta_parse_fn)(void *ctx, const uint8_t *data, size_t len);
/* Returns 0 with `parse` having accepted one version, TERN_ENOTFOUND when
 * neither file exists, or the parse error of the last file tried. */
int tern_store_meta_load(tern_store_t *s, const char *name, tern_meta_parse_fn parse, void *ctx, tern_err_t *err);
/* The same on an explicit directory (used by tools and before a store exists). */
int tern_meta_write_file(const char *dir, const char *name, const void *data, size_t len, tern_err_t *err);
int tern_meta_load_file(const char *dir, const char *name, tern_meta_parse_fn parse, void *ctx, tern_err_t *err);

/* Counters for tests and the benchmark. */
typedef struct tern_store_stats {
  int64_t flush_rounds;     /* fdatasync rounds of the commit log */
  int64_t sync_waiters_done;
  int64_t recovered_from;   /* commit-log offset the last recovery scanned from */
  int64_t recovery_truncated_bytes;
  bool last_exit_ok;
  int64_t corruptions;      /* corrupt entries/records reported since open */
} tern_store_stats_t;
void tern_store_get_stats(tern_store_t *s, tern_store_stats_t *st);

#endif
