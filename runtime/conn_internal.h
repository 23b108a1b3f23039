/* The connection struct and the hooks server.c and pool.c use to create and
 * own connections. Not for use outside runtime/. */
#ifndef TERN_RUNTIME_CONN_INTERNAL_H
#define TERN_RUNTIME_CONN_INTERNAL_H

#include "runtime/conn.h"

/* One contiguous run of output: buf bytes up to buf_end, then an external span. */
typedef struct tern_seg {
  size_t buf_end;
  const void *p;
  size_t n;
  tern_release_fn release; /* set on the last span of a reply */
  void *arg;
} tern_seg_t;

typedef struct tern_outq {
  tern_buf_t buf;
  tern_seg_t *segs;
  uint32_t nsegs, capsegs;
  size_t ext_bytes;
} tern_outq_t;

enum { TERN_CONN_CONNECTING = 0, TERN_CONN_OPEN, TERN_CONN_DRAINING, TERN_CONN_CLOSED };

struct tern_conn {
  uv_tcp_t tcp;
  uv_timer_t timer; /* connect timeout, then idle check, then shutdown grace */
  tern_loop_t *loop;
  int refs;
  int handles_open;
  uint8_t state;
  bool reading, paused, writing, dirty, outbound;
  bool cur_active, cur_replied;
  int32_t cur_opaque;
  uint32_t parked; /* requests whose handler returned without replying yet */
  uint32_t idle_ms;
  uint64_t last_active;

  tern_request_fn on_request;
  void *req_ctx;
  tern_inspect_fn inspect; /* accepted connections: the server's inspector */
  void *inspect_ctx;
  tern_conn_close_fn on_close;
  void *close_ctx;
  void *data;

  /* The owner (server or pool) keeps its connections in a list and is told at
   * close time, so it stops handing the connection out at once. */
  void *owner;
  void (*owner_detach)(tern_conn_t *c); /* at close time */
  void (*owner_closed)(tern_conn_t *c); /* after the handles closed */
  tern_conn_t *onext, *oprev;

  uint8_t *rbuf;
  size_t rlen, rcap;
  tern_frame_parser_t fp;

  tern_outq_t out; /* accumulating this iteration */
  tern_outq_t fly; /* handed to uv_write */
  uv_buf_t *iov;
  uint32_t capiov;
  size_t fly_bytes;
  uv_write_t wreq;
  uv_connect_t creq;
  uv_getaddrinfo_t gai;
  bool resolving;
  tern_conn_t *dirty_next;

  tern_pending_t *pending_head;
  char peer[64];
  char addr[96];
};

/* A new connection with its handles initialised (state CONNECTING). */
tern_conn_t *tern_conn__new(tern_loop_t *l, bool outbound, uint32_t idle_ms);
/* Outbound: connects to addr ("ip:port", "[v6]:port" or "name:port", names
 * resolved off-loop by libuv) within the loop's connect timeout. */
int tern_conn__connect(tern_conn_t *c, const char *addr);
/* Parses "ip:port" / "[v6]:port" into a socket address; TERN_ENOTFOUND when
 * the host is a name to resolve, TERN_EINVAL when malformed. */
int tern_addr_parse(const char *addr, struct sockaddr_storage *ss);
/* The socket is connected (accepted or outbound): start reading and the idle clock. */
int tern_conn__start(tern_conn_t *c);
/* Closes with a reason for the log (NULL: quiet). */
void tern_conn__close(tern_conn_t *c, const char *why);

#endif
