/* The value formats generated codecs rely on: exact text in, exact text out. */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "moose/codec.h"
#include "moose/validate.h"

static void datetime_parses_offsets_and_fractions(void **state) {
    (void)state;
    moose_datetime t;
    const char *why = NULL;
    assert_int_equal(moose_datetime_parse("1970-01-01T00:00:00Z", 20, &t, &why), 0);
    assert_int_equal(t, 0);
    assert_int_equal(moose_datetime_parse("2024-03-20T12:00:00.5+01:00", 27, &t, &why), 0);
    assert_int_equal(t, INT64_C(1710932400500000));
    assert_int_equal(moose_datetime_parse("2024-03-20t11:00:00.500000z", 27, &t, &why), 0);
    assert_int_equal(t, INT64_C(1710932400500000));
    /* nanoseconds are truncated to microseconds */
    assert_int_equal(moose_datetime_parse("1969-12-31T23:59:59.999999999Z", 30, &t, &why), 0);
    assert_int_equal(t, -1);
    char buf[MOOSE_DATETIME_TEXT_MAX];
    moose_datetime_format(-1, buf);
    assert_string_equal(buf, "1969-12-31T23:59:59.999999Z");
    moose_datetime_format(INT64_C(1710932400500000), buf);
    assert_string_equal(buf, "2024-03-20T11:00:00.500Z");
    moose_datetime_format(MOOSE_DATETIME_MAX, buf);
    assert_string_equal(buf, "9999-12-31T23:59:59.999999Z");
    moose_datetime_format(MOOSE_DATETIME_MIN, buf);
    assert_string_equal(buf, "0000-01-01T00:00:00Z");
}

/* One day after another, and back: nothing of the day read or written before carries over. */
static void datetime_days_in_turn(void **state) {
    (void)state;
    static const char *const days[] = {"2024-03-20", "2024-03-21", "2024-03-20", "1999-12-31",
                                       "2024-02-29", "2024-03-20"};
    char text[32], buf[MOOSE_DATETIME_TEXT_MAX];
    for (size_t i = 0; i < sizeof days / sizeof *days; i++) {
        snprintf(text, sizeof text, "%sT23:59:5%zuZ", days[i], i);
        moose_datetime t;
        const char *why = NULL;
        assert_int_equal(moose_datetime_parse(text, strlen(text), &t, &why), 0);
        moose_date d;
        assert_int_equal(moose_date_parse(days[i], 10, &d, &why), 0);
        assert_int_equal(t, ((int64_t)d * 86400 + 86399 - 9 + (int64_t)i) * 1000000);
        moose_datetime_format(t, buf);
        assert_string_equal(buf, text);
    }
    /* A day read before does not make a bad time of day good. */
    moose_datetime t;
    const char *why = NULL;
    assert_int_equal(moose_datetime_parse("2024-03-20T24:00:00Z", 20, &t, &why), -1);
    assert_string_equal(why, "time of day out of range");
    assert_int_equal(moose_datetime_parse("2024-03-20T1x:00:00Z", 20, &t, &why), -1);
}

static void datetime_refuses_with_reasons(void **state) {
    (void)state;
    moose_datetime t;
    const char *why = NULL;
    assert_int_equal(moose_datetime_parse("2024-03-20T12:00:00", 19, &t, &why), -1);
    assert_string_equal(why, "expected an RFC 3339 date-time such as 2024-03-20T12:00:00Z");
    assert_int_equal(moose_datetime_parse("2024-02-30T12:00:00Z", 20, &t, &why), -1);
    assert_string_equal(why, "day does not exist in that month");
    assert_int_equal(moose_datetime_parse("2024-03-20T12:00:60Z", 20, &t, &why), -1);
    assert_string_equal(why, "leap seconds are not supported");
    assert_int_equal(moose_datetime_parse("2024-03-20T12:00:00+1:00", 24, &t, &why), -1);
    assert_string_equal(why, "time zone offset must be +HH:MM or -HH:MM");
    assert_int_equal(moose_datetime_parse("2024-03-20T12:00:00.Z", 21, &t, &why), -1);
    assert_string_equal(why, "a '.' must be followed by fraction digits");
    assert_int_equal(moose_datetime_parse("2024-03-20T12:00:00", 20, &t, &why), -1);
}

