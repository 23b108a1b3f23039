/* Connections: the read path (buffer, reassemble frames, decode each header
 * into a stack tern_cmd_t, dispatch requests or complete pending requests),
 * the write path (replies appended to an output queue, flushed once per loop
 * iteration as one writev of header bytes and zero-copy body spans, double
 * buffered while a write is in flight), backpressure (stop reading above the
 * high-water mark, close above the hard limit), idle close and teardown. */
#include "runtime/conn_internal.h"

#include <stdio.h>
#include <stdlib.h>

#include "gen/codes.h"
#include "runtime/log.h"

#define READ_CHUNK ((size_t)64 << 10) /* bytes offered to each read call, at least */

static void outq_init(tern_outq_t *q, size_t max) {
  memset(q, 0, sizeof *q);
  tern_buf_init(&q->buf, max);
}

/* Drops queued output, releasing any zero-copy spans. */
static void outq_clear(tern_outq_t *q) {
  for (uint32_t i = 0; i < q->nsegs; i++)
    if (q->segs[i].release) q->segs[i].release(q->segs[i].arg);
  q->nsegs = 0;
  q->ext_bytes = 0;
  tern_buf_reset(&q->buf);
}

static void outq_free(tern_outq_t *q) {
  outq_clear(q);
  tern_buf_free(&q->buf);
  free(q->segs);
}

static size_t outq_bytes(const tern_outq_t *q) { return q->buf.len + q->ext_bytes; }

tern_conn_t *tern_conn__new(tern_loop_t *l, bool outbound, uint32_t idle_ms) {
  tern_conn_t *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->loop = l;
  c->refs = 1; /* dropped when the handles are closed */
  c->outbound = outbound;
  c->idle_ms = idle_ms;
  c->state = TERN_CONN_CONNECTING;
  /* The output buffer may exceed the hard limit by one reply before we notice. */
  outq_init(&c->out, (size_t)l->opts.write_limit + (size_t)l->opts.max_frame);
  outq_init(&c->fly, (size_t)l->opts.write_limit + (size_t)l->opts.max_frame);
  tern_frame_parser_init(&c->fp, (uint32_t)l->opts.max_frame);
  uv_tcp_init(l->uv, &c->tcp);
  uv_timer_init(l->uv, &c->timer);
  c->tcp.data = c->timer.data = c;
  c->handles_open = 2;
  return c;
}

static void conn_free(tern_conn_t *c) {
  outq_free(&c->out);
  outq_free(&c->fly);
  free(c->iov);
  free(c->rbuf);
  free(c);
}

void tern_conn_ref(tern_conn_t *c) { c->refs++; }

void tern_conn_unref(tern_conn_t *c) {
  if (--c->refs == 0) conn_free(c);
}

bool tern_conn_is_open(const tern_conn_t *c) {
  return c->state == TERN_CONN_OPEN || c->state == TERN_CONN_CONNECTING;
}
const char *tern_conn_peer(const tern_conn_t *c) { return c->peer; }
const char *tern_conn_addr(const tern_conn_t *c) { return c->addr[0] ? c->addr : c->peer; }
tern_loop_t *tern_conn_loop(const tern_conn_t *c) { return c->loop; }
void tern_conn_set_data(tern_conn_t *c, void *data) { c->data = data; }
void *tern_conn_data(const tern_conn_t *c) { return c->data; }
void tern_conn_set_close_cb(tern_conn_t *c, tern_conn_close_fn fn, void *ctx) {
  c->on_close = fn;
  c->close_ctx = ctx;
}
size_t tern_conn_queued(const tern_conn_t *c) { return outq_bytes(&c->out) + c->fly_bytes; }
bool tern_conn_paused(const tern_conn_t *c) { return c->paused; }

/* ---- teardown ---- */

static void on_handle_closed(uv_handle_t *h) {
  tern_conn_t *c = h->data;
  if (--c->handles_open > 0) return;
  if (c->on_close) c->on_close(c->close_ctx, c);
  if (c->owner_closed) c->owner_closed(c);
  tern_conn_unref(c);
}

static void fail_pending(tern_conn_t *c) {
  tern_loop_t *l = c->loop;
  while (c->pending_head) {
    tern_pending_t *e = c->pending_head;
    c->pending_head = e->cnext;
    tern_pending_remove(&l->pending, e);
    e->cb(e->arg, TERN_ECLOSED, NULL);
    tern_pending_release(&l->pending, e);
  }
}

