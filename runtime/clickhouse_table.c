/*
 * The ClickHouse table store, over the HTTP interface with libcurl: one
 * keep-alive connection per moose__table, batches sent as
 * `INSERT INTO t FORMAT JSONEachRow`, tables deduplicating on the Key with
 * ReplacingMergeTree (read them with SELECT ... FINAL for exact counts).
 *
 * The server's version decides the types: DateTime64 from 20.1, Bool from
 * 21.12, Date32 from 21.9, LowCardinality from 19.0; the DDL written for a current server is
 * adapted for older ones (Debian's 18.16). Values travel in forms that no
 * server setting or time zone can change: DateTime as Unix seconds,
 * DateTime64 as "seconds.fraction", Bool as 0/1, Decimal as a bare number.
 *
 * Credentials go to libcurl apart from the URL, so they never appear in a
 * message; every message names the URL with the password masked.
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "moose/error.h"
#include "table_backend.h"
#include "table_values.h"

/* How one field is written into a JSONEachRow object. */
typedef enum ch_writer {
    W_STRING,
    W_INT,
    W_UINT64,
    W_FLOAT,
    W_BOOL01,
    W_DATETIME,   /* Unix seconds */
    W_DATETIME64, /* "seconds.fraction" with `precision` digits */
    W_DATE,
    W_UUID,
    W_DECIMAL,
    W_ENUM,
    W_JSON_TEXT, /* a nested model (or an array of them) as a JSON string */
} ch_writer;

typedef struct ch_column {
    ch_writer writer;
    int precision;
    bool nullable, array;
    char key[160]; /* "\"name\":" ready to copy */
    size_t key_len;
} ch_column;

typedef struct ch_table {
    CURL *curl;
    struct curl_slist *headers;
    char base_url[512]; /* http://host:port/?database=db */
    char insert_url[1024];
    char error[CURL_ERROR_SIZE];
    int major, minor;
    ch_column *columns;
    moose__tbuf body, response, scratch;
} ch_table;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static bool version_at_least(const ch_table *ct, int major, int minor) {
    return ct->major > major || (ct->major == major && ct->minor >= minor);
}

static size_t on_response(char *data, size_t size, size_t nmemb, void *opaque) {
    moose__tbuf *buf = opaque;
    moose__tbuf_put(buf, data, size * nmemb);
    return buf->failed ? 0 : size * nmemb;
}

/*
 * Codes of server errors that are not about the rows sent: the whole batch
 * must wait (the table is "down") rather than be bisected into the DLQ.
 */
static bool code_means_down(long code) {
    static const long down[] = {
        16,   /* NO_SUCH_COLUMN_IN_TABLE: the table changed under us */
        47,   /* UNKNOWN_IDENTIFIER */
        60,   /* UNKNOWN_TABLE */
        62,   /* SYNTAX_ERROR */
        81,   /* UNKNOWN_DATABASE */
        159,  /* TIMEOUT_EXCEEDED */
        164,  /* READONLY */
        173,  /* CANNOT_ALLOCATE_MEMORY */
        192,  /* UNKNOWN_USER */
        193,  /* WRONG_PASSWORD */
        194,  /* REQUIRED_PASSWORD */
        195,  /* IP_ADDRESS_NOT_ALLOWED */
        201,  /* QUOTA_EXPIRED */
        202,  /* TOO_MANY_SIMULTANEOUS_QUERIES */
        203,  /* NO_FREE_CONNECTION */
        209,  /* SOCKET_TIMEOUT */
        210,  /* NETWORK_ERROR */
        225,  /* NO_ZOOKEEPER */
        236,  /* ABORTED */
        241,  /* MEMORY_LIMIT_EXCEEDED */
        242,  /* TABLE_IS_READ_ONLY */
        243,  /* NOT_ENOUGH_SPACE */
        252,  /* TOO_MANY_PARTS */
        279,  /* ALL_CONNECTION_TRIES_FAILED */
        285,  /* TOO_FEW_LIVE_REPLICAS */
        319,  /* UNKNOWN_STATUS_OF_INSERT */
        394,  /* QUERY_WAS_CANCELLED */
        425,  /* SYSTEM_ERROR */
        439,  /* CANNOT_SCHEDULE_TASK */
        497,  /* ACCESS_DENIED */
        516,  /* AUTHENTICATION_FAILED */
        999,  /* KEEPER_EXCEPTION */
        1000, /* POCO_EXCEPTION */
    };
    for (size_t i = 0; i < sizeof down / sizeof down[0]; i++)
        if (down[i] == code)
            return true;
    return false;
}

