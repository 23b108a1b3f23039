/* ACL 1.0 accounts (plain_acl.yml through libyaml's document API) and the
 * per-request decision; see acl.h for the rules and their 4.9 sources. */
#include "broker/acl/acl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <yaml.h>

#include "broker/acl/sign.h"
#include "gen/bodies.h"
#include "gen/codes.h"
#include "gen/headers.h"
#include "gen/message.h"
#include <sodium.h>

#define ACL_FILE_MAX ((size_t)4 << 20)
#define ACL_KEY_MIN 6 /* AclConstants.ACCESS_KEY_MIN_LENGTH / SECRET_KEY_MIN_LENGTH: longer than this */

/* ---- addresses ---- */

enum { PAT_BLANK, PAT_ANY, PAT_SET, PAT_RANGE };

typedef struct ip {
  uint8_t b[16];
  uint8_t len; /* 4 or 16 */
} ip_t;

typedef struct addr_pat {
  uint8_t kind;
  uint8_t nseg;  /* PAT_RANGE: 4 (IPv4, 8-bit segments) or 8 (IPv6, 16-bit groups) */
  uint8_t range; /* PAT_RANGE: the segment holding the range; segments before it are exact, after it anything */
  uint16_t seg[8];
  uint16_t lo, hi;
  ip_t *set;
  uint32_t nset;
} addr_pat_t;

/* A textual IPv4/IPv6 address; IPv4-mapped IPv6 becomes IPv4. */
static bool ip_parse(const char *s, ip_t *ip) {
  if (inet_pton(AF_INET, s, ip->b) == 1) {
    ip->len = 4;
    return true;
  }
  if (inet_pton(AF_INET6, s, ip->b) == 1) {
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    ip->len = 16;
    if (memcmp(ip->b, mapped, 12) == 0) {
      memmove(ip->b, ip->b + 12, 4);
      ip->len = 4;
    }
    return true;
  }
  return false;
}

static char *trim(char *s) {
  char *e;
  while (*s == ' ' || *s == '\t') s++;
  e = s + strlen(s);
  while (e > s && (e[-1] == ' ' || e[-1] == '\t')) *--e = '\0';
  return s;
}

static int set_add(addr_pat_t *p, const char *text) {
  ip_t ip, *n;
  char buf[64];
  snprintf(buf, sizeof buf, "%s", text);
  if (strlen(text) >= sizeof buf || !ip_parse(trim(buf), &ip)) return TERN_EINVAL;
  n = realloc(p->set, sizeof *n * (p->nset + 1));
  if (!n) return TERN_ENOMEM;
  p->set = n;
  p->set[p->nset++] = ip;
  return 0;
}

/* One segment: a number (base 10 for IPv4, 16 for IPv6) within max. */
static bool seg_num(const char *s, int base, unsigned max, uint16_t *out) {
  char *end;
  unsigned long v;
  if (!*s || *s == '-' || *s == '+' || *s == ' ') return false;
  errno = 0;
  v = strtoul(s, &end, base);
  if (errno || *end || v > max || (base == 10 && strlen(s) > 3) || (base == 16 && strlen(s) > 4)) return false;
  *out = (uint16_t)v;
  return true;
}

static int range_parse(addr_pat_t *p, char *s) {
  bool v6 = strchr(s, ':') != NULL;
  int want = v6 ? 8 : 4, base = v6 ? 16 : 10, n = 0;
  unsigned max = v6 ? 0xffff : 255;
  char *segs[8], *save = NULL, *tok;
  if (v6 && strstr(s, "::")) return TERN_EINVAL; /* ranges need all eight groups written out */
  for (tok = strtok_r(s, v6 ? ":" : ".", &save); tok; tok = strtok_r(NULL, v6 ? ":" : ".", &save)) {
    if (n == want) return TERN_EINVAL;
    segs[n++] = trim(tok);
  }
  if (n != want) return TERN_EINVAL;
  p->kind = PAT_RANGE;
  p->nseg = (uint8_t)want;
  p->range = 0;
  for (int i = 0; i < want; i++) {
    char *dash = strchr(segs[i], '-');
    if (p->range) { /* after the range: 4.9 ignores these segments; Tern wants "*" or a number there */
      if (strcmp(segs[i], "*") != 0 && !seg_num(segs[i], base, max, &p->seg[i])) return TERN_EINVAL;
      continue;
    }
    if (strcmp(segs[i], "*") == 0 && i > 0) {
      p->range = (uint8_t)i;
      p->lo = 0;
      p->hi = (uint16_t)max;
    } else if (dash && i > 0) {
      *dash = '\0';
      if (!seg_num(trim(segs[i]), base, max, &p->lo) || !seg_num(trim(dash + 1), base, max, &p->hi) || p->lo > p->hi)
        return TERN_EINVAL;
      p->range = (uint8_t)i;
    } else if (!seg_num(segs[i], base, max, &p->seg[i])) {
      return TERN_EINVAL;
    }
  }
  return p->range ? 0 : TERN_EINVAL;
}

