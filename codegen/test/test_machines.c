/* The generated state machines (gen/machines.h from spec/machines/): walks the
 * legal paths of each machine as the reference describes them, and checks that
 * events a state must not accept, terminal states and out-of-range inputs all
 * give TERN_SM_INVALID. */
#include "gen/machines.h"
#include "tern_test.h"

/* Applies events in order from the initial state; returns the final state or
 * TERN_SM_INVALID as soon as one is rejected. */
static int walk(const tern_sm_desc_t *m, const int *events, const uint32_t *guards, int n) {
  int s = m->initial;
  for (int i = 0; i < n && s != TERN_SM_INVALID; i++) s = m->step(s, events[i], guards ? guards[i] : 0);
  return s;
}

TEST(machines_descriptors_are_consistent) {
  ASSERT_EQ(tern_sm_count, 4);
  for (int i = 0; i < tern_sm_count; i++) {
    const tern_sm_desc_t *m = tern_sm_all[i];
    if (i > 0) ASSERT(strcmp(tern_sm_all[i - 1]->name, m->name) < 0);
    ASSERT(m->initial >= 0 && m->initial < m->n_states);
    ASSERT(!m->terminal[m->initial]);
    for (int s = 0; s < m->n_states; s++) {
      ASSERT(strcmp(tern_sm_state_name(m, s), "?") != 0);
      int accepted = 0;
      for (int e = 0; e < m->n_events; e++) {
        /* Whatever the guards, a result is a real state or INVALID. */
        for (uint32_t g = 0; g < (1u << m->n_guards); g++) {
          int to = m->step(s, e, g);
          ASSERT(to == TERN_SM_INVALID || (to >= 0 && to < m->n_states));
          if (to != TERN_SM_INVALID) accepted++;
        }
      }
      /* Terminal states accept nothing; the others accept something. */
      if (m->terminal[s]) ASSERT_EQ(accepted, 0);
      else ASSERT(accepted > 0);
    }
    ASSERT_EQ(m->step(-1, 0, 0), TERN_SM_INVALID);
    ASSERT_EQ(m->step(m->n_states, 0, 0), TERN_SM_INVALID);
    ASSERT_EQ(m->step(m->initial, -1, 0), TERN_SM_INVALID);
    ASSERT_EQ(m->step(m->initial, m->n_events, 0), TERN_SM_INVALID);
    ASSERT_STREQ(tern_sm_state_name(m, m->n_states), "?");
    ASSERT_STREQ(tern_sm_event_name(m, -1), "?");
  }
}

