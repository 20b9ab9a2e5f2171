/*
 * Dead letter queue envelopes: JSON through jansson (a cold path: bad
 * records only), produced to `<topic>.dlq`, read back without a group, and
 * replayed onto the original topic with progress kept in a group.
 */
#include "dlq.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "civil_date.h"
#include "kafka_internal.h"
#include "log.h"

static const char *const type_names[] = {"ValidationError", "TransformError", "DeliveryError",
                                         "TableError"};
static const char *const source_names[] = {"write", "transform", "table"};

const char *moose__dlq_error_type_name(moose__dlq_error_type type) {
    return (unsigned)type < 4 ? type_names[type] : "UnknownError";
}

const char *moose__dlq_source_name(moose__dlq_source source) {
    return (unsigned)source < 3 ? source_names[source] : "unknown";
}

int moose__dlq_error_type_parse(const char *name, moose__dlq_error_type *out) {
    for (int i = 0; name && i < 4; i++) {
        if (strcmp(name, type_names[i]) == 0) {
            *out = (moose__dlq_error_type)i;
            return 0;
        }
    }
    return -1;
}

int moose__dlq_source_parse(const char *name, moose__dlq_source *out) {
    for (int i = 0; name && i < 3; i++) {
        if (strcmp(name, source_names[i]) == 0) {
            *out = (moose__dlq_source)i;
            return 0;
        }
    }
    return -1;
}

/* ---- bytes <-> JSON ---- */

/* Strict UTF-8 (no overlongs, no surrogates, no NUL: jansson strings are C strings). */
static bool utf8_valid(const unsigned char *s, size_t len) {
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        if (c == 0)
            return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        uint32_t cp;
        if ((c & 0xe0) == 0xc0) {
            n = 1;
            cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2;
            cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (len - i <= n)
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += n + 1;
    }
    return true;
}

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *base64_encode(const unsigned char *in, size_t len) {
    char *out = malloc(4 * ((len + 2) / 3) + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < len)
            v |= in[i + 2];
        out[o++] = b64chars[(v >> 18) & 63];
        out[o++] = b64chars[(v >> 12) & 63];
        out[o++] = i + 1 < len ? b64chars[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < len ? b64chars[v & 63] : '=';
    }
    out[o] = '\0';
    return out;
}

static int b64val(char c) {
    const char *p = c ? strchr(b64chars, c) : NULL;
    return p ? (int)(p - b64chars) : -1;
}

/* NULL on bad input; *LEN gets the decoded size; the result is NUL-terminated. */
static char *base64_decode(const char *in, size_t *len) {
    size_t n = strlen(in);
    if (n % 4 != 0)
        return NULL;
    char *out = malloc(n / 4 * 3 + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        int a = b64val(in[i]), b = b64val(in[i + 1]);
        int c = in[i + 2] == '=' ? 0 : b64val(in[i + 2]);
        int d = in[i + 3] == '=' ? 0 : b64val(in[i + 3]);
        bool pad_ok = in[i + 2] != '=' || in[i + 3] == '=';
        if (a < 0 || b < 0 || c < 0 || d < 0 || !pad_ok || (in[i + 2] == '=' && i + 4 != n) ||
            (in[i + 3] == '=' && i + 4 != n)) {
            free(out);
            return NULL;
        }
        uint32_t v = ((uint32_t)a << 18) | ((uint32_t)b << 12) | ((uint32_t)c << 6) | (uint32_t)d;
        out[o++] = (char)(v >> 16);
        if (in[i + 2] != '=')
            out[o++] = (char)(v >> 8);
        if (in[i + 3] != '=')
            out[o++] = (char)v;
    }
    out[o] = '\0';
    *len = o;
    return out;
}

/* Puts BYTES under NAME as a string when they are UTF-8, else under NAME_base64. */
static int set_bytes(json_t *obj, const char *name, const void *bytes, size_t len) {
    char key[64];
    if (utf8_valid(bytes, len))
        return json_object_set_new(obj, name, json_stringn(bytes, len));
    char *b64 = base64_encode(bytes, len);
    if (!b64)
        return -1;
    snprintf(key, sizeof(key), "%s_base64", name);
    int rc = json_object_set_new(obj, key, json_string(b64));
    free(b64);
    return rc;
}

