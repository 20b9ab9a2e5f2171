/*
 * Where a benchmark's CPU goes, without a profiler: every thread's CPU time
 * and page faults from /proc/self/task, summed by thread name ("moose:t0",
 * "rdk:broker1", ...) between two snapshots and printed per record.
 */
#ifndef MOOSE_BENCH_THREAD_CPU_H
#define MOOSE_BENCH_THREAD_CPU_H

enum { MAX_THREADS = 256 };

/* One thread's CPU time so far, from /proc/self/task/TID/schedstat (nanoseconds on a CPU). */
typedef struct thread_cpu {
    long tid;
    char name[32];
    long long ns;
    long minflt; /* minor page faults: fresh memory touched */
} thread_cpu;

/* Every live thread of the process with its CPU time; returns how many (at most MAX). */
int threads_cpu(thread_cpu *out, int max);

/*
 * Prints, per thread name, the CPU each record cost between the snapshots
 * BEFORE and AFTER (threads born in between count from zero), and the page
 * faults per 1000 records, as two lines starting with STAGE.
 */
void print_threads_cpu(const char *stage, const thread_cpu *before, int nb, const thread_cpu *after,
                       int na, long records);

#endif
