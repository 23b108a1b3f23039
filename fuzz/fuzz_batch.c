/* Fuzzes the SEND_BATCH_MESSAGE body walker: every entry it yields must lie
 * inside the body, and re-encoding the entries that came out (with the flag,
 * body and properties they had) must rebuild the walked prefix byte for byte
 * apart from the magic and CRC fields clients write as 0. */
#include <stdlib.h>

#include "gen/message.h"

static void check(bool ok) {
  if (!ok) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tern_batch_iter_t it;
  tern_batch_entry_t e;
  tern_err_t err;
  tern_buf_t b;
  int rc;
  tern_buf_init(&b, 0);
  tern_batch_iter_init(&it, data, size);
  size_t start = 0;
  while ((rc = tern_batch_iter_next(&it, &e, &err)) == 1) {
    check(it.off <= size && it.off - start == (size_t)e.total_size);
    check((const uint8_t *)e.body.p >= data + start && (const uint8_t *)e.properties.p + e.properties.n <= data + it.off);
    size_t before = b.len;
    check(tern_batch_entry_encode(&b, e.flag, e.body, e.properties) == 0);
    check(b.len - before == (size_t)e.total_size);
    /* Same bytes except magic (4..8) and body CRC (8..12), written as 0. */
    check(memcmp(b.p + before, data + start, 4) == 0);
    check(memcmp(b.p + before + 12, data + start + 12, (size_t)e.total_size - 12) == 0);
    start = it.off;
  }
  check(rc == 0 || (rc == TERN_EPROTO && err.reason != NULL));
  tern_buf_free(&b);
  return 0;
}
