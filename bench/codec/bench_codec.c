/*
 * Generated codecs against a generic one (jansson) for the same models, in
 * the same run: RawEvent (as in examples/raw_to_processed) and UserEvent
 * (bench/codec/events.moose).
 *
 *   bench_codec [SECONDS_PER_CASE]      (default 1.0)
 *
 * Prints a Markdown table: records/s and MB/s (of JSON text) for decode +
 * validate vs jansson parse + field extraction, encode vs jansson pack +
 * dump, and a memcpy of the same bytes as the ceiling. The cases take turns
 * in ten slices of SECONDS / 10 each (CPU time of this thread); each figure
 * is its best slice.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "events.moose.h"

enum { NDOCS = 4096 };

static uint64_t rng = 0x2545F4914F6CDD1Dull;
static uint64_t rnd(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static moose_str rnd_text(moose_arena *a, size_t min, size_t max) {
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -_";
    size_t n = min + rnd() % (max - min + 1);
    char *s = moose_arena_alloc(a, n + 1, 1);
    for (size_t i = 0; i < n; i++)
        s[i] = alphabet[rnd() % (sizeof alphabet - 1)];
    s[n] = '\0';
    moose_str r = {s, n};
    return r;
}

typedef struct corpus {
    char *text;     /* the documents back to back */
    size_t *offset; /* NDOCS + 1 */
    size_t bytes;
} corpus;

static void corpus_add(corpus *c, moose_buf *all, size_t i) {
    c->offset[i + 1] = all->len;
    (void)c;
}

/*
 * The thread's CPU time, not the wall clock: on a shared machine the wall
 * clock also counts the time other processes held the CPU.
 */
static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct result {
    double recs_per_s, mb_per_s;
} result;

typedef size_t (*bench_fn)(const corpus *c, size_t i, void *ctx);

/* One timed pass of FN over the corpus, repeated for about SECONDS; updates BEST. */
static void measure_once(const corpus *c, bench_fn fn, void *ctx, double seconds, result *best) {
    volatile size_t sink = 0;
    size_t recs = 0, bytes = 0;
    double t0 = now(), t;
    do {
        for (size_t i = 0; i < NDOCS; i++) {
            sink += fn(c, i, ctx);
            bytes += c->offset[i + 1] - c->offset[i];
        }
        recs += NDOCS;
        t = now();
    } while (t - t0 < seconds);
    (void)sink;
    double rps = (double)recs / (t - t0);
    if (rps > best->recs_per_s) {
        best->recs_per_s = rps;
        best->mb_per_s = (double)bytes / (t - t0) / 1e6;
    }
}

/* ---- the same work for both models ---- */

typedef struct bench_ctx {
    moose_arena arena;
    moose_errors errs;
    moose_buf out;
    char *dump;
    size_t dump_cap;
    void *records; /* decoded once, for the encoders */
} bench_ctx;

static size_t copy_doc(const corpus *c, size_t i, void *vctx) {
    bench_ctx *ctx = vctx;
    size_t len = c->offset[i + 1] - c->offset[i];
    memcpy(ctx->dump, c->text + c->offset[i], len);
    return (size_t)ctx->dump[len / 2];
}

static size_t raw_decode(const corpus *c, size_t i, void *vctx) {
    bench_ctx *ctx = vctx;
    moose_arena_reset(&ctx->arena);
    RawEvent rec;
    int rc = RawEvent_from_json(&rec, c->text + c->offset[i], c->offset[i + 1] - c->offset[i],
                                &ctx->arena, NULL, &ctx->errs);
    if (rc == 0)
        rc = RawEvent_validate(&rec, &ctx->errs);
    if (rc != 0) {
        fprintf(stderr, "RawEvent document %zu refused: %s\n", i, ctx->errs.items[0].message);
        exit(1);
    }
    return rec.data.len;
}