static void format_time(int64_t ms, char *out, size_t out_size) {
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char base[32];
    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, out_size, "%s.%03dZ", base, (int)(ms % 1000));
}

static int parse_time(const char *s, int64_t *ms) {
    int y, mo, d, h, mi, sec, milli = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &y, &mo, &d, &h, &mi, &sec, &milli) < 6)
        return -1;
    *ms =
        (moose__days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec) *
            1000 +
        milli;
    return 0;
}

static int64_t wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int moose__dlq_encode(const moose__dlq_entry *e, moose_buf *out) {
    if (!e || !out || (!e->original && e->original_len))
        return MOOSE_EINVAL;
    json_t *o = json_object();
    json_t *errs = json_array();
    if (!o || !errs) {
        json_decref(o);
        json_decref(errs);
        return MOOSE_ENOMEM;
    }
    char stamp[40];
    format_time(e->time_ms ? e->time_ms : wall_ms(), stamp, sizeof(stamp));
    int bad = 0;
    bad |= json_object_set_new(o, "error_type", json_string(moose__dlq_error_type_name(e->type)));
    bad |= json_object_set_new(o, "source", json_string(moose__dlq_source_name(e->source)));
    bad |= json_object_set_new(o, "message", json_string(e->message ? e->message : ""));
    for (size_t i = 0; e->errors && i < e->errors->len; i++) {
        const moose_field_error *fe = &e->errors->items[i];
        json_t *item = json_pack("{s:s, s:s, s:s}", "path", fe->path, "rule",
                                 fe->rule ? fe->rule : "", "message", fe->message);
        bad |= item ? json_array_append_new(errs, item) : -1;
    }
    bad |= json_object_set_new(o, "errors", errs);
    if (e->errors && e->errors->dropped)
        bad |=
            json_object_set_new(o, "errors_dropped", json_integer((json_int_t)e->errors->dropped));
    bad |= json_object_set_new(o, "topic", json_string(e->topic ? e->topic : ""));
    bad |= json_object_set_new(o, "partition", json_integer(e->partition));
    bad |= json_object_set_new(o, "offset", json_integer(e->offset));
    bad |= json_object_set_new(o, "time", json_string(stamp));
    bad |=
        json_object_set_new(o, "transform", e->transform ? json_string(e->transform) : json_null());
    if (e->key)
        bad |= set_bytes(o, "key", e->key, e->key_len);
    else
        bad |= json_object_set_new(o, "key", json_null());
    bad |= set_bytes(o, "original", e->original ? e->original : "", e->original_len);
    if (bad) {
        json_decref(o);
        return MOOSE_ENOMEM;
    }
    char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!text)
        return MOOSE_ENOMEM;
    moose_buf_append(out, text, strlen(text));
    free(text);
    return out->failed ? MOOSE_ENOMEM : 0;
}

void moose__dlq_record_free(moose__dlq_record *r) {
    if (!r)
        return;
    free(r->message);
    for (size_t i = 0; i < r->nerrors; i++)
        free((char *)r->errors[i].rule);
    free(r->errors);
    free(r->topic);
    free(r->transform);
    free(r->key);
    free(r->original);
    memset(r, 0, sizeof(*r));
}

/* Reads NAME (a string) or NAME_base64 into a malloc'ed, NUL-terminated copy. */
static int get_bytes(json_t *o, const char *name, char **out, size_t *len, bool required,
                     char *errstr, size_t errstr_size) {
    json_t *v = json_object_get(o, name);
    char key[64];
    snprintf(key, sizeof(key), "%s_base64", name);
    json_t *b = json_object_get(o, key);
    *out = NULL;
    *len = 0;
    if (json_is_string(v)) {
        *len = json_string_length(v);
        if (!(*out = malloc(*len + 1)))
            return MOOSE_ENOMEM;
        memcpy(*out, json_string_value(v), *len);
        (*out)[*len] = '\0';
        return 0;
    }
    if (json_is_string(b)) {
        if (!(*out = base64_decode(json_string_value(b), len))) {
            snprintf(errstr, errstr_size, "DLQ envelope: '%s' is not valid base64", key);
            return MOOSE_EDECODE;
        }
        return 0;
    }
    if (required) {
        snprintf(errstr, errstr_size, "DLQ envelope: '%s' (or '%s') is missing", name, key);
        return MOOSE_EDECODE;
    }
    return 0;
}

