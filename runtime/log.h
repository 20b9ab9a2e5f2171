/*
 * Structured, rate-limited logging for libmoose.
 *
 * One line per event on stderr (or the stream set with moose__log_set_output):
 *
 *   2026-11-27T15:40:01.123Z error transform transform failed transform=t key="a1" offset=42
 *
 * i.e. `time level component message key=value ...`. The message and its
 * key=value pairs come from the printf format; moose__log_quote() makes a
 * value safe to put after `key=`.
 *
 * Rate limiting: each (component, kind) pair may write at most
 * moose__log_set_rate() lines per second (default 20); the lines beyond are
 * counted, and the next line that gets through is preceded by
 * "suppressed K similar messages", so a flood of bad records cannot flood
 * the disk. A NULL kind is never limited (start-up, shutdown, one-off events).
 *
 * Thread-safe: the level, the output and the limiter are guarded.
 */
#ifndef MOOSE__LOG_H
#define MOOSE__LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum moose__log_level {
    MOOSE__LOG_DEBUG = 0,
    MOOSE__LOG_INFO,
    MOOSE__LOG_WARN,
    MOOSE__LOG_ERROR,
} moose__log_level;

/* "debug", "info", "warn" ("warning"), "error" -> 0 and *LEVEL; -1 otherwise. */
int moose__log_parse_level(const char *name, moose__log_level *level);
const char *moose__log_level_name(moose__log_level level);

/* Lines below LEVEL are dropped (default: info, or MOOSE_LOG_LEVEL at first use). */
void moose__log_set_level(moose__log_level level);
moose__log_level moose__log_get_level(void);
/* NULL restores stderr. Tests use a tmpfile() to read lines back. */
void moose__log_set_output(FILE *out);
/* Lines per second per (component, kind); 0 disables rate limiting. */
void moose__log_set_rate(unsigned lines_per_second);

/*
 * Writes the "suppressed K similar messages" lines still owed (a flood's
 * tail that no later line of its kind reported). Call at shutdown.
 */
void moose__log_flush_suppressed(void);

/*
 * A live status line on a terminal (`APP run`'s, drawn with "\r\033[K"):
 * moose__log_status_show draws LINE in place on OUT and keeps it; from then
 * on a line logged to OUT first erases it and draws it again after itself,
 * so a log line never lands on the status line. moose__log_status_end ends
 * the status line with a newline and forgets it.
 */
void moose__log_status_show(FILE *out, const char *line);
void moose__log_status_end(FILE *out);

/* How many lines the limiter swallowed since start (all components). */
uint64_t moose__log_suppressed_total(void);

void moose__log(moose__log_level level, const char *component, const char *kind, const char *fmt,
                ...) __attribute__((format(printf, 4, 5)));
void moose__logv(moose__log_level level, const char *component, const char *kind, const char *fmt,
                 va_list ap) __attribute__((format(printf, 4, 0)));

/*
 * Writes S (LEN bytes) into OUT as a value for `key=`: as is when it has no
 * space, quote, '=' or control byte; otherwise in double quotes with \" \\ \n
 * \t and \xNN escapes. Truncated to fit; always NUL-terminated. Returns OUT.
 */
const char *moose__log_quote(char *out, size_t out_size, const char *s, size_t len);

#define MOOSE__LOG_DEBUG(component, ...) moose__log(MOOSE__LOG_DEBUG, component, NULL, __VA_ARGS__)
#define MOOSE__LOG_INFO(component, ...) moose__log(MOOSE__LOG_INFO, component, NULL, __VA_ARGS__)
#define MOOSE__LOG_WARN(component, ...) moose__log(MOOSE__LOG_WARN, component, NULL, __VA_ARGS__)
#define MOOSE__LOG_ERROR(component, ...) moose__log(MOOSE__LOG_ERROR, component, NULL, __VA_ARGS__)

#endif
