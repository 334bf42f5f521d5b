/*
 * The benchmark driver every peer binary shares: `bench-<peer> WORKLOAD
 * [--tiny] [--threads N]` runs one workload once against the peer linked in
 * (struct peer bench_peer), checks that every task ran exactly once, and
 * prints one line:
 *   RESULT <workload> <peer> key=value ...
 *   SKIP <workload> <peer> <reason>          (the peer has no such construct)
 *   FAIL <workload> <peer> <what went wrong> (exit status 1)
 * harness.py runs the binaries interleaved and aggregates these lines.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/futex.h>
#include <sys/syscall.h>

#include "common.h"

/* ---- CPU time and memory ---- */

static uint64_t tv_ns(struct timeval tv) { return (uint64_t)tv.tv_sec * 1000000000u + (uint64_t)tv.tv_usec * 1000u; }

static uint64_t rusage_ns(int who) {
    struct rusage ru;
    getrusage(who, &ru);
    return tv_ns(ru.ru_utime) + tv_ns(ru.ru_stime);
}

uint64_t bench_process_cpu_ns(void) { return rusage_ns(RUSAGE_SELF); }
uint64_t bench_thread_cpu_ns(void) { return rusage_ns(RUSAGE_THREAD); }

/* The kernel's share (page faults, futex calls) of the process's CPU time. */
static uint64_t process_sys_ns(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return tv_ns(ru.ru_stime);
}

static uint64_t rss_bytes(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, resident = 0;
    if (!f || fscanf(f, "%lu %lu", &size, &resident) != 2) {
        fprintf(stderr, "cannot read /proc/self/statm\n");
        exit(1);
    }
    fclose(f);
    return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* CPU used since (cpu0, me0) by every thread but the caller. The process
 * total can lag the caller's own figure a little (other threads' time is
 * folded in when they are descheduled), so clamp at zero. */
static uint64_t others_cpu_ns(uint64_t cpu0, uint64_t me0) {
    int64_t all = (int64_t)(bench_process_cpu_ns() - cpu0), me = (int64_t)(bench_thread_cpu_ns() - me0);
    return all > me ? (uint64_t)(all - me) : 0;
}

static uint64_t peak_rss_bytes(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (uint64_t)ru.ru_maxrss * 1024u;
}

/* ---- output ---- */

static const char *g_wl = "?";

static void emit_begin(void) { printf("RESULT %s %s", g_wl, bench_peer.name); }
static void emit(const char *key, double v) { printf(" %s=%.6g", key, v); }
static void emit_end(void) {
    printf("\n");
    fflush(stdout);
}

void bench_fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    printf("FAIL %s %s ", g_wl, bench_peer.name);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    fflush(stdout);
    _exit(1); /* also from a worker thread: no atexit handlers racing the pool */
}

static void *xcalloc(size_t n, size_t size) {
    void *p = calloc(n, size);
    if (!p) bench_fail("out of memory (%zu x %zu bytes)", n, size);
    /* Touch every page now, so later RSS deltas count only the pool's memory. */
    memset(p, 0, n * size);
    return p;
}

/* ---- per-thread completion counters ---- */

static struct bench_counter g_counters[BENCH_MAX_THREADS] __attribute__((aligned(64)));
static unsigned g_ncounters;
__thread struct bench_counter *bench_my_counter;

struct bench_counter *bench_counter_register(void) {
    unsigned i = __atomic_fetch_add(&g_ncounters, 1, __ATOMIC_RELAXED);
    if (i >= BENCH_MAX_THREADS) {
        fprintf(stderr, "bench: more than %d threads ran tasks\n", BENCH_MAX_THREADS);
        abort();
    }
    bench_my_counter = &g_counters[i];
    return bench_my_counter;
}

uint64_t *bench_counter_word(void) {
    struct bench_counter *c = bench_my_counter;
    if (!c) c = bench_counter_register();
    return &c->n;
}

uint64_t bench_counted(void) {
    unsigned n = __atomic_load_n(&g_ncounters, __ATOMIC_ACQUIRE);
    uint64_t sum = 0;
    for (unsigned i = 0; i < n && i < BENCH_MAX_THREADS; i++) sum += __atomic_load_n(&g_counters[i].n, __ATOMIC_ACQUIRE);
    return sum;
}