int moose__dlq_decode(const void *json, size_t len, moose__dlq_record *r, char *errstr,
                      size_t errstr_size) {
    memset(r, 0, sizeof(*r));
    r->dlq_partition = -1;
    r->dlq_offset = -1;
    json_error_t jerr;
    json_t *o = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!o || !json_is_object(o)) {
        snprintf(errstr, errstr_size, "DLQ envelope is not a JSON object: %s",
                 o ? "another JSON value" : jerr.text);
        json_decref(o);
        return MOOSE_EDECODE;
    }
    int rc = MOOSE_EDECODE;
    const char *type = json_string_value(json_object_get(o, "error_type"));
    const char *source = json_string_value(json_object_get(o, "source"));
    if (moose__dlq_error_type_parse(type, &r->type) != 0) {
        snprintf(errstr, errstr_size, "DLQ envelope: unknown error_type '%s'", type ? type : "");
        goto out;
    }
    if (moose__dlq_source_parse(source, &r->source) != 0) {
        snprintf(errstr, errstr_size, "DLQ envelope: unknown source '%s'", source ? source : "");
        goto out;
    }
    const char *msg = json_string_value(json_object_get(o, "message"));
    const char *topic = json_string_value(json_object_get(o, "topic"));
    const char *transform = json_string_value(json_object_get(o, "transform"));
    const char *stamp = json_string_value(json_object_get(o, "time"));
    r->partition = (int32_t)json_integer_value(json_object_get(o, "partition"));
    r->offset = json_integer_value(json_object_get(o, "offset"));
    if (!json_is_integer(json_object_get(o, "partition")) ||
        !json_is_integer(json_object_get(o, "offset"))) {
        snprintf(errstr, errstr_size, "DLQ envelope: partition and offset must be integers");
        goto out;
    }
    if (!topic) {
        snprintf(errstr, errstr_size, "DLQ envelope: 'topic' is missing");
        goto out;
    }
    if (!stamp || parse_time(stamp, &r->time_ms) != 0) {
        snprintf(errstr, errstr_size, "DLQ envelope: 'time' is missing or not RFC 3339");
        goto out;
    }
    rc = MOOSE_ENOMEM;
    if (!(r->message = strdup(msg ? msg : "")) || !(r->topic = strdup(topic)) ||
        (transform && !(r->transform = strdup(transform))))
        goto out;
    json_t *errs = json_object_get(o, "errors");
    size_t n = json_is_array(errs) ? json_array_size(errs) : 0;
    if (n && !(r->errors = calloc(n, sizeof(*r->errors))))
        goto out;
    for (size_t i = 0; i < n; i++) {
        json_t *item = json_array_get(errs, i);
        const char *path = json_string_value(json_object_get(item, "path"));
        const char *rule = json_string_value(json_object_get(item, "rule"));
        const char *emsg = json_string_value(json_object_get(item, "message"));
        moose_field_error *fe = &r->errors[r->nerrors];
        snprintf(fe->path, sizeof(fe->path), "%s", path ? path : "");
        snprintf(fe->message, sizeof(fe->message), "%s", emsg ? emsg : "");
        fe->offset = -1;
        if (!(fe->rule = strdup(rule ? rule : "")))
            goto out;
        r->nerrors++;
    }
    if ((rc = get_bytes(o, "key", &r->key, &r->key_len, false, errstr, errstr_size)) ||
        (rc = get_bytes(o, "original", &r->original, &r->original_len, true, errstr, errstr_size)))
        goto out;
    rc = 0;
out:
    if (rc == MOOSE_ENOMEM)
        snprintf(errstr, errstr_size, "out of memory decoding a DLQ envelope");
    if (rc)
        moose__dlq_record_free(r);
    json_decref(o);
    return rc;
}

/* ---- to and from Kafka ---- */

