/* OpenMP tasks (gcc's libgomp). Fire-and-forget work comes from a producer
 * inside `parallel num_threads(threads + 1)` + `single`, so `threads` other
 * team threads are the pool. Note: libgomp runs a new task inline on the
 * producer once more than 64 x team-size tasks are queued (libgomp/task.c,
 * GOMP_task), so its spawn figure is partly inline execution, not queueing. */
#include <omp.h>
#include <string.h>

#include "common.h"

static int nthreads;

static int init(int threads) {
    nthreads = threads;
    omp_set_dynamic(0);
    /* Start the threads now, outside any timed region. A team of `threads`:
     * fork-join and loops use that size; the producer's team adds one thread
     * when produce() opens its region, before the timed body runs. */
#pragma omp parallel num_threads(threads)
    {
    }
    return 0;
}

static void fini(void) {}

static void produce(void (*body)(void *), void *ctx) {
#pragma omp parallel num_threads(nthreads + 1)
#pragma omp single
    body(ctx);
}

static void spawn(void *arg) {
#pragma omp task firstprivate(arg)
    bench_task(arg);
}

static uint64_t fib_rec(int n) {
    bench_count();
    if (n < 2) return (uint64_t)n;
    uint64_t x = 0, y;
#pragma omp task shared(x) firstprivate(n)
    x = fib_rec(n - 1);
    y = fib_rec(n - 2);
#pragma omp taskwait
    return x + y;
}

static uint64_t fib(int n) {
    uint64_t r = 0;
#pragma omp parallel num_threads(nthreads)
#pragma omp single
    r = fib_rec(n);
    return r;
}

/* The fork-join ports: a task per fork, taskwait per node. */
static uint64_t fibj(int n) { return fib(n); }

static uint64_t sky_rec(uint64_t num, uint64_t size) {
    if (size == 1) {
        bench_count();
        return num;
    }
    uint64_t r[BENCH_SKYNET_DIV], sub = size / BENCH_SKYNET_DIV;
    for (int i = 0; i < BENCH_SKYNET_DIV; i++) {
#pragma omp task shared(r) firstprivate(i)
        r[i] = sky_rec(num + (uint64_t)i * sub, sub);
    }
#pragma omp taskwait
    uint64_t sum = 0;
    for (int i = 0; i < BENCH_SKYNET_DIV; i++) sum += r[i];
    return sum;
}

static uint64_t skynet(uint64_t leaves) {
    uint64_t r = 0;
#pragma omp parallel num_threads(nthreads)
#pragma omp single
    r = sky_rec(0, leaves);
    return r;
}

static uint64_t nq_rec(const signed char *a, int n, int row) {
    bench_count();
    if (row == n) return 1;
    uint64_t r[BENCH_NQ_MAX] = {0};
    for (int col = 0; col < n; col++) {
        if (!bench_nq_ok(a, row, col)) continue;
#pragma omp task shared(r) firstprivate(col)
        {
            signed char b[BENCH_NQ_MAX];
            memcpy(b, a, (size_t)row);
            b[row] = (signed char)col;
            r[col] = nq_rec(b, n, row + 1);
        }
    }
#pragma omp taskwait
    uint64_t sum = 0;
    for (int col = 0; col < n; col++) sum += r[col];
    return sum;
}

static uint64_t nqueens(int n) {
    uint64_t r = 0;
    signed char a[BENCH_NQ_MAX] = {0};
#pragma omp parallel num_threads(nthreads)
#pragma omp single
    r = nq_rec(a, n, 0);
    return r;
}

/* schedule(static) over the elements, written as one block per thread so the
 * body is the shared range kernel. */
static void pfor(uint64_t *a, size_t n) {
#pragma omp parallel for num_threads(nthreads) schedule(static)
    for (int t = 0; t < nthreads; t++) bench_kernel_range(a, n * (size_t)t / (size_t)nthreads, n * (size_t)(t + 1) / (size_t)nthreads);
}

/* The nearest OpenMP construct to a serial queue: tasks chained by depend(inout). */
static void serial_body(void *p) {
    size_t n = *(size_t *)p;
    char chain = 0;
    for (size_t i = 0; i < n; i++) {
#pragma omp task depend(inout : chain) firstprivate(i)
        bench_task(BENCH_ARG(i));
    }
#pragma omp taskwait
    (void)chain;
}

static void serial(size_t n) { produce(serial_body, &n); }

struct group_args {
    size_t rounds, k;
};

static void group_body(void *p) {
    struct group_args *g = p;
    for (size_t r = 0; r < g->rounds; r++) {
        for (size_t j = 0; j < g->k; j++) {
            size_t i = r * g->k + j;
#pragma omp task firstprivate(i)
            bench_task(BENCH_ARG(i));
        }
#pragma omp taskwait
    }
}

static void group(size_t rounds, size_t k) {
    struct group_args g = {rounds, k};
    produce(group_body, &g);
}

static const char *skip(const char *wl) {
    if (bench_issue14_workload(wl)) return "a fixed pool of --threads workers: tbb stands for these in issue 14's workloads";
    if (!strcmp(wl, "handles") || !strcmp(wl, "memh")) return "OpenMP tasks have no per-task handle";
    if (!strcmp(wl, "mem")) return "libgomp runs tasks inline once 64 x threads are queued: it cannot hold queued tasks";
    return NULL;
}

const struct peer bench_peer = {
    .name = "omp",
    .init = init,
    .fini = fini,
    .produce = produce,
    .spawn = spawn,
    .fib = fib,
    .pfor = pfor,
    .serial = serial,
    .group = group,
    .skip = skip,
    .serial_ordered = 1, /* depend(inout) on one variable orders the tasks */
    .fibj = fibj,
    .skynet = skynet,
    .nqueens = nqueens,
};