static void sleep_ns(uint64_t ns) {
    struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Waits until `target` tasks have been counted: the same cheap,
 * contention-free "wait for all" for every peer (a shared completion counter
 * would add a contended atomic to every task). Fails after timeout.
 *
 * Each poll wakes the producer, which on 2 CPUs preempts a worker, and the
 * end of the run is seen only at a poll. So the wait sleeps for half the time
 * the remaining tasks should take at the rate measured so far, at most
 * POLL_NS and at least MIN_POLL_NS: few polls while most tasks remain, and
 * the end seen within tens of microseconds. (Polling is why the unbalanced
 * workload waits on a semaphore instead: there, fixed 200 us polls cost
 * every pool with a separate producer 3-4 % of its efficiency.) */
#define POLL_NS 200000u
#define MIN_POLL_NS 20000u
static void wait_counted(uint64_t target, uint64_t timeout_ns) {
    uint64_t start = bench_now_ns(), n0 = bench_counted(), deadline = start + timeout_ns;
    for (;;) {
        uint64_t n = bench_counted(), now = bench_now_ns();
        if (n >= target) return;
        if (now > deadline) bench_fail("timed out: %llu of %llu tasks ran", (unsigned long long)n, (unsigned long long)target);
        uint64_t sleep = POLL_NS;
        if (n > n0) {
            double left_ns = (double)(target - n) * (double)(now - start) / (double)(n - n0);
            if (left_ns / 2 < (double)sleep) sleep = (uint64_t)(left_ns / 2);
            if (sleep < MIN_POLL_NS) sleep = MIN_POLL_NS;
        }
        sleep_ns(sleep);
    }
}

/* ---- the task every peer runs ---- */

enum mode { MODE_MARK, MODE_WAKE, MODE_UNBAL, MODE_SERIAL, MODE_SLEEP, MODE_RECV, MODE_CHAIN };

static enum mode g_mode;
static uint8_t *g_ran;          /* times task i ran */
static size_t g_ntasks;
static uint64_t *g_t0, *g_lat;  /* wake: submit time, submit->start latency */
static uint64_t *g_cost, *g_sink; /* unbalanced: work per task, its result */
static size_t g_serial_next;    /* serial: the index expected next */
static uint64_t g_order_errors;
static int g_in_serial;
static uint64_t g_overlaps;

static pthread_mutex_t g_block_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_block_cv = PTHREAD_COND_INITIALIZER;
static int g_blocked, g_released;

/* A chain of dependent xorshift steps: work the compiler cannot skip. */
static uint64_t spin_work(uint64_t iters) {
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (uint64_t k = 0; k < iters; k++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    return x;
}

static void block_here(void) {
    pthread_mutex_lock(&g_block_mu);
    g_blocked++;
    pthread_cond_broadcast(&g_block_cv);
    while (!g_released) pthread_cond_wait(&g_block_cv, &g_block_mu);
    pthread_mutex_unlock(&g_block_mu);
}

void bench_release_blockers(void) {
    pthread_mutex_lock(&g_block_mu);
    g_released = 1;
    pthread_cond_broadcast(&g_block_cv);
    pthread_mutex_unlock(&g_block_mu);
}

/* Unbalanced workload: tasks ended, and the semaphore the last one posts. One
 * shared counter per ~50 us task costs nothing measurable, and a producer
 * that sleeps until the end never preempts a worker the way polling does. */
static size_t g_unbal_done;
static sem_t g_unbal_end;

static void block_task(size_t i);  /* blocking workloads: usleep or recv */
static void chain_task(size_t i);  /* foreground: CPU-bound, resubmits itself */

int bench_task(void *arg) {
    if (arg == BENCH_BLOCKER) {
        block_here();
        return 0;
    }
    size_t i = BENCH_INDEX(arg);
    if (i >= g_ntasks) {
        fprintf(stderr, "bench: task argument %zu out of range\n", i);
        abort();
    }
    switch (g_mode) {
    case MODE_MARK:
        break;
    case MODE_WAKE:
        g_lat[i] = bench_now_ns() - g_t0[i];
        break;
    case MODE_UNBAL:
        g_sink[i] = spin_work(g_cost[i]);
        break;
    case MODE_SERIAL:
        if (__atomic_exchange_n(&g_in_serial, 1, __ATOMIC_ACQUIRE)) __atomic_fetch_add(&g_overlaps, 1, __ATOMIC_RELAXED);
        if (g_serial_next != i) g_order_errors++;
        g_serial_next = i + 1;
        __atomic_store_n(&g_in_serial, 0, __ATOMIC_RELEASE);
        break;
    case MODE_SLEEP:
    case MODE_RECV:
        block_task(i);
        break;
    case MODE_CHAIN:
        chain_task(i);
        break;
    }
    __atomic_fetch_add(&g_ran[i], 1, __ATOMIC_RELAXED);
    bench_count();
    if (g_mode == MODE_UNBAL && __atomic_add_fetch(&g_unbal_done, 1, __ATOMIC_ACQ_REL) == g_ntasks) sem_post(&g_unbal_end);
    return 0;
}

/* Prepares n tasks' exactly-once record. */
static void tasks_begin(size_t n, enum mode mode) {
    free(g_ran);
    g_ran = xcalloc(n, 1);
    g_ntasks = n;
    g_mode = mode;
}

static void check_exactly_once(void) {
    size_t missing = 0, repeated = 0;
    for (size_t i = 0; i < g_ntasks; i++) {
        if (g_ran[i] == 0) missing++;
        if (g_ran[i] > 1) repeated++;
    }
    if (missing || repeated) bench_fail("exactly-once violated: %zu never ran, %zu ran more than once (of %zu)", missing, repeated, g_ntasks);
}

/* ---- workloads ---- */

static int g_threads;
static int g_tiny;
static long g_n; /* --n: overrides the main size (for profiling) */
static const uint64_t TIMEOUT = 120ull * 1000000000u;

struct spawn_ctx {
    size_t n;
    uint64_t base, wall, cpu, sys;
    int last_posts; /* wait for the unbalanced workload's last task to post, not by polling */
};

/* Sleeps until the unbalanced workload's last task posts; fails after timeout. */
static void wait_last_task(size_t n) {
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += (time_t)(TIMEOUT / 1000000000u);
    while (sem_timedwait(&g_unbal_end, &dl) != 0) {
        if (errno != EINTR) bench_fail("timed out: %zu of %zu tasks ran", __atomic_load_n(&g_unbal_done, __ATOMIC_RELAXED), n);
    }
}

static void spawn_body(void *p) {
    struct spawn_ctx *c = p;
    uint64_t cpu0 = bench_process_cpu_ns(), sys0 = process_sys_ns(), t0 = bench_now_ns();
    for (size_t i = 0; i < c->n; i++) bench_peer.spawn(BENCH_ARG(i));
    if (c->last_posts)
        wait_last_task(c->n);
    else
        wait_counted(c->base + c->n, TIMEOUT);
    c->wall = bench_now_ns() - t0;
    c->cpu = bench_process_cpu_ns() - cpu0;
    c->sys = process_sys_ns() - sys0;
}

/* Throughput workloads run a full-size untimed round first (--cold: not),
 * so that they measure the steady state of a long-running program rather
 * than the first touch of fresh heap pages. */
static int g_cold;

/* The result line of a throughput workload: wall, CPU and sys ns per task. */
static void emit_per_task(const struct spawn_ctx *c) {
    emit_begin();
    emit("ns_per_task", (double)c->wall / c->n);
    emit("cpu_ns_per_task", (double)c->cpu / c->n);
    emit("sys_ns_per_task", (double)c->sys / c->n);
    emit("tasks", c->n);
    emit_end();
}

/* 1: N empty fire-and-forget tasks from one outside thread, then wait for all. */
static void wl_spawn(void) {
    struct spawn_ctx c = {.n = g_n ? (size_t)g_n : g_tiny ? 2000 : 1000000};
    for (int round = g_cold; round < 2; round++) {
        c.base = bench_counted();
        tasks_begin(c.n, MODE_MARK);
        bench_peer.produce(spawn_body, &c);
        check_exactly_once();
    }
    emit_per_task(&c);
}

static void handles_body(void *p) {
    struct spawn_ctx *c = p;
    void **h = xcalloc(c->n, sizeof *h);
    uint64_t cpu0 = bench_process_cpu_ns(), sys0 = process_sys_ns(), t0 = bench_now_ns();
    for (size_t i = 0; i < c->n; i++) h[i] = bench_peer.submit_handle(BENCH_ARG(i));
    for (size_t i = 0; i < c->n; i++) bench_peer.wait_handle(h[i]);
    c->wall = bench_now_ns() - t0;
    c->cpu = bench_process_cpu_ns() - cpu0;
    c->sys = process_sys_ns() - sys0;
    free(h);
}

/* 2: N tasks with handles, then wait on each. */
static void wl_handles(void) {
    struct spawn_ctx c = {.n = g_n ? (size_t)g_n : g_tiny ? 2000 : 1000000};
    for (int round = g_cold; round < 2; round++) {
        tasks_begin(c.n, MODE_MARK);
        bench_peer.produce(handles_body, &c);
        check_exactly_once();
    }
    emit_per_task(&c);
}

static uint64_t fib_seq(int n) { return n < 2 ? (uint64_t)n : fib_seq(n - 1) + fib_seq(n - 2); }

/* 3: fib(n) with a nested submit + wait per call. */
static void wl_fib(void) {
    int n = g_n ? (int)g_n : g_tiny ? 12 : 30;
    uint64_t expect = fib_seq(n), calls = 2 * fib_seq(n + 1) - 1;
    volatile int vn = n; /* keeps the compiler from folding the reference run */
    uint64_t t0 = bench_now_ns();
    volatile uint64_t seq = fib_seq(vn);
    uint64_t seq_wall = bench_now_ns() - t0;
    (void)seq;
    uint64_t base = bench_counted(), cpu0 = bench_process_cpu_ns();
    t0 = bench_now_ns();
    uint64_t r = bench_peer.fib(n);
    uint64_t wall = bench_now_ns() - t0, cpu = bench_process_cpu_ns() - cpu0;
    uint64_t ran = bench_counted() - base;
    if (r != expect) bench_fail("fib(%d) = %llu, expected %llu", n, (unsigned long long)r, (unsigned long long)expect);
    if (ran != calls) bench_fail("fib(%d) made %llu calls, expected exactly %llu", n, (unsigned long long)ran, (unsigned long long)calls);
    emit_begin();
    emit("ns_per_call", (double)wall / calls);
    emit("cpu_ns_per_call", (double)cpu / calls);
    emit("seq_ns_per_call", (double)seq_wall / calls);
    emit("calls", calls);
    emit_end();
}

/* The fork-join ports: one result line with the wall time per node, the
 * sequential reference per node, and the speedup over it. */
static void emit_forkjoin(uint64_t wall, uint64_t cpu, uint64_t seq_wall, uint64_t nodes) {
    emit_begin();
    emit("ns_per_node", (double)wall / nodes);
    emit("cpu_ns_per_node", (double)cpu / nodes);
    emit("seq_ns_per_node", (double)seq_wall / nodes);
    emit("vs_seq", wall ? (double)seq_wall / wall : 0); /* speedup over the sequential C code */
    emit("nodes", nodes);
    emit_end();
}

/* fibj: fib(n) with the peer's fork-join primitive (bg_join, rayon::join, ...). */
static void wl_fibj(void) {
    int n = g_n ? (int)g_n : g_tiny ? 12 : 30;
    uint64_t expect = fib_seq(n), calls = 2 * fib_seq(n + 1) - 1;
    volatile int vn = n;
    uint64_t t0 = bench_now_ns();
    volatile uint64_t seq = fib_seq(vn);
    uint64_t seq_wall = bench_now_ns() - t0;
    (void)seq;
    uint64_t base = bench_counted(), cpu0 = bench_process_cpu_ns();
    t0 = bench_now_ns();
    uint64_t r = bench_peer.fibj(n);
    uint64_t wall = bench_now_ns() - t0, cpu = bench_process_cpu_ns() - cpu0;
    uint64_t ran = bench_counted() - base;
    if (r != expect) bench_fail("fib(%d) = %llu, expected %llu", n, (unsigned long long)r, (unsigned long long)expect);
    if (ran != calls) bench_fail("fib(%d) made %llu calls, expected exactly %llu", n, (unsigned long long)ran, (unsigned long long)calls);
    emit_forkjoin(wall, cpu, seq_wall, calls);
}

static uint64_t skynet_seq(uint64_t num, uint64_t size) {
    if (size == 1) return num;
    uint64_t sum = 0, sub = size / BENCH_SKYNET_DIV;
    for (uint64_t i = 0; i < BENCH_SKYNET_DIV; i++) sum += skynet_seq(num + i * sub, sub);
    return sum;
}

/* skynet: 1,000,000 leaves, 10 children per node. */
static void wl_skynet(void) {
    uint64_t leaves = g_n ? (uint64_t)g_n : g_tiny ? 1000 : 1000000;
    uint64_t t0 = bench_now_ns();
    volatile uint64_t vleaves = leaves;
    uint64_t expect = skynet_seq(0, vleaves);
    uint64_t seq_wall = bench_now_ns() - t0;
    if (expect != leaves * (leaves - 1) / 2) bench_fail("skynet's reference is wrong");
    uint64_t base = bench_counted(), cpu0 = bench_process_cpu_ns();
    t0 = bench_now_ns();
    uint64_t r = bench_peer.skynet(leaves);
    uint64_t wall = bench_now_ns() - t0, cpu = bench_process_cpu_ns() - cpu0;
    uint64_t ran = bench_counted() - base;
    if (r != expect) bench_fail("skynet(%llu) = %llu, expected %llu", (unsigned long long)leaves, (unsigned long long)r, (unsigned long long)expect);
    if (ran != leaves) bench_fail("skynet ran %llu leaves, expected exactly %llu", (unsigned long long)ran, (unsigned long long)leaves);
    emit_forkjoin(wall, cpu, seq_wall, leaves);
}

static uint64_t nq_nodes;
static uint64_t nq_seq(const signed char *a, int n, int row) {
    nq_nodes++;
    if (row == n) return 1;
    uint64_t sum = 0;
    signed char b[BENCH_NQ_MAX];
    for (int col = 0; col < n; col++) {
        if (!bench_nq_ok(a, row, col)) continue;
        memcpy(b, a, (size_t)row);
        b[row] = (signed char)col;
        sum += nq_seq(b, n, row + 1);
    }
    return sum;
}

/* nqueens(12): 14,200 solutions. */
static void wl_nqueens(void) {
    int n = g_n ? (int)g_n : g_tiny ? 6 : 12;
    if (n < 1 || n > BENCH_NQ_MAX) bench_fail("nqueens takes 1 to %d", BENCH_NQ_MAX);
    signed char a[BENCH_NQ_MAX] = {0};
    nq_nodes = 0;
    uint64_t t0 = bench_now_ns();
    uint64_t expect = nq_seq(a, n, 0);
    uint64_t seq_wall = bench_now_ns() - t0, nodes = nq_nodes;
    uint64_t base = bench_counted(), cpu0 = bench_process_cpu_ns();
    t0 = bench_now_ns();
    uint64_t r = bench_peer.nqueens(n);
    uint64_t wall = bench_now_ns() - t0, cpu = bench_process_cpu_ns() - cpu0;
    uint64_t ran = bench_counted() - base;
    if (r != expect) bench_fail("nqueens(%d) = %llu, expected %llu", n, (unsigned long long)r, (unsigned long long)expect);
    if (ran != nodes) bench_fail("nqueens(%d) visited %llu nodes, expected exactly %llu", n, (unsigned long long)ran, (unsigned long long)nodes);
    emit_forkjoin(wall, cpu, seq_wall, nodes);
}

struct wake_ctx {
    size_t n;
    uint64_t period, base, wall, pool_cpu;
};

static void wake_body(void *p) {
    struct wake_ctx *c = p;
    sleep_ns(50000000); /* let the pool go fully idle first */
    uint64_t cpu0 = bench_process_cpu_ns(), me0 = bench_thread_cpu_ns(), start = bench_now_ns();
    for (size_t i = 0; i < c->n; i++) {
        uint64_t due = start + (i + 1) * c->period;
        struct timespec ts = {(time_t)(due / 1000000000u), (long)(due % 1000000000u)};
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
        }
        g_t0[i] = bench_now_ns();
        bench_peer.spawn(BENCH_ARG(i));
    }
    wait_counted(c->base + c->n, TIMEOUT);
    c->wall = bench_now_ns() - start;
    /* The pool's CPU: the whole process minus this (producer) thread. */
    c->pool_cpu = others_cpu_ns(cpu0, me0);
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double percentile(uint64_t *sorted, size_t n, double p) {
    size_t k = (size_t)ceil(p * (double)n) - 1;
    return (double)sorted[k > n - 1 ? n - 1 : k];
}

/* The floor of workload 4: one thread parked on a raw futex word, woken by
 * the producer once per period with FUTEX_WAKE, timed from just before the
 * wake to its return from FUTEX_WAIT: what any parking pool pays at least. */
struct futex_floor {
    uint32_t word; /* the generation the producer last published */
    size_t n;
    uint64_t *t0, *lat;
};

static long futex_call(uint32_t *w, int op, uint32_t v) { return syscall(SYS_futex, w, op, v, NULL, NULL, 0); }

static void *futex_floor_thread(void *p) {
    struct futex_floor *f = p;
    for (uint32_t seen = 0; seen < f->n;) {
        uint32_t now = __atomic_load_n(&f->word, __ATOMIC_ACQUIRE);
        if (now == seen) {
            futex_call(&f->word, FUTEX_WAIT_PRIVATE, seen);
            continue;
        }
        uint64_t t = bench_now_ns();
        for (; seen < now; seen++) f->lat[seen] = t - f->t0[seen];
    }
    return NULL;
}

static void futex_floor(size_t n, uint64_t period, double *p50, double *p99) {
    struct futex_floor f = {0, n, xcalloc(n, sizeof(uint64_t)), xcalloc(n, sizeof(uint64_t))};
    pthread_t th;
    if (pthread_create(&th, NULL, futex_floor_thread, &f) != 0) bench_fail("could not start the futex floor thread");
    sleep_ns(50000000);
    uint64_t start = bench_now_ns();
    for (size_t i = 0; i < n; i++) {
        uint64_t due = start + (i + 1) * period;
        struct timespec ts = {(time_t)(due / 1000000000u), (long)(due % 1000000000u)};
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
        }
        f.t0[i] = bench_now_ns();
        __atomic_store_n(&f.word, (uint32_t)(i + 1), __ATOMIC_RELEASE);
        futex_call(&f.word, FUTEX_WAKE_PRIVATE, 1);
    }
    pthread_join(th, NULL);
    qsort(f.lat, n, sizeof *f.lat, cmp_u64);
    *p50 = percentile(f.lat, n, 0.50) / 1e3;
    *p99 = percentile(f.lat, n, 0.99) / 1e3;
    free(f.t0);
    free(f.lat);
}

/* 4: an idle pool receives one task every 1 ms: submit->start latency and
 * the CPU the pool burns meanwhile; then, in the same process, the raw
 * futex floor of such a wake-up (floor_p50_us). */
static void wl_wake(void) {
    struct wake_ctx c = {g_tiny ? 20 : 1000, 1000000, bench_counted(), 0, 0};
    tasks_begin(c.n, MODE_WAKE);
    g_t0 = xcalloc(c.n, sizeof *g_t0);
    g_lat = xcalloc(c.n, sizeof *g_lat);
    bench_peer.produce(wake_body, &c);
    check_exactly_once();
    qsort(g_lat, c.n, sizeof *g_lat, cmp_u64);
    emit_begin();
    emit("p50_us", percentile(g_lat, c.n, 0.50) / 1e3);
    emit("p99_us", percentile(g_lat, c.n, 0.99) / 1e3);
    emit("max_us", (double)g_lat[c.n - 1] / 1e3);
    emit("pool_cpu_pct", 100.0 * (double)c.pool_cpu / (double)c.wall);
    emit("samples", c.n);
    double f50, f99;
    futex_floor(c.n, c.period, &f50, &f99);
    emit("floor_p50_us", f50);
    emit("floor_p99_us", f99);
    emit_end();
}

static uint64_t xorshift64s(uint64_t *s) {
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545f4914f6cdd1dull;
}

/* ---- the machine's ceiling for workload 5: an ideal pool on raw pthreads ---- */

/* Threads that take the next task, in submission order, from one shared
 * counter: the least scheduling any pool can do (at ~50 us a task, the
 * counter's contention is nothing). Dynamic like a pool, so a vCPU that the
 * host slows for a moment costs it what it costs a pool; a static split of
 * the same tasks measured about 1 % lower for that reason. */
struct ceiling_worker {
    pthread_t tid;
    uint64_t sink; /* xor of its tasks' results: keeps the work, checks it */
} __attribute__((aligned(64)));

static struct ceiling_worker g_ceiling[BENCH_MAX_THREADS];
static size_t g_ceiling_n, g_ceiling_next;
static int g_ceiling_ready, g_ceiling_go;

static void *ceiling_thread(void *p) {
    struct ceiling_worker *w = p;
    __atomic_fetch_add(&g_ceiling_ready, 1, __ATOMIC_RELEASE);
    /* Yield, not spin: on 2 CPUs a spinning thread would delay the creation of
     * the next one and the main thread's release. */
    while (!__atomic_load_n(&g_ceiling_go, __ATOMIC_ACQUIRE)) sched_yield();
    uint64_t x = 0;
    for (;;) {
        size_t i = __atomic_fetch_add(&g_ceiling_next, 1, __ATOMIC_RELAXED);
        if (i >= g_ceiling_n) break;
        x ^= spin_work(g_cost[i]);
    }
    w->sink = x;
    return NULL;
}

/* Runs the n tasks on g_threads fresh pthreads: wall ns from the release of
 * the start gate (every thread created and waiting) to the last join. */
static uint64_t ceiling_run(size_t n, uint64_t check) {
    g_ceiling_n = n;
    __atomic_store_n(&g_ceiling_next, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&g_ceiling_ready, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&g_ceiling_go, 0, __ATOMIC_RELAXED);
    for (int t = 0; t < g_threads; t++) {
        g_ceiling[t].sink = 0;
        if (pthread_create(&g_ceiling[t].tid, NULL, ceiling_thread, &g_ceiling[t]) != 0)
            bench_fail("could not start ceiling thread %d", t);
    }
    while (__atomic_load_n(&g_ceiling_ready, __ATOMIC_ACQUIRE) < g_threads) sched_yield();
    uint64_t t0 = bench_now_ns();
    __atomic_store_n(&g_ceiling_go, 1, __ATOMIC_RELEASE);
    uint64_t x = 0;
    for (int t = 0; t < g_threads; t++) {
        pthread_join(g_ceiling[t].tid, NULL);
        x ^= g_ceiling[t].sink;
    }
    uint64_t wall = bench_now_ns() - t0;
    if (x != check) bench_fail("ceiling run's task results differ from the sequential run");
    return wall;
}

/* 5: N tasks of exponentially distributed cost (fixed seed); efficiency =
 * sequential time / (threads x parallel time). ceiling = the same for an
 * ideal pool on raw pthreads (above): what the machine itself allows when
 * the tasks run side by side; vs_ceiling = efficiency / ceiling. */
static void wl_unbalanced(void) {
    size_t n = g_tiny ? 200 : 10000;
    double mean_us = g_tiny ? 10 : 50;
    tasks_begin(n, MODE_UNBAL);
    g_cost = xcalloc(n, sizeof *g_cost);
    g_sink = xcalloc(n, sizeof *g_sink);
    uint64_t t0 = bench_now_ns();
    volatile uint64_t cal = spin_work(2000000);
    (void)cal;
    double iters_per_ns = 2000000.0 / (double)(bench_now_ns() - t0);
    uint64_t seed = 0x5eed5eed12345ull;
    for (size_t i = 0; i < n; i++) {
        double u = ((double)(xorshift64s(&seed) >> 11) + 1.0) / 9007199254740992.0; /* (0, 1] */
        g_cost[i] = (uint64_t)(-log(u) * mean_us * 1000.0 * iters_per_ns);
    }
    t0 = bench_now_ns();
    uint64_t me0 = bench_thread_cpu_ns();
    uint64_t check = 0;
    for (size_t i = 0; i < n; i++) check ^= spin_work(g_cost[i]);
    uint64_t seq = bench_now_ns() - t0, seq_cpu = bench_thread_cpu_ns() - me0;
    /* The VM's speed drifts, so a ceiling from one side of the pool's run
     * would describe another moment: runs just before and just after bracket
     * it, and their mean cancels a steady drift. */
    uint64_t ceil_before = ceiling_run(n, check);
    struct spawn_ctx c = {.n = n, .base = bench_counted(), .last_posts = 1};
    g_unbal_done = 0;
    if (sem_init(&g_unbal_end, 0, 0) != 0) bench_fail("sem_init failed");
    bench_peer.produce(spawn_body, &c);
    sem_destroy(&g_unbal_end);
    check_exactly_once();
    uint64_t par_check = 0;
    for (size_t i = 0; i < n; i++) par_check ^= g_sink[i];
    if (par_check != check) bench_fail("task results differ from the sequential run");
    sleep_ns(20000000); /* idle workers that still spin (TBB, libgomp) would share the CPUs */
    uint64_t ceil_after = ceiling_run(n, check);
    double efficiency = (double)seq / ((double)g_threads * (double)c.wall);
    double ceiling = (double)seq / ((double)g_threads * ((double)ceil_before + (double)ceil_after) / 2);
    emit_begin();
    emit("efficiency", efficiency);
    emit("par_ms", c.wall / 1e6);
    emit("seq_ms", seq / 1e6);
    emit("cpu_ms", c.cpu / 1e6);
    /* Less sensitive to other load on the machine: the share of the CPU the
     * pool used that was the tasks' own work. */
    emit("cpu_efficiency", (double)seq_cpu / (double)c.cpu);
    emit("ceiling", ceiling);
    emit("vs_ceiling", efficiency / ceiling);
    emit_end();
}

/* 6: CPU burned by the pool sitting idle for a second after a burst. */
static void wl_idle(void) {
    struct spawn_ctx c = {.n = g_tiny ? 100 : 10000, .base = bench_counted()};
    uint64_t idle = g_tiny ? 50000000u : 1000000000u;
    tasks_begin(c.n, MODE_MARK);
    bench_peer.produce(spawn_body, &c);
    check_exactly_once();
    uint64_t cpu0 = bench_process_cpu_ns(), me0 = bench_thread_cpu_ns();
    sleep_ns(idle);
    uint64_t pool = others_cpu_ns(cpu0, me0);
    emit_begin();
    emit("idle_cpu_ms", pool / 1e6 * (1e9 / (double)idle));
    emit("burst_tasks", c.n);
    emit_end();
}

__attribute__((noinline, aligned(64))) void bench_kernel_range(uint64_t *a, size_t lo, size_t hi) {
    for (size_t i = lo; i < hi; i++) a[i] = bench_kernel(a[i]);
}

/* 7: passes of bench_kernel over a large array with the peer's parallel loop. */
static void wl_loop(void) {
    size_t n = g_tiny ? 10000 : 8u << 20;
    int passes = g_tiny ? 2 : 20;
    uint64_t *a = xcalloc(n, sizeof *a), *s = xcalloc(n, sizeof *s);
    for (size_t i = 0; i < n; i++) a[i] = s[i] = (i * 0x9e3779b97f4a7c15ull) << 16;
    uint64_t t0 = bench_now_ns();
    bench_kernel_range(s, 0, n);
    uint64_t seq = bench_now_ns() - t0;
    uint64_t cpu0 = bench_process_cpu_ns();
    t0 = bench_now_ns();
    for (int p = 0; p < passes; p++) bench_peer.pfor(a, n);
    uint64_t wall = bench_now_ns() - t0, cpu = bench_process_cpu_ns() - cpu0;
    size_t bad = 0;
    for (size_t i = 0; i < n; i++)
        if ((a[i] & 0xffff) != (uint64_t)passes) bad++;
    if (bad) bench_fail("%zu of %zu elements were not processed exactly once per pass", bad, n);
    emit_begin();
    emit("ms_per_pass", wall / 1e6 / passes);
    emit("ns_per_elem", (double)wall / ((double)n * passes));
    emit("speedup", (double)seq * passes / (double)wall);
    emit("cpu_ms", cpu / 1e6);
    emit_end();
    free(a);
    free(s);
}

/* 8a: N tasks through one serial construct, submitted from this thread. */
static void wl_serial(void) {
    size_t n = g_tiny ? 1000 : 200000;
    tasks_begin(n, MODE_SERIAL);
    g_serial_next = 0;
    uint64_t cpu0 = bench_process_cpu_ns(), t0 = bench_now_ns();
    bench_peer.serial(n);
    uint64_t wall = bench_now_ns() - t0, cpu = bench_process_cpu_ns() - cpu0;
    check_exactly_once();
    if (g_overlaps) bench_fail("%llu tasks of the serial construct overlapped", (unsigned long long)g_overlaps);
    if (bench_peer.serial_ordered && g_order_errors)
        bench_fail("%llu tasks ran out of submission order", (unsigned long long)g_order_errors);
    emit_begin();
    emit("ns_per_task", (double)wall / n);
    emit("cpu_ns_per_task", (double)cpu / n);
    emit("ordered", bench_peer.serial_ordered);
    emit_end();
}

/* 8b: rounds of (K tasks, then wait for the group) from this thread.
 *
 * The timed rounds follow 200 ms of untimed ones. A pool's first
 * milliseconds of rounds are a transient, not its round trip: TBB ran its
 * first 3-7 ms at 0.44-0.50 us a round (its worker not taking part yet), then
 * 2.0-2.4 us, and a bg worker woken for the first round sometimes sat on
 * the runqueue for 5-30 ms (its whole run-delay, in schedstat) while the
 * waiting thread ran every member at 0.8-0.9 us, then 1.3-1.6 us. 20,000
 * rounds take 10-40 ms, so without the warm-up a repetition measured
 * whichever transient it fell into. */
static void wl_group(void) {
    size_t rounds = g_n ? (size_t)g_n : g_tiny ? 50 : 20000, k = 8, chunk = g_tiny ? 10 : 250;
    for (uint64_t end = bench_now_ns() + (g_tiny ? 1 : 200) * 1000000ull; bench_now_ns() < end;) {
        tasks_begin(chunk * k, MODE_MARK);
        bench_peer.group(chunk, k);
        check_exactly_once();
    }
    tasks_begin(rounds * k, MODE_MARK);
    uint64_t cpu0 = bench_process_cpu_ns(), t0 = bench_now_ns();
    bench_peer.group(rounds, k);
    uint64_t wall = bench_now_ns() - t0, cpu = bench_process_cpu_ns() - cpu0;
    check_exactly_once();
    emit_begin();
    emit("us_per_round", wall / 1e3 / rounds);
    emit("cpu_us_per_round", cpu / 1e3 / rounds);
    emit("tasks_per_round", k);
    emit_end();
}

/* Makes every worker run a blocker, so that what is submitted next stays queued. */
static void block_workers(void) {
    pthread_mutex_lock(&g_block_mu);
    g_blocked = 0;
    g_released = 0;
    pthread_mutex_unlock(&g_block_mu);
    for (int i = 0; i < g_threads; i++) bench_peer.spawn(BENCH_BLOCKER);
    uint64_t deadline = bench_now_ns() + 20ull * 1000000000u;
    pthread_mutex_lock(&g_block_mu);
    while (g_blocked < g_threads) {
        pthread_mutex_unlock(&g_block_mu);
        if (bench_now_ns() > deadline) bench_fail("only %d of %d workers picked up a blocker", g_blocked, g_threads);
        sleep_ns(1000000);
        pthread_mutex_lock(&g_block_mu);
    }
    pthread_mutex_unlock(&g_block_mu);
}

struct mem_ctx {
    size_t n;
    int handles;
    uint64_t base, rss_before, rss_held;
};

static void mem_body(void *p) {
    struct mem_ctx *c = p;
    void **h = c->handles ? xcalloc(c->n, sizeof *h) : NULL;
    block_workers();
    c->rss_before = rss_bytes();
    for (size_t i = 0; i < c->n; i++) {
        if (h)
            h[i] = bench_peer.submit_handle(BENCH_ARG(i));
        else
            bench_peer.spawn(BENCH_ARG(i));
    }
    c->rss_held = rss_bytes();
    bench_release_blockers();
    if (h)
        for (size_t i = 0; i < c->n; i++) bench_peer.wait_handle(h[i]);
    wait_counted(c->base + c->n, TIMEOUT);
    free(h);
}

/* 9: memory held by queued tasks while every worker is blocked. */
static void wl_mem(int handles) {
    struct mem_ctx c = {0, handles, 0, 0, 0};
    c.n = handles ? (g_tiny ? 1000 : 1000000) : (g_tiny ? 10000 : 10000000);
    tasks_begin(c.n, MODE_MARK);
    c.base = bench_counted();
    bench_peer.produce(mem_body, &c);
    check_exactly_once();
    emit_begin();
    emit("bytes_per_task", ((double)c.rss_held - (double)c.rss_before) / c.n);
    emit("held_rss_mb", c.rss_held / 1048576.0);
    /* ru_maxrss lags the live RSS a little: report the larger. */
    uint64_t peak = peak_rss_bytes();
    emit("peak_rss_mb", (peak > c.rss_held ? peak : c.rss_held) / 1048576.0);
    emit("tasks", c.n);
    emit_end();
}

static void wl_mem_ff(void) { wl_mem(0); }
static void wl_mem_handles(void) { wl_mem(1); }

/* ---- issue 14: blocking tasks, mixed, foreground ---- */

const char *bench_workload = "?";

int bench_issue14_workload(const char *wl) {
    return !strncmp(wl, "blocking", 8) || !strncmp(wl, "blockrecv", 9) || !strcmp(wl, "mixed") || !strcmp(wl, "foreground") ||
           !strncmp(wl, "fg_", 3);
}

/* The process's thread count, from /proc/self/status. */
static int proc_threads(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    int n = -1;
    if (!f) bench_fail("cannot open /proc/self/status");
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "Threads:", 8)) {
            n = atoi(line + 8);
            break;
        }
    fclose(f);
    if (n < 1) bench_fail("no Threads: line in /proc/self/status");
    return n;
}

