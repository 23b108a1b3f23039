/* The Java-properties lexer (java.util.Properties.load rules) behind config
 * files. Its implementation is generated: spec/grammar/config.re, compiled by
 * re2c into gen/config.re.c (codegen module `config`). It yields one
 * key/value entry per logical line with escapes decoded. */
#ifndef TERN_RUNTIME_PROPS_H
#define TERN_RUNTIME_PROPS_H

#include "runtime/buf.h"

typedef struct tern_props_lexer {
  const uint8_t *cur; /* next byte to scan */
  const uint8_t *lim; /* end of input; *lim must be a NUL sentinel */
  uint32_t line;      /* 1-based natural line of `cur` */
} tern_props_lexer_t;

typedef struct tern_props_entry {
  tern_str_t key, val; /* decoded text, in the caller's scratch buffer */
  uint32_t line;       /* natural line where the entry starts */
} tern_props_entry_t;

/* text[len] must be '\0' (a sentinel; NULs inside the text are ordinary bytes). */
void tern_props_init(tern_props_lexer_t *lx, const char *text, size_t len);
/* 1: an entry (key/val valid until the next call that touches `scratch`);
 * 0: end of input; <0: error (malformed \uXXXX, scratch over its limit), with
 * err->pos holding the line number of the error. */
int tern_props_next(tern_props_lexer_t *lx, tern_buf_t *scratch, tern_props_entry_t *e, tern_err_t *err);

#endif
