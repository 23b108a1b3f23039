/* Expiry scan and connection-close removal; see liveness.h. Both first collect
 * the affected addresses (copied, since removal frees the live entries and the
 * callback may re-enter the route state through a close handler), then remove
 * them, then report. */
#include "namesrv/liveness.h"

#include <stdlib.h>

typedef struct victim {
  tern_str_t addr; /* copy */
  void *conn;
} victim_t;

/* Collects live entries matching pred into a malloc'd array of copies. */
static int collect(tern_ns_routes_t *r, bool (*pred)(const tern_ns_live_t *, const void *), const void *arg,
                   victim_t **out, uint32_t *n) {
  uint32_t i = 0, k = 0;
  const tern_strmap_slot_t *s;
  victim_t *v;
  *out = NULL;
  *n = 0;
  if (!r->live.len) return 0;
  v = calloc(r->live.len, sizeof *v);
  if (!v) return TERN_ENOMEM;
  while (tern_strmap_next(&r->live, &i, &s)) {
    const tern_ns_live_t *l = s->val;
    char *copy;
    if (!pred(l, arg)) continue;
    copy = malloc(l->addr.n + 1);
    if (!copy) {
      for (uint32_t j = 0; j < k; j++) free((void *)v[j].addr.p);
      free(v);
      return TERN_ENOMEM;
    }
    memcpy(copy, l->addr.p, l->addr.n);
    copy[l->addr.n] = '\0';
    v[k].addr.p = copy;
    v[k].addr.n = l->addr.n;
    v[k].conn = l->conn;
    k++;
  }
  *out = v;
  *n = k;
  return 0;
}

static bool is_expired(const tern_ns_live_t *l, const void *arg) {
  int64_t now = *(const int64_t *)arg;
  /* last + timeout < now, computed without overflow for hostile timeouts. */
  return l->last_update_ms < now && (uint64_t)now - (uint64_t)l->last_update_ms > (uint64_t)l->timeout_ms;
}

static bool on_conn(const tern_ns_live_t *l, const void *arg) { return l->conn != NULL && l->conn == arg; }

int tern_ns_liveness_scan(tern_ns_routes_t *r, int64_t now_ms, tern_ns_expired_fn on_expired, void *ctx) {
  victim_t *v;
  uint32_t n;
  int rc = collect(r, is_expired, &now_ms, &v, &n);
  if (rc) return rc;
  for (uint32_t i = 0; i < n; i++) tern_ns_routes_remove_addr(r, v[i].addr);
  for (uint32_t i = 0; i < n; i++) {
    if (on_expired) on_expired(ctx, v[i].conn, v[i].addr);
    free((void *)v[i].addr.p);
  }
  free(v);
  return (int)n;
}

int tern_ns_liveness_conn_closed(tern_ns_routes_t *r, const void *conn) {
  victim_t *v;
  uint32_t n;
  int rc;
  if (!conn) return 0;
  rc = collect(r, on_conn, conn, &v, &n);
  if (rc) return rc;
  for (uint32_t i = 0; i < n; i++) {
    tern_ns_routes_remove_addr(r, v[i].addr);
    free((void *)v[i].addr.p);
  }
  free(v);
  return (int)n;
}