/* Waits (1 ms polls, each also a thread-count sample) until `target` tasks
 * have been counted; returns the largest thread count seen. */
static int wait_counted_sampling(uint64_t target, int peak) {
    uint64_t deadline = bench_now_ns() + TIMEOUT;
    for (;;) {
        int t = proc_threads();
        if (t > peak) peak = t;
        uint64_t n = bench_counted();
        if (n >= target) return peak;
        if (bench_now_ns() > deadline) bench_fail("timed out: %llu of %llu tasks ran", (unsigned long long)n, (unsigned long long)target);
        sleep_ns(1000000);
    }
}

static uint64_t g_block_ns; /* how long a blocking task blocks */

/* recv mode: task i asks the feeder thread to answer on its socket after
 * g_block_ns, then blocks in recv until the byte arrives. */
static int (*g_socks)[2];
struct feed_req {
    uint64_t due;
    size_t i;
};
static struct feed_req *g_feed;
static size_t g_feed_head, g_feed_tail;
static int g_feed_stop;
static pthread_mutex_t g_feed_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_feed_cv = PTHREAD_COND_INITIALIZER;

static void block_task(size_t i) {
    if (g_mode == MODE_SLEEP) {
        sleep_ns(g_block_ns);
        return;
    }
    pthread_mutex_lock(&g_feed_mu);
    g_feed[g_feed_tail].due = bench_now_ns() + g_block_ns;
    g_feed[g_feed_tail].i = i;
    g_feed_tail++;
    pthread_cond_signal(&g_feed_cv);
    pthread_mutex_unlock(&g_feed_mu);
    char b;
    ssize_t r;
    while ((r = recv(g_socks[i][0], &b, 1, 0)) < 0 && errno == EINTR) {
    }
    if (r != 1) bench_fail("recv on task %zu's socket: %s", i, r < 0 ? strerror(errno) : "closed");
}

