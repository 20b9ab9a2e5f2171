#include "linereader.h"

#include <stdlib.h>
#include <string.h>

#include "moose/error.h"

enum { LINEREADER_BLOCK = 64 * 1024 };

int moose__linereader_init(moose__linereader *lr, FILE *fp, size_t max) {
    memset(lr, 0, sizeof *lr);
    lr->fp = fp;
    lr->max = max ? max : MOOSE__LINE_MAX_DEFAULT;
    lr->cap = LINEREADER_BLOCK;
    lr->buf = malloc(lr->cap);
    return lr->buf ? 0 : MOOSE_ENOMEM;
}

void moose__linereader_free(moose__linereader *lr) {
    free(lr->buf);
    lr->buf = NULL;
}

/* Reads more input after what is buffered; false at end of input or on error. */
static bool fill(moose__linereader *lr, int *status) {
    if (lr->start > 0) {
        memmove(lr->buf, lr->buf + lr->start, lr->end - lr->start);
        lr->end -= lr->start;
        lr->start = 0;
    }
    /* Grow only while a line still fits under the limit, so memory stays bounded by it. */
    if (lr->cap - lr->end < LINEREADER_BLOCK / 2 && lr->cap < lr->max + LINEREADER_BLOCK + 1) {
        size_t cap = lr->cap * 2;
        if (cap > lr->max + LINEREADER_BLOCK + 1)
            cap = lr->max + LINEREADER_BLOCK + 1;
        char *buf = realloc(lr->buf, cap);
        if (!buf) {
            *status = MOOSE_ENOMEM;
            return false;
        }
        lr->buf = buf;
        lr->cap = cap;
    }
    size_t n = fread(lr->buf + lr->end, 1, lr->cap - lr->end - 1, lr->fp);
    lr->end += n;
    if (n == 0) {
        if (ferror(lr->fp))
            *status = MOOSE_EIO;
        lr->eof = true;
        return false;
    }
    return true;
}

/* Throws input away up to and including the next newline. */
static int skip_rest_of_line(moose__linereader *lr) {
    for (;;) {
        char *nl = memchr(lr->buf + lr->start, '\n', lr->end - lr->start);
        if (nl) {
            lr->start = (size_t)(nl - lr->buf) + 1;
            return MOOSE_ETOOBIG;
        }
        lr->start = lr->end = 0;
        int status = 0;
        if (!fill(lr, &status))
            return status ? status : MOOSE_ETOOBIG;
    }
}

int moose__linereader_next(moose__linereader *lr, char **line, size_t *len) {
    size_t scanned = lr->start;
    for (;;) {
        char *nl = memchr(lr->buf + scanned, '\n', lr->end - scanned);
        size_t n;
        if (nl) {
            n = (size_t)(nl - lr->buf) - lr->start;
        } else if (lr->end - lr->start > lr->max) {
            lr->lineno++;
            return skip_rest_of_line(lr);
        } else if (lr->eof) {
            if (lr->end == lr->start)
                return 0;
            n = lr->end - lr->start; /* a last line without a newline */
        } else {
            size_t offset = lr->end - lr->start; /* all of it was searched */
            int status = 0;
            if (!fill(lr, &status) && status)
                return status;
            scanned = lr->start + offset;
            continue;
        }
        lr->lineno++;
        if (n > lr->max) {
            lr->start += n + (nl != NULL);
            return MOOSE_ETOOBIG;
        }
        char *text = lr->buf + lr->start;
        lr->start += n + (nl != NULL);
        if (n > 0 && text[n - 1] == '\r')
            n--;
        text[n] = '\0'; /* overwrites the newline, or the spare byte fill() keeps */
        *line = text;
        *len = n;
        return 1;
    }
}
