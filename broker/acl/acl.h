/* ACL 1.0 ("plain ACL", reference §10) on the broker: the accounts of
 * plain_acl.yml and the decision on one request, as 4.9's
 * PlainAccessValidator.parse + PlainPermissionManager.validate make it:
 *
 *  1. the resources the request needs (§10.3: SEND_MESSAGE(_V2) topic PUB, or
 *     the group's %RETRY% topic SUB when sending to a retry topic; PULL topic
 *     SUB + %RETRY%group SUB; HEART_BEAT every consumer group and subscribed
 *     topic SUB; UNREGISTER_CLIENT / GET_CONSUMER_LIST_BY_GROUP /
 *     UPDATE_CONSUMER_OFFSET / CONSUMER_SEND_MSG_BACK / QUERY_MESSAGE ...) —
 *     a header or heartbeat body that does not decode is refused;
 *  2. a peer inside globalWhiteRemoteAddresses passes;
 *  3. no AccessKey, or one without an account, is refused;
 *  4. a peer inside the account's whiteRemoteAddress passes;
 *  5. the Signature must equal Base64(HmacSHA1(secretKey, sorted extFields
 *     values minus Signature and _UNIQUE_KEY_QUERY, then the body)) — Tern also
 *     accepts the variant that keeps _UNIQUE_KEY_QUERY, which is what 4.9's
 *     own client signs for QUERY_MESSAGE (§10.2);
 *  6. publishing to RMQ_SYS_TRACE_TOPIC passes;
 *  7. admin codes (17, 25, 215, 200, 207) need `admin: true`; an admin
 *     without topicPerms/groupPerms passes everything; otherwise each
 *     resource's perm (its own entry, else defaultTopicPerm / defaultGroupPerm)
 *     must grant what is needed (Permission.checkPermission).
 *
 * Loading is strict where 4.9 throws (keys of 6 characters or fewer, a bad
 * "res=PERM" entry, a bad address pattern) and also refuses what 4.9 would
 * silently merge (the same accessKey twice, a node of the wrong YAML kind).
 * Unknown keys are ignored, as fastjson ignores them. YAML through libyaml. */
#ifndef TERN_BROKER_ACL_ACL_H
#define TERN_BROKER_ACL_ACL_H

#include "gen/command.h"
#include "runtime/arena.h"

/* Permission bits (acl Permission.java). */
enum { TERN_ACL_DENY = 1, TERN_ACL_ANY = 2, TERN_ACL_PUB = 4, TERN_ACL_SUB = 8 };

typedef struct tern_acl tern_acl_t;

/* Parses the text of a plain_acl.yml. 0, or TERN_EINVAL / TERN_ENOMEM with
 * why filled ("accounts[1].secretKey: ..."; never a secret). */
int tern_acl_parse(const char *text, size_t len, tern_acl_t **out, char *why, size_t cap);
/* Reads and parses a file (at most 4 MiB). TERN_EIO when it cannot be read. */
int tern_acl_load_file(const char *path, tern_acl_t **out, char *why, size_t cap);
void tern_acl_free(tern_acl_t *a);
size_t tern_acl_account_count(const tern_acl_t *a);

/* Decides one request from peer ("ip:port" as tern_conn_peer gives it).
 * 0: allowed. TERN_EINVAL: refused, remark filled with 4.9's exception text
 * ("No acl config for X", "Check signature failed for accessKey=X", "No
 * default permission for topic:T", "Need admin permission for request
 * code=17, but accessKey=X is not", ...). scratch: decoding the heartbeat
 * body (the caller resets it). */
int tern_acl_check(const tern_acl_t *a, const char *peer, const tern_cmd_t *req, tern_arena_t *scratch, char *remark,
                   size_t cap);

/* Address patterns of whiteRemoteAddress / globalWhiteRemoteAddresses
 * (RemoteAddressStrategyFactory): 1 when ip matches pattern, 0 when not,
 * TERN_EINVAL when the pattern is malformed. For tests and tools. */
int tern_acl_addr_match(const char *pattern, const char *ip);

/* "PUB", "SUB", "PUB|SUB", "SUB|PUB", "DENY" (trimmed) to bits; anything else is DENY. */
uint8_t tern_acl_perm_parse(tern_str_t s);
/* Permission.checkPermission. */
bool tern_acl_perm_ok(uint8_t needed, uint8_t owned);

#endif
