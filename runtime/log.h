/* Levelled logging for every Tern binary: one line per call, written with a
 * single write to stderr or to a file, safe to call from any thread. Tests can
 * divert lines to a sink to assert on warnings. */
#ifndef TERN_RUNTIME_LOG_H
#define TERN_RUNTIME_LOG_H

#include "runtime/base.h"

typedef enum tern_log_level {
  TERN_LOG_DEBUG = 0,
  TERN_LOG_INFO,
  TERN_LOG_WARN,
  TERN_LOG_ERROR,
  TERN_LOG_OFF
} tern_log_level_t;

/* Lines below `level` are dropped (default TERN_LOG_INFO). */
void tern_log_set_level(tern_log_level_t level);
tern_log_level_t tern_log_get_level(void);
/* "debug", "info", "warn", "error", "off" (case-insensitive) or -1. */
int tern_log_level_parse(const char *name);
/* Appends to `path` (NULL: back to stderr). Returns 0 or TERN_EIO. */
int tern_log_open(const char *path);
void tern_log_close(void);

/* A sink receives each formatted line (level, text without newline) instead of
 * the file; NULL restores the file. For tests and embedding. */
typedef void (*tern_log_sink_fn)(void *arg, tern_log_level_t level, const char *line);
void tern_log_set_sink(tern_log_sink_fn fn, void *arg);

void tern_log(tern_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline bool tern_log_enabled(tern_log_level_t level);

#define tern_debug(...) do { if (tern_log_enabled(TERN_LOG_DEBUG)) tern_log(TERN_LOG_DEBUG, __VA_ARGS__); } while (0)
#define tern_info(...) tern_log(TERN_LOG_INFO, __VA_ARGS__)
#define tern_warn(...) tern_log(TERN_LOG_WARN, __VA_ARGS__)
#define tern_error(...) tern_log(TERN_LOG_ERROR, __VA_ARGS__)

extern volatile int tern_log__level;
static inline bool tern_log_enabled(tern_log_level_t level) { return (int)level >= tern_log__level; }

#endif
