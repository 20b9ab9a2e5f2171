/*
 * The @pattern cache: each pattern is compiled once, with PCRE2's JIT when
 * available, and published with an atomic compare-and-swap, so validators
 * in several threads share it without a lock. Match data is per thread.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <pthread.h>
#include <stdio.h>

#include "moose/validate.h"

static pthread_key_t match_data_key;
static pthread_once_t match_data_once = PTHREAD_ONCE_INIT;

static void match_data_free(void *md) { pcre2_match_data_free(md); }

static void match_data_key_create(void) { pthread_key_create(&match_data_key, match_data_free); }

static pcre2_match_data *thread_match_data(void) {
    pthread_once(&match_data_once, match_data_key_create);
    pcre2_match_data *md = pthread_getspecific(match_data_key);
    if (!md) {
        /* one pair: validators ask only "does it match", never for groups */
        md = pcre2_match_data_create(1, NULL);
        if (md && pthread_setspecific(match_data_key, md) != 0) {
            pcre2_match_data_free(md);
            md = NULL;
        }
    }
    return md;
}

static pcre2_code *compile(const char *source, char *errstr, size_t errstr_size) {
    int err;
    PCRE2_SIZE erroff;
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)source, PCRE2_ZERO_TERMINATED,
                                     PCRE2_UTF | PCRE2_NO_UTF_CHECK, &err, &erroff, NULL);
    if (!code) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(err, msg, sizeof msg);
        snprintf(errstr, errstr_size, "pattern \"%s\" at offset %zu: %s", source, (size_t)erroff,
                 (const char *)msg);
        return NULL;
    }
    /* without JIT (some platforms) the interpreter still matches correctly */
    (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
    return code;
}

static pcre2_code *get_code(moose_pattern *pat, char *errstr, size_t errstr_size) {
    pcre2_code *code = __atomic_load_n((pcre2_code **)&pat->code, __ATOMIC_ACQUIRE);
    if (code)
        return code;
    code = compile(pat->source, errstr, errstr_size);
    if (!code)
        return NULL;
    void *expected = NULL;
    if (!__atomic_compare_exchange_n(&pat->code, &expected, code, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE)) {
        /* another thread published first: use its copy */
        pcre2_code_free(code);
        code = expected;
    }
    return code;
}

int moose_pattern_prepare(moose_pattern *pat, char *errstr, size_t errstr_size) {
    return get_code(pat, errstr, errstr_size) ? 0 : -1;
}

int moose_pattern_match(moose_pattern *pat, const char *s, size_t len) {
    char err[256];
    pcre2_code *code = get_code(pat, err, sizeof err);
    pcre2_match_data *md = thread_match_data();
    if (!code || !md)
        return -1;
    /* the value was checked as UTF-8 first, so PCRE2 need not check again */
    int rc = pcre2_match(code, (PCRE2_SPTR)(s ? s : ""), s ? len : 0, 0, PCRE2_NO_UTF_CHECK, md,
                         NULL);
    if (rc >= 0)
        return 1;
    return rc == PCRE2_ERROR_NOMATCH ? 0 : -1;
}

int moose_patterns_prepare(const moose_app_desc *desc, char *errstr, size_t errstr_size) {
    for (uint32_t i = 0; i < desc->nmodels; i++) {
        const moose_model_desc *m = desc->models[i];
        if (m->prepare && m->prepare(errstr, errstr_size) != 0)
            return -1;
    }
    return 0;
}
