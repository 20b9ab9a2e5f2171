/*
 * moose__producer_send_batch against the embedded broker: records land at
 * their key's partition in the order given, every record's outcome reaches
 * the shared callback once, and a batch that meets a full queue or
 * back-pressure queues its first records and refuses all the rest.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>

#include "kafka_internal.h"
#include "moose/error.h"
#include "transport_test.h"

/* What the shared callback saw of one record. */
typedef struct outcome {
    int calls;
    int status;
    int32_t partition;
    int64_t offset;
} outcome;

static pthread_mutex_t outcome_lock = PTHREAD_MUTEX_INITIALIZER;

static void outcome_cb(int status, int32_t partition, int64_t offset, const char *message,
                       void *opaque) {
    (void)message;
    outcome *o = opaque;
    pthread_mutex_lock(&outcome_lock);
    o->calls++;
    o->status = status;
    o->partition = partition;
    o->offset = offset;
    pthread_mutex_unlock(&outcome_lock);
}

static moose__producer *new_producer(moose__kafka *k) {
    char err[1024];
    moose__producer *p = moose__producer_new(k, "test", err, sizeof(err));
    assert_non_null(p);
    moose__producer_share_cb(p, outcome_cb);
    return p;
}

/* N items with keys "user-<i % nkeys>", values "<i>", each reporting to OUT[i]. */
static moose__send_item *make_items(size_t n, int nkeys, outcome *out, char (*keys)[16],
                                    char (*values)[16]) {
    moose__send_item *items = calloc(n, sizeof *items);
    assert_non_null(items);
    for (size_t i = 0; i < n; i++) {
        int kl = snprintf(keys[i], 16, "user-%d", (int)(i % (size_t)nkeys));
        int vl = snprintf(values[i], 16, "%zu", i);
        items[i] = (moose__send_item){.key = keys[i],
                                      .key_len = (size_t)kl,
                                      .value = values[i],
                                      .value_len = (size_t)vl,
                                      .opaque = &out[i],
                                      .rc = -12345};
    }
    return items;
}

/* The partition any Kafka client computes for KEY (the Java client's murmur2). */
static int32_t key_partition(moose__producer *p, const char *topic, const char *key,
                             int32_t nparts) {
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(moose__producer_handle(p), topic, NULL);
    int32_t part = rd_kafka_msg_partitioner_murmur2(rkt, key, strlen(key), nparts, NULL, NULL);
    rd_kafka_topic_destroy(rkt);
    return part;
}

/*
 * 300 records (more than one chunk handed to librdkafka) over 10 keys, to an
 * unwatched topic: each at its key's partition, each key's records at rising
 * offsets in the order given.
 */
static void test_batch_lands_by_key_in_order(void **state) {
    (void)state;
    char *dir = tt_mkdir();
    moose__kafka *k = tt_open(dir, MOOSE__EMBEDDED_FIND_OR_START, NULL);
    char err[1024];
    assert_int_equal(moose__kafka_ensure_topic(k, "batch", 4, 0, err, sizeof(err)), 0);
    moose__producer *p = new_producer(k);

    enum { N = 300, KEYS = 10 };
    static outcome out[N];
    static char keys[N][16], values[N][16];
    memset(out, 0, sizeof out);
    moose__send_item *items = make_items(N, KEYS, out, keys, values);
    assert_int_equal(moose__producer_send_batch(p, "batch", items, N), N);
    assert_int_equal(moose__producer_flush(p, 10000), 0);
    assert_int_equal(moose__producer_in_flight(p), 0);

    int64_t last[KEYS];
    for (int i = 0; i < KEYS; i++)
        last[i] = -1;
    for (int i = 0; i < N; i++) {
        assert_int_equal(items[i].rc, 0);
        assert_int_equal(out[i].calls, 1);
        assert_int_equal(out[i].status, 0);
        assert_int_equal(out[i].partition, key_partition(p, "batch", keys[i], 4));
        assert_true(out[i].offset > last[i % KEYS]);
        last[i % KEYS] = out[i].offset;
    }
    free(items);
    moose__producer_close(p);
    moose__kafka_close(k);
    tt_rmdir(dir);
}

/*
 * A watched topic whose reader never commits takes 10 records a partition:
 * of 30 records of one key, the first 10 are queued at the key's partition
 * and the other 20 refused after one wait, none after a later one fitted.
 */
