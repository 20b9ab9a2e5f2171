/*
 * `<base>.moose.c`: per model a decoder, an encoder and a validator
 * specialised to its fields, the descriptors that generic runtime code walks,
 * and the app registry (streams, tables, transforms).
 *
 * The decoder matches keys with a switch on their length and memcmp, and
 * reads each value straight into the record with the typed readers of
 * moose/json.h: no intermediate tree, no allocation but the arena.
 */
#include <inttypes.h>
#include <string.h>

#include "gen.h"
#include "gen_c.h"

#define E moosec_c_emit

typedef struct gen {
    FILE *out;
    moosec_arena *a;
} gen;

/* ---- decode ---- */

static void put_read_scalar(gen *g, const moosec_model *m, const moosec_field *f, const char *lv,
                            int ind) {
    FILE *out = g->out;
    const moosec_type *t = &f->type;
    switch (t->kind) {
    case MOOSEC_TYPE_STRING:
        E(out, ind, "rc = moose_json_read_str(r, &%s);\n", lv);
        break;
    case MOOSEC_TYPE_BOOL:
        E(out, ind, "rc = moose_json_read_bool(r, &%s);\n", lv);
        break;
    case MOOSEC_TYPE_INT64:
        E(out, ind, "rc = moose_json_read_int(r, INT64_MIN, INT64_MAX, &%s);\n", lv);
        break;
    case MOOSEC_TYPE_INT8:
    case MOOSEC_TYPE_INT16:
    case MOOSEC_TYPE_INT32: {
        int bits = t->kind == MOOSEC_TYPE_INT8 ? 8 : t->kind == MOOSEC_TYPE_INT16 ? 16 : 32;
        E(out, ind, "{\n");
        E(out, ind + 1, "int64_t v_ = 0;\n");
        E(out, ind + 1, "rc = moose_json_read_int(r, INT%d_MIN, INT%d_MAX, &v_);\n", bits, bits);
        E(out, ind + 1, "%s = (int%d_t)v_;\n", lv, bits);
        E(out, ind, "}\n");
        break;
    }
    case MOOSEC_TYPE_UINT64:
        E(out, ind, "rc = moose_json_read_uint(r, UINT64_MAX, &%s);\n", lv);
        break;
    case MOOSEC_TYPE_UINT8:
    case MOOSEC_TYPE_UINT16:
    case MOOSEC_TYPE_UINT32: {
        int bits = t->kind == MOOSEC_TYPE_UINT8 ? 8 : t->kind == MOOSEC_TYPE_UINT16 ? 16 : 32;
        E(out, ind, "{\n");
        E(out, ind + 1, "uint64_t v_ = 0;\n");
        E(out, ind + 1, "rc = moose_json_read_uint(r, UINT%d_MAX, &v_);\n", bits);
        E(out, ind + 1, "%s = (uint%d_t)v_;\n", lv, bits);
        E(out, ind, "}\n");
        break;
    }
    case MOOSEC_TYPE_FLOAT32:
        E(out, ind, "rc = moose_json_read_f32(r, &%s);\n", lv);
        break;
    case MOOSEC_TYPE_FLOAT64:
        E(out, ind, "rc = moose_json_read_f64(r, &%s);\n", lv);
        break;
    case MOOSEC_TYPE_DATETIME:
        E(out, ind, "rc = moose_json_read_datetime(r, &%s);\n", lv);
        break;
    case MOOSEC_TYPE_DATE:
        E(out, ind, "rc = moose_json_read_date(r, &%s);\n", lv);
        break;
    case MOOSEC_TYPE_UUID:
        E(out, ind, "rc = moose_json_read_uuid(r, &%s);\n", lv);
        break;
    case MOOSEC_TYPE_DECIMAL:
        E(out, ind, "rc = moose_json_read_decimal(r, %d, %d, &%s);\n", t->decimal_precision,
          t->decimal_scale, lv);
        break;
    case MOOSEC_TYPE_ENUM: {
        const char *et = moosec_c_enum_type(g->a, m, f);
        E(out, ind, "{\n");
        E(out, ind + 1, "int v_ = 0;\n");
        E(out, ind + 1, "rc = moose_json_read_enum(r, %s_names, %zuu, &v_);\n", et,
          t->members.len);
        E(out, ind + 1, "%s = (%s)v_;\n", lv, et);
        E(out, ind, "}\n");
        break;
    }
    case MOOSEC_TYPE_MODEL:
        E(out, ind, "rc = %s__read(r, &%s);\n", t->model->name, lv);
        break;
    }
}

