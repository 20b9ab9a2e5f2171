/*
 * kcat against the embedded broker: records kcat produces are read by our
 * consumer (keys, values, and the same partition our producer would pick),
 * and records we produce are read back by kcat.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <sys/wait.h>

#include "kafka_internal.h"
#include "transport_test.h"

#ifndef KCAT_PROGRAM
#define KCAT_PROGRAM "kcat"
#endif

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_kcat_to_us(void **state) {
    (void)state;
    char *dir = tt_mkdir();
    moose__kafka *k = tt_open(dir, MOOSE__EMBEDDED_FIND_OR_START, NULL);
    assert_non_null(k);
    char err[1024], cmd[1024];
    assert_int_equal(moose__kafka_ensure_topic(k, "from-kcat", 3, 0, err, sizeof(err)), 0);
    snprintf(cmd, sizeof(cmd), "%s -P -q -b %s -t from-kcat -K: -X partitioner=murmur2_random",
             KCAT_PROGRAM, moose__kafka_bootstrap(k));
    FILE *kc = popen(cmd, "w");
    assert_non_null(kc);
    for (int i = 0; i < 12; i++)
        fprintf(kc, "key-%d:{\"id\":\"key-%d\",\"n\":%d}\n", i % 4, i % 4, i);
    int status = pclose(kc);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    const char *topics[] = {"from-kcat"};
    moose__consumer_opts co = {.group = "g-kcat", .topics = topics, .ntopics = 1};
    moose__consumer *c = moose__consumer_new(k, &co, err, sizeof(err));
    assert_non_null(c);
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(moose__consumer_handle(c), "from-kcat", NULL);
    int got = 0, next_n[4];
    for (int i = 0; i < 4; i++)
        next_n[i] = i;
    int64_t deadline = moose__kafka_now_ms() + 30000;
    while (got < 12 && moose__kafka_now_ms() < deadline) {
        rd_kafka_message_t *m;
        if (moose__consumer_poll(c, 200, &m) != 0)
            continue;
        assert_int_equal(m->key_len, 5);
        int key = ((const char *)m->key)[4] - '0';
        char want[64];
        snprintf(want, sizeof(want), "{\"id\":\"key-%d\",\"n\":%d}", key, next_n[key]);
        assert_int_equal(m->len, strlen(want));
        assert_memory_equal(m->payload, want, m->len); /* per key, in kcat's order */
        next_n[key] += 4;
        assert_int_equal(m->partition,
                         rd_kafka_msg_partitioner_murmur2(rkt, m->key, m->key_len, 3, NULL, NULL));
        got++;
        rd_kafka_message_destroy(m);
    }
    assert_int_equal(got, 12);
    rd_kafka_topic_destroy(rkt);
    moose__consumer_close(c);
    moose__kafka_close(k);
    tt_rmdir(dir);
}

static void test_us_to_kcat(void **state) {
    (void)state;
    char *dir = tt_mkdir();
    moose__kafka *k = tt_open(dir, MOOSE__EMBEDDED_FIND_OR_START, NULL);
    assert_non_null(k);
    char err[1024], cmd[1024];
    assert_int_equal(moose__kafka_ensure_topic(k, "to-kcat", 2, 0, err, sizeof(err)), 0);
    moose__producer *p = moose__producer_new(k, "test", err, sizeof(err));
    char *want[6];
    for (int i = 0; i < 6; i++) {
        char key[16], value[64];
        snprintf(key, sizeof(key), "r%d", i);
        snprintf(value, sizeof(value), "{\"n\":%d}", i);
        int32_t part;
        int64_t off;
        assert_int_equal(moose__producer_send_sync(p, "to-kcat", key, strlen(key), value,
                                                   strlen(value), &part, &off, err, sizeof(err)),
                         0);
        char line[128];
        snprintf(line, sizeof(line), "%s|%d|%lld|%s", key, (int)part, (long long)off, value);
        want[i] = strdup(line);
    }
    snprintf(cmd, sizeof(cmd), "%s -C -q -e -o beginning -b %s -t to-kcat -f '%%k|%%p|%%o|%%s\\n'",
             KCAT_PROGRAM, moose__kafka_bootstrap(k));
    FILE *kc = popen(cmd, "r");
    assert_non_null(kc);
    char *got[16];
    int n = 0;
    char line[256];
    while (n < 16 && fgets(line, sizeof(line), kc)) {
        line[strcspn(line, "\n")] = '\0';
        got[n++] = strdup(line);
    }
    int status = pclose(kc);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(n, 6);
    qsort(want, 6, sizeof(char *), cmp_str);
    qsort(got, 6, sizeof(char *), cmp_str);
    for (int i = 0; i < 6; i++) {
        assert_string_equal(got[i], want[i]);
        free(got[i]);
        free(want[i]);
    }
    moose__producer_close(p);
    moose__kafka_close(k);
    tt_rmdir(dir);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kcat_to_us),
        cmocka_unit_test(test_us_to_kcat),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
