/*
 * The generated decoder against jansson on random and mutated documents of
 * the Order model (differential.moose): both must accept and refuse the same
 * documents, and agree on every value they accept.
 *
 *   test_differential [COUNT] [SEED]     (COUNT: 100000 by default)
 *
 * Two differences are known and counted, not failed: jansson cannot hold an
 * integer literal beyond 64 bits even where a float is expected, and
 * refuses the document (the generated decoder reads it as a Float64); and
 * jansson accepts a raw NUL byte between tokens ({"a":1<NUL>}), which RFC
 * 8259 does not allow (the generated decoder refuses it).
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "differential.moose.h"

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint64_t rnd(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static unsigned below(unsigned n) { return (unsigned)(rnd() % n); }

/* ---- document generator ---- */

typedef struct doc {
    char *p;
    size_t len, cap;
} doc;

static void put(doc *d, const char *s, size_t n) {
    if (d->len + n + 1 > d->cap) {
        d->cap = (d->len + n + 1) * 2;
        d->p = realloc(d->p, d->cap);
        if (!d->p) {
            fputs("out of memory\n", stderr);
            exit(2);
        }
    }
    memcpy(d->p + d->len, s, n);
    d->len += n;
    d->p[d->len] = '\0';
}

static void puts_(doc *d, const char *s) { put(d, s, strlen(s)); }

static void ws(doc *d) {
    static const char *const spaces[] = {"", "", "", " ", "\n", "\t ", "\r\n  "};
    puts_(d, spaces[below(7)]);
}

static void gen_string(doc *d) {
    static const char *const pieces[] = {
        "a", "Zq", " ", "\\\"", "\\\\", "\\/", "\\b\\f\\n\\r\\t", "\\u0041", "\\u00e9", "\xc3\xa9",
        "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\\ud83d\\ude00", "\\u0000", "\\uD800", "\\udc00x",
        "\xc0\xaf", "\xed\xa0\x80", "\x01", "\\x", "\xff", "\\u12", "paid",
    };
    puts_(d, "\"");
    unsigned n = below(6);
    for (unsigned i = 0; i < n; i++) {
        unsigned k = below(100) < 97 ? below(13) : below(sizeof pieces / sizeof pieces[0]);
        puts_(d, pieces[k]);
    }
    puts_(d, "\"");
}

static void gen_int(doc *d, int64_t lo, int64_t hi) {
    char buf[64];
    /* mostly plausible values; the odd ones (bounds, wrong kinds) now and then */
    switch (below(100) < 6 ? below(5) : 5) {
    case 0: /* the bound, or one past it (beyond 64 bits for Int64) */
        if (below(2))
            snprintf(buf, sizeof buf, "%lld", (long long)lo);
        else if (lo == INT64_MIN)
            snprintf(buf, sizeof buf, "-9223372036854775809");
        else
            snprintf(buf, sizeof buf, "%lld", (long long)lo - 1);
        break;
    case 1:
        if (below(2))
            snprintf(buf, sizeof buf, "%lld", (long long)hi);
        else
            snprintf(buf, sizeof buf, "%llu", (unsigned long long)hi + 1);
        break;
    case 2:
        snprintf(buf, sizeof buf, "%s", below(2) ? "1.0" : "1e2");
        break;
    case 3:
        snprintf(buf, sizeof buf, "%s", below(2) ? "-0" : "99999999999999999999");
        break;
    case 4:
        snprintf(buf, sizeof buf, "%s", below(2) ? "\"7\"" : "null");
        break;
    default: {
        uint64_t span = (uint64_t)hi - (uint64_t)lo;
        uint64_t off = span == UINT64_MAX ? rnd() : rnd() % (span + 1);
        snprintf(buf, sizeof buf, "%lld", (long long)((uint64_t)lo + off));
    }
    }
    puts_(d, buf);
}

static void gen_float(doc *d) {
    char buf[64];
    switch (below(100) < 4 ? below(2) : 2 + below(8)) {
    case 0:
        snprintf(buf, sizeof buf, "%s", below(2) ? "1e400" : "-2.5E-400");
        break;
    case 1:
        snprintf(buf, sizeof buf, "%s", below(2) ? "123456789012345678901234" : "0.1e1");
        break;
    case 2: {
        uint64_t bits = rnd();
        double v;
        memcpy(&v, &bits, sizeof v);
        if (!isfinite(v))
            v = 1.5;
        snprintf(buf, sizeof buf, "%.17g", v);
        break;
    }
    case 3:
        snprintf(buf, sizeof buf, "%lld", (long long)(rnd() >> below(64)));
        break;
    default:
        snprintf(buf, sizeof buf, "%lld.%02u", (long long)below(100000) - 500, below(100));
        break;
    }
    puts_(d, buf);
}

