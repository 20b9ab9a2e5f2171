#include "diag.h"

#include <stdarg.h>
#include <string.h>

void moosec_diag_init(moosec_diag *diag, FILE *out) {
    memset(diag, 0, sizeof(*diag));
    diag->out = out;
    diag->max_errors = 100;
}

static const char *severity_name(moosec_severity sev) {
    switch (sev) {
    case MOOSEC_ERROR:
        return "error";
    case MOOSEC_WARNING:
        return "warning";
    case MOOSEC_NOTE:
        return "note";
    }
    return "error";
}

/*
 * The source line, then a caret line that keeps the line's tabs so it aligns.
 * A very long line (generated, or minified) is cut to a window around the
 * caret, with "..." where text is left out.
 */
static void diag_show_line(FILE *out, moosec_loc loc) {
    enum { MAX_SHOWN = 160, CONTEXT = 60 };
    size_t len;
    const char *line = moosec_source_line(loc.src, loc.begin, &len);
    uint32_t line_begin = (uint32_t)(line - loc.src->text);
    size_t col_off = loc.begin - line_begin;
    if (col_off > len)
        col_off = len;
    size_t from = 0, to = len;
    if (len > MAX_SHOWN) {
        from = col_off > CONTEXT ? col_off - CONTEXT : 0;
        while (from > 0 && ((unsigned char)line[from] & 0xC0) == 0x80)
            from--;
        to = from + MAX_SHOWN < len ? from + MAX_SHOWN : len;
        while (to < len && ((unsigned char)line[to] & 0xC0) == 0x80)
            to++;
    }
    fprintf(out, " %s", from > 0 ? "..." : "");
    /* control characters (a NUL, an escape sequence) would garble the terminal: '?' instead */
    for (size_t i = from; i < to; i++) {
        unsigned char c = (unsigned char)line[i];
        fputc((c < 0x20 && c != '\t') || c == 0x7f ? '?' : c, out);
    }
    fprintf(out, "%s\n ", to < len ? "..." : "");
    fputs(from > 0 ? "   " : "", out);
    for (size_t i = from; i < col_off && i < to; i++) {
        unsigned char c = (unsigned char)line[i];
        if ((c & 0xC0) == 0x80)
            continue; /* one mark per character */
        fputc(c == '\t' ? '\t' : ' ', out);
    }
    fputc('^', out);
    size_t end = loc.end > line_begin ? loc.end - line_begin : 0;
    if (end > to)
        end = to;
    for (size_t i = col_off + 1; i < end; i++)
        if (((unsigned char)line[i] & 0xC0) != 0x80)
            fputc('~', out);
    fputc('\n', out);
}

bool moosec_diag_error_shown(const moosec_diag *diag) {
    return !diag->max_errors || diag->errors < diag->max_errors;
}

void moosec_diag_report(moosec_diag *diag, moosec_severity sev, moosec_loc loc,
                        const char *fmt, ...) {
    if (sev == MOOSEC_ERROR)
        diag->errors++;
    else if (sev == MOOSEC_WARNING)
        diag->warnings++;
    if (diag->max_errors && diag->errors > diag->max_errors) {
        if (sev == MOOSEC_ERROR && diag->errors == diag->max_errors + 1)
            fprintf(diag->out, "moosec: too many errors, stopping after %u\n",
                    diag->max_errors);
        return;
    }
    if (loc.src) {
        unsigned line, col;
        moosec_source_position(loc.src, loc.begin, &line, &col);
        fprintf(diag->out, "%s:%u:%u: %s: ", loc.src->path, line, col, severity_name(sev));
    } else {
        fprintf(diag->out, "moosec: %s: ", severity_name(sev));
    }
    va_list ap;
    va_start(ap, fmt);
    vfprintf(diag->out, fmt, ap);
    va_end(ap);
    fputc('\n', diag->out);
    if (loc.src)
        diag_show_line(diag->out, loc);
}
