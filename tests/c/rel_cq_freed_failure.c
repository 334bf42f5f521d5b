/* A failure watched by a completion queue that was freed before the task
 * ended must still reach the pool's error handler (issue 18, item 9): the
 * watch marked the failure observed before knowing its record was queued,
 * and a closed queue drops the record. */
#include <stdatomic.h>
#include "check.h"

static atomic_int reported;

static void on_error(void *ctx, const bg_failure *f) {
    (void)ctx;
    if (f->code == 42) atomic_fetch_add(&reported, 1);
}

struct gate {
    atomic_int started, go;
};
static int block(void *arg) {
    struct gate *g = arg;
    atomic_store(&g->started, 1);
    while (!atomic_load(&g->go)) sleep_ms(1);
    return 0;
}
static int fail(void *arg) {
    (void)arg;
    return 42;
}

int main(void) {
    bg_pool_options o;
    bg_pool_options_init(&o);
    o.threads = 1;
    o.max_threads = 1; /* the blocker holds the pool: no spare thread stands in */
    bg_pool *p = NULL;
    CHECK_STATUS(bg_pool_new(&o, &p), BG_OK);
    CHECK_STATUS(bg_pool_set_error_handler(p, on_error, NULL), BG_OK);
    struct gate g = {0, 0};
    CHECK_STATUS(bg_pool_submit(p, block, &g, NULL, NULL), BG_OK);
    while (!atomic_load(&g.started)) sleep_ms(1);

    bg_cq *cq = NULL;
    CHECK_STATUS(bg_cq_new(&cq), BG_OK);
    /* One through bg_cq_submit, one watched by hand; neither handle kept. */
    CHECK_STATUS(bg_cq_submit(cq, p, fail, NULL, NULL, NULL, NULL), BG_OK);
    bg_task *t = NULL;
    CHECK_STATUS(bg_pool_submit(p, fail, NULL, NULL, &t), BG_OK);
    CHECK_STATUS(bg_cq_watch(cq, t, NULL), BG_OK);
    CHECK_STATUS(bg_task_release(t), BG_OK);
    CHECK_STATUS(bg_cq_free(cq), BG_OK);

    atomic_store(&g.go, 1);
    CHECK_STATUS(bg_pool_shutdown(p, BG_SHUTDOWN_DRAIN, TEST_TIMEOUT_NS), BG_OK);
    CHECK(atomic_load(&reported) == 2);
    CHECK_STATUS(bg_pool_free(p), BG_OK);
    return 0;
}
