/*
 * The per-call context of a transform: what moose_transform_emit() and
 * friends write into, and the step that runs one input record through the
 * user's function. Everything lives in buffers reused from record to record,
 * so steady-state processing allocates nothing.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "moose/error.h"
#include "transform_internal.h"

int moose__transform_ctx_init(moose_transform_ctx *ctx, const moose_transform_desc *desc,
                              size_t max_bytes) {
    memset(ctx, 0, sizeof *ctx);
    ctx->desc = desc;
    ctx->max_bytes = max_bytes;
    moose_arena_init(&ctx->arena);
    moose_buf_init(&ctx->out);
    moose_errors_init(&ctx->errs);
    ctx->cap = 4;
    ctx->outputs = malloc(ctx->cap * sizeof *ctx->outputs);
    return ctx->outputs ? 0 : MOOSE_ENOMEM;
}

void moose__transform_ctx_free(moose_transform_ctx *ctx) {
    moose_arena_free(&ctx->arena);
    moose_buf_free(&ctx->out);
    moose_errors_free(&ctx->errs);
    free(ctx->outputs);
    ctx->outputs = NULL;
}

bool moose__failure_is_validation(moose__failure f) {
    return f == MOOSE__FAIL_DECODE || f == MOOSE__FAIL_INPUT || f == MOOSE__FAIL_OUTPUT;
}

__attribute__((format(printf, 2, 3))) static void set_reason(moose_transform_ctx *ctx,
                                                             const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->reason, sizeof ctx->reason, fmt, ap);
    va_end(ap);
}

/* "PREFIX: path: message (and N more)" from the first error in ERRS. */
static void reason_from_errors(moose_transform_ctx *ctx, const char *prefix) {
    const moose_errors *e = &ctx->errs;
    size_t more = e->len + e->dropped - (e->len ? 1 : 0);
    if (e->len == 0) {
        set_reason(ctx, "%s", prefix);
        return;
    }
    const moose_field_error *first = &e->items[0];
    char tail[48] = "";
    if (more)
        snprintf(tail, sizeof tail, " (and %zu more)", more);
    if (first->path[0])
        set_reason(ctx, "%s: %s: %s%s", prefix, first->path,
                 first->message, tail);
    else
        set_reason(ctx, "%s: %s%s", prefix, first->message, tail);
}

int moose_transform_emit(moose_transform_ctx *ctx, uint32_t dest_index, const void *rec) {
    if (!ctx || !rec)
        return MOOSE_EINVAL;
    if (ctx->failure != MOOSE__FAIL_NONE)
        return ctx->failure == MOOSE__FAIL_TRANSFORM ? MOOSE_ETRANSFORM : MOOSE_EVALIDATION;
    if (dest_index >= ctx->desc->ndestinations) {
        ctx->failure = MOOSE__FAIL_TRANSFORM;
        snprintf(ctx->reason, sizeof ctx->reason,
                 "transform emitted to destination %u but has only %u", dest_index,
                 ctx->desc->ndestinations);
        return MOOSE_ETRANSFORM;
    }
    const moose_stream_desc *dest = ctx->desc->destinations[dest_index];
    const moose_model_desc *model = dest->model;
    if (model->validate(rec, &ctx->errs) != 0) {
        char prefix[160];
        snprintf(prefix, sizeof prefix, "output to %s failed validation", dest->name);
        ctx->failure = MOOSE__FAIL_OUTPUT;
        reason_from_errors(ctx, prefix);
        return MOOSE_EVALIDATION;
    }
    if (ctx->noutputs == ctx->cap) {
        moose__output *grown = realloc(ctx->outputs, 2 * ctx->cap * sizeof *grown);
        if (!grown)
            goto nomem;
        ctx->outputs = grown;
        ctx->cap *= 2;
    }
    moose__output *o = &ctx->outputs[ctx->noutputs];
    o->dest = dest_index;
    o->value_off = ctx->out.len;
    int rc = model->encode(rec, &ctx->out);
    if (rc != 0 || ctx->out.failed) {
        if (rc == MOOSE_ENOMEM || ctx->out.failed)
            goto nomem;
        ctx->failure = MOOSE__FAIL_OUTPUT;
        set_reason(ctx, "output to %s could not be encoded: %s",
                 dest->name, moose_strerror(rc));
        return MOOSE_EVALIDATION;
    }
    o->value_len = ctx->out.len - o->value_off;
    o->key_off = ctx->out.len;
    rc = moose__key_append(model, rec, &ctx->out);
    if (rc < 0) {
        if (rc == MOOSE_ENOMEM)
            goto nomem;
        ctx->failure = MOOSE__FAIL_OUTPUT;
        set_reason(ctx, "output to %s has a key of an unsupported type",
                 dest->name);
        return MOOSE_EVALIDATION;
    }
    o->has_key = rc == 1;
    o->key_len = ctx->out.len - o->key_off;
    ctx->noutputs++;
    return 0;
nomem:
    ctx->failure = MOOSE__FAIL_TRANSFORM;
    set_reason(ctx, "out of memory encoding an output to %s",
             dest->name);
    return MOOSE_ENOMEM;
}

