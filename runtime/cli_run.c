/*
 * `APP run`: every transform (and table sink) runs until SIGINT or SIGTERM;
 * then fetching stops, the records in flight finish and are committed, and
 * the process exits 0. A second SIGINT or SIGTERM while it stops ends the
 * process at once (exit 128 + the signal): stopping waits for the broker to
 * acknowledge what is in flight, up to its timeouts, and a person whose broker
 * is gone need not wait them out. Nothing is lost that way: only committed
 * offsets count as done, so what was in flight is read again at the next
 * start (at least once). Meanwhile stderr shows the live status: one line
 * redrawn every second on a terminal, an info log line every 10 s otherwise.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app_internal.h"
#include "cli.h"
#include "log.h"
#include "metrics.h"

typedef struct second_signal {
    const sigset_t *signals;
    atomic_bool stopped; /* the app stopped by itself: the watcher may end */
} second_signal;

/* While the app stops, a second stop signal ends the process at once. */
static void *watch_second_signal(void *arg) {
    second_signal *w = arg;
    const struct timespec tick = {0, 100 * 1000000L};
    while (!atomic_load(&w->stopped)) {
        int sig = sigtimedwait(w->signals, NULL, &tick);
        if (sig == SIGINT || sig == SIGTERM) {
            moose__log(MOOSE__LOG_WARN, "run", NULL,
                       "%s again: stopping at once; records not yet committed are read again at "
                       "the next start (at least once)",
                       sig == SIGINT ? "SIGINT" : "SIGTERM");
            _exit(128 + sig);
        }
    }
    return NULL;
}

int moose__cli_run(const moose__cli *cli) {
    /* Blocked before any thread exists: every thread inherits the mask, and sigwait() gets them. */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);

    char errstr[512];
    moose_app *app = moose__app_open(cli->desc, &cli->opts->cfg, MOOSE__EMBEDDED_FIND_OR_START,
                                     cli->prog, errstr, sizeof errstr);
    if (!app) {
        fprintf(stderr, "%s: %s\n", cli->prog, errstr);
        return MOOSE__EXIT_FAILED;
    }
    /* The command line wins over MOOSE_BATCH_* and the schema's batch_* (0 leaves them be). */
    app->sink_batch_rows = cli->opts->batch_rows;
    app->sink_batch_bytes = cli->opts->batch_bytes;
    app->sink_batch_ms = cli->opts->batch_ms;
    if (moose_app_start(app, errstr, sizeof errstr) != 0) {
        fprintf(stderr, "%s: %s\n", cli->prog, errstr);
        moose_app_close(app);
        return MOOSE__EXIT_FAILED;
    }
    if (moose__kafka_owns_broker(app->kafka))
        moose__log(MOOSE__LOG_INFO, "run", NULL, "embedded broker at %s",
                   moose__kafka_bootstrap(app->kafka));
    if (app->http)
        moose__log(MOOSE__LOG_INFO, "run", NULL, "metrics and health at http://%s/",
                   moose__http_address(app->http));
    moose__log(MOOSE__LOG_INFO, "run", NULL, "running app=%s transforms=%u (Ctrl-C stops)",
               cli->desc->name, cli->desc->ntransforms);
    /* Without it the app still runs: the status is a view, not a part of the pipeline. */
    moose__status *status = moose__status_start(app->metrics, stderr, 0);
    if (!status && app->metrics)
        moose__log(MOOSE__LOG_WARN, "run", NULL, "out of memory: no live status line");
    int sig = 0;
    sigwait(&stop_signals, &sig);
    moose__status_stop(status);
    moose__log(MOOSE__LOG_INFO, "run", NULL,
               "%s: stopping, finishing the records in flight (%s again stops at once)",
               sig == SIGINT ? "SIGINT" : "SIGTERM", sig == SIGINT ? "Ctrl-C" : "a signal");
    second_signal watch = {.signals = &stop_signals};
    pthread_t watcher;
    bool watching = pthread_create(&watcher, NULL, watch_second_signal, &watch) == 0;
    moose_app_stop(app);
    moose_app_close(app);
    atomic_store(&watch.stopped, true);
    if (watching)
        pthread_join(watcher, NULL);
    moose__log(MOOSE__LOG_INFO, "run", NULL, "stopped");
    return MOOSE__EXIT_OK;
}
