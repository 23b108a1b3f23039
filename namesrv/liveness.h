/* Broker liveness for the name server: the periodic scan that drops brokers
 * whose last registration (or unchanged QUERY_DATA_VERSION) is older than their
 * heartbeat timeout (120 s unless the broker sent heartbeatTimeoutMillis), and
 * the immediate removal of every broker registered over a connection that has
 * closed (reference §8.1). Time is a parameter; nothing here touches a clock
 * or a socket. */
#ifndef TERN_NAMESRV_LIVENESS_H
#define TERN_NAMESRV_LIVENESS_H

#include "namesrv/routes.h"

/* Called once per expired broker after its routes are gone, so the server can
 * close the connection it registered on (conn may be NULL). addr is only valid
 * during the call. */
typedef void (*tern_ns_expired_fn)(void *ctx, void *conn, tern_str_t addr);

/* Removes every broker with last_update + timeout < now_ms (strictly, as
 * RocketMQ). Returns the number removed, or TERN_ENOMEM before removing any. */
int tern_ns_liveness_scan(tern_ns_routes_t *r, int64_t now_ms, tern_ns_expired_fn on_expired, void *ctx);

/* A connection closed: removes every broker whose live entry names conn.
 * Returns the number removed (or TERN_ENOMEM). */
int tern_ns_liveness_conn_closed(tern_ns_routes_t *r, const void *conn);

#endif
