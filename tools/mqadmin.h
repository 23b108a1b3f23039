/* mqadmin (mqadmin.c: framework, cluster/topic/broker commands;
 * mqadmin_msg.c: message and consumer-group commands). */
#ifndef TERN_TOOLS_MQADMIN_H
#define TERN_TOOLS_MQADMIN_H

#include "gen/bodies.h"
#include "gen/codes.h"
#include "gen/rpc.h"
#include "runtime/pool.h"

typedef int (*adm_enc_fn)(const void *h, tern_cmd_t *cmd, tern_arena_t *scratch);

/* Option values by letter (NULL when not given). */
typedef struct adm_opts {
  const char *v[128];
} adm_opts_t;

/* One request on a fresh connection; prints and returns non-zero on a
 * transport error or (when want_ok) a non-SUCCESS code with its remark. */
int adm_call(const char *addr, int32_t code, adm_enc_fn enc, const void *h, tern_str_t body, tern_cmd_t *resp,
             tern_arena_t *a, bool want_ok);
/* Tries each name server of "a;b". */
int adm_ns_call(const char *ns, int32_t code, adm_enc_fn enc, const void *h, tern_cmd_t *resp, tern_arena_t *a,
                bool want_ok);
int adm_route(const char *ns, const char *topic, tern_body_topic_route_data_t *rd, tern_arena_t *a);
int adm_cluster(const char *ns, tern_body_cluster_info_t *ci, tern_arena_t *a);
/* Master address of a broker data (NUL-terminated, in a), or NULL. */
const char *adm_master(const tern_body_broker_data_t *bd, tern_arena_t *a);
/* Broker master addresses named by -b (one) or -c (every master of the cluster). */
int adm_targets(const adm_opts_t *o, tern_arena_t *a, const char ***out, int *n);
const char *adm_cstr(tern_str_t s, tern_arena_t *a);
void adm_print_msg(const uint8_t *p, size_t n);

int cmd_send_message(const adm_opts_t *o);
int cmd_consume_message(const adm_opts_t *o);
int cmd_query_msg_by_id(const adm_opts_t *o);
int cmd_query_msg_by_key(const adm_opts_t *o);
int cmd_query_msg_by_offset(const adm_opts_t *o);
int cmd_consumer_progress(const adm_opts_t *o);
int cmd_consumer_connection(const adm_opts_t *o);
int cmd_update_sub_group(const adm_opts_t *o);

#endif
