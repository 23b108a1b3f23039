/* The config table engine: applies defaults, properties files (via the
 * generated lexer behind runtime/props.h) and command-line flags to the
 * caller's structs, refusing bad values with the key and line, and prints the
 * result the way RocketMQ's -p/-m do (key=value, table order). */
#include "runtime/config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/buf.h"
#include "runtime/log.h"
#include "runtime/props.h"

#define CONFIG_FILE_MAX ((size_t)16 << 20) /* config files are small; refuse absurd ones */

static int fail(tern_config_t *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(tern_config_t *c, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->errmsg, sizeof c->errmsg, fmt, ap);
  va_end(ap);
  return code;
}

void tern_config_init(tern_config_t *c, const char *prog) {
  memset(c, 0, sizeof *c);
  c->prog = prog ? prog : "tern";
  tern_arena_init(&c->strings, 0, NULL, 0);
}

void tern_config_free(tern_config_t *c) { tern_arena_free(&c->strings); }

/* Parses `val` for `it` and stores it in obj; on failure returns the reason. */
static const char *store(tern_config_t *c, const tern_cfg_item_t *it, void *obj, tern_str_t val, int *code) {
  char *field = (char *)obj + it->off;
  *code = TERN_EINVAL;
  switch (it->type) {
    case TERN_CFG_T_INT: {
      int32_t v;
      int rc = tern_str_to_i32(val, &v);
      if (rc == TERN_ERANGE) return *code = TERN_ERANGE, "integer out of range";
      if (rc) return "not an integer";
      memcpy(field, &v, sizeof v);
      return NULL;
    }
    case TERN_CFG_T_LONG: {
      int64_t v;
      int rc = tern_str_to_i64(val, &v);
      if (rc == TERN_ERANGE) return *code = TERN_ERANGE, "integer out of range";
      if (rc) return "not an integer";
      memcpy(field, &v, sizeof v);
      return NULL;
    }
    case TERN_CFG_T_BOOL: {
      /* Java's parseBoolean would read "yes" as false; refusing says more. */
      bool v = tern_str_to_bool(val);
      if (!v && !(val.n == 5 && strncasecmp(val.p, "false", 5) == 0)) return "not a boolean (true or false)";
      memcpy(field, &v, sizeof v);
      return NULL;
    }
    case TERN_CFG_T_DOUBLE: {
      char tmp[64], *end;
      double v;
      if (val.n == 0 || val.n >= sizeof tmp) return "not a number";
      memcpy(tmp, val.p, val.n);
      tmp[val.n] = '\0';
      if (tmp[0] == ' ' || tmp[0] == '\t') return "not a number";
      errno = 0;
      v = strtod(tmp, &end);
      if (*end || !isfinite(v)) return "not a number";
      if (errno == ERANGE) return *code = TERN_ERANGE, "number out of range";
      memcpy(field, &v, sizeof v);
      return NULL;
    }
    case TERN_CFG_T_STRING: {
      tern_str_t s = tern_arena_strdup(&c->strings, val);
      const char *p = s.p;
      if (!p) return *code = TERN_ENOMEM, "out of memory";
      memcpy(field, &p, sizeof p);
      return NULL;
    }
  }
  return "unknown item type";
}

int tern_config_add(tern_config_t *c, const tern_cfg_item_t *items, size_t n, void *obj) {
  if (c->ntab == TERN_CONFIG_MAX_TABLES) return fail(c, TERN_EINVAL, "too many config tables");
  for (size_t i = 0; i < n; i++) {
    const tern_cfg_item_t *it = &items[i];
    char *field = (char *)obj + it->off;
    int code;
    const char *why;
    if (!it->def) {
      switch (it->type) {
        case TERN_CFG_T_INT: memset(field, 0, sizeof(int32_t)); break;
        case TERN_CFG_T_LONG: memset(field, 0, sizeof(int64_t)); break;
        case TERN_CFG_T_BOOL: memset(field, 0, sizeof(bool)); break;
        case TERN_CFG_T_DOUBLE: { double z = 0; memcpy(field, &z, sizeof z); break; }
        case TERN_CFG_T_STRING: { const char *z = NULL; memcpy(field, &z, sizeof z); break; }
      }
      continue;
    }
    if (it->type == TERN_CFG_T_STRING) { /* static default: no copy needed */
      memcpy(field, &it->def, sizeof it->def);
      continue;
    }
    why = store(c, it, obj, tern_str_from_cstr(it->def), &code);
    if (why) return fail(c, TERN_EINVAL, "default of %s: %s: '%s'", it->key, why, it->def);
  }
  c->tab[c->ntab].items = items;
  c->tab[c->ntab].n = n;
  c->tab[c->ntab].obj = obj;
  c->ntab++;
  return 0;
}

