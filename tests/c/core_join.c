/* bg_join(): results and failures, recursion on pools of 1 and 2 threads
 * from inside and from outside, every leaf exactly once, deep nesting on a
 * one-thread pool, joins racing a cancel shutdown (b always runs), and
 * when a b kept back while every worker was busy is offered (an idle
 * worker at the join; a wait or a blocking hint in a), also from outside
 * the pool (the next join on a's thread; a wait there, or a task it runs
 * for its waiter). */
#include <pthread.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

static int ret_arg(void *arg) { return (int)(intptr_t)arg; }

/* fib through bg_join: one counter bump per call. */
struct fib {
    int n;
    uint64_t r;
};
static unsigned long calls;

static int fib(void *p) {
    struct fib *f = p;
    __atomic_fetch_add(&calls, 1, __ATOMIC_RELAXED);
    if (f->n < 2) {
        f->r = (uint64_t)f->n;
        return 0;
    }
    struct fib x = {f->n - 1, 0}, y = {f->n - 2, 0};
    int ra = -1, rb = -1;
    CHECK_STATUS(bg_join(fib, &x, fib, &y, &ra, &rb), BG_OK);
    CHECK(ra == 0 && rb == 0);
    f->r = x.r + y.r;
    return 0;
}

static uint64_t fib_seq(int n) { return n < 2 ? (uint64_t)n : fib_seq(n - 1) + fib_seq(n - 2); }

static int fib_task(void *p) { return fib(p); }

/* Each leaf of a 4-ary tree marks its own byte. */
static unsigned char *seen;
struct range {
    size_t lo, hi;
};
static int tree(void *p) {
    struct range *r = p;
    if (r->hi - r->lo == 1) {
        __atomic_fetch_add(&seen[r->lo], 1, __ATOMIC_RELAXED);
        return 0;
    }
    size_t mid = r->lo + (r->hi - r->lo) / 2;
    struct range a = {r->lo, mid}, b = {mid, r->hi};
    return bg_join(tree, &a, tree, &b, NULL, NULL) == BG_OK ? 0 : 1;
}

/* Deep nesting: each level joins (level-1, a leaf). */
static int deep(void *p) {
    intptr_t d = (intptr_t)p;
    if (d == 0) return 0;
    int ra = -1, rb = -1;
    CHECK_STATUS(bg_join(deep, (void *)(d - 1), ret_arg, (void *)0, &ra, &rb), BG_OK);
    return ra;
}

static bg_pool *pool_of(size_t threads);
static void run_in(bg_pool *p, bg_fn f, void *arg);

/* Offering b. `a` spins (no library call) until b has started on another
 * thread, so the test hangs (and times out) if b was never offered. */