int moose__dlq_send(moose__producer *p, const moose__dlq_entry *e, bool sync, moose__delivery_cb cb,
                    void *opaque, char *errstr, size_t errstr_size) {
    char topic[512];
    if (!e->topic || !moose__dlq_topic_name(e->topic, topic, sizeof(topic))) {
        snprintf(errstr, errstr_size, "DLQ entry without a usable topic name");
        return MOOSE_EINVAL;
    }
    moose_buf buf;
    moose_buf_init(&buf);
    int rc = moose__dlq_encode(e, &buf);
    if (rc) {
        snprintf(errstr, errstr_size, "cannot encode a DLQ entry for topic '%s': %s", e->topic,
                 moose_strerror(rc));
    } else if (sync) {
        rc = moose__producer_send_sync(p, topic, e->key, e->key_len, buf.data, buf.len, NULL, NULL,
                                       errstr, errstr_size);
    } else {
        rc = moose__producer_send(p, topic, -1, e->key, e->key_len, buf.data, buf.len, cb, opaque);
        if (rc)
            snprintf(errstr, errstr_size, "cannot queue a DLQ entry to '%s': %s", topic,
                     moose_strerror(rc));
    }
    moose_buf_free(&buf);
    return rc;
}

/* A plain consumer (no group joins, nothing committed) for reading a topic's current contents. */
static rd_kafka_t *reader_new(moose__kafka *k, char *errstr, size_t errstr_size) {
    rd_kafka_conf_t *conf = moose__kafka_conf(k, errstr, errstr_size);
    if (!conf)
        return NULL;
    char why[512];
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", why, sizeof(why));
    rd_kafka_conf_set(conf, "enable.partition.eof", "true", why, sizeof(why));
    /* A group id is required by the consumer; it is never joined because we assign(). */
    rd_kafka_conf_set(conf, "group.id", "moose.dlq.reader", why, sizeof(why));
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof(why));
    if (!rk) {
        snprintf(errstr, errstr_size, "cannot create a DLQ reader: %s", why);
        rd_kafka_conf_destroy(conf);
    }
    return rk;
}

int64_t moose__dlq_read(moose__kafka *k, const char *topic, moose__dlq_read_cb cb, void *opaque,
                        size_t *unreadable, char *errstr, size_t errstr_size) {
    if (unreadable)
        *unreadable = 0;
    char dlq[512];
    if (!moose__dlq_topic_name(topic, dlq, sizeof(dlq))) {
        snprintf(errstr, errstr_size, "topic name '%s' is too long", topic);
        return MOOSE_EINVAL;
    }
    int nparts = moose__kafka_partition_count(k, dlq, errstr, errstr_size);
    if (nparts < 0)
        return nparts;
    rd_kafka_t *rk = reader_new(k, errstr, errstr_size);
    if (!rk)
        return MOOSE_ETRANSPORT;
    int64_t delivered = 0;
    int rc = 0;
    int64_t *lows = malloc((size_t)nparts * sizeof *lows);
    int64_t *highs = malloc((size_t)nparts * sizeof *highs);
    rd_kafka_resp_err_t err =
        lows && highs ? moose__kafka_watermarks(rk, dlq, nparts, lows, highs, 10000)
                      : RD_KAFKA_RESP_ERR__FAIL;
    if (err) {
        snprintf(errstr, errstr_size, "cannot read the ends of %s: %s", dlq,
                 lows && highs ? rd_kafka_err2str(err) : "out of memory");
        rc = lows && highs ? MOOSE_ETRANSPORT : MOOSE_ENOMEM;
    }
    for (int32_t p = 0; p < nparts && rc == 0; p++) {
        int64_t low = lows[p], high = highs[p];
        if (low < 0 || high < 0) {
            snprintf(errstr, errstr_size, "cannot read the ends of %s partition %d", dlq, p);
            rc = MOOSE_ETRANSPORT;
            break;
        }
        if (low > 0 && moose__kafka_embedded(k))
            MOOSE__LOG_WARN("dlq",
                            "the embedded broker dropped the oldest DLQ entries "
                            "topic=%s partition=%d first_offset=%" PRId64,
                            dlq, (int)p, low);
        if (high <= low)
            continue;
        rd_kafka_topic_partition_list_t *assign = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(assign, dlq, p)->offset = low;
        rd_kafka_assign(rk, assign);
        rd_kafka_topic_partition_list_destroy(assign);
        int64_t next = low;
        int idle = 0;
        while (next < high && rc == 0) {
            rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 500);
            if (!m) {
                if (++idle > 20) {
                    snprintf(errstr, errstr_size,
                             "reading %s partition %d stalled at offset %" PRId64, dlq, p, next);
                    rc = MOOSE_ETIMEDOUT;
                }
                continue;
            }
            idle = 0;
            if (m->err) {
                if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                    snprintf(errstr, errstr_size, "reading %s partition %d: %s", dlq, p,
                             rd_kafka_message_errstr(m));
                    rc = MOOSE_ETRANSPORT;
                } else {
                    next = high;
                }
                rd_kafka_message_destroy(m);
                continue;
            }
            next = m->offset + 1;
            moose__dlq_record rec;
            char why[512];
            if (moose__dlq_decode(m->payload, m->len, &rec, why, sizeof(why)) != 0) {
                moose__log(MOOSE__LOG_WARN, "dlq", "unreadable",
                           "skipping an unreadable DLQ entry topic=%s partition=%d offset=%" PRId64
                           ": %s",
                           dlq, (int)p, m->offset, why);
                if (unreadable)
                    (*unreadable)++;
            } else {
                rec.dlq_partition = p;
                rec.dlq_offset = m->offset;
                delivered++;
                if (cb && cb(&rec, opaque) != 0)
                    rc = 1;
                moose__dlq_record_free(&rec);
            }
            rd_kafka_message_destroy(m);
        }
        rd_kafka_assign(rk, NULL);
    }
    free(lows);
    free(highs);
    rd_kafka_destroy(rk);
    if (rc < 0)
        return rc;
    return delivered;
}

