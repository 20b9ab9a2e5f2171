/*
 * Days since 1970-01-01 <-> proleptic Gregorian dates (Howard Hinnant's
 * algorithms: exact for any year, no time zone, no C library), shared by the
 * codecs, the table values and the DLQ envelope (codec_time.c).
 */
#ifndef MOOSE_CIVIL_DATE_H
#define MOOSE_CIVIL_DATE_H

#include <stdint.h>

int64_t moose__days_from_civil(int64_t y, unsigned m, unsigned d);
void moose__civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);

#endif
