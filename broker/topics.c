/* The broker's topic table (TopicConfigManager): topic name -> TopicConfig,
 * the system topics a 4.9.8 broker creates at start (reference §8.7),
 * topics.json through the generated TopicConfigSerializeWrapper codec
 * (broker/store/meta.h), the data version sent to the name servers, and the
 * topic-name rules of TopicValidator with their remarks. Loop-thread only. */
#include <stdio.h>
#include <stdlib.h>

#include "broker/broker.h"
#include "broker/store/meta.h"
#include "namesrv/strmap.h"
#include "runtime/clock.h"
#include "runtime/log.h"

static void topic_defaults(tern_body_topic_config_t *c) {
  memset(c, 0, sizeof *c);
  c->read_queue_nums = 16;
  c->write_queue_nums = 16;
  c->perm = TERN_PERM_READ | TERN_PERM_WRITE;
  c->topic_filter_type = TERN_BODY_TOPIC_FILTER_TYPE_SINGLE_TAG;
  c->has = TERN_BODY_TOPIC_CONFIG_HAS_ORDER | TERN_BODY_TOPIC_CONFIG_HAS_PERM |
           TERN_BODY_TOPIC_CONFIG_HAS_READ_QUEUE_NUMS | TERN_BODY_TOPIC_CONFIG_HAS_TOPIC_FILTER_TYPE |
           TERN_BODY_TOPIC_CONFIG_HAS_TOPIC_NAME | TERN_BODY_TOPIC_CONFIG_HAS_TOPIC_SYS_FLAG |
           TERN_BODY_TOPIC_CONFIG_HAS_WRITE_QUEUE_NUMS;
}

const char *tern_broker_topic_check_name(tern_str_t name) {
  bool blank = true;
  for (size_t i = 0; i < name.n; i++)
    if (name.p[i] != ' ' && name.p[i] != '\t' && name.p[i] != '\n' && name.p[i] != '\r' && name.p[i] != '\f' &&
        name.p[i] != '\v')
      blank = false;
  if (blank) return "The specified topic is blank.";
  if (!tern_name_valid(name, SIZE_MAX))
    return "The specified topic contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$";
  if (name.n > TERN_TOPIC_MAX_LEN) return "The specified topic is longer than topic max length.";
  return NULL;
}

tern_broker_topic_t *tern_broker_topic_find(tern_broker_t *b, tern_str_t name) {
  return tern_strmap_get(b->topics, name);
}

tern_broker_topic_t *tern_broker_topic_next(tern_broker_t *b, uint32_t *pos) {
  const tern_strmap_slot_t *slot;
  return tern_strmap_next(b->topics, pos, &slot) ? slot->val : NULL;
}

static void next_version(tern_broker_t *b) {
  b->topics_version.counter++;
  b->topics_version.timestamp = (int64_t)tern_clock_now_ms();
}

/* Puts without persisting (start-up and load). */
static int topic_put_raw(tern_broker_t *b, const tern_body_topic_config_t *cfg, tern_broker_topic_t **out) {
  tern_broker_topic_t *t, *old = NULL;
  if (cfg->topic_name.n == 0 || cfg->topic_name.n >= sizeof t->name) return TERN_EINVAL;
  t = tern_strmap_get(b->topics, cfg->topic_name);
  if (!t) {
    if (!(t = calloc(1, sizeof *t))) return TERN_ENOMEM;
    memcpy(t->name, cfg->topic_name.p, cfg->topic_name.n);
    t->name[cfg->topic_name.n] = 0;
    if (tern_strmap_put(b->topics, (tern_str_t){t->name, cfg->topic_name.n}, t, (void **)&old)) {
      free(t);
      return TERN_ENOMEM;
    }
  }
  t->cfg = *cfg;
  t->cfg.attributes.v = NULL; /* not kept: 5.x attributes are not served */
  t->cfg.attributes.n = 0;
  t->cfg.has &= ~TERN_BODY_TOPIC_CONFIG_HAS_ATTRIBUTES;
  t->cfg.topic_name = (tern_str_t){t->name, cfg->topic_name.n};
  if (out) *out = t;
  return 0;
}

