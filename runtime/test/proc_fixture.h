/* The one fixture for tests (and benchmarks) that run Tern's real servers:
 * writes a config into a temp directory (listenPort=0 so the kernel picks a
 * free loopback port, store/kv paths inside the directory, logLevel=warn, then
 * the caller's lines: a key given again wins), runs mqnamesrv or mqbroker with
 * -c, and reads the port(s) from the "boot success ... listening on" line the
 * binary prints on stdout. The child dies with the thread that started it
 * (PR_SET_PDEATHSIG, SIGKILL), so a test that crashes leaves no server behind
 * holding ctest's pipes. Stop (SIGTERM, exit status), kill (SIGKILL, a crash,
 * the directory is kept), restart over the same directory and port, and remove
 * the directory. Binaries: $TERN_MQNAMESRV / $TERN_MQBROKER, else
 * $TERN_BINARY_DIR/namesrv/mqnamesrv and $TERN_BINARY_DIR/broker/mqbroker
 * (ctest sets TERN_BINARY_DIR), else relative to the working directory.
 * Library: tern_proc_fixture (runtime/test/CMakeLists.txt); plain libc. */
#ifndef TERN_TEST_PROC_FIXTURE_H
#define TERN_TEST_PROC_FIXTURE_H

#include <stddef.h>
#include <sys/types.h>

enum { TERN_FIXTURE_NAMESRV = 1, TERN_FIXTURE_BROKER = 2 };

typedef struct tern_fixture_opts {
  int kind;               /* TERN_FIXTURE_NAMESRV or TERN_FIXTURE_BROKER */
  const char *dir;        /* an existing directory (state kept from a former run), or NULL: a new temp directory */
  int ns_port;            /* broker: namesrvAddr=127.0.0.1:<ns_port>; 0: no name server line */
  int listen_port;        /* 0: the kernel picks one */
  const char *extra_conf; /* more properties lines, or NULL */
  int start_timeout_ms;   /* for the boot line; 0: 10 s (name server), 15 s (broker) */
} tern_fixture_opts_t;

typedef struct tern_fixture_proc {
  pid_t pid;          /* 0 when not running */
  int port;           /* the remoting port from the boot line */
  int vip_port;       /* broker: the second port (listenPort-2); 0 for the name server */
  char dir[128];      /* its directory: <kind>.conf, kv/ or store/ */
  int out_fd;         /* read end of its stdout, kept open so its prints never SIGPIPE */
  double start_ms;    /* fork to boot line, milliseconds */
  /* what it was started with (tern_fixture_restart) */
  int kind, ns_port, start_timeout_ms;
  char extra_conf[2048];
} tern_fixture_proc_t;

/* Starts a server as o says and waits for its boot line. 0, or -1 (the reason
 * printed on stderr; the process is gone, a new temp directory removed). */
int tern_fixture_start(tern_fixture_proc_t *p, const tern_fixture_opts_t *o);
/* mqnamesrv: listenPort=0, bindAddress=127.0.0.1, kvConfigPath=<dir>/kv/kvConfig.json, logLevel=warn, extra. */
int tern_fixture_namesrv_start(tern_fixture_proc_t *p, const char *dir, const char *extra_conf);
/* mqbroker: listenPort=0, bindAddress=brokerIP1=127.0.0.1, storePathRootDir=<dir>/store,
 * mappedFileSizeCommitLog=4194304, mappedFileSizeConsumeQueue=60000, logLevel=warn,
 * namesrvAddr when ns_port > 0, extra. */
int tern_fixture_broker_start(tern_fixture_proc_t *p, const char *dir, int ns_port, const char *extra_conf);
/* Starts a stopped or killed server again with the same kind, directory,
 * name server and extra lines, on the same port (listenPort=<port>). */
int tern_fixture_restart(tern_fixture_proc_t *p);

/* Sends sig and waits up to timeout_ms for the exit (0: 5 s for the name
 * server, 15 s for the broker); SIGKILL after that. Returns the exit status
 * (128+signal when killed by one), or -1 when it had to be SIGKILLed. */
int tern_fixture_signal(tern_fixture_proc_t *p, int sig, int timeout_ms);
/* SIGTERM with the default wait, then removes the directory unless keep_dir.
 * Returns tern_fixture_signal's status (-1 when it was not running). */
int tern_fixture_stop(tern_fixture_proc_t *p, int keep_dir);
/* SIGKILL (a crash) and reap; keeps the directory. */
void tern_fixture_kill(tern_fixture_proc_t *p);
/* True while the process has not exited. */
int tern_fixture_alive(tern_fixture_proc_t *p);
/* rm -rf the directory (and forget it). */
void tern_fixture_rmdir(tern_fixture_proc_t *p);

/* The binary of a kind (see above). */
const char *tern_fixture_binary(int kind);
/* Runs bin with argv (argv[0] included, NULL-terminated) to completion, stdout
 * and stderr into out (NUL-terminated, truncated to cap-1). The exit status
 * (128+signal when killed by one), or -1. */
int tern_fixture_run(const char *bin, const char *const *argv, char *out, size_t cap);

/* A free loopback port p with p-2 free too (the broker serves both), or -1. */
int tern_fixture_free_port_pair(void);
/* A blocking TCP connection to 127.0.0.1:port (TCP_NODELAY, close-on-exec), or -1. */
int tern_fixture_connect(int port);
/* Monotonic clock, milliseconds. */
double tern_fixture_now_ms(void);
/* VmRSS of a process in KiB, or -1. */
long tern_fixture_rss_kb(pid_t pid);
/* User + system CPU seconds a process has used (/proc/<pid>/stat), or -1. */
double tern_fixture_cpu_seconds(pid_t pid);

#endif
