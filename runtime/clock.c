/* The injectable wall clock behind tern_clock_now_ms. */
#include "runtime/clock.h"

#include <stddef.h>
#include <time.h>

static tern_clock_fn clock_fn;
static void *clock_arg;

uint64_t tern_clock_now_ms(void) {
  struct timespec ts;
  if (clock_fn) return clock_fn(clock_arg);
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void tern_clock_set(tern_clock_fn fn, void *arg) {
  clock_fn = fn;
  clock_arg = arg;
}
