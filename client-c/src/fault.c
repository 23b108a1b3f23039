/* Latency-based fault avoidance for producers, after Java's MQFaultStrategy
 * and LatencyFaultToleranceImpl: each send's latency (or a failure, counted
 * as 30 s) marks its broker unavailable for a while (latency 550 ms -> 30 s,
 * 1 s -> 60 s, 2 s -> 120 s, 3 s -> 180 s, 15 s or failure -> 600 s), and
 * queue selection skips such brokers, and the broker that just failed when
 * retrying, while any other is available. Loop thread only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"

static const uint64_t latency_max[] = {50, 100, 550, 1000, 2000, 3000, 15000};
static const uint64_t not_available[] = {0, 0, 30000, 60000, 120000, 180000, 600000};

void tc_fault_free(tc_fault_t *f) {
  free(f->items);
  memset(f, 0, sizeof *f);
}

static tc_fault_item_t *find(tc_fault_t *f, const char *broker) {
  int i;
  for (i = 0; i < f->n; i++)
    if (strcmp(f->items[i].broker, broker) == 0) return &f->items[i];
  return NULL;
}

void tc_fault_update(tc_fault_t *f, const char *broker, uint64_t latency_ms, bool isolation, uint64_t now_ms) {
  tc_fault_item_t *it;
  uint64_t lat = isolation ? 30000 : latency_ms, dur = 0;
  int i;
  for (i = (int)(sizeof latency_max / sizeof latency_max[0]) - 1; i >= 0; i--)
    if (lat >= latency_max[i]) {
      dur = not_available[i];
      break;
    }
  it = find(f, broker);
  if (!it) {
    if (f->n == f->cap) {
      int nc = f->cap ? f->cap * 2 : 8;
      void *p = realloc(f->items, sizeof *f->items * (size_t)nc);
      if (!p) return;
      f->items = p;
      f->cap = nc;
    }
    it = &f->items[f->n++];
    memset(it, 0, sizeof *it);
    snprintf(it->broker, sizeof it->broker, "%s", broker);
  }
  it->latency = lat;
  it->available_at = now_ms + dur;
}

bool tc_fault_available(tc_fault_t *f, const char *broker, uint64_t now_ms) {
  tc_fault_item_t *it = find(f, broker);
  return !it || now_ms >= it->available_at;
}

int tc_fault_select(tc_fault_t *f, bool enabled, const tern_mq_t *mqs, int n, uint32_t *index, const char *last_broker,
                    uint64_t now_ms) {
  int i, pos;
  if (n <= 0) return -1;
  if (enabled) {
    /* 1: an available broker other than the one that just failed; 2: any available one. */
    for (i = 0; i < n; i++) {
      pos = (int)((*index)++ % (uint32_t)n);
      if (tc_fault_available(f, mqs[pos].broker_name, now_ms) &&
          (!last_broker || !*last_broker || strcmp(mqs[pos].broker_name, last_broker) != 0))
        return pos;
    }
    for (i = 0; i < n; i++) {
      pos = (int)((*index)++ % (uint32_t)n);
      if (tc_fault_available(f, mqs[pos].broker_name, now_ms)) return pos;
    }
    /* 3: none available: the one that recovers first, other than the last one when possible. */
    {
      int best = -1;
      uint64_t best_at = UINT64_MAX;
      for (i = 0; i < n; i++) {
        tc_fault_item_t *it = find(f, mqs[i].broker_name);
        uint64_t at = it ? it->available_at : 0;
        if (last_broker && strcmp(mqs[i].broker_name, last_broker) == 0) at = UINT64_MAX - 1;
        if (at < best_at) best_at = at, best = i;
      }
      if (best >= 0) {
        (*index)++;
        return best;
      }
    }
  }
  for (i = 0; i < n; i++) {
    pos = (int)((*index)++ % (uint32_t)n);
    if (!last_broker || !*last_broker || strcmp(mqs[pos].broker_name, last_broker) != 0) return pos;
  }
  return (int)((*index)++ % (uint32_t)n);
}
