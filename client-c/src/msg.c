/* Messages: the outgoing tern_msg_t (topic, body, properties kept as a small
 * key/value list and written as RocketMQ's properties string at send time),
 * the received view tern_rmsg_t decoded from pull bodies with the generated
 * record iterator (bodies inflated when sysFlag says zlib, tags filtered as
 * Java's PullAPIWrapper does), and tag subscriptions ("*", "A || B") with
 * their Java hash codes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "client_int.h"
#include "msg_int.h"

tern_msg_t *tern_msg_new(const char *topic, const void *body, size_t len) {
  tern_msg_t *m = calloc(1, sizeof *m);
  if (!m) return NULL;
  m->topic = strdup(topic ? topic : "");
  m->body = malloc(len ? len : 1);
  if (!m->topic || !m->body) {
    tern_msg_free(m);
    return NULL;
  }
  if (len) memcpy(m->body, body, len);
  m->len = len;
  if (tc_msg_set(m, TERN_PROP_WAIT_STORE_MSG_OK, "true")) {
    tern_msg_free(m);
    return NULL;
  }
  return m;
}

void tern_msg_free(tern_msg_t *m) {
  size_t i;
  if (!m) return;
  for (i = 0; i < m->nprops; i++) {
    free(m->props[i].k);
    free(m->props[i].v);
  }
  free(m->props);
  free(m->topic);
  free(m->body);
  free(m);
}

static bool prop_ok(const char *s) { return s && *s && !strchr(s, TERN_PROPS_NAME_VALUE_SEP) && !strchr(s, TERN_PROPS_SEP); }

int tc_msg_set(tern_msg_t *m, const char *k, const char *v) {
  size_t i;
  char *vv;
  if (!prop_ok(k) || !prop_ok(v)) return TERN_EINVAL;
  vv = strdup(v);
  if (!vv) return TERN_ENOMEM;
  for (i = 0; i < m->nprops; i++)
    if (strcmp(m->props[i].k, k) == 0) {
      free(m->props[i].v);
      m->props[i].v = vv;
      return 0;
    }
  if (m->nprops == m->cap) {
    size_t nc = m->cap ? m->cap * 2 : 8;
    void *np = realloc(m->props, nc * sizeof *m->props);
    if (!np) {
      free(vv);
      return TERN_ENOMEM;
    }
    m->props = np;
    m->cap = nc;
  }
  m->props[m->nprops].k = strdup(k);
  if (!m->props[m->nprops].k) {
    free(vv);
    return TERN_ENOMEM;
  }
  m->props[m->nprops++].v = vv;
  return 0;
}

int tern_msg_set_tags(tern_msg_t *m, const char *tags) { return tc_msg_set(m, TERN_PROP_TAGS, tags); }
int tern_msg_set_keys(tern_msg_t *m, const char *keys) { return tc_msg_set(m, TERN_PROP_KEYS, keys); }
int tern_msg_put_property(tern_msg_t *m, const char *key, const char *val) {
  if (!key || tern_props_is_known_key(tern_str_from_cstr(key))) return TERN_EINVAL; /* Java: "The Property<%s> is used by system" */
  return tc_msg_set(m, key, val);
}
void tern_msg_set_delay_level(tern_msg_t *m, int level) {
  char v[16];
  snprintf(v, sizeof v, "%d", level);
  if (level > 0) tc_msg_set(m, TERN_PROP_DELAY_TIME_LEVEL, v);
}
void tern_msg_set_flag(tern_msg_t *m, int32_t flag) { m->flag = flag; }
const char *tern_msg_topic(const tern_msg_t *m) { return m->topic; }
const char *tern_msg_property(const tern_msg_t *m, const char *key) {
  size_t i;
  for (i = 0; i < m->nprops; i++)
    if (strcmp(m->props[i].k, key) == 0) return m->props[i].v;
  return NULL;
}

int tc_msg_props(const tern_msg_t *m, const char *uniq, tern_buf_t *b) {
  size_t i;
  for (i = 0; i < m->nprops; i++)
    tern_props_append(b, tern_str_from_cstr(m->props[i].k), tern_str_from_cstr(m->props[i].v));
  if (uniq && !tern_msg_property(m, TERN_PROP_UNIQ_KEY))
    tern_props_append(b, TERN_STR(TERN_PROP_UNIQ_KEY), tern_str_from_cstr(uniq));
  if (b->err) return b->err;
  return b->len > TERN_PROPS_MAX_LEN ? TERN_ETOOBIG : 0;
}

/* ---- received messages ---- */

int tern_rmsg_property(const tern_rmsg_t *m, const char *key, tern_str_t *val) {
  return tern_props_get(m->properties, key, val);
}

static void chunk_unref(tc_chunk_t *c) {
  if (c && atomic_fetch_sub(&c->refs, 1) == 1) free(c);
}

