/*
 * The embedded broker: librdkafka's mock cluster on loopback, published in
 * MOOSE__BROKER_FILE so other processes find it, plus a tiny control socket
 * through which those processes ask the owner to create topics (the mock
 * answers no CreateTopics, and only the owning process can call
 * rd_kafka_mock_topic_create).
 *
 * The file holds three lines:
 *   bootstrap=127.0.0.1:PORT
 *   pid=PID
 *   control=127.0.0.1:PORT
 *
 * Control protocol (one request per connection, text lines):
 *   -> topic NAME PARTITIONS RETENTION_MS
 *   <- ok | error CODE MESSAGE     (CODE: the moose error code, e.g. -12)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "kafka_internal.h"
#include "log.h"

struct moose__embedded {
    moose__kafka *kafka;
    rd_kafka_t *rk; /* the dummy handle the mock cluster lives in */
    rd_kafka_mock_cluster_t *mcluster;
    char bootstrap[128];
    char control[64];
    char *file;
    int listen_fd;
    int wake[2]; /* a pipe: writing to it stops the control thread */
    pthread_t thread;
    bool thread_started;
};

static char *path_join(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* "host:port" -> a loopback sockaddr; only IPv4 literals are ever written by us. */
static int parse_addr(const char *addr, struct sockaddr_in *sa) {
    char host[64];
    const char *colon = strrchr(addr, ':');
    if (!colon || (size_t)(colon - addr) >= sizeof(host))
        return -1;
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = '\0';
    memset(sa, 0, sizeof(*sa));
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)atoi(colon + 1));
    return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