/*
 * Entries of DLQ not yet replayed by GROUP, asked without joining the group
 * (a join costs seconds): a replay with nothing new returns at once. -1 when
 * it cannot tell (then the replay joins and finds out).
 */
static int64_t unreplayed(moose__kafka *k, const char *group, const char *dlq, int32_t nparts,
                          const int64_t *high) {
    char err[512];
    rd_kafka_conf_t *conf = moose__kafka_consumer_conf(k, group, err, sizeof(err));
    rd_kafka_t *rk = conf ? rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err)) : NULL;
    if (!rk) {
        if (conf)
            rd_kafka_conf_destroy(conf);
        return -1;
    }
    rd_kafka_topic_partition_list_t *pos = rd_kafka_topic_partition_list_new(nparts);
    for (int32_t i = 0; i < nparts; i++)
        rd_kafka_topic_partition_list_add(pos, dlq, i);
    int64_t left = -1;
    if (rd_kafka_committed(rk, pos, k->admin_timeout_ms) == 0) {
        left = 0;
        for (int32_t i = 0; i < nparts; i++) {
            int64_t at = pos->elems[i].offset > 0 ? pos->elems[i].offset : 0;
            if (at < high[i])
                left += high[i] - at;
        }
    }
    rd_kafka_topic_partition_list_destroy(pos);
    rd_kafka_destroy(rk);
    return left;
}

