/* The line reader: lines, numbers, the size limit, and going on after an over-long line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "linereader.h"
#include "moose/error.h"

static FILE *input(const char *text, size_t len) {
    FILE *fp = tmpfile();
    assert_non_null(fp);
    assert_int_equal(fwrite(text, 1, len, fp), len);
    rewind(fp);
    return fp;
}

static void lines_and_numbers(void **state) {
    (void)state;
    const char text[] = "one\r\ntwo\n\nlast-without-newline";
    FILE *fp = input(text, sizeof text - 1);
    moose__linereader lr;
    assert_int_equal(moose__linereader_init(&lr, fp, 0), 0);
    assert_int_equal(lr.max, MOOSE__LINE_MAX_DEFAULT);
    char *line;
    size_t len;
    assert_int_equal(moose__linereader_next(&lr, &line, &len), 1);
    assert_string_equal(line, "one");
    assert_int_equal(lr.lineno, 1);
    assert_int_equal(moose__linereader_next(&lr, &line, &len), 1);
    assert_string_equal(line, "two");
    assert_int_equal(moose__linereader_next(&lr, &line, &len), 1);
    assert_int_equal(len, 0);
    assert_int_equal(moose__linereader_next(&lr, &line, &len), 1);
    assert_string_equal(line, "last-without-newline");
    assert_int_equal(lr.lineno, 4);
    assert_int_equal(moose__linereader_next(&lr, &line, &len), 0);
    moose__linereader_free(&lr);
    fclose(fp);
}

static void over_long_line_is_skipped(void **state) {
    (void)state;
    /* longer than the limit and than the reader's block, so it spans several reads */
    size_t big = 300 * 1000;
    char *text = malloc(big + 64);
    assert_non_null(text);
    size_t n = 0;
    n += (size_t)sprintf(text + n, "short\n");
    memset(text + n, 'x', big);
    n += big;
    n += (size_t)sprintf(text + n, "\nafter\n");
    FILE *fp = input(text, n);
    free(text);
    moose__linereader lr;
    assert_int_equal(moose__linereader_init(&lr, fp, 100 * 1000), 0);
    char *line;
    size_t len;
    assert_int_equal(moose__linereader_next(&lr, &line, &len), 1);
    assert_string_equal(line, "short");
    assert_int_equal(moose__linereader_next(&lr, &line, &len), MOOSE_ETOOBIG);
    assert_int_equal(lr.lineno, 2);
    assert_int_equal(moose__linereader_next(&lr, &line, &len), 1);
    assert_string_equal(line, "after");
    assert_int_equal(lr.lineno, 3);
    assert_int_equal(moose__linereader_next(&lr, &line, &len), 0);
    /* memory stays bounded by the limit, not by the line */
    assert_true(lr.cap <= 100 * 1000 + 64 * 1024 + 1);
    moose__linereader_free(&lr);
    fclose(fp);
}

static void line_exactly_at_the_limit(void **state) {
    (void)state;
    FILE *fp = input("abcd\nabcde\nab", 13);
    moose__linereader lr;
    assert_int_equal(moose__linereader_init(&lr, fp, 4), 0);
    char *line;
    size_t len;
    assert_int_equal(moose__linereader_next(&lr, &line, &len), 1);
    assert_string_equal(line, "abcd");
    assert_int_equal(moose__linereader_next(&lr, &line, &len), MOOSE_ETOOBIG);
    assert_int_equal(lr.lineno, 2);
    assert_int_equal(moose__linereader_next(&lr, &line, &len), 1);
    assert_string_equal(line, "ab");
    assert_int_equal(moose__linereader_next(&lr, &line, &len), 0);
    moose__linereader_free(&lr);
    fclose(fp);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lines_and_numbers),
        cmocka_unit_test(over_long_line_is_skipped),
        cmocka_unit_test(line_exactly_at_the_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
