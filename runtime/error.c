#include "moose/error.h"

const char *moose_strerror(int code) {
    switch (code) {
    case MOOSE_OK:
        return "success";
#define XX(name, c, msg)                                                       \
    case MOOSE_##name:                                                         \
        return msg;
        MOOSE_ERRNO_MAP(XX)
#undef XX
    }
    return "unknown error";
}

const char *moose_err_name(int code) {
    switch (code) {
    case MOOSE_OK:
        return "MOOSE_OK";
#define XX(name, c, msg)                                                       \
    case MOOSE_##name:                                                         \
        return "MOOSE_" #name;
        MOOSE_ERRNO_MAP(XX)
#undef XX
    }
    return "MOOSE_UNKNOWN";
}