void tc_rmsg_free(tc_rmsg_t *m) {
  if (!m) return;
  chunk_unref(m->chunk);
  free(m->own_body);
  free(m->broker_name);
  free(m);
}

/* zlib inflate of a whole body, at most 64 MiB. */
static int inflate_all(const uint8_t *p, size_t n, uint8_t **out, size_t *outn) {
  z_stream zs;
  size_t cap = n * 4 + 1024, len = 0;
  uint8_t *buf = malloc(cap);
  int zr;
  if (!buf) return TERN_ENOMEM;
  memset(&zs, 0, sizeof zs);
  if (inflateInit(&zs) != Z_OK) {
    free(buf);
    return TERN_ENOMEM;
  }
  zs.next_in = (Bytef *)p;
  zs.avail_in = (uInt)n;
  for (;;) {
    if (len == cap) {
      uint8_t *nb;
      if (cap >= (64u << 20)) {
        zr = Z_BUF_ERROR;
        break;
      }
      cap *= 2;
      nb = realloc(buf, cap);
      if (!nb) {
        zr = Z_MEM_ERROR;
        break;
      }
      buf = nb;
    }
    zs.next_out = buf + len;
    zs.avail_out = (uInt)(cap - len);
    zr = inflate(&zs, Z_NO_FLUSH);
    len = cap - zs.avail_out;
    if (zr == Z_STREAM_END) break;
    if (zr != Z_OK && !(zr == Z_BUF_ERROR && zs.avail_out == 0)) break;
  }
  inflateEnd(&zs);
  if (zr != Z_STREAM_END) {
    free(buf);
    return TERN_ECORRUPT;
  }
  *out = buf;
  *outn = len;
  return 0;
}

int tc_deflate(const uint8_t *p, size_t n, int level, uint8_t **out, size_t *outn) {
  uLongf cap = compressBound((uLong)n);
  uint8_t *buf = malloc(cap);
  if (!buf) return TERN_ENOMEM;
  if (compress2(buf, &cap, p, (uLong)n, level) != Z_OK) {
    free(buf);
    return TERN_EIO;
  }
  *out = buf;
  *outn = cap;
  return 0;
}

static bool tag_match(tern_str_t tag, const tern_str_t *tags, int n) {
  int i;
  for (i = 0; i < n; i++)
    if (tern_str_eq(tag, tags[i])) return true;
  return false;
}

int tc_rmsgs_decode(const tern_str_t body, const char *broker_name, const tern_str_t *tags, int n_tags,
                    tc_rmsg_t ***out, size_t *n, size_t *total) {
  tc_chunk_t *c;
  tern_msg_record_iter_t it;
  tern_msg_record_t rec;
  tern_err_t err;
  tc_rmsg_t **v = NULL;
  size_t cnt = 0, cap = 0, all = 0;
  int rc;
  *out = NULL;
  *n = 0;
  if (total) *total = 0;
  c = malloc(sizeof *c + body.n + 1);
  if (!c) return TERN_ENOMEM;
  atomic_init(&c->refs, 1);
  c->len = body.n;
  if (body.n) memcpy(c->data, body.p, body.n);
  tern_msg_record_iter_init(&it, c->data, c->len);
  while ((rc = tern_msg_record_iter_next(&it, &rec, &err)) == 1) {
    tc_rmsg_t *m;
    tern_rmsg_t *p;
    tern_str_t v1;
    if (tern_msg_record_is_blank(&rec)) break;
    all++;
    if (n_tags > 0) {
      tern_str_t tg = TERN_STR_NULL;
      tern_props_get(rec.properties, TERN_PROP_TAGS, &tg);
      if (!tag_match(tg, tags, n_tags)) continue;
    }
    m = calloc(1, sizeof *m);
    if (!m) {
      rc = TERN_ENOMEM;
      break;
    }
    if (cnt == cap) {
      size_t nc = cap ? cap * 2 : 32;
      void *nv = realloc(v, nc * sizeof *v);
      if (!nv) {
        free(m);
        rc = TERN_ENOMEM;
        break;
      }
      v = nv;
      cap = nc;
    }
    v[cnt++] = m;
    atomic_fetch_add(&c->refs, 1);
    m->chunk = c;
    m->broker_name = strdup(broker_name ? broker_name : "");
    p = &m->pub;
    p->broker_name = m->broker_name;
    p->topic = rec.topic;
    p->properties = rec.properties;
    p->body = rec.body;
    p->queue_id = rec.queue_id;
    p->queue_offset = rec.queue_offset;
    p->commit_log_offset = rec.physical_offset;
    p->reconsume_times = rec.reconsume_times;
    p->flag = rec.flag;
    p->sys_flag = rec.sys_flag;
    p->born_timestamp = rec.born_timestamp;
    p->store_timestamp = rec.store_timestamp;
    p->born_host = rec.born_host;
    p->store_host = rec.store_host;
    tern_props_get(rec.properties, TERN_PROP_TAGS, &p->tags);
    tern_props_get(rec.properties, TERN_PROP_KEYS, &p->keys);
    tern_msgid_encode(&rec.store_host, rec.physical_offset, p->offset_msg_id);
    if (tern_props_get(rec.properties, TERN_PROP_UNIQ_KEY, &v1) == 0 && v1.n < sizeof p->msg_id)
      snprintf(p->msg_id, sizeof p->msg_id, "%.*s", (int)v1.n, v1.p);
    else
      snprintf(p->msg_id, sizeof p->msg_id, "%s", p->offset_msg_id);
    if (rec.sys_flag & TERN_SYSFLAG_COMPRESSED) {
      int ct = tern_sysflag_compression(rec.sys_flag);
      size_t bn = 0;
      if ((ct == 0 || ct == TERN_SYSFLAG_COMPRESSION_TYPE_ZLIB) &&
          inflate_all((const uint8_t *)rec.body.p, rec.body.n, &m->own_body, &bn) == 0) {
        p->body.p = (const char *)m->own_body;
        p->body.n = bn;
      } else {
        tern_warn("message %s: cannot decompress its body (sysFlag %d); handing it over compressed", p->msg_id,
                  rec.sys_flag);
      }
    }
  }
  chunk_unref(c);
  if (rc < 0) {
    size_t i;
    for (i = 0; i < cnt; i++) tc_rmsg_free(v[i]);
    free(v);
    return rc;
  }
  *out = v;
  *n = cnt;
  if (total) *total = all;
  return (int)cnt;
}

