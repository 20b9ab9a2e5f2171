/*
 * Consumer groups against the real embedded broker: per-key partition and
 * order, commits of only what the owner says is done (committed from the
 * revoke callback, resumed by the next member), two members sharing
 * partitions, gap detection when the broker drops data, and back-pressure
 * that keeps it from dropping any. Each first group join costs ~3 s, so
 * every test joins as few groups as it can.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <inttypes.h>
#include <pthread.h>
#include <signal.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "kafka_internal.h"
#include "log.h"
#include "transport_test.h"

#define WAIT_MS 30000

/* ---- per-key order, commit from the revoke callback, resume ---- */

#define NKEYS 8
#define PER_KEY 50

typedef struct resume_state {
    int64_t done_next[4]; /* per partition: the next offset after what counts as done */
    int revokes;
    int revoked_partitions;
    int commit_rc;
} resume_state;

/* The owner's drain: commit only what it counts as done, while the partitions are still its own. */
static void commit_done_on_revoke(moose__consumer *c, const rd_kafka_topic_partition_list_t *parts,
                                  void *opaque) {
    resume_state *st = opaque;
    st->revokes++;
    st->revoked_partitions += parts->cnt;
    for (int i = 0; i < parts->cnt; i++) {
        int32_t p = parts->elems[i].partition;
        if (st->done_next[p] > 0) {
            int rc = moose__consumer_commit(c, "keyed", p, st->done_next[p], true);
            if (rc)
                st->commit_rc = rc;
        }
    }
}

static void test_key_order_commit_and_resume(void **state) {
    (void)state;
    char *dir = tt_mkdir();
    moose__kafka *k = tt_open(dir, MOOSE__EMBEDDED_FIND_OR_START, NULL);
    assert_non_null(k);
    char err[1024];
    assert_int_equal(moose__kafka_ensure_topic(k, "keyed", 4, 0, err, sizeof(err)), 0);
    moose__producer *p = moose__producer_new(k, "test", err, sizeof(err));
    for (int seq = 0; seq < PER_KEY; seq++) {
        for (int key = 0; key < NKEYS; key++) {
            char kbuf[16], vbuf[32];
            snprintf(kbuf, sizeof(kbuf), "key-%d", key);
            snprintf(vbuf, sizeof(vbuf), "%d", seq);
            assert_int_equal(moose__producer_send(p, "keyed", -1, kbuf, strlen(kbuf), vbuf,
                                                  strlen(vbuf), NULL, NULL),
                             0);
        }
    }
    assert_int_equal(moose__producer_flush(p, 10000), 0);

    resume_state st = {{0}, 0, 0, 0};
    const char *topics[] = {"keyed"};
    moose__consumer_opts co = {.group = "g-resume",
                               .topics = topics,
                               .ntopics = 1,
                               .on_revoke = commit_done_on_revoke,
                               .opaque = &st};
    moose__consumer *c = moose__consumer_new(k, &co, err, sizeof(err));
    assert_non_null(c);

    int key_partition[NKEYS], key_next_seq[NKEYS];
    int64_t part_count[4] = {0};
    for (int i = 0; i < NKEYS; i++)
        key_partition[i] = -1, key_next_seq[i] = 0;
    int got = 0;
    int64_t deadline = moose__kafka_now_ms() + WAIT_MS;
    while (got < NKEYS * PER_KEY && moose__kafka_now_ms() < deadline) {
        rd_kafka_message_t *m;
        int rc = moose__consumer_poll(c, 200, &m);
        if (rc == MOOSE_ETIMEDOUT)
            continue;
        assert_int_equal(rc, 0);
        int key = atoi((const char *)m->key + 4);
        int seq = atoi((const char *)m->payload);
        if (key_partition[key] < 0)
            key_partition[key] = m->partition;
        assert_int_equal(m->partition, key_partition[key]); /* a key stays on its partition */
        assert_int_equal(seq, key_next_seq[key]);           /* and in its order */
        key_next_seq[key]++;
        assert_int_equal(m->offset, part_count[m->partition]);
        part_count[m->partition]++;
        got++;
        rd_kafka_message_destroy(m);
    }
    assert_int_equal(got, NKEYS * PER_KEY);
    /* "Done": the first half of each partition. Committed only when the partitions are revoked. */
    int64_t expect_rest = 0;
    for (int i = 0; i < 4; i++) {
        st.done_next[i] = part_count[i] / 2;
        expect_rest += part_count[i] - st.done_next[i];
    }
    moose__consumer_close(c);
    assert_int_equal(st.revokes, 1);
    assert_int_equal(st.revoked_partitions, 4);
    assert_int_equal(st.commit_rc, 0);

    /* The next member of the group resumes exactly after what was committed: the undone half again.
     */
    co.on_revoke = NULL;
    c = moose__consumer_new(k, &co, err, sizeof(err));
    int64_t first[4] = {-1, -1, -1, -1};
    int64_t rest = 0;
    deadline = moose__kafka_now_ms() + WAIT_MS;
    while (rest < expect_rest && moose__kafka_now_ms() < deadline) {
        rd_kafka_message_t *m;
        int rc = moose__consumer_poll(c, 200, &m);
        if (rc == MOOSE_ETIMEDOUT)
            continue;
        assert_int_equal(rc, 0);
        if (first[m->partition] < 0)
            first[m->partition] = m->offset;
        rest++;
        rd_kafka_message_destroy(m);
    }
    assert_int_equal(rest, expect_rest);
    for (int i = 0; i < 4; i++)
        assert_int_equal(first[i], part_count[i] > st.done_next[i] ? st.done_next[i] : -1);
    assert_int_equal(moose__consumer_gaps(c), 0);
    moose__consumer_close(c);
    moose__producer_close(p);
    moose__kafka_close(k);
    tt_rmdir(dir);
}

