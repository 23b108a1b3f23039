/* SQL92 message filtering (reference §11.2; spec/filter/sql92.json): a
 * compiler from RocketMQ's selector language to an expression tree in the
 * caller's arena, and an evaluator over a message's properties that follows
 * Java's expression classes (filter/.../expression/ classes) value for value:
 * three-valued logic, Java's number/string/boolean conversions, and "the
 * whole expression does not match" wherever Java would throw. The lexer is
 * generated (gen/sql92.h, gen/sql92_lex.re.c); this file has the parser and
 * the evaluator. No global state; a compiled expression is read-only and may
 * be evaluated from any thread. */
#ifndef TERN_BROKER_FILTER_SQL92_H
#define TERN_BROKER_FILTER_SQL92_H

#include "gen/sql92.h"
#include "runtime/arena.h"

/* Bounds for one compile; 0 fields take the spec's values
 * (TERN_SQL92_MAX_TEXT_BYTES, _MAX_DEPTH, _MAX_NODES). */
typedef struct tern_sql92_limits {
  uint32_t max_text_bytes;
  uint32_t max_depth;
  uint32_t max_nodes;
} tern_sql92_limits_t;

typedef struct tern_sql92_expr tern_sql92_expr_t;

/* Compiles `text` (the subscription string of an SQL92 subscription) into
 * *out, allocated from `a` (the text is copied: *out does not point into it).
 * Errors: TERN_EPROTO (lexical, syntax or type error), TERN_ETOOBIG (length or
 * node limit), TERN_EDEPTH (nesting), TERN_ENOMEM (arena limit); *err gets a
 * static reason, the byte position and, in err->field, the name of the token
 * found there. Like Java's parser, tokens after a complete expression are
 * lexed once and otherwise ignored ("a = 1 b" compiles as "a = 1"). */
int tern_sql92_compile(tern_str_t text, tern_arena_t *a, const tern_sql92_limits_t *lim, tern_sql92_expr_t **out,
                       tern_err_t *err);

/* Where the tokens Java's parser ignores begin (the offset of the first
 * token after the expression), or text.n when the whole text was used. */
size_t tern_sql92_unparsed(const tern_sql92_expr_t *e);

/* "Invalid MessageSelector. <reason>: <token> at line L, column C" (Java's
 * MQFilterException prefix) for a failed compile of `text`; returns strlen,
 * truncated to cap-1 (cap > 0). */
size_t tern_sql92_error_message(tern_str_t text, const tern_err_t *err, char *buf, size_t cap);

/* A property lookup: 0 and *val when the message has `name`, else nonzero. */
typedef int (*tern_sql92_lookup_fn)(void *ctx, tern_str_t name, tern_str_t *val);

/* The full three-valued outcome (tests and diagnostics). */
enum {
  TERN_SQL92_FALSE = 0,
  TERN_SQL92_TRUE = 1,
  TERN_SQL92_UNKNOWN = 2, /* the expression evaluated to null */
  TERN_SQL92_ERROR = 3,   /* Java would throw (a failed number conversion, ...) */
};
int tern_sql92_eval3(const tern_sql92_expr_t *e, tern_sql92_lookup_fn get, void *ctx);
/* True when the message matches: the expression evaluated to TRUE. */
bool tern_sql92_eval_cb(const tern_sql92_expr_t *e, tern_sql92_lookup_fn get, void *ctx);
/* The same over a stored properties string ("k\x01v\x02...", last duplicate wins). */
bool tern_sql92_eval(const tern_sql92_expr_t *e, tern_str_t props);

/* ExpressionType: true for "SQL92" (exact, as Java's ExpressionType.SQL92.equals). */
static inline bool tern_sql92_is_type(tern_str_t expression_type) {
  return tern_str_eq_cstr(expression_type, "SQL92");
}

#endif
