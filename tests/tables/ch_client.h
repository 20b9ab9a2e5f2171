/* A few lines of libcurl to look at the test clickhouse-server from the outside. */
#ifndef TABLES_CH_CLIENT_H
#define TABLES_CH_CLIENT_H

/* "127.0.0.1:PORT" of the test server (MOOSE_TEST_CLICKHOUSE), or NULL when not set. */
const char *ch_address(void);

/* Runs SQL as the default user; returns the body (malloc'd) and sets *STATUS to the HTTP code. */
char *ch_run(const char *sql, long *status);

/* Runs SQL and fails the test unless the server answers 200; returns the body (malloc'd). */
char *ch_ok(const char *sql);

#endif