static void date_and_uuid(void **state) {
    (void)state;
    moose_date d;
    const char *why;
    assert_int_equal(moose_date_parse("2024-02-29", 10, &d, &why), 0);
    assert_int_equal(d, 19782);
    assert_int_equal(moose_date_parse("2023-02-29", 10, &d, &why), -1);
    char buf[MOOSE_DATE_TEXT_MAX];
    moose_date_format(-1, buf);
    assert_string_equal(buf, "1969-12-31");
    moose_uuid u;
    assert_int_equal(moose_uuid_parse("123E4567-e89b-12d3-a456-426614174000", 36, &u, &why), 0);
    assert_int_equal(u.bytes[0], 0x12);
    assert_int_equal(u.bytes[15], 0x00);
    char ubuf[MOOSE_UUID_TEXT_MAX];
    moose_uuid_format(&u, ubuf);
    assert_string_equal(ubuf, "123e4567-e89b-12d3-a456-426614174000");
    assert_int_equal(moose_uuid_parse("123e4567e89b12d3a456426614174000", 32, &u, &why), -1);
    assert_string_equal(why, "expected a UUID as 8-4-4-4-12 hexadecimal digits");
}

static void decimal_is_exact(void **state) {
    (void)state;
    moose_decimal v;
    const char *why;
    assert_int_equal(moose_decimal_parse("12.3", 4, 9, 2, &v, &why), 0);
    assert_int_equal(v, 1230);
    assert_int_equal(moose_decimal_parse("-1.25e2", 7, 9, 2, &v, &why), 0);
    assert_int_equal(v, -12500);
    assert_int_equal(moose_decimal_parse("0.000", 5, 9, 2, &v, &why), 0);
    assert_int_equal(v, 0);
    assert_int_equal(moose_decimal_parse("1.005", 5, 9, 2, &v, &why), -1);
    assert_string_equal(why, "more fractional digits than the Decimal's scale");
    assert_int_equal(moose_decimal_parse("1.010", 5, 9, 2, &v, &why), 0);
    assert_int_equal(v, 101);
    assert_int_equal(moose_decimal_parse("10000000", 8, 9, 2, &v, &why), -1);
    assert_string_equal(why, "more digits than the Decimal's precision");
    assert_int_equal(moose_decimal_parse("9999999.99", 10, 9, 2, &v, &why), 0);
    assert_int_equal(v, 999999999);
    char buf[MOOSE_DECIMAL_TEXT_MAX];
    moose_decimal_format(-5, 2, buf);
    assert_string_equal(buf, "-0.05");
    moose_decimal_format(1230, 2, buf);
    assert_string_equal(buf, "12.30");
    moose_decimal_format(7, 0, buf);
    assert_string_equal(buf, "7");
}

static void floats_are_shortest_and_round_trip(void **state) {
    (void)state;
    char buf[MOOSE_FLOAT_TEXT_MAX];
    moose_float64_format(0.1, buf);
    assert_string_equal(buf, "0.1");
    moose_float64_format(5.0, buf);
    assert_string_equal(buf, "5.0");
    moose_float64_format(-0.0, buf);
    assert_string_equal(buf, "-0.0");
    moose_float64_format(123.456, buf);
    assert_string_equal(buf, "123.456");
    moose_float64_format(1e300, buf);
    assert_string_equal(buf, "1e+300");
    moose_float64_format(0.1 + 0.2, buf);
    assert_string_equal(buf, "0.30000000000000004");
    moose_float32_format(0.1f, buf);
    assert_string_equal(buf, "0.1");
    /* random bit patterns: the text always reads back as the same double */
    srand(7);
    for (int i = 0; i < 200000; i++) {
        uint64_t bits = ((uint64_t)rand() << 42) ^ ((uint64_t)rand() << 21) ^ (uint64_t)rand();
        double d;
        memcpy(&d, &bits, sizeof d);
        if (!isfinite(d))
            continue;
        moose_float64_format(d, buf);
        double back = strtod(buf, NULL);
        assert_memory_equal(&back, &d, sizeof d);
        uint32_t b32 = (uint32_t)bits;
        float f;
        memcpy(&f, &b32, sizeof f);
        if (!isfinite(f))
            continue;
        moose_float32_format(f, buf);
        float fb = strtof(buf, NULL);
        assert_memory_equal(&fb, &f, sizeof f);
    }
}

