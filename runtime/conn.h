/* A remoting connection: frames in (reassembled across reads, many per read),
 * requests dispatched to a handler, responses matched to waiting requests by
 * opaque, replies queued and flushed once per loop iteration with one writev.
 * Connections come from a server (accepted) or a pool (outbound); both kinds
 * carry requests both ways, as RocketMQ's brokers also call their clients.
 * Loop-thread only (see runtime/THREADING.md). */
#ifndef TERN_RUNTIME_CONN_H
#define TERN_RUNTIME_CONN_H

#include "gen/command.h"
#include "runtime/loop.h"

typedef struct tern_conn tern_conn_t;

/* A request arrived. Return 0 when handled (replied now or later), TERN_ENOTFOUND
 * for an unknown code (the runtime answers REQUEST_CODE_NOT_SUPPORTED, remark
 * " request type <code> not supported"), or another negative without replying:
 * the runtime answers SYSTEM_ERROR with err's reason (a header decode failure,
 * as from tern_<role>_dispatch) or the error's name. Nothing is sent for a
 * oneway request. `req` and everything it points to is valid only during the
 * call: copy what you keep (tern_cmd_copy). */
typedef int (*tern_request_fn)(void *ctx, tern_conn_t *c, const tern_cmd_t *req, tern_err_t *err);
/* Sees every decoded request of an accepted connection just before its handler
 * (strict mode, conformance/strict.h). Must not reply or close. */
typedef void (*tern_inspect_fn)(void *ctx, tern_conn_t *c, const tern_cmd_t *req);
/* The connection closed (after its pending requests were failed). The pointer
 * stays valid until the last tern_conn_unref. */
typedef void (*tern_conn_close_fn)(void *ctx, tern_conn_t *c);

/* Sends a request. Assigns req->opaque. With TERN_FLAG_ONEWAY in req->flag no
 * response is expected: cb is not used and nothing waits. Otherwise cb runs
 * exactly once: with the response, TERN_ETIMEDOUT after timeout_ms, or
 * TERN_ECLOSED if the connection closes first. A non-zero return means cb will
 * not run (TERN_ECLOSED, TERN_ETOOBIG, TERN_ENOMEM). */
int tern_conn_request(tern_conn_t *c, tern_cmd_t *req, uint32_t timeout_ms, tern_rpc_cb cb, void *arg);
/* Answers req: copies its opaque, sets the RESPONSE flag, uses the request's
 * serialization, language JAVA and the configured version. A no-op for a
 * oneway request. TERN_ECLOSED if the connection is gone. If resp cannot be
 * encoded, the error is returned and a SYSTEM_ERROR reply goes out instead. */
int tern_conn_reply(tern_conn_t *c, const tern_cmd_t *req, tern_cmd_t *resp);
/* A reply with just a code and remark (remark may be NULL). */
int tern_conn_reply_error(tern_conn_t *c, const tern_cmd_t *req, int32_t code, const char *remark);
/* SYSTEM_ERROR with a decoder's reason: "the custom field <f> is null" for a
 * missing field (Java's wording), else "<reason>: <field>". */
int tern_conn_reply_decode_error(tern_conn_t *c, const tern_cmd_t *req, const tern_err_t *err);

/* Zero-copy reply: resp's header is encoded now, the body is the spans, sent
 * with writev straight from their memory (e.g. a mapped CommitLog). release(arg)
 * runs once when the bytes are written or dropped; the spans must stay valid
 * until then. resp->body is ignored. For a oneway request (no reply) release
 * runs before the call returns. */
typedef struct tern_span {
  const void *p;
  size_t n;
} tern_span_t;
typedef void (*tern_release_fn)(void *arg);
int tern_conn_reply_spans(tern_conn_t *c, const tern_cmd_t *req, tern_cmd_t *resp, const tern_span_t *spans,
                          size_t nspans, tern_release_fn release, void *arg);

/* Closes now: queued output is dropped, pending requests fail with TERN_ECLOSED,
 * then the close callback runs. Safe to call more than once and from callbacks. */
void tern_conn_close(tern_conn_t *c);
/* Stops reading and closes once queued output is written (or after
 * opts.shutdown_grace_ms). */
void tern_conn_shutdown(tern_conn_t *c);

/* Keeps the struct alive past close (e.g. a parked reply); replies to a closed
 * connection return TERN_ECLOSED. Every tern_conn_ref needs one unref. */
void tern_conn_ref(tern_conn_t *c);
void tern_conn_unref(tern_conn_t *c);

bool tern_conn_is_open(const tern_conn_t *c);
/* "ip:port" of the peer ("" until connected for outbound connections). */
const char *tern_conn_peer(const tern_conn_t *c);
/* For outbound connections, the address they were opened with; else the peer. */
const char *tern_conn_addr(const tern_conn_t *c);
tern_loop_t *tern_conn_loop(const tern_conn_t *c);
void tern_conn_set_data(tern_conn_t *c, void *data);
void *tern_conn_data(const tern_conn_t *c);
/* Replaces the close callback (set by the server or pool by default). */
void tern_conn_set_close_cb(tern_conn_t *c, tern_conn_close_fn fn, void *ctx);
/* Bytes queued or being written. */
size_t tern_conn_queued(const tern_conn_t *c);
/* True while reading is paused because output is above the high-water mark. */
bool tern_conn_paused(const tern_conn_t *c);

/* Deep-copies a decoded command (strings, ext, body) into an arena, so it can
 * outlive the read buffer. */
int tern_cmd_copy(tern_cmd_t *dst, const tern_cmd_t *src, tern_arena_t *a);

#endif
