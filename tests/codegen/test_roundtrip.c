/*
 * decode(encode(x)) == x for random records of every type (all_types.moose):
 * strings with every kind of character, integers across their whole width,
 * floats from random bit patterns, optional and nested fields, arrays.
 */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "all_types.moose.h"

static uint64_t rng_state = 88172645463325252ull;

static uint64_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static uint64_t below(uint64_t n) { return rnd() % n; }

/* A random valid UTF-8 string: ASCII, escapes-to-be, 2-, 3- and 4-byte characters. */
static moose_str rnd_str(moose_arena *a, size_t max_chars) {
    size_t n = below(max_chars + 1);
    char *s = moose_arena_alloc(a, n * 4 + 1, 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        switch (below(6)) {
        case 0: { /* control characters, quotes and backslashes */
            static const char specials[] = "\"\\/\b\f\n\r\t\x01\x1f\x7f";
            s[o++] = specials[below(sizeof specials - 1)];
            break;
        }
        case 1: {
            uint32_t cp = 0x80 + (uint32_t)below(0x800 - 0x80);
            s[o++] = (char)(0xC0 | cp >> 6);
            s[o++] = (char)(0x80 | (cp & 0x3F));
            break;
        }
        case 2: {
            uint32_t cp;
            do
                cp = 0x800 + (uint32_t)below(0x10000 - 0x800);
            while (cp >= 0xD800 && cp <= 0xDFFF);
            s[o++] = (char)(0xE0 | cp >> 12);
            s[o++] = (char)(0x80 | (cp >> 6 & 0x3F));
            s[o++] = (char)(0x80 | (cp & 0x3F));
            break;
        }
        case 3: {
            uint32_t cp = 0x10000 + (uint32_t)below(0x110000 - 0x10000);
            s[o++] = (char)(0xF0 | cp >> 18);
            s[o++] = (char)(0x80 | (cp >> 12 & 0x3F));
            s[o++] = (char)(0x80 | (cp >> 6 & 0x3F));
            s[o++] = (char)(0x80 | (cp & 0x3F));
            break;
        }
        default:
            s[o++] = (char)(0x20 + below(0x5f));
            break;
        }
    }
    s[o] = '\0';
    moose_str r = {s, o};
    return r;
}

static double rnd_f64(void) {
    for (;;) {
        uint64_t bits = rnd();
        double d;
        memcpy(&d, &bits, sizeof d);
        if (below(3) == 0)
            d = (double)(int64_t)below(2000000) / 100.0; /* prices */
        if (isfinite(d))
            return d;
    }
}

static float rnd_f32(void) {
    for (;;) {
        uint32_t bits = (uint32_t)rnd();
        float f;
        memcpy(&f, &bits, sizeof f);
        if (isfinite(f))
            return f;
    }
}

static void rnd_address(Address *a, moose_arena *arena) {
    Address_init(a);
    a->street = rnd_str(arena, 20);
    a->has_zip = below(2);
    if (a->has_zip)
        a->zip = rnd_str(arena, 5);
}

