/*
 * The transport without consumer groups (fast): configuration errors, the
 * embedded broker's file and its discovery from another process, topics,
 * Admin timeouts, the keyed producer and its typed errors, the log.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include "kafka_internal.h"
#include "log.h"
#include "moose/app.h"
#include "transport_test.h"

extern char **environ;

/* ---- configuration ---- */

static void expect_open_error(const char *const *props, int code, const char *message) {
    char *dir = tt_mkdir();
    assert_non_null(dir);
    moose__kafka_opts opts = {.brokers = "embedded",
                              .props = props,
                              .embedded = MOOSE__EMBEDDED_FIND_OR_START,
                              .dir = dir};
    moose__kafka *k = NULL;
    char err[1024] = "";
    assert_int_equal(moose__kafka_open(&opts, &k, err, sizeof(err)), code);
    assert_null(k);
    assert_string_equal(err, message);
    tt_rmdir(dir);
}

static void test_bad_properties(void **state) {
    (void)state;
    const char *unknown[] = {"no.such.property=1", NULL};
    expect_open_error(unknown, MOOSE_EINVAL,
                      "bad Kafka property 'no.such.property=1': No such configuration property: "
                      "\"no.such.property\"");
    const char *bad_value[] = {"acks=all", NULL};
    expect_open_error(bad_value, MOOSE_EINVAL,
                      "bad property 'acks=all': libmoose sets acks itself (use --brokers for the "
                      "bootstrap list)");
    const char *not_kv[] = {"linger.ms", NULL};
    expect_open_error(not_kv, MOOSE_EINVAL, "bad property 'linger.ms': expected key=value");
    const char *ours[] = {"moose.backpressure.max.bytes=lots", NULL};
    expect_open_error(ours, MOOSE_EINVAL,
                      "bad property 'moose.backpressure.max.bytes=lots': expected an integer of "
                      "at least 1024");
    const char *typo[] = {"moose.backpressure.max.byte=1", NULL};
    moose__kafka_opts opts = {.props = typo, .embedded = MOOSE__EMBEDDED_FIND, .dir = "/tmp"};
    moose__kafka *k = NULL;
    char err[1024];
    assert_int_equal(moose__kafka_open(&opts, &k, err, sizeof(err)), MOOSE_EINVAL);
    assert_non_null(strstr(err, "unknown moose setting"));
    const char *wrong_type[] = {"linger.ms=soon", NULL};
    assert_int_equal(moose__kafka_open(&(moose__kafka_opts){.props = wrong_type, .dir = "/tmp"}, &k,
                                       err, sizeof(err)),
                     MOOSE_EINVAL);
    assert_non_null(strstr(err, "bad Kafka property 'linger.ms=soon': "));
}

/* ---- the broker file ---- */

static void test_no_broker_is_a_plain_sentence(void **state) {
    (void)state;
    char *dir = tt_mkdir();
    if (!dir) {
        fail();
        return;
    }
    moose__kafka_opts opts = {.embedded = MOOSE__EMBEDDED_FIND, .dir = dir, .prog = "myapp"};
    moose__kafka *k = NULL;
    char err[1024], want[1200];
    assert_int_equal(moose__kafka_open(&opts, &k, err, sizeof(err)), MOOSE_ENOBROKER);
    snprintf(want, sizeof(want),
             "no embedded broker is running in %s: start one with `myapp broker` or `myapp run`",
             dir);
    assert_string_equal(err, want);
    tt_rmdir(dir);
}

