/*
 * Field constraints: @length, @range, @pattern and @default, each checked
 * against the field's type and filled into the field's resolved members.
 * A @default is checked last, against the type and the other constraints, so
 * a default that its own field would refuse is caught here.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <float.h>
#include <math.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sema_internal.h"

static bool kind_is_integer(moosec_type_kind k) {
    return k >= MOOSEC_TYPE_INT8 && k <= MOOSEC_TYPE_UINT64;
}

static bool kind_is_number(moosec_type_kind k) {
    return kind_is_integer(k) || k == MOOSEC_TYPE_FLOAT32 || k == MOOSEC_TYPE_FLOAT64 ||
           k == MOOSEC_TYPE_DECIMAL;
}

/* The bounds of an integer kind; UInt64 is capped at INT64_MAX (literals are int64). */
static void integer_bounds(moosec_type_kind k, int64_t *lo, int64_t *hi) {
    switch (k) {
    case MOOSEC_TYPE_INT8: *lo = INT8_MIN; *hi = INT8_MAX; break;
    case MOOSEC_TYPE_INT16: *lo = INT16_MIN; *hi = INT16_MAX; break;
    case MOOSEC_TYPE_INT32: *lo = INT32_MIN; *hi = INT32_MAX; break;
    case MOOSEC_TYPE_UINT8: *lo = 0; *hi = UINT8_MAX; break;
    case MOOSEC_TYPE_UINT16: *lo = 0; *hi = UINT16_MAX; break;
    case MOOSEC_TYPE_UINT32: *lo = 0; *hi = UINT32_MAX; break;
    case MOOSEC_TYPE_UINT64: *lo = 0; *hi = INT64_MAX; break;
    default: *lo = INT64_MIN; *hi = INT64_MAX; break;
    }
}

static const char *type_name(const moosec_type *t) {
    return t->kind == MOOSEC_TYPE_MODEL ? t->model_name : moosec_type_kind_name(t->kind);
}

/* Checks an integer literal against an integer kind; reports with WHAT ("@range bound"). */
static bool integer_fits(moosec_sema *s, const moosec_type *t, const moosec_value *v,
                         const char *what) {
    int64_t lo, hi;
    integer_bounds(t->kind, &lo, &hi);
    if (v->int_overflow || v->i < lo || v->i > hi) {
        moosec_error(s->diag, v->loc, "%s %s does not fit in %s (%lld to %lld)", what, v->text,
                     moosec_type_kind_name(t->kind), (long long)lo, (long long)hi);
        return false;
    }
    return true;
}

static void check_length(moosec_sema *s, moosec_field *f, const moosec_attr *a) {
    if (f->type.kind != MOOSEC_TYPE_STRING) {
        moosec_error(s->diag, a->loc, "@length applies to String fields, not %s",
                     type_name(&f->type));
        return;
    }
    if (a->args.len != 2 || a->args.items[0]->kind != MOOSEC_VALUE_INT ||
        a->args.items[1]->kind != MOOSEC_VALUE_INT || a->args.items[0]->int_overflow ||
        a->args.items[1]->int_overflow) {
        moosec_error(s->diag, a->loc,
                     "@length takes two integers, the least and the most characters: "
                     "@length(1, 64)");
        return;
    }
    const moosec_value *lo = a->args.items[0], *hi = a->args.items[1];
    if (lo->i < 0 || hi->i < 0) {
        const moosec_value *neg = lo->i < 0 ? lo : hi;
        moosec_error(s->diag, neg->loc, "@length cannot be negative (%s)", neg->text);
        return;
    }
    if (lo->i > hi->i) {
        moosec_error(s->diag, a->loc, "@length minimum %s is greater than its maximum %s",
                     lo->text, hi->text);
        return;
    }
    if (hi->i == 0) {
        moosec_error(s->diag, hi->loc, "@length maximum 0 allows only the empty string");
        return;
    }
    f->has_length = true;
    f->length_min = lo->i;
    f->length_max = hi->i;
}

/* Decimal(p, s): at most s digits after the point and p - s before it. */
static bool decimal_fits(moosec_sema *s, const moosec_type *t, const moosec_value *v,
                         const char *what) {
    const char *p = v->text;
    if (strpbrk(p, "eE")) {
        moosec_error(s->diag, v->loc, "%s for Decimal must be written without an exponent", what);
        return false;
    }
    if (*p == '-')
        p++;
    while (*p == '0' && p[1] >= '0' && p[1] <= '9')
        p++;
    const char *dot = strchr(p, '.');
    int int_digits = (int)(dot ? (size_t)(dot - p) : strlen(p));
    int frac_digits = dot ? (int)strlen(dot + 1) : 0;
    if (int_digits == 1 && *p == '0')
        int_digits = 0;
    if (frac_digits > t->decimal_scale || int_digits > t->decimal_precision - t->decimal_scale) {
        moosec_error(s->diag, v->loc, "%s %s does not fit in Decimal(%d, %d)", what, v->text,
                     t->decimal_precision, t->decimal_scale);
        return false;
    }
    return true;
}