static void put_read_field(gen *g, const moosec_model *m, const moosec_field *f, int ind) {
    FILE *out = g->out;
    const moosec_type *t = &f->type;
    const char *mem = moosec_c_member(g->a, f);
    const char *vt = moosec_c_value_type(g->a, m, f);
    bool nested = t->kind == MOOSEC_TYPE_MODEL;
    int body = ind;
    if (t->optional) {
        E(out, ind, "if (moose_json_null(r)) {\n");
        if (nested && !t->array)
            E(out, ind + 1, "rec->%s = NULL;\n", mem);
        else
            E(out, ind + 1, "rec->has_%s = false;\n", f->name);
        E(out, ind + 1, "rc = 0;\n");
        E(out, ind, "} else {\n");
        body = ind + 1;
    }
    if (t->array) {
        E(out, body, "void *items_ = NULL;\n");
        E(out, body, "size_t cap_ = 0, n_ = 0;\n");
        E(out, body, "bool first_ = true;\n");
        E(out, body, "moose_path elem_ = {&here, NULL, 0};\n");
        E(out, body, "rc = moose_json_array_begin(r);\n");
        E(out, body, "while (rc == 0 && (rc = moose_json_array_next(r, &first_)) > 0) {\n");
        E(out, body + 1,
          "%s *slot_ = moose_json_array_grow(r, &items_, n_, &cap_, sizeof(%s), _Alignof(%s));\n",
          vt, vt, vt);
        E(out, body + 1, "if (!slot_) {\n");
        E(out, body + 2, "rc = MOOSE_ENOMEM;\n");
        E(out, body + 2, "break;\n");
        E(out, body + 1, "}\n");
        if (nested)
            E(out, body + 1, "%s_init(slot_);\n", vt);
        E(out, body + 1, "elem_.index = (int64_t)n_;\n");
        E(out, body + 1, "r->path = &elem_;\n");
        put_read_scalar(g, m, f, "*slot_", body + 1);
        E(out, body + 1, "r->path = &here;\n");
        E(out, body + 1, "if (rc < 0)\n");
        E(out, body + 2, "break;\n");
        E(out, body + 1, "n_++;\n");
        E(out, body, "}\n");
        E(out, body, "rec->%s.items = items_;\n", mem);
        E(out, body, "rec->%s.len = n_;\n", mem);
        if (t->optional)
            E(out, body, "rec->has_%s = rc == 0;\n", f->name);
    } else if (nested && t->optional) {
        E(out, body, "%s *p_ = moose_json_alloc(r, sizeof(%s), _Alignof(%s));\n", vt, vt, vt);
        E(out, body, "if (!p_) {\n");
        E(out, body + 1, "rc = MOOSE_ENOMEM;\n");
        E(out, body, "} else {\n");
        E(out, body + 1, "%s_init(p_);\n", vt);
        E(out, body + 1, "rc = %s__read(r, p_);\n", vt);
        E(out, body + 1, "rec->%s = p_;\n", mem);
        E(out, body, "}\n");
    } else {
        char *lv = moosec_arena_printf(g->a, "rec->%s", mem);
        put_read_scalar(g, m, f, lv, body);
        if (t->optional)
            E(out, body, "rec->has_%s = rc == 0;\n", f->name);
    }
    if (t->optional)
        E(out, ind, "}\n");
}

static void put_key_switch(gen *g, const moosec_model *m, int ind) {
    FILE *out = g->out;
    size_t n = m->fields.len;
    /* one case per name length, then memcmp: names are short identifiers */
    E(out, ind, "switch (klen) {\n");
    size_t maxlen = 0;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(m->fields.items[i]->name);
        if (l > maxlen)
            maxlen = l;
    }
    for (size_t l = 1; l <= maxlen; l++) {
        bool any = false;
        for (size_t i = 0; i < n; i++) {
            const char *name = m->fields.items[i]->name;
            if (strlen(name) != l)
                continue;
            if (!any)
                E(out, ind, "case %zu:\n", l);
            E(out, ind + 1, "%sif (memcmp(key, \"%s\", %zu) == 0)\n", any ? "else " : "", name, l);
            E(out, ind + 2, "f = %zu;\n", i);
            any = true;
        }
        if (any)
            E(out, ind + 1, "break;\n");
    }
    E(out, ind, "default:\n");
    E(out, ind + 1, "break;\n");
    E(out, ind, "}\n");
    E(out, ind, "if (f < 0) {\n");
    E(out, ind + 1, "rc = moose_json_unknown_field(r, key, klen);\n");
    E(out, ind + 1, "if (rc < 0)\n");
    E(out, ind + 2, "return rc;\n");
    E(out, ind + 1, "continue;\n");
    E(out, ind, "}\n");
}

static void put_read(gen *g, const moosec_model *m) {
    FILE *out = g->out;
    size_t n = m->fields.len;
    bool any_required = false;
    for (size_t i = 0; i < n; i++)
        any_required |= moosec_c_required(m->fields.items[i]);

    E(out, 0, "static int %s__read(moose_json_reader *r, %s *rec) {\n", m->name, m->name);
    if (any_required)
        E(out, 1, "const char *at = r->p;\n");
    E(out, 1, "int rc = moose_json_object_begin(r);\n");
    E(out, 1, "if (rc < 0)\n");
    E(out, 2, "return rc;\n");
    E(out, 1, "const moose_path *outer = r->path;\n");
    if (n) {
        E(out, 1, "moose_path here = {outer, NULL, 0};\n");
        E(out, 1, "uint64_t seen[%zu] = {0};\n", (n + 63) / 64);
    } else {
        E(out, 1, "(void)rec;\n");
    }
    E(out, 1, "bool first = true;\n");
    E(out, 1, "const char *key = NULL;\n");
    E(out, 1, "size_t klen = 0;\n");
    if (n) {
        E(out, 1, "int wrong = 0;\n");
        /* members usually come in declared order: try the next one's key verbatim first */
        E(out, 1, "int expect = 0;\n");
        E(out, 1, "for (;;) {\n");
        E(out, 2, "int f = -1;\n");
        /* constant keys and lengths, so the inline compare specialises per field */
        E(out, 2, "bool hit = false;\n");
        E(out, 2, "switch (expect) {\n");
        for (size_t i = 0; i < n; i++) {
            const char *name = m->fields.items[i]->name;
            E(out, 2, "case %zu:\n", i);
            E(out, 3, "hit = moose_json_expect_key(r, &first, \"\\\"%s\\\"\", %zu);\n", name,
              strlen(name) + 2);
            E(out, 3, "break;\n");
        }
        E(out, 2, "default:\n");
        E(out, 3, "break;\n");
        E(out, 2, "}\n");
        E(out, 2, "if (hit) {\n");
        E(out, 3, "f = expect;\n");
        E(out, 2, "} else if ((rc = moose_json_object_next(r, &first, &key, &klen)) <= 0) {\n");
        E(out, 3, "break;\n");
        E(out, 2, "} else {\n");
        put_key_switch(g, m, 3);
        E(out, 2, "}\n");
        E(out, 2, "expect = f + 1;\n");
    } else {
        E(out, 1, "while ((rc = moose_json_object_next(r, &first, &key, &klen)) > 0) {\n");
    }
    if (n) {
        E(out, 2, "uint64_t bit = (uint64_t)1 << (f & 63);\n");
        E(out, 2, "if (seen[f >> 6] & bit)\n");
        E(out, 3, "return moose_json_duplicate_field(r, %s__names[f], strlen(%s__names[f]));\n",
          m->name, m->name);
        E(out, 2, "seen[f >> 6] |= bit;\n");
        E(out, 2, "here.name = %s__names[f];\n", m->name);
        E(out, 2, "r->path = &here;\n");
        /* where the value starts, to go past it when it alone was wrong */
        E(out, 2, "const char *value_at = r->p;\n");
        E(out, 2, "uint32_t depth_at = r->depth;\n");
        E(out, 2, "size_t errors_at = moose_json_errors_seen(r);\n");
        E(out, 2, "switch (f) {\n");
        for (size_t i = 0; i < n; i++) {
            E(out, 2, "case %zu: {\n", i);
            put_read_field(g, m, m->fields.items[i], 3);
            E(out, 3, "break;\n");
            E(out, 2, "}\n");
        }
        E(out, 2, "default:\n");
        E(out, 3, "break;\n");
        E(out, 2, "}\n");
        /* a wrong value is reported and the other fields are still read */
        E(out, 2, "if (rc < 0) {\n");
        E(out, 3, "if (!moose_json_recover(r, rc, value_at, depth_at, errors_at))\n");
        E(out, 4, "return rc;\n");
        E(out, 3, "wrong++;\n");
        E(out, 3, "rc = 0;\n");
        E(out, 2, "}\n");
        E(out, 2, "r->path = outer;\n");
    } else {
        E(out, 2, "rc = moose_json_unknown_field(r, key, klen);\n");
        E(out, 2, "if (rc < 0)\n");
        E(out, 3, "return rc;\n");
    }
    E(out, 1, "}\n");
    E(out, 1, "if (rc < 0)\n");
    E(out, 2, "return rc;\n");
    E(out, 1, "r->path = outer;\n");
    if (any_required) {
        E(out, 1, "int missing = 0;\n");
        for (size_t i = 0; i < n; i++) {
            const moosec_field *f = m->fields.items[i];
            if (!moosec_c_required(f))
                continue;
            E(out, 1, "if (!(seen[%zu] & ((uint64_t)1 << %zu))) {\n", i / 64, i % 64);
            E(out, 2, "moose_json_missing_field(r, at, \"%s\");\n", f->name);
            E(out, 2, "missing++;\n");
            E(out, 1, "}\n");
        }
        E(out, 1, "return missing || wrong ? MOOSE_EDECODE : 0;\n");
    } else if (n) {
        E(out, 1, "return wrong ? MOOSE_EDECODE : 0;\n");
    } else {
        E(out, 1, "return 0;\n");
    }
    E(out, 0, "}\n\n");
}

