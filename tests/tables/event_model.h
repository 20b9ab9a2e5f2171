/*
 * A hand-written model in the shape moosec generates (a plain struct and a
 * moose_model_desc built with offsetof), covering every kind of column the
 * table layer writes: the tests of the table layer must not depend on the
 * code generator.
 */
#ifndef TABLES_EVENT_MODEL_H
#define TABLES_EVENT_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "moose/schema.h"

typedef enum Source { Source_web, Source_ios, Source_android } Source;

typedef struct Event {
    moose_str id; /* Key<String> */
    double value;
    moose_datetime timestamp;
    Source source;
    bool has_amount;
    double amount; /* Float64? */
    MOOSE_ARRAY(moose_str) tags;
    int32_t count;
    bool flag;
    moose_date day;
    moose_uuid uid;
    moose_decimal price; /* Decimal(9, 2) */
    uint64_t big;
} Event;

extern const moose_model_desc Event_desc;

/* A table of Event called NAME with the runtime's own DDL (ddl strings NULL). */
moose_table_desc event_table(const char *name);

/* Fills E with row I of a deterministic data set; strings point into static storage or BUF. */
void event_fill(Event *e, int i, char *buf, size_t buf_size);

#endif