void tern_conn__close(tern_conn_t *c, const char *why) {
  if (c->state == TERN_CONN_CLOSED) return;
  if (why) tern_info("closing connection %s: %s", tern_conn_addr(c), why);
  c->state = TERN_CONN_CLOSED;
  if (c->resolving) uv_cancel((uv_req_t *)&c->gai); /* fails harmlessly if already running */
  if (c->owner_detach) c->owner_detach(c);
  c->owner_detach = NULL;
  /* Queued (not yet written) output is dropped now; spans being written are
   * released by the write callback, which libuv calls with UV_ECANCELED. */
  outq_clear(&c->out);
  uv_close((uv_handle_t *)&c->timer, on_handle_closed);
  uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
  fail_pending(c);
}

void tern_conn_close(tern_conn_t *c) { tern_conn__close(c, NULL); }

/* ---- write path ---- */

static void start_reading(tern_conn_t *c);
static void process_frames(tern_conn_t *c);

static void mark_dirty(tern_conn_t *c) {
  if (c->dirty) return;
  c->dirty = true;
  c->dirty_next = c->loop->dirty;
  c->loop->dirty = c;
  tern_conn_ref(c); /* the dirty list holds a reference */
}

/* Pauses reading above the high-water mark; closes above the hard limit. */
static void check_backpressure(tern_conn_t *c) {
  size_t q = tern_conn_queued(c);
  const tern_net_opts_t *o = &c->loop->opts;
  if (q > (size_t)o->write_limit) {
    char why[96];
    snprintf(why, sizeof why, "output queue %zu bytes over the %d-byte limit", q, o->write_limit);
    tern_conn__close(c, why);
    return;
  }
  if (q > (size_t)o->write_high && !c->paused && c->state == TERN_CONN_OPEN) {
    if (c->reading) uv_read_stop((uv_stream_t *)&c->tcp);
    c->reading = false;
    c->paused = true;
    tern_debug("%s: peer reads slowly, %zu bytes queued: reading paused", tern_conn_addr(c), q);
  }
}

static void flush(tern_conn_t *c);

static void on_write(uv_write_t *w, int status) {
  tern_conn_t *c = w->data;
  c->writing = false;
  c->fly_bytes = 0;
  outq_clear(&c->fly); /* releases the spans just written (or cancelled) */
  if (c->state == TERN_CONN_CLOSED) {
    tern_conn_unref(c);
    return;
  }
  if (status < 0) {
    tern_conn__close(c, uv_strerror(status));
    tern_conn_unref(c);
    return;
  }
  c->last_active = uv_now(c->loop->uv);
  if (c->paused && c->state == TERN_CONN_OPEN && tern_conn_queued(c) <= (size_t)c->loop->opts.write_low) {
    c->paused = false;
    process_frames(c); /* frames left buffered when we paused */
    if (!c->paused && c->state == TERN_CONN_OPEN) start_reading(c);
  }
  if (c->state != TERN_CONN_CLOSED) {
    if (outq_bytes(&c->out)) flush(c);
    else if (c->state == TERN_CONN_DRAINING && c->parked == 0) tern_conn__close(c, NULL);
  }
  tern_conn_unref(c);
}

/* The whole of the output in flight went out from flush() itself (no write
 * request): what on_write does, except that more output is left to the dirty
 * list instead of a nested flush. */
static void wrote_now(tern_conn_t *c) {
  c->fly_bytes = 0;
  outq_clear(&c->fly); /* releases the spans just written */
  c->last_active = uv_now(c->loop->uv);
  if (c->paused && c->state == TERN_CONN_OPEN && tern_conn_queued(c) <= (size_t)c->loop->opts.write_low) {
    c->paused = false;
    process_frames(c); /* frames left buffered when we paused */
    if (!c->paused && c->state == TERN_CONN_OPEN) start_reading(c);
  }
  if (c->state == TERN_CONN_CLOSED) return;
  if (outq_bytes(&c->out)) mark_dirty(c);
  else if (c->state == TERN_CONN_DRAINING && c->parked == 0) tern_conn__close(c, NULL);
}

/* Swaps the accumulated output into flight and writes it with one writev:
 * first uv_try_write straight from the loop pass (the socket is nearly always
 * writable), so a reply costs no write request, callback round or epoll_ctl
 * (libuv re-arms the watcher after each completed uv_write); whatever the
 * kernel did not take goes through uv_write. */