/* ---- encode ---- */

static void put_write_scalar(gen *g, const moosec_model *m, const moosec_field *f, const char *lv,
                             int ind) {
    FILE *out = g->out;
    const moosec_type *t = &f->type;
    switch (t->kind) {
    case MOOSEC_TYPE_STRING:
        E(out, ind, "moose_json_write_str(out, %s);\n", lv);
        break;
    case MOOSEC_TYPE_BOOL:
        E(out, ind, "moose_json_write_bool(out, %s);\n", lv);
        break;
    case MOOSEC_TYPE_INT8:
    case MOOSEC_TYPE_INT16:
    case MOOSEC_TYPE_INT32:
    case MOOSEC_TYPE_INT64:
        E(out, ind, "moose_json_write_int(out, %s);\n", lv);
        break;
    case MOOSEC_TYPE_UINT8:
    case MOOSEC_TYPE_UINT16:
    case MOOSEC_TYPE_UINT32:
    case MOOSEC_TYPE_UINT64:
        E(out, ind, "moose_json_write_uint(out, %s);\n", lv);
        break;
    case MOOSEC_TYPE_FLOAT32:
        E(out, ind, "if (moose_json_write_f32(out, %s) != 0)\n", lv);
        E(out, ind + 1, "rc = MOOSE_EINVAL;\n");
        break;
    case MOOSEC_TYPE_FLOAT64:
        E(out, ind, "if (moose_json_write_f64(out, %s) != 0)\n", lv);
        E(out, ind + 1, "rc = MOOSE_EINVAL;\n");
        break;
    case MOOSEC_TYPE_DATETIME:
        E(out, ind, "moose_json_write_datetime(out, %s);\n", lv);
        break;
    case MOOSEC_TYPE_DATE:
        E(out, ind, "moose_json_write_date(out, %s);\n", lv);
        break;
    case MOOSEC_TYPE_UUID:
        E(out, ind, "moose_json_write_uuid(out, &%s);\n", lv);
        break;
    case MOOSEC_TYPE_DECIMAL:
        E(out, ind, "moose_json_write_decimal(out, %s, %d);\n", lv, t->decimal_scale);
        break;
    case MOOSEC_TYPE_ENUM: {
        const char *et = moosec_c_enum_type(g->a, m, f);
        E(out, ind, "if ((unsigned)%s < %zuu)\n", lv, t->members.len);
        E(out, ind + 1, "moose_json_write_cstr(out, %s_names[%s]);\n", et, lv);
        E(out, ind, "else\n");
        E(out, ind + 1, "rc = MOOSE_EINVAL;\n");
        break;
    }
    case MOOSEC_TYPE_MODEL:
        E(out, ind, "if (%s__write(&%s, out) != 0)\n", t->model->name, lv);
        E(out, ind + 1, "rc = MOOSE_EINVAL;\n");
        break;
    }
}

