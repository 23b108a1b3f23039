/* ACL 1.0 request signing for the C client; see acl_int.h. */
#include "acl_int.h"

#include <sodium.h>
#include <stdlib.h>

int tc_acl_init(tc_acl_t *a, const tern_client_conf_t *conf) {
  bool ak = conf->access_key && *conf->access_key, sk = conf->secret_key && *conf->secret_key;
  memset(a, 0, sizeof *a);
  if (!ak && !sk && !(conf->security_token && *conf->security_token)) return 0;
  if (!ak || !sk) return TERN_EINVAL;
  a->access_key = strdup(conf->access_key);
  a->secret_key = strdup(conf->secret_key);
  if (conf->security_token && *conf->security_token) a->security_token = strdup(conf->security_token);
  if (!a->access_key || !a->secret_key || (conf->security_token && *conf->security_token && !a->security_token)) {
    tc_acl_free(a);
    return TERN_ENOMEM;
  }
  return 0;
}

void tc_acl_free(tc_acl_t *a) {
  if (a->secret_key) sodium_memzero(a->secret_key, strlen(a->secret_key));
  free(a->access_key);
  free(a->secret_key);
  free(a->security_token);
  memset(a, 0, sizeof *a);
}

int tc_acl_sign(const tc_acl_t *a, tern_cmd_t *cmd, char sig[TERN_ACL_SIG_LEN + 1]) {
  int rc;
  if (!tc_acl_on(a)) return 0;
  /* AclClientRPCHook.doBeforeRequest: AccessKey and SecurityToken are signed too */
  if ((rc = tern_cmd_ext_add(cmd, TERN_STR(TERN_ACL_ACCESS_KEY), tern_str_from_cstr(a->access_key)))) return rc;
  if (a->security_token &&
      (rc = tern_cmd_ext_add(cmd, TERN_STR(TERN_ACL_SECURITY_TOKEN), tern_str_from_cstr(a->security_token))))
    return rc;
  if ((rc = tern_acl_signature(tern_str_from_cstr(a->secret_key), cmd, NULL, sig))) return rc;
  return tern_cmd_ext_add(cmd, TERN_STR(TERN_ACL_SIGNATURE), (tern_str_t){sig, TERN_ACL_SIG_LEN});
}
