/*
 * The .moose grammar. Pure and located; every token has a readable alias so
 * no internal name reaches a user. The parser is deliberately generic about
 * table and stream bodies (a list of `name: value` properties): sema.c knows
 * which properties exist and says so precisely, which a grammar cannot.
 * Recovery rules at every brace keep going after an error, so one run
 * reports the errors of every declaration.
 */
%require "3.8"
%define api.pure full
%define api.prefix {moosec_yy}
%define api.location.type {moosec_yyltype}
%define api.token.prefix {TOK_}
%define parse.error custom
%define parse.lac full
%locations
%expect 0
%param {void *scanner}
%parse-param {moosec_parse_state *st}

%code requires {
#include "parse_builders.h"
}

%code provides {
#define YYSTYPE MOOSEC_YYSTYPE
int moosec_yylex(MOOSEC_YYSTYPE *yylval, moosec_yyltype *yylloc, void *scanner);
}

%code {
#include <string.h>

#include "parse_builders.h"

static void moosec_yyerror(moosec_yyltype *loc, void *scanner, moosec_parse_state *st,
                           const char *msg) {
    (void)scanner;
    /* bison's only other message: its stack is full */
    if (strcmp(msg, "memory exhausted") == 0)
        msg = "nesting too deep here (the parser stops at 10000 levels)";
    moosec_error(st->diag, moosec_parse_loc(st, *loc), "%s", msg);
    st->syntax_errors++;
}
}

%union {
    char *str;
    moosec_value *value;
    moosec_prop *prop;
    moosec_attr *attr;
    moosec_type *type;
    moosec_field *field;
    moosec_model *model;
    moosec_transform *transform;
    moosec_value_list *values;
    moosec_prop_list *props;
    moosec_attr_list *attrs;
    moosec_field_list *fields;
    moosec_ref_list *refs;
}

%token MODEL "'model'" TABLE "'table'" STREAM "'stream'" TRANSFORM "'transform'"
%token TRUE "'true'" FALSE "'false'" ARROW "'->'"
%token <str> IDENT "identifier"
%token <value> INT "integer" FLOAT "number" DURATION "duration" STRING "string literal"
%token END 0 "end of file"
/* Returned by the lexer but used by no rule: declared so errors name them. */
%token '=' '.'

%type <str> name
%type <value> value scalar list object
%type <values> values values_ne
%type <prop> prop
%type <props> props table_body stream_body
%type <attr> attr
%type <attrs> attrs
%type <type> type base_type
%type <field> field
%type <fields> fields
%type <refs> refs

%%

schema
    : %empty
    | schema decl
    ;

decl
    : model_decl
    | table_decl
    | stream_decl
    | transform_decl
    | error decl_end   { yyerrok; }
    ;

/* Where a broken declaration is taken to end: its closing brace. */
decl_end
    : '}'
    | ';'
    ;

model_decl
    : MODEL name '{' fields '}'     { moosec_parse_model(st, $2, @2, $4); }
    | MODEL name '{' fields error '}'
                                    { moosec_parse_model(st, $2, @2, $4); yyerrok; }
    ;

fields
    : %empty                   { $$ = moosec_parse_field_list(st); }
    | fields field             { $$ = $1; moosec_parse_field_list_push(st, $$, $2); }
    | fields field sep         { $$ = $1; moosec_parse_field_list_push(st, $$, $2); }
    ;

sep : ',' | ';' ;

field
    : name ':' type attrs      { $$ = moosec_parse_field(st, $1, @1, $3, $4); }
    ;

type
    : base_type                { $$ = $1; }
    | type '?'                 { $$ = moosec_parse_type_optional(st, $1, @2); }
    | type '[' ']'             { $$ = moosec_parse_type_array(st, $1, @2); }
    ;

base_type
    : IDENT                    { $$ = moosec_parse_type_named(st, $1, @1); }
    | IDENT '(' values ')'     { $$ = moosec_parse_type_call(st, $1, @1, $3, @$); }
    | IDENT '<' type '>'       { $$ = moosec_parse_type_generic(st, $1, @$, $3); }
    ;

attrs
    : %empty                   { $$ = moosec_parse_attr_list(st); }
    | attrs attr               { $$ = $1; moosec_parse_attr_list_push(st, $$, $2); }
    ;

attr
    : '@' name                 { $$ = moosec_parse_attr(st, $2, @$, NULL); }
    | '@' name '(' values ')'  { $$ = moosec_parse_attr(st, $2, moosec_parse_span(@1, @2), $4); }
    ;

table_decl
    : TABLE name ':' name table_body
                               { moosec_parse_table(st, $2, @2, $4, @4, $5); }
    ;

table_body
    : %empty                   { $$ = moosec_parse_prop_list(st); }
    | '{' props '}'            { $$ = $2; }
    | '{' props error '}'      { $$ = $2; yyerrok; }
    ;

stream_decl
    : STREAM name ':' name stream_body
                               { moosec_parse_stream(st, $2, @2, $4, @4, $5); }
    ;

stream_body
    : %empty                   { $$ = moosec_parse_prop_list(st); }
    | '{' props '}'            { $$ = $2; }
    | '{' props error '}'      { $$ = $2; yyerrok; }
    ;

transform_decl
    : TRANSFORM name ':' name ARROW refs
                               { moosec_parse_transform(st, $2, @2, $4, @4, $6); }
    ;

