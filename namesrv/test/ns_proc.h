/* Starts the real mqnamesrv binary for protocol tests and the benchmark: writes
 * a temp config (listenPort=0 so the kernel picks a free port, kvConfigPath in
 * a temp directory, plus caller lines), runs the binary, and reads the port
 * from the "listening on" line it prints on stdout. */
#ifndef TERN_NAMESRV_TEST_NS_PROC_H
#define TERN_NAMESRV_TEST_NS_PROC_H

#include <stdint.h>
#include <sys/types.h>

typedef struct ns_proc {
  pid_t pid;
  int port;
  char dir[128];      /* temp directory: namesrv.conf, kvConfig.json */
  double start_ms;    /* exec to "listening" line, milliseconds */
  int out_fd;         /* read end of its stdout, kept open so prints never SIGPIPE */
} ns_proc_t;

/* The binary: $TERN_BINARY_DIR/namesrv/mqnamesrv (set by ctest), or the path
 * in $TERN_MQNAMESRV. */
const char *ns_proc_binary(void);
/* extra_conf: more properties lines (may be NULL). Returns 0 or -1 (printed). */
int ns_proc_start(ns_proc_t *p, const char *extra_conf);
/* The same in an existing directory (a restart over kept state), or a new
 * temp directory when dir is NULL. */
int ns_proc_start_in(ns_proc_t *p, const char *dir, const char *extra_conf);
/* SIGTERM, wait; returns the exit status (or -1). Removes the temp dir when
 * keep_dir is 0. */
int ns_proc_stop(ns_proc_t *p, int keep_dir);
/* True while the process has not exited. */
int ns_proc_alive(ns_proc_t *p);
/* A blocking TCP connection to 127.0.0.1:port, or -1. */
int ns_connect(int port);

#endif
