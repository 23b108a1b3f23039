/* Internal interfaces between the service-core files of the broker (not for
 * the client-management part: it uses broker.h). */
#ifndef TERN_BROKER_BROKER_INT_H
#define TERN_BROKER_BROKER_INT_H

#include "broker/broker.h"
#include "gen/codes.h"

/* topics.c */
int tern_broker_topics_init(tern_broker_t *b, tern_err_t *err);
void tern_broker_topics_free(tern_broker_t *b);
tern_broker_topic_t *tern_broker_topic_autocreate(tern_broker_t *b, tern_str_t name, tern_str_t default_topic,
                                                  int32_t client_queues, int32_t sys_flag);

/* offsets.c */
int tern_broker_offsets_init(tern_broker_t *b, tern_err_t *err);
void tern_broker_offsets_free(tern_broker_t *b);
void tern_broker_offsets_install(tern_broker_handlers_t *h);

/* send.c, sendq.c */
void tern_broker_send_install(tern_broker_handlers_t *h);
int tern_broker_sendq_init(tern_broker_t *b);
/* Runs completions that arrived (on the loop thread); used at shutdown after the store closed. */
void tern_broker_sendq_drain(tern_broker_t *b);
void tern_broker_sendq_free(tern_broker_t *b);
size_t tern_broker_sendq_parked(const tern_broker_t *b);
/* Parks a SYNC_FLUSH send reply until end_offset is durable (or FLUSH_DISK_TIMEOUT). */
int tern_broker_sendq_park(tern_broker_t *b, tern_conn_t *c, const tern_cmd_t *req, int64_t end_offset, tern_str_t msg_id,
                           int32_t queue_id, int64_t queue_offset);
/* A send reply with msgId/queueId/queueOffset plus MSG_REGION and TRACE_ON. */
int tern_broker_send_reply_ok(tern_broker_t *b, tern_conn_t *c, const tern_cmd_t *req, int32_t code, tern_str_t msg_id,
                              int32_t queue_id, int64_t queue_offset, tern_arena_t *scratch);

/* pull.c, longpoll.c */
void tern_broker_pull_install(tern_broker_handlers_t *h);
int tern_broker_lp_init(tern_broker_t *b);
/* Answers every suspended pull now (shutdown). */
void tern_broker_lp_flush_all(tern_broker_t *b);
void tern_broker_lp_free(tern_broker_t *b);
size_t tern_broker_lp_count(const tern_broker_t *b);
/* Parks a pull that found nothing: re-run at the deadline or when (topic, queue) grows past offset. */
typedef struct tern_pull_filter {
  bool all;             /* no filtering ("*", class filter) */
  const int32_t *codes; /* tag hash codes (none and !all: nothing matches) */
  size_t n;
} tern_pull_filter_t;
static inline bool tern_pull_filter_match(const tern_pull_filter_t *f, int64_t tags_code) {
  if (f->all) return true;
  for (size_t i = 0; i < f->n; i++)
    if (f->codes[i] == (int32_t)tags_code) return true;
  return false;
}
int tern_broker_lp_park(tern_broker_t *b, tern_conn_t *c, const tern_cmd_t *req, const tern_hdr_pull_message_request_t *h,
                        const tern_pull_filter_t *f, uint64_t hold_ms);
/* A message with tags hash `tags_code` (known=false: unknown, match every
 * filter) was stored in (topic, queue): re-run the pulls waiting there. */
void tern_broker_lp_notify(tern_broker_t *b, tern_str_t topic, int32_t queue_id, int64_t tags_code, bool known);
/* Re-runs a pull without the right to suspend (longpoll.c calls it). */
int tern_broker_pull_run(tern_broker_t *b, tern_conn_t *c, const tern_cmd_t *req, const tern_hdr_pull_message_request_t *h,
                         bool allow_suspend, tern_arena_t *scratch);

/* schedule.c */
int tern_broker_sched_init(tern_broker_t *b, tern_err_t *err);
void tern_broker_sched_start(tern_broker_t *b);
void tern_broker_sched_stop(tern_broker_t *b); /* stops the timers, persists delayOffset.json */
void tern_broker_sched_free(tern_broker_t *b);
/* When m carries a delay level: rewrites *m into the schedule topic (REAL_TOPIC/REAL_QID
 * added, properties built in `props`); returns true then. */
bool tern_broker_sched_redirect(tern_broker_t *b, tern_store_msg_t *m, tern_buf_t *props);

/* query.c */
void tern_broker_query_install(tern_broker_handlers_t *h);

/* register.c */
void tern_broker_register_start(tern_broker_t *b);
void tern_broker_register_stop(tern_broker_t *b);
void tern_broker_register_free(tern_broker_t *b);
/* Sends UNREGISTER_BROKER to every name server; done(b) when all answered or failed. */
void tern_broker_unregister_all(tern_broker_t *b, void (*done)(tern_broker_t *b));

/* broker.c: reply helpers */
const char *tern_broker_remarkf(tern_broker_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tern_broker_resp_init(tern_cmd_t *r, int32_t code);

#define TERN_FAQ_SUFFIX(url) "\nSee " url " for further details."
#define TERN_FAQ_APPLY_TOPIC "http://rocketmq.apache.org/docs/faq/"
#define TERN_FAQ_SUBSCRIPTION_GROUP_NOT_EXIST "http://rocketmq.apache.org/docs/faq/"
#define TERN_FAQ_SAME_GROUP_DIFFERENT_TOPIC "http://rocketmq.apache.org/docs/faq/"

#endif
