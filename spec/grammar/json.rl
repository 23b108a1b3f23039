/* The JSON tokenizer: one Ragel machine over the whole text that validates it
 * and fills a flat, jsmn-style token array (gen/json.h). It owns the grammar
 * (including UTF-8 and \u-escape validity) and the token bookkeeping; value
 * conversion lives in gen/json.c. Nesting uses Ragel's fcall/fret with an
 * explicit, bounded state stack, so 10 000 '[' cost no C recursion.
 *
 * Lenient where fastjson peers need it (reference §5.1, §7.6): object keys may
 * be unquoted integers or identifiers ({0:"a"}, {brokerId:1}) and may be whole
 * objects ({{"topic":"t","queueId":0}:42}, flagged TERN_JSON_F_OBJECT_KEY).
 * Strict elsewhere: invalid UTF-8, lone surrogates in \u escapes, raw control
 * characters in strings, non-JSON numbers and trailing garbage are errors. */
#include "gen/json.h"

/* Ragel's goto-driven output falls through between case labels by design. */
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"

typedef struct {
  tern_json_doc_t *doc;
  const unsigned char *text;
  uint32_t max_tokens, max_depth, depth;
  uint32_t cur;  /* token whose length is still open (string, number, bare key) */
  bool in_str;   /* inside a quoted string (for error classification) */
  int rc;
  const char *reason;
  size_t pos;
  uint32_t parent[TERN_JSON_DEPTH_HARD];
} pctx_t;

static int pfail(pctx_t *c, int rc, const char *reason, size_t pos) {
  c->rc = rc;
  c->reason = reason;
  c->pos = pos;
  return rc;
}

/* Appends a token; counts it in its container (keys count in objects, values
 * in arrays). Grows the array from the arena when the caller's one is full. */
static int tok_push(pctx_t *c, uint8_t type, uint8_t flags, size_t start, bool is_key) {
  tern_json_doc_t *d = c->doc;
  tern_json_tok_t *t;
  if (d->n >= c->max_tokens) return pfail(c, TERN_ETOOBIG, "too many JSON tokens", start);
  if (d->n >= d->cap) {
    /* Extrapolate from the tokens per byte so far, so a large document
     * spills into the arena about once instead of doubling many times. */
    uint64_t est = (uint64_t)d->n * d->len / (start + 1) * 5 / 4 + 64;
    uint32_t ncap = d->cap ? d->cap * 2 : 64;
    tern_json_tok_t *nt;
    if (!d->arena) return pfail(c, TERN_ETOOBIG, "token array full", start);
    if (est > ncap) ncap = est > c->max_tokens ? c->max_tokens : (uint32_t)est;
    if (ncap > c->max_tokens || ncap < d->cap) ncap = c->max_tokens;
    nt = tern_arena_alloc(d->arena, (size_t)ncap * sizeof *nt);
    if (!nt) return pfail(c, TERN_ENOMEM, "arena limit reached growing the token array", start);
    if (d->n) memcpy(nt, d->toks, (size_t)d->n * sizeof *nt);
    d->toks = nt;
    d->cap = ncap;
  }
  t = &d->toks[d->n];
  t->type = type;
  t->flags = flags;
  t->start = (uint32_t)start;
  t->len = 0;
  t->size = 0;
  t->next = d->n + 1;
  if (c->depth) {
    tern_json_tok_t *par = &d->toks[c->parent[c->depth - 1]];
    if (is_key || par->type == TERN_JSON_ARRAY) par->size++;
  }
  c->cur = d->n;
  return (int)d->n++;
}

static int open_container(pctx_t *c, uint8_t type, uint8_t flags, size_t start, bool is_key) {
  int idx;
  if (c->depth >= c->max_depth) return pfail(c, TERN_EDEPTH, "JSON nesting too deep", start);
  idx = tok_push(c, type, flags, start, is_key);
  if (idx < 0) return idx;
  c->parent[c->depth++] = (uint32_t)idx;
  return 0;
}

static void close_container(pctx_t *c, size_t end) {
  tern_json_tok_t *t = &c->doc->toks[c->parent[--c->depth]];
  t->len = (uint32_t)(end - t->start);
  t->next = c->doc->n;
}

static int push_literal(pctx_t *c, uint8_t type, size_t start, uint32_t len) {
  int idx = tok_push(c, type, 0, start, false);
  if (idx < 0) return idx;
  c->doc->toks[idx].len = len;
  return 0;
}

