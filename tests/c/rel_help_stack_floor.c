/* A helping wait must not nest unrelated tasks until the stack overflows
 * (issue 18, item 4). Thousands of tasks each wait for one gate task on
 * another pool; every wait on a worker runs the next queued task on top of
 * its own frames, so without a bound the nesting grew until the worker's
 * 256 KiB stack overflowed (SIGSEGV). Now a wait that finds its stack
 * nearly used blocks instead; the gate opens once the nesting has stopped
 * growing, and every task completes.
 *
 * The gate opens after 100 ms without a new task starting: a slow machine
 * may open it early, which only makes the test easier, never flaky. */
#include <stdatomic.h>
#include "check.h"

#define TASKS 4000

static atomic_int entered, gate_open;
static bg_task *gate;

static int gate_fn(void *arg) {
    (void)arg;
    while (!atomic_load(&gate_open)) sleep_ms(1);
    return 0;
}

static int waiter(void *arg) {
    (void)arg;
    atomic_fetch_add(&entered, 1);
    CHECK_STATUS(bg_wait(gate, NULL), BG_OK);
    return 0;
}

static int spawner(void *arg) {
    bg_pool *p = arg;
    for (int i = 0; i < TASKS; i++) CHECK_STATUS(bg_pool_submit(p, waiter, NULL, NULL, NULL), BG_OK);
    return 0;
}

int main(void) {
    bg_pool_options o;
    bg_pool_options_init(&o);
    o.threads = 1;
    bg_pool *gates = NULL;
    CHECK_STATUS(bg_pool_new(&o, &gates), BG_OK);
    CHECK_STATUS(bg_pool_submit(gates, gate_fn, NULL, NULL, &gate), BG_OK);

    o.threads = 2;
    o.stack_size = 256 * 1024;
    bg_pool *p = NULL;
    CHECK_STATUS(bg_pool_new(&o, &p), BG_OK);
    /* Queued from a worker, so they sit in its own deque and its waits nest them. */
    CHECK_STATUS(bg_pool_submit(p, spawner, p, NULL, NULL), BG_OK);

    int last = -1, quiet_ms = 0;
    while (quiet_ms < 100 && atomic_load(&entered) < TASKS) {
        sleep_ms(10);
        int now = atomic_load(&entered);
        quiet_ms = now == last ? quiet_ms + 10 : 0;
        last = now;
    }
    atomic_store(&gate_open, 1);
    CHECK_STATUS(bg_pool_shutdown(p, BG_SHUTDOWN_DRAIN, 6 * TEST_TIMEOUT_NS), BG_OK);
    CHECK(atomic_load(&entered) == TASKS);
    CHECK_STATUS(bg_task_release(gate), BG_OK);
    CHECK_STATUS(bg_pool_free(p), BG_OK);
    CHECK_STATUS(bg_pool_free(gates), BG_OK);
    return 0;
}
