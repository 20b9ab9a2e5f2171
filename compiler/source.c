#include "source.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SOURCE_MAX_BYTES (64u * 1024 * 1024)

static moosec_source *source_new(const char *path, char *text, size_t len) {
    moosec_source *src = calloc(1, sizeof(*src));
    size_t cap = 64;
    uint32_t *starts = malloc(cap * sizeof(*starts));
    if (!src || !starts) {
        fputs("moosec: out of memory\n", stderr);
        abort();
    }
    size_t n = 0;
    starts[n++] = 0;
    for (const char *p = text; (p = memchr(p, '\n', len - (size_t)(p - text)));) {
        p++;
        if (n == cap) {
            cap *= 2;
            starts = realloc(starts, cap * sizeof(*starts));
            if (!starts) {
                fputs("moosec: out of memory\n", stderr);
                abort();
            }
        }
        starts[n++] = (uint32_t)(p - text);
    }
    src->path = strdup(path);
    src->text = text;
    src->len = len;
    src->line_starts = starts;
    src->nlines = n;
    return src;
}

moosec_source *moosec_source_from_memory(const char *path, const char *text, size_t len) {
    char *copy = malloc(len + 1);
    if (!copy) {
        fputs("moosec: out of memory\n", stderr);
        abort();
    }
    memcpy(copy, text, len);
    copy[len] = '\0';
    return source_new(path, copy, len);
}

moosec_source *moosec_source_read(const char *path, char *errstr, size_t errstr_size) {
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        snprintf(errstr, errstr_size, "%s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            fputs("moosec: out of memory\n", stderr);
            abort();
        }
        if (cap - len < 2) {
            if (cap >= SOURCE_MAX_BYTES) {
                snprintf(errstr, errstr_size, "%s: file is larger than %u MiB", path,
                         SOURCE_MAX_BYTES / (1024 * 1024));
                free(buf);
                if (f != stdin)
                    fclose(f);
                return NULL;
            }
            cap *= 2;
            buf = realloc(buf, cap);
            continue;
        }
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0)
            break;
    }
    int failed = ferror(f);
    int saved = errno;
    if (f != stdin)
        fclose(f);
    if (failed) {
        snprintf(errstr, errstr_size, "%s: %s", path, strerror(saved));
        free(buf);
        return NULL;
    }
    buf[len] = '\0';
    /* diagnostics say where: "<stdin>:3:7" reads better than "-:3:7" */
    return source_new(strcmp(path, "-") == 0 ? "<stdin>" : path, buf, len);
}

void moosec_source_free(moosec_source *src) {
    if (!src)
        return;
    free((char *)src->path);
    free(src->text);
    free(src->line_starts);
    free(src);
}

static size_t source_line_index(const moosec_source *src, uint32_t offset) {
    size_t lo = 0, hi = src->nlines;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (src->line_starts[mid] <= offset)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

void moosec_source_position(const moosec_source *src, uint32_t offset, unsigned *line,
                            unsigned *col) {
    if (offset > src->len)
        offset = (uint32_t)src->len;
    size_t li = source_line_index(src, offset);
    unsigned c = 1;
    for (uint32_t i = src->line_starts[li]; i < offset; i++)
        if (((unsigned char)src->text[i] & 0xC0) != 0x80)
            c++;
    *line = (unsigned)li + 1;
    *col = c;
}

const char *moosec_source_line(const moosec_source *src, uint32_t offset, size_t *len) {
    if (offset > src->len)
        offset = (uint32_t)src->len;
    size_t li = source_line_index(src, offset);
    const char *start = src->text + src->line_starts[li];
    const char *end = memchr(start, '\n', src->len - src->line_starts[li]);
    size_t n = end ? (size_t)(end - start) : src->len - src->line_starts[li];
    if (n && start[n - 1] == '\r')
        n--;
    *len = n;
    return start;
}

moosec_loc moosec_loc_span(moosec_loc a, moosec_loc b) {
    moosec_loc r = a;
    if (b.src == a.src) {
        if (b.begin < r.begin)
            r.begin = b.begin;
        if (b.end > r.end)
            r.end = b.end;
    }
    return r;
}
