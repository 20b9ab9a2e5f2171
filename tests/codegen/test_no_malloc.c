/*
 * Zero malloc per record in steady state: once the arena, the error list and
 * the output buffer have grown to fit, decoding, validating (patterns
 * included) and encoding a record allocate nothing. Every malloc, calloc
 * and realloc of this program, libmoose included, is counted through the
 * linker's --wrap.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "all_types.moose.h"

static size_t allocations;

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t size);

void *__wrap_malloc(size_t size) {
    allocations++;
    return __real_malloc(size);
}

void *__wrap_calloc(size_t n, size_t size) {
    allocations++;
    return __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t size) {
    allocations++;
    return __real_realloc(p, size);
}

static const char doc[] =
    "{\"id\":\"k1\",\"s\":\"tab\\there \\u00e9\",\"b\":true,\"i8\":-128,\"i16\":32767,\"i32\":5,"
    "\"i64\":-9223372036854775808,\"u8\":1,\"u16\":65535,\"u32\":4294967295,"
    "\"u64\":18446744073709551615,\"f32\":0.1,\"f64\":1e+21,\"at\":\"2024-03-20T11:00:00.500Z\","
    "\"day\":\"2024-02-29\",\"uid\":\"123e4567-e89b-12d3-a456-426614174000\",\"price\":-0.05,"
    "\"small\":1.5,\"kind\":\"b-c\",\"home\":{\"street\":\"Main St\",\"zip\":\"12345\"},"
    "\"work\":{\"street\":\"Office\"},\"past\":[{\"street\":\"Old\",\"zip\":\"54321\"}],"
    "\"maybe_tags\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\"],"
    "\"scores\":[1.5,-0.0,2e-308,123456.789],\"opt_int\":7,\"level\":7}";

static void steady_state_allocates_nothing(void **state) {
    (void)state;
    moose_arena arena;
    moose_arena_init(&arena);
    moose_errors errs;
    moose_errors_init(&errs);
    moose_buf out;
    moose_buf_init(&out);
    size_t before = 0;
    for (int i = 0; i < 2000; i++) {
        if (i == 100)
            before = allocations; /* warmed up: arena chunk, buffers, pattern compiled */
        moose_arena_reset(&arena);
        moose_errors_clear(&errs);
        moose_buf_reset(&out);
        Everything rec;
        assert_int_equal(Everything_from_json(&rec, doc, sizeof doc - 1, &arena, NULL, &errs), 0);
        assert_int_equal(Everything_validate(&rec, &errs), 0);
        assert_int_equal(Everything_to_json(&rec, &out), 0);
        /* a refused record too: its errors go into the list that is already there */
        Everything bad;
        assert_int_equal(Everything_from_json(&bad, "{\"u8\":300}", 10, &arena, NULL, &errs),
                         MOOSE_EDECODE);
    }
    assert_true(before > 0); /* the counting works: warming up did allocate */
    assert_int_equal(allocations - before, 0);
    moose_buf_free(&out);
    moose_errors_free(&errs);
    moose_arena_free(&arena);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(steady_state_allocates_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