static void check_range(moosec_sema *s, moosec_field *f, const moosec_attr *a) {
    const moosec_type *t = &f->type;
    if (!kind_is_number(t->kind)) {
        moosec_error(s->diag, a->loc, "@range applies to number fields, not %s", type_name(t));
        return;
    }
    if (a->args.len != 2) {
        moosec_error(s->diag, a->loc,
                     "@range takes two numbers, the least and the greatest value: "
                     "@range(0, 100)");
        return;
    }
    const moosec_value *lo = a->args.items[0], *hi = a->args.items[1];
    for (int i = 0; i < 2; i++) {
        const moosec_value *v = a->args.items[i];
        if (v->kind != MOOSEC_VALUE_INT && v->kind != MOOSEC_VALUE_FLOAT) {
            moosec_error(s->diag, v->loc, "@range bound must be a number, found %s",
                         moosec__value_desc(v));
            return;
        }
        if (kind_is_integer(t->kind)) {
            if (v->kind != MOOSEC_VALUE_INT) {
                moosec_error(s->diag, v->loc, "@range of %s takes integers, not %s",
                             moosec_type_kind_name(t->kind), v->text);
                return;
            }
            if (!integer_fits(s, t, v, "@range bound"))
                return;
        } else if (t->kind == MOOSEC_TYPE_DECIMAL) {
            if (!decimal_fits(s, t, v, "@range bound"))
                return;
        } else if (t->kind == MOOSEC_TYPE_FLOAT32 && fabs(v->f) > FLT_MAX) {
            moosec_error(s->diag, v->loc, "@range bound %s does not fit in Float32", v->text);
            return;
        }
    }
    bool inverted = kind_is_integer(t->kind) ? lo->i > hi->i : lo->f > hi->f;
    if (inverted) {
        moosec_error(s->diag, a->loc, "@range minimum %s is greater than its maximum %s",
                     lo->text, hi->text);
        return;
    }
    f->has_range = true;
    f->range_min = lo->f;
    f->range_max = hi->f;
    f->range_min_value = lo;
    f->range_max_value = hi;
}

/*
 * Where PCRE2's error offset (in the unescaped pattern) is in the source:
 * exact when the literal has no escapes that changed its length, else the
 * whole literal.
 */
static moosec_loc pattern_error_loc(const moosec_value *v, size_t offset) {
    moosec_loc l = v->loc;
    uint32_t raw_len = l.end - l.begin;
    if (raw_len >= 2 && raw_len - 2 == v->text_len) {
        l.begin += 1 + (uint32_t)offset;
        l.end = l.begin + 1;
        if (l.end > v->loc.end - 1) {
            l.begin = v->loc.end - 1;
            l.end = v->loc.end;
        }
    }
    return l;
}

static pcre2_code *check_pattern(moosec_sema *s, moosec_field *f, const moosec_attr *a) {
    if (f->type.kind != MOOSEC_TYPE_STRING) {
        moosec_error(s->diag, a->loc, "@pattern applies to String fields, not %s",
                     type_name(&f->type));
        return NULL;
    }
    if (a->args.len != 1 || a->args.items[0]->kind != MOOSEC_VALUE_STRING) {
        moosec_error(s->diag, a->loc, "@pattern takes one string literal: @pattern(\"^[a-z]+$\")");
        return NULL;
    }
    const moosec_value *v = a->args.items[0];
    int code;
    PCRE2_SIZE offset;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)v->text, v->text_len, PCRE2_UTF, &code, &offset,
                                   NULL);
    if (!re) {
        PCRE2_UCHAR msg[256];
        if (pcre2_get_error_message(code, msg, sizeof msg) < 0)
            snprintf((char *)msg, sizeof msg, "error %d", code);
        moosec_error(s->diag, pattern_error_loc(v, offset),
                     "invalid @pattern: %s (at offset %zu)", (const char *)msg, (size_t)offset);
        return NULL;
    }
    f->pattern = v->text;
    return re;
}

