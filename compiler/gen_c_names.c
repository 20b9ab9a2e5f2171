/*
 * Names, C types and literal values shared by the C generators. A name is
 * spelled here once, so the header, the source and the descriptors never
 * disagree.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "gen_c.h"

void moosec_c_emit(FILE *out, int indent, const char *fmt, ...) {
    for (int i = 0; i < indent; i++)
        fputs("    ", out);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(out, fmt, ap);
    va_end(ap);
}

char *moosec_c_ident(moosec_arena *arena, const char *base) {
    size_t len = strlen(base);
    char *s = moosec_arena_alloc(arena, len + 2);
    size_t o = 0;
    if (len == 0 || isdigit((unsigned char)base[0]))
        s[o++] = '_';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)base[i];
        s[o++] = (char)(isalnum(c) ? c : '_');
    }
    s[o] = '\0';
    return s;
}

char *moosec_c_upper(moosec_arena *arena, const char *ident) {
    char *s = moosec_arena_strdup(arena, ident);
    for (char *p = s; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    /* a guard may not start with '_' followed by an upper-case letter (reserved) */
    if (s[0] == '_')
        return moosec_arena_printf(arena, "M%s", s);
    return s;
}

static const char *const c_keywords[] = {
    "auto",     "break",    "case",     "char",       "const",        "continue",
    "default",  "do",       "double",   "else",       "enum",         "extern",
    "float",    "for",      "goto",     "if",         "inline",       "int",
    "long",     "register", "restrict", "return",     "short",        "signed",
    "sizeof",   "static",   "struct",   "switch",     "typedef",      "union",
    "unsigned", "void",     "volatile", "while",      "_Alignas",     "_Alignof",
    "_Atomic",  "_Bool",    "_Complex", "_Generic",   "_Imaginary",   "_Noreturn",
    "_Static_assert", "_Thread_local", "bool", "true", "false", "asm", "errno", NULL,
};

const char *moosec_c_member(moosec_arena *arena, const moosec_field *f) {
    for (size_t i = 0; c_keywords[i]; i++)
        if (strcmp(f->name, c_keywords[i]) == 0)
            return moosec_arena_printf(arena, "%s_", f->name);
    return f->name;
}

const char *moosec_c_enum_type(moosec_arena *arena, const moosec_model *m, const moosec_field *f) {
    return moosec_arena_printf(arena, "%s_%s", m->name, f->name);
}

static char *sanitize_member(moosec_arena *arena, const char *name) {
    size_t len = strlen(name);
    char *s = moosec_arena_alloc(arena, len + 2);
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        s[o++] = (char)(isalnum(c) ? c : '_');
    }
    if (o == 0)
        s[o++] = '_';
    s[o] = '\0';
    return s;
}

const char *moosec_c_enum_const(moosec_arena *arena, const moosec_model *m, const moosec_field *f,
                                size_t i) {
    const char *own = sanitize_member(arena, f->type.members.items[i].name);
    /* "a-b" and "a_b" both become a_b: the later one gets its position appended */
    bool clash = false;
    for (size_t j = 0; j < i && !clash; j++)
        clash = strcmp(sanitize_member(arena, f->type.members.items[j].name), own) == 0;
    if (clash)
        return moosec_arena_printf(arena, "%s_%s_%s_%zu", m->name, f->name, own, i);
    return moosec_arena_printf(arena, "%s_%s_%s", m->name, f->name, own);
}

