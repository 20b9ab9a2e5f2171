#include "event_model.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

static const char *const source_values[] = {"web", "ios", "android"};

#define F(field_name, t, fl)                                                                       \
    .name = #field_name, .name_len = sizeof #field_name - 1, .type = (t), .flags = (fl),           \
    .offset = offsetof(Event, field_name)

static const moose_field_desc event_fields[] = {
    {F(id, MOOSE_TYPE_STRING, MOOSE_FIELD_KEY), .elem_size = sizeof(moose_str)},
    {F(value, MOOSE_TYPE_FLOAT64, 0), .elem_size = sizeof(double)},
    {F(timestamp, MOOSE_TYPE_DATETIME, 0), .elem_size = sizeof(moose_datetime)},
    {F(source, MOOSE_TYPE_ENUM, 0), .elem_size = sizeof(Source), .enum_values = source_values,
     .enum_count = 3},
    {F(amount, MOOSE_TYPE_FLOAT64, MOOSE_FIELD_OPTIONAL),
     .present_offset = offsetof(Event, has_amount), .elem_size = sizeof(double)},
    {F(tags, MOOSE_TYPE_STRING, MOOSE_FIELD_ARRAY), .elem_size = sizeof(moose_str)},
    {F(count, MOOSE_TYPE_INT32, 0), .elem_size = sizeof(int32_t)},
    {F(flag, MOOSE_TYPE_BOOL, 0), .elem_size = sizeof(bool)},
    {F(day, MOOSE_TYPE_DATE, 0), .elem_size = sizeof(moose_date)},
    {F(uid, MOOSE_TYPE_UUID, 0), .elem_size = sizeof(moose_uuid)},
    {F(price, MOOSE_TYPE_DECIMAL, 0), .elem_size = sizeof(moose_decimal), .decimal_precision = 9,
     .decimal_scale = 2},
    {F(big, MOOSE_TYPE_UINT64, 0), .elem_size = sizeof(uint64_t)},
};

const moose_model_desc Event_desc = {
    .name = "Event",
    .size = sizeof(Event),
    .align = _Alignof(Event),
    .fields = event_fields,
    .nfields = sizeof event_fields / sizeof event_fields[0],
    .key_field = 0,
};

moose_table_desc event_table(const char *name) {
    moose_table_desc t = {.name = name, .model = &Event_desc};
    return t;
}

static moose_str tag_pool[3] = {{"red", 3}, {"green \"quoted\"", 14}, {"tab\there", 8}};

void event_fill(Event *e, int i, char *buf, size_t buf_size) {
    memset(e, 0, sizeof *e);
    int n = snprintf(buf, buf_size, "key-%06d", i);
    e->id.ptr = buf;
    e->id.len = (size_t)n;
    e->value = i * 1.5;
    /* 2024-03-20T12:00:00Z plus i seconds */
    e->timestamp = (1710936000LL + i) * 1000000LL;
    e->source = (Source)(i % 3);
    e->has_amount = i % 2 == 0;
    e->amount = e->has_amount ? i * 0.25 : 0;
    e->tags.items = tag_pool;
    e->tags.len = (size_t)(i % 4);
    e->count = i * 7 - 3;
    e->flag = i % 5 == 0;
    e->day = 19802 + i % 30; /* 2024-03-20 + i % 30 days */
    for (int b = 0; b < 16; b++)
        e->uid.bytes[b] = (uint8_t)(i * 16 + b);
    e->price = 1234 + i; /* 12.34 + i/100 */
    e->big = (1ULL << 62) + (uint64_t)i * 1000003u;
}