int tern_broker_topics_persist(tern_broker_t *b) {
  tern_body_topic_config_serialize_wrapper_t w;
  tern_body_map_str_topic_config_entry_t *ents;
  tern_err_t err = {0};
  uint32_t n = 0, pos = 0;
  tern_broker_topic_t *t;
  int rc;
  ents = calloc(b->topics->len ? b->topics->len : 1, sizeof *ents);
  if (!ents) return TERN_ENOMEM;
  while ((t = tern_broker_topic_next(b, &pos))) {
    ents[n].key = t->cfg.topic_name;
    ents[n].val = t->cfg;
    n++;
  }
  memset(&w, 0, sizeof w);
  w.has = TERN_BODY_TOPIC_CONFIG_SERIALIZE_WRAPPER_HAS_DATA_VERSION |
          TERN_BODY_TOPIC_CONFIG_SERIALIZE_WRAPPER_HAS_TOPIC_CONFIG_TABLE;
  w.data_version = b->topics_version;
  w.topic_config_table.v = ents;
  w.topic_config_table.n = n;
  rc = tern_store_save_topics(b->store, &w, &err);
  free(ents);
  if (rc) tern_error("broker: cannot write topics.json: %s", err.reason ? err.reason : tern_strerror(rc));
  return rc;
}

int tern_broker_topic_put(tern_broker_t *b, const tern_body_topic_config_t *cfg, bool announce,
                          tern_broker_topic_t **out) {
  int rc = topic_put_raw(b, cfg, out);
  if (rc) return rc;
  next_version(b);
  tern_broker_topics_persist(b);
  if (announce) tern_broker_register_all(b);
  return 0;
}

int tern_broker_topic_delete(tern_broker_t *b, tern_str_t name) {
  tern_broker_topic_t *t = tern_strmap_del(b->topics, name);
  if (!t) return TERN_ENOTFOUND;
  free(t);
  next_version(b);
  tern_broker_topics_persist(b);
  tern_broker_register_all(b);
  return 0;
}

tern_broker_topic_t *tern_broker_topic_ensure(tern_broker_t *b, tern_str_t name, int32_t queues, int32_t perm,
                                              int32_t sys_flag) {
  tern_broker_topic_t *t = tern_broker_topic_find(b, name);
  tern_body_topic_config_t cfg;
  if (t) return t;
  topic_defaults(&cfg);
  cfg.topic_name = name;
  cfg.read_queue_nums = cfg.write_queue_nums = queues;
  cfg.perm = perm;
  cfg.topic_sys_flag = sys_flag;
  return tern_broker_topic_put(b, &cfg, true, &t) ? NULL : t;
}

/* createTopicInSendMessageMethod: a new topic from an inheritable template. */
tern_broker_topic_t *tern_broker_topic_autocreate(tern_broker_t *b, tern_str_t name, tern_str_t default_topic,
                                                  int32_t client_queues, int32_t sys_flag) {
  tern_broker_topic_t *def = tern_broker_topic_find(b, default_topic), *t = NULL;
  tern_body_topic_config_t cfg;
  int32_t q;
  if (!def) return NULL;
  if (tern_str_eq_cstr(default_topic, TERN_TOPIC_AUTO_CREATE) && !b->conf.auto_create_topic_enable)
    def->cfg.perm = TERN_PERM_READ | TERN_PERM_WRITE;
  if (!(def->cfg.perm & TERN_PERM_INHERIT)) return NULL;
  topic_defaults(&cfg);
  cfg.topic_name = name;
  q = client_queues < def->cfg.write_queue_nums ? client_queues : def->cfg.write_queue_nums;
  if (q < 0) q = 0;
  cfg.read_queue_nums = cfg.write_queue_nums = q;
  cfg.perm = def->cfg.perm & ~TERN_PERM_INHERIT;
  cfg.topic_sys_flag = sys_flag;
  cfg.topic_filter_type = def->cfg.topic_filter_type;
  tern_info("broker: auto-created topic %.*s from %.*s with %d queues", TERN_STR_ARG(name),
            TERN_STR_ARG(default_topic), q);
  return tern_broker_topic_put(b, &cfg, true, &t) ? NULL : t;
}

