/*
 * The strict JSON reader behind generated decoders (see moose/json.h).
 * Hot paths: plain strings (a scan and one memcpy into the arena) and small
 * integers; everything unusual (escapes, long numbers) takes a slower path.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "moose/json.h"

enum { DEFAULT_MAX_DEPTH = 64 };
#define DEFAULT_MAX_BYTES ((size_t)1 << 20)

/* ---- paths and failures ---- */

char *moose_path_format(const moose_path *path, const char *name, char *out, size_t size) {
    /* collect the steps root first */
    const moose_path *steps[64];
    size_t n = 0;
    for (const moose_path *p = path; p && n < 64; p = p->parent)
        steps[n++] = p;
    size_t len = 0;
    out[0] = '\0';
#define PUT(...)                                                                               \
    do {                                                                                       \
        if (len < size) {                                                                      \
            int w__ = snprintf(out + len, size - len, __VA_ARGS__);                            \
            if (w__ > 0)                                                                       \
                len += (size_t)w__;                                                            \
        }                                                                                      \
    } while (0)
    while (n-- > 0) {
        const moose_path *s = steps[n];
        if (s->name)
            PUT("%s%s", len ? "." : "", s->name);
        else
            PUT("[%" PRId64 "]", s->index);
    }
    if (name)
        PUT("%s%s", len ? "." : "", name);
#undef PUT
    return out;
}

__attribute__((format(printf, 6, 0))) static int vfail(moose_json_reader *r, const char *at,
                                                     const char *name, int code,
                 const char *rule, const char *fmt, va_list ap) {
    if (!r->errs)
        return code;
    char path[MOOSE_ERROR_PATH_MAX];
    char msg[MOOSE_ERROR_MESSAGE_MAX];
    vsnprintf(msg, sizeof msg, fmt, ap);
    moose_path_format(r->path, name, path, sizeof path);
    moose_errors_add(r->errs, path, rule, (int64_t)(at - r->begin), "%s", msg);
    return code;
}

int moose_json_fail(moose_json_reader *r, int code, const char *rule, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int rc = vfail(r, r->p, NULL, code, rule, fmt, ap);
    va_end(ap);
    return rc;
}

int moose_json_fail_at(moose_json_reader *r, const char *at, const char *name, int code,
                       const char *rule, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int rc = vfail(r, at, name, code, rule, fmt, ap);
    va_end(ap);
    return rc;
}

/* "a string", "'x'", "the end of the input": what stands at the reader's position. */
static const char *found(const moose_json_reader *r, char *buf, size_t size) {
    if (r->p >= r->end)
        return "the end of the input";
    unsigned char c = (unsigned char)*r->p;
    switch (c) {
    case '"':
        return "a string";
    case '{':
        return "an object";
    case '[':
        return "an array";
    case 't':
        if (r->end - r->p >= 4 && memcmp(r->p, "true", 4) == 0)
            return "true";
        break;
    case 'f':
        if (r->end - r->p >= 5 && memcmp(r->p, "false", 5) == 0)
            return "false";
        break;
    case 'n':
        if (r->end - r->p >= 4 && memcmp(r->p, "null", 4) == 0)
            return "null";
        break;
    default:
        /* a lone '-' (as in -Infinity) is no number: saying so would contradict the message */
        if ((c >= '0' && c <= '9') ||
            (c == '-' && r->end - r->p >= 2 && r->p[1] >= '0' && r->p[1] <= '9'))
            return "a number";
        break;
    }
    if (c >= 0x20 && c < 0x7f)
        snprintf(buf, size, "'%c'", c);
    else
        snprintf(buf, size, "byte 0x%02X", c);
    return buf;
}

static int expected(moose_json_reader *r, const char *what) {
    char buf[16];
    const char *f = found(r, buf, sizeof buf);
    /* optional fields consume null before reading: this one is required (the record is no field) */
    if (strcmp(f, "null") == 0 && r->depth > 0)
        return moose_json_fail(r, MOOSE_EDECODE, "required",
                               "expected %s, found null: the field is not optional", what);
    /* a value of the wrong kind is a type error; anything else is not JSON */
    bool is_value = f[0] == 'a' || f[0] == 't' || f[0] == 'f' || f[0] == 'n';
    if (r->p >= r->end)
        is_value = false;
    return moose_json_fail(r, MOOSE_EDECODE, is_value ? "type" : "syntax", "expected %s, found %s",
                           what, f);
}