refs
    : name                     { $$ = moosec_parse_ref_list(st); moosec_parse_ref_list_push(st, $$, $1, @1); }
    | refs ',' name            { $$ = $1; moosec_parse_ref_list_push(st, $$, $3, @3); }
    ;

props
    : %empty                   { $$ = moosec_parse_prop_list(st); }
    | props prop               { $$ = $1; moosec_parse_prop_list_push(st, $$, $2); }
    | props prop sep           { $$ = $1; moosec_parse_prop_list_push(st, $$, $2); }
    ;

prop
    : name ':' value           { $$ = moosec_parse_prop(st, $1, @1, $3); }
    ;

value
    : scalar                   { $$ = $1; }
    | list                     { $$ = $1; }
    | object                   { $$ = $1; }
    ;

scalar
    : INT                      { $$ = $1; }
    | FLOAT                    { $$ = $1; }
    | DURATION                 { $$ = $1; }
    | '-' INT                  { $$ = moosec_parse_negate(st, $2, @$); }
    | '-' FLOAT                { $$ = moosec_parse_negate(st, $2, @$); }
    | STRING                   { $$ = $1; }
    | TRUE                     { $$ = moosec_parse_bool(st, true, @1); }
    | FALSE                    { $$ = moosec_parse_bool(st, false, @1); }
    | name                     { $$ = moosec_parse_ident(st, $1, @1); }
    ;

list
    : '[' values ']'           { $$ = moosec_parse_list(st, $2, @$); }
    ;

object
    : '{' props '}'            { $$ = moosec_parse_object(st, $2, @$); }
    ;

values
    : %empty                   { $$ = moosec_parse_value_list(st); }
    | values_ne                { $$ = $1; }
    | values_ne ','            { $$ = $1; }
    ;

values_ne
    : value                    { $$ = moosec_parse_value_list(st); moosec_parse_value_list_push(st, $$, $1); }
    | values_ne ',' value      { $$ = $1; moosec_parse_value_list_push(st, $$, $3); }
    ;

/* Keywords may name fields and properties: `table: String` is a fine field. */
name
    : IDENT                    { $$ = $1; }
    | MODEL                    { $$ = moosec_arena_strdup(st->arena, "model"); }
    | TABLE                    { $$ = moosec_arena_strdup(st->arena, "table"); }
    | STREAM                   { $$ = moosec_arena_strdup(st->arena, "stream"); }
    | TRANSFORM                { $$ = moosec_arena_strdup(st->arena, "transform"); }
    ;

%%

/*
 * "unexpected identifier 'foo', expected ':'": the token's text is shown
 * because "unexpected identifier" alone leaves the user guessing which.
 */
static int yyreport_syntax_error(const yypcontext_t *ctx, void *scanner, moosec_parse_state *st) {
    (void)scanner;
    enum { MAX_EXPECTED = 6, MAX_ASKED = 32 };
    yysymbol_kind_t expected[MAX_ASKED];
    int n = yypcontext_expected_tokens(ctx, expected, MAX_ASKED);
    /* where a name goes, keywords are names too: "identifier" says it once */
    bool want_ident = false;
    for (int i = 0; i < n; i++)
        want_ident |= expected[i] == YYSYMBOL_IDENT;
    int kept = 0;
    for (int i = 0; i < n; i++) {
        yysymbol_kind_t k = expected[i];
        if (want_ident && (k == YYSYMBOL_MODEL || k == YYSYMBOL_TABLE || k == YYSYMBOL_STREAM ||
                           k == YYSYMBOL_TRANSFORM))
            continue;
        expected[kept++] = k;
    }
    n = kept > MAX_EXPECTED ? 0 : kept;
    yysymbol_kind_t got = yypcontext_token(ctx);
    const moosec_yyltype *loc = yypcontext_location(ctx);
    st->syntax_errors++;
    if (moosec_parse_echoes_lex_error(st, *loc))
        return 0;
    char buf[512];
    size_t off = 0;
    moosec_token_show show = MOOSEC_SHOW_ALIAS;
    if (got == YYSYMBOL_IDENT || got == YYSYMBOL_INT || got == YYSYMBOL_FLOAT ||
        got == YYSYMBOL_DURATION)
        show = MOOSEC_SHOW_QUOTED;
    else if (got == YYSYMBOL_STRING)
        show = MOOSEC_SHOW_LITERAL;
    off += moosec_parse_describe_token(st, show, yysymbol_name(got), *loc, buf, sizeof buf);
    if (n > 0) {
        off += (size_t)snprintf(buf + off, sizeof buf - off, ", expected ");
        for (int i = 0; i < n && off < sizeof buf; i++)
            off += (size_t)snprintf(buf + off, sizeof buf - off, "%s%s",
                                    i == 0 ? "" : (i == n - 1 ? " or " : ", "),
                                    yysymbol_name(expected[i]));
    }
    moosec_error(st->diag, moosec_parse_loc(st, *loc), "%s", buf);
    if (got != YYSYMBOL_YYEOF)
        moosec_parse_note_unclosed_brace(st, *loc);
    if (got == YYSYMBOL_YYEOF && st->brace_depth > 0 &&
        st->brace_depth <= sizeof st->open_braces / sizeof st->open_braces[0]) {
        uint32_t at = st->open_braces[st->brace_depth - 1];
        moosec_yyltype brace = {at, at + 1};
        moosec_note(st->diag, moosec_parse_loc(st, brace), "this '{' is not closed");
    }
    return 0;
}