/*
 * Short decimals, the usual values: read exactly as strtod reads them (the
 * one-pass path), and written back as the same, shortest, text.
 */
static void float64_short_decimals_keep_their_text(void **state) {
    (void)state;
    char text[48], buf[MOOSE_FLOAT_TEXT_MAX];
    srand(5);
    for (int i = 0; i < 300000; i++) {
        long whole = rand() % 1000000000L;
        int k = 1 + rand() % 6;
        long frac = rand() % 1000000L;
        for (int j = 6; j > k; j--)
            frac /= 10;
        if (frac % 10 == 0)
            frac++; /* no trailing zero: the shortest text is this one */
        snprintf(text, sizeof text, "%s%ld.%0*ld", i % 3 ? "" : "-", whole, k, frac);
        double d = -1;
        assert_int_equal(moose_float64_parse(text, strlen(text), &d, NULL), 0);
        double want = strtod(text, NULL);
        assert_memory_equal(&d, &want, sizeof d);
        moose_float64_format(d, buf);
        assert_string_equal(buf, text);
    }
}

/* Short decimals as Float32: the text must read back as the same float. */
static void float32_short_decimals_round_trip(void **state) {
    (void)state;
    char buf[MOOSE_FLOAT_TEXT_MAX];
    for (int k = 0; k <= 6; k++) {
        float scale = 1;
        for (int i = 0; i < k; i++)
            scale *= 10;
        for (int m = -100000; m <= 100000; m += 7) {
            float f = (float)m / scale;
            moose_float32_format(f, buf);
            float back = strtof(buf, NULL);
            assert_memory_equal(&back, &f, sizeof f);
        }
    }
}

static void assert_parses(const char *text, double want) {
    double got = -12345;
    const char *why = NULL;
    assert_int_equal(moose_float64_parse(text, strlen(text), &got, &why), 0);
    assert_memory_equal(&got, &want, sizeof got);
}

static void assert_refused(const char *text, const char *reason) {
    double got = -12345;
    const char *why = NULL;
    assert_int_equal(moose_float64_parse(text, strlen(text), &got, &why), -1);
    assert_string_equal(why, reason);
    assert_true(got == -12345); /* untouched */
}

/* Decimal text as Python's float() reads it, nothing more. */
static void float64_parse_reads_decimal_text(void **state) {
    (void)state;
    assert_parses("12.5", 12.5);
    assert_parses("-3", -3.0);
    assert_parses("+2", 2.0);
    assert_parses(".5", 0.5);
    assert_parses("5.", 5.0);
    assert_parses("1e-3", 1e-3);
    assert_parses("2.5E+2", 250.0);
    assert_parses(" \t7 \n", 7.0);
    assert_parses("0.1", 0.1);
    assert_parses("-0", -0.0);
    assert_parses("1e-400", 0.0); /* below the smallest: zero, as float() */
    /* Past the exact fast path: 30 digits, and an exponent past 10^22. */
    assert_parses("123456789012345678901234567890", 123456789012345678901234567890.0);
    assert_parses("4.9406564584124654e-324", 4.9406564584124654e-324);
    assert_parses("1.7976931348623157e308", 1.7976931348623157e308);
    /* Only LEN bytes are read. */
    double v = 0;
    assert_int_equal(moose_float64_parse("12.5xyz", 4, &v, NULL), 0);
    assert_true(v == 12.5);

    assert_refused("", "nothing but white space");
    assert_refused("   ", "nothing but white space");
    assert_refused("abc", "no digits");
    assert_refused("-", "no digits");
    assert_refused(".", "no digits");
    assert_refused("inf", "no digits");
    assert_refused("nan", "no digits");
    assert_refused("12,5", "text after the number");
    assert_refused("0x1A", "text after the number");
    assert_refused("1 2", "text after the number");
    assert_refused("1e", "the exponent has no digits");
    assert_refused("1e+", "the exponent has no digits");
    assert_refused("1e400", "out of the range of a Float64");
    assert_refused("-1e400", "out of the range of a Float64");

    /* Every double's shortest text reads back as that double. */
    char buf[MOOSE_FLOAT_TEXT_MAX];
    srand(11);
    for (int i = 0; i < 100000; i++) {
        uint64_t bits = ((uint64_t)rand() << 42) ^ ((uint64_t)rand() << 21) ^ (uint64_t)rand();
        double d, back;
        memcpy(&d, &bits, sizeof d);
        if (!isfinite(d))
            continue;
        size_t n = moose_float64_format(d, buf);
        assert_int_equal(moose_float64_parse(buf, n, &back, NULL), 0);
        assert_memory_equal(&back, &d, sizeof d);
    }
}