const tern_cfg_item_t *tern_config_find(const tern_config_t *c, const char *key, void **obj) {
  for (size_t t = 0; t < c->ntab; t++)
    for (size_t i = 0; i < c->tab[t].n; i++)
      if (strcmp(c->tab[t].items[i].key, key) == 0) {
        if (obj) *obj = c->tab[t].obj;
        return &c->tab[t].items[i];
      }
  return NULL;
}

/* "file:12: " or "" when there is no file name. */
static void where_prefix(char *dst, size_t cap, const char *where, uint32_t line) {
  if (where && line) snprintf(dst, cap, "%s:%u: ", where, line);
  else if (where) snprintf(dst, cap, "%s: ", where);
  else dst[0] = '\0';
}

int tern_config_set(tern_config_t *c, tern_str_t key, tern_str_t val, const char *where, uint32_t line) {
  char pre[300];
  bool found = false;
  where_prefix(pre, sizeof pre, where, line);
  for (size_t t = 0; t < c->ntab; t++) {
    for (size_t i = 0; i < c->tab[t].n; i++) {
      const tern_cfg_item_t *it = &c->tab[t].items[i];
      int code;
      const char *why;
      if (!tern_str_eq_cstr(key, it->key)) continue;
      found = true;
      why = store(c, it, c->tab[t].obj, val, &code);
      if (why) {
        /* Values are quoted as written, cut short so the message stays one line. */
        int vn = val.n > 200 ? 200 : (int)val.n;
        fail(c, code, "%s%s: %s: '%.*s'%s", pre, it->key, why, vn, val.p ? val.p : "", val.n > 200 ? "..." : "");
        tern_error("%s", c->errmsg);
        return code;
      }
    }
  }
  if (!found) {
    int kn = key.n > 200 ? 200 : (int)key.n;
    c->n_unknown++;
    tern_warn("%sunknown config key '%.*s' ignored", pre, kn, key.p ? key.p : "");
    return TERN_ENOTFOUND;
  }
  return 0;
}

int tern_config_load_text(tern_config_t *c, const char *name, const char *text, size_t len) {
  tern_props_lexer_t lx;
  tern_props_entry_t e;
  tern_buf_t scratch;
  tern_err_t err = {0};
  int rc;
  tern_buf_init(&scratch, len + 64); /* decoded text is never longer than the input */
  tern_props_init(&lx, text, len);
  while ((rc = tern_props_next(&lx, &scratch, &e, &err)) == 1) {
    rc = tern_config_set(c, e.key, e.val, name, e.line);
    if (rc && rc != TERN_ENOTFOUND) break;
    rc = 0;
  }
  if (rc < 0 && rc != TERN_EINVAL && rc != TERN_ERANGE && rc != TERN_ENOMEM) {
    fail(c, rc, "%s:%zu: %s", name ? name : "config", err.pos, err.reason ? err.reason : tern_strerror(rc));
    tern_error("%s", c->errmsg);
  }
  tern_buf_free(&scratch);
  return rc < 0 ? rc : 0;
}

