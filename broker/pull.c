/* Pulling (PullMessageProcessor, reference §5.8/§15): PULL_MESSAGE (11) and
 * LITE_PULL_MESSAGE (361). Checks in 4.9.8's order with its codes and
 * remarks, the subscription from the request (SUBSCRIPTION sysFlag bit) or
 * from the group's heartbeat registration (b->hooks.find_subscription, kept
 * by the client-management part), the TAG filter as tag hash codes applied
 * by the store to the consume-queue entries, the store status -> response
 * code mapping with nextBeginOffset/minOffset/maxOffset, commit-offset-on-
 * pull, and the body sent as zero-copy spans of the mapped commit log
 * (adjacent records merged into one span). A pull that finds nothing and
 * may suspend is handed to longpoll.c. Loop-thread only.
 * SQL92 subscriptions are filtered when enablePropertyFilter=true (see the
 * SQL92 section below). Not done: the BROADCASTING permission check (the
 * heartbeat hook does not carry the message model), slave reads,
 * OFFSET_MOVED_EVENT records. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "broker/broker_int.h"
#include "broker/ha/ha.h"
#include "broker/clients.h"      /* enablePropertyFilter (SQL92) */
#include "broker/filter/sql92.h" /* SQL92 subscriptions (broker/filter) */
#include "runtime/log.h"

#define PULL_MAX_SPANS 64
#define PULL_MAX_MSGS 65536 /* maxMsgNums is clamped to this before the store sees it */

static int pull_error(tern_conn_t *c, const tern_cmd_t *req, int32_t code, const char *remark) {
  return tern_broker_reply_code(c, req, code, remark);
}

