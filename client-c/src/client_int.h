/* Internal interfaces of the Tern C client: the client instance (loop thread,
 * connection pool, timers, name servers), the route cache, generic requests
 * (async on the loop thread, blocking from user threads), the received-message
 * decoder and the consume thread pool. Everything named "loop thread only"
 * must run on the instance's loop thread. */
#ifndef TERN_CLIENT_INT_H
#define TERN_CLIENT_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "gen/bodies.h"
#include "gen/codes.h"
#include "gen/rpc.h"
#include "runtime/arena.h"
#include "runtime/log.h"
#include "runtime/pool.h"
#include "tern/client.h"
#include "acl_int.h" /* ACL 1.0 signing (acl.c) */

#define TC_ADDR_MAX 96

/* ---- routes (route.c) ---- */
typedef struct tc_route {
  char *topic;
  tern_arena_t arena;               /* owns rd */
  tern_body_topic_route_data_t rd;
  bool have;                        /* rd valid */
  bool not_exist;                   /* name server answered TOPIC_NOT_EXIST */
  tern_mq_t *pub; int npub;         /* writable queues, in route order */
  tern_mq_t *sub; int nsub;         /* readable queues, sorted */
  uint32_t send_index;              /* round robin */
  struct tc_route_waiter *waiters;
  bool fetching;
  struct tc_route *next;
} tc_route_t;

typedef void (*tc_route_cb)(void *arg, tc_route_t *r, int status);
typedef struct tc_route_waiter {
  tc_route_cb cb; void *arg;
  struct tc_route_waiter *next;
} tc_route_waiter_t;

/* ---- instance (instance.c) ---- */
typedef struct tc_inst tc_inst_t;
typedef struct tc_hooks {
  void *ctx;
  /* Heartbeat content: appends producer/consumer data to hb (arena for strings). */
  void (*heartbeat_fill)(void *ctx, tern_body_heartbeat_data_t *hb, tern_arena_t *a);
  void (*ids_changed)(void *ctx);            /* NOTIFY_CONSUMER_IDS_CHANGED */
  void (*on_stop)(void *ctx, void (*done)(tc_inst_t *)); /* loop thread: stop own work, then done(inst) */
} tc_hooks_t;

struct tc_inst {
  tern_loop_t loop;
  tern_pool_t pool;
  pthread_t thread;
  bool running;
  tern_client_conf_t conf;
  char *conf_strs[4];
  tc_acl_t acl;            /* ACL 1.0 credentials: tc_request signs every request when set */
  char client_id[160];
  char **ns; int nns; int ns_next;
  tc_route_t *routes;
  tc_hooks_t hooks;
  tern_client_rpc_t rpc;
  tern_client_handlers_t handlers;
  uv_timer_t t_route, t_hb;
  tern_post_t stop_post;
  pthread_mutex_t stop_mu; pthread_cond_t stop_cv; bool stopped;
};

/* Copies conf (strings too), makes the client id; no thread yet. */
int tc_inst_init(tc_inst_t *in, const tern_client_conf_t *conf, const tc_hooks_t *hooks);
/* Starts the loop thread with the route and heartbeat timers. */
int tc_inst_start(tc_inst_t *in);
/* Stops: hooks.on_stop on the loop thread, then timers and pool closed, thread joined. */
void tc_inst_stop(tc_inst_t *in);
void tc_inst_free(tc_inst_t *in);
/* Runs fn(arg) on the loop thread and waits for it to call tc_done(w). */
typedef struct tc_wait {
  tern_post_t post;
  pthread_mutex_t mu; pthread_cond_t cv; bool done;
  void (*fn)(struct tc_wait *w);
  tc_inst_t *in;
  void *arg;
  int rc;
} tc_wait_t;
int tc_run_wait(tc_inst_t *in, tc_wait_t *w, void (*fn)(tc_wait_t *w), void *arg);
void tc_done(tc_wait_t *w, int rc);
/* Sends a heartbeat to every broker master in known routes now (loop thread only). */
void tc_heartbeat_now(tc_inst_t *in);
/* UNREGISTER_CLIENT to every known broker, then done(in) (loop thread only). */
void tc_unregister_all(tc_inst_t *in, const char *producer_group, const char *consumer_group, void (*done)(tc_inst_t *));
/* Master address of broker_name in any known route (loop thread only); NULL when unknown. */
const char *tc_broker_addr(tc_inst_t *in, const char *broker_name);
/* Distinct master addresses of all known routes (loop thread only); returns the count (at most cap). */
int tc_broker_addrs(tc_inst_t *in, const char **out, int cap);

