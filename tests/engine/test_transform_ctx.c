/*
 * One record through a transform, without Kafka: what the user's function
 * emits, and why a record is refused (decode, input validation, the
 * function's own failure, an invalid output).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "moose/error.h"
#include "transform_internal.h"

typedef struct run {
    fixture_app f;
    moose_transform_ctx ctx;
} run;

static run *start(fixture_transform which) {
    run *r = test_malloc(sizeof *r);
    fixture_app_init(&r->f, "ctx", which, 1);
    assert_int_equal(moose__transform_ctx_init(&r->ctx, &r->f.transform, 1 << 20), 0);
    return r;
}

static void finish(run *r) {
    moose__transform_ctx_free(&r->ctx);
    test_free(r);
}

static int feed(run *r, const char *json) {
    return moose__transform_record(&r->ctx, json, strlen(json), 3, 42);
}

static void assert_output(run *r, size_t i, uint32_t dest, const char *value, const char *key) {
    assert_true(i < r->ctx.noutputs);
    const moose__output *o = &r->ctx.outputs[i];
    assert_int_equal(o->dest, dest);
    char got[256];
    snprintf(got, sizeof got, "%.*s", (int)o->value_len, r->ctx.out.data + o->value_off);
    assert_string_equal(got, value);
    assert_true(o->has_key);
    snprintf(got, sizeof got, "%.*s", (int)o->key_len, r->ctx.out.data + o->key_off);
    assert_string_equal(got, key);
}

static void one_to_one(void **state) {
    (void)state;
    run *r = start(FIXTURE_TO_FLOAT);
    assert_int_equal(feed(r, "{\"id\":\"a1\",\"data\":\"12.5\"}"), 0);
    assert_int_equal(r->ctx.noutputs, 1);
    assert_output(r, 0, 0, "{\"id\":\"a1\",\"value\":12.5}", "a1");
    /* the next record starts from nothing */
    assert_int_equal(feed(r, "{\"data\":\"7\",\"id\":\"b\"}"), 0);
    assert_int_equal(r->ctx.noutputs, 1);
    assert_output(r, 0, 0, "{\"id\":\"b\",\"value\":7.0}", "b");
    finish(r);
}

static void one_to_many(void **state) {
    (void)state;
    run *r = start(FIXTURE_SPLIT);
    assert_int_equal(feed(r, "{\"id\":\"k\",\"data\":\"3\"}"), 0);
    assert_int_equal(r->ctx.noutputs, 2);
    assert_output(r, 0, 0, "{\"id\":\"k-1\",\"value\":3.0}", "k-1");
    assert_output(r, 1, 0, "{\"id\":\"k-2\",\"value\":6.0}", "k-2");
    finish(r);
}

static void filter(void **state) {
    (void)state;
    run *r = start(FIXTURE_FILTER);
    assert_int_equal(feed(r, "{\"id\":\"low\",\"data\":\"50\"}"), 0);
    assert_int_equal(r->ctx.noutputs, 0);
    assert_int_equal(r->ctx.failure, MOOSE__FAIL_NONE);
    assert_int_equal(feed(r, "{\"id\":\"high\",\"data\":\"150\"}"), 0);
    assert_int_equal(r->ctx.noutputs, 1);
    assert_output(r, 0, 0, "{\"id\":\"high\",\"value\":150.0}", "high");
    finish(r);
}

static void fan_out(void **state) {
    (void)state;
    run *r = start(FIXTURE_FANOUT);
    assert_int_equal(feed(r, "{\"id\":\"f\",\"data\":\"1\"}"), 0);
    assert_int_equal(r->ctx.noutputs, 2);
    assert_output(r, 0, 0, "{\"id\":\"f\",\"value\":1.0}", "f");
    assert_output(r, 1, 1, "{\"id\":\"f\",\"value\":2.0}", "f");
    finish(r);
}

static void partition_and_offset_reach_the_function(void **state) {
    (void)state;
    run *r = start(FIXTURE_TAG);
    assert_int_equal(feed(r, "{\"id\":\"t\",\"data\":\"1\"}"), 0);
    assert_output(r, 0, 0, "{\"id\":\"t@3:42\",\"value\":1.0}", "t@3:42");
    finish(r);
}

static void transform_failure(void **state) {
    (void)state;
    run *r = start(FIXTURE_TO_FLOAT);
    assert_int_equal(feed(r, "{\"id\":\"x\",\"data\":\"abc\"}"), MOOSE_ETRANSFORM);
    assert_int_equal(r->ctx.failure, MOOSE__FAIL_TRANSFORM);
    assert_string_equal(r->ctx.reason, "data 'abc' is not a number");
    assert_false(moose__failure_is_validation(r->ctx.failure));
    finish(r);
}

static void invalid_output(void **state) {
    (void)state;
    run *r = start(FIXTURE_TO_FLOAT);
    assert_int_equal(feed(r, "{\"id\":\"n\",\"data\":\"neg\"}"), MOOSE_EVALIDATION);
    assert_int_equal(r->ctx.failure, MOOSE__FAIL_OUTPUT);
    assert_int_equal(r->ctx.noutputs, 0);
    assert_string_equal(r->ctx.reason,
                        "output to out failed validation: value: -1 is outside [0, 1e+09]");
    assert_int_equal(r->ctx.errs.len, 1);
    assert_string_equal(r->ctx.errs.items[0].path, "value");
    assert_string_equal(r->ctx.errs.items[0].rule, "range");
    finish(r);
}