/* ---- two members share the partitions ---- */

static int assigned(moose__consumer *c, int *mask) {
    rd_kafka_topic_partition_list_t *a = moose__consumer_assignment(c);
    int n = 0;
    *mask = 0;
    for (int i = 0; a && i < a->cnt; i++) {
        *mask |= 1 << a->elems[i].partition;
        n++;
    }
    if (a)
        rd_kafka_topic_partition_list_destroy(a);
    return n;
}

static void test_two_members_share_partitions(void **state) {
    (void)state;
    char *dir = tt_mkdir();
    moose__kafka *k = tt_open(dir, MOOSE__EMBEDDED_FIND_OR_START, NULL);
    char err[1024];
    assert_int_equal(moose__kafka_ensure_topic(k, "shared", 4, 0, err, sizeof(err)), 0);
    const char *topics[] = {"shared"};
    moose__consumer_opts co = {.group = "g-share", .topics = topics, .ntopics = 1};
    moose__consumer *a = moose__consumer_new(k, &co, err, sizeof(err));
    moose__consumer *b = moose__consumer_new(k, &co, err, sizeof(err));
    assert_non_null(a);
    assert_non_null(b);

    moose__producer *p = moose__producer_new(k, "test", err, sizeof(err));
    for (int i = 0; i < 40; i++) {
        char key[16];
        snprintf(key, sizeof(key), "k%d", i);
        assert_int_equal(
            moose__producer_send(p, "shared", i % 4, key, strlen(key), "v", 1, NULL, NULL), 0);
    }
    assert_int_equal(moose__producer_flush(p, 10000), 0);

    /*
     * Both members may not make the first generation (the second then joins
     * by a rebalance, and records read before it are read again: nothing
     * was committed). What must hold: a record only ever comes from a
     * partition its member owns at that moment, every record arrives, and
     * in the end the four partitions are split two and two.
     */
    int ma = 0, mb = 0, distinct = 0;
    bool seen[4][10] = {{false}};
    int64_t deadline = moose__kafka_now_ms() + WAIT_MS;
    while ((distinct < 40 || assigned(a, &ma) != 2 || assigned(b, &mb) != 2) &&
           moose__kafka_now_ms() < deadline) {
        moose__consumer *members[2] = {a, b};
        for (int i = 0; i < 2; i++) {
            rd_kafka_message_t *m;
            if (moose__consumer_poll(members[i], 100, &m) != 0)
                continue;
            int mask;
            assigned(members[i], &mask);
            assert_true(mask & (1 << m->partition));
            assert_true(m->offset < 10);
            if (!seen[m->partition][m->offset]) {
                seen[m->partition][m->offset] = true;
                distinct++;
            }
            rd_kafka_message_destroy(m);
        }
    }
    assert_int_equal(distinct, 40);
    assert_int_equal(assigned(a, &ma), 2);
    assert_int_equal(assigned(b, &mb), 2);
    assert_int_equal(ma & mb, 0);   /* no partition owned twice */
    assert_int_equal(ma | mb, 0xf); /* and none left out */
    moose__consumer_close(a);
    moose__consumer_close(b);
    moose__producer_close(p);
    moose__kafka_close(k);
    tt_rmdir(dir);
}

