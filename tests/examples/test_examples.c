/*
 * The examples end to end, as the README's first command runs them:
 * scripts/demo.sh (without its install and build steps) writes the sample
 * records into both apps on the embedded defaults; then the exact rows of
 * every SQLite table, the dead letter queues and the typed write error are
 * checked against what the examples promise.
 *
 * Transforms deliver at least once: a consumer-group rebalance may run a
 * record through a transform twice. Tables keep one row per Key whatever
 * happens, so their rows are exact; a DLQ may then hold an entry twice, so
 * the DLQ is checked as its set of distinct entries, exactly, plus a count
 * no smaller than that set.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <sqlite3.h>

#ifndef MOOSE_SOURCE_DIR
#error "MOOSE_SOURCE_DIR must name the moose-c sources"
#endif
#ifndef MOOSE_BUILD_DIR
#error "MOOSE_BUILD_DIR must name the build holding the examples"
#endif
#ifndef EXAMPLES_WORK_DIR
#error "EXAMPLES_WORK_DIR must name where the demo may run"
#endif

enum { MAX_LINES = 64, LINE_MAX_BYTES = 1024 };

typedef struct lines {
    char *items[MAX_LINES];
    size_t len;
} lines;

static void lines_add(lines *l, const char *s) {
    if (l->len == MAX_LINES)
        fail_msg("more than %d lines; the test expects far fewer", MAX_LINES);
    l->items[l->len] = strdup(s);
    assert_non_null(l->items[l->len]);
    l->len++;
}

static void lines_free(lines *l) {
    for (size_t i = 0; i < l->len; i++)
        free(l->items[i]);
    l->len = 0;
}

static int compare_strings(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Asserts that GOT holds exactly EXPECTED, in order, printing both on a difference. */
static void assert_lines(const lines *got, const char *const *expected, size_t n,
                         const char *what) {
    int same = got->len == n;
    for (size_t i = 0; same && i < n; i++)
        same = strcmp(got->items[i], expected[i]) == 0;
    if (same)
        return;
    print_error("%s: expected %zu lines:\n", what, n);
    for (size_t i = 0; i < n; i++)
        print_error("  %s\n", expected[i]);
    print_error("got %zu:\n", got->len);
    for (size_t i = 0; i < got->len; i++)
        print_error("  %s\n", got->items[i]);
    fail_msg("%s differs", what);
}

static void path_of(char *out, size_t size, const char *example, const char *file) {
    int n = snprintf(out, size, "%s/%s/%s", EXAMPLES_WORK_DIR, example, file);
    assert_true(n > 0 && (size_t)n < size);
}

