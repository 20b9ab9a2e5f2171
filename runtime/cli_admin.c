/*
 * The commands that look at a running app or its topics: tail, dlq, replay,
 * metrics, health, broker. Each finds the broker (or the app's HTTP
 * endpoint) and says plainly when there is none, never starting a private
 * one that would vanish with the command.
 */
#include <inttypes.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "dlq.h"
#include "kafka.h"
#include "metrics.h"
#include "moose/error.h"

static moose__kafka *open_kafka(const moose__cli *cli) {
    moose__kafka_opts opts = {
        .brokers = cli->opts->cfg.brokers,
        .props = cli->opts->cfg.kafka_props,
        .embedded = MOOSE__EMBEDDED_FIND,
        .prog = cli->prog,
        .max_record_bytes = cli->opts->cfg.max_record_bytes,
    };
    moose__kafka *kafka = NULL;
    char errstr[512];
    if (moose__kafka_open(&opts, &kafka, errstr, sizeof errstr) != 0) {
        fprintf(stderr, "%s: %s\n", cli->prog, errstr);
        return NULL;
    }
    return kafka;
}

/* Prints LEN bytes of S, with control bytes escaped so one record stays on one line. */
static void print_text(const char *s, size_t len) {
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n')
            fputs("\\n", stdout);
        else if (c < 0x20 || c == 0x7f)
            printf("\\x%02x", c);
        else
            putchar(c);
    }
}

static void format_time_ms(int64_t ms, char *out, size_t size) {
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    size_t n = strftime(out, size, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, size - n, ".%03dZ", (int)(ms % 1000));
}

static int print_dlq_entry(const moose__dlq_record *r, void *opaque) {
    (void)opaque;
    char when[40];
    format_time_ms(r->time_ms, when, sizeof when);
    printf("%s %s from %s", when, moose__dlq_error_type_name(r->type),
           moose__dlq_source_name(r->source));
    if (r->transform)
        printf(" %s", r->transform);
    if (r->partition >= 0)
        printf(" (%s partition %" PRId32 " offset %" PRId64 ")", r->topic, r->partition,
               r->offset);
    else
        printf(" (%s)", r->topic);
    printf("\n  key:      ");
    if (r->key)
        print_text(r->key, r->key_len);
    else
        fputs("(none)", stdout);
    printf("\n  message:  %s\n", r->message ? r->message : "");
    for (size_t i = 0; i < r->nerrors; i++)
        printf("  error:    %s%s%s [%s]\n", r->errors[i].path, r->errors[i].path[0] ? ": " : "",
               r->errors[i].message, r->errors[i].rule ? r->errors[i].rule : "");
    printf("  original: ");
    print_text(r->original ? r->original : "", r->original_len);
    printf("\n\n");
    return 0;
}

static int cmd_dlq(const moose__cli *cli) {
    const moose_stream_desc *stream = moose__cli_stream(cli, cli->opts->args[0]);
    if (!stream)
        return MOOSE__EXIT_USAGE;
    moose__kafka *kafka = open_kafka(cli);
    if (!kafka)
        return MOOSE__EXIT_USAGE;
    char errstr[512];
    size_t unreadable = 0;
    int64_t n = moose__dlq_read(kafka, stream->topic, print_dlq_entry, NULL, &unreadable, errstr,
                                sizeof errstr);
    moose__kafka_close(kafka);
    if (n < 0) {
        fprintf(stderr, "%s: %s\n", cli->prog, errstr);
        return MOOSE__EXIT_FAILED;
    }
    printf("%" PRId64 " entr%s in the dead letter queue of %s", n, n == 1 ? "y" : "ies",
           stream->name);
    if (unreadable)
        printf(" (%zu unreadable, skipped)", unreadable);
    printf("\n");
    return MOOSE__EXIT_OK;
}

