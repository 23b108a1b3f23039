/* Java-properties lexer for config files (java.util.Properties.load rules).
 * Built by codegen/gen_config.py:
 *   re2c --no-generation-date --no-version -W -o gen/config.re.c spec/grammar/config.re
 * API in runtime/props.h. The input is scanned in place with a NUL sentinel
 * and bound checks (re2c:eof), so NUL bytes inside a file are ordinary bytes.
 *
 * Rules, as Java applies them:
 *  - natural lines end at \n, \r or \r\n; a line whose first non-blank byte is
 *    '#' or '!' is a comment; blank means space, tab or form feed;
 *  - an odd backslash before the line end joins the next line, whose leading
 *    blanks are dropped (this happens inside keys and values alike; a comment
 *    line is never continued);
 *  - the key ends at the first unescaped '=', ':' or blank; then blanks, at most
 *    one '=' or ':' and more blanks separate it from the value; trailing blanks
 *    of the value are kept;
 *  - escapes: \t \n \r \f, \uXXXX (UTF-16 unit, written as UTF-8; a lone
 *    surrogate becomes '?' as Java's String.getBytes does), backslash + any
 *    other byte is that byte; a backslash at the very end of input is dropped.
 * Bytes >= 0x80 pass through unchanged (Java reads ISO-8859-1; Tern keeps the
 * file's bytes, so UTF-8 files keep their text). */
#include "runtime/props.h"

typedef struct dec {
  tern_buf_t *b;
  uint32_t hi; /* pending high surrogate from a \u escape, 0 if none */
} dec_t;

static void flush_hi(dec_t *d) {
  if (d->hi) tern_buf_put_u8(d->b, '?');
  d->hi = 0;
}

static void put(dec_t *d, const uint8_t *p, size_t n) {
  flush_hi(d);
  tern_buf_append(d->b, p, n);
}

static void put_byte(dec_t *d, uint8_t c) { put(d, &c, 1); }

