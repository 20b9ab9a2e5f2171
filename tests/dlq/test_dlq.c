/*
 * The dead letter queue: the envelope's exact JSON, bytes that are not
 * UTF-8, envelopes that cannot be read, and the round trip through the real
 * embedded broker: send, read back, replay onto the original topic (once).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>

#include "dlq.h"
#include "kafka_internal.h"
#include "transport_test.h"

/* 2023-11-14T22:13:20.123Z */
#define FIXED_TIME_MS 1700000000123LL

static void test_envelope_json(void **state) {
    (void)state;
    moose_errors errs;
    moose_errors_init(&errs);
    moose_errors_add(&errs, "amount", "range", 12, "must be between 0 and 1e9");
    moose_errors_add(&errs, "tags[1]", "length", 40, "is 300 characters long, at most 256");
    const char *original = "{\"id\":\"é1\",\"amount\":-5}";
    moose__dlq_entry e = {
        .type = MOOSE__DLQ_VALIDATION_ERROR,
        .source = MOOSE__DLQ_FROM_WRITE,
        .message = "record failed validation",
        .errors = &errs,
        .topic = "raw-stream",
        .partition = -1,
        .offset = -1,
        .time_ms = FIXED_TIME_MS,
        .key = "é1",
        .key_len = strlen("é1"),
        .original = original,
        .original_len = strlen(original),
    };
    moose_buf buf;
    moose_buf_init(&buf);
    assert_int_equal(moose__dlq_encode(&e, &buf), 0);
    moose_buf_append(&buf, "", 1);
    assert_string_equal(
        buf.data,
        "{\"error_type\":\"ValidationError\",\"source\":\"write\",\"message\":\"record failed "
        "validation\",\"errors\":[{\"path\":\"amount\",\"rule\":\"range\",\"message\":\"must be "
        "between 0 and 1e9\"},{\"path\":\"tags[1]\",\"rule\":\"length\",\"message\":\"is 300 "
        "characters long, at most 256\"}],\"topic\":\"raw-stream\",\"partition\":-1,\"offset\":-1,"
        "\"time\":\"2023-11-14T22:13:20.123Z\",\"transform\":null,\"key\":\"é1\","
        "\"original\":\"{\\\"id\\\":\\\"é1\\\",\\\"amount\\\":-5}\"}");

    moose__dlq_record r;
    char err[256];
    assert_int_equal(moose__dlq_decode(buf.data, buf.len - 1, &r, err, sizeof(err)), 0);
    assert_int_equal(r.type, MOOSE__DLQ_VALIDATION_ERROR);
    assert_int_equal(r.source, MOOSE__DLQ_FROM_WRITE);
    assert_string_equal(r.message, "record failed validation");
    assert_int_equal(r.nerrors, 2);
    assert_string_equal(r.errors[1].path, "tags[1]");
    assert_string_equal(r.errors[1].rule, "length");
    assert_string_equal(r.errors[1].message, "is 300 characters long, at most 256");
    assert_string_equal(r.topic, "raw-stream");
    assert_int_equal(r.partition, -1);
    assert_int_equal(r.offset, -1);
    assert_int_equal(r.time_ms, FIXED_TIME_MS);
    assert_null(r.transform);
    assert_string_equal(r.key, "é1");
    assert_int_equal(r.original_len, strlen(original));
    assert_string_equal(r.original, original);
    moose__dlq_record_free(&r);
    moose_buf_free(&buf);
    moose_errors_free(&errs);
}

static void test_binary_bytes_use_base64(void **state) {
    (void)state;
    const unsigned char original[] = {'{', 0x00, 0xff, 0xc3, 0x28, '}', 0x80};
    const unsigned char key[] = {0x01, 0xfe};
    moose__dlq_entry e = {
        .type = MOOSE__DLQ_TRANSFORM_ERROR,
        .source = MOOSE__DLQ_FROM_TRANSFORM,
        .message = "record is not valid JSON for its model",
        .topic = "raw",
        .partition = 1,
        .offset = 42,
        .time_ms = FIXED_TIME_MS,
        .transform = "transform_record",
        .key = key,
        .key_len = sizeof(key),
        .original = original,
        .original_len = sizeof(original),
    };
    moose_buf buf;
    moose_buf_init(&buf);
    assert_int_equal(moose__dlq_encode(&e, &buf), 0);
    moose_buf_append(&buf, "", 1);
    assert_non_null(strstr(buf.data, "\"key_base64\":\"Af4=\""));
    assert_non_null(strstr(buf.data, "\"original_base64\":\"ewD/wyh9gA==\""));
    assert_null(strstr(buf.data, "\"original\":"));
    assert_non_null(strstr(buf.data, "\"transform\":\"transform_record\""));
    moose__dlq_record r;
    char err[256];
    assert_int_equal(moose__dlq_decode(buf.data, buf.len - 1, &r, err, sizeof(err)), 0);
    assert_int_equal(r.original_len, sizeof(original));
    assert_memory_equal(r.original, original, sizeof(original));
    assert_int_equal(r.key_len, sizeof(key));
    assert_memory_equal(r.key, key, sizeof(key));
    assert_string_equal(r.transform, "transform_record");
    assert_int_equal(r.partition, 1);
    assert_int_equal(r.offset, 42);
    moose__dlq_record_free(&r);
    moose_buf_free(&buf);
}

