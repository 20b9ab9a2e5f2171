/*
 * Names that would break the generated C: keywords, reserved identifiers,
 * standard type names, and two declarations whose generated symbols collide.
 * The user's C compiler would report these far from the schema, in generated
 * code the user never wrote, so they are caught here.
 */
#include <stdlib.h>
#include <string.h>

#include "sema_internal.h"

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool in_sorted(const char *const *list, size_t n, const char *name) {
    return bsearch(&name, list, n, sizeof *list, cmp_str) != NULL;
}

/* C11 and C23 keywords, and macros every C toolchain defines (sorted: bsearch). */
static const char *const c_words[] = {
    "EOF", "NULL", "_Alignas", "_Alignof", "_Atomic", "_BitInt", "_Bool", "_Complex",
    "_Decimal128", "_Decimal32", "_Decimal64", "_Generic", "_Imaginary", "_Noreturn",
    "_Static_assert", "_Thread_local", "alignas", "alignof", "asm", "assert", "auto", "bool",
    "break", "case", "char", "const", "constexpr", "continue", "default", "do", "double",
    "else", "enum", "errno", "extern", "false", "float", "for", "goto", "i386", "if",
    "inline", "int", "linux", "long", "nullptr", "register", "restrict", "return", "short",
    "signed", "sizeof", "static", "static_assert", "stderr", "stdin", "stdout", "struct",
    "switch", "thread_local", "true", "typedef", "typeof", "typeof_unqual", "union", "unix",
    "unsigned", "void", "volatile", "while",
};

/* Type names of the C and POSIX headers the generated code includes (sorted). */
static const char *const c_types[] = {
    "FILE",          "clock_t",      "div_t",        "double_t",    "float_t",
    "fpos_t",        "int16_t",      "int32_t",      "int64_t",     "int8_t",
    "int_fast16_t",  "int_fast32_t", "int_fast64_t", "int_fast8_t", "int_least16_t",
    "int_least32_t", "int_least64_t","int_least8_t", "intmax_t",    "intptr_t",
    "jmp_buf",       "ldiv_t",       "max_align_t",  "mbstate_t",   "off_t",
    "pid_t",         "ptrdiff_t",    "sig_atomic_t", "size_t",      "ssize_t",
    "time_t",        "tm",           "uint16_t",     "uint32_t",    "uint64_t",
    "uint8_t",       "uint_fast16_t","uint_fast32_t","uint_fast64_t","uint_fast8_t",
    "uint_least16_t","uint_least32_t","uint_least64_t","uint_least8_t","uintmax_t",
    "uintptr_t",     "va_list",      "wchar_t",
};

static const char *const builtin_types[] = {
    "Bool",   "Date",   "DateTime", "Decimal", "Enum",  "Float32", "Float64",
    "Int16",  "Int32",  "Int64",    "Int8",    "Key",   "String",  "UInt16",
    "UInt32", "UInt64", "UInt8",    "UUID",
};

#define COUNT(A) (sizeof(A) / sizeof((A)[0]))

bool moosec__c_reserved_word(const char *name) {
    return in_sorted(c_words, COUNT(c_words), name);
}

bool moosec__c_standard_type(const char *name) {
    return in_sorted(c_types, COUNT(c_types), name);
}

bool moosec__builtin_type_name(const char *name) {
    return in_sorted(builtin_types, COUNT(builtin_types), name);
}

typedef struct symbol_owner {
    const char *what; /* "model 'A'" */
    moosec_loc loc;
} symbol_owner;

void moosec__sema_claim_symbol(moosec_sema *s, const char *sym, const char *what, moosec_loc loc) {
    symbol_owner *o = moosec_arena_alloc(s->arena, sizeof(*o));
    o->what = what;
    o->loc = loc;
    symbol_owner *first = moosec_symtab_put(&s->c_symbols, sym, o);
    if (!first)
        return;
    moosec_error(s->diag, loc, "%s and %s both need the C name '%s'", what, first->what, sym);
    moosec_note(s->diag, first->loc, "%s is declared here", first->what);
}

/* A reserved identifier in C: `_X...` or `__...` (C11 7.1.3). */
static bool c_reserved_identifier(const char *name) {
    return name[0] == '_' && (name[1] == '_' || (name[1] >= 'A' && name[1] <= 'Z'));
}

/* The symbols the generated code defines for each kind of declaration (see gen_*.c). */
static const char *const model_symbols[] = {"%s", "%s_INIT", "%s_desc", "%s_init",
                                            "%s_from_json", "%s_to_json", "%s_validate", NULL};
static const char *const stream_symbols[] = {"%s_stream", "%s_write", "%s_write_async", NULL};
static const char *const transform_symbols[] = {"%s", "%s_out", "%s_emit", "%s_transform", NULL};
static const char *const table_symbols[] = {"%s_table", NULL};

void moosec__sema_claim_symbols(moosec_sema *s, const char *kind, const char *name,
                                moosec_loc loc) {
    const char *const *patterns = strcmp(kind, "model") == 0    ? model_symbols
                                  : strcmp(kind, "stream") == 0 ? stream_symbols
                                  : strcmp(kind, "table") == 0  ? table_symbols
                                                                : transform_symbols;
    const char *what = moosec_arena_printf(s->arena, "%s '%s'", kind, name);
    for (size_t i = 0; patterns[i]; i++) {
        /* every pattern holds one %s: the name */
        const char *pct = strstr(patterns[i], "%s");
        const char *sym = moosec_arena_printf(s->arena, "%.*s%s%s", (int)(pct - patterns[i]),
                                              patterns[i], name, pct + 2);
        moosec__sema_claim_symbol(s, sym, what, loc);
    }
}

void moosec__sema_check_decl_name(moosec_sema *s, const char *kind, const char *name,
                                  moosec_loc loc) {
    bool is_model = strcmp(kind, "model") == 0;
    bool is_table = strcmp(kind, "table") == 0;
    if (is_model && moosec__builtin_type_name(name)) {
        moosec_error(s->diag, loc, "model name '%s' is the name of a built-in type", name);
        return;
    }
    if (!is_table && moosec__c_reserved_word(name)) {
        moosec_error(s->diag, loc, "%s name '%s' is a C keyword or predefined name", kind, name);
        return;
    }
    if (is_model && moosec__c_standard_type(name)) {
        moosec_error(s->diag, loc, "model name '%s' is the name of a C standard type", name);
        return;
    }
    if (c_reserved_identifier(name)) {
        moosec_error(s->diag, loc,
                     "%s name '%s' is reserved in C (names starting with '__' or '_' and an "
                     "uppercase letter)",
                     kind, name);
        return;
    }
    if (strncmp(name, "moose_", 6) == 0 || strncmp(name, "MOOSE_", 6) == 0 ||
        strncmp(name, "Moose", 5) == 0) {
        moosec_error(s->diag, loc, "%s name '%s' uses the prefix reserved for the moose runtime",
                     kind, name);
        return;
    }
    moosec__sema_claim_symbols(s, kind, name, loc);
}