/* Answers each request when it is due. Requests arrive in about due order
 * (each is now + g_block_ns), so a FIFO is enough: a request appended a few
 * microseconds out of order is answered that much late. */
static void *feeder(void *p) {
    (void)p;
    pthread_mutex_lock(&g_feed_mu);
    for (;;) {
        while (g_feed_head == g_feed_tail && !g_feed_stop) pthread_cond_wait(&g_feed_cv, &g_feed_mu);
        if (g_feed_head == g_feed_tail) break;
        uint64_t due = g_feed[g_feed_head].due, now = bench_now_ns();
        if (now < due) {
            pthread_mutex_unlock(&g_feed_mu);
            sleep_ns(due - now);
            pthread_mutex_lock(&g_feed_mu);
            continue;
        }
        size_t i = g_feed[g_feed_head++].i;
        pthread_mutex_unlock(&g_feed_mu);
        if (send(g_socks[i][1], "x", 1, MSG_NOSIGNAL) != 1) bench_fail("send to task %zu's socket: %s", i, strerror(errno));
        pthread_mutex_lock(&g_feed_mu);
    }
    pthread_mutex_unlock(&g_feed_mu);
    return NULL;
}

struct block_ctx {
    size_t n;
    uint64_t base, wall;
    int peak;
};

static void block_body(void *p) {
    struct block_ctx *c = p;
    uint64_t t0 = bench_now_ns();
    for (size_t i = 0; i < c->n; i++) bench_peer.spawn(BENCH_ARG(i));
    c->peak = wait_counted_sampling(c->base + c->n, proc_threads());
    c->wall = bench_now_ns() - t0;
}

