/*
 * Validation statistics per component: how many records were checked,
 * which field failed which rule how often, and the last few failing records
 * with their reasons. Passing records only touch a striped counter; the
 * lock is taken for failures, which are the rare and interesting case.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "metrics_component.h"

void moose__validation_init(moose__validation *v) {
    pthread_mutex_init(&v->lock, NULL);
}

void moose__validation_destroy(moose__validation *v) {
    pthread_mutex_destroy(&v->lock);
}

/* "items[12].tags[0]" -> "items[].tags[]": one row per field, not per element. */
static void fold_indices(const char *path, char *out, size_t size) {
    size_t o = 0;
    for (const char *p = path; *p && o + 1 < size; p++) {
        out[o++] = *p;
        if (*p == '[') {
            const char *q = p + 1;
            while (*q >= '0' && *q <= '9')
                q++;
            if (*q == ']' && q > p + 1)
                p = q - 1;
        }
    }
    out[o] = '\0';
}

static void count_failure(moose__validation *v, const char *path, const char *rule) {
    char folded[sizeof v->failures[0].path];
    fold_indices(path ? path : "", folded, sizeof folded);
    if (rule == NULL)
        rule = "";
    for (uint32_t i = 0; i < v->nfailures; i++) {
        moose_validation_failure *f = &v->failures[i];
        if (strcmp(f->path, folded) == 0 && strncmp(f->rule, rule, sizeof f->rule - 1) == 0) {
            f->count++;
            return;
        }
    }
    if (v->nfailures == MOOSE__VALIDATION_SLOTS) {
        v->other_failures++;
        return;
    }
    moose_validation_failure *f = &v->failures[v->nfailures++];
    snprintf(f->path, sizeof f->path, "%s", folded);
    snprintf(f->rule, sizeof f->rule, "%s", rule);
    f->count = 1;
}

static void keep_sample(moose__validation *v, const char *record, size_t len,
                        const moose_errors *errs) {
    moose_validation_sample *s = &v->samples[v->sample_next];
    v->sample_next = (v->sample_next + 1) % MOOSE_VALIDATION_MAX_SAMPLES;
    if (v->nsamples < MOOSE_VALIDATION_MAX_SAMPLES)
        v->nsamples++;
    memset(s, 0, sizeof *s);
    s->seq = ++v->seq;
    s->time_ms = moose__metrics_wall_us() / 1000;
    if (record == NULL)
        len = 0;
    size_t kept = len < MOOSE_VALIDATION_SAMPLE_BYTES ? len : MOOSE_VALIDATION_SAMPLE_BYTES;
    if (kept)
        memcpy(s->record, record, kept);
    s->record[kept] = '\0';
    s->record_len = len;
    s->truncated = kept < len;
    size_t total = errs ? errs->len + errs->dropped : 0;
    for (size_t i = 0; errs && i < errs->len && s->nreasons < MOOSE_VALIDATION_SAMPLE_REASONS; i++) {
        const moose_field_error *e = &errs->items[i];
        /* Bounded pieces: the path and rule matter most, the message is cut last. */
        snprintf(s->reasons[s->nreasons++], sizeof s->reasons[0], "%.60s: %.20s: %.70s",
                 e->path[0] ? e->path : "(record)", e->rule ? e->rule : "invalid", e->message);
    }
    s->more_reasons = (uint32_t)(total - s->nreasons);
}

void moose__metrics_validated(moose__component *c, const char *record, size_t len,
                              const moose_errors *errs) {
    if (c == NULL)
        return;
    if (errs == NULL || (errs->len == 0 && errs->dropped == 0)) {
        moose__count(c, MOOSE__C_VALID, 1);
        return;
    }
    moose__count(c, MOOSE__C_INVALID, 1);
    moose__validation *v = &c->validation;
    pthread_mutex_lock(&v->lock);
    for (size_t i = 0; i < errs->len; i++)
        count_failure(v, errs->items[i].path, errs->items[i].rule);
    v->other_failures += errs->dropped;
    keep_sample(v, record, len, errs);
    pthread_mutex_unlock(&v->lock);
}

static int by_count_desc(const void *a, const void *b) {
    const moose_validation_failure *x = a, *y = b;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    int by_path = strcmp(x->path, y->path);
    return by_path ? by_path : strcmp(x->rule, y->rule);
}

void moose__component_validation(moose__component *c, moose_validation_stats *out) {
    memset(out, 0, sizeof *out);
    moose__validation *v = &c->validation;
    moose_validation_failure all[MOOSE__VALIDATION_SLOTS];
    pthread_mutex_lock(&v->lock);
    uint32_t n = v->nfailures;
    memcpy(all, v->failures, n * sizeof all[0]);
    out->other_failures = v->other_failures;
    out->nsamples = v->nsamples;
    for (uint32_t i = 0; i < v->nsamples; i++) {
        uint32_t at = (v->sample_next + MOOSE_VALIDATION_MAX_SAMPLES - 1 - i) %
                      MOOSE_VALIDATION_MAX_SAMPLES;
        out->samples[i] = v->samples[at];
    }
    pthread_mutex_unlock(&v->lock);
    /* Read after the failures, so passed + failed never lags what the table shows. */
    out->passed = moose__component_total(c, MOOSE__C_VALID);
    out->failed = moose__component_total(c, MOOSE__C_INVALID);
    out->checked = out->passed + out->failed;

    qsort(all, n, sizeof all[0], by_count_desc);
    out->nfailures = n < MOOSE_VALIDATION_MAX_FAILURES ? n : MOOSE_VALIDATION_MAX_FAILURES;
    memcpy(out->failures, all, out->nfailures * sizeof all[0]);
    for (uint32_t i = out->nfailures; i < n; i++)
        out->other_failures += all[i].count;
}