/* The server's message on one line, without the trailing "e.what() = ..." noise. */
static void server_message(const moose__tbuf *response, char *out, size_t out_size) {
    size_t n = response->len;
    const char *s = response->data ? response->data : "";
    const char *what = NULL;
    for (size_t i = 0; i + 10 < n; i++)
        if (memcmp(s + i, ", e.what()", 10) == 0) {
            what = s + i;
            break;
        }
    if (what)
        n = (size_t)(what - s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
        n--;
    size_t j = 0;
    for (size_t i = 0; i < n && j + 1 < out_size; i++)
        out[j++] = s[i] == '\n' ? ' ' : s[i];
    out[j] = '\0';
}

static long server_code(const moose__tbuf *response) {
    if (!response->data || response->len < 7 || memcmp(response->data, "Code: ", 6) != 0)
        return -1;
    return strtol(response->data + 6, NULL, 10);
}

/*
 * POSTs BODY to URL. Returns 0 with the response in ct->response, or
 * MOOSE_ETABLEDOWN (unreachable, or refused for reasons not about the rows),
 * or MOOSE_ETABLE (refused because of the data) with the server's message.
 */
static int ch_post(moose__table *table, const char *url, const char *body, size_t len, char *errstr,
                   size_t errstr_size) {
    ch_table *ct = table->impl;
    moose__tbuf_reset(&ct->response);
    curl_easy_setopt(ct->curl, CURLOPT_URL, url);
    if (body) { /* otherwise the caller set a read callback that streams the body */
        curl_easy_setopt(ct->curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(ct->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    ct->error[0] = '\0';
    CURLcode rc = curl_easy_perform(ct->curl);
    if (rc != CURLE_OK) {
        moose__table_errf(errstr, errstr_size, "table %s (%s) is unreachable: %s",
                          table->desc->name, table->display_url,
                          ct->error[0] ? ct->error : curl_easy_strerror(rc));
        return MOOSE_ETABLEDOWN;
    }
    if (ct->response.failed) {
        moose__table_errf(errstr, errstr_size, "table %s: out of memory", table->desc->name);
        return MOOSE_ENOMEM;
    }
    long status = 0;
    curl_easy_getinfo(ct->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status == 200)
        return MOOSE_OK;
    char message[MOOSE__TABLE_MESSAGE_MAX];
    server_message(&ct->response, message, sizeof message);
    long code = server_code(&ct->response);
    moose__table_errf(errstr, errstr_size, "%s", message[0] ? message : "(no message)");
    if (code < 0 || code_means_down(code) || status == 401 || status == 403 || status >= 502) {
        moose__table_errf(errstr, errstr_size, "table %s (%s) refused the request (HTTP %ld): %s",
                          table->desc->name, table->display_url, status,
                          message[0] ? message : "(no message)");
        return MOOSE_ETABLEDOWN;
    }
    return MOOSE_ETABLE;
}

/* Runs SQL (a statement or a query whose answer lands in ct->response). */
static int ch_query(moose__table *table, const char *sql, char *errstr, size_t errstr_size) {
    ch_table *ct = table->impl;
    int rc = ch_post(table, ct->base_url, sql, strlen(sql), errstr, errstr_size);
    if (rc == MOOSE_ETABLE) {
        char message[MOOSE__TABLE_MESSAGE_MAX];
        snprintf(message, sizeof message, "%s", errstr);
        moose__table_errf(errstr, errstr_size, "table %s (%s): %.60s... failed: %s",
                          table->desc->name, table->display_url, sql, message);
        return MOOSE_ESCHEMA;
    }
    return rc;
}

/* ---- types ---- */

static const char *int_type_name(moose_type type) {
    switch (type) {
    case MOOSE_TYPE_INT8:
        return "Int8";
    case MOOSE_TYPE_INT16:
        return "Int16";
    case MOOSE_TYPE_INT32:
        return "Int32";
    case MOOSE_TYPE_INT64:
        return "Int64";
    case MOOSE_TYPE_UINT8:
        return "UInt8";
    case MOOSE_TYPE_UINT16:
        return "UInt16";
    case MOOSE_TYPE_UINT32:
        return "UInt32";
    case MOOSE_TYPE_UINT64:
        return "UInt64";
    case MOOSE_TYPE_FLOAT32:
        return "Float32";
    case MOOSE_TYPE_FLOAT64:
        return "Float64";
    default:
        return NULL;
    }
}

/* The column type this server should have for FIELD (for CREATE and ADD COLUMN). */
static void field_type(const ch_table *ct, moose__tbuf *b, const moose_field_desc *field) {
    bool optional = (field->flags & MOOSE_FIELD_OPTIONAL) != 0;
    bool array = (field->flags & MOOSE_FIELD_ARRAY) != 0;
    if (field->type == MOOSE_TYPE_MODEL) {
        moose__tbuf_puts(b, optional ? "Nullable(String)" : "String");
        return;
    }
    if (array)
        moose__tbuf_puts(b, "Array(");
    else if (optional)
        moose__tbuf_puts(b, "Nullable(");
    char tmp[64];
    switch (field->type) {
    case MOOSE_TYPE_STRING:
        moose__tbuf_puts(b, "String");
        break;
    case MOOSE_TYPE_BOOL:
        moose__tbuf_puts(b, version_at_least(ct, 21, 12) ? "Bool" : "UInt8");
        break;
    case MOOSE_TYPE_DATETIME:
        moose__tbuf_puts(b, version_at_least(ct, 20, 1) ? "DateTime64(6, 'UTC')" : "DateTime");
        break;
    case MOOSE_TYPE_DATE:
        moose__tbuf_puts(b, "Date");
        break;
    case MOOSE_TYPE_UUID:
        moose__tbuf_puts(b, "UUID");
        break;
    case MOOSE_TYPE_DECIMAL:
        snprintf(tmp, sizeof tmp, "Decimal(%u, %u)", field->decimal_precision,
                 field->decimal_scale);
        moose__tbuf_puts(b, tmp);
        break;
    case MOOSE_TYPE_ENUM:
        moose__tbuf_puts(b, field->enum_count > 127 ? "Enum16(" : "Enum8(");
        for (uint32_t i = 0; i < field->enum_count; i++) {
            if (i)
                moose__tbuf_puts(b, ", ");
            moose__tbuf_puts(b, "'");
            for (const char *p = field->enum_values[i]; *p; p++) {
                if (*p == '\'' || *p == '\\')
                    moose__tbuf_puts(b, "\\");
                moose__tbuf_put(b, p, 1);
            }
            snprintf(tmp, sizeof tmp, "' = %u", i + 1);
            moose__tbuf_puts(b, tmp);
        }
        moose__tbuf_puts(b, ")");
        break;
    default:
        moose__tbuf_puts(b, int_type_name(field->type));
        break;
    }
    if (array || optional)
        moose__tbuf_puts(b, ")");
}

static void quote_ident(moose__tbuf *b, const char *name) {
    moose__tbuf_put(b, "`", 1);
    for (const char *p = name; *p; p++) {
        if (*p == '`' || *p == '\\')
            moose__tbuf_put(b, "\\", 1);
        moose__tbuf_put(b, p, 1);
    }
    moose__tbuf_put(b, "`", 1);
}

static void generated_ddl(const ch_table *ct, moose__tbuf *b, const moose_table_desc *desc) {
    const moose_model_desc *model = desc->model;
    moose__tbuf_puts(b, "CREATE TABLE IF NOT EXISTS ");
    quote_ident(b, desc->name);
    moose__tbuf_puts(b, " (");
    for (uint32_t i = 0; i < model->nfields; i++) {
        if (i)
            moose__tbuf_puts(b, ", ");
        quote_ident(b, model->fields[i].name);
        moose__tbuf_puts(b, " ");
        field_type(ct, b, &model->fields[i]);
    }
    moose__tbuf_puts(b, desc->engine == MOOSE_ENGINE_MERGE_TREE
                            ? ") ENGINE = MergeTree ORDER BY ("
                            : ") ENGINE = ReplacingMergeTree ORDER BY (");
    if (desc->norder_by) {
        for (uint32_t i = 0; i < desc->norder_by; i++) {
            if (i)
                moose__tbuf_puts(b, ", ");
            quote_ident(b, desc->order_by[i]);
        }
    } else if (model->key_field >= 0) {
        quote_ident(b, model->fields[model->key_field].name);
    }
    moose__tbuf_puts(b, ")");
}

/*
 * Rewrites DDL written for a current server so this one accepts it: outside
 * quoted text, DateTime64(...) becomes DateTime before 20.1, Bool becomes
 * UInt8 before 21.12, Date32 becomes Date before 21.9, LowCardinality(T)
 * becomes T before 19.0.
 */
static void adapt_ddl(const ch_table *ct, moose__tbuf *out, const char *ddl) {
    bool no_dt64 = !version_at_least(ct, 20, 1);
    bool no_bool = !version_at_least(ct, 21, 12);
    bool no_lowcard = !version_at_least(ct, 19, 0);
    bool no_date32 = !version_at_least(ct, 21, 9);
    int drop_parens[64]; /* depth at which a LowCardinality( was removed */
    int ndrop = 0, depth = 0;
    for (const char *p = ddl; *p;) {
        if (*p == '\'' || *p == '`' || *p == '"') {
            char q = *p;
            const char *start = p++;
            while (*p && *p != q) {
                if (*p == '\\' && p[1])
                    p++;
                p++;
            }
            if (*p)
                p++;
            moose__tbuf_put(out, start, (size_t)(p - start));
            continue;
        }
        bool word_start =
            p == ddl || !(p[-1] == '_' || (p[-1] >= 'a' && p[-1] <= 'z') ||
                          (p[-1] >= 'A' && p[-1] <= 'Z') || (p[-1] >= '0' && p[-1] <= '9'));
        if (word_start && no_dt64 && strncmp(p, "DateTime64(", 11) == 0) {
            const char *close = strchr(p, ')');
            if (close) {
                moose__tbuf_puts(out, "DateTime");
                p = close + 1;
                continue;
            }
        }
        if (word_start && no_bool && strncmp(p, "Bool", 4) == 0 &&
            !((p[4] >= 'a' && p[4] <= 'z') || (p[4] >= 'A' && p[4] <= 'Z') || p[4] == '_' ||
              (p[4] >= '0' && p[4] <= '9'))) {
            moose__tbuf_puts(out, "UInt8");
            p += 4;
            continue;
        }
        if (word_start && no_date32 && strncmp(p, "Date32", 6) == 0) {
            moose__tbuf_puts(out, "Date");
            p += 6;
            continue;
        }
        if (word_start && no_lowcard && strncmp(p, "LowCardinality(", 15) == 0 && ndrop < 64) {
            drop_parens[ndrop++] = depth++;
            p += 15;
            continue;
        }
        if (*p == '(')
            depth++;
        if (*p == ')') {
            depth--;
            if (ndrop && drop_parens[ndrop - 1] == depth) {
                ndrop--;
                p++;
                continue;
            }
        }
        moose__tbuf_put(out, p, 1);
        p++;
    }
}

/* Strips WRAPPER( ... ) from TYPE in place; true if it was there. */
static bool unwrap(char *type, const char *wrapper) {
    size_t n = strlen(wrapper);
    size_t len = strlen(type);
    if (len < n + 2 || strncmp(type, wrapper, n) != 0 || type[n] != '(' || type[len - 1] != ')')
        return false;
    memmove(type, type + n + 1, len - n - 2);
    type[len - n - 2] = '\0';
    return true;
}

/* Whether Enum type TYPE lists NAME as one of its values. */
static bool enum_has(const char *type, const char *name) {
    size_t n = strlen(name);
    for (const char *p = strchr(type, '\''); p; p = strchr(p + 1, '\'')) {
        if (strncmp(p + 1, name, n) == 0 && p[1 + n] == '\'')
            return true;
        p = strchr(p + 1, '\''); /* skip to the closing quote */
        if (!p)
            break;
    }
    return false;
}

/*
 * Decides how FIELD is written into a column of type TYPE, or explains in
 * WHY (a phrase) why it cannot be.
 */
static bool column_fits(const moose_field_desc *field, const char *column_type, ch_column *col,
                        char *why, size_t why_size) {
    char type[512];
    snprintf(type, sizeof type, "%s", column_type);
    bool optional = (field->flags & MOOSE_FIELD_OPTIONAL) != 0;
    bool array = (field->flags & MOOSE_FIELD_ARRAY) != 0;
    col->nullable = unwrap(type, "Nullable");
    col->array = false;
    col->precision = 0;
    if (field->type == MOOSE_TYPE_MODEL) {
        unwrap(type, "LowCardinality");
        col->writer = W_JSON_TEXT;
        if (strcmp(type, "String") != 0) {
            snprintf(why, why_size, "a nested model is stored as JSON text in a String column");
            return false;
        }
    } else {
        if (array) {
            if (!unwrap(type, "Array")) {
                snprintf(why, why_size, "an array field needs an Array(...) column");
                return false;
            }
            col->array = true;
            if (unwrap(type, "Nullable")) {
                snprintf(why, why_size, "array elements are never null");
                return false;
            }
        }
        unwrap(type, "LowCardinality");
        bool ok = false;
        const char *name = int_type_name(field->type);
        switch (field->type) {
        case MOOSE_TYPE_STRING:
            col->writer = W_STRING;
            ok = strcmp(type, "String") == 0;
            break;
        case MOOSE_TYPE_BOOL:
            col->writer = W_BOOL01;
            ok = strcmp(type, "UInt8") == 0 || strcmp(type, "Bool") == 0;
            break;
        case MOOSE_TYPE_FLOAT32:
        case MOOSE_TYPE_FLOAT64:
            col->writer = W_FLOAT;
            ok = strcmp(type, name) == 0 ||
                 (field->type == MOOSE_TYPE_FLOAT32 && strcmp(type, "Float64") == 0);
            break;
        case MOOSE_TYPE_UINT64:
            col->writer = W_UINT64;
            ok = strcmp(type, name) == 0;
            break;
        case MOOSE_TYPE_DATETIME:
            if (strcmp(type, "DateTime") == 0 || strncmp(type, "DateTime(", 9) == 0) {
                col->writer = W_DATETIME;
                ok = true;
            } else if (strncmp(type, "DateTime64(", 11) == 0) {
                col->writer = W_DATETIME64;
                col->precision = atoi(type + 11);
                ok = col->precision >= 0 && col->precision <= 9;
            }
            break;
        case MOOSE_TYPE_DATE:
            col->writer = W_DATE;
            ok = strcmp(type, "Date") == 0 || strcmp(type, "Date32") == 0;
            break;
        case MOOSE_TYPE_UUID:
            col->writer = W_UUID;
            ok = strcmp(type, "UUID") == 0 || strcmp(type, "String") == 0;
            break;
        case MOOSE_TYPE_DECIMAL: {
            col->writer = W_DECIMAL;
            unsigned p = 0, s = 0;
            char want[64];
            snprintf(want, sizeof want, "Decimal(%u, %u)", field->decimal_precision,
                     field->decimal_scale);
            if (strcmp(type, want) == 0)
                ok = true;
            else if ((sscanf(type, "Decimal32(%u)", &s) == 1 ||
                      sscanf(type, "Decimal64(%u)", &s) == 1 ||
                      sscanf(type, "Decimal128(%u)", &s) == 1) &&
                     s == field->decimal_scale)
                ok = true;
            else if (sscanf(type, "Decimal(%u, %u)", &p, &s) == 2 && s == field->decimal_scale &&
                     p >= field->decimal_precision)
                ok = true;
            break;
        }
        case MOOSE_TYPE_ENUM:
            col->writer = W_ENUM;
            if (strcmp(type, "String") == 0) {
                ok = true;
            } else if (strncmp(type, "Enum8(", 6) == 0 || strncmp(type, "Enum16(", 7) == 0) {
                ok = true;
                for (uint32_t i = 0; i < field->enum_count && ok; i++)
                    if (!enum_has(type, field->enum_values[i])) {
                        snprintf(why, why_size, "the enum value '%s' is missing from it",
                                 field->enum_values[i]);
                        return false;
                    }
            }
            break;
        default:
            col->writer = W_INT;
            ok = name && strcmp(type, name) == 0;
            break;
        }
        if (!ok) {
            snprintf(why, why_size, "its type does not hold this field's values");
            return false;
        }
    }
    if (optional && !array && !col->nullable) {
        snprintf(why, why_size, "an optional field needs a Nullable(...) column");
        return false;
    }
    if (!optional && col->nullable && field->type != MOOSE_TYPE_MODEL) {
        /* Harmless: a required field simply never writes null. */
    }
    return true;
}

/* Splits one TSV line in place into up to MAX fields, undoing TSV escapes. */
static size_t tsv_split(char *line, char **fields, size_t max) {
    size_t n = 0;
    char *out = line;
    fields[n++] = out;
    for (char *p = line; *p; p++) {
        if (*p == '\t') {
            *out++ = '\0';
            if (n < max)
                fields[n++] = out;
            continue;
        }
        if (*p == '\\' && p[1]) {
            p++;
            *out++ = *p == 't' ? '\t' : *p == 'n' ? '\n' : *p == '0' ? '\0' : *p;
            continue;
        }
        *out++ = *p;
    }
    *out = '\0';
    return n;
}

typedef struct ch_existing {
    char name[128];
    char type[512];
    char default_kind[32];
    bool matched;
} ch_existing;

static void sql_string(moose__tbuf *b, const char *s) {
    moose__tbuf_put(b, "'", 1);
    for (const char *p = s; *p; p++) {
        if (*p == '\'' || *p == '\\')
            moose__tbuf_put(b, "\\", 1);
        moose__tbuf_put(b, p, 1);
    }
    moose__tbuf_put(b, "'", 1);
}

static int read_columns(moose__table *table, const char *database, ch_existing **out, size_t *n,
                        char *errstr, size_t errstr_size) {
    ch_table *ct = table->impl;
    *out = NULL;
    *n = 0;
    moose__tbuf *q = &ct->scratch;
    moose__tbuf_reset(q);
    moose__tbuf_puts(q, "SELECT name, type, default_kind FROM system.columns WHERE database = ");
    sql_string(q, database);
    moose__tbuf_puts(q, " AND table = ");
    sql_string(q, table->desc->name);
    moose__tbuf_puts(q, " FORMAT TabSeparated");
    int rc = ch_query(table, moose__tbuf_cstr(q), errstr, errstr_size);
    if (rc)
        return rc;
    moose__tbuf_cstr(&ct->response);
    size_t cap = 0;
    char *save = NULL;
    for (char *line = strtok_r(ct->response.data, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char *f[3] = {0};
        if (tsv_split(line, f, 3) < 2)
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            ch_existing *grown = realloc(*out, cap * sizeof **out);
            if (!grown) {
                free(*out);
                *out = NULL;
                moose__table_errf(errstr, errstr_size, "table %s: out of memory",
                                  table->desc->name);
                return MOOSE_ENOMEM;
            }
            *out = grown;
        }
        ch_existing *c = &(*out)[(*n)++];
        snprintf(c->name, sizeof c->name, "%s", f[0]);
        snprintf(c->type, sizeof c->type, "%s", f[1]);
        snprintf(c->default_kind, sizeof c->default_kind, "%s", f[2] ? f[2] : "");
        c->matched = false;
    }
    return MOOSE_OK;
}

static int ensure_table(moose__table *table, const char *database, char *errstr,
                        size_t errstr_size) {
    ch_table *ct = table->impl;
    const moose_table_desc *desc = table->desc;
    const moose_model_desc *model = table->model;
    ch_existing *cols;
    size_t ncols;
    int rc = read_columns(table, database, &cols, &ncols, errstr, errstr_size);
    if (rc)
        return rc;
    if (ncols == 0) {
        moose__tbuf ddl;
        moose__tbuf_init(&ddl);
        if (desc->ddl_clickhouse)
            adapt_ddl(ct, &ddl, desc->ddl_clickhouse);
        else
            generated_ddl(ct, &ddl, desc);
        if (ddl.failed) {
            moose__tbuf_free(&ddl);
            moose__table_errf(errstr, errstr_size, "table %s: out of memory", desc->name);
            return MOOSE_ENOMEM;
        }
        rc = ch_query(table, moose__tbuf_cstr(&ddl), errstr, errstr_size);
        moose__tbuf_free(&ddl);
        if (rc)
            return rc;
        moose__table_log(table, "info", "table %s (%s): created (server %d.%d)", desc->name,
                         table->display_url, ct->major, ct->minor);
        rc = read_columns(table, database, &cols, &ncols, errstr, errstr_size);
        if (rc)
            return rc;
        if (ncols == 0) {
            moose__table_errf(errstr, errstr_size,
                              "table %s (%s): its CREATE TABLE statement did not create a table "
                              "of that name",
                              desc->name, table->display_url);
            return MOOSE_ESCHEMA;
        }
    }
    for (uint32_t i = 0; i < model->nfields && rc == MOOSE_OK; i++) {
        const moose_field_desc *field = &model->fields[i];
        ch_column *col = &ct->columns[i];
        ch_existing *have = NULL;
        for (size_t j = 0; j < ncols; j++)
            if (strcmp(cols[j].name, field->name) == 0)
                have = &cols[j];
        char why[160];
        if (!have && (field->flags & MOOSE_FIELD_OPTIONAL)) {
            moose__tbuf *q = &ct->scratch;
            moose__tbuf_reset(q);
            moose__tbuf_puts(q, "ALTER TABLE ");
            quote_ident(q, desc->name);
            moose__tbuf_puts(q, " ADD COLUMN ");
            quote_ident(q, field->name);
            moose__tbuf_puts(q, " ");
            size_t type_at = q->len;
            field_type(ct, q, field);
            char type[512];
            snprintf(type, sizeof type, "%.*s", (int)(q->len - type_at), q->data + type_at);
            rc = ch_query(table, moose__tbuf_cstr(q), errstr, errstr_size);
            if (rc == MOOSE_OK && !column_fits(field, type, col, why, sizeof why)) {
                moose__table_errf(errstr, errstr_size, "table %s: internal type mismatch: %s",
                                  desc->name, why);
                rc = MOOSE_ESCHEMA;
            }
            if (rc == MOOSE_OK)
                moose__table_log(table, "info",
                                 "table %s (%s): added column `%s` %s for the new optional "
                                 "field %s.%s",
                                 desc->name, table->display_url, field->name, type, model->name,
                                 field->name);
        } else if (!have) {
            moose__table_errf(errstr, errstr_size,
                              "table %s (%s) has no column `%s` for the required field %s.%s: "
                              "add the column or let the table be re-created",
                              desc->name, table->display_url, field->name, model->name,
                              field->name);
            rc = MOOSE_ESCHEMA;
        } else {
            have->matched = true;
            if (have->default_kind[0] && strcmp(have->default_kind, "DEFAULT") != 0) {
                moose__table_errf(errstr, errstr_size,
                                  "table %s (%s): column `%s` is %s, so field %s.%s cannot be "
                                  "written into it",
                                  desc->name, table->display_url, have->name, have->default_kind,
                                  model->name, field->name);
                rc = MOOSE_ESCHEMA;
            } else if (!column_fits(field, have->type, col, why, sizeof why)) {
                moose__table_errf(errstr, errstr_size,
                                  "table %s (%s): column `%s` is %s, which does not fit field "
                                  "%s.%s: %s",
                                  desc->name, table->display_url, have->name, have->type,
                                  model->name, field->name, why);
                rc = MOOSE_ESCHEMA;
            }
        }
        col->key_len = 0;
        if (rc == MOOSE_OK) {
            moose__tbuf key;
            moose__tbuf_init(&key);
            moose__json_string(&key, field->name, strlen(field->name));
            moose__tbuf_put(&key, ":", 1);
            if (key.failed || key.len >= sizeof col->key) {
                moose__table_errf(errstr, errstr_size, "table %s: field name %s is too long",
                                  desc->name, field->name);
                rc = MOOSE_ESCHEMA;
            } else {
                memcpy(col->key, key.data, key.len);
                col->key_len = key.len;
            }
            moose__tbuf_free(&key);
        }
    }
    for (size_t j = 0; j < ncols && rc == MOOSE_OK; j++)
        if (!cols[j].matched && !cols[j].default_kind[0])
            moose__table_log(table, "warn",
                             "table %s (%s): column `%s` has no field in model %s: inserts "
                             "leave it at its type's default",
                             desc->name, table->display_url, cols[j].name, model->name);
    free(cols);
    return rc;
}

static void ch_close(moose__table *table) {
    ch_table *ct = table->impl;
    if (!ct)
        return;
    if (ct->curl)
        curl_easy_cleanup(ct->curl);
    curl_slist_free_all(ct->headers);
    moose__tbuf_free(&ct->body);
    moose__tbuf_free(&ct->response);
    moose__tbuf_free(&ct->scratch);
    free(ct->columns);
    free(ct);
    table->impl = NULL;
}

static int ch_open(moose__table *table, const moose__table_url *url, char *errstr,
                   size_t errstr_size) {
    pthread_once(&curl_once, curl_init_once);
    ch_table *ct = calloc(1, sizeof *ct);
    if (!ct) {
        moose__table_errf(errstr, errstr_size, "table %s: out of memory", table->desc->name);
        return MOOSE_ENOMEM;
    }
    table->impl = ct;
    moose__tbuf_init(&ct->body);
    moose__tbuf_init(&ct->response);
    moose__tbuf_init(&ct->scratch);
    ct->columns = calloc(table->model->nfields ? table->model->nfields : 1, sizeof *ct->columns);
    ct->curl = curl_easy_init();
    /* "Expect: 100-continue" would add a round trip to every insert. */
    ct->headers = curl_slist_append(NULL, "Expect:");
    if (!ct->columns || !ct->curl || !ct->headers) {
        ch_close(table);
        moose__table_errf(errstr, errstr_size, "table %s: out of memory", table->desc->name);
        return MOOSE_ENOMEM;
    }
    CURL *c = ct->curl;
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)table->options.connect_timeout_ms);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)table->options.request_timeout_ms);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, ct->headers);
    curl_easy_setopt(c, CURLOPT_UPLOAD_BUFFERSIZE, 1024L * 1024L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ct->error);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_response);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &ct->response);
    if (url->user[0]) {
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERNAME, url->user);
        curl_easy_setopt(c, CURLOPT_PASSWORD, url->password);
    }
    snprintf(ct->base_url, sizeof ct->base_url, "http://%s:%d/?database=%s", url->host, url->port,
             url->database);
    char *query = NULL;
    {
        moose__tbuf q;
        moose__tbuf_init(&q);
        moose__tbuf_puts(&q, "INSERT INTO ");
        quote_ident(&q, table->desc->name);
        moose__tbuf_puts(&q, " FORMAT JSONEachRow");
        query = q.failed ? NULL : curl_easy_escape(c, moose__tbuf_cstr(&q), (int)q.len);
        moose__tbuf_free(&q);
    }
    if (!query) {
        ch_close(table);
        moose__table_errf(errstr, errstr_size, "table %s: out of memory", table->desc->name);
        return MOOSE_ENOMEM;
    }
    snprintf(ct->insert_url, sizeof ct->insert_url, "%s&query=%s", ct->base_url, query);
    curl_free(query);

    int rc = ch_query(table, "SELECT version()", errstr, errstr_size);
    if (rc == MOOSE_OK) {
        moose__tbuf_cstr(&ct->response);
        if (sscanf(ct->response.data, "%d.%d", &ct->major, &ct->minor) != 2) {
            moose__table_errf(errstr, errstr_size,
                              "table %s (%s): the server's version() is not a version number",
                              table->desc->name, table->display_url);
            rc = MOOSE_ETABLEDOWN;
        }
    }
    if (rc == MOOSE_OK)
        rc = ensure_table(table, url->database, errstr, errstr_size);
    if (rc)
        ch_close(table);
    return rc;
}

