/* The plain mutex + condvar pool of mutex_pool.c: --threads workers
 * (bench-mutex), or, built with -DMUTEX_THREADS=40 (bench-mutex40), a fixed
 * 40 (anyio's default limiter, which runs Starlette's sync background tasks),
 * for issue 14's blocking workloads. */
#include <pthread.h>
#include <string.h>

#include "common.h"
#include "mutex_pool.h"

#ifdef MUTEX_THREADS
static size_t max_threads(void) { return MUTEX_THREADS; }
#endif

static mpool *pool;

static int init(int threads) {
#ifdef MUTEX_THREADS
    threads = MUTEX_THREADS;
#endif
    pool = mpool_new(threads);
    return pool ? 0 : -1;
}

static void fini(void) { mpool_free(pool); }

static void produce(void (*body)(void *), void *ctx) { body(ctx); }

static void run(void *arg) { bench_task(arg); }

static void spawn(void *arg) {
    if (mpool_submit(pool, run, arg) != 0) bench_fail("mpool_submit: out of memory");
}

static void *submit_handle(void *arg) {
    mfuture *f = mpool_submit_future(pool, run, arg);
    if (!f) bench_fail("mpool_submit_future: out of memory");
    return f;
}

static void wait_handle(void *h) { mfuture_wait(h); }

/* Serial queue: what a C programmer has at hand, a second pool of one thread. */
static void serial(size_t n) {
    mpool *q = mpool_new(1);
    if (!q) bench_fail("mpool_new(1) failed");
    for (size_t i = 0; i < n; i++)
        if (mpool_submit(q, run, BENCH_ARG(i)) != 0) bench_fail("mpool_submit: out of memory");
    mpool_free(q); /* drains, then joins */
}

/* Group: a counter of unfinished tasks under a mutex, signalled at zero. */
static pthread_mutex_t group_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t group_cv = PTHREAD_COND_INITIALIZER;
static size_t group_left;

static void run_grouped(void *arg) {
    bench_task(arg);
    pthread_mutex_lock(&group_mu);
    if (--group_left == 0) pthread_cond_signal(&group_cv);
    pthread_mutex_unlock(&group_mu);
}

static void group(size_t rounds, size_t k) {
    for (size_t r = 0; r < rounds; r++) {
        pthread_mutex_lock(&group_mu);
        group_left += k;
        pthread_mutex_unlock(&group_mu);
        for (size_t j = 0; j < k; j++)
            if (mpool_submit(pool, run_grouped, BENCH_ARG(r * k + j)) != 0) bench_fail("mpool_submit: out of memory");
        pthread_mutex_lock(&group_mu);
        while (group_left) pthread_cond_wait(&group_cv, &group_mu);
        pthread_mutex_unlock(&group_mu);
    }
}

static const char *skip(const char *wl) {
#ifdef MUTEX_THREADS
    if (!bench_issue14_workload(wl)) return "measured in issue 14's workloads only (blocking, mixed, foreground)";
    if (!strncmp(wl, "fg_", 3)) return "no QoS classes (foreground measures it at default priority)";
#else
    if (bench_issue14_workload(wl)) return "a fixed pool of --threads workers: tbb stands for these in issue 14's workloads";
#endif
    if (!strcmp(wl, "fib")) return "a blocking pool cannot wait inside its tasks: nested waits deadlock once every worker waits";
    if (!strcmp(wl, "loop")) return "no parallel-loop construct";
    return NULL;
}

const struct peer bench_peer = {
#ifdef MUTEX_THREADS
    .name = "mutex40",
#else
    .name = "mutex",
#endif
    .init = init,
    .fini = fini,
    .produce = produce,
    .spawn = spawn,
    .submit_handle = submit_handle,
    .wait_handle = wait_handle,
    .serial = serial,
    .group = group,
    .skip = skip,
    .serial_ordered = 1,
#ifdef MUTEX_THREADS
    .max_threads = max_threads,
#endif
};
