/* The properties-string lexer (spec/message/properties.json, reference 6.1):
 * one call yields the next key/value pair of a "k\x01v\x02k\x01v\x02" string,
 * following Java's MessageDecoder.string2messageProperties exactly: segments
 * end at 0x02 (or at the end of the input), a segment counts only when its
 * first 0x01 has at least one byte before and after it, the value keeps any
 * further 0x01 bytes, and everything else is skipped without error.
 *
 * The input is a slice with no sentinel, so the lexer reads through YYPEEK,
 * which reports a virtual 0x02 at the end of the slice: a last segment with no
 * trailing separator then ends like any other, and nothing past the slice is
 * ever read. Positions are indices, so the virtual byte needs no pointer past
 * the end. */
#include "gen/message.h"

int tern_props_cursor_next(tern_props_cursor_t *c, tern_prop_t *out) {
  const char *s = c->s.p;
  const size_t n = c->s.n;
  size_t i = c->pos, tok, kend;
  size_t yyt1 = 0;
  /* Bytes as unsigned, past-the-end as the separator that closes a segment. */
#define PEEK() (i < n ? (unsigned char)s[i] : 0x02u)
  for (;;) {
    if (i >= n) {
      c->pos = n;
      return 0;
    }
    tok = i;
    /*!re2c
      re2c:api = custom;
      re2c:api:style = free-form;
      re2c:define:YYCTYPE = "unsigned int";
      re2c:define:YYPEEK = "PEEK()";
      re2c:define:YYSKIP = "++i;";
      re2c:define:YYSTAGP = "@@{tag} = i;";
      re2c:define:YYSTAGN = "@@{tag} = (size_t)-1;";
      re2c:define:YYSHIFTSTAG = "@@{tag} += @@{shift};";
      re2c:yyfill:enable = 0;
      re2c:sentinel = 2;
      re2c:tags = 1;
      re2c:tags:expression = "@@";
      re2c:variable:yych = "ch";
      re2c:indent:top = 2;

      key   = [^\x01\x02]+;
      value = [^\x02]+;

      key @kend "\x01" value "\x02" {
        out->key.p = s + tok;
        out->key.n = kend - tok;
        out->val.p = s + kend + 1;
        /* The closing separator is at i-1, or is the virtual one at n. */
        out->val.n = (i > n ? n : i - 1) - (kend + 1);
        c->pos = i > n ? n : i;
        return 1;
      }
      [^\x02]* "\x02" { continue; }
      *               { continue; }
    */
  }
#undef PEEK
}
