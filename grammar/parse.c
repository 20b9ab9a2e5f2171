#include "parse.h"

#include <string.h>

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
    /* a UTF-8 byte order mark, as some editors write, is not part of the schema */
    size_t skip = src->len >= 3 && memcmp(src->text, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
    st.offset = skip;
    YY_BUFFER_STATE buf = moosec_yy_scan_bytes(src->text + skip, (int)(src->len - skip), scanner);
    moosec_yyparse(scanner, &st);
    moosec_yy_delete_buffer(buf, scanner);
    moosec_yylex_destroy(scanner);
    return diag->errors - errors_before;
}
