/*
 * Writes a .moose schema of N models with 20 fields each to stdout, for
 * timing `moosec check`: every type, constraints (patterns included, as
 * PCRE2 compiles each), a nested reference to the previous model, a stream
 * per model, a table for every fourth and a transform for every second, so
 * every pass of the checker has work proportional to N.
 *   gen_schema N > schema.moose
 */
#include <stdio.h>
#include <stdlib.h>

static void model(FILE *out, long i) {
    fprintf(out,
            "model Model%ld {\n"
            "  id: Key<String>         @length(1, 64)\n"
            "  name: String            @length(0, 256) @default(\"unnamed\")\n"
            "  code: String            @pattern(\"^[A-Z]{3}-\\\\d+$\")\n"
            "  active: Bool            @default(true)\n"
            "  small: Int8             @range(-100, 100)\n"
            "  medium: Int32           @range(0, 1000000) @default(42)\n"
            "  big: Int64\n"
            "  count: UInt32\n"
            "  total: UInt64\n"
            "  ratio: Float32          @range(0, 1)\n"
            "  amount: Float64?        @range(0, 1e9)\n"
            "  price: Decimal(18, 2)   @default(9.99)\n"
            "  created_at: DateTime\n"
            "  day: Date?\n"
            "  ref: UUID\n"
            "  kind: Enum(\"web\", \"ios\", \"android\") @default(\"web\")\n"
            "  tags: String[]          @length(1, 32)\n"
            "  scores: Float64[]\n"
            "  note: String?\n",
            i);
    if (i > 0)
        fprintf(out, "  parent: Model%ld?\n", i - 1);
    else
        fprintf(out, "  parent_id: String?\n");
    fprintf(out, "}\n\n");
    if (i % 4 == 0)
        fprintf(out, "table Table%ld: Model%ld { order_by: [id, created_at] }\n", i, i);
    fprintf(out,
            "stream stream%ld: Model%ld {\n"
            "  name: \"topic-%ld\"\n"
            "  destination: Table%ld\n"
            "  parallelism: 4\n"
            "  retention_period: 7d\n"
            "  validation: { on_invalid: dead_letter, allow_extra_fields: false }\n"
            "}\n",
            i, i, i, i);
    if (i % 2 == 1)
        fprintf(out, "transform transform%ld: stream%ld -> stream%ld\n", i, i - 1, i);
    fputc('\n', out);
}

int main(int argc, char **argv) {
    char *end;
    long n = argc == 2 ? strtol(argv[1], &end, 10) : 0;
    if (argc != 2 || *end || n < 1) {
        fputs("usage: gen_schema N > schema.moose   (N models of 20 fields)\n", stderr);
        return 2;
    }
    for (long i = 0; i < n; i++)
        model(stdout, i);
    if (fflush(stdout) != 0) {
        perror("gen_schema: stdout");
        return 2;
    }
    return 0;
}