static void flush(tern_conn_t *c) {
  tern_outq_t t;
  uint32_t n = 0, need, first = 0;
  size_t prev = 0, sent = 0;
  int rc;
  if (c->writing || c->state == TERN_CONN_CLOSED || c->state == TERN_CONN_CONNECTING) return;
  if (!outq_bytes(&c->out)) return;
  t = c->fly;
  c->fly = c->out;
  c->out = t;
  need = 2 * c->fly.nsegs + 1;
  if (need > c->capiov) {
    uint32_t nc = need < 16 ? 16 : need * 2;
    uv_buf_t *iov = realloc(c->iov, nc * sizeof *iov);
    if (!iov) {
      tern_conn__close(c, "out of memory");
      return;
    }
    c->iov = iov;
    c->capiov = nc;
  }
  for (uint32_t i = 0; i < c->fly.nsegs; i++) {
    tern_seg_t *s = &c->fly.segs[i];
    if (s->buf_end > prev) c->iov[n++] = uv_buf_init((char *)c->fly.buf.p + prev, (unsigned)(s->buf_end - prev));
    prev = s->buf_end;
    if (s->n) c->iov[n++] = uv_buf_init((char *)s->p, (unsigned)s->n);
  }
  if (c->fly.buf.len > prev)
    c->iov[n++] = uv_buf_init((char *)c->fly.buf.p + prev, (unsigned)(c->fly.buf.len - prev));
  c->fly_bytes = outq_bytes(&c->fly);
  rc = uv_try_write((uv_stream_t *)&c->tcp, c->iov, n);
  if (rc < 0 && rc != UV_EAGAIN) {
    c->fly_bytes = 0;
    outq_clear(&c->fly);
    tern_conn__close(c, uv_strerror(rc));
    return;
  }
  if (rc > 0) {
    size_t done = sent = (size_t)rc;
    if (done >= c->fly_bytes) {
      c->loop->stats.writes++;
      c->loop->stats.bytes_out += done;
      wrote_now(c);
      return;
    }
    while (done >= c->iov[first].len) done -= c->iov[first++].len; /* a short write: the rest via uv_write */
    c->iov[first].base += done;
    c->iov[first].len -= (unsigned)done;
  }
  c->wreq.data = c;
  rc = uv_write(&c->wreq, (uv_stream_t *)&c->tcp, c->iov + first, n - first, on_write);
  if (rc) {
    c->fly_bytes = 0;
    outq_clear(&c->fly);
    tern_conn__close(c, uv_strerror(rc));
    return;
  }
  c->writing = true;
  c->loop->stats.writes++;
  c->loop->stats.bytes_out += c->fly_bytes - sent;
  tern_conn_ref(c); /* held by the write request */
}

void tern_conn__flush_dirty(tern_loop_t *l) {
  while (l->dirty) {
    tern_conn_t *c = l->dirty;
    l->dirty = c->dirty_next;
    c->dirty = false;
    flush(c);
    tern_conn_unref(c);
  }
}

/* Appends one encoded command to the output; rolls back on failure. */
static int enqueue_cmd(tern_conn_t *c, const tern_cmd_t *cmd) {
  size_t before = c->out.buf.len;
  int rc = tern_cmd_encode(cmd, &c->out.buf);
  if (rc || c->out.buf.err) {
    rc = rc ? rc : c->out.buf.err;
    c->out.buf.len = before;
    c->out.buf.err = 0;
    return rc;
  }
  mark_dirty(c);
  check_backpressure(c);
  return 0;
}

/* ---- requests and replies ---- */

