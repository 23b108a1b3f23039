/* ACL 1.0 signing in the C client (reference §10.1-10.2, 4.9's
 * AclClientRPCHook): with an access key configured, every request the client
 * sends gets AccessKey, SecurityToken (when set) and Signature in its
 * extFields. The signature itself is broker/acl/sign.c (tern_acl_sign), the
 * same code the broker verifies with. */
#ifndef TERN_CLIENT_ACL_INT_H
#define TERN_CLIENT_ACL_INT_H

#include "broker/acl/sign.h"
#include "tern/client.h"

typedef struct tc_acl {
  char *access_key, *secret_key, *security_token; /* owned copies; access_key NULL: no signing */
} tc_acl_t;

/* Copies the credentials of conf. TERN_EINVAL when only one of access_key /
 * secret_key is set (or one is empty), TERN_ENOMEM. */
int tc_acl_init(tc_acl_t *a, const tern_client_conf_t *conf);
/* Wipes the secret and frees. */
void tc_acl_free(tc_acl_t *a);
static inline bool tc_acl_on(const tc_acl_t *a) { return a->access_key != NULL; }
/* Adds AccessKey (+ SecurityToken) to cmd, then Signature over all its
 * extFields and body. The added values point into a and into sig, which
 * must outlive the encoding of cmd. No-op when signing is off. */
int tc_acl_sign(const tc_acl_t *a, tern_cmd_t *cmd, char sig[TERN_ACL_SIG_LEN + 1]);

#endif
