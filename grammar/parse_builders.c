#include "parse_builders.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parser.h"

moosec_loc moosec_parse_loc(const moosec_parse_state *st, moosec_yyltype loc) {
    moosec_loc l = {st->src, loc.begin, loc.end};
    return l;
}

moosec_yyltype moosec_parse_span(moosec_yyltype a, moosec_yyltype b) {
    moosec_yyltype r = {a.begin < b.begin ? a.begin : b.begin, a.end > b.end ? a.end : b.end};
    return r;
}

size_t moosec_parse_describe_token(const moosec_parse_state *st, moosec_token_show show,
                                   const char *alias, moosec_yyltype loc, char *buf,
                                   size_t size) {
    /* at most 40 bytes of the token, control characters shown as '?' */
    char text[41];
    int len = (int)(loc.end - loc.begin);
    if (len > 40)
        len = 40;
    for (int i = 0; i < len; i++) {
        unsigned char c = (unsigned char)st->src->text[loc.begin + (uint32_t)i];
        text[i] = (char)(c < 0x20 || c == 0x7f ? '?' : c);
    }
    text[len] = '\0';
    int n;
    switch (show) {
    case MOOSEC_SHOW_QUOTED:
        n = snprintf(buf, size, "unexpected %s '%.*s'", alias, len, text);
        break;
    case MOOSEC_SHOW_LITERAL:
        n = snprintf(buf, size, "unexpected %s %.*s%s", alias, len, text,
                     loc.end - loc.begin > 40 ? "..." : "");
        break;
    default:
        n = snprintf(buf, size, "unexpected %s", alias);
        break;
    }
    return n < 0 ? 0 : ((size_t)n >= size ? size - 1 : (size_t)n);
}

static bool only_blanks(const char *text, uint32_t from, uint32_t to) {
    for (uint32_t i = from; i < to; i++)
        if (text[i] != ' ' && text[i] != '\t' && text[i] != '\r' && text[i] != '\n')
            return false;
    return true;
}

void moosec_parse_note_unclosed_brace(const moosec_parse_state *st, moosec_yyltype loc) {
    const moosec_yyltype kw = st->last_keyword;
    size_t depth = st->brace_depth;
    if (depth == 0 || depth > sizeof st->open_braces / sizeof st->open_braces[0] ||
        kw.end == 0 || kw.end > loc.begin || !only_blanks(st->src->text, kw.end, loc.begin))
        return;
    uint32_t line_begin = kw.begin;
    while (line_begin > 0 && st->src->text[line_begin - 1] != '\n')
        line_begin--;
    uint32_t brace = st->open_braces[depth - 1];
    if (!only_blanks(st->src->text, line_begin, kw.begin) || brace > kw.begin)
        return;
    moosec_yyltype at = {brace, brace + 1};
    moosec_note(st->diag, moosec_parse_loc(st, at),
                "this '{' is still open: is a '}' missing before '%.*s'?",
                (int)(kw.end - kw.begin), st->src->text + kw.begin);
}

bool moosec_parse_echoes_lex_error(const moosec_parse_state *st, moosec_yyltype loc) {
    if (!st->lex_error || loc.begin < st->lex_error_begin)
        return false;
    const char *text = st->src->text;
    /* the rest of a line the lexer choked on is noise too */
    if (!memchr(text + st->lex_error_begin, '\n', loc.begin - st->lex_error_begin))
        return true;
    for (uint32_t i = st->lex_error_end; i < loc.begin; i++) {
        char c = text[i];
        if (c == '/' && i + 1 < loc.begin && text[i + 1] == '/') {
            while (i < loc.begin && text[i] != '\n')
                i++;
            continue;
        }
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v')
            return false;
    }
    return true;
}

static moosec_value *value_new(moosec_parse_state *st, moosec_value_kind kind, moosec_yyltype loc) {
    moosec_value *v = moosec_arena_alloc(st->arena, sizeof(*v));
    v->kind = kind;
    v->loc = moosec_parse_loc(st, loc);
    return v;
}

/* ---- literals (called by the lexer) ---- */

