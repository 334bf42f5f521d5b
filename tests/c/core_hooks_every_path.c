/* Task hooks and timing see every task a pool runs, whichever call
 * submitted it: bg_pool_submit (with and without a handle), bg_then, a
 * group, a serial queue, a keyed lane, a limiter, a delayed task,
 * bg_pool_submit_ex with a start deadline or a priority, and
 * bg_pool_submit_wait. Each path runs one task on a pool with hooks and
 * timing on: on_start and on_end are called once each (for the user's
 * function, with its arg), the pool's `timed` count grows by one, and a
 * delayed task's queue wait covers its delay.
 *
 * Before, only the first three paths were observed: a continuation, a
 * serial or keyed task, a limiter's, a delayed one, and every
 * bg_pool_submit_ex or bg_pool_submit_wait task ran with no hook called
 * and no time recorded (the README promised "each task"). */
#include "check.h"

#include <stdatomic.h>
#include <stdint.h>

#define DELAY_NS (5ull * 1000 * 1000)

static bg_pool *pool;
static atomic_int starts, ends, bad;
static _Atomic(void *) last_arg;
static atomic_uint_least64_t last_wait_ns;

static void on_start(void *ctx, const bg_task_info *i) {
    (void)ctx;
    if (i->pool != pool || i->func == NULL || i->run_ns != 0) atomic_fetch_add(&bad, 1);
    atomic_store(&last_arg, i->arg);
    atomic_store(&last_wait_ns, i->queue_wait_ns);
    atomic_fetch_add(&starts, 1);
}

static void on_end(void *ctx, const bg_task_info *i) {
    (void)ctx;
    if (i->pool != pool || i->result != 0) atomic_fetch_add(&bad, 1);
    atomic_fetch_add(&ends, 1);
}

static int work(void *arg) {
    (void)arg;
    return 0;
}

static int then_fn(void *arg, bg_status status, int result) {
    (void)arg;
    return status == BG_OK && result == 0 ? 0 : 1;
}

static int tag; /* each task's arg: &tag */

/* One task went through `what`: one start and one end for our arg, one more timed task. */
static void observed_once(const char *what, uint64_t *timed) {
    CHECK_STATUS(bg_pool_wait_idle(pool, TEST_TIMEOUT_NS), BG_OK);
    int s = atomic_exchange(&starts, 0), e = atomic_exchange(&ends, 0);
    bg_stats st;
    CHECK_STATUS(bg_pool_stats(pool, &st), BG_OK);
    if (s != 1 || e != 1 || atomic_load(&last_arg) != &tag || st.timed != *timed + 1) {
        fprintf(stderr, "%s: %d starts, %d ends, timed %llu -> %llu\n", what, s, e, (unsigned long long)*timed,
                (unsigned long long)st.timed);
        CHECK(0);
    }
    *timed = st.timed;
    atomic_store(&last_arg, NULL);
}

static void wait_release(bg_task *t) {
    CHECK_STATUS(bg_wait_timeout(t, TEST_TIMEOUT_NS, NULL), BG_OK);
    CHECK_STATUS(bg_task_release(t), BG_OK);
}

int main(void) {
    bg_pool_options o;
    bg_pool_options_init(&o);
    o.threads = 2;
    o.timing = 1;
    CHECK_STATUS(bg_pool_new(&o, &pool), BG_OK);
    CHECK_STATUS(bg_pool_set_task_hooks(pool, on_start, on_end, NULL), BG_OK);
    uint64_t timed = 0;
    bg_task *t, *c;

    CHECK_STATUS(bg_pool_submit(pool, work, &tag, NULL, NULL), BG_OK);
    observed_once("bg_pool_submit, fire and forget", &timed);
    CHECK_STATUS(bg_pool_submit(pool, work, &tag, NULL, &t), BG_OK);
    CHECK_STATUS(bg_wait_timeout(t, TEST_TIMEOUT_NS, NULL), BG_OK);
    observed_once("bg_pool_submit", &timed);

    CHECK_STATUS(bg_then(t, then_fn, &tag, NULL, &c), BG_OK);
    wait_release(c);
    CHECK_STATUS(bg_task_release(t), BG_OK);
    observed_once("bg_then", &timed);

    bg_group *g;
    CHECK_STATUS(bg_group_new(pool, 0, &g), BG_OK);
    CHECK_STATUS(bg_group_submit(g, work, &tag, NULL, NULL), BG_OK);
    CHECK_STATUS(bg_group_wait(g, TEST_TIMEOUT_NS, NULL), BG_OK);
    CHECK_STATUS(bg_group_free(g), BG_OK);
    observed_once("bg_group_submit", &timed);

    bg_serial *q;
    CHECK_STATUS(bg_serial_new(pool, &q), BG_OK);
    CHECK_STATUS(bg_serial_submit(q, work, &tag, NULL, &t), BG_OK);
    wait_release(t);
    CHECK_STATUS(bg_serial_free(q), BG_OK);
    observed_once("bg_serial_submit", &timed);

    CHECK_STATUS(bg_pool_submit_keyed(pool, 7, work, &tag, NULL, &t), BG_OK);
    wait_release(t);
    observed_once("bg_pool_submit_keyed", &timed);

    bg_limit *l;
    CHECK_STATUS(bg_limit_new(pool, 2, &l), BG_OK);
    CHECK_STATUS(bg_limit_submit(l, work, &tag, NULL, &t), BG_OK);
    wait_release(t);
    CHECK_STATUS(bg_limit_free(l), BG_OK);
    observed_once("bg_limit_submit", &timed);

    CHECK_STATUS(bg_pool_submit_after(pool, DELAY_NS, work, &tag, NULL, &t), BG_OK);
    wait_release(t);
    observed_once("bg_pool_submit_after", &timed);
    /* Its queue wait counts from the submission, the delay included. */
    CHECK(atomic_load(&last_wait_ns) >= DELAY_NS);

    bg_submit_options so;
    bg_submit_options_init(&so);
    so.deadline_ns = 10ull * 1000 * 1000 * 1000;
    CHECK_STATUS(bg_pool_submit_ex(pool, work, &tag, &so, &t), BG_OK);
    wait_release(t);
    observed_once("bg_pool_submit_ex, deadline", &timed);

    bg_submit_options_init(&so);
    so.priority = BG_PRIORITY_HIGH;
    CHECK_STATUS(bg_pool_submit_ex(pool, work, &tag, &so, &t), BG_OK);
    wait_release(t);
    observed_once("bg_pool_submit_ex, priority", &timed);

    CHECK_STATUS(bg_pool_submit_wait(pool, work, &tag, NULL, TEST_TIMEOUT_NS, &t), BG_OK);
    wait_release(t);
    observed_once("bg_pool_submit_wait", &timed);

    CHECK(atomic_load(&bad) == 0);
    CHECK_STATUS(bg_pool_free(pool), BG_OK);
    puts("core_hooks_every_path: ok");
    return 0;
}
