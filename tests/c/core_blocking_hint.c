/* The blocking hint (bg_blocking_begin/end): a task that says it blocks
 * gets a spare thread for the work behind it at once, and the pool trusts
 * it. Shown with a wait the monitor cannot see: on a one-thread pool, task
 * A spins (runnable, using CPU: never counted blocked by the monitor)
 * until task B, queued behind it, sets a flag. Inside a hint, a spare runs
 * B and A ends; bg_stats.blocked counts A meanwhile. Without the hint this
 * would spin for good (the monitor is right not to count a spinner).
 *
 * Also: hints nest; a task that returns with a hint open has it closed
 * (blocked goes back to 0); bg_blocking_end without a hint is BG_EINVAL on
 * a pool's thread, and both calls do nothing outside one. */
#include "check.h"

#include <stdatomic.h>
#include <stdint.h>

static bg_pool *pool;
static atomic_int flag, b_saw_blocked;

static int spinner(void *arg) {
    (void)arg;
    CHECK_STATUS(bg_blocking_begin(), BG_OK);
    CHECK_STATUS(bg_blocking_begin(), BG_OK); /* nested: counted once */
    while (!atomic_load(&flag)) {
    }
    CHECK_STATUS(bg_blocking_end(), BG_OK);
    CHECK_STATUS(bg_blocking_end(), BG_OK);
    CHECK_STATUS(bg_blocking_end(), BG_EINVAL); /* none open */
    return 0;
}

static int setter(void *arg) {
    (void)arg;
    bg_stats s;
    CHECK_STATUS(bg_pool_stats(pool, &s), BG_OK);
    atomic_store(&b_saw_blocked, (int)s.blocked);
    atomic_store(&flag, 1);
    return 0;
}

static int leaves_hint_open(void *arg) {
    (void)arg;
    CHECK_STATUS(bg_blocking_begin(), BG_OK);
    return 0;
}

int main(void) {
    /* Outside a pool's threads: nothing to do, nothing refused. */
    CHECK_STATUS(bg_blocking_begin(), BG_OK);
    CHECK_STATUS(bg_blocking_end(), BG_OK);

    bg_pool_options o;
    bg_pool_options_init(&o);
    o.threads = 1;
    o.max_threads = 2; /* room for the one spare */
    CHECK_STATUS(bg_pool_new(&o, &pool), BG_OK);
    bg_task *a, *b;
    CHECK_STATUS(bg_pool_submit(pool, spinner, NULL, NULL, &a), BG_OK);
    CHECK_STATUS(bg_pool_submit(pool, setter, NULL, NULL, &b), BG_OK);
    CHECK_STATUS(bg_wait_timeout(b, TEST_TIMEOUT_NS, NULL), BG_OK);
    CHECK_STATUS(bg_wait_timeout(a, TEST_TIMEOUT_NS, NULL), BG_OK);
    CHECK(atomic_load(&b_saw_blocked) == 1);
    CHECK_STATUS(bg_task_release(a), BG_OK);
    CHECK_STATUS(bg_task_release(b), BG_OK);

    /* A hint left open ends with its task. */
    CHECK_STATUS(bg_pool_submit(pool, leaves_hint_open, NULL, NULL, &a), BG_OK);
    CHECK_STATUS(bg_wait_timeout(a, TEST_TIMEOUT_NS, NULL), BG_OK);
    CHECK_STATUS(bg_task_release(a), BG_OK);
    /* Closed once the task has returned, which bg_wait may see first (stats
     * are a snapshot: under load the worker was once read between the two). */
    bg_stats s;
    for (int i = 0; i < 10000; i++) {
        CHECK_STATUS(bg_pool_stats(pool, &s), BG_OK);
        if (s.blocked == 0) break;
        sleep_ms(1);
    }
    CHECK(s.blocked == 0);

    CHECK_STATUS(bg_pool_shutdown(pool, BG_SHUTDOWN_DRAIN, TEST_TIMEOUT_NS), BG_OK);
    CHECK_STATUS(bg_pool_free(pool), BG_OK);
    puts("core_blocking_hint: ok");
    return 0;
}
