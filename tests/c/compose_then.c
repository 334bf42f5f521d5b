/* Continuations from C: the task's status and result are passed on; a
 * continuation attached before or after its task ends, from several
 * threads at once, runs exactly once; chains; cancellation and shutdown
 * run its drop exactly once instead. */
#include "check.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#define PRODUCERS 4
#define PER_PRODUCER 400

static bg_pool *pool;
static atomic_int task_runs, then_runs, then_drops, wrong;

static int task_fn(void *arg) {
    atomic_fetch_add(&task_runs, 1);
    return (int)((intptr_t)arg % 3);
}

/* Checks it is given what task_fn(arg) returned; returns that + 100. */
static int then_fn(void *arg, bg_status status, int result) {
    int want = (int)((intptr_t)arg % 3);
    if (result != want || status != (want ? BG_EFAILED : BG_OK)) atomic_fetch_add(&wrong, 1);
    atomic_fetch_add(&then_runs, 1);
    return result + 100;
}

static void then_drop(void *arg) {
    (void)arg;
    atomic_fetch_add(&then_drops, 1);
}

static void *producer(void *unused) {
    (void)unused;
    bg_task *tasks[PER_PRODUCER], *conts[PER_PRODUCER];
    for (intptr_t i = 0; i < PER_PRODUCER; i++) {
        CHECK_STATUS(bg_pool_submit(pool, task_fn, (void *)i, NULL, &tasks[i]), BG_OK);
        if (i % 2) {
            /* Half the continuations are attached to tasks that already ended. */
            bg_status s = bg_wait_timeout(tasks[i], TEST_TIMEOUT_NS, NULL);
            CHECK(s == BG_OK || s == BG_EFAILED);
        }
        CHECK_STATUS(bg_then(tasks[i], then_fn, (void *)i, then_drop, &conts[i]), BG_OK);
    }
    for (intptr_t i = 0; i < PER_PRODUCER; i++) {
        int rc = -1;
        CHECK_STATUS(bg_wait_timeout(conts[i], TEST_TIMEOUT_NS, &rc), BG_EFAILED);
        CHECK(rc == (int)(i % 3) + 100);
        CHECK_STATUS(bg_task_release(conts[i]), BG_OK);
        CHECK_STATUS(bg_task_release(tasks[i]), BG_OK);
    }
    return NULL;
}

static int add_one(void *arg, bg_status status, int result) {
    (void)arg;
    return status == BG_EFAILED || status == BG_OK ? result + 1 : -1000;
}

static atomic_int gate_open;
static int blocker_fn(void *arg) {
    atomic_store((atomic_int *)arg, 1);
    while (!atomic_load(&gate_open)) sleep_ms(1);
    return 0;
}

static bg_status seen_status = BG_EPANIC;
static int record_status(void *arg, bg_status status, int result) {
    (void)arg;
    (void)result;
    seen_status = status;
    return 0;
}

static void *shutdown_cancel(void *p) {
    return (void *)(intptr_t)bg_pool_shutdown(p, BG_SHUTDOWN_CANCEL, TEST_TIMEOUT_NS);
}

