/*
 * What the fault and crash tests share: the known workload (orders k00000..,
 * amount = their number) and the check of what the table holds afterwards.
 */
#ifndef MOOSE_TEST_FAULTS_UTIL_H
#define MOOSE_TEST_FAULTS_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Order number I's id: "k00042". OUT holds at least 16 bytes. */
void faults_order_id(char *out, size_t out_size, int64_t i);

/* What the transform does with amount I (see transforms.c). */
bool faults_is_filtered(int64_t i);
bool faults_is_refused(int64_t i);
/* How many of orders 0..N-1 must reach the table. */
int64_t faults_expected_rows(int64_t n);

/* Rows in DeliveryTable of the SQLite file DB (-1 when it cannot be read yet). */
int64_t faults_table_count(const char *db);

/*
 * Checks that DeliveryTable holds exactly the deliveries of orders 0..N-1
 * that are neither filtered nor refused, each once, with doubled = 2 * amount.
 * Returns true, or false with the first difference in WHY.
 */
bool faults_table_exact(const char *db, int64_t n, char *why, size_t why_size);

/* 1 when DeliveryTable holds a row with ID, 0 when not, -1 when the table cannot be read. */
int faults_table_has(const char *db, const char *id);

/* Polls faults_table_count() until it reaches WANT or TIMEOUT_MS passed; the last count. */
int64_t faults_wait_rows(const char *db, int64_t want, int timeout_ms);

int64_t faults_now_ms(void);
void faults_sleep_ms(int ms);

#endif
