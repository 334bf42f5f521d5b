/* A group's own queue (compose/group.rs): members wait there, not in the
 * pool's queue, so what a caller-runs wait runs leaves nothing behind.
 *
 * 1. Busy workers: the pool's one worker spins in a task while a caller-runs
 *    wait runs round after round of members itself. The pool's queue stays
 *    at most one job long (before, each member left its job behind until a
 *    worker popped it: 16,000 here, 165 bytes each), every member runs once,
 *    and bg_pool_stats() counts the members the caller ran.
 * 2. Cancel and shutdown: members queued behind a blocker, with and without
 *    handles and drops, are cancelled by bg_group_cancel() or dropped by a
 *    cancelling shutdown exactly once, and counted as cancelled.
 * 3. Handles: a member waited for with BG_WAIT_RUN_HERE or cancelled through
 *    its handle, then the group's caller-runs wait: each runs at most once. */
#include "check.h"

#include <stdatomic.h>
#include <stdint.h>

#define ROUNDS 2000
#define PER_ROUND 8

static atomic_int runs, drops, spinning, stop_spin;

static int count_fn(void *arg) {
    (void)arg;
    atomic_fetch_add(&runs, 1);
    return 0;
}

static void count_drop(void *arg) {
    (void)arg;
    atomic_fetch_add(&drops, 1);
}

/* Holds the worker without blocking in the kernel: the monitor sees it
 * compute, so no spare comes to drain anything. */
static int spin_fn(void *arg) {
    (void)arg;
    atomic_store(&spinning, 1);
    while (!atomic_load(&stop_spin)) {
    }
    return 0;
}

static atomic_int gate_open;
static int blocker_fn(void *arg) {
    atomic_store((atomic_int *)arg, 1);
    while (!atomic_load(&gate_open)) sleep_ms(1);
    return 0;
}

static bg_pool *one_thread_pool(void) {
    bg_pool_options o;
    bg_pool_options_init(&o);
    o.threads = 1;
    o.max_threads = 1;
    bg_pool *p = NULL;
    CHECK_STATUS(bg_pool_new(&o, &p), BG_OK);
    return p;
}

static void busy_workers(void) {
    bg_pool *p = one_thread_pool();
    bg_task *spin;
    CHECK_STATUS(bg_pool_submit(p, spin_fn, NULL, NULL, &spin), BG_OK);
    while (!atomic_load(&spinning)) sleep_ms(1);

    bg_stats before;
    CHECK_STATUS(bg_pool_stats(p, &before), BG_OK);
    bg_group *g;
    CHECK_STATUS(bg_group_new(p, BG_GROUP_CALLER_RUNS, &g), BG_OK);
    atomic_store(&runs, 0);
    for (int r = 0; r < ROUNDS; r++) {
        for (int i = 0; i < PER_ROUND; i++) CHECK_STATUS(bg_group_submit(g, count_fn, NULL, NULL, NULL), BG_OK);
        CHECK_STATUS(bg_group_wait(g, BG_FOREVER, NULL), BG_OK);
    }
    CHECK(atomic_load(&runs) == ROUNDS * PER_ROUND);
    bg_stats after;
    CHECK_STATUS(bg_pool_stats(p, &after), BG_OK);
    if (after.queued > 1) {
        fprintf(stderr, "pool queue holds %llu jobs after the rounds\n", (unsigned long long)after.queued);
        CHECK(after.queued <= 1);
    }
    CHECK(after.completed - before.completed == ROUNDS * PER_ROUND);

    atomic_store(&stop_spin, 1);
    CHECK_STATUS(bg_wait(spin, NULL), BG_OK);
    bg_task_release(spin);
    CHECK_STATUS(bg_group_free(g), BG_OK);
    CHECK_STATUS(bg_pool_free(p), BG_OK);
}

/* Queues `n` members of each kind behind a blocker of a one-thread pool. */
static bg_group *queued_behind_blocker(bg_pool *p, int n, bg_task **handles) {
    static atomic_int started;
    atomic_store(&started, 0);
    atomic_store(&gate_open, 0);
    CHECK_STATUS(bg_pool_submit(p, blocker_fn, &started, NULL, NULL), BG_OK);
    while (!atomic_load(&started)) sleep_ms(1);
    bg_group *g;
    CHECK_STATUS(bg_group_new(p, BG_GROUP_DEFAULT, &g), BG_OK);
    for (int i = 0; i < n; i++) {
        CHECK_STATUS(bg_group_submit(g, count_fn, NULL, NULL, NULL), BG_OK);       /* a bare call, nothing to drop */
        CHECK_STATUS(bg_group_submit(g, count_fn, NULL, count_drop, NULL), BG_OK); /* a bare call, with a drop */
        CHECK_STATUS(bg_group_submit(g, count_fn, NULL, count_drop, &handles[i]), BG_OK);
    }
    return g;
}