static void gen_key(doc *d, const char *name) {
    if (below(50) == 0) {
        puts_(d, "\"\\u006e\""); /* "n" escaped */
        return;
    }
    puts_(d, "\"");
    puts_(d, name);
    puts_(d, "\"");
}

typedef void (*gen_fn)(doc *d);

static void gen_line(doc *d) {
    static const char *const names[] = {"name", "price", "qty"};
    ws(d);
    puts_(d, "{");
    bool first = true;
    for (int i = 0; i < 3; i++) {
        if (below(200) == 0)
            continue; /* missing */
        if (!first)
            puts_(d, ",");
        first = false;
        ws(d);
        gen_key(d, below(300) == 0 ? "extra" : names[i]);
        ws(d);
        puts_(d, ":");
        ws(d);
        if (i == 0)
            gen_string(d);
        else if (i == 1)
            gen_float(d);
        else
            gen_int(d, INT32_MIN, INT32_MAX);
        ws(d);
    }
    puts_(d, "}");
}

static void gen_array(doc *d, int what) {
    puts_(d, "[");
    unsigned n = below(4);
    for (unsigned i = 0; i < n; i++) {
        if (i)
            puts_(d, ",");
        ws(d);
        if (what == 0)
            gen_line(d);
        else
            gen_int(d, INT32_MIN, INT32_MAX);
        ws(d);
    }
    puts_(d, "]");
}

