/*
 * The app's HTTP endpoints (libmicrohttpd, its own polling thread):
 *   /metrics     Prometheus text format
 *   /health      JSON; 200 when healthy or degraded, 503 when unhealthy
 *   /streams     JSON: every component's metrics
 *   /validation  JSON: validation statistics and recent failing samples
 * Bound to 127.0.0.1 unless an address says otherwise: metrics show record
 * samples, which should not reach a network by accident.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "metrics.h"

struct moose__http {
    struct MHD_Daemon *daemon;
    moose_metrics_registry *reg;
    uint16_t port;
    char address[64];
};

/* "HOST:PORT", ":PORT" or "PORT"; HOST an IPv4 address or "localhost". */
static bool parse_addr(const char *addr, struct sockaddr_in *sa, char *errstr, size_t errstr_size) {
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    const char *colon = strrchr(addr, ':');
    const char *port_text = colon ? colon + 1 : addr;
    char host[48] = "127.0.0.1";
    if (colon && colon > addr) {
        size_t n = (size_t)(colon - addr);
        if (n >= sizeof host) {
            snprintf(errstr, errstr_size, "http address '%s': host part too long", addr);
            return false;
        }
        memcpy(host, addr, n);
        host[n] = '\0';
        if (strcmp(host, "localhost") == 0)
            strcpy(host, "127.0.0.1");
    }
    char *end;
    errno = 0;
    long port = strtol(port_text, &end, 10);
    if (*port_text == '\0' || *end != '\0' || errno || port < 0 || port > 65535) {
        snprintf(errstr, errstr_size, "http address '%s': expected HOST:PORT with a port 0-65535",
                 addr);
        return false;
    }
    if (inet_pton(AF_INET, host, &sa->sin_addr) != 1) {
        snprintf(errstr, errstr_size, "http address '%s': '%s' is not an IPv4 address", addr,
                 host);
        return false;
    }
    sa->sin_port = htons((uint16_t)port);
    return true;
}

static enum MHD_Result respond(struct MHD_Connection *conn, unsigned status, const char *type,
                               char *body, size_t len) {
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (resp == NULL) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result rc = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return rc;
}

static enum MHD_Result respond_text(struct MHD_Connection *conn, unsigned status, const char *type,
                                    const char *text) {
    char *body = strdup(text);
    if (body == NULL)
        return MHD_NO;
    return respond(conn, status, type, body, strlen(body));
}

static enum MHD_Result respond_json(struct MHD_Connection *conn, unsigned status, char *json) {
    if (json == NULL)
        return respond_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "application/json",
                            "{\"error\": \"out of memory\"}\n");
    size_t len = strlen(json);
    /* json_dumps leaves no final newline; curl users expect one. */
    char *body = realloc(json, len + 2);
    if (body == NULL) {
        free(json);
        return MHD_NO;
    }
    body[len] = '\n';
    body[len + 1] = '\0';
    return respond(conn, status, "application/json", body, len + 1);
}

static enum MHD_Result serve_metrics(moose__http *http, struct MHD_Connection *conn) {
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    if (out == NULL)
        return respond_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain",
                            "out of memory\n");
    int rc = moose__metrics_prometheus(http->reg, out);
    if (fclose(out) != 0 || rc != 0) {
        free(text);
        return respond_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain",
                            "could not render the metrics\n");
    }
    return respond(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", text, len);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **req_cls) {
    (void)version;
    (void)upload_data;
    (void)upload_data_size;
    (void)req_cls;
    moose__http *http = cls;
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return respond_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "application/json",
                            "{\"error\": \"only GET is served\"}\n");
    if (strcmp(url, "/metrics") == 0)
        return serve_metrics(http, conn);
    if (strcmp(url, "/health") == 0) {
        moose_health_status status = MOOSE_HEALTHY;
        char *json = moose__metrics_health_json(http->reg, &status);
        return respond_json(conn,
                            status == MOOSE_UNHEALTHY ? MHD_HTTP_SERVICE_UNAVAILABLE : MHD_HTTP_OK,
                            json);
    }
    if (strcmp(url, "/streams") == 0)
        return respond_json(conn, MHD_HTTP_OK, moose__metrics_streams_json(http->reg));
    if (strcmp(url, "/validation") == 0)
        return respond_json(conn, MHD_HTTP_OK, moose__metrics_validation_json(http->reg));
    if (strcmp(url, "/") == 0)
        return respond_text(conn, MHD_HTTP_OK, "text/plain; charset=utf-8",
                            "/metrics     Prometheus text format\n"
                            "/health      health (JSON; 503 when unhealthy)\n"
                            "/streams     metrics of every stream, transform and sink (JSON)\n"
                            "/validation  validation statistics and failing samples (JSON)\n");
    return respond_text(conn, MHD_HTTP_NOT_FOUND, "application/json",
                        "{\"error\": \"not found; try /metrics, /health, /streams, "
                        "/validation\"}\n");
}

moose__http *moose__http_start(moose_metrics_registry *reg, const char *addr, char *errstr,
                               size_t errstr_size) {
    if (reg == NULL || addr == NULL) {
        snprintf(errstr, errstr_size, "http: no registry or address given");
        return NULL;
    }
    struct sockaddr_in sa;
    if (!parse_addr(addr, &sa, errstr, errstr_size))
        return NULL;
    moose__http *http = calloc(1, sizeof *http);
    if (http == NULL) {
        snprintf(errstr, errstr_size, "http %s: out of memory", addr);
        return NULL;
    }
    http->reg = reg;
    /* Rates and stall detection need ticks; whoever serves them makes sure they come. */
    if (moose__metrics_start_sampler(reg) != 0) {
        snprintf(errstr, errstr_size, "http %s: cannot start the metrics sampler", addr);
        free(http);
        return NULL;
    }
    errno = 0;
    http->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, 0, NULL, NULL,
                                    handle, http, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                                    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10, MHD_OPTION_END);
    if (http->daemon == NULL) {
        snprintf(errstr, errstr_size, "http: cannot listen on %s: %s", addr,
                 errno ? strerror(errno) : "libmicrohttpd refused to start");
        free(http);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(http->daemon, MHD_DAEMON_INFO_BIND_PORT);
    http->port = info ? info->port : ntohs(sa.sin_port);
    char host[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &sa.sin_addr, host, sizeof host);
    snprintf(http->address, sizeof http->address, "%s:%u", host, (unsigned)http->port);
    return http;
}

uint16_t moose__http_port(const moose__http *http) {
    return http ? http->port : 0;
}

const char *moose__http_address(const moose__http *http) {
    return http ? http->address : "";
}

void moose__http_stop(moose__http *http) {
    if (http == NULL)
        return;
    MHD_stop_daemon(http->daemon);
    free(http);
}
