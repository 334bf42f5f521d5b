/* Caller-runs waits: a thread outside the pool that waits (without a
 * timeout, as bg_wait() does, or with a zero one and BG_WAIT_RUN_HERE, or
 * on a group without BG_GROUP_NO_CALLER_RUNS) for a task no worker has
 * started runs it itself, in the task's pool (bg_submit, bg_join, and
 * BG_EDEADLK for a shutdown or idle wait of it); waits with
 * BG_WAIT_NO_RUN_HERE or a timeout, groups that opt out, pools with thread
 * hooks and paused pools keep it on a worker; and a task runs exactly once
 * (or its drop does) under races between the waiter, workers and bg_cancel. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include "check.h"

static atomic_int gate;
static int blocker(void *arg) {
    atomic_int *started = arg;
    atomic_store(started, 1);
    while (!atomic_load(&gate)) usleep(200);
    return 0;
}

static pthread_t main_thread;
static bg_pool *cur_pool;
struct rec {
    atomic_int runs;
    int on_main;
    bg_pool *seen_pool;
};
static int record(void *arg) {
    struct rec *r = arg;
    atomic_fetch_add(&r->runs, 1);
    r->on_main = pthread_equal(pthread_self(), main_thread);
    r->seen_pool = bg_current_pool();
    return 0;
}

static void *open_gate_later(void *arg) {
    (void)arg;
    usleep(50 * 1000);
    atomic_store(&gate, 1);
    return NULL;
}

/* Holds the pool's only thread until the gate opens. */
static bg_task *the_blocker;
static void block(bg_pool *p) {
    static atomic_int started;
    atomic_store(&started, 0);
    atomic_store(&gate, 0);
    CHECK_STATUS(bg_pool_submit(p, blocker, &started, NULL, &the_blocker), BG_OK);
    while (!atomic_load(&started)) usleep(100);
}

/* Opens the gate (unless done already) and waits for the blocker to end. */
static void unblock(void) {
    atomic_store(&gate, 1);
    CHECK_STATUS(bg_wait(the_blocker, NULL), BG_OK);
    CHECK_STATUS(bg_task_release(the_blocker), BG_OK);
}

static void *resume_later(void *p) {
    usleep(50 * 1000);
    CHECK_STATUS(bg_pool_resume(p), BG_OK);
    return NULL;
}

/* A one-thread pool whose thread is held by a blocker until the gate opens. */
static bg_pool *blocked_pool(bg_thread_hook hook) {
    bg_pool_options o;
    bg_pool_options_init(&o);
    o.threads = 1;
    o.on_thread_start = hook;
    o.max_threads = 1; /* no spare thread (issue 14) runs what the blocker holds up */
    bg_pool *p = NULL;
    CHECK_STATUS(bg_pool_new(&o, &p), BG_OK);
    block(p);
    return p;
}

static void hook(void *ctx, size_t index) {
    (void)index;
    (void)ctx;
}

/* Waits for a task on a blocked pool with `flags`; says where it ran. */
static struct rec wait_blocked(bg_pool *p, uint32_t flags, int open_later) {
    struct rec r = {0};
    bg_task *t = NULL;
    CHECK_STATUS(bg_pool_submit(p, record, &r, NULL, &t), BG_OK);
    pthread_t th;
    if (open_later) CHECK(pthread_create(&th, NULL, open_gate_later, NULL) == 0);
    if (flags == BG_WAIT_HELP)
        CHECK_STATUS(bg_wait(t, NULL), BG_OK);
    else
        CHECK_STATUS(bg_wait_ex(t, BG_FOREVER, flags, NULL), BG_OK);
    if (open_later) CHECK(pthread_join(th, NULL) == 0);
    CHECK_STATUS(bg_task_release(t), BG_OK);
    CHECK(atomic_load(&r.runs) == 1);
    return r;
}

/* A task run by its waiter joins on its own pool (bg_current_pool()), as
 * bg_submit does: `a` gives `b` 200 ms to start elsewhere; on the blocked
 * pool nobody can, so the caller runs it after `a`, seeing the same pool. */
static atomic_int b_started;
static bg_pool *a_pool, *b_pool;
static int join_a(void *arg) {
    (void)arg;
    a_pool = bg_current_pool();
    for (int i = 0; i < 200 && !atomic_load(&b_started); i++) usleep(1000);
    return 0;
}
static int join_b(void *arg) {
    (void)arg;
    b_pool = bg_current_pool();
    atomic_store(&b_started, 1);
    return 0;
}
static int joins(void *arg) {
    (void)arg;
    return bg_join(join_a, NULL, join_b, NULL, NULL, NULL) == BG_OK ? 0 : 1;
}

/* A task run by its waiter that waits for its own pool to go idle, or
 * shuts it down, is refused as on a worker (a wait for a pool whose task
 * it is would include itself). */
