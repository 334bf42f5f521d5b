/* A shrink holds once bg_pool_set_threads returns (issue 18, item 12).
 *
 * A four-thread pool, its workers just woken (spinning idle in their search
 * window), is shrunk to two; tasks submitted after that must never run more
 * than two at once. Before the fix a surplus worker that was spinning took
 * a new task without checking whether it had to retire. Deterministic
 * after the fix (the check follows taking a task, and the task was queued
 * after the shrink); before it, some rounds out of 60 saw three.
 * Spare threads (named "<prefix>-s<N>", issue 14) stand in for workers
 * blocked in the sleep: they are not workers and are not counted. */
#include "check.h"

#include <pthread.h>
#include <string.h>

#include <stdatomic.h>

#define ROUNDS 60
#define SLOW 8

static atomic_int now_running, max_running;

static int tiny(void *arg) {
    (void)arg;
    return 0;
}

static int slow(void *arg) {
    (void)arg;
    char name[16] = {0};
    pthread_getname_np(pthread_self(), name, sizeof name);
    if (strstr(name, "-s")) {
        sleep_ms(2);
        return 0;
    }
    int n = atomic_fetch_add(&now_running, 1) + 1;
    int m = atomic_load(&max_running);
    while (n > m && !atomic_compare_exchange_weak(&max_running, &m, n)) {
    }
    sleep_ms(2);
    atomic_fetch_sub(&now_running, 1);
    return 0;
}

int main(void) {
    int worst = 0;
    for (int r = 0; r < ROUNDS; r++) {
        bg_pool_options o;
        bg_pool_options_init(&o);
        o.threads = 4;
        bg_pool *pool;
        CHECK_STATUS(bg_pool_new(&o, &pool), BG_OK);
        atomic_store(&max_running, 0);
        /* Wake every worker so that they search (spin) when the shrink lands. */
        for (int i = 0; i < 16; i++) CHECK_STATUS(bg_pool_submit(pool, tiny, NULL, NULL, NULL), BG_OK);
        CHECK_STATUS(bg_pool_set_threads(pool, 2), BG_OK);
        /* Waited for before the free: once a pool closes, a surplus worker
         * that had already taken a task runs it rather than lose it. */
        bg_task *t[SLOW];
        for (int i = 0; i < SLOW; i++) CHECK_STATUS(bg_pool_submit(pool, slow, NULL, NULL, &t[i]), BG_OK);
        for (int i = 0; i < SLOW; i++) {
            CHECK_STATUS(bg_wait_timeout(t[i], TEST_TIMEOUT_NS, NULL), BG_OK);
            bg_task_release(t[i]);
        }
        CHECK_STATUS(bg_pool_free(pool), BG_OK);
        if (atomic_load(&max_running) > worst) worst = atomic_load(&max_running);
    }
    if (worst > 2) {
        fprintf(stderr, "after a shrink to 2 threads, %d tasks ran at once\n", worst);
        check_failed();
    }
    printf("rel_shrink_holds: at most %d tasks at once after the shrink\n", worst);
    return 0;
}