static void rnd_everything(Everything *e, moose_arena *a) {
    Everything_init(e);
    e->id = rnd_str(a, 16);
    e->s = rnd_str(a, 40);
    e->b = below(2);
    e->i8 = (int8_t)rnd();
    e->i16 = (int16_t)rnd();
    e->i32 = (int32_t)rnd();
    e->i64 = (int64_t)rnd();
    e->u8 = (uint8_t)rnd();
    e->u16 = (uint16_t)rnd();
    e->u32 = (uint32_t)rnd();
    e->u64 = rnd();
    e->f32 = rnd_f32();
    e->f64 = rnd_f64();
    e->at = MOOSE_DATETIME_MIN + (int64_t)below((uint64_t)(MOOSE_DATETIME_MAX - MOOSE_DATETIME_MIN));
    e->day = MOOSE_DATE_MIN + (int32_t)below(MOOSE_DATE_MAX - MOOSE_DATE_MIN);
    for (int i = 0; i < 16; i++)
        e->uid.bytes[i] = (uint8_t)rnd();
    e->price = (int64_t)(rnd() % 1000000000000000000ull) * (below(2) ? 1 : -1);
    e->small = (int64_t)below(1999) - 999;
    e->kind = (Everything_kind)below(3);
    rnd_address(&e->home, a);
    if (below(2)) {
        e->work = moose_arena_alloc(a, sizeof(Address), _Alignof(Address));
        rnd_address(e->work, a);
    }
    e->past.len = below(4);
    e->past.items = moose_arena_alloc(a, sizeof(Address) * (e->past.len + 1), _Alignof(Address));
    for (size_t i = 0; i < e->past.len; i++)
        rnd_address(&e->past.items[i], a);
    e->has_maybe_tags = below(2);
    if (e->has_maybe_tags) {
        e->maybe_tags.len = below(5);
        e->maybe_tags.items = moose_arena_alloc(a, sizeof(moose_str) * (e->maybe_tags.len + 1), 8);
        for (size_t i = 0; i < e->maybe_tags.len; i++)
            e->maybe_tags.items[i] = rnd_str(a, 8);
    }
    e->scores.len = below(6);
    e->scores.items = moose_arena_alloc(a, sizeof(double) * (e->scores.len + 1), 8);
    for (size_t i = 0; i < e->scores.len; i++)
        e->scores.items[i] = rnd_f64();
    e->has_opt_int = below(2);
    e->opt_int = e->has_opt_int ? (int32_t)rnd() : 0;
    e->level = (int16_t)rnd();
}

static void str_eq(moose_str a, moose_str b) {
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.ptr, b.ptr, a.len);
    assert_int_equal(b.ptr[b.len], '\0');
}

static void address_eq(const Address *a, const Address *b) {
    str_eq(a->street, b->street);
    assert_int_equal(a->has_zip, b->has_zip);
    if (a->has_zip)
        str_eq(a->zip, b->zip);
}

static void everything_eq(const Everything *a, const Everything *b) {
    str_eq(a->id, b->id);
    str_eq(a->s, b->s);
    assert_int_equal(a->b, b->b);
    assert_int_equal(a->i8, b->i8);
    assert_int_equal(a->i16, b->i16);
    assert_int_equal(a->i32, b->i32);
    assert_int_equal(a->i64, b->i64);
    assert_int_equal(a->u8, b->u8);
    assert_int_equal(a->u16, b->u16);
    assert_int_equal(a->u32, b->u32);
    assert_int_equal(a->u64, b->u64);
    assert_memory_equal(&a->f32, &b->f32, sizeof a->f32);
    assert_memory_equal(&a->f64, &b->f64, sizeof a->f64);
    assert_int_equal(a->at, b->at);
    assert_int_equal(a->day, b->day);
    assert_memory_equal(a->uid.bytes, b->uid.bytes, 16);
    assert_int_equal(a->price, b->price);
    assert_int_equal(a->small, b->small);
    assert_int_equal(a->kind, b->kind);
    address_eq(&a->home, &b->home);
    assert_int_equal(a->work == NULL, b->work == NULL);
    if (a->work)
        address_eq(a->work, b->work);
    assert_int_equal(a->past.len, b->past.len);
    for (size_t i = 0; i < a->past.len; i++)
        address_eq(&a->past.items[i], &b->past.items[i]);
    assert_int_equal(a->has_maybe_tags, b->has_maybe_tags);
    if (a->has_maybe_tags) {
        assert_int_equal(a->maybe_tags.len, b->maybe_tags.len);
        for (size_t i = 0; i < a->maybe_tags.len; i++)
            str_eq(a->maybe_tags.items[i], b->maybe_tags.items[i]);
    }
    assert_int_equal(a->scores.len, b->scores.len);
    for (size_t i = 0; i < a->scores.len; i++)
        assert_memory_equal(&a->scores.items[i], &b->scores.items[i], sizeof(double));
    assert_int_equal(a->has_opt_int, b->has_opt_int);
    if (a->has_opt_int)
        assert_int_equal(a->opt_int, b->opt_int);
    assert_int_equal(a->level, b->level);
}