int moosec_lex_int(moosec_parse_state *st, union MOOSEC_YYSTYPE *val, moosec_yyltype loc,
                   const char *text, size_t len) {
    moosec_value *v = value_new(st, MOOSEC_VALUE_INT, loc);
    v->text = moosec_arena_strndup(st->arena, text, len);
    v->text_len = len;
    errno = 0;
    unsigned long long u = strtoull(v->text, NULL, 10);
    /* keep one more than INT64_MAX representable so `-9223372036854775808` works */
    if (errno == ERANGE || u > (unsigned long long)INT64_MAX + 1) {
        v->int_overflow = true;
        u = 0;
    }
    v->i = (int64_t)(u > (unsigned long long)INT64_MAX ? (unsigned long long)INT64_MAX : u);
    v->f = (double)u;
    if (u == (unsigned long long)INT64_MAX + 1)
        v->int_overflow = true; /* cleared again by negation */
    val->value = v;
    return TOK_INT;
}

int moosec_lex_float(moosec_parse_state *st, union MOOSEC_YYSTYPE *val, moosec_yyltype loc,
                     const char *text, size_t len) {
    moosec_value *v = value_new(st, MOOSEC_VALUE_FLOAT, loc);
    v->text = moosec_arena_strndup(st->arena, text, len);
    v->text_len = len;
    v->f = strtod(v->text, NULL);
    if (isinf(v->f))
        moosec_lex_error(st, v->loc, "number '%s' is too large", v->text);
    val->value = v;
    return TOK_FLOAT;
}

