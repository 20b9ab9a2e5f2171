#include "log.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Distinct (component, kind) pairs the limiter tracks; beyond that, pairs share the last slot. */
#define LOG_LIMIT_SLOTS 64

typedef struct log_limit {
    char component[32];
    char kind[32];
    int64_t window_start_ms; /* start of the current one-second window */
    unsigned lines;          /* written in this window */
    uint64_t suppressed;     /* swallowed since the last line written */
    moose__log_level level;  /* of the last line swallowed */
} log_limit;

static pthread_mutex_t log_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t log_once = PTHREAD_ONCE_INIT;
static moose__log_level log_level = MOOSE__LOG_INFO;
static FILE *log_out;
static unsigned log_rate = 20;
static log_limit log_limits[LOG_LIMIT_SLOTS];
static size_t log_nlimits;
static uint64_t log_suppressed;
/* The status line showing on status_out, redrawn after every line logged there. */
static FILE *status_out;
static char status_text[512];

static const char *const level_names[] = {"debug", "info", "warn", "error"};

int moose__log_parse_level(const char *name, moose__log_level *level) {
    if (!name)
        return -1;
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(name, level_names[i]) == 0) {
            *level = (moose__log_level)i;
            return 0;
        }
    }
    if (strcasecmp(name, "warning") == 0) {
        *level = MOOSE__LOG_WARN;
        return 0;
    }
    return -1;
}

const char *moose__log_level_name(moose__log_level level) {
    if ((int)level < 0 || (int)level > 3)
        return "?";
    return level_names[level];
}

/* The environment is read once, so a library user gets MOOSE_LOG_LEVEL without any call. */
static void log_init_from_env(void) {
    moose__log_level lvl;
    if (moose__log_parse_level(getenv("MOOSE_LOG_LEVEL"), &lvl) == 0)
        log_level = lvl;
}

void moose__log_set_level(moose__log_level level) {
    pthread_once(&log_once, log_init_from_env);
    pthread_mutex_lock(&log_mutex);
    log_level = level;
    pthread_mutex_unlock(&log_mutex);
}

moose__log_level moose__log_get_level(void) {
    pthread_once(&log_once, log_init_from_env);
    pthread_mutex_lock(&log_mutex);
    moose__log_level lvl = log_level;
    pthread_mutex_unlock(&log_mutex);
    return lvl;
}

void moose__log_set_output(FILE *out) {
    pthread_mutex_lock(&log_mutex);
    log_out = out;
    pthread_mutex_unlock(&log_mutex);
}

void moose__log_set_rate(unsigned lines_per_second) {
    pthread_mutex_lock(&log_mutex);
    log_rate = lines_per_second;
    log_nlimits = 0;
    pthread_mutex_unlock(&log_mutex);
}

uint64_t moose__log_suppressed_total(void) {
    pthread_mutex_lock(&log_mutex);
    uint64_t n = log_suppressed;
    pthread_mutex_unlock(&log_mutex);
    return n;
}

