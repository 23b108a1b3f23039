/* Logging: lines below the level are dropped, each line carries a UTC
 * timestamp and the level, a file receives whole lines, and level names parse. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "runtime/log.h"
#include "tern_test.h"

TEST(log_levels_and_file_output) {
  char path[] = "/tmp/tern_log_XXXXXX", text[4096];
  int fd = mkstemp(path);
  FILE *f;
  size_t n;
  ASSERT(fd >= 0);
  close(fd);
  ASSERT_OK(tern_log_open(path));
  tern_log_set_level(TERN_LOG_INFO);
  tern_debug("hidden %d", 1);
  tern_info("shown %d", 2);
  tern_warn("warned %s", "x");
  tern_log_set_level(TERN_LOG_ERROR);
  tern_warn("dropped");
  tern_error("failed");
  tern_log_set_level(TERN_LOG_INFO);
  tern_log_close();
  f = fopen(path, "r");
  ASSERT(f != NULL);
  n = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  unlink(path);
  text[n] = '\0';
  ASSERT(strstr(text, "hidden") == NULL);
  ASSERT(strstr(text, "dropped") == NULL);
  ASSERT(strstr(text, " INFO  shown 2\n") != NULL);
  ASSERT(strstr(text, " WARN  warned x\n") != NULL);
  ASSERT(strstr(text, " ERROR failed\n") != NULL);
  /* "YYYY-MM-DD HH:MM:SS.mmm " prefix */
  ASSERT(n > 24 && text[4] == '-' && text[10] == ' ' && text[13] == ':' && text[19] == '.');
  ASSERT_EQ(tern_log_open("/nonexistent-dir/x.log"), TERN_EIO);
}

TEST(log_level_names) {
  ASSERT_EQ(tern_log_level_parse("debug"), TERN_LOG_DEBUG);
  ASSERT_EQ(tern_log_level_parse("INFO"), TERN_LOG_INFO);
  ASSERT_EQ(tern_log_level_parse("Warn"), TERN_LOG_WARN);
  ASSERT_EQ(tern_log_level_parse("warning"), TERN_LOG_WARN);
  ASSERT_EQ(tern_log_level_parse("error"), TERN_LOG_ERROR);
  ASSERT_EQ(tern_log_level_parse("off"), TERN_LOG_OFF);
  ASSERT_EQ(tern_log_level_parse("loud"), -1);
  ASSERT_EQ(tern_log_level_parse(""), -1);
}