static int connect_to(const char *addr, int timeout_ms) {
    struct sockaddr_in sa;
    if (parse_addr(addr, &sa))
        return -1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static bool pid_alive(long pid) {
    return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

/* The first of a comma-separated bootstrap list. */
static void first_address(const char *list, char *out, size_t out_size) {
    size_t n = strcspn(list, ",");
    if (n >= out_size)
        n = out_size - 1;
    memcpy(out, list, n);
    out[n] = '\0';
}

int moose__embedded_find(const char *dir, char **bootstrap, char **control, long *pid) {
    *bootstrap = *control = NULL;
    *pid = 0;
    char *path = path_join(dir, MOOSE__BROKER_FILE);
    if (!path)
        return MOOSE_ENOMEM;
    FILE *f = fopen(path, "r");
    if (!f) {
        int rc = errno == ENOENT ? MOOSE_ENOTFOUND : MOOSE_EIO;
        free(path);
        return rc;
    }
    char line[256], boot[256] = "", ctl[256] = "";
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (strncmp(line, "bootstrap=", 10) == 0)
            snprintf(boot, sizeof(boot), "%s", line + 10);
        else if (strncmp(line, "pid=", 4) == 0)
            *pid = strtol(line + 4, NULL, 10);
        else if (strncmp(line, "control=", 8) == 0)
            snprintf(ctl, sizeof(ctl), "%s", line + 8);
    }
    fclose(f);

    /* A live pid may be a recycled one: the broker must also answer on its port. */
    char first[256];
    first_address(boot, first, sizeof(first));
    int fd = -1;
    if (pid_alive(*pid) && *boot && (fd = connect_to(first, 1000)) >= 0) {
        close(fd);
        *bootstrap = strdup(boot);
        *control = strdup(ctl);
        free(path);
        if (!*bootstrap || !*control) {
            free(*bootstrap);
            free(*control);
            *bootstrap = *control = NULL;
            return MOOSE_ENOMEM;
        }
        return 0;
    }
    if (pid_alive(*pid) && *boot) {
        /* Alive but silent: maybe busy or stopping, maybe a recycled pid. Not ours to remove. */
        free(path);
        *bootstrap = strdup(boot);
        return *bootstrap ? MOOSE_ETRANSPORT : MOOSE_ENOMEM;
    }
    moose__log(MOOSE__LOG_INFO, "broker", NULL,
               "removing a stale %s: its broker (pid %ld, %s) is gone path=%s", MOOSE__BROKER_FILE,
               *pid, *boot ? boot : "no address", path);
    unlink(path);
    free(path);
    *pid = 0;
    return MOOSE_ENOTFOUND;
}

/* ---- control socket ---- */

static void reply(int fd, const char *text) {
    size_t len = strlen(text), off = 0;
    while (off < len) {
        ssize_t n = write(fd, text + off, len - off);
        if (n <= 0)
            return;
        off += (size_t)n;
    }
}

static void serve_request(moose__embedded *e, int fd) {
    char buf[512];
    size_t len = 0;
    while (len < sizeof(buf) - 1) {
        ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        if (memchr(buf, '\n', len))
            break;
    }
    buf[len] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    char topic[256];
    int partitions;
    long long retention;
    if (sscanf(buf, "topic %255s %d %lld", topic, &partitions, &retention) != 3) {
        reply(fd, "error -8 malformed request to the embedded broker's control socket\n");
        return;
    }
    char err[512] = "";
    int rc = moose__kafka_ensure_topic(e->kafka, topic, partitions, retention, err, sizeof(err));
    if (rc == 0) {
        reply(fd, "ok\n");
    } else {
        char out[600];
        snprintf(out, sizeof(out), "error %d %s\n", rc, err);
        reply(fd, out);
    }
}

static void *control_thread(void *arg) {
    moose__embedded *e = arg;
    for (;;) {
        struct pollfd fds[2] = {{e->listen_fd, POLLIN, 0}, {e->wake[0], POLLIN, 0}};
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (fds[1].revents)
            break;
        if (fds[0].revents & POLLIN) {
            int fd = accept(e->listen_fd, NULL, NULL);
            if (fd < 0)
                continue;
            struct timeval tv = {5, 0};
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
            serve_request(e, fd);
            close(fd);
        }
    }
    return NULL;
}

static int start_control(moose__embedded *e, char *errstr, size_t errstr_size) {
    e->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (e->listen_fd < 0 || pipe(e->wake) != 0) {
        snprintf(errstr, errstr_size, "cannot open the embedded broker's control socket: %s",
                 strerror(errno));
        return MOOSE_EIO;
    }
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t salen = sizeof(sa);
    if (bind(e->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        listen(e->listen_fd, 16) != 0 ||
        getsockname(e->listen_fd, (struct sockaddr *)&sa, &salen) != 0) {
        snprintf(errstr, errstr_size, "cannot listen on the embedded broker's control socket: %s",
                 strerror(errno));
        return MOOSE_EIO;
    }
    snprintf(e->control, sizeof(e->control), "127.0.0.1:%u", (unsigned)ntohs(sa.sin_port));
    if (pthread_create(&e->thread, NULL, control_thread, e) != 0) {
        snprintf(errstr, errstr_size, "cannot start the embedded broker's control thread");
        return MOOSE_ENOMEM;
    }
    e->thread_started = true;
    return 0;
}

/* ---- publishing ---- */

/* Writes the file under a private name, then link()s it: link fails if another process won. */
static int publish(moose__embedded *e, const char *dir, char *errstr, size_t errstr_size) {
    e->file = path_join(dir, MOOSE__BROKER_FILE);
    char tmpname[64];
    snprintf(tmpname, sizeof(tmpname), "%s.%ld.tmp", MOOSE__BROKER_FILE, (long)getpid());
    char *tmp = path_join(dir, tmpname);
    if (!e->file || !tmp) {
        free(tmp);
        snprintf(errstr, errstr_size, "out of memory publishing the embedded broker");
        return MOOSE_ENOMEM;
    }
    FILE *f = fopen(tmp, "w");
    if (!f) {
        snprintf(errstr, errstr_size, "cannot write %s: %s", tmp, strerror(errno));
        free(tmp);
        return MOOSE_EIO;
    }
    fprintf(f, "bootstrap=%s\npid=%ld\ncontrol=%s\n", e->bootstrap, (long)getpid(), e->control);
    if (fclose(f) != 0) {
        snprintf(errstr, errstr_size, "cannot write %s: %s", tmp, strerror(errno));
        unlink(tmp);
        free(tmp);
        return MOOSE_EIO;
    }
    int rc = 0;
    if (link(tmp, e->file) != 0) {
        if (errno == EEXIST) {
            rc = MOOSE_ECLOSED;
        } else {
            snprintf(errstr, errstr_size, "cannot publish %s: %s", e->file, strerror(errno));
            rc = MOOSE_EIO;
        }
        free(e->file);
        e->file = NULL;
    }
    unlink(tmp);
    free(tmp);
    return rc;
}

int moose__embedded_start(moose__kafka *kafka, const char *dir, moose__embedded **out, char *errstr,
                          size_t errstr_size) {
    *out = NULL;
    moose__embedded *e = calloc(1, sizeof(*e));
    if (!e) {
        snprintf(errstr, errstr_size, "out of memory starting the embedded broker");
        return MOOSE_ENOMEM;
    }
    e->kafka = kafka;
    e->listen_fd = e->wake[0] = e->wake[1] = -1;
    char why[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", why, sizeof(why));
    e->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof(why));
    int rc = 0;
    if (!e->rk) {
        snprintf(errstr, errstr_size, "cannot start the embedded broker: %s", why);
        rd_kafka_conf_destroy(conf);
        rc = MOOSE_ETRANSPORT;
        goto fail;
    }
    if (!(e->mcluster = rd_kafka_mock_cluster_new(e->rk, 1))) {
        snprintf(errstr, errstr_size,
                 "cannot start the embedded broker (mock cluster) on loopback");
        rc = MOOSE_ETRANSPORT;
        goto fail;
    }
    snprintf(e->bootstrap, sizeof(e->bootstrap), "%s",
             rd_kafka_mock_cluster_bootstraps(e->mcluster));
    /*
     * Once published, other processes have topics made through KAFKA on the
     * control thread: KAFKA must know its broker before that thread starts.
     */
    if (!(kafka->bootstrap = strdup(e->bootstrap))) {
        snprintf(errstr, errstr_size, "out of memory starting the embedded broker");
        rc = MOOSE_ENOMEM;
        goto fail;
    }
    *out = e;
    if ((rc = start_control(e, errstr, errstr_size)))
        goto fail;
    if ((rc = publish(e, dir, errstr, errstr_size)))
        goto fail;
    moose__log(MOOSE__LOG_INFO, "broker", NULL,
               "embedded broker started bootstrap=%s pid=%ld dir=%s", e->bootstrap, (long)getpid(),
               dir);
    return 0;
fail:
    moose__embedded_stop(e);
    if (*out == e) {
        *out = NULL;
        free(kafka->bootstrap);
        kafka->bootstrap = NULL;
    }
    return rc;
}

const char *moose__embedded_bootstrap(const moose__embedded *e) {
    return e->bootstrap;
}
rd_kafka_mock_cluster_t *moose__embedded_cluster(moose__embedded *e) {
    return e->mcluster;
}

/* Removes the file only while it still names this process: a newer broker's file stays. */
static void unpublish(moose__embedded *e) {
    if (!e->file)
        return;
    FILE *f = fopen(e->file, "r");
    if (!f)
        return;
    char line[256];
    long pid = 0;
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, "pid=", 4) == 0)
            pid = strtol(line + 4, NULL, 10);
    fclose(f);
    if (pid == (long)getpid())
        unlink(e->file);
}

