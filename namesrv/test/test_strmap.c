/* The string hash table the route state is built on: insert, replace,
 * lookup, delete with backward shift (every survivor still found), growth,
 * and keys that are not NUL-terminated. */
#include "namesrv/strmap.h"

#include <stdio.h>
#include <stdlib.h>

#include "tern_test.h"

TEST(put_get_replace_delete) {
  tern_strmap_t m;
  void *old = (void *)1;
  int a = 1, b = 2;
  tern_strmap_init(&m);
  ASSERT(tern_strmap_get(&m, TERN_STR("x")) == NULL);
  ASSERT_OK(tern_strmap_put(&m, TERN_STR("x"), &a, &old));
  ASSERT(old == NULL);
  ASSERT(tern_strmap_get(&m, TERN_STR("x")) == &a);
  ASSERT_OK(tern_strmap_put(&m, TERN_STR("x"), &b, &old));
  ASSERT(old == &a);
  ASSERT_EQ(m.len, 1);
  ASSERT(tern_strmap_get(&m, TERN_STR("x")) == &b);
  ASSERT(tern_strmap_del(&m, TERN_STR("y")) == NULL);
  ASSERT(tern_strmap_del(&m, TERN_STR("x")) == &b);
  ASSERT_EQ(m.len, 0);
  ASSERT(tern_strmap_get(&m, TERN_STR("x")) == NULL);
  tern_strmap_free(&m);
}

TEST(slices_compare_by_bytes_not_nul) {
  tern_strmap_t m;
  const char *buf = "topicAtopicB";
  int a = 1, b = 2;
  tern_strmap_init(&m);
  ASSERT_OK(tern_strmap_put(&m, (tern_str_t){buf, 6}, &a, NULL));
  ASSERT_OK(tern_strmap_put(&m, (tern_str_t){buf + 6, 6}, &b, NULL));
  ASSERT(tern_strmap_get(&m, TERN_STR("topicA")) == &a);
  ASSERT(tern_strmap_get(&m, TERN_STR("topicB")) == &b);
  ASSERT(tern_strmap_get(&m, TERN_STR("topic")) == NULL);
  ASSERT_OK(tern_strmap_put(&m, TERN_STR(""), &a, NULL));
  ASSERT(tern_strmap_get(&m, TERN_STR("")) == &a);
  tern_strmap_free(&m);
}

/* Many keys, delete every third, check every remaining key and none of the
 * deleted ones: exercises growth and backward-shift deletion in long probe
 * clusters. */
TEST(many_keys_survive_deletes) {
  enum { N = 5000 };
  static char keys[N][16];
  static int vals[N];
  tern_strmap_t m;
  uint32_t pos = 0, seen = 0;
  const tern_strmap_slot_t *s;
  tern_strmap_init(&m);
  for (int i = 0; i < N; i++) {
    snprintf(keys[i], sizeof keys[i], "k%d", i);
    vals[i] = i;
    ASSERT_OK(tern_strmap_put(&m, tern_str_from_cstr(keys[i]), &vals[i], NULL));
  }
  ASSERT_EQ(m.len, N);
  for (int i = 0; i < N; i += 3) ASSERT(tern_strmap_del(&m, tern_str_from_cstr(keys[i])) == &vals[i]);
  for (int i = 0; i < N; i++) {
    void *v = tern_strmap_get(&m, tern_str_from_cstr(keys[i]));
    if (i % 3 == 0) ASSERT(v == NULL);
    else ASSERT(v == &vals[i]);
  }
  while (tern_strmap_next(&m, &pos, &s)) {
    ASSERT(*(int *)s->val % 3 != 0);
    seen++;
  }
  ASSERT_EQ(seen, m.len);
  ASSERT_EQ(m.len, N - (N + 2) / 3);
  tern_strmap_free(&m);
}
