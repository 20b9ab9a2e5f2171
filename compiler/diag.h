/*
 * Diagnostics: `file:line:col: error: message`, then the source line and a
 * caret under the place (tildes under the rest of the span on that line).
 * Several per run; the caller decides the exit status from the error count.
 */
#ifndef MOOSEC_DIAG_H
#define MOOSEC_DIAG_H

#include <stdbool.h>
#include <stdio.h>

#include "source.h"

typedef enum moosec_severity {
    MOOSEC_ERROR,
    MOOSEC_WARNING,
    MOOSEC_NOTE,
} moosec_severity;

typedef struct moosec_diag {
    FILE *out;         /* where diagnostics go (stderr by default) */
    unsigned errors;   /* counts, for the exit status */
    unsigned warnings;
    unsigned max_errors; /* stop printing errors after this many (0: no limit) */
    int color;           /* ANSI colours (off unless asked) */
} moosec_diag;

void moosec_diag_init(moosec_diag *diag, FILE *out);

/* Reports at LOC (a NULL-source loc prints just "moosec: severity: message"). */
void moosec_diag_report(moosec_diag *diag, moosec_severity sev, moosec_loc loc,
                        const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * True while an error reported now would still be printed. Past max_errors
 * errors are only counted, so work that serves only a message's wording (the
 * "did you mean" search over every declared name) can be skipped: done for
 * every error, it made checking thousands of unknown names quadratic.
 */
bool moosec_diag_error_shown(const moosec_diag *diag);

#define moosec_error(D, LOC, ...) moosec_diag_report((D), MOOSEC_ERROR, (LOC), __VA_ARGS__)
#define moosec_warning(D, LOC, ...) moosec_diag_report((D), MOOSEC_WARNING, (LOC), __VA_ARGS__)
#define moosec_note(D, LOC, ...) moosec_diag_report((D), MOOSEC_NOTE, (LOC), __VA_ARGS__)

#endif