const char *moosec_c_value_type(moosec_arena *arena, const moosec_model *m, const moosec_field *f) {
    switch (f->type.kind) {
    case MOOSEC_TYPE_STRING: return "moose_str";
    case MOOSEC_TYPE_BOOL: return "bool";
    case MOOSEC_TYPE_INT8: return "int8_t";
    case MOOSEC_TYPE_INT16: return "int16_t";
    case MOOSEC_TYPE_INT32: return "int32_t";
    case MOOSEC_TYPE_INT64: return "int64_t";
    case MOOSEC_TYPE_UINT8: return "uint8_t";
    case MOOSEC_TYPE_UINT16: return "uint16_t";
    case MOOSEC_TYPE_UINT32: return "uint32_t";
    case MOOSEC_TYPE_UINT64: return "uint64_t";
    case MOOSEC_TYPE_FLOAT32: return "float";
    case MOOSEC_TYPE_FLOAT64: return "double";
    case MOOSEC_TYPE_DATETIME: return "moose_datetime";
    case MOOSEC_TYPE_DATE: return "moose_date";
    case MOOSEC_TYPE_UUID: return "moose_uuid";
    case MOOSEC_TYPE_DECIMAL: return "moose_decimal";
    case MOOSEC_TYPE_ENUM: return moosec_c_enum_type(arena, m, f);
    case MOOSEC_TYPE_MODEL: return f->type.model->name;
    }
    return "void";
}

const char *moosec_c_type_const(moosec_type_kind kind) {
    static const char *const names[] = {
        "MOOSE_TYPE_STRING", "MOOSE_TYPE_BOOL",     "MOOSE_TYPE_INT8",     "MOOSE_TYPE_INT16",
        "MOOSE_TYPE_INT32",  "MOOSE_TYPE_INT64",    "MOOSE_TYPE_UINT8",    "MOOSE_TYPE_UINT16",
        "MOOSE_TYPE_UINT32", "MOOSE_TYPE_UINT64",   "MOOSE_TYPE_FLOAT32",  "MOOSE_TYPE_FLOAT64",
        "MOOSE_TYPE_DATETIME", "MOOSE_TYPE_DATE",   "MOOSE_TYPE_UUID",     "MOOSE_TYPE_DECIMAL",
        "MOOSE_TYPE_ENUM",   "MOOSE_TYPE_MODEL",
    };
    return names[kind];
}

bool moosec_c_required(const moosec_field *f) { return !f->type.optional && !f->default_value; }

bool moosec_c_kind_is_int(moosec_type_kind kind) {
    return kind >= MOOSEC_TYPE_INT8 && kind <= MOOSEC_TYPE_UINT64;
}

bool moosec_c_kind_is_unsigned(moosec_type_kind kind) {
    return kind >= MOOSEC_TYPE_UINT8 && kind <= MOOSEC_TYPE_UINT64;
}

char *moosec_c_string(moosec_arena *arena, const char *s, size_t len) {
    char *out = moosec_arena_alloc(arena, len * 4 + 3);
    size_t o = 0;
    out[o++] = '"';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c == '?' && i + 1 < len && s[i + 1] == '?') {
            out[o++] = '\\'; /* no trigraphs */
            out[o++] = '?';
        } else if (c == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else if (c < 0x20 || c >= 0x7f) {
            o += (size_t)sprintf(out + o, "\\%03o", c);
        } else {
            out[o++] = (char)c;
        }
    }
    out[o++] = '"';
    out[o] = '\0';
    return out;
}

/* ---- literal values ---- */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static bool num(const char *s, int n, int *out) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

static bool date_days(const char *s, size_t len, int64_t *days) {
    int y, m, d;
    if (len < 10 || !num(s, 4, &y) || s[4] != '-' || !num(s + 5, 2, &m) || s[7] != '-' ||
        !num(s + 8, 2, &d) || m < 1 || m > 12 || d < 1 || d > 31)
        return false;
    *days = days_from_civil(y, (unsigned)m, (unsigned)d);
    return true;
}

