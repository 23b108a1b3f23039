/* Blocking raw-socket frame I/O for the name server's tests and benchmark:
 * encode a command with the generated codec and write it, read exactly one
 * frame back and decode it. Deliberately below the runtime's client, so the
 * torture test can also send what no client would. */
#ifndef TERN_NAMESRV_TEST_NS_WIRE_H
#define TERN_NAMESRV_TEST_NS_WIRE_H

#include "gen/command.h"
#include "runtime/buf.h"

int ns_wire_send_all(int fd, const void *p, size_t n);
/* Encodes and sends; 0 or -1. */
int ns_wire_send_cmd(int fd, const tern_cmd_t *cmd);
/* Reads one frame into *buf (reset first) and decodes it into *cmd (strings
 * point into buf / scratch). Returns 0, 1 on orderly close before any byte,
 * or -1 on timeout, error or a malformed frame. */
int ns_wire_read_cmd(int fd, tern_buf_t *buf, tern_cmd_t *cmd, tern_arena_t *scratch, int timeout_ms);
/* Waits for the peer to close: 1 closed, 0 still open after timeout_ms
 * (bytes that arrive meanwhile are discarded). */
int ns_wire_wait_closed(int fd, int timeout_ms);
/* A request with JSON header, code, opaque; version 409 (4.9.8), language JAVA. */
void ns_wire_request(tern_cmd_t *cmd, int32_t code, int32_t opaque);

#endif
