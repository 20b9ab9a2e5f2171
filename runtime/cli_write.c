/*
 * `APP write STREAM [FILE|-]`: newline-delimited JSON in, each record
 * validated and written asynchronously; every refused line is reported with
 * its number and reasons, including records the broker did not acknowledge.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app_internal.h"
#include "cli.h"
#include "linereader.h"
#include "moose/error.h"
#include "transform_internal.h"

typedef struct write_state {
    pthread_mutex_t lock; /* delivery reports come from the producer's thread */
    size_t failed;
    FILE *out;
} write_state;

typedef struct write_line {
    write_state *st;
    long lineno;
} write_line;

static void delivered(int status, const moose_errors *errs, void *opaque) {
    write_line *wl = opaque;
    if (status != 0) {
        pthread_mutex_lock(&wl->st->lock);
        wl->st->failed++;
        moose__cli_print_errors(wl->st->out, wl->lineno, errs, status);
        pthread_mutex_unlock(&wl->st->lock);
    }
    free(wl);
}

int moose__cli_write(const moose__cli *cli) {
    const moose_stream_desc *stream = moose__cli_stream(cli, cli->opts->args[0]);
    if (!stream)
        return MOOSE__EXIT_USAGE;
    const char *path = cli->opts->nargs > 1 ? cli->opts->args[1] : "-";
    FILE *fp = moose__cli_open_input(cli, path);
    if (!fp)
        return MOOSE__EXIT_USAGE;

    char errstr[512];
    moose_app *app = moose__app_open(cli->desc, &cli->opts->cfg, MOOSE__EMBEDDED_FIND, cli->prog,
                                     errstr, sizeof errstr);
    if (!app) {
        fprintf(stderr, "%s: %s\n", cli->prog, errstr);
        if (fp != stdin)
            fclose(fp);
        return MOOSE__EXIT_USAGE;
    }

    write_state st = {.out = stderr};
    pthread_mutex_init(&st.lock, NULL);
    moose__linereader lr;
    moose_arena arena;
    moose_errors errs;
    moose_arena_init(&arena);
    moose_errors_init(&errs);
    const moose_model_desc *model = stream->model;
    size_t written = 0, refused = 0;
    int status = MOOSE__EXIT_OK;
    if (moose__linereader_init(&lr, fp, cli->opts->cfg.max_record_bytes) != 0) {
        fprintf(stderr, "%s: out of memory reading '%s'\n", cli->prog, path);
        status = MOOSE__EXIT_USAGE;
        goto done;
    }
    for (;;) {
        char *line;
        size_t len;
        int rc = moose__linereader_next(&lr, &line, &len);
        if (rc == 0)
            break;
        if (rc == MOOSE_ETOOBIG) {
            fprintf(stderr, "%ld: error: record is longer than the limit of %zu bytes\n",
                    lr.lineno, lr.max);
            refused++;
            continue;
        }
        if (rc < 0) {
            fprintf(stderr, "%s: reading '%s' after line %ld: %s\n", cli->prog, path, lr.lineno,
                    moose_strerror(rc));
            status = MOOSE__EXIT_USAGE;
            break;
        }
        if (moose__cli_blank(line, len))
            continue;
        moose_arena_reset(&arena);
        moose_errors_clear(&errs);
        void *rec = moose_arena_alloc(&arena, model->size, model->align);
        if (!rec) {
            fprintf(stderr, "%s: out of memory at line %ld\n", cli->prog, lr.lineno);
            status = MOOSE__EXIT_USAGE;
            break;
        }
        model->init(rec);
        moose_decode_options dopts = {.allow_extra_fields = stream->allow_extra_fields,
                                      .max_bytes = len + 1,
                                      .max_depth = cli->opts->cfg.max_depth};
        rc = model->decode(rec, line, len, &arena, &dopts, &errs);
        if (rc != 0) {
            refused++;
            moose__cli_print_errors(stderr, lr.lineno, &errs, rc);
            int idx = moose__app_stream_index(app, stream);
            /* A line that is no record never reaches moose_write(), which counts the others. */
            moose__count(app->stream_metrics[idx], MOOSE__C_RECORDS_IN, 1);
            moose__metrics_validated(app->stream_metrics[idx], line, len, &errs);
            if (stream->on_invalid == MOOSE_ON_INVALID_DEAD_LETTER) {
                char message[320];
                const moose_field_error *e = errs.len ? &errs.items[0] : NULL;
                if (snprintf(message, sizeof message, "%s%s%s", e ? e->path : "",
                             e && e->path[0] ? ": " : "",
                             e ? e->message : "not a valid record") < 0)
                    message[0] = '\0';
                /* Filed under the Key it was meant to have, when that much can be read. */
                moose_buf key;
                moose_buf_init(&key);
                int has_key = moose__key_from_json(model, line, len, &key);
                if (moose__app_dead_letter(app, stream, MOOSE__DLQ_VALIDATION_ERROR, message, &errs,
                                           has_key == 1 ? key.data : NULL,
                                           has_key == 1 ? key.len : 0, line, len, errstr,
                                           sizeof errstr) != 0)
                    fprintf(stderr, "%ld: error: not kept in the dead letter queue: %s\n",
                            lr.lineno, errstr);
                moose_buf_free(&key);
            }
            continue;
        }
        write_line *wl = malloc(sizeof *wl);
        if (!wl) {
            fprintf(stderr, "%s: out of memory at line %ld\n", cli->prog, lr.lineno);
            status = MOOSE__EXIT_USAGE;
            break;
        }
        *wl = (write_line){&st, lr.lineno};
        rc = moose_write_async(app, stream, rec, &errs, delivered, wl);
        if (rc != 0) {
            free(wl);
            refused++;
            pthread_mutex_lock(&st.lock);
            moose__cli_print_errors(stderr, lr.lineno, &errs, rc);
            pthread_mutex_unlock(&st.lock);
            if (rc != MOOSE_EVALIDATION && rc != MOOSE_ETOOBIG)
                break; /* the transport is gone: the lines after would fail the same way */
            continue;
        }
        written++;
    }
    int frc;
    while ((frc = moose_app_flush(app, 5000)) == MOOSE_ETIMEDOUT)
        fprintf(stderr, "%s: waiting for the broker to acknowledge %" PRId64 " records\n",
                cli->prog, moose__producer_in_flight(app->producer));
done:
    moose_app_close(app); /* reports whatever is still unacknowledged */
    pthread_mutex_lock(&st.lock);
    size_t ok = written - st.failed;
    refused += st.failed;
    pthread_mutex_unlock(&st.lock);
    fprintf(stderr, "%zu written, %zu refused\n", ok, refused);
    if (status == MOOSE__EXIT_OK && refused)
        status = MOOSE__EXIT_FAILED;
    moose__linereader_free(&lr);
    moose_errors_free(&errs);
    moose_arena_free(&arena);
    pthread_mutex_destroy(&st.lock);
    if (fp != stdin)
        fclose(fp);
    return status;
}
