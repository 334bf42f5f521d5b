/* A thread per task (asok's way): every spawn starts a detached pthread that
 * runs the task and exits. No pool, no bound: issue 14's baseline for
 * blocking tasks (each blocks on its own thread at once). */
#include <pthread.h>
#include <string.h>

#include "common.h"

static int init(int threads) {
    (void)threads;
    return 0;
}

static void fini(void) {}

static void produce(void (*body)(void *), void *ctx) { body(ctx); }

static void *run(void *arg) {
    bench_task(arg);
    return NULL;
}

static void spawn(void *arg) {
    pthread_attr_t a;
    pthread_t t;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    int e = pthread_create(&t, &a, run, arg);
    pthread_attr_destroy(&a);
    if (e != 0) bench_fail("pthread_create: %s", strerror(e));
}

static const char *skip(const char *wl) {
    if (!bench_issue14_workload(wl)) return "measured in issue 14's workloads only (blocking, mixed, foreground)";
    if (!strcmp(wl, "foreground") || !strncmp(wl, "fg_", 3))
        return "no pool to saturate (a thread per CPU-bound task at default priority: see mutex40)";
    return NULL;
}

const struct peer bench_peer = {
    .name = "thread",
    .init = init,
    .fini = fini,
    .produce = produce,
    .spawn = spawn,
    .skip = skip,
};
