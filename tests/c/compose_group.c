/* Groups from C: many producers submit into one group; the wait sees every
 * task end and the first failure; cancel-on-error and bg_group_cancel drop
 * unstarted tasks exactly once; timeouts; waiting inside a task helps. */
#include "check.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#define PRODUCERS 4
#define PER_PRODUCER 500

static bg_pool *pool;
static bg_group *group;
static atomic_int runs, drops, refused;

static int count_fn(void *arg) {
    atomic_fetch_add(&runs, 1);
    return (int)(intptr_t)arg;
}

static void count_drop(void *arg) {
    (void)arg;
    atomic_fetch_add(&drops, 1);
}

/* Submits PER_PRODUCER tasks; refused ones (cancelled group) stay ours. */
static void *producer(void *code) {
    for (int i = 0; i < PER_PRODUCER; i++) {
        bg_status s = bg_group_submit(group, count_fn, code, count_drop, NULL);
        if (s == BG_ECANCELLED)
            atomic_fetch_add(&refused, 1);
        else
            CHECK_STATUS(s, BG_OK);
    }
    return NULL;
}

static void run_producers(void *code) {
    pthread_t th[PRODUCERS];
    for (int i = 0; i < PRODUCERS; i++) pthread_create(&th[i], NULL, producer, code);
    for (int i = 0; i < PRODUCERS; i++) pthread_join(th[i], NULL);
}

static atomic_int gate_open;
static int blocker_fn(void *arg) {
    atomic_store((atomic_int *)arg, 1);
    while (!atomic_load(&gate_open)) sleep_ms(1);
    return 0;
}

/* Inside a task: a group of subtasks, waited for on a one-thread pool. */
static int nested_fn(void *arg) {
    bg_group *g;
    CHECK_STATUS(bg_group_new(arg, BG_GROUP_DEFAULT, &g), BG_OK);
    for (intptr_t i = 0; i < 50; i++) CHECK_STATUS(bg_group_submit(g, count_fn, (void *)(intptr_t)(i == 7 ? 7 : 0), NULL, NULL), BG_OK);
    int first = 0;
    bg_status s = bg_group_wait(g, TEST_TIMEOUT_NS, &first);
    CHECK_STATUS(bg_group_free(g), BG_OK);
    return s == BG_EFAILED ? first : -1;
}

/* Rounds of four tasks, each waited for (with a bound: a hang fails). */
#define ROUNDS 3000
static void *rounds(void *unused) {
    (void)unused;
    for (int r = 0; r < ROUNDS; r++) {
        for (int i = 0; i < 4; i++) CHECK_STATUS(bg_group_submit(group, count_fn, NULL, NULL, NULL), BG_OK);
        CHECK_STATUS(bg_group_wait(group, TEST_TIMEOUT_NS, NULL), BG_OK);
    }
    return NULL;
}

