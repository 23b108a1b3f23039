/* The loop: owns the per-iteration flush (prepare + check handles, so output
 * queued by timers and by reads alike goes out before the loop blocks), the
 * single timer for response timeouts, the cross-thread post queue (one
 * uv_async_t, drained as a batch) and the SIGINT/SIGTERM handles. */
#include "runtime/loop.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "runtime/log.h"

void tern_net_opts_default(tern_net_opts_t *o) {
  o->version = 409;
  o->server_idle_s = 120;
  o->client_idle_s = 120;
  o->idle_ms_override = 0;
  o->max_frame = 16 << 20;
  o->write_high = 4 << 20;
  o->write_low = 1 << 20;
  o->write_limit = 64 << 20;
  o->connect_timeout_ms = 3000;
  o->shutdown_grace_ms = 3000;
}

const tern_cfg_item_t tern_net_cfg_items[] = {
  TERN_CFG_INT(tern_net_opts_t, version, "remotingVersion", "409", false,
               "version code written in every reply (409 = 4.9.8)"),
  TERN_CFG_INT(tern_net_opts_t, server_idle_s, "serverChannelMaxIdleTimeSeconds", "120", false,
               "close server connections idle (no read, no write) this long; 0 never"),
  TERN_CFG_INT(tern_net_opts_t, client_idle_s, "clientChannelMaxIdleTimeSeconds", "120", false,
               "close client connections idle this long; 0 never"),
  TERN_CFG_INT(tern_net_opts_t, max_frame, "frameMaxLength", "16777216", false,
               "largest accepted frame including its 4-byte length"),
  TERN_CFG_INT(tern_net_opts_t, write_high, "writeBufferHighWaterMark", "4194304", false,
               "stop reading a connection while this many bytes wait to be written"),
  TERN_CFG_INT(tern_net_opts_t, write_low, "writeBufferLowWaterMark", "1048576", false,
               "resume reading once output drops below this"),
  TERN_CFG_INT(tern_net_opts_t, write_limit, "writeBufferHardLimit", "67108864", false,
               "close a connection whose queued output exceeds this"),
  TERN_CFG_INT(tern_net_opts_t, connect_timeout_ms, "connectTimeoutMillis", "3000", false,
               "client connect timeout"),
  TERN_CFG_INT(tern_net_opts_t, shutdown_grace_ms, "shutdownGraceMillis", "3000", false,
               "time allowed to flush replies on shutdown"),
};
const size_t tern_net_cfg_count = TERN_ARRAY_SIZE(tern_net_cfg_items);

int32_t tern_next_opaque(void) {
  static atomic_uint next;
  return (int32_t)atomic_fetch_add_explicit(&next, 1u, memory_order_relaxed);
}

static void on_prepare(uv_prepare_t *h) { tern_conn__flush_dirty(h->data); }
static void on_check(uv_check_t *h) { tern_conn__flush_dirty(h->data); }

static void on_rpc_timer(uv_timer_t *t) {
  tern_loop_t *l = t->data;
  l->rpc_due = UINT64_MAX;
  tern_conn__expire_pending(l);
}

void tern_loop__arm_rpc_timer(tern_loop_t *l, uint64_t deadline) {
  uint64_t now = uv_now(l->uv);
  if (deadline == UINT64_MAX || deadline >= l->rpc_due) return;
  l->rpc_due = deadline;
  uv_timer_start(&l->rpc_timer, on_rpc_timer, deadline > now ? deadline - now : 0, 0);
}

static void on_async(uv_async_t *a) {
  tern_loop_t *l = a->data;
  tern_post_t *p;
  pthread_mutex_lock(&l->post_mu);
  p = l->post_head;
  l->post_head = l->post_tail = NULL;
  pthread_mutex_unlock(&l->post_mu);
  while (p) {
    tern_post_t *next = p->next; /* fn may free or reuse p */
    p->fn(p);
    p = next;
  }
}

/* A peer that resets its connection must cost us an EPIPE from writev, not the
 * process: SIGPIPE is ignored process-wide (as the JVM effectively does). */
static void ignore_sigpipe(void) { signal(SIGPIPE, SIG_IGN); }

