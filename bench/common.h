/*
 * What every peer's benchmark binary shares: clocks, CPU time, the one task
 * body all peers run (bench_task), the exactly-once bookkeeping, and the
 * interface a peer implements (struct peer). C and C++ (the TBB peer) both
 * include it, so it uses GCC __atomic builtins rather than <stdatomic.h>.
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Threads that may run tasks in one process (a counter each): a thread per
 * task runs 1,000 in blocking1k, bg up to its max_threads. */
#define BENCH_MAX_THREADS 4096

/* Task arguments are indices + 1 (GLib's queue refuses NULL data). */
#define BENCH_ARG(i) ((void *)(uintptr_t)((i) + 1))
#define BENCH_INDEX(arg) ((size_t)(uintptr_t)(arg) - 1)
/* A task that holds its worker until bench_release_blockers() (memory workload). */
#define BENCH_BLOCKER ((void *)UINTPTR_MAX)

static inline uint64_t bench_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t bench_process_cpu_ns(void); /* user+sys of every thread (getrusage RUSAGE_SELF) */
uint64_t bench_thread_cpu_ns(void);  /* user+sys of the calling thread (RUSAGE_THREAD) */

/* One counter per thread, on its own cache line, written only by its thread:
 * counting finished tasks costs no shared read-modify-write. */
struct bench_counter {
    uint64_t n;
    char pad[56];
};
struct bench_counter *bench_counter_register(void);
extern __thread struct bench_counter *bench_my_counter;

static inline void bench_count(void) {
    struct bench_counter *c = bench_my_counter;
    if (!c) c = bench_counter_register();
    /* Release: whoever sums the counters sees this task's writes too. */
    __atomic_store_n(&c->n, c->n + 1, __ATOMIC_RELEASE);
}
uint64_t bench_counted(void);

/* Prints "FAIL <workload> <peer> <message>" and exits with status 1. */
void bench_fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* For the Rust (rayon) peer: this thread's counter word. */
uint64_t *bench_counter_word(void);

/* The kernel of the parallel-loop workload, applied once per element per
 * pass: a few multiply-xorshift rounds on the high bits, +1 in the low 16
 * bits, so the low bits count how often the element was processed. */
static inline uint64_t bench_kernel(uint64_t x) {
    uint64_t h = x;
    for (int r = 0; r < 4; r++) {
        h ^= h >> 29;
        h *= 0xbf58476d1ce4e5b9ull;
    }
    return (h & ~(uint64_t)0xffff) | ((x + 1) & 0xffff);
}

/* bench_kernel over a[lo..hi): what every peer's loop body calls, chunk by
 * chunk, and what the sequential pass runs. One out-of-line copy, aligned to
 * 64 bytes in driver.c, so every peer runs the same instructions at the same
 * alignment: a copy compiled into each peer ran up to 30 % slower or faster
 * depending on where the linker happened to place it. */
void bench_kernel_range(uint64_t *a, size_t lo, size_t hi);

/* nqueens (the runtime-benchmarks port): may a queen go at (row, col), given
 * the columns of the queens of rows 0..row-1 in a[]? */
static inline int bench_nq_ok(const signed char *a, int row, int col) {
    for (int i = 0; i < row; i++) {
        int d = a[i] - col;
        if (d == 0 || d == row - i || d == i - row) return 0;
    }
    return 1;
}
#define BENCH_NQ_MAX 16
/* skynet: 10 children per node. */
#define BENCH_SKYNET_DIV 10

/* The task every peer runs (its behaviour depends on the current workload). */
int bench_task(void *arg);

/* Memory workload: blockers park their worker until released. */
void bench_release_blockers(void);

/* What one peer provides. NULL members are constructs the peer lacks; skip()
 * says why a workload does not apply (NULL: it does). */
struct peer {
    const char *name;
    /* Starts `threads` workers. */
    int (*init)(int threads);
    void (*fini)(void);
    /* Calls body(ctx) where spawn() may be used: the main thread, or, for
     * OpenMP, the producer inside a parallel region's single construct. */
    void (*produce)(void (*body)(void *), void *ctx);
    /* Fire and forget: bench_task(arg) on a worker. */
    void (*spawn)(void *arg);
    /* A per-task handle: submit, then wait (and free) it. */
    void *(*submit_handle)(void *arg);
    void (*wait_handle)(void *handle);
    /* fib(n) as fork-join with a nested submit + wait per call; calls
     * bench_count() once per call. */
    uint64_t (*fib)(int n);
    /* One parallel pass of bench_kernel over a[0..n). */
    void (*pfor)(uint64_t *a, size_t n);
    /* n tasks bench_task(BENCH_ARG(i)) through the peer's serial construct,
     * submitted from this thread; returns when all ran. */
    void (*serial)(size_t n);
    /* rounds x (k tasks bench_task(BENCH_ARG(round*k+j)), then wait for them). */
    void (*group)(size_t rounds, size_t k);
    /* Why workload `wl` does not apply to this peer, or NULL. */
    const char *(*skip)(const char *wl);
    /* Whether the peer's serial construct promises submission order. */
    int serial_ordered;
    /* The most threads the pool may run (workers plus any it adds), for the
     * blocking workloads' report; NULL: no bound it documents. */
    size_t (*max_threads)(void);
    /* The fork-join ports of tzcnt's runtime-benchmarks, each with the peer's
     * cheapest fork-join construct (bg_join, rayon::join, tbb::parallel_invoke,
     * OpenMP tasks), started from this thread, each node calling bench_count():
     * fib(n) = join(fib(n-1), fib(n-2)); */
    uint64_t (*fibj)(int n);
    /* skynet: the sum of 0..leaves-1 over a 10-ary tree (a count per leaf); */
    uint64_t (*skynet)(uint64_t leaves);
    /* nqueens(n): the solutions, one node per queen placed (a count per node),
     * the columns of a row forked in parallel. */
    uint64_t (*nqueens)(int n);
};

/* The workload this process runs (set before init, so that a peer may
 * configure its pool for it: the bg peer's QoS class in fg_*). */
extern const char *bench_workload;
/* Whether `wl` is one of issue 14's workloads (blocking*, mixed, foreground,
 * fg_*): peers that only exist for them skip the rest, and the fixed
 * --threads pools that tbb already stands for skip these. */
int bench_issue14_workload(const char *wl);

extern const struct peer bench_peer; /* defined by each peer_*.c */

#ifdef __cplusplus
}
#endif
#endif