/* ---- document ---- */

int moose_json_start(moose_json_reader *r, const char *json, size_t len, moose_arena *arena,
                     const moose_decode_options *opts, moose_errors *errs) {
    r->begin = r->p = json;
    r->end = json + len;
    r->arena = arena;
    r->errs = errs;
    r->allow_extra_fields = opts && opts->allow_extra_fields;
    r->depth = 0;
    r->max_depth = opts && opts->max_depth ? opts->max_depth : DEFAULT_MAX_DEPTH;
    r->path = NULL;
    size_t max_bytes = opts && opts->max_bytes ? opts->max_bytes : DEFAULT_MAX_BYTES;
    if (len > max_bytes)
        return moose_json_fail(r, MOOSE_ETOOBIG, "limit",
                               "record is %zu bytes, more than the limit of %zu", len, max_bytes);
    if (!json && len)
        return moose_json_fail(r, MOOSE_EINVAL, "syntax", "no input");
    return 0;
}

int moose_json_finish(moose_json_reader *r) {
    moose_json_ws(r);
    if (r->p != r->end) {
        char buf[16];
        return moose_json_fail(r, MOOSE_EDECODE, "syntax",
                               "expected the end of the record, found %s",
                               found(r, buf, sizeof buf));
    }
    return 0;
}

/* ---- strings ---- */

/* Bytes that end the fast scan of a string: '"', '\\', control characters. */
static const unsigned char str_stop[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
};

static int bad_utf8(moose_json_reader *r, const char *at) {
    return moose_json_fail_at(r, at, NULL, MOOSE_EDECODE, "encoding",
                              "invalid UTF-8 (byte 0x%02X)", (unsigned char)*at);
}

/*
 * Scans the string at r->p (its opening quote). Plain strings (no escapes)
 * leave *RAW / *RAW_LEN pointing into the input and return 0; strings with
 * escapes return 1 with *RAW_LEN the raw length (an upper bound of the
 * decoded length). Negative on a failure.
 */
static int scan_string(moose_json_reader *r, const char **raw, size_t *raw_len) {
    const unsigned char *s = (const unsigned char *)r->p + 1;
    const unsigned char *end = (const unsigned char *)r->end;
    const unsigned char *start = s;
    int escaped = 0;
    for (;;) {
        /* eight bytes at a time while none is '"', '\\', a control or a non-ASCII byte */
        while (end - s >= 8) {
            uint64_t w;
            memcpy(&w, s, 8);
            const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
            uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
            uint64_t stop = (((q - ones) & ~q) | ((b - ones) & ~b) | (w - ones * 0x20) | w) & highs;
            if (stop) {
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
                /* the lowest flagged byte is a real stop (false flags only follow real ones) */
                s += __builtin_ctzll(stop) >> 3;
#endif
                break;
            }
            s += 8;
        }
        while (s < end && !str_stop[*s])
            s++;
        if (s >= end)
            return moose_json_fail_at(r, r->p, NULL, MOOSE_EDECODE, "syntax",
                                      "unterminated string");
        unsigned char c = *s;
        if (c == '"')
            break;
        if (c == '\\') {
            escaped = 1;
            s += 2; /* the escape itself is checked when decoding */
            continue;
        }
        if (c < 0x20)
            return moose_json_fail_at(r, (const char *)s, NULL, MOOSE_EDECODE, "syntax",
                                      "control character 0x%02X must be escaped in a string",
                                      c);
        size_t k = moose__utf8_seq(s, (size_t)(end - s));
        if (!k)
            return bad_utf8(r, (const char *)s);
        s += k;
    }
    *raw = (const char *)start;
    *raw_len = (size_t)(s - start);
    return escaped;
}

static int hex4(const char *s, unsigned *out) {
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = (unsigned char)s[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
            d = (c | 0x20) - 'a' + 10;
        else
            return 0;
        v = v << 4 | d;
    }
    *out = v;
    return 1;
}

