/*
 * Why a record was refused: the exact reason, rule, byte offset and field
 * path of decoding failures, and every failure of a validation.
 */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "all_types.moose.h"
#include "differential.moose.h"
#include "moose/validate.h"

typedef struct decode_case {
    const char *json;
    int rc;
    const char *path, *rule, *message;
    int64_t offset;
} decode_case;

static void check_decode(const decode_case *c, const moose_decode_options *opts) {
    moose_arena arena;
    moose_arena_init(&arena);
    moose_errors errs;
    moose_errors_init(&errs);
    Order o;
    int rc = Order_from_json(&o, c->json, strlen(c->json), &arena, opts, &errs);
    if (rc != c->rc)
        fail_msg("%s: rc %d, expected %d (%s)", c->json, rc, c->rc,
                 errs.len ? errs.items[0].message : "no error");
    if (c->rc != 0) {
        /*
         * After a wrong value decoding goes on, and these documents lack the
         * required fields: every later failure must be one of those. After
         * malformed JSON (or a size limit) it stops.
         */
        assert_true(errs.len >= 1);
        bool goes_on = strcmp(c->rule, "syntax") != 0 && strcmp(c->rule, "encoding") != 0 &&
                       strcmp(c->rule, "limit") != 0 && strcmp(c->rule, "duplicate") != 0 &&
                       strcmp(c->rule, "unknown_field") != 0;
        if (!goes_on)
            assert_int_equal(errs.len, 1);
        for (size_t i = 1; i < errs.len; i++)
            assert_string_equal(errs.items[i].rule, "required");
        assert_string_equal(errs.items[0].path, c->path);
        assert_string_equal(errs.items[0].rule, c->rule);
        assert_string_equal(errs.items[0].message, c->message);
        assert_int_equal(errs.items[0].offset, c->offset);
    } else {
        assert_int_equal(errs.len, 0);
    }
    moose_errors_free(&errs);
    moose_arena_free(&arena);
}

#define HEAD "{\"id\":\"o1\",\"n\":1,\"small\":2,\"u\":3,\"f\":1.5,\"ok\":true,\"kind\":\"paid\","