/* ---- rows ---- */

static void write_scalar(moose__tbuf *b, const moose_field_desc *field, const ch_column *col,
                         const void *value) {
    char tmp[MOOSE__FMT_MAX];
    size_t n;
    switch (col->writer) {
    case W_STRING: {
        const moose_str *s = value;
        moose__json_string(b, s->ptr ? s->ptr : "", s->len);
        return;
    }
    case W_BOOL01:
        moose__tbuf_put(b, *(const bool *)value ? "1" : "0", 1);
        return;
    case W_INT:
        n = moose__fmt_int64(moose__field_int(field, value), tmp);
        break;
    case W_UINT64:
        n = moose__fmt_uint64(*(const uint64_t *)value, tmp);
        break;
    case W_FLOAT:
        /* ClickHouse reads nan and inf bare, where JSON has no word for them. */
        n = field->type == MOOSE_TYPE_FLOAT32 ? moose__fmt_float(*(const float *)value, tmp)
                                              : moose__fmt_double(*(const double *)value, tmp);
        break;
    case W_DATETIME: {
        int64_t us = *(const int64_t *)value;
        int64_t secs = us / 1000000 - (us % 1000000 < 0);
        n = moose__fmt_int64(secs, tmp);
        break;
    }
    case W_DATETIME64: {
        int64_t us = *(const int64_t *)value;
        int64_t secs = us / 1000000, frac = us % 1000000;
        if (frac < 0) {
            frac += 1000000;
            secs--;
        }
        n = moose__fmt_int64(secs, tmp);
        if (col->precision > 0) {
            char digits[16];
            snprintf(digits, sizeof digits, "%06lld000", (long long)frac);
            tmp[n++] = '.';
            memcpy(tmp + n, digits, (size_t)col->precision);
            n += (size_t)col->precision;
        }
        moose__json_string(b, tmp, n);
        return;
    }
    case W_DATE:
        n = moose__fmt_date(*(const int32_t *)value, tmp);
        moose__json_string(b, tmp, n);
        return;
    case W_UUID:
        n = moose__fmt_uuid(value, tmp);
        moose__json_string(b, tmp, n);
        return;
    case W_DECIMAL:
        n = moose__fmt_decimal(*(const int64_t *)value, field->decimal_scale, tmp);
        break;
    case W_ENUM: {
        int v = *(const int *)value;
        const char *name = v >= 0 && (uint32_t)v < field->enum_count ? field->enum_values[v] : "";
        moose__json_string(b, name, strlen(name));
        return;
    }
    case W_JSON_TEXT:
    default:
        return;
    }
    moose__tbuf_put(b, tmp, n);
}

