/* Broker fault table for producers (fault.c). Loop thread only. */
#ifndef TERN_CLIENT_FAULT_H
#define TERN_CLIENT_FAULT_H

#include <stdbool.h>
#include <stdint.h>

#include "tern/client.h"

typedef struct tc_fault_item {
  char broker[128];
  uint64_t latency, available_at;
} tc_fault_item_t;
typedef struct tc_fault {
  tc_fault_item_t *items;
  int n, cap;
} tc_fault_t;

void tc_fault_free(tc_fault_t *f);
/* Records a send's latency; isolation = it failed (counts as 30 s). */
void tc_fault_update(tc_fault_t *f, const char *broker, uint64_t latency_ms, bool isolation, uint64_t now_ms);
bool tc_fault_available(tc_fault_t *f, const char *broker, uint64_t now_ms);
/* Index into mqs of the queue to send to next (round robin from *index). */
int tc_fault_select(tc_fault_t *f, bool enabled, const tern_mq_t *mqs, int n, uint32_t *index, const char *last_broker,
                    uint64_t now_ms);

#endif
