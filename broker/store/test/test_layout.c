/* The generated store layouts (gen/store.h) against the byte positions of
 * reference 7.3-7.5: consume-queue entry, index header and entry, checkpoint. */
#include "gen/store.h"
#include "tern_test.h"

TEST(cq_entry_bytes) {
  tern_cq_entry_t e = {0x0102030405060708LL, 101, -65};
  uint8_t b[TERN_CQ_ENTRY_SIZE];
  tern_cq_entry_encode(&e, b);
  const uint8_t want[20] = {1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 101, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xbf};
  ASSERT_MEM_EQ(b, want, 20);
  tern_cq_entry_t d;
  ASSERT_OK(tern_cq_entry_decode(b, sizeof b, &d, NULL));
  ASSERT_EQ(d.phys_offset, e.phys_offset);
  ASSERT_EQ(d.size, 101);
  ASSERT_EQ(d.tags_code, -65);
  tern_err_t err = {0};
  ASSERT_EQ(tern_cq_entry_decode(b, 19, &d, &err), TERN_EAGAIN);
  ASSERT_EQ(TERN_CQ_ENTRY_ENTRIES_PER_FILE * TERN_CQ_ENTRY_SIZE, 6000000);
}

TEST(index_layout) {
  ASSERT_EQ(TERN_INDEX_HEADER_SIZE, 40);
  ASSERT_EQ(TERN_INDEX_ENTRY_SIZE, 20);
  ASSERT_EQ(TERN_INDEX_HEADER_SIZE + (int64_t)TERN_INDEX_HEADER_DEFAULT_SLOT_NUM * TERN_INDEX_HEADER_SLOT_SIZE +
                (int64_t)TERN_INDEX_HEADER_DEFAULT_INDEX_NUM * TERN_INDEX_ENTRY_SIZE,
            420000040);
  tern_index_header_t h = {1, 2, 3, 4, 5, 6};
  uint8_t b[40];
  tern_index_header_encode(&h, b);
  ASSERT_EQ(b[7], 1);
  ASSERT_EQ(b[15], 2);
  ASSERT_EQ(b[23], 3);
  ASSERT_EQ(b[31], 4);
  ASSERT_EQ(b[35], 5);
  ASSERT_EQ(b[39], 6);
  tern_index_entry_t e = {7, 8, 9, 10};
  uint8_t eb[20];
  tern_index_entry_encode(&e, eb);
  ASSERT_EQ(eb[3], 7);
  ASSERT_EQ(eb[11], 8);
  ASSERT_EQ(eb[15], 9);
  ASSERT_EQ(eb[19], 10);
}

TEST(checkpoint_layout) {
  tern_checkpoint_t c = {11, 12, 13, 14, 15};
  uint8_t b[40];
  tern_checkpoint_encode(&c, b);
  ASSERT_EQ(b[7], 11);
  ASSERT_EQ(b[15], 12);
  ASSERT_EQ(b[23], 13);
  ASSERT_EQ(b[31], 14);
  ASSERT_EQ(b[39], 15);
  ASSERT_EQ(TERN_CHECKPOINT_FILE_SIZE, 4096);
}