/* RemoteAddressStrategyFactory.getRemoteAddressStrategy. */
static int pat_parse(addr_pat_t *p, const char *text) {
  char buf[512], *s, *save = NULL, *tok;
  int rc = 0;
  memset(p, 0, sizeof *p);
  if (!text) return 0; /* blank: matches nothing */
  if (strlen(text) >= sizeof buf) return TERN_EINVAL;
  snprintf(buf, sizeof buf, "%s", text);
  s = trim(buf);
  if (!*s) return 0;
  if (!strcmp(s, "*") || !strcmp(s, "*.*.*.*") || !strcmp(s, "*:*:*:*:*:*:*:*")) {
    p->kind = PAT_ANY;
    return 0;
  }
  p->kind = PAT_SET;
  if (s[strlen(s) - 1] == '}') { /* 192.168.1.{1,2,3} */
    char *open = strchr(s, '{'), *last = strrchr(s, strchr(s, ':') ? ':' : '.'), prefix[64];
    if (!open || !last || open != last + 1 || strchr(open + 1, '{')) return TERN_EINVAL;
    if ((size_t)(open - s) >= sizeof prefix) return TERN_EINVAL;
    memcpy(prefix, s, (size_t)(open - s));
    prefix[open - s] = '\0';
    s[strlen(s) - 1] = '\0';
    for (tok = strtok_r(open + 1, ",", &save); tok && !rc; tok = strtok_r(NULL, ",", &save)) {
      char one[128];
      snprintf(one, sizeof one, "%s%s", prefix, trim(tok));
      rc = set_add(p, one);
    }
    return rc ? rc : p->nset ? 0 : TERN_EINVAL;
  }
  if (strchr(s, ',')) {
    for (tok = strtok_r(s, ",", &save); tok && !rc; tok = strtok_r(NULL, ",", &save)) rc = set_add(p, tok);
    return rc ? rc : p->nset ? 0 : TERN_EINVAL;
  }
  if (strchr(s, '*') || strchr(s, '-')) return range_parse(p, s);
  return set_add(p, s);
}

static void pat_free(addr_pat_t *p) {
  free(p->set);
  p->set = NULL;
  p->nset = 0;
}

static bool pat_match(const addr_pat_t *p, const ip_t *ip) {
  switch (p->kind) {
  case PAT_ANY:
    return true;
  case PAT_SET:
    for (uint32_t i = 0; i < p->nset; i++)
      if (p->set[i].len == ip->len && memcmp(p->set[i].b, ip->b, ip->len) == 0) return true;
    return false;
  case PAT_RANGE: {
    uint16_t segs[8];
    if ((p->nseg == 4) != (ip->len == 4)) return false;
    for (int i = 0; i < p->nseg; i++) segs[i] = p->nseg == 4 ? ip->b[i] : (uint16_t)((ip->b[2 * i] << 8) | ip->b[2 * i + 1]);
    for (int i = 0; i < p->range; i++)
      if (segs[i] != p->seg[i]) return false;
    return segs[p->range] >= p->lo && segs[p->range] <= p->hi;
  }
  default:
    return false;
  }
}

int tern_acl_addr_match(const char *pattern, const char *ip_text) {
  addr_pat_t p;
  ip_t ip;
  int rc = pat_parse(&p, pattern);
  if (rc) {
    pat_free(&p);
    return TERN_EINVAL;
  }
  rc = ip_parse(ip_text, &ip) && pat_match(&p, &ip);
  pat_free(&p);
  return rc;
}

/* ---- permissions ---- */

