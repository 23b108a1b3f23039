/* The data-driven cases of run-server: conformance/cases/NN_*.json (format in
 * conformance/README.md). Each case is a list of steps; a step sends one
 * request to the name server or the broker and checks the reply against its
 * "expect" block plus the spec-driven checks of rs_check_reply_shape. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conformance/server/rs.h"
#include "gen/bodies.h"
#include "gen/codes.h"
#include "gen/json.h"
#include "gen/message.h"
#include "gen/rpc.h"

typedef struct cctx {
  const rs_env_t *env;
  tern_json_doc_t *d;
  tern_arena_t *a;
  rs_vars_t vars;
  rs_conn_t ns, br;
  bool ns_open, br_open;
  tern_buf_t *why;
} cctx_t;

/* ${name} substitution into an arena string. */
static tern_str_t subst(cctx_t *x, tern_str_t in) {
  tern_buf_t b;
  tern_str_t out;
  tern_buf_init(&b, 0);
  for (size_t i = 0; i < in.n; i++) {
    if (in.p[i] == '$' && i + 1 < in.n && in.p[i + 1] == '{') {
      const char *end = memchr(in.p + i, '}', in.n - i);
      if (end) {
        char name[64];
        size_t nl = (size_t)(end - (in.p + i + 2));
        if (nl < sizeof name) {
          memcpy(name, in.p + i + 2, nl);
          name[nl] = 0;
          const char *v = rs_var_get(&x->vars, name);
          if (v) {
            tern_buf_append_cstr(&b, v);
            i = (size_t)(end - in.p);
            continue;
          }
        }
      }
    }
    tern_buf_put_u8(&b, (uint8_t)in.p[i]);
  }
  out = tern_arena_strdup(x->a, (tern_str_t){(const char *)b.p, b.len});
  if (!b.len) out = (tern_str_t){"", 0};
  tern_buf_free(&b);
  return out;
}

/* A string or number member as substituted text; found=false when absent. */
static bool get_text(cctx_t *x, uint32_t obj, const char *key, tern_str_t *out) {
  uint32_t v;
  tern_str_t s;
  if (tern_json_find(x->d, obj, key, &v) != 0) return false;
  return (x->d->toks[v].type == TERN_JSON_STRING && tern_json_get_str(x->d, v, x->a, &s) == 0 &&
          ((*out = subst(x, s)), true)) ||
         (x->d->toks[v].type == TERN_JSON_NUMBER && ((*out = tern_json_raw(x->d, v)), true)) ||
         (x->d->toks[v].type == TERN_JSON_TRUE && ((*out = tern_str_from_cstr("true")), true)) ||
         (x->d->toks[v].type == TERN_JSON_FALSE && ((*out = tern_str_from_cstr("false")), true));
}

static bool value_text(cctx_t *x, uint32_t v, tern_str_t *out) {
  tern_str_t s;
  switch (x->d->toks[v].type) {
  case TERN_JSON_STRING:
    if (tern_json_get_str(x->d, v, x->a, &s)) return false;
    *out = subst(x, s);
    return true;
  case TERN_JSON_NUMBER: *out = tern_json_raw(x->d, v); return true;
  case TERN_JSON_TRUE: *out = tern_str_from_cstr("true"); return true;
  case TERN_JSON_FALSE: *out = tern_str_from_cstr("false"); return true;
  default: return false;
  }
}

static bool get_i64(cctx_t *x, uint32_t obj, const char *key, int64_t *out) {
  uint32_t v;
  return tern_json_find(x->d, obj, key, &v) == 0 && tern_json_get_i64(x->d, v, out) == 0;
}

static rs_conn_t *conn_for(cctx_t *x, bool broker) {
  rs_conn_t *c = broker ? &x->br : &x->ns;
  bool *open = broker ? &x->br_open : &x->ns_open;
  if (!*open) {
    if (rs_connect(c, broker ? x->env->broker : x->env->namesrv, x->env->ser, x->env->timeout_ms)) return NULL;
    *open = true;
  }
  return c;
}

