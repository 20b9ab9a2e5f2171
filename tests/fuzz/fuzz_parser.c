/*
 * libFuzzer target: any bytes through the lexer, the parser, the semantic
 * checker and (when those pass) the DDL table checks, as `moosec check` runs
 * them, diagnostics printed (to /dev/null) so their formatting runs too.
 * Sema runs even after syntax errors, on whatever the parser recovered, so it
 * must hold up on half-built declarations.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "ast.h"
#include "diag.h"
#include "gen.h"
#include "parse.h"
#include "sema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* opened once: fuzzing runs millions of inputs in one process */
    static FILE *sink;
    if (!sink) {
        sink = fopen("/dev/null", "w");
        if (!sink)
            abort();
    }
    moosec_schema schema;
    moosec_schema_init(&schema);
    moosec_diag diag;
    moosec_diag_init(&diag, sink);
    moosec_source *src = moosec_source_from_memory("fuzz.moose", (const char *)data, size);
    moosec_parse(&schema, src, &diag);
    /* `moosec check` goes on to the table checks of the DDL generator on a clean schema */
    if (moosec_sema_check(&schema, &diag) == 0 && diag.errors == 0)
        moosec_ddl_check(&schema, &diag);
    moosec_schema_free(&schema);
    return 0;
}