/* Decodes the escaped string RAW[0..LEN) into OUT (room for LEN bytes); returns its length. */
static int unescape(moose_json_reader *r, const char *raw, size_t len, char *out, size_t *out_len) {
    const char *s = raw, *end = raw + len;
    char *o = out;
    while (s < end) {
        if (*s != '\\') {
            *o++ = *s++;
            continue;
        }
        const char *esc = s;
        if (end - s < 2)
            return moose_json_fail_at(r, esc, NULL, MOOSE_EDECODE, "syntax", "unfinished escape");
        char c = s[1];
        s += 2;
        switch (c) {
        case '"':
        case '\\':
        case '/':
            *o++ = c;
            break;
        case 'b':
            *o++ = '\b';
            break;
        case 'f':
            *o++ = '\f';
            break;
        case 'n':
            *o++ = '\n';
            break;
        case 'r':
            *o++ = '\r';
            break;
        case 't':
            *o++ = '\t';
            break;
        case 'u': {
            unsigned cp;
            if (end - s < 4 || !hex4(s, &cp))
                return moose_json_fail_at(r, esc, NULL, MOOSE_EDECODE, "syntax",
                                          "\\u must be followed by four hexadecimal digits");
            s += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                unsigned lo;
                if (end - s < 6 || s[0] != '\\' || s[1] != 'u' || !hex4(s + 2, &lo) ||
                    lo < 0xDC00 || lo > 0xDFFF)
                    return moose_json_fail_at(r, esc, NULL, MOOSE_EDECODE, "encoding",
                                              "high surrogate \\u%04X is not followed by a low "
                                              "surrogate",
                                              cp);
                s += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                return moose_json_fail_at(r, esc, NULL, MOOSE_EDECODE, "encoding",
                                          "lone low surrogate \\u%04X", cp);
            }
            if (cp < 0x80) {
                *o++ = (char)cp;
            } else if (cp < 0x800) {
                *o++ = (char)(0xC0 | cp >> 6);
                *o++ = (char)(0x80 | (cp & 0x3F));
            } else if (cp < 0x10000) {
                *o++ = (char)(0xE0 | cp >> 12);
                *o++ = (char)(0x80 | (cp >> 6 & 0x3F));
                *o++ = (char)(0x80 | (cp & 0x3F));
            } else {
                *o++ = (char)(0xF0 | cp >> 18);
                *o++ = (char)(0x80 | (cp >> 12 & 0x3F));
                *o++ = (char)(0x80 | (cp >> 6 & 0x3F));
                *o++ = (char)(0x80 | (cp & 0x3F));
            }
            break;
        }
        default:
            return moose_json_fail_at(r, esc, NULL, MOOSE_EDECODE, "syntax",
                                      "invalid escape '\\%c'", c >= 0x20 && c < 0x7f ? c : '?');
        }
    }
    *out_len = (size_t)(o - out);
    return 0;
}

static int no_memory(moose_json_reader *r) {
    return moose_json_fail(r, MOOSE_ENOMEM, "memory", "out of memory");
}

/*
 * The string at the reader (after whitespace) into *OUT; with COPY the
 * bytes always land in the arena, NUL-terminated; without, plain strings
 * point into the input (keys, enum names).
 */
static int read_string(moose_json_reader *r, moose_str *out, bool copy) {
    moose_json_ws(r);
    if (r->p >= r->end || *r->p != '"')
        return expected(r, "a string");
    const char *raw = NULL;
    size_t len = 0;
    int rc = scan_string(r, &raw, &len);
    if (rc < 0)
        return rc;
    const char *raw_end = raw + len + 1;
    if (rc == 0 && !copy) {
        out->ptr = raw;
        out->len = len;
        r->p = raw_end;
        return 0;
    }
    char *dst;
    moose_arena *a = r->arena;
    if (a->cur && (size_t)(a->end - a->cur) > len) {
        dst = a->cur; /* the arena's fast path, without a call */
        a->cur += len + 1;
    } else {
        dst = moose_arena_alloc(a, len + 1, 1);
        if (!dst)
            return no_memory(r);
    }
    if (rc == 0) {
        memcpy(dst, raw, len);
    } else {
        int urc = unescape(r, raw, len, dst, &len);
        if (urc < 0)
            return urc;
    }
    dst[len] = '\0';
    out->ptr = dst;
    out->len = len;
    r->p = raw_end;
    return 0;
}

