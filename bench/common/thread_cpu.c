/* CPU and page faults by thread name, from /proc/self/task (see thread_cpu.h). */
#include "thread_cpu.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int threads_cpu(thread_cpu *out, int max) {
    DIR *d = opendir("/proc/self/task");
    int n = 0;
    struct dirent *e;
    while (d && n < max && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[300];
        thread_cpu *t = &out[n];
        t->tid = atol(e->d_name);
        snprintf(path, sizeof path, "/proc/self/task/%s/schedstat", e->d_name);
        FILE *fp = fopen(path, "r");
        if (!fp)
            continue;
        int ok = fscanf(fp, "%lld", &t->ns) == 1;
        fclose(fp);
        snprintf(path, sizeof path, "/proc/self/task/%s/stat", e->d_name);
        t->minflt = 0;
        if ((fp = fopen(path, "r"))) {
            char line[1024];
            const char *after = fgets(line, sizeof line, fp) ? strrchr(line, ')') : NULL;
            if (after)
                sscanf(after, ") %*c %*d %*d %*d %*d %*d %*u %ld", &t->minflt);
            fclose(fp);
        }
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
        if (!ok || !(fp = fopen(path, "r")))
            continue;
        if (!fgets(t->name, sizeof t->name, fp))
            t->name[0] = '\0';
        fclose(fp);
        t->name[strcspn(t->name, "\n")] = '\0';
        n++;
    }
    if (d)
        closedir(d);
    return n;
}

void print_threads_cpu(const char *stage, const thread_cpu *before, int nb, const thread_cpu *after,
                       int na, long records) {
    char names[MAX_THREADS][32];
    double us[MAX_THREADS], faults[MAX_THREADS];
    int nn = 0;
    for (int i = 0; i < na; i++) {
        long long base = 0;
        long fbase = 0;
        for (int j = 0; j < nb; j++)
            if (before[j].tid == after[i].tid) {
                base = before[j].ns;
                fbase = before[j].minflt;
            }
        int k = 0;
        while (k < nn && strcmp(names[k], after[i].name) != 0)
            k++;
        if (k == nn) {
            snprintf(names[nn], sizeof names[nn], "%s", after[i].name);
            us[nn] = faults[nn] = 0;
            nn++;
        }
        us[k] += (double)(after[i].ns - base) / 1e3 / (double)records;
        faults[k] += (double)(after[i].minflt - fbase) * 1000.0 / (double)records;
    }
    printf("%s CPU us/record by thread:", stage);
    for (int k = 0; k < nn; k++)
        if (us[k] >= 0.005)
            printf(" %s %.2f", names[k], us[k]);
    printf("\n%s page faults per 1000 records by thread:", stage);
    for (int k = 0; k < nn; k++)
        if (faults[k] >= 0.05)
            printf(" %s %.1f", names[k], faults[k]);
    printf("\n");
}
