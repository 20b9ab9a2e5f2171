/*
 * The front end's entry point: parse one source into the schema.
 */
#ifndef MOOSEC_PARSE_H
#define MOOSEC_PARSE_H

#include "ast.h"
#include "diag.h"

/*
 * Parses SRC (which the schema takes over) and adds its declarations to
 * SCHEMA. Errors go to DIAG; returns the number of errors found in this file.
 */
unsigned moosec_parse(moosec_schema *schema, moosec_source *src, moosec_diag *diag);

#endif