static void test_stale_broker_file_is_removed(void **state) {
    (void)state;
    char *dir = tt_mkdir();
    pid_t child = fork();
    if (child == 0)
        _exit(0);
    waitpid(child, NULL, 0); /* its pid now names no process */
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, MOOSE__BROKER_FILE);
    FILE *f = fopen(path, "w");
    fprintf(f, "bootstrap=127.0.0.1:1\npid=%ld\ncontrol=127.0.0.1:1\n", (long)child);
    fclose(f);
    assert_null(tt_open(dir, MOOSE__EMBEDDED_FIND, NULL));
    assert_int_equal(access(path, F_OK), -1);

    /* A stale file does not stop a new broker from starting in its place. */
    f = fopen(path, "w");
    fprintf(f, "bootstrap=127.0.0.1:1\npid=%ld\ncontrol=127.0.0.1:1\n", (long)child);
    fclose(f);
    moose__kafka *k = tt_open(dir, MOOSE__EMBEDDED_FIND_OR_START, NULL);
    assert_non_null(k);
    assert_true(moose__kafka_owns_broker(k));
    moose__kafka_close(k);

    /* A live process whose broker does not answer: its file is left alone, and the message says
     * what to do. */
    f = fopen(path, "w");
    fprintf(f, "bootstrap=127.0.0.1:1\npid=%ld\ncontrol=127.0.0.1:1\n", (long)getpid());
    fclose(f);
    moose__kafka_opts opts = {
        .embedded = MOOSE__EMBEDDED_FIND_OR_START, .dir = dir, .prog = "myapp"};
    char err[1024], want[1200];
    assert_int_equal(moose__kafka_open(&opts, &k, err, sizeof(err)), MOOSE_ENOBROKER);
    snprintf(want, sizeof(want),
             "the embedded broker in %s (pid %ld) does not answer at 127.0.0.1:1; if pid %ld is "
             "no longer `myapp broker` or `myapp run`, remove %s/.moose-broker",
             dir, (long)getpid(), (long)getpid(), dir);
    assert_string_equal(err, want);
    assert_int_equal(access(path, F_OK), 0);
    tt_rmdir(dir);
}

static void test_publish_find_and_unpublish(void **state) {
    (void)state;
    char *dir = tt_mkdir();
    moose__kafka *owner = tt_open(dir, MOOSE__EMBEDDED_FIND_OR_START, NULL);
    assert_non_null(owner);
    assert_true(moose__kafka_owns_broker(owner));
    assert_true(moose__kafka_embedded(owner));
    assert_int_equal(strncmp(moose__kafka_bootstrap(owner), "127.0.0.1:", 10), 0);

    char path[1024], want[512];
    snprintf(path, sizeof(path), "%s/%s", dir, MOOSE__BROKER_FILE);
    char *text = tt_slurp(path);
    assert_non_null(text);
    snprintf(want, sizeof(want),
             "bootstrap=%s\npid=%ld\ncontrol=127.0.0.1:", moose__kafka_bootstrap(owner),
             (long)getpid());
    assert_int_equal(strncmp(text, want, strlen(want)), 0);
    free(text);

    moose__kafka *client = tt_open(dir, MOOSE__EMBEDDED_FIND, NULL);
    assert_non_null(client);
    assert_false(moose__kafka_owns_broker(client));
    assert_string_equal(moose__kafka_bootstrap(client), moose__kafka_bootstrap(owner));

    moose__kafka_opts opts = {.embedded = MOOSE__EMBEDDED_START, .dir = dir};
    moose__kafka *second = NULL;
    char err[1024];
    assert_int_equal(moose__kafka_open(&opts, &second, err, sizeof(err)), MOOSE_EINVAL);
    snprintf(want, sizeof(want),
             "an embedded broker is already running in %s (pid %ld, %s): stop it first, or use it",
             dir, (long)getpid(), moose__kafka_bootstrap(owner));
    assert_string_equal(err, want);

    moose__kafka_close(client);
    moose__kafka_close(owner);
    assert_int_equal(access(path, F_OK), -1);
    tt_rmdir(dir);
}

/* ---- topics ---- */