/* ---- gaps ---- */

#define RECORD_BYTES 1000

/* A plain librdkafka producer with no back-pressure: what any other client could do. */
static void raw_produce(moose__kafka *k, const char *topic, int count) {
    char err[512];
    rd_kafka_conf_t *conf = moose__kafka_conf(k, err, sizeof(err));
    assert_non_null(conf);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    assert_non_null(rk);
    char value[RECORD_BYTES];
    memset(value, 'x', sizeof(value));
    for (int i = 0; i < count; i++) {
        while (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0),
                                 RD_KAFKA_V_VALUE(value, sizeof(value)),
                                 RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                 RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(rk, 10);
    }
    assert_int_equal(rd_kafka_flush(rk, 30000), 0);
    rd_kafka_destroy(rk);
}

static int64_t low_watermark(moose__kafka *k, const char *topic) {
    char err[512];
    rd_kafka_t *rk = moose__kafka_admin_handle(k, err, sizeof(err));
    int64_t low = -1, high = -1;
    assert_int_equal(rd_kafka_query_watermark_offsets(rk, topic, 0, &low, &high, 10000), 0);
    return low;
}

static void test_gap_is_reported(void **state) {
    (void)state;
    char *dir = tt_mkdir();
    moose__kafka *k = tt_open(dir, MOOSE__EMBEDDED_FIND_OR_START, NULL);
    char err[1024];
    assert_int_equal(moose__kafka_ensure_topic(k, "lossy", 1, 0, err, sizeof(err)), 0);
    /* 12 MB into one partition: the embedded broker keeps about 5 MB and drops the rest silently.
     */
    raw_produce(k, "lossy", 12000);
    int64_t low = low_watermark(k, "lossy");
    assert_true(low > 0);

    FILE *log = tmpfile();
    moose__log_set_output(log);
    const char *topics[] = {"lossy"};
    moose__consumer_opts co = {.group = "g-lossy", .topics = topics, .ntopics = 1};
    moose__consumer *c = moose__consumer_new(k, &co, err, sizeof(err));
    rd_kafka_message_t *m = NULL;
    int rc = MOOSE_ETIMEDOUT;
    int64_t deadline = moose__kafka_now_ms() + WAIT_MS;
    while (rc == MOOSE_ETIMEDOUT && moose__kafka_now_ms() < deadline)
        rc = moose__consumer_poll(c, 200, &m);
    assert_int_equal(rc, MOOSE_EGAP);
    assert_non_null(m);
    assert_int_equal(m->offset, low); /* the record after the gap is still delivered */
    rd_kafka_message_destroy(m);
    assert_int_equal(moose__consumer_gaps(c), 1);
    assert_int_equal(moose__consumer_lost_records(c), (uint64_t)low);
    /* The records after it follow in order: no second gap. */
    assert_int_equal(moose__consumer_poll(c, 5000, &m), 0);
    assert_int_equal(m->offset, low + 1);
    rd_kafka_message_destroy(m);
    /* Done up to here; then the broker drops past the committed offset while nobody reads. */
    assert_int_equal(moose__consumer_commit(c, "lossy", 0, low + 2, true), 0);
    moose__consumer_close(c);
    raw_produce(k, "lossy", 12000);
    int64_t low2 = low_watermark(k, "lossy");
    assert_true(low2 > low + 2);
    /* This time through the batch path (the one transform workers and sinks use). */
    c = moose__consumer_new(k, &co, err, sizeof(err));
    rd_kafka_message_t *batch[64];
    int n = 0;
    size_t gaps = 0;
    deadline = moose__kafka_now_ms() + WAIT_MS;
    while (n == 0 && moose__kafka_now_ms() < deadline)
        n = moose__consumer_poll_batch(c, 200, batch, 64, &gaps);
    assert_true(n > 0);
    assert_int_equal(gaps, 1);
    assert_int_equal(batch[0]->offset, low2);
    for (int i = 0; i < n; i++) {
        assert_int_equal(batch[i]->offset, low2 + i);
        rd_kafka_message_destroy(batch[i]);
    }
    assert_int_equal(moose__consumer_gaps(c), 1); /* one loss, reported once */
    assert_int_equal(moose__consumer_lost_records(c), (uint64_t)(low2 - (low + 2)));
    moose__consumer_close(c);
    moose__log_set_output(NULL);

    char want[256];
    snprintf(want, sizeof(want),
             "error consumer records were lost between producer and consumer group=g-lossy "
             "topic=lossy partition=0 expected_offset=0 got_offset=%" PRId64 " lost=%" PRId64,
             low, low);
    rewind(log);
    char line[1024];
    int found = 0;
    while (fgets(line, sizeof(line), log))
        if (strlen(line) > 25 && strncmp(line + 25, want, strlen(want)) == 0)
            found++;
    assert_int_equal(found, 1);
    fclose(log);
    moose__kafka_close(k);
    tt_rmdir(dir);
}

