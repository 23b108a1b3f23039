/* ACL 1.0 signatures: HmacSHA1 through libcrypto's EVP_MAC (fetched once),
 * Base64 and the constant-time comparison through libsodium. See sign.h. */
#include "broker/acl/sign.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <pthread.h>
#include <sodium.h>

static EVP_MAC *g_hmac;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void init_once(void) {
  if (sodium_init() < 0) return; /* sodium_bin2base64/sodium_memcmp do not need it, but be tidy */
  g_hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
}

static int key_cmp(tern_str_t a, tern_str_t b) {
  size_t n = a.n < b.n ? a.n : b.n;
  int c = n ? memcmp(a.p, b.p, n) : 0;
  if (c) return c;
  return a.n < b.n ? -1 : a.n > b.n;
}

int tern_acl_signature(tern_str_t secret, const tern_cmd_t *cmd, const char *skip, char out[TERN_ACL_SIG_LEN + 1]) {
  uint8_t idx[TERN_CMD_MAX_EXT];
  uint32_t n = 0, i, j;
  unsigned char mac[EVP_MAX_MD_SIZE];
  size_t maclen = 0;
  EVP_MAC_CTX *ctx;
  OSSL_PARAM params[2];
  char digest[] = "SHA1";
  int rc = TERN_EIO;

  out[0] = '\0';
  if (!secret.n) return TERN_EINVAL;
  pthread_once(&g_once, init_once);
  if (!g_hmac) return TERN_EIO;
  /* Insertion sort by key; equal keys keep arrival order so the last one is last. */
  for (i = 0; i < cmd->n_ext && i < TERN_CMD_MAX_EXT; i++) {
    tern_str_t k = cmd->ext[i].key;
    if (tern_str_eq_cstr(k, TERN_ACL_SIGNATURE) || (skip && tern_str_eq_cstr(k, skip))) continue;
    for (j = n; j > 0 && key_cmp(cmd->ext[idx[j - 1]].key, k) > 0; j--) idx[j] = idx[j - 1];
    idx[j] = (uint8_t)i;
    n++;
  }
  ctx = EVP_MAC_CTX_new(g_hmac);
  if (!ctx) return TERN_ENOMEM;
  params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0);
  params[1] = OSSL_PARAM_construct_end();
  if (!EVP_MAC_init(ctx, (const unsigned char *)secret.p, secret.n, params)) goto done;
  for (i = 0; i < n; i++) {
    tern_str_t v = cmd->ext[idx[i]].val;
    if (i + 1 < n && tern_str_eq(cmd->ext[idx[i]].key, cmd->ext[idx[i + 1]].key)) continue; /* a later duplicate wins */
    if (v.n && !EVP_MAC_update(ctx, (const unsigned char *)v.p, v.n)) goto done;
  }
  if (cmd->body.n && !EVP_MAC_update(ctx, (const unsigned char *)cmd->body.p, cmd->body.n)) goto done;
  if (!EVP_MAC_final(ctx, mac, &maclen, sizeof mac) || maclen != 20) goto done;
  sodium_bin2base64(out, TERN_ACL_SIG_LEN + 1, mac, maclen, sodium_base64_VARIANT_ORIGINAL);
  rc = 0;
done:
  EVP_MAC_CTX_free(ctx);
  sodium_memzero(mac, sizeof mac);
  return rc;
}

bool tern_acl_signature_eq(tern_str_t sig, const char expected[TERN_ACL_SIG_LEN + 1]) {
  if (sig.n != TERN_ACL_SIG_LEN || !expected[0]) return false;
  return sodium_memcmp(sig.p, expected, TERN_ACL_SIG_LEN) == 0;
}