int64_t moose__dlq_replay(moose__kafka *k, moose__producer *p, const char *topic, char *errstr,
                          size_t errstr_size) {
    char dlq[512], group[560];
    if (!moose__dlq_topic_name(topic, dlq, sizeof(dlq))) {
        snprintf(errstr, errstr_size, "topic name '%s' is too long", topic);
        return MOOSE_EINVAL;
    }
    snprintf(group, sizeof(group), "%s.replay", dlq);
    int nparts = moose__kafka_partition_count(k, dlq, errstr, errstr_size);
    if (nparts < 0)
        return nparts;
    /* Replay stops at the end as of now: entries that fail again and land in the DLQ wait for the
     * next replay. */
    int64_t *high = calloc((size_t)nparts, sizeof(int64_t));
    int64_t *next = calloc((size_t)nparts, sizeof(int64_t));
    if (!high || !next) {
        free(high);
        free(next);
        snprintf(errstr, errstr_size, "out of memory replaying %s", dlq);
        return MOOSE_ENOMEM;
    }
    rd_kafka_t *admin = moose__kafka_admin_handle(k, errstr, errstr_size);
    int64_t pending = 0;
    int64_t replayed = 0;
    int rc = 0;
    if (!admin) {
        rc = MOOSE_ETRANSPORT;
        goto out;
    }
    int64_t *low = malloc((size_t)nparts * sizeof *low);
    bool have_low = low != NULL;
    rd_kafka_resp_err_t err = have_low
                                  ? moose__kafka_watermarks(admin, dlq, nparts, low, high, 10000)
                                  : RD_KAFKA_RESP_ERR__FAIL;
    for (int32_t i = 0; !err && i < nparts; i++)
        pending += high[i] >= 0 && low[i] >= 0 ? high[i] - low[i] : 0;
    free(low);
    if (err) {
        snprintf(errstr, errstr_size, "cannot read the ends of %s: %s", dlq,
                 have_low ? rd_kafka_err2str(err) : "out of memory");
        rc = have_low ? MOOSE_ETRANSPORT : MOOSE_ENOMEM;
        goto out;
    }
    if (pending == 0 || (pending = unreplayed(k, group, dlq, nparts, high)) == 0)
        goto out;
    const char *topics[] = {dlq};
    moose__consumer_opts co = {.group = group, .topics = topics, .ntopics = 1, .name = "replay"};
    moose__consumer *c = moose__consumer_new(k, &co, errstr, errstr_size);
    if (!c) {
        rc = MOOSE_ETRANSPORT;
        goto out;
    }
    /* Where the group stands now: a partition replayed before starts past its old entries. */
    rd_kafka_topic_partition_list_t *pos = rd_kafka_topic_partition_list_new(nparts);
    for (int32_t i = 0; i < nparts; i++)
        rd_kafka_topic_partition_list_add(pos, dlq, i);
    if (rd_kafka_committed(moose__consumer_handle(c), pos, k->admin_timeout_ms) == 0)
        for (int32_t i = 0; i < nparts; i++)
            next[i] = pos->elems[i].offset > 0 ? pos->elems[i].offset : 0;
    rd_kafka_topic_partition_list_destroy(pos);

    /* Up to each partition's end as of the start: entries that fail again wait for the next replay.
     */
    int64_t deadline = moose__kafka_now_ms() + 30000;
    for (;;) {
        bool done = true;
        for (int32_t i = 0; i < nparts; i++)
            if (next[i] < high[i])
                done = false;
        if (done || rc)
            break;
        rd_kafka_message_t *m = NULL;
        int prc = moose__consumer_poll(c, 200, &m);
        if (!m) {
            if (prc != MOOSE_ETIMEDOUT) {
                snprintf(errstr, errstr_size, "reading %s failed: %s", dlq, moose_strerror(prc));
                rc = prc;
            } else if (moose__kafka_now_ms() > deadline) {
                snprintf(errstr, errstr_size, "replaying %s made no progress for 30 s", dlq);
                rc = MOOSE_ETIMEDOUT;
            }
            continue;
        }
        deadline = moose__kafka_now_ms() + 30000;
        if (m->offset >= high[m->partition]) {
            rd_kafka_message_destroy(m); /* added after the replay started */
            continue;
        }
        moose__dlq_record rec;
        char why[512];
        if (moose__dlq_decode(m->payload, m->len, &rec, why, sizeof(why)) != 0) {
            moose__log(MOOSE__LOG_WARN, "dlq", "unreadable",
                       "not replaying an unreadable DLQ entry topic=%s partition=%d "
                       "offset=%" PRId64 ": %s",
                       dlq, (int)m->partition, m->offset, why);
        } else {
            rc = moose__producer_send_sync(p, rec.topic, rec.key, rec.key_len, rec.original,
                                           rec.original_len, NULL, NULL, errstr, errstr_size);
            if (rc == 0)
                replayed++;
            moose__dlq_record_free(&rec);
        }
        /* Committed only once the original is acknowledged back on its topic. */
        if (rc == 0 && (rc = moose__consumer_commit(c, dlq, m->partition, m->offset + 1, true)))
            snprintf(errstr, errstr_size, "cannot record replay progress on %s: %s", dlq,
                     moose_strerror(rc));
        next[m->partition] = m->offset + 1;
        rd_kafka_message_destroy(m);
    }
    moose__consumer_close(c);
out:
    free(high);
    free(next);
    if (rc)
        return rc;
    MOOSE__LOG_INFO("dlq", "replayed DLQ entries topic=%s count=%" PRId64, dlq, replayed);
    return replayed;
}