int moose_transform_fail(moose_transform_ctx *ctx, const char *fmt, ...) {
    if (!ctx)
        return MOOSE_ETRANSFORM;
    if (ctx->failure == MOOSE__FAIL_NONE) {
        ctx->failure = MOOSE__FAIL_TRANSFORM;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ctx->reason, sizeof ctx->reason, fmt, ap);
        va_end(ap);
    }
    return MOOSE_ETRANSFORM;
}

moose_str moose_transform_strdup(moose_transform_ctx *ctx, const char *s, size_t len) {
    moose_str r = {NULL, 0};
    if (!ctx || (!s && len))
        return r;
    char *p = moose_arena_alloc(&ctx->arena, len + 1, 1);
    if (!p)
        return r;
    if (len)
        memcpy(p, s, len);
    p[len] = '\0';
    r.ptr = p;
    r.len = len;
    return r;
}

moose_str moose_transform_printf(moose_transform_ctx *ctx, const char *fmt, ...) {
    moose_str r = {NULL, 0};
    if (!ctx)
        return r;
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n >= 0) {
        char *p = moose_arena_alloc(&ctx->arena, (size_t)n + 1, 1);
        if (p) {
            vsnprintf(p, (size_t)n + 1, fmt, ap2);
            r.ptr = p;
            r.len = (size_t)n;
        }
    }
    va_end(ap2);
    return r;
}

void *moose_transform_alloc(moose_transform_ctx *ctx, size_t size) {
    if (!ctx)
        return NULL;
    return moose_arena_alloc(&ctx->arena, size ? size : 1, _Alignof(max_align_t));
}

int32_t moose_transform_partition(const moose_transform_ctx *ctx) {
    return ctx ? ctx->partition : -1;
}

int64_t moose_transform_offset(const moose_transform_ctx *ctx) {
    return ctx ? ctx->offset : -1;
}

void moose__transform_drop_outputs(moose_transform_ctx *ctx) {
    moose_buf_reset(&ctx->out);
    ctx->noutputs = ctx->first_output = 0;
}

static int transform_one(moose_transform_ctx *ctx, const void *value, size_t len,
                         int32_t partition, int64_t offset);

int moose__transform_record(moose_transform_ctx *ctx, const void *value, size_t len,
                            int32_t partition, int64_t offset) {
    if (!ctx->keep_outputs)
        moose__transform_drop_outputs(ctx);
    ctx->first_output = ctx->noutputs;
    size_t kept = ctx->out.len;
    int rc = transform_one(ctx, value, len, partition, offset);
    if (rc != 0) {
        /* A failed record's outputs, if it emitted any before failing, go nowhere. */
        ctx->noutputs = ctx->first_output;
        ctx->out.len = kept;
        ctx->out.failed = false;
    }
    return rc;
}

static int transform_one(moose_transform_ctx *ctx, const void *value, size_t len,
                         int32_t partition, int64_t offset) {
    const moose_transform_desc *t = ctx->desc;
    const moose_stream_desc *src = t->source;
    const moose_model_desc *model = src->model;
    moose_arena_reset(&ctx->arena);
    moose_errors_clear(&ctx->errs);
    ctx->failure = MOOSE__FAIL_NONE;
    ctx->reason[0] = '\0';
    ctx->partition = partition;
    ctx->offset = offset;

    void *in = moose_arena_alloc(&ctx->arena, model->size, model->align);
    if (!in) {
        ctx->failure = MOOSE__FAIL_TRANSFORM;
        set_reason(ctx, "out of memory decoding a %s", model->name);
        return MOOSE_ENOMEM;
    }
    model->init(in);
    moose_decode_options dopts = {
        .allow_extra_fields = src->allow_extra_fields,
        .max_bytes = ctx->max_bytes,
        .max_depth = ctx->max_depth,
    };
    int rc = model->decode(in, value ? value : "", len, &ctx->arena, &dopts, &ctx->errs);
    if (rc != 0) {
        char prefix[160];
        snprintf(prefix, sizeof prefix, "input is not a valid %s", model->name);
        ctx->failure = MOOSE__FAIL_DECODE;
        reason_from_errors(ctx, prefix);
        return rc;
    }
    rc = model->validate(in, &ctx->errs);
    if (rc != 0) {
        char prefix[160];
        snprintf(prefix, sizeof prefix, "input failed %s's validation", src->name);
        ctx->failure = MOOSE__FAIL_INPUT;
        reason_from_errors(ctx, prefix);
        return rc;
    }
    rc = t->fn(in, ctx);
    if (ctx->failure != MOOSE__FAIL_NONE)
        return ctx->failure == MOOSE__FAIL_TRANSFORM ? MOOSE_ETRANSFORM : MOOSE_EVALIDATION;
    if (rc != 0) {
        ctx->failure = MOOSE__FAIL_TRANSFORM;
        snprintf(ctx->reason, sizeof ctx->reason,
                 "transform returned %d (%s) without saying why (use moose_transform_fail)", rc,
                 moose_strerror(rc));
        return MOOSE_ETRANSFORM;
    }
    return 0;
}
