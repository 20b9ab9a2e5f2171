/*
 * The code generators: each turns a checked schema (sema.h passed) into one
 * kind of output. One file a target: gen_ddl.c (CREATE TABLE statements),
 * gen_stubs.c (the user's transform file).
 */
#ifndef MOOSEC_GEN_H
#define MOOSEC_GEN_H

#include <stdio.h>

#include "ast.h"
#include "diag.h"

/* ---- DDL (gen_ddl.c) ---- */

/* The SQL dialects `moosec ddl --dialect` knows. */
#define MOOSEC_DDL_SQLITE "sqlite"
#define MOOSEC_DDL_CLICKHOUSE "clickhouse"

/* True when DIALECT is one of the names above. */
bool moosec_ddl_dialect_known(const char *dialect);

/*
 * Reports (at the table's place) every table whose storage cannot keep the
 * runtime's promises: an order_by without the Key under a deduplicating
 * engine (rows of different keys would be merged away), a
 * ReplacingMergeTree on a model without a Key, or an optional column in
 * order_by (ClickHouse refuses Nullable sorting keys). Both dialects share
 * the check: the dialect is chosen when the app runs, not when it is built.
 * Returns the number of errors reported.
 */
unsigned moosec_ddl_check(const moosec_schema *schema, moosec_diag *diag);

/*
 * `CREATE TABLE IF NOT EXISTS ...` for TABLE in DIALECT ("sqlite" or
 * "clickhouse"), one statement without a trailing ';', allocated in ARENA.
 * NULL when the dialect is unknown or the table fails moosec_ddl_check().
 * The column mapping is described in docs/DDL.md; the runtime's table sinks
 * write values in the representation given there.
 */
char *moosec_ddl_table(moosec_arena *arena, const moosec_table *table, const char *dialect);

/*
 * Prints every table's statement, each ending in ";" and separated by a blank
 * line. Returns 0, or -1 (unknown dialect, or a table failed moosec_ddl_check()).
 */
int moosec_ddl_print(FILE *out, const moosec_schema *schema, const char *dialect);

/* ---- transform stubs (gen_stubs.c) ---- */

/*
 * Writes DIR/<base>_transforms.c for the schema read from SCHEMA_PATH: one
 * function per transform with the signature the generated header declares,
 * each failing with "not implemented" until the user writes its body. Never
 * overwrites: an existing file is an error. Returns 0 (also when the schema
 * has no transforms: nothing is written and a note says so), or -1 with
 * ERRSTR filled (the file exists, or it cannot be written).
 */
int moosec_stubs_write(const moosec_schema *schema, const char *schema_path, const char *dir,
                       char *errstr, size_t errstr_size);

/* The C text of the stubs file (allocated in ARENA); BASE is the schema's base name. */
char *moosec_stubs_source(moosec_arena *arena, const moosec_schema *schema, const char *base);

/* ---- C code (gen_header.c, gen_source.c, gen_cmd.c) ---- */

/*
 * `<base>.moose.h`: per model a struct, an _INIT, the codec and validator
 * declarations and a descriptor; per stream, table and transform its
 * descriptor and typed wrappers; the app registry `<base>_app` (BASE as a C
 * identifier).
 */
void moosec_gen_header(FILE *out, const moosec_schema *schema, const char *base);
/* `<base>.moose.c`: the definitions the header declares. */
void moosec_gen_source(FILE *out, const moosec_schema *schema, const char *base);

/*
 * Writes DIR/<base>.moose.h and DIR/<base>.moose.c for a checked schema read
 * from SCHEMA_PATH. Returns 0, or -1 with ERRSTR filled.
 */
int moosec_gen_write(const moosec_schema *schema, const char *schema_path, const char *dir,
                     char *errstr, size_t errstr_size);

/* `moosec gen [-o DIR] FILE...` (ARGV after "gen"); returns the exit status. */
int moosec_gen_main(int argc, char **argv);

#endif
