/*
 * A schema file in memory and locations within it. Locations are byte
 * offsets; the line map turns them into line:column only when a diagnostic is
 * printed, so the lexer never counts columns.
 */
#ifndef MOOSEC_SOURCE_H
#define MOOSEC_SOURCE_H

#include <stddef.h>
#include <stdint.h>

typedef struct moosec_source {
    const char *path; /* as given on the command line */
    char *text;       /* the file's bytes, NUL-terminated */
    size_t len;
    uint32_t *line_starts; /* byte offset of each line's first byte */
    size_t nlines;
} moosec_source;

typedef struct moosec_loc {
    const moosec_source *src;
    uint32_t begin, end; /* byte offsets, end exclusive */
} moosec_loc;

/*
 * Reads PATH ("-" is stdin). Returns NULL and fills ERRSTR on failure
 * (missing file, unreadable, larger than 64 MiB).
 */
moosec_source *moosec_source_read(const char *path, char *errstr, size_t errstr_size);

/* A source from memory (tests, fuzzing); TEXT is copied. */
moosec_source *moosec_source_from_memory(const char *path, const char *text, size_t len);

void moosec_source_free(moosec_source *src);

/* 1-based line and column (column counted in characters, tabs as one). */
void moosec_source_position(const moosec_source *src, uint32_t offset,
                            unsigned *line, unsigned *col);

/* The line holding OFFSET, without its newline. */
const char *moosec_source_line(const moosec_source *src, uint32_t offset, size_t *len);

/* The location spanning A and B. */
moosec_loc moosec_loc_span(moosec_loc a, moosec_loc b);

#endif