static void undecodable_input(void **state) {
    (void)state;
    run *r = start(FIXTURE_TO_FLOAT);
    assert_true(feed(r, "{\"id\":\"x\",") < 0);
    assert_int_equal(r->ctx.failure, MOOSE__FAIL_DECODE);
    assert_true(moose__failure_is_validation(r->ctx.failure));
    assert_true(strncmp(r->ctx.reason, "input is not a valid RawEvent", 29) == 0);
    assert_true(r->ctx.errs.len >= 1);

    assert_true(feed(r, "{\"id\":\"x\"}") < 0);
    assert_int_equal(r->ctx.failure, MOOSE__FAIL_DECODE);
    assert_string_equal(r->ctx.errs.items[0].path, "data");
    finish(r);
}

static void invalid_input(void **state) {
    (void)state;
    run *r = start(FIXTURE_TO_FLOAT);
    assert_int_equal(feed(r, "{\"id\":\"e\",\"data\":\"\"}"), MOOSE_EVALIDATION);
    assert_int_equal(r->ctx.failure, MOOSE__FAIL_INPUT);
    assert_string_equal(r->ctx.reason,
                        "input failed raw's validation: data: length 0 is outside [1, 64]");
    finish(r);
}

static void helpers_live_in_the_call_arena(void **state) {
    (void)state;
    run *r = start(FIXTURE_TO_FLOAT);
    moose_str s = moose_transform_printf(&r->ctx, "%s-%d", "id", 7);
    assert_string_equal(s.ptr, "id-7");
    assert_int_equal(s.len, 4);
    s = moose_transform_strdup(&r->ctx, "abcdef", 3);
    assert_string_equal(s.ptr, "abc");
    double *d = moose_transform_alloc(&r->ctx, sizeof *d);
    assert_non_null(d);
    assert_int_equal((uintptr_t)d % _Alignof(max_align_t), 0);
    assert_int_equal(moose_transform_fail(&r->ctx, "because %d", 1), MOOSE_ETRANSFORM);
    assert_string_equal(r->ctx.reason, "because 1");
    /* the first reason wins: later failures do not overwrite it */
    moose_transform_fail(&r->ctx, "later");
    assert_string_equal(r->ctx.reason, "because 1");
    assert_int_equal(moose_transform_emit(&r->ctx, 5, &(ProcessedEvent){0}), MOOSE_ETRANSFORM);
    finish(r);
}

static void emit_to_unknown_destination(void **state) {
    (void)state;
    run *r = start(FIXTURE_TO_FLOAT);
    ProcessedEvent e = {{"a", 1}, 1};
    assert_int_equal(moose_transform_emit(&r->ctx, 1, &e), MOOSE_ETRANSFORM);
    assert_string_equal(r->ctx.reason, "transform emitted to destination 1 but has only 1");
    finish(r);
}

/*
 * A worker keeps a batch's outputs together: each record's are added after
 * the last record's, and a record that fails half way (its second output is
 * out of range) leaves none of its own behind, nor harms those before it.
 */
static void kept_outputs_of_a_batch(void **state) {
    (void)state;
    run *r = start(FIXTURE_SPLIT);
    r->ctx.keep_outputs = true;
    assert_int_equal(feed(r, "{\"id\":\"a\",\"data\":\"1\"}"), 0);
    assert_int_equal(r->ctx.first_output, 0);
    assert_int_equal(r->ctx.noutputs, 2);
    size_t kept_bytes = r->ctx.out.len;
    assert_int_equal(feed(r, "{\"id\":\"big\",\"data\":\"600000000\"}"), MOOSE_EVALIDATION);
    assert_int_equal(r->ctx.noutputs, 2);
    assert_int_equal(r->ctx.out.len, kept_bytes);
    assert_int_equal(feed(r, "{\"id\":\"b\",\"data\":\"2\"}"), 0);
    assert_int_equal(r->ctx.first_output, 2);
    assert_int_equal(r->ctx.noutputs, 4);
    assert_output(r, 0, 0, "{\"id\":\"a-1\",\"value\":1.0}", "a-1");
    assert_output(r, 1, 0, "{\"id\":\"a-2\",\"value\":2.0}", "a-2");
    assert_output(r, 2, 0, "{\"id\":\"b-1\",\"value\":2.0}", "b-1");
    assert_output(r, 3, 0, "{\"id\":\"b-2\",\"value\":4.0}", "b-2");
    moose__transform_drop_outputs(&r->ctx);
    assert_int_equal(feed(r, "{\"id\":\"c\",\"data\":\"3\"}"), 0);
    assert_int_equal(r->ctx.first_output, 0);
    assert_int_equal(r->ctx.noutputs, 2);
    assert_output(r, 0, 0, "{\"id\":\"c-1\",\"value\":3.0}", "c-1");
    finish(r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_to_one),
        cmocka_unit_test(one_to_many),
        cmocka_unit_test(filter),
        cmocka_unit_test(fan_out),
        cmocka_unit_test(partition_and_offset_reach_the_function),
        cmocka_unit_test(transform_failure),
        cmocka_unit_test(invalid_output),
        cmocka_unit_test(undecodable_input),
        cmocka_unit_test(invalid_input),
        cmocka_unit_test(helpers_live_in_the_call_arena),
        cmocka_unit_test(emit_to_unknown_destination),
        cmocka_unit_test(kept_outputs_of_a_batch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
