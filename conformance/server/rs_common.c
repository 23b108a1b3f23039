/* Variables, command descriptions, the spec-driven reply checks and broker
 * discovery for run-server. */
#include <stdio.h>
#include <string.h>

#include "conformance/server/rs.h"
#include "conformance/strict.h"
#include "gen/bodies.h"
#include "gen/codes.h"
#include "gen/headers.h"
#include "gen/rpc.h"
#include "gen/strict.h"

void rs_var_set(rs_vars_t *v, const char *name, const char *val) {
  int i;
  for (i = 0; i < v->n; i++)
    if (strcmp(v->name[i], name) == 0) break;
  if (i == v->n) {
    if (v->n == RS_MAX_VARS) return;
    v->n++;
  }
  snprintf(v->name[i], sizeof v->name[i], "%s", name);
  snprintf(v->val[i], sizeof v->val[i], "%s", val);
}

const char *rs_var_get(const rs_vars_t *v, const char *name) {
  for (int i = 0; i < v->n; i++)
    if (strcmp(v->name[i], name) == 0) return v->val[i];
  return NULL;
}

void rs_vars_init(rs_vars_t *v, const rs_env_t *env) {
  char t[160];
  memset(v, 0, sizeof *v);
  rs_var_set(v, "run", env->run);
  snprintf(t, sizeof t, "conf_%s", env->run);
  rs_var_set(v, "topic", t);
  snprintf(t, sizeof t, "CG_conf_%s", env->run);
  rs_var_set(v, "group", t);
  snprintf(t, sizeof t, "PG_conf_%s", env->run);
  rs_var_set(v, "producer_group", t);
  rs_var_set(v, "broker_name", env->broker_name);
  rs_var_set(v, "cluster", env->cluster);
  rs_var_set(v, "broker_addr", env->broker ? env->broker : "");
  rs_var_set(v, "namesrv_addr", env->namesrv);
}

static void put_printable(tern_buf_t *out, tern_str_t s, size_t max) {
  for (size_t i = 0; i < s.n && i < max; i++) {
    unsigned char ch = (unsigned char)s.p[i];
    if (ch >= 0x20 && ch < 0x7f && ch != '\\') tern_buf_put_u8(out, ch);
    else tern_buf_printf(out, "\\x%02x", ch);
  }
  if (s.n > max) tern_buf_printf(out, "...(%zu bytes)", s.n);
}

void rs_describe(tern_buf_t *out, const char *prefix, const tern_cmd_t *c) {
  const char *name = (c->flag & TERN_FLAG_RESPONSE) ? tern_response_code_name(c->code) : tern_request_code_name(c->code);
  tern_buf_printf(out, "    %s: code=%d(%s) flag=%d opaque=%d ser=%s", prefix, (int)c->code, name ? name : "?",
                  (int)c->flag, (int)c->opaque, c->serialize_type == TERN_SER_ROCKETMQ ? "ROCKETMQ" : "JSON");
  if (c->has_remark) {
    tern_buf_append_cstr(out, " remark=\"");
    put_printable(out, c->remark, 200);
    tern_buf_append_cstr(out, "\"");
  }
  tern_buf_append_cstr(out, " ext={");
  for (uint32_t i = 0; i < c->n_ext; i++) {
    if (i) tern_buf_append_cstr(out, ", ");
    put_printable(out, c->ext[i].key, 64);
    tern_buf_append_cstr(out, "=");
    if (c->ext[i].val.p) put_printable(out, c->ext[i].val, 120);
    else tern_buf_append_cstr(out, "null");
  }
  tern_buf_printf(out, "} body=%zu bytes", c->body.n);
  if (c->body.n) {
    tern_buf_append_cstr(out, " \"");
    put_printable(out, c->body, 160);
    tern_buf_append_cstr(out, "\"");
  }
  tern_buf_append_cstr(out, "\n");
}

