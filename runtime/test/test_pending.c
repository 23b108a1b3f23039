/* The pending-request table against a simple model: lookups by opaque,
 * expiry in deadline order, removal from the middle, duplicate refusal and
 * entry reuse. */
#include <stdlib.h>

#include "runtime/pending.h"
#include "tern_test.h"

TEST(pending_matches_expires_in_order_and_reuses_entries) {
  enum { N = 5000 };
  tern_pending_table_t t;
  static uint64_t deadline[N];
  static bool live[N];
  uint64_t last = 0;
  uint32_t nlive = 0, popped = 0;
  unsigned seed = 12345;
  tern_pending_init(&t);
  for (int i = 0; i < N; i++) {
    tern_pending_t *e;
    seed = seed * 1103515245u + 12345u;
    deadline[i] = 1000 + (seed >> 8) % 100000;
    e = tern_pending_add(&t, i * 7 - 3000, deadline[i]); /* negative opaques too */
    ASSERT(e != NULL);
    live[i] = true;
    nlive++;
  }
  ASSERT(tern_pending_add(&t, 7 * 5 - 3000, 1) == NULL); /* already waiting */
  ASSERT_EQ(t.count, N);
  /* answer every third one by opaque */
  for (int i = 0; i < N; i += 3) {
    tern_pending_t *e = tern_pending_take(&t, i * 7 - 3000);
    ASSERT(e != NULL);
    ASSERT_EQ(e->deadline, deadline[i]);
    ASSERT(tern_pending_take(&t, i * 7 - 3000) == NULL); /* exactly once */
    tern_pending_release(&t, e);
    live[i] = false;
    nlive--;
  }
  ASSERT_EQ(t.count, nlive);
  /* expire the rest in deadline order, in a few steps of time */
  for (uint64_t now = 0; now <= 200000; now += 5000) {
    tern_pending_t *e;
    while ((e = tern_pending_pop_expired(&t, now)) != NULL) {
      int i = (e->opaque + 3000) / 7;
      ASSERT(live[i]);
      ASSERT(e->deadline <= now);
      ASSERT(e->deadline >= last);
      last = e->deadline;
      live[i] = false;
      popped++;
      tern_pending_release(&t, e);
    }
    if (t.count) ASSERT(tern_pending_next_deadline(&t) > now);
  }
  ASSERT_EQ(popped, nlive);
  ASSERT_EQ(t.count, 0);
  ASSERT_EQ(tern_pending_next_deadline(&t), UINT64_MAX);
  /* entries come back from the free list */
  ASSERT(tern_pending_add(&t, 1, 5) != NULL);
  ASSERT(t.free_list != NULL);
  tern_pending_free(&t);
}