static void test_topics_in_the_owner(void **state) {
    (void)state;
    char *dir = tt_mkdir();
    moose__kafka *k = tt_open(dir, MOOSE__EMBEDDED_FIND_OR_START, NULL);
    assert_non_null(k);
    char err[1024];
    assert_int_equal(moose__kafka_ensure_topic(k, "orders", 3, 86400000, err, sizeof(err)), 0);
    assert_int_equal(moose__kafka_partition_count(k, "orders", err, sizeof(err)), 3);
    assert_int_equal(moose__kafka_ensure_topic(k, "orders", 3, 0, err, sizeof(err)), 0);

    assert_int_equal(moose__kafka_ensure_topic(k, "orders", 2, 0, err, sizeof(err)), MOOSE_ESCHEMA);
    assert_string_equal(err, "topic 'orders' has 3 partitions but the schema declares 2: more "
                             "partitions would spread keys differently from the declared "
                             "parallelism; raise `parallelism` to 3 or recreate the topic");
    assert_int_equal(moose__kafka_ensure_topic(k, "orders", 5, 0, err, sizeof(err)), MOOSE_ESCHEMA);
    assert_string_equal(err, "topic 'orders' has 3 partitions in the embedded broker, the schema "
                             "declares 5: the embedded broker cannot add partitions; restart it");
    assert_int_equal(moose__kafka_partition_count(k, "nothing-here", err, sizeof(err)),
                     MOOSE_ENOTFOUND);
    moose__kafka_close(k);
    tt_rmdir(dir);
}

/* Runs this test binary again as another process that opens DIR's broker and creates a topic. */
static int run_child(const char *dir, const char *topic, const char *partitions) {
    char *argv[] = {"/proc/self/exe", "--child-topic",    (char *)dir,
                    (char *)topic,    (char *)partitions, NULL};
    pid_t pid;
    if (posix_spawn(&pid, "/proc/self/exe", NULL, NULL, argv, environ) != 0)
        return -1;
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int child_topic(const char *dir, const char *topic, int partitions) {
    moose__kafka *k = tt_open(dir, MOOSE__EMBEDDED_FIND, NULL);
    if (!k)
        return 3;
    if (moose__kafka_owns_broker(k))
        return 4;
    char err[1024];
    int rc = moose__kafka_ensure_topic(k, topic, partitions, 0, err, sizeof(err));
    if (rc)
        fprintf(stderr, "%s\n", err);
    moose__kafka_close(k);
    return rc == 0 ? 0 : rc == MOOSE_ESCHEMA ? 5 : 6;
}

static void test_topics_from_another_process(void **state) {
    (void)state;
    char *dir = tt_mkdir();
    moose__kafka *owner = tt_open(dir, MOOSE__EMBEDDED_FIND_OR_START, NULL);
    assert_non_null(owner);
    char err[1024];
    assert_int_equal(run_child(dir, "from-child", "4"), 0);
    assert_int_equal(moose__kafka_partition_count(owner, "from-child", err, sizeof(err)), 4);
    assert_int_equal(run_child(dir, "from-child", "4"), 0);
    /* The owner's refusal reaches the other process with its code. */
    assert_int_equal(run_child(dir, "from-child", "2"), 5);

    /* The same path in-process: a client that does not own the broker. */
    moose__kafka *client = tt_open(dir, MOOSE__EMBEDDED_FIND, NULL);
    assert_int_equal(moose__kafka_ensure_topic(client, "from-child", 6, 0, err, sizeof(err)),
                     MOOSE_ESCHEMA);
    assert_string_equal(err, "topic 'from-child' has 4 partitions in the embedded broker, the "
                             "schema declares 6: the embedded broker cannot add partitions; "
                             "restart it");
    moose__kafka_close(client);
    moose__kafka_close(owner);
    /* With the owner gone, a client finds nothing rather than a dead address. */
    assert_int_equal(run_child(dir, "late", "1"), 3);
    tt_rmdir(dir);
}

/* ---- `APP broker` ---- */

static const moose_stream_desc ev_stream = {
    .name = "ev", .topic = "ev", .parallelism = 2, .retention_s = 3600};
static const moose_stream_desc *const app_streams[] = {&ev_stream};
static const moose_app_desc test_app = {
    .abi_version = MOOSE_ABI_VERSION, .name = "testapp", .streams = app_streams, .nstreams = 1};

static int child_broker(const char *dir) {
    if (chdir(dir) != 0)
        return 9;
    moose_config cfg = {.brokers = "embedded"};
    return moose__broker_main(&test_app, &cfg, "testapp");
}

/* Starts `--child-broker DIR` with its stdout on *OUT. */
static pid_t spawn_broker(const char *dir, FILE **out) {
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    char *argv[] = {"/proc/self/exe", "--child-broker", (char *)dir, NULL};
    pid_t pid;
    int rc = posix_spawn(&pid, "/proc/self/exe", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        return -1;
    }
    *out = fdopen(fds[0], "r");
    return pid;
}

static void test_broker_command(void **state) {
    (void)state;
    char *dir = tt_mkdir();
    FILE *out = NULL;
    pid_t broker = spawn_broker(dir, &out);
    assert_true(broker > 0);
    char line[256] = "";
    assert_non_null(fgets(line, sizeof(line), out)); /* the address, once it is ready */
    line[strcspn(line, "\n")] = '\0';
    assert_int_equal(strncmp(line, "127.0.0.1:", 10), 0);

    moose__kafka *k = tt_open(dir, MOOSE__EMBEDDED_FIND, NULL);
    assert_non_null(k);
    assert_false(moose__kafka_owns_broker(k));
    assert_string_equal(moose__kafka_bootstrap(k), line);
    char err[1024];
    assert_int_equal(moose__kafka_partition_count(k, "ev", err, sizeof(err)), 2);
    assert_int_equal(moose__kafka_partition_count(k, "ev.dlq", err, sizeof(err)), 2);
    moose__kafka_close(k);

    /* A second broker in the same directory refuses to start. */
    FILE *out2 = NULL;
    pid_t second = spawn_broker(dir, &out2);
    int status;
    waitpid(second, &status, 0);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 1);
    fclose(out2);

    kill(broker, SIGTERM);
    waitpid(broker, &status, 0);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    fclose(out);
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, MOOSE__BROKER_FILE);
    assert_int_equal(access(path, F_OK), -1);
    tt_rmdir(dir);
}