int moosec_lex_duration(moosec_parse_state *st, union MOOSEC_YYSTYPE *val, moosec_yyltype loc,
                        const char *text, size_t len) {
    moosec_value *v = value_new(st, MOOSEC_VALUE_DURATION, loc);
    v->text = moosec_arena_strndup(st->arena, text, len);
    v->text_len = len;
    int64_t unit = 1;
    switch (text[len - 1]) {
    case 'm':
        unit = 60;
        break;
    case 'h':
        unit = 3600;
        break;
    case 'd':
        unit = 86400;
        break;
    default:
        break;
    }
    errno = 0;
    unsigned long long n = strtoull(v->text, NULL, 10);
    if (errno == ERANGE || n > (unsigned long long)(INT64_MAX / unit)) {
        moosec_lex_error(st, v->loc, "duration '%s' is too long", v->text);
        n = 0;
    }
    v->i = (int64_t)n * unit;
    val->value = v;
    return TOK_DURATION;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static size_t utf8_put(char *out, uint32_t cp) {
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Length of the valid UTF-8 sequence at S (at most N bytes), or 0. */
static size_t utf8_valid_len(const unsigned char *s, size_t n) {
    if (s[0] < 0x80)
        return 1;
    size_t len;
    uint32_t min;
    if ((s[0] & 0xE0) == 0xC0) {
        len = 2;
        min = 0x80;
    } else if ((s[0] & 0xF0) == 0xE0) {
        len = 3;
        min = 0x800;
    } else if ((s[0] & 0xF8) == 0xF0) {
        len = 4;
        min = 0x10000;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    uint32_t cp = s[0] & (0x7F >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

/*
 * Escapes: \" \\ \/ \n \t \r \b \f \uXXXX (surrogate pairs joined). Any other
 * backslash is kept with its character, so `@pattern("^\d+$")` means what a
 * reader of regular expressions expects.
 */
int moosec_lex_string(moosec_parse_state *st, union MOOSEC_YYSTYPE *val, moosec_yyltype loc,
                      const char *text, size_t len) {
    moosec_value *v = value_new(st, MOOSEC_VALUE_STRING, loc);
    val->value = v;
    if (len < 2) {
        v->text = "";
        return TOK_STRING;
    }
    const char *in = text + 1;
    size_t n = len - 2;
    char *out = moosec_arena_alloc(st->arena, n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)in[i];
        if (c != '\\') {
            size_t ulen = utf8_valid_len((const unsigned char *)in + i, n - i);
            if (ulen == 0) {
                moosec_loc at = {st->src, loc.begin + 1 + (uint32_t)i, loc.begin + 2 + (uint32_t)i};
                moosec_lex_error(st, at, "invalid UTF-8 in string literal");
                i++;
                continue;
            }
            if (c == 0) {
                moosec_loc at = {st->src, loc.begin + 1 + (uint32_t)i, loc.begin + 2 + (uint32_t)i};
                moosec_lex_error(st, at, "NUL character in string literal");
            } else if (c < 0x20) {
                moosec_loc at = {st->src, loc.begin + 1 + (uint32_t)i, loc.begin + 2 + (uint32_t)i};
                moosec_lex_error(st, at,
                             "control character 0x%02x in string literal (write it as \\u%04x)",
                             c, c);
            }
            memcpy(out + o, in + i, ulen);
            o += ulen;
            i += ulen;
            continue;
        }
        char e = in[i + 1];
        moosec_loc at = {st->src, loc.begin + 1 + (uint32_t)i, loc.begin + 3 + (uint32_t)i};
        switch (e) {
        case '"': out[o++] = '"'; i += 2; continue;
        case '\\': out[o++] = '\\'; i += 2; continue;
        case '/': out[o++] = '/'; i += 2; continue;
        case 'n': out[o++] = '\n'; i += 2; continue;
        case 't': out[o++] = '\t'; i += 2; continue;
        case 'r': out[o++] = '\r'; i += 2; continue;
        case 'b': out[o++] = '\b'; i += 2; continue;
        case 'f': out[o++] = '\f'; i += 2; continue;
        case 'u': {
            uint32_t cp = 0;
            size_t j;
            for (j = 0; j < 4 && i + 2 + j < n && hexval(in[i + 2 + j]) >= 0; j++)
                cp = cp * 16 + (uint32_t)hexval(in[i + 2 + j]);
            if (j < 4) {
                at.end = at.begin + 2 + (uint32_t)j;
                moosec_lex_error(st, at, "\\u escape needs four hex digits");
                i += 2 + j;
                continue;
            }
            size_t used = 6;
            if (cp >= 0xD800 && cp <= 0xDBFF && i + 11 < n + 0 + 1 && in[i + 6] == '\\' &&
                in[i + 7] == 'u') {
                uint32_t lo = 0;
                size_t k;
                for (k = 0; k < 4 && i + 8 + k < n && hexval(in[i + 8 + k]) >= 0; k++)
                    lo = lo * 16 + (uint32_t)hexval(in[i + 8 + k]);
                if (k == 4 && lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    used = 12;
                }
            }
            if (cp >= 0xD800 && cp <= 0xDFFF) {
                at.end = at.begin + 6;
                moosec_lex_error(st, at, "lone surrogate \\u%04X in string literal", cp);
                i += 6;
                continue;
            }
            if (cp == 0) {
                at.end = at.begin + 6;
                moosec_lex_error(st, at, "NUL character in string literal");
                i += 6;
                continue;
            }
            o += utf8_put(out + o, cp);
            i += used;
            continue;
        }
        default:
            out[o++] = '\\';
            i++;
            continue;
        }
    }
    out[o] = '\0';
    v->text = out;
    v->text_len = o;
    return TOK_STRING;
}

/* ---- lists ---- */

#define LIST_NEW(T)                                                            \
    T *l = moosec_arena_alloc(st->arena, sizeof(*l));                          \
    return l

moosec_value_list *moosec_parse_value_list(moosec_parse_state *st) { LIST_NEW(moosec_value_list); }
moosec_prop_list *moosec_parse_prop_list(moosec_parse_state *st) { LIST_NEW(moosec_prop_list); }
moosec_attr_list *moosec_parse_attr_list(moosec_parse_state *st) { LIST_NEW(moosec_attr_list); }
moosec_field_list *moosec_parse_field_list(moosec_parse_state *st) { LIST_NEW(moosec_field_list); }
moosec_ref_list *moosec_parse_ref_list(moosec_parse_state *st) { LIST_NEW(moosec_ref_list); }

void moosec_parse_value_list_push(moosec_parse_state *st, moosec_value_list *l, moosec_value *v) {
    MOOSEC_VEC_PUSH(st->arena, *l, v);
}
void moosec_parse_prop_list_push(moosec_parse_state *st, moosec_prop_list *l, moosec_prop *p) {
    MOOSEC_VEC_PUSH(st->arena, *l, p);
}
void moosec_parse_attr_list_push(moosec_parse_state *st, moosec_attr_list *l, moosec_attr *a) {
    MOOSEC_VEC_PUSH(st->arena, *l, a);
}
void moosec_parse_field_list_push(moosec_parse_state *st, moosec_field_list *l, moosec_field *f) {
    MOOSEC_VEC_PUSH(st->arena, *l, f);
}
void moosec_parse_ref_list_push(moosec_parse_state *st, moosec_ref_list *l, char *name,
                                moosec_yyltype loc) {
    moosec_stream_ref r = {name, moosec_parse_loc(st, loc), NULL};
    MOOSEC_VEC_PUSH(st->arena, *l, r);
}

/* Copies a builder list into an AST vector of the same element type. */
#define LIST_MOVE(DST, SRC)                                                    \
    do {                                                                       \
        (DST).items = (SRC)->items;                                            \
        (DST).len = (SRC)->len;                                                \
        (DST).cap = (SRC)->cap;                                                \
    } while (0)

/* ---- values ---- */

moosec_value *moosec_parse_negate(moosec_parse_state *st, moosec_value *v, moosec_yyltype loc) {
    v->loc = moosec_parse_loc(st, loc);
    v->text = moosec_arena_printf(st->arena, "-%s", v->text);
    v->text_len++;
    if (v->kind == MOOSEC_VALUE_INT) {
        if (v->int_overflow && v->f == 9223372036854775808.0) {
            v->int_overflow = false;
            v->i = INT64_MIN;
        } else {
            v->i = -v->i;
        }
    }
    v->f = -v->f;
    return v;
}

moosec_value *moosec_parse_bool(moosec_parse_state *st, bool b, moosec_yyltype loc) {
    moosec_value *v = value_new(st, MOOSEC_VALUE_BOOL, loc);
    v->b = b;
    v->text = b ? "true" : "false";
    v->text_len = strlen(v->text);
    return v;
}

moosec_value *moosec_parse_ident(moosec_parse_state *st, char *name, moosec_yyltype loc) {
    moosec_value *v = value_new(st, MOOSEC_VALUE_IDENT, loc);
    v->text = name;
    v->text_len = strlen(name);
    return v;
}

moosec_value *moosec_parse_list(moosec_parse_state *st, moosec_value_list *items,
                                moosec_yyltype loc) {
    moosec_value *v = value_new(st, MOOSEC_VALUE_LIST, loc);
    LIST_MOVE(v->items, items);
    return v;
}

moosec_value *moosec_parse_object(moosec_parse_state *st, moosec_prop_list *props,
                                  moosec_yyltype loc) {
    moosec_value *v = value_new(st, MOOSEC_VALUE_OBJECT, loc);
    LIST_MOVE(v->props, props);
    return v;
}

moosec_prop *moosec_parse_prop(moosec_parse_state *st, char *name, moosec_yyltype loc,
                               moosec_value *v) {
    moosec_prop *p = moosec_arena_alloc(st->arena, sizeof(*p));
    p->name = name;
    p->loc = moosec_parse_loc(st, loc);
    p->value = v;
    return p;
}

moosec_attr *moosec_parse_attr(moosec_parse_state *st, char *name, moosec_yyltype loc,
                               moosec_value_list *args) {
    moosec_attr *a = moosec_arena_alloc(st->arena, sizeof(*a));
    a->name = name;
    a->loc = moosec_parse_loc(st, loc);
    if (args)
        LIST_MOVE(a->args, args);
    return a;
}

/* ---- types ---- */

static const struct {
    const char *name;
    moosec_type_kind kind;
} builtin_types[] = {
    {"String", MOOSEC_TYPE_STRING},     {"Bool", MOOSEC_TYPE_BOOL},
    {"Int8", MOOSEC_TYPE_INT8},         {"Int16", MOOSEC_TYPE_INT16},
    {"Int32", MOOSEC_TYPE_INT32},       {"Int64", MOOSEC_TYPE_INT64},
    {"UInt8", MOOSEC_TYPE_UINT8},       {"UInt16", MOOSEC_TYPE_UINT16},
    {"UInt32", MOOSEC_TYPE_UINT32},     {"UInt64", MOOSEC_TYPE_UINT64},
    {"Float32", MOOSEC_TYPE_FLOAT32},   {"Float64", MOOSEC_TYPE_FLOAT64},
    {"DateTime", MOOSEC_TYPE_DATETIME}, {"Date", MOOSEC_TYPE_DATE},
    {"UUID", MOOSEC_TYPE_UUID},         {"Decimal", MOOSEC_TYPE_DECIMAL},
    {"Enum", MOOSEC_TYPE_ENUM},
};

const char *moosec_type_kind_name(moosec_type_kind kind) {
    for (size_t i = 0; i < sizeof builtin_types / sizeof builtin_types[0]; i++)
        if (builtin_types[i].kind == kind)
            return builtin_types[i].name;
    return "model";
}

static moosec_type *type_new(moosec_parse_state *st, moosec_type_kind kind, moosec_yyltype loc) {
    moosec_type *t = moosec_arena_alloc(st->arena, sizeof(*t));
    t->kind = kind;
    t->loc = moosec_parse_loc(st, loc);
    return t;
}

moosec_type *moosec_parse_type_named(moosec_parse_state *st, char *name, moosec_yyltype loc) {
    for (size_t i = 0; i < sizeof builtin_types / sizeof builtin_types[0]; i++) {
        if (strcmp(builtin_types[i].name, name) != 0)
            continue;
        moosec_type *t = type_new(st, builtin_types[i].kind, loc);
        if (t->kind == MOOSEC_TYPE_DECIMAL) {
            moosec_error(st->diag, t->loc,
                         "Decimal needs a precision and a scale: Decimal(18, 2)");
            t->decimal_precision = 18;
        } else if (t->kind == MOOSEC_TYPE_ENUM) {
            moosec_error(st->diag, t->loc, "Enum needs its members: Enum(\"a\", \"b\")");
        }
        return t;
    }
    if (strcmp(name, "Key") == 0) {
        moosec_type *t = type_new(st, MOOSEC_TYPE_STRING, loc);
        moosec_error(st->diag, t->loc, "Key needs the key's type: Key<String>");
        t->key = true;
        return t;
    }
    moosec_type *t = type_new(st, MOOSEC_TYPE_MODEL, loc);
    t->model_name = name;
    return t;
}

static bool value_is_small_int(const moosec_value *v) {
    return v->kind == MOOSEC_VALUE_INT && !v->int_overflow;
}

moosec_type *moosec_parse_type_call(moosec_parse_state *st, char *name, moosec_yyltype name_loc,
                                    moosec_value_list *args, moosec_yyltype loc) {
    moosec_loc whole = moosec_parse_loc(st, loc);
    if (strcmp(name, "Decimal") == 0) {
        moosec_type *t = type_new(st, MOOSEC_TYPE_DECIMAL, loc);
        t->decimal_precision = 18;
        if (args->len != 2 || !value_is_small_int(args->items[0]) ||
            !value_is_small_int(args->items[1])) {
            moosec_error(st->diag, whole,
                         "Decimal takes two integers, the precision and the scale: "
                         "Decimal(18, 2)");
            return t;
        }
        int64_t p = args->items[0]->i, s = args->items[1]->i;
        if (p < 1 || p > 18) {
            moosec_error(st->diag, args->items[0]->loc,
                         "Decimal precision must be from 1 to 18, not %lld", (long long)p);
            p = 18;
        }
        if (s < 0 || s > p) {
            moosec_error(st->diag, args->items[1]->loc,
                         "Decimal scale must be from 0 to the precision (%lld), not %lld",
                         (long long)p, (long long)s);
            s = 0;
        }
        t->decimal_precision = (int)p;
        t->decimal_scale = (int)s;
        return t;
    }
    if (strcmp(name, "Enum") == 0) {
        moosec_type *t = type_new(st, MOOSEC_TYPE_ENUM, loc);
        if (args->len == 0)
            moosec_error(st->diag, whole, "Enum needs at least one member");
        for (size_t i = 0; i < args->len; i++) {
            moosec_value *a = args->items[i];
            if (a->kind != MOOSEC_VALUE_STRING && a->kind != MOOSEC_VALUE_IDENT) {
                moosec_error(st->diag, a->loc, "Enum members are string literals: Enum(\"a\", \"b\")");
                continue;
            }
            moosec_enum_member m = {a->text, a->loc};
            MOOSEC_VEC_PUSH(st->arena, t->members, m);
        }
        return t;
    }
    moosec_loc nl = moosec_parse_loc(st, name_loc);
    for (size_t i = 0; i < sizeof builtin_types / sizeof builtin_types[0]; i++)
        if (strcmp(builtin_types[i].name, name) == 0) {
            moosec_error(st->diag, nl, "type %s takes no arguments", name);
            return type_new(st, builtin_types[i].kind, loc);
        }
    moosec_error(st->diag, nl, "unknown type '%s' with arguments (only Decimal and Enum take them)",
                 name);
    return type_new(st, MOOSEC_TYPE_STRING, loc);
}

moosec_type *moosec_parse_type_generic(moosec_parse_state *st, char *name, moosec_yyltype loc,
                                       moosec_type *arg) {
    if (strcmp(name, "Key") != 0) {
        moosec_error(st->diag, moosec_parse_loc(st, loc),
                     "unknown generic type '%s' (only Key<T> takes a type)", name);
        return arg;
    }
    if (arg->key) {
        moosec_error(st->diag, arg->loc, "Key<Key<...>> is not a type: write Key<T> once");
        return arg;
    }
    if (arg->optional || arg->array) {
        moosec_error(st->diag, arg->loc, "a Key cannot be %s: Kafka needs a key on every record",
                     arg->optional ? "optional" : "an array");
        arg->optional = arg->array = arg->elem_optional = false;
    }
    arg->key = true;
    arg->loc = moosec_parse_loc(st, loc);
    return arg;
}

moosec_type *moosec_parse_type_optional(moosec_parse_state *st, moosec_type *t,
                                        moosec_yyltype loc) {
    moosec_loc l = moosec_parse_loc(st, loc);
    if (t->optional) {
        moosec_error(st->diag, l, "type is already optional");
        return t;
    }
    if (t->key) {
        moosec_error(st->diag, l, "a Key cannot be optional: Kafka needs a key on every record");
        return t;
    }
    t->optional = true;
    t->loc = moosec_loc_span(t->loc, l);
    return t;
}

moosec_type *moosec_parse_type_array(moosec_parse_state *st, moosec_type *t, moosec_yyltype loc) {
    moosec_loc l = moosec_parse_loc(st, loc);
    l.end++; /* the ']' */
    if (t->array) {
        moosec_error(st->diag, l, "arrays of arrays are not supported; wrap the inner array in a model");
        return t;
    }
    if (t->key) {
        moosec_error(st->diag, l, "a Key cannot be an array");
        return t;
    }
    if (t->optional) {
        t->optional = false;
        t->elem_optional = true;
    }
    t->array = true;
    t->loc = moosec_loc_span(t->loc, l);
    return t;
}

/* ---- declarations ---- */

moosec_field *moosec_parse_field(moosec_parse_state *st, char *name, moosec_yyltype loc,
                                 moosec_type *type, moosec_attr_list *attrs) {
    moosec_field *f = moosec_arena_alloc(st->arena, sizeof(*f));
    f->name = name;
    f->loc = moosec_parse_loc(st, loc);
    f->type = *type;
    LIST_MOVE(f->attrs, attrs);
    return f;
}

void moosec_parse_model(moosec_parse_state *st, char *name, moosec_yyltype loc,
                        moosec_field_list *fields) {
    moosec_model *m = moosec_arena_alloc(st->arena, sizeof(*m));
    m->name = name;
    m->loc = moosec_parse_loc(st, loc);
    LIST_MOVE(m->fields, fields);
    m->index = (int)st->schema->models.len;
    MOOSEC_VEC_PUSH(st->arena, st->schema->models, m);
}

void moosec_parse_table(moosec_parse_state *st, char *name, moosec_yyltype loc, char *model,
                        moosec_yyltype model_loc, moosec_prop_list *props) {
    moosec_table *t = moosec_arena_alloc(st->arena, sizeof(*t));
    t->name = name;
    t->loc = moosec_parse_loc(st, loc);
    t->model_name = model;
    t->model_loc = moosec_parse_loc(st, model_loc);
    LIST_MOVE(t->props, props);
    MOOSEC_VEC_PUSH(st->arena, st->schema->tables, t);
}

void moosec_parse_stream(moosec_parse_state *st, char *name, moosec_yyltype loc, char *model,
                         moosec_yyltype model_loc, moosec_prop_list *props) {
    moosec_stream *s = moosec_arena_alloc(st->arena, sizeof(*s));
    s->name = name;
    s->loc = moosec_parse_loc(st, loc);
    s->model_name = model;
    s->model_loc = moosec_parse_loc(st, model_loc);
    LIST_MOVE(s->props, props);
    s->parallelism = 1;
    MOOSEC_VEC_PUSH(st->arena, st->schema->streams, s);
}

void moosec_parse_transform(moosec_parse_state *st, char *name, moosec_yyltype loc, char *src,
                            moosec_yyltype src_loc, moosec_ref_list *dsts) {
    moosec_transform *t = moosec_arena_alloc(st->arena, sizeof(*t));
    t->name = name;
    t->loc = moosec_parse_loc(st, loc);
    t->source.name = src;
    t->source.loc = moosec_parse_loc(st, src_loc);
    LIST_MOVE(t->destinations, dsts);
    MOOSEC_VEC_PUSH(st->arena, st->schema->transforms, t);
}