uint8_t tern_acl_perm_parse(tern_str_t s) {
  while (s.n && (*s.p == ' ' || *s.p == '\t')) s.p++, s.n--;
  while (s.n && (s.p[s.n - 1] == ' ' || s.p[s.n - 1] == '\t')) s.n--;
  if (tern_str_eq_cstr(s, "PUB")) return TERN_ACL_PUB;
  if (tern_str_eq_cstr(s, "SUB")) return TERN_ACL_SUB;
  if (tern_str_eq_cstr(s, "PUB|SUB") || tern_str_eq_cstr(s, "SUB|PUB")) return TERN_ACL_PUB | TERN_ACL_SUB;
  return TERN_ACL_DENY;
}

static bool perm_valid(tern_str_t s) {
  while (s.n && (*s.p == ' ' || *s.p == '\t')) s.p++, s.n--;
  while (s.n && (s.p[s.n - 1] == ' ' || s.p[s.n - 1] == '\t')) s.n--;
  return tern_str_eq_cstr(s, "DENY") || tern_acl_perm_parse(s) != TERN_ACL_DENY;
}

bool tern_acl_perm_ok(uint8_t needed, uint8_t owned) {
  if (owned & TERN_ACL_DENY) return false;
  if (needed & TERN_ACL_ANY) return (owned & (TERN_ACL_PUB | TERN_ACL_SUB)) != 0;
  return (needed & owned) != 0;
}

/* ---- accounts ---- */

typedef struct res_perm {
  char *name; /* a topic, or %RETRY%<group> */
  uint8_t perm;
} res_perm_t;

typedef struct account {
  char *ak, *sk;
  addr_pat_t white;
  bool admin;
  uint8_t def_topic, def_group;
  res_perm_t *res;
  uint32_t nres;
  bool has_res; /* 4.9's resourcePermMap != null: some topicPerms/groupPerms entry */
} account_t;

struct tern_acl {
  addr_pat_t *global;
  uint32_t nglobal;
  account_t *acc;
  uint32_t nacc;
};

size_t tern_acl_account_count(const tern_acl_t *a) { return a ? a->nacc : 0; }

void tern_acl_free(tern_acl_t *a) {
  if (!a) return;
  for (uint32_t i = 0; i < a->nglobal; i++) pat_free(&a->global[i]);
  free(a->global);
  for (uint32_t i = 0; i < a->nacc; i++) {
    account_t *ac = &a->acc[i];
    if (ac->sk) sodium_memzero(ac->sk, strlen(ac->sk));
    free(ac->ak);
    free(ac->sk);
    pat_free(&ac->white);
    for (uint32_t j = 0; j < ac->nres; j++) free(ac->res[j].name);
    free(ac->res);
  }
  free(a->acc);
  free(a);
}

typedef struct yctx {
  yaml_document_t *doc;
  char *why;
  size_t cap;
} yctx_t;

static int fail(yctx_t *y, const yaml_node_t *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(yctx_t *y, const yaml_node_t *n, const char *fmt, ...) {
  va_list ap;
  int k = 0;
  if (n) k = snprintf(y->why, y->cap, "line %lu: ", (unsigned long)n->start_mark.line + 1);
  if (k < 0 || (size_t)k >= y->cap) k = 0;
  va_start(ap, fmt);
  vsnprintf(y->why + k, y->cap - (size_t)k, fmt, ap);
  va_end(ap);
  return TERN_EINVAL;
}

static bool is_null(const yaml_node_t *n) {
  const char *v;
  if (!n) return true;
  if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) return false;
  v = (const char *)n->data.scalar.value;
  return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") || !strcmp(v, "NULL");
}

static bool key_is(yctx_t *y, const yaml_node_pair_t *pr, const char *k) {
  const yaml_node_t *n = yaml_document_get_node(y->doc, pr->key);
  return n && n->type == YAML_SCALAR_NODE && strcmp((const char *)n->data.scalar.value, k) == 0;
}

/* A scalar's text (NULL for a YAML null); *bad when the node is not a scalar. */
static const char *scalar(const yaml_node_t *n, bool *bad) {
  *bad = false;
  if (is_null(n)) return NULL;
  if (n->type != YAML_SCALAR_NODE) {
    *bad = true;
    return NULL;
  }
  return (const char *)n->data.scalar.value;
}

static size_t utf8_chars(const char *s) {
  size_t n = 0;
  for (; *s; s++) n += ((uint8_t)*s & 0xC0) != 0x80;
  return n;
}

