/*
 * model Reading { id: Key<String>, value: Float64 } written by hand the way
 * moosec generates it (struct, descriptor, codec on moose/json.h), so the
 * sink's tests do not depend on the generator. No validation rule: the
 * tables' own rules (CHECK, throwIf) make the poison rows.
 */
#ifndef TABLES_READING_MODEL_H
#define TABLES_READING_MODEL_H

#include "moose/schema.h"

typedef struct Reading {
    moose_str id;
    double value;
} Reading;

extern const moose_model_desc Reading_desc;

#endif