static void put_write(gen *g, const moosec_model *m) {
    FILE *out = g->out;
    E(out, 0, "static int %s__write(const %s *rec, moose_buf *out) {\n", m->name, m->name);
    E(out, 1, "int rc = 0;\n");
    if (m->fields.len == 0) {
        E(out, 1, "(void)rec;\n");
        E(out, 1, "moose_json_put(out, \"{}\", 2);\n");
        E(out, 1, "return rc;\n}\n\n");
        return;
    }
    for (size_t i = 0; i < m->fields.len; i++) {
        const moosec_field *f = m->fields.items[i];
        const moosec_type *t = &f->type;
        const char *mem = moosec_c_member(g->a, f);
        char *prefix = moosec_arena_printf(g->a, "%s\\\"%s\\\":", i ? "," : "{", f->name);
        E(out, 1, "moose_json_put(out, \"%s\", %zu);\n", prefix, strlen(f->name) + 4);
        int ind = 1;
        bool nested_ptr = t->kind == MOOSEC_TYPE_MODEL && t->optional && !t->array;
        if (nested_ptr) {
            E(out, 1, "if (!rec->%s) {\n", mem);
            E(out, 2, "moose_json_put(out, \"null\", 4);\n");
            E(out, 1, "} else {\n");
            ind = 2;
        } else if (t->optional) {
            E(out, 1, "if (!rec->has_%s) {\n", f->name);
            E(out, 2, "moose_json_put(out, \"null\", 4);\n");
            E(out, 1, "} else {\n");
            ind = 2;
        }
        if (t->array) {
            E(out, ind, "if (rec->%s.len && !rec->%s.items) {\n", mem, mem);
            E(out, ind + 1, "rc = MOOSE_EINVAL;\n");
            E(out, ind, "} else {\n");
            E(out, ind + 1, "moose_json_put(out, \"[\", 1);\n");
            E(out, ind + 1, "for (size_t i_ = 0; i_ < rec->%s.len; i_++) {\n", mem);
            E(out, ind + 2, "if (i_)\n");
            E(out, ind + 3, "moose_json_put(out, \",\", 1);\n");
            put_write_scalar(g, m, f, moosec_arena_printf(g->a, "rec->%s.items[i_]", mem),
                             ind + 2);
            E(out, ind + 1, "}\n");
            E(out, ind + 1, "moose_json_put(out, \"]\", 1);\n");
            E(out, ind, "}\n");
        } else if (nested_ptr) {
            put_write_scalar(g, m, f, moosec_arena_printf(g->a, "*rec->%s", mem), ind);
        } else {
            put_write_scalar(g, m, f, moosec_arena_printf(g->a, "rec->%s", mem), ind);
        }
        if (ind == 2)
            E(out, 1, "}\n");
    }
    E(out, 1, "moose_json_put(out, \"}\", 1);\n");
    E(out, 1, "return rc;\n");
    E(out, 0, "}\n\n");
}

/* ---- validate ---- */

static bool int_bound_needed(moosec_type_kind k, int64_t v, bool is_min) {
    int64_t lo, hi;
    switch (k) {
    case MOOSEC_TYPE_INT8: lo = INT8_MIN; hi = INT8_MAX; break;
    case MOOSEC_TYPE_INT16: lo = INT16_MIN; hi = INT16_MAX; break;
    case MOOSEC_TYPE_INT32: lo = INT32_MIN; hi = INT32_MAX; break;
    case MOOSEC_TYPE_UINT8: lo = 0; hi = UINT8_MAX; break;
    case MOOSEC_TYPE_UINT16: lo = 0; hi = UINT16_MAX; break;
    case MOOSEC_TYPE_UINT32: lo = 0; hi = UINT32_MAX; break;
    case MOOSEC_TYPE_UINT64: lo = 0; hi = INT64_MAX; break;
    default: lo = INT64_MIN; hi = INT64_MAX; break;
    }
    /* a bound the type already enforces would be a comparison that is always false */
    if (is_min)
        return v > lo;
    return k == MOOSEC_TYPE_UINT64 ? true : v < hi;
}

static void put_check_scalar(gen *g, const moosec_model *m, const moosec_field *f, const char *lv,
                             const char *path, const char *name, int ind) {
    FILE *out = g->out;
    const moosec_type *t = &f->type;
    switch (t->kind) {
    case MOOSEC_TYPE_STRING: {
        const char *pat = f->pattern ? moosec_arena_printf(g->a, "&%s__%s_pattern", m->name,
                                                           f->name)
                                     : "NULL";
        E(out, ind, "n += moose_validate_str(errs, %s, %s, %s, %lld, %lld, %s);\n", path, name, lv,
          f->has_length ? (long long)f->length_min : -1LL,
          f->has_length ? (long long)f->length_max : -1LL, pat);
        break;
    }
    case MOOSEC_TYPE_FLOAT32:
    case MOOSEC_TYPE_FLOAT64:
        E(out, ind, "if (moose_validate_finite(errs, %s, %s, %s)) {\n", path, name, lv);
        E(out, ind + 1, "n++;\n");
        if (f->has_range) {
            E(out, ind, "} else if ((double)%s < %s || (double)%s > %s) {\n", lv,
              f->range_min_value->text, lv, f->range_max_value->text);
            E(out, ind + 1, "n++;\n");
            E(out, ind + 1,
              "moose_validate_fail(errs, %s, %s, \"range\", \"%%.17g is outside @range(%s, %s)\", "
              "(double)%s);\n",
              path, name, f->range_min_value->text, f->range_max_value->text, lv);
        }
        E(out, ind, "}\n");
        break;
    case MOOSEC_TYPE_DATETIME:
        E(out, ind, "n += moose_validate_datetime(errs, %s, %s, %s);\n", path, name, lv);
        break;
    case MOOSEC_TYPE_DATE:
        E(out, ind, "n += moose_validate_date(errs, %s, %s, %s);\n", path, name, lv);
        break;
    case MOOSEC_TYPE_DECIMAL: {
        E(out, ind, "n += moose_validate_decimal(errs, %s, %s, %s, %d, %d);\n", path, name, lv,
          t->decimal_precision, t->decimal_scale);
        if (f->has_range) {
            E(out, ind, "if ((double)%s < (%s) * 1e%d || (double)%s > (%s) * 1e%d) {\n", lv,
              f->range_min_value->text, t->decimal_scale, lv, f->range_max_value->text,
              t->decimal_scale);
            E(out, ind + 1, "n++;\n");
            E(out, ind + 1,
              "moose_validate_fail(errs, %s, %s, \"range\", \"%%.17g is outside @range(%s, %s)\", "
              "(double)%s / 1e%d);\n",
              path, name, f->range_min_value->text, f->range_max_value->text, lv,
              t->decimal_scale);
            E(out, ind, "}\n");
        }
        break;
    }
    case MOOSEC_TYPE_ENUM:
        E(out, ind, "n += moose_validate_enum(errs, %s, %s, (int)%s, %zuu);\n", path, name, lv,
          t->members.len);
        break;
    case MOOSEC_TYPE_MODEL:
        if (strcmp(name, "NULL") == 0) {
            E(out, ind, "n += %s__check(&%s, errs, %s);\n", t->model->name, lv, path);
        } else {
            E(out, ind, "{\n");
            E(out, ind + 1, "moose_path sub_ = {%s, %s, 0};\n", path, name);
            E(out, ind + 1, "n += %s__check(&%s, errs, &sub_);\n", t->model->name, lv);
            E(out, ind, "}\n");
        }
        break;
    case MOOSEC_TYPE_BOOL:
    case MOOSEC_TYPE_UUID:
        break; /* every value of the C type is valid */
    default: {
        if (!f->has_range)
            break;
        bool is_unsigned = moosec_c_kind_is_unsigned(t->kind);
        const moosec_value *lo = f->range_min_value, *hi = f->range_max_value;
        bool need_lo = int_bound_needed(t->kind, lo->i, true);
        bool need_hi = int_bound_needed(t->kind, hi->i, false);
        if (!need_lo && !need_hi)
            break;
        const char *cast = is_unsigned ? "(uint64_t)" : "(int64_t)";
        const char *lo_lit = is_unsigned ? moosec_arena_printf(g->a, "UINT64_C(%" PRId64 ")", lo->i)
                                         : moosec_arena_printf(g->a, "INT64_C(%" PRId64 ")", lo->i);
        const char *hi_lit = is_unsigned ? moosec_arena_printf(g->a, "UINT64_C(%" PRId64 ")", hi->i)
                                         : moosec_arena_printf(g->a, "INT64_C(%" PRId64 ")", hi->i);
        if (lo->i == INT64_MIN)
            lo_lit = "INT64_MIN";
        char *cond;
        if (need_lo && need_hi)
            cond = moosec_arena_printf(g->a, "%s%s < %s || %s%s > %s", cast, lv, lo_lit, cast, lv,
                                       hi_lit);
        else if (need_lo)
            cond = moosec_arena_printf(g->a, "%s%s < %s", cast, lv, lo_lit);
        else
            cond = moosec_arena_printf(g->a, "%s%s > %s", cast, lv, hi_lit);
        E(out, ind, "if (%s) {\n", cond);
        E(out, ind + 1, "n++;\n");
        E(out, ind + 1,
          "moose_validate_fail(errs, %s, %s, \"range\", \"%%%s is outside @range(%s, %s)\", "
          "(%s)%s);\n",
          path, name, is_unsigned ? "llu" : "lld", lo->text, hi->text,
          is_unsigned ? "unsigned long long" : "long long", lv);
        E(out, ind, "}\n");
        break;
    }
    }
}

