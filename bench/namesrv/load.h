/* Closed-loop request load over N loopback connections (one request in
 * flight per connection, one thread, poll()), with per-request latency
 * samples, plus a plain frame echo server to compare against: both sides of
 * the name-server benchmark. */
#ifndef TERN_BENCH_NAMESRV_LOAD_H
#define TERN_BENCH_NAMESRV_LOAD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct load_result {
  double seconds;
  uint64_t requests;
  double rps;
  double p50_us, p99_us;
  uint64_t errors; /* replies whose frame could not be read */
} load_result_t;

/* Sends `req` (one complete frame) on each of nconn connections to port,
 * waits for one whole reply frame, repeats for `seconds`. */
int load_run(int port, int nconn, const uint8_t *req, size_t req_len, double seconds, load_result_t *out);

/* Forks a single-threaded epoll echo server on a free loopback port: for every
 * complete frame it receives it writes back `reply_len` bytes of a valid
 * frame. Returns the child's pid and sets *port, or -1. */
pid_t echo_server_start(size_t reply_len, int *port);

#endif
