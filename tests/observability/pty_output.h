/*
 * What a child process writes to a pseudo-terminal (or a pipe), read into one
 * buffer by the tests that check the terminal's bytes. Header-only: each test
 * program has its own buffer.
 */
#ifndef MOOSE_TESTS_PTY_OUTPUT_H
#define MOOSE_TESTS_PTY_OUTPUT_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char output[1 << 20];
static size_t output_len;

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * Reads FD into OUTPUT until NEEDLE appears after offset FROM (true) or the
 * stream ends or LIMIT_MS pass (false). A pty's master reads EIO once the
 * other side is closed: that is its end.
 */
static bool read_until(int fd, const char *needle, size_t from, int limit_ms) {
    uint64_t deadline = now_ms() + (uint64_t)limit_ms;
    for (;;) {
        if (needle && output_len > from && strstr(output + from, needle))
            return true;
        uint64_t now = now_ms();
        if (now >= deadline || output_len >= sizeof output - 1)
            return false;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, (int)(deadline - now)) <= 0)
            continue;
        ssize_t n = read(fd, output + output_len, sizeof output - 1 - output_len);
        if (n <= 0)
            return false;
        output_len += (size_t)n;
        output[output_len] = '\0';
    }
}

#endif
