/* Diagnostic formatting: the location, the source line and the caret under it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"

typedef struct captured {
    char *text;
    size_t len;
    FILE *out;
    moosec_diag diag;
} captured;

static void capture(captured *c) {
    c->text = NULL;
    c->out = open_memstream(&c->text, &c->len);
    assert_non_null(c->out);
    moosec_diag_init(&c->diag, c->out);
}

static void expect(captured *c, const char *want) {
    fclose(c->out);
    assert_string_equal(c->text, want);
    free(c->text);
}

static moosec_source *from(const char *text) {
    return moosec_source_from_memory("t.moose", text, strlen(text));
}

static void test_caret_and_tildes(void **state) {
    (void)state;
    moosec_source *src = from("model A {\n  x: Int33\n}\n");
    captured c;
    capture(&c);
    moosec_loc loc = {src, 15, 20};
    moosec_error(&c.diag, loc, "unknown type '%s'", "Int33");
    expect(&c, "t.moose:2:6: error: unknown type 'Int33'\n"
               "   x: Int33\n"
               "      ^~~~~\n");
    assert_int_equal(c.diag.errors, 1);
    moosec_source_free(src);
}

static void test_tabs_and_multibyte_align(void **state) {
    (void)state;
    /* a tab stays a tab under the line; an e-acute takes one column, not two */
    moosec_source *src = from("\t\xc3\xa9 x: Int33");
    captured c;
    capture(&c);
    moosec_loc loc = {src, 7, 12};
    moosec_warning(&c.diag, loc, "w");
    expect(&c, "t.moose:1:7: warning: w\n"
               " \t\xc3\xa9 x: Int33\n"
               " \t     ^~~~~\n");
    assert_int_equal(c.diag.warnings, 1);
    assert_int_equal(c.diag.errors, 0);
    moosec_source_free(src);
}

static void test_span_stops_at_end_of_line(void **state) {
    (void)state;
    moosec_source *src = from("ab\r\ncd");
    captured c;
    capture(&c);
    moosec_loc loc = {src, 1, 6};
    moosec_note(&c.diag, loc, "n");
    expect(&c, "t.moose:1:2: note: n\n"
               " ab\n"
               "  ^\n");
    moosec_source_free(src);
}

static void test_long_line_window(void **state) {
    (void)state;
    char text[400];
    memset(text, 'a', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    text[200] = 'X';
    moosec_source *src = from(text);
    captured c;
    capture(&c);
    moosec_loc loc = {src, 200, 201};
    moosec_error(&c.diag, loc, "here");
    fclose(c.out);
    /* 60 characters before the caret, 160 in all, "..." on both sides */
    char want[512];
    int n = snprintf(want, sizeof want, "t.moose:1:201: error: here\n ...%.*sX%.*s...\n %*s^\n",
                     60, text, 99, text, 63, "");
    assert_true(n > 0);
    assert_string_equal(c.text, want);
    free(c.text);
    moosec_source_free(src);
}

static void test_without_location_and_error_limit(void **state) {
    (void)state;
    captured c;
    capture(&c);
    c.diag.max_errors = 2;
    moosec_loc none = {0};
    moosec_error(&c.diag, none, "one");
    moosec_error(&c.diag, none, "two");
    moosec_error(&c.diag, none, "three");
    moosec_error(&c.diag, none, "four");
    expect(&c, "moosec: error: one\n"
               "moosec: error: two\n"
               "moosec: too many errors, stopping after 2\n");
    assert_int_equal(c.diag.errors, 4); /* still counted, for the exit status */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_caret_and_tildes),
        cmocka_unit_test(test_tabs_and_multibyte_align),
        cmocka_unit_test(test_span_stops_at_end_of_line),
        cmocka_unit_test(test_long_line_window),
        cmocka_unit_test(test_without_location_and_error_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
