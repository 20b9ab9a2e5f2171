/* UUID text (8-4-4-4-12 hexadecimal digits) <-> 16 bytes. */
#include "moose/codec.h"

static int hex_nibble(unsigned char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int moose_uuid_parse(const char *s, size_t len, moose_uuid *out, const char **why) {
    if (len != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-') {
        *why = "expected a UUID as 8-4-4-4-12 hexadecimal digits";
        return -1;
    }
    size_t b = 0;
    for (size_t i = 0; i < 36;) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            i++;
            continue;
        }
        int hi = hex_nibble((unsigned char)s[i]), lo = hex_nibble((unsigned char)s[i + 1]);
        if (hi < 0 || lo < 0) {
            *why = "a UUID holds only hexadecimal digits and dashes";
            return -1;
        }
        out->bytes[b++] = (uint8_t)(hi << 4 | lo);
        i += 2;
    }
    return 0;
}

size_t moose_uuid_format(const moose_uuid *u, char out[MOOSE_UUID_TEXT_MAX]) {
    static const char hex[] = "0123456789abcdef";
    char *p = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *p++ = '-';
        *p++ = hex[u->bytes[i] >> 4];
        *p++ = hex[u->bytes[i] & 15];
    }
    *p = '\0';
    return 36;
}
