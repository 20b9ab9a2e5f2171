/* Resolving where Kafka is (embedded or a bootstrap list) and which properties every client gets.
 */
/* realpath() is an XSI function. */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kafka_internal.h"
#include "log.h"

int64_t moose__kafka_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void moose__kafka_sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

int moose__kafka_map_error(rd_kafka_resp_err_t err) {
    switch (err) {
    case RD_KAFKA_RESP_ERR_NO_ERROR:
        return 0;
    case RD_KAFKA_RESP_ERR__QUEUE_FULL:
        return MOOSE_EQUEUEFULL;
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
        return MOOSE_ETIMEDOUT;
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
        return MOOSE_ETOOBIG;
    case RD_KAFKA_RESP_ERR__DESTROY:
    case RD_KAFKA_RESP_ERR__FATAL:
        return MOOSE_ECLOSED;
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
        return MOOSE_EDELIVERY;
    case RD_KAFKA_RESP_ERR__NO_OFFSET:
    case RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE:
    case RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET:
        return MOOSE_EGAP;
    default:
        return MOOSE_ETRANSPORT;
    }
}

typedef struct moose_setting {
    const char *name;
    size_t field; /* offsetof into moose__kafka */
    bool is_int;  /* int rather than int64_t */
    int64_t min;
} moose_setting;

static const moose_setting moose_settings[] = {
    {"moose.backpressure.max.bytes", offsetof(moose__kafka, bp_max_bytes), false, 1024},
    {"moose.backpressure.max.records", offsetof(moose__kafka, bp_max_records), false, 1},
    {"moose.backpressure.timeout.ms", offsetof(moose__kafka, bp_timeout_ms), false, 0},
    {"moose.admin.timeout.ms", offsetof(moose__kafka, admin_timeout_ms), true, 1},
    {"moose.send.timeout.ms", offsetof(moose__kafka, send_timeout_ms), true, 1},
};

static int set_moose_property(moose__kafka *k, const char *name, const char *value, char *errstr,
                              size_t errstr_size) {
    for (size_t i = 0; i < sizeof(moose_settings) / sizeof(moose_settings[0]); i++) {
        const moose_setting *s = &moose_settings[i];
        if (strcmp(s->name, name) != 0)
            continue;
        char *end;
        errno = 0;
        long long v = strtoll(value, &end, 10);
        if (errno || end == value || *end != '\0' || v < s->min || (s->is_int && v > INT32_MAX)) {
            snprintf(errstr, errstr_size,
                     "bad property '%s=%s': expected an integer of at least %" PRId64, name, value,
                     s->min);
            return MOOSE_EINVAL;
        }
        char *base = (char *)k + s->field;
        if (s->is_int)
            *(int *)base = (int)v;
        else
            *(int64_t *)base = v;
        return 0;
    }
    snprintf(errstr, errstr_size,
             "bad property '%s=%s': unknown moose setting (known: moose.backpressure.max.bytes, "
             "moose.backpressure.max.records, moose.backpressure.timeout.ms, "
             "moose.admin.timeout.ms, moose.send.timeout.ms)",
             name, value);
    return MOOSE_EINVAL;
}

/* Splits "key=value" into a copy of the key and a pointer to the value in PROP. */
static int split_property(const char *prop, char *key, size_t key_size, const char **value,
                          char *errstr, size_t errstr_size) {
    const char *eq = strchr(prop, '=');
    if (!eq || eq == prop) {
        snprintf(errstr, errstr_size, "bad property '%s': expected key=value", prop);
        return MOOSE_EINVAL;
    }
    size_t n = (size_t)(eq - prop);
    if (n >= key_size) {
        snprintf(errstr, errstr_size, "bad property '%s': the key is too long", prop);
        return MOOSE_EINVAL;
    }
    memcpy(key, prop, n);
    key[n] = '\0';
    *value = eq + 1;
    return 0;
}

/* Properties moose__kafka_conf sets itself: a user's -X must not silently undo them. */
static const char *const reserved_props[] = {"bootstrap.servers",
                                             "enable.auto.commit",
                                             "enable.auto.offset.store",
                                             "enable.idempotence",
                                             "acks",
                                             NULL};

