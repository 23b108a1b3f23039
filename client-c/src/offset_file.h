/* Broadcasting consumers' offsets in a local file (offset_file.c). Loop thread only. */
#ifndef TERN_CLIENT_OFFSET_FILE_H
#define TERN_CLIENT_OFFSET_FILE_H

#include "tern/client.h"

typedef struct tc_offset_file {
  char path[512];
  struct { tern_mq_t mq; int64_t off; } *v;
  int n, cap;
  bool dirty;
} tc_offset_file_t;

/* dir NULL: $HOME/.tern_offsets; the file is <dir>/<instance or "DEFAULT">/<group>/offsets.json. Loads it when present. */
int tc_offset_file_open(tc_offset_file_t *f, const char *dir, const char *instance, const char *group);
int tc_offset_file_get(const tc_offset_file_t *f, const tern_mq_t *mq, int64_t *off);
void tc_offset_file_set(tc_offset_file_t *f, const tern_mq_t *mq, int64_t off);
/* Writes (temp file + rename) when changed. */
int tc_offset_file_save(tc_offset_file_t *f);
void tc_offset_file_close(tc_offset_file_t *f);

#endif