/* Against a "real cluster" that ignores CreateTopics (the mock): a clear timeout, not a hang. */
static void test_admin_request_times_out_clearly(void **state) {
    (void)state;
    char *dir = tt_mkdir();
    moose__kafka *owner = tt_open(dir, MOOSE__EMBEDDED_FIND_OR_START, NULL);
    assert_non_null(owner);
    const char *props[] = {"moose.admin.timeout.ms=1500", NULL};
    moose__kafka_opts opts = {.brokers = moose__kafka_bootstrap(owner), .props = props};
    moose__kafka *k = NULL;
    char err[1024];
    assert_int_equal(moose__kafka_open(&opts, &k, err, sizeof(err)), 0);
    assert_false(moose__kafka_embedded(k));
    int rc = moose__kafka_ensure_topic(k, "via-admin", 2, 0, err, sizeof(err));
    assert_int_equal(rc, MOOSE_ETIMEDOUT);
    char want[512];
    snprintf(want, sizeof(want),
             "CreateTopics for topic 'via-admin' at %s failed: ", moose__kafka_bootstrap(owner));
    assert_int_equal(strncmp(err, want, strlen(want)), 0);
    moose__kafka_close(k);
    moose__kafka_close(owner);
    tt_rmdir(dir);
}

/* ---- producer ---- */

typedef struct async_count {
    pthread_mutex_t mu;
    int ok, failed;
    int64_t last_offset;
} async_count;

static void count_cb(int status, int32_t partition, int64_t offset, const char *message,
                     void *opaque) {
    (void)partition;
    (void)message;
    async_count *c = opaque;
    pthread_mutex_lock(&c->mu);
    if (status == 0) {
        c->ok++;
        if (offset > c->last_offset)
            c->last_offset = offset;
    } else {
        c->failed++;
    }
    pthread_mutex_unlock(&c->mu);
}

