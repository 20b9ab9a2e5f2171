#include <string.h>

#include "cli.h"

/* Prints STMT, ending it with ';' so the output runs as it is in sqlite3 or clickhouse-client. */
static void print_statement(const char *stmt) {
    size_t n = strlen(stmt);
    while (n > 0 && (stmt[n - 1] == '\n' || stmt[n - 1] == ' '))
        n--;
    printf("%.*s%s\n", (int)n, stmt, n > 0 && stmt[n - 1] == ';' ? "" : ";");
}

int moose__cli_ddl(const moose__cli *cli) {
    const char *dialect = cli->opts->dialect;
    if (!dialect) {
        const char *tables = cli->opts->cfg.tables;
        if (strncmp(tables, "sqlite:", 7) == 0)
            dialect = "sqlite";
        else if (strncmp(tables, "clickhouse://", 13) == 0)
            dialect = "clickhouse";
        else
            return moose__cli_usage_error(cli,
                                          "--tables '%s' is neither sqlite:FILE nor "
                                          "clickhouse://...; pass --dialect",
                                          tables);
    }
    bool clickhouse = strcmp(dialect, "clickhouse") == 0;
    for (uint32_t i = 0; i < cli->desc->ntables; i++) {
        const moose_table_desc *t = cli->desc->tables[i];
        const char *stmt = clickhouse ? t->ddl_clickhouse : t->ddl_sqlite;
        if (!stmt) {
            fprintf(stderr, "%s: table %s has no %s DDL: regenerate the app with moosec\n",
                    cli->prog, t->name, dialect);
            return MOOSE__EXIT_FAILED;
        }
        print_statement(stmt);
    }
    return fflush(stdout) == 0 ? MOOSE__EXIT_OK : MOOSE__EXIT_USAGE;
}
