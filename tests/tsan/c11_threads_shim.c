/*
 * Preloaded under ThreadSanitizer: librdkafka starts, joins and synchronizes
 * its threads with C11 threads (thrd_create, mtx_lock, cnd_wait), which
 * glibc implements without going through the pthread functions that
 * ThreadSanitizer intercepts. Unseen, a librdkafka thread has no
 * ThreadSanitizer state (it crashes in its first malloc) and every lock it
 * takes looks like none. Each C11 call here is its pthread twin.
 */
#define _GNU_SOURCE /* pthread_mutexattr_settype */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <threads.h>

typedef struct start {
    thrd_start_t fn;
    void *arg;
} start;

static void *run_start(void *p) {
    start s = *(start *)p;
    free(p);
    return (void *)(intptr_t)s.fn(s.arg);
}

int thrd_create(thrd_t *thr, thrd_start_t fn, void *arg) {
    start *s = malloc(sizeof *s);
    if (!s)
        return thrd_nomem;
    s->fn = fn;
    s->arg = arg;
    if (pthread_create(thr, NULL, run_start, s) != 0) {
        free(s);
        return thrd_error;
    }
    return thrd_success;
}

/* Joined with pthread_join too, or ThreadSanitizer never learns the thread ended. */
int thrd_join(thrd_t thr, int *res) {
    void *ret;
    if (pthread_join(thr, &ret) != 0)
        return thrd_error;
    if (res)
        *res = (int)(intptr_t)ret;
    return thrd_success;
}

static int result(int rc) {
    return rc == 0 ? thrd_success : rc == ETIMEDOUT ? thrd_timedout : thrd_error;
}

int mtx_init(mtx_t *m, int type) {
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    if (type & mtx_recursive)
        pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    int rc = pthread_mutex_init((pthread_mutex_t *)m, &attr);
    pthread_mutexattr_destroy(&attr);
    return result(rc);
}

int mtx_lock(mtx_t *m) {
    return result(pthread_mutex_lock((pthread_mutex_t *)m));
}
int mtx_trylock(mtx_t *m) {
    int rc = pthread_mutex_trylock((pthread_mutex_t *)m);
    return rc == EBUSY ? thrd_busy : result(rc);
}
int mtx_unlock(mtx_t *m) {
    return result(pthread_mutex_unlock((pthread_mutex_t *)m));
}
void mtx_destroy(mtx_t *m) {
    pthread_mutex_destroy((pthread_mutex_t *)m);
}

int cnd_init(cnd_t *c) {
    return result(pthread_cond_init((pthread_cond_t *)c, NULL));
}
int cnd_signal(cnd_t *c) {
    return result(pthread_cond_signal((pthread_cond_t *)c));
}
int cnd_broadcast(cnd_t *c) {
    return result(pthread_cond_broadcast((pthread_cond_t *)c));
}
void cnd_destroy(cnd_t *c) {
    pthread_cond_destroy((pthread_cond_t *)c);
}
int cnd_wait(cnd_t *c, mtx_t *m) {
    return result(pthread_cond_wait((pthread_cond_t *)c, (pthread_mutex_t *)m));
}
int cnd_timedwait(cnd_t *c, mtx_t *m, const struct timespec *until) {
    return result(pthread_cond_timedwait((pthread_cond_t *)c, (pthread_mutex_t *)m, until));
}

void call_once(once_flag *flag, void (*fn)(void)) {
    pthread_once((pthread_once_t *)flag, fn);
}
