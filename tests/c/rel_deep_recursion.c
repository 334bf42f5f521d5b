/* Recursive submit + wait on a one-thread pool (issue 18, item 4): each
 * level's wait runs the next level on top of its own frames. Workers used
 * to get Rust's 2 MiB stack although stack_size = 0 is documented as the
 * system default, and died silently at about 5,900 levels; with the
 * default (glibc: from RLIMIT_STACK, typically 8 MiB) 12,000 levels fit.
 * Skipped where the system default is smaller than 8 MiB.
 *
 * bg-test: no-asan (ASan's frames are several times larger: the depth would not fit any default) */
#include <pthread.h>
#include "check.h"

#define DEPTH 12000

static int rec(void *arg) {
    intptr_t depth = (intptr_t)arg;
    if (depth == 0) return 0;
    bg_task *t = bg_submit(rec, (void *)(depth - 1));
    CHECK(t != NULL);
    int r = -1;
    CHECK_STATUS(bg_wait(t, &r), BG_OK);
    CHECK_STATUS(bg_task_release(t), BG_OK);
    return r;
}

int main(void) {
    pthread_attr_t attr;
    size_t dflt = 0;
    CHECK(pthread_attr_init(&attr) == 0);
    CHECK(pthread_attr_getstacksize(&attr, &dflt) == 0);
    pthread_attr_destroy(&attr);
    if (dflt < (8u << 20)) {
        printf("skipped: the system's default thread stack is %zu bytes\n", dflt);
        return 0;
    }
    bg_pool_options o;
    bg_pool_options_init(&o);
    o.threads = 1;
    bg_pool *p = NULL;
    CHECK_STATUS(bg_pool_new(&o, &p), BG_OK);
    bg_task *t = NULL;
    CHECK_STATUS(bg_pool_submit(p, rec, (void *)(intptr_t)DEPTH, NULL, &t), BG_OK);
    CHECK_STATUS(bg_wait_timeout(t, 60ull * 1000 * 1000 * 1000, NULL), BG_OK);
    CHECK_STATUS(bg_task_release(t), BG_OK);
    CHECK_STATUS(bg_pool_free(p), BG_OK);
    return 0;
}
