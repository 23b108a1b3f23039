/* The old names of the server fixture, kept for code not yet moved to
 * runtime/test/proc_fixture.h (client-c/test/ct_env.c). New code: include
 * proc_fixture.h and call tern_fixture_* directly. */
#ifndef TERN_NAMESRV_TEST_NS_PROC_H
#define TERN_NAMESRV_TEST_NS_PROC_H

#include "proc_fixture.h"

typedef tern_fixture_proc_t ns_proc_t;

static inline const char *ns_proc_binary(void) { return tern_fixture_binary(TERN_FIXTURE_NAMESRV); }
static inline int ns_proc_start(ns_proc_t *p, const char *extra_conf) {
  return tern_fixture_namesrv_start(p, NULL, extra_conf);
}
static inline int ns_proc_start_in(ns_proc_t *p, const char *dir, const char *extra_conf) {
  return tern_fixture_namesrv_start(p, dir, extra_conf);
}
static inline int ns_proc_stop(ns_proc_t *p, int keep_dir) { return tern_fixture_stop(p, keep_dir); }
static inline int ns_proc_alive(ns_proc_t *p) { return tern_fixture_alive(p); }
static inline int ns_connect(int port) { return tern_fixture_connect(port); }

#endif
