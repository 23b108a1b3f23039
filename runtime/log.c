/* Logging: formats a whole line (UTC timestamp, level, text) into a stack
 * buffer and hands it to the file with one fwrite under a mutex, so lines from
 * different threads never interleave. Long lines are truncated, not split. */
#include "runtime/log.h"

#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

volatile int tern_log__level = TERN_LOG_INFO;
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static FILE *log_file; /* NULL: stderr */
static tern_log_sink_fn log_sink;
static void *log_sink_arg;

static const char *const level_names[] = {"DEBUG", "INFO", "WARN", "ERROR", "OFF"};

void tern_log_set_level(tern_log_level_t level) { tern_log__level = (int)level; }
tern_log_level_t tern_log_get_level(void) { return (tern_log_level_t)tern_log__level; }

int tern_log_level_parse(const char *name) {
  if (!name) return -1;
  for (int i = 0; i <= TERN_LOG_OFF; i++) {
    const char *a = name, *b = level_names[i];
    while (*a && *b && toupper((unsigned char)*a) == *b) a++, b++;
    if (!*a && !*b) return i;
  }
  if (strcasecmp(name, "warning") == 0) return TERN_LOG_WARN;
  return -1;
}

int tern_log_open(const char *path) {
  FILE *f = NULL;
  if (path) {
    f = fopen(path, "a");
    if (!f) return TERN_EIO;
  }
  pthread_mutex_lock(&log_mu);
  if (log_file) fclose(log_file);
  log_file = f;
  pthread_mutex_unlock(&log_mu);
  return 0;
}

void tern_log_close(void) { (void)tern_log_open(NULL); }

void tern_log_set_sink(tern_log_sink_fn fn, void *arg) {
  pthread_mutex_lock(&log_mu);
  log_sink = fn;
  log_sink_arg = arg;
  pthread_mutex_unlock(&log_mu);
}

void tern_log(tern_log_level_t level, const char *fmt, ...) {
  char line[2048];
  struct timeval tv;
  struct tm tm;
  size_t n;
  int k;
  va_list ap;
  if ((int)level < tern_log__level || level >= TERN_LOG_OFF) return;
  gettimeofday(&tv, NULL);
  gmtime_r(&tv.tv_sec, &tm);
  n = strftime(line, sizeof line, "%Y-%m-%d %H:%M:%S", &tm);
  k = snprintf(line + n, sizeof line - n, ".%03d %-5s ", (int)(tv.tv_usec / 1000), level_names[level]);
  if (k > 0) n += (size_t)k;
  va_start(ap, fmt);
  k = vsnprintf(line + n, sizeof line - n, fmt, ap);
  va_end(ap);
  if (k > 0) n = n + (size_t)k < sizeof line - 1 ? n + (size_t)k : sizeof line - 2;
  pthread_mutex_lock(&log_mu);
  if (log_sink) {
    line[n] = '\0';
    log_sink(log_sink_arg, level, line);
  } else {
    FILE *f = log_file ? log_file : stderr;
    line[n++] = '\n';
    fwrite(line, 1, n, f);
    fflush(f);
  }
  pthread_mutex_unlock(&log_mu);
}
