/*
 * libFuzzer target for one generated decoder (chosen at build time with
 * FUZZ_HEADER and FUZZ_MODEL). Whatever the bytes, decoding must not crash,
 * leak or read out of bounds (ASan + UBSan), and an accepted record must
 * survive validation and re-encoding: decode(encode(x)) gives the same bytes
 * again when encoded.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include FUZZ_HEADER

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define MODEL FUZZ_MODEL
#define FROM_JSON CAT(FUZZ_MODEL, _from_json)
#define TO_JSON CAT(FUZZ_MODEL, _to_json)
#define VALIDATE CAT(FUZZ_MODEL, _validate)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    moose_arena arena, again;
    moose_arena_init(&arena);
    moose_arena_init(&again);
    moose_errors errs;
    moose_errors_init(&errs);
    moose_buf first, second;
    moose_buf_init(&first);
    moose_buf_init(&second);
    moose_decode_options opts = {.allow_extra_fields = size % 2 == 0, .max_depth = 16};

    MODEL rec, back;
    int rc = FROM_JSON(&rec, (const char *)data, size, &arena, &opts, &errs);
    if (rc == 0) {
        (void)VALIDATE(&rec, &errs);
        if (TO_JSON(&rec, &first) == 0) {
            if (FROM_JSON(&back, first.data, first.len, &again, NULL, &errs) != 0)
                abort(); /* our own output must decode */
            if (TO_JSON(&back, &second) != 0 || second.len != first.len ||
                memcmp(first.data, second.data, first.len) != 0)
                abort(); /* and encode to the same bytes */
        }
    } else if (errs.len == 0 && errs.dropped == 0) {
        abort(); /* a refusal always says why */
    }
    moose_buf_free(&first);
    moose_buf_free(&second);
    moose_errors_free(&errs);
    moose_arena_free(&arena);
    moose_arena_free(&again);
    return 0;
}