/* Builds the request of a step; the header fields are given as extFields text, exactly as sent. */
static int build_request(cctx_t *x, uint32_t rq, tern_cmd_t *req, tern_buf_t *body) {
  int64_t code = 0, flag = 0;
  uint32_t v;
  tern_str_t s;
  if (!get_i64(x, rq, "code", &code)) return -1;
  tern_rpc_request_init(req, (int32_t)code, TERN_STR_NULL);
  if (get_i64(x, rq, "flag", &flag)) req->flag = (int32_t)flag;
  if (tern_json_find(x->d, rq, "oneway", &v) == 0 && x->d->toks[v].type == TERN_JSON_TRUE) req->flag |= TERN_FLAG_ONEWAY;
  if (get_text(x, rq, "language", &s)) {
    req->language_name = s;
    req->language = tern_language_from_name(s);
  }
  if (tern_json_find(x->d, rq, "ext", &v) == 0 && x->d->toks[v].type == TERN_JSON_OBJECT) {
    for (uint32_t k = TERN_JSON_FIRST(v); k < x->d->toks[v].next; k = tern_json_member_next(x->d, k)) {
      tern_str_t key, val;
      if (tern_json_get_str(x->d, k, x->a, &key) || !value_text(x, tern_json_member_value(x->d, k), &val)) return -1;
      if (tern_cmd_ext_add(req, key, val)) return -1;
    }
  }
  if (get_text(x, rq, "body", &s)) tern_buf_append_str(body, s);
  /* body_json: the JSON value written as is (after substitution) */
  if (tern_json_find(x->d, rq, "body_json", &v) == 0) tern_buf_append_str(body, subst(x, tern_json_raw(x->d, v)));
  /* batch: [{"body":..,"properties":..}] encoded with the generated batch codec */
  if (tern_json_find(x->d, rq, "batch", &v) == 0 && x->d->toks[v].type == TERN_JSON_ARRAY) {
    for (uint32_t e = v + 1; e < x->d->toks[v].next; e = x->d->toks[e].next) {
      tern_str_t bb = {"", 0}, pp = {"", 0};
      get_text(x, e, "body", &bb);
      get_text(x, e, "properties", &pp);
      tern_batch_entry_encode(body, 0, bb, pp);
    }
  }
  if (body->err) return -1;
  req->body = (tern_str_t){(const char *)body->p, body->len};
  return 0;
}

static int count_records(tern_str_t body, char tags[][64], int max, tern_buf_t *why) {
  size_t off = 0;
  int n = 0;
  while (off < body.n) {
    tern_msg_record_t r;
    tern_err_t err = {0};
    tern_str_t t;
    if (tern_msg_record_decode((const uint8_t *)body.p + off, body.n - off, &r, &err)) {
      tern_buf_printf(why, "    spec §6.4: the reply body is a sequence of stored records; record %d at byte %zu: %s\n", n,
                      off, err.reason ? err.reason : "undecodable");
      return -1;
    }
    if (n < max) {
      if (tern_props_get(r.properties, TERN_PROP_TAGS, &t) == 0) snprintf(tags[n], 64, "%.*s", (int)t.n, t.p);
      else tags[n][0] = 0;
    }
    n++;
    off += (size_t)r.total_size;
  }
  return n;
}