static void put_check(gen *g, const moosec_model *m) {
    FILE *out = g->out;
    E(out, 0, "static int %s__check(const %s *rec, moose_errors *errs, const moose_path *path) {\n",
      m->name, m->name);
    E(out, 1, "int n = 0;\n");
    /* fields of types whose every C value is valid need no check */
    E(out, 1, "(void)rec;\n    (void)errs;\n    (void)path;\n");
    for (size_t i = 0; i < m->fields.len; i++) {
        const moosec_field *f = m->fields.items[i];
        const moosec_type *t = &f->type;
        const char *mem = moosec_c_member(g->a, f);
        const char *name = moosec_arena_printf(g->a, "\"%s\"", f->name);
        bool nested_ptr = t->kind == MOOSEC_TYPE_MODEL && t->optional && !t->array;
        int ind = 1;
        if (nested_ptr) {
            E(out, 1, "if (rec->%s) {\n", mem);
            ind = 2;
        } else if (t->optional) {
            E(out, 1, "if (rec->has_%s) {\n", f->name);
            ind = 2;
        }
        if (t->array) {
            E(out, ind, "if (rec->%s.len && !rec->%s.items) {\n", mem, mem);
            E(out, ind + 1, "n++;\n");
            E(out, ind + 1,
              "moose_validate_fail(errs, path, %s, \"type\", \"array has %%zu items but no "
              "storage\", rec->%s.len);\n",
              name, mem);
            E(out, ind, "} else {\n");
            E(out, ind + 1, "moose_path field_ = {path, %s, 0};\n", name);
            E(out, ind + 1, "for (size_t i_ = 0; i_ < rec->%s.len; i_++) {\n", mem);
            E(out, ind + 2, "moose_path elem_ = {&field_, NULL, (int64_t)i_};\n");
            E(out, ind + 2, "(void)elem_;\n");
            put_check_scalar(g, m, f, moosec_arena_printf(g->a, "rec->%s.items[i_]", mem),
                             "&elem_", "NULL", ind + 2);
            E(out, ind + 1, "}\n");
            E(out, ind, "}\n");
        } else if (nested_ptr) {
            put_check_scalar(g, m, f, moosec_arena_printf(g->a, "*rec->%s", mem), "path", name,
                             ind);
        } else {
            put_check_scalar(g, m, f, moosec_arena_printf(g->a, "rec->%s", mem), "path", name,
                             ind);
        }
        if (ind == 2)
            E(out, 1, "}\n");
    }
    E(out, 1, "return n;\n");
    E(out, 0, "}\n\n");
}

/* ---- descriptors ---- */

