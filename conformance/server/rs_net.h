/* run-server's connection: a plain blocking TCP socket, so cases control the
 * exact bytes (split frames, pipelining, oversize prefixes). Frames are cut by
 * the generated frame parser and decoded by the generated header codec. */
#ifndef TERN_CONFORMANCE_RS_NET_H
#define TERN_CONFORMANCE_RS_NET_H

#include <stdbool.h>
#include <stddef.h>

#include "gen/command.h"
#include "runtime/arena.h"

typedef struct rs_conn {
  int fd;
  char addr[96];
  uint8_t ser;                /* TERN_SER_* used by rs_call */
  tern_frame_parser_t fp;
  uint8_t *buf;
  size_t len, cap, consumed;  /* consumed: bytes of the last frame handed out */
  tern_arena_t arena;         /* decoded strings of the last frame */
  int32_t next_opaque;
} rs_conn_t;

int rs_connect(rs_conn_t *c, const char *addr, uint8_t ser, int timeout_ms);
void rs_close(rs_conn_t *c);
int rs_write(rs_conn_t *c, const void *p, size_t n);
/* One frame decoded into *cmd (valid until the next read): 0, TERN_ETIMEDOUT,
 * TERN_ECLOSED (peer closed), or the parser's/decoder's error. */
int rs_read(rs_conn_t *c, tern_cmd_t *cmd, int timeout_ms);
/* Sets opaque and serialization, writes req, reads until the response with
 * that opaque (requests from the server are skipped). Oneway: returns after the write. */
int rs_call(rs_conn_t *c, tern_cmd_t *req, tern_cmd_t *resp, int timeout_ms);
/* Encodes req (opaque assigned) into out without sending. */
int rs_encode(rs_conn_t *c, tern_cmd_t *req, tern_buf_t *out);
/* True when the peer closes the connection within timeout_ms (frames read meanwhile are dropped). */
bool rs_wait_closed(rs_conn_t *c, int timeout_ms);
double rs_now_ms(void);

#endif