int tern_config_load_file(tern_config_t *c, const char *path) {
  FILE *f = fopen(path, "rb");
  char *text = NULL;
  size_t len = 0, cap = 0;
  int rc;
  if (!f) return fail(c, TERN_EIO, "%s: cannot open: %s", path, strerror(errno));
  for (;;) {
    size_t got;
    if (cap - len < 4097) {
      char *nt;
      if (cap >= CONFIG_FILE_MAX) {
        fclose(f);
        free(text);
        return fail(c, TERN_ETOOBIG, "%s: larger than %zu bytes", path, CONFIG_FILE_MAX);
      }
      cap = cap ? cap * 2 : 8192;
      nt = realloc(text, cap);
      if (!nt) {
        fclose(f);
        free(text);
        return fail(c, TERN_ENOMEM, "%s: out of memory", path);
      }
      text = nt;
    }
    got = fread(text + len, 1, cap - len - 1, f);
    len += got;
    if (got == 0) break;
  }
  if (ferror(f)) {
    fclose(f);
    free(text);
    return fail(c, TERN_EIO, "%s: read error", path);
  }
  fclose(f);
  text[len] = '\0'; /* the lexer's sentinel */
  rc = tern_config_load_text(c, path, text, len);
  free(text);
  return rc;
}

static void print_value(FILE *f, const tern_cfg_item_t *it, const void *obj) {
  const char *field = (const char *)obj + it->off;
  switch (it->type) {
    case TERN_CFG_T_INT: { int32_t v; memcpy(&v, field, sizeof v); fprintf(f, "%d", (int)v); break; }
    case TERN_CFG_T_LONG: { int64_t v; memcpy(&v, field, sizeof v); fprintf(f, "%lld", (long long)v); break; }
    case TERN_CFG_T_BOOL: { bool v; memcpy(&v, field, sizeof v); fputs(v ? "true" : "false", f); break; }
    case TERN_CFG_T_STRING: { const char *v; memcpy(&v, field, sizeof v); if (v) fputs(v, f); break; }
    case TERN_CFG_T_DOUBLE: {
      /* Shortest text that reads back exactly; "75.0" for whole numbers as Java prints. */
      double v;
      char t[40];
      memcpy(&v, field, sizeof v);
      for (int prec = 15; prec <= 17; prec++) {
        snprintf(t, sizeof t, "%.*g", prec, v);
        if (strtod(t, NULL) == v) break;
      }
      fputs(t, f);
      if (!strpbrk(t, ".eEn")) fputs(".0", f);
      break;
    }
  }
}

void tern_config_print(const tern_config_t *c, FILE *f, bool important_only) {
  for (size_t t = 0; t < c->ntab; t++)
    for (size_t i = 0; i < c->tab[t].n; i++) {
      const tern_cfg_item_t *it = &c->tab[t].items[i];
      if (important_only && !it->important) continue;
      fprintf(f, "%s=", it->key);
      print_value(f, it, c->tab[t].obj);
      fputc('\n', f);
    }
}

int tern_config_check_addr_list(const char *list, char *errmsg, size_t errlen) {
  const char *p = list;
  if (!list || !*list) {
    snprintf(errmsg, errlen, "empty name server address");
    return TERN_EINVAL;
  }
  while (*p) {
    const char *end = strchr(p, ';'), *colon = NULL;
    size_t n = end ? (size_t)(end - p) : strlen(p);
    int32_t port;
    for (size_t i = 0; i < n; i++)
      if (p[i] == ':') colon = p + i; /* last colon, as Java's lastIndexOf */
    if (n > 0) {
      tern_str_t ps = {colon ? colon + 1 : NULL, colon ? (size_t)(p + n - colon - 1) : 0};
      if (!colon || colon == p || tern_str_to_i32(ps, &port) || port < 0 || port > 65535) {
        snprintf(errmsg, errlen,
                 "The Name Server Address[%s] illegal, please set it as follows, \"127.0.0.1:9876;192.168.0.1:9876\"",
                 list);
        return TERN_EINVAL;
      }
    }
    p += n;
    if (*p == ';') p++;
  }
  return 0;
}

static void usage(const tern_config_t *c, FILE *f) {
  fprintf(f,
          "usage: %s [-c configFile] [-n namesrvAddr] [-p] [-m] [-h]\n"
          " -c,--configFile <file>        Java-properties config file\n"
          " -n,--namesrvAddr <addr>       name server list, e.g. '192.168.0.1:9876;192.168.0.2:9876'\n"
          " -p,--printConfigItem          print all config items and exit\n"
          " -m,--printImportantConfig     print important config items and exit\n"
          " -h,--help                     print this help\n",
          c->prog);
}

