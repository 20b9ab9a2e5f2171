/*
 * The fixture schema as an app, the way moose_add_app() builds one: main is
 * the app command line. FIXTURE_APP names it (topics "<name>-raw", ...),
 * FIXTURE_TRANSFORM picks the transform (to_float, split, filter, fanout,
 * tag, owner) and FIXTURE_PARTITIONS the raw stream's parallelism.
 */
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "moose/moose.h"

int main(int argc, char **argv) {
    static const char *const names[] = {"to_float", "split", "filter", "fanout", "tag", "owner"};
    const char *app = getenv("FIXTURE_APP");
    const char *which = getenv("FIXTURE_TRANSFORM");
    const char *parts = getenv("FIXTURE_PARTITIONS");
    fixture_transform t = FIXTURE_TO_FLOAT;
    for (int i = 0; which && i < 6; i++)
        if (strcmp(which, names[i]) == 0)
            t = (fixture_transform)i;
    static fixture_app f;
    fixture_app_init(&f, app && *app ? app : "engine", t, parts ? atoi(parts) : 2);
    return moose_main(&f.app, argc, argv);
}
