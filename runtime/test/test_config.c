/* Config files as RocketMQ users write them: the properties lexer (comments,
 * separators, continuation lines, escapes, errors with line numbers) and the
 * typed table (defaults, bad values refused naming key and line, unknown keys
 * warned, -c/-n/-p/-m handling). */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "runtime/config.h"
#include "runtime/log.h"
#include "runtime/props.h"
#include "tern_test.h"

typedef struct {
  char key[8][64], val[8][128];
  uint32_t line[8];
  int n, rc;
  uint32_t err_line;
  const char *reason;
} lexed_t;

static lexed_t lex(const char *text) {
  lexed_t r;
  tern_props_lexer_t lx;
  tern_props_entry_t e;
  tern_buf_t scratch;
  tern_err_t err = {0};
  size_t len = strlen(text);
  char *copy = malloc(len + 1);
  memcpy(copy, text, len + 1);
  memset(&r, 0, sizeof r);
  tern_buf_init(&scratch, 0);
  tern_props_init(&lx, copy, len);
  while ((r.rc = tern_props_next(&lx, &scratch, &e, &err)) == 1 && r.n < 8) {
    snprintf(r.key[r.n], sizeof r.key[0], "%.*s", (int)e.key.n, e.key.p);
    snprintf(r.val[r.n], sizeof r.val[0], "%.*s", (int)e.val.n, e.val.p);
    r.line[r.n] = e.line;
    r.n++;
  }
  if (r.rc < 0) {
    r.err_line = (uint32_t)err.pos;
    r.reason = err.reason;
  }
  tern_buf_free(&scratch);
  free(copy);
  return r;
}

TEST(props_separators_and_comments) {
  lexed_t r = lex("# comment\n! also a comment\n\n  brokerName = broker-a\nbrokerId:0\ndeleteWhen 04\n"
                  "flushDiskType=ASYNC_FLUSH  \n  key\n=empty-key\n");
  ASSERT_EQ(r.rc, 0);
  ASSERT_EQ(r.n, 6);
  ASSERT_STREQ(r.key[0], "brokerName"); ASSERT_STREQ(r.val[0], "broker-a"); ASSERT_EQ(r.line[0], 4);
  ASSERT_STREQ(r.key[1], "brokerId"); ASSERT_STREQ(r.val[1], "0"); ASSERT_EQ(r.line[1], 5);
  ASSERT_STREQ(r.key[2], "deleteWhen"); ASSERT_STREQ(r.val[2], "04");
  ASSERT_STREQ(r.val[3], "ASYNC_FLUSH  "); /* trailing blanks kept, as Java does */
  ASSERT_STREQ(r.key[4], "key"); ASSERT_STREQ(r.val[4], "");
  ASSERT_STREQ(r.key[5], ""); ASSERT_STREQ(r.val[5], "empty-key");
  ASSERT_EQ(r.line[5], 9);
}

TEST(props_separator_rules) {
  /* One '=' or ':' after blanks; a second one belongs to the value. */
  lexed_t r = lex("a = = b\nc  :  d\ne=:f\ng\t\f h\n");
  ASSERT_EQ(r.n, 4);
  ASSERT_STREQ(r.val[0], "= b");
  ASSERT_STREQ(r.val[1], "d");
  ASSERT_STREQ(r.val[2], ":f");
  ASSERT_STREQ(r.key[3], "g"); ASSERT_STREQ(r.val[3], "h");
}

TEST(props_continuation_lines) {
  lexed_t r = lex("messageDelayLevel=1s 5s \\\n    10s \\\r\n\t30s\nnext=1\\\n\nafter=2\nke\\\n  y=v\ncomment=x\n# not \\\ncontinued=3\n");
  ASSERT_EQ(r.rc, 0);
  ASSERT_EQ(r.n, 6);
  ASSERT_STREQ(r.val[0], "1s 5s 10s 30s");
  ASSERT_STREQ(r.key[1], "next"); ASSERT_STREQ(r.val[1], "1"); /* an empty line after '\' ends the entry */
  ASSERT_STREQ(r.key[2], "after"); ASSERT_EQ(r.line[2], 6);
  ASSERT_STREQ(r.key[3], "key"); ASSERT_STREQ(r.val[3], "v");
  ASSERT_STREQ(r.key[5], "continued"); ASSERT_EQ(r.line[5], 11);
}

