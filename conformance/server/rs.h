/* run-server internals shared by the data-driven cases (rs_cases.c), the
 * cases written in C (rs_frames.c) and the driver (run_server.c). */
#ifndef TERN_CONFORMANCE_RS_H
#define TERN_CONFORMANCE_RS_H

#include "conformance/server/rs_net.h"
#include "runtime/buf.h"

enum { RS_PASS = 0, RS_FAIL = 1, RS_SKIP = 2 };

typedef struct rs_env {
  const char *namesrv, *broker; /* addresses; broker may be NULL */
  uint8_t ser;                  /* TERN_SER_* of this pass */
  const char *ser_name;         /* "json" / "rocketmq" */
  char run[48];                 /* unique per pass: names topics and groups */
  char broker_name[128], cluster[128];
  int timeout_ms;
  bool verbose;
} rs_env_t;

/* Per-case variables: ${name} in case text. */
#define RS_MAX_VARS 32
typedef struct rs_vars {
  char name[RS_MAX_VARS][32];
  char val[RS_MAX_VARS][256];
  int n;
} rs_vars_t;
void rs_var_set(rs_vars_t *v, const char *name, const char *val);
const char *rs_var_get(const rs_vars_t *v, const char *name);
/* The standard variables of a pass: run, topic, group, broker_name, cluster, broker_addr, namesrv_addr. */
void rs_vars_init(rs_vars_t *v, const rs_env_t *env);

/* Human description of a command for failure reports. */
void rs_describe(tern_buf_t *out, const char *prefix, const tern_cmd_t *c);

typedef struct rs_result {
  char name[160];
  char spec[200];
  int status;
  double ms;
  tern_buf_t detail; /* request sent, reply received, what the spec expected */
} rs_result_t;

/* Cases written in C. */
typedef int (*rs_case_fn)(const rs_env_t *env, tern_buf_t *detail);
typedef struct rs_ccase {
  const char *name, *spec;
  bool needs_broker;
  rs_case_fn fn;
} rs_ccase_t;
extern const rs_ccase_t rs_ccases[];
extern const size_t rs_n_ccases;

/* Runs every case of one case file; appends results (grows *res). */
int rs_run_case_file(const rs_env_t *env, const char *path, const char *only, rs_result_t **res, size_t *n,
                     size_t *cap);
/* Spec-driven checks every reply gets: RESPONSE flag, same opaque and serialization as the request,
 * and for a success, a response header and body that decode as the spec's classes. Appends to why. */
bool rs_check_reply_shape(const tern_cmd_t *req_sent, uint8_t ser, const tern_cmd_t *resp, tern_buf_t *why);

/* Creates topic (queues read/write queues) on the broker and waits for its route; 0 on success. */
int rs_setup_topic(const rs_env_t *env, const char *topic, int queues);
/* Discovers broker_name/cluster of env->broker from the name server's cluster info. */
int rs_discover(rs_env_t *env);

#endif
