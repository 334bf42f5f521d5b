// oneTBB: task_arena::enqueue for fire-and-forget, task_group for fork-join
// and groups, parallel_for for loops, a serial flow-graph node for the
// serial queue.
#include <cstring>

#include <tbb/blocked_range.h>
#include <tbb/flow_graph.h>
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_invoke.h>
#include <tbb/task_arena.h>
#include <tbb/task_group.h>

#include "common.h"

static tbb::global_control *limit;
// `outside`: every slot for workers, fed from the main thread (which never
// joins it). `inside`: the main thread joins and works beside threads-1
// workers (fork-join, loops, groups, the flow graph).
static tbb::task_arena *outside, *inside;

static int init(int threads) {
    // TBB's default is one worker fewer than the CPUs (the main thread is
    // expected to work); raise it so `outside` gets `threads` workers.
    limit = new tbb::global_control(tbb::global_control::max_allowed_parallelism, (size_t)threads + 1);
    outside = new tbb::task_arena(threads, 0);
    inside = new tbb::task_arena(threads);
    outside->initialize();
    inside->initialize();
    return 0;
}

static void fini() {
    delete outside;
    delete inside;
    delete limit;
}

static void produce(void (*body)(void *), void *ctx) { body(ctx); }

static void spawn(void *arg) {
    outside->enqueue([arg] { bench_task(arg); });
}

static uint64_t fib_rec(int n) {
    bench_count();
    if (n < 2) return (uint64_t)n;
    uint64_t x = 0;
    tbb::task_group g;
    g.run([&] { x = fib_rec(n - 1); });
    uint64_t y = fib_rec(n - 2);
    g.wait();
    return x + y;
}

static uint64_t fib(int n) {
    uint64_t r = 0;
    inside->execute([&] { r = fib_rec(n); });
    return r;
}

// The fork-join ports with tbb::parallel_invoke (ranges of children halved).
static uint64_t fibj_rec(int n) {
    bench_count();
    if (n < 2) return (uint64_t)n;
    uint64_t x = 0, y = 0;
    tbb::parallel_invoke([&] { x = fibj_rec(n - 1); }, [&] { y = fibj_rec(n - 2); });
    return x + y;
}

static uint64_t fibj(int n) {
    uint64_t r = 0;
    inside->execute([&] { r = fibj_rec(n); });
    return r;
}

static uint64_t sky_rec(uint64_t num, uint64_t size, unsigned lo, unsigned hi) {
    if (hi - lo == 1) {
        uint64_t sub = size / BENCH_SKYNET_DIV, child = num + lo * sub;
        if (sub == 1) {
            bench_count();
            return child;
        }
        return sky_rec(child, sub, 0, BENCH_SKYNET_DIV);
    }
    unsigned mid = lo + (hi - lo) / 2;
    uint64_t x = 0, y = 0;
    tbb::parallel_invoke([&] { x = sky_rec(num, size, lo, mid); }, [&] { y = sky_rec(num, size, mid, hi); });
    return x + y;
}

static uint64_t skynet(uint64_t leaves) {
    uint64_t r = 0;
    inside->execute([&] { r = sky_rec(0, leaves, 0, BENCH_SKYNET_DIV); });
    return r;
}

static uint64_t nq_node(const signed char *a, int n, int row);

static uint64_t nq_cols(const signed char *a, int n, int row, int lo, int hi) {
    if (hi - lo == 1) {
        if (!bench_nq_ok(a, row, lo)) return 0;
        signed char b[BENCH_NQ_MAX];
        memcpy(b, a, (size_t)row);
        b[row] = (signed char)lo;
        return nq_node(b, n, row + 1);
    }
    int mid = lo + (hi - lo) / 2;
    uint64_t x = 0, y = 0;
    tbb::parallel_invoke([&] { x = nq_cols(a, n, row, lo, mid); }, [&] { y = nq_cols(a, n, row, mid, hi); });
    return x + y;
}

static uint64_t nq_node(const signed char *a, int n, int row) {
    bench_count();
    if (row == n) return 1;
    return nq_cols(a, n, row, 0, n);
}

static uint64_t nqueens(int n) {
    uint64_t r = 0;
    signed char a[BENCH_NQ_MAX] = {0};
    inside->execute([&] { r = nq_node(a, n, 0); });
    return r;
}

static void pfor(uint64_t *a, size_t n) {
    inside->execute([&] {
        tbb::parallel_for(tbb::blocked_range<size_t>(0, n), [a](const tbb::blocked_range<size_t> &r) {
            bench_kernel_range(a, r.begin(), r.end());
        });
    });
}

static void serial(size_t n) {
    inside->execute([&] {
        tbb::flow::graph g;
        tbb::flow::function_node<size_t> node(g, tbb::flow::serial, [](size_t i) { bench_task(BENCH_ARG(i)); });
        for (size_t i = 0; i < n; i++) node.try_put(i);
        g.wait_for_all();
    });
}

static void group(size_t rounds, size_t k) {
    inside->execute([&] {
        tbb::task_group g;
        for (size_t r = 0; r < rounds; r++) {
            for (size_t j = 0; j < k; j++) g.run([=] { bench_task(BENCH_ARG(r * k + j)); });
            g.wait();
        }
    });
}

static const char *skip(const char *wl) {
    if (!strcmp(wl, "blocking1k") || !strcmp(wl, "blockrecv1k"))
        return "a fixed pool of --threads workers: 1,000 x 100 ms would take 100 s / threads (blocking shows the same at 100)";
    if (!strncmp(wl, "fg_", 3)) return "no QoS classes (foreground measures it at default priority)";
    if (!strcmp(wl, "handles") || !strcmp(wl, "memh"))
        return "oneTBB has no per-task handle (task_group waits for all: see group)";
    return nullptr;
}

static struct peer make_peer() {
    struct peer p = {};
    p.name = "tbb";
    p.init = init;
    p.fini = fini;
    p.produce = produce;
    p.spawn = spawn;
    p.fib = fib;
    p.pfor = pfor;
    p.serial = serial;
    p.group = group;
    p.skip = skip;
    p.fibj = fibj;
    p.skynet = skynet;
    p.nqueens = nqueens;
    // A serial function_node buffers in a FIFO queue, but TBB does not
    // document submission order: only exclusion is checked.
    p.serial_ordered = 0;
    return p;
}

extern "C" const struct peer bench_peer = make_peer();
