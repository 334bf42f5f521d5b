/* Completion queues from C: producer threads submit thousands of tasks
 * with a queue while a consumer thread polls its fd and drains: every task
 * delivers exactly one record, with its status, result and user data; the
 * fd is readable exactly while records are pending; watching an ended
 * task delivers at once; freeing the queue with watches pending is safe. */
#include "check.h"

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#define PRODUCERS 4
#define PER_PRODUCER 500
#define TOTAL (PRODUCERS * PER_PRODUCER)

static bg_pool *pool;
static bg_cq *cq;
static unsigned char seen[TOTAL];

static int code_fn(void *arg) {
    return (int)((intptr_t)arg % 4);
}

static void *producer(void *arg) {
    intptr_t base = (intptr_t)arg * PER_PRODUCER;
    for (intptr_t i = base; i < base + PER_PRODUCER; i++) {
        bg_task *t = NULL;
        /* Half with a handle (released at once: the record still comes). */
        CHECK_STATUS(bg_cq_submit(cq, pool, code_fn, (void *)i, NULL, (void *)i, i % 2 ? &t : NULL), BG_OK);
        if (t) CHECK_STATUS(bg_task_release(t), BG_OK);
    }
    return NULL;
}

static int readable(int fd, int timeout_ms) {
    struct pollfd p = {fd, POLLIN, 0};
    return poll(&p, 1, timeout_ms) == 1;
}

static void *consumer(void *unused) {
    (void)unused;
    int got = 0;
    bg_completion recs[32];
    while (got < TOTAL) {
        CHECK(readable(bg_cq_fd(cq), 10000));
        size_t n = bg_cq_drain(cq, recs, 32);
        CHECK(n > 0); /* readable means something is pending */
        for (size_t r = 0; r < n; r++) {
            intptr_t i = (intptr_t)recs[r].user_data;
            CHECK(i >= 0 && i < TOTAL);
            seen[i]++;
            int code = (int)(i % 4);
            CHECK(recs[r].status == (code ? BG_EFAILED : BG_OK));
            CHECK(recs[r].result == code);
        }
        got += (int)n;
    }
    return NULL;
}

static atomic_int gate_open;
static int blocker_fn(void *arg) {
    atomic_fetch_add((atomic_int *)arg, 1);
    while (!atomic_load(&gate_open)) sleep_ms(1);
    return 0;
}

int main(void) {
    bg_pool_options o;
    bg_pool_options_init(&o);
    o.threads = 2;
    /* No spare threads: the two blockers below must hold the pool, or on a
     * loaded machine a spare runs the victim before the cancel. */
    o.max_threads = 2;
    CHECK_STATUS(bg_pool_new(&o, &pool), BG_OK);
    CHECK_STATUS(bg_cq_new(&cq), BG_OK);
    CHECK(bg_cq_fd(cq) >= 0);
    CHECK(!readable(bg_cq_fd(cq), 0));

    pthread_t cons, prod[PRODUCERS];
    pthread_create(&cons, NULL, consumer, NULL);
    for (int i = 0; i < PRODUCERS; i++) pthread_create(&prod[i], NULL, producer, (void *)(intptr_t)i);
    for (int i = 0; i < PRODUCERS; i++) pthread_join(prod[i], NULL);
    pthread_join(cons, NULL);
    for (int i = 0; i < TOTAL; i++) CHECK(seen[i] == 1);
    CHECK(!readable(bg_cq_fd(cq), 0));
    bg_completion rec;
    CHECK(bg_cq_drain(cq, &rec, 1) == 0);

    /* Watching a task that already ended delivers at once; any handle works. */
    bg_task *t;
    CHECK_STATUS(bg_pool_submit(pool, code_fn, (void *)3, NULL, &t), BG_OK);
    CHECK_STATUS(bg_wait_timeout(t, TEST_TIMEOUT_NS, NULL), BG_EFAILED);
    CHECK_STATUS(bg_cq_watch(cq, t, (void *)77), BG_OK);
    CHECK(readable(bg_cq_fd(cq), 0));
    CHECK(bg_cq_drain(cq, &rec, 1) == 1);
    CHECK(rec.task == t && rec.status == BG_EFAILED && rec.result == 3 && rec.user_data == (void *)77);
    CHECK(!readable(bg_cq_fd(cq), 0));
    CHECK_STATUS(bg_task_release(t), BG_OK);

    /* A cancelled task's record says so (both workers blocked first). */
    atomic_int started = 0;
    bg_task *blocker, *victim;
    CHECK_STATUS(bg_pool_submit(pool, blocker_fn, &started, NULL, &blocker), BG_OK);
    CHECK_STATUS(bg_pool_submit(pool, blocker_fn, &started, NULL, &t), BG_OK);
    while (atomic_load(&started) < 2) sleep_ms(1);
    CHECK_STATUS(bg_cq_submit(cq, pool, code_fn, NULL, NULL, NULL, &victim), BG_OK);
    CHECK_STATUS(bg_cancel(victim), BG_OK);
    CHECK(bg_cq_drain(cq, &rec, 1) == 1);
    CHECK(rec.task == victim && rec.status == BG_ECANCELLED);

    /* Freed with watches pending: their records are dropped when they end. */
    CHECK_STATUS(bg_cq_watch(cq, blocker, NULL), BG_OK);
    CHECK_STATUS(bg_cq_watch(cq, t, NULL), BG_OK);
    CHECK_STATUS(bg_cq_free(cq), BG_OK);
    CHECK(bg_cq_fd(NULL) == -1);
    atomic_store(&gate_open, 1);
    CHECK_STATUS(bg_wait_timeout(blocker, TEST_TIMEOUT_NS, NULL), BG_OK);
    CHECK_STATUS(bg_wait_timeout(t, TEST_TIMEOUT_NS, NULL), BG_OK);
    CHECK_STATUS(bg_task_release(blocker), BG_OK);
    CHECK_STATUS(bg_task_release(t), BG_OK);
    CHECK_STATUS(bg_task_release(victim), BG_OK);
    CHECK_STATUS(bg_cq_new(NULL), BG_EINVAL);
    CHECK(bg_cq_drain(NULL, &rec, 1) == 0);
    CHECK_STATUS(bg_pool_free(pool), BG_OK);
    return 0;
}
