/* The .vec reader for the message-model tests: small, strict about its own
 * format (a malformed vector file aborts the test binary rather than letting a
 * case pass vacuously). */
#include "test_message_vec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tern_test.h"

static void die(const char *what, const char *detail) {
  fprintf(stderr, "vector file error: %s: %s\n", what, detail);
  abort();
}

static char *trim(char *s) {
  while (*s == ' ' || *s == '\t') s++;
  size_t n = strlen(s);
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r')) s[--n] = '\0';
  return s;
}

size_t vec_load(const char *file, vec_case_t **cases) {
  char path[1024];
  snprintf(path, sizeof path, "%s/spec/vectors/message/%s", tern_test_srcdir(), file);
  FILE *f = fopen(path, "r");
  if (!f) die("cannot open", path);
  size_t n = 0, cap = 0;
  vec_case_t *cs = NULL;
  char line[8192];
  char **last = NULL;
  while (fgets(line, sizeof line, f)) {
    if (strlen(line) == sizeof line - 1) die("line too long", path);
    if ((line[0] == ' ' || line[0] == '\t') && last) {
      char *t = trim(line);
      size_t a = strlen(*last), b = strlen(t);
      char *nv = realloc(*last, a + b + 2);
      if (!nv) die("out of memory", path);
      nv[a] = ' ';
      memcpy(nv + a + 1, t, b + 1);
      *last = nv;
      continue;
    }
    char *t = trim(line);
    if (*t == '\0' || *t == '#') {
      last = NULL;
      continue;
    }
    if (*t == '[') {
      if (n == cap) {
        cap = cap ? cap * 2 : 16;
        cs = realloc(cs, cap * sizeof *cs);
        if (!cs) die("out of memory", path);
      }
      vec_case_t *c = &cs[n++];
      memset(c, 0, sizeof *c);
      if (sscanf(t, "[%31s %63[^]]]", c->kind, c->name) != 2) die("bad case header", t);
      last = NULL;
      continue;
    }
    if (n == 0) die("value before any case", t);
    char *eq = strchr(t, '=');
    if (!eq) die("line without '='", t);
    *eq = '\0';
    vec_case_t *c = &cs[n - 1];
    if (c->n == VEC_MAX_KV) die("too many values in case", c->name);
    snprintf(c->kv[c->n].key, sizeof c->kv[c->n].key, "%s", trim(t));
    c->kv[c->n].val = strdup(trim(eq + 1));
    if (!c->kv[c->n].val) die("out of memory", path);
    last = &c->kv[c->n].val;
    c->n++;
  }
  fclose(f);
  if (n == 0) die("no cases", path);
  *cases = cs;
  return n;
}

void vec_free(vec_case_t *cases, size_t n) {
  for (size_t i = 0; i < n; i++)
    for (unsigned j = 0; j < cases[i].n; j++) free(cases[i].kv[j].val);
  free(cases);
}

const char *vec_get(const vec_case_t *c, const char *key, unsigned i) {
  for (unsigned j = 0; j < c->n; j++)
    if (strcmp(c->kv[j].key, key) == 0 && i-- == 0) return c->kv[j].val;
  return NULL;
}

static int hexdig(int ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

long vec_tok(const char *val, unsigned idx, uint8_t *out, size_t cap) {
  const char *p = val;
  for (unsigned k = 0;; k++) {
    while (*p == ' ') p++;
    if (*p == '\0') return -1;
    size_t n = 0;
    if (*p == '"') {
      p++;
      while (*p && *p != '"') {
        int ch = (unsigned char)*p++;
        if (ch == '\\') {
          if (*p == 'x') {
            int h = hexdig(p[1]), l = hexdig(p[2]);
            if (h < 0 || l < 0) die("bad \\x escape", val);
            ch = h << 4 | l;
            p += 3;
          } else if (*p == '\\' || *p == '"') {
            ch = *p++;
          } else {
            die("bad escape", val);
          }
        }
        if (k == idx) {
          if (n == cap) die("token larger than buffer", val);
          out[n] = (uint8_t)ch;
        }
        n++;
      }
      if (*p != '"') die("unterminated string", val);
      p++;
    } else {
      while (*p && *p != ' ') {
        if (k == idx) {
          if (n == cap) die("token larger than buffer", val);
          out[n] = (uint8_t)*p;
        }
        n++;
        p++;
      }
    }
    if (k == idx) return (long)n;
  }
}

int64_t vec_int(const char *val, unsigned idx) {
  char buf[32];
  long n = vec_tok(val, idx, (uint8_t *)buf, sizeof buf - 1);
  if (n <= 0) die("missing number", val);
  buf[n] = '\0';
  char *end;
  long long v = strtoll(buf, &end, 10);
  if (*end) die("bad number", buf);
  return (int64_t)v;
}

size_t vec_hex(const char *val, uint8_t *out, size_t cap) {
  size_t n = 0;
  int hi = -1;
  for (const char *p = val; *p; p++) {
    if (*p == ' ') continue;
    int d = hexdig((unsigned char)*p);
    if (d < 0) die("bad hex digit", val);
    if (hi < 0) {
      hi = d;
    } else {
      if (n == cap) die("hex larger than buffer", val);
      out[n++] = (uint8_t)(hi << 4 | d);
      hi = -1;
    }
  }
  if (hi >= 0) die("odd number of hex digits", val);
  return n;
}