TEST(frame_machine_paths) {
  const tern_sm_desc_t *m = &tern_sm_frame;
  ASSERT_EQ(m->initial, TERN_SM_FRAME_S_READ_LENGTH);
  ASSERT_STREQ(tern_sm_state_name(m, TERN_SM_FRAME_S_READ_HEADER_LEN), "read_header_len");
  /* A frame with a body, arriving in pieces, then the next frame. */
  int ev[] = {TERN_SM_FRAME_E_PARTIAL, TERN_SM_FRAME_E_LENGTH_READ, TERN_SM_FRAME_E_HEADER_LEN_READ,
              TERN_SM_FRAME_E_PARTIAL, TERN_SM_FRAME_E_HEADER_READ, TERN_SM_FRAME_E_PARTIAL,
              TERN_SM_FRAME_E_BODY_READ};
  ASSERT_EQ(walk(m, ev, NULL, 7), TERN_SM_FRAME_S_COMPLETE);
  ASSERT_EQ(tern_sm_frame_step(TERN_SM_FRAME_S_COMPLETE, TERN_SM_FRAME_E_NEXT_FRAME, 0), TERN_SM_FRAME_S_READ_LENGTH);
  /* No body: complete straight after the header. */
  int ev2[] = {TERN_SM_FRAME_E_LENGTH_READ, TERN_SM_FRAME_E_HEADER_LEN_READ, TERN_SM_FRAME_E_HEADER_READ};
  uint32_t g2[] = {0, 0, TERN_SM_FRAME_G_NO_BODY};
  ASSERT_EQ(walk(m, ev2, g2, 3), TERN_SM_FRAME_S_COMPLETE);
  /* Lying lengths end in their error states, checked before any buffering. */
  ASSERT_EQ(tern_sm_frame_step(TERN_SM_FRAME_S_READ_LENGTH, TERN_SM_FRAME_E_LENGTH_READ, TERN_SM_FRAME_G_OVER_MAX),
            TERN_SM_FRAME_S_ERROR_TOO_BIG);
  ASSERT_EQ(tern_sm_frame_step(TERN_SM_FRAME_S_READ_LENGTH, TERN_SM_FRAME_E_LENGTH_READ, TERN_SM_FRAME_G_UNDER_MIN),
            TERN_SM_FRAME_S_ERROR_TOO_SMALL);
  /* Guard order follows the spec: over_max is checked first. */
  ASSERT_EQ(tern_sm_frame_step(TERN_SM_FRAME_S_READ_LENGTH, TERN_SM_FRAME_E_LENGTH_READ,
                               TERN_SM_FRAME_G_OVER_MAX | TERN_SM_FRAME_G_UNDER_MIN),
            TERN_SM_FRAME_S_ERROR_TOO_BIG);
  ASSERT_EQ(tern_sm_frame_step(TERN_SM_FRAME_S_READ_HEADER_LEN, TERN_SM_FRAME_E_HEADER_LEN_READ,
                               TERN_SM_FRAME_G_HEADER_PAST_FRAME),
            TERN_SM_FRAME_S_ERROR_HEADER_LEN);
  ASSERT_EQ(tern_sm_frame_step(TERN_SM_FRAME_S_READ_HEADER_LEN, TERN_SM_FRAME_E_HEADER_LEN_READ,
                               TERN_SM_FRAME_G_BAD_TYPE),
            TERN_SM_FRAME_S_ERROR_SERIALIZE_TYPE);
  /* Illegal: fields out of order, a body before the header, a second frame before consuming the first. */
  ASSERT_EQ(tern_sm_frame_step(TERN_SM_FRAME_S_READ_LENGTH, TERN_SM_FRAME_E_HEADER_READ, 0), TERN_SM_INVALID);
  ASSERT_EQ(tern_sm_frame_step(TERN_SM_FRAME_S_READ_HEADER, TERN_SM_FRAME_E_BODY_READ, 0), TERN_SM_INVALID);
  ASSERT_EQ(tern_sm_frame_step(TERN_SM_FRAME_S_COMPLETE, TERN_SM_FRAME_E_LENGTH_READ, 0), TERN_SM_INVALID);
  ASSERT_EQ(tern_sm_frame_step(TERN_SM_FRAME_S_COMPLETE, TERN_SM_FRAME_E_PARTIAL, 0), TERN_SM_INVALID);
  /* Errors are final: the connection closes. */
  ASSERT_EQ(tern_sm_frame_step(TERN_SM_FRAME_S_ERROR_TOO_BIG, TERN_SM_FRAME_E_NEXT_FRAME, 0), TERN_SM_INVALID);
}

