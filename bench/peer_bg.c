/* This library, through its C API (include/background.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "background.h"
#include "common.h"
#include "bg_features.h" /* generated: which composition functions the header has */

static bg_pool *pool;
static size_t g_threads;

/* max_threads 0 (the default): 4 per worker, at least 256, at most 1024, as
 * include/background.h documents. */
static size_t max_threads(void) {
    size_t m = 4 * g_threads;
    return m < 256 ? 256 : m > 1024 ? 1024 : m;
}

static void check(bg_status s, const char *what) {
    if (s != BG_OK) bench_fail("%s: %s", what, bg_strerror(s));
}

static int init(int threads) {
    bg_pool_options o;
    bg_pool_options_init(&o);
    o.threads = (size_t)threads;
    o.name_prefix = "bench";
    /* foreground measures the default class; fg_<class> the others. */
    if (!strcmp(bench_workload, "fg_utility")) o.qos = BG_QOS_UTILITY;
    if (!strcmp(bench_workload, "fg_background")) o.qos = BG_QOS_BACKGROUND;
    g_threads = (size_t)threads;
    return bg_pool_new(&o, &pool) == BG_OK ? 0 : -1;
}

static void fini(void) { check(bg_pool_free(pool), "bg_pool_free"); }

static void produce(void (*body)(void *), void *ctx) { body(ctx); }

static void spawn(void *arg) { check(bg_pool_submit(pool, bench_task, arg, NULL, NULL), "bg_pool_submit"); }

static void *submit_handle(void *arg) {
    bg_task *t = NULL;
    check(bg_pool_submit(pool, bench_task, arg, NULL, &t), "bg_pool_submit");
    return t;
}

static void wait_handle(void *h) {
    check(bg_wait(h, NULL), "bg_wait");
    check(bg_task_release(h), "bg_task_release");
}

/* fib: submit fib(n-1), compute fib(n-2) here, wait (helping) for the first. */
struct fib_frame {
    int n;
    uint64_t r;
};

static uint64_t fib_rec(int n);

static int fib_task(void *p) {
    struct fib_frame *f = p;
    f->r = fib_rec(f->n);
    return 0;
}

static uint64_t fib_rec(int n) {
    bench_count();
    if (n < 2) return (uint64_t)n;
    struct fib_frame f = {n - 1, 0};
    bg_task *t = NULL;
    check(bg_pool_submit(pool, fib_task, &f, NULL, &t), "bg_pool_submit");
    uint64_t y = fib_rec(n - 2);
    check(bg_wait(t, NULL), "bg_wait");
    check(bg_task_release(t), "bg_task_release");
    return f.r + y;
}

static uint64_t fib(int n) {
    struct fib_frame f = {n, 0};
    bg_task *t = NULL;
    check(bg_pool_submit(pool, fib_task, &f, NULL, &t), "bg_pool_submit");
    check(bg_wait(t, NULL), "bg_wait");
    check(bg_task_release(t), "bg_task_release");
    return f.r;
}

#ifdef HAVE_BG_JOIN
/* The fork-join ports with bg_join: b from the caller's stack, a inline. */
static void join(bg_fn a, void *a_arg, bg_fn b, void *b_arg) { check(bg_join(a, a_arg, b, b_arg, NULL, NULL), "bg_join"); }

/* Runs f(arg) inside the pool and waits: the roots of the fork-join trees,
 * on a worker, as rayon's install and OpenMP's team run theirs (and TBB's
 * waiting thread joins its arena). A root its waiter ran would join from
 * outside the pool (README: 1.07-1.17x as long for fib(32)). */
static void in_pool(bg_fn f, void *arg) {
    bg_task *t = NULL;
    check(bg_pool_submit(pool, f, arg, NULL, &t), "bg_pool_submit");
#ifdef HAVE_BG_WAIT_NO_RUN_HERE
    check(bg_wait_ex(t, BG_FOREVER, BG_WAIT_NO_RUN_HERE, NULL), "bg_wait_ex");
#else
    check(bg_wait(t, NULL), "bg_wait");
#endif
    check(bg_task_release(t), "bg_task_release");
}

static int fibj_rec(void *p) {
    struct fib_frame *f = p;
    bench_count();
    if (f->n < 2) {
        f->r = (uint64_t)f->n;
        return 0;
    }
    struct fib_frame x = {f->n - 1, 0}, y = {f->n - 2, 0};
    join(fibj_rec, &x, fibj_rec, &y);
    f->r = x.r + y.r;
    return 0;
}

static uint64_t fibj(int n) {
    struct fib_frame f = {n, 0};
    in_pool(fibj_rec, &f);
    return f.r;
}

/* skynet: children [lo, hi) of the node (num, size), halved by joins. */
struct sky {
    uint64_t num, size;
    unsigned lo, hi;
    uint64_t r;
};

static int sky_rec(void *p) {
    struct sky *s = p;
    if (s->hi - s->lo == 1) {
        uint64_t sub = s->size / BENCH_SKYNET_DIV, num = s->num + s->lo * sub;
        if (sub == 1) {
            bench_count();
            s->r = num;
            return 0;
        }
        struct sky c = {num, sub, 0, BENCH_SKYNET_DIV, 0};
        sky_rec(&c);
        s->r = c.r;
        return 0;
    }
    unsigned mid = s->lo + (s->hi - s->lo) / 2;
    struct sky x = {s->num, s->size, s->lo, mid, 0}, y = {s->num, s->size, mid, s->hi, 0};
    join(sky_rec, &x, sky_rec, &y);
    s->r = x.r + y.r;
    return 0;
}