int tern_conn_request(tern_conn_t *c, tern_cmd_t *req, uint32_t timeout_ms, tern_rpc_cb cb, void *arg) {
  tern_loop_t *l = c->loop;
  tern_pending_t *e = NULL;
  int rc;
  if (!tern_conn_is_open(c)) return TERN_ECLOSED;
  req->opaque = tern_next_opaque();
  req->flag &= ~TERN_FLAG_RESPONSE;
  if (!(req->flag & TERN_FLAG_ONEWAY)) {
    uint64_t deadline;
    /* The loop's cached time may be stale (a blocking client's loop sleeps
     * between calls): refresh it so the timeout counts from now. */
    uv_update_time(l->uv);
    deadline = uv_now(l->uv) + timeout_ms;
    if (!cb) return TERN_EINVAL;
    e = tern_pending_add(&l->pending, req->opaque, deadline);
    if (!e) return TERN_ENOMEM;
    e->cb = cb;
    e->arg = arg;
    e->conn = c;
  }
  rc = enqueue_cmd(c, req);
  if (rc) {
    if (e) {
      tern_pending_remove(&l->pending, e);
      tern_pending_release(&l->pending, e);
    }
    return rc;
  }
  if (e) {
    if (c->state == TERN_CONN_CLOSED) { /* the enqueue hit the hard limit and closed c */
      tern_pending_remove(&l->pending, e);
      tern_pending_release(&l->pending, e);
      return TERN_ECLOSED;
    }
    e->cprev = NULL;
    e->cnext = c->pending_head;
    if (c->pending_head) c->pending_head->cprev = e;
    c->pending_head = e;
    tern_loop__arm_rpc_timer(l, e->deadline);
  }
  return c->state == TERN_CONN_CLOSED ? TERN_ECLOSED : 0;
}

static void unlink_pending(tern_conn_t *c, tern_pending_t *e) {
  if (e->cprev) e->cprev->cnext = e->cnext;
  else c->pending_head = e->cnext;
  if (e->cnext) e->cnext->cprev = e->cprev;
  e->cprev = e->cnext = NULL;
}

void tern_conn__expire_pending(tern_loop_t *l) {
  uint64_t now = uv_now(l->uv);
  tern_pending_t *e;
  while ((e = tern_pending_pop_expired(&l->pending, now)) != NULL) {
    unlink_pending(e->conn, e);
    e->cb(e->arg, TERN_ETIMEDOUT, NULL);
    tern_pending_release(&l->pending, e);
  }
  tern_loop__arm_rpc_timer(l, tern_pending_next_deadline(&l->pending));
}

static void prepare_reply(tern_conn_t *c, const tern_cmd_t *req, tern_cmd_t *resp) {
  resp->opaque = req->opaque;
  resp->flag = (resp->flag | TERN_FLAG_RESPONSE) & ~TERN_FLAG_ONEWAY;
  /* Reply in the request's serialization (reference 1.4: JSON-only clients
   * cannot read a binary header). */
  resp->serialize_type = req->serialize_type;
  resp->language = TERN_LANG_JAVA;
  resp->language_name = TERN_STR_NULL;
  resp->version = c->loop->opts.version;
}

/* Bookkeeping once a reply to req is queued. */
static void note_replied(tern_conn_t *c, const tern_cmd_t *req) {
  if (c->cur_active && req->opaque == c->cur_opaque) c->cur_replied = true;
  else if (c->parked) c->parked--; /* a request answered after its handler returned */
}

/* A reply that cannot be encoded (e.g. a code beyond a short in a binary
 * header) still gets an answer the client can read, instead of a timeout. */
static int reply_encode_failed(tern_conn_t *c, const tern_cmd_t *req, int rc) {
  tern_cmd_t err;
  char remark[96];
  tern_warn("%s: cannot encode reply to code %d: %s", tern_conn_addr(c), req->code, tern_strerror(rc));
  tern_cmd_init(&err);
  err.code = TERN_RESP_SYSTEM_ERROR;
  snprintf(remark, sizeof remark, "cannot encode the response: %s", tern_strerror(rc));
  err.has_remark = true;
  err.remark = tern_str_from_cstr(remark);
  prepare_reply(c, req, &err);
  if (enqueue_cmd(c, &err) == 0) note_replied(c, req);
  return rc;
}

/* Replies may still go out while a connection drains for shutdown. */
static bool can_reply(const tern_conn_t *c) { return c->state != TERN_CONN_CLOSED; }

int tern_conn_reply(tern_conn_t *c, const tern_cmd_t *req, tern_cmd_t *resp) {
  int rc;
  if (req->flag & TERN_FLAG_ONEWAY) return 0;
  if (!can_reply(c)) return TERN_ECLOSED;
  prepare_reply(c, req, resp);
  rc = enqueue_cmd(c, resp);
  if (rc) return reply_encode_failed(c, req, rc);
  note_replied(c, req);
  return c->state == TERN_CONN_CLOSED ? TERN_ECLOSED : 0;
}