static pthread_t a_thread;
static int b_started, b_elsewhere, release_q, q_started;
static uint64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
static void spin_until(int *flag) {
    uint64_t end = mono_ns() + TEST_TIMEOUT_NS;
    while (!__atomic_load_n(flag, __ATOMIC_ACQUIRE)) CHECK(mono_ns() < end);
}
static int mark_b(void *arg) {
    (void)arg;
    b_elsewhere = !pthread_equal(pthread_self(), a_thread);
    __atomic_store_n(&b_started, 1, __ATOMIC_RELEASE);
    return 0;
}
static int a_waits_for_b(void *arg) {
    (void)arg;
    spin_until(&b_started);
    return 0;
}
/* The other worker idles (parked) at the join: b is offered at once. */
static int join_with_idle_worker(void *arg) {
    (void)arg;
    a_thread = pthread_self();
    CHECK_STATUS(bg_join(a_waits_for_b, NULL, mark_b, NULL, NULL, NULL), BG_OK);
    return 0;
}
/* Q keeps the other worker busy until a lets it go. */
static int q_busy(void *arg) {
    (void)arg;
    __atomic_store_n(&q_started, 1, __ATOMIC_RELEASE);
    spin_until(&release_q);
    return 0;
}
static int a_hints_then_waits(void *arg) {
    (void)arg;
    __atomic_store_n(&release_q, 1, __ATOMIC_RELEASE);
    bg_blocking_begin(); /* offers b, kept back while Q ran */
    spin_until(&b_started);
    CHECK_STATUS(bg_blocking_end(), BG_OK);
    return 0;
}
static int sleeper(void *arg) {
    (void)arg;
    usleep(1000);
    return 0;
}
static int a_waits_in_library(void *arg) {
    (void)arg;
    __atomic_store_n(&release_q, 1, __ATOMIC_RELEASE);
    /* A wait offers b: this thread helping, or the other worker, free
     * now, runs it (without the offer this loops until the timeout). */
    uint64_t end = mono_ns() + TEST_TIMEOUT_NS;
    for (;;) {
        CHECK(mono_ns() < end);
        bg_task *t = NULL;
        CHECK_STATUS(bg_pool_submit(bg_current_pool(), sleeper, NULL, NULL, &t), BG_OK);
        CHECK_STATUS(bg_wait_timeout(t, TEST_TIMEOUT_NS, NULL), BG_OK);
        CHECK_STATUS(bg_task_release(t), BG_OK);
        if (__atomic_load_n(&b_started, __ATOMIC_ACQUIRE)) return 0;
    }
}
static int join_with_busy_worker(void *arg) {
    a_thread = pthread_self();
    spin_until(&q_started);
    /* Both workers busy: b is kept back until a offers it. */
    CHECK_STATUS(bg_join((bg_fn)arg, NULL, mark_b, NULL, NULL, NULL), BG_OK);
    return 0;
}
static void check_offered(bg_fn body, bg_fn a, int elsewhere) {
    bg_pool *p = pool_of(2);
    b_started = b_elsewhere = release_q = q_started = 0;
    bg_task *q = NULL;
    if (a)
        CHECK_STATUS(bg_pool_submit(p, q_busy, NULL, NULL, &q), BG_OK);
    else
        usleep(20000); /* the fresh pool's workers park */
    run_in(p, body, (void *)a);
    CHECK(b_started);
    if (elsewhere) CHECK(b_elsewhere);
    if (q) {
        CHECK_STATUS(bg_wait_timeout(q, TEST_TIMEOUT_NS, NULL), BG_OK);
        CHECK_STATUS(bg_task_release(q), BG_OK);
    }
    CHECK_STATUS(bg_pool_free(p), BG_OK);
}

/* From outside the pool: b is kept back while both workers are busy, and
 * offered by the next join on a's thread once a worker idles, or by a wait
 * of a's thread. Without the offer, a loops until the timeout. */
static int q_count, noop_calls;
static int q_busy_counted(void *arg) {
    (void)arg;
    __atomic_fetch_add(&q_count, 1, __ATOMIC_ACQ_REL);
    spin_until(&release_q);
    return 0;
}
static int noop(void *arg) {
    (void)arg;
    __atomic_fetch_add(&noop_calls, 1, __ATOMIC_RELAXED);
    return 0;
}
static int a_outside_joins_again(void *arg) {
    __atomic_store_n(&release_q, 1, __ATOMIC_RELEASE);
    uint64_t end = mono_ns() + TEST_TIMEOUT_NS;
    while (!__atomic_load_n(&b_started, __ATOMIC_ACQUIRE)) {
        CHECK(mono_ns() < end);
        CHECK_STATUS(bg_pool_join(arg, noop, NULL, noop, NULL, NULL, NULL), BG_OK);
    }
    return 0;
}
static int a_outside_waits(void *arg) {
    __atomic_store_n(&release_q, 1, __ATOMIC_RELEASE);
    uint64_t end = mono_ns() + TEST_TIMEOUT_NS;
    while (!__atomic_load_n(&b_started, __ATOMIC_ACQUIRE)) {
        CHECK(mono_ns() < end);
        bg_task *t = NULL;
        CHECK_STATUS(bg_pool_submit(arg, sleeper, NULL, NULL, &t), BG_OK);
        CHECK_STATUS(bg_wait_timeout(t, TEST_TIMEOUT_NS, NULL), BG_OK);
        CHECK_STATUS(bg_task_release(t), BG_OK);
    }
    return 0;
}
/* A task a's thread runs for its waiter: b goes to the workers first. The
 * task, queued while both workers are busy, is surely run here; it lets
 * them go, then needs b started elsewhere. */
