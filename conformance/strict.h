/* The strict checker: judges each incoming request frame against the spec and
 * reports every departure as a violation. The rules come from the generated
 * tables (gen/strict.h: codes, header and body classes, flag and bit masks;
 * gen/headers.h: required fields and their types; gen/bodies.h: body shapes;
 * gen/message.h: the properties encoding) plus one session rule that follows
 * the broker's behaviour (a PULL_MESSAGE without the SUBSCRIPTION bit needs a
 * prior HEART_BEAT registering its consumer group).
 *
 * In a server it is installed with tern_server_set_inspector(s,
 * tern_strict_inspect, st); each violation is logged (warn level) as one line
 *   strict-violation {"server":..,"conn":..,"clientId":..,"language":..,
 *                     "code":..,"codeName":..,"rule":..,"field":..,"spec":..}
 * so a runner can collect them. Loop-thread only, like the server. */
#ifndef TERN_CONFORMANCE_STRICT_H
#define TERN_CONFORMANCE_STRICT_H

#include <stdbool.h>
#include <stdint.h>

#include "gen/codes.h" /* TERN_ROLE_* */
#include "gen/command.h"
#include "runtime/arena.h"
#include "runtime/config.h"
#include "runtime/conn.h"

#define TERN_STRICT_LOG_TAG "strict-violation "

typedef struct tern_strict_violation {
  const char *conn;      /* peer "ip:port" */
  const char *client_id; /* from the connection's heartbeat, "" until one came */
  const char *language;  /* LanguageCode name of the request ("?" when unknown) */
  int32_t code;          /* request code */
  const char *rule;      /* rule id, e.g. "header.required" (see conformance/README.md) */
  const char *field;     /* header key / body path / "" */
  char spec[256];        /* what the spec says (and what came instead) */
} tern_strict_violation_t;

typedef void (*tern_strict_report_fn)(void *arg, const tern_strict_violation_t *v);

#define TERN_STRICT_MAX_CONNS 256
#define TERN_STRICT_MAX_GROUPS 256

typedef struct tern_strict {
  uint8_t role;       /* TERN_ROLE_NAMESRV or TERN_ROLE_BROKER: the codes this server serves */
  const char *server; /* "namesrv" / "broker", for the log line */
  tern_strict_report_fn report; /* NULL: log the line (tern_warn) */
  void *report_arg;
  uint64_t n_checked, n_violations;
  /* private: what earlier requests established */
  struct {
    char peer[64];
    char client_id[128];
  } conns[TERN_STRICT_MAX_CONNS];
  uint32_t n_conns, next_conn;
  char groups[TERN_STRICT_MAX_GROUPS][128]; /* consumer groups registered by HEART_BEAT */
  uint32_t n_groups;
  tern_arena_t arena; /* body decodes, reset per request */
} tern_strict_t;

void tern_strict_init(tern_strict_t *st, uint8_t role, const char *server);
void tern_strict_free(tern_strict_t *st);
/* Checks one request from peer; reports each violation; returns how many. */
int tern_strict_check(tern_strict_t *st, const char *peer, const tern_cmd_t *req);
/* The header rules alone, for any command (e.g. a reply): required fields present (except those only
 * 5.x requires) and present fields well-typed. Returns the number of problems; the first is described in why. */
int tern_strict_header_problems(const char *java, const tern_cmd_t *cmd, char *why, size_t cap);
/* Inspector callback for tern_server_set_inspector (ctx = tern_strict_t *). */
void tern_strict_inspect(void *ctx, tern_conn_t *c, const tern_cmd_t *req);
/* Formats a violation as the JSON object of the log line (NUL-terminated, truncated to cap). */
void tern_strict_format(const tern_strict_violation_t *v, const char *server, char *dst, size_t cap);

/* The config key that turns strict mode on in mqnamesrv and mqbroker
 * (strictMode=true in the file, or -c with it; default false). */
typedef struct tern_strict_conf {
  bool strict_mode;
} tern_strict_conf_t;
extern const tern_cfg_item_t tern_strict_cfg_items[];
extern const size_t tern_strict_cfg_count;
/* Removes every "--strict" from argv (before tern_config_main sees it); true when one was there. */
bool tern_strict_take_flag(int *argc, char **argv);

#endif
