/* Delayed tasks from C (dispatch_after): a task never runs before its
 * delay; several threads submit delayed tasks and cancel half of them
 * while they wait: each runs once or is dropped once; shutdown drops the
 * ones not yet due. */
#include "check.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#define PRODUCERS 4
#define PER_PRODUCER 250
#define MS 1000000ull

static bg_pool *pool;
static atomic_int runs, drops, early;

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* arg: the earliest time the task may run. */
static int due_fn(void *arg) {
    if (now_ns() < (uint64_t)(uintptr_t)arg) atomic_fetch_add(&early, 1);
    atomic_fetch_add(&runs, 1);
    return 0;
}

static void count_drop(void *arg) {
    (void)arg;
    atomic_fetch_add(&drops, 1);
}

static void *producer(void *unused) {
    (void)unused;
    bg_task *t[PER_PRODUCER];
    for (int i = 0; i < PER_PRODUCER; i++) {
        uint64_t delay = (uint64_t)(i % 20) * MS;
        uint64_t due = now_ns() + delay;
        CHECK_STATUS(bg_pool_submit_after(pool, delay, due_fn, (void *)(uintptr_t)due, count_drop, &t[i]), BG_OK);
    }
    int cancelled = 0;
    for (int i = 0; i < PER_PRODUCER; i += 2) {
        bg_status s = bg_cancel(t[i]);
        CHECK(s == BG_OK || s == BG_ERUNNING || s == BG_EDONE);
        cancelled += s == BG_OK;
    }
    int ran = 0;
    for (int i = 0; i < PER_PRODUCER; i++) {
        bg_status s = bg_wait_timeout(t[i], TEST_TIMEOUT_NS, NULL);
        CHECK(s == BG_OK || (s == BG_ECANCELLED && i % 2 == 0));
        ran += s == BG_OK;
        CHECK_STATUS(bg_task_release(t[i]), BG_OK);
    }
    CHECK(ran + cancelled == PER_PRODUCER);
    return NULL;
}

static int order[3], order_n;
static pthread_mutex_t order_lock = PTHREAD_MUTEX_INITIALIZER;
static int record(void *arg) {
    pthread_mutex_lock(&order_lock);
    order[order_n++] = (int)(intptr_t)arg;
    pthread_mutex_unlock(&order_lock);
    return 0;
}

int main(void) {
    bg_pool_options o;
    bg_pool_options_init(&o);
    o.threads = 2;
    CHECK_STATUS(bg_pool_new(&o, &pool), BG_OK);

    pthread_t th[PRODUCERS];
    for (int i = 0; i < PRODUCERS; i++) pthread_create(&th[i], NULL, producer, NULL);
    for (int i = 0; i < PRODUCERS; i++) pthread_join(th[i], NULL);
    CHECK(atomic_load(&runs) + atomic_load(&drops) == PRODUCERS * PER_PRODUCER);
    CHECK(atomic_load(&early) == 0);

    /* Due order, whatever the submission order. */
    bg_task *t[3];
    int delays[3] = {30, 10, 20};
    for (int i = 0; i < 3; i++)
        CHECK_STATUS(bg_pool_submit_after(pool, (uint64_t)delays[i] * MS, record, (void *)(intptr_t)delays[i], NULL, &t[i]), BG_OK);
    for (int i = 0; i < 3; i++) {
        CHECK_STATUS(bg_wait_timeout(t[i], TEST_TIMEOUT_NS, NULL), BG_OK);
        CHECK_STATUS(bg_task_release(t[i]), BG_OK);
    }
    CHECK(order_n == 3 && order[0] == 10 && order[1] == 20 && order[2] == 30);

    /* Shutting down drops what is not yet due, handle or not. */
    atomic_store(&runs, 0);
    atomic_store(&drops, 0);
    bg_task *far;
    CHECK_STATUS(bg_pool_submit_after(pool, 3600ull * 1000 * MS, due_fn, NULL, count_drop, &far), BG_OK);
    CHECK_STATUS(bg_pool_submit_after(pool, 3600ull * 1000 * MS, due_fn, NULL, count_drop, NULL), BG_OK);
    CHECK_STATUS(bg_pool_shutdown(pool, BG_SHUTDOWN_DRAIN, TEST_TIMEOUT_NS), BG_OK);
    CHECK_STATUS(bg_wait_timeout(far, TEST_TIMEOUT_NS, NULL), BG_ESHUTDOWN);
    CHECK(atomic_load(&runs) == 0 && atomic_load(&drops) == 2);
    CHECK_STATUS(bg_pool_submit_after(pool, 0, due_fn, NULL, count_drop, NULL), BG_ESHUTDOWN);
    CHECK(atomic_load(&drops) == 2);
    CHECK_STATUS(bg_task_release(far), BG_OK);
    CHECK_STATUS(bg_pool_submit_after(pool, 0, NULL, NULL, NULL, NULL), BG_EINVAL);
    CHECK_STATUS(bg_pool_free(pool), BG_OK);
    return 0;
}
