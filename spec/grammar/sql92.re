/* The SQL92 selector lexer (spec/filter/sql92.json, reference 11.2), after
 * the token section of RocketMQ's SelectorParser.jj: one call returns the
 * next token at or after `pos`, skipping whitespace and comments. Keywords
 * and identifiers are ASCII, keywords case-insensitive (re2c's '...' strings);
 * the longest match wins and, at equal length, a keyword beats an identifier,
 * as JavaCC decides.
 *
 * The text is a slice with no terminator. YYPEEK reads a virtual 0x00 at the
 * end, which is the sentinel; no rule can contain a NUL byte, so a NUL inside
 * the slice ends the token before it and then lexes as an ERROR token (Java
 * would accept one inside a string literal or a comment; subscriptions never
 * carry one). Nothing past the slice is ever read. */
#include "gen/sql92.h"

int tern_sql92_lex(tern_str_t text, size_t pos, tern_sql92_tok_t *tok) {
  const char *s = text.p;
  const size_t n = text.n;
  size_t i = pos, mark = pos, start;
  int kind;
#define PEEK() (i < n ? (unsigned char)s[i] : 0x00u)
  for (;;) {
    start = i;
    /*!re2c
      re2c:api = custom;
      re2c:api:style = free-form;
      re2c:define:YYCTYPE = "unsigned int";
      re2c:define:YYPEEK = "PEEK()";
      re2c:define:YYSKIP = "++i;";
      re2c:define:YYBACKUP = "mark = i;";
      re2c:define:YYRESTORE = "i = mark;";
      re2c:yyfill:enable = 0;
      re2c:sentinel = 0;
      re2c:variable:yych = "ch";
      re2c:indent:top = 2;

      exp = [eE] [+-]? [0-9]+;

      [\x00] {
        if (start >= n) { kind = TERN_SQL92_T_EOF; i = start; goto done; }
        kind = TERN_SQL92_T_ERROR; goto done;
      }
      [ \t\n\r\f]+                                    { continue; }
      "--" [^\n\r\x00]* ("\n" | "\r" | "\r\n")        { continue; }
      "/*" [^*\x00]* "*" ("*" | [^*/\x00] [^*\x00]* "*")* "/" { continue; }

      'not'        { kind = TERN_SQL92_T_NOT; goto done; }
      'and'        { kind = TERN_SQL92_T_AND; goto done; }
      'or'         { kind = TERN_SQL92_T_OR; goto done; }
      'between'    { kind = TERN_SQL92_T_BETWEEN; goto done; }
      'in'         { kind = TERN_SQL92_T_IN; goto done; }
      'true'       { kind = TERN_SQL92_T_TRUE; goto done; }
      'false'      { kind = TERN_SQL92_T_FALSE; goto done; }
      'null'       { kind = TERN_SQL92_T_NULL; goto done; }
      'is'         { kind = TERN_SQL92_T_IS; goto done; }
      'contains'   { kind = TERN_SQL92_T_CONTAINS; goto done; }
      'startswith' { kind = TERN_SQL92_T_STARTSWITH; goto done; }
      'endswith'   { kind = TERN_SQL92_T_ENDSWITH; goto done; }

      "0" | [1-9] [0-9]* [lL]?                        { kind = TERN_SQL92_T_DECIMAL; goto done; }
      [0-9]+ "." [0-9]* exp? | "." [0-9]+ exp? | [0-9]+ exp { kind = TERN_SQL92_T_FLOAT; goto done; }
      "'" ("''" | [^'\x00])* "'"                      { kind = TERN_SQL92_T_STRING; goto done; }
      [a-zA-Z_$] [a-zA-Z0-9_$]*                       { kind = TERN_SQL92_T_ID; goto done; }

      "("  { kind = TERN_SQL92_T_LPAREN; goto done; }
      ")"  { kind = TERN_SQL92_T_RPAREN; goto done; }
      ","  { kind = TERN_SQL92_T_COMMA; goto done; }
      "="  { kind = TERN_SQL92_T_EQ; goto done; }
      "<>" { kind = TERN_SQL92_T_NE; goto done; }
      ">"  { kind = TERN_SQL92_T_GT; goto done; }
      ">=" { kind = TERN_SQL92_T_GE; goto done; }
      "<"  { kind = TERN_SQL92_T_LT; goto done; }
      "<=" { kind = TERN_SQL92_T_LE; goto done; }
      "+"  { kind = TERN_SQL92_T_PLUS; goto done; }
      "-"  { kind = TERN_SQL92_T_MINUS; goto done; }

      * { kind = TERN_SQL92_T_ERROR; goto done; }
    */
  }
done:
#undef PEEK
  /* A token never ends past the slice: the sentinel is not part of any rule. */
  tok->kind = kind;
  tok->pos = start;
  tok->len = (i > n ? n : i) - start;
  return kind;
}