static void put_model_data(gen *g, const moosec_model *m) {
    FILE *out = g->out;
    for (size_t i = 0; i < m->fields.len; i++) {
        const moosec_field *f = m->fields.items[i];
        if (f->type.kind == MOOSEC_TYPE_ENUM) {
            const char *et = moosec_c_enum_type(g->a, m, f);
            E(out, 0, "const char *const %s_names[%zu] = {", et, f->type.members.len);
            for (size_t k = 0; k < f->type.members.len; k++) {
                const char *nm = f->type.members.items[k].name;
                fprintf(out, "%s%s", k ? ", " : "", moosec_c_string(g->a, nm, strlen(nm)));
            }
            fputs("};\n", out);
        }
        if (f->type.array && f->default_value && f->default_value->items.len) {
            const moosec_value *d = f->default_value;
            E(out, 0, "const %s %s_%s_default_items[%zu] = {", moosec_c_value_type(g->a, m, f),
              m->name, f->name, d->items.len);
            for (size_t k = 0; k < d->items.len; k++) {
                const char *init = moosec_c_value_init(g->a, m, f, d->items.items[k]);
                fprintf(out, "%s%s", k ? ", " : "", init ? init : "0");
            }
            fputs("};\n", out);
        }
        if (f->pattern)
            E(out, 0, "static moose_pattern %s__%s_pattern = MOOSE_PATTERN_INIT(%s);\n", m->name,
              f->name, moosec_c_string(g->a, f->pattern, strlen(f->pattern)));
    }
    if (m->fields.len) {
        E(out, 0, "static const char *const %s__names[%zu] = {", m->name, m->fields.len);
        for (size_t i = 0; i < m->fields.len; i++)
            fprintf(out, "%s\"%s\"", i ? ", " : "", m->fields.items[i]->name);
        fputs("};\n", out);
    }
    fputc('\n', out);
}

static void put_field_desc(gen *g, const moosec_model *m, const moosec_field *f) {
    FILE *out = g->out;
    const moosec_type *t = &f->type;
    const char *mem = moosec_c_member(g->a, f);
    const char *vt = moosec_c_value_type(g->a, m, f);
    bool nested = t->kind == MOOSEC_TYPE_MODEL;
    char flags[256] = "0";
    size_t fl = 0;
#define FLAG(cond, name)                                                                       \
    if (cond)                                                                                  \
        fl += (size_t)snprintf(flags + fl, sizeof flags - fl, "%s%s", fl ? " | " : "", name)
    FLAG(t->key, "MOOSE_FIELD_KEY");
    FLAG(t->optional, "MOOSE_FIELD_OPTIONAL");
    FLAG(t->array, "MOOSE_FIELD_ARRAY");
    FLAG(f->has_length, "MOOSE_FIELD_HAS_LENGTH");
    FLAG(f->has_range, "MOOSE_FIELD_HAS_RANGE");
    FLAG(f->pattern, "MOOSE_FIELD_HAS_PATTERN");
    FLAG(f->default_value, "MOOSE_FIELD_HAS_DEFAULT");
#undef FLAG
    E(out, 1, "{\n");
    E(out, 2, ".name = \"%s\",\n", f->name);
    E(out, 2, ".name_len = %zu,\n", strlen(f->name));
    E(out, 2, ".type = %s,\n", moosec_c_type_const(t->kind));
    E(out, 2, ".flags = %s,\n", flags);
    E(out, 2, ".offset = offsetof(%s, %s),\n", m->name, mem);
    if (t->optional && !(nested && !t->array))
        E(out, 2, ".present_offset = offsetof(%s, has_%s),\n", m->name, f->name);
    E(out, 2, ".elem_size = sizeof(%s),\n", vt);
    if (nested)
        E(out, 2, ".model = &%s_desc,\n", t->model->name);
    if (t->kind == MOOSEC_TYPE_ENUM) {
        E(out, 2, ".enum_values = %s_names,\n", moosec_c_enum_type(g->a, m, f));
        E(out, 2, ".enum_count = %zu,\n", t->members.len);
    }
    if (t->kind == MOOSEC_TYPE_DECIMAL) {
        E(out, 2, ".decimal_precision = %d,\n", t->decimal_precision);
        E(out, 2, ".decimal_scale = %d,\n", t->decimal_scale);
    }
    if (f->has_length) {
        E(out, 2, ".length_min = %lld,\n", (long long)f->length_min);
        E(out, 2, ".length_max = %lld,\n", (long long)f->length_max);
    }
    if (f->has_range) {
        E(out, 2, ".range_min = %s,\n", f->range_min_value->text);
        E(out, 2, ".range_max = %s,\n", f->range_max_value->text);
    }
    if (f->pattern)
        E(out, 2, ".pattern = %s,\n", moosec_c_string(g->a, f->pattern, strlen(f->pattern)));
    if (f->default_value) {
        const char *json = moosec_c_value_json(g->a, f, f->default_value);
        E(out, 2, ".default_json = %s,\n", moosec_c_string(g->a, json, strlen(json)));
    }
    E(out, 1, "},\n");
}