/* Checks the reply against a step's expect block. */
static bool check_expect(cctx_t *x, uint32_t ex, const tern_cmd_t *resp) {
  uint32_t v;
  bool ok = true;
  tern_str_t s;
  tern_buf_t *why = x->why;
  if (tern_json_find(x->d, ex, "code", &v) == 0) {
    bool match = false;
    int64_t c;
    if (x->d->toks[v].type == TERN_JSON_ARRAY) {
      for (uint32_t e = v + 1; e < x->d->toks[v].next; e = x->d->toks[e].next)
        if (tern_json_get_i64(x->d, e, &c) == 0 && c == resp->code) match = true;
    } else if (tern_json_get_i64(x->d, v, &c) == 0 && c == resp->code) {
      match = true;
    }
    if (!match) {
      tern_buf_printf(why, "    expected: code %.*s; got %d (%s)\n", (int)x->d->toks[v].len, x->d->text + x->d->toks[v].start,
                      (int)resp->code, tern_response_code_name(resp->code) ? tern_response_code_name(resp->code) : "?");
      ok = false;
    }
  }
  if (get_text(x, ex, "remark_contains", &s)) {
    if (!resp->has_remark || !memmem(resp->remark.p, resp->remark.n, s.p, s.n)) {
      tern_buf_printf(why, "    expected: remark containing \"%.*s\"\n", (int)s.n, s.p);
      ok = false;
    }
  }
  if (tern_json_find(x->d, ex, "ext", &v) == 0 && x->d->toks[v].type == TERN_JSON_OBJECT) {
    for (uint32_t k = TERN_JSON_FIRST(v); k < x->d->toks[v].next; k = tern_json_member_next(x->d, k)) {
      tern_str_t key, want;
      char kz[64];
      if (tern_json_get_str(x->d, k, x->a, &key) || !value_text(x, tern_json_member_value(x->d, k), &want)) continue;
      snprintf(kz, sizeof kz, "%.*s", (int)key.n, key.p);
      const tern_str_t *got = tern_cmd_ext_get(resp, kz);
      if (!got || !tern_str_eq(*got, want)) {
        tern_buf_printf(why, "    expected: extFields %s = \"%.*s\"; got %s%.*s%s\n", kz, (int)want.n, want.p,
                        got ? "\"" : "", got ? (int)got->n : 6, got ? got->p : "absent", got ? "\"" : "");
        ok = false;
      }
    }
  }
  if (tern_json_find(x->d, ex, "ext_present", &v) == 0 && x->d->toks[v].type == TERN_JSON_ARRAY) {
    for (uint32_t e = v + 1; e < x->d->toks[v].next; e = x->d->toks[e].next) {
      tern_str_t key;
      char kz[64];
      if (tern_json_get_str(x->d, e, x->a, &key)) continue;
      snprintf(kz, sizeof kz, "%.*s", (int)key.n, key.p);
      if (!tern_cmd_ext_get(resp, kz)) {
        tern_buf_printf(why, "    expected: extFields key %s present\n", kz);
        ok = false;
      }
    }
  }
  if (get_text(x, ex, "body_type", &s)) {
    char tn[64];
    snprintf(tn, sizeof tn, "%.*s", (int)s.n, s.p);
    const tern_body_codec_t *bc = tern_body_codec_find(tn);
    tern_err_t err = {0};
    void *out = bc ? tern_arena_calloc(x->a, 1, bc->size) : NULL;
    if (!bc || !out || bc->decode(resp->body, x->a, out, &err) != 0) {
      tern_buf_printf(why, "    expected: body decoding as %s (spec/bodies/%s.json); %s\n", tn, tn,
                      err.reason ? err.reason : "no such body type");
      ok = false;
    }
  }
  if (tern_json_find(x->d, ex, "body_contains", &v) == 0 && x->d->toks[v].type == TERN_JSON_ARRAY) {
    for (uint32_t e = v + 1; e < x->d->toks[v].next; e = x->d->toks[e].next) {
      tern_str_t want;
      if (!value_text(x, e, &want)) continue;
      if (!resp->body.n || !memmem(resp->body.p, resp->body.n, want.p, want.n)) {
        tern_buf_printf(why, "    expected: body containing \"%.*s\"\n", (int)want.n, want.p);
        ok = false;
      }
    }
  }
  if (tern_json_find(x->d, ex, "records", &v) == 0) {
    char tags[64][64];
    int64_t want_n;
    int n = count_records(resp->body, tags, 64, why);
    if (n < 0) ok = false;
    if (n >= 0 && get_i64(x, v, "count", &want_n) && want_n != n) {
      tern_buf_printf(why, "    expected: %lld records; got %d\n", (long long)want_n, n);
      ok = false;
    }
    uint32_t tv;
    if (n >= 0 && tern_json_find(x->d, v, "tags", &tv) == 0) {
      int i = 0;
      for (uint32_t e = tv + 1; e < x->d->toks[tv].next; e = x->d->toks[e].next, i++) {
        tern_str_t want;
        if (!value_text(x, e, &want)) continue;
        if (i >= n || i >= 64 || !tern_str_eq_cstr(want, tags[i])) {
          tern_buf_printf(why, "    expected: record %d with TAGS \"%.*s\"; got \"%s\"\n", i, (int)want.n, want.p,
                          i < n && i < 64 ? tags[i] : "(none)");
          ok = false;
        }
      }
    }
  }
  return ok;
}