static int take_properties(moose__kafka *k, const char *const *props, char *errstr,
                           size_t errstr_size) {
    size_t n = 0;
    while (props && props[n])
        n++;
    k->props = calloc(n + 1, sizeof(char *));
    if (!k->props) {
        snprintf(errstr, errstr_size, "out of memory reading Kafka properties");
        return MOOSE_ENOMEM;
    }
    /* A scratch configuration lets librdkafka judge each property at start-up. */
    rd_kafka_conf_t *scratch = rd_kafka_conf_new();
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char key[256];
        const char *value;
        if ((rc = split_property(props[i], key, sizeof(key), &value, errstr, errstr_size)))
            break;
        if (strncmp(key, "moose.", 6) == 0) {
            rc = set_moose_property(k, key, value, errstr, errstr_size);
            continue;
        }
        for (const char *const *r = reserved_props; *r; r++) {
            if (strcmp(*r, key) == 0) {
                snprintf(errstr, errstr_size,
                         "bad property '%s': libmoose sets %s itself (use --brokers for the "
                         "bootstrap list)",
                         props[i], key);
                rc = MOOSE_EINVAL;
            }
        }
        if (rc)
            break;
        char why[512];
        if (rd_kafka_conf_set(scratch, key, value, why, sizeof(why)) != RD_KAFKA_CONF_OK) {
            snprintf(errstr, errstr_size, "bad Kafka property '%s': %s", props[i], why);
            rc = MOOSE_EINVAL;
            break;
        }
        if (!(k->props[k->nprops++] = strdup(props[i]))) {
            snprintf(errstr, errstr_size, "out of memory reading Kafka properties");
            rc = MOOSE_ENOMEM;
        }
    }
    rd_kafka_conf_destroy(scratch);
    return rc;
}

static bool is_embedded_name(const char *brokers) {
    return !brokers || !*brokers || strcmp(brokers, "embedded") == 0;
}

int moose__kafka_open(const moose__kafka_opts *opts, moose__kafka **out, char *errstr,
                      size_t errstr_size) {
    *out = NULL;
    moose__kafka *k = calloc(1, sizeof(*k));
    if (!k) {
        snprintf(errstr, errstr_size, "out of memory opening the Kafka connection");
        return MOOSE_ENOMEM;
    }
    pthread_mutex_init(&k->lock, NULL);
    pthread_mutex_init(&k->topics_lock, NULL);
    pthread_mutex_init(&k->health_lock, NULL);
    pthread_mutex_init(&k->commit_listeners_lock, NULL);
    k->bp_max_bytes = 2 * 1024 * 1024;
    k->bp_max_records = 40000;
    k->bp_timeout_ms = 0;
    k->admin_timeout_ms = 10000;
    k->send_timeout_ms = 30000;
    /*
     * A record's Key travels twice (as the message key and inside the value),
     * plus record and batch headers: librdkafka's 1,000,000-byte default would
     * refuse records the app's own limit accepts.
     */
    size_t record_limit = opts->max_record_bytes ? opts->max_record_bytes : 1024 * 1024;
    k->max_message_bytes = (int64_t)record_limit * 2 + 4096;
    if (k->max_message_bytes > 1000000000)
        k->max_message_bytes = 1000000000; /* librdkafka's ceiling */
    /* Absolute, so messages say which directory was searched. */
    k->dir = realpath(opts->dir ? opts->dir : ".", NULL);
    if (!k->dir)
        k->dir = strdup(opts->dir ? opts->dir : ".");
    k->prog = strdup(opts->prog ? opts->prog : "APP");
    int rc = 0;
    if (!k->dir || !k->prog) {
        snprintf(errstr, errstr_size, "out of memory opening the Kafka connection");
        rc = MOOSE_ENOMEM;
        goto fail;
    }
    if ((rc = take_properties(k, opts->props, errstr, errstr_size)))
        goto fail;

    if (!is_embedded_name(opts->brokers)) {
        if (!(k->bootstrap = strdup(opts->brokers))) {
            rc = MOOSE_ENOMEM;
            snprintf(errstr, errstr_size, "out of memory opening the Kafka connection");
            goto fail;
        }
        *out = k;
        return 0;
    }

    k->embedded = true;
    for (int attempt = 0; attempt < 3; attempt++) {
        long pid = 0;
        char *control = NULL;
        rc = moose__embedded_find(k->dir, &k->bootstrap, &control, &pid);
        if (rc == 0) {
            if (opts->embedded == MOOSE__EMBEDDED_START) {
                snprintf(errstr, errstr_size,
                         "an embedded broker is already running in %s (pid %ld, %s): stop it "
                         "first, or use it",
                         k->dir, pid, k->bootstrap);
                free(control);
                rc = MOOSE_EINVAL;
                goto fail;
            }
            k->remote_control = control;
            MOOSE__LOG_DEBUG("kafka", "using the embedded broker of pid %ld bootstrap=%s", pid,
                             k->bootstrap);
            *out = k;
            return 0;
        }
        if (rc == MOOSE_ETRANSPORT) {
            snprintf(errstr, errstr_size,
                     "the embedded broker in %s (pid %ld) does not answer at %s; if pid %ld is no "
                     "longer `%s broker` or `%s run`, remove %s/%s",
                     k->dir, pid, k->bootstrap, pid, k->prog, k->prog, k->dir, MOOSE__BROKER_FILE);
            rc = MOOSE_ENOBROKER;
            goto fail;
        }
        if (rc != MOOSE_ENOTFOUND) {
            snprintf(errstr, errstr_size, "cannot read %s/%s: %s", k->dir, MOOSE__BROKER_FILE,
                     moose_strerror(rc));
            goto fail;
        }
        if (opts->embedded == MOOSE__EMBEDDED_FIND) {
            snprintf(errstr, errstr_size,
                     "no embedded broker is running in %s: start one with `%s broker` or `%s run`",
                     k->dir, k->prog, k->prog);
            rc = MOOSE_ENOBROKER;
            goto fail;
        }
        rc = moose__embedded_start(k, k->dir, &k->owned, errstr, errstr_size);
        if (rc == 0) { /* it set k->bootstrap before anyone could ask for it */
            *out = k;
            return 0;
        }
        if (rc != MOOSE_ECLOSED)
            goto fail;
        /* Another process published its broker between our look and our start: use it. */
    }
    snprintf(errstr, errstr_size, "could not start or find an embedded broker in %s", k->dir);
    rc = MOOSE_ETRANSPORT;
fail:
    moose__kafka_close(k);
    return rc;
}