static void put_model_api(gen *g, const moosec_model *m) {
    FILE *out = g->out;
    const char *n = m->name;
    E(out, 0, "void %s_init(%s *rec) {\n", n, n);
    E(out, 1, "static const %s init = %s_INIT;\n", n, n);
    E(out, 1, "*rec = init;\n");
    E(out, 0, "}\n\n");
    E(out, 0,
      "int %s_from_json(%s *rec, const char *json, size_t len, moose_arena *arena,\n"
      "    const moose_decode_options *opts, moose_errors *errs) {\n",
      n, n);
    E(out, 1, "moose_json_reader r;\n");
    E(out, 1, "%s_init(rec);\n", n);
    E(out, 1, "int rc = moose_json_start(&r, json, len, arena, opts, errs);\n");
    E(out, 1, "if (rc == 0)\n");
    E(out, 2, "rc = %s__read(&r, rec);\n", n);
    E(out, 1, "if (rc == 0)\n");
    E(out, 2, "rc = moose_json_finish(&r);\n");
    E(out, 1, "return rc;\n");
    E(out, 0, "}\n\n");
    E(out, 0, "int %s_to_json(const %s *rec, moose_buf *out) {\n", n, n);
    E(out, 1, "size_t mark = out->len;\n");
    E(out, 1, "int rc = %s__write(rec, out);\n", n);
    E(out, 1, "if (rc == 0 && out->failed)\n");
    E(out, 2, "rc = MOOSE_ENOMEM;\n");
    E(out, 1, "if (rc != 0 && !out->failed)\n");
    E(out, 2, "out->len = mark; /* no half-written record */\n");
    E(out, 1, "return rc;\n");
    E(out, 0, "}\n\n");
    E(out, 0, "int %s_validate(const %s *rec, moose_errors *errs) {\n", n, n);
    E(out, 1, "return %s__check(rec, errs, NULL) ? MOOSE_EVALIDATION : 0;\n", n);
    E(out, 0, "}\n\n");

    /* the descriptor's untyped entry points */
    E(out, 0, "static void %s__init_any(void *rec) {\n", n);
    E(out, 1, "%s_init(rec);\n", n);
    E(out, 0, "}\n\n");
    E(out, 0,
      "static int %s__decode_any(void *rec, const char *json, size_t len, moose_arena *arena,\n"
      "    const moose_decode_options *opts, moose_errors *errs) {\n",
      n);
    E(out, 1, "return %s_from_json(rec, json, len, arena, opts, errs);\n", n);
    E(out, 0, "}\n\n");
    E(out, 0, "static int %s__validate_any(const void *rec, moose_errors *errs) {\n", n);
    E(out, 1, "return %s_validate(rec, errs);\n", n);
    E(out, 0, "}\n\n");
    E(out, 0, "static int %s__encode_any(const void *rec, moose_buf *out) {\n", n);
    E(out, 1, "return %s_to_json(rec, out);\n", n);
    E(out, 0, "}\n\n");

    bool any_pattern = false;
    for (size_t i = 0; i < m->fields.len; i++)
        any_pattern |= m->fields.items[i]->pattern != NULL;
    if (any_pattern) {
        E(out, 0, "static int %s__prepare(char *errstr, size_t errstr_size) {\n", n);
        for (size_t i = 0; i < m->fields.len; i++) {
            const moosec_field *f = m->fields.items[i];
            if (!f->pattern)
                continue;
            E(out, 1, "if (moose_pattern_prepare(&%s__%s_pattern, errstr, errstr_size) != 0)\n", n,
              f->name);
            E(out, 2, "return -1;\n");
        }
        E(out, 1, "return 0;\n");
        E(out, 0, "}\n\n");
    }

    if (m->fields.len) {
        E(out, 0, "static const moose_field_desc %s__fields[%zu] = {\n", n, m->fields.len);
        for (size_t i = 0; i < m->fields.len; i++)
            put_field_desc(g, m, m->fields.items[i]);
        E(out, 0, "};\n\n");
    }
    int key = -1;
    for (size_t i = 0; i < m->fields.len; i++)
        if (m->fields.items[i] == m->key || m->fields.items[i]->type.key)
            key = (int)i;
    E(out, 0, "const moose_model_desc %s_desc = {\n", n);
    E(out, 1, ".name = \"%s\",\n", n);
    E(out, 1, ".size = sizeof(%s),\n", n);
    E(out, 1, ".align = _Alignof(%s),\n", n);
    E(out, 1, ".fields = %s%s,\n", m->fields.len ? n : "NULL", m->fields.len ? "__fields" : "");
    E(out, 1, ".nfields = %zu,\n", m->fields.len);
    E(out, 1, ".key_field = %d,\n", key);
    E(out, 1, ".init = %s__init_any,\n", n);
    E(out, 1, ".decode = %s__decode_any,\n", n);
    E(out, 1, ".validate = %s__validate_any,\n", n);
    E(out, 1, ".encode = %s__encode_any,\n", n);
    if (any_pattern)
        E(out, 1, ".prepare = %s__prepare,\n", n);
    E(out, 0, "};\n\n");
}

/* ---- tables, streams, transforms, app ---- */

/*
 * A string constant: a literal when short, else a char array (ISO C only
 * promises 4095 characters in a literal, and -pedantic says so).
 */
static const char *put_text_const(gen *g, const char *name, const char *text) {
    if (!text)
        return "NULL";
    size_t len = strlen(text);
    if (len < 4000)
        return moosec_c_string(g->a, text, len);
    E(g->out, 0, "static const char %s[%zu] = {", name, len + 1);
    for (size_t i = 0; i < len; i++)
        fprintf(g->out, "%s%d", i % 24 ? ", " : "\n    ", (unsigned char)text[i]);
    fputs(", 0};\n", g->out);
    return name;
}

static void put_table(gen *g, const moosec_table *t) {
    FILE *out = g->out;
    const char *sqlite = put_text_const(g, moosec_arena_printf(g->a, "%s__ddl_sqlite", t->name),
                                        moosec_ddl_table(g->a, t, MOOSEC_DDL_SQLITE));
    const char *ch = put_text_const(g, moosec_arena_printf(g->a, "%s__ddl_clickhouse", t->name),
                                    moosec_ddl_table(g->a, t, MOOSEC_DDL_CLICKHOUSE));
    if (t->order_by.len) {
        E(out, 0, "static const char *const %s__order_by[%zu] = {", t->name, t->order_by.len);
        for (size_t i = 0; i < t->order_by.len; i++)
            fprintf(out, "%s\"%s\"", i ? ", " : "", t->order_by.items[i]->name);
        fputs("};\n", out);
    }
    E(out, 0, "const moose_table_desc %s_table = {\n", t->name);
    E(out, 1, ".name = \"%s\",\n", t->name);
    E(out, 1, ".model = &%s_desc,\n", t->model->name);
    E(out, 1, ".order_by = %s%s,\n", t->order_by.len ? t->name : "NULL",
      t->order_by.len ? "__order_by" : "");
    E(out, 1, ".norder_by = %zu,\n", t->order_by.len);
    E(out, 1, ".engine = %s,\n",
      t->engine == MOOSEC_ENGINE_MERGE_TREE ? "MOOSE_ENGINE_MERGE_TREE"
                                            : "MOOSE_ENGINE_REPLACING_MERGE_TREE");
    E(out, 1, ".batch_rows = %" PRId64 ",\n", t->batch_rows);
    E(out, 1, ".batch_bytes = %" PRId64 ",\n", t->batch_bytes);
    E(out, 1, ".batch_ms = %" PRId64 ",\n", t->batch_ms);
    E(out, 1, ".ddl_sqlite = %s,\n", sqlite);
    E(out, 1, ".ddl_clickhouse = %s,\n", ch);
    E(out, 0, "};\n\n");
}

