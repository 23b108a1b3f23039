/* Internal structures of the store shared by its .c files: mapped files, file
 * queues, the commit log, consume queues, the index service, the flush
 * service and the store itself. Not for use outside broker/store/. */
#ifndef TERN_BROKER_STORE_INT_H
#define TERN_BROKER_STORE_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "broker/store/store.h"
#include "gen/store.h"

#define TERN_OS_PAGE 4096
#define TERN_END_FILE_MIN_BLANK 8 /* a record always leaves room for a blank header */

/* ---- mapped_file.c: one fixed-size file mapped shared, read-write. ---- */
typedef struct mfile {
  char *path;
  int64_t from;   /* offset of byte 0 in the queue's address space (= file name) */
  int64_t size;
  int fd;
  uint8_t *base;
  _Atomic int64_t wrote;   /* bytes written (relative), published with release */
  _Atomic int64_t flushed; /* bytes known durable (relative) */
  int64_t retired_at;      /* ms when deleted; unmapped after the grace period */
  struct mfile *next_retired;
} mfile_t;

/* Creates (create=true: must not exist, preallocated to size) or opens an
 * existing file (its size must equal `size`) and maps it. */
int mfile_open(const char *path, int64_t from, int64_t size, bool create, mfile_t **out, tern_err_t *err);
/* sparse: create with ftruncate instead of reserving blocks (index files:
 * 420 MB written in scattered places, as RocketMQ's setLength leaves them). */
int mfile_open_ex(const char *path, int64_t from, int64_t size, bool create, bool sparse, mfile_t **out,
                  tern_err_t *err);
void mfile_close(mfile_t *m);                  /* munmap + close */
void mfile_zero(mfile_t *m, int64_t pos, int64_t end);
int mfile_sync(mfile_t *m, int64_t upto);      /* fdatasync when flushed < upto; sets flushed */
char *tern_store_path_join(const char *a, const char *b); /* malloc'd a/b (NULL on OOM) */
void tern_store_offset_name(int64_t off, char out[21]);  /* 20-digit zero padded */
int tern_store_mkdirs(const char *path);

/* ---- file_queue.c: the ordered files of one directory. ---- */
typedef struct fqueue {
  char *dir;
  int64_t file_size;
  pthread_mutex_t mu; /* guards files/n against the flush thread; the owner thread takes it only to change the list */
  mfile_t **files;
  size_t n, cap;
  mfile_t *retired;   /* deleted files whose mapping is kept for readers */
  struct tern_store *store;
} fqueue_t;

int fq_init(fqueue_t *q, struct tern_store *s, const char *dir, int64_t file_size);
/* Loads every file named by a 20-digit offset, checks sizes and contiguity. */
int fq_load(fqueue_t *q, tern_err_t *err);
void fq_destroy(fqueue_t *q);
static inline mfile_t *fq_last(const fqueue_t *q) { return q->n ? q->files[q->n - 1] : NULL; }
static inline mfile_t *fq_first(const fqueue_t *q) { return q->n ? q->files[0] : NULL; }
mfile_t *fq_find(const fqueue_t *q, int64_t offset); /* file holding offset, or NULL */
/* Appends a new file starting at `from` (which must follow the last file). */
int fq_add(fqueue_t *q, int64_t from, mfile_t *prepared, mfile_t **out, tern_err_t *err);
int64_t fq_min_offset(const fqueue_t *q);
int64_t fq_max_offset(const fqueue_t *q); /* last file's from + wrote; 0 when empty */
/* Drops everything at or past `offset`: later files deleted, the tail of the
 * file holding it zeroed, write positions set. */
int fq_truncate(fqueue_t *q, int64_t offset);
/* Unlinks the first file, keeping its mapping until the grace period ends. */
void fq_delete_first(fqueue_t *q, int64_t now_ms);
void fq_reap_retired(fqueue_t *q, int64_t now_ms, int64_t grace_ms, bool all);
/* fdatasyncs files holding [flushed, upto) when at least least_bytes are
 * dirty (0: always); returns 0 or TERN_EIO. Safe from the flush thread. */
int fq_flush(fqueue_t *q, int64_t upto, int64_t least_bytes);
int64_t fq_flushed(fqueue_t *q);