int tern_conn_reply_error(tern_conn_t *c, const tern_cmd_t *req, int32_t code, const char *remark) {
  tern_cmd_t resp;
  tern_cmd_init(&resp);
  resp.code = code;
  if (remark) {
    resp.has_remark = true;
    resp.remark = tern_str_from_cstr(remark);
  }
  return tern_conn_reply(c, req, &resp);
}

int tern_conn_reply_decode_error(tern_conn_t *c, const tern_cmd_t *req, const tern_err_t *err) {
  char remark[256];
  const char *reason = err && err->reason ? err->reason : tern_strerror(err ? err->code : TERN_EPROTO);
  if (err && err->field && err->code == TERN_EMISSING)
    snprintf(remark, sizeof remark, "the custom field <%s> is null", err->field);
  else if (err && err->field) snprintf(remark, sizeof remark, "%s: %s", reason, err->field);
  else snprintf(remark, sizeof remark, "%s", reason);
  return tern_conn_reply_error(c, req, TERN_RESP_SYSTEM_ERROR, remark);
}

int tern_conn_reply_spans(tern_conn_t *c, const tern_cmd_t *req, tern_cmd_t *resp, const tern_span_t *spans,
                          size_t nspans, tern_release_fn release, void *arg) {
  size_t total = 0, before;
  int rc;
  tern_outq_t *q = &c->out;
  if ((req->flag & TERN_FLAG_ONEWAY) || !can_reply(c)) {
    if (release) release(arg);
    return (req->flag & TERN_FLAG_ONEWAY) ? 0 : TERN_ECLOSED;
  }
  for (size_t i = 0; i < nspans; i++) {
    if (spans[i].n > UINT32_MAX - total) {
      if (release) release(arg);
      return TERN_ETOOBIG;
    }
    total += spans[i].n;
  }
  if (q->nsegs + nspans + 1 > q->capsegs) {
    uint32_t nc = (uint32_t)(q->nsegs + nspans + 1) * 2;
    tern_seg_t *s = realloc(q->segs, nc * sizeof *s);
    if (!s) {
      if (release) release(arg);
      return TERN_ENOMEM;
    }
    q->segs = s;
    q->capsegs = nc;
  }
  prepare_reply(c, req, resp);
  before = q->buf.len;
  rc = tern_cmd_encode_head(resp, (uint32_t)total, &q->buf);
  if (rc || q->buf.err) {
    rc = rc ? rc : q->buf.err;
    q->buf.len = before;
    q->buf.err = 0;
    if (release) release(arg);
    return reply_encode_failed(c, req, rc);
  }
  for (size_t i = 0; i < nspans; i++) {
    tern_seg_t *s = &q->segs[q->nsegs++];
    s->buf_end = q->buf.len;
    s->p = spans[i].p;
    s->n = spans[i].n;
    s->release = NULL;
    s->arg = NULL;
  }
  if (!nspans) { /* nothing external: still need a segment to carry the release */
    tern_seg_t *s = &q->segs[q->nsegs++];
    s->buf_end = q->buf.len;
    s->p = NULL;
    s->n = 0;
  }
  q->segs[q->nsegs - 1].release = release;
  q->segs[q->nsegs - 1].arg = arg;
  q->ext_bytes += total;
  note_replied(c, req);
  mark_dirty(c);
  check_backpressure(c);
  return c->state == TERN_CONN_CLOSED ? TERN_ECLOSED : 0;
}

/* ---- read path ---- */

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b) {
  tern_conn_t *c = h->data;
  size_t want = READ_CHUNK, cap_max = (size_t)c->loop->opts.max_frame + READ_CHUNK;
  (void)hint;
  if (c->rlen >= 4) {
    /* Grow toward a large pending frame, but at most doubling per read: a
     * 4-byte prefix alone must not make us allocate 16 MiB. Never past the
     * frame limit (the parser rejects those frames). */
    size_t need = 4 + (size_t)tern_load_be32(c->rbuf);
    if (need > c->rlen && need - c->rlen > want && need <= (size_t)c->loop->opts.max_frame) {
      want = need - c->rlen;
      if (want > c->rlen + READ_CHUNK) want = c->rlen + READ_CHUNK;
    }
  }
  if (c->rcap - c->rlen < want) {
    size_t nc = c->rcap ? c->rcap : READ_CHUNK;
    uint8_t *nb;
    while (nc - c->rlen < want) nc *= 2;
    if (nc > cap_max) nc = cap_max > c->rlen + want ? cap_max : c->rlen + want;
    nb = realloc(c->rbuf, nc);
    if (!nb) {
      b->base = NULL;
      b->len = 0; /* libuv reports UV_ENOBUFS; on_read closes */
      return;
    }
    c->rbuf = nb;
    c->rcap = nc;
  }
  b->base = (char *)c->rbuf + c->rlen;
  b->len = c->rcap - c->rlen;
}