/* ---- subscriptions ---- */

int tc_sub_parse(tc_sub_t *s, const char *topic, const char *expr) {
  const char *p;
  memset(s, 0, sizeof *s);
  if (!topic || !tern_topic_valid(tern_str_from_cstr(topic))) return TERN_EINVAL;
  if (!expr || !*expr) expr = "*";
  s->topic = strdup(topic);
  s->expr = strdup(expr);
  if (!s->topic || !s->expr) goto oom;
  s->version = (int64_t)tc_now_ms();
  {
    const char *t = expr;
    while (*t == ' ') t++;
    if (strcmp(t, "*") == 0) return 0;
  }
  for (p = expr; *p;) {
    const char *e = strstr(p, "||");
    size_t n = e ? (size_t)(e - p) : strlen(p);
    const char *a = p, *b = p + n;
    while (a < b && (*a == ' ' || *a == '\t')) a++;
    while (b > a && (b[-1] == ' ' || b[-1] == '\t')) b--;
    if (b > a) {
      void *nt = realloc(s->tags, sizeof *s->tags * (size_t)(s->ntags + 1));
      void *nc;
      char *d;
      if (!nt) goto oom;
      s->tags = nt;
      nc = realloc(s->codes, sizeof *s->codes * (size_t)(s->ntags + 1));
      if (!nc) goto oom;
      s->codes = nc;
      d = strndup(a, (size_t)(b - a));
      if (!d) goto oom;
      s->tags[s->ntags] = (tern_str_t){d, (size_t)(b - a)};
      s->codes[s->ntags] = tern_java_string_hash(s->tags[s->ntags]);
      s->ntags++;
    }
    p += n + (e ? 2 : 0);
  }
  if (s->ntags == 0) {
    tc_sub_free(s);
    return TERN_EINVAL;
  }
  return 0;
oom:
  tc_sub_free(s);
  return TERN_ENOMEM;
}

void tc_sub_free(tc_sub_t *s) {
  int i;
  for (i = 0; i < s->ntags; i++) free((char *)s->tags[i].p);
  free(s->tags);
  free(s->codes);
  free(s->topic);
  free(s->expr);
  memset(s, 0, sizeof *s);
}

void tc_sub_to_body(const tc_sub_t *s, tern_body_subscription_data_t *d) {
  memset(d, 0, sizeof *d);
  d->topic = tern_str_from_cstr(s->topic);
  d->sub_string = tern_str_from_cstr(s->expr);
  d->expression_type = TERN_STR("TAG");
  d->sub_version = s->version;
  d->tags_set.v = s->tags;
  d->tags_set.n = (uint32_t)s->ntags;
  d->code_set.v = s->codes;
  d->code_set.n = (uint32_t)s->ntags;
  d->has = TERN_BODY_SUBSCRIPTION_DATA_HAS_TOPIC | TERN_BODY_SUBSCRIPTION_DATA_HAS_SUB_STRING |
           TERN_BODY_SUBSCRIPTION_DATA_HAS_EXPRESSION_TYPE;
}