static int res_add(account_t *ac, const char *name, bool group, uint8_t perm) {
  char *full;
  res_perm_t *n;
  size_t len = strlen(name);
  if (!(full = malloc(len + sizeof TERN_RETRY_TOPIC_PREFIX))) return TERN_ENOMEM;
  snprintf(full, len + sizeof TERN_RETRY_TOPIC_PREFIX, "%s%s", group ? TERN_RETRY_TOPIC_PREFIX : "", name);
  for (uint32_t i = 0; i < ac->nres; i++)
    if (!strcmp(ac->res[i].name, full)) { /* HashMap.put: the later entry wins */
      ac->res[i].perm = perm;
      free(full);
      return 0;
    }
  if (!(n = realloc(ac->res, sizeof *n * (ac->nres + 1)))) {
    free(full);
    return TERN_ENOMEM;
  }
  ac->res = n;
  ac->res[ac->nres].name = full;
  ac->res[ac->nres++].perm = perm;
  ac->has_res = true;
  return 0;
}

static int parse_res_list(yctx_t *y, account_t *ac, const yaml_node_t *seq, bool group, uint32_t ai) {
  const char *what = group ? "groupPerms" : "topicPerms";
  if (is_null(seq)) return 0;
  if (seq->type != YAML_SEQUENCE_NODE) return fail(y, seq, "accounts[%u].%s: not a list", ai, what);
  for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++) {
    const yaml_node_t *n = yaml_document_get_node(y->doc, *it);
    bool bad;
    const char *v = scalar(n, &bad);
    char buf[512], *eq, *name;
    int rc;
    if (bad || !v) return fail(y, n, "accounts[%u].%s: entries are \"name=PERM\" strings", ai, what);
    if (strlen(v) >= sizeof buf) return fail(y, n, "accounts[%u].%s: entry too long", ai, what);
    snprintf(buf, sizeof buf, "%s", v);
    eq = strchr(buf, '=');
    if (!eq || strchr(eq + 1, '=')) return fail(y, n, "accounts[%u].%s: '%s' is not name=PERM", ai, what, v);
    *eq = '\0';
    name = trim(buf);
    if (!*name || !perm_valid(tern_str_from_cstr(eq + 1)))
      return fail(y, n, "accounts[%u].%s: '%s': expected name=PUB, SUB, PUB|SUB, SUB|PUB or DENY", ai, what, v);
    if ((rc = res_add(ac, name, group, tern_acl_perm_parse(tern_str_from_cstr(eq + 1)))))
      return fail(y, n, "out of memory");
  }
  return 0;
}

static int parse_perm(yctx_t *y, const yaml_node_t *n, uint32_t ai, const char *what, uint8_t *out) {
  bool bad;
  const char *v = scalar(n, &bad);
  if (bad) return fail(y, n, "accounts[%u].%s: not a string", ai, what);
  if (v && !perm_valid(tern_str_from_cstr(v)))
    return fail(y, n, "accounts[%u].%s: '%s': expected PUB, SUB, PUB|SUB, SUB|PUB or DENY", ai, what, v);
  *out = v ? tern_acl_perm_parse(tern_str_from_cstr(v)) : TERN_ACL_DENY; /* absent: DENY, as parsePermFromString(null) */
  return 0;
}