static bg_status own_idle, own_shutdown;
static int own_pool_calls(void *arg) {
    if (!pthread_equal(pthread_self(), main_thread)) return 1;
    own_idle = bg_pool_wait_idle(arg, 0);
    own_shutdown = bg_pool_shutdown(arg, BG_SHUTDOWN_DRAIN, 0);
    return 0;
}

/* Races: tasks waited for by this thread while workers take them and
 * another thread cancels them: each runs once or is dropped once. */
#define RACE_N 2000
static atomic_int race_runs[RACE_N], race_drops[RACE_N];
static bg_task *race_tasks[RACE_N];
static int race_run(void *arg) {
    atomic_fetch_add(&race_runs[(intptr_t)arg], 1);
    return 0;
}
static void race_drop(void *arg) { atomic_fetch_add(&race_drops[(intptr_t)arg], 1); }
static void *canceller(void *arg) {
    (void)arg;
    for (int i = RACE_N - 1; i >= 0; i--) bg_cancel(race_tasks[i]);
    return NULL;
}

int main(void) {
    main_thread = pthread_self();

    /* A queued task waited for from outside runs here, in its pool: by
     * default (bg_wait()), and with the flag that names it. */
    bg_pool *p = blocked_pool(NULL);
    cur_pool = p;
    const uint32_t here[3] = {BG_WAIT_HELP, BG_WAIT_RUN_HERE, BG_WAIT_NO_HELP};
    struct rec r;
    for (int k = 0; k < 3; k++) {
        /* The gate opens 50 ms later: a wait that left it to the worker
         * would see it run there. */
        r = wait_blocked(p, here[k], 1);
        CHECK(r.on_main && r.seen_pool == p);
        unblock();
        block(p);
    }
    /* Counted in the pool's statistics as it ends, not once the worker,
     * still held, meets its queued copy. */
    bg_stats s0, s1;
    CHECK_STATUS(bg_pool_stats(p, &s0), BG_OK);
    r = wait_blocked(p, BG_WAIT_HELP, 0);
    CHECK(r.on_main);
    CHECK_STATUS(bg_pool_stats(p, &s1), BG_OK);
    CHECK(s1.completed == s0.completed + 1 && s1.failed == s0.failed && s1.cancelled == s0.cancelled);
    /* A wait that opts out: it runs on the worker once the gate opens. */
    r = wait_blocked(p, BG_WAIT_NO_RUN_HERE, 1);
    CHECK(!r.on_main);
    unblock();
    /* A wait with a timeout never runs it here, asked to or not. */
    block(p);
    struct rec rt = {0};
    bg_task *t = NULL;
    CHECK_STATUS(bg_pool_submit(p, record, &rt, NULL, &t), BG_OK);
    CHECK_STATUS(bg_wait_timeout(t, 1000000, NULL), BG_ETIMEDOUT);
    CHECK_STATUS(bg_wait_ex(t, 1000000, BG_WAIT_RUN_HERE, NULL), BG_ETIMEDOUT);
    /* Nor a zero timeout unasked (a poll), nor one that opts out. */
    CHECK_STATUS(bg_wait_timeout(t, 0, NULL), BG_ETIMEDOUT);
    CHECK_STATUS(bg_wait_ex(t, 0, BG_WAIT_NO_RUN_HERE, NULL), BG_ETIMEDOUT);
    CHECK(atomic_load(&rt.runs) == 0);
    /* ... but a zero timeout runs it here if still queued (no waiting). */
    CHECK_STATUS(bg_wait_ex(t, 0, BG_WAIT_RUN_HERE, NULL), BG_OK);
    CHECK(atomic_load(&rt.runs) == 1 && rt.on_main);
    unblock();
    CHECK_STATUS(bg_wait(t, NULL), BG_OK);
    CHECK_STATUS(bg_task_release(t), BG_OK);
    /* A zero timeout on a task a worker is running returns at once. */
    block(p);
    CHECK_STATUS(bg_wait_ex(the_blocker, 0, BG_WAIT_RUN_HERE, NULL), BG_ETIMEDOUT);
    unblock();

    /* Groups: an untimed wait runs the queued members here, by default and
     * as the flag that names the default asks... */
    block(p);
    struct rec g8[8] = {{0}};
    bg_group *g = NULL;
    const uint32_t runs_here[2] = {BG_GROUP_DEFAULT, BG_GROUP_CALLER_RUNS};
    for (int k = 0; k < 2; k++) {
        CHECK_STATUS(bg_group_new(p, runs_here[k], &g), BG_OK);
        for (int i = 0; i < 8; i++) {
            memset(&g8[i], 0, sizeof g8[i]);
            CHECK_STATUS(bg_group_submit(g, record, &g8[i], NULL, NULL), BG_OK);
        }
        CHECK_STATUS(bg_group_wait(g, BG_FOREVER, NULL), BG_OK);
        for (int i = 0; i < 8; i++) CHECK(atomic_load(&g8[i].runs) == 1 && g8[i].on_main && g8[i].seen_pool == p);
        CHECK_STATUS(bg_group_free(g), BG_OK);
    }
    /* ...not for a group that opts out. */
    CHECK_STATUS(bg_group_new(p, BG_GROUP_NO_CALLER_RUNS, &g), BG_OK);
    for (int i = 0; i < 8; i++) {
        memset(&g8[i], 0, sizeof g8[i]);
        CHECK_STATUS(bg_group_submit(g, record, &g8[i], NULL, NULL), BG_OK);
    }
    pthread_t th;
    CHECK(pthread_create(&th, NULL, open_gate_later, NULL) == 0);
    CHECK_STATUS(bg_group_wait(g, BG_FOREVER, NULL), BG_OK);
    CHECK(pthread_join(th, NULL) == 0);
    for (int i = 0; i < 8; i++) CHECK(atomic_load(&g8[i].runs) == 1 && !g8[i].on_main);
    CHECK_STATUS(bg_group_free(g), BG_OK);
    unblock();

    /* A task run here that calls bg_join() joins on its own pool. */
    block(p);
    CHECK_STATUS(bg_pool_submit(p, joins, NULL, NULL, &t), BG_OK);
    CHECK_STATUS(bg_wait(t, NULL), BG_OK);
    CHECK_STATUS(bg_task_release(t), BG_OK);
    CHECK(a_pool == p && b_pool == p);
    unblock();

    /* A paused pool: the wait does not start the task either. */
    CHECK_STATUS(bg_pool_pause(p), BG_OK);
    struct rec rp = {0};
    CHECK_STATUS(bg_pool_submit(p, record, &rp, NULL, &t), BG_OK);
    CHECK(pthread_create(&th, NULL, resume_later, p) == 0);
    CHECK_STATUS(bg_wait(t, NULL), BG_OK);
    CHECK(pthread_join(th, NULL) == 0);
    CHECK(!rp.on_main);
    CHECK_STATUS(bg_task_release(t), BG_OK);

    CHECK_STATUS(bg_pool_free(p), BG_OK);

    /* A task run here is refused an idle wait or a shutdown of its own
     * pool, as on a worker (the shutdown's close has begun, as there). */
    p = blocked_pool(NULL);
    CHECK_STATUS(bg_pool_submit(p, own_pool_calls, p, NULL, &t), BG_OK);
    CHECK_STATUS(bg_wait(t, NULL), BG_OK);
    CHECK_STATUS(bg_task_release(t), BG_OK);
    CHECK(own_idle == BG_EDEADLK && own_shutdown == BG_EDEADLK);
    unblock();
    CHECK_STATUS(bg_pool_free(p), BG_OK);

    /* A pool with thread hooks keeps its tasks on its workers. */
    p = blocked_pool(hook);
    r = wait_blocked(p, BG_WAIT_HELP, 1);
    CHECK(!r.on_main);
    unblock();
    CHECK_STATUS(bg_pool_free(p), BG_OK);

    /* Races with workers and bg_cancel: exactly once. */
    bg_pool_options o;
    bg_pool_options_init(&o);
    o.threads = 2;
    CHECK_STATUS(bg_pool_new(&o, &p), BG_OK);
    for (int round = 0; round < 5; round++) {
        for (int i = 0; i < RACE_N; i++) {
            atomic_store(&race_runs[i], 0);
            atomic_store(&race_drops[i], 0);
            CHECK_STATUS(bg_pool_submit(p, race_run, (void *)(intptr_t)i, race_drop, &race_tasks[i]), BG_OK);
        }
        CHECK(pthread_create(&th, NULL, canceller, NULL) == 0);
        for (int i = 0; i < RACE_N; i++) {
            bg_status s = i % 2 ? bg_wait(race_tasks[i], NULL)
                                : bg_wait_ex(race_tasks[i], BG_FOREVER, BG_WAIT_RUN_HERE, NULL);
            CHECK(s == BG_OK || s == BG_ECANCELLED);
        }
        CHECK(pthread_join(th, NULL) == 0);
        for (int i = 0; i < RACE_N; i++) {
            CHECK(atomic_load(&race_runs[i]) + atomic_load(&race_drops[i]) == 1);
            CHECK_STATUS(bg_task_release(race_tasks[i]), BG_OK);
        }
    }
    /* Every task counted once: run (by a worker or a waiter) or cancelled. */
    CHECK_STATUS(bg_pool_shutdown(p, BG_SHUTDOWN_DRAIN, TEST_TIMEOUT_NS), BG_OK);
    bg_stats st;
    CHECK_STATUS(bg_pool_stats(p, &st), BG_OK);
    CHECK(st.completed + st.cancelled == 5u * RACE_N);
    CHECK_STATUS(bg_pool_free(p), BG_OK);
    printf("ok\n");
    return 0;
}
