/* Releasing a still-queued handle twice (issue 18, item 5): the second
 * release would drop the queue's own reference and free the task under its
 * queued job, so a new handle was carved over it and reported another
 * task's result. The over-release must be refused (BG_EINVAL), nothing
 * freed, and every other handle must report its own task's result. */
#include <stdatomic.h>
#include "check.h"

struct gate {
    atomic_int started, go;
};
static int block(void *arg) {
    struct gate *g = arg;
    atomic_store(&g->started, 1);
    while (!atomic_load(&g->go)) sleep_ms(1);
    return 0;
}
static int ret(void *arg) {
    return (int)(intptr_t)arg;
}

int main(void) {
    bg_pool_options o;
    bg_pool_options_init(&o);
    o.threads = 1;
    o.max_threads = 1; /* the blocker holds the pool: no spare thread stands in */
    bg_pool *p = NULL;
    CHECK_STATUS(bg_pool_new(&o, &p), BG_OK);
    struct gate g = {0, 0};
    CHECK_STATUS(bg_pool_submit(p, block, &g, NULL, NULL), BG_OK);
    while (!atomic_load(&g.started)) sleep_ms(1);

    bg_task *t = NULL;
    CHECK_STATUS(bg_pool_submit(p, ret, (void *)(intptr_t)0, NULL, &t), BG_OK);
    CHECK_STATUS(bg_task_release(t), BG_OK);
    /* The task is still queued: only the queue's reference is left. */
    CHECK_STATUS(bg_task_release(t), BG_EINVAL);

    /* New handles must not alias the over-released one. */
    enum { N = 64 };
    bg_task *h[N];
    for (int i = 0; i < N; i++) CHECK_STATUS(bg_pool_submit(p, ret, (void *)(intptr_t)(i + 1), NULL, &h[i]), BG_OK);
    for (int i = 0; i < N; i++) CHECK(h[i] != t);
    atomic_store(&g.go, 1);
    for (int i = 0; i < N; i++) {
        int r = -1;
        CHECK_STATUS(bg_wait_timeout(h[i], TEST_TIMEOUT_NS, &r), BG_EFAILED);
        CHECK(r == i + 1);
        CHECK_STATUS(bg_task_release(h[i]), BG_OK);
    }
    CHECK_STATUS(bg_pool_free(p), BG_OK);
    return 0;
}
