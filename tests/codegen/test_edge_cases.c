/* Shapes of schema the generators must get right (edge_cases.moose). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "edge_cases.moose.h"

static int decode_shapes(const char *json, Shapes *out, moose_arena *arena, moose_errors *errs) {
    return Shapes_from_json(out, json, strlen(json), arena, NULL, errs);
}

static void shapes_round_trip(void **state) {
    (void)state;
    moose_arena arena;
    moose_arena_init(&arena);
    moose_errors errs;
    moose_errors_init(&errs);
    const char *json =
        "{\"id\":\"123E4567-E89B-12D3-A456-426614174000\",\"kinds\":[\"x_y\",\"x-y\",\"z\"],"
        "\"maybe_kind\":\"b\",\"opt_tags\":[{\"name\":\"t\"}],\"int\":-1,\"default\":\"d\","
        "\"codes\":[\"ABC\"],\"money\":-123456789012345678,\"when\":[\"2024-02-29\"],"
        "\"nothing\":{\"x\":true}}";
    Shapes s;
    assert_int_equal(decode_shapes(json, &s, &arena, &errs), 0);
    assert_int_equal(s.kinds.len, 3);
    assert_int_equal(s.kinds.items[0], Shapes_kinds_x_y_1);
    assert_int_equal(s.kinds.items[1], Shapes_kinds_x_y);
    assert_true(s.has_maybe_kind);
    assert_int_equal(s.maybe_kind, Shapes_maybe_kind_b);
    assert_int_equal(s.int_, -1);
    assert_true(s.has_default);
    /* levels was absent: its @default([1, 2]) applies */
    assert_int_equal(s.levels.len, 2);
    assert_int_equal(s.levels.items[1], 2);
    assert_int_equal(s.money, -123456789012345678);
    assert_non_null(s.nothing);
    assert_true(s.nothing->has_x && s.nothing->x);
    assert_int_equal(Shapes_validate(&s, &errs), 0);
    moose_buf out;
    moose_buf_init(&out);
    assert_int_equal(Shapes_to_json(&s, &out), 0);
    moose_buf_append(&out, "", 1);
    assert_string_equal(
        out.data,
        "{\"id\":\"123e4567-e89b-12d3-a456-426614174000\",\"kinds\":[\"x_y\",\"x-y\",\"z\"],"
        "\"maybe_kind\":\"b\",\"opt_tags\":[{\"name\":\"t\"}],\"int\":-1,\"default\":\"d\","
        "\"codes\":[\"ABC\"],\"levels\":[1,2],\"money\":-123456789012345678,"
        "\"when\":[\"2024-02-29\"],\"nothing\":{\"x\":true}}");
    moose_buf_free(&out);
    moose_errors_free(&errs);
    moose_arena_free(&arena);
}

static void array_elements_are_validated_one_by_one(void **state) {
    (void)state;
    moose_arena arena;
    moose_arena_init(&arena);
    moose_errors errs;
    moose_errors_init(&errs);
    const char *json = "{\"id\":\"123e4567-e89b-12d3-a456-426614174000\",\"kinds\":[],\"int\":0,"
                       "\"codes\":[\"ABC\",\"abcd\"],\"levels\":[0,5,6],\"when\":[],"
                       "\"opt_tags\":[{\"name\":\"ok\"},{\"name\":\"\"}]}";
    Shapes s;
    assert_int_equal(decode_shapes(json, &s, &arena, &errs), 0);
    assert_int_equal(Shapes_validate(&s, &errs), MOOSE_EVALIDATION);
    static const char *const expected[][2] = {
        {"opt_tags[1].name", "length"},
        {"codes[1]", "length"},
        {"codes[1]", "pattern"},
        {"levels[0]", "range"},
        {"levels[2]", "range"},
    };
    assert_int_equal(errs.len, 5);
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(errs.items[i].path, expected[i][0]);
        assert_string_equal(errs.items[i].rule, expected[i][1]);
    }
    assert_string_equal(errs.items[3].message, "0 is outside @range(1, 5)");
    moose_errors_free(&errs);
    moose_arena_free(&arena);
}

static void more_than_64_fields(void **state) {
    (void)state;
    moose_arena arena;
    moose_arena_init(&arena);
    moose_errors errs;
    moose_errors_init(&errs);
    Wide w;
    const char *ok = "{\"f69\":9,\"id\":-5,\"f64\":null,\"f65\":65,\"last\":\"end\"}";
    assert_int_equal(Wide_from_json(&w, ok, strlen(ok), &arena, NULL, &errs), 0);
    assert_int_equal(w.id, -5);
    assert_true(w.has_f69 && w.f69 == 9);
    assert_true(w.has_f65 && w.f65 == 65);
    assert_false(w.has_f64);
    assert_false(w.has_f0);
    const char *dup = "{\"id\":1,\"f66\":1,\"last\":\"\",\"f66\":2}";
    assert_int_equal(Wide_from_json(&w, dup, strlen(dup), &arena, NULL, &errs), MOOSE_EDECODE);
    assert_string_equal(errs.items[0].rule, "duplicate");
    assert_string_equal(errs.items[0].path, "f66");
    moose_errors_clear(&errs);
    const char *missing = "{\"id\":1}";
    assert_int_equal(Wide_from_json(&w, missing, strlen(missing), &arena, NULL, &errs),
                     MOOSE_EDECODE);
    assert_int_equal(errs.len, 1);
    assert_string_equal(errs.items[0].path, "last");
    assert_int_equal(Wide_desc.nfields, 72);
    moose_errors_free(&errs);
    moose_arena_free(&arena);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(shapes_round_trip),
        cmocka_unit_test(array_elements_are_validated_one_by_one),
        cmocka_unit_test(more_than_64_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