static int64_t now_ms(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static log_limit *limit_slot(const char *component, const char *kind) {
    for (size_t i = 0; i < log_nlimits; i++) {
        if (strcmp(log_limits[i].component, component) == 0 &&
            strcmp(log_limits[i].kind, kind) == 0)
            return &log_limits[i];
    }
    if (log_nlimits == LOG_LIMIT_SLOTS)
        return &log_limits[LOG_LIMIT_SLOTS - 1];
    log_limit *slot = &log_limits[log_nlimits++];
    memset(slot, 0, sizeof(*slot));
    snprintf(slot->component, sizeof(slot->component), "%s", component);
    snprintf(slot->kind, sizeof(slot->kind), "%s", kind);
    return slot;
}

static void write_prefix(FILE *out, moose__log_level level, const char *component) {
    int64_t ms = now_ms(CLOCK_REALTIME);
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char stamp[32];
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(out, "%s.%03dZ %s %s ", stamp, (int)(ms % 1000), moose__log_level_name(level),
            component);
}

/* The terminal codes that take the cursor to the start of its line and erase the line. */
static const char erase_line[] = "\r\033[K";

void moose__log_status_show(FILE *out, const char *line) {
    pthread_mutex_lock(&log_mutex);
    status_out = out;
    snprintf(status_text, sizeof status_text, "%s", line);
    fprintf(out, "%s%s", erase_line, status_text);
    fflush(out);
    pthread_mutex_unlock(&log_mutex);
}

void moose__log_status_end(FILE *out) {
    pthread_mutex_lock(&log_mutex);
    if (status_out == out) {
        fputc('\n', out);
        fflush(out);
        status_out = NULL;
    }
    pthread_mutex_unlock(&log_mutex);
}

/* Before lines are written to OUT (log_mutex held): the status line showing there goes. */
static void status_erase(FILE *out) {
    if (status_out == out)
        fputs(erase_line, out);
}

/* After them: the status line comes back under them. */
static void status_redraw(FILE *out) {
    if (status_out == out)
        fprintf(out, "%s%s", erase_line, status_text);
}

void moose__logv(moose__log_level level, const char *component, const char *kind, const char *fmt,
                 va_list ap) {
    pthread_once(&log_once, log_init_from_env);
    if (!component)
        component = "moose";
    pthread_mutex_lock(&log_mutex);
    if (level < log_level) {
        pthread_mutex_unlock(&log_mutex);
        return;
    }
    FILE *out = log_out ? log_out : stderr;
    uint64_t swallowed = 0;
    if (kind && log_rate > 0) {
        log_limit *lim = limit_slot(component, kind);
        int64_t now = now_ms(CLOCK_MONOTONIC);
        if (now - lim->window_start_ms >= 1000) {
            lim->window_start_ms = now;
            lim->lines = 0;
        }
        if (lim->lines >= log_rate) {
            lim->suppressed++;
            lim->level = level;
            log_suppressed++;
            pthread_mutex_unlock(&log_mutex);
            return;
        }
        lim->lines++;
        swallowed = lim->suppressed;
        lim->suppressed = 0;
    }
    status_erase(out);
    if (swallowed > 0) {
        write_prefix(out, level, component);
        fprintf(out, "suppressed %llu similar messages kind=%s\n", (unsigned long long)swallowed,
                kind);
    }
    write_prefix(out, level, component);
    vfprintf(out, fmt, ap);
    fputc('\n', out);
    status_redraw(out);
    fflush(out);
    pthread_mutex_unlock(&log_mutex);
}

void moose__log_flush_suppressed(void) {
    pthread_mutex_lock(&log_mutex);
    FILE *out = log_out ? log_out : stderr;
    bool erased = false;
    for (size_t i = 0; i < log_nlimits; i++) {
        log_limit *lim = &log_limits[i];
        if (lim->suppressed == 0)
            continue;
        if (!erased)
            status_erase(out);
        erased = true;
        write_prefix(out, lim->level, lim->component);
        fprintf(out, "suppressed %llu similar messages kind=%s\n",
                (unsigned long long)lim->suppressed, lim->kind);
        lim->suppressed = 0;
    }
    if (erased)
        status_redraw(out);
    fflush(out);
    pthread_mutex_unlock(&log_mutex);
}

void moose__log(moose__log_level level, const char *component, const char *kind, const char *fmt,
                ...) {
    va_list ap;
    va_start(ap, fmt);
    moose__logv(level, component, kind, fmt, ap);
    va_end(ap);
}

const char *moose__log_quote(char *out, size_t out_size, const char *s, size_t len) {
    if (out_size < 8) {
        if (out_size > 0)
            out[0] = '\0';
        return out;
    }
    bool plain = len > 0;
    for (size_t i = 0; i < len && plain; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f)
            plain = false;
    }
    size_t o = 0;
    if (plain) {
        size_t n = len < out_size - 1 ? len : out_size - 1;
        memcpy(out, s, n);
        out[n] = '\0';
        return out;
    }
    /* Room is checked for the longest escape (4) plus the closing quote and NUL. */
    out[o++] = '"';
    for (size_t i = 0; i < len && o + 7 < out_size; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"':
            out[o++] = '\\';
            out[o++] = '"';
            break;
        case '\\':
            out[o++] = '\\';
            out[o++] = '\\';
            break;
        case '\n':
            out[o++] = '\\';
            out[o++] = 'n';
            break;
        case '\t':
            out[o++] = '\\';
            out[o++] = 't';
            break;
        default:
            if (c < ' ' || c == 0x7f)
                o += (size_t)snprintf(out + o, out_size - o, "\\x%02x", c);
            else
                out[o++] = (char)c;
        }
    }
    if (o < out_size - 1)
        out[o++] = '"';
    out[o] = '\0';
    return out;
}
