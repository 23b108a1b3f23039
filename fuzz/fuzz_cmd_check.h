/* Shared by the header fuzzers (fuzz_header_json.c, fuzz_header_rocketmq.c):
 * the property-check macro and the field comparison of a command with the one
 * decoded from its re-encoding. Included by exactly one translation unit per
 * fuzzer binary. */
#ifndef TERN_FUZZ_CMD_CHECK_H
#define TERN_FUZZ_CMD_CHECK_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "gen/command.h"

/* A violated property: report where, then crash so libFuzzer keeps the input. */
#define check(ok)                                                    \
  do {                                                               \
    if (!(ok)) {                                                     \
      fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #ok); \
      abort();                                                       \
    }                                                                \
  } while (0)

/* b was decoded from the encoding of a: same scalars, and for extFields what a
 * Java HashMap would hold after a: per key the last value, no null values (and
 * no empty ones when b went through a binary header, which reads "" as null). */
static void same_fields(const tern_cmd_t *a, const tern_cmd_t *b, bool empty_is_null) {
  check(a->code == b->code && a->version == b->version && a->opaque == b->opaque && a->flag == b->flag);
  bool ar = a->has_remark && (!empty_is_null || a->remark.n), br = b->has_remark && (!empty_is_null || b->remark.n);
  check(ar == br && (!ar || tern_str_eq(a->remark, b->remark)));
  uint32_t expect = 0;
  for (uint32_t i = 0; i < a->n_ext; i++) {
    bool later = false;
    for (uint32_t j = i + 1; j < a->n_ext; j++) later |= tern_str_eq(a->ext[i].key, a->ext[j].key);
    if (!later && a->ext[i].key.n && a->ext[i].val.p && (!empty_is_null || a->ext[i].val.n)) expect++;
  }
  uint32_t got = 0;
  for (uint32_t i = 0; i < b->n_ext; i++) {
    /* Keys may hold NULs, so look them up by slice, last one first. */
    const tern_kv_t *last = NULL;
    for (uint32_t j = a->n_ext; j-- > 0 && !last;)
      if (tern_str_eq(a->ext[j].key, b->ext[i].key)) last = &a->ext[j];
    check(last != NULL);
    if (b->ext[i].val.p == NULL) { /* a binary header wrote an empty value */
      check(empty_is_null && last->val.p && last->val.n == 0);
      continue;
    }
    got++;
    check(last->val.p != NULL && tern_str_eq(last->val, b->ext[i].val));
  }
  check(got == expect);
}

#endif
