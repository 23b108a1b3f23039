/* Wall-clock milliseconds for timestamps that go on the wire or into the store
 * (bornTimestamp, storeTimestamp, broker liveness). Tests inject a fake clock.
 * Loop timers (timeouts, idle close) use libuv's monotonic loop time instead. */
#ifndef TERN_RUNTIME_CLOCK_H
#define TERN_RUNTIME_CLOCK_H

#include <stdint.h>

typedef uint64_t (*tern_clock_fn)(void *arg);

/* Milliseconds since the Unix epoch (System.currentTimeMillis). */
uint64_t tern_clock_now_ms(void);
/* Replaces the clock (NULL restores the system clock). Set it before starting
 * threads that read it; it is not synchronised. */
void tern_clock_set(tern_clock_fn fn, void *arg);

#endif