static uint64_t skynet(uint64_t leaves) {
    struct sky s = {0, leaves, 0, BENCH_SKYNET_DIV, 0};
    if (leaves == 1) return bench_count(), 0;
    in_pool(sky_rec, &s);
    return s.r;
}

/* nqueens: the columns [lo, hi) of row `row`, halved by joins. */
struct nq {
    const signed char *a;
    int n, row, lo, hi;
    uint64_t r;
};

static uint64_t nq_node(const signed char *a, int n, int row);

static int nq_cols(void *p) {
    struct nq *q = p;
    if (q->hi - q->lo == 1) {
        q->r = 0;
        if (bench_nq_ok(q->a, q->row, q->lo)) {
            signed char b[BENCH_NQ_MAX];
            memcpy(b, q->a, (size_t)q->row);
            b[q->row] = (signed char)q->lo;
            q->r = nq_node(b, q->n, q->row + 1);
        }
        return 0;
    }
    int mid = q->lo + (q->hi - q->lo) / 2;
    struct nq x = {q->a, q->n, q->row, q->lo, mid, 0}, y = {q->a, q->n, q->row, mid, q->hi, 0};
    join(nq_cols, &x, nq_cols, &y);
    q->r = x.r + y.r;
    return 0;
}

static uint64_t nq_node(const signed char *a, int n, int row) {
    bench_count();
    if (row == n) return 1;
    struct nq q = {a, n, row, 0, n, 0};
    nq_cols(&q);
    return q.r;
}

struct nq_root {
    int n;
    uint64_t r;
};

static int nq_root_task(void *p) {
    struct nq_root *q = p;
    signed char a[BENCH_NQ_MAX] = {0};
    q->r = nq_node(a, q->n, 0);
    return 0;
}

static uint64_t nqueens(int n) {
    struct nq_root q = {n, 0};
    in_pool(nq_root_task, &q);
    return q.r;
}
#endif

#ifdef HAVE_BG_PARALLEL_FOR
static void kernel_range(size_t lo, size_t hi, void *ctx) { bench_kernel_range(ctx, lo, hi); }

static void pfor(uint64_t *a, size_t n) { check(bg_parallel_for(pool, 0, n, 0, kernel_range, a), "bg_parallel_for"); }
#endif

#ifdef HAVE_BG_SERIAL
static void serial(size_t n) {
    bg_serial *q = NULL;
    bg_task *last = NULL;
    check(bg_serial_new(pool, &q), "bg_serial_new");
    for (size_t i = 0; i < n; i++)
        check(bg_serial_submit(q, bench_task, BENCH_ARG(i), NULL, i + 1 == n ? &last : NULL), "bg_serial_submit");
    /* In order: once the last has run, all have. */
    check(bg_wait(last, NULL), "bg_wait");
    check(bg_task_release(last), "bg_task_release");
    check(bg_serial_free(q), "bg_serial_free");
}
#endif

#ifdef HAVE_BG_GROUP
static void group(size_t rounds, size_t k) {
    bg_group *g = NULL;
#if defined(HAVE_BG_GROUP_CALLER_RUNS) && !defined(HAVE_BG_GROUP_NO_CALLER_RUNS)
    /* Builds from before the waiting thread ran what no worker has started
     * by default (as TBB's task_group does) had to ask. */
    check(bg_group_new(pool, BG_GROUP_CALLER_RUNS, &g), "bg_group_new");
#else
    check(bg_group_new(pool, BG_GROUP_DEFAULT, &g), "bg_group_new");
#endif
    for (size_t r = 0; r < rounds; r++) {
        for (size_t j = 0; j < k; j++) check(bg_group_submit(g, bench_task, BENCH_ARG(r * k + j), NULL, NULL), "bg_group_submit");
        check(bg_group_wait(g, BG_FOREVER, NULL), "bg_group_wait");
    }
    check(bg_group_free(g), "bg_group_free");
}
#endif

static const char *skip(const char *wl) {
#ifndef HAVE_BG_PARALLEL_FOR
    if (!strcmp(wl, "loop")) return "bg_parallel_for is not in include/background.h yet";
#endif
#ifndef HAVE_BG_SERIAL
    if (!strcmp(wl, "serial")) return "bg_serial_* is not in include/background.h yet";
#endif
#ifndef HAVE_BG_GROUP
    if (!strcmp(wl, "group")) return "bg_group_* is not in include/background.h yet";
#endif
    (void)wl;
    return NULL;
}

const struct peer bench_peer = {
    .name = "bg",
    .init = init,
    .fini = fini,
    .produce = produce,
    .spawn = spawn,
    .submit_handle = submit_handle,
    .wait_handle = wait_handle,
    .fib = fib,
#ifdef HAVE_BG_PARALLEL_FOR
    .pfor = pfor,
#endif
#ifdef HAVE_BG_SERIAL
    .serial = serial,
#endif
#ifdef HAVE_BG_GROUP
    .group = group,
#endif
    .skip = skip,
    .serial_ordered = 1,
    .max_threads = max_threads,
#ifdef HAVE_BG_JOIN
    .fibj = fibj,
    .skynet = skynet,
    .nqueens = nqueens,
#endif
};