void moose__kafka_close(moose__kafka *k) {
    if (!k)
        return;
    /* The transport closes last in an app: a flood's unreported tail is owed its line now. */
    moose__log_flush_suppressed();
    /* From here on, brokers going away is the app's own doing. */
    atomic_store(&k->closing, true);
    /* The broker first: its control thread may be using the admin handle for another process. */
    if (k->owned)
        moose__embedded_stop(k->owned);
    if (k->admin_rk)
        rd_kafka_destroy(k->admin_rk);
    for (size_t i = 0; k->props && i < k->nprops; i++)
        free(k->props[i]);
    free(k->props);
    free(k->bootstrap);
    free(k->remote_control);
    free(k->dir);
    free(k->prog);
    pthread_mutex_destroy(&k->lock);
    pthread_mutex_destroy(&k->topics_lock);
    pthread_mutex_destroy(&k->health_lock);
    pthread_mutex_destroy(&k->commit_listeners_lock);
    free(k->commit_listeners);
    free(k);
}

int moose__kafka_listen_commits(moose__kafka *k, struct moose__producer *p) {
    int rc = 0;
    pthread_mutex_lock(&k->commit_listeners_lock);
    bool known = false;
    for (size_t i = 0; i < k->ncommit_listeners && !known; i++)
        known = k->commit_listeners[i] == p;
    if (!known) {
        struct moose__producer **grown =
            realloc(k->commit_listeners, (k->ncommit_listeners + 1) * sizeof *k->commit_listeners);
        if (grown) {
            k->commit_listeners = grown;
            k->commit_listeners[k->ncommit_listeners++] = p;
        } else {
            rc = MOOSE_ENOMEM;
        }
    }
    pthread_mutex_unlock(&k->commit_listeners_lock);
    return rc;
}

bool moose__kafka_writers_held_back(const moose__kafka *k, int64_t within_ms) {
    int64_t at = atomic_load_explicit(&k->held_back_ms, memory_order_relaxed);
    return at > 0 && moose__kafka_now_ms() - at < within_ms;
}

void moose__kafka_unlisten_commits(moose__kafka *k, struct moose__producer *p) {
    pthread_mutex_lock(&k->commit_listeners_lock);
    for (size_t i = 0; i < k->ncommit_listeners; i++) {
        if (k->commit_listeners[i] == p) {
            k->commit_listeners[i] = k->commit_listeners[--k->ncommit_listeners];
            break;
        }
    }
    pthread_mutex_unlock(&k->commit_listeners_lock);
}

