/* Back-pressure: a pool with max_queued refuses with BG_EFULL once that
 * many tasks wait, and loses nothing: a refused task was not queued (its
 * drop never runs, its arg stays with the caller), every accepted task
 * runs exactly once. */
#include "check.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>

#define BOUND 8
#define PRODUCERS 3
#define PER_PRODUCER 4000

static atomic_int ran, dropped;
static atomic_long run_sum;

static int record(void *arg) {
    atomic_fetch_add(&ran, 1);
    atomic_fetch_add(&run_sum, (long)(intptr_t)arg);
    /* A little work, so the producers outpace the worker. */
    volatile unsigned x = 0;
    for (int i = 0; i < 2000; i++) x += (unsigned)i;
    return 0;
}

static void record_drop(void *arg) {
    (void)arg;
    atomic_fetch_add(&dropped, 1);
}

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int open_, entered;

static int blocker(void *arg) {
    (void)arg;
    pthread_mutex_lock(&mu);
    entered = 1;
    pthread_cond_broadcast(&cv);
    while (!open_) pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    return 0;
}

struct producer {
    bg_pool *pool;
    long first;
    long accepted_sum;
    int refusals;
};

/* Submits PER_PRODUCER distinct tasks; on BG_EFULL yields and retries the
 * same one, as a caller honouring back-pressure does. */
static void *produce(void *arg) {
    struct producer *pr = arg;
    for (long i = 0; i < PER_PRODUCER; i++) {
        long id = pr->first + i;
        for (;;) {
            bg_status s = bg_pool_submit(pr->pool, record, (void *)(intptr_t)id, record_drop, NULL);
            if (s == BG_OK) break;
            CHECK_STATUS(s, BG_EFULL);
            pr->refusals++;
            sched_yield();
        }
        pr->accepted_sum += id;
    }
    return NULL;
}

int main(void) {
    bg_pool_options o;
    bg_pool_options_init(&o);
    o.threads = 1;
    /* No spare for the held worker: one would take the queued tasks. */
    o.max_threads = 1;
    o.max_queued = BOUND;
    bg_pool *p = NULL;
    CHECK_STATUS(bg_pool_new(&o, &p), BG_OK);

    /* Hold the only worker, then fill the queue exactly. */
    bg_task *b = NULL;
    CHECK_STATUS(bg_pool_submit(p, blocker, NULL, NULL, &b), BG_OK);
    pthread_mutex_lock(&mu);
    while (!entered) pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    bg_task *queued[BOUND];
    for (int i = 0; i < BOUND; i++) CHECK_STATUS(bg_pool_submit(p, record, (void *)0, record_drop, &queued[i]), BG_OK);

    /* Full: refused with or without a handle; nothing written, nothing dropped. */
    bg_task *t = (bg_task *)(uintptr_t)0x1;
    CHECK_STATUS(bg_pool_submit(p, record, NULL, record_drop, &t), BG_EFULL);
    CHECK(t == (bg_task *)(uintptr_t)0x1);
    CHECK_STATUS(bg_pool_submit(p, record, NULL, record_drop, NULL), BG_EFULL);
    bg_stats st;
    CHECK_STATUS(bg_pool_stats(p, &st), BG_OK);
    CHECK(st.queued == BOUND);
    /* A cancelled task keeps its place until the worker skips it (documented). */
    CHECK_STATUS(bg_cancel(queued[0]), BG_OK);
    CHECK_STATUS(bg_pool_submit(p, record, NULL, record_drop, NULL), BG_EFULL);
    CHECK(atomic_load(&dropped) == 1);

    /* Let the worker go; several producers now outrun it. */
    pthread_mutex_lock(&mu);
    open_ = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    struct producer prs[PRODUCERS];
    pthread_t th[PRODUCERS];
    for (int i = 0; i < PRODUCERS; i++) {
        prs[i] = (struct producer){p, 1 + (long)i * PER_PRODUCER, 0, 0};
        CHECK(pthread_create(&th[i], NULL, produce, &prs[i]) == 0);
    }
    long want_sum = 0;
    int refusals = 0;
    for (int i = 0; i < PRODUCERS; i++) {
        CHECK(pthread_join(th[i], NULL) == 0);
        want_sum += prs[i].accepted_sum;
        refusals += prs[i].refusals;
    }
    CHECK_STATUS(bg_pool_shutdown(p, BG_SHUTDOWN_DRAIN, TEST_TIMEOUT_NS * 3), BG_OK);

    /* Exactly the accepted tasks ran, each once (ids are distinct, so the sum
     * catches a task run twice in place of another). */
    CHECK(atomic_load(&ran) == BOUND - 1 + PRODUCERS * PER_PRODUCER);
    CHECK(atomic_load(&run_sum) == want_sum);
    CHECK(atomic_load(&dropped) == 1);
    CHECK_STATUS(bg_pool_stats(p, &st), BG_OK);
    CHECK(st.completed == (uint64_t)(BOUND + PRODUCERS * PER_PRODUCER)); /* + the blocker */
    CHECK(st.queued == 0);
    for (int i = 0; i < BOUND; i++) CHECK_STATUS(bg_task_release(queued[i]), BG_OK);
    CHECK_STATUS(bg_task_release(b), BG_OK);
    CHECK_STATUS(bg_pool_free(p), BG_OK);
    printf("rel_backpressure: %d tasks accepted, %d refusals with BG_EFULL retried\n", PRODUCERS * PER_PRODUCER, refusals);
    return 0;
}