static void test_unreadable_envelopes(void **state) {
    (void)state;
    moose__dlq_record r;
    char err[256];
    assert_int_equal(moose__dlq_decode("[1]", 3, &r, err, sizeof(err)), MOOSE_EDECODE);
    assert_string_equal(err, "DLQ envelope is not a JSON object: another JSON value");
    const char *bad_type = "{\"error_type\":\"Oops\",\"source\":\"write\"}";
    assert_int_equal(moose__dlq_decode(bad_type, strlen(bad_type), &r, err, sizeof(err)),
                     MOOSE_EDECODE);
    assert_string_equal(err, "DLQ envelope: unknown error_type 'Oops'");
    const char *no_original =
        "{\"error_type\":\"TableError\",\"source\":\"table\",\"message\":\"m\",\"topic\":\"t\","
        "\"partition\":0,\"offset\":1,\"time\":\"2023-11-14T22:13:20.123Z\"}";
    assert_int_equal(moose__dlq_decode(no_original, strlen(no_original), &r, err, sizeof(err)),
                     MOOSE_EDECODE);
    assert_string_equal(err, "DLQ envelope: 'original' (or 'original_base64') is missing");
    const char *bad_b64 =
        "{\"error_type\":\"TableError\",\"source\":\"table\",\"message\":\"m\",\"topic\":\"t\","
        "\"partition\":0,\"offset\":1,\"time\":\"2023-11-14T22:13:20.123Z\","
        "\"original_base64\":\"@@@@\"}";
    assert_int_equal(moose__dlq_decode(bad_b64, strlen(bad_b64), &r, err, sizeof(err)),
                     MOOSE_EDECODE);
    assert_string_equal(err, "DLQ envelope: 'original_base64' is not valid base64");
}

/* ---- through the broker ---- */

typedef struct collected {
    int n;
    char types[8][32];
    char originals[8][128];
    char transforms[8][32];
    int32_t partitions[8];
} collected;

static int collect(const moose__dlq_record *r, void *opaque) {
    collected *c = opaque;
    if (c->n < 8) {
        snprintf(c->types[c->n], 32, "%s", moose__dlq_error_type_name(r->type));
        snprintf(c->originals[c->n], 128, "%s", r->original);
        snprintf(c->transforms[c->n], 32, "%s", r->transform ? r->transform : "-");
        c->partitions[c->n] = r->partition;
    }
    c->n++;
    return 0;
}

/* Every record of TOPIC, read without a group, as "key=value" lines sorted. */
static int read_topic(moose__kafka *k, const char *topic, int nparts, char out[][128], int max) {
    char err[512];
    rd_kafka_conf_t *conf = moose__kafka_conf(k, err, sizeof(err));
    rd_kafka_conf_set(conf, "group.id", "test-reader", err, sizeof(err));
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    int n = 0;
    for (int p = 0; p < nparts; p++) {
        int64_t low, high;
        rd_kafka_query_watermark_offsets(rk, topic, p, &low, &high, 5000);
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(l, topic, p)->offset = low;
        rd_kafka_assign(rk, l);
        rd_kafka_topic_partition_list_destroy(l);
        for (int64_t next = low; next < high && n < max;) {
            rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 1000);
            if (!m)
                break;
            if (!m->err) {
                snprintf(out[n++], 128, "%.*s=%.*s", (int)m->key_len, (const char *)m->key,
                         (int)m->len, (const char *)m->payload);
                next = m->offset + 1;
            }
            rd_kafka_message_destroy(m);
        }
        rd_kafka_assign(rk, NULL);
    }
    rd_kafka_destroy(rk);
    qsort(out, (size_t)n, 128, (int (*)(const void *, const void *))strcmp);
    return n;
}