/* blocking*, blockrecv*: n tasks that each block g_block_ns (usleep, or recv
 * on a socket the feeder answers), submitted at once: time until all are
 * done, and the most threads the process ran meanwhile. */
static void wl_block(size_t n_full, size_t n_tiny, enum mode mode) {
    struct block_ctx c = {.n = g_n ? (size_t)g_n : g_tiny ? n_tiny : n_full};
    g_block_ns = g_tiny ? 10000000u : 100000000u;
    int own = 1; /* the driver's threads: main (+ the feeder) */
    pthread_t feed_tid;
    tasks_begin(c.n, mode);
    if (mode == MODE_RECV) {
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 2 * c.n + 64) {
            rl.rlim_cur = rl.rlim_max < 2 * c.n + 64 ? rl.rlim_max : 2 * c.n + 64;
            setrlimit(RLIMIT_NOFILE, &rl);
        }
        g_socks = xcalloc(c.n, sizeof *g_socks);
        g_feed = xcalloc(c.n, sizeof *g_feed);
        for (size_t i = 0; i < c.n; i++)
            if (socketpair(AF_UNIX, SOCK_STREAM, 0, g_socks[i]) != 0) bench_fail("socketpair %zu: %s", i, strerror(errno));
        if (pthread_create(&feed_tid, NULL, feeder, NULL) != 0) bench_fail("could not start the feeder thread");
        own = 2;
    }
    int before = proc_threads() - own;
    c.base = bench_counted();
    bench_peer.produce(block_body, &c);
    check_exactly_once();
    if (mode == MODE_RECV) {
        pthread_mutex_lock(&g_feed_mu);
        g_feed_stop = 1;
        pthread_cond_signal(&g_feed_cv);
        pthread_mutex_unlock(&g_feed_mu);
        pthread_join(feed_tid, NULL);
        for (size_t i = 0; i < c.n; i++) close(g_socks[i][0]), close(g_socks[i][1]);
    }
    emit_begin();
    emit("wall_s", c.wall / 1e9);
    /* 1.0: every task blocked at the same time (a thread each, at once). */
    emit("vs_one_wave", (double)c.wall / (double)g_block_ns);
    /* The pool's threads (workers, spares, helpers such as bg's monitor). */
    emit("peak_threads", c.peak - own);
    emit("threads_before", before);
    if (bench_peer.max_threads) emit("max_threads", (double)bench_peer.max_threads());
    emit("tasks", c.n);
    emit("block_ms", g_block_ns / 1e6);
    emit_end();
}