static void cancel_and_shutdown(void) {
    enum { N = 50 };
    bg_task *h[N];

    bg_pool *p = one_thread_pool();
    bg_stats before, after;
    CHECK_STATUS(bg_pool_stats(p, &before), BG_OK);
    atomic_store(&runs, 0);
    atomic_store(&drops, 0);
    bg_group *g = queued_behind_blocker(p, N, h);
    CHECK_STATUS(bg_group_cancel(g), BG_OK);
    CHECK(atomic_load(&drops) == 2 * N);
    CHECK_STATUS(bg_group_submit(g, count_fn, NULL, NULL, NULL), BG_ECANCELLED);
    atomic_store(&gate_open, 1);
    CHECK_STATUS(bg_group_wait(g, TEST_TIMEOUT_NS, NULL), BG_ECANCELLED);
    for (int i = 0; i < N; i++) {
        CHECK_STATUS(bg_wait(h[i], NULL), BG_ECANCELLED);
        bg_task_release(h[i]);
    }
    CHECK(atomic_load(&runs) == 0);
    CHECK_STATUS(bg_pool_wait_idle(p, TEST_TIMEOUT_NS), BG_OK);
    CHECK_STATUS(bg_pool_stats(p, &after), BG_OK);
    CHECK(after.cancelled - before.cancelled == 3 * N);
    CHECK_STATUS(bg_group_free(g), BG_OK);
    CHECK_STATUS(bg_pool_free(p), BG_OK);

    /* A cancelling shutdown drops them all, and the group's wait sees it. */
    p = one_thread_pool();
    atomic_store(&drops, 0);
    g = queued_behind_blocker(p, N, h);
    atomic_store(&gate_open, 1);
    CHECK_STATUS(bg_pool_shutdown(p, BG_SHUTDOWN_CANCEL, TEST_TIMEOUT_NS), BG_OK);
    CHECK_STATUS(bg_group_wait(g, TEST_TIMEOUT_NS, NULL), BG_ECANCELLED);
    CHECK(atomic_load(&runs) == 0);
    CHECK(atomic_load(&drops) == 2 * N);
    for (int i = 0; i < N; i++) {
        CHECK_STATUS(bg_wait(h[i], NULL), BG_ESHUTDOWN);
        bg_task_release(h[i]);
    }
    CHECK_STATUS(bg_group_free(g), BG_OK);
    CHECK_STATUS(bg_pool_free(p), BG_OK);
}

static void handles(void) {
    enum { N = 16 };
    bg_task *h[N];
    bg_pool *p = one_thread_pool();
    static atomic_int started;
    atomic_store(&gate_open, 0);
    CHECK_STATUS(bg_pool_submit(p, blocker_fn, &started, NULL, NULL), BG_OK);
    while (!atomic_load(&started)) sleep_ms(1);
    bg_group *g;
    CHECK_STATUS(bg_group_new(p, BG_GROUP_CALLER_RUNS, &g), BG_OK);
    atomic_store(&runs, 0);
    atomic_store(&drops, 0);
    for (int i = 0; i < N; i++) CHECK_STATUS(bg_group_submit(g, count_fn, NULL, count_drop, &h[i]), BG_OK);
    /* Every other one run through its handle, one cancelled; the wait runs the rest. */
    for (int i = 0; i < N; i += 2) CHECK_STATUS(bg_wait_ex(h[i], BG_FOREVER, BG_WAIT_RUN_HERE, NULL), BG_OK);
    CHECK_STATUS(bg_cancel(h[1]), BG_OK);
    CHECK(atomic_load(&runs) == N / 2);
    CHECK_STATUS(bg_group_wait(g, BG_FOREVER, NULL), BG_ECANCELLED);
    CHECK(atomic_load(&runs) == N - 1);
    CHECK(atomic_load(&drops) == 1);
    for (int i = 0; i < N; i++) {
        CHECK_STATUS(bg_wait(h[i], NULL), i == 1 ? BG_ECANCELLED : BG_OK);
        bg_task_release(h[i]);
    }
    atomic_store(&gate_open, 1);
    CHECK_STATUS(bg_group_free(g), BG_OK);
    CHECK_STATUS(bg_pool_free(p), BG_OK);
}

int main(void) {
    busy_workers();
    cancel_and_shutdown();
    handles();
    puts("compose_group_queue: ok");
    return 0;
}
