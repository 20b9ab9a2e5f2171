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

/* One `APP write` in progress: what each line needs, and what it counts. */
typedef struct write_run {
    const moose__cli *cli;
    const moose_stream_desc *stream;
    moose_app *app;
    write_state *st;
    moose_arena arena;
    moose_errors errs;
    size_t written, refused;
} write_run;

/* A line that does not decode: refused, counted, and dead-lettered when the stream says so. */
static void refuse_undecodable(write_run *w, long lineno, const char *line, size_t len, int rc) {
    const moose_stream_desc *stream = w->stream;
    w->refused++;
    moose__cli_print_errors(stderr, lineno, &w->errs, rc);
    int idx = moose__app_stream_index(w->app, stream);
    /* A line that is no record never reaches moose_write(), which counts the others. */
    moose__count(w->app->stream_metrics[idx], MOOSE__C_RECORDS_IN, 1);
    moose__metrics_validated(w->app->stream_metrics[idx], line, len, &w->errs);
    if (stream->on_invalid != MOOSE_ON_INVALID_DEAD_LETTER)
        return;
    char message[320], errstr[512];
    const moose_field_error *e = w->errs.len ? &w->errs.items[0] : NULL;
    if (snprintf(message, sizeof message, "%s%s%s", e ? e->path : "",
                 e && e->path[0] ? ": " : "", e ? e->message : "not a valid record") < 0)
        message[0] = '\0';
    /* Filed under the Key it was meant to have, when that much can be read. */
    moose_buf key;
    moose_buf_init(&key);
    int has_key = moose__key_from_json(stream->model, line, len, &key);
    if (moose__app_dead_letter(w->app, stream, MOOSE__DLQ_VALIDATION_ERROR, message, &w->errs,
                               has_key == 1 ? key.data : NULL, has_key == 1 ? key.len : 0, line,
                               len, errstr, sizeof errstr) != 0)
        fprintf(stderr, "%ld: error: not kept in the dead letter queue: %s\n", lineno, errstr);
    moose_buf_free(&key);
}

static int write_one_line(long lineno, const char *line, size_t len, void *opaque) {
    write_run *w = opaque;
    const moose__cli *cli = w->cli;
    const moose_model_desc *model = w->stream->model;
    moose_arena_reset(&w->arena);
    moose_errors_clear(&w->errs);
    void *rec = moose_arena_alloc(&w->arena, model->size, model->align);
    if (!rec) {
        fprintf(stderr, "%s: out of memory at line %ld\n", cli->prog, lineno);
        return MOOSE__EXIT_USAGE;
    }
    model->init(rec);
    moose_decode_options dopts = {.allow_extra_fields = w->stream->allow_extra_fields,
                                  .max_bytes = len + 1,
                                  .max_depth = cli->opts->cfg.max_depth};
    int rc = model->decode(rec, line, len, &w->arena, &dopts, &w->errs);
    if (rc != 0) {
        refuse_undecodable(w, lineno, line, len, rc);
        return 0;
    }
    write_line *wl = malloc(sizeof *wl);
    if (!wl) {
        fprintf(stderr, "%s: out of memory at line %ld\n", cli->prog, lineno);
        return MOOSE__EXIT_USAGE;
    }
    *wl = (write_line){w->st, lineno};
    rc = moose_write_async(w->app, w->stream, rec, &w->errs, delivered, wl);
    if (rc != 0) {
        free(wl);
        w->refused++;
        pthread_mutex_lock(&w->st->lock);
        moose__cli_print_errors(stderr, lineno, &w->errs, rc);
        pthread_mutex_unlock(&w->st->lock);
        /* The transport is gone: the lines after would fail the same way. */
        return rc != MOOSE_EVALIDATION && rc != MOOSE_ETOOBIG ? MOOSE__EXIT_FAILED : 0;
    }
    w->written++;
    return 0;
}

int moose__cli_write(const moose__cli *cli) {
    const moose_stream_desc *stream;
    const char *path;
    FILE *fp = moose__cli_stream_input(cli, &stream, &path);
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
    write_run w = {.cli = cli, .stream = stream, .app = app, .st = &st};
    moose_arena_init(&w.arena);
    moose_errors_init(&w.errs);
    size_t too_long = 0;
    int stop = moose__cli_each_line(cli, fp, path, stderr, write_one_line, &w, &too_long);
    int status = stop == MOOSE__EXIT_USAGE ? MOOSE__EXIT_USAGE : MOOSE__EXIT_OK;
    w.refused += too_long;
    int frc;
    while ((frc = moose_app_flush(app, 5000)) == MOOSE_ETIMEDOUT)
        fprintf(stderr, "%s: waiting for the broker to acknowledge %" PRId64 " records\n",
                cli->prog, moose__producer_in_flight(app->producer));
    moose_app_close(app); /* reports whatever is still unacknowledged */
    pthread_mutex_lock(&st.lock);
    size_t ok = w.written - st.failed;
    size_t refused = w.refused + st.failed;
    pthread_mutex_unlock(&st.lock);
    fprintf(stderr, "%zu written, %zu refused\n", ok, refused);
    if (status == MOOSE__EXIT_OK && refused)
        status = MOOSE__EXIT_FAILED;
    moose_errors_free(&w.errs);
    moose_arena_free(&w.arena);
    pthread_mutex_destroy(&st.lock);
    if (fp != stdin)
        fclose(fp);
    return status;
}
