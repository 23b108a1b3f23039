/* ACL 1.0 request signatures (reference §10.2), shared by the broker (which
 * verifies them, broker/acl/acl.c) and the C client (which adds them,
 * client-c/src/acl.c). Built alone as tern_acl_sign (libcrypto + libsodium),
 * free of broker types, so the client links it without the broker.
 *
 * The signed content is the value of every extFields entry except
 * `Signature` (and an optional second key left out, the broker's
 * `_UNIQUE_KEY_QUERY`), ordered by key (Java's TreeMap over ASCII keys = byte
 * order; a duplicated key counts once, its last value, as Java's HashMap
 * keeps it), concatenated without separators, followed by the raw body.
 * Signature = Base64(HmacSHA1(key = secret bytes, content)), standard
 * alphabet with padding: always 28 characters. Thread-safe. */
#ifndef TERN_BROKER_ACL_SIGN_H
#define TERN_BROKER_ACL_SIGN_H

#include "gen/command.h"

#define TERN_ACL_SIG_LEN 28 /* base64 of a 20-byte HmacSHA1 */

#define TERN_ACL_ACCESS_KEY "AccessKey"
#define TERN_ACL_SIGNATURE "Signature"
#define TERN_ACL_SECURITY_TOKEN "SecurityToken"
#define TERN_ACL_UNIQUE_KEY_QUERY "_UNIQUE_KEY_QUERY"

/* Computes the signature of cmd's extFields and body into out (NUL-terminated).
 * skip: one more key to leave out, or NULL. TERN_EINVAL for an empty secret
 * (Java's SecretKeySpec refuses it), TERN_ENOMEM/TERN_EIO if libcrypto fails. */
int tern_acl_signature(tern_str_t secret, const tern_cmd_t *cmd, const char *skip, char out[TERN_ACL_SIG_LEN + 1]);

/* True when sig (as received) equals the expected 28 characters; the
 * comparison takes the same time wherever they differ. */
bool tern_acl_signature_eq(tern_str_t sig, const char expected[TERN_ACL_SIG_LEN + 1]);

#endif