TEST(broker_liveness_paths) {
  const tern_sm_desc_t *m = &tern_sm_broker_liveness;
  /* Register, refresh by the three means, then expire on a scan past 120 s. */
  int ev[] = {TERN_SM_BROKER_LIVENESS_E_REGISTER, TERN_SM_BROKER_LIVENESS_E_SCAN,
              TERN_SM_BROKER_LIVENESS_E_QUERY_DATA_VERSION_SAME, TERN_SM_BROKER_LIVENESS_E_HEARTBEAT,
              TERN_SM_BROKER_LIVENESS_E_REGISTER, TERN_SM_BROKER_LIVENESS_E_SCAN};
  uint32_t g[] = {0, 0, 0, 0, 0, TERN_SM_BROKER_LIVENESS_G_TIMED_OUT};
  ASSERT_EQ(walk(m, ev, g, 5), TERN_SM_BROKER_LIVENESS_S_ALIVE);
  ASSERT_EQ(walk(m, ev, g, 6), TERN_SM_BROKER_LIVENESS_S_EXPIRED);
  /* Unregister and channel close remove at once. */
  ASSERT_EQ(tern_sm_broker_liveness_step(TERN_SM_BROKER_LIVENESS_S_ALIVE, TERN_SM_BROKER_LIVENESS_E_UNREGISTER, 0),
            TERN_SM_BROKER_LIVENESS_S_REMOVED);
  ASSERT_EQ(tern_sm_broker_liveness_step(TERN_SM_BROKER_LIVENESS_S_ALIVE, TERN_SM_BROKER_LIVENESS_E_CHANNEL_CLOSED, 0),
            TERN_SM_BROKER_LIVENESS_S_REMOVED);
  /* Before registration nothing but REGISTER creates the entry. */
  for (int e = 0; e < TERN_SM_BROKER_LIVENESS_N_EVENTS; e++) {
    int to = tern_sm_broker_liveness_step(TERN_SM_BROKER_LIVENESS_S_UNREGISTERED, e, TERN_SM_BROKER_LIVENESS_G_TIMED_OUT);
    if (e == TERN_SM_BROKER_LIVENESS_E_REGISTER) ASSERT_EQ(to, TERN_SM_BROKER_LIVENESS_S_ALIVE);
    else if (e == TERN_SM_BROKER_LIVENESS_E_QUERY_DATA_VERSION_SAME) ASSERT_EQ(to, TERN_SM_INVALID);
    else ASSERT_EQ(to, TERN_SM_BROKER_LIVENESS_S_UNREGISTERED);
  }
  /* A version query that reports a change keeps the broker alive (its next register refreshes it). */
  ASSERT_EQ(tern_sm_broker_liveness_step(TERN_SM_BROKER_LIVENESS_S_ALIVE,
                                         TERN_SM_BROKER_LIVENESS_E_QUERY_DATA_VERSION_CHANGED, 0),
            TERN_SM_BROKER_LIVENESS_S_ALIVE);
  /* An expired entry is gone: a heartbeat cannot revive it. */
  ASSERT_EQ(tern_sm_broker_liveness_step(TERN_SM_BROKER_LIVENESS_S_EXPIRED, TERN_SM_BROKER_LIVENESS_E_HEARTBEAT, 0),
            TERN_SM_INVALID);
}

TEST(half_message_paths) {
  const tern_sm_desc_t *m = &tern_sm_half_message;
  /* Commit right after the local transaction. */
  int commit[] = {TERN_SM_HALF_MESSAGE_E_END_COMMIT};
  ASSERT_EQ(walk(m, commit, NULL, 1), TERN_SM_HALF_MESSAGE_S_COMMITTED);
  /* UNKNOW, checked, producer answers rollback. */
  int rb[] = {TERN_SM_HALF_MESSAGE_E_END_UNKNOWN, TERN_SM_HALF_MESSAGE_E_CHECK_DUE, TERN_SM_HALF_MESSAGE_E_END_ROLLBACK};
  ASSERT_EQ(walk(m, rb, NULL, 3), TERN_SM_HALF_MESSAGE_S_ROLLED_BACK);
  /* Checked 15 times without an answer, then discarded on the next due check. */
  int s = m->initial;
  for (int i = 0; i < 15; i++) {
    s = tern_sm_half_message_step(s, TERN_SM_HALF_MESSAGE_E_CHECK_DUE, 0);
    ASSERT_EQ(s, TERN_SM_HALF_MESSAGE_S_CHECKING);
  }
  s = tern_sm_half_message_step(s, TERN_SM_HALF_MESSAGE_E_CHECK_DUE, TERN_SM_HALF_MESSAGE_G_CHECK_MAX_REACHED);
  ASSERT_EQ(s, TERN_SM_HALF_MESSAGE_S_DISCARDED);
  /* A check answered "unknown" returns to waiting; file expiry discards. */
  ASSERT_EQ(tern_sm_half_message_step(TERN_SM_HALF_MESSAGE_S_CHECKING, TERN_SM_HALF_MESSAGE_E_END_UNKNOWN, 0),
            TERN_SM_HALF_MESSAGE_S_PREPARED);
  ASSERT_EQ(tern_sm_half_message_step(TERN_SM_HALF_MESSAGE_S_PREPARED, TERN_SM_HALF_MESSAGE_E_FILE_EXPIRED, 0),
            TERN_SM_HALF_MESSAGE_S_DISCARDED);
  /* Decisions are final: a second END_TRANSACTION is rejected. */
  ASSERT_EQ(tern_sm_half_message_step(TERN_SM_HALF_MESSAGE_S_COMMITTED, TERN_SM_HALF_MESSAGE_E_END_ROLLBACK, 0),
            TERN_SM_INVALID);
  ASSERT_EQ(tern_sm_half_message_step(TERN_SM_HALF_MESSAGE_S_ROLLED_BACK, TERN_SM_HALF_MESSAGE_E_END_COMMIT, 0),
            TERN_SM_INVALID);
  ASSERT_EQ(tern_sm_half_message_step(TERN_SM_HALF_MESSAGE_S_DISCARDED, TERN_SM_HALF_MESSAGE_E_END_COMMIT, 0),
            TERN_SM_INVALID);
}