TEST(props_escapes) {
  lexed_t r = lex("k\\ ey\\=x=a\\tb\\nc\\\\d\\:e\\q\nu=\\u0041\\u00e9\\u4e2d\\ud83d\\ude00\\ud800x\nlead=\\  sp\nend=x\\");
  ASSERT_EQ(r.rc, 0);
  ASSERT_EQ(r.n, 4);
  ASSERT_STREQ(r.key[0], "k ey=x");
  ASSERT_STREQ(r.val[0], "a\tb\nc\\d:eq");
  ASSERT_STREQ(r.val[1], "A\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80?x");
  ASSERT_STREQ(r.val[2], "  sp");
  ASSERT_STREQ(r.val[3], "x"); /* a backslash at the end of input is dropped */
}

TEST(props_crlf_and_cr_line_numbers) {
  lexed_t r = lex("a=1\r\nb=2\rc=3\n\r\nd=4");
  ASSERT_EQ(r.n, 4);
  ASSERT_EQ(r.line[1], 2);
  ASSERT_EQ(r.line[2], 3);
  ASSERT_EQ(r.line[3], 5);
  ASSERT_STREQ(r.val[3], "4");
}

TEST(props_bad_unicode_escape_names_line) {
  lexed_t r = lex("ok=1\n\nbad=\\u12x4\n");
  ASSERT_EQ(r.n, 1);
  ASSERT_EQ(r.rc, TERN_EPROTO);
  ASSERT_EQ(r.err_line, 3);
  ASSERT_STREQ(r.reason, "malformed \\uxxxx encoding");
  r = lex("bad=\\u12");
  ASSERT_EQ(r.rc, TERN_EPROTO);
}

TEST(props_empty_first_entry) {
  /* nothing decoded yet when the first entry is empty: still a valid entry */
  lexed_t r = lex("=\n:\n");
  ASSERT_EQ(r.rc, 0);
  ASSERT_EQ(r.n, 2);
  ASSERT_STREQ(r.key[0], "");
  ASSERT_STREQ(r.val[0], "");
  ASSERT_EQ(r.line[1], 2);
}

TEST(props_embedded_nul_is_data) {
  static const char text[] = "a=x\0y\nb=2";
  tern_props_lexer_t lx;
  tern_props_entry_t e;
  tern_buf_t s;
  tern_buf_init(&s, 0);
  tern_props_init(&lx, text, sizeof text - 1);
  ASSERT_EQ(tern_props_next(&lx, &s, &e, NULL), 1);
  ASSERT_EQ(e.val.n, 3);
  ASSERT_MEM_EQ(e.val.p, "x\0y", 3);
  ASSERT_EQ(tern_props_next(&lx, &s, &e, NULL), 1);
  ASSERT_STR(e.val, "2");
  ASSERT_EQ(tern_props_next(&lx, &s, &e, NULL), 0);
  tern_buf_free(&s);
}

/* ---- the typed table ---- */

typedef struct {
  int32_t listen_port;
  int64_t file_size;
  bool auto_create;
  const char *name;
  const char *namesrv;
  double ratio;
} conf_t;

static const tern_cfg_item_t items[] = {
  TERN_CFG_INT(conf_t, listen_port, "listenPort", "10911", true, "remoting port"),
  TERN_CFG_LONG(conf_t, file_size, "mappedFileSizeCommitLog", "1073741824", false, "commit log file size"),
  TERN_CFG_BOOL(conf_t, auto_create, "autoCreateTopicEnable", "true", true, "auto-create topics"),
  TERN_CFG_STR(conf_t, name, "brokerName", "broker-a", true, "broker group name"),
  TERN_CFG_STR(conf_t, namesrv, "namesrvAddr", NULL, true, "name servers"),
  TERN_CFG_DOUBLE(conf_t, ratio, "diskMaxUsedSpaceRatio", "75", false, "disk ratio"),
};

typedef struct {
  int warns;
  char last[512];
} sink_t;

static void sink(void *arg, tern_log_level_t lvl, const char *line) {
  sink_t *s = arg;
  if (lvl == TERN_LOG_WARN) s->warns++;
  snprintf(s->last, sizeof s->last, "%s", line);
}

