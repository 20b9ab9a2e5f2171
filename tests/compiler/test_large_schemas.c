/*
 * Checks that once walked a list per element, found while making the parser's
 * fuzz target fast: each case is a schema a hundred thousand names long that
 * the check must get through with exactly the errors below. Quadratic, each
 * took minutes (the unknown names, hours); linear, a second at most under
 * the sanitizers. ctest's timeout for this test is what catches a walk
 * coming back; the assertions say the hashed lookups decide as the walks did.
 */
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
#include "sema.h"
#include "sema_internal.h"

enum { MANY = 100000 };

typedef struct text {
    char *data;
    size_t len;
    FILE *out;
} text;

static void text_open(text *t) {
    t->data = NULL;
    t->out = open_memstream(&t->data, &t->len);
    assert_non_null(t->out);
}

static void text_close(text *t) {
    assert_int_equal(fclose(t->out), 0);
}

typedef struct checked {
    unsigned errors;
    text diags;
} checked;

/* `moosec check` on SCHEMA, printing at most MAX_ERRORS errors into c->diags. */
static void check(checked *c, text *schema, unsigned max_errors) {
    text_close(schema);
    moosec_schema sc;
    moosec_schema_init(&sc);
    text_open(&c->diags);
    moosec_diag diag;
    moosec_diag_init(&diag, c->diags.out);
    diag.max_errors = max_errors;
    moosec_source *src = moosec_source_from_memory("big.moose", schema->data, schema->len);
    moosec_parse(&sc, src, &diag);
    assert_int_equal(diag.errors, 0); /* syntax is fine: only the checks are measured */
    moosec_sema_check(&sc, &diag);
    c->errors = diag.errors;
    text_close(&c->diags);
    moosec_schema_free(&sc);
    free(schema->data);
}

/* The first line of the diagnostics, without "big.moose:L:C: ". */
static void assert_first_message(const checked *c, const char *want) {
    const char *msg = strstr(c->diags.data, ": error: ");
    assert_non_null(msg);
    msg += strlen(": error: ");
    size_t n = strcspn(msg, "\n");
    assert_int_equal(n, strlen(want));
    assert_memory_equal(msg, want, n);
}

/* A "did you mean" searched every model's name for every unknown type, printed or not. */
static void test_unknown_types_past_the_error_limit(void **state) {
    (void)state;
    text s;
    text_open(&s);
    for (int i = 0; i < MANY / 5; i++)
        fprintf(s.out, "model Model%d { id: Key<String>, other: Modxl%d }\n", i, i);
    checked c;
    check(&c, &s, 10);
    assert_first_message(&c, "unknown type 'Modxl0' (did you mean 'Model0'?)");
    assert_int_equal(c.errors, MANY / 5); /* all counted, ten printed */
    assert_non_null(strstr(c.diags.data, "moosec: too many errors, stopping after 10\n"));
    free(c.diags.data);
}

/* The search itself is skipped once its message would not be printed. */
static void test_no_suggestion_search_past_the_error_limit(void **state) {
    (void)state;
    moosec_arena arena;
    moosec_arena_init(&arena);
    moosec_symtab models;
    moosec_symtab_init(&models, &arena);
    moosec_symtab_put(&models, "Address", &models);
    FILE *null = fopen("/dev/null", "w");
    assert_non_null(null);
    moosec_diag diag;
    moosec_diag_init(&diag, null);
    diag.max_errors = 2;
    moosec_sema s;
    memset(&s, 0, sizeof s);
    s.diag = &diag;
    s.arena = &arena;
    diag.errors = 1;
    assert_string_equal(moosec__suggest_in_table(&s, &models, "Adress"), "Address");
    diag.errors = 2;
    assert_null(moosec__suggest_in_table(&s, &models, "Adress"));
    static const char *const known[] = {"length", "range"};
    assert_null(moosec__suggest_in_list(&s, known, 2, "lenght"));
    diag.max_errors = 0; /* no limit: every error gets its suggestion */
    assert_string_equal(moosec__suggest_in_list(&s, known, 2, "lenght"), "length");
    fclose(null);
    moosec_arena_free(&arena);
}

/* order_by found each column by a walk over the fields, and each repeat by a walk over the list. */
static void test_order_by_as_long_as_the_model(void **state) {
    (void)state;
    text s;
    text_open(&s);
    fputs("model M { id: Key<String>", s.out);
    for (int i = 0; i < MANY; i++)
        fprintf(s.out, ", f%d: Int32", i);
    fputs(" }\ntable T: M { order_by: [id", s.out);
    for (int i = 0; i < MANY; i++)
        fprintf(s.out, ", f%d", i);
    /* a repeat at the very end, and an unknown column, so both are still found */
    fprintf(s.out, ", f%d, g%d] }\n", MANY - 1, MANY - 1);
    checked c;
    check(&c, &s, 100);
    assert_first_message(&c, "order_by names column 'f99999' twice");
    assert_non_null(strstr(c.diags.data, "order_by names unknown column 'g99999' of model 'M' "
                                         "(did you mean 'f99999'?)"));
    assert_int_equal(c.errors, 2);
    free(c.diags.data);
}

/* has_x looked for a field x by a walk over the fields, for each has_ field. */
static void test_presence_flag_names_in_a_long_model(void **state) {
    (void)state;
    text s;
    text_open(&s);
    fputs("model M { id: Key<String>", s.out);
    for (int i = 0; i < MANY; i++)
        fprintf(s.out, ", has_f%d: Bool", i);
    fprintf(s.out, ", f%d: Int32? }\nstream S: M\n", MANY - 1);
    checked c;
    check(&c, &s, 100);
    assert_first_message(&c, "field name 'has_f99999' clashes with the presence flag of optional "
                             "field 'f99999'");
    assert_int_equal(c.errors, 1);
    free(c.diags.data);
}

/* A transform's destinations were compared with every earlier one. */
static void test_fan_out_to_every_stream(void **state) {
    (void)state;
    text s;
    text_open(&s);
    fputs("model M { id: Key<String> }\nstream In: M\n", s.out);
    for (int i = 0; i < 2 * MANY; i++)
        fprintf(s.out, "stream S%d: M\n", i);
    fputs("transform t: In -> ", s.out);
    for (int i = 0; i < 2 * MANY; i++)
        fprintf(s.out, "S%d, ", i);
    fputs("S7\n", s.out);
    checked c;
    check(&c, &s, 100);
    assert_first_message(&c, "transform 't' names destination 'S7' twice");
    assert_non_null(strstr(c.diags.data, "note: 'S7' is first named here"));
    assert_int_equal(c.errors, 1);
    free(c.diags.data);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unknown_types_past_the_error_limit),
        cmocka_unit_test(test_no_suggestion_search_past_the_error_limit),
        cmocka_unit_test(test_order_by_as_long_as_the_model),
        cmocka_unit_test(test_presence_flag_names_in_a_long_model),
        cmocka_unit_test(test_fan_out_to_every_stream),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
