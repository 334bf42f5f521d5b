/* bg_join(): results and failures, recursion on pools of 1 and 2 threads
 * from inside and from outside, every leaf exactly once, deep nesting on a
 * one-thread pool, and joins racing a cancel shutdown (b always runs). */
#include <pthread.h>
#include <stdint.h>
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