static int release_then_await_b(void *arg) {
    (void)arg;
    __atomic_store_n(&release_q, 1, __ATOMIC_RELEASE);
    spin_until(&b_started);
    return 0;
}
static int a_outside_runs_a_task(void *arg) {
    bg_task *t = NULL;
    CHECK_STATUS(bg_pool_submit(arg, release_then_await_b, NULL, NULL, &t), BG_OK);
    CHECK_STATUS(bg_wait(t, NULL), BG_OK);
    CHECK_STATUS(bg_task_release(t), BG_OK);
    return 0;
}
static void check_offered_outside(bg_fn a) {
    bg_pool *p = pool_of(2);
    b_started = b_elsewhere = release_q = q_count = 0;
    bg_task *q[2];
    for (int i = 0; i < 2; i++) CHECK_STATUS(bg_pool_submit(p, q_busy_counted, NULL, NULL, &q[i]), BG_OK);
    uint64_t end = mono_ns() + TEST_TIMEOUT_NS;
    while (__atomic_load_n(&q_count, __ATOMIC_ACQUIRE) < 2) CHECK(mono_ns() < end);
    a_thread = pthread_self();
    CHECK_STATUS(bg_pool_join(p, a, p, mark_b, NULL, NULL, NULL), BG_OK);
    CHECK(b_started && b_elsewhere);
    for (int i = 0; i < 2; i++) {
        CHECK_STATUS(bg_wait_timeout(q[i], TEST_TIMEOUT_NS, NULL), BG_OK);
        CHECK_STATUS(bg_task_release(q[i]), BG_OK);
    }
    CHECK_STATUS(bg_pool_free(p), BG_OK);
}

static bg_pool *pool_of(size_t threads) {
    bg_pool_options o;
    bg_pool_options_init(&o);
    o.threads = threads;
    o.max_threads = threads; /* exactly this many threads: no spares */
    bg_pool *p = NULL;
    CHECK_STATUS(bg_pool_new(&o, &p), BG_OK);
    return p;
}

static void run_in(bg_pool *p, bg_fn f, void *arg) {
    bg_task *t = NULL;
    CHECK_STATUS(bg_pool_submit(p, f, arg, NULL, &t), BG_OK);
    int r = -1;
    CHECK_STATUS(bg_wait_timeout(t, TEST_TIMEOUT_NS, &r), BG_OK);
    CHECK(r == 0);
    CHECK_STATUS(bg_task_release(t), BG_OK);
}

static void check_tree(bg_pool *p, size_t n, int inside) {
    seen = calloc(n, 1);
    struct range r = {0, n};
    if (inside)
        run_in(p, tree, &r);
    else
        CHECK(tree(&r) == 0); /* the outside path: bg_join on the default pool */
    for (size_t i = 0; i < n; i++) CHECK(seen[i] == 1);
    free(seen);
    (void)p;
}

/* Shutdown race: joins in flight while the pool shuts down in cancel mode.
 * Every b must still run exactly once. */
static unsigned long b_runs, a_runs;
static int count_b(void *arg) {
    (void)arg;
    __atomic_fetch_add(&b_runs, 1, __ATOMIC_RELAXED);
    return 0;
}
static int count_a(void *arg) {
    (void)arg;
    __atomic_fetch_add(&a_runs, 1, __ATOMIC_RELAXED);
    return 0;
}
static int joiner(void *arg) {
    bg_pool *p = arg;
    for (int i = 0; i < 200; i++) {
        bg_status s = bg_pool_join(p, count_a, NULL, count_b, NULL, NULL, NULL);
        CHECK(s == BG_OK || s == BG_ESHUTDOWN);
    }
    return 0;
}
static void *outside_joiner(void *arg) {
    joiner(arg);
    return NULL;
}

