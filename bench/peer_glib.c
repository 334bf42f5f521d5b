/* GLib's GThreadPool: exclusive threads, as a program owning its pool would
 * use (bench-glib), or, built with -DGLIB_UNLIMITED (bench-glibu), GLib's
 * shared unlimited pool (max_threads -1, exclusive FALSE): a new thread
 * whenever every thread is busy, what issue 14's blocking workloads compare
 * against. */
#include <glib.h>
#include <string.h>

#include "common.h"

static GThreadPool *pool;

static void run(gpointer data, gpointer user) {
    (void)user;
    bench_task(data);
}

#ifdef GLIB_UNLIMITED
#define EXCLUSIVE FALSE
#else
#define EXCLUSIVE TRUE
#endif

static GThreadPool *new_pool(GFunc fn, int threads) {
    GError *err = NULL;
    GThreadPool *p = g_thread_pool_new(fn, NULL, threads, EXCLUSIVE, &err);
    if (!p) bench_fail("g_thread_pool_new: %s", err ? err->message : "failed");
    return p;
}

static int init(int threads) {
#ifdef GLIB_UNLIMITED
    threads = -1;
#endif
    pool = new_pool(run, threads);
    return 0;
}

static void fini(void) { g_thread_pool_free(pool, FALSE, TRUE); }

static void produce(void (*body)(void *), void *ctx) { body(ctx); }

static void push(GThreadPool *p, void *arg) {
    GError *err = NULL;
    if (!g_thread_pool_push(p, arg, &err)) bench_fail("g_thread_pool_push: %s", err ? err->message : "failed");
}

static void spawn(void *arg) { push(pool, arg); }

/* Serial queue: GLib's nearest construct is a pool of one thread (FIFO). */
static void serial(size_t n) {
    GThreadPool *q = new_pool(run, 1);
    for (size_t i = 0; i < n; i++) push(q, BENCH_ARG(i));
    g_thread_pool_free(q, FALSE, TRUE); /* runs what is queued, then joins */
}

/* Group: a counter under a GMutex, signalled through a GCond at zero. */
static GMutex group_mu;
static GCond group_cv;
static size_t group_left;

static void run_grouped(gpointer data, gpointer user) {
    (void)user;
    bench_task(data);
    g_mutex_lock(&group_mu);
    if (--group_left == 0) g_cond_signal(&group_cv);
    g_mutex_unlock(&group_mu);
}

static void group(size_t rounds, size_t k) {
    GThreadPool *p = new_pool(run_grouped, g_thread_pool_get_max_threads(pool));
    for (size_t r = 0; r < rounds; r++) {
        g_mutex_lock(&group_mu);
        group_left += k;
        g_mutex_unlock(&group_mu);
        for (size_t j = 0; j < k; j++) push(p, BENCH_ARG(r * k + j));
        g_mutex_lock(&group_mu);
        while (group_left) g_cond_wait(&group_cv, &group_mu);
        g_mutex_unlock(&group_mu);
    }
    g_thread_pool_free(p, FALSE, TRUE);
}

static const char *skip(const char *wl) {
#ifdef GLIB_UNLIMITED
    if (!bench_issue14_workload(wl)) return "measured in issue 14's workloads only (blocking, mixed, foreground)";
    if (!strncmp(wl, "fg_", 3)) return "no QoS classes (foreground measures it at default priority)";
#else
    if (bench_issue14_workload(wl)) return "a fixed pool of --threads workers: tbb stands for these in issue 14's workloads";
#endif
    if (!strcmp(wl, "handles") || !strcmp(wl, "memh")) return "GThreadPool has no per-task handle";
    if (!strcmp(wl, "fib")) return "a blocking pool cannot wait inside its tasks: nested waits deadlock once every worker waits";
    if (!strcmp(wl, "loop")) return "no parallel-loop construct";
    return NULL;
}

const struct peer bench_peer = {
#ifdef GLIB_UNLIMITED
    .name = "glibu",
#else
    .name = "glib",
#endif
    .init = init,
    .fini = fini,
    .produce = produce,
    .spawn = spawn,
    .serial = serial,
    .group = group,
    .skip = skip,
    .serial_ordered = 1,
};
