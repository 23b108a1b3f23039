/* A Tern event loop: one libuv loop plus what every connection on it shares:
 * network options, the table of requests awaiting responses, the list of
 * connections with output to flush (flushed once per loop iteration, one
 * writev per connection), a hand-over queue for other threads, and signal
 * handling for clean shutdown. One thread runs a loop; see runtime/THREADING.md. */
#ifndef TERN_RUNTIME_LOOP_H
#define TERN_RUNTIME_LOOP_H

#include <pthread.h>
#include <uv.h>

#include "runtime/arena.h"
#include "runtime/config.h"
#include "runtime/pending.h"

/* Network settings; keys follow RocketMQ's NettyServerConfig / NettyClientConfig
 * where one exists. */
typedef struct tern_net_opts {
  int32_t version;             /* remotingVersion (Tern): `version` of every reply, default 409 (4.9.8) */
  int32_t server_idle_s;       /* serverChannelMaxIdleTimeSeconds: 120; 0 = never */
  int32_t client_idle_s;       /* clientChannelMaxIdleTimeSeconds: 120; 0 = never */
  int32_t idle_ms_override;    /* tests: idle timeout in ms for both sides when > 0 */
  int32_t max_frame;           /* frameMaxLength (com.rocketmq.remoting.frameMaxLength): 16 MiB */
  int32_t write_high;          /* writeBufferHighWaterMark: stop reading a connection above this */
  int32_t write_low;           /* writeBufferLowWaterMark: resume reading below this */
  int32_t write_limit;         /* writeBufferHardLimit (Tern): close a connection whose output exceeds this */
  int32_t connect_timeout_ms;  /* connectTimeoutMillis: 3000 */
  int32_t shutdown_grace_ms;   /* shutdownGraceMillis (Tern): time to flush replies on shutdown, 3000 */
} tern_net_opts_t;

void tern_net_opts_default(tern_net_opts_t *o);
/* Config table over tern_net_opts_t, for tern_config_add(). */
extern const tern_cfg_item_t tern_net_cfg_items[];
extern const size_t tern_net_cfg_count;

/* Work handed to the loop from another thread. Embed it in your own struct;
 * it must stay valid until fn runs (on the loop thread). */
typedef struct tern_post tern_post_t;
typedef void (*tern_post_fn)(tern_post_t *p);
struct tern_post {
  tern_post_t *next;
  tern_post_fn fn;
};

typedef struct tern_loop tern_loop_t;
typedef void (*tern_signal_cb)(tern_loop_t *loop, int signum, void *arg);

/* Counters of one loop's traffic (loop thread only; read them there or after the loop stopped). */
typedef struct tern_loop_stats {
  uint64_t reads;      /* read callbacks with data */
  uint64_t frames_in;  /* frames dispatched */
  uint64_t writes;     /* writev calls (one per connection per flush) */
  uint64_t bytes_out;  /* bytes handed to those writes */
} tern_loop_stats_t;

struct tern_loop {
  uv_loop_t *uv;
  tern_net_opts_t opts;
  tern_loop_stats_t stats;
  void *data; /* for the owner */
  /* private */
  uv_prepare_t prep;
  uv_check_t check;
  uv_timer_t rpc_timer;
  uint64_t rpc_due;
  uv_async_t async;
  uv_signal_t sig[2];
  tern_signal_cb sig_cb;
  void *sig_arg;
  pthread_mutex_t post_mu;
  tern_post_t *post_head, *post_tail;
  uint32_t holds;
  struct tern_conn *dirty; /* connections with output queued this iteration */
  tern_pending_table_t pending;
  tern_arena_t scratch; /* header decoding, reset per frame */
  uint8_t scratch_block[16384];
  bool own_uv;
};

/* uv may be NULL: the loop creates and owns its own uv_loop_t. opts NULL:
 * defaults. The first call sets SIGPIPE to SIG_IGN for the process. Timers of
 * your own are plain uv_timer_t on l->uv. */
int tern_loop_init(tern_loop_t *l, uv_loop_t *uv, const tern_net_opts_t *opts);
/* uv_run(UV_RUN_DEFAULT): returns when nothing is left to do or after tern_loop_stop. */
int tern_loop_run(tern_loop_t *l);
void tern_loop_stop(tern_loop_t *l);
/* Closes the loop's own handles and runs until they are closed; connections and
 * servers must be closed first. Frees a loop-created uv_loop_t. */
void tern_loop_close(tern_loop_t *l);
/* Thread-safe: queues p and wakes the loop; every queued post runs in the
 * next wake-up, in order (many posts, one wake-up). Posts do not by themselves
 * keep a loop running: a loop with no other active handle returns from
 * uv_run without waiting for them. When the loop thread hands work to another
 * thread and must wait for its post, bracket that with hold/unhold. */
void tern_loop_post(tern_loop_t *l, tern_post_t *p, tern_post_fn fn);
/* Loop thread only: while holds > 0 the loop stays alive waiting for posts
 * (the post queue's async handle is referenced). Counted; pair every hold
 * with one unhold, typically in the posted function. */
void tern_loop_hold(tern_loop_t *l);
void tern_loop_unhold(tern_loop_t *l);
/* Calls cb on the loop thread for SIGINT and SIGTERM (signal handles do not
 * keep the loop alive). */
int tern_loop_on_signals(tern_loop_t *l, tern_signal_cb cb, void *arg);
void tern_loop_signals_off(tern_loop_t *l);
/* Milliseconds of loop time (monotonic, cached per iteration). */
static inline uint64_t tern_loop_now(const tern_loop_t *l) { return uv_now(l->uv); }

/* Next request id: one process-wide counter like Java's RemotingCommand.requestId. */
int32_t tern_next_opaque(void);

/* internal: loop.c <-> conn.c */
void tern_loop__arm_rpc_timer(tern_loop_t *l, uint64_t deadline);
void tern_conn__flush_dirty(tern_loop_t *l);
void tern_conn__expire_pending(tern_loop_t *l);

#endif