TEST(config_defaults_and_file_values) {
  conf_t c;
  tern_config_t cfg;
  static const char text[] = "listenPort=20911\nmappedFileSizeCommitLog = 4096\nautoCreateTopicEnable=FALSE\n"
                             "brokerName=b\\u00e9\ndiskMaxUsedSpaceRatio=80.5\nnoSuchKey=1\n";
  sink_t s = {0};
  tern_config_init(&cfg, "test");
  ASSERT_OK(tern_config_add(&cfg, items, TERN_ARRAY_SIZE(items), &c));
  ASSERT_EQ(c.listen_port, 10911);
  ASSERT_EQ(c.file_size, 1073741824LL);
  ASSERT(c.auto_create);
  ASSERT_STREQ(c.name, "broker-a");
  ASSERT(c.namesrv == NULL);
  tern_log_set_sink(sink, &s);
  int rc = tern_config_load_text(&cfg, "broker.conf", text, sizeof text - 1);
  tern_log_set_sink(NULL, NULL);
  ASSERT_OK(rc);
  ASSERT_EQ(c.listen_port, 20911);
  ASSERT_EQ(c.file_size, 4096);
  ASSERT(!c.auto_create);
  ASSERT_STREQ(c.name, "b\xc3\xa9");
  ASSERT(c.ratio == 80.5);
  ASSERT_EQ(cfg.n_unknown, 1);
  ASSERT_EQ(s.warns, 1);
  ASSERT(strstr(s.last, "broker.conf:6: unknown config key 'noSuchKey'") != NULL);
  tern_config_free(&cfg);
}

TEST(config_bad_values_name_key_and_line) {
  conf_t c;
  tern_config_t cfg;
  static const char t1[] = "# broker\nbrokerName=x\n\nlistenPort=abc\n";
  static const char t2[] = "listenPort=99999999999\n";
  static const char t3[] = "autoCreateTopicEnable=yes\n";
  static const char t4[] = "listenPort=10911 \n"; /* Java's parseInt refuses the trailing blank too */
  static const char t5[] = "brokerName=x\nbad=\\uZZZZ\n";
  tern_log_set_level(TERN_LOG_OFF);
  tern_config_init(&cfg, "test");
  ASSERT_OK(tern_config_add(&cfg, items, TERN_ARRAY_SIZE(items), &c));
  ASSERT_EQ(tern_config_load_text(&cfg, "broker.conf", t1, sizeof t1 - 1), TERN_EINVAL);
  ASSERT_STREQ(cfg.errmsg, "broker.conf:4: listenPort: not an integer: 'abc'");
  ASSERT_EQ(tern_config_load_text(&cfg, "b.conf", t2, sizeof t2 - 1), TERN_ERANGE);
  ASSERT_STREQ(cfg.errmsg, "b.conf:1: listenPort: integer out of range: '99999999999'");
  ASSERT_EQ(tern_config_load_text(&cfg, "b.conf", t3, sizeof t3 - 1), TERN_EINVAL);
  ASSERT_STREQ(cfg.errmsg, "b.conf:1: autoCreateTopicEnable: not a boolean (true or false): 'yes'");
  ASSERT_EQ(tern_config_load_text(&cfg, "b.conf", t4, sizeof t4 - 1), TERN_EINVAL);
  ASSERT_EQ(tern_config_load_text(&cfg, "b.conf", t5, sizeof t5 - 1), TERN_EPROTO);
  ASSERT_STREQ(cfg.errmsg, "b.conf:2: malformed \\uxxxx encoding");
  ASSERT_EQ(c.listen_port, 10911); /* refused values leave the old value */
  tern_log_set_level(TERN_LOG_INFO);
  tern_config_free(&cfg);
}

static char *run_main(tern_config_t *cfg, int argc, char **argv, int *rc) {
  char *out = NULL;
  size_t n = 0;
  FILE *f = open_memstream(&out, &n);
  *rc = tern_config_main(cfg, argc, argv, f);
  fclose(f);
  return out;
}

