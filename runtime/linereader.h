/*
 * Newline-delimited input with a record-size limit: an over-long line is
 * reported as an error for that line and skipped, so one bad line never
 * ends a whole file, and memory stays bounded by the limit.
 */
#ifndef MOOSE__LINEREADER_H
#define MOOSE__LINEREADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define MOOSE__LINE_MAX_DEFAULT ((size_t)1 << 20)

typedef struct moose__linereader {
    FILE *fp;
    char *buf;
    size_t cap;   /* bytes allocated in buf */
    size_t start; /* first byte of the next line */
    size_t end;   /* one past the last byte read */
    size_t max;   /* longest accepted line, without its newline */
    long lineno;  /* number of the line last returned */
    bool eof;
} moose__linereader;

/* MAX 0 means MOOSE__LINE_MAX_DEFAULT. Returns 0 or MOOSE_ENOMEM. */
int moose__linereader_init(moose__linereader *lr, FILE *fp, size_t max);
void moose__linereader_free(moose__linereader *lr);

/*
 * Returns 1 with the next line in LINE/LEN (no newline, no trailing '\r';
 * LINE[LEN] is '\0' and the text lives until the next call), 0 at the end
 * of input, MOOSE_ETOOBIG when the line was longer than the limit (it was
 * skipped; lr->lineno names it), or MOOSE_EIO when reading failed.
 */
int moose__linereader_next(moose__linereader *lr, char **line, size_t *len);

#endif