static void test_send_read_and_replay(void **state) {
    (void)state;
    char *dir = tt_mkdir();
    moose__kafka *k = tt_open(dir, MOOSE__EMBEDDED_FIND_OR_START, NULL);
    assert_non_null(k);
    char err[1024];
    assert_int_equal(moose__kafka_ensure_topic(k, "raw", 2, 0, err, sizeof(err)), 0);
    assert_int_equal(moose__kafka_ensure_topic(k, "raw.dlq", 2, 0, err, sizeof(err)), 0);
    moose__producer *p = moose__producer_new(k, "dlq", err, sizeof(err));

    /* Nothing yet: an empty DLQ reads as zero entries, and a replay sends nothing. */
    assert_int_equal(moose__dlq_read(k, "raw", collect, &(collected){0}, NULL, err, sizeof(err)),
                     0);

    const char *originals[] = {"{\"id\":\"a\",\"v\":\"x\"}", "{\"id\":\"b\",\"v\":\"y\"}",
                               "{\"id\":\"c\",\"v\":\"z\"}"};
    const char *keys[] = {"a", "b", "c"};
    moose__dlq_error_type types[] = {MOOSE__DLQ_VALIDATION_ERROR, MOOSE__DLQ_TRANSFORM_ERROR,
                                     MOOSE__DLQ_TABLE_ERROR};
    for (int i = 0; i < 3; i++) {
        moose__dlq_entry e = {.type = types[i],
                              .source = (moose__dlq_source)i,
                              .message = "failed",
                              .topic = "raw",
                              .partition = i == 0 ? -1 : 0,
                              .offset = i == 0 ? -1 : i,
                              .transform = i == 1 ? "to_processed" : NULL,
                              .key = keys[i],
                              .key_len = 1,
                              .original = originals[i],
                              .original_len = strlen(originals[i])};
        assert_int_equal(moose__dlq_send(p, &e, true, NULL, NULL, err, sizeof(err)), 0);
    }
    collected c = {0};
    size_t unreadable = 99;
    assert_int_equal(moose__dlq_read(k, "raw", collect, &c, &unreadable, err, sizeof(err)), 3);
    assert_int_equal(unreadable, 0);
    assert_int_equal(c.n, 3);
    int seen = 0;
    for (int i = 0; i < 3; i++) {
        for (int j = 0; j < 3; j++) {
            if (strcmp(c.originals[i], originals[j]) == 0) {
                seen |= 1 << j;
                assert_string_equal(c.types[i], moose__dlq_error_type_name(types[j]));
                assert_string_equal(c.transforms[i], j == 1 ? "to_processed" : "-");
            }
        }
    }
    assert_int_equal(seen, 7);

    /* An envelope some other client wrote badly is skipped and counted, never fatal. */
    assert_int_equal(moose__producer_send_sync(p, "raw.dlq", "z", 1, "not json", 8, NULL, NULL, err,
                                               sizeof(err)),
                     0);
    c.n = 0;
    assert_int_equal(moose__dlq_read(k, "raw", collect, &c, &unreadable, err, sizeof(err)), 3);
    assert_int_equal(unreadable, 1);

    assert_int_equal(moose__dlq_replay(k, p, "raw", err, sizeof(err)), 3);
    char got[8][128];
    assert_int_equal(read_topic(k, "raw", 2, got, 8), 3);
    assert_string_equal(got[0], "a={\"id\":\"a\",\"v\":\"x\"}");
    assert_string_equal(got[1], "b={\"id\":\"b\",\"v\":\"y\"}");
    assert_string_equal(got[2], "c={\"id\":\"c\",\"v\":\"z\"}");

    /* A second replay sends only what arrived since. */
    moose__dlq_entry late = {.type = MOOSE__DLQ_DELIVERY_ERROR,
                             .source = MOOSE__DLQ_FROM_WRITE,
                             .message = "late",
                             .topic = "raw",
                             .partition = -1,
                             .offset = -1,
                             .key = "d",
                             .key_len = 1,
                             .original = "{\"id\":\"d\"}",
                             .original_len = 10};
    assert_int_equal(moose__dlq_send(p, &late, true, NULL, NULL, err, sizeof(err)), 0);
    assert_int_equal(moose__dlq_replay(k, p, "raw", err, sizeof(err)), 1);
    assert_int_equal(read_topic(k, "raw", 2, got, 8), 4);
    assert_string_equal(got[3], "d={\"id\":\"d\"}");
    /* Nothing new: nothing sent (and no group join to find that out). */
    assert_int_equal(moose__dlq_replay(k, p, "raw", err, sizeof(err)), 0);
    assert_int_equal(read_topic(k, "raw", 2, got, 8), 4);

    moose__producer_close(p);
    moose__kafka_close(k);
    tt_rmdir(dir);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_envelope_json),
        cmocka_unit_test(test_binary_bytes_use_base64),
        cmocka_unit_test(test_unreadable_envelopes),
        cmocka_unit_test(test_send_read_and_replay),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