/* The same rules as the runtime's moose_datetime_parse() (sema checked the shape). */
static bool datetime_micros(const char *s, size_t len, int64_t *out) {
    int64_t days;
    int hh, mm, ss;
    if (!date_days(s, len, &days) || len < 20 || !num(s + 11, 2, &hh) || !num(s + 14, 2, &mm) ||
        !num(s + 17, 2, &ss))
        return false;
    size_t i = 19;
    int64_t micros = 0;
    if (s[i] == '.') {
        int scale = 100000;
        for (i++; i < len && isdigit((unsigned char)s[i]); i++) {
            micros += (s[i] - '0') * scale;
            scale /= 10;
        }
    }
    int64_t off = 0;
    if (i < len && (s[i] == '+' || s[i] == '-')) {
        int oh, om;
        if (len - i < 6 || !num(s + i + 1, 2, &oh) || !num(s + i + 4, 2, &om))
            return false;
        off = (int64_t)(oh * 3600 + om * 60) * (s[i] == '+' ? 1 : -1);
    }
    *out = (days * 86400 + hh * 3600 + mm * 60 + ss - off) * 1000000 + micros;
    return true;
}

static int hexdig(char c) {
    if (isdigit((unsigned char)c))
        return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decimal text as its unscaled value at SCALE (sema checked that it fits). */
static bool decimal_unscaled(const char *s, int scale, int64_t *out) {
    bool neg = *s == '-';
    if (neg || *s == '+')
        s++;
    int64_t v = 0;
    int frac = -1;
    for (; *s; s++) {
        if (*s == '.') {
            frac = 0;
            continue;
        }
        if (!isdigit((unsigned char)*s))
            return false;
        if (frac >= 0) {
            if (frac == scale)
                continue; /* zeros beyond the scale (sema refused others) */
            frac++;
        }
        v = v * 10 + (*s - '0');
    }
    for (int k = frac < 0 ? 0 : frac; k < scale; k++)
        v *= 10;
    *out = neg ? -v : v;
    return true;
}

static char *int_literal(moosec_arena *arena, moosec_type_kind kind, const moosec_value *v) {
    if (moosec_c_kind_is_unsigned(kind))
        return kind == MOOSEC_TYPE_UINT64 ? moosec_arena_printf(arena, "UINT64_C(%" PRIu64 ")",
                                                                 (uint64_t)v->i)
                                          : moosec_arena_printf(arena, "%" PRId64 "u", v->i);
    if (v->i == INT64_MIN)
        return moosec_arena_strdup(arena, "(-INT64_C(9223372036854775807) - 1)");
    if (kind == MOOSEC_TYPE_INT64)
        return moosec_arena_printf(arena, "INT64_C(%" PRId64 ")", v->i);
    return moosec_arena_printf(arena, "%" PRId64, v->i);
}

char *moosec_c_value_init(moosec_arena *arena, const moosec_model *m, const moosec_field *f,
                          const moosec_value *v) {
    moosec_type_kind kind = f->type.kind;
    switch (kind) {
    case MOOSEC_TYPE_STRING:
        if (v->kind != MOOSEC_VALUE_STRING)
            return NULL;
        return moosec_arena_printf(arena, "{%s, %zu}", moosec_c_string(arena, v->text, v->text_len),
                                   v->text_len);
    case MOOSEC_TYPE_BOOL:
        return moosec_arena_strdup(arena, v->b ? "true" : "false");
    case MOOSEC_TYPE_FLOAT32:
    case MOOSEC_TYPE_FLOAT64: {
        const char *t = v->text;
        bool has_point = strpbrk(t, ".eE") != NULL;
        return moosec_arena_printf(arena, "%s%s%s", t, has_point ? "" : ".0",
                                   kind == MOOSEC_TYPE_FLOAT32 ? "f" : "");
    }
    case MOOSEC_TYPE_DATETIME: {
        int64_t us;
        if (v->kind != MOOSEC_VALUE_STRING || !datetime_micros(v->text, v->text_len, &us))
            return NULL;
        return moosec_arena_printf(arena, "INT64_C(%" PRId64 ")", us);
    }
    case MOOSEC_TYPE_DATE: {
        int64_t days;
        if (v->kind != MOOSEC_VALUE_STRING || !date_days(v->text, v->text_len, &days))
            return NULL;
        return moosec_arena_printf(arena, "%" PRId64, days);
    }
    case MOOSEC_TYPE_UUID: {
        if (v->kind != MOOSEC_VALUE_STRING || v->text_len != 36)
            return NULL;
        char *out = moosec_arena_alloc(arena, 16 * 6 + 8);
        size_t o = (size_t)sprintf(out, "{{");
        int b = 0;
        for (size_t i = 0; i < 36; i++) {
            if (v->text[i] == '-')
                continue;
            int hi = hexdig(v->text[i]), lo = hexdig(v->text[i + 1]);
            if (hi < 0 || lo < 0)
                return NULL;
            o += (size_t)sprintf(out + o, "%s0x%02x", b ? ", " : "", hi << 4 | lo);
            b++;
            i++;
        }
        sprintf(out + o, "}}");
        return out;
    }
    case MOOSEC_TYPE_DECIMAL: {
        int64_t u;
        if (!decimal_unscaled(v->text, f->type.decimal_scale, &u))
            return NULL;
        return moosec_arena_printf(arena, "INT64_C(%" PRId64 ")", u);
    }
    case MOOSEC_TYPE_ENUM:
        for (size_t i = 0; i < f->type.members.len; i++)
            if (v->kind == MOOSEC_VALUE_STRING && strcmp(f->type.members.items[i].name, v->text) == 0)
                return moosec_arena_strdup(arena, moosec_c_enum_const(arena, m, f, i));
        return NULL;
    case MOOSEC_TYPE_MODEL:
        return NULL;
    default:
        if (v->kind != MOOSEC_VALUE_INT)
            return NULL;
        return int_literal(arena, kind, v);
    }
}

static char *json_string(moosec_arena *arena, const char *s, size_t len) {
    char *out = moosec_arena_alloc(arena, len * 6 + 3);
    size_t o = 0;
    out[o++] = '"';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c < 0x20) {
            o += (size_t)sprintf(out + o, "\\u%04x", c);
        } else {
            out[o++] = (char)c;
        }
    }
    out[o++] = '"';
    out[o] = '\0';
    return out;
}

