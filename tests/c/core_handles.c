/* Handles from C: results, cancel, drop exactly once, many waiters,
 * timeouts, a pool with options, cancel shutdown, stats. */
#include "check.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

static atomic_int drops, runs, release_gate, started;

static int wait_for_gate(void *arg) {
    (void)arg;
    atomic_fetch_add(&started, 1);
    while (!atomic_load(&release_gate)) sleep_ms(1);
    return 0;
}

static int run_counted(void *arg) {
    atomic_fetch_add(&runs, 1);
    return (int)(intptr_t)arg;
}

static void drop_counted(void *arg) {
    (void)arg;
    atomic_fetch_add(&drops, 1);
}

static void *waiter(void *t) {
    int rc = 0;
    bg_status s = bg_wait_timeout(t, TEST_TIMEOUT_NS, &rc);
    bg_task_release(t);
    return (void *)(intptr_t)(s == BG_EFAILED && rc == 9);
}

int main(void) {
    bg_pool_options o;
    bg_pool_options_init(&o);
    o.threads = 1;
    o.max_threads = 1; /* the blocker holds the pool: no spare thread stands in */
    o.name_prefix = "handles";
    bg_pool *p = NULL;
    CHECK_STATUS(bg_pool_new(&o, &p), BG_OK);

    /* A blocker occupies the only thread, so later tasks stay queued. */
    bg_task *blocker, *victim, *later;
    CHECK_STATUS(bg_pool_submit(p, wait_for_gate, NULL, NULL, &blocker), BG_OK);
    CHECK_STATUS(bg_pool_submit(p, run_counted, (void *)1, drop_counted, &victim), BG_OK);
    CHECK_STATUS(bg_pool_submit(p, run_counted, (void *)9, drop_counted, &later), BG_OK);
    CHECK(!bg_done(victim));
    CHECK_STATUS(bg_wait_timeout(victim, 1000000, NULL), BG_ETIMEDOUT);

    /* Four threads wait on `later` at once. */
    pthread_t w[4];
    for (int i = 0; i < 4; i++) pthread_create(&w[i], NULL, waiter, bg_task_retain(later));

    CHECK_STATUS(bg_cancel(victim), BG_OK);
    CHECK(atomic_load(&drops) == 1);
    CHECK_STATUS(bg_cancel(victim), BG_EDONE);
    CHECK_STATUS(bg_wait(victim, NULL), BG_ECANCELLED);
    CHECK(bg_done(victim));

    atomic_store(&release_gate, 1);
    for (int i = 0; i < 4; i++) {
        void *ok;
        pthread_join(w[i], &ok);
        CHECK(ok == (void *)1);
    }
    CHECK_STATUS(bg_cancel(later), BG_EDONE);
    CHECK(atomic_load(&runs) == 1 && atomic_load(&drops) == 1);
    CHECK_STATUS(bg_task_release(victim), BG_OK);
    CHECK_STATUS(bg_task_release(later), BG_OK);
    CHECK_STATUS(bg_task_release(blocker), BG_OK);

    /* Cancel shutdown: queued tasks never run, each drop runs once, waiters wake. */
    atomic_store(&release_gate, 0);
    CHECK_STATUS(bg_pool_submit(p, wait_for_gate, NULL, NULL, &blocker), BG_OK);
    while (atomic_load(&started) < 2) sleep_ms(1);
    bg_task *queued[50];
    for (int i = 0; i < 50; i++) CHECK_STATUS(bg_pool_submit(p, run_counted, NULL, drop_counted, &queued[i]), BG_OK);
    atomic_store(&release_gate, 1);
    CHECK_STATUS(bg_pool_shutdown(p, BG_SHUTDOWN_CANCEL, TEST_TIMEOUT_NS), BG_OK);
    int cancelled = 0;
    for (int i = 0; i < 50; i++) {
        bg_status s = bg_wait_timeout(queued[i], TEST_TIMEOUT_NS, NULL);
        CHECK(s == BG_ESHUTDOWN || s == BG_OK); /* a few may have started before the close */
        cancelled += s == BG_ESHUTDOWN;
        bg_task_release(queued[i]);
    }
    CHECK(atomic_load(&runs) - 1 + cancelled == 50);
    CHECK(atomic_load(&drops) - 1 == cancelled);
    bg_stats st;
    CHECK_STATUS(bg_pool_stats(p, &st), BG_OK);
    CHECK(st.threads == 0 && st.queued == 0 && st.running == 0);
    CHECK_STATUS(bg_wait(blocker, NULL), BG_OK);
    bg_task_release(blocker);
    CHECK_STATUS(bg_pool_submit(p, run_counted, NULL, NULL, NULL), BG_ESHUTDOWN);
    CHECK_STATUS(bg_pool_free(p), BG_OK);
    return 0;
}
