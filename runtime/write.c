/*
 * moose_write(): validate, encode, produce with the Key as the message key.
 * An invalid record is always refused with every failing field; when its
 * stream says on_invalid: dead_letter it is also kept in the DLQ, so nothing
 * a caller offered is lost.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app_internal.h"
#include "log.h"
#include "moose/error.h"
#include "transform_internal.h"

int moose__app_dead_letter(moose_app *app, const moose_stream_desc *stream,
                           moose__dlq_error_type type, const char *message,
                           const moose_errors *errs, const void *key, size_t key_len,
                           const void *original, size_t original_len, char *errstr,
                           size_t errstr_size) {
    moose__dlq_entry entry = {
        .type = type,
        .source = MOOSE__DLQ_FROM_WRITE,
        .message = message,
        .errors = errs,
        .topic = stream->topic,
        .partition = -1,
        .offset = -1,
        .key = key,
        .key_len = key_len,
        .original = original ? original : "",
        .original_len = original ? original_len : 0,
    };
    int rc = moose__dlq_send(app->producer, &entry, true, NULL, NULL, errstr, errstr_size);
    int idx = moose__app_stream_index(app, stream);
    if (rc == 0 && idx >= 0)
        moose__count(app->stream_metrics[idx], MOOSE__C_DLQ, 1);
    return rc;
}

/* Adds a whole-record error (no field path) so callers see transport failures in ERRS too. */
static void note(moose_errors *errs, const char *rule, const char *message) {
    if (errs)
        moose_errors_add(errs, "", rule, -1, "%s", message);
}

/* What one write has prepared: the encoded record and its key. */
typedef struct prepared {
    moose_buf buf;
    size_t value_len;
    const char *key;
    size_t key_len;
    bool has_key;
    moose__component *metrics;
} prepared;

/*
 * Validates and encodes REC. On refusal returns the code (EVALIDATION with
 * ERRS filled, and a DLQ copy when the stream asks for one).
 */
static int prepare(moose_app *app, const moose_stream_desc *stream, const void *rec,
                   moose_errors *errs, prepared *p) {
    moose_buf_init(&p->buf);
    if (!app || !stream || !rec)
        return MOOSE_EINVAL;
    if (atomic_load_explicit(&app->closed, memory_order_relaxed))
        return MOOSE_ECLOSED;
    int idx = moose__app_stream_index(app, stream);
    if (idx < 0) {
        note(errs, "stream", "the stream is not one of this app's streams");
        return MOOSE_EINVAL;
    }
    p->metrics = app->stream_metrics[idx];
    /* Every record offered is in: in = out + invalid + the writes the transport refused. */
    moose__count(p->metrics, MOOSE__C_RECORDS_IN, 1);
    const moose_model_desc *model = stream->model;
    size_t before = errs->len + errs->dropped;
    int vrc = model->validate(rec, errs);
    int rc = model->encode(rec, &p->buf);
    if (rc == 0 && p->buf.failed)
        rc = MOOSE_ENOMEM;
    if (rc != 0) {
        note(errs, "encode", moose_strerror(rc));
        return rc;
    }
    p->value_len = p->buf.len;
    int krc = moose__key_append(model, rec, &p->buf);
    if (krc < 0) {
        note(errs, "key", "the record's key could not be encoded");
        return krc;
    }
    p->has_key = krc == 1;
    p->key = p->buf.data + p->value_len;
    p->key_len = p->buf.len - p->value_len;

    if (vrc != 0 || errs->len + errs->dropped > before) {
        moose__metrics_validated(p->metrics, p->buf.data, p->value_len, errs);
        if (stream->on_invalid == MOOSE_ON_INVALID_DEAD_LETTER) {
            char errstr[256], message[320];
            const moose_field_error *first = errs->len > before ? &errs->items[before] : NULL;
            if (snprintf(message, sizeof message, "%s%s%s", first ? first->path : "",
                         first && first->path[0] ? ": " : "",
                         first ? first->message : "record failed validation") < 0)
                message[0] = '\0';
            if (moose__app_dead_letter(app, stream, MOOSE__DLQ_VALIDATION_ERROR, message, errs,
                                       p->has_key ? p->key : NULL, p->key_len, p->buf.data,
                                       p->value_len, errstr, sizeof errstr) != 0)
                moose__log(MOOSE__LOG_ERROR, stream->name, "dlq",
                           "an invalid record could not be kept in the dead letter queue: %s",
                           errstr);
        }
        return MOOSE_EVALIDATION;
    }
    moose__metrics_validated(p->metrics, NULL, 0, NULL);
    return 0;
}

