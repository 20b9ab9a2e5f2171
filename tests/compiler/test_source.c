/* The line map: byte offsets to line:column, and the source line shown under a diagnostic. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "source.h"

static void position_is(const moosec_source *src, uint32_t off, unsigned line, unsigned col) {
    unsigned l, c;
    moosec_source_position(src, off, &l, &c);
    assert_int_equal(l, line);
    assert_int_equal(c, col);
}

static moosec_source *from(const char *text) {
    return moosec_source_from_memory("t.moose", text, strlen(text));
}

static void test_lines_and_columns(void **state) {
    (void)state;
    moosec_source *src = from("ab\ncd\n\nef");
    assert_int_equal(src->nlines, 4);
    position_is(src, 0, 1, 1);
    position_is(src, 1, 1, 2);
    position_is(src, 2, 1, 3); /* the newline itself is on its line */
    position_is(src, 3, 2, 1);
    position_is(src, 6, 3, 1);
    position_is(src, 7, 4, 1);
    position_is(src, 8, 4, 2);
    moosec_source_free(src);
}

static void test_columns_count_characters(void **state) {
    (void)state;
    /* x, e-acute (2 bytes), a tab and a 4-byte emoji are one column each */
    moosec_source *src = from("x\xc3\xa9\t\xf0\x9f\x98\x80z");
    position_is(src, 1, 1, 2);
    position_is(src, 3, 1, 3);
    position_is(src, 4, 1, 4);
    position_is(src, 8, 1, 5);
    moosec_source_free(src);
}

static void test_end_of_file(void **state) {
    (void)state;
    moosec_source *src = from("a\n");
    position_is(src, 2, 2, 1);
    position_is(src, 99, 2, 1); /* clamped, never past the text */
    moosec_source_free(src);
    src = from("");
    position_is(src, 0, 1, 1);
    size_t len = 7;
    moosec_source_line(src, 0, &len);
    assert_int_equal(len, 0);
    moosec_source_free(src);
}

static void test_line_text_without_newline(void **state) {
    (void)state;
    moosec_source *src = from("first\r\nsecond\nthird");
    size_t len;
    const char *line = moosec_source_line(src, 3, &len);
    assert_int_equal(len, 5);
    assert_memory_equal(line, "first", 5);
    line = moosec_source_line(src, 7, &len);
    assert_int_equal(len, 6);
    assert_memory_equal(line, "second", 6);
    line = moosec_source_line(src, 16, &len);
    assert_int_equal(len, 5);
    assert_memory_equal(line, "third", 5);
    moosec_source_free(src);
}

static void test_many_lines(void **state) {
    (void)state;
    enum { N = 10000 };
    static char text[N * 2 + 1];
    for (int i = 0; i < N; i++) {
        text[2 * i] = 'x';
        text[2 * i + 1] = '\n';
    }
    moosec_source *src = moosec_source_from_memory("big", text, N * 2);
    assert_int_equal(src->nlines, N + 1);
    position_is(src, 2 * 4321, 4322, 1);
    position_is(src, 2 * 4321 + 1, 4322, 2);
    moosec_source_free(src);
}

static void test_span(void **state) {
    (void)state;
    moosec_source *src = from("abcdef");
    moosec_loc a = {src, 1, 2}, b = {src, 4, 6};
    moosec_loc s = moosec_loc_span(a, b);
    assert_int_equal(s.begin, 1);
    assert_int_equal(s.end, 6);
    s = moosec_loc_span(b, a);
    assert_int_equal(s.begin, 1);
    assert_int_equal(s.end, 6);
    moosec_source_free(src);
}

static void test_read_errors_name_the_file(void **state) {
    (void)state;
    char err[256];
    assert_null(moosec_source_read("/nonexistent/x.moose", err, sizeof err));
    assert_string_equal(err, "/nonexistent/x.moose: No such file or directory");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines_and_columns),
        cmocka_unit_test(test_columns_count_characters),
        cmocka_unit_test(test_end_of_file),
        cmocka_unit_test(test_line_text_without_newline),
        cmocka_unit_test(test_many_lines),
        cmocka_unit_test(test_span),
        cmocka_unit_test(test_read_errors_name_the_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