bool rs_check_reply_shape(const tern_cmd_t *req, uint8_t ser, const tern_cmd_t *resp, tern_buf_t *why) {
  bool ok = true;
  if (!(resp->flag & TERN_FLAG_RESPONSE)) {
    tern_buf_printf(why, "    spec §2.1: a reply has the RESPONSE flag bit (0x1); flag=%d\n", (int)resp->flag);
    ok = false;
  }
  if (resp->opaque != req->opaque) {
    tern_buf_printf(why, "    spec §2.1: a reply copies its request's opaque %d; got %d\n", (int)req->opaque,
                    (int)resp->opaque);
    ok = false;
  }
  if (resp->serialize_type != ser) {
    tern_buf_printf(why, "    spec §2.3: a reply uses its request's serialization (%s); got %s\n",
                    ser == TERN_SER_JSON ? "JSON" : "ROCKETMQ", resp->serialize_type == TERN_SER_JSON ? "JSON" : "ROCKETMQ");
    ok = false;
  }
  if (resp->code != 0) return ok;
  const tern_strict_req_t *r = tern_strict_req_find(req->code);
  if (!r) return ok;
  if (r->resp_header) {
    char w[300];
    if (tern_strict_header_problems(r->resp_header, resp, w, sizeof w) > 0) {
      tern_buf_printf(why, "    spec §3 %s: the success reply header is a %s: %s\n", r->name, r->resp_header, w);
      ok = false;
    }
  }
  if (r->resp_body && strcmp(r->resp_body, "raw") != 0) {
    const tern_body_codec_t *bc = tern_body_codec_find(r->resp_body);
    if (bc) {
      tern_arena_t a;
      tern_err_t err = {0};
      tern_arena_init(&a, 0, NULL, 0);
      void *out = tern_arena_calloc(&a, 1, bc->size);
      if (!resp->body.n) {
        tern_buf_printf(why, "    spec §3 %s: the success reply carries a %s JSON body; got none\n", r->name,
                        r->resp_body);
        ok = false;
      } else if (out && bc->decode(resp->body, &a, out, &err) != 0) {
        tern_buf_printf(why, "    spec §3 %s: the success reply body is a %s; %s at byte %zu%s%s\n", r->name,
                        r->resp_body, err.reason ? err.reason : "undecodable", err.pos, err.field ? " field " : "",
                        err.field ? err.field : "");
        ok = false;
      }
      tern_arena_free(&a);
    }
  }
  return ok;
}

int rs_discover(rs_env_t *env) {
  rs_conn_t c;
  tern_cmd_t req, resp;
  int rc;
  if (!env->broker) return 0;
  snprintf(env->broker_name, sizeof env->broker_name, "?");
  snprintf(env->cluster, sizeof env->cluster, "?");
  if ((rc = rs_connect(&c, env->namesrv, env->ser, env->timeout_ms))) return rc;
  tern_rpc_request_init(&req, TERN_REQ_GET_BROKER_CLUSTER_INFO, TERN_STR_NULL);
  rc = rs_call(&c, &req, &resp, env->timeout_ms);
  if (rc == 0 && resp.code == 0) {
    tern_arena_t a;
    tern_body_cluster_info_t ci;
    tern_err_t err = {0};
    const char *port = strrchr(env->broker, ':');
    tern_arena_init(&a, 0, NULL, 0);
    if (tern_body_cluster_info_decode(resp.body, &a, &ci, &err) == 0) {
      for (uint32_t i = 0; i < ci.broker_addr_table.n; i++) {
        const tern_body_broker_data_t *bd = &ci.broker_addr_table.v[i].val;
        bool match = ci.broker_addr_table.n == 1;
        for (uint32_t k = 0; k < bd->broker_addrs.n && !match; k++) {
          tern_str_t ad = bd->broker_addrs.v[k].val;
          const char *q = memrchr(ad.p, ':', ad.n);
          /* same port: the broker registers its own IP, the suite may use 127.0.0.1 */
          if (q && port && (size_t)(ad.p + ad.n - q) == strlen(port) && memcmp(q, port, strlen(port)) == 0)
            match = true;
        }
        if (match) {
          snprintf(env->broker_name, sizeof env->broker_name, "%.*s", (int)bd->broker_name.n, bd->broker_name.p);
          snprintf(env->cluster, sizeof env->cluster, "%.*s", (int)bd->cluster.n, bd->cluster.p ? bd->cluster.p : "");
          break;
        }
      }
    }
    tern_arena_free(&a);
  }
  rs_close(&c);
  return rc;
}