static void wl_blocking(void) { wl_block(100, 20, MODE_SLEEP); }
static void wl_blockrecv(void) { wl_block(100, 20, MODE_RECV); }
static void wl_blocking1k(void) { wl_block(1000, 60, MODE_SLEEP); }
static void wl_blockrecv1k(void) { wl_block(1000, 60, MODE_RECV); }

/* Passes of the peer's loop over a[0..n) until `until` says stop (at least
 * one); returns elements per second. */
static double loop_rate(uint64_t *a, size_t n, int *passes, int (*until)(uint64_t t0, void *), void *ctx) {
    uint64_t t0 = bench_now_ns();
    int k = 0;
    do {
        bench_peer.pfor(a, n);
        k++;
    } while (!until(t0, ctx));
    *passes += k;
    return (double)k * (double)n / ((double)(bench_now_ns() - t0) / 1e9);
}

static int until_elapsed(uint64_t t0, void *ctx) { return bench_now_ns() - t0 >= *(uint64_t *)ctx; }
static int until_counted(uint64_t t0, void *ctx) {
    (void)t0;
    return bench_counted() >= *(uint64_t *)ctx;
}

/* mixed: the blocking workload's 100 usleep tasks, and meanwhile passes of a
 * CPU-bound parallel loop on the same pool until they are done: the loop's
 * throughput against the same loop alone (just before, for twice as long). */
