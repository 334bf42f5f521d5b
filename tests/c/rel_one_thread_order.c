/* A one-thread pool starts outside submissions in submission order: what
 * C programs use as a background serial executor (zstd's asynchronous read
 * and write pools fread/fwrite at the current file position).
 *
 * 200,000 tasks from one thread to a one-thread pool, once with no bound
 * and once with max_queued = 8 (retrying on BG_EFULL); each checks that a
 * counter equals its sequence number. Before the fix a worker moved a batch
 * from the pool's queue into its LIFO deque, and a later batch (the
 * every-61st look at the shared queue first) ran ahead of older tasks still
 * there: thousands ran out of order.
 *
 * One at a time needs max_threads = 1 as well: by default a worker seen
 * blocked in a task is compensated by a spare thread, which starts the
 * next task beside it (bg_pool_submit's "Order" paragraph). */
#include "check.h"

#include <sched.h>
#include <stdint.h>

#define N 200000

/* Only the pool's one worker touches these while tasks run. */
static long next_seq, out_of_order;

static int in_order(void *arg) {
    long seq = (long)(intptr_t)arg;
    if (seq != next_seq) out_of_order++;
    next_seq = seq + 1;
    return 0;
}

static long run(size_t max_queued) {
    bg_pool_options o;
    bg_pool_options_init(&o);
    o.threads = 1;
    /* No spare threads: the order is the queue's, and one at a time is the
     * point. Under valgrind, which runs one thread at a time, a worker that
     * waits for its turn sleeps in valgrind's scheduler lock, so the monitor
     * sees it blocked and would start a spare beside it (27 of 200,000 out of
     * order with two valgrind runs side by side). */
    o.max_threads = 1;
    o.max_queued = max_queued;
    bg_pool *pool = NULL;
    CHECK_STATUS(bg_pool_new(&o, &pool), BG_OK);
    next_seq = 0;
    out_of_order = 0;
    for (long i = 0; i < N; i++) {
        bg_status s;
        while ((s = bg_pool_submit(pool, in_order, (void *)(intptr_t)i, NULL, NULL)) == BG_EFULL) sched_yield();
        CHECK_STATUS(s, BG_OK);
    }
    /* The drain joins the worker: its writes are visible here after. */
    CHECK_STATUS(bg_pool_shutdown(pool, BG_SHUTDOWN_DRAIN, BG_FOREVER), BG_OK);
    fprintf(stderr, "max_queued %zu: %ld of %d out of order\n", max_queued, out_of_order, N);
    CHECK(next_seq == N);
    CHECK_STATUS(bg_pool_free(pool), BG_OK);
    return out_of_order;
}

int main(void) {
    long unbounded = run(0);
    long bounded = run(8);
    CHECK(unbounded == 0 && bounded == 0);
    return 0;
}
