#include "parse.h"

#include "parse_state.h"
#include "parser.h"
#include "lexer.h"

unsigned moosec_parse(moosec_schema *schema, moosec_source *src, moosec_diag *diag) {
    MOOSEC_VEC_PUSH(&schema->arena, schema->sources, src);
    unsigned errors_before = diag->errors;
    moosec_parse_state st = {0};
    st.src = src;
    st.schema = schema;
    st.arena = &schema->arena;
    st.diag = diag;
    yyscan_t scanner;
    if (moosec_yylex_init_extra(&st, &scanner) != 0) {
        moosec_loc none = {0};
        moosec_error(diag, none, "cannot start the lexer");
        return 1;
    }
    st.scanner = scanner;
    YY_BUFFER_STATE buf = moosec_yy_scan_bytes(src->text, (int)src->len, scanner);
    moosec_yyparse(scanner, &st);
    moosec_yy_delete_buffer(buf, scanner);
    moosec_yylex_destroy(scanner);
    return diag->errors - errors_before;
}
