/*
 * A transform call allocates nothing once warm: the decoded input, the
 * function's strings and the encoded outputs live in buffers reused from
 * record to record. Counted by interposing malloc and friends (left out
 * under AddressSanitizer, which owns them there).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "transform_internal.h"

#if defined(__SANITIZE_ADDRESS__)
#define COUNTING 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define COUNTING 0
#endif
#endif
#ifndef COUNTING
#define COUNTING 1
#endif

static _Thread_local unsigned long allocations;

#if COUNTING
void *__libc_malloc(size_t size);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t size);

void *malloc(size_t size) {
    allocations++;
    return __libc_malloc(size);
}
void *calloc(size_t n, size_t size) {
    allocations++;
    return __libc_calloc(n, size);
}
void *realloc(void *p, size_t size) {
    allocations++;
    return __libc_realloc(p, size);
}
#endif

static void run_records(fixture_transform which, const char *const *inputs, size_t ninputs) {
    fixture_app f;
    fixture_app_init(&f, "steady", which, 1);
    moose_transform_ctx ctx;
    unsigned long before = allocations;
    assert_int_equal(moose__transform_ctx_init(&ctx, &f.transform, 1 << 20), 0);
    /* the count works: setting up does allocate */
    if (COUNTING)
        assert_true(allocations > before);
    /* warm up: buffers grow to what a record needs */
    for (int i = 0; i < 100; i++)
        for (size_t j = 0; j < ninputs; j++)
            moose__transform_record(&ctx, inputs[j], strlen(inputs[j]), 0, i);
    allocations = 0;
    size_t outputs = 0;
    for (int i = 0; i < 10000; i++)
        for (size_t j = 0; j < ninputs; j++) {
            moose__transform_record(&ctx, inputs[j], strlen(inputs[j]), 0, i);
            outputs += ctx.noutputs;
        }
    unsigned long seen = allocations;
    assert_true(outputs > 0);
    moose__transform_ctx_free(&ctx);
    if (COUNTING)
        assert_int_equal(seen, 0);
}

static void one_to_one_allocates_nothing(void **state) {
    (void)state;
    static const char *const inputs[] = {"{\"id\":\"a1\",\"data\":\"12.5\"}",
                                         "{\"id\":\"a-much-longer-key-0001\",\"data\":\"7\"}"};
    run_records(FIXTURE_TO_FLOAT, inputs, 2);
}

static void one_to_many_allocates_nothing(void **state) {
    (void)state;
    static const char *const inputs[] = {"{\"id\":\"k\",\"data\":\"3\"}"};
    run_records(FIXTURE_SPLIT, inputs, 1);
}

static void failures_allocate_nothing(void **state) {
    (void)state;
    /* refused records are common in a bad batch: they must not cost allocations either */
    static const char *const inputs[] = {"{\"id\":\"x\",\"data\":\"abc\"}",
                                         "{\"id\":\"n\",\"data\":\"neg\"}",
                                         "{\"id\":\"e\",\"data\":\"\"}", "not json"};
    fixture_app f;
    fixture_app_init(&f, "steady", FIXTURE_TO_FLOAT, 1);
    moose_transform_ctx ctx;
    assert_int_equal(moose__transform_ctx_init(&ctx, &f.transform, 1 << 20), 0);
    for (int i = 0; i < 100; i++)
        for (size_t j = 0; j < 4; j++)
            moose__transform_record(&ctx, inputs[j], strlen(inputs[j]), 0, i);
    allocations = 0;
    for (int i = 0; i < 1000; i++)
        for (size_t j = 0; j < 4; j++)
            assert_true(moose__transform_record(&ctx, inputs[j], strlen(inputs[j]), 0, i) < 0);
    unsigned long seen = allocations;
    moose__transform_ctx_free(&ctx);
    if (COUNTING)
        assert_int_equal(seen, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_to_one_allocates_nothing),
        cmocka_unit_test(one_to_many_allocates_nothing),
        cmocka_unit_test(failures_allocate_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