static int handle_frame(tern_conn_t *c, const tern_frame_t *f) {
  tern_loop_t *l = c->loop;
  tern_cmd_t cmd;
  tern_err_t err = {0};
  int rc;
  tern_arena_reset(&l->scratch);
  rc = tern_cmd_decode(f, &cmd, &l->scratch, &err);
  if (rc) {
    char why[160];
    snprintf(why, sizeof why, "undecodable header: %s%s%s", err.reason ? err.reason : tern_strerror(rc),
             err.field ? " at " : "", err.field ? err.field : "");
    tern_conn__close(c, why);
    return rc;
  }
  if (cmd.flag & TERN_FLAG_RESPONSE) {
    /* Only a response on the connection that carried the request completes
     * it: opaques are sequential, so another peer could guess them. */
    tern_pending_t *e = tern_pending_find(&l->pending, cmd.opaque);
    if (e && e->conn != c) e = NULL;
    if (!e) {
      tern_info("%s: response code %d opaque %d matches no waiting request (late or unknown), dropped",
                tern_conn_addr(c), cmd.code, cmd.opaque);
      return 0;
    }
    tern_pending_remove(&l->pending, e);
    unlink_pending(c, e);
    e->cb(e->arg, 0, &cmd);
    tern_pending_release(&l->pending, e);
    return 0;
  }
  c->cur_active = true;
  c->cur_replied = false;
  c->cur_opaque = cmd.opaque;
  memset(&err, 0, sizeof err);
  if (c->inspect) c->inspect(c->inspect_ctx, c, &cmd);
  rc = c->on_request ? c->on_request(c->req_ctx, c, &cmd, &err) : TERN_ENOTFOUND;
  c->cur_active = false;
  if (rc == 0 && !c->cur_replied && !(cmd.flag & TERN_FLAG_ONEWAY)) c->parked++; /* answered later */
  if (!c->cur_replied && rc == TERN_ENOTFOUND) {
    char remark[64];
    snprintf(remark, sizeof remark, " request type %d not supported", cmd.code);
    tern_conn_reply_error(c, &cmd, TERN_RESP_REQUEST_CODE_NOT_SUPPORTED, remark);
  } else if (!c->cur_replied && rc < 0) {
    if (!err.reason) err.reason = tern_strerror(rc);
    if (!err.code) err.code = rc;
    tern_conn_reply_decode_error(c, &cmd, &err);
  }
  return 0;
}

/* Dispatches the complete frames in the read buffer. Stops early while the
 * output is over the high-water mark, leaving the rest buffered: a peer that
 * does not read cannot make one read batch produce unbounded replies. */
static void process_frames(tern_conn_t *c) {
  size_t off = 0;
  tern_conn_ref(c); /* handlers may close c */
  while (c->state != TERN_CONN_CLOSED && !c->paused) {
    tern_frame_t f;
    tern_err_t err = {0};
    int n = tern_frame_next(&c->fp, c->rbuf + off, c->rlen - off, &f, &err);
    if (n == 0) break;
    if (n < 0) {
      char why[128];
      snprintf(why, sizeof why, "bad frame: %s", err.reason ? err.reason : tern_strerror(n));
      tern_conn__close(c, why);
      break;
    }
    off += (size_t)n;
    c->loop->stats.frames_in++;
    if (handle_frame(c, &f)) break;
  }
  if (c->state != TERN_CONN_CLOSED) {
    if (off) {
      memmove(c->rbuf, c->rbuf + off, c->rlen - off);
      c->rlen -= off;
    }
    /* Give back the memory of a past large frame once it is consumed. */
    if (c->rcap > 4 * READ_CHUNK && c->rlen < READ_CHUNK) {
      uint8_t *nb = realloc(c->rbuf, READ_CHUNK);
      if (nb) {
        c->rbuf = nb;
        c->rcap = READ_CHUNK;
      }
    }
  }
  tern_conn_unref(c);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b) {
  tern_conn_t *c = s->data;
  (void)b;
  if (nread < 0) {
    tern_conn__close(c, nread == UV_EOF ? NULL : uv_strerror((int)nread));
    return;
  }
  if (nread == 0) return;
  c->rlen += (size_t)nread;
  c->last_active = uv_now(c->loop->uv);
  c->loop->stats.reads++;
  process_frames(c);
}

