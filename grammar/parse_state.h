/*
 * State shared by the reentrant lexer and parser of one source file.
 */
#ifndef MOOSEC_PARSE_STATE_H
#define MOOSEC_PARSE_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ast.h"
#include "diag.h"

typedef struct moosec_yyltype {
    uint32_t begin, end;
} moosec_yyltype;

#ifndef YYLTYPE
#define YYLTYPE moosec_yyltype
#endif

/* A rule's location spans its first to its last symbol; empty rules sit at the previous end. */
#define YYLLOC_DEFAULT(Cur, Rhs, N)                                            \
    do {                                                                       \
        if (N) {                                                               \
            (Cur).begin = YYRHSLOC(Rhs, 1).begin;                              \
            (Cur).end = YYRHSLOC(Rhs, N).end;                                  \
        } else {                                                               \
            (Cur).begin = (Cur).end = YYRHSLOC(Rhs, 0).end;                    \
        }                                                                      \
    } while (0)

typedef struct moosec_parse_state {
    const moosec_source *src;
    moosec_schema *schema;
    moosec_arena *arena; /* the schema's */
    moosec_diag *diag;
    size_t offset;          /* lexer position, in bytes */
    uint32_t comment_begin; /* of an open block comment */
    unsigned syntax_errors;
    void *scanner;
    /*
     * The last error the lexer reported: a syntax error at the token right
     * after it is its echo (the lexer already skipped or replaced the bad
     * text), so the parser keeps quiet about it.
     */
    bool lex_error;
    uint32_t lex_error_begin, lex_error_end;
    /* Offsets of the open '{', so "end of file" can say which one is unclosed. */
    uint32_t open_braces[64];
    size_t brace_depth; /* may exceed the array: only the first 64 are kept */
    /* The last declaration keyword seen: inside braces it hints at a missing '}'. */
    moosec_yyltype last_keyword;
} moosec_parse_state;

/* Reports a lexical error at LOC and remembers it (see lex_error above). */
#define moosec_lex_error(ST, LOC, ...)                                         \
    do {                                                                       \
        moosec_loc lex_error_loc__ = (LOC);                                    \
        (ST)->lex_error = true;                                                \
        (ST)->lex_error_begin = lex_error_loc__.begin;                         \
        (ST)->lex_error_end = lex_error_loc__.end;                             \
        moosec_error((ST)->diag, lex_error_loc__, __VA_ARGS__);                \
    } while (0)

union MOOSEC_YYSTYPE;

/* Literal helpers for the lexer (literals.c): they fill the semantic value and return the token. */
int moosec_lex_int(moosec_parse_state *st, union MOOSEC_YYSTYPE *val, moosec_yyltype loc,
                   const char *text, size_t len);
int moosec_lex_float(moosec_parse_state *st, union MOOSEC_YYSTYPE *val, moosec_yyltype loc,
                     const char *text, size_t len);
int moosec_lex_duration(moosec_parse_state *st, union MOOSEC_YYSTYPE *val, moosec_yyltype loc,
                        const char *text, size_t len);
/* LEN 0 means an unterminated literal already reported: yields an empty string. */
int moosec_lex_string(moosec_parse_state *st, union MOOSEC_YYSTYPE *val, moosec_yyltype loc,
                      const char *text, size_t len);

#endif
