/*
 * libFuzzer target: what `APP validate` and `APP write` do with a file, on
 * any bytes. The line reader splits the input under a record-size limit the
 * input chooses (so over-long lines, lines cut at the end and CR/LF mixes
 * come up), and each line goes through the generated decoder and validator
 * of tests/badinput/badinput.moose (every field type), its errors formatted
 * as the command line prints them.
 *
 * Input: byte 0 picks the limit (16 + 8 * byte), byte 1 the stream (strict:
 * unknown fields are errors; lenient: skipped); the rest is the file.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "badinput.moose.h"
#include "cli.h"
#include "linereader.h"
#include "moose/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static FILE *devnull;
    if (!devnull && !(devnull = fopen("/dev/null", "w")))
        abort();
    if (size < 2)
        return 0;
    size_t max = 16 + 8 * (size_t)data[0];
    const moose_stream_desc *stream = data[1] & 1 ? &lenient_stream : &strict_stream;
    data += 2;
    size -= 2;

    /* fmemopen() of zero bytes fails: an empty file is a file of one '\n' away. */
    FILE *fp = size ? fmemopen((void *)data, size, "r") : fopen("/dev/null", "r");
    if (!fp)
        abort();
    moose__linereader lr;
    if (moose__linereader_init(&lr, fp, max) != 0)
        abort();
    moose_arena arena;
    moose_errors errs;
    moose_arena_init(&arena);
    moose_errors_init(&errs);
    size_t seen = 0;
    for (;;) {
        char *line;
        size_t len;
        int rc = moose__linereader_next(&lr, &line, &len);
        if (rc == 0 || rc == MOOSE_EIO)
            break;
        if (rc == MOOSE_ETOOBIG)
            continue;
        /* The reader's promises: the limit holds and the line is NUL-terminated. */
        if (len > max || line[len] != '\0')
            abort();
        seen += len;
        if (moose__cli_blank(line, len))
            continue;
        moose_arena_reset(&arena);
        moose_errors_clear(&errs);
        void *rec;
        rc = moose__cli_check_record(stream, line, len, 0, &arena, &errs, &rec);
        if (rc != 0)
            moose__cli_print_errors(devnull, lr.lineno, &errs, rc);
    }
    if (seen > size)
        abort();
    moose__linereader_free(&lr);
    moose_errors_free(&errs);
    moose_arena_free(&arena);
    fclose(fp);
    return 0;
}
