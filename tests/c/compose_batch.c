/* Batches from C (Starlette's BackgroundTasks): nothing runs until the
 * batch is submitted; tasks run in insertion order; stop-on-error drops
 * the rest exactly once; run-all records each status; a discarded or
 * cancelled batch runs every drop; batches from several threads at once. */
#include "check.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#define THREADS 4
#define BATCHES 50
#define ITEMS 20

static bg_pool *pool;
static atomic_int runs, drops, disorders;

/* Each batch's items check they run in insertion order. */
typedef struct {
    int next;
} order;

typedef struct {
    order *o;
    int index, code;
} item;

static item items[THREADS][BATCHES][ITEMS];
static order orders[THREADS][BATCHES];

static int item_fn(void *arg) {
    item *it = arg;
    if (it->o && it->o->next++ != it->index) atomic_fetch_add(&disorders, 1);
    atomic_fetch_add(&runs, 1);
    return it->code;
}

static void item_drop(void *arg) {
    (void)arg;
    atomic_fetch_add(&drops, 1);
}

static bg_batch *make(item *its, order *o, int n, int fail_at) {
    bg_batch *b;
    CHECK_STATUS(bg_batch_new(&b), BG_OK);
    for (int i = 0; i < n; i++) {
        its[i] = (item){o, i, i == fail_at ? 100 + i : 0};
        CHECK_STATUS(bg_batch_add(b, item_fn, &its[i], item_drop), BG_OK);
    }
    CHECK(bg_batch_size(b) == (size_t)n);
    return b;
}

static void *producer(void *arg) {
    int me = (int)(intptr_t)arg;
    for (int k = 0; k < BATCHES; k++) {
        int fail_at = k % 3 == 0 ? k % ITEMS : -1;
        uint32_t policy = k % 2 ? BG_BATCH_RUN_ALL : BG_BATCH_STOP_ON_ERROR;
        bg_batch *b = make(items[me][k], &orders[me][k], ITEMS, fail_at);
        bg_task *t;
        CHECK_STATUS(bg_batch_submit(b, pool, policy, &t), BG_OK);
        int rc = 0;
        bg_status s = bg_wait_timeout(t, TEST_TIMEOUT_NS, &rc);
        if (fail_at < 0) {
            CHECK_STATUS(s, BG_OK);
        } else {
            CHECK_STATUS(s, BG_EFAILED);
            CHECK(rc == 100 + fail_at);
        }
        for (int i = 0; i < ITEMS; i++) {
            int code = -1;
            bg_status is = bg_batch_status(b, (size_t)i, &code);
            if (i == fail_at) {
                CHECK_STATUS(is, BG_EFAILED);
                CHECK(code == 100 + i);
            } else if (fail_at >= 0 && i > fail_at && policy == BG_BATCH_STOP_ON_ERROR) {
                CHECK_STATUS(is, BG_ECANCELLED);
            } else {
                CHECK_STATUS(is, BG_OK);
            }
        }
        CHECK_STATUS(bg_batch_status(b, ITEMS, NULL), BG_EINVAL);
        CHECK_STATUS(bg_task_release(t), BG_OK);
        CHECK_STATUS(bg_batch_free(b), BG_OK);
    }
    return NULL;
}

static atomic_int gate_open;
static int blocker_fn(void *arg) {
    atomic_store((atomic_int *)arg, 1);
    while (!atomic_load(&gate_open)) sleep_ms(1);
    return 0;
}

int main(void) {
    bg_pool_options o;
    bg_pool_options_init(&o);
    o.threads = 2;
    CHECK_STATUS(bg_pool_new(&o, &pool), BG_OK);

    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++) pthread_create(&th[i], NULL, producer, (void *)(intptr_t)i);
    for (int i = 0; i < THREADS; i++) pthread_join(th[i], NULL);
    CHECK(atomic_load(&disorders) == 0);
    /* Every item ran once, or (after a failure under stop-on-error) was dropped once. */
    int expect_dropped = 0;
    for (int k = 0; k < BATCHES; k++)
        if (k % 3 == 0 && k % 2 == 0) expect_dropped += ITEMS - 1 - k % ITEMS;
    CHECK(atomic_load(&drops) == THREADS * expect_dropped);
    CHECK(atomic_load(&runs) == THREADS * (BATCHES * ITEMS - expect_dropped));
    CHECK_STATUS(bg_pool_free(pool), BG_OK);

    /* Discarded before submission: nothing runs, every drop runs. */
    atomic_store(&runs, 0);
    atomic_store(&drops, 0);
    item local[ITEMS];
    bg_batch *b = make(local, NULL, ITEMS, -1);
    CHECK_STATUS(bg_batch_status(b, 0, NULL), BG_ERUNNING);
    CHECK_STATUS(bg_batch_free(b), BG_OK);
    CHECK(atomic_load(&runs) == 0 && atomic_load(&drops) == ITEMS);

    /* Cancelled before it starts: the same. Submitted once only. */
    o.threads = 1;
    o.max_threads = 1; /* the blocker holds the pool: no spare thread stands in */
    CHECK_STATUS(bg_pool_new(&o, &pool), BG_OK);
    atomic_int started = 0;
    bg_task *blocker, *t, *t2;
    CHECK_STATUS(bg_pool_submit(pool, blocker_fn, &started, NULL, &blocker), BG_OK);
    while (!atomic_load(&started)) sleep_ms(1);
    b = make(local, NULL, ITEMS, -1);
    CHECK_STATUS(bg_batch_submit(b, pool, BG_BATCH_RUN_ALL, &t), BG_OK);
    CHECK_STATUS(bg_batch_submit(b, pool, BG_BATCH_RUN_ALL, &t2), BG_EINVAL);
    CHECK_STATUS(bg_batch_add(b, item_fn, &local[0], item_drop), BG_EINVAL);
    CHECK_STATUS(bg_batch_status(b, 0, NULL), BG_ERUNNING);
    CHECK_STATUS(bg_cancel(t), BG_OK);
    CHECK(atomic_load(&runs) == 0 && atomic_load(&drops) == 2 * ITEMS);
    CHECK_STATUS(bg_batch_status(b, ITEMS - 1, NULL), BG_ECANCELLED);
    CHECK_STATUS(bg_wait_timeout(t, TEST_TIMEOUT_NS, NULL), BG_ECANCELLED);
    CHECK_STATUS(bg_task_release(t), BG_OK);
    CHECK_STATUS(bg_batch_free(b), BG_OK);

    /* Freed while it waits to run: it still runs, then goes away. */
    b = make(local, NULL, ITEMS, -1);
    CHECK_STATUS(bg_batch_submit(b, pool, BG_BATCH_STOP_ON_ERROR, &t), BG_OK);
    CHECK_STATUS(bg_batch_free(b), BG_OK);
    atomic_store(&gate_open, 1);
    CHECK_STATUS(bg_wait_timeout(t, TEST_TIMEOUT_NS, NULL), BG_OK);
    CHECK(atomic_load(&runs) == ITEMS);
    CHECK_STATUS(bg_task_release(t), BG_OK);
    CHECK_STATUS(bg_task_release(blocker), BG_OK);
    CHECK_STATUS(bg_batch_new(NULL), BG_EINVAL);
    CHECK(bg_batch_size(NULL) == 0);
    CHECK_STATUS(bg_pool_free(pool), BG_OK);
    return 0;
}
