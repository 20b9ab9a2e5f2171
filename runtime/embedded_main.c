/* `APP broker`: a standalone embedded broker that other processes and kcat can use. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "kafka.h"
#include "log.h"
#include "moose/app.h"

int moose__broker_main(const moose_app_desc *desc, const struct moose_config *cfg,
                       const char *prog) {
    if (!prog)
        prog = "APP";
    if (cfg && cfg->brokers && *cfg->brokers && strcmp(cfg->brokers, "embedded") != 0) {
        fprintf(stderr,
                "%s: `%s broker` runs the embedded broker; --brokers %s names another cluster\n",
                prog, prog, cfg->brokers);
        return 1;
    }
    moose__log_level level;
    if (cfg && cfg->log_level && moose__log_parse_level(cfg->log_level, &level) == 0)
        moose__log_set_level(level);

    /* Blocked before any librdkafka thread exists, so only sigwait() below sees them. */
    sigset_t stop, old;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, &old);

    moose__kafka_opts opts = {
        .brokers = "embedded",
        .props = cfg ? cfg->kafka_props : NULL,
        .embedded = MOOSE__EMBEDDED_START,
        .prog = prog,
    };
    moose__kafka *kafka = NULL;
    char err[1024];
    int rc = moose__kafka_open(&opts, &kafka, err, sizeof(err));
    if (rc == 0 && desc)
        rc = moose__kafka_ensure_app_topics(kafka, desc, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "%s broker: %s\n", prog, err);
        moose__kafka_close(kafka);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        return 1;
    }
    printf("%s\n", moose__kafka_bootstrap(kafka));
    fflush(stdout);
    moose__log(MOOSE__LOG_INFO, "broker", NULL,
               "embedded broker ready bootstrap=%s streams=%u file=%s; stop it with Ctrl-C",
               moose__kafka_bootstrap(kafka), desc ? (unsigned)desc->nstreams : 0u,
               MOOSE__BROKER_FILE);
    int sig = 0;
    sigwait(&stop, &sig);
    moose__log(MOOSE__LOG_INFO, "broker", NULL, "stopping the embedded broker signal=%s",
               sig == SIGINT ? "SIGINT" : "SIGTERM");
    moose__kafka_close(kafka);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return 0;
}