/* Generic request on the loop thread: header encoder + header, body; cb like tern_rpc_cb. */
typedef int (*tc_hdr_enc_fn)(const void *h, tern_cmd_t *cmd, tern_arena_t *scratch);
int tc_request(tc_inst_t *in, const char *addr, int32_t code, tc_hdr_enc_fn enc, const void *h, tern_str_t body,
               bool oneway, uint32_t timeout_ms, tern_rpc_cb cb, void *arg);
/* Blocking request from a user thread: resp deep-copied into arena. Returns
 * the transport status (0 = a response arrived, see resp->code). */
int tc_request_wait(tc_inst_t *in, const char *addr, int32_t code, tc_hdr_enc_fn enc, const void *h, tern_str_t body,
                    uint32_t timeout_ms, tern_cmd_t *resp, tern_arena_t *arena);
/* Blocking request to the broker holding mq (its master). */
int tc_broker_request_wait(tc_inst_t *in, const tern_mq_t *mq, int32_t code, tc_hdr_enc_fn enc, const void *h,
                           tern_str_t body, uint32_t timeout_ms, tern_cmd_t *resp, tern_arena_t *arena);
/* Fills e from a response (code, remark) or a transport status. */
void tc_err_set(tern_client_error_t *e, int status, const tern_cmd_t *resp);
int tc_err_from_code(int32_t code);

/* Routes (loop thread only). tc_route_get calls cb (maybe before returning)
 * with the cached route or after fetching it; refresh=true fetches anyway. */
void tc_route_get(tc_inst_t *in, const char *topic, bool refresh, tc_route_cb cb, void *arg);
tc_route_t *tc_route_find(tc_inst_t *in, const char *topic);
void tc_route_refresh_all(tc_inst_t *in);
void tc_routes_free(tc_inst_t *in);
int tc_route_use_default(tc_route_t *r, tc_route_t *def);
/* Blocking from user threads: copies the queues (pub or sub). */
int tc_route_queues_wait(tc_inst_t *in, const char *topic, bool writable, tern_mq_t **out, int *n);

/* ---- received messages (rmsg.c) ---- */
typedef struct tc_chunk { atomic_int refs; size_t len; uint8_t data[]; } tc_chunk_t;
typedef struct tc_rmsg {
  tern_rmsg_t pub;
  tc_chunk_t *chunk;
  uint8_t *own_body;       /* inflated body */
  char *broker_name;       /* owned copy */
  bool done;               /* concurrent consumer: consumed */
} tc_rmsg_t;
/* Decodes a pull body into messages (allocated; each refs chunk). Filters out
 * messages whose tag is not in tags (n_tags 0 = all). Returns count or <0. */
int tc_rmsgs_decode(const tern_str_t body, const char *broker_name, const tern_str_t *tags, int n_tags,
                    tc_rmsg_t ***out, size_t *n, size_t *total);
void tc_rmsg_free(tc_rmsg_t *m);

/* ---- tag expressions (sub.c) ---- */
typedef struct tc_sub {
  char *topic, *expr;
  tern_str_t *tags; int ntags;  /* empty for "*" */
  int32_t *codes;
  int64_t version;
} tc_sub_t;
int tc_sub_parse(tc_sub_t *s, const char *topic, const char *expr);
void tc_sub_free(tc_sub_t *s);
void tc_sub_to_body(const tc_sub_t *s, tern_body_subscription_data_t *d);

/* ---- misc ---- */
uint64_t tc_now_ms(void);
uint64_t tc_mono_us(void);

#endif