static void wl_mixed(void) {
    size_t n = g_tiny ? 10000 : 1u << 20, nb = g_tiny ? 20 : 100;
    g_block_ns = g_tiny ? 10000000u : 100000000u;
    uint64_t *a = xcalloc(n, sizeof *a);
    for (size_t i = 0; i < n; i++) a[i] = (i * 0x9e3779b97f4a7c15ull) << 16;
    int passes = 0;
    uint64_t warm = g_block_ns / 10, solo_window = 2 * g_block_ns;
    loop_rate(a, n, &passes, until_elapsed, &warm);
    double solo = loop_rate(a, n, &passes, until_elapsed, &solo_window);
    tasks_begin(nb, MODE_SLEEP);
    uint64_t target = bench_counted() + nb, t0 = bench_now_ns();
    for (size_t i = 0; i < nb; i++) bench_peer.spawn(BENCH_ARG(i));
    int before = passes;
    double mixed = loop_rate(a, n, &passes, until_counted, &target);
    int mixed_passes = passes - before;
    wait_counted(target, TIMEOUT);
    uint64_t block_wall = bench_now_ns() - t0;
    check_exactly_once();
    size_t bad = 0;
    for (size_t i = 0; i < n; i++)
        if ((a[i] & 0xffff) != ((uint64_t)passes & 0xffff)) bad++;
    if (bad) bench_fail("%zu of %zu elements were not processed exactly once per pass", bad, n);
    emit_begin();
    emit("vs_solo", mixed / solo);
    emit("mixed_melem_s", mixed / 1e6);
    emit("solo_melem_s", solo / 1e6);
    emit("mixed_passes", mixed_passes);
    emit("blocking_wall_s", block_wall / 1e9);
    emit_end();
    free(a);
}

/* foreground: CPU-bound chains keep the pool saturated (2 per worker: each
 * task computes ~500 us, then submits its successor), while this thread
 * sleeps 1 ms and computes 200 us, over and over. Latency of one iteration:
 * from when the sleep should have ended to the end of the work (oversleep +
 * the work's wall time, 200 us on an idle CPU). Measured first with the pool
 * idle (its threads parked: "no pool"), then saturated. */
static uint64_t g_chain_iters;
static size_t g_chain_next;
static int g_chain_stop;
static volatile uint64_t g_chain_sink;

