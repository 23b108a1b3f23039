/* Latency histogram in microseconds for tern-bench: log-linear buckets (64
 * per power of two, under 1.6% error), lock-free recording from any thread. */
#ifndef TERN_TOOLS_HIST_H
#define TERN_TOOLS_HIST_H

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#define HIST_BUCKETS 2304

typedef struct hist {
  atomic_uint_fast64_t b[HIST_BUCKETS];
  atomic_uint_fast64_t n, sum, max;
} hist_t;

static inline int hist_idx(uint64_t v) {
  int msb, shift;
  if (v < 128) return (int)v;
  msb = 63 - __builtin_clzll(v);
  shift = msb - 6;
  {
    int i = 128 + (shift - 1) * 64 + (int)((v >> shift) - 64);
    return i < HIST_BUCKETS ? i : HIST_BUCKETS - 1;
  }
}
static inline uint64_t hist_val(int i) { /* upper edge of bucket i */
  int shift;
  if (i < 128) return (uint64_t)i;
  shift = (i - 128) / 64 + 1;
  return ((uint64_t)((i - 128) % 64 + 64 + 1) << shift) - 1;
}
static inline void hist_reset(hist_t *h) { memset(h, 0, sizeof *h); }
static inline void hist_add(hist_t *h, uint64_t us) {
  uint64_t m = atomic_load(&h->max);
  atomic_fetch_add(&h->b[hist_idx(us)], 1);
  atomic_fetch_add(&h->n, 1);
  atomic_fetch_add(&h->sum, us);
  while (us > m && !atomic_compare_exchange_weak(&h->max, &m, us)) {
  }
}
/* q in [0,1]; 0 when empty. */
static inline uint64_t hist_pct(const hist_t *h, double q) {
  uint64_t n = atomic_load(&h->n), want, acc = 0;
  int i;
  if (!n) return 0;
  want = (uint64_t)(q * (double)n);
  if (want >= n) want = n - 1;
  for (i = 0; i < HIST_BUCKETS; i++) {
    acc += atomic_load(&h->b[i]);
    if (acc > want) {
      uint64_t v = hist_val(i), mx = atomic_load(&h->max);
      return v < mx ? v : mx;
    }
  }
  return atomic_load(&h->max);
}
/* Moves a window's counts into the total and clears the window (single reader thread). */
static inline void hist_drain(hist_t *win, hist_t *snap) {
  int i;
  uint64_t m;
  hist_reset(snap);
  for (i = 0; i < HIST_BUCKETS; i++) atomic_store(&snap->b[i], atomic_exchange(&win->b[i], 0));
  atomic_store(&snap->n, atomic_exchange(&win->n, 0));
  atomic_store(&snap->sum, atomic_exchange(&win->sum, 0));
  m = atomic_exchange(&win->max, 0);
  atomic_store(&snap->max, m);
}

#endif