/* save: {"var": "ext:<key>" | "msgid_offset:<key>"} */
static void save_vars(cctx_t *x, uint32_t sv, const tern_cmd_t *resp) {
  for (uint32_t k = TERN_JSON_FIRST(sv); k < x->d->toks[sv].next; k = tern_json_member_next(x->d, k)) {
    tern_str_t name, how;
    char nz[32], kz[64], val[256];
    if (tern_json_get_str(x->d, k, x->a, &name) || !value_text(x, tern_json_member_value(x->d, k), &how)) continue;
    snprintf(nz, sizeof nz, "%.*s", (int)name.n, name.p);
    val[0] = 0;
    if (how.n > 4 && memcmp(how.p, "ext:", 4) == 0) {
      snprintf(kz, sizeof kz, "%.*s", (int)how.n - 4, how.p + 4);
      const tern_str_t *g = tern_cmd_ext_get(resp, kz);
      if (g) snprintf(val, sizeof val, "%.*s", (int)g->n, g->p);
    } else if (how.n > 13 && memcmp(how.p, "msgid_offset:", 13) == 0) {
      snprintf(kz, sizeof kz, "%.*s", (int)how.n - 13, how.p + 13);
      const tern_str_t *g = tern_cmd_ext_get(resp, kz);
      tern_host_t host;
      int64_t off;
      tern_err_t err = {0};
      if (g && tern_msgid_decode(*g, &host, &off, &err) == 0) snprintf(val, sizeof val, "%lld", (long long)off);
    }
    rs_var_set(&x->vars, nz, val);
  }
}

static int run_step(cctx_t *x, uint32_t st, const char *def_target) {
  uint32_t rq, ex, sv;
  tern_str_t target;
  int64_t retry_ms = 0, sleep_ms = 0;
  char tz[16];
  if (get_i64(x, st, "sleep_ms", &sleep_ms) && sleep_ms > 0) usleep((useconds_t)sleep_ms * 1000);
  if (tern_json_find(x->d, st, "request", &rq) != 0) return RS_PASS; /* a pure sleep step */
  snprintf(tz, sizeof tz, "%s", def_target);
  if (get_text(x, st, "target", &target)) snprintf(tz, sizeof tz, "%.*s", (int)target.n, target.p);
  bool broker = strcmp(tz, "broker") == 0;
  if (broker && !x->env->broker) return RS_SKIP;
  get_i64(x, st, "retry_ms", &retry_ms);
  double until = rs_now_ms() + (double)retry_ms;
  for (;;) {
    tern_cmd_t req, resp;
    tern_buf_t body;
    size_t mark = x->why->len;
    int rc;
    bool ok;
    rs_conn_t *c = conn_for(x, broker);
    if (!c) {
      tern_buf_printf(x->why, "    cannot connect to the %s at %s\n", tz, broker ? x->env->broker : x->env->namesrv);
      return RS_FAIL;
    }
    tern_buf_init(&body, 0);
    if (build_request(x, rq, &req, &body)) {
      tern_buf_printf(x->why, "    case file error: bad request block\n");
      tern_buf_free(&body);
      return RS_FAIL;
    }
    rc = rs_call(c, &req, &resp, x->env->timeout_ms);
    rs_describe(x->why, "sent", &req);
    tern_buf_free(&body);
    if (req.flag & TERN_FLAG_ONEWAY) {
      if (rc) tern_buf_printf(x->why, "    could not write the oneway request: %s\n", tern_errname(rc));
      return rc ? RS_FAIL : RS_PASS;
    }
    if (rc) {
      tern_buf_printf(x->why, "    no reply: %s\n", tern_errname(rc));
      ok = false;
      if (broker) x->br_open = false, rs_close(&x->br);
      else x->ns_open = false, rs_close(&x->ns);
    } else {
      rs_describe(x->why, "received", &resp);
      ok = rs_check_reply_shape(&req, x->env->ser, &resp, x->why);
      if (tern_json_find(x->d, st, "expect", &ex) == 0) ok = check_expect(x, ex, &resp) && ok;
      if (ok && tern_json_find(x->d, st, "save", &sv) == 0) save_vars(x, sv, &resp);
    }
    if (ok) {
      x->why->len = mark; /* keep failure details only */
      return RS_PASS;
    }
    if (rs_now_ms() >= until) return RS_FAIL;
    x->why->len = mark;
    usleep(200 * 1000);
  }
}