static int parse_account(yctx_t *y, tern_acl_t *a, const yaml_node_t *m, uint32_t ai) {
  account_t *ac = &a->acc[ai];
  const yaml_node_t *topic_perms = NULL, *group_perms = NULL;
  int rc;
  if (m->type != YAML_MAPPING_NODE) return fail(y, m, "accounts[%u]: not a mapping", ai);
  ac->def_topic = ac->def_group = TERN_ACL_DENY;
  for (yaml_node_pair_t *pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top; pr++) {
    const yaml_node_t *v = yaml_document_get_node(y->doc, pr->value);
    bool bad;
    const char *s;
    if (key_is(y, pr, "accessKey") || key_is(y, pr, "secretKey") || key_is(y, pr, "whiteRemoteAddress")) {
      const char *k = (const char *)yaml_document_get_node(y->doc, pr->key)->data.scalar.value;
      char **dst = k[0] == 'a' ? &ac->ak : k[0] == 's' ? &ac->sk : NULL;
      s = scalar(v, &bad);
      if (bad) return fail(y, v, "accounts[%u].%s: not a string", ai, k);
      if (!dst) {
        if ((rc = pat_parse(&ac->white, s)))
          return fail(y, v, "accounts[%u].whiteRemoteAddress: '%s' is not an address pattern", ai, s);
        continue;
      }
      if (*dst) return fail(y, v, "accounts[%u].%s given twice", ai, k);
      if (s && !(*dst = strdup(s))) return fail(y, v, "out of memory");
    } else if (key_is(y, pr, "admin")) {
      s = scalar(v, &bad);
      if (bad) return fail(y, v, "accounts[%u].admin: not a boolean", ai);
      if (!s || !strcasecmp(s, "false") || !strcasecmp(s, "no") || !strcasecmp(s, "off")) ac->admin = false;
      else if (!strcasecmp(s, "true") || !strcasecmp(s, "yes") || !strcasecmp(s, "on")) ac->admin = true;
      else return fail(y, v, "accounts[%u].admin: '%s' is not true or false", ai, s);
    } else if (key_is(y, pr, "defaultTopicPerm")) {
      if ((rc = parse_perm(y, v, ai, "defaultTopicPerm", &ac->def_topic))) return rc;
    } else if (key_is(y, pr, "defaultGroupPerm")) {
      if ((rc = parse_perm(y, v, ai, "defaultGroupPerm", &ac->def_group))) return rc;
    } else if (key_is(y, pr, "topicPerms")) {
      topic_perms = v;
    } else if (key_is(y, pr, "groupPerms")) {
      group_perms = v;
    } /* other keys: ignored, as fastjson ignores unknown properties */
  }
  /* checkPlainAccessConfig: never print the secret */
  if (!ac->ak || utf8_chars(ac->ak) <= ACL_KEY_MIN)
    return fail(y, m, "accounts[%u]: accessKey missing or not longer than %d characters", ai, ACL_KEY_MIN);
  if (!ac->sk || utf8_chars(ac->sk) <= ACL_KEY_MIN)
    return fail(y, m, "accounts[%u] (accessKey %s): secretKey missing or not longer than %d characters", ai, ac->ak,
                ACL_KEY_MIN);
  for (uint32_t i = 0; i < ai; i++)
    if (!strcmp(a->acc[i].ak, ac->ak)) return fail(y, m, "accounts[%u]: accessKey %s listed twice", ai, ac->ak);
  if ((rc = parse_res_list(y, ac, group_perms, true, ai))) return rc;
  return parse_res_list(y, ac, topic_perms, false, ai);
}

static int parse_doc(yctx_t *y, tern_acl_t *a) {
  const yaml_node_t *root = yaml_document_get_root_node(y->doc);
  if (!root) return fail(y, NULL, "the file holds no data");
  if (root->type != YAML_MAPPING_NODE) return fail(y, root, "the top level is not a mapping");
  for (yaml_node_pair_t *pr = root->data.mapping.pairs.start; pr < root->data.mapping.pairs.top; pr++) {
    const yaml_node_t *v = yaml_document_get_node(y->doc, pr->value);
    if (key_is(y, pr, "globalWhiteRemoteAddresses")) {
      size_t n;
      if (is_null(v)) continue;
      if (v->type != YAML_SEQUENCE_NODE) return fail(y, v, "globalWhiteRemoteAddresses: not a list");
      if (a->global) return fail(y, v, "globalWhiteRemoteAddresses given twice");
      n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
      if (n && !(a->global = calloc(n, sizeof *a->global))) return fail(y, v, "out of memory");
      for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        const yaml_node_t *e = yaml_document_get_node(y->doc, *it);
        bool bad;
        const char *s = scalar(e, &bad);
        if (bad) return fail(y, e, "globalWhiteRemoteAddresses: entries are strings");
        if (pat_parse(&a->global[a->nglobal++], s))
          return fail(y, e, "globalWhiteRemoteAddresses: '%s' is not an address pattern", s);
      }
    } else if (key_is(y, pr, "accounts")) {
      size_t n;
      if (is_null(v)) continue;
      if (v->type != YAML_SEQUENCE_NODE) return fail(y, v, "accounts: not a list");
      if (a->acc) return fail(y, v, "accounts given twice");
      n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
      if (n && !(a->acc = calloc(n, sizeof *a->acc))) return fail(y, v, "out of memory");
      for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        int rc;
        a->nacc++;
        if ((rc = parse_account(y, a, yaml_document_get_node(y->doc, *it), a->nacc - 1))) return rc;
      }
    } /* dataVersion and unknown keys: ignored */
  }
  return 0;
}