int main(void) {
    bg_pool_options o;
    bg_pool_options_init(&o);
    o.threads = 2;
    CHECK_STATUS(bg_pool_new(&o, &pool), BG_OK);

    /* Several threads attach continuations while tasks end. */
    pthread_t th[PRODUCERS];
    for (int i = 0; i < PRODUCERS; i++) pthread_create(&th[i], NULL, producer, NULL);
    for (int i = 0; i < PRODUCERS; i++) pthread_join(th[i], NULL);
    CHECK(atomic_load(&task_runs) == PRODUCERS * PER_PRODUCER);
    CHECK(atomic_load(&then_runs) == PRODUCERS * PER_PRODUCER);
    CHECK(atomic_load(&then_drops) == 0);
    CHECK(atomic_load(&wrong) == 0);

    /* A chain of 100 continuations, each adding one to the previous result. */
    bg_task *head;
    CHECK_STATUS(bg_pool_submit(pool, task_fn, (void *)(intptr_t)3, NULL, &head), BG_OK);
    bg_task *link = bg_task_retain(head);
    for (int i = 0; i < 100; i++) {
        bg_task *next;
        CHECK_STATUS(bg_then(link, add_one, NULL, NULL, &next), BG_OK);
        CHECK_STATUS(bg_task_release(link), BG_OK);
        link = next;
    }
    int rc = -1;
    CHECK_STATUS(bg_wait_timeout(link, TEST_TIMEOUT_NS, &rc), BG_EFAILED);
    CHECK(rc == 100);
    CHECK_STATUS(bg_task_release(link), BG_OK);
    CHECK_STATUS(bg_task_release(head), BG_OK);
    CHECK_STATUS(bg_then(NULL, add_one, NULL, NULL, NULL), BG_EINVAL);
    CHECK_STATUS(bg_pool_free(pool), BG_OK);

    /* One worker, blocked: a cancelled task passes BG_ECANCELLED on, and a
     * continuation cancelled while it waits never runs (drop once). */
    o.threads = 1;
    o.max_threads = 1; /* the blocker holds the pool: no spare thread stands in */
    CHECK_STATUS(bg_pool_new(&o, &pool), BG_OK);
    atomic_int started = 0;
    bg_task *blocker, *victim, *seen, *waiting;
    CHECK_STATUS(bg_pool_submit(pool, blocker_fn, &started, NULL, &blocker), BG_OK);
    while (!atomic_load(&started)) sleep_ms(1);
    CHECK_STATUS(bg_pool_submit(pool, task_fn, NULL, NULL, &victim), BG_OK);
    CHECK_STATUS(bg_then(victim, record_status, NULL, NULL, &seen), BG_OK);
    CHECK_STATUS(bg_then(blocker, then_fn, NULL, then_drop, &waiting), BG_OK);
    CHECK_STATUS(bg_cancel(waiting), BG_OK);
    CHECK(atomic_load(&then_drops) == 1);
    CHECK_STATUS(bg_cancel(victim), BG_OK);

    /* A continuation falling due while the pool shuts down in cancel mode
     * is dropped (drop once, BG_ESHUTDOWN), never lost. */
    bg_task *late;
    int runs_before = atomic_load(&then_runs);
    CHECK_STATUS(bg_then(blocker, then_fn, NULL, then_drop, &late), BG_OK);
    pthread_t closer;
    pthread_create(&closer, NULL, shutdown_cancel, pool);
    while (bg_pool_submit(pool, task_fn, NULL, NULL, NULL) != BG_ESHUTDOWN) sleep_ms(1);
    atomic_store(&gate_open, 1);
    void *closed;
    pthread_join(closer, &closed);
    CHECK((bg_status)(intptr_t)closed == BG_OK);
    CHECK_STATUS(bg_wait_timeout(late, TEST_TIMEOUT_NS, NULL), BG_ESHUTDOWN);
    CHECK_STATUS(bg_wait_timeout(waiting, TEST_TIMEOUT_NS, NULL), BG_ECANCELLED);
    CHECK(atomic_load(&then_drops) == 2);
    CHECK(atomic_load(&then_runs) == runs_before);
    /* `seen` was queued behind the blocker: the cancel shutdown dropped it. */
    CHECK_STATUS(bg_wait_timeout(seen, TEST_TIMEOUT_NS, NULL), BG_ESHUTDOWN);
    CHECK(seen_status == BG_EPANIC);
    CHECK_STATUS(bg_then(blocker, then_fn, NULL, then_drop, NULL), BG_ESHUTDOWN);

    bg_task *all[] = {blocker, victim, seen, waiting, late};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) CHECK_STATUS(bg_task_release(all[i]), BG_OK);
    CHECK_STATUS(bg_pool_free(pool), BG_OK);
    return 0;
}