/* ---- allocator.c: prepares the next commit-log file on its own thread. ---- */
typedef struct allocator {
  pthread_t th;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  bool stop, started;
  char *want_path; int64_t want_from, want_size; /* request */
  bool warm;                                     /* write zeros through new files (warmMapedFileEnable) */
  mfile_t *ready; int64_t ready_from;            /* result */
  int ready_err;
} allocator_t;
int alloc_start(allocator_t *a, bool warm);
void alloc_stop(allocator_t *a);
void alloc_request(allocator_t *a, const char *path, int64_t from, int64_t size);
/* The prepared file for `from` if the thread has made it (waiting for it if
 * it is in progress), else NULL. */
mfile_t *alloc_take(allocator_t *a, int64_t from);

/* ---- consume_queue.c ---- */
typedef struct cqueue {
  char *topic; /* NUL-terminated copy */
  size_t topic_len;
  int32_t queue_id;
  fqueue_t fq;
  int64_t next_assign;   /* next queue offset handed to an append (owner thread) */
  int64_t min_logic;     /* queue offset of the first entry still pointing into the commit log */
  int64_t max_phys_end;  /* commit-log offset just past the last entry's record */
  bool rebuild;          /* recovery cut it at a damaged entry: re-dispatch from its end */
  struct cqueue *hnext;  /* hash chain */
} cqueue_t;

/* ---- index_file.c ---- */
typedef struct ixfile {
  mfile_t *mf;
  tern_index_header_t hdr;
  bool flushed_full;
} ixfile_t;
typedef struct ixservice {
  char *dir;
  int32_t slot_num, index_num;
  int64_t file_size;
  ixfile_t **files;
  size_t n, cap;
  pthread_mutex_t mu; /* list changes vs the flush thread */
  int64_t skip_below;  /* records below this commit-log offset are already indexed */
  int64_t last_flush_ms;
  _Atomic int64_t end_ts;      /* end time of the newest entry, published by the owner for the flusher */
  _Atomic int64_t flushed_ts;  /* end time of the last index flush, for the checkpoint */
} ixservice_t;

/* ---- flush.c ---- */
typedef struct waiter {
  int64_t end, deadline;
  tern_flush_cb cb;
  void *arg;
} waiter_t;
typedef struct flusher {
  pthread_t th, cq_th, to_th;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  bool stop, started, kick;
  waiter_t *w; size_t wn, wcap, whead; /* FIFO of waiters (ascending end offsets) */
  void (*round_done)(void *);
  void *round_ctx;
} flusher_t;

/* ---- the store ---- */
#define CQ_CHUNK 1024
#define CQ_CHUNKS 4096
struct tern_store {
  tern_store_config_t cfg;
  char *root, *clog_dir, *cq_dir, *index_dir, *config_dir, *checkpoint_path, *abort_path, *lock_path;
  char *delete_when;
  char *delay_levels;
  int64_t delay_ms[65]; /* [level] for levels 1..max_delay_level */
  int32_t max_delay_level;
  int64_t ram_bytes; /* physical memory, for accessMessageInMemoryMaxRatio */
  int lock_fd;

  /* commit log */
  fqueue_t clog;
  _Atomic int64_t clog_written;   /* max offset, release-published after each append */
  _Atomic int64_t clog_written_ts;
  _Atomic int64_t clog_flushed;
  _Atomic int64_t clog_flushed_ts;
  allocator_t alloc;

  /* consume queues: hash table (owner thread) + append-only registry the flush thread walks */
  cqueue_t **cq_tab; size_t cq_tab_cap, cq_count;
  cqueue_t **_Atomic cq_reg[CQ_CHUNKS];
  _Atomic size_t cq_reg_n;
  _Atomic int64_t dispatched_ts;  /* store time of the last dispatched record */
  int64_t reput_offset;           /* commit-log offset dispatched up to */

  ixservice_t ix;

  /* checkpoint (mapped page) */
  int ckpt_fd;
  uint8_t *ckpt;
  tern_checkpoint_t ckpt_v;

  flusher_t fl;
  _Atomic bool disk_full;
  _Atomic bool closing;
  int64_t last_tick_clean_ms;

  /* stats */
  _Atomic int64_t st_flush_rounds, st_waiters_done, st_corruptions;
  int64_t st_recovered_from, st_truncated;
  bool last_exit_ok;
};

