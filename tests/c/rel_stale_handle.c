/* Released handles and freed pools, where detectable: each object carries
 * a magic number that is cleared when it is freed, so a call on a stale
 * pointer whose memory was not reused yet gets BG_EINVAL instead of acting
 * on freed memory. This is a best-effort net for a caller's bug, not a
 * contract: once the memory is reused, nothing can tell.
 *
 * bg-test: no-asan (reads freed memory on purpose: that is the check under test)
 * bg-test: no-valgrind (the same: valgrind reports the deliberate read) */
#include "check.h"

static int noop(void *arg) {
    (void)arg;
    return 0;
}

int main(void) {
    bg_pool_options o;
    bg_pool_options_init(&o);
    o.threads = 1;
    bg_pool *p = NULL;
    CHECK_STATUS(bg_pool_new(&o, &p), BG_OK);

    bg_task *t = NULL;
    CHECK_STATUS(bg_pool_submit(p, noop, NULL, NULL, &t), BG_OK);
    CHECK_STATUS(bg_wait_timeout(t, TEST_TIMEOUT_NS, NULL), BG_OK);
    /* After the join no worker holds the task: our release is the last. */
    CHECK_STATUS(bg_pool_shutdown(p, BG_SHUTDOWN_DRAIN, TEST_TIMEOUT_NS), BG_OK);
    CHECK_STATUS(bg_task_release(t), BG_OK);
    /* No allocation in between: the released handle's memory is not reused yet. */
    CHECK_STATUS(bg_task_release(t), BG_EINVAL);
    CHECK_STATUS(bg_wait(t, NULL), BG_EINVAL);
    CHECK_STATUS(bg_cancel(t), BG_EINVAL);
    CHECK(bg_task_retain(t) == NULL);
    CHECK(!bg_done(t));

    CHECK_STATUS(bg_pool_free(p), BG_OK);
    CHECK_STATUS(bg_pool_free(p), BG_EINVAL);
    CHECK_STATUS(bg_pool_submit(p, noop, NULL, NULL, NULL), BG_EINVAL);
    CHECK_STATUS(bg_pool_shutdown(p, BG_SHUTDOWN_DRAIN, 0), BG_EINVAL);
    return 0;
}
