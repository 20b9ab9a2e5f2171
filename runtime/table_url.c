#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "moose/error.h"
#include "table_backend.h"

/* Copies [S, S+N) into OUT, decoding %XX; false when it does not fit or is malformed. */
static bool copy_decoded(char *out, size_t out_size, const char *s, size_t n) {
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= n || !isxdigit((unsigned char)s[i + 1]) ||
                !isxdigit((unsigned char)s[i + 2]))
                return false;
            char hex[3] = {s[i + 1], s[i + 2], 0};
            c = (char)strtol(hex, NULL, 16);
            i += 2;
        }
        if (j + 1 >= out_size)
            return false;
        out[j++] = c;
    }
    out[j] = '\0';
    return true;
}

static int parse_clickhouse(const char *rest, moose__table_url *out, char *errstr,
                            size_t errstr_size) {
    const char *slash = strchr(rest, '/');
    const char *query = strchr(rest, '?');
    if (query && (!slash || query < slash)) {
        moose__table_errf(errstr, errstr_size,
                          "table URL \"clickhouse://...\": parameters after '?' are not "
                          "supported (use clickhouse://USER:PASS@HOST:PORT/DB)");
        return MOOSE_EINVAL;
    }
    const char *authority_end = slash ? slash : rest + strlen(rest);
    const char *at = NULL;
    for (const char *p = rest; p < authority_end; p++)
        if (*p == '@')
            at = p;
    const char *hostport = rest;
    if (at) {
        const char *colon = memchr(rest, ':', (size_t)(at - rest));
        size_t user_len = colon ? (size_t)(colon - rest) : (size_t)(at - rest);
        if (!copy_decoded(out->user, sizeof out->user, rest, user_len) ||
            (colon && !copy_decoded(out->password, sizeof out->password, colon + 1,
                                    (size_t)(at - colon - 1)))) {
            moose__table_errf(errstr, errstr_size,
                              "table URL: the user or password of a clickhouse:// URL is too "
                              "long or badly %%-encoded");
            return MOOSE_EINVAL;
        }
        hostport = at + 1;
    }
    const char *colon = memchr(hostport, ':', (size_t)(authority_end - hostport));
    size_t host_len = colon ? (size_t)(colon - hostport) : (size_t)(authority_end - hostport);
    if (host_len == 0 || host_len >= sizeof out->host) {
        moose__table_errf(errstr, errstr_size,
                          "table URL: a clickhouse:// URL needs a host "
                          "(clickhouse://USER:PASS@HOST:8123/DB)");
        return MOOSE_EINVAL;
    }
    memcpy(out->host, hostport, host_len);
    out->host[host_len] = '\0';
    out->port = 8123;
    if (colon) {
        char *end;
        long port = strtol(colon + 1, &end, 10);
        if (end != authority_end || port <= 0 || port > 65535) {
            moose__table_errf(errstr, errstr_size,
                              "table URL: the port of clickhouse://%s is not a number from 1 "
                              "to 65535",
                              out->host);
            return MOOSE_EINVAL;
        }
        out->port = (int)port;
    }
    strcpy(out->database, "default");
    if (slash && slash[1]) {
        size_t n = strlen(slash + 1);
        if (slash[n] == '/')
            n--;
        if (!copy_decoded(out->database, sizeof out->database, slash + 1, n)) {
            moose__table_errf(errstr, errstr_size,
                              "table URL: the database name of clickhouse://%s is too long",
                              out->host);
            return MOOSE_EINVAL;
        }
        for (const char *p = out->database; *p; p++)
            if (!isalnum((unsigned char)*p) && *p != '_') {
                moose__table_errf(errstr, errstr_size,
                                  "table URL: database name \"%s\" may hold only letters, "
                                  "digits and '_'",
                                  out->database);
                return MOOSE_EINVAL;
            }
    }
    if (out->user[0])
        snprintf(out->display, sizeof out->display, "clickhouse://%s%s@%s:%d/%s", out->user,
                 out->password[0] ? ":***" : "", out->host, out->port, out->database);
    else
        snprintf(out->display, sizeof out->display, "clickhouse://%s:%d/%s", out->host, out->port,
                 out->database);
    return MOOSE_OK;
}

int moose__table_url_parse(const char *url, moose__table_url *out, char *errstr,
                           size_t errstr_size) {
    memset(out, 0, sizeof *out);
    if (!url || !*url)
        url = MOOSE__TABLES_DEFAULT_URL;
    if (strncmp(url, "sqlite:", 7) == 0) {
        const char *path = url + 7;
        /* sqlite:///abs/path and sqlite://rel are common spellings too. */
        if (strncmp(path, "//", 2) == 0)
            path += 2;
        if (!*path || strlen(path) >= sizeof out->path) {
            moose__table_errf(errstr, errstr_size,
                              "table URL \"sqlite:\" needs a file path (sqlite:moose.db)");
            return MOOSE_EINVAL;
        }
        strcpy(out->scheme, "sqlite");
        strcpy(out->path, path);
        snprintf(out->display, sizeof out->display, "sqlite:%s", path);
        return MOOSE_OK;
    }
    if (strncmp(url, "clickhouse://", 13) == 0) {
        strcpy(out->scheme, "clickhouse");
        return parse_clickhouse(url + 13, out, errstr, errstr_size);
    }
    /* Show only the scheme: the rest may carry a password. */
    const char *colon = strchr(url, ':');
    int scheme_len = colon ? (int)(colon - url) : (int)strlen(url);
    if (scheme_len > 32)
        scheme_len = 32;
    moose__table_errf(errstr, errstr_size,
                      "table URL with scheme \"%.*s\" is not supported: use sqlite:PATH or "
                      "clickhouse://USER:PASS@HOST:8123/DB",
                      scheme_len, url);
    return MOOSE_EINVAL;
}
