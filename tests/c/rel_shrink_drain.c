/* A drain after a live shrink must not drop a child (issue 18, item 2).
 *
 * Two-thread pool; tasks A0 and A1 run, one per worker. The pool is shrunk
 * to one thread, A0 finishes and a drain shutdown starts; worker 0 finds
 * nothing and exits. Only then A1 (on the surplus worker 1) submits child C,
 * which is accepted (the pool's own workers may submit while it drains),
 * and returns. C must run. Before the fix the retiring worker moved C to
 * the shared queue after every other worker had gone, and the shutdown's
 * final sweep cancelled it. Deterministic. */
#include "check.h"

#include <pthread.h>
#include <stdatomic.h>

static _Thread_local int my_idx = -1;
static atomic_int stopped0, running, release0, c_ran, c_dropped, a1_status = -100;
static bg_pool *pool;

static void on_start(void *ctx, size_t idx) {
    (void)ctx;
    my_idx = (int)idx;
}

static void on_stop(void *ctx, size_t idx) {
    (void)ctx;
    if (idx == 0) atomic_store(&stopped0, 1);
}

static int child(void *arg) {
    (void)arg;
    atomic_fetch_add(&c_ran, 1);
    return 0;
}

static void child_drop(void *arg) {
    (void)arg;
    atomic_fetch_add(&c_dropped, 1);
}

/* Spins until *flag is set, at most 10 s. */
static int await(atomic_int *flag) {
    for (int i = 0; i < 10000 && !atomic_load(flag); i++) sleep_ms(1);
    return atomic_load(flag);
}

static int task_a(void *arg) {
    (void)arg;
    atomic_fetch_add(&running, 1);
    while (atomic_load(&running) < 2) sched_yield();
    if (my_idx == 0) {
        await(&release0);
        return 0;
    }
    /* Worker 1, surplus after the shrink: wait for worker 0 to exit the drain. */
    if (!await(&stopped0)) return 1;
    atomic_store(&a1_status, bg_pool_submit(pool, child, NULL, child_drop, NULL));
    return 0;
}

int main(void) {
    bg_pool_options o;
    bg_pool_options_init(&o);
    o.threads = 2;
    o.on_thread_start = on_start;
    o.on_thread_stop = on_stop;
    CHECK_STATUS(bg_pool_new(&o, &pool), BG_OK);
    bg_task *a0, *a1;
    /* Each task is handed to a parked worker with its wake-up (the second
     * once the first worker no longer searches): a worker whose handed task
     * pushed a child must still look at its own deque before it leaves. */
    sleep_ms(50);
    CHECK_STATUS(bg_pool_submit(pool, task_a, NULL, NULL, &a0), BG_OK);
    while (atomic_load(&running) < 1) sched_yield();
    sleep_ms(20);
    CHECK_STATUS(bg_pool_submit(pool, task_a, NULL, NULL, &a1), BG_OK);
    while (atomic_load(&running) < 2) sched_yield();
    CHECK_STATUS(bg_pool_set_threads(pool, 1), BG_OK);
    /* Worker 0's task ends and the drain starts (whichever handle it is). */
    atomic_store(&release0, 1);
    CHECK_STATUS(bg_pool_shutdown(pool, BG_SHUTDOWN_DRAIN, TEST_TIMEOUT_NS), BG_OK);
    CHECK_STATUS(bg_wait_timeout(a0, TEST_TIMEOUT_NS, NULL), BG_OK);
    CHECK_STATUS(bg_wait_timeout(a1, TEST_TIMEOUT_NS, NULL), BG_OK);
    CHECK_STATUS((bg_status)atomic_load(&a1_status), BG_OK);
    if (atomic_load(&c_ran) != 1 || atomic_load(&c_dropped) != 0) {
        fprintf(stderr, "child accepted with BG_OK: ran %d, dropped %d\n", atomic_load(&c_ran),
                atomic_load(&c_dropped));
        check_failed();
    }
    bg_task_release(a0);
    bg_task_release(a1);
    CHECK_STATUS(bg_pool_free(pool), BG_OK);
    printf("rel_shrink_drain: the child submitted during the drain ran\n");
    return 0;
}
