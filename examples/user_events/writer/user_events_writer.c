/*
 * Writes user events with the typed write function moosec generates for
 * user_event_stream, the C form of the original's
 * `await user_event_stream.write(UserEvent(...))`.
 *
 * Three events are written and acknowledged by the broker; a fourth breaks
 * two of the model's rules and is refused with a typed error that lists
 * every failing field with its path and rule (the stream's
 * `on_invalid: dead_letter` also keeps it in the dead letter queue).
 *
 * Then it reads back what this process did on the stream, as the original's
 * get_metrics(), get_health() and get_validation_stats() do: the counters,
 * the health and the validation statistics, from the C API.
 *
 * Run it while `user_events run` is running in the same directory: it finds
 * that app's embedded broker. MOOSE_BROKERS selects a real Kafka instead.
 * Exit status 0 when the good events were written and the bad one refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <moose/app.h>
#include <moose/error.h>
#include <moose/metrics.h>

#include "user_events.moose.h"

typedef struct sample_event {
    const char *id, *user_id, *event_type, *timestamp;
} sample_event;

static moose_str text(const char *s) {
    moose_str str = {s, strlen(s)};
    return str;
}

/* Fills REC from SAMPLE; -1 (with a message) when the timestamp is not RFC 3339. */
static int make_event(const sample_event *sample, UserEvent *rec) {
    UserEvent_init(rec);
    rec->id = text(sample->id);
    rec->user_id = text(sample->user_id);
    rec->event_type = text(sample->event_type);
    const char *why = NULL;
    if (moose_datetime_parse(sample->timestamp, strlen(sample->timestamp), &rec->timestamp,
                             &why) != 0) {
        fprintf(stderr, "user_events_writer: event %s: timestamp '%s': %s\n", sample->id,
                sample->timestamp, why);
        return -1;
    }
    return 0;
}

static void print_refusal(const char *id, int rc, const moose_errors *errs) {
    printf("refused %s: %s (%s), %zu failing field%s:\n", id, moose_strerror(rc),
           moose_err_name(rc), errs->len, errs->len == 1 ? "" : "s");
    for (size_t i = 0; i < errs->len; i++)
        printf("  %s: %s [%s]\n", errs->items[i].path[0] ? errs->items[i].path : "(record)",
               errs->items[i].message, errs->items[i].rule ? errs->items[i].rule : "");
}

/* The stream's counters, health and validation statistics, as this process saw them. */
static int print_monitoring(moose_app *app) {
    const char *stream = user_event_stream_stream.name;
    moose_metrics m;
    moose_health h;
    moose_validation_stats v;
    if (moose_stream_metrics(app, stream, &m) != 0 || moose_stream_health(app, stream, &h) != 0 ||
        moose_stream_validation_stats(app, stream, &v) != 0) {
        fprintf(stderr, "user_events_writer: no metrics for stream %s\n", stream);
        return -1;
    }
    printf("metrics of %s: %llu written, %llu invalid, %llu in the dead letter queue\n", stream,
           (unsigned long long)m.records_out, (unsigned long long)m.invalid,
           (unsigned long long)m.dlq);
    printf("validation of %s: %llu checked, %llu passed, %llu failed\n", stream,
           (unsigned long long)v.checked, (unsigned long long)v.passed,
           (unsigned long long)v.failed);
    for (uint32_t i = 0; i < v.nfailures; i++)
        printf("  %s [%s]: %llu\n", v.failures[i].path, v.failures[i].rule,
               (unsigned long long)v.failures[i].count);
    printf("health of %s: %s\n", stream, moose_health_status_name(h.status));
    for (uint32_t i = 0; i < h.nreasons; i++)
        printf("  %s: %s\n", moose_health_reason_name(h.reasons[i].code), h.reasons[i].message);
    return 0;
}

int main(void) {
    static const sample_event good[] = {
        {"123", "user_456", "login", "2024-03-20T12:00:00Z"},
        {"124", "user_456", "page_view", "2024-03-20T12:00:05Z"},
        {"125", "user_789", "logout", "2024-03-20T12:01:00Z"},
    };
    /* An empty user_id (@length(1, 64)) and an event_type of 40 characters (@length(1, 32)). */
    static const sample_event bad = {"126", "", "a_very_long_event_type_nobody_should_use",
                                     "2024-03-20T12:02:00Z"};

    const char *brokers = getenv("MOOSE_BROKERS");
    moose_config cfg = {.brokers = brokers && *brokers ? brokers : "embedded",
                        .log_level = "warn"};
    char errstr[512];
    moose_app *app = moose_app_open(&user_events_app, &cfg, errstr, sizeof errstr);
    if (!app) {
        fprintf(stderr, "user_events_writer: %s\n", errstr);
        return 1;
    }

    int status = 0;
    moose_errors errs;
    moose_errors_init(&errs);
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        UserEvent rec;
        if (make_event(&good[i], &rec) != 0) {
            status = 1;
            continue;
        }
        moose_errors_clear(&errs);
        int rc = user_event_stream_write(app, &rec, &errs);
        if (rc == 0) {
            printf("wrote %s: %s %s at %s\n", good[i].id, good[i].user_id, good[i].event_type,
                   good[i].timestamp);
        } else {
            print_refusal(good[i].id, rc, &errs);
            status = 1;
        }
    }

    UserEvent rec;
    if (make_event(&bad, &rec) != 0) {
        status = 1;
    } else {
        moose_errors_clear(&errs);
        int rc = user_event_stream_write(app, &rec, &errs);
        if (rc == MOOSE_EVALIDATION) {
            print_refusal(bad.id, rc, &errs);
        } else {
            fprintf(stderr, "user_events_writer: event %s should have been refused, got %s\n",
                    bad.id, rc == 0 ? "success" : moose_err_name(rc));
            status = 1;
        }
    }
    moose_errors_free(&errs);
    if (print_monitoring(app) != 0)
        status = 1;
    moose_app_close(app);
    return status;
}