static void put_cp(tern_buf_t *b, uint32_t cp) {
  uint8_t t[4];
  size_t n;
  if (cp < 0x80) { t[0] = (uint8_t)cp; n = 1; }
  else if (cp < 0x800) { t[0] = (uint8_t)(0xC0 | (cp >> 6)); t[1] = (uint8_t)(0x80 | (cp & 0x3F)); n = 2; }
  else if (cp < 0x10000) {
    t[0] = (uint8_t)(0xE0 | (cp >> 12)); t[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    t[2] = (uint8_t)(0x80 | (cp & 0x3F)); n = 3;
  } else {
    t[0] = (uint8_t)(0xF0 | (cp >> 18)); t[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    t[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F)); t[3] = (uint8_t)(0x80 | (cp & 0x3F)); n = 4;
  }
  tern_buf_append(b, t, n);
}

static unsigned hexval(uint8_t c) {
  if (c >= '0' && c <= '9') return (unsigned)(c - '0');
  return (unsigned)((c | 0x20) - 'a' + 10);
}

/* p points at the four hex digits of a \uXXXX escape. */
static void put_u(dec_t *d, const uint8_t *p) {
  uint32_t u = (hexval(p[0]) << 12) | (hexval(p[1]) << 8) | (hexval(p[2]) << 4) | hexval(p[3]);
  if (u >= 0xDC00 && u <= 0xDFFF && d->hi) {
    put_cp(d->b, 0x10000 + ((d->hi - 0xD800) << 10) + (u - 0xDC00));
    d->hi = 0;
    return;
  }
  flush_hi(d);
  if (u >= 0xD800 && u <= 0xDBFF) d->hi = u;
  else if (u >= 0xDC00 && u <= 0xDFFF) tern_buf_put_u8(d->b, '?');
  else put_cp(d->b, u);
}

void tern_props_init(tern_props_lexer_t *lx, const char *text, size_t len) {
  lx->cur = (const uint8_t *)text;
  lx->lim = (const uint8_t *)text + len;
  lx->line = 1;
}

/*!rules:re2c:common
  re2c:define:YYCTYPE = uint8_t;
  re2c:yyfill:enable = 0;
  re2c:eof = 0;

  ws  = [ \t\f];
  eol = "\r\n" | "\r" | "\n";
*/

/*!rules:re2c:escapes
  "\\u" [0-9a-fA-F]{4} { put_u(&d, tok + 2); continue; }
  "\\u"        { return tern_fail(err, TERN_EPROTO, "malformed \\uxxxx encoding", NULL, lx->line); }
  "\\t"        { put_byte(&d, '\t'); continue; }
  "\\n"        { put_byte(&d, '\n'); continue; }
  "\\r"        { put_byte(&d, '\r'); continue; }
  "\\f"        { put_byte(&d, '\f'); continue; }
  "\\" ("\r\n" | "\r" | "\n") [ \t\f]* { lx->line++; continue; }
  "\\" [^]     { put_byte(&d, tok[1]); continue; }
  "\\"         { continue; }
*/

int tern_props_next(tern_props_lexer_t *lx, tern_buf_t *scratch, tern_props_entry_t *e, tern_err_t *err) {
  const uint8_t *YYCURSOR = lx->cur, *YYLIMIT = lx->lim, *YYMARKER = YYCURSOR, *tok;
  dec_t d = {scratch, 0};
  size_t key_len = 0;
  (void)YYMARKER;
  tern_buf_reset(scratch);

  /* Blank lines and comments, up to the first byte of a key. */
  for (;;) {
    tok = YYCURSOR;
    /*!re2c
      !use:common;
      ws+               { continue; }
      eol               { lx->line++; continue; }
      [#!] [^\r\n]*     { continue; }
      $                 { lx->cur = YYCURSOR; return 0; }
      *                 { YYCURSOR = tok; break; }
    */
  }
  e->line = lx->line;

  /* The key, up to an unescaped separator or blank. */
  for (;;) {
    tok = YYCURSOR;
    /*!re2c
      !use:common;
      !use:escapes;
      [^=: \t\f\r\n\\]+ { put(&d, tok, (size_t)(YYCURSOR - tok)); continue; }
      ws* [=:]          { flush_hi(&d); key_len = scratch->len; goto sep2; }
      ws                { flush_hi(&d); key_len = scratch->len; goto sep1; }
      eol               { flush_hi(&d); key_len = scratch->len; lx->line++; goto done; }
      $                 { flush_hi(&d); key_len = scratch->len; goto done; }
    */
  }

sep1: /* after a blank: more blanks, then at most one '=' or ':' */
  for (;;) {
    tok = YYCURSOR;
    /*!re2c
      !use:common;
      ws+               { continue; }
      "\\" eol ws*      { lx->line++; continue; }
      [=:]              { goto sep2; }
      eol               { lx->line++; goto done; }
      $                 { goto done; }
      *                 { YYCURSOR = tok; goto value; }
    */
  }

sep2: /* after the separator: blanks before the value are dropped */
  for (;;) {
    tok = YYCURSOR;
    /*!re2c
      !use:common;
      ws+               { continue; }
      "\\" eol ws*      { lx->line++; continue; }
      eol               { lx->line++; goto done; }
      $                 { goto done; }
      *                 { YYCURSOR = tok; goto value; }
    */
  }

value:
  for (;;) {
    tok = YYCURSOR;
    /*!re2c
      !use:common;
      !use:escapes;
      [^\r\n\\]+        { put(&d, tok, (size_t)(YYCURSOR - tok)); continue; }
      eol               { lx->line++; goto done; }
      $                 { goto done; }
    */
  }

done:
  flush_hi(&d);
  lx->cur = YYCURSOR;
  if (scratch->err)
    return tern_fail(err, scratch->err, "entry longer than the scratch buffer allows", NULL, e->line);
  e->key.n = key_len;
  e->val.n = scratch->len - key_len;
  if (scratch->p) {
    e->key.p = (const char *)scratch->p;
    e->val.p = (const char *)scratch->p + key_len;
  } else { /* nothing decoded yet: the buffer was never allocated */
    e->key.p = e->val.p = "";
  }
  return 1;
}
