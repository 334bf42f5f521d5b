/* Limiters: at most N tasks of a set run at once, started in submission
 * order; a slot freed by a cancel (of a task queued on the pool, or of one
 * waiting in the limiter) lets the next start; shutdown in cancel mode
 * drops waiting tasks exactly once. */
#include "check.h"

#include <stdatomic.h>
#include <stdint.h>

static atomic_int running, peak, ran, dropped, order_errors, next_start;
static int limited(void *arg) {
    int seq = (int)(intptr_t)arg;
    int now = atomic_fetch_add(&running, 1) + 1;
    int p = atomic_load(&peak);
    while (now > p && !atomic_compare_exchange_weak(&peak, &p, now)) {}
    sleep_ms(seq % 3 == 0 ? 1 : 0);
    atomic_fetch_sub(&running, 1);
    atomic_fetch_add(&ran, 1);
    return 0;
}
/* Width 1: each task must be the next in submission order. */
static int ordered(void *arg) {
    int seq = (int)(intptr_t)arg;
    if (atomic_fetch_add(&next_start, 1) != seq) atomic_fetch_add(&order_errors, 1);
    atomic_fetch_add(&ran, 1);
    return 0;
}
static void count_drop(void *arg) {
    (void)arg;
    atomic_fetch_add(&dropped, 1);
}
static atomic_int gate, started;
static int blocker(void *arg) {
    (void)arg;
    atomic_fetch_add(&started, 1);
    while (!atomic_load(&gate)) sleep_ms(1);
    atomic_fetch_add(&ran, 1);
    return 0;
}
static void reset(void) {
    atomic_store(&running, 0);
    atomic_store(&peak, 0);
    atomic_store(&ran, 0);
    atomic_store(&dropped, 0);
    atomic_store(&gate, 0);
    atomic_store(&started, 0);
}

static bg_pool *new_pool_max(size_t threads, size_t max_threads) {
    bg_pool_options o;
    bg_pool_options_init(&o);
    o.threads = threads;
    o.max_threads = max_threads;
    bg_pool *p;
    CHECK_STATUS(bg_pool_new(&o, &p), BG_OK);
    return p;
}

static bg_pool *new_pool(size_t threads) {
    return new_pool_max(threads, 0);
}

