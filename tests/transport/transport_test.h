/*
 * What the transport and DLQ tests share: a private working directory per
 * test (so each has its own .moose-broker), and small helpers around the
 * real embedded broker.
 */
#ifndef MOOSE_TRANSPORT_TEST_H
#define MOOSE_TRANSPORT_TEST_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kafka.h"

/* A fresh directory under /tmp; the caller frees the string after tt_rmdir. */
static inline char *tt_mkdir(void) {
    char *dir = strdup("/tmp/moose-transport-XXXXXX");
    if (!dir || !mkdtemp(dir)) {
        free(dir);
        return NULL;
    }
    return dir;
}

/* Removes the files the tests leave (flat directory) and the directory. */
static inline void tt_rmdir(char *dir) {
    if (!dir)
        return;
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char path[1024];
            snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
            unlink(path);
        }
        closedir(d);
    }
    rmdir(dir);
    free(dir);
}

/* Opens the transport on DIR's embedded broker (started when MODE allows); NULL after printing why.
 */
static inline moose__kafka *tt_open(const char *dir, moose__embedded_mode mode,
                                    const char *const *props) {
    moose__kafka_opts opts = {
        .brokers = "embedded", .props = props, .embedded = mode, .dir = dir, .prog = "testapp"};
    moose__kafka *k = NULL;
    char err[1024];
    int rc = moose__kafka_open(&opts, &k, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "moose__kafka_open: %s (%s)\n", err, moose_err_name(rc));
        return NULL;
    }
    return k;
}

/* The whole file as a string (NULL if unreadable). */
static inline char *tt_slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len < 2) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf)
        buf[len] = '\0';
    return buf;
}

#endif
