#include "ast.h"

#include <string.h>

void moosec_schema_init(moosec_schema *schema) {
    memset(schema, 0, sizeof(*schema));
    moosec_arena_init(&schema->arena);
}

void moosec_schema_free(moosec_schema *schema) {
    for (size_t i = 0; i < schema->sources.len; i++)
        moosec_source_free(schema->sources.items[i]);
    moosec_arena_free(&schema->arena);
    memset(schema, 0, sizeof(*schema));
}

#define FIND_BY_NAME(VEC)                                                      \
    for (size_t i = 0; i < (VEC).len; i++)                                     \
        if (strcmp((VEC).items[i]->name, name) == 0)                           \
            return (VEC).items[i];                                             \
    return NULL

moosec_model *moosec_schema_find_model(const moosec_schema *schema, const char *name) {
    FIND_BY_NAME(schema->models);
}

moosec_table *moosec_schema_find_table(const moosec_schema *schema, const char *name) {
    FIND_BY_NAME(schema->tables);
}

moosec_stream *moosec_schema_find_stream(const moosec_schema *schema, const char *name) {
    FIND_BY_NAME(schema->streams);
}
