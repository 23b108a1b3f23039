/* Typed metadata files of the store's config/ directory (reference 7.6),
 * encoded and decoded with the generated body codecs (gen/bodies.h) and
 * written atomically by tern_store_meta_write (see store.h): topics.json,
 * consumerOffset.json, subscriptionGroup.json, delayOffset.json. Files are
 * written as the Java broker writes them: tab-indented, integer map keys
 * unquoted. A load that finds the file missing, empty or undecodable uses
 * <name>.bak; decoded strings live in the caller's arena. */
#ifndef TERN_BROKER_STORE_META_H
#define TERN_BROKER_STORE_META_H

#include "broker/store/store.h"
#include "gen/bodies.h"

#define TERN_META_TOPICS "topics.json"
#define TERN_META_CONSUMER_OFFSET "consumerOffset.json"
#define TERN_META_SUBSCRIPTION_GROUP "subscriptionGroup.json"
#define TERN_META_DELAY_OFFSET "delayOffset.json"

int tern_store_save_topics(tern_store_t *s, const tern_body_topic_config_serialize_wrapper_t *v, tern_err_t *err);
int tern_store_load_topics(tern_store_t *s, tern_arena_t *a, tern_body_topic_config_serialize_wrapper_t *out,
                           tern_err_t *err);
int tern_store_save_consumer_offsets(tern_store_t *s, const tern_body_consumer_offset_serialize_wrapper_t *v,
                                     tern_err_t *err);
int tern_store_load_consumer_offsets(tern_store_t *s, tern_arena_t *a,
                                     tern_body_consumer_offset_serialize_wrapper_t *out, tern_err_t *err);
int tern_store_save_subscription_groups(tern_store_t *s, const tern_body_subscription_group_wrapper_t *v,
                                        tern_err_t *err);
int tern_store_load_subscription_groups(tern_store_t *s, tern_arena_t *a, tern_body_subscription_group_wrapper_t *out,
                                        tern_err_t *err);
int tern_store_save_delay_offsets(tern_store_t *s, const tern_body_delay_offset_serialize_wrapper_t *v,
                                  tern_err_t *err);
int tern_store_load_delay_offsets(tern_store_t *s, tern_arena_t *a, tern_body_delay_offset_serialize_wrapper_t *out,
                                  tern_err_t *err);

#endif