int main(void) {
    /* Statuses and results. */
    int ra = -1, rb = -1;
    CHECK_STATUS(bg_join(ret_arg, (void *)0, ret_arg, (void *)0, &ra, &rb), BG_OK);
    CHECK(ra == 0 && rb == 0);
    CHECK_STATUS(bg_join(ret_arg, (void *)0, ret_arg, (void *)7, &ra, &rb), BG_EFAILED);
    CHECK(ra == 0 && rb == 7);
    CHECK_STATUS(bg_join(ret_arg, (void *)5, ret_arg, (void *)0, &ra, &rb), BG_EFAILED);
    CHECK(ra == 5 && rb == 0);
    CHECK_STATUS(bg_join(NULL, NULL, ret_arg, NULL, NULL, NULL), BG_EINVAL);
    CHECK_STATUS(bg_join(ret_arg, NULL, NULL, NULL, NULL, NULL), BG_EINVAL);
    CHECK_STATUS(bg_pool_join(NULL, ret_arg, NULL, ret_arg, NULL, NULL, NULL), BG_EINVAL);

    for (size_t threads = 1; threads <= 2; threads++) {
        bg_pool *p = pool_of(threads);
        /* fib(20) inside the pool: right value, every call once. */
        struct fib f = {20, 0};
        calls = 0;
        run_in(p, fib_task, &f);
        CHECK(f.r == fib_seq(20));
        CHECK(calls == 2 * fib_seq(21) - 1);
        /* Failures from inside. */
        CHECK_STATUS(bg_pool_join(p, ret_arg, (void *)3, ret_arg, (void *)4, &ra, &rb), BG_EFAILED);
        CHECK(ra == 3 && rb == 4);
        check_tree(p, 4096, 1);
        /* Deep nesting: every b is on the caller's deque under its a. */
        run_in(p, deep, (void *)3000);
        CHECK_STATUS(bg_pool_free(p), BG_OK);
    }
    /* When b is offered. */
    for (int round = 0; round < 5; round++) {
        check_offered(join_with_idle_worker, NULL, 1);
        check_offered(join_with_busy_worker, a_hints_then_waits, 1);
        check_offered(join_with_busy_worker, a_waits_in_library, 0);
        check_offered_outside(a_outside_joins_again);
        check_offered_outside(a_outside_waits);
        check_offered_outside(a_outside_runs_a_task);
    }

    /* From outside (the default pool). */
    check_tree(NULL, 4096, 0);
    struct fib f = {18, 0};
    calls = 0;
    CHECK(fib(&f) == 0);
    CHECK(f.r == fib_seq(18) && calls == 2 * fib_seq(19) - 1);

    /* Joins from inside and outside racing a cancel shutdown. */
    for (int round = 0; round < 20; round++) {
        bg_pool *p = pool_of(2);
        a_runs = b_runs = 0;
        pthread_t th;
        CHECK(pthread_create(&th, NULL, outside_joiner, p) == 0);
        for (int i = 0; i < 4; i++) CHECK_STATUS(bg_pool_submit(p, joiner, p, NULL, NULL), BG_OK);
        CHECK_STATUS(bg_pool_shutdown(p, BG_SHUTDOWN_CANCEL, TEST_TIMEOUT_NS), BG_OK);
        CHECK(pthread_join(th, NULL) == 0);
        /* Every accepted join ran both halves once. */
        CHECK(a_runs == b_runs);
        CHECK_STATUS(bg_pool_join(p, count_a, NULL, count_b, NULL, NULL, NULL), BG_ESHUTDOWN);
        CHECK_STATUS(bg_pool_free(p), BG_OK);
    }
    printf("ok\n");
    return 0;
}