/* ---- back-pressure ---- */

typedef struct slow_reader {
    moose__kafka *kafka;
    int expect;
    int got;
    int out_of_order;
    uint64_t gaps;
} slow_reader;

static void *slow_reader_main(void *arg) {
    slow_reader *r = arg;
    char err[512];
    const char *topics[] = {"bounded"};
    moose__consumer_opts co = {.group = "g-slow", .topics = topics, .ntopics = 1};
    moose__consumer *c = moose__consumer_new(r->kafka, &co, err, sizeof(err));
    if (!c)
        return NULL;
    int64_t deadline = moose__kafka_now_ms() + 120000;
    while (r->got < r->expect && moose__kafka_now_ms() < deadline) {
        rd_kafka_message_t *m;
        int rc = moose__consumer_poll(c, 200, &m);
        if (!m)
            continue;
        if (rc != 0 || m->offset != r->got)
            r->out_of_order++;
        r->got++;
        /* Slow on purpose: commit (synchronously) and pause every 100 records. */
        if (r->got % 100 == 0) {
            moose__consumer_commit(c, "bounded", 0, m->offset + 1, true);
            moose__kafka_sleep_ms(5);
        }
        rd_kafka_message_destroy(m);
    }
    r->gaps = moose__consumer_gaps(c);
    moose__consumer_close(c);
    return NULL;
}

static void test_backpressure_loses_nothing(void **state) {
    (void)state;
    char *dir = tt_mkdir();
    moose__kafka *k = tt_open(dir, MOOSE__EMBEDDED_FIND_OR_START, NULL);
    char err[1024];
    assert_int_equal(moose__kafka_ensure_topic(k, "bounded", 1, 0, err, sizeof(err)), 0);
    moose__producer *p = moose__producer_new(k, "test", err, sizeof(err));
    const char *groups[] = {"g-slow"};
    assert_int_equal(moose__producer_watch(p, "bounded", groups, 1), 0);

    /* 15 MB: three times what the embedded broker keeps in a partition. */
    const int count = 15000;
    slow_reader r = {.kafka = k, .expect = count};
    pthread_t reader;
    assert_int_equal(pthread_create(&reader, NULL, slow_reader_main, &r), 0);
    char value[RECORD_BYTES];
    memset(value, 'y', sizeof(value));
    for (int i = 0; i < count; i++) {
        char key[16];
        snprintf(key, sizeof(key), "%d", i);
        assert_int_equal(moose__producer_send(p, "bounded", -1, key, strlen(key), value,
                                              sizeof(value), NULL, NULL),
                         0);
    }
    assert_int_equal(moose__producer_flush(p, 30000), 0);
    pthread_join(reader, NULL);
    assert_int_equal(r.got, count);
    assert_int_equal(r.out_of_order, 0);
    assert_int_equal(r.gaps, 0);
    /*
     * The broker did drop its oldest data (more went through than it keeps),
     * but only records the reader had already committed: none was lost.
     */
    assert_true(low_watermark(k, "bounded") > 0);
    moose__producer_close(p);
    moose__kafka_close(k);
    tt_rmdir(dir);
}

