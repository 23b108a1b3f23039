/* Internal state of broker/ha/ (ha.c: master, SYNC_MASTER waiters, life
 * cycle; slave.c: the slave's HA client and metadata sync). Loop thread only. */
#ifndef TERN_BROKER_HA_INT_H
#define TERN_BROKER_HA_INT_H

#include "broker/broker_int.h"
#include "broker/ha/ha.h"

#define HA_HEADER 12           /* phys offset (8) + body size (4) */
#define HA_TIMER_MS 1000       /* heartbeat / housekeeping / reconnect checks */
#define HA_RECONNECT_MS 1000   /* slave: wait before connecting again (Tern; Java waits up to 5 s) */

/* Master side: one connected slave. */
typedef struct hconn {
  uv_tcp_t tcp;
  struct tern_ha *ha;
  struct hconn *next, *prev;
  uint8_t rbuf[64]; /* report bytes not yet a whole 8-byte unit (plus one read's worth) */
  size_t rlen;
  bool reported;     /* the first report fixed where the transfer starts */
  int64_t next_off;  /* next commit-log byte to send */
  int64_t ack;       /* last reported offset */
  bool writing, closing;
  uv_write_t wr;
  uint8_t *wbuf;     /* header + up to haTransferBatchSize bytes */
  uint64_t last_read, last_write;
  char peer[96];
} hconn_t;

/* A SYNC_MASTER send reply waiting for a slave's ack. */
typedef struct hpark {
  struct hpark *next;
  tern_conn_t *c;
  int32_t code, opaque, flag, language;
  uint8_t serialize_type;
  int64_t end, deadline;
  int32_t queue_id;
  int64_t queue_offset;
  bool then_flush;
  size_t id_len;
  char id[];
} hpark_t;

/* Slave side: the connection to the master's HA port. */
enum { SL_IDLE = 0, SL_CONNECTING, SL_CONNECTED, SL_CLOSING };
typedef struct hslave {
  struct tern_ha *ha;
  uv_tcp_t tcp;
  uv_connect_t creq;
  int state;
  uint8_t *rb;
  size_t rlen, rcap;
  uint64_t last_read, last_report, next_connect;
  int64_t reported;   /* last offset written to the master */
  bool writing, report_again;
  uv_write_t wr;
  uint8_t wbuf[8];
  char ha_addr[128];      /* master's HA address in use */
  char master_addr[128];  /* master's remoting address (metadata sync) */
  uint64_t next_sync;
  int sync_inflight;
} hslave_t;

struct tern_ha {
  tern_broker_t *b;
  bool slave, sync_master, started, stopping;
  int64_t file_size;
  /* master */
  uv_tcp_t listener;
  bool listening;
  int port;
  hconn_t *conns;
  int nconns;
  int64_t ack; /* push2SlaveMaxOffset: the largest offset any slave reported */
  uv_prepare_t prep;
  uv_timer_t timer, wait_timer;
  bool wait_timer_on;
  hpark_t *ph, *pt;
  size_t parked;
  tern_arena_t scratch;
  /* slave */
  hslave_t sl;
  tern_broker_ha_stats_t st;
};

/* slave.c */
void ha_slave_init(struct tern_ha *ha);
void ha_slave_tick(struct tern_ha *ha, uint64_t now); /* reconnect, heartbeat report, housekeeping, sync */
void ha_slave_stop(struct tern_ha *ha);
void ha_slave_free(struct tern_ha *ha);
void ha_slave_set_addrs(struct tern_ha *ha, tern_str_t master_addr, tern_str_t ha_addr);

#endif
