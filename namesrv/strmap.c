/* String-keyed open-addressing hash table; see strmap.h. Load factor is kept
 * at or below 3/4; deletion shifts the following cluster back so lookups never
 * need tombstones. The SipHash key is drawn once per process from libsodium's
 * CSPRNG. */
#include "namesrv/strmap.h"

#include <sodium.h>
#include <stdlib.h>

static unsigned char g_key[crypto_shorthash_KEYBYTES];
static int g_key_ready;

static uint64_t hash_key(tern_str_t s) {
  unsigned char out[crypto_shorthash_BYTES];
  uint64_t h;
  if (!g_key_ready) {
    /* sodium_init is idempotent; a failure leaves randombytes on its default
     * source, which is still usable for a hash seed. */
    if (sodium_init() < 0) {
      /* unreachable in practice; randombytes still has its default source */
    }
    randombytes_buf(g_key, sizeof g_key);
    g_key_ready = 1;
  }
  crypto_shorthash(out, (const unsigned char *)(s.n ? s.p : ""), s.n, g_key);
  memcpy(&h, out, sizeof h);
  return h;
}

void tern_strmap_init(tern_strmap_t *m) {
  m->slots = NULL;
  m->cap = m->len = 0;
}

void tern_strmap_free(tern_strmap_t *m) {
  free(m->slots);
  tern_strmap_init(m);
}

static uint32_t find(const tern_strmap_t *m, tern_str_t key, uint64_t h, bool *found) {
  uint32_t mask = m->cap - 1, i = (uint32_t)h & mask;
  for (;;) {
    const tern_strmap_slot_t *s = &m->slots[i];
    if (!s->key.p) {
      *found = false;
      return i;
    }
    if (s->hash == h && tern_str_eq(s->key, key)) {
      *found = true;
      return i;
    }
    i = (i + 1) & mask;
  }
}

void *tern_strmap_get(const tern_strmap_t *m, tern_str_t key) {
  bool found;
  uint32_t i;
  if (!m->len) return NULL;
  i = find(m, key, hash_key(key), &found);
  return found ? m->slots[i].val : NULL;
}

static int grow(tern_strmap_t *m) {
  uint32_t ncap = m->cap ? m->cap * 2 : 16, i;
  tern_strmap_slot_t *ns, *olds = m->slots;
  uint32_t oldcap = m->cap;
  if (ncap == 0 || ncap > (UINT32_MAX >> 1)) return TERN_ENOMEM;
  ns = calloc(ncap, sizeof *ns);
  if (!ns) return TERN_ENOMEM;
  m->slots = ns;
  m->cap = ncap;
  for (i = 0; i < oldcap; i++) {
    bool found;
    uint32_t j;
    if (!olds[i].key.p) continue;
    j = find(m, olds[i].key, olds[i].hash, &found);
    m->slots[j] = olds[i];
  }
  free(olds);
  return 0;
}

int tern_strmap_put(tern_strmap_t *m, tern_str_t key, void *val, void **old) {
  bool found;
  uint32_t i;
  uint64_t h = hash_key(key);
  if (old) *old = NULL;
  if (!key.p) key.p = ""; /* an empty key still needs a non-NULL marker */
  if (m->cap) {
    i = find(m, key, h, &found);
    if (found) {
      if (old) *old = m->slots[i].val;
      m->slots[i].val = val;
      m->slots[i].key = key; /* the new value's copy of the key */
      return 0;
    }
  }
  if ((uint64_t)(m->len + 1) * 4 > (uint64_t)m->cap * 3) {
    int rc = grow(m);
    if (rc) return rc;
  }
  i = find(m, key, h, &found);
  m->slots[i].hash = h;
  m->slots[i].key = key;
  m->slots[i].val = val;
  m->len++;
  return 0;
}

void *tern_strmap_del(tern_strmap_t *m, tern_str_t key) {
  bool found;
  uint32_t i, j, mask;
  void *val;
  if (!m->len) return NULL;
  i = find(m, key, hash_key(key), &found);
  if (!found) return NULL;
  val = m->slots[i].val;
  mask = m->cap - 1;
  /* Backward-shift: move later members of the probe cluster into the hole when
   * their home slot does not lie cyclically within (hole, current]. */
  j = i;
  for (;;) {
    uint32_t home;
    j = (j + 1) & mask;
    if (!m->slots[j].key.p) break;
    home = (uint32_t)m->slots[j].hash & mask;
    if (((j - home) & mask) >= ((j - i) & mask)) {
      m->slots[i] = m->slots[j];
      i = j;
    }
  }
  memset(&m->slots[i], 0, sizeof m->slots[i]);
  m->len--;
  return val;
}

bool tern_strmap_next(const tern_strmap_t *m, uint32_t *pos, const tern_strmap_slot_t **slot) {
  while (*pos < m->cap) {
    const tern_strmap_slot_t *s = &m->slots[(*pos)++];
    if (s->key.p) {
      *slot = s;
      return true;
    }
  }
  return false;
}