static const struct {
  char letter;
  const char *long_name;
  bool arg;
} flags[] = {{'c', "configFile", true},       {'n', "namesrvAddr", true}, {'p', "printConfigItem", false},
             {'m', "printImportantConfig", false}, {'h', "help", false}};

static const struct {
  const char *env, *key;
} env_defaults[] = {{"NAMESRV_ADDR", "namesrvAddr"}, {"ROCKETMQ_HOME", "rocketmqHome"}};

int tern_config_main(tern_config_t *c, int argc, char **argv, FILE *out) {
  const char *file = NULL, *namesrv = NULL;
  bool print_all = false, print_imp = false;
  int rc;
  if (!out) out = stdout;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    int which = -1;
    for (size_t k = 0; k < TERN_ARRAY_SIZE(flags) && which < 0; k++) {
      if (a[0] == '-' && a[1] == flags[k].letter && a[2] == '\0') which = (int)k;
      if (a[0] == '-' && a[1] == '-' && strcmp(a + 2, flags[k].long_name) == 0) which = (int)k;
    }
    if (which < 0) {
      fprintf(stderr, "%s: unrecognized option '%s'\n", c->prog, a);
      usage(c, stderr);
      return fail(c, TERN_EINVAL, "unrecognized option '%s'", a);
    }
    if (flags[which].arg) {
      if (i + 1 >= argc) {
        fprintf(stderr, "%s: missing argument for option: %c\n", c->prog, flags[which].letter);
        return fail(c, TERN_EINVAL, "missing argument for option: %c", flags[which].letter);
      }
      if (flags[which].letter == 'c') file = argv[++i];
      else namesrv = argv[++i];
      continue;
    }
    switch (flags[which].letter) {
      case 'p': print_all = true; break;
      case 'm': print_imp = true; break;
      default: usage(c, out); return TERN_CONFIG_EXIT;
    }
  }
  /* Defaults Java takes from the environment, below the file and the flags. */
  for (size_t k = 0; k < TERN_ARRAY_SIZE(env_defaults); k++) {
    const char *v = getenv(env_defaults[k].env);
    if (v && *v && tern_config_find(c, env_defaults[k].key, NULL) &&
        (rc = tern_config_set(c, tern_str_from_cstr(env_defaults[k].key), tern_str_from_cstr(v),
                              env_defaults[k].env, 0)) != 0) {
      fprintf(stderr, "%s: %s\n", c->prog, c->errmsg);
      return rc;
    }
  }
  if (file) {
    c->config_file = file;
    if ((rc = tern_config_load_file(c, file)) != 0) {
      fprintf(stderr, "%s: %s\n", c->prog, c->errmsg);
      return rc;
    }
  }
  if (namesrv) {
    void *obj;
    const tern_cfg_item_t *it = tern_config_find(c, "namesrvAddr", &obj);
    if (it && (rc = tern_config_set(c, TERN_STR("namesrvAddr"), tern_str_from_cstr(namesrv), "-n", 0)) != 0) {
      fprintf(stderr, "%s: %s\n", c->prog, c->errmsg);
      return rc;
    }
  }
  {
    void *obj;
    const tern_cfg_item_t *it = tern_config_find(c, "namesrvAddr", &obj);
    if (it && it->type == TERN_CFG_T_STRING) {
      const char *v;
      memcpy(&v, (char *)obj + it->off, sizeof v);
      if (v && (rc = tern_config_check_addr_list(v, c->errmsg, sizeof c->errmsg)) != 0) {
        fprintf(stderr, "%s: %s\n", c->prog, c->errmsg);
        return rc;
      }
    }
  }
  if (print_all || print_imp) {
    tern_config_print(c, out, !print_all);
    fflush(out);
    return TERN_CONFIG_EXIT;
  }
  return 0;
}