static void chain_task(size_t i) {
    (void)i;
    g_chain_sink = spin_work(g_chain_iters);
    if (__atomic_load_n(&g_chain_stop, __ATOMIC_ACQUIRE)) return;
    size_t j = __atomic_fetch_add(&g_chain_next, 1, __ATOMIC_RELAXED);
    if (j >= g_ntasks) bench_fail("the CPU-bound chains used all %zu task slots", g_ntasks);
    bench_peer.spawn(BENCH_ARG(j)); /* before this task counts itself: see wl_foreground's drain */
}

static void fg_run(uint64_t *lat, size_t n, uint64_t work_iters) {
    for (size_t i = 0; i < n; i++) {
        uint64_t due = bench_now_ns() + 1000000u;
        sleep_ns(1000000u);
        g_chain_sink = spin_work(work_iters);
        lat[i] = bench_now_ns() - due;
    }
    qsort(lat, n, sizeof *lat, cmp_u64);
}

static double iters_per_ns(void) {
    spin_work(200000); /* warm */
    uint64_t t0 = bench_now_ns();
    volatile uint64_t x = spin_work(2000000);
    (void)x;
    return 2000000.0 / (double)(bench_now_ns() - t0);
}

static void wl_foreground(void) {
    size_t iters = g_n ? (size_t)g_n : g_tiny ? 100 : 2000, chains = 2 * (size_t)g_threads;
    uint64_t *alone = xcalloc(iters, sizeof *alone), *loaded = xcalloc(iters, sizeof *loaded);
    double ipn = iters_per_ns();
    g_chain_iters = (uint64_t)(500000 * ipn);
    fg_run(alone, iters, (uint64_t)(200000 * ipn));
    tasks_begin(1u << 22, MODE_CHAIN);
    uint64_t base = bench_counted(), cpu0 = bench_process_cpu_ns(), me0 = bench_thread_cpu_ns(), t0 = bench_now_ns();
    g_chain_next = chains;
    for (size_t i = 0; i < chains; i++) bench_peer.spawn(BENCH_ARG(i));
    sleep_ns(20000000u); /* let the pool reach its steady state */
    fg_run(loaded, iters, (uint64_t)(200000 * ipn));
    uint64_t wall = bench_now_ns() - t0, pool_cpu = others_cpu_ns(cpu0, me0);
    __atomic_store_n(&g_chain_stop, 1, __ATOMIC_RELEASE);
    /* Drained when every allocated index has counted, and none was allocated
     * meanwhile: a task submits its successor before it counts itself. */
    uint64_t deadline = bench_now_ns() + TIMEOUT;
    for (;;) {
        size_t n1 = __atomic_load_n(&g_chain_next, __ATOMIC_ACQUIRE);
        uint64_t done = bench_counted() - base;
        if (done == n1 && __atomic_load_n(&g_chain_next, __ATOMIC_ACQUIRE) == n1) break;
        if (bench_now_ns() > deadline) bench_fail("timed out draining the chains: %llu of %zu ran", (unsigned long long)done, n1);
        sleep_ns(1000000u);
    }
    g_ntasks = g_chain_next;
    check_exactly_once();
    emit_begin();
    emit("p99_us", percentile(loaded, iters, 0.99) / 1e3);
    emit("p50_us", percentile(loaded, iters, 0.50) / 1e3);
    emit("alone_p99_us", percentile(alone, iters, 0.99) / 1e3);
    emit("alone_p50_us", percentile(alone, iters, 0.50) / 1e3);
    emit("p99_vs_alone", percentile(loaded, iters, 0.99) / percentile(alone, iters, 0.99));
    emit("pool_cpu_pct", 100.0 * (double)pool_cpu / (double)wall);
    emit("bg_tasks", g_chain_next);
    emit("samples", iters);
    emit_end();
    free(alone);
    free(loaded);
}

/* ---- main ---- */

static const struct {
    const char *name;
    void (*run)(void);
    int needs; /* which peer member must exist */
} WORKLOADS[] = {
    {"spawn", wl_spawn, 0},   {"handles", wl_handles, 1}, {"fib", wl_fib, 2},      {"wake", wl_wake, 0},
    {"unbalanced", wl_unbalanced, 0}, {"idle", wl_idle, 0}, {"loop", wl_loop, 3}, {"serial", wl_serial, 4},
    {"group", wl_group, 5},   {"mem", wl_mem_ff, 0},      {"memh", wl_mem_handles, 1},
    /* issue 14 */
    {"blocking", wl_blocking, 0}, {"blockrecv", wl_blockrecv, 0}, {"blocking1k", wl_blocking1k, 0},
    {"blockrecv1k", wl_blockrecv1k, 0}, {"mixed", wl_mixed, 3}, {"foreground", wl_foreground, 0},
    {"fg_utility", wl_foreground, 0}, {"fg_background", wl_foreground, 0},
    {"fibj", wl_fibj, 6},     {"skynet", wl_skynet, 7},   {"nqueens", wl_nqueens, 8},
};

static int peer_has(int needs) {
    switch (needs) {
    case 1: return bench_peer.submit_handle && bench_peer.wait_handle;
    case 2: return bench_peer.fib != NULL;
    case 3: return bench_peer.pfor != NULL;
    case 4: return bench_peer.serial != NULL;
    case 5: return bench_peer.group != NULL;
    case 6: return bench_peer.fibj != NULL;
    case 7: return bench_peer.skynet != NULL;
    case 8: return bench_peer.nqueens != NULL;
    default: return bench_peer.spawn != NULL;
    }
}

int main(int argc, char **argv) {
    const char *wl = NULL;
    g_threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--tiny")) {
            g_tiny = 1;
        } else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
            g_threads = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--cold")) {
            g_cold = 1;
        } else if (!strcmp(argv[i], "--n") && i + 1 < argc) {
            g_n = atol(argv[++i]);
        } else if (!strcmp(argv[i], "--list")) {
            for (size_t k = 0; k < sizeof WORKLOADS / sizeof *WORKLOADS; k++) printf("%s\n", WORKLOADS[k].name);
            return 0;
        } else if (argv[i][0] != '-' && !wl) {
            wl = argv[i];
        } else {
            wl = NULL;
            break;
        }
    }
    if (!wl || g_threads < 1 || g_threads > 256) {
        fprintf(stderr, "usage: %s WORKLOAD [--tiny] [--threads N] [--n SIZE] [--cold] | --list\n", argv[0]);
        return 2;
    }
    for (size_t k = 0; k < sizeof WORKLOADS / sizeof *WORKLOADS; k++) {
        if (strcmp(WORKLOADS[k].name, wl)) continue;
        g_wl = WORKLOADS[k].name;
        bench_workload = g_wl;
        const char *why = bench_peer.skip ? bench_peer.skip(wl) : NULL;
        if (!why && !peer_has(WORKLOADS[k].needs)) why = "no such construct";
        if (why) {
            printf("SKIP %s %s %s\n", wl, bench_peer.name, why);
            return 0;
        }
        if (bench_peer.init(g_threads) != 0) bench_fail("could not start %d workers", g_threads);
        WORKLOADS[k].run();
        bench_peer.fini();
        return 0;
    }
    fprintf(stderr, "unknown workload %s (try --list)\n", wl);
    return 2;
}
