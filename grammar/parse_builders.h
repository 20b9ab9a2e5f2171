/*
 * What the grammar's actions call: they build AST nodes in the schema's arena
 * and report the errors a grammar rule can see (a bad Decimal argument, an
 * unknown generic). Names are resolved later, in sema.c.
 */
#ifndef MOOSEC_PARSE_BUILDERS_H
#define MOOSEC_PARSE_BUILDERS_H

#include "parse_state.h"

typedef struct moosec_value_list { moosec_value **items; size_t len, cap; } moosec_value_list;
typedef struct moosec_prop_list { moosec_prop **items; size_t len, cap; } moosec_prop_list;
typedef struct moosec_attr_list { moosec_attr **items; size_t len, cap; } moosec_attr_list;
typedef struct moosec_field_list { moosec_field **items; size_t len, cap; } moosec_field_list;
typedef struct moosec_ref_list { moosec_stream_ref *items; size_t len, cap; } moosec_ref_list;

moosec_loc moosec_parse_loc(const moosec_parse_state *st, moosec_yyltype loc);
moosec_yyltype moosec_parse_span(moosec_yyltype a, moosec_yyltype b);

typedef enum moosec_token_show {
    MOOSEC_SHOW_ALIAS,   /* "unexpected '{'" */
    MOOSEC_SHOW_QUOTED,  /* "unexpected identifier 'foo'" */
    MOOSEC_SHOW_LITERAL, /* "unexpected string literal \"x\"" */
} moosec_token_show;

/* Writes "unexpected identifier 'foo'" (or the token's alias) into BUF; returns the length. */
size_t moosec_parse_describe_token(const moosec_parse_state *st, moosec_token_show show,
                                   const char *alias, moosec_yyltype loc, char *buf,
                                   size_t size);

/* A syntax error at LOC right after a lexical error is its echo: nothing between but blanks. */
bool moosec_parse_echoes_lex_error(const moosec_parse_state *st, moosec_yyltype loc);

/*
 * After a syntax error at LOC inside braces: when LOC follows a declaration
 * keyword that starts its line, the '{' before it was probably left open, and
 * a note says which.
 */
void moosec_parse_note_unclosed_brace(const moosec_parse_state *st, moosec_yyltype loc);

moosec_value_list *moosec_parse_value_list(moosec_parse_state *st);
void moosec_parse_value_list_push(moosec_parse_state *st, moosec_value_list *l, moosec_value *v);
moosec_prop_list *moosec_parse_prop_list(moosec_parse_state *st);
void moosec_parse_prop_list_push(moosec_parse_state *st, moosec_prop_list *l, moosec_prop *p);
moosec_attr_list *moosec_parse_attr_list(moosec_parse_state *st);
void moosec_parse_attr_list_push(moosec_parse_state *st, moosec_attr_list *l, moosec_attr *a);
moosec_field_list *moosec_parse_field_list(moosec_parse_state *st);
void moosec_parse_field_list_push(moosec_parse_state *st, moosec_field_list *l, moosec_field *f);
moosec_ref_list *moosec_parse_ref_list(moosec_parse_state *st);
void moosec_parse_ref_list_push(moosec_parse_state *st, moosec_ref_list *l, char *name,
                                moosec_yyltype loc);

moosec_value *moosec_parse_negate(moosec_parse_state *st, moosec_value *v, moosec_yyltype loc);
moosec_value *moosec_parse_bool(moosec_parse_state *st, bool b, moosec_yyltype loc);
moosec_value *moosec_parse_ident(moosec_parse_state *st, char *name, moosec_yyltype loc);
moosec_value *moosec_parse_list(moosec_parse_state *st, moosec_value_list *items,
                                moosec_yyltype loc);
moosec_value *moosec_parse_object(moosec_parse_state *st, moosec_prop_list *props,
                                  moosec_yyltype loc);
moosec_prop *moosec_parse_prop(moosec_parse_state *st, char *name, moosec_yyltype loc,
                               moosec_value *v);
moosec_attr *moosec_parse_attr(moosec_parse_state *st, char *name, moosec_yyltype loc,
                               moosec_value_list *args);

moosec_type *moosec_parse_type_named(moosec_parse_state *st, char *name, moosec_yyltype loc);
moosec_type *moosec_parse_type_call(moosec_parse_state *st, char *name, moosec_yyltype name_loc,
                                    moosec_value_list *args, moosec_yyltype loc);
moosec_type *moosec_parse_type_generic(moosec_parse_state *st, char *name, moosec_yyltype loc,
                                       moosec_type *arg);
moosec_type *moosec_parse_type_optional(moosec_parse_state *st, moosec_type *t,
                                        moosec_yyltype loc);
moosec_type *moosec_parse_type_array(moosec_parse_state *st, moosec_type *t, moosec_yyltype loc);

moosec_field *moosec_parse_field(moosec_parse_state *st, char *name, moosec_yyltype loc,
                                 moosec_type *type, moosec_attr_list *attrs);
void moosec_parse_model(moosec_parse_state *st, char *name, moosec_yyltype loc,
                        moosec_field_list *fields);
void moosec_parse_table(moosec_parse_state *st, char *name, moosec_yyltype loc, char *model,
                        moosec_yyltype model_loc, moosec_prop_list *props);
void moosec_parse_stream(moosec_parse_state *st, char *name, moosec_yyltype loc, char *model,
                         moosec_yyltype model_loc, moosec_prop_list *props);
void moosec_parse_transform(moosec_parse_state *st, char *name, moosec_yyltype loc, char *src,
                            moosec_yyltype src_loc, moosec_ref_list *dsts);

#endif