void moose__kafka_commits_seen(moose__kafka *k, const char *group,
                               const rd_kafka_topic_partition_list_t *offsets) {
    /* Held while calling: a producer that unlistens waits until no call is running. */
    pthread_mutex_lock(&k->commit_listeners_lock);
    for (size_t i = 0; i < k->ncommit_listeners; i++)
        moose__producer_saw_commits(k->commit_listeners[i], group, offsets);
    pthread_mutex_unlock(&k->commit_listeners_lock);
}

bool moose__kafka_user_set(const moose__kafka *k, const char *name) {
    size_t n = strlen(name);
    for (size_t i = 0; i < k->nprops; i++)
        if (strncmp(k->props[i], name, n) == 0 && k->props[i][n] == '=')
            return true;
    return false;
}

const char *moose__kafka_bootstrap(const moose__kafka *k) {
    return k->bootstrap;
}
bool moose__kafka_embedded(const moose__kafka *k) {
    return k->embedded;
}
bool moose__kafka_owns_broker(const moose__kafka *k) {
    return k->owned != NULL;
}

static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
    /* syslog levels: 0-3 are errors, 4 warning, 5-6 notice/info, 7 debug. */
    moose__log_level lvl = level <= 3   ? MOOSE__LOG_ERROR
                           : level == 4 ? MOOSE__LOG_WARN
                           : level <= 6 ? MOOSE__LOG_INFO
                                        : MOOSE__LOG_DEBUG;
    /* "1/1 brokers are down" while the app closes its own connections is no alarm. */
    if (lvl > MOOSE__LOG_INFO && moose__kafka_client_closing(rk))
        lvl = MOOSE__LOG_DEBUG;
    moose__log(lvl, "kafka", fac, "%s", buf);
}

rd_kafka_conf_t *moose__kafka_conf(const moose__kafka *k, char *errstr, size_t errstr_size) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char why[512];
    if (rd_kafka_conf_set(conf, "bootstrap.servers", k->bootstrap, why, sizeof(why)) !=
        RD_KAFKA_CONF_OK) {
        snprintf(errstr, errstr_size, "bad bootstrap list '%s': %s", k->bootstrap, why);
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_conf_set_log_cb(conf, log_cb);
    if (moose__kafka_conf_health(k, conf, errstr, errstr_size) != 0) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    if (k->embedded) {
        /* One loopback broker: reconnect fast. */
        rd_kafka_conf_set(conf, "reconnect.backoff.max.ms", "1000", why, sizeof(why));
    }
    for (size_t i = 0; i < k->nprops; i++) {
        char key[256];
        const char *value;
        if (split_property(k->props[i], key, sizeof(key), &value, errstr, errstr_size) ||
            rd_kafka_conf_set(conf, key, value, why, sizeof(why)) != RD_KAFKA_CONF_OK) {
            snprintf(errstr, errstr_size, "bad Kafka property '%s': %s", k->props[i], why);
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    }
    return conf;
}

rd_kafka_t *moose__kafka_admin_handle(moose__kafka *k, char *errstr, size_t errstr_size) {
    pthread_mutex_lock(&k->lock);
    if (!k->admin_rk) {
        rd_kafka_conf_t *conf = moose__kafka_conf(k, errstr, errstr_size);
        if (conf) {
            char why[512];
            k->admin_rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof(why));
            if (!k->admin_rk)
                snprintf(errstr, errstr_size, "cannot create a Kafka client for %s: %s",
                         k->bootstrap, why);
        }
    }
    rd_kafka_t *rk = k->admin_rk;
    pthread_mutex_unlock(&k->lock);
    return rk;
}

bool moose__dlq_topic_name(const char *topic, char *out, size_t out_size) {
    int n = snprintf(out, out_size, "%s.dlq", topic);
    return n > 0 && (size_t)n < out_size;
}

bool moose__group_for_transform(const moose_app_desc *app, const moose_transform_desc *t, char *out,
                                size_t out_size) {
    int n = snprintf(out, out_size, "%s.transform.%s", app->name, t->name);
    return n > 0 && (size_t)n < out_size;
}

bool moose__group_for_table(const moose_app_desc *app, const moose_table_desc *table, char *out,
                            size_t out_size) {
    int n = snprintf(out, out_size, "%s.table.%s", app->name, table->name);
    return n > 0 && (size_t)n < out_size;
}