char *moosec_c_value_json(moosec_arena *arena, const moosec_field *f, const moosec_value *v) {
    switch (v->kind) {
    case MOOSEC_VALUE_LIST: {
        char *s = moosec_arena_strdup(arena, "[");
        for (size_t i = 0; i < v->items.len; i++)
            s = moosec_arena_printf(arena, "%s%s%s", s, i ? "," : "",
                                    moosec_c_value_json(arena, f, v->items.items[i]));
        return moosec_arena_printf(arena, "%s]", s);
    }
    case MOOSEC_VALUE_STRING:
        return json_string(arena, v->text, v->text_len);
    case MOOSEC_VALUE_BOOL:
        return moosec_arena_strdup(arena, v->b ? "true" : "false");
    default:
        return moosec_arena_strdup(arena, v->text ? v->text : "null");
    }
}

const moosec_model **moosec_c_model_order(moosec_arena *arena, const moosec_schema *schema) {
    size_t n = schema->models.len;
    const moosec_model **order = moosec_arena_alloc(arena, (n + 1) * sizeof(*order));
    bool *placed = moosec_arena_alloc(arena, (n + 1) * sizeof(bool));
    size_t done = 0;
    while (done < n) {
        size_t before = done;
        for (size_t i = 0; i < n; i++) {
            if (placed[i])
                continue;
            const moosec_model *m = schema->models.items[i];
            bool ready = true;
            for (size_t j = 0; j < m->fields.len && ready; j++) {
                const moosec_type *t = &m->fields.items[j]->type;
                /* only a required, non-array nested model is held by value */
                if (t->kind == MOOSEC_TYPE_MODEL && !t->optional && !t->array && t->model)
                    for (size_t k = 0; k < n; k++)
                        if (schema->models.items[k] == t->model && !placed[k])
                            ready = false;
            }
            if (ready) {
                placed[i] = true;
                order[done++] = m;
            }
        }
        if (done == before) {
            /* a cycle by value (sema refuses those): keep declaration order */
            for (size_t i = 0; i < n; i++)
                if (!placed[i]) {
                    placed[i] = true;
                    order[done++] = schema->models.items[i];
                }
        }
    }
    return order;
}
