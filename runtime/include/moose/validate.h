/*
 * What generated validators call: failures with their field path and rule,
 * the checks that are the same for every model (UTF-8, length in
 * characters, value formats), and the PCRE2 pattern cache.
 *
 * A validator reports EVERY failing field, not only the first, so these
 * functions record and return; they never stop the caller.
 */
#ifndef MOOSE_VALIDATE_H
#define MOOSE_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "moose/codec.h"
#include "moose/json.h"
#include "moose/schema.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * A field's @pattern: PCRE2 syntax, compiled once (on first use, or for a
 * whole app by moose_patterns_prepare()) with JIT where the platform has it,
 * then shared by every thread. A pattern matches anywhere in the value
 * (as in JSON Schema): anchor it with ^...$ to match the whole value.
 */
typedef struct moose_pattern {
    const char *source;
    void *code; /* the compiled pcre2_code, published once */
} moose_pattern;

#define MOOSE_PATTERN_INIT(SOURCE) {(SOURCE), NULL}

/* 1 when S matches, 0 when not, negative when the pattern cannot be used. */
int moose_pattern_match(moose_pattern *pat, const char *s, size_t len);
/* Compiles PAT now; 0, or -1 with a reason in ERRSTR. */
int moose_pattern_prepare(moose_pattern *pat, char *errstr, size_t errstr_size);

/*
 * Compiles every @pattern of every model of DESC: what an app does at
 * start-up, so a bad pattern is reported before the first record and no
 * record pays for a compilation. 0, or -1 with ERRSTR filled.
 */
int moose_patterns_prepare(const moose_app_desc *desc, char *errstr, size_t errstr_size);

/* Records one failure at PATH + NAME. Returns MOOSE_EVALIDATION. */
int moose_validate_fail(moose_errors *errs, const moose_path *path, const char *name,
                        const char *rule, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/*
 * A string: valid UTF-8 ("encoding"), then, when MIN_CHARS >= 0 or
 * MAX_CHARS >= 0, its length in characters ("length"), then PATTERN when not
 * NULL ("pattern"). Returns the number of failures recorded.
 */
int moose_validate_str(moose_errors *errs, const moose_path *path, const char *name, moose_str s,
                       int64_t min_chars, int64_t max_chars, moose_pattern *pattern);
int moose_validate_finite(moose_errors *errs, const moose_path *path, const char *name, double v);
int moose_validate_datetime(moose_errors *errs, const moose_path *path, const char *name,
                            moose_datetime v);
int moose_validate_date(moose_errors *errs, const moose_path *path, const char *name,
                        moose_date v);
int moose_validate_decimal(moose_errors *errs, const moose_path *path, const char *name,
                           moose_decimal v, unsigned precision, unsigned scale);
int moose_validate_enum(moose_errors *errs, const moose_path *path, const char *name, int v,
                        uint32_t count);

#ifdef __cplusplus
}
#endif

#endif