int main(void) {
    bg_pool *p = new_pool(4);
    bg_limit *l;
    CHECK_STATUS(bg_limit_new(p, 0, &l), BG_EINVAL);
    CHECK_STATUS(bg_limit_new(NULL, 2, &l), BG_EINVAL);

    /* Width 2 on 4 threads: never more than 2 at once. */
    reset();
    CHECK_STATUS(bg_limit_new(p, 2, &l), BG_OK);
    for (int i = 0; i < 300; i++) CHECK_STATUS(bg_limit_submit(l, limited, (void *)(intptr_t)i, NULL, NULL), BG_OK);
    CHECK_STATUS(bg_pool_wait_idle(p, TEST_TIMEOUT_NS), BG_OK);
    CHECK(atomic_load(&ran) == 300);
    CHECK(atomic_load(&peak) <= 2);
    size_t r = 9, w = 9;
    CHECK_STATUS(bg_limit_counts(l, &r, &w), BG_OK);
    CHECK(r == 0 && w == 0);
    CHECK_STATUS(bg_limit_free(l), BG_OK);

    /* Width 1: strict submission order, through bg_pool_submit_ex too. */
    reset();
    CHECK_STATUS(bg_limit_new(p, 1, &l), BG_OK);
    bg_submit_options o;
    bg_submit_options_init(&o);
    o.limit = l;
    for (int i = 0; i < 500; i++) {
        if (i % 2)
            CHECK_STATUS(bg_limit_submit(l, ordered, (void *)(intptr_t)i, NULL, NULL), BG_OK);
        else
            CHECK_STATUS(bg_pool_submit_ex(p, ordered, (void *)(intptr_t)i, &o, NULL), BG_OK);
    }
    CHECK_STATUS(bg_pool_wait_idle(p, TEST_TIMEOUT_NS), BG_OK);
    CHECK(atomic_load(&ran) == 500 && atomic_load(&order_errors) == 0);
    /* Unsupported combinations are refused, nothing queued. */
    o.flags = BG_SUBMIT_KEYED;
    CHECK_STATUS(bg_pool_submit_ex(p, ordered, NULL, &o, NULL), BG_EINVAL);
    o.flags = 0;
    o.priority = BG_PRIORITY_HIGH;
    CHECK_STATUS(bg_pool_submit_ex(p, ordered, NULL, &o, NULL), BG_EINVAL);
    CHECK_STATUS(bg_limit_free(l), BG_OK);

    /* A cancel frees the slot. One worker is held by a blocker outside the
     * limiter; width 1: a is started (queued on the pool), b and c wait. No
     * spares: on a loaded machine one ran `a` before the cancel. */
    CHECK_STATUS(bg_pool_free(p), BG_OK);
    p = new_pool_max(1, 1);
    reset();
    bg_task *blk, *a, *b, *c;
    CHECK_STATUS(bg_pool_submit(p, blocker, NULL, NULL, &blk), BG_OK);
    while (!atomic_load(&started)) sleep_ms(1);
    CHECK_STATUS(bg_limit_new(p, 1, &l), BG_OK);
    CHECK_STATUS(bg_limit_submit(l, limited, NULL, count_drop, &a), BG_OK);
    CHECK_STATUS(bg_limit_submit(l, limited, NULL, count_drop, &b), BG_OK);
    CHECK_STATUS(bg_limit_submit(l, limited, NULL, count_drop, &c), BG_OK);
    CHECK_STATUS(bg_limit_counts(l, &r, &w), BG_OK);
    CHECK(r == 1 && w == 2);
    CHECK_STATUS(bg_cancel(b), BG_OK); /* waiting in the limiter: out at once */
    CHECK_STATUS(bg_limit_counts(l, &r, &w), BG_OK);
    CHECK(r == 1 && w == 1);
    CHECK_STATUS(bg_cancel(a), BG_OK); /* queued on the pool: frees its slot for c */
    CHECK_STATUS(bg_limit_counts(l, &r, &w), BG_OK);
    CHECK(r == 1 && w == 0);
    atomic_store(&gate, 1);
    CHECK_STATUS(bg_wait_timeout(c, TEST_TIMEOUT_NS, NULL), BG_OK);
    CHECK_STATUS(bg_wait(a, NULL), BG_ECANCELLED);
    CHECK_STATUS(bg_wait(b, NULL), BG_ECANCELLED);
    CHECK(atomic_load(&dropped) == 2);
    /* Ended before the counts are reset for the next part. */
    CHECK_STATUS(bg_wait_timeout(blk, TEST_TIMEOUT_NS, NULL), BG_OK);
    bg_task *ts[] = {blk, a, b, c};
    for (int i = 0; i < 4; i++) bg_task_release(ts[i]);

    /* Shutdown in cancel mode: the running one finishes, the rest drop once. */
    reset();
    CHECK_STATUS(bg_pool_submit(p, blocker, NULL, NULL, NULL), BG_OK);
    while (!atomic_load(&started)) sleep_ms(1);
    for (int i = 0; i < 20; i++) CHECK_STATUS(bg_limit_submit(l, limited, NULL, count_drop, NULL), BG_OK);
    atomic_store(&gate, 1);
    CHECK_STATUS(bg_pool_shutdown(p, BG_SHUTDOWN_CANCEL, TEST_TIMEOUT_NS), BG_OK);
    if (atomic_load(&ran) + atomic_load(&dropped) != 21)
        fprintf(stderr, "cancel shutdown: ran %d, dropped %d\n", atomic_load(&ran), atomic_load(&dropped));
    CHECK(atomic_load(&ran) + atomic_load(&dropped) == 21);
    CHECK_STATUS(bg_limit_submit(l, limited, NULL, count_drop, NULL), BG_ESHUTDOWN);
    CHECK_STATUS(bg_limit_free(l), BG_OK);
    CHECK_STATUS(bg_pool_free(p), BG_OK);

    /* Drain mode: everything waiting in the limiter still runs. */
    reset();
    p = new_pool(2);
    CHECK_STATUS(bg_limit_new(p, 1, &l), BG_OK);
    for (int i = 0; i < 50; i++) CHECK_STATUS(bg_limit_submit(l, limited, NULL, count_drop, NULL), BG_OK);
    CHECK_STATUS(bg_limit_free(l), BG_OK); /* freed early: its tasks still run */
    CHECK_STATUS(bg_pool_free(p), BG_OK);
    CHECK(atomic_load(&ran) == 50 && atomic_load(&dropped) == 0);
    puts("compose_limit: ok");
    return 0;
}
