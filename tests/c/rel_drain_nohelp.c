/* A task on a spare thread that, once its pool is draining and its workers
 * have left, queues a child (on its own deque, as a pool thread's submit
 * does) and waits for it without helping: another thread must still take
 * the child. rel_stress hung here about once in 300 runs under load: every
 * live thread was the blocked spare itself, which already counted as a
 * spare inside a task, so the monitor started nobody (unless CPUs idled:
 * then its burst credit did; so this test keeps every CPU busy).
 * bg-test: no-valgrind (valgrind runs one thread at a time: the threads that
 * keep the CPUs busy would hold it). */
#include "check.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <unistd.h>

static atomic_int parent_started, go, child_ran, stop_hogs;

static void *hog(void *arg) {
    (void)arg;
    while (!atomic_load_explicit(&stop_hogs, memory_order_relaxed)) {
    }
    return NULL;
}

static int blocker(void *arg) {
    (void)arg;
    sleep_ms(300); /* blocks the only worker: the parent goes to a spare */
    return 0;
}

static int child(void *arg) {
    (void)arg;
    atomic_store(&child_ran, 1);
    return 0;
}

static int parent(void *arg) {
    (void)arg;
    atomic_store(&parent_started, 1);
    while (!atomic_load(&go)) sleep_ms(1);
    bg_task *c = bg_submit(child, NULL);
    CHECK(c != NULL);
    bg_status s = bg_wait_ex(c, BG_FOREVER, BG_WAIT_NO_HELP, NULL);
    CHECK_STATUS(bg_task_release(c), BG_OK);
    return s == BG_OK ? 0 : 1;
}

int main(void) {
    bg_pool_options o;
    bg_pool_options_init(&o);
    o.threads = 1;
    bg_pool *pool;
    CHECK_STATUS(bg_pool_new(&o, &pool), BG_OK);
    bg_task *b, *p;
    CHECK_STATUS(bg_pool_submit(pool, blocker, NULL, NULL, &b), BG_OK);
    CHECK_STATUS(bg_pool_submit(pool, parent, NULL, NULL, &p), BG_OK);
    for (int i = 0; i < 10000 && !atomic_load(&parent_started); i++) sleep_ms(1);
    CHECK(atomic_load(&parent_started));
    bg_stats st;
    CHECK_STATUS(bg_pool_stats(pool, &st), BG_OK);
    CHECK(st.spares >= 1); /* the parent runs on a spare, beside the blocked worker */
    /* Drain: the worker leaves once its blocker returns and it sees no work. */
    CHECK_STATUS(bg_pool_shutdown(pool, BG_SHUTDOWN_DRAIN, 0), BG_ETIMEDOUT);
    CHECK_STATUS(bg_wait_timeout(b, TEST_TIMEOUT_NS, NULL), BG_OK);
    sleep_ms(100);
    /* Every CPU busy: the monitor gives no credit for idle ones. */
    long nhogs = 2 * sysconf(_SC_NPROCESSORS_ONLN);
    if (nhogs < 2 || nhogs > 256) nhogs = 4;
    pthread_t hogs[256];
    for (long i = 0; i < nhogs; i++) CHECK(pthread_create(&hogs[i], NULL, hog, NULL) == 0);
    sleep_ms(50);
    atomic_store(&go, 1);
    int rc = -1;
    bg_status ps = bg_wait_timeout(p, TEST_TIMEOUT_NS, &rc);
    atomic_store(&stop_hogs, 1);
    for (long i = 0; i < nhogs; i++) pthread_join(hogs[i], NULL);
    CHECK_STATUS(ps, BG_OK);
    CHECK(rc == 0 && atomic_load(&child_ran));
    CHECK_STATUS(bg_task_release(b), BG_OK);
    CHECK_STATUS(bg_task_release(p), BG_OK);
    CHECK_STATUS(bg_pool_shutdown(pool, BG_SHUTDOWN_DRAIN, TEST_TIMEOUT_NS), BG_OK);
    CHECK_STATUS(bg_pool_free(pool), BG_OK);
    return 0;
}
