/* String, number and duration literals as the lexer turns them into values. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ast.h"
#include "diag.h"
#include "parse.h"

typedef struct parsed {
    moosec_schema schema;
    char *diags; /* everything the parser reported */
    size_t diags_len;
    unsigned errors;
} parsed;

/* Parses `model M { f: TYPE @default(LITERAL) }`. */
static void parse_default(parsed *p, const char *type, const char *literal) {
    char text[512];
    snprintf(text, sizeof text, "model M { f: %s @default(%s) }", type, literal);
    moosec_schema_init(&p->schema);
    FILE *out = open_memstream(&p->diags, &p->diags_len);
    assert_non_null(out);
    moosec_diag diag;
    moosec_diag_init(&diag, out);
    moosec_source *src = moosec_source_from_memory("t.moose", text, strlen(text));
    p->errors = moosec_parse(&p->schema, src, &diag);
    fclose(out);
}

static const moosec_value *default_of(const parsed *p) {
    assert_int_equal(p->schema.models.len, 1);
    const moosec_field *f = p->schema.models.items[0]->fields.items[0];
    assert_int_equal(f->attrs.len, 1);
    assert_int_equal(f->attrs.items[0]->args.len, 1);
    return f->attrs.items[0]->args.items[0];
}

static void done(parsed *p) {
    moosec_schema_free(&p->schema);
    free(p->diags);
}

static void string_is(const char *literal, const char *bytes, size_t len) {
    parsed p;
    parse_default(&p, "String", literal);
    assert_string_equal(p.diags, "");
    const moosec_value *v = default_of(&p);
    assert_int_equal(v->kind, MOOSEC_VALUE_STRING);
    assert_int_equal(v->text_len, len);
    assert_memory_equal(v->text, bytes, len);
    assert_int_equal(v->text[len], '\0');
    done(&p);
}

static void test_simple_escapes(void **state) {
    (void)state;
    string_is("\"plain\"", "plain", 5);
    string_is("\"\"", "", 0);
    string_is("\"a\\\"b\\\\c\\/d\"", "a\"b\\c/d", 7);
    string_is("\"\\n\\t\\r\\b\\f\"", "\n\t\r\b\f", 5);
}

static void test_unknown_escapes_are_kept_for_patterns(void **state) {
    (void)state;
    string_is("\"^\\d+\\.\\w$\"", "^\\d+\\.\\w$", 9);
}

static void test_unicode_escapes(void **state) {
    (void)state;
    string_is("\"\\u00e9\"", "\xc3\xa9", 2);
    string_is("\"\\u20AC\"", "\xe2\x82\xac", 3);
    string_is("\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80", 4); /* a surrogate pair, joined */
    string_is("\"caf\xc3\xa9\"", "caf\xc3\xa9", 5);          /* raw UTF-8 passes through */
}

static void error_is(const char *literal, const char *message) {
    parsed p;
    parse_default(&p, "String", literal);
    assert_int_equal(p.errors, 1);
    assert_non_null(strstr(p.diags, message));
    done(&p);
}

static void test_bad_strings(void **state) {
    (void)state;
    error_is("\"\\u12\"", "t.moose:1:31: error: \\u escape needs four hex digits\n");
    error_is("\"\\udc00\"", "t.moose:1:31: error: lone surrogate \\uDC00 in string literal\n");
    error_is("\"\\u0000\"", "t.moose:1:31: error: NUL character in string literal\n");
    error_is("\"a\xff\"", "t.moose:1:32: error: invalid UTF-8 in string literal\n");
    error_is("\"tab\there\"", "error: control character 0x09 in string literal (write it as \\u0009)\n");
    error_is("\"open", "t.moose:1:30: error: unterminated string literal\n");
}

static void test_integers(void **state) {
    (void)state;
    parsed p;
    parse_default(&p, "Int64", "-9223372036854775808");
    const moosec_value *v = default_of(&p);
    assert_int_equal(v->kind, MOOSEC_VALUE_INT);
    assert_false(v->int_overflow);
    assert_true(v->i == INT64_MIN);
    assert_string_equal(v->text, "-9223372036854775808");
    done(&p);

    parse_default(&p, "Int64", "9223372036854775808");
    assert_true(default_of(&p)->int_overflow);
    done(&p);

    parse_default(&p, "Int64", "42");
    assert_int_equal(default_of(&p)->i, 42);
    assert_false(default_of(&p)->int_overflow);
    done(&p);
}

static void test_floats_and_durations(void **state) {
    (void)state;
    parsed p;
    parse_default(&p, "Float64", "1.5e3");
    const moosec_value *v = default_of(&p);
    assert_int_equal(v->kind, MOOSEC_VALUE_FLOAT);
    assert_true(v->f == 1500.0);
    done(&p);

    parse_default(&p, "Float64", ".25");
    assert_true(default_of(&p)->f == 0.25);
    done(&p);

    static const struct {
        const char *text;
        int64_t seconds;
    } durations[] = {{"30s", 30}, {"15m", 900}, {"12h", 43200}, {"7d", 604800}, {"0s", 0}};
    for (size_t i = 0; i < sizeof durations / sizeof durations[0]; i++) {
        parse_default(&p, "Int64", durations[i].text);
        v = default_of(&p);
        assert_int_equal(v->kind, MOOSEC_VALUE_DURATION);
        assert_int_equal(v->i, durations[i].seconds);
        done(&p);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_escapes),
        cmocka_unit_test(test_unknown_escapes_are_kept_for_patterns),
        cmocka_unit_test(test_unicode_escapes),
        cmocka_unit_test(test_bad_strings),
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_floats_and_durations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
