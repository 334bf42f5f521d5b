/* A long bg_then chain whose head never runs must end without recursion
 * (issue 18, item 3): each refused continuation used to be cancelled inline,
 * which fired the next link on the same stack, so 100,000 links (10,000
 * built on a worker's smaller stack) overflowed it. Three ways the head ends
 * unrun: cancelled after the pool closed, dropped by a cancel shutdown, and
 * (on a worker) cancelled while the pool still runs. Every link's drop must
 * run exactly once.
 *
 * bg-test: no-valgrind (100,000 links x 3 scenarios take minutes under valgrind; ASan covers memory) */
#include <stdatomic.h>
#include "check.h"

#define LINKS 100000
#define WORKER_LINKS 10000

static atomic_long drops, runs;

static int never(void *arg) {
    (void)arg;
    return 0;
}
static int step(void *arg, bg_status st, int result) {
    (void)arg, (void)st, (void)result;
    atomic_fetch_add(&runs, 1);
    return 0;
}
static void count_drop(void *arg) {
    (void)arg;
    atomic_fetch_add(&drops, 1);
}

/* Chains `n` continuations on `head`; releases every link's handle. */
static void chain(bg_task *head, long n) {
    bg_task *t = head;
    for (long i = 0; i < n; i++) {
        bg_task *next = NULL;
        CHECK_STATUS(bg_then(t, step, NULL, count_drop, &next), BG_OK);
        if (t != head) CHECK_STATUS(bg_task_release(t), BG_OK);
        t = next;
    }
    CHECK_STATUS(bg_task_release(t), BG_OK);
}

static bg_pool *one_thread_pool(void) {
    bg_pool_options o;
    bg_pool_options_init(&o);
    o.threads = 1;
    o.max_threads = 1; /* no spare runs the queued head while the worker blocks */
    bg_pool *p = NULL;
    CHECK_STATUS(bg_pool_new(&o, &p), BG_OK);
    return p;
}

/* Holds the only worker until told to go, so the head stays queued. */
struct gate {
    atomic_int started, go;
};
static int block(void *arg) {
    struct gate *g = arg;
    atomic_store(&g->started, 1);
    while (!atomic_load(&g->go)) sleep_ms(1);
    return 0;
}
/* Queues the blocker and waits until it holds the worker. */
static void hold(bg_pool *p, struct gate *g) {
    CHECK_STATUS(bg_pool_submit(p, block, g, NULL, NULL), BG_OK);
    while (!atomic_load(&g->started)) sleep_ms(1);
}

/* The head queued behind a blocker, cancelled after the pool closed. */
static void cancel_after_close(void) {
    bg_pool *p = one_thread_pool();
    struct gate g = {0, 0};
    hold(p, &g);
    bg_task *head = NULL;
    CHECK_STATUS(bg_pool_submit(p, never, NULL, NULL, &head), BG_OK);
    chain(head, LINKS);
    CHECK_STATUS(bg_pool_shutdown(p, BG_SHUTDOWN_CANCEL, 0), BG_ETIMEDOUT);
    CHECK_STATUS(bg_cancel(head), BG_OK);
    atomic_store(&g.go, 1);
    CHECK_STATUS(bg_pool_shutdown(p, BG_SHUTDOWN_CANCEL, TEST_TIMEOUT_NS), BG_OK);
    CHECK_STATUS(bg_task_release(head), BG_OK);
    CHECK_STATUS(bg_pool_free(p), BG_OK);
}

/* The head dropped by a cancel shutdown's sweep. */
static void cancel_shutdown(void) {
    bg_pool *p = one_thread_pool();
    struct gate g = {0, 0};
    hold(p, &g);
    bg_task *head = NULL;
    CHECK_STATUS(bg_pool_submit(p, never, NULL, NULL, &head), BG_OK);
    chain(head, LINKS);
    CHECK_STATUS(bg_task_release(head), BG_OK);
    CHECK_STATUS(bg_pool_shutdown(p, BG_SHUTDOWN_CANCEL, 0), BG_ETIMEDOUT);
    atomic_store(&g.go, 1);
    CHECK_STATUS(bg_pool_shutdown(p, BG_SHUTDOWN_CANCEL, TEST_TIMEOUT_NS), BG_OK);
    CHECK_STATUS(bg_pool_free(p), BG_OK);
}

/* On a worker: a closed pool refuses the links as the cancelled head ends. */
static bg_pool *target;
static int on_worker(void *arg) {
    (void)arg;
    static struct gate g; /* outlives this task: the blocker reads it later */
    hold(target, &g);
    bg_task *head = NULL;
    CHECK_STATUS(bg_pool_submit(target, never, NULL, NULL, &head), BG_OK);
    chain(head, WORKER_LINKS);
    CHECK_STATUS(bg_pool_shutdown(target, BG_SHUTDOWN_CANCEL, 0), BG_ETIMEDOUT);
    CHECK_STATUS(bg_cancel(head), BG_OK);
    atomic_store(&g.go, 1);
    CHECK_STATUS(bg_task_release(head), BG_OK);
    return 0;
}
static void on_a_worker(void) {
    bg_pool *runner = one_thread_pool();
    target = one_thread_pool();
    bg_task *t = NULL;
    CHECK_STATUS(bg_pool_submit(runner, on_worker, NULL, NULL, &t), BG_OK);
    CHECK_STATUS(bg_wait_timeout(t, 60ull * 1000 * 1000 * 1000, NULL), BG_OK);
    CHECK_STATUS(bg_task_release(t), BG_OK);
    CHECK_STATUS(bg_pool_shutdown(target, BG_SHUTDOWN_CANCEL, TEST_TIMEOUT_NS), BG_OK);
    CHECK_STATUS(bg_pool_free(target), BG_OK);
    CHECK_STATUS(bg_pool_free(runner), BG_OK);
}

int main(void) {
    cancel_after_close();
    CHECK(atomic_load(&drops) == LINKS && atomic_load(&runs) == 0);
    cancel_shutdown();
    CHECK(atomic_load(&drops) == 2 * LINKS && atomic_load(&runs) == 0);
    on_a_worker();
    CHECK(atomic_load(&drops) == 2 * LINKS + WORKER_LINKS && atomic_load(&runs) == 0);
    return 0;
}
