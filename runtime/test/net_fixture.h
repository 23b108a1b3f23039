/* Test fixture for the network runtime: a real server on loopback running in
 * its own thread (its own loop), with handlers that echo, defer, stay silent,
 * answer with zero-copy spans or fail decoding; plus blocking raw-socket
 * helpers to send exact bytes and read replies frame by frame. */
#ifndef TERN_NET_FIXTURE_H
#define TERN_NET_FIXTURE_H

#include <pthread.h>
#include <stdatomic.h>

#include "runtime/pool.h"
#include "runtime/server.h"

enum {
  FX_ECHO = 1000,      /* reply SUCCESS, body = request body, remark = ext "k" */
  FX_DEFER = 1001,     /* reply like ECHO after ext "delay" ms */
  FX_SILENT = 1002,    /* never reply */
  FX_SPANS = 1003,     /* reply with ext "n" KiB of body sent as zero-copy spans */
  FX_BAD_HEADER = 1004,/* fail as a header decoder would (missing field "topic") */
  FX_CLOSE = 1005,     /* close the connection */
  FX_CALL_BACK = 1006, /* ask the client (request FX_CLIENT_CODE on the same connection), reply with its answer */
  FX_BAD_REPLY = 1007, /* reply with code 100000, which a binary (ROCKETMQ) header cannot carry */
  FX_CLIENT_CODE = 2000
};

typedef struct fx_server {
  tern_loop_t loop;
  tern_server_t server;
  tern_net_opts_t opts;
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  bool ready;
  bool use_signals;
  bool reuseport; /* listen with SO_REUSEPORT on want_port (first listener) */
  int want_port;
  int port, port2;
  int exit_code;
  tern_post_t stop_post;
  atomic_int requests, spans_released, conns_closed, server_closed;
  atomic_size_t max_queued; /* largest output queue seen after a reply */
} fx_server_t;

/* Starts the server thread (listening on two ephemeral ports) with opts (NULL: defaults). */
void fx_start(fx_server_t *fx, const tern_net_opts_t *opts, bool use_signals);
/* Like fx_start, with the first listener on `port` shared with other loops (SO_REUSEPORT; 0: any port). */
void fx_start_shared(fx_server_t *fx, int port);
/* Closes the server from another thread (tern_loop_post) and joins it. */
void fx_stop(fx_server_t *fx);
/* Joins a server thread that was stopped otherwise (e.g. by a signal). */
void fx_join(fx_server_t *fx);

/* Largest read buffer among the server's connections, measured on its loop thread. */
size_t fx_max_read_buffer(fx_server_t *fx);

/* Raw blocking client. */
int fx_connect(int port);
int fx_send_all(int fd, const void *p, size_t n);
/* Reads one frame into buf (cap bytes) and decodes it into cmd (scratch arena);
 * returns the frame length, 0 on EOF, -1 on error/timeout (timeout_ms). */
int fx_read_cmd(int fd, uint8_t *buf, size_t cap, tern_cmd_t *cmd, tern_arena_t *scratch, int timeout_ms);
/* True if the peer closes the connection within timeout_ms (data read meanwhile is discarded). */
bool fx_wait_eof(int fd, int timeout_ms);
/* Encodes a request with code, opaque, serialization, body and one ext entry k=v (k may be NULL) into b. */
void fx_encode(tern_buf_t *b, int32_t code, int32_t opaque, uint8_t ser, const char *body, int32_t flag,
               const char *k, const char *v);
void fx_sleep_ms(int ms);

#endif