static void test_batch_meets_back_pressure(void **state) {
    (void)state;
    char *dir = tt_mkdir();
    const char *props[] = {"moose.backpressure.max.records=10", "moose.backpressure.timeout.ms=300",
                           NULL};
    moose__kafka *k = tt_open(dir, MOOSE__EMBEDDED_FIND_OR_START, props);
    char err[1024];
    assert_int_equal(moose__kafka_ensure_topic(k, "unread", 2, 0, err, sizeof(err)), 0);
    moose__producer *p = new_producer(k);
    const char *groups[] = {"g-nobody"};
    assert_int_equal(moose__producer_watch(p, "unread", groups, 1), 0);

    enum { N = 30 };
    static outcome out[N];
    static char keys[N][16], values[N][16];
    memset(out, 0, sizeof out);
    moose__send_item *items = make_items(N, 1, out, keys, values);
    assert_int_equal(moose__producer_send_batch(p, "unread", items, N), 10);
    for (int i = 0; i < N; i++)
        assert_int_equal(items[i].rc, i < 10 ? 0 : MOOSE_EQUEUEFULL);
    assert_int_equal(moose__producer_flush(p, 10000), 0);
    int32_t want = key_partition(p, "unread", "user-0", 2);
    for (int i = 0; i < N; i++) {
        assert_int_equal(out[i].calls, i < 10 ? 1 : 0);
        if (i < 10) {
            assert_int_equal(out[i].status, 0);
            assert_int_equal(out[i].partition, want);
            assert_int_equal(out[i].offset, i);
        }
    }
    /* The other partition still has room: a key of its own goes through. */
    static char other[16];
    int other_len = 0;
    for (int i = 1; other_len == 0; i++) {
        snprintf(other, sizeof other, "user-%d", i);
        if (key_partition(p, "unread", other, 2) != want)
            other_len = (int)strlen(other);
    }
    outcome one = {0};
    moose__send_item item = {
        .key = other, .key_len = (size_t)other_len, .value = "v", .value_len = 1, .opaque = &one};
    assert_int_equal(moose__producer_send_batch(p, "unread", &item, 1), 1);
    assert_int_equal(item.rc, 0);
    assert_int_equal(moose__producer_flush(p, 10000), 0);
    assert_int_equal(one.calls, 1);
    assert_int_equal(one.partition, 1 - want);
    free(items);
    moose__producer_close(p);
    moose__kafka_close(k);
    tt_rmdir(dir);
}

/*
 * librdkafka's queue holds 3 records and the broker is away: a batch of 6
 * queues 3 and refuses the rest as a full queue; the 3 queued are reported
 * ECLOSED at close, never dropped in silence.
 */
static void test_batch_meets_a_full_queue(void **state) {
    (void)state;
    char *dir = tt_mkdir();
    moose__kafka *owner = tt_open(dir, MOOSE__EMBEDDED_FIND_OR_START, NULL);
    char err[1024];
    assert_int_equal(moose__kafka_ensure_topic(owner, "held", 1, 0, err, sizeof(err)), 0);
    const char *props[] = {"queue.buffering.max.messages=3", "moose.send.timeout.ms=300", NULL};
    moose__kafka *k = tt_open(dir, MOOSE__EMBEDDED_FIND, props);
    assert_non_null(k);
    moose__producer *p = new_producer(k);
    rd_kafka_mock_broker_set_down(moose__embedded_cluster(owner->owned), 1);

    enum { N = 6 };
    static outcome out[N];
    static char keys[N][16], values[N][16];
    memset(out, 0, sizeof out);
    moose__send_item *items = make_items(N, 2, out, keys, values);
    assert_int_equal(moose__producer_send_batch(p, "held", items, N), 3);
    for (int i = 0; i < N; i++)
        assert_int_equal(items[i].rc, i < 3 ? 0 : MOOSE_EQUEUEFULL);
    assert_int_equal(moose__producer_in_flight(p), 3);

    moose__producer_close(p);
    for (int i = 0; i < N; i++) {
        assert_int_equal(out[i].calls, i < 3 ? 1 : 0);
        if (i < 3)
            assert_int_equal(out[i].status, MOOSE_ECLOSED);
    }
    free(items);
    rd_kafka_mock_broker_set_up(moose__embedded_cluster(owner->owned), 1);
    moose__kafka_close(k);
    moose__kafka_close(owner);
    tt_rmdir(dir);
}

/* Without a shared callback there is nowhere to report to: every record is refused. */
static void test_batch_needs_the_shared_callback(void **state) {
    (void)state;
    char *dir = tt_mkdir();
    moose__kafka *k = tt_open(dir, MOOSE__EMBEDDED_FIND_OR_START, NULL);
    char err[1024];
    moose__producer *p = moose__producer_new(k, "test", err, sizeof(err));
    assert_non_null(p);
    outcome o = {0};
    moose__send_item items[2] = {
        {.key = "a", .key_len = 1, .value = "1", .value_len = 1, .opaque = &o},
        {.key = "b", .key_len = 1, .value = "2", .value_len = 1, .opaque = &o},
    };
    assert_int_equal(moose__producer_send_batch(p, "anything", items, 2), 0);
    assert_int_equal(items[0].rc, MOOSE_EINVAL);
    assert_int_equal(items[1].rc, MOOSE_EINVAL);
    assert_int_equal(moose__producer_in_flight(p), 0);
    moose__producer_close(p);
    assert_int_equal(o.calls, 0);
    moose__kafka_close(k);
    tt_rmdir(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch_lands_by_key_in_order),
        cmocka_unit_test(test_batch_meets_back_pressure),
        cmocka_unit_test(test_batch_meets_a_full_queue),
        cmocka_unit_test(test_batch_needs_the_shared_callback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