static void decode_failures_are_located(void **state) {
    (void)state;
    static const decode_case cases[] = {
        {HEAD "\"lines\":[],\"nums\":[]}", 0, NULL, NULL, NULL, 0},
        {HEAD "\"lines\":[{\"name\":\"a\",\"price\":1,\"qty\":1},{\"name\":\"b\",\"price\":2,"
              "\"qty\":2},{\"name\":\"c\",\"price\":\"x\",\"qty\":3}],\"nums\":[]}",
         MOOSE_EDECODE, "lines[2].price", "type", "expected a number, found a string", 156},
        {"{\"small\":128}", MOOSE_EDECODE, "small", "range",
         "integer out of range: must be between -128 and 127", 9},
        {"{\"n\":1,\"n\":2}", MOOSE_EDECODE, "n", "duplicate", "field \"n\" appears twice", 11},
        {"{\"zzz\":1}", MOOSE_EDECODE, "zzz", "unknown_field", "unknown field \"zzz\"", 7},
        {"{\"f\":null}", MOOSE_EDECODE, "f", "required",
         "expected a number, found null: the field is not optional", 5},
        {"{\"note\":\"a\xff\"}", MOOSE_EDECODE, "note", "encoding", "invalid UTF-8 (byte 0xFF)",
         10},
        {"{\"note\":\"\\ud800x\"}", MOOSE_EDECODE, "note", "encoding",
         "high surrogate \\uD800 is not followed by a low surrogate", 9},
        {"{\"note\":\"\\udc00\"}", MOOSE_EDECODE, "note", "encoding", "lone low surrogate \\uDC00",
         9},
        {"{\"note\":\"a\\x\"}", MOOSE_EDECODE, "note", "syntax", "invalid escape '\\x'", 10},
        {"{\"note\":\"a\nb\"}", MOOSE_EDECODE, "note", "syntax",
         "control character 0x0A must be escaped in a string", 10},
        {"{\"n\":1.0}", MOOSE_EDECODE, "n", "type",
         "expected an integer, found a number with a fraction or exponent", 5},
        {"{\"n\":01}", MOOSE_EDECODE, "n", "syntax", "a number must not start with a leading zero",
         5},
        {"{\"n\":99999999999999999999}", MOOSE_EDECODE, "n", "range",
         "integer out of range: must be between -9223372036854775808 and 9223372036854775807", 5},
        {"{\"u\":-1}", MOOSE_EDECODE, "u", "range", "integer out of range: must be between 0 and 65535",
         5},
        {"{\"f\":1e400}", MOOSE_EDECODE, "f", "range", "number too large for a Float64", 5},
        {"{\"nums\":[1,]}", MOOSE_EDECODE, "nums", "syntax", "trailing ',' before ']'", 11},
        {"{\"nums\":[1 2]}", MOOSE_EDECODE, "nums", "syntax", "expected ',' or ']', found a number", 11},
        {"{\"kind\":\"lost\"}", MOOSE_EDECODE, "kind", "enum",
         "\"lost\" is not one of \"new\", \"paid\", \"sent\"", 8},
        {"{\"n\":1,}", MOOSE_EDECODE, "", "syntax", "expected a member name, found '}'", 7},
        {HEAD "\"lines\":[],\"nums\":[]} x", MOOSE_EDECODE, "", "syntax",
         "expected the end of the record, found 'x'", 87},
        {"[1]", MOOSE_EDECODE, "", "type", "expected an object, found an array", 0},
        {"", MOOSE_EDECODE, "", "syntax", "expected an object, found the end of the input", 0},
        {"{\"id\":\"x", MOOSE_EDECODE, "id", "syntax", "unterminated string", 6},
        /* the whole record was read: every missing field is named (the first is checked here) */
        {"{}", MOOSE_EDECODE, "id", "required", "required field \"id\" is missing", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (cases[i].rc == MOOSE_EDECODE && strcmp(cases[i].json, "{}") == 0)
            continue; /* several errors: see below */
        check_decode(&cases[i], NULL);
    }
}

static void missing_fields_are_all_named(void **state) {
    (void)state;
    moose_arena arena;
    moose_arena_init(&arena);
    moose_errors errs;
    moose_errors_init(&errs);
    Order o;
    const char *json = "{\"id\":\"o1\",\"small\":1,\"u\":1,\"f\":1,\"ok\":false,\"lines\":[]}";
    assert_int_equal(Order_from_json(&o, json, strlen(json), &arena, NULL, &errs), MOOSE_EDECODE);
    assert_int_equal(errs.len, 3);
    assert_string_equal(errs.items[0].path, "n");
    assert_string_equal(errs.items[0].message, "required field \"n\" is missing");
    assert_string_equal(errs.items[1].path, "kind");
    assert_string_equal(errs.items[2].path, "nums");
    assert_string_equal(errs.items[2].rule, "required");
    moose_errors_free(&errs);
    moose_arena_free(&arena);
}

static void options_limit_and_allow(void **state) {
    (void)state;
    static const char nested[] = HEAD "\"lines\":[{\"name\":\"a\",\"price\":1,\"qty\":1}],\"nums\":[]}";
    moose_decode_options shallow = {.max_depth = 2};
    decode_case deep = {nested, MOOSE_ETOOBIG, "lines[0]", "limit", "nesting deeper than 2 levels",
                        74};
    check_decode(&deep, &shallow);
    moose_decode_options small = {.max_bytes = 10};
    decode_case big = {nested, MOOSE_ETOOBIG, "", "limit",
                       "record is 116 bytes, more than the limit of 10", 0};
    check_decode(&big, &small);
    moose_decode_options extra = {.allow_extra_fields = true};
    decode_case skipped = {HEAD "\"x\":{\"a\":[1,\"\\u00e9\",null,{}]},\"lines\":[],\"nums\":[]}", 0,
                           NULL, NULL, NULL, 0};
    check_decode(&skipped, &extra);
    /* skipped values are still checked */
    decode_case bad_skip = {HEAD "\"x\":[1,],\"lines\":[],\"nums\":[]}", MOOSE_EDECODE, "x",
                            "syntax", "trailing ',' before ']'", 72};
    check_decode(&bad_skip, &extra);
}

static void escaped_keys_and_values_decode(void **state) {
    (void)state;
    moose_arena arena;
    moose_arena_init(&arena);
    Order o;
    const char *json = "{\"\\u0069d\":\"\\ud83d\\ude00\\n\\u00e9\",\"n\":-0,\"small\":-128,\"u\":65535,"
                       "\"f\":-1.5e-3,\"ok\":false,\"note\":null,\"kind\":\"sent\",\"lines\":[],"
                       "\"nums\":[2147483647,-2147483648]}";
    assert_int_equal(Order_from_json(&o, json, strlen(json), &arena, NULL, NULL), 0);
    assert_int_equal(o.id.len, 7);
    assert_memory_equal(o.id.ptr, "\xf0\x9f\x98\x80\n\xc3\xa9", 7);
    assert_int_equal(o.n, 0);
    assert_int_equal(o.small, -128);
    assert_int_equal(o.u, 65535);
    assert_true(o.f == -1.5e-3);
    assert_false(o.has_note);
    assert_int_equal(o.kind, Order_kind_sent);
    assert_int_equal(o.nums.len, 2);
    assert_int_equal(o.nums.items[1], INT32_MIN);
    moose_arena_free(&arena);
}

static void validation_reports_every_failure(void **state) {
    (void)state;
    Everything e = Everything_INIT;
    Address past[2] = {Address_INIT, Address_INIT};
    past[0].street.ptr = "ok";
    past[0].street.len = 2;
    past[1].street.ptr = "\xc3\xa9\xc3\xa9";
    past[1].street.len = 4;
    past[1].has_zip = true;
    past[1].zip.ptr = "1234x";
    past[1].zip.len = 5;
    e.past.items = past;
    e.past.len = 2;
    e.u8 = 0;             /* @range(1, 200) */
    e.i32 = 2000000;      /* @range(-1000000, 1000000) */
    e.f64 = NAN;
    e.kind = (Everything_kind)7;
    e.at = MOOSE_DATETIME_MAX + 1;
    e.s.ptr = "\xc0\xaf";
    e.s.len = 2;
    e.small = 1000; /* Decimal(3, 1): at most 99.9 */
    /* home.street is "" (@length(1, 64)) */
    moose_errors errs;
    moose_errors_init(&errs);
    assert_int_equal(Everything_validate(&e, &errs), MOOSE_EVALIDATION);
    static const char *const expected[][3] = {
        {"s", "encoding", "not valid UTF-8"},
        {"i32", "range", "2000000 is outside @range(-1000000, 1000000)"},
        {"u8", "range", "0 is outside @range(1, 200)"},
        {"f64", "type", "NaN is not a number JSON can carry"},
        {"at", "range", "date-time is outside years 0000 to 9999"},
        {"small", "decimal", "more than 3 digits: not a Decimal(3, 1)"},
        {"kind", "enum", "value 7 is not one of the 3 members"},
        {"home.street", "length", "length 0 is not between 1 and 64 characters"},
        {"past[1].zip", "pattern", "does not match the pattern \"^[0-9]{5}$\""},
    };
    size_t n = sizeof expected / sizeof expected[0];
    for (size_t i = 0; i < errs.len && i < n; i++) {
        assert_string_equal(errs.items[i].path, expected[i][0]);
        assert_string_equal(errs.items[i].rule, expected[i][1]);
        assert_string_equal(errs.items[i].message, expected[i][2]);
        assert_int_equal(errs.items[i].offset, -1);
    }
    assert_int_equal(errs.len, n);
    /* a valid record passes and leaves no error */
    moose_errors_clear(&errs);
    Everything ok = Everything_INIT;
    ok.u8 = 1;
    ok.home.street.ptr = "x";
    ok.home.street.len = 1;
    assert_int_equal(Everything_validate(&ok, &errs), 0);
    assert_int_equal(errs.len, 0);
    moose_errors_free(&errs);
}

static void descriptors_describe_the_struct(void **state) {
    (void)state;
    assert_string_equal(Everything_desc.name, "Everything");
    assert_int_equal(Everything_desc.size, sizeof(Everything));
    assert_int_equal(Everything_desc.nfields, 26);
    assert_int_equal(Everything_desc.key_field, 0);
    const moose_field_desc *f = &Everything_desc.fields[7];
    assert_string_equal(f->name, "u8");
    assert_int_equal(f->type, MOOSE_TYPE_UINT8);
    assert_int_equal(f->flags, MOOSE_FIELD_HAS_RANGE);
    assert_int_equal(f->offset, offsetof(Everything, u8));
    assert_true(f->range_min == 1 && f->range_max == 200);
    const moose_field_desc *work = &Everything_desc.fields[20];
    assert_ptr_equal(work->model, &Address_desc);
    assert_int_equal(work->flags, MOOSE_FIELD_OPTIONAL);
    const moose_field_desc *level = &Everything_desc.fields[25];
    assert_string_equal(level->default_json, "3");
    assert_string_equal(Everything_desc.fields[18].enum_values[1], "b-c");
    assert_string_equal(everything_stream.topic, "everything");
    assert_ptr_equal(everything_stream.model, &Everything_desc);
    assert_int_equal(all_types_app.nmodels, 2);
    assert_int_equal(all_types_app.abi_version, MOOSE_ABI_VERSION);
    /* patterns compile at start-up, through the app */
    char err[256];
    assert_non_null(Address_desc.prepare);
    assert_null(Everything_desc.prepare);
    assert_int_equal(moose_patterns_prepare(&all_types_app, err, sizeof err), 0);
    moose_pattern bad = MOOSE_PATTERN_INIT("a(b");
    assert_int_equal(moose_pattern_prepare(&bad, err, sizeof err), -1);
    assert_string_equal(err, "pattern \"a(b\" at offset 3: missing closing parenthesis");
    /* the generic entry points reach the generated code */
    Everything e;
    Everything_desc.init(&e);
    assert_int_equal(e.level, 3);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decode_failures_are_located),
        cmocka_unit_test(missing_fields_are_all_named),
        cmocka_unit_test(options_limit_and_allow),
        cmocka_unit_test(escaped_keys_and_values_decode),
        cmocka_unit_test(validation_reports_every_failure),
        cmocka_unit_test(descriptors_describe_the_struct),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
