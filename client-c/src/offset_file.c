/* The local offset store of broadcasting consumers (Java LocalFileOffsetStore):
 * {"offsetTable":{{"brokerName":..,"queueId":..,"topic":..}:offset,...}}, the
 * JSON of Java's OffsetSerializeWrapper, read and written with the generated
 * ResetOffsetBody codec (same shape), saved through a temp file and rename. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "client_int.h"
#include "offset_file.h"

static int mkdirs(char *path) {
  char *p;
  for (p = path + 1; *p; p++)
    if (*p == '/') {
      *p = 0;
      if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        *p = '/';
        return TERN_EIO;
      }
      *p = '/';
    }
  return mkdir(path, 0755) == 0 || errno == EEXIST ? 0 : TERN_EIO;
}

int tc_offset_file_open(tc_offset_file_t *f, const char *dir, const char *instance, const char *group) {
  char d[480];
  FILE *fp;
  memset(f, 0, sizeof *f);
  if (!dir) {
    const char *home = getenv("HOME");
    snprintf(d, sizeof d, "%s/.tern_offsets/%s/%s", home ? home : "/tmp", instance ? instance : "DEFAULT", group);
  } else {
    snprintf(d, sizeof d, "%s/%s/%s", dir, instance ? instance : "DEFAULT", group);
  }
  if (mkdirs(d) != 0) return TERN_EIO;
  snprintf(f->path, sizeof f->path, "%s/offsets.json", d);
  fp = fopen(f->path, "rb");
  if (fp) {
    char *buf = NULL;
    long n;
    if (fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) > 0 && n < (64 << 20) && fseek(fp, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)n)) && fread(buf, 1, (size_t)n, fp) == (size_t)n) {
      tern_arena_t a;
      tern_body_reset_offset_body_t b;
      tern_err_t err;
      uint32_t i;
      tern_arena_init(&a, 0, NULL, 0);
      if (tern_body_reset_offset_body_decode((tern_str_t){buf, (size_t)n}, &a, &b, &err) == 0) {
        for (i = 0; i < b.offset_table.n; i++) {
          tern_mq_t mq;
          memset(&mq, 0, sizeof mq);
          snprintf(mq.topic, sizeof mq.topic, "%.*s", TERN_STR_ARG(b.offset_table.v[i].key.topic));
          snprintf(mq.broker_name, sizeof mq.broker_name, "%.*s", TERN_STR_ARG(b.offset_table.v[i].key.broker_name));
          mq.queue_id = b.offset_table.v[i].key.queue_id;
          tc_offset_file_set(f, &mq, b.offset_table.v[i].val);
        }
      } else {
        tern_warn("offset file %s: %s; starting without it", f->path, err.reason ? err.reason : "unreadable");
      }
      tern_arena_free(&a);
    }
    free(buf);
    fclose(fp);
  }
  f->dirty = false;
  return 0;
}

int tc_offset_file_get(const tc_offset_file_t *f, const tern_mq_t *mq, int64_t *off) {
  int i;
  for (i = 0; i < f->n; i++)
    if (tern_mq_cmp(&f->v[i].mq, mq) == 0) {
      *off = f->v[i].off;
      return 0;
    }
  return TERN_ENOTFOUND;
}

void tc_offset_file_set(tc_offset_file_t *f, const tern_mq_t *mq, int64_t off) {
  int i;
  for (i = 0; i < f->n; i++)
    if (tern_mq_cmp(&f->v[i].mq, mq) == 0) break;
  if (i == f->n) {
    if (f->n == f->cap) {
      int nc = f->cap ? f->cap * 2 : 16;
      void *p = realloc(f->v, sizeof *f->v * (size_t)nc);
      if (!p) return;
      f->v = p;
      f->cap = nc;
    }
    f->v[f->n++].mq = *mq;
  }
  if (f->v[i].off != off || i == f->n - 1) f->dirty = true;
  f->v[i].off = off;
}

int tc_offset_file_save(tc_offset_file_t *f) {
  tern_body_reset_offset_body_t b;
  tern_body_map_message_queue_i64_entry_t *e;
  tern_buf_t buf;
  char tmp[600];
  FILE *fp;
  int i, rc = 0;
  if (!f->dirty || !f->path[0]) return 0;
  e = calloc((size_t)f->n + 1, sizeof *e);
  if (!e) return TERN_ENOMEM;
  for (i = 0; i < f->n; i++) {
    e[i].key.topic = tern_str_from_cstr(f->v[i].mq.topic);
    e[i].key.broker_name = tern_str_from_cstr(f->v[i].mq.broker_name);
    e[i].key.queue_id = f->v[i].mq.queue_id;
    e[i].key.has = TERN_BODY_MESSAGE_QUEUE_HAS_TOPIC | TERN_BODY_MESSAGE_QUEUE_HAS_BROKER_NAME;
    e[i].val = f->v[i].off;
  }
  memset(&b, 0, sizeof b);
  b.offset_table.v = e;
  b.offset_table.n = (uint32_t)f->n;
  tern_buf_init(&buf, 0);
  tern_body_reset_offset_body_encode(&b, &buf, 0);
  snprintf(tmp, sizeof tmp, "%s.tmp", f->path);
  if (buf.err || !(fp = fopen(tmp, "wb"))) rc = TERN_EIO;
  else {
    if (fwrite(buf.p, 1, buf.len, fp) != buf.len) rc = TERN_EIO;
    if (fclose(fp) != 0) rc = TERN_EIO;
    if (rc == 0 && rename(tmp, f->path) != 0) rc = TERN_EIO;
  }
  if (rc == 0) f->dirty = false;
  tern_buf_free(&buf);
  free(e);
  return rc;
}

void tc_offset_file_close(tc_offset_file_t *f) {
  free(f->v);
  memset(f, 0, sizeof *f);
}