int rs_run_case_file(const rs_env_t *env, const char *path, const char *only, rs_result_t **res, size_t *n,
                     size_t *cap) {
  FILE *f = fopen(path, "rb");
  char *text;
  long len;
  tern_arena_t a;
  tern_json_doc_t d;
  tern_err_t err = {0};
  uint32_t cases, spec_default;
  tern_str_t file_spec = {"", 0};
  if (!f) return -1;
  fseek(f, 0, SEEK_END);
  len = ftell(f);
  fseek(f, 0, SEEK_SET);
  text = malloc((size_t)len + 1);
  if (!text || fread(text, 1, (size_t)len, f) != (size_t)len) {
    fclose(f);
    free(text);
    return -1;
  }
  fclose(f);
  tern_arena_init(&a, 0, NULL, 0);
  tern_json_doc_init(&d, (tern_str_t){text, (size_t)len}, NULL, 0, &a);
  if (tern_json_parse(&d, NULL, &err) || d.toks[0].type != TERN_JSON_OBJECT ||
      tern_json_find(&d, 0, "cases", &cases) || d.toks[cases].type != TERN_JSON_ARRAY) {
    fprintf(stderr, "run-server: %s: not a case file (%s)\n", path, err.reason ? err.reason : "needs {\"cases\": [...]}");
    tern_arena_free(&a);
    free(text);
    return -1;
  }
  if (tern_json_find(&d, 0, "spec_section", &spec_default) == 0) tern_json_get_str(&d, spec_default, &a, &file_spec);
  for (uint32_t c = cases + 1; c < d.toks[cases].next; c = d.toks[c].next) {
    cctx_t x;
    tern_str_t name = {"?", 1}, spec = file_spec, target = {"namesrv", 7};
    uint32_t steps, v;
    rs_result_t *r;
    memset(&x, 0, sizeof x);
    x.env = env;
    x.d = &d;
    x.a = &a;
    rs_vars_init(&x.vars, env);
    if (tern_json_find(&d, c, "name", &v) == 0) tern_json_get_str(&d, v, &a, &name);
    if (tern_json_find(&d, c, "spec_section", &v) == 0) tern_json_get_str(&d, v, &a, &spec);
    if (tern_json_find(&d, c, "target", &v) == 0) tern_json_get_str(&d, v, &a, &target);
    if (only && !memmem(name.p, name.n, only, strlen(only))) continue;
    if (*n == *cap) {
      *cap = *cap ? *cap * 2 : 64;
      *res = realloc(*res, *cap * sizeof **res);
    }
    r = &(*res)[(*n)++];
    memset(r, 0, sizeof *r);
    snprintf(r->name, sizeof r->name, "%.*s [%s]", (int)name.n, name.p, env->ser_name);
    snprintf(r->spec, sizeof r->spec, "%.*s", (int)spec.n, spec.p);
    tern_buf_init(&r->detail, 0);
    x.why = &r->detail;
    double t0 = rs_now_ms();
    r->status = RS_PASS;
    if (tern_json_find(&d, c, "steps", &steps) || d.toks[steps].type != TERN_JSON_ARRAY) {
      tern_buf_printf(&r->detail, "    case file error: no steps\n");
      r->status = RS_FAIL;
    } else {
      char tz[16];
      snprintf(tz, sizeof tz, "%.*s", (int)target.n, target.p);
      int i = 0;
      for (uint32_t s = steps + 1; s < d.toks[steps].next; s = d.toks[s].next, i++) {
        size_t mark = r->detail.len;
        tern_buf_printf(&r->detail, "  step %d:\n", i + 1);
        int st = run_step(&x, s, tz);
        if (st == RS_PASS) {
          r->detail.len = mark;
          continue;
        }
        if (st == RS_SKIP) r->detail.len = mark, tern_buf_printf(&r->detail, "    skipped: needs --broker\n");
        r->status = st;
        break;
      }
    }
    r->ms = rs_now_ms() - t0;
    if (x.ns_open) rs_close(&x.ns);
    if (x.br_open) rs_close(&x.br);
  }
  tern_arena_free(&a);
  free(text);
  return 0;
}