int moose_json_read_str(moose_json_reader *r, moose_str *out) { return read_string(r, out, true); }

/* ---- structure ---- */

static int enter(moose_json_reader *r) {
    if (++r->depth > r->max_depth)
        return moose_json_fail_at(r, r->p - 1, NULL, MOOSE_ETOOBIG, "limit", "nesting deeper than %" PRIu32 " levels",
                               r->max_depth);
    return 0;
}

int moose_json_object_begin(moose_json_reader *r) {
    moose_json_ws(r);
    if (r->p >= r->end || *r->p != '{')
        return expected(r, "an object");
    r->p++;
    return enter(r);
}

int moose_json_object_next(moose_json_reader *r, bool *first, const char **key,
                           size_t *key_len) {
    moose_json_ws(r);
    if (r->p < r->end && *r->p == '}' && *first) {
        r->p++;
        r->depth--;
        return 0;
    }
    if (!*first) {
        if (r->p < r->end && *r->p == '}') {
            r->p++;
            r->depth--;
            return 0;
        }
        if (r->p >= r->end || *r->p != ',') {
            char buf[16];
            return moose_json_fail(r, MOOSE_EDECODE, "syntax", "expected ',' or '}', found %s",
                                   found(r, buf, sizeof buf));
        }
        r->p++;
        moose_json_ws(r);
    }
    if (r->p >= r->end || *r->p != '"') {
        char buf[16];
        return moose_json_fail(r, MOOSE_EDECODE, "syntax", "expected a member name%s, found %s",
                               *first ? " or '}'" : "", found(r, buf, sizeof buf));
    }
    *first = false;
    moose_str k;
    int rc = read_string(r, &k, false);
    if (rc < 0)
        return rc;
    moose_json_ws(r);
    if (r->p >= r->end || *r->p != ':') {
        char buf[16];
        return moose_json_fail(r, MOOSE_EDECODE, "syntax", "expected ':', found %s",
                               found(r, buf, sizeof buf));
    }
    r->p++;
    moose_json_ws(r);
    *key = k.ptr;
    *key_len = k.len;
    return 1;
}

int moose_json_array_begin(moose_json_reader *r) {
    moose_json_ws(r);
    if (r->p >= r->end || *r->p != '[')
        return expected(r, "an array");
    r->p++;
    return enter(r);
}

int moose_json_array_next(moose_json_reader *r, bool *first) {
    moose_json_ws(r);
    if (r->p < r->end && *r->p == ']') {
        /* right after '[' or after an element; "[1,]" is refused below */
        r->p++;
        r->depth--;
        return 0;
    }
    if (*first) {
        *first = false;
        return 1;
    }
    if (r->p >= r->end || *r->p != ',') {
        char buf[16];
        return moose_json_fail(r, MOOSE_EDECODE, "syntax", "expected ',' or ']', found %s",
                               found(r, buf, sizeof buf));
    }
    r->p++;
    moose_json_ws(r);
    if (r->p < r->end && *r->p == ']')
        return moose_json_fail(r, MOOSE_EDECODE, "syntax", "trailing ',' before ']'");
    return 1;
}

int moose_json_unknown_field(moose_json_reader *r, const char *key, size_t key_len) {
    char name[128];
    snprintf(name, sizeof name, "%.*s", key_len > 100 ? 100 : (int)key_len, key);
    if (r->allow_extra_fields) {
        /* a failure inside the skipped value still names where it is */
        const moose_path *outer = r->path;
        moose_path here = {outer, name, 0};
        r->path = &here;
        int rc = moose_json_skip(r);
        r->path = outer;
        return rc;
    }
    return moose_json_fail_at(r, r->p, name, MOOSE_EDECODE, "unknown_field",
                              "unknown field \"%s\"%s", name, key_len > 100 ? "..." : "");
}

int moose_json_duplicate_field(moose_json_reader *r, const char *key, size_t key_len) {
    char name[128];
    snprintf(name, sizeof name, "%.*s", key_len > 100 ? 100 : (int)key_len, key);
    return moose_json_fail_at(r, r->p, name, MOOSE_EDECODE, "duplicate",
                              "field \"%s\" appears twice", name);
}