static void test_keyed_producer(void **state) {
    (void)state;
    char *dir = tt_mkdir();
    moose__kafka *k = tt_open(dir, MOOSE__EMBEDDED_FIND_OR_START, NULL);
    char err[1024];
    assert_int_equal(moose__kafka_ensure_topic(k, "events", 4, 0, err, sizeof(err)), 0);
    moose__producer *p = moose__producer_new(k, "test", err, sizeof(err));
    assert_non_null(p);

    /*
     * The Java client's murmur2: the partition any Kafka client computes for
     * the key. The topic handle is made only after the producer made its own
     * (librdkafka keeps the first handle of a name and its configuration).
     */
    rd_kafka_topic_t *rkt = NULL;
    const char *keys[] = {"user-1", "user-2", "user-3", "user-4", "user-5", "user-6",
                          "user-7", "user-8", "user-9", "user-10"};
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 10; i++) {
            char value[64];
            snprintf(value, sizeof(value), "{\"n\":%d}", round);
            int32_t part = -1;
            int64_t off = -1;
            assert_int_equal(moose__producer_send_sync(p, "events", keys[i], strlen(keys[i]), value,
                                                       strlen(value), &part, &off, err,
                                                       sizeof(err)),
                             0);
            if (!rkt)
                rkt = rd_kafka_topic_new(moose__producer_handle(p), "events", NULL);
            int32_t want =
                rd_kafka_msg_partitioner_murmur2(rkt, keys[i], strlen(keys[i]), 4, NULL, NULL);
            assert_int_equal(part, want);
            assert_true(off >= round);
        }
    }
    rd_kafka_topic_destroy(rkt);

    async_count c = {.last_offset = -1};
    pthread_mutex_init(&c.mu, NULL);
    for (int i = 0; i < 200; i++)
        assert_int_equal(moose__producer_send(p, "events", 2, "k", 1, "v", 1, count_cb, &c), 0);
    assert_int_equal(moose__producer_flush(p, 10000), 0);
    assert_int_equal(moose__producer_in_flight(p), 0);
    assert_int_equal(c.ok, 200);
    assert_int_equal(c.failed, 0);

    /* A record the broker refuses for good is a delivery error with the broker's reason. */
    rd_kafka_mock_push_request_errors(moose__embedded_cluster(k->owned), 0 /* Produce */, 1,
                                      RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
    int rc =
        moose__producer_send_sync(p, "events", "user-1", 6, "x", 1, NULL, NULL, err, sizeof(err));
    assert_int_equal(rc, MOOSE_EDELIVERY);
    assert_string_equal(err, "broker did not acknowledge the record on topic 'events': "
                             "TOPIC_AUTHORIZATION_FAILED: Broker: Topic authorization failed");
    moose__producer_close(p);
    moose__kafka_close(k);
    tt_rmdir(dir);
}

/* What the shared delivery callback saw of one record. */
typedef struct shared_outcome {
    int calls;
    int status;
    int64_t offset;
    char message[256];
} shared_outcome;

static const void *odd_opaque_seen; /* the one opaque with its low bit set that reached the cb */

static void shared_cb(int status, int32_t partition, int64_t offset, const char *message,
                      void *opaque) {
    (void)partition;
    if ((uintptr_t)opaque & 1) {
        odd_opaque_seen = opaque;
        return;
    }
    shared_outcome *o = opaque;
    o->calls++;
    o->status = status;
    o->offset = offset;
    snprintf(o->message, sizeof(o->message), "%s", message ? message : "");
}

/*
 * The shared delivery callback gets each record's own opaque back, exactly
 * once, for acknowledged and refused records alike; an opaque it cannot tag
 * (an odd address) and other callbacks still get theirs.
 */