static void utf8_length_counts_characters(void **state) {
    (void)state;
    assert_int_equal(moose_utf8_length("h\xc3\xa9llo", 6), 5);
    assert_int_equal(moose_utf8_length("\xf0\x9f\x98\x80", 4), 1);
    assert_int_equal(moose_utf8_length("\xc0\xaf", 2), -1);         /* overlong */
    assert_int_equal(moose_utf8_length("\xed\xa0\x80", 3), -1);     /* surrogate */
    assert_int_equal(moose_utf8_length("\xf4\x90\x80\x80", 4), -1); /* > U+10FFFF */
    assert_int_equal(moose_utf8_length("\xe2\x82", 2), -1);         /* truncated */
}

/*
 * A non-ASCII byte is seen wherever it sits, in strings of every length up
 * to past two words: characters are counted, and a stray byte is refused.
 */
static void validate_str_sees_every_byte(void **state) {
    (void)state;
    char buf[48];
    for (size_t len = 1; len <= 40; len++) {
        for (size_t at = 0; at < len; at++) {
            memset(buf, 'a', sizeof buf);
            moose_errors errs;
            moose_errors_init(&errs);
            /* "é" in place of one 'a' at AT: LEN + 1 bytes, LEN characters */
            memmove(buf + at + 2, buf + at + 1, len - at - 1);
            buf[at] = '\xc3';
            buf[at + 1] = '\xa9';
            moose_str s = {buf, len + 1};
            assert_int_equal(moose_validate_str(&errs, NULL, "f", s, (int64_t)len, (int64_t)len, NULL), 0);
            assert_int_equal(moose_validate_str(&errs, NULL, "f", s, (int64_t)len + 1, -1, NULL), 1);
            assert_string_equal(errs.items[0].rule, "length");
            moose_errors_free(&errs);
            /* a lone continuation byte at AT */
            memset(buf, 'a', sizeof buf);
            buf[at] = '\x80';
            moose_errors_init(&errs);
            moose_str bad = {buf, len};
            assert_int_equal(moose_validate_str(&errs, NULL, "f", bad, -1, -1, NULL), 1);
            assert_string_equal(errs.items[0].rule, "encoding");
            moose_errors_free(&errs);
        }
    }
}

static void arena_reuses_its_chunk(void **state) {
    (void)state;
    moose_arena a;
    moose_arena_init(&a);
    char *first = moose_arena_alloc(&a, 10000, 8);
    assert_non_null(first);
    moose_arena_alloc(&a, 100000, 8);
    moose_arena_reset(&a);
    /* after a reset, a record that fitted before fits again without a new chunk */
    void *head = a.head;
    for (int i = 0; i < 100; i++) {
        assert_non_null(moose_arena_alloc(&a, 1000, 8));
    }
    assert_ptr_equal(a.head, head);
    void *p = moose_arena_alloc(&a, 3, 64);
    assert_int_equal((uintptr_t)p % 64, 0);
    moose_arena_free(&a);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(datetime_parses_offsets_and_fractions),
        cmocka_unit_test(datetime_refuses_with_reasons),
        cmocka_unit_test(datetime_days_in_turn),
        cmocka_unit_test(date_and_uuid),
        cmocka_unit_test(decimal_is_exact),
        cmocka_unit_test(floats_are_shortest_and_round_trip),
        cmocka_unit_test(float32_short_decimals_round_trip),
        cmocka_unit_test(float64_short_decimals_keep_their_text),
        cmocka_unit_test(float64_parse_reads_decimal_text),
        cmocka_unit_test(utf8_length_counts_characters),
        cmocka_unit_test(validate_str_sees_every_byte),
        cmocka_unit_test(arena_reuses_its_chunk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