bool moose_json_recover(moose_json_reader *r, int rc, const char *at, uint32_t depth,
                        size_t errors_before) {
    /* Only a failure recorded just now, and kept, says what went wrong. */
    if (rc != MOOSE_EDECODE || !r->errs || r->errs->dropped > 0 ||
        r->errs->len <= errors_before)
        return false;
    const char *rule = r->errs->items[r->errs->len - 1].rule;
    if (strcmp(rule, "syntax") == 0 || strcmp(rule, "encoding") == 0 ||
        strcmp(rule, "limit") == 0 || strcmp(rule, "memory") == 0)
        return false;
    /* Read the value again as plain JSON: only a well-formed one has a known end. */
    r->p = at;
    r->depth = depth;
    return moose_json_skip(r) == 0;
}

void moose_json_missing_field(moose_json_reader *r, const char *object_at, const char *name) {
    moose_json_fail_at(r, object_at, name, MOOSE_EDECODE, "required",
                       "required field \"%s\" is missing", name);
}

int moose_json_null_not_allowed(moose_json_reader *r) {
    return moose_json_fail_at(r, r->p - 4, NULL, MOOSE_EDECODE, "required",
                              "null is not allowed: the field is not optional");
}

/* ---- numbers ---- */

/* Checks the JSON number grammar at r->p; *LEN its length, *IS_INT without fraction/exponent. */
static int scan_number(moose_json_reader *r, size_t *len, bool *is_int) {
    const char *s = r->p, *end = r->end;
    if (s < end && *s == '-')
        s++;
    if (s >= end || *s < '0' || *s > '9')
        return expected(r, "a number");
    if (*s == '0') {
        s++;
        if (s < end && *s >= '0' && *s <= '9')
            return moose_json_fail(r, MOOSE_EDECODE, "syntax",
                                   "a number must not start with a leading zero");
    } else {
        while (s < end && *s >= '0' && *s <= '9')
            s++;
    }
    *is_int = true;
    if (s < end && *s == '.') {
        *is_int = false;
        s++;
        if (s >= end || *s < '0' || *s > '9')
            return moose_json_fail(r, MOOSE_EDECODE, "syntax", "expected digits after '.'");
        while (s < end && *s >= '0' && *s <= '9')
            s++;
    }
    if (s < end && (*s == 'e' || *s == 'E')) {
        *is_int = false;
        s++;
        if (s < end && (*s == '+' || *s == '-'))
            s++;
        if (s >= end || *s < '0' || *s > '9')
            return moose_json_fail(r, MOOSE_EDECODE, "syntax", "expected digits in the exponent");
        while (s < end && *s >= '0' && *s <= '9')
            s++;
    }
    *len = (size_t)(s - r->p);
    return 0;
}

int moose_json_read_int(moose_json_reader *r, int64_t min, int64_t max, int64_t *out) {
    moose_json_ws(r);
    const char *s = r->p, *end = r->end;
    bool neg = s < end && *s == '-';
    const char *d = s + neg;
    /* fast path: up to 18 digits, no fraction or exponent */
    uint64_t v = 0;
    const char *q = d;
    while (q < end && *q >= '0' && *q <= '9' && q - d < 19) {
        v = v * 10 + (uint64_t)(*q - '0');
        q++;
    }
    size_t ndig = (size_t)(q - d);
    if (ndig == 0 || ndig > 18 || (d[0] == '0' && ndig > 1) ||
        (q < end && (*q == '.' || *q == 'e' || *q == 'E'))) {
        size_t len;
        bool is_int;
        int rc = scan_number(r, &len, &is_int);
        if (rc < 0)
            return rc;
        if (!is_int)
            return moose_json_fail(r, MOOSE_EDECODE, "type",
                                   "expected an integer, found a number with a fraction or "
                                   "exponent");
        /* 19 or more digits: only a few of those fit in 64 bits */
        v = 0;
        for (q = d; q < r->p + len; q++) {
            unsigned dig = (unsigned)(*q - '0');
            if (v > (UINT64_MAX - dig) / 10)
                goto out_of_range;
            v = v * 10 + dig;
        }
    }
    if (neg ? v > (uint64_t)0 - (uint64_t)min : v > (uint64_t)max)
        goto out_of_range;
    *out = neg ? (int64_t)((uint64_t)0 - v) : (int64_t)v;
    r->p = q;
    return 0;
out_of_range:
    return moose_json_fail(r, MOOSE_EDECODE, "range",
                           "integer out of range: must be between %" PRId64 " and %" PRId64, min,
                           max);
}

