/*
 * libFuzzer target: any bytes through the lexer, the parser, the semantic
 * checker and the DDL table checks, as `moosec check` runs them, and, for a
 * schema those accept, through every generator `moosec gen` runs (header,
 * source with both dialects' DDL, transform stubs): the generators must not
 * crash on anything the checker lets through. Sema runs even after syntax
 * errors, on whatever the parser recovered, so it must hold up on half-built
 * declarations.
 *
 * Kept lean, because its speed is the campaign's reach: diagnostics go to a
 * stream that discards them, and only the first few of an input are printed
 * (the formatting of each is the same code; a fuzzed line of stray tokens
 * gave a hundred, each echoing the line, and printing them was most of a
 * run). The rest are counted, as past `moosec check`'s own limit.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "arena.h"
#include "ast.h"
#include "diag.h"
#include "gen.h"
#include "parse.h"
#include "sema.h"

enum { FUZZ_ERRORS_SHOWN = 4 };

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
    diag.max_errors = FUZZ_ERRORS_SHOWN;
    moosec_source *src = moosec_source_from_memory("fuzz.moose", (const char *)data, size);
    moosec_parse(&schema, src, &diag);
    /* `moosec check` goes on to the table checks of the DDL generator on a clean schema */
    if (moosec_sema_check(&schema, &diag) == 0 && diag.errors == 0 &&
        moosec_ddl_check(&schema, &diag) == 0) {
        moosec_gen_header(sink, &schema, "fuzz");
        moosec_gen_source(sink, &schema, "fuzz");
        moosec_arena arena;
        moosec_arena_init(&arena);
        if (!moosec_stubs_source(&arena, &schema, "fuzz"))
            abort();
        moosec_arena_free(&arena);
    }
    moosec_schema_free(&schema);
    return 0;
}
