/*
 * Semantic checks: resolves names and properties of a parsed schema, fills
 * the "resolved" parts of the AST (ast.h) and reports every problem found,
 * each at its place. The code generators run only on a schema that passed.
 */
#ifndef MOOSEC_SEMA_H
#define MOOSEC_SEMA_H

#include "ast.h"
#include "diag.h"

/* Returns the number of errors reported (warnings do not count). */
unsigned moosec_sema_check(moosec_schema *schema, moosec_diag *diag);

#endif