static int sys_topic(tern_broker_t *b, const char *name, int32_t queues, int32_t perm) {
  tern_body_topic_config_t cfg;
  topic_defaults(&cfg);
  cfg.topic_name = tern_str_from_cstr(name);
  if (queues > 0) cfg.read_queue_nums = cfg.write_queue_nums = queues;
  if (perm >= 0) cfg.perm = perm;
  return topic_put_raw(b, &cfg, NULL);
}

typedef struct load_ctx {
  tern_broker_t *b;
} load_ctx_t;

/* The system topics as TopicConfigManager's constructor makes them, then
 * topics.json on top (its entries win, as Java's load() overwrites). */
int tern_broker_topics_init(tern_broker_t *b, tern_err_t *err) {
  char name[300];
  int rc = 0;
  tern_arena_t a;
  tern_body_topic_config_serialize_wrapper_t w;
  int32_t rw = TERN_PERM_READ | TERN_PERM_WRITE;
  if (!(b->topics = calloc(1, sizeof(tern_strmap_t)))) return TERN_ENOMEM;
  tern_strmap_init(b->topics);
  rc |= sys_topic(b, TERN_TOPIC_SELF_TEST, 1, -1);
  if (b->conf.auto_create_topic_enable)
    rc |= sys_topic(b, TERN_TOPIC_AUTO_CREATE, b->conf.default_topic_queue_nums, TERN_PERM_INHERIT | rw);
  rc |= sys_topic(b, TERN_TOPIC_BENCHMARK, 1024, -1);
  rc |= sys_topic(b, b->conf.broker_cluster_name, -1, TERN_PERM_INHERIT | (b->conf.cluster_topic_enable ? rw : 0));
  rc |= sys_topic(b, b->conf.broker_name, 1, TERN_PERM_INHERIT | (b->conf.broker_topic_enable ? rw : 0));
  rc |= sys_topic(b, TERN_TOPIC_OFFSET_MOVED_EVENT, 1, -1);
  rc |= sys_topic(b, TERN_TOPIC_SCHEDULE, 18, -1);
  if (b->conf.trace_topic_enable) rc |= sys_topic(b, TERN_TOPIC_TRACE, 1, -1);
  snprintf(name, sizeof name, "%s%s", b->conf.broker_cluster_name, TERN_REPLY_TOPIC_SUFFIX);
  rc |= sys_topic(b, name, 1, -1);
  if (rc) return tern_fail(err, TERN_EINVAL, "bad system topic name (brokerName / brokerClusterName)", NULL, 0);

  tern_arena_init(&a, 0, NULL, 0);
  rc = tern_store_load_topics(b->store, &a, &w, err);
  if (rc == 0) {
    for (uint32_t i = 0; i < w.topic_config_table.n; i++) {
      tern_body_topic_config_t c = w.topic_config_table.v[i].val;
      if (!(c.has & TERN_BODY_TOPIC_CONFIG_HAS_TOPIC_NAME)) c.topic_name = w.topic_config_table.v[i].key;
      if (topic_put_raw(b, &c, NULL))
        tern_warn("broker: topics.json: skipping topic '%.*s'", TERN_STR_ARG(c.topic_name));
    }
    b->topics_version = w.data_version;
  } else if (rc != TERN_ENOTFOUND) {
    tern_arena_free(&a);
    return rc;
  }
  tern_arena_free(&a);
  b->topics_version.has = TERN_BODY_DATA_VERSION_HAS_COUNTER | TERN_BODY_DATA_VERSION_HAS_TIMESTAMP;
  if (rc == TERN_ENOTFOUND) {
    b->topics_version.timestamp = (int64_t)tern_clock_now_ms();
    b->topics_version.counter = 0;
  }
  return tern_broker_topics_persist(b);
}

void tern_broker_topics_free(tern_broker_t *b) {
  uint32_t pos = 0;
  tern_broker_topic_t *t;
  if (!b->topics) return;
  while ((t = tern_broker_topic_next(b, &pos))) free(t);
  tern_strmap_free(b->topics);
  free(b->topics);
  b->topics = NULL;
}