TEST(queue_lock_paths) {
  const tern_sm_desc_t *m = &tern_sm_queue_lock;
  ASSERT_EQ(m->n_guards, 0);
  /* Lock, renew, other client refused, lapse, other client takes over, owner unlocks. */
  int ev[] = {TERN_SM_QUEUE_LOCK_E_LOCK_OTHER, TERN_SM_QUEUE_LOCK_E_LOCK_OWNER, TERN_SM_QUEUE_LOCK_E_LOCK_OTHER,
              TERN_SM_QUEUE_LOCK_E_LEASE_TIMEOUT, TERN_SM_QUEUE_LOCK_E_LOCK_OTHER, TERN_SM_QUEUE_LOCK_E_UNLOCK_OWNER};
  ASSERT_EQ(walk(m, ev, NULL, 3), TERN_SM_QUEUE_LOCK_S_LOCKED);
  ASSERT_EQ(walk(m, ev, NULL, 4), TERN_SM_QUEUE_LOCK_S_EXPIRED);
  ASSERT_EQ(walk(m, ev, NULL, 5), TERN_SM_QUEUE_LOCK_S_LOCKED);
  ASSERT_EQ(walk(m, ev, NULL, 6), TERN_SM_QUEUE_LOCK_S_FREE);
  /* Only the owner can unlock; a free queue has no owner to renew or time out. */
  ASSERT_EQ(tern_sm_queue_lock_step(TERN_SM_QUEUE_LOCK_S_LOCKED, TERN_SM_QUEUE_LOCK_E_UNLOCK_OTHER, 0),
            TERN_SM_QUEUE_LOCK_S_LOCKED);
  ASSERT_EQ(tern_sm_queue_lock_step(TERN_SM_QUEUE_LOCK_S_FREE, TERN_SM_QUEUE_LOCK_E_LOCK_OWNER, 0), TERN_SM_INVALID);
  ASSERT_EQ(tern_sm_queue_lock_step(TERN_SM_QUEUE_LOCK_S_FREE, TERN_SM_QUEUE_LOCK_E_LEASE_TIMEOUT, 0), TERN_SM_INVALID);
  ASSERT_EQ(tern_sm_queue_lock_step(TERN_SM_QUEUE_LOCK_S_EXPIRED, TERN_SM_QUEUE_LOCK_E_LEASE_TIMEOUT, 0),
            TERN_SM_INVALID);
  /* The previous owner may renew a lapsed lock. */
  ASSERT_EQ(tern_sm_queue_lock_step(TERN_SM_QUEUE_LOCK_S_EXPIRED, TERN_SM_QUEUE_LOCK_E_LOCK_OWNER, 0),
            TERN_SM_QUEUE_LOCK_S_LOCKED);
}
