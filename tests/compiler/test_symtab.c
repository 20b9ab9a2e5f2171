/* The name table behind every lookup in sema. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>

#include "symtab.h"

static void test_put_get_and_first_wins(void **state) {
    (void)state;
    moosec_arena arena;
    moosec_arena_init(&arena);
    moosec_symtab tab;
    moosec_symtab_init(&tab, &arena);
    int a = 1, b = 2;
    assert_null(moosec_symtab_get(&tab, "x"));
    assert_null(moosec_symtab_put(&tab, "x", &a));
    assert_ptr_equal(moosec_symtab_put(&tab, "x", &b), &a);
    assert_ptr_equal(moosec_symtab_get(&tab, "x"), &a);
    assert_null(moosec_symtab_get(&tab, "X"));
    assert_null(moosec_symtab_get(&tab, ""));
    assert_int_equal(tab.len, 1);
    moosec_arena_free(&arena);
}

static void test_many_names(void **state) {
    (void)state;
    enum { N = 20000 };
    moosec_arena arena;
    moosec_arena_init(&arena);
    moosec_symtab tab;
    moosec_symtab_init(&tab, &arena);
    static int values[N];
    for (int i = 0; i < N; i++) {
        char *name = moosec_arena_printf(&arena, "Model%d", i);
        assert_null(moosec_symtab_put(&tab, name, &values[i]));
    }
    assert_int_equal(tab.len, N);
    for (int i = 0; i < N; i++) {
        char name[32];
        snprintf(name, sizeof name, "Model%d", i);
        assert_ptr_equal(moosec_symtab_get(&tab, name), &values[i]);
    }
    assert_null(moosec_symtab_get(&tab, "Model20000"));
    moosec_arena_free(&arena);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_get_and_first_wins),
        cmocka_unit_test(test_many_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
