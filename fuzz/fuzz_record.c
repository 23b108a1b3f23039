/* Fuzzes the stored-record codec: the input is walked as a pull body
 * (concatenated records). Every record that decodes must re-encode to exactly
 * its bytes, its slices must lie inside it, and hashing its tags and computing
 * its msgId must be safe. The first record alone is also decoded from a heap
 * copy of exactly its claimed size so ASan sees any over-read. */
#include <stdlib.h>

#include "gen/message.h"

static void check(bool ok) {
  if (!ok) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static uint8_t out[1 << 20];
  tern_msg_record_iter_t it;
  tern_msg_record_t r;
  tern_err_t err;
  int rc;
  tern_msg_record_iter_init(&it, data, size);
  while ((rc = tern_msg_record_iter_next(&it, &r, &err)) == 1) {
    if (tern_msg_record_is_blank(&r)) {
      check(r.total_size >= TERN_MSG_BLANK_SIZE);
      break;
    }
    const uint8_t *at = data + it.off - (size_t)r.total_size;
    check(r.total_size >= TERN_MSG_RECORD_BASE_SIZE && it.off <= size);
    check(tern_msg_record_size(&r) == (uint32_t)r.total_size);
    check((const uint8_t *)r.body.p >= at && (const uint8_t *)r.properties.p + r.properties.n <= at + r.total_size);
    if ((size_t)r.total_size <= sizeof out) {
      check(tern_msg_record_encode(&r, out, sizeof out) == 0);
      check(memcmp(out, at, (size_t)r.total_size) == 0);
    }
    tern_str_t tags;
    if (tern_props_get(r.properties, TERN_PROP_TAGS, &tags) == 0) (void)tern_msg_tags_code(tags);
    (void)tern_msg_index_key_hash(r.topic, r.body);
    char id[TERN_MSGID_HEX_V6 + 1];
    size_t idn = tern_msgid_encode(&r.store_host, r.physical_offset, id);
    tern_host_t h = {0};
    int64_t off = 0;
    check(idn > 0 && tern_msgid_decode((tern_str_t){id, idn}, &h, &off, NULL) == 0);
    check(off == r.physical_offset && h.port == r.store_host.port && memcmp(h.ip, r.store_host.ip, h.ip_len) == 0);
  }
  check(rc <= 1);
  if (rc < 0) check(err.reason != NULL);
  if (size >= 4) {
    size_t claimed = tern_load_be32(data);
    if (claimed <= size) {
      uint8_t *copy = malloc(claimed ? claimed : 1);
      memcpy(copy, data, claimed);
      rc = tern_msg_record_decode(copy, claimed, &r, NULL);
      check(rc == 0 || rc == TERN_EAGAIN || rc == TERN_EPROTO);
      free(copy);
    }
  }
  return 0;
}