static void write_row(ch_table *ct, const moose_model_desc *model, const void *rec) {
    moose__tbuf *b = &ct->body;
    moose__tbuf_put(b, "{", 1);
    for (uint32_t i = 0; i < model->nfields; i++) {
        const moose_field_desc *field = &model->fields[i];
        const ch_column *col = &ct->columns[i];
        if (i)
            moose__tbuf_put(b, ",", 1);
        moose__tbuf_put(b, col->key, col->key_len);
        bool present = moose__field_present(field, rec);
        const char *at = (const char *)rec + field->offset;
        if (col->writer == W_JSON_TEXT) {
            if (!present) {
                moose__tbuf_puts(b, col->nullable ? "null" : "\"\"");
                continue;
            }
            moose__tbuf_reset(&ct->scratch);
            moose__json_field(&ct->scratch, field, rec);
            moose__json_string(b, ct->scratch.data ? ct->scratch.data : "", ct->scratch.len);
            continue;
        }
        if (col->array) {
            moose__tbuf_put(b, "[", 1);
            if (present) {
                const MOOSE_ARRAY(char) *arr = (const void *)at;
                for (size_t j = 0; j < arr->len; j++) {
                    if (j)
                        moose__tbuf_put(b, ",", 1);
                    write_scalar(b, field, col, arr->items + j * field->elem_size);
                }
            }
            moose__tbuf_put(b, "]", 1);
            continue;
        }
        if (!present) {
            moose__tbuf_put(b, "null", 4);
            continue;
        }
        write_scalar(b, field, col, at);
    }
    moose__tbuf_put(b, "}\n", 2);
}