int main(void) {
    bg_pool_options o;
    bg_pool_options_init(&o);
    o.threads = 2;
    CHECK_STATUS(bg_pool_new(&o, &pool), BG_OK);

    /* Thousands of tasks from four threads: every one runs, once. */
    CHECK_STATUS(bg_group_new(pool, BG_GROUP_DEFAULT, &group), BG_OK);
    CHECK_STATUS(bg_group_wait(group, 0, NULL), BG_OK);
    run_producers((void *)0);
    CHECK_STATUS(bg_group_wait(group, TEST_TIMEOUT_NS, NULL), BG_OK);
    CHECK(atomic_load(&runs) == PRODUCERS * PER_PRODUCER);
    /* Reusable: more tasks, one failing; the wait reports its code. */
    CHECK_STATUS(bg_group_submit(group, count_fn, (void *)42, NULL, NULL), BG_OK);
    int first = 0;
    CHECK_STATUS(bg_group_wait(group, TEST_TIMEOUT_NS, &first), BG_EFAILED);
    CHECK(first == 42);
    CHECK_STATUS(bg_group_free(group), BG_OK);

    /* Cancelling while producers submit: each task ran, or was dropped
     * once, or was refused (and stayed the producer's). */
    atomic_store(&runs, 0);
    CHECK_STATUS(bg_group_new(pool, BG_GROUP_DEFAULT, &group), BG_OK);
    pthread_t th[PRODUCERS];
    for (int i = 0; i < PRODUCERS; i++) pthread_create(&th[i], NULL, producer, (void *)0);
    sleep_ms(1);
    CHECK_STATUS(bg_group_cancel(group), BG_OK);
    for (int i = 0; i < PRODUCERS; i++) pthread_join(th[i], NULL);
    bg_status s = bg_group_wait(group, TEST_TIMEOUT_NS, NULL);
    CHECK(s == BG_ECANCELLED || (s == BG_OK && atomic_load(&drops) == 0));
    CHECK(atomic_load(&runs) + atomic_load(&drops) + atomic_load(&refused) == PRODUCERS * PER_PRODUCER);
    CHECK_STATUS(bg_group_submit(group, count_fn, NULL, NULL, NULL), BG_ECANCELLED);
    CHECK_STATUS(bg_group_free(group), BG_OK);
    CHECK_STATUS(bg_pool_free(pool), BG_OK);

    /* One blocked worker (no spare stands in for it): the first task
     * fails, so the rest never run. */
    o.threads = 1;
    o.max_threads = 1;
    CHECK_STATUS(bg_pool_new(&o, &pool), BG_OK);
    atomic_store(&runs, 0);
    atomic_store(&drops, 0);
    atomic_int started = 0;
    bg_task *blocker;
    CHECK_STATUS(bg_pool_submit(pool, blocker_fn, &started, NULL, &blocker), BG_OK);
    while (!atomic_load(&started)) sleep_ms(1);
    CHECK_STATUS(bg_group_new(pool, BG_GROUP_CANCEL_ON_ERROR, &group), BG_OK);
    CHECK_STATUS(bg_group_submit(group, count_fn, (void *)5, count_drop, NULL), BG_OK);
    bg_task *handles[100];
    for (int i = 0; i < 100; i++) CHECK_STATUS(bg_group_submit(group, count_fn, NULL, count_drop, &handles[i]), BG_OK);
    CHECK_STATUS(bg_group_wait(group, 1000000, NULL), BG_ETIMEDOUT);
    atomic_store(&gate_open, 1);
    CHECK_STATUS(bg_group_wait(group, TEST_TIMEOUT_NS, &first), BG_EFAILED);
    CHECK(first == 5);
    CHECK(atomic_load(&runs) == 1);
    CHECK(atomic_load(&drops) == 100);
    for (int i = 0; i < 100; i++) {
        CHECK_STATUS(bg_wait_timeout(handles[i], TEST_TIMEOUT_NS, NULL), BG_ECANCELLED);
        CHECK_STATUS(bg_task_release(handles[i]), BG_OK);
    }
    CHECK_STATUS(bg_group_free(group), BG_OK);
    CHECK_STATUS(bg_task_release(blocker), BG_OK);

    /* A task waiting for its own group helps run it, even on one thread. */
    bg_task *nested;
    CHECK_STATUS(bg_pool_submit(pool, nested_fn, pool, NULL, &nested), BG_OK);
    int rc = 0;
    CHECK_STATUS(bg_wait_timeout(nested, TEST_TIMEOUT_NS, &rc), BG_EFAILED);
    CHECK(rc == 7);
    CHECK_STATUS(bg_task_release(nested), BG_OK);

    /* Freed while its tasks wait behind a blocker: they still run, each
     * once, and the group outlives bg_group_free() until the last of them
     * has ended (ASan and valgrind check that last step). */
    atomic_store(&gate_open, 0);
    atomic_store(&started, 0);
    atomic_store(&runs, 0);
    CHECK_STATUS(bg_pool_submit(pool, blocker_fn, &started, NULL, &blocker), BG_OK);
    while (!atomic_load(&started)) sleep_ms(1);
    CHECK_STATUS(bg_group_new(pool, BG_GROUP_CALLER_RUNS, &group), BG_OK);
    for (int i = 0; i < 20; i++) CHECK_STATUS(bg_group_submit(group, count_fn, NULL, count_drop, NULL), BG_OK);
    CHECK_STATUS(bg_group_free(group), BG_OK);
    atomic_store(&gate_open, 1);
    CHECK_STATUS(bg_wait_timeout(blocker, TEST_TIMEOUT_NS, NULL), BG_OK);
    CHECK_STATUS(bg_task_release(blocker), BG_OK);
    for (int i = 0; i < 5000 && atomic_load(&runs) < 20; i++) sleep_ms(1);
    CHECK(atomic_load(&runs) == 20);
    CHECK_STATUS(bg_pool_free(pool), BG_OK);

    /* Rounds waited for from two threads at once on one group, each
     * submitting its own: a round that ends while the other thread submits
     * wakes its waiter (a missed end would time out). */
    o.threads = 2;
    o.max_threads = 0;
    CHECK_STATUS(bg_pool_new(&o, &pool), BG_OK);
    CHECK_STATUS(bg_group_new(pool, BG_GROUP_CALLER_RUNS, &group), BG_OK);
    atomic_store(&runs, 0);
    pthread_t rounders[2];
    for (int i = 0; i < 2; i++) pthread_create(&rounders[i], NULL, rounds, NULL);
    for (int i = 0; i < 2; i++) pthread_join(rounders[i], NULL);
    CHECK(atomic_load(&runs) == 2 * ROUNDS * 4);
    CHECK_STATUS(bg_group_free(group), BG_OK);

    CHECK_STATUS(bg_group_new(NULL, 0, &group), BG_EINVAL);
    CHECK_STATUS(bg_group_new(pool, 8, &group), BG_EINVAL);
    CHECK_STATUS(bg_group_new(pool, BG_GROUP_CALLER_RUNS | BG_GROUP_NO_CALLER_RUNS, &group), BG_EINVAL);
    CHECK_STATUS(bg_group_wait(NULL, 0, NULL), BG_EINVAL);
    CHECK_STATUS(bg_pool_free(pool), BG_OK);
    return 0;
}