static const char *arena_fmt(tern_arena_t *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const char *arena_fmt(tern_arena_t *a, const char *fmt, ...) {
  va_list ap;
  int n;
  char *p;
  va_start(ap, fmt);
  n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0 || !(p = tern_arena_alloc(a, (size_t)n + 1))) return "(remark too long)";
  va_start(ap, fmt);
  vsnprintf(p, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return p;
}

static bool java_blank(char ch) { return (unsigned char)ch <= ' '; }

/* FilterAPI.buildSubscriptionData: "*" or empty = all; else split on "||",
 * trim, hash each non-empty tag. -1 when nothing but separators. */
static int tag_filter(tern_str_t sub, tern_arena_t *a, tern_pull_filter_t *f) {
  size_t pieces = 0, nonempty = 0, i = 0, cap = 0;
  int32_t *codes;
  memset(f, 0, sizeof *f);
  if (sub.n == 0 || tern_str_eq_cstr(sub, "*")) {
    f->all = true;
    return 0;
  }
  for (size_t k = 0; k + 1 < sub.n; k++)
    if (sub.p[k] == '|' && sub.p[k + 1] == '|') cap++;
  cap++;
  if (!(codes = tern_arena_alloc(a, cap * sizeof *codes))) return TERN_ENOMEM;
  while (i <= sub.n) {
    size_t j = i;
    while (j < sub.n && !(sub.p[j] == '|' && j + 1 < sub.n && sub.p[j + 1] == '|')) j++;
    tern_str_t tag = {sub.p + i, j - i};
    pieces++;
    if (tag.n > 0) {
      nonempty++;
      while (tag.n && java_blank(tag.p[0])) tag.p++, tag.n--;
      while (tag.n && java_blank(tag.p[tag.n - 1])) tag.n--;
      if (tag.n) {
        int32_t code = tern_java_string_hash(tag);
        bool dup = false;
        for (size_t k = 0; k < f->n; k++) dup |= codes[k] == code;
        if (!dup) codes[f->n++] = code;
      }
    }
    if (j >= sub.n) break;
    i = j + 2;
  }
  (void)pieces;
  f->codes = codes;
  return nonempty ? 0 : -1;
}

static bool is_tag_type(tern_str_t t) { return t.n == 0 || tern_str_eq_cstr(t, "TAG"); }

static bool match_none(void *ctx, int64_t code) {
  TERN_UNUSED(ctx);
  TERN_UNUSED(code);
  return false;
}

static int32_t pull_code(tern_get_status_t st, int64_t req_offset) {
  switch (st) {
  case TERN_GET_FOUND: return TERN_RESP_SUCCESS;
  case TERN_GET_MESSAGE_WAS_REMOVING:
  case TERN_GET_NO_MATCHED_MESSAGE: return TERN_RESP_PULL_RETRY_IMMEDIATELY;
  case TERN_GET_NO_MATCHED_LOGIC_QUEUE:
  case TERN_GET_NO_MESSAGE_IN_QUEUE: return req_offset != 0 ? TERN_RESP_PULL_OFFSET_MOVED : TERN_RESP_PULL_NOT_FOUND;
  case TERN_GET_OFFSET_FOUND_NULL:
  case TERN_GET_OFFSET_OVERFLOW_ONE: return TERN_RESP_PULL_NOT_FOUND;
  case TERN_GET_OFFSET_OVERFLOW_BADLY:
  case TERN_GET_OFFSET_TOO_SMALL:
  default: return TERN_RESP_PULL_OFFSET_MOVED;
  }
}

/* ---- SQL92 (broker/filter; reference §11.2) ----
 * With enablePropertyFilter=true an SQL92 subscription is compiled on every
 * pull (from the header with the SUBSCRIPTION bit, else from the heartbeat
 * registration), the store reads every consume-queue entry (no tag-hash
 * filter), and the records it returns are post-filtered on their properties
 * (ExpressionMessageFilter.isMatchedByCommitLog): a record matches only when
 * the expression is TRUE. Records dropped this way are still consumed
 * (nextBeginOffset is past them); a read that keeps none answers as Java's
 * NO_MATCHED_MESSAGE. Differences from Java: a pull returns at most the
 * matches among the records one store read yields (Java keeps scanning up
 * to maxMsgNums matches), and an invalid expression in the header answers
 * SUBSCRIPTION_PARSE_FAILED (4.9.8 would go on with no filter at all). */
static bool sql92_enabled(const tern_broker_t *b) { return b->clients && b->clients->conf.enable_property_filter; }

static void sql92_post_filter(const tern_sql92_expr_t *e, tern_get_result_t *res) {
  size_t k = 0;
  res->bytes = 0;
  for (size_t i = 0; i < res->n; i++) {
    tern_msg_record_t rec;
    tern_err_t err = {0};
    if (tern_msg_record_decode(res->spans[i].p, res->spans[i].len, &rec, &err) != 0) continue;
    if (!tern_sql92_eval(e, rec.properties)) continue;
    res->spans[k++] = res->spans[i];
    res->bytes += res->spans[i].len;
  }
  res->n = k;
  if (k == 0) res->status = TERN_GET_NO_MATCHED_MESSAGE;
}

int tern_broker_pull_run(tern_broker_t *b, tern_conn_t *c, const tern_cmd_t *req, const tern_hdr_pull_message_request_t *h,
                         bool allow_suspend, tern_arena_t *a) {
  const tern_body_subscription_group_config_t *g = NULL;
  tern_broker_topic_t *t;
  tern_pull_filter_t pf;
  tern_store_filter_t sf, *sfp = NULL;
  tern_store_span_t spans[PULL_MAX_SPANS];
  tern_span_t out[PULL_MAX_SPANS];
  tern_get_result_t res;
  tern_hdr_pull_message_response_t rh;
  tern_cmd_t resp;
  tern_sql92_expr_t *sql = NULL; /* SQL92 subscription, compiled (NULL: TAG) */
  size_t nout = 0;
  int32_t code, maxn;
  bool suspend = (h->sys_flag & TERN_HDR_PULL_MESSAGE_REQUEST_SYS_FLAG_SUSPEND) != 0;
  bool has_sub = (h->sys_flag & TERN_HDR_PULL_MESSAGE_REQUEST_SYS_FLAG_SUBSCRIPTION) != 0;
  bool commit = (h->sys_flag & TERN_HDR_PULL_MESSAGE_REQUEST_SYS_FLAG_COMMIT_OFFSET) != 0;
  bool slave = b->conf.broker_role && strcmp(b->conf.broker_role, "SLAVE") == 0;

  if (!(b->conf.broker_permission & TERN_PERM_READ))
    return pull_error(c, req, TERN_RESP_NO_PERMISSION,
                      arena_fmt(a, "the broker[%s] pulling message is forbidden", b->store_host));
  if (b->hooks.find_group_config) {
    g = b->hooks.find_group_config(b, h->consumer_group);
    if (!g)
      return pull_error(c, req, TERN_RESP_SUBSCRIPTION_GROUP_NOT_EXIST,
                        arena_fmt(a, "subscription group [%.*s] does not exist, %s", TERN_STR_ARG(h->consumer_group),
                                  TERN_FAQ_SUFFIX(TERN_FAQ_SUBSCRIPTION_GROUP_NOT_EXIST)));
    if (!g->consume_enable)
      return pull_error(c, req, TERN_RESP_NO_PERMISSION,
                        arena_fmt(a, "subscription group no permission, %.*s", TERN_STR_ARG(h->consumer_group)));
  }
  if (!(t = tern_broker_topic_find(b, h->topic)))
    return pull_error(c, req, TERN_RESP_TOPIC_NOT_EXIST,
                      arena_fmt(a, "topic[%.*s] not exist, apply first please! %s", TERN_STR_ARG(h->topic),
                                TERN_FAQ_SUFFIX(TERN_FAQ_APPLY_TOPIC)));
  if (!(t->cfg.perm & TERN_PERM_READ))
    return pull_error(c, req, TERN_RESP_NO_PERMISSION,
                      arena_fmt(a, "the topic[%.*s] pulling message is forbidden", TERN_STR_ARG(h->topic)));
  if (h->queue_id < 0 || h->queue_id >= t->cfg.read_queue_nums)
    return pull_error(c, req, TERN_RESP_SYSTEM_ERROR,
                      arena_fmt(a, "queueId[%d] is illegal, topic:[%.*s] topicConfig.readQueueNums:[%d] consumer:[/%s]",
                                h->queue_id, TERN_STR_ARG(h->topic), t->cfg.read_queue_nums, tern_conn_peer(c)));

  if (has_sub) {
    if (!is_tag_type(h->expression_type)) {
      if (h->subscription.n == 0)
        return pull_error(c, req, TERN_RESP_SUBSCRIPTION_PARSE_FAILED, "parse the consumer's subscription failed");
      if (!sql92_enabled(b) || !tern_sql92_is_type(h->expression_type))
        return pull_error(c, req, TERN_RESP_SYSTEM_ERROR,
                          arena_fmt(a, "The broker does not support consumer to filter message by %.*s",
                                    TERN_STR_ARG(h->expression_type)));
      /* SQL92 (see above) */
      tern_err_t serr = {0};
      int rc = tern_sql92_compile(h->subscription, a, NULL, &sql, &serr);
      if (rc == TERN_ENOMEM) return rc;
      if (rc) return pull_error(c, req, TERN_RESP_SUBSCRIPTION_PARSE_FAILED, "parse the consumer's subscription failed");
      memset(&pf, 0, sizeof pf);
      pf.all = true; /* no tag-hash filter; a parked pull wakes on any arrival */
    } else {
      int rc = tag_filter(h->subscription, a, &pf);
      if (rc == TERN_ENOMEM) return rc;
      if (rc) return pull_error(c, req, TERN_RESP_SUBSCRIPTION_PARSE_FAILED, "parse the consumer's subscription failed");
    }
  } else {
    tern_broker_sub_t sub;
    int rc = b->hooks.find_subscription ? b->hooks.find_subscription(b, h->consumer_group, h->topic, &sub)
                                        : TERN_ENOTFOUND;
    if (rc == TERN_ENOTFOUND || rc < 0)
      return pull_error(c, req, TERN_RESP_SUBSCRIPTION_NOT_EXIST,
                        "the consumer's group info not exist" TERN_FAQ_SUFFIX(TERN_FAQ_SAME_GROUP_DIFFERENT_TOPIC));
    if (rc == 1)
      return pull_error(c, req, TERN_RESP_SUBSCRIPTION_NOT_EXIST,
                        "the consumer's subscription not exist" TERN_FAQ_SUFFIX(TERN_FAQ_SAME_GROUP_DIFFERENT_TOPIC));
    if (sub.sub_version < h->sub_version)
      return pull_error(c, req, TERN_RESP_SUBSCRIPTION_NOT_LATEST, "the consumer's subscription not latest");
    if (!is_tag_type(sub.expression_type) && (!sql92_enabled(b) || !tern_sql92_is_type(sub.expression_type)))
      return pull_error(c, req, TERN_RESP_SYSTEM_ERROR,
                        arena_fmt(a, "The broker does not support consumer to filter message by %.*s",
                                  TERN_STR_ARG(sub.expression_type)));
    memset(&pf, 0, sizeof pf);
    if (!is_tag_type(sub.expression_type)) {
      /* SQL92 registered by heartbeat (see above); Java keeps no filter data for one that does not compile */
      tern_err_t serr = {0};
      int rc = tern_sql92_compile(sub.sub_string, a, NULL, &sql, &serr);
      if (rc == TERN_ENOMEM) return rc;
      if (rc)
        return pull_error(c, req, TERN_RESP_FILTER_DATA_NOT_EXIST,
                          "The broker's consumer filter data is not exist!Your expression may be wrong!");
      sub.sub_all = true; /* no tag-hash filter */
    }
    pf.all = sub.sub_all || sub.class_filter_mode;
    pf.codes = sub.codes;
    pf.n = sub.n_codes;
    if (!pf.all && pf.n) {
      /* copy: the hook's array is valid only during this call, a parked pull keeps it */
      int32_t *cp = tern_arena_alloc(a, pf.n * sizeof *cp);
      if (!cp) return TERN_ENOMEM;
      memcpy(cp, pf.codes, pf.n * sizeof *cp);
      pf.codes = cp;
    }
  }
  if (h->sys_flag & TERN_HDR_PULL_MESSAGE_REQUEST_SYS_FLAG_CLASS_FILTER) pf.all = true;
  if (!pf.all) {
    memset(&sf, 0, sizeof sf);
    sf.codes = pf.codes;
    sf.n_codes = pf.n;
    if (pf.n == 0) sf.cb = match_none;
    sfp = &sf;
  }

  memset(&res, 0, sizeof res);
  res.spans = spans;
  res.cap = PULL_MAX_SPANS;
  maxn = h->max_msg_nums > PULL_MAX_MSGS ? PULL_MAX_MSGS : h->max_msg_nums;
  tern_store_get_messages(b->store, h->topic, h->queue_id, h->queue_offset, maxn, sfp, &res);
  if (sql && res.status == TERN_GET_FOUND) sql92_post_filter(sql, &res); /* SQL92 (see above) */
  code = pull_code(res.status, h->queue_offset);

  /* commit-offset-on-pull: masters only, not on a long-poll re-run (Java stores it even when the pull parks) */
  if (allow_suspend && commit && !slave)
    tern_broker_offset_set(b, h->topic, h->consumer_group, h->queue_id, h->commit_offset);

  if (code == TERN_RESP_PULL_NOT_FOUND && allow_suspend && suspend && !b->stopping) {
    uint64_t hold = b->conf.long_polling_enable ? (uint64_t)(h->suspend_timeout_millis > 0 ? h->suspend_timeout_millis : 0)
                                                : (uint64_t)b->conf.short_polling_time_mills;
    if (tern_broker_lp_park(b, c, req, h, &pf, hold) == 0) return 0;
    /* not parked (too many waiters): answer PULL_NOT_FOUND now */
  }

  memset(&rh, 0, sizeof rh);
  rh.next_begin_offset = res.next_begin_offset;
  rh.min_offset = res.min_offset;
  rh.max_offset = res.max_offset;
  /* HA hook (broker/ha/): 4.9's suggestWhichBrokerId (slaveReadEnable, reader behind in memory) */
  rh.suggest_which_broker_id = tern_broker_ha_suggest(b, g, res.suggest_pulling_from_slave);
  if (slave && code == TERN_RESP_PULL_OFFSET_MOVED) { /* offsetCheckInSlave=false: the master corrects offsets */
    code = TERN_RESP_PULL_RETRY_IMMEDIATELY;
    rh.suggest_which_broker_id = g ? g->broker_id : 0;
  }
  rh.present = TERN_HDR_PULL_MESSAGE_RESPONSE_HAS_SUGGEST_WHICH_BROKER_ID | TERN_HDR_PULL_MESSAGE_RESPONSE_HAS_NEXT_BEGIN_OFFSET |
               TERN_HDR_PULL_MESSAGE_RESPONSE_HAS_MIN_OFFSET | TERN_HDR_PULL_MESSAGE_RESPONSE_HAS_MAX_OFFSET;
  tern_broker_resp_init(&resp, code);
  resp.has_remark = true;
  /* Java creates a missing consume queue on read, so it reports an unknown queue as NO_MESSAGE_IN_QUEUE */
  resp.remark = tern_str_from_cstr(tern_get_status_name(
      res.status == TERN_GET_NO_MATCHED_LOGIC_QUEUE ? TERN_GET_NO_MESSAGE_IN_QUEUE : res.status));
  if (tern_hdr_pull_message_response_encode(&rh, &resp, a)) return TERN_ENOMEM;
  if (code != TERN_RESP_SUCCESS) {
    tern_conn_reply(c, req, &resp);
    return 0;
  }
  for (size_t i = 0; i < res.n; i++) {
    if (nout && (const uint8_t *)out[nout - 1].p + out[nout - 1].n == spans[i].p) {
      out[nout - 1].n += spans[i].len;
    } else {
      out[nout].p = spans[i].p;
      out[nout].n = spans[i].len;
      nout++;
    }
  }
  /* The store keeps a deleted file mapped for destroyMapedFileIntervalForcibly (120 s) after retention
   * unlinks it, which covers the time these bytes wait in the connection's queue: no release needed. */
  tern_conn_reply_spans(c, req, &resp, out, nout, NULL, NULL);
  return 0;
}

static int pull_message(void *ctx, tern_conn_t *c, const tern_cmd_t *req, const tern_hdr_pull_message_request_t *h) {
  tern_broker_t *b = ctx;
  return tern_broker_pull_run(b, c, req, h, true, &b->arena);
}

void tern_broker_pull_install(tern_broker_handlers_t *h) {
  h->pull_message = pull_message;
  h->lite_pull_message = pull_message;
}