TEST(config_command_line) {
  conf_t c;
  tern_config_t cfg;
  char path[] = "/tmp/tern_cfg_XXXXXX";
  int fd = mkstemp(path), rc;
  static const char text[] = "listenPort=30911\nnamesrvAddr=1.1.1.1:9876\nbrokerName=from-file\n";
  ASSERT(fd >= 0);
  ASSERT_EQ(write(fd, text, sizeof text - 1), (long)(sizeof text - 1));
  close(fd);

  tern_config_init(&cfg, "mqbroker");
  ASSERT_OK(tern_config_add(&cfg, items, TERN_ARRAY_SIZE(items), &c));
  char *a1[] = {"mqbroker", "-c", path, "-n", "127.0.0.1:9876;10.0.0.2:9876", "-p"};
  char *out = run_main(&cfg, 6, a1, &rc);
  ASSERT_EQ(rc, TERN_CONFIG_EXIT);
  ASSERT(strstr(out, "listenPort=30911\n") != NULL);
  ASSERT(strstr(out, "namesrvAddr=127.0.0.1:9876;10.0.0.2:9876\n") != NULL); /* -n beats the file */
  ASSERT(strstr(out, "mappedFileSizeCommitLog=1073741824\n") != NULL);
  ASSERT(strstr(out, "diskMaxUsedSpaceRatio=75.0\n") != NULL);
  free(out);
  tern_config_free(&cfg);

  tern_config_init(&cfg, "mqbroker");
  ASSERT_OK(tern_config_add(&cfg, items, TERN_ARRAY_SIZE(items), &c));
  char *a2[] = {"mqbroker", "-m"};
  out = run_main(&cfg, 2, a2, &rc);
  ASSERT_EQ(rc, TERN_CONFIG_EXIT);
  ASSERT(strstr(out, "listenPort=10911\n") != NULL);
  ASSERT(strstr(out, "mappedFileSizeCommitLog") == NULL); /* not important */
  free(out);

  char *a3[] = {"mqbroker", "-c", path};
  out = run_main(&cfg, 3, a3, &rc);
  ASSERT_EQ(rc, 0);
  ASSERT_EQ(c.listen_port, 30911);
  ASSERT_STREQ(c.namesrv, "1.1.1.1:9876");
  free(out);
  tern_config_free(&cfg);

  /* NAMESRV_ADDR is a default: the file and -n override it */
  setenv("NAMESRV_ADDR", "9.9.9.9:9876", 1);
  tern_config_init(&cfg, "mqbroker");
  ASSERT_OK(tern_config_add(&cfg, items, TERN_ARRAY_SIZE(items), &c));
  char *a4[] = {"mqbroker"};
  free(run_main(&cfg, 1, a4, &rc));
  ASSERT_EQ(rc, 0);
  ASSERT_STREQ(c.namesrv, "9.9.9.9:9876");
  free(run_main(&cfg, 3, a3, &rc));
  ASSERT_STREQ(c.namesrv, "1.1.1.1:9876");
  unsetenv("NAMESRV_ADDR");
  tern_config_free(&cfg);
  unlink(path);
}

TEST(config_command_line_errors) {
  conf_t c;
  tern_config_t cfg;
  int rc;
  tern_log_set_level(TERN_LOG_OFF);
  tern_config_init(&cfg, "mqbroker");
  ASSERT_OK(tern_config_add(&cfg, items, TERN_ARRAY_SIZE(items), &c));
  char *a1[] = {"mqbroker", "-n", "localhost"};
  free(run_main(&cfg, 3, a1, &rc));
  ASSERT_EQ(rc, TERN_EINVAL);
  ASSERT(strstr(cfg.errmsg, "The Name Server Address[localhost] illegal") != NULL);
  char *a2[] = {"mqbroker", "-c", "/nonexistent/broker.conf"};
  free(run_main(&cfg, 3, a2, &rc));
  ASSERT_EQ(rc, TERN_EIO);
  ASSERT(strstr(cfg.errmsg, "/nonexistent/broker.conf: cannot open") != NULL);
  char *a3[] = {"mqbroker", "-x"};
  free(run_main(&cfg, 2, a3, &rc));
  ASSERT_EQ(rc, TERN_EINVAL);
  char *a4[] = {"mqbroker", "-c"};
  free(run_main(&cfg, 2, a4, &rc));
  ASSERT_EQ(rc, TERN_EINVAL);
  char *a5[] = {"mqbroker", "-h"};
  char *out = run_main(&cfg, 2, a5, &rc);
  ASSERT_EQ(rc, TERN_CONFIG_EXIT);
  ASSERT(strstr(out, "-n,--namesrvAddr") != NULL);
  free(out);
  tern_log_set_level(TERN_LOG_INFO);
  tern_config_free(&cfg);
  ASSERT_OK(tern_config_check_addr_list("a:1;b:2;", cfg.errmsg, sizeof cfg.errmsg));
  ASSERT_EQ(tern_config_check_addr_list("a:1;b:x", cfg.errmsg, sizeof cfg.errmsg), TERN_EINVAL);
  ASSERT_EQ(tern_config_check_addr_list(":9876", cfg.errmsg, sizeof cfg.errmsg), TERN_EINVAL);
}