int tern_acl_parse(const char *text, size_t len, tern_acl_t **out, char *why, size_t cap) {
  yaml_parser_t parser;
  yaml_document_t doc;
  yctx_t y = {&doc, why, cap};
  tern_acl_t *a;
  int rc;
  *out = NULL;
  if (cap) why[0] = '\0';
  if (len > ACL_FILE_MAX) return fail(&y, NULL, "larger than %zu bytes", ACL_FILE_MAX);
  if (!(a = calloc(1, sizeof *a))) return TERN_ENOMEM;
  if (!yaml_parser_initialize(&parser)) {
    free(a);
    return TERN_ENOMEM;
  }
  yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
  if (!yaml_parser_load(&parser, &doc)) {
    rc = fail(&y, NULL, "line %lu: %s", (unsigned long)parser.problem_mark.line + 1,
              parser.problem ? parser.problem : "YAML syntax error");
    yaml_parser_delete(&parser);
    tern_acl_free(a);
    return rc;
  }
  rc = parse_doc(&y, a);
  yaml_document_delete(&doc);
  yaml_parser_delete(&parser);
  if (rc) {
    tern_acl_free(a);
    return rc;
  }
  *out = a;
  return 0;
}

int tern_acl_load_file(const char *path, tern_acl_t **out, char *why, size_t cap) {
  FILE *f = fopen(path, "rb");
  char *buf;
  size_t n;
  int rc;
  *out = NULL;
  if (!f) {
    snprintf(why, cap, "cannot open %s: %s", path, strerror(errno));
    return TERN_EIO;
  }
  if (!(buf = malloc(ACL_FILE_MAX + 1))) {
    fclose(f);
    return TERN_ENOMEM;
  }
  n = fread(buf, 1, ACL_FILE_MAX + 1, f);
  if (ferror(f)) {
    snprintf(why, cap, "cannot read %s", path);
    rc = TERN_EIO;
  } else {
    rc = tern_acl_parse(buf, n, out, why, cap);
  }
  fclose(f);
  free(buf);
  return rc;
}

/* ---- the decision ---- */

typedef struct need {
  tern_str_t name;
  uint8_t perm;
} need_t;

typedef struct needs {
  need_t *v;
  uint32_t n, cap;
  tern_arena_t *a;
  bool oom;
} needs_t;

/* addResourceAndPerm: a null resource is skipped, a repeated one replaced. */
static void need_add(needs_t *ns, tern_str_t name, bool retry, uint8_t perm) {
  if (!name.p) return;
  if (retry) {
    size_t n = sizeof TERN_RETRY_TOPIC_PREFIX - 1 + name.n;
    char *p = tern_arena_alloc(ns->a, n);
    if (!p) {
      ns->oom = true;
      return;
    }
    memcpy(p, TERN_RETRY_TOPIC_PREFIX, sizeof TERN_RETRY_TOPIC_PREFIX - 1);
    memcpy(p + sizeof TERN_RETRY_TOPIC_PREFIX - 1, name.p, name.n);
    name = (tern_str_t){p, n};
  }
  for (uint32_t i = 0; i < ns->n; i++)
    if (tern_str_eq(ns->v[i].name, name)) {
      ns->v[i].perm = perm;
      return;
    }
  if (ns->n == ns->cap) {
    uint32_t cap = ns->cap ? ns->cap * 2 : 8;
    need_t *v = tern_arena_alloc(ns->a, sizeof *v * cap);
    if (!v) {
      ns->oom = true;
      return;
    }
    if (ns->n) memcpy(v, ns->v, sizeof *v * ns->n);
    ns->v = v;
    ns->cap = cap;
  }
  ns->v[ns->n].name = name;
  ns->v[ns->n++].perm = perm;
}

static tern_str_t ext(const tern_cmd_t *req, const char *key) {
  const tern_str_t *v = tern_cmd_ext_get(req, key);
  return v ? *v : TERN_STR_NULL;
}

static bool is_retry(tern_str_t t) {
  return t.n >= sizeof TERN_RETRY_TOPIC_PREFIX - 1 &&
         memcmp(t.p, TERN_RETRY_TOPIC_PREFIX, sizeof TERN_RETRY_TOPIC_PREFIX - 1) == 0;
}

