/*
 * Everything a moose-c user includes: the app (open, write, run), the
 * transform API, codecs, descriptors, errors and observability.
 * Generated headers include it, so user code rarely needs to.
 */
#ifndef MOOSE_MOOSE_H
#define MOOSE_MOOSE_H

#include "moose/app.h"
#include "moose/codec.h"
#include "moose/error.h"
#include "moose/json.h"
#include "moose/metrics.h"
#include "moose/schema.h"
#include "moose/transform.h"
#include "moose/validate.h"

#endif
