/* Internal view of the outgoing message (msg.c) for the producer. */
#ifndef TERN_CLIENT_MSG_INT_H
#define TERN_CLIENT_MSG_INT_H

#include "runtime/buf.h"
#include "tern/client.h"

struct tern_msg {
  char *topic;
  uint8_t *body;
  size_t len;
  int32_t flag;
  struct { char *k, *v; } *props;
  size_t nprops, cap;
};
/* Sets any property, system keys included. */
int tc_msg_set(tern_msg_t *m, const char *k, const char *v);
/* Appends m's properties (and UNIQ_KEY uniq unless m has one) to b; TERN_ETOOBIG past 32767 bytes. */
int tc_msg_props(const tern_msg_t *m, const char *uniq, tern_buf_t *b);
int tc_deflate(const uint8_t *p, size_t n, int level, uint8_t **out, size_t *outn);

#endif