static int refuse(char *remark, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int refuse(char *remark, size_t cap, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(remark, cap, fmt, ap);
  va_end(ap);
  return TERN_EINVAL;
}

#define REFUSE_DECODE(what, e) \
  refuse(remark, cap, "%s: %s%s%s", what, (e).reason ? (e).reason : "cannot decode", (e).field ? ": " : "", \
         (e).field ? (e).field : "")

/* PlainAccessValidator.parse: the resources and the perms they need. */
static int needs_of(const tern_cmd_t *req, needs_t *ns, char *remark, size_t cap) {
  tern_err_t e = {0};
  switch (req->code) {
  case TERN_REQ_SEND_MESSAGE: {
    tern_str_t t = ext(req, "topic");
    if (is_retry(t)) need_add(ns, ext(req, "group"), true, TERN_ACL_SUB);
    else need_add(ns, t, false, TERN_ACL_PUB);
    break;
  }
  case TERN_REQ_SEND_MESSAGE_V2:
  case TERN_REQ_SEND_BATCH_MESSAGE: { /* 4.9 leaves batches unchecked; Tern checks them as V2 sends */
    tern_str_t t = ext(req, "b");
    if (is_retry(t)) need_add(ns, ext(req, "a"), true, TERN_ACL_SUB);
    else need_add(ns, t, false, TERN_ACL_PUB);
    break;
  }
  case TERN_REQ_CONSUMER_SEND_MSG_BACK:
    need_add(ns, ext(req, "group"), true, TERN_ACL_SUB);
    break;
  case TERN_REQ_PULL_MESSAGE:
    need_add(ns, ext(req, "topic"), false, TERN_ACL_SUB);
    need_add(ns, ext(req, "consumerGroup"), true, TERN_ACL_SUB);
    break;
  case TERN_REQ_QUERY_MESSAGE:
    need_add(ns, ext(req, "topic"), false, TERN_ACL_SUB);
    break;
  case TERN_REQ_HEART_BEAT: {
    tern_body_heartbeat_data_t hb;
    if (tern_body_heartbeat_data_decode(req->body, ns->a, &hb, &e)) return REFUSE_DECODE("heartbeat body", e);
    for (uint32_t i = 0; i < hb.consumer_data_set.n; i++) {
      const tern_body_consumer_data_t *cd = &hb.consumer_data_set.v[i];
      need_add(ns, cd->group_name, true, TERN_ACL_SUB);
      for (uint32_t j = 0; j < cd->subscription_data_set.n; j++)
        need_add(ns, cd->subscription_data_set.v[j].topic, false, TERN_ACL_SUB);
    }
    break;
  }
  case TERN_REQ_UNREGISTER_CLIENT: {
    tern_hdr_unregister_client_request_t h;
    if (tern_hdr_unregister_client_request_decode(req, &h, &e)) return REFUSE_DECODE("UNREGISTER_CLIENT header", e);
    if (h.present & TERN_HDR_UNREGISTER_CLIENT_REQUEST_HAS_CONSUMER_GROUP)
      need_add(ns, h.consumer_group, true, TERN_ACL_SUB);
    break;
  }
  case TERN_REQ_GET_CONSUMER_LIST_BY_GROUP: {
    tern_hdr_get_consumer_list_by_group_request_t h;
    if (tern_hdr_get_consumer_list_by_group_request_decode(req, &h, &e))
      return REFUSE_DECODE("GET_CONSUMER_LIST_BY_GROUP header", e);
    need_add(ns, h.consumer_group, true, TERN_ACL_SUB);
    break;
  }
  case TERN_REQ_UPDATE_CONSUMER_OFFSET: {
    tern_hdr_update_consumer_offset_request_t h;
    if (tern_hdr_update_consumer_offset_request_decode(req, &h, &e))
      return REFUSE_DECODE("UPDATE_CONSUMER_OFFSET header", e);
    need_add(ns, h.consumer_group, true, TERN_ACL_SUB);
    need_add(ns, h.topic, false, TERN_ACL_SUB);
    break;
  }
  default:
    break;
  }
  return ns->oom ? refuse(remark, cap, "out of memory") : 0;
}

static bool needs_admin(int32_t code) {
  return code == TERN_REQ_UPDATE_AND_CREATE_TOPIC || code == TERN_REQ_UPDATE_BROKER_CONFIG ||
         code == TERN_REQ_DELETE_TOPIC_IN_BROKER || code == TERN_REQ_UPDATE_AND_CREATE_SUBSCRIPTIONGROUP ||
         code == TERN_REQ_DELETE_SUBSCRIPTIONGROUP;
}

/* Strings taken from the request go into remarks cut to this many bytes. */
#define RS(s) (int)((s).n > 200 ? 200 : (s).n), (s).p

static bool peer_ip(const char *peer, ip_t *ip) {
  char buf[80], *colon;
  size_t n;
  if (!peer || strlen(peer) >= sizeof buf) return false;
  snprintf(buf, sizeof buf, "%s", peer);
  if ((colon = strrchr(buf, ':'))) *colon = '\0'; /* "ip:port" (IPv6 too: the port follows the last colon) */
  n = strlen(buf);
  if (buf[0] == '[' && n > 1 && buf[n - 1] == ']') {
    buf[n - 1] = '\0';
    return ip_parse(buf + 1, ip);
  }
  return ip_parse(buf, ip);
}

int tern_acl_check(const tern_acl_t *a, const char *peer, const tern_cmd_t *req, tern_arena_t *scratch, char *remark,
                   size_t cap) {
  needs_t ns = {.a = scratch};
  ip_t ip;
  bool have_ip = peer_ip(peer, &ip);
  const account_t *ac = NULL;
  tern_str_t ak, sig;
  char want[TERN_ACL_SIG_LEN + 1];
  int rc;

  remark[0] = '\0';
  /* 4.9: a request without extFields names no resource and no AccessKey */
  if (req->n_ext && (rc = needs_of(req, &ns, remark, cap))) return rc;
  for (uint32_t i = 0; have_ip && i < a->nglobal; i++)
    if (pat_match(&a->global[i], &ip)) return 0;
  ak = ext(req, TERN_ACL_ACCESS_KEY);
  if (!ak.p) return refuse(remark, cap, "No accessKey is configured");
  for (uint32_t i = 0; i < a->nacc && !ac; i++)
    if (tern_str_eq_cstr(ak, a->acc[i].ak)) ac = &a->acc[i];
  if (!ac) return refuse(remark, cap, "No acl config for %.*s", RS(ak));
  if (have_ip && pat_match(&ac->white, &ip)) return 0;
  sig = ext(req, TERN_ACL_SIGNATURE);
  rc = tern_acl_signature(tern_str_from_cstr(ac->sk), req, TERN_ACL_UNIQUE_KEY_QUERY, want);
  if (rc) return refuse(remark, cap, "Check signature failed for accessKey=%s (%s)", ac->ak, tern_strerror(rc));
  if (!tern_acl_signature_eq(sig, want)) {
    /* 4.9's client signs _UNIQUE_KEY_QUERY too (QUERY_MESSAGE by unique key): accept that variant */
    bool ok = false;
    if (tern_cmd_ext_get(req, TERN_ACL_UNIQUE_KEY_QUERY) &&
        tern_acl_signature(tern_str_from_cstr(ac->sk), req, NULL, want) == 0)
      ok = tern_acl_signature_eq(sig, want);
    sodium_memzero(want, sizeof want);
    if (!ok) return refuse(remark, cap, "Check signature failed for accessKey=%s", ac->ak);
  }
  sodium_memzero(want, sizeof want);
  for (uint32_t i = 0; i < ns.n; i++) /* message trace publishing skips the permission check */
    if (tern_str_eq_cstr(ns.v[i].name, TERN_TOPIC_TRACE) && ns.v[i].perm == TERN_ACL_PUB) return 0;
  /* checkPerm */
  if (needs_admin(req->code) && !ac->admin)
    return refuse(remark, cap, "Need admin permission for request code=%d, but accessKey=%s is not", (int)req->code,
                  ac->ak);
  if (!ns.n || (!ac->has_res && ac->admin)) return 0;
  for (uint32_t i = 0; i < ns.n; i++) {
    bool group = is_retry(ns.v[i].name);
    uint8_t owned = group ? ac->def_group : ac->def_topic;
    for (uint32_t j = 0; j < ac->nres; j++)
      if (tern_str_eq_cstr(ns.v[i].name, ac->res[j].name)) {
        owned = ac->res[j].perm;
        break;
      }
    if (!tern_acl_perm_ok(ns.v[i].perm, owned)) {
      tern_str_t shown = ns.v[i].name;
      if (group) shown.p += sizeof TERN_RETRY_TOPIC_PREFIX - 1, shown.n -= sizeof TERN_RETRY_TOPIC_PREFIX - 1;
      return refuse(remark, cap, "No default permission for %s:%.*s", group ? "group" : "topic", RS(shown));
    }
  }
  return 0;
}