/* Characters, not bytes: @length counts what a user sees. */
static int64_t utf8_chars(const char *s, size_t len) {
    int64_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

static bool digits(const char *s, int n) {
    for (int i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static int num(const char *s, int n) {
    int v = 0;
    for (int i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

static bool valid_date(const char *s) {
    if (!digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' || !digits(s + 8, 2))
        return false;
    int y = num(s, 4), m = num(s + 5, 2), d = num(s + 8, 2);
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return !(m == 2 && d == 29 && !leap);
}

/* RFC 3339: 2024-03-20T12:00:00Z, fractions and numeric offsets allowed. */
static bool valid_datetime(const char *s, size_t len) {
    if (len < 20 || !valid_date(s) || (s[10] != 'T' && s[10] != 't' && s[10] != ' '))
        return false;
    const char *p = s + 11;
    if (!digits(p, 2) || p[2] != ':' || !digits(p + 3, 2) || p[5] != ':' || !digits(p + 6, 2))
        return false;
    if (num(p, 2) > 23 || num(p + 3, 2) > 59 || num(p + 6, 2) > 60)
        return false;
    p += 8;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return false;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if ((*p == 'Z' || *p == 'z') && p[1] == '\0')
        return true;
    if ((*p == '+' || *p == '-') && digits(p + 1, 2) && p[3] == ':' && digits(p + 4, 2) &&
        p[6] == '\0')
        return num(p + 1, 2) <= 23 && num(p + 4, 2) <= 59;
    return false;
}

static bool valid_uuid(const char *s, size_t len) {
    if (len != 36)
        return false;
    for (size_t i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        char c = s[i];
        bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        if (dash ? c != '-' : !hex)
            return false;
    }
    return true;
}

static bool wrong_kind(moosec_sema *s, const moosec_type *t, const moosec_value *v,
                       const char *expected) {
    moosec_error(s->diag, v->loc, "@default for %s must be %s, found %s", type_name(t), expected,
                 moosec__value_desc(v));
    return false;
}

static bool default_in_range(moosec_sema *s, const moosec_field *f, const moosec_value *v) {
    if (!f->has_range)
        return true;
    bool below, above;
    if (kind_is_integer(f->type.kind)) {
        below = v->i < f->range_min_value->i;
        above = v->i > f->range_max_value->i;
    } else {
        below = v->f < f->range_min;
        above = v->f > f->range_max;
    }
    if (below || above) {
        moosec_error(s->diag, v->loc, "@default %s is outside @range(%s, %s)", v->text,
                     f->range_min_value->text, f->range_max_value->text);
        return false;
    }
    return true;
}

static bool check_default_scalar(moosec_sema *s, const moosec_field *f, const moosec_value *v,
                                 pcre2_code *re) {
    const moosec_type *t = &f->type;
    switch (t->kind) {
    case MOOSEC_TYPE_STRING: {
        if (v->kind != MOOSEC_VALUE_STRING)
            return wrong_kind(s, t, v, "a string literal");
        int64_t n = utf8_chars(v->text, v->text_len);
        if (f->has_length && (n < f->length_min || n > f->length_max)) {
            moosec_error(s->diag, v->loc,
                         "@default is %lld characters long, outside @length(%lld, %lld)",
                         (long long)n, (long long)f->length_min, (long long)f->length_max);
            return false;
        }
        if (re) {
            pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
            if (!md) {
                fputs("moosec: out of memory\n", stderr);
                abort();
            }
            int rc = pcre2_match(re, (PCRE2_SPTR)v->text, v->text_len, 0, 0, md, NULL);
            pcre2_match_data_free(md);
            if (rc < 0) {
                moosec_error(s->diag, v->loc, "@default \"%s\" does not match @pattern(\"%s\")",
                             v->text, f->pattern);
                return false;
            }
        }
        return true;
    }
    case MOOSEC_TYPE_BOOL:
        return v->kind == MOOSEC_VALUE_BOOL ? true : wrong_kind(s, t, v, "true or false");
    case MOOSEC_TYPE_FLOAT32:
    case MOOSEC_TYPE_FLOAT64:
        if (v->kind != MOOSEC_VALUE_INT && v->kind != MOOSEC_VALUE_FLOAT)
            return wrong_kind(s, t, v, "a number");
        if (t->kind == MOOSEC_TYPE_FLOAT32 && fabs(v->f) > FLT_MAX) {
            moosec_error(s->diag, v->loc, "@default %s does not fit in Float32", v->text);
            return false;
        }
        return default_in_range(s, f, v);
    case MOOSEC_TYPE_DECIMAL:
        if (v->kind != MOOSEC_VALUE_INT && v->kind != MOOSEC_VALUE_FLOAT)
            return wrong_kind(s, t, v, "a number");
        return decimal_fits(s, t, v, "@default") && default_in_range(s, f, v);
    case MOOSEC_TYPE_DATETIME:
        if (v->kind != MOOSEC_VALUE_STRING)
            return wrong_kind(s, t, v, "an RFC 3339 string (\"2024-03-20T12:00:00Z\")");
        if (!valid_datetime(v->text, v->text_len)) {
            moosec_error(s->diag, v->loc,
                         "@default \"%s\" is not an RFC 3339 date and time "
                         "(\"2024-03-20T12:00:00Z\")",
                         v->text);
            return false;
        }
        return true;
    case MOOSEC_TYPE_DATE:
        if (v->kind != MOOSEC_VALUE_STRING)
            return wrong_kind(s, t, v, "a date string (\"2024-03-20\")");
        if (v->text_len != 10 || !valid_date(v->text)) {
            moosec_error(s->diag, v->loc, "@default \"%s\" is not a date (\"2024-03-20\")",
                         v->text);
            return false;
        }
        return true;
    case MOOSEC_TYPE_UUID:
        if (v->kind != MOOSEC_VALUE_STRING)
            return wrong_kind(s, t, v, "a UUID string");
        if (!valid_uuid(v->text, v->text_len)) {
            moosec_error(s->diag, v->loc,
                         "@default \"%s\" is not a UUID "
                         "(\"123e4567-e89b-12d3-a456-426614174000\")",
                         v->text);
            return false;
        }
        return true;
    case MOOSEC_TYPE_ENUM:
        if (v->kind != MOOSEC_VALUE_STRING)
            return wrong_kind(s, t, v, "one of its members as a string literal");
        for (size_t i = 0; i < t->members.len; i++)
            if (strcmp(t->members.items[i].name, v->text) == 0)
                return true;
        moosec_error(s->diag, v->loc, "@default \"%s\" is not a member of this Enum", v->text);
        return false;
    case MOOSEC_TYPE_MODEL:
        return false; /* refused by the caller */
    default:
        if (v->kind != MOOSEC_VALUE_INT)
            return wrong_kind(s, t, v, "an integer");
        return integer_fits(s, t, v, "@default") && default_in_range(s, f, v);
    }
}

static void check_default(moosec_sema *s, moosec_field *f, const moosec_attr *a, pcre2_code *re) {
    if (a->args.len != 1) {
        moosec_error(s->diag, a->loc, "@default takes one value: @default(0)");
        return;
    }
    const moosec_value *v = a->args.items[0];
    if (f->type.key) {
        moosec_error(s->diag, a->loc, "a Key cannot have a @default: every record carries its key");
        return;
    }
    if (f->type.kind == MOOSEC_TYPE_MODEL) {
        moosec_error(s->diag, a->loc, "a nested model field cannot have a @default");
        return;
    }
    bool ok = true;
    if (f->type.array) {
        if (v->kind != MOOSEC_VALUE_LIST) {
            moosec_error(s->diag, v->loc, "@default for an array must be a list, found %s",
                         moosec__value_desc(v));
            return;
        }
        for (size_t i = 0; i < v->items.len; i++)
            ok &= check_default_scalar(s, f, v->items.items[i], re);
    } else {
        ok = check_default_scalar(s, f, v, re);
    }
    if (ok)
        f->default_value = v;
}

void moosec__sema_field_constraints(moosec_sema *s, moosec_model *m, moosec_field *f) {
    (void)m;
    const moosec_attr *dflt = NULL;
    pcre2_code *re = NULL;
    for (size_t i = 0; i < f->attrs.len; i++) {
        const moosec_attr *a = f->attrs.items[i];
        bool dup = false;
        for (size_t j = 0; j < i && !dup; j++) {
            if (strcmp(f->attrs.items[j]->name, a->name) == 0) {
                moosec_error(s->diag, a->loc, "duplicate constraint '@%s' on field '%s'",
                             a->name, f->name);
                moosec_note(s->diag, f->attrs.items[j]->loc, "'@%s' is first given here",
                            a->name);
                dup = true;
            }
        }
        if (dup)
            continue;
        if (strcmp(a->name, "length") == 0) {
            check_length(s, f, a);
        } else if (strcmp(a->name, "range") == 0) {
            check_range(s, f, a);
        } else if (strcmp(a->name, "pattern") == 0) {
            re = check_pattern(s, f, a);
        } else if (strcmp(a->name, "default") == 0) {
            dflt = a;
        } else {
            static const char *const known[] = {"length", "range", "pattern", "default"};
            const char *near = moosec__suggest_in_list(s, known, 4, a->name);
            if (near)
                moosec_error(s->diag, a->loc, "unknown constraint '@%s' (did you mean '@%s'?)",
                             a->name, near);
            else
                moosec_error(s->diag, a->loc,
                             "unknown constraint '@%s' (known: @length, @range, @pattern, "
                             "@default)",
                             a->name);
        }
    }
    if (dflt)
        check_default(s, f, dflt, re);
    pcre2_code_free(re);
}