/* ---- a close that cannot reach the broker ---- */

/*
 * A consumer whose broker stops answering (not refusing: a huge round trip
 * on the embedded broker, as a frozen or partitioned broker looks) cannot
 * leave its group, and librdkafka's close would retry its unanswered commit
 * without end. The close gives up after MOOSE__CLOSE_TIMEOUT_MS, says so,
 * and destroys the consumer without leaving: the group hands its partitions
 * on after the session timeout, and nothing committed is lost.
 */
static void test_close_without_reaching_the_broker(void **state) {
    (void)state;
    char *dir = tt_mkdir();
    /*
     * librdkafka's destroy, after the close gave up, still waits until the
     * unanswered commit times out (socket.timeout.ms, 60 s by default, with
     * a core busy meanwhile): a timeout just past the close's bound keeps
     * this test short.
     */
    static const char *const props[] = {"socket.timeout.ms=12000", NULL};
    moose__kafka *k = tt_open(dir, MOOSE__EMBEDDED_FIND_OR_START, props);
    assert_non_null(k);
    char err[1024];
    assert_int_equal(moose__kafka_ensure_topic(k, "frozen", 1, 0, err, sizeof(err)), 0);
    moose__producer *p = moose__producer_new(k, "test", err, sizeof(err));
    assert_non_null(p);
    assert_int_equal(moose__producer_send(p, "frozen", 0, "k", 1, "v", 1, NULL, NULL), 0);
    assert_int_equal(moose__producer_flush(p, 10000), 0);
    moose__producer_close(p);

    const char *topics[] = {"frozen"};
    moose__consumer_opts co = {.group = "g-frozen", .topics = topics, .ntopics = 1};
    moose__consumer *c = moose__consumer_new(k, &co, err, sizeof(err));
    assert_non_null(c);
    rd_kafka_message_t *m = NULL;
    int64_t deadline = moose__kafka_now_ms() + WAIT_MS;
    int rc = MOOSE_ETIMEDOUT;
    while (rc == MOOSE_ETIMEDOUT && moose__kafka_now_ms() < deadline)
        rc = moose__consumer_poll(c, 200, &m);
    assert_int_equal(rc, 0);
    rd_kafka_message_destroy(m);

    rd_kafka_mock_cluster_t *mock = moose__embedded_cluster(k->owned);
    assert_non_null(mock);
    assert_int_equal(rd_kafka_mock_broker_set_rtt(mock, 1, 600000), RD_KAFKA_RESP_ERR_NO_ERROR);
    /* A commit sent now is never answered: the close cannot finish leaving. */
    assert_int_equal(moose__consumer_commit(c, "frozen", 0, 1, false), 0);

    FILE *log = tmpfile();
    assert_non_null(log);
    moose__log_set_output(log);
    moose__consumer_close(c);
    moose__log_set_output(NULL);
    char text[4096];
    rewind(log);
    size_t n = fread(text, 1, sizeof text - 1, log);
    text[n] = '\0';
    fclose(log);
    assert_non_null(strstr(text, "consumer g-frozen of group g-frozen did not leave the group "
                                 "within 10000 ms (the broker is unreachable): closed without "
                                 "leaving"));

    assert_int_equal(rd_kafka_mock_broker_set_rtt(mock, 1, 0), RD_KAFKA_RESP_ERR_NO_ERROR);
    moose__kafka_close(k);
    tt_rmdir(dir);
}

/* An argument runs the one test it names (ctest runs each on its own, side by side). */
int main(int argc, char **argv) {
    signal(SIGPIPE, SIG_IGN);
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_order_commit_and_resume),
        cmocka_unit_test(test_two_members_share_partitions),
        cmocka_unit_test(test_gap_is_reported),
        cmocka_unit_test(test_backpressure_loses_nothing),
        cmocka_unit_test(test_close_without_reaching_the_broker),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