static int cmd_replay(const moose__cli *cli) {
    const moose_stream_desc *stream = moose__cli_stream(cli, cli->opts->args[0]);
    if (!stream)
        return MOOSE__EXIT_USAGE;
    moose__kafka *kafka = open_kafka(cli);
    if (!kafka)
        return MOOSE__EXIT_USAGE;
    char errstr[512];
    int status = MOOSE__EXIT_OK;
    moose__producer *p = moose__producer_new(kafka, "replay", errstr, sizeof errstr);
    int64_t n = p ? moose__dlq_replay(kafka, p, stream->topic, errstr, sizeof errstr)
                  : MOOSE_ETRANSPORT;
    if (n < 0) {
        fprintf(stderr, "%s: %s\n", cli->prog, errstr);
        status = MOOSE__EXIT_FAILED;
    } else {
        printf("replayed %" PRId64 " record%s from the dead letter queue into %s\n", n,
               n == 1 ? "" : "s", stream->topic);
    }
    moose__producer_close(p);
    moose__kafka_close(kafka);
    return status;
}

static int cmd_tail(const moose__cli *cli) {
    const moose_stream_desc *stream = moose__cli_stream(cli, cli->opts->args[0]);
    if (!stream)
        return MOOSE__EXIT_USAGE;
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    moose__kafka *kafka = open_kafka(cli);
    if (!kafka)
        return MOOSE__EXIT_USAGE;
    /* A group of its own that never commits: tailing moves nobody else's offsets. */
    char group[256], errstr[512];
    snprintf(group, sizeof group, "%s.tail.%ld", cli->desc->name, (long)getpid());
    const char *topics[1] = {stream->topic};
    moose__consumer_opts copts = {.group = group, .topics = topics, .ntopics = 1, .name = "tail"};
    moose__consumer *c = moose__consumer_new(kafka, &copts, errstr, sizeof errstr);
    if (!c) {
        fprintf(stderr, "%s: %s\n", cli->prog, errstr);
        moose__kafka_close(kafka);
        return MOOSE__EXIT_FAILED;
    }
    int status = MOOSE__EXIT_OK;
    for (;;) {
        sigset_t pending;
        sigpending(&pending);
        if (sigismember(&pending, SIGINT) || sigismember(&pending, SIGTERM))
            break;
        rd_kafka_message_t *m = NULL;
        int rc = moose__consumer_poll(c, 200, &m);
        if (rc == MOOSE_ETIMEDOUT)
            continue;
        if (!m) {
            status = MOOSE__EXIT_FAILED;
            break;
        }
        printf("%" PRId32 ":%" PRId64 " ", m->partition, m->offset);
        if (m->key)
            print_text(m->key, m->key_len);
        else
            fputs("-", stdout);
        putchar(' ');
        print_text(m->payload ? m->payload : "", m->payload ? m->len : 0);
        putchar('\n');
        fflush(stdout);
        rd_kafka_message_destroy(m);
    }
    moose__consumer_close(c);
    moose__kafka_close(kafka);
    return status;
}

static const char *http_address(const moose__cli *cli) {
    if (!cli->opts->cfg.http)
        moose__cli_usage_error(cli,
                               "'%s' asks a running app: pass the --http ADDR:PORT it was "
                               "started with (`%s run --http 127.0.0.1:9464`)",
                               cli->opts->command, cli->prog);
    return cli->opts->cfg.http;
}

static int cmd_metrics(const moose__cli *cli) {
    const char *addr = http_address(cli);
    return addr ? moose__cli_metrics(addr, cli->opts->json, stdout, stderr) : MOOSE__EXIT_USAGE;
}

static int cmd_health(const moose__cli *cli) {
    const char *addr = http_address(cli);
    return addr ? moose__cli_health(addr, cli->opts->json, stdout, stderr) : MOOSE__EXIT_USAGE;
}

static int cmd_broker(const moose__cli *cli) {
    return moose__broker_main(cli->desc, &cli->opts->cfg, cli->prog);
}

int moose__cli_admin(const moose__cli *cli) {
    const char *c = cli->opts->command;
    if (strcmp(c, "tail") == 0)
        return cmd_tail(cli);
    if (strcmp(c, "dlq") == 0)
        return cmd_dlq(cli);
    if (strcmp(c, "replay") == 0)
        return cmd_replay(cli);
    if (strcmp(c, "metrics") == 0)
        return cmd_metrics(cli);
    if (strcmp(c, "health") == 0)
        return cmd_health(cli);
    return cmd_broker(cli);
}