int moose_json_read_uint(moose_json_reader *r, uint64_t max, uint64_t *out) {
    moose_json_ws(r);
    size_t len;
    bool is_int;
    int rc = scan_number(r, &len, &is_int);
    if (rc < 0)
        return rc;
    if (!is_int)
        return moose_json_fail(r, MOOSE_EDECODE, "type",
                               "expected an integer, found a number with a fraction or exponent");
    const char *s = r->p;
    bool neg = *s == '-';
    uint64_t v = 0;
    bool over = false;
    for (const char *q = s + neg; q < s + len; q++) {
        unsigned dig = (unsigned)(*q - '0');
        if (v > (UINT64_MAX - dig) / 10) {
            over = true;
            break;
        }
        v = v * 10 + dig;
    }
    if (over || v > max || (neg && v != 0))
        return moose_json_fail(r, MOOSE_EDECODE, "range",
                               "integer out of range: must be between 0 and %" PRIu64, max);
    *out = v;
    r->p = s + len;
    return 0;
}

static int read_float(moose_json_reader *r, int is32, double *out) {
    moose_json_ws(r);
    size_t len;
    bool is_int;
    int rc = scan_number(r, &len, &is_int);
    if (rc < 0)
        return rc;
    rc = moose__number_to_double(r->p, len, is32, out);
    if (rc == -2)
        return no_memory(r);
    if (rc < 0)
        return moose_json_fail(r, MOOSE_EDECODE, "range", "number too large for a %s",
                               is32 ? "Float32" : "Float64");
    r->p += len;
    return 0;
}

int moose_json_read_f64(moose_json_reader *r, double *out) { return read_float(r, 0, out); }

int moose_json_read_f32(moose_json_reader *r, float *out) {
    double d;
    int rc = read_float(r, 1, &d);
    if (rc == 0)
        *out = (float)d;
    return rc;
}

int moose_json_read_decimal(moose_json_reader *r, unsigned precision, unsigned scale,
                            moose_decimal *out) {
    moose_json_ws(r);
    size_t len;
    bool is_int;
    int rc = scan_number(r, &len, &is_int);
    if (rc < 0)
        return rc;
    const char *why;
    if (moose_decimal_parse(r->p, len, precision, scale, out, &why) != 0)
        return moose_json_fail(r, MOOSE_EDECODE, "decimal", "%s: not a Decimal(%u, %u)", why,
                               precision, scale);
    r->p += len;
    return 0;
}

/* ---- other scalars ---- */

int moose_json_read_bool(moose_json_reader *r, bool *out) {
    moose_json_ws(r);
    if (r->end - r->p >= 4 && memcmp(r->p, "true", 4) == 0) {
        r->p += 4;
        *out = true;
        return 0;
    }
    if (r->end - r->p >= 5 && memcmp(r->p, "false", 5) == 0) {
        r->p += 5;
        *out = false;
        return 0;
    }
    return expected(r, "true or false");
}

/* A string value parsed by PARSE; the text is never kept. */
#define READ_TEXT_VALUE(r, out, parse, rule)                                                    \
    do {                                                                                       \
        const char *at__ = (r)->p;                                                             \
        moose_str s__;                                                                         \
        int rc__ = read_string((r), &s__, false);                                              \
        if (rc__ < 0)                                                                          \
            return rc__;                                                                       \
        const char *why__;                                                                     \
        if (parse(s__.ptr, s__.len, (out), &why__) != 0)                                       \
            return moose_json_fail_at((r), at__, NULL, MOOSE_EDECODE, rule, "%s", why__);      \
        return 0;                                                                              \
    } while (0)

int moose_json_read_datetime(moose_json_reader *r, moose_datetime *out) {
    moose_json_ws(r);
    /*
     * The usual value, "YYYY-MM-DDTHH:MM:SSZ", parsed in place: every one of
     * its 20 characters is checked by the parser, so there is no escape or
     * quote to look for first. Anything else takes the string path.
     */
    enum { PLAIN = 20 };
    const char *p = r->p;
    if (r->end - p >= PLAIN + 2 && p[0] == '"' && p[PLAIN] == 'Z' && p[PLAIN + 1] == '"') {
        const char *why;
        if (moose_datetime_parse(p + 1, PLAIN, out, &why) == 0) {
            r->p = p + PLAIN + 2;
            return 0;
        }
    }
    READ_TEXT_VALUE(r, out, moose_datetime_parse, "format");
}

