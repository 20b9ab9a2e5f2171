/*
 * RFC 3339 DateTime and Date text <-> microseconds / days since the epoch,
 * without the C library's time functions (they depend on the time zone and
 * locale, and are slow).
 */
#include <stdint.h>
#include <string.h>

#include "civil_date.h"
#include "moose/codec.h"

int64_t moose__days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void moose__civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yy + (*m <= 2);
}

static int is_leap(int64_t y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(int64_t y, unsigned m) {
    static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* N decimal digits at S into *OUT; false when one is not a digit. */
static int digits(const char *s, int n, unsigned *out) {
    unsigned v = 0;
    for (int i = 0; i < n; i++) {
        unsigned c = (unsigned char)s[i] - '0';
        if (c > 9)
            return 0;
        v = v * 10 + c;
    }
    *out = v;
    return 1;
}

static int parse_ymd(const char *s, size_t len, int64_t *days, const char **why) {
    unsigned y, m, d;
    if (len < 10 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &m) || s[7] != '-' ||
        !digits(s + 8, 2, &d)) {
        *why = "expected a date as YYYY-MM-DD";
        return -1;
    }
    if (m < 1 || m > 12) {
        *why = "month is not between 01 and 12";
        return -1;
    }
    if (d < 1 || d > days_in_month(y, m)) {
        *why = "day does not exist in that month";
        return -1;
    }
    *days = moose__days_from_civil(y, m, d);
    return 0;
}

int moose_date_parse(const char *s, size_t len, moose_date *out, const char **why) {
    int64_t days;
    if (parse_ymd(s, len, &days, why) != 0)
        return -1;
    if (len != 10) {
        *why = "expected a date as YYYY-MM-DD";
        return -1;
    }
    *out = (moose_date)days;
    return 0;
}

/* The last date this thread read in the common shape, and its day: most records share it. */
static _Thread_local char read_ymd_text[10];
static _Thread_local int64_t read_ymd_days = INT64_MIN; /* INT64_MIN: none yet */

/*
 * The common shape, "YYYY-MM-DDTHH:MM:SS" then an optional fraction and 'Z',
 * checked without branches per digit: most timestamps take this path.
 */
static int datetime_fast(const char *s, size_t len, moose_datetime *out) {
    if (len < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':')
        return -1;
#define DIGIT(i) ((unsigned)((unsigned char)s[i] - '0'))
    int64_t days;
    if (read_ymd_days != INT64_MIN && memcmp(s, read_ymd_text, sizeof read_ymd_text) == 0) {
        days = read_ymd_days;
    } else {
        unsigned y0 = DIGIT(0), y1 = DIGIT(1), y2 = DIGIT(2), y3 = DIGIT(3), m0 = DIGIT(5),
                 m1 = DIGIT(6), d0 = DIGIT(8), d1 = DIGIT(9);
        if ((y0 > 9) | (y1 > 9) | (y2 > 9) | (y3 > 9) | (m0 > 9) | (m1 > 9) | (d0 > 9) | (d1 > 9))
            return -1;
        unsigned y = y0 * 1000 + y1 * 100 + y2 * 10 + y3;
        unsigned mo = m0 * 10 + m1, dd = d0 * 10 + d1;
        if (mo < 1 || mo > 12 || dd < 1 || dd > days_in_month(y, mo))
            return -1;
        days = moose__days_from_civil(y, mo, dd);
        memcpy(read_ymd_text, s, sizeof read_ymd_text);
        read_ymd_days = days;
    }
    unsigned h0 = DIGIT(11), h1 = DIGIT(12), i0 = DIGIT(14), i1 = DIGIT(15), s0 = DIGIT(17),
             s1 = DIGIT(18);
#undef DIGIT
    if ((h0 > 9) | (h1 > 9) | (i0 > 9) | (i1 > 9) | (s0 > 9) | (s1 > 9))
        return -1;
    unsigned hh = h0 * 10 + h1, mi = i0 * 10 + i1, ss = s0 * 10 + s1;
    if (hh > 23 || mi > 59 || ss > 59)
        return -1;
    size_t i = 19;
    int64_t micros = 0;
    if (s[i] == '.') {
        static const int scale[7] = {1000000, 100000, 10000, 1000, 100, 10, 1};
        size_t start = ++i;
        unsigned ndig = 0;
        for (unsigned c; i < len && (c = (unsigned)((unsigned char)s[i] - '0')) <= 9; i++)
            if (ndig < 6) { /* digits past the sixth are truncated */
                micros = micros * 10 + c;
                ndig++;
            }
        if (i == start)
            return -1;
        micros *= scale[ndig];
    }
    if (i + 1 != len || s[i] != 'Z')
        return -1;
    *out = (days * 86400 + hh * 3600 + mi * 60 + ss) * 1000000 + micros;
    return 0;
}

int moose_datetime_parse(const char *s, size_t len, moose_datetime *out, const char **why) {
    static const char shape[] = "expected an RFC 3339 date-time such as 2024-03-20T12:00:00Z";
    if (datetime_fast(s, len, out) == 0)
        return 0;
    /* everything else, and every refusal with its reason */
    int64_t days;
    if (parse_ymd(s, len, &days, why) != 0)
        return -1;
    unsigned hh, mm, ss;
    if (len < 20 || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(s + 11, 2, &hh) ||
        s[13] != ':' || !digits(s + 14, 2, &mm) || s[16] != ':' || !digits(s + 17, 2, &ss)) {
        *why = shape;
        return -1;
    }
    if (hh > 23 || mm > 59 || ss > 59) {
        *why = ss == 60 ? "leap seconds are not supported" : "time of day out of range";
        return -1;
    }
    size_t i = 19;
    int64_t micros = 0;
    if (s[i] == '.') {
        i++;
        size_t start = i;
        int scale = 100000;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            micros += (s[i] - '0') * scale; /* digits past the sixth add 0: truncation */
            scale /= 10;
            i++;
        }
        if (i == start) {
            *why = "a '.' must be followed by fraction digits";
            return -1;
        }
    }
    int64_t offset_s = 0;
    if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i < len && (s[i] == '+' || s[i] == '-')) {
        unsigned oh, om;
        if (len - i < 6 || !digits(s + i + 1, 2, &oh) || s[i + 3] != ':' ||
            !digits(s + i + 4, 2, &om) || oh > 23 || om > 59) {
            *why = "time zone offset must be +HH:MM or -HH:MM";
            return -1;
        }
        offset_s = (int64_t)(oh * 3600 + om * 60) * (s[i] == '+' ? 1 : -1);
        i += 6;
    } else {
        *why = "missing time zone: end with Z or an offset such as +01:00";
        return -1;
    }
    if (i != len) {
        *why = shape;
        return -1;
    }
    int64_t secs = days * 86400 + hh * 3600 + mm * 60 + ss - offset_s;
    int64_t t = secs * 1000000 + micros;
    if (t < MOOSE_DATETIME_MIN || t > MOOSE_DATETIME_MAX) {
        *why = "date-time is outside years 0000 to 9999 once converted to UTC";
        return -1;
    }
    *out = t;
    return 0;
}