static void test_shared_delivery_callback(void **state) {
    (void)state;
    char *dir = tt_mkdir();
    moose__kafka *k = tt_open(dir, MOOSE__EMBEDDED_FIND_OR_START, NULL);
    char err[1024];
    assert_int_equal(moose__kafka_ensure_topic(k, "shared", 1, 0, err, sizeof(err)), 0);
    moose__producer *p = moose__producer_new(k, "test", err, sizeof(err));
    assert_non_null(p);
    moose__producer_share_cb(p, shared_cb);

    enum { N = 100 };
    shared_outcome out[N] = {{0}};
    for (int i = 0; i < N; i++)
        assert_int_equal(moose__producer_send(p, "shared", 0, "k", 1, "v", 1, shared_cb, &out[i]),
                         0);
    char bytes[4] = {0};
    const void *odd = &bytes[((uintptr_t)bytes & 1) ? 0 : 1];
    assert_int_equal(moose__producer_send(p, "shared", 0, "k", 1, "v", 1, shared_cb, (void *)odd),
                     0);
    async_count c = {.last_offset = -1};
    pthread_mutex_init(&c.mu, NULL);
    assert_int_equal(moose__producer_send(p, "shared", 0, "k", 1, "v", 1, count_cb, &c), 0);
    assert_int_equal(moose__producer_flush(p, 10000), 0);
    for (int i = 0; i < N; i++) {
        assert_int_equal(out[i].calls, 1);
        assert_int_equal(out[i].status, 0);
        assert_int_equal(out[i].offset, i); /* one partition: offsets in send order */
    }
    assert_ptr_equal(odd_opaque_seen, odd);
    assert_int_equal(c.ok, 1);
    assert_int_equal(c.last_offset, N + 1);

    /* A refused record reaches the shared callback too, with the broker's reason. */
    rd_kafka_mock_push_request_errors(moose__embedded_cluster(k->owned), 0 /* Produce */, 1,
                                      RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
    shared_outcome refused = {0};
    assert_int_equal(moose__producer_send(p, "shared", 0, "k", 1, "x", 1, shared_cb, &refused), 0);
    assert_int_equal(moose__producer_flush(p, 10000), 0);
    assert_int_equal(refused.calls, 1);
    assert_int_equal(refused.status, MOOSE_EDELIVERY);
    assert_non_null(
        strstr(refused.message, "broker did not acknowledge the record on topic 'shared': "));
    assert_int_equal(moose__producer_in_flight(p), 0);
    moose__producer_close(p);
    pthread_mutex_destroy(&c.mu);
    moose__kafka_close(k);
    tt_rmdir(dir);
}

typedef struct last_outcome {
    pthread_mutex_t mu;
    int calls;
    int status;
    char message[256];
} last_outcome;

static void remember_cb(int status, int32_t partition, int64_t offset, const char *message,
                        void *opaque) {
    (void)partition;
    (void)offset;
    last_outcome *o = opaque;
    pthread_mutex_lock(&o->mu);
    o->calls++;
    o->status = status;
    snprintf(o->message, sizeof(o->message), "%s", message ? message : "");
    pthread_mutex_unlock(&o->mu);
}

/* Queue full while the broker is away, and a record still queued at close is reported, not lost. */
static void test_queue_full_and_closed(void **state) {
    (void)state;
    char *dir = tt_mkdir();
    moose__kafka *owner = tt_open(dir, MOOSE__EMBEDDED_FIND_OR_START, NULL);
    char err[1024];
    assert_int_equal(moose__kafka_ensure_topic(owner, "held", 1, 0, err, sizeof(err)), 0);
    const char *props[] = {"queue.buffering.max.messages=1", "moose.send.timeout.ms=300", NULL};
    moose__kafka *k = tt_open(dir, MOOSE__EMBEDDED_FIND, props);
    assert_non_null(k);
    moose__producer *p = moose__producer_new(k, "test", err, sizeof(err));
    assert_non_null(p);
    rd_kafka_mock_broker_set_down(moose__embedded_cluster(owner->owned), 1);

    last_outcome o = {.calls = 0};
    pthread_mutex_init(&o.mu, NULL);
    assert_int_equal(moose__producer_send(p, "held", 0, "a", 1, "1", 1, remember_cb, &o), 0);
    assert_int_equal(moose__producer_send(p, "held", 0, "b", 1, "2", 1, remember_cb, &o),
                     MOOSE_EQUEUEFULL);
    assert_int_equal(
        moose__producer_send_sync(p, "held", "c", 1, "3", 1, NULL, NULL, err, sizeof(err)),
        MOOSE_EQUEUEFULL);
    assert_string_equal(err, "cannot send a record to topic 'held': producer queue is full");
    assert_int_equal(moose__producer_flush(p, 200), MOOSE_ETIMEDOUT);
    assert_int_equal(moose__producer_in_flight(p), 1);
    assert_int_equal(o.calls, 0);

    moose__producer_close(p);
    assert_int_equal(o.calls, 1);
    assert_int_equal(o.status, MOOSE_ECLOSED);
    assert_non_null(strstr(o.message, "broker did not acknowledge the record on topic 'held': "));
    rd_kafka_mock_broker_set_up(moose__embedded_cluster(owner->owned), 1);
    moose__kafka_close(k);
    moose__kafka_close(owner);
    tt_rmdir(dir);
}

/* Back-pressure bounds a partition by what its readers committed; nobody reads "unread". */
static void test_backpressure_limits_and_timeout(void **state) {
    (void)state;
    char *dir = tt_mkdir();
    const char *props[] = {"moose.backpressure.max.records=10", "moose.backpressure.max.bytes=4096",
                           "moose.backpressure.timeout.ms=300", NULL};
    moose__kafka *k = tt_open(dir, MOOSE__EMBEDDED_FIND_OR_START, props);
    char err[1024];
    assert_int_equal(moose__kafka_ensure_topic(k, "unread", 2, 0, err, sizeof(err)), 0);
    moose__producer *p = moose__producer_new(k, "test", err, sizeof(err));
    const char *groups[] = {"g-nobody"};
    assert_int_equal(moose__producer_watch(p, "unread", groups, 1), 0);

    FILE *log = tmpfile();
    moose__log_set_output(log);
    /* Records: 10 fit in partition 0, the 11th waits 300 ms and is refused. */
    for (int i = 0; i < 10; i++)
        assert_int_equal(moose__producer_send(p, "unread", 0, "k", 1, "v", 1, NULL, NULL), 0);
    assert_int_equal(moose__producer_send(p, "unread", 0, "k", 1, "v", 1, NULL, NULL),
                     MOOSE_EQUEUEFULL);
    /* Bytes: partition 1 takes three records of 1000 bytes (+64 each), not a fourth. */
    char big[1000];
    memset(big, 'b', sizeof(big));
    for (int i = 0; i < 3; i++)
        assert_int_equal(moose__producer_send(p, "unread", 1, "k", 1, big, sizeof(big), NULL, NULL),
                         0);
    assert_int_equal(moose__producer_send(p, "unread", 1, "k", 1, big, sizeof(big), NULL, NULL),
                     MOOSE_EQUEUEFULL);
    moose__log_set_output(NULL);
    assert_int_equal(moose__producer_flush(p, 10000), 0);

    rewind(log);
    char line[512];
    int gave_up = 0;
    while (fgets(line, sizeof(line), log))
        if (strstr(line, " warn producer gave up waiting for the slowest reader to commit "
                         "topic=unread partition=0 group=g-nobody records_ahead=10 "))
            gave_up++;
    assert_int_equal(gave_up, 1);
    fclose(log);
    moose__producer_close(p);
    moose__kafka_close(k);
    tt_rmdir(dir);
}

/* A record within the app's limit fits through Kafka even with its Key in it twice. */
static void test_large_records_fit(void **state) {
    (void)state;
    char *dir = tt_mkdir();
    moose__kafka *k = tt_open(dir, MOOSE__EMBEDDED_FIND_OR_START, NULL); /* 1 MiB records */
    char err[1024];
    assert_int_equal(moose__kafka_ensure_topic(k, "large", 1, 0, err, sizeof(err)), 0);
    moose__producer *p = moose__producer_new(k, "test", err, sizeof(err));
    size_t key_len = 600 * 1000, value_len = 1000 * 1000;
    char *key = malloc(key_len), *value = malloc(2200 * 1000);
    memset(key, 'k', key_len);
    memset(value, 'v', 2200 * 1000);
    int64_t offset = -1;
    assert_int_equal(moose__producer_send_sync(p, "large", key, key_len, value, value_len, NULL,
                                               &offset, err, sizeof(err)),
                     0);
    assert_int_equal(offset, 0);
    /* Beyond twice the record limit is refused at once, as too big. */
    assert_int_equal(moose__producer_send(p, "large", 0, key, 1, value, 2200 * 1000, NULL, NULL),
                     MOOSE_ETOOBIG);
    free(key);
    free(value);
    moose__producer_close(p);
    moose__kafka_close(k);
    tt_rmdir(dir);
}

/* ---- log ---- */

static void test_log_lines_and_rate_limit(void **state) {
    (void)state;
    FILE *out = tmpfile();
    moose__log_set_output(out);
    moose__log_set_rate(3);
    for (int i = 0; i < 10; i++)
        moose__log(MOOSE__LOG_ERROR, "transform", "bad-record", "transform failed n=%d", i);
    moose__log(MOOSE__LOG_DEBUG, "transform", NULL, "not shown at info");
    moose__log(MOOSE__LOG_INFO, "transform", NULL, "unlimited kind");
    struct timespec ts = {1, 100 * 1000000};
    nanosleep(&ts, NULL);
    moose__log(MOOSE__LOG_ERROR, "transform", "bad-record", "transform failed n=%d", 10);
    for (int i = 11; i < 15; i++)
        moose__log(MOOSE__LOG_ERROR, "transform", "bad-record", "transform failed n=%d", i);
    moose__log_flush_suppressed(); /* the tail of the flood is owed a line too */
    moose__log_flush_suppressed(); /* and only once */
    moose__log_set_output(NULL);
    moose__log_set_rate(20);

    rewind(out);
    char line[512];
    const char *want[] = {
        "error transform transform failed n=0",
        "error transform transform failed n=1",
        "error transform transform failed n=2",
        "info transform unlimited kind",
        "error transform suppressed 7 similar messages kind=bad-record",
        "error transform transform failed n=10",
        "error transform transform failed n=11",
        "error transform transform failed n=12",
        "error transform suppressed 2 similar messages kind=bad-record",
    };
    int n = 0;
    while (fgets(line, sizeof(line), out)) {
        line[strcspn(line, "\n")] = '\0';
        assert_true(n < 9);
        /* 2026-11-27T15:40:01.123Z: 24 characters, then a space. */
        assert_int_equal(strlen(line) > 25, 1);
        assert_int_equal(line[4], '-');
        assert_int_equal(line[10], 'T');
        assert_int_equal(line[23], 'Z');
        assert_string_equal(line + 25, want[n]);
        n++;
    }
    assert_int_equal(n, 9);
    assert_int_equal(moose__log_suppressed_total() >= 9, 1);
    fclose(out);

    char q[64];
    assert_string_equal(moose__log_quote(q, sizeof(q), "plain", 5), "plain");
    assert_string_equal(moose__log_quote(q, sizeof(q), "a b\"c\n", 6), "\"a b\\\"c\\n\"");
    assert_string_equal(moose__log_quote(q, sizeof(q), "", 0), "\"\"");
    moose__log_level lvl;
    assert_int_equal(moose__log_parse_level("WARN", &lvl), 0);
    assert_int_equal(lvl, MOOSE__LOG_WARN);
    assert_int_equal(moose__log_parse_level("loud", &lvl), -1);
}

int main(int argc, char **argv) {
    if (argc == 5 && strcmp(argv[1], "--child-topic") == 0)
        return child_topic(argv[2], argv[3], atoi(argv[4]));
    if (argc == 3 && strcmp(argv[1], "--child-broker") == 0)
        return child_broker(argv[2]);
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_properties),
        cmocka_unit_test(test_no_broker_is_a_plain_sentence),
        cmocka_unit_test(test_stale_broker_file_is_removed),
        cmocka_unit_test(test_publish_find_and_unpublish),
        cmocka_unit_test(test_topics_in_the_owner),
        cmocka_unit_test(test_topics_from_another_process),
        cmocka_unit_test(test_broker_command),
        cmocka_unit_test(test_admin_request_times_out_clearly),
        cmocka_unit_test(test_keyed_producer),
        cmocka_unit_test(test_shared_delivery_callback),
        cmocka_unit_test(test_queue_full_and_closed),
        cmocka_unit_test(test_backpressure_limits_and_timeout),
        cmocka_unit_test(test_large_records_fit),
        cmocka_unit_test(test_log_lines_and_rate_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