/* Every row of TABLE in EXAMPLE's moose.db as "col|col|...", ordered by its first column. */
static lines table_rows(const char *example, const char *table, const char *columns) {
    char db_path[512], sql[512];
    path_of(db_path, sizeof db_path, example, "moose.db");
    snprintf(sql, sizeof sql, "SELECT %s FROM \"%s\" ORDER BY 1", columns, table);
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        fail_msg("cannot open %s: %s", db_path, db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s: %s", db_path, sql, sqlite3_errmsg(db));
    lines rows = {0};
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char row[LINE_MAX_BYTES] = "";
        size_t used = 0;
        for (int c = 0; c < sqlite3_column_count(st); c++) {
            const unsigned char *v = sqlite3_column_text(st, c);
            used += (size_t)snprintf(row + used, sizeof row - used, "%s%s", c ? "|" : "",
                                     v ? (const char *)v : "NULL");
            assert_true(used < sizeof row);
        }
        lines_add(&rows, row);
    }
    if (rc != SQLITE_DONE)
        fail_msg("%s: %s: %s", db_path, sql, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rows;
}

static lines read_lines(const char *example, const char *file) {
    char path[512], buf[LINE_MAX_BYTES];
    path_of(path, sizeof path, example, file);
    FILE *fp = fopen(path, "r");
    if (!fp)
        fail_msg("cannot open %s (the demo should have written it)", path);
    lines l = {0};
    while (fgets(buf, sizeof buf, fp)) {
        buf[strcspn(buf, "\n")] = '\0';
        lines_add(&l, buf);
    }
    fclose(fp);
    return l;
}

/*
 * The distinct entries of a dead letter queue printout (`APP dlq`), each as
 * "TYPE from SOURCE [TRANSFORM] | KEY | MESSAGE", sorted; *TOTAL gets the
 * count the printout ends with.
 */
static lines dlq_entries(const char *example, long *total) {
    char path[512], buf[LINE_MAX_BYTES];
    path_of(path, sizeof path, example, "dlq.txt");
    FILE *fp = fopen(path, "r");
    if (!fp)
        fail_msg("cannot open %s (the demo should have written it)", path);
    lines all = {0};
    char head[LINE_MAX_BYTES] = "", key[LINE_MAX_BYTES] = "";
    *total = -1;
    while (fgets(buf, sizeof buf, fp)) {
        buf[strcspn(buf, "\n")] = '\0';
        const char *from = strstr(buf, " from ");
        if (buf[0] >= '0' && buf[0] <= '9' && from && strchr(buf, ' ') < from) {
            /* "2024-...Z TransformError from transform NAME (topic partition P offset O)" */
            const char *start = strchr(buf, ' ') + 1;
            const char *paren = strstr(start, " (");
            size_t len = paren ? (size_t)(paren - start) : strlen(start);
            snprintf(head, sizeof head, "%.*s", (int)len, start);
        } else if (strncmp(buf, "  key:      ", 12) == 0) {
            snprintf(key, sizeof key, "%s", buf + 12);
        } else if (strncmp(buf, "  message:  ", 12) == 0) {
            char entry[3 * LINE_MAX_BYTES];
            snprintf(entry, sizeof entry, "%s | %s | %s", head, key, buf + 12);
            int seen = 0;
            for (size_t i = 0; i < all.len && !seen; i++)
                seen = strcmp(all.items[i], entry) == 0;
            if (!seen)
                lines_add(&all, entry);
        } else if (strstr(buf, " in the dead letter queue of ")) {
            *total = strtol(buf, NULL, 10);
        }
    }
    fclose(fp);
    qsort(all.items, all.len, sizeof all.items[0], compare_strings);
    if (*total < 0)
        fail_msg("%s does not end with the entry count", path);
    return all;
}

/* Runs the demo's pipeline part once for every test below. */
static int run_demo(void **state) {
    (void)state;
    const char *cmd = "'" MOOSE_SOURCE_DIR "/scripts/demo.sh' --no-build --quiet"
                      " --build-dir '" MOOSE_BUILD_DIR "' --work-dir '" EXAMPLES_WORK_DIR "'";
    int rc = system(cmd);
    if (rc == -1 || !WIFEXITED(rc) || WEXITSTATUS(rc) != 0) {
        fprintf(stderr, "%s: exit status %d\n", cmd, WIFEXITED(rc) ? WEXITSTATUS(rc) : -1);
        return -1;
    }
    return 0;
}

static void user_event_table_holds_every_good_event(void **state) {
    (void)state;
    static const char *const expected[] = {
        "123|user_456|login|2024-03-20T12:00:00.000000Z",
        "124|user_456|page_view|2024-03-20T12:00:05.000000Z",
        "125|user_789|logout|2024-03-20T12:01:00.000000Z",
        "200|user_456|purchase|2024-03-20T12:05:00.000000Z",
        "201|user_789|login|2024-03-20T11:06:00.000000Z",
        "202|user_789|page_view|2024-03-20T12:07:30.250000Z",
    };
    lines rows = table_rows("user_events", "UserEventTable", "id, user_id, event_type, timestamp");
    assert_lines(&rows, expected, sizeof expected / sizeof expected[0], "UserEventTable");
    lines_free(&rows);
}

static void typed_write_reports_every_failing_field_and_counts_it(void **state) {
    (void)state;
    static const char *const expected[] = {
        "wrote 123: user_456 login at 2024-03-20T12:00:00Z",
        "wrote 124: user_456 page_view at 2024-03-20T12:00:05Z",
        "wrote 125: user_789 logout at 2024-03-20T12:01:00Z",
        "refused 126: record failed validation (MOOSE_EVALIDATION), 2 failing fields:",
        "  user_id: length 0 is not between 1 and 64 characters [length]",
        "  event_type: length 40 is not between 1 and 32 characters [length]",
        "metrics of user_event_stream: 3 written, 1 invalid, 1 in the dead letter queue",
        "validation of user_event_stream: 4 checked, 3 passed, 1 failed",
        "  event_type [length]: 1",
        "  user_id [length]: 1",
        "health of user_event_stream: healthy",
    };
    lines out = read_lines("user_events", "writer.txt");
    assert_lines(&out, expected, sizeof expected / sizeof expected[0], "user_events_writer");
    lines_free(&out);
}

static void user_event_dlq_keeps_both_refused_records(void **state) {
    (void)state;
    static const char *const expected[] = {
        "ValidationError from write | 126 | user_id: length 0 is not between 1 and 64 characters",
        "ValidationError from write | 203 | timestamp: expected an RFC 3339 date-time such as "
        "2024-03-20T12:00:00Z",
    };
    long total;
    lines got = dlq_entries("user_events", &total);
    assert_lines(&got, expected, sizeof expected / sizeof expected[0], "user_event_stream DLQ");
    assert_int_equal(total, 2); /* no transform: nothing can be redelivered */
    lines_free(&got);
}

static void raw_table_holds_every_record_written(void **state) {
    (void)state;
    static const char *const expected[] = {
        "r1|42|web||[\"home\"]|2024-03-20T12:00:00.000000Z",
        "r2|150.5|ios|19.99|[]|2024-03-20T12:00:01.000000Z",
        "r3|1000|android||[\"promo\",\"sale\"]|2024-03-20T12:00:02.000000Z",
        "r4|abc|web||[]|2024-03-20T12:00:03.000000Z",
        "r5|100|web||[]|2024-03-20T12:00:04.000000Z",
        "r6|12,5|ios||[]|2024-03-20T12:00:05.000000Z",
    };
    lines rows = table_rows("raw_to_processed", "RawTable",
                            "id, data, source, ifnull(amount, ''), tags, timestamp");
    assert_lines(&rows, expected, sizeof expected / sizeof expected[0], "RawTable");
    lines_free(&rows);
}

static void one_output_per_number(void **state) {
    (void)state;
    static const char *const expected[] = {
        "r1|42.0|2024-03-20T12:00:00.000000Z",
        "r2|150.5|2024-03-20T12:00:01.000000Z",
        "r3|1000.0|2024-03-20T12:00:02.000000Z",
        "r5|100.0|2024-03-20T12:00:04.000000Z",
    };
    lines rows = table_rows("raw_to_processed", "ProcessedTable", "id, value, timestamp");
    assert_lines(&rows, expected, sizeof expected / sizeof expected[0], "ProcessedTable");
    lines_free(&rows);
}

static void two_outputs_per_number(void **state) {
    (void)state;
    static const char *const expected[] = {
        "r1-1|84.0|2024-03-20T12:00:00.000000Z",   "r1-2|126.0|2024-03-20T12:00:00.000000Z",
        "r2-1|301.0|2024-03-20T12:00:01.000000Z",  "r2-2|451.5|2024-03-20T12:00:01.000000Z",
        "r3-1|2000.0|2024-03-20T12:00:02.000000Z", "r3-2|3000.0|2024-03-20T12:00:02.000000Z",
        "r5-1|200.0|2024-03-20T12:00:04.000000Z",  "r5-2|300.0|2024-03-20T12:00:04.000000Z",
    };
    lines rows = table_rows("raw_to_processed", "MultipliedTable", "id, value, timestamp");
    assert_lines(&rows, expected, sizeof expected / sizeof expected[0], "MultipliedTable");
    lines_free(&rows);
}

static void only_values_above_100(void **state) {
    (void)state;
    static const char *const expected[] = {
        "r2|150.5|2024-03-20T12:00:01.000000Z",
        "r3|1000.0|2024-03-20T12:00:02.000000Z",
    };
    lines rows = table_rows("raw_to_processed", "FilteredTable", "id, value, timestamp");
    assert_lines(&rows, expected, sizeof expected / sizeof expected[0], "FilteredTable");
    lines_free(&rows);
}

static void raw_dlq_holds_refusals_and_failed_conversions(void **state) {
    (void)state;
    static const char *const expected[] = {
        "TransformError from transform transform_filter | r4 | data 'abc' is not a number: no "
        "digits",
        "TransformError from transform transform_filter | r6 | data '12,5' is not a number: text "
        "after the number",
        "TransformError from transform transform_multiple | r4 | data 'abc' is not a number: no "
        "digits",
        "TransformError from transform transform_multiple | r6 | data '12,5' is not a number: text "
        "after the number",
        "TransformError from transform transform_record | r4 | data 'abc' is not a number: no "
        "digits",
        "TransformError from transform transform_record | r6 | data '12,5' is not a number: text "
        "after the number",
        "ValidationError from write | r7 | data: length 0 is not between 1 and 256 characters",
    };
    long total;
    lines got = dlq_entries("raw_to_processed", &total);
    assert_lines(&got, expected, sizeof expected / sizeof expected[0], "raw_stream DLQ");
    assert_true(total >= (long)(sizeof expected / sizeof expected[0]));
    lines_free(&got);
}

static void refused_record_lists_both_rules(void **state) {
    (void)state;
    static const char *const expected[] = {
        "7: error: data: length 0 is not between 1 and 256 characters",
        "7: error: amount: -1 is outside @range(0, 1e9)",
        "6 written, 1 refused",
    };
    lines out = read_lines("raw_to_processed", "write.txt");
    assert_lines(&out, expected, sizeof expected / sizeof expected[0], "raw_to_processed write");
    lines_free(&out);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(user_event_table_holds_every_good_event),
        cmocka_unit_test(typed_write_reports_every_failing_field_and_counts_it),
        cmocka_unit_test(user_event_dlq_keeps_both_refused_records),
        cmocka_unit_test(raw_table_holds_every_record_written),
        cmocka_unit_test(one_output_per_number),
        cmocka_unit_test(two_outputs_per_number),
        cmocka_unit_test(only_values_above_100),
        cmocka_unit_test(raw_dlq_holds_refusals_and_failed_conversions),
        cmocka_unit_test(refused_record_lists_both_rules),
    };
    return cmocka_run_group_tests(tests, run_demo, NULL);
}