/* "(at row N)" in a parse error names the refused row, 1-based. */
static size_t row_named(const char *message, size_t n) {
    const char *p = strstr(message, "(at row ");
    if (!p)
        return SIZE_MAX;
    long row = strtol(p + 8, NULL, 10);
    return row >= 1 && (size_t)row <= n ? (size_t)row - 1 : SIZE_MAX;
}

/*
 * The body of an insert is written while it is sent: libcurl asks for the
 * next chunk (chunked transfer encoding) and gets the next rows, so turning
 * rows into JSON on this core overlaps with the server parsing them on
 * another, and a batch never needs its whole body in memory.
 */
typedef struct ch_stream {
    ch_table *ct;
    const moose_model_desc *model;
    const void *const *recs;
    size_t n, next; /* rows written so far */
    size_t sent;    /* bytes of ct->body already handed to libcurl */
} ch_stream;

static size_t ch_read_rows(char *dest, size_t size, size_t nitems, void *opaque) {
    ch_stream *st = opaque;
    moose__tbuf *body = &st->ct->body;
    size_t room = size * nitems;
    if (st->sent == body->len) {
        moose__tbuf_reset(body);
        st->sent = 0;
    }
    while (body->len - st->sent < room && st->next < st->n)
        write_row(st->ct, st->model, st->recs[st->next++]);
    if (body->failed)
        return CURL_READFUNC_ABORT;
    size_t give = body->len - st->sent < room ? body->len - st->sent : room;
    memcpy(dest, body->data + st->sent, give);
    st->sent += give;
    return give;
}