int64_t tern_store_now(tern_store_t *s);
void tern_store_logf(tern_store_t *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tern_store_corrupt(tern_store_t *s, const char *file, int64_t off, const char *what);

/* commitlog.c */
int clog_check(tern_store_t *s, const tern_msg_record_t *r, tern_put_result_t *res, uint32_t *size_out); /* limits, before any write */
/* Rolls to the next file now when `total` bytes would not fit in this one, so a batch stays in one file. */
int clog_reserve(tern_store_t *s, int64_t total, tern_put_result_t *res);
int clog_append(tern_store_t *s, tern_msg_record_t *r, cqueue_t *cq, tern_put_result_t *res);
/* Reads the record at phys: span and decoded header. TERN_ENOTFOUND when no
 * file holds it, TERN_ECORRUPT (reported) when it is not a valid record. */
int clog_read(tern_store_t *s, int64_t phys, int32_t expect_size, tern_store_span_t *span, tern_msg_record_t *rec,
              tern_err_t *err);
/* Validates the record at file position pos: >0 its size, 0 a blank filler
 * (skip to next file) or end of data, <0 corrupt. */
int clog_check_at(tern_store_t *s, mfile_t *f, int64_t pos, bool check_crc, tern_msg_record_t *rec, int32_t *size,
                  const char **why);

/* consume_queue.c */
int cq_load_all(tern_store_t *s, tern_err_t *err);
cqueue_t *cq_find(tern_store_t *s, tern_str_t topic, int32_t qid);
cqueue_t *cq_get_or_create(tern_store_t *s, tern_str_t topic, int32_t qid);
int cq_put(tern_store_t *s, cqueue_t *cq, int64_t qoff, int64_t phys, int32_t size, int64_t tags);
int64_t cq_max_offset(const cqueue_t *cq);
int cq_entry_at(tern_store_t *s, cqueue_t *cq, int64_t qoff, tern_cq_entry_t *e);
void cq_recover(tern_store_t *s, cqueue_t *cq);           /* finds the last valid entry */
void cq_truncate_phys(tern_store_t *s, cqueue_t *cq, int64_t clog_max); /* drops entries past the log end */
void cq_correct_min(tern_store_t *s, cqueue_t *cq, int64_t clog_min);
void cq_delete_expired(tern_store_t *s, cqueue_t *cq, int64_t clog_min, int64_t now);
void cq_flush_all(tern_store_t *s, bool force);
int cq_delete_topic(tern_store_t *s, tern_str_t topic, int64_t now); /* returns queues removed */
void cq_free_all(tern_store_t *s);
size_t cq_registry_count(tern_store_t *s);
cqueue_t *cq_registry_at(tern_store_t *s, size_t i);

/* index_file.c */
int ix_init(tern_store_t *s, tern_err_t *err);
void ix_destroy(ixservice_t *ix);
int ix_put(tern_store_t *s, tern_str_t topic, tern_str_t key, int64_t phys, int64_t store_ts);
int64_t ix_end_phy(tern_store_t *s);
size_t ix_query(tern_store_t *s, tern_str_t topic, tern_str_t key, size_t max, int64_t begin, int64_t end,
                int64_t *phys_out);
void ix_flush(tern_store_t *s, bool force);
void ix_delete_expired(tern_store_t *s, int64_t clog_min);
void ix_truncate_phys(tern_store_t *s, int64_t clog_max);

/* dispatch.c: one record into its consume queue and the index. */

int dispatch_record(tern_store_t *s, const tern_msg_record_t *r, int64_t phys, bool recovering);
/* Dispatches every record from reput_offset to the log end, in order; stops at
 * the first failure (e.g. a queue file that cannot be created) and leaves
 * reput_offset there, so nothing is skipped. */
int dispatch_pending(tern_store_t *s);

/* flush.c */
int flusher_start(tern_store_t *s);
void flusher_stop(tern_store_t *s);
int clog_flush(tern_store_t *s, int64_t least_bytes);
int64_t tern_mono_ms(void);
void checkpoint_write(tern_store_t *s, bool clean);

/* replica.c (broker/ha/ replication): dispatches the whole records past
 * reput_offset of a slave's log, stopping at a partial tail; cuts that tail
 * back on close (slave_mode). */
int replica_dispatch(tern_store_t *s, tern_store_record_fn on_record, void *ctx, tern_err_t *err);
/* commitlog.c: opens the next commit-log file (the allocator's prepared one when
 * ready) after the last, or the file holding the write position when there is
 * none, and asks the allocator for the one after it. Writer (loop) thread only. */
int commitlog_roll(tern_store_t *s, mfile_t **out, tern_err_t *err);
void replica_cut_partial(tern_store_t *s);

/* recovery.c */
int store_recover(tern_store_t *s, tern_err_t *err);

/* retention.c */
void retention_tick(tern_store_t *s);
double store_disk_ratio(tern_store_t *s, const char *path);

#endif
