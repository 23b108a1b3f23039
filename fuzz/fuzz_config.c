/* Fuzzes config-file loading: the generated Java-properties lexer
 * (spec/grammar/config.re) over arbitrary bytes, then the typed config table
 * that applies each entry. Checks that every entry lies inside the scratch
 * buffer, that the lexer always makes progress, and that refused values
 * leave a message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/config.h"
#include "runtime/log.h"
#include "runtime/props.h"

typedef struct {
  int32_t port;
  int64_t size;
  bool flag;
  const char *name;
  const char *namesrv;
  double ratio;
} conf_t;

static const tern_cfg_item_t items[] = {
  TERN_CFG_INT(conf_t, port, "listenPort", "10911", true, "port"),
  TERN_CFG_LONG(conf_t, size, "mappedFileSizeCommitLog", "1073741824", false, "size"),
  TERN_CFG_BOOL(conf_t, flag, "autoCreateTopicEnable", "true", true, "flag"),
  TERN_CFG_STR(conf_t, name, "brokerName", "broker-a", true, "name"),
  TERN_CFG_STR(conf_t, namesrv, "namesrvAddr", NULL, true, "name servers"),
  TERN_CFG_DOUBLE(conf_t, ratio, "diskMaxUsedSpaceRatio", "75", false, "ratio"),
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = malloc(size + 1);
  tern_props_lexer_t lx;
  tern_props_entry_t e;
  tern_buf_t scratch;
  tern_config_t cfg;
  conf_t conf;
  int rc;
  if (!text) return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  tern_log_set_level(TERN_LOG_OFF);

  tern_buf_init(&scratch, 0);
  tern_props_init(&lx, text, size);
  for (;;) {
    const uint8_t *before = lx.cur;
    rc = tern_props_next(&lx, &scratch, &e, NULL);
    if (rc <= 0) break;
    if (e.key.n + e.val.n != scratch.len) abort();
    if (e.key.n + e.val.n > size) abort(); /* decoding never lengthens the text */
    if (lx.cur <= before || lx.cur > lx.lim) abort();
  }
  tern_buf_free(&scratch);

  tern_config_init(&cfg, "fuzz");
  if (tern_config_add(&cfg, items, sizeof items / sizeof items[0], &conf)) abort();
  rc = tern_config_load_text(&cfg, "fuzz.conf", text, size);
  if (rc && cfg.errmsg[0] == '\0') abort();
  if (conf.namesrv) (void)tern_config_check_addr_list(conf.namesrv, cfg.errmsg, sizeof cfg.errmsg);
  tern_config_free(&cfg);
  free(text);
  return 0;
}