/* jansson: parse, then take every field out with the checks a decoder needs. */
static size_t raw_jansson_decode(const corpus *c, size_t i, void *vctx) {
    (void)vctx;
    json_error_t err;
    json_t *root = json_loadb(c->text + c->offset[i], c->offset[i + 1] - c->offset[i],
                              JSON_REJECT_DUPLICATES, &err);
    RawEvent rec = RawEvent_INIT;
    json_t *v;
    size_t ok = 0;
    if (root && json_is_object(root)) {
        if ((v = json_object_get(root, "id")) && json_is_string(v)) {
            rec.id.ptr = json_string_value(v);
            rec.id.len = json_string_length(v);
            ok++;
        }
        if ((v = json_object_get(root, "data")) && json_is_string(v)) {
            rec.data.ptr = json_string_value(v);
            rec.data.len = json_string_length(v);
            ok++;
        }
        if ((v = json_object_get(root, "source")) && json_is_string(v)) {
            for (int k = 0; k < 3; k++)
                if (strcmp(json_string_value(v), RawEvent_source_names[k]) == 0) {
                    rec.source = (RawEvent_source)k;
                    ok++;
                }
        }
        if ((v = json_object_get(root, "amount")) && json_is_number(v)) {
            rec.has_amount = true;
            rec.amount = json_number_value(v);
        }
        if ((v = json_object_get(root, "tags")) && json_is_array(v)) {
            size_t n = json_array_size(v);
            for (size_t k = 0; k < n; k++)
                ok += json_is_string(json_array_get(v, k)) ? 0 : 100;
            ok++;
        }
        const char *why;
        if ((v = json_object_get(root, "timestamp")) && json_is_string(v) &&
            moose_datetime_parse(json_string_value(v), json_string_length(v), &rec.timestamp,
                                 &why) == 0)
            ok++;
    }
    if (ok != 5) {
        fprintf(stderr, "jansson refused RawEvent document %zu\n", i);
        exit(1);
    }
    json_decref(root);
    return rec.data.len;
}

static size_t raw_encode(const corpus *c, size_t i, void *vctx) {
    (void)c;
    bench_ctx *ctx = vctx;
    moose_buf_reset(&ctx->out);
    RawEvent_to_json(&((RawEvent *)ctx->records)[i], &ctx->out);
    return ctx->out.len;
}