static void close_open(pctx_t *c, size_t end) {
  tern_json_tok_t *t = &c->doc->toks[c->cur];
  t->len = (uint32_t)(end - t->start);
}

/* Bytes that stand for themselves inside a string: printable ASCII but '"' and '\\'. */
static inline const unsigned char *skip_plain(const unsigned char *q, const unsigned char *pe) {
  while (q < pe && *q >= 0x20 && *q < 0x80 && *q != '"' && *q != '\\') q++;
  return q;
}

%%{
  machine tern_json;
  alphtype unsigned char;

  # After an opening quote, skip the run of plain ASCII in a C loop: the
  # machine would stay in the same state for each of those bytes anyway.
  action str_val  { c.in_str = true; if (tok_push(&c, TERN_JSON_STRING, 0, POS + 1, false) < 0) fbreak; fexec skip_plain(p + 1, pe); }
  action str_key  { c.in_str = true; if (tok_push(&c, TERN_JSON_STRING, 0, POS + 1, true) < 0) fbreak; fexec skip_plain(p + 1, pe); }
  action str_esc  { c.doc->toks[c.cur].flags |= TERN_JSON_F_ESCAPED; }
  action str_end  { c.in_str = false; close_open(&c, POS); }
  action num_open { if (tok_push(&c, TERN_JSON_NUMBER, 0, POS, false) < 0) fbreak; }
  action bare_key { if (tok_push(&c, TERN_JSON_STRING, TERN_JSON_F_BARE_KEY, POS, true) < 0) fbreak; }
  action open_end { close_open(&c, POS); }
  action lit_true  { if (push_literal(&c, TERN_JSON_TRUE, POS - 3, 4) < 0) fbreak; }
  action lit_false { if (push_literal(&c, TERN_JSON_FALSE, POS - 4, 5) < 0) fbreak; }
  action lit_null  { if (push_literal(&c, TERN_JSON_NULL, POS - 3, 4) < 0) fbreak; }
  action obj_val { if (open_container(&c, TERN_JSON_OBJECT, 0, POS, false) < 0) fbreak; fcall obj; }
  action obj_key { if (open_container(&c, TERN_JSON_OBJECT, TERN_JSON_F_OBJECT_KEY, POS, true) < 0) fbreak; fcall obj; }
  action arr_val { if (open_container(&c, TERN_JSON_ARRAY, 0, POS, false) < 0) fbreak; fcall arr; }
  action close   { close_container(&c, POS + 1); fret; }

  ws = [ \t\r\n];
  cont = 0x80..0xBF;
  # Well-formed UTF-8 (no overlongs, no surrogates, nothing past U+10FFFF),
  # minus '"', '\' and the control characters that must be escaped.
  plain = 0x20..0x21 | 0x23..0x5B | 0x5D..0x7F
        | 0xC2..0xDF cont
        | 0xE0 0xA0..0xBF cont | 0xE1..0xEC cont cont | 0xED 0x80..0x9F cont | 0xEE..0xEF cont cont
        | 0xF0 0x90..0xBF cont cont | 0xF1..0xF3 cont cont cont | 0xF4 0x80..0x8F cont cont;
  hex = [0-9a-fA-F];
  # \uXXXX: a BMP scalar, or a high surrogate immediately followed by a low one.
  u_bmp = 'u' ( ( [0-9a-cA-C] | [eEfF] ) hex hex hex | [dD] [0-7] hex hex );
  u_pair = 'u' [dD] [89abAB] hex hex '\\' 'u' [dD] [c-fC-F] hex hex;
  esc = '\\' @str_esc ( ["\\/bfnrt] | u_bmp | u_pair );
  body = ( plain | esc )*;

  number = ( '-'? ( '0' | [1-9] [0-9]* ) ( '.' [0-9]+ )? ( [eE] [+\-]? [0-9]+ )? ) >num_open %open_end;
  value = '"' @str_val body '"' @str_end
        | number
        | 'true' @lit_true | 'false' @lit_false | 'null' @lit_null
        | '{' @obj_val
        | '[' @arr_val;
  bare = ( '-'? [0-9]+ | [A-Za-z_$] [A-Za-z0-9_$]* ) >bare_key %open_end;
  key = '"' @str_key body '"' @str_end | bare | '{' @obj_key;
  member = key ws* ':' ws* value;

  obj := ws* ( member ( ws* ',' ws* member )* ws* )? '}' @close;
  arr := ws* ( value ( ws* ',' ws* value )* ws* )? ']' @close;
  main := ws* value ws*;
}%%

%% write data;

/* Why the machine stopped at byte `at` (it was not a resource limit). */
static int classify(pctx_t *c, size_t at, size_t len) {
  const unsigned char *t = c->text;
  if (at >= len) return pfail(c, TERN_EPROTO, "truncated JSON text", len);
  if (c->in_str) {
    unsigned char b = t[at];
    if (b >= 0x80) return pfail(c, TERN_EUTF8, "invalid UTF-8 in JSON string", at);
    if (b < 0x20) return pfail(c, TERN_EPROTO, "control character in JSON string", at);
    /* An ASCII byte where a continuation byte was due: truncated sequence. */
    if (at > 0 && t[at - 1] >= 0x80) return pfail(c, TERN_EUTF8, "truncated UTF-8 sequence in JSON string", at);
    /* A failure inside or right after a \u escape of a surrogate: unpaired. */
    for (size_t k = at > 12 ? at - 12 : 0; k + 2 < at; k++)
      if (t[k] == '\\' && t[k + 1] == 'u' && (t[k + 2] | 0x20) == 'd' && k + 3 < len &&
          ((t[k + 3] >= '8' && t[k + 3] <= '9') || ((t[k + 3] | 0x20) >= 'a' && (t[k + 3] | 0x20) <= 'f')))
        return pfail(c, TERN_EUTF8, "unpaired surrogate in \\u escape", at);
    return pfail(c, TERN_EPROTO, "invalid escape in JSON string", at);
  }
  if (c->depth == 0 && c->doc->n > 0 && c->doc->toks[0].type != TERN_JSON_NUMBER)
    return pfail(c, TERN_EPROTO, "unexpected data after the JSON value", at);
  return pfail(c, TERN_EPROTO, "unexpected character in JSON text", at);
}

int tern_json_parse(tern_json_doc_t *doc, const tern_json_limits_t *lim, tern_err_t *err) {
  pctx_t c;
  int cs, top = 0;
  int stack[TERN_JSON_DEPTH_HARD + 1];
  const unsigned char *text = (const unsigned char *)doc->text;
  const unsigned char *p = text, *pe, *eof;
  (void)tern_json_en_main;
  (void)tern_json_en_obj;
  (void)tern_json_en_arr;

  doc->n = 0;
  if (!text && doc->len) return tern_fail(err, TERN_EINVAL, "no JSON text", NULL, 0);
  if (doc->len >= UINT32_MAX) return tern_fail(err, TERN_ETOOBIG, "JSON text over 4 GiB", NULL, 0);
  c.doc = doc;
  c.text = text;
  c.max_depth = lim && lim->max_depth ? lim->max_depth : TERN_JSON_DEFAULT_DEPTH;
  if (c.max_depth > TERN_JSON_DEPTH_HARD) c.max_depth = TERN_JSON_DEPTH_HARD;
  c.max_tokens = lim && lim->max_tokens ? lim->max_tokens : TERN_JSON_DEFAULT_TOKENS;
  c.depth = 0;
  c.cur = 0;
  c.in_str = false;
  c.rc = 0;
  c.reason = NULL;
  c.pos = 0;
  pe = eof = text + doc->len;
#define POS ((size_t)(p - text))
  %% write init;
  %% write exec;
#undef POS
  if (c.rc) return tern_fail(err, c.rc, c.reason, NULL, c.pos);
  if (cs == tern_json_error) {
    classify(&c, (size_t)(p - text), doc->len);
    return tern_fail(err, c.rc, c.reason, NULL, c.pos);
  }
  if (cs < tern_json_first_final || top != 0 || c.depth != 0 || doc->n == 0) {
    classify(&c, doc->len, doc->len);
    return tern_fail(err, c.rc, c.reason, NULL, c.pos);
  }
  /* A top-level number ends at the end of the text, where no leaving action runs. */
  if (doc->toks[0].type == TERN_JSON_NUMBER && doc->toks[0].len == 0)
    doc->toks[0].len = (uint32_t)(doc->len - doc->toks[0].start);
  return TERN_OK;
}