void moose__embedded_stop(moose__embedded *e) {
    if (!e)
        return;
    unpublish(e);
    if (e->thread_started) {
        ssize_t n = write(e->wake[1], "x", 1);
        (void)n;
        pthread_join(e->thread, NULL);
    }
    if (e->listen_fd >= 0)
        close(e->listen_fd);
    if (e->wake[0] >= 0)
        close(e->wake[0]);
    if (e->wake[1] >= 0)
        close(e->wake[1]);
    if (e->mcluster)
        rd_kafka_mock_cluster_destroy(e->mcluster);
    if (e->rk)
        rd_kafka_destroy(e->rk);
    free(e->file);
    free(e);
}

int moose__embedded_request_topic(const char *control, const char *topic, int32_t partitions,
                                  int64_t retention_ms, int timeout_ms, char *errstr,
                                  size_t errstr_size) {
    if (!control || !*control) {
        snprintf(errstr, errstr_size,
                 "the embedded broker's %s names no control address: it cannot create topic '%s'",
                 MOOSE__BROKER_FILE, topic);
        return MOOSE_ETRANSPORT;
    }
    int fd = connect_to(control, timeout_ms);
    if (fd < 0) {
        snprintf(errstr, errstr_size,
                 "cannot reach the embedded broker's control socket at %s to create topic '%s': %s",
                 control, topic, strerror(errno));
        return MOOSE_ETRANSPORT;
    }
    char req[512];
    snprintf(req, sizeof(req), "topic %s %d %" PRId64 "\n", topic, (int)partitions, retention_ms);
    reply(fd, req);
    char buf[600];
    size_t len = 0;
    while (len < sizeof(buf) - 1) {
        ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        if (memchr(buf, '\n', len))
            break;
    }
    close(fd);
    buf[len] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    if (strcmp(buf, "ok") == 0)
        return 0;
    int code, used = 0;
    if (sscanf(buf, "error %d %n", &code, &used) == 1 && used > 0 && code < 0) {
        snprintf(errstr, errstr_size, "%s", buf + used);
        return code;
    }
    snprintf(errstr, errstr_size,
             "the embedded broker at %s gave no answer about topic '%s' within %d ms", control,
             topic, timeout_ms);
    return MOOSE_ETIMEDOUT;
}