static void start_reading(tern_conn_t *c) {
  int rc;
  if (c->reading) return;
  rc = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
  if (rc) {
    tern_conn__close(c, uv_strerror(rc));
    return;
  }
  c->reading = true;
}

/* ---- timers: idle close and shutdown grace ---- */

static void on_timer(uv_timer_t *t) {
  tern_conn_t *c = t->data;
  uint64_t now = uv_now(c->loop->uv), idle;
  if (c->state == TERN_CONN_DRAINING) {
    tern_conn__close(c, "shutdown grace time over, unsent replies dropped");
    return;
  }
  if (c->state == TERN_CONN_CONNECTING) {
    tern_conn__close(c, "connect timed out");
    return;
  }
  if (c->state != TERN_CONN_OPEN || !c->idle_ms) return;
  idle = now - c->last_active;
  if (idle >= c->idle_ms) {
    char why[64];
    snprintf(why, sizeof why, "idle for %llu ms", (unsigned long long)idle);
    tern_conn__close(c, why);
    return;
  }
  uv_timer_start(&c->timer, on_timer, c->idle_ms - idle, 0);
}

int tern_conn__start(tern_conn_t *c) {
  struct sockaddr_storage ss;
  int len = sizeof ss;
  c->state = TERN_CONN_OPEN;
  uv_tcp_nodelay(&c->tcp, 1);
  if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0) {
    char ip[48] = "";
    int port = 0;
    if (ss.ss_family == AF_INET) {
      uv_ip4_name((struct sockaddr_in *)&ss, ip, sizeof ip);
      port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    } else if (ss.ss_family == AF_INET6) {
      uv_ip6_name((struct sockaddr_in6 *)&ss, ip, sizeof ip);
      port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    snprintf(c->peer, sizeof c->peer, "%s:%d", ip, port);
  }
  c->last_active = uv_now(c->loop->uv);
  uv_timer_stop(&c->timer);
  if (c->idle_ms) uv_timer_start(&c->timer, on_timer, c->idle_ms, 0);
  start_reading(c);
  if (c->state == TERN_CONN_CLOSED) return TERN_ECLOSED;
  if (outq_bytes(&c->out)) mark_dirty(c); /* requests queued while connecting */
  return 0;
}

void tern_conn_shutdown(tern_conn_t *c) {
  if (c->state == TERN_CONN_CLOSED || c->state == TERN_CONN_DRAINING) return;
  if (c->state == TERN_CONN_CONNECTING || (!c->writing && !outq_bytes(&c->out) && c->parked == 0)) {
    tern_conn__close(c, NULL);
    return;
  }
  c->state = TERN_CONN_DRAINING;
  if (c->reading) uv_read_stop((uv_stream_t *)&c->tcp);
  c->reading = false;
  uv_timer_start(&c->timer, on_timer, (uint64_t)c->loop->opts.shutdown_grace_ms, 0);
}

/* ---- copying a command out of the read buffer ---- */

static int copy_str(tern_str_t *dst, tern_str_t src, tern_arena_t *a) {
  if (!src.p) {
    *dst = src;
    return 0;
  }
  *dst = tern_arena_strdup(a, src);
  return dst->p ? 0 : TERN_ENOMEM;
}

int tern_cmd_copy(tern_cmd_t *dst, const tern_cmd_t *src, tern_arena_t *a) {
  int rc = 0;
  if (dst != src) *dst = *src;
  rc |= copy_str(&dst->language_name, src->language_name, a);
  rc |= copy_str(&dst->remark, src->remark, a);
  rc |= copy_str(&dst->body, src->body, a);
  for (uint32_t i = 0; i < src->n_ext && i < TERN_CMD_MAX_EXT; i++) {
    rc |= copy_str(&dst->ext[i].key, src->ext[i].key, a);
    rc |= copy_str(&dst->ext[i].val, src->ext[i].val, a);
  }
  return rc ? TERN_ENOMEM : 0;
}