static void gen_order(doc *d) {
    static const char *const keys[] = {"id", "n", "small", "u", "f", "ok", "note", "kind",
                                       "lines", "nums"};
    int order[10];
    for (int i = 0; i < 10; i++)
        order[i] = i;
    if (below(2))
        for (int i = 9; i > 0; i--) {
            int j = (int)below((unsigned)i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
    ws(d);
    puts_(d, "{");
    bool first = true;
    for (int k = 0; k < 10; k++) {
        int i = order[k];
        if (below(300) == 0)
            continue;
        int times = below(300) == 0 ? 2 : 1; /* duplicate keys */
        for (int t = 0; t < times; t++) {
            if (!first)
                puts_(d, ",");
            first = false;
            ws(d);
            gen_key(d, below(400) == 0 ? "unknown" : keys[i]);
            ws(d);
            puts_(d, ":");
            ws(d);
            switch (i) {
            case 0:
                gen_string(d);
                break;
            case 1:
                gen_int(d, INT64_MIN, INT64_MAX);
                break;
            case 2:
                gen_int(d, INT8_MIN, INT8_MAX);
                break;
            case 3:
                gen_int(d, 0, UINT16_MAX);
                break;
            case 4:
                gen_float(d);
                break;
            case 5:
                puts_(d, below(100) == 0 ? "1" : below(2) ? "true" : "false");
                break;
            case 6:
                if (below(3) == 0)
                    puts_(d, "null");
                else
                    gen_string(d);
                break;
            case 7: {
                static const char *const kinds[] = {"\"new\"", "\"paid\"", "\"sent\"", "\"lost\"",
                                                    "\"\\u006eew\"", "0"};
                puts_(d, kinds[below(100) < 90 ? below(3) : 3 + below(3)]);
                break;
            }
            case 8:
                gen_array(d, 0);
                break;
            case 9:
                gen_array(d, 1);
                break;
            }
            ws(d);
        }
    }
    puts_(d, "}");
    ws(d);
}

static void mutate(doc *d) {
    static const char interesting[] = "{}[]\",:0123456789eE.-+\\ntfu \x80\xbf\xc3\xff";
    unsigned n = 1 + below(3);
    for (unsigned k = 0; k < n && d->len; k++) {
        size_t at = below((unsigned)d->len);
        switch (below(5)) {
        case 0:
            d->p[at] = interesting[below(sizeof interesting - 1)];
            break;
        case 1:
            d->p[at] = (char)below(256);
            break;
        case 2:
            memmove(d->p + at, d->p + at + 1, d->len - at);
            d->len--;
            break;
        case 3: {
            char c = interesting[below(sizeof interesting - 1)];
            put(d, " ", 1);
            memmove(d->p + at + 1, d->p + at, d->len - at - 1);
            d->p[at] = c;
            break;
        }
        default:
            d->len = at; /* truncate */
            d->p[at] = '\0';
            break;
        }
    }
}

/* ---- the reference: jansson parse, then the model's rules by hand ---- */

typedef struct ref_line {
    const char *name;
    size_t name_len;
    double price;
    int64_t qty;
} ref_line;

typedef struct ref_order {
    const char *id, *note;
    size_t id_len, note_len;
    int64_t n, small, u;
    double f;
    bool ok, has_note;
    int kind;
    ref_line lines[8];
    size_t nlines;
    int64_t nums[8];
    size_t nnums;
} ref_order;

static bool int_in(json_t *v, int64_t lo, int64_t hi, int64_t *out) {
    if (!json_is_integer(v))
        return false;
    json_int_t i = json_integer_value(v);
    if (i < lo || i > hi)
        return false;
    *out = i;
    return true;
}

static bool ref_line_decode(json_t *o, ref_line *l) {
    if (!json_is_object(o))
        return false;
    const char *key;
    json_t *v;
    int seen = 0;
    json_object_foreach(o, key, v) {
        if (strcmp(key, "name") == 0) {
            if (!json_is_string(v))
                return false;
            l->name = json_string_value(v);
            l->name_len = json_string_length(v);
            seen |= 1;
        } else if (strcmp(key, "price") == 0) {
            if (!json_is_number(v))
                return false;
            l->price = json_number_value(v);
            seen |= 2;
        } else if (strcmp(key, "qty") == 0) {
            if (!int_in(v, INT32_MIN, INT32_MAX, &l->qty))
                return false;
            seen |= 4;
        } else {
            return false;
        }
    }
    return seen == 7;
}

static bool ref_decode(json_t *root, ref_order *r) {
    if (!json_is_object(root))
        return false;
    const char *key;
    json_t *v;
    int seen = 0;
    r->has_note = false;
    json_object_foreach(root, key, v) {
        if (strcmp(key, "id") == 0) {
            if (!json_is_string(v))
                return false;
            r->id = json_string_value(v);
            r->id_len = json_string_length(v);
            seen |= 1 << 0;
        } else if (strcmp(key, "n") == 0) {
            if (!int_in(v, INT64_MIN, INT64_MAX, &r->n))
                return false;
            seen |= 1 << 1;
        } else if (strcmp(key, "small") == 0) {
            if (!int_in(v, INT8_MIN, INT8_MAX, &r->small))
                return false;
            seen |= 1 << 2;
        } else if (strcmp(key, "u") == 0) {
            if (!int_in(v, 0, UINT16_MAX, &r->u))
                return false;
            seen |= 1 << 3;
        } else if (strcmp(key, "f") == 0) {
            if (!json_is_number(v))
                return false;
            r->f = json_number_value(v);
            seen |= 1 << 4;
        } else if (strcmp(key, "ok") == 0) {
            if (!json_is_boolean(v))
                return false;
            r->ok = json_is_true(v);
            seen |= 1 << 5;
        } else if (strcmp(key, "note") == 0) {
            if (json_is_string(v)) {
                r->has_note = true;
                r->note = json_string_value(v);
                r->note_len = json_string_length(v);
            } else if (!json_is_null(v)) {
                return false;
            }
        } else if (strcmp(key, "kind") == 0) {
            static const char *const kinds[] = {"new", "paid", "sent"};
            if (!json_is_string(v))
                return false;
            r->kind = -1;
            for (int i = 0; i < 3; i++)
                if (json_string_length(v) == strlen(kinds[i]) &&
                    memcmp(json_string_value(v), kinds[i], strlen(kinds[i])) == 0)
                    r->kind = i;
            if (r->kind < 0)
                return false;
            seen |= 1 << 6;
        } else if (strcmp(key, "lines") == 0) {
            if (!json_is_array(v) || json_array_size(v) > 8)
                return false;
            r->nlines = json_array_size(v);
            for (size_t i = 0; i < r->nlines; i++)
                if (!ref_line_decode(json_array_get(v, i), &r->lines[i]))
                    return false;
            seen |= 1 << 7;
        } else if (strcmp(key, "nums") == 0) {
            if (!json_is_array(v) || json_array_size(v) > 8)
                return false;
            r->nnums = json_array_size(v);
            for (size_t i = 0; i < r->nnums; i++)
                if (!int_in(json_array_get(v, i), INT32_MIN, INT32_MAX, &r->nums[i]))
                    return false;
            seen |= 1 << 8;
        } else {
            return false;
        }
    }
    return seen == 0x1ff;
}

static bool same_str(const char *a, size_t alen, moose_str b) {
    return alen == b.len && memcmp(a, b.ptr, alen) == 0;
}

/* Where they disagree on values: NULL when equal. */
static const char *compare(const ref_order *r, const Order *o) {
    if (!same_str(r->id, r->id_len, o->id))
        return "id";
    if (r->n != o->n)
        return "n";
    if (r->small != o->small)
        return "small";
    if (r->u != o->u)
        return "u";
    if (r->f != o->f) /* == on purpose: jansson reads "-0" as the integer 0 */
        return "f";
    if (r->ok != o->ok)
        return "ok";
    if (r->has_note != o->has_note || (r->has_note && !same_str(r->note, r->note_len, o->note)))
        return "note";
    if (r->kind != (int)o->kind)
        return "kind";
    if (r->nlines != o->lines.len)
        return "lines";
    for (size_t i = 0; i < r->nlines; i++) {
        const Line *l = &o->lines.items[i];
        if (!same_str(r->lines[i].name, r->lines[i].name_len, l->name) ||
            r->lines[i].price != l->price || r->lines[i].qty != l->qty)
            return "lines[i]";
    }
    if (r->nnums != o->nums.len)
        return "nums";
    for (size_t i = 0; i < r->nnums; i++)
        if (r->nums[i] != o->nums.items[i])
            return "nums[i]";
    return NULL;
}

int main(int argc, char **argv) {
    long count = argc > 1 ? strtol(argv[1], NULL, 10) : 100000;
    if (argc > 2)
        rng = strtoull(argv[2], NULL, 10) | 1;
    moose_arena arena;
    moose_arena_init(&arena);
    moose_errors errs;
    moose_errors_init(&errs);
    doc d = {0};
    long accepted = 0, refused = 0, mutated = 0, known = 0, failures = 0;
    for (long i = 0; i < count; i++) {
        d.len = 0;
        gen_order(&d);
        if (below(2)) {
            mutate(&d);
            mutated++;
        }
        json_error_t jerr;
        json_t *root = json_loadb(d.p, d.len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
        ref_order ref;
        memset(&ref, 0, sizeof ref);
        bool ref_ok = root && ref_decode(root, &ref);
        moose_arena_reset(&arena);
        moose_errors_clear(&errs);
        Order o;
        int rc = Order_from_json(&o, d.p, d.len, &arena, NULL, &errs);
        bool ok = rc == 0;
        if (!root && ok && strstr(jerr.text, "too big integer")) {
            known++;
        } else if (ref_ok && !ok && memchr(d.p, '\0', d.len)) {
            known++; /* jansson skips a raw NUL byte between tokens; RFC 8259 does not */
        } else if (ok != ref_ok) {
            if (failures++ < 10)
                fprintf(stderr, "document %ld: jansson %s (%s), generated %s (%s at %s): %.*s\n",
                        i, ref_ok ? "accepts" : "refuses", root ? "model rules" : jerr.text,
                        ok ? "accepts" : "refuses", errs.len ? errs.items[0].message : "",
                        errs.len ? errs.items[0].path : "", (int)d.len, d.p);
        } else if (ok) {
            const char *where = compare(&ref, &o);
            if (where && failures++ < 10)
                fprintf(stderr, "document %ld: values differ at %s: %.*s\n", i, where, (int)d.len,
                        d.p);
        }
        accepted += ok;
        refused += !ok;
        json_decref(root);
    }
    printf("%ld documents (%ld mutated): %ld accepted, %ld refused, %ld known jansson limits, "
           "%ld disagreements\n",
           count, mutated, accepted, refused, known, failures);
    free(d.p);
    moose_errors_free(&errs);
    moose_arena_free(&arena);
    /* a generator that produced only refusals (or only acceptances) would prove nothing */
    if (accepted < count / 20 || refused < count / 20) {
        fprintf(stderr, "the documents do not exercise both outcomes\n");
        return 1;
    }
    return failures ? 1 : 0;
}