static void random_records_round_trip(void **state) {
    (void)state;
    moose_arena in_arena, out_arena;
    moose_arena_init(&in_arena);
    moose_arena_init(&out_arena);
    moose_buf buf;
    moose_buf_init(&buf);
    moose_errors errs;
    moose_errors_init(&errs);
    for (int i = 0; i < 20000; i++) {
        moose_arena_reset(&in_arena);
        moose_arena_reset(&out_arena);
        moose_buf_reset(&buf);
        moose_errors_clear(&errs);
        Everything e, back;
        rnd_everything(&e, &in_arena);
        assert_int_equal(Everything_to_json(&e, &buf), 0);
        int rc = Everything_from_json(&back, buf.data, buf.len, &out_arena, NULL, &errs);
        if (rc != 0)
            fail_msg("record %d: %s at %lld (%s): %.*s", i, errs.items[0].message,
                     (long long)errs.items[0].offset, errs.items[0].path, (int)buf.len, buf.data);
        everything_eq(&e, &back);
        /* encoding is deterministic: the same record gives the same bytes */
        size_t first_len = buf.len;
        assert_int_equal(Everything_to_json(&back, &buf), 0);
        assert_int_equal(buf.len, 2 * first_len);
        assert_memory_equal(buf.data, buf.data + first_len, first_len);
    }
    moose_errors_free(&errs);
    moose_buf_free(&buf);
    moose_arena_free(&in_arena);
    moose_arena_free(&out_arena);
}

static void encoding_is_exact(void **state) {
    (void)state;
    moose_arena a;
    moose_arena_init(&a);
    Everything e = Everything_INIT;
    e.id.ptr = "k\"1";
    e.id.len = 3;
    e.s.ptr = "tab\there\x01";
    e.s.len = 9;
    e.i64 = INT64_MIN;
    e.u64 = UINT64_MAX;
    e.f32 = 0.1f;
    e.f64 = 1e21;
    e.at = INT64_C(1710932400500000);
    e.day = 19782;
    e.price = -5;
    e.small = 15;
    e.kind = Everything_kind_b_c;
    e.home.street.ptr = "Main St";
    e.home.street.len = 7;
    moose_buf buf;
    moose_buf_init(&buf);
    assert_int_equal(Everything_to_json(&e, &buf), 0);
    moose_buf_append(&buf, "", 1);
    assert_string_equal(
        buf.data,
        "{\"id\":\"k\\\"1\",\"s\":\"tab\\there\\u0001\",\"b\":false,\"i8\":0,\"i16\":0,"
        "\"i32\":0,\"i64\":-9223372036854775808,\"u8\":0,\"u16\":0,\"u32\":0,"
        "\"u64\":18446744073709551615,\"f32\":0.1,\"f64\":1e+21,"
        "\"at\":\"2024-03-20T11:00:00.500Z\",\"day\":\"2024-02-29\","
        "\"uid\":\"00000000-0000-0000-0000-000000000000\",\"price\":-0.05,\"small\":1.5,"
        "\"kind\":\"b-c\",\"home\":{\"street\":\"Main St\",\"zip\":null},\"work\":null,"
        "\"past\":[],\"maybe_tags\":null,\"scores\":[],\"opt_int\":null,\"level\":3}");
    /* a float JSON cannot carry: nothing is appended */
    e.f64 = NAN;
    moose_buf_reset(&buf);
    assert_int_equal(Everything_to_json(&e, &buf), MOOSE_EINVAL);
    assert_int_equal(buf.len, 0);
    moose_buf_free(&buf);
    moose_arena_free(&a);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(random_records_round_trip),
        cmocka_unit_test(encoding_is_exact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