/* ---- outbound connect ---- */

/* Splits "host:port" / "[v6]:port" at the last colon. */
static int split_addr(const char *addr, char *host, size_t cap, int *port) {
  const char *colon = strrchr(addr, ':');
  size_t hn;
  int32_t p;
  if (!colon) return TERN_EINVAL;
  hn = (size_t)(colon - addr);
  if (hn == 0 || hn >= cap || tern_str_to_i32(tern_str_from_cstr(colon + 1), &p) || p <= 0 || p > 65535)
    return TERN_EINVAL;
  if (hn >= 2 && addr[0] == '[' && addr[hn - 1] == ']') {
    memcpy(host, addr + 1, hn - 2);
    host[hn - 2] = '\0';
  } else {
    memcpy(host, addr, hn);
    host[hn] = '\0';
  }
  *port = p;
  return 0;
}

int tern_addr_parse(const char *addr, struct sockaddr_storage *ss) {
  char host[256];
  int port;
  if (split_addr(addr, host, sizeof host, &port)) return TERN_EINVAL;
  memset(ss, 0, sizeof *ss);
  if (uv_ip4_addr(host, port, (struct sockaddr_in *)ss) == 0) return 0;
  if (uv_ip6_addr(host, port, (struct sockaddr_in6 *)ss) == 0) return 0;
  return TERN_ENOTFOUND; /* a host name: resolve it */
}

static void on_connect(uv_connect_t *r, int status) {
  tern_conn_t *c = r->data;
  if (c->state == TERN_CONN_CONNECTING) {
    if (status < 0) {
      char why[128];
      snprintf(why, sizeof why, "connect failed: %s", uv_strerror(status));
      tern_conn__close(c, why);
    } else {
      tern_conn__start(c);
    }
  }
  tern_conn_unref(c);
}

static int start_connect(tern_conn_t *c, const struct sockaddr *sa) {
  int rc;
  c->creq.data = c;
  rc = uv_tcp_connect(&c->creq, &c->tcp, sa, on_connect);
  if (rc) return TERN_EIO;
  tern_conn_ref(c); /* held by the connect request */
  return 0;
}

static void on_resolved(uv_getaddrinfo_t *r, int status, struct addrinfo *res) {
  tern_conn_t *c = r->data;
  c->resolving = false;
  if (c->state == TERN_CONN_CONNECTING) {
    const struct addrinfo *pick = NULL;
    /* Prefer IPv4, as Java does by default (java.net.preferIPv4Stack aside). */
    for (const struct addrinfo *a = status ? NULL : res; a; a = a->ai_next)
      if (a->ai_family == AF_INET || (!pick && a->ai_family == AF_INET6))
        if (!pick || pick->ai_family != AF_INET) pick = a;
    if (!pick) {
      char why[160];
      snprintf(why, sizeof why, "cannot resolve host: %s", status ? uv_strerror(status) : "no address");
      tern_conn__close(c, why);
    } else if (start_connect(c, pick->ai_addr)) {
      tern_conn__close(c, "cannot start connecting");
    }
  }
  if (res) uv_freeaddrinfo(res);
  tern_conn_unref(c);
}

int tern_conn__connect(tern_conn_t *c, const char *addr) {
  struct sockaddr_storage ss;
  char host[256], port_s[8];
  struct addrinfo hints;
  int port, rc;
  snprintf(c->addr, sizeof c->addr, "%s", addr);
  rc = tern_addr_parse(addr, &ss);
  if (rc == 0) {
    rc = start_connect(c, (struct sockaddr *)&ss);
  } else if (rc == TERN_ENOTFOUND && split_addr(addr, host, sizeof host, &port) == 0) {
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(port_s, sizeof port_s, "%d", port);
    c->gai.data = c;
    rc = uv_getaddrinfo(c->loop->uv, &c->gai, on_resolved, host, port_s, &hints) ? TERN_EIO : 0;
    if (!rc) {
      c->resolving = true;
      tern_conn_ref(c); /* held by the resolver request */
    }
  }
  if (rc) return rc;
  /* The connect timeout covers name resolution too. */
  uv_timer_start(&c->timer, on_timer, (uint64_t)c->loop->opts.connect_timeout_ms, 0);
  return 0;
}