int tern_loop_init(tern_loop_t *l, uv_loop_t *uv, const tern_net_opts_t *opts) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  int rc;
  pthread_once(&once, ignore_sigpipe);
  memset(l, 0, sizeof *l);
  if (opts) l->opts = *opts;
  else tern_net_opts_default(&l->opts);
  if (!uv) {
    uv = malloc(sizeof *uv);
    if (!uv) return TERN_ENOMEM;
    if (uv_loop_init(uv)) {
      free(uv);
      return TERN_EIO;
    }
    l->own_uv = true;
  }
  l->uv = uv;
  l->rpc_due = UINT64_MAX;
  tern_pending_init(&l->pending);
  tern_arena_init(&l->scratch, (size_t)l->opts.max_frame + 4096, l->scratch_block, sizeof l->scratch_block);
  pthread_mutex_init(&l->post_mu, NULL);
  uv_prepare_init(uv, &l->prep);
  uv_check_init(uv, &l->check);
  uv_timer_init(uv, &l->rpc_timer);
  rc = uv_async_init(uv, &l->async, on_async);
  if (rc) return TERN_EIO; /* only fails when out of file descriptors */
  l->prep.data = l->check.data = l->rpc_timer.data = l->async.data = l;
  uv_prepare_start(&l->prep, on_prepare);
  uv_check_start(&l->check, on_check);
  /* None of the loop's own handles keeps it alive; connections, servers and
   * timers of the owner do. */
  uv_unref((uv_handle_t *)&l->prep);
  uv_unref((uv_handle_t *)&l->check);
  uv_unref((uv_handle_t *)&l->rpc_timer);
  uv_unref((uv_handle_t *)&l->async);
  return 0;
}

int tern_loop_run(tern_loop_t *l) { return uv_run(l->uv, UV_RUN_DEFAULT); }
void tern_loop_stop(tern_loop_t *l) { uv_stop(l->uv); }

void tern_loop_post(tern_loop_t *l, tern_post_t *p, tern_post_fn fn) {
  bool wake;
  p->fn = fn;
  p->next = NULL;
  pthread_mutex_lock(&l->post_mu);
  wake = l->post_head == NULL; /* a non-empty queue already has a wake-up pending */
  if (l->post_tail) l->post_tail->next = p;
  else l->post_head = p;
  l->post_tail = p;
  pthread_mutex_unlock(&l->post_mu);
  if (wake) uv_async_send(&l->async);
}

void tern_loop_hold(tern_loop_t *l) {
  if (l->holds++ == 0) uv_ref((uv_handle_t *)&l->async);
}

void tern_loop_unhold(tern_loop_t *l) {
  if (l->holds && --l->holds == 0) uv_unref((uv_handle_t *)&l->async);
}

static void on_signal(uv_signal_t *s, int signum) {
  tern_loop_t *l = s->data;
  tern_info("received signal %d, shutting down", signum);
  if (l->sig_cb) l->sig_cb(l, signum, l->sig_arg);
}

int tern_loop_on_signals(tern_loop_t *l, tern_signal_cb cb, void *arg) {
  static const int sigs[2] = {SIGINT, SIGTERM};
  l->sig_cb = cb;
  l->sig_arg = arg;
  for (int i = 0; i < 2; i++) {
    if (!uv_is_active((uv_handle_t *)&l->sig[i])) {
      if (l->sig[i].loop == NULL && uv_signal_init(l->uv, &l->sig[i])) return TERN_EIO;
      l->sig[i].data = l;
      if (uv_signal_start(&l->sig[i], on_signal, sigs[i])) return TERN_EIO;
      uv_unref((uv_handle_t *)&l->sig[i]);
    }
  }
  return 0;
}

void tern_loop_signals_off(tern_loop_t *l) {
  for (int i = 0; i < 2; i++)
    if (l->sig[i].loop) uv_signal_stop(&l->sig[i]);
}

static void close_if_open(uv_handle_t *h) {
  if (h->loop && !uv_is_closing(h)) uv_close(h, NULL);
}

void tern_loop_close(tern_loop_t *l) {
  close_if_open((uv_handle_t *)&l->prep);
  close_if_open((uv_handle_t *)&l->check);
  close_if_open((uv_handle_t *)&l->rpc_timer);
  close_if_open((uv_handle_t *)&l->async);
  for (int i = 0; i < 2; i++) close_if_open((uv_handle_t *)&l->sig[i]);
  uv_run(l->uv, UV_RUN_DEFAULT);
  on_async(&l->async); /* posts that raced with the close still run */
  tern_pending_free(&l->pending);
  tern_arena_free(&l->scratch);
  pthread_mutex_destroy(&l->post_mu);
  if (l->own_uv) {
    if (uv_loop_close(l->uv)) tern_warn("tern_loop_close: handles still open on the loop");
    else free(l->uv);
  }
  l->uv = NULL;
}