static void put_stream(gen *g, const moosec_stream *s) {
    FILE *out = g->out;
    E(out, 0, "const moose_stream_desc %s_stream = {\n", s->name);
    E(out, 1, ".name = \"%s\",\n", s->name);
    E(out, 1, ".topic = %s,\n", moosec_c_string(g->a, s->topic, strlen(s->topic)));
    E(out, 1, ".model = &%s_desc,\n", s->model->name);
    if (s->destination)
        E(out, 1, ".destination = &%s_table,\n", s->destination->name);
    else
        E(out, 1, ".destination = NULL,\n");
    E(out, 1, ".parallelism = %" PRId64 ",\n", s->parallelism);
    E(out, 1, ".retention_s = %" PRId64 ",\n", s->retention_s);
    E(out, 1, ".on_invalid = %s,\n",
      s->on_invalid == MOOSEC_ON_INVALID_REJECT ? "MOOSE_ON_INVALID_REJECT"
                                                : "MOOSE_ON_INVALID_DEAD_LETTER");
    E(out, 1, ".allow_extra_fields = %s,\n", s->allow_extra_fields ? "true" : "false");
    E(out, 0, "};\n\n");
}

static void put_transform(gen *g, const moosec_transform *t) {
    FILE *out = g->out;
    const char *in = t->source.stream->model->name;
    E(out, 0, "static int %s__call(const void *in, moose_transform_ctx *ctx) {\n", t->name);
    E(out, 1, "%s_out out = {ctx};\n", t->name);
    E(out, 1, "return %s((const %s *)in, &out);\n", t->name, in);
    E(out, 0, "}\n\n");
    E(out, 0, "static const moose_stream_desc *const %s__destinations[%zu] = {", t->name,
      t->destinations.len);
    for (size_t j = 0; j < t->destinations.len; j++)
        fprintf(out, "%s&%s_stream", j ? ", " : "", t->destinations.items[j].stream->name);
    fputs("};\n", out);
    E(out, 0, "const moose_transform_desc %s_transform = {\n", t->name);
    E(out, 1, ".name = \"%s\",\n", t->name);
    E(out, 1, ".source = &%s_stream,\n", t->source.stream->name);
    E(out, 1, ".destinations = %s__destinations,\n", t->name);
    E(out, 1, ".ndestinations = %zu,\n", t->destinations.len);
    E(out, 1, ".fn = %s__call,\n", t->name);
    E(out, 0, "};\n\n");
}

#define PUT_LIST(g, ident, what, vec, suffix)                                                  \
    do {                                                                                       \
        if ((vec).len) {                                                                       \
            E((g)->out, 0, "static const moose_" what "_desc *const %s__" what "s[%zu] = {\n", \
              ident, (vec).len);                                                               \
            for (size_t i_ = 0; i_ < (vec).len; i_++)                                          \
                E((g)->out, 1, "&%s" suffix ",\n", (vec).items[i_]->name);                     \
            E((g)->out, 0, "};\n");                                                            \
        }                                                                                      \
    } while (0)

void moosec_gen_source(FILE *out, const moosec_schema *schema, const char *base) {
    moosec_arena arena;
    moosec_arena_init(&arena);
    gen g = {out, &arena};
    const char *ident = moosec_c_ident(&arena, base);

    E(out, 0, "/*\n * Generated by moosec from %s.moose. Do not edit: change the schema and\n"
              " * run `moosec gen` again.\n */\n",
      base);
    E(out, 0, "#include \"%s.moose.h\"\n\n", base);
    E(out, 0, "#include <string.h>\n\n");
    E(out, 0, "#include \"moose/json.h\"\n#include \"moose/validate.h\"\n\n");

    for (size_t i = 0; i < schema->models.len; i++) {
        const moosec_model *m = schema->models.items[i];
        E(out, 0, "static int %s__read(moose_json_reader *r, %s *rec);\n", m->name, m->name);
        E(out, 0, "static int %s__write(const %s *rec, moose_buf *out);\n", m->name, m->name);
        E(out, 0, "static int %s__check(const %s *rec, moose_errors *errs, const moose_path *path);\n",
          m->name, m->name);
    }
    fputc('\n', out);
    for (size_t i = 0; i < schema->models.len; i++) {
        const moosec_model *m = schema->models.items[i];
        E(out, 0, "/* ---- model %s ---- */\n\n", m->name);
        put_model_data(&g, m);
        put_read(&g, m);
        put_write(&g, m);
        put_check(&g, m);
        put_model_api(&g, m);
    }
    if (schema->tables.len)
        E(out, 0, "/* ---- tables ---- */\n\n");
    for (size_t i = 0; i < schema->tables.len; i++)
        put_table(&g, schema->tables.items[i]);
    if (schema->streams.len)
        E(out, 0, "/* ---- streams ---- */\n\n");
    for (size_t i = 0; i < schema->streams.len; i++)
        put_stream(&g, schema->streams.items[i]);
    if (schema->transforms.len)
        E(out, 0, "/* ---- transforms ---- */\n\n");
    for (size_t i = 0; i < schema->transforms.len; i++)
        put_transform(&g, schema->transforms.items[i]);

    E(out, 0, "/* ---- the app ---- */\n\n");
    PUT_LIST(&g, ident, "model", schema->models, "_desc");
    PUT_LIST(&g, ident, "table", schema->tables, "_table");
    PUT_LIST(&g, ident, "stream", schema->streams, "_stream");
    PUT_LIST(&g, ident, "transform", schema->transforms, "_transform");
    E(out, 0, "\nconst moose_app_desc %s_app = {\n", ident);
    E(out, 1, ".abi_version = MOOSE_ABI_VERSION,\n");
    E(out, 1, ".name = %s,\n", moosec_c_string(&arena, base, strlen(base)));
#define PUT_MEMBER(what, vec)                                                                  \
    E(out, 1, "." what "s = %s%s,\n", (vec).len ? ident : "NULL", (vec).len ? "__" what "s" : ""); \
    E(out, 1, ".n" what "s = %zu,\n", (vec).len)
    PUT_MEMBER("model", schema->models);
    PUT_MEMBER("table", schema->tables);
    PUT_MEMBER("stream", schema->streams);
    PUT_MEMBER("transform", schema->transforms);
#undef PUT_MEMBER
    E(out, 0, "};\n");
    moosec_arena_free(&arena);
}
