/* UTF-8 well-formedness (RFC 3629: no overlongs, no surrogates, at most U+10FFFF). */
#include <string.h>

#include "moose/codec.h"
#include "moose/json.h"

size_t moose__utf8_seq(const unsigned char *s, size_t avail) {
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    if (c < 0xC2)
        return 0;
    if (c < 0xE0) {
        if (avail < 2 || (s[1] & 0xC0) != 0x80)
            return 0;
        return 2;
    }
    if (c < 0xF0) {
        if (avail < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
            return 0;
        if (c == 0xE0 && s[1] < 0xA0)
            return 0; /* overlong */
        if (c == 0xED && s[1] >= 0xA0)
            return 0; /* UTF-16 surrogate */
        return 3;
    }
    if (c < 0xF5) {
        if (avail < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 ||
            (s[3] & 0xC0) != 0x80)
            return 0;
        if (c == 0xF0 && s[1] < 0x90)
            return 0; /* overlong */
        if (c == 0xF4 && s[1] >= 0x90)
            return 0; /* beyond U+10FFFF */
        return 4;
    }
    return 0;
}

int64_t moose_utf8_length(const char *s, size_t len) {
    const unsigned char *p = (const unsigned char *)s;
    int64_t n = 0;
    size_t i = 0;
    while (i < len) {
        /* ASCII runs eight bytes at a time */
        while (len - i >= 8) {
            uint64_t w;
            memcpy(&w, p + i, 8);
            if (w & 0x8080808080808080ull)
                break;
            i += 8;
            n += 8;
        }
        if (i >= len)
            break;
        if (p[i] < 0x80) {
            i++;
        } else {
            size_t k = moose__utf8_seq(p + i, len - i);
            if (!k)
                return -1;
            i += k;
        }
        n++;
    }
    return n;
}
