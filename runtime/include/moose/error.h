/*
 * One error vocabulary for libmoose and generated code: negative integer
 * codes from a single X-macro list, which also generates moose_strerror()
 * and moose_err_name(), so a code, its name and its message never drift.
 */
#ifndef MOOSE_ERROR_H
#define MOOSE_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

#define MOOSE_ERRNO_MAP(XX)                                                    \
    XX(EVALIDATION, -1, "record failed validation")                            \
    XX(EDECODE, -2, "record is not valid JSON for its model")                  \
    XX(ETRANSPORT, -3, "Kafka transport error")                                \
    XX(EQUEUEFULL, -4, "producer queue is full")                               \
    XX(ECLOSED, -5, "stream or app is closed")                                 \
    XX(ETIMEDOUT, -6, "timed out")                                             \
    XX(ENOMEM, -7, "out of memory")                                            \
    XX(EINVAL, -8, "invalid argument")                                         \
    XX(ETRANSFORM, -9, "transform failed")                                     \
    XX(ETABLE, -10, "table rejected the record")                               \
    XX(ETABLEDOWN, -11, "table is unreachable")                                \
    XX(ESCHEMA, -12, "table or topic does not match the schema")               \
    XX(ENOTFOUND, -13, "not found")                                            \
    XX(EIO, -14, "input/output error")                                         \
    XX(ETOOBIG, -15, "record exceeds a size or depth limit")                   \
    XX(EGAP, -16, "records were lost between producer and consumer")           \
    XX(ENOBROKER, -17, "no embedded broker is running")                        \
    XX(EABI, -18, "generated code does not match this libmoose")               \
    XX(EDELIVERY, -19, "broker did not acknowledge the record")

typedef enum moose_errno {
    MOOSE_OK = 0,
#define MOOSE_ERRNO_ENUM__(name, code, msg) MOOSE_##name = (code),
    MOOSE_ERRNO_MAP(MOOSE_ERRNO_ENUM__)
#undef MOOSE_ERRNO_ENUM__
} moose_errno;

/* "record failed validation"; "unknown error" for codes not in the map. */
const char *moose_strerror(int code);

/* "MOOSE_EVALIDATION"; "MOOSE_UNKNOWN" for codes not in the map. */
const char *moose_err_name(int code);

#ifdef __cplusplus
}
#endif

#endif
