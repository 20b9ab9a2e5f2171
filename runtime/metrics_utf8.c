/*
 * UTF-8 checking for what the metrics show of user data (field paths,
 * record samples): Prometheus and JSON both require valid UTF-8, and a
 * producer can send anything.
 */
#include "metrics_component.h"

/* Length of the valid UTF-8 sequence at S (at most LEFT bytes), or 0 if none starts there. */
size_t moose__metrics_utf8_seq(const unsigned char *s, size_t left) {
    size_t n;
    if (s[0] < 0x80)
        return 1;
    else if (s[0] >= 0xC2 && s[0] <= 0xDF)
        n = 2;
    else if (s[0] >= 0xE0 && s[0] <= 0xEF)
        n = 3;
    else if (s[0] >= 0xF0 && s[0] <= 0xF4)
        n = 4;
    else
        return 0;
    if (n > left)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    /* Overlong 3- and 4-byte forms, surrogates and code points above U+10FFFF. */
    if ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] > 0x9F) ||
        (s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] > 0x8F))
        return 0;
    return n;
}