static char *put2(char *p, unsigned v) {
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
    return p + 2;
}

/*
 * Consecutive records mostly fall on the same day: each thread keeps the
 * last date it wrote as text and copies it while the day stays the same.
 */
static _Thread_local int64_t ymd_days = INT64_MIN;
static _Thread_local char ymd_text[10];

static char *put_ymd(char *p, int64_t days) {
    if (days != ymd_days) {
        int64_t y;
        unsigned m, d;
        moose__civil_from_days(days, &y, &m, &d);
        if (y < 0 || y > 9999)
            y = y < 0 ? 0 : 9999; /* out of range values are refused by validation */
        char *q = put2(ymd_text, (unsigned)(y / 100));
        q = put2(q, (unsigned)(y % 100));
        *q++ = '-';
        q = put2(q, m);
        *q++ = '-';
        put2(q, d);
        ymd_days = days;
    }
    memcpy(p, ymd_text, sizeof ymd_text);
    return p + sizeof ymd_text;
}

size_t moose_date_format(moose_date d, char out[MOOSE_DATE_TEXT_MAX]) {
    char *p = put_ymd(out, d);
    *p = '\0';
    return (size_t)(p - out);
}

size_t moose_datetime_format(moose_datetime t, char out[MOOSE_DATETIME_TEXT_MAX]) {
    int64_t secs = t / 1000000, micros = t % 1000000;
    if (micros < 0) {
        micros += 1000000;
        secs -= 1;
    }
    int64_t days = secs / 86400, rem = secs % 86400;
    if (rem < 0) {
        rem += 86400;
        days -= 1;
    }
    char *p = put_ymd(out, days);
    *p++ = 'T';
    p = put2(p, (unsigned)(rem / 3600));
    *p++ = ':';
    p = put2(p, (unsigned)(rem / 60 % 60));
    *p++ = ':';
    p = put2(p, (unsigned)(rem % 60));
    if (micros) {
        *p++ = '.';
        int ndig = micros % 1000 == 0 ? 3 : 6;
        unsigned v = (unsigned)(ndig == 3 ? micros / 1000 : micros);
        for (int i = ndig - 1; i >= 0; i--) {
            p[i] = (char)('0' + v % 10);
            v /= 10;
        }
        p += ndig;
    }
    *p++ = 'Z';
    *p = '\0';
    return (size_t)(p - out);
}