int moose_write(moose_app *app, const moose_stream_desc *stream, const void *rec,
                moose_errors *errs) {
    moose_errors local;
    moose_errors_init(&local);
    moose_errors *e = errs ? errs : &local;
    prepared p;
    uint64_t t0 = moose__metrics_now_ns();
    int rc = prepare(app, stream, rec, e, &p);
    if (rc == 0) {
        char errstr[256];
        rc = moose__producer_send_sync(app->producer, stream->topic, p.has_key ? p.key : NULL,
                                       p.key_len, p.buf.data, p.value_len, NULL, NULL, errstr,
                                       sizeof errstr);
        if (rc == 0) {
            moose__count(p.metrics, MOOSE__C_RECORDS_OUT, 1);
            moose__count(p.metrics, MOOSE__C_BYTES_OUT, p.value_len);
            moose__latency_record(p.metrics, MOOSE__L_WRITE_ACK, moose__metrics_now_ns() - t0);
        } else {
            note(e, "delivery", errstr);
        }
    }
    moose_buf_free(&p.buf);
    moose_errors_free(&local);
    return rc;
}

/* What an asynchronous write carries to its delivery report. */
typedef struct async_write {
    moose_write_cb cb;
    void *opaque;
    moose__component *metrics;
    size_t bytes;
    uint64_t t0;
} async_write;

void moose__write_async_delivered(int status, int32_t partition, int64_t offset,
                                  const char *message, void *opaque) {
    (void)partition;
    (void)offset;
    async_write *w = opaque;
    if (status == 0) {
        moose__count(w->metrics, MOOSE__C_RECORDS_OUT, 1);
        moose__count(w->metrics, MOOSE__C_BYTES_OUT, w->bytes);
        moose__latency_record(w->metrics, MOOSE__L_WRITE_ACK, moose__metrics_now_ns() - w->t0);
    }
    if (w->cb) {
        moose_errors errs;
        moose_errors_init(&errs);
        if (status != 0)
            moose_errors_add(&errs, "", "delivery", -1, "%s",
                             message ? message : moose_strerror(status));
        w->cb(status, &errs, w->opaque);
        moose_errors_free(&errs);
    }
    free(w);
}

int moose_write_async(moose_app *app, const moose_stream_desc *stream, const void *rec,
                      moose_errors *errs, moose_write_cb cb, void *opaque) {
    moose_errors local;
    moose_errors_init(&local);
    moose_errors *e = errs ? errs : &local;
    prepared p;
    int rc = prepare(app, stream, rec, e, &p);
    if (rc == 0) {
        async_write *w = malloc(sizeof *w);
        if (!w) {
            rc = MOOSE_ENOMEM;
        } else {
            *w = (async_write){cb, opaque, p.metrics, p.value_len, moose__metrics_now_ns()};
            rc = moose__producer_send(app->producer, stream->topic, -1, p.has_key ? p.key : NULL,
                                      p.key_len, p.buf.data, p.value_len,
                                      moose__write_async_delivered, w);
            if (rc != 0) {
                free(w);
                char message[512];
                snprintf(message, sizeof message, "cannot send a record to topic '%s': %s",
                         stream->topic, moose__producer_refusal());
                note(e, "delivery", message);
            }
        }
    }
    moose_buf_free(&p.buf);
    moose_errors_free(&local);
    return rc;
}

int moose_app_flush(moose_app *app, int timeout_ms) {
    if (!app)
        return MOOSE_EINVAL;
    return moose__producer_flush(app->producer, timeout_ms);
}