/*
 * libcurl rewinds the body when it must send it again: a keep-alive
 * connection the server closed while idle is only found out on reuse.
 */
static int ch_seek_rows(void *opaque, curl_off_t offset, int origin) {
    ch_stream *st = opaque;
    if (offset != 0 || origin != SEEK_SET)
        return CURL_SEEKFUNC_CANTSEEK;
    moose__tbuf_reset(&st->ct->body);
    st->next = 0;
    st->sent = 0;
    return CURL_SEEKFUNC_OK;
}

static int ch_insert(moose__table *table, const void *const *recs, size_t n, size_t base,
                     moose__table_rejects *rejects, size_t *bad_row, char *errstr,
                     size_t errstr_size) {
    (void)base;
    (void)rejects;
    ch_table *ct = table->impl;
    *bad_row = SIZE_MAX;
    moose__tbuf_reset(&ct->body);
    ch_stream st = {.ct = ct, .model = table->model, .recs = recs, .n = n};
    CURL *c = ct->curl;
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, NULL);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)-1);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, ch_read_rows);
    curl_easy_setopt(c, CURLOPT_READDATA, &st);
    curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, ch_seek_rows);
    curl_easy_setopt(c, CURLOPT_SEEKDATA, &st);
    int rc = ch_post(table, ct->insert_url, NULL, 0, errstr, errstr_size);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, NULL);
    curl_easy_setopt(c, CURLOPT_READDATA, NULL);
    curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, NULL);
    curl_easy_setopt(c, CURLOPT_SEEKDATA, NULL);
    if (ct->body.failed) {
        moose__table_errf(errstr, errstr_size, "table %s: out of memory", table->desc->name);
        return MOOSE_ENOMEM;
    }
    if (rc == MOOSE_ETABLE)
        *bad_row = row_named(errstr, n);
    return rc;
}

const moose__table_backend moose__clickhouse_backend = {
    .kind = "clickhouse",
    .open = ch_open,
    .insert = ch_insert,
    .close = ch_close,
};
