/* The strict checker (see strict.h). Every judgement is made with generated
 * tables and codecs; this file only walks them and words the reports. */
#include "conformance/strict.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "gen/bodies.h"
#include "gen/codes.h"
#include "gen/headers.h"
#include "gen/json.h"
#include "gen/message.h"
#include "gen/strict.h"
#include "runtime/log.h"

typedef struct ctx {
  tern_strict_t *st;
  const char *peer;
  const char *client_id;
  const char *language;
  const tern_cmd_t *req;
  int n;
  char *why; /* st == NULL: describe the first problem here instead of reporting */
  size_t why_cap;
} ctx_t;

static void violate(ctx_t *x, const char *rule, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void violate(ctx_t *x, const char *rule, const char *field, const char *fmt, ...) {
  tern_strict_violation_t v;
  va_list ap;
  if (!x->st) {
    if (x->n++ == 0 && x->why_cap) {
      va_start(ap, fmt);
      vsnprintf(x->why, x->why_cap, fmt, ap);
      va_end(ap);
    }
    return;
  }
  memset(&v, 0, sizeof v);
  v.conn = x->peer;
  v.client_id = x->client_id;
  v.language = x->language;
  v.code = x->req->code;
  v.rule = rule;
  v.field = field ? field : "";
  va_start(ap, fmt);
  vsnprintf(v.spec, sizeof v.spec, fmt, ap);
  va_end(ap);
  x->n++;
  x->st->n_violations++;
  if (x->st->report) {
    x->st->report(x->st->report_arg, &v);
  } else {
    char line[1024];
    tern_strict_format(&v, x->st->server, line, sizeof line);
    tern_warn(TERN_STRICT_LOG_TAG "%s", line);
  }
}

void tern_strict_format(const tern_strict_violation_t *v, const char *server, char *dst, size_t cap) {
  tern_buf_t b;
  const char *name = tern_request_code_name(v->code);
  tern_buf_init(&b, 0);
  tern_buf_append_cstr(&b, "{\"server\":");
  tern_json_put_cstr(&b, server ? server : "");
  tern_buf_append_cstr(&b, ",\"conn\":");
  tern_json_put_cstr(&b, v->conn ? v->conn : "");
  tern_buf_append_cstr(&b, ",\"clientId\":");
  tern_json_put_cstr(&b, v->client_id ? v->client_id : "");
  tern_buf_append_cstr(&b, ",\"language\":");
  tern_json_put_cstr(&b, v->language ? v->language : "?");
  tern_buf_printf(&b, ",\"code\":%d,\"codeName\":", (int)v->code);
  tern_json_put_cstr(&b, name ? name : "?");
  tern_buf_append_cstr(&b, ",\"rule\":");
  tern_json_put_cstr(&b, v->rule);
  tern_buf_append_cstr(&b, ",\"field\":");
  tern_json_put_cstr(&b, v->field ? v->field : "");
  tern_buf_append_cstr(&b, ",\"spec\":");
  tern_json_put_cstr(&b, v->spec);
  tern_buf_append_cstr(&b, "}");
  if (cap) {
    size_t n = b.err ? 0 : (b.len < cap - 1 ? b.len : cap - 1);
    if (n) memcpy(dst, b.p, n);
    dst[n] = 0;
  }
  tern_buf_free(&b);
}

void tern_strict_init(tern_strict_t *st, uint8_t role, const char *server) {
  memset(st, 0, sizeof *st);
  st->role = role;
  st->server = server;
  tern_arena_init(&st->arena, (size_t)32 << 20, NULL, 0);
}

void tern_strict_free(tern_strict_t *st) { tern_arena_free(&st->arena); }

static const char *conn_client(tern_strict_t *st, const char *peer) {
  for (uint32_t i = 0; i < st->n_conns; i++)
    if (strcmp(st->conns[i].peer, peer) == 0) return st->conns[i].client_id;
  return "";
}

static void remember_client(tern_strict_t *st, const char *peer, tern_str_t id) {
  uint32_t i;
  for (i = 0; i < st->n_conns; i++)
    if (strcmp(st->conns[i].peer, peer) == 0) break;
  if (i == st->n_conns) {
    if (st->n_conns < TERN_STRICT_MAX_CONNS) {
      st->n_conns++;
    } else {
      i = st->next_conn++ % TERN_STRICT_MAX_CONNS; /* oldest slot */
    }
  }
  snprintf(st->conns[i].peer, sizeof st->conns[i].peer, "%s", peer);
  snprintf(st->conns[i].client_id, sizeof st->conns[i].client_id, "%.*s", (int)id.n, id.p ? id.p : "");
}

static bool group_known(const tern_strict_t *st, tern_str_t g) {
  for (uint32_t i = 0; i < st->n_groups; i++)
    if (tern_str_eq_cstr(g, st->groups[i])) return true;
  return false;
}

static void remember_group(tern_strict_t *st, tern_str_t g) {
  if (group_known(st, g) || st->n_groups >= TERN_STRICT_MAX_GROUPS || g.n >= sizeof st->groups[0]) return;
  memcpy(st->groups[st->n_groups], g.p, g.n);
  st->groups[st->n_groups][g.n] = 0;
  st->n_groups++;
}

static const char *type_name(uint8_t t) {
  switch (t) {
  case TERN_HDR_T_STRING: return "string";
  case TERN_HDR_T_INT32: return "int32 (Integer.parseInt)";
  case TERN_HDR_T_INT64: return "int64 (Long.parseLong)";
  case TERN_HDR_T_BOOL: return "boolean (true/false)";
  case TERN_HDR_T_ENUM: return "enum name";
  }
  return "?";
}

static bool required_5x_only(const tern_strict_hdr_t *sh, const char *key) {
  for (uint32_t i = 0; sh && i < sh->n; i++)
    if (sh->fields[i].required_5x_only && strcmp(sh->fields[i].key, key) == 0) return true;
  return false;
}

/* Required fields present (those only 5.x requires excepted), every present field well-typed. */
static void check_header_fields(ctx_t *x, const tern_hdr_info_t *hi) {
  const tern_strict_hdr_t *sh = tern_strict_hdr_find(hi->java);
  for (uint32_t i = 0; i < hi->n_fields; i++) {
    const tern_hdr_field_info_t *f = &hi->fields[i];
    const tern_str_t *v = tern_cmd_ext_get(x->req, f->key);
    bool ok = true;
    if (!v) {
      if (f->required && !required_5x_only(sh, f->key))
        violate(x, "header.required", f->key, "%s requires %s (%s); it is absent or null", hi->java, f->key,
                type_name(f->type));
      continue;
    }
    switch (f->type) {
    case TERN_HDR_T_INT32: {
      int32_t n;
      ok = tern_str_to_i32(*v, &n) == 0;
      break;
    }
    case TERN_HDR_T_INT64: {
      int64_t n;
      ok = tern_str_to_i64(*v, &n) == 0;
      break;
    }
    case TERN_HDR_T_BOOL:
      ok = (v->n == 4 && strncasecmp(v->p, "true", 4) == 0) || (v->n == 5 && strncasecmp(v->p, "false", 5) == 0);
      break;
    case TERN_HDR_T_ENUM:
      ok = false;
      for (uint32_t k = 0; k < f->n_enum; k++)
        if (f->enum_names[k] && tern_str_eq_cstr(*v, f->enum_names[k])) ok = true;
      break;
    default:
      break;
    }
    if (!ok)
      violate(x, "header.type", f->key, "%s.%s is %s; got '%.*s'", hi->java, f->key, type_name(f->type),
              (int)(v->n > 64 ? 64 : v->n), v->p);
  }
}

/* Bit-set fields carry only defined bits; properties strings are exactly the
 * pairs Java's parser finds, each written back as key 0x01 value 0x02. */
static void check_header_extras(ctx_t *x, const tern_hdr_info_t *hi) {
  const tern_strict_hdr_t *sh = tern_strict_hdr_find(hi->java);
  if (!sh) return;
  for (uint32_t i = 0; i < sh->n; i++) {
    const tern_strict_hdr_field_t *f = &sh->fields[i];
    const tern_str_t *v = tern_cmd_ext_get(x->req, f->key);
    if (!v) continue;
    if (f->bits_mask) {
      int64_t n;
      if (tern_str_to_i64(*v, &n) == 0 && ((uint64_t)n & ~(uint64_t)f->bits_mask) != 0)
        violate(x, "header.bits", f->key, "%s.%s defines bits 0x%x; got 0x%llx", hi->java, f->key, f->bits_mask,
                (unsigned long long)(uint64_t)n);
    }
    if (f->properties) {
      tern_buf_t b;
      tern_props_cursor_t c;
      tern_prop_t p;
      bool bad = false;
      tern_buf_init(&b, 0);
      tern_props_cursor_init(&c, *v);
      while (tern_props_cursor_next(&c, &p) == 1)
        if (tern_props_append(&b, p.key, p.val)) bad = true;
      if (bad || b.err || b.len != v->n || (b.len && memcmp(b.p, v->p, b.len) != 0))
        violate(x, "header.properties", f->key,
                "%s.%s must be name 0x01 value 0x02 pairs (non-empty, separator-free, each pair terminated by "
                "0x02); %zu of %zu bytes are well-formed pairs",
                hi->java, f->key, b.len, v->n);
      tern_buf_free(&b);
    }
  }
}

static void check_body(ctx_t *x, const tern_strict_req_t *r, const void **decoded) {
  const tern_str_t *body = &x->req->body;
  *decoded = NULL;
  if (!r->body) {
    if (body->n && !r->body_unspecified)
      violate(x, "body.unexpected", "", "%s carries no body; got %zu bytes", r->name, body->n);
    return;
  }
  if (strcmp(r->body, "raw") == 0) return;
  const tern_body_codec_t *bc = tern_body_codec_find(r->body);
  if (!bc) return;
  if (!body->n) {
    violate(x, "body.missing", "", "%s carries a %s JSON body; got none", r->name, r->body);
    return;
  }
  void *out = tern_arena_calloc(&x->st->arena, 1, bc->size);
  tern_err_t err = {0};
  if (!out) return;
  if (bc->decode(*body, &x->st->arena, out, &err) != 0) {
    violate(x, "body.shape", err.field ? err.field : "", "%s body must be a %s; %s at byte %zu", r->name, r->body,
            err.reason ? err.reason : "undecodable", err.pos);
    return;
  }
  *decoded = out;
}

int tern_strict_header_problems(const char *java, const tern_cmd_t *cmd, char *why, size_t cap) {
  ctx_t x = {NULL, "", "", "", cmd, 0, why, cap};
  const tern_hdr_info_t *hi = tern_hdr_info_find(tern_str_from_cstr(java));
  if (cap) why[0] = 0;
  if (!hi) return 0;
  check_header_fields(&x, hi);
  return x.n;
}

int tern_strict_check(tern_strict_t *st, const char *peer, const tern_cmd_t *req) {
  ctx_t x = {st, peer ? peer : "", NULL, NULL, req, 0, NULL, 0};
  const char *lang = tern_language_name(req->language);
  char langbuf[64];
  const void *body = NULL;
  tern_arena_reset(&st->arena);
  st->n_checked++;
  if (req->language < 0 || !lang) {
    snprintf(langbuf, sizeof langbuf, "%.*s", (int)req->language_name.n, req->language_name.p ? req->language_name.p : "");
    lang = langbuf[0] ? langbuf : "?";
  }
  x.language = lang;
  x.client_id = conn_client(st, x.peer);

  if (req->language < 0 || !tern_language_name(req->language))
    violate(&x, "command.language", "language", "LanguageCode must be one of the %d names; got '%s'",
            TERN_LANGUAGE_CODE_COUNT, lang);
  if ((uint32_t)req->flag & ~(uint32_t)TERN_STRICT_CMD_FLAG_MASK)
    violate(&x, "command.flag", "flag", "flag defines bits 0x%x (RESPONSE, ONEWAY); got 0x%x",
            TERN_STRICT_CMD_FLAG_MASK, (unsigned)req->flag);

  const tern_strict_req_t *r = tern_strict_req_find(req->code);
  if (!r) {
    violate(&x, "code.unknown", "code", "no release of RocketMQ defines request code %d", (int)req->code);
    return x.n;
  }
  if (!(r->roles & st->role))
    violate(&x, "code.role", "code", "%s is served by %s, not by the %s", r->name,
            r->roles & TERN_ROLE_NAMESRV ? "the name server"
            : r->roles & TERN_ROLE_BROKER ? "the broker"
            : r->roles & TERN_ROLE_CLIENT ? "clients"
            : r->roles ? "the controller" : "nobody (declared only)",
            st->server);
  if ((req->flag & TERN_FLAG_ONEWAY) && r->oneway == TERN_ONEWAY_NEVER)
    violate(&x, "command.oneway", "flag", "%s is never sent oneway (it has a reply the sender needs)", r->name);

  if (r->header) {
    const tern_hdr_info_t *hi = tern_hdr_info_find(tern_str_from_cstr(r->header));
    if (hi) {
      check_header_fields(&x, hi);
      check_header_extras(&x, hi);
    }
  }
  check_body(&x, r, &body);

  /* Session: who this connection is, which consumer groups exist. */
  if (req->code == TERN_REQ_HEART_BEAT && body) {
    const tern_body_heartbeat_data_t *hb = body;
    if (hb->has & TERN_BODY_HEARTBEAT_DATA_HAS_CLIENT_ID) {
      remember_client(st, x.peer, hb->client_id);
      x.client_id = conn_client(st, x.peer);
    }
    for (uint32_t i = 0; i < hb->consumer_data_set.n; i++) remember_group(st, hb->consumer_data_set.v[i].group_name);
  } else if (req->code == TERN_REQ_PULL_MESSAGE || req->code == TERN_REQ_LITE_PULL_MESSAGE) {
    tern_hdr_pull_message_request_t h;
    tern_err_t err = {0};
    if (tern_hdr_pull_message_request_decode(req, &h, &err) == 0 && !(h.sys_flag & 4 /* SUBSCRIPTION */) &&
        !group_known(st, h.consumer_group))
      violate(&x, "session.heartbeat_before_pull", "consumerGroup",
              "a pull without the SUBSCRIPTION sysFlag bit uses the subscription of a HEART_BEAT that registered "
              "group '%.*s' first; none did (the broker answers SUBSCRIPTION_NOT_EXIST)",
              (int)(h.consumer_group.n > 100 ? 100 : h.consumer_group.n), h.consumer_group.p);
  }
  return x.n;
}

void tern_strict_inspect(void *ctx, tern_conn_t *c, const tern_cmd_t *req) {
  tern_strict_check(ctx, tern_conn_peer(c), req);
}

const tern_cfg_item_t tern_strict_cfg_items[] = {
    TERN_CFG_BOOL(tern_strict_conf_t, strict_mode, "strictMode", "false", true,
                  "check every incoming request against the spec and log each violation (conformance suite)"),
};
const size_t tern_strict_cfg_count = sizeof tern_strict_cfg_items / sizeof tern_strict_cfg_items[0];

bool tern_strict_take_flag(int *argc, char **argv) {
  bool found = false;
  int j = 1;
  for (int i = 1; i < *argc; i++) {
    if (strcmp(argv[i], "--strict") == 0) {
      found = true;
      continue;
    }
    argv[j++] = argv[i];
  }
  if (*argc > 0) {
    *argc = j;
    argv[j] = NULL;
  }
  return found;
}
