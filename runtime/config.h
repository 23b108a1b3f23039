/* Configuration as RocketMQ users write it: a declarative table of keys per
 * struct (like Java's config beans), filled from defaults, a Java-properties
 * file (-c) and the command line (-n), printable with -p / -m.
 *
 *   static const tern_cfg_item_t items[] = {
 *     TERN_CFG_INT(my_conf_t, listen_port, "listenPort", "9876", true, "remoting port"),
 *     TERN_CFG_STR(my_conf_t, namesrv_addr, "namesrvAddr", NULL, true, "name servers a:9876;b:9876"),
 *   };
 *   tern_config_t cfg; tern_config_init(&cfg, "mqnamesrv");
 *   tern_config_add(&cfg, items, TERN_ARRAY_SIZE(items), &conf);
 *   int rc = tern_config_main(&cfg, argc, argv);   // 1: printed and done, exit 0; <0: exit 1
 *
 * Unknown keys are warned about and skipped; a bad value is refused with
 * "<file>:<line>: <key>: <why>: '<value>'" in cfg.errmsg (also logged). A key
 * listed in several tables is applied to each, as Java applies a key to every
 * config object with that setter. */
#ifndef TERN_RUNTIME_CONFIG_H
#define TERN_RUNTIME_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "runtime/arena.h"
#include "runtime/base.h"

typedef enum tern_cfg_type {
  TERN_CFG_T_INT,    /* int32_t, Integer.parseInt */
  TERN_CFG_T_LONG,   /* int64_t, Long.parseLong */
  TERN_CFG_T_BOOL,   /* bool, "true"/"false" in any case (anything else refused) */
  TERN_CFG_T_STRING, /* const char * (NUL-terminated; NULL = Java null) */
  TERN_CFG_T_DOUBLE  /* double */
} tern_cfg_type_t;

typedef struct tern_cfg_item {
  const char *key;
  tern_cfg_type_t type;
  const char *def; /* default as text, parsed like a file value; NULL: 0/false/NULL */
  size_t off;      /* offset of the field in the table's struct */
  bool important;  /* printed by -m (Java's @ImportantField) */
  const char *about;
} tern_cfg_item_t;

#define TERN_CFG_INT(st, f, key, def, imp, about) {key, TERN_CFG_T_INT, def, offsetof(st, f), imp, about}
#define TERN_CFG_LONG(st, f, key, def, imp, about) {key, TERN_CFG_T_LONG, def, offsetof(st, f), imp, about}
#define TERN_CFG_BOOL(st, f, key, def, imp, about) {key, TERN_CFG_T_BOOL, def, offsetof(st, f), imp, about}
#define TERN_CFG_STR(st, f, key, def, imp, about) {key, TERN_CFG_T_STRING, def, offsetof(st, f), imp, about}
#define TERN_CFG_DOUBLE(st, f, key, def, imp, about) {key, TERN_CFG_T_DOUBLE, def, offsetof(st, f), imp, about}

#define TERN_CONFIG_MAX_TABLES 8

typedef struct tern_config {
  struct {
    const tern_cfg_item_t *items;
    size_t n;
    void *obj;
  } tab[TERN_CONFIG_MAX_TABLES];
  size_t ntab;
  const char *prog;        /* program name for -h and messages */
  const char *config_file; /* the -c argument, if any */
  uint32_t n_unknown;      /* unknown keys seen (each warned about) */
  tern_arena_t strings;    /* string values set from files or flags */
  char errmsg[512];        /* why the last call failed */
} tern_config_t;

/* Return of tern_config_main when -p, -m or -h printed what was asked. */
#define TERN_CONFIG_EXIT 1

void tern_config_init(tern_config_t *c, const char *prog);
void tern_config_free(tern_config_t *c);
/* Registers a table and applies its defaults to obj. TERN_EINVAL for a bad
 * default (a programming error, named in errmsg) or too many tables. */
int tern_config_add(tern_config_t *c, const tern_cfg_item_t *items, size_t n, void *obj);
/* Sets one key from text. `where`/`line` only label messages (where may be
 * NULL). Returns 0, TERN_ENOTFOUND for an unknown key (warned), or
 * TERN_EINVAL/TERN_ERANGE for a bad value (errmsg). */
int tern_config_set(tern_config_t *c, tern_str_t key, tern_str_t val, const char *where, uint32_t line);
/* Applies every entry of a properties text / file; stops at the first bad value. */
int tern_config_load_text(tern_config_t *c, const char *name, const char *text, size_t len);
int tern_config_load_file(tern_config_t *c, const char *path);
/* Writes "key=value" lines in table order (only important keys if asked). */
void tern_config_print(const tern_config_t *c, FILE *f, bool important_only);
/* Looks a key up: its item and the struct it lives in (first table that has it). */
const tern_cfg_item_t *tern_config_find(const tern_config_t *c, const char *key, void **obj);

/* Checks a name-server list "host:port;host:port" the way the broker does;
 * 0 or TERN_EINVAL with the reason in errmsg (errlen bytes). Empty is invalid. */
int tern_config_check_addr_list(const char *list, char *errmsg, size_t errlen);

/* The command line shared by every binary (RocketMQ's letters):
 *   -c/--configFile <file>  load a properties file
 *   -n/--namesrvAddr <list> name servers, applied after the file to key namesrvAddr
 *   -p/--printConfigItem    print every key=value and exit
 *   -m/--printImportantConfig  print the important keys and exit
 *   -h/--help               usage
 * Environment defaults as Java has them (NAMESRV_ADDR -> namesrvAddr,
 * ROCKETMQ_HOME -> rocketmqHome, for tables that have those keys) apply first,
 * then the file, then -n.
 * Returns 0 to run, TERN_CONFIG_EXIT after printing (exit 0), or <0 after
 * printing the error to stderr (exit 1). Output goes to `out` (stdout if NULL). */
int tern_config_main(tern_config_t *c, int argc, char **argv, FILE *out);

#endif