static size_t raw_jansson_encode(const corpus *c, size_t i, void *vctx) {
    (void)c;
    bench_ctx *ctx = vctx;
    const RawEvent *r = &((RawEvent *)ctx->records)[i];
    char ts[MOOSE_DATETIME_TEXT_MAX];
    moose_datetime_format(r->timestamp, ts);
    json_t *tags = json_array();
    for (size_t k = 0; k < r->tags.len; k++)
        json_array_append_new(tags, json_stringn(r->tags.items[k].ptr, r->tags.items[k].len));
    json_t *obj = json_pack("{s:s#, s:s#, s:s, s:o, s:o, s:s}", "id", r->id.ptr, (int)r->id.len,
                            "data", r->data.ptr, (int)r->data.len, "source",
                            RawEvent_source_names[r->source], "amount",
                            r->has_amount ? json_real(r->amount) : json_null(), "tags", tags,
                            "timestamp", ts);
    size_t n = json_dumpb(obj, ctx->dump, ctx->dump_cap, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(obj);
    return n;
}

static size_t user_decode(const corpus *c, size_t i, void *vctx) {
    bench_ctx *ctx = vctx;
    moose_arena_reset(&ctx->arena);
    UserEvent rec;
    int rc = UserEvent_from_json(&rec, c->text + c->offset[i], c->offset[i + 1] - c->offset[i],
                                 &ctx->arena, NULL, &ctx->errs);
    if (rc == 0)
        rc = UserEvent_validate(&rec, &ctx->errs);
    if (rc != 0) {
        fprintf(stderr, "UserEvent document %zu refused: %s\n", i, ctx->errs.items[0].message);
        exit(1);
    }
    return rec.user_id.len;
}

static size_t user_jansson_decode(const corpus *c, size_t i, void *vctx) {
    (void)vctx;
    json_error_t err;
    json_t *root = json_loadb(c->text + c->offset[i], c->offset[i + 1] - c->offset[i],
                              JSON_REJECT_DUPLICATES, &err);
    UserEvent rec = UserEvent_INIT;
    json_t *v;
    size_t ok = 0;
    if (root && json_is_object(root)) {
        if ((v = json_object_get(root, "id")) && json_is_string(v)) {
            rec.id.ptr = json_string_value(v);
            rec.id.len = json_string_length(v);
            ok++;
        }
        if ((v = json_object_get(root, "user_id")) && json_is_string(v)) {
            rec.user_id.ptr = json_string_value(v);
            rec.user_id.len = json_string_length(v);
            ok++;
        }
        if ((v = json_object_get(root, "event_type")) && json_is_string(v)) {
            rec.event_type.ptr = json_string_value(v);
            rec.event_type.len = json_string_length(v);
            ok++;
        }
        const char *why;
        if ((v = json_object_get(root, "timestamp")) && json_is_string(v) &&
            moose_datetime_parse(json_string_value(v), json_string_length(v), &rec.timestamp,
                                 &why) == 0)
            ok++;
    }
    if (ok != 4) {
        fprintf(stderr, "jansson refused UserEvent document %zu\n", i);
        exit(1);
    }
    json_decref(root);
    return rec.user_id.len;
}

static size_t user_encode(const corpus *c, size_t i, void *vctx) {
    (void)c;
    bench_ctx *ctx = vctx;
    moose_buf_reset(&ctx->out);
    UserEvent_to_json(&((UserEvent *)ctx->records)[i], &ctx->out);
    return ctx->out.len;
}

static size_t user_jansson_encode(const corpus *c, size_t i, void *vctx) {
    (void)c;
    bench_ctx *ctx = vctx;
    const UserEvent *r = &((UserEvent *)ctx->records)[i];
    char ts[MOOSE_DATETIME_TEXT_MAX];
    moose_datetime_format(r->timestamp, ts);
    json_t *obj = json_pack("{s:s#, s:s#, s:s#, s:s}", "id", r->id.ptr, (int)r->id.len, "user_id",
                            r->user_id.ptr, (int)r->user_id.len, "event_type", r->event_type.ptr,
                            (int)r->event_type.len, "timestamp", ts);
    size_t n = json_dumpb(obj, ctx->dump, ctx->dump_cap, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(obj);
    return n;
}

/* ---- corpora ---- */

static void make_raw(corpus *c, RawEvent *recs, moose_arena *a) {
    static const char *const tags[] = {"mobile", "beta", "eu", "checkout", "promo"};
    moose_buf all;
    moose_buf_init(&all);
    for (size_t i = 0; i < NDOCS; i++) {
        RawEvent *r = &recs[i];
        RawEvent_init(r);
        r->id = rnd_text(a, 16, 24);
        r->data = rnd_text(a, 8, 64);
        r->source = (RawEvent_source)(rnd() % 3);
        r->has_amount = rnd() % 2;
        r->amount = (double)(rnd() % 1000000) / 100.0;
        r->tags.len = rnd() % 4;
        r->tags.items = moose_arena_alloc(a, sizeof(moose_str) * 4, 8);
        for (size_t k = 0; k < r->tags.len; k++) {
            const char *t = tags[rnd() % 5];
            r->tags.items[k].ptr = t;
            r->tags.items[k].len = strlen(t);
        }
        r->timestamp = INT64_C(1700000000000000) + (int64_t)(rnd() % 100000000000000ull);
        c->offset[i] = all.len;
        RawEvent_to_json(r, &all);
        corpus_add(c, &all, i);
    }
    c->text = all.data;
    c->bytes = all.len;
}

static void make_user(corpus *c, UserEvent *recs, moose_arena *a) {
    static const char *const types[] = {"page_view", "click", "signup", "purchase"};
    moose_buf all;
    moose_buf_init(&all);
    for (size_t i = 0; i < NDOCS; i++) {
        UserEvent *r = &recs[i];
        UserEvent_init(r);
        r->id = rnd_text(a, 16, 24);
        r->user_id = rnd_text(a, 8, 12);
        const char *t = types[rnd() % 4];
        r->event_type.ptr = t;
        r->event_type.len = strlen(t);
        r->timestamp = INT64_C(1700000000000000) + (int64_t)(rnd() % 100000000000000ull);
        c->offset[i] = all.len;
        UserEvent_to_json(r, &all);
        corpus_add(c, &all, i);
    }
    c->text = all.data;
    c->bytes = all.len;
}

static void row(const char *what, result r, result base) {
    printf("| %s | %.0f | %.1f | %.1f× |\n", what, r.recs_per_s, r.mb_per_s,
           r.recs_per_s / base.recs_per_s);
}

static void run_model(const char *name, corpus *c, void *records, bench_fn dec, bench_fn jdec,
                      bench_fn enc, bench_fn jenc, double seconds) {
    bench_ctx ctx;
    moose_arena_init(&ctx.arena);
    moose_errors_init(&ctx.errs);
    moose_buf_init(&ctx.out);
    ctx.dump_cap = 1 << 16;
    ctx.dump = malloc(ctx.dump_cap);
    ctx.records = records;
    if (!ctx.dump) {
        fputs("out of memory\n", stderr);
        exit(2);
    }
    /*
     * The cases take turns in short slices, and each keeps its best slice:
     * on a shared machine both codecs then see the same conditions, and the
     * best slice is the one least disturbed by other processes.
     */
    result r_copy = {0, 0}, r_jdec = {0, 0}, r_dec = {0, 0}, r_jenc = {0, 0}, r_enc = {0, 0};
    enum { SLICES = 10 };
    for (int k = 0; k < SLICES; k++) {
        measure_once(c, copy_doc, &ctx, seconds / SLICES, &r_copy);
        measure_once(c, jdec, &ctx, seconds / SLICES, &r_jdec);
        measure_once(c, dec, &ctx, seconds / SLICES, &r_dec);
        measure_once(c, jenc, &ctx, seconds / SLICES, &r_jenc);
        measure_once(c, enc, &ctx, seconds / SLICES, &r_enc);
    }
    printf("\n**%s** (%d documents, %.0f bytes on average)\n\n", name, NDOCS,
           (double)c->bytes / NDOCS);
    printf("| | records/s | MB/s | vs jansson |\n|---|---:|---:|---:|\n");
    row("decode + validate (generated)", r_dec, r_jdec);
    row("parse + field extraction (jansson)", r_jdec, r_jdec);
    row("encode (generated)", r_enc, r_jenc);
    row("pack + dump (jansson)", r_jenc, r_jenc);
    printf("| memcpy of the same bytes (ceiling) | %.0f | %.1f | |\n", r_copy.recs_per_s,
           r_copy.mb_per_s);
    printf("\n%s: decode + validate %.1f× jansson (target 10×), encode %.1f× jansson (target 15×)\n",
           name, r_dec.recs_per_s / r_jdec.recs_per_s, r_enc.recs_per_s / r_jenc.recs_per_s);
    free(ctx.dump);
    moose_buf_free(&ctx.out);
    moose_errors_free(&ctx.errs);
    moose_arena_free(&ctx.arena);
}

int main(int argc, char **argv) {
    double seconds = argc > 1 ? strtod(argv[1], NULL) : 1.0;
    moose_arena a;
    moose_arena_init(&a);
    static RawEvent raws[NDOCS];
    static UserEvent users[NDOCS];
    size_t offsets_raw[NDOCS + 1], offsets_user[NDOCS + 1];
    corpus raw = {NULL, offsets_raw, 0}, user = {NULL, offsets_user, 0};
    make_raw(&raw, raws, &a);
    make_user(&user, users, &a);
    run_model("RawEvent", &raw, raws, raw_decode, raw_jansson_decode, raw_encode,
              raw_jansson_encode, seconds);
    run_model("UserEvent", &user, users, user_decode, user_jansson_decode, user_encode,
              user_jansson_encode, seconds);
    free(raw.text);
    free(user.text);
    moose_arena_free(&a);
    return 0;
}
