/* The queue lock table behind LOCK_BATCH_MQ / UNLOCK_BATCH_MQ (see locks.h):
 * one string map keyed by "group\x01topic\x01brokerName\x01queueId" (a
 * MessageQueue's identity within a group, as Java's ConcurrentMap<group,
 * ConcurrentMap<MessageQueue, LockEntry>> keys it) holding the owner and the
 * last renewal time. Semantics follow RebalanceLockManager.tryLockBatch and
 * unlockBatch of RocketMQ 4.9. */
#include "broker/locks.h"

#include <stdio.h>
#include <stdlib.h>

#include "namesrv/strmap.h"
#include "runtime/buf.h"
#include "runtime/log.h"

typedef struct lock_entry {
  char *key;
  size_t key_len;
  char *client_id;
  size_t client_len;
  int64_t last_update_ms;
} lock_entry_t;

struct tern_broker_locks {
  tern_strmap_t map;
  int64_t lease_ms;
};

tern_broker_locks_t *tern_broker_locks_new(int64_t lease_ms) {
  tern_broker_locks_t *l = calloc(1, sizeof *l);
  if (!l) return NULL;
  tern_strmap_init(&l->map);
  l->lease_ms = lease_ms > 0 ? lease_ms : 60000;
  return l;
}

static void entry_free(lock_entry_t *e) {
  if (!e) return;
  free(e->key);
  free(e->client_id);
  free(e);
}

void tern_broker_locks_free(tern_broker_locks_t *l) {
  const tern_strmap_slot_t *slot;
  if (!l) return;
  for (uint32_t i = 0; tern_strmap_next(&l->map, &i, &slot);) entry_free(slot->val);
  tern_strmap_free(&l->map);
  free(l);
}

void tern_broker_locks_set_lease(tern_broker_locks_t *l, int64_t lease_ms) {
  if (lease_ms > 0) l->lease_ms = lease_ms;
}

size_t tern_broker_locks_count(const tern_broker_locks_t *l) { return l->map.len; }

/* The key of (group, mq) in buf (NUL-separated fields cannot collide because
 * names never contain \x01). */
static tern_str_t make_key(tern_buf_t *buf, tern_str_t group, const tern_body_message_queue_t *mq) {
  tern_buf_reset(buf);
  tern_buf_append_str(buf, group);
  tern_buf_put_u8(buf, 1);
  tern_buf_append_str(buf, mq->topic);
  tern_buf_put_u8(buf, 1);
  tern_buf_append_str(buf, mq->broker_name);
  tern_buf_printf(buf, "\x01%d", (int)mq->queue_id);
  if (buf->err) return TERN_STR_NULL;
  return (tern_str_t){(const char *)buf->p, buf->len};
}

static bool owner_is(const lock_entry_t *e, tern_str_t client_id) {
  return e->client_len == client_id.n && memcmp(e->client_id, client_id.p, client_id.n) == 0;
}

static int set_owner(lock_entry_t *e, tern_str_t client_id) {
  char *c = malloc(client_id.n + 1);
  if (!c) return TERN_ENOMEM;
  memcpy(c, client_id.p, client_id.n);
  c[client_id.n] = '\0';
  free(e->client_id);
  e->client_id = c;
  e->client_len = client_id.n;
  return 0;
}

bool tern_broker_locks_try(tern_broker_locks_t *l, tern_str_t group, const tern_body_message_queue_t *mq,
                           tern_str_t client_id, int64_t now_ms) {
  tern_buf_t buf;
  tern_str_t key;
  lock_entry_t *e;
  bool ok = false;
  tern_buf_init(&buf, 1 << 16);
  key = make_key(&buf, group, mq);
  if (!key.p || client_id.n == 0) goto out;
  e = tern_strmap_get(&l->map, key);
  if (!e) {
    e = calloc(1, sizeof *e);
    if (!e) goto out;
    e->key = malloc(key.n);
    if (!e->key || set_owner(e, client_id)) {
      entry_free(e);
      goto out;
    }
    memcpy(e->key, key.p, key.n);
    e->key_len = key.n;
    e->last_update_ms = now_ms;
    if (tern_strmap_put(&l->map, (tern_str_t){e->key, e->key_len}, e, NULL)) {
      entry_free(e);
      goto out;
    }
    tern_info("broker: tryLockBatch, message queue not locked, I got it. Group: %.*s NewClientId: %.*s",
              TERN_STR_ARG(group), TERN_STR_ARG(client_id));
    ok = true;
  } else if (owner_is(e, client_id)) {
    e->last_update_ms = now_ms; /* renewal, expired or not */
    ok = true;
  } else if (now_ms - e->last_update_ms > l->lease_ms) {
    tern_warn("broker: tryLockBatch, message queue lock expired, I got it. Group: %.*s OldClientId: %s NewClientId: %.*s",
              TERN_STR_ARG(group), e->client_id, TERN_STR_ARG(client_id));
    if (set_owner(e, client_id) == 0) {
      e->last_update_ms = now_ms;
      ok = true;
    }
  } else {
    tern_warn("broker: tryLockBatch, message queue locked by other client. Group: %.*s OtherClientId: %s NewClientId: %.*s",
              TERN_STR_ARG(group), e->client_id, TERN_STR_ARG(client_id));
  }
out:
  tern_buf_free(&buf);
  return ok;
}

bool tern_broker_locks_unlock(tern_broker_locks_t *l, tern_str_t group, const tern_body_message_queue_t *mq,
                              tern_str_t client_id) {
  tern_buf_t buf;
  tern_str_t key;
  lock_entry_t *e;
  bool done = false;
  tern_buf_init(&buf, 1 << 16);
  key = make_key(&buf, group, mq);
  if (key.p && (e = tern_strmap_get(&l->map, key)) != NULL) {
    if (owner_is(e, client_id)) {
      tern_strmap_del(&l->map, key);
      entry_free(e);
      done = true;
    } else {
      tern_warn("broker: unlockBatch, but mq locked by other client: %s, Group: %.*s %.*s", e->client_id,
                TERN_STR_ARG(group), TERN_STR_ARG(client_id));
    }
  }
  tern_buf_free(&buf);
  return done;
}
