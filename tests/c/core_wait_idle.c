/* bg_pool_wait_idle: returns once nothing is queued or running, leaves the
 * pool open; times out while a task runs; BG_EDEADLK from a worker.
 * bg_pool_submit_wait / BG_SUBMIT_WAIT: wait for room in a full pool,
 * time out (nothing queued, arg still the caller's), or get in once a
 * worker takes a queued task. Also bg_submit_options' size checks. */
#include "check.h"

#include <stdatomic.h>
#include <stdint.h>

static atomic_int ran, gate, started;
static int slow(void *arg) {
    (void)arg;
    if (atomic_fetch_add(&ran, 1) % 50 == 0) sleep_ms(1);
    return 0;
}
static int blocker(void *arg) {
    (void)arg;
    atomic_fetch_add(&started, 1);
    while (!atomic_load(&gate)) sleep_ms(1);
    return 0;
}
static bg_pool *pool;
static int from_worker(void *arg) {
    (void)arg;
    return (int)bg_pool_wait_idle(pool, 0);
}
static void *opener(void *arg) {
    (void)arg;
    sleep_ms(30);
    atomic_store(&gate, 1);
    return NULL;
}

#include <pthread.h>

int main(void) {
    bg_pool_options po;
    bg_pool_options_init(&po);
    po.threads = 3;
    CHECK_STATUS(bg_pool_new(&po, &pool), BG_OK);
    CHECK_STATUS(bg_pool_wait_idle(pool, 0), BG_OK); /* a fresh pool is idle */
    for (int round = 0; round < 3; round++) {
        atomic_store(&ran, 0);
        for (int i = 0; i < 2000; i++) CHECK_STATUS(bg_pool_submit(pool, slow, NULL, NULL, NULL), BG_OK);
        CHECK_STATUS(bg_pool_wait_idle(pool, TEST_TIMEOUT_NS), BG_OK);
        CHECK(atomic_load(&ran) == 2000); /* every task ran by then */
    }
    bg_task *t;
    CHECK_STATUS(bg_pool_submit(pool, from_worker, NULL, NULL, &t), BG_OK);
    int code = 0;
    CHECK_STATUS(bg_wait(t, &code), BG_EFAILED);
    CHECK(code == BG_EDEADLK);
    bg_task_release(t);
    CHECK_STATUS(bg_pool_submit(pool, blocker, NULL, NULL, NULL), BG_OK);
    CHECK_STATUS(bg_pool_wait_idle(pool, 20 * 1000 * 1000), BG_ETIMEDOUT);
    atomic_store(&gate, 1);
    CHECK_STATUS(bg_pool_wait_idle(pool, TEST_TIMEOUT_NS), BG_OK);
    CHECK_STATUS(bg_pool_wait_idle(NULL, 0), BG_EINVAL);
    CHECK_STATUS(bg_pool_free(pool), BG_OK);

    /* Tasks a spare thread runs (standing in for a blocked worker) end too:
     * the pool is idle once they and the blocker are done. */
    po.threads = 1;
    CHECK_STATUS(bg_pool_new(&po, &pool), BG_OK);
    atomic_store(&gate, 0);
    atomic_store(&started, 0);
    atomic_store(&ran, 1); /* slow() does not sleep: only the blocker blocks */
    CHECK_STATUS(bg_pool_submit(pool, blocker, NULL, NULL, NULL), BG_OK);
    while (!atomic_load(&started)) sleep_ms(1);
    for (int i = 0; i < 20; i++) CHECK_STATUS(bg_pool_submit(pool, slow, NULL, NULL, NULL), BG_OK);
    for (int i = 0; i < 10 * 1000 && atomic_load(&ran) < 21; i++) sleep_ms(1);
    CHECK(atomic_load(&ran) == 21); /* a spare ran them while the worker blocked */
    atomic_store(&gate, 1);
    CHECK_STATUS(bg_pool_wait_idle(pool, TEST_TIMEOUT_NS), BG_OK);
    CHECK_STATUS(bg_pool_free(pool), BG_OK);

    /* Waiting for room: one worker, held (no spares: max_threads = threads);
     * room for one queued task. */
    po.threads = 1;
    po.max_threads = 1;
    po.max_queued = 1;
    CHECK_STATUS(bg_pool_new(&po, &pool), BG_OK);
    atomic_store(&gate, 0);
    atomic_store(&started, 0);
    atomic_store(&ran, 0);
    CHECK_STATUS(bg_pool_submit(pool, blocker, NULL, NULL, NULL), BG_OK);
    while (!atomic_load(&started)) sleep_ms(1);
    CHECK_STATUS(bg_pool_submit(pool, slow, NULL, NULL, NULL), BG_OK);
    CHECK_STATUS(bg_pool_submit(pool, slow, NULL, NULL, NULL), BG_EFULL);
    CHECK_STATUS(bg_pool_submit_wait(pool, slow, NULL, NULL, 20 * 1000 * 1000, NULL), BG_ETIMEDOUT);
    bg_submit_options o;
    bg_submit_options_init(&o);
    o.flags = BG_SUBMIT_WAIT;
    o.wait_timeout_ns = 1000 * 1000;
    CHECK_STATUS(bg_pool_submit_ex(pool, slow, NULL, &o, NULL), BG_ETIMEDOUT);
    pthread_t th;
    pthread_create(&th, NULL, opener, NULL);
    CHECK_STATUS(bg_pool_submit_wait(pool, slow, NULL, NULL, TEST_TIMEOUT_NS, &t), BG_OK);
    o.wait_timeout_ns = TEST_TIMEOUT_NS;
    CHECK_STATUS(bg_pool_submit_ex(pool, slow, NULL, &o, NULL), BG_OK);
    pthread_join(th, NULL);
    CHECK_STATUS(bg_wait_timeout(t, TEST_TIMEOUT_NS, NULL), BG_OK);
    bg_task_release(t);
    CHECK_STATUS(bg_pool_wait_idle(pool, TEST_TIMEOUT_NS), BG_OK);
    CHECK(atomic_load(&ran) == 3);
    o.flags = BG_SUBMIT_WAIT | BG_SUBMIT_KEYED; /* waiting applies to the pool's queue only */
    CHECK_STATUS(bg_pool_submit_ex(pool, slow, NULL, &o, NULL), BG_EINVAL);
    o.flags = 64; /* unknown flag */
    CHECK_STATUS(bg_pool_submit_ex(pool, slow, NULL, &o, NULL), BG_EINVAL);
    bg_submit_options_init(&o);
    o.struct_size = 8; /* an older, smaller struct than the library knows */
    CHECK_STATUS(bg_pool_submit_ex(pool, slow, NULL, &o, NULL), BG_EINVAL);
    CHECK_STATUS(bg_pool_submit_ex(pool, slow, NULL, NULL, NULL), BG_OK); /* NULL: a plain submit */
    CHECK_STATUS(bg_pool_submit_ex(pool, NULL, NULL, NULL, NULL), BG_EINVAL);
    CHECK_STATUS(bg_pool_free(pool), BG_OK);
    puts("core_wait_idle: ok");
    return 0;
}
