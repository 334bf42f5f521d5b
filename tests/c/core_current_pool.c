/* bg_current_pool(): inside any task it is the pool the task runs on, by
 * whatever construct the task was submitted (plain, group, serial queue,
 * keyed lane, batch, delayed, completion queue, continuation); outside a
 * task it is NULL. Plain bg_submit()/bg_spawn() from inside a task go to
 * that same pool. (In a fork() child it is NULL: rel_fork.c.) */
#include "check.h"

#include <stdatomic.h>
#include <stdint.h>

static bg_pool *expected;
static atomic_int seen, wrong;

/* A task that checks it runs on `expected`. */
static int on_expected(void *arg) {
    (void)arg;
    atomic_fetch_add(&seen, 1);
    if (bg_current_pool() != expected) atomic_fetch_add(&wrong, 1);
    return 0;
}

static int then_on_expected(void *arg, bg_status status, int result) {
    (void)status;
    (void)result;
    return on_expected(arg);
}

/* bg_submit() from inside a task: the child reports the pool it ran on. */
static int child_reports_pool(void *arg) {
    *(bg_pool **)arg = bg_current_pool();
    return 0;
}

static int submits_without_a_pool(void *arg) {
    bg_task *t = bg_submit(child_reports_pool, arg);
    if (t == NULL) return 1;
    bg_status s = bg_wait_timeout(t, TEST_TIMEOUT_NS, NULL);
    if (bg_task_release(t) != BG_OK) return 2;
    return s == BG_OK ? 0 : 3;
}

static void run_every_construct(bg_pool *p) {
    expected = p;
    atomic_store(&seen, 0);
    int want = 0;
    bg_task *t = NULL, *c = NULL;

    CHECK_STATUS(bg_pool_submit(p, on_expected, NULL, NULL, &t), BG_OK);
    CHECK_STATUS(bg_then(t, then_on_expected, NULL, NULL, &c), BG_OK);
    CHECK_STATUS(bg_wait_timeout(c, TEST_TIMEOUT_NS, NULL), BG_OK);
    CHECK_STATUS(bg_task_release(c), BG_OK);
    CHECK_STATUS(bg_task_release(t), BG_OK);
    want += 2;

    bg_group *g = NULL;
    CHECK_STATUS(bg_group_new(p, BG_GROUP_DEFAULT, &g), BG_OK);
    CHECK_STATUS(bg_group_submit(g, on_expected, NULL, NULL, NULL), BG_OK);
    CHECK_STATUS(bg_group_wait(g, TEST_TIMEOUT_NS, NULL), BG_OK);
    CHECK_STATUS(bg_group_free(g), BG_OK);
    want++;

    bg_serial *q = NULL;
    CHECK_STATUS(bg_serial_new(p, &q), BG_OK);
    CHECK_STATUS(bg_serial_submit(q, on_expected, NULL, NULL, &t), BG_OK);
    CHECK_STATUS(bg_wait_timeout(t, TEST_TIMEOUT_NS, NULL), BG_OK);
    CHECK_STATUS(bg_task_release(t), BG_OK);
    CHECK_STATUS(bg_serial_free(q), BG_OK);
    want++;

    CHECK_STATUS(bg_pool_submit_keyed(p, 7, on_expected, NULL, NULL, &t), BG_OK);
    CHECK_STATUS(bg_wait_timeout(t, TEST_TIMEOUT_NS, NULL), BG_OK);
    CHECK_STATUS(bg_task_release(t), BG_OK);
    want++;

    bg_batch *b = NULL;
    CHECK_STATUS(bg_batch_new(&b), BG_OK);
    CHECK_STATUS(bg_batch_add(b, on_expected, NULL, NULL), BG_OK);
    CHECK_STATUS(bg_batch_submit(b, p, BG_BATCH_RUN_ALL, &t), BG_OK);
    CHECK_STATUS(bg_wait_timeout(t, TEST_TIMEOUT_NS, NULL), BG_OK);
    CHECK_STATUS(bg_task_release(t), BG_OK);
    CHECK_STATUS(bg_batch_free(b), BG_OK);
    want++;

    CHECK_STATUS(bg_pool_submit_after(p, 1000, on_expected, NULL, NULL, &t), BG_OK);
    CHECK_STATUS(bg_wait_timeout(t, TEST_TIMEOUT_NS, NULL), BG_OK);
    CHECK_STATUS(bg_task_release(t), BG_OK);
    want++;

    bg_cq *cq = NULL;
    CHECK_STATUS(bg_cq_new(&cq), BG_OK);
    CHECK_STATUS(bg_cq_submit(cq, p, on_expected, NULL, NULL, NULL, &t), BG_OK);
    CHECK_STATUS(bg_wait_timeout(t, TEST_TIMEOUT_NS, NULL), BG_OK);
    CHECK_STATUS(bg_task_release(t), BG_OK);
    CHECK_STATUS(bg_cq_free(cq), BG_OK);
    want++;

    CHECK(atomic_load(&seen) == want);
    CHECK(atomic_load(&wrong) == 0);

    /* A task that submits without naming a pool stays on its own pool. */
    bg_pool *ran_on = NULL;
    CHECK_STATUS(bg_pool_submit(p, submits_without_a_pool, &ran_on, NULL, &t), BG_OK);
    CHECK_STATUS(bg_wait_timeout(t, TEST_TIMEOUT_NS, NULL), BG_OK);
    CHECK_STATUS(bg_task_release(t), BG_OK);
    CHECK(ran_on == p);
}

int main(void) {
    CHECK(bg_current_pool() == NULL); /* no pool at all yet */

    bg_pool_options o;
    bg_pool_options_init(&o);
    o.threads = 2;
    bg_pool *p = NULL;
    CHECK_STATUS(bg_pool_new(&o, &p), BG_OK);
    CHECK(bg_current_pool() == NULL); /* a pool exists, but this is no task */
    run_every_construct(p);

    bg_pool *d = bg_default_pool();
    CHECK(d != NULL);
    CHECK(bg_current_pool() == NULL);
    run_every_construct(d);

    CHECK_STATUS(bg_pool_free(p), BG_OK);
    return 0;
}