int moose_json_read_date(moose_json_reader *r, moose_date *out) {
    moose_json_ws(r);
    READ_TEXT_VALUE(r, out, moose_date_parse, "format");
}

int moose_json_read_uuid(moose_json_reader *r, moose_uuid *out) {
    moose_json_ws(r);
    READ_TEXT_VALUE(r, out, moose_uuid_parse, "format");
}

int moose_json_read_enum(moose_json_reader *r, const char *const *names, uint32_t count,
                         int *out) {
    moose_json_ws(r);
    const char *at = r->p;
    moose_str s;
    int rc = read_string(r, &s, false);
    if (rc < 0)
        return rc;
    for (uint32_t i = 0; i < count; i++) {
        if (strlen(names[i]) == s.len && memcmp(names[i], s.ptr, s.len) == 0) {
            *out = (int)i;
            return 0;
        }
    }
    char list[160];
    size_t n = 0;
    list[0] = '\0';
    for (uint32_t i = 0; i < count && n < sizeof list; i++) {
        int w = snprintf(list + n, sizeof list - n, "%s\"%s\"", i ? ", " : "", names[i]);
        if (w > 0)
            n += (size_t)w;
    }
    return moose_json_fail_at(r, at, NULL, MOOSE_EDECODE, "enum", "\"%.*s\" is not one of %s",
                              s.len > 64 ? 64 : (int)s.len, s.ptr, list);
}

/* ---- skipping (unknown fields) ---- */

int moose_json_skip(moose_json_reader *r) {
    moose_json_ws(r);
    if (r->p >= r->end)
        return expected(r, "a value");
    switch (*r->p) {
    case '"': {
        moose_str ignored;
        /* escapes must still be valid: they are decoded into the arena and forgotten */
        return read_string(r, &ignored, false);
    }
    case '{': {
        int rc = moose_json_object_begin(r);
        if (rc < 0)
            return rc;
        bool first = true;
        const char *k;
        size_t klen;
        while ((rc = moose_json_object_next(r, &first, &k, &klen)) > 0) {
            rc = moose_json_skip(r);
            if (rc < 0)
                return rc;
        }
        return rc;
    }
    case '[': {
        int rc = moose_json_array_begin(r);
        if (rc < 0)
            return rc;
        bool first = true;
        while ((rc = moose_json_array_next(r, &first)) > 0) {
            rc = moose_json_skip(r);
            if (rc < 0)
                return rc;
        }
        return rc;
    }
    case 't':
    case 'f': {
        bool b;
        return moose_json_read_bool(r, &b);
    }
    case 'n':
        if (moose_json_null(r))
            return 0;
        return expected(r, "a value");
    default: {
        size_t len;
        bool is_int;
        int rc = scan_number(r, &len, &is_int);
        if (rc < 0)
            return rc;
        r->p += len;
        return 0;
    }
    }
}

/* ---- memory ---- */

void *moose_json_array_grow(moose_json_reader *r, void **items, size_t len, size_t *cap,
                            size_t elem_size, size_t elem_align) {
    if (len == *cap) {
        /* the old block stays in the arena: an arena is reset per record, not compacted */
        size_t ncap = *cap ? *cap * 2 : 8;
        void *n = moose_arena_alloc(r->arena, ncap * elem_size, elem_align);
        if (!n) {
            no_memory(r);
            return NULL;
        }
        if (len)
            memcpy(n, *items, len * elem_size);
        *items = n;
        *cap = ncap;
    }
    char *slot = (char *)*items + len * elem_size;
    memset(slot, 0, elem_size);
    return slot;
}

void *moose_json_alloc(moose_json_reader *r, size_t size, size_t align) {
    void *p = moose_arena_alloc(r->arena, size, align);
    if (!p) {
        no_memory(r);
        return NULL;
    }
    memset(p, 0, size);
    return p;
}
