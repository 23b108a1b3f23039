/* The broker's subscription group table (RocketMQ's SubscriptionGroupManager):
 * group name -> SubscriptionGroupConfig, loaded from and persisted to
 * <storePathRootDir>/config/subscriptionGroup.json through the generated
 * SubscriptionGroupWrapper codec, with a data version bumped on every change.
 * Groups are auto-created on first use when autoCreateSubscriptionGroup is set
 * (and always for CID_RMQ_SYS_* groups). Loop-thread only. */
#ifndef TERN_BROKER_SUBGROUPS_H
#define TERN_BROKER_SUBGROUPS_H

#include "broker/broker.h"

typedef struct tern_subgroups tern_subgroups_t;

/* Loads subscriptionGroup.json (or its .bak) from the broker's store; a
 * missing file starts the table with RocketMQ 4.9's built-in groups. */
int tern_subgroups_open(tern_broker_t *b, tern_subgroups_t **out, tern_err_t *err);
void tern_subgroups_free(tern_subgroups_t *g);

/* The group's config or NULL. auto_create: create it with the defaults when
 * absent and autoCreateSubscriptionGroup is on (or it is a system group),
 * persisting the table. The pointer stays valid until the group is replaced
 * or deleted. */
const tern_body_subscription_group_config_t *tern_subgroups_find(tern_subgroups_t *g, tern_str_t group,
                                                                 bool auto_create);
/* Creates or replaces a group with a deep copy of cfg; persists. */
int tern_subgroups_put(tern_subgroups_t *g, const tern_body_subscription_group_config_t *cfg);
/* Removes a group; TERN_ENOTFOUND when absent. Persists. */
int tern_subgroups_delete(tern_subgroups_t *g, tern_str_t group);
/* Encodes the whole table as a SubscriptionGroupWrapper (the file's content
 * and the GET_ALL_SUBSCRIPTIONGROUP_CONFIG body). */
void tern_subgroups_encode(tern_subgroups_t *g, tern_buf_t *out, unsigned flags);
/* Iteration: for (uint32_t i = 0; (c = tern_subgroups_next(g, &i));) */
const tern_body_subscription_group_config_t *tern_subgroups_next(tern_subgroups_t *g, uint32_t *pos);
/* Default config of a new group (name points at the caller's bytes). */
void tern_subgroups_default_config(tern_body_subscription_group_config_t *c, tern_str_t group);

#endif
