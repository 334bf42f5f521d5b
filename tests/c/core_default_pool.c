/* The default pool: BG_THREADS, bg_set_threads before and after start,
 * bg_submit/bg_spawn/bg_wait from C, nested fork-join, and shutting the
 * default pool down. */
#include "check.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static atomic_int counter;

static int count(void *arg) {
    (void)arg;
    atomic_fetch_add(&counter, 1);
    return 0;
}

static int fib(void *arg) {
    intptr_t n = (intptr_t)arg;
    if (n < 2) return (int)n;
    bg_task *t = bg_submit(fib, (void *)(n - 1));
    CHECK(t != NULL);
    int b = fib((void *)(n - 2)), a = -1;
    bg_status s = bg_wait(t, &a);
    CHECK(s == BG_OK || s == BG_EFAILED);
    bg_task_release(t);
    return a + b;
}

static int thread_name_starts_with_bg(void *arg) {
    (void)arg;
    char name[32] = {0};
    pthread_getname_np(pthread_self(), name, sizeof name);
    return strncmp(name, "bg-", 3) == 0 ? 0 : 1;
}

int main(void) {
    /* BG_THREADS sizes the default pool; bg_threads() reports it without starting it. */
    setenv("BG_THREADS", "3", 1);
    CHECK(bg_threads() == 3);
    /* bg_set_threads before start wins over the environment. */
    CHECK_STATUS(bg_set_threads(2), BG_OK);
    CHECK(bg_threads() == 2);
    CHECK_STATUS(bg_set_threads(0), BG_EINVAL);
    CHECK_STATUS(bg_set_threads(100000), BG_EINVAL);

    /* First use starts it, with that size. */
    bg_task *t = bg_submit(thread_name_starts_with_bg, NULL);
    CHECK(t != NULL);
    CHECK_STATUS(bg_wait_timeout(t, TEST_TIMEOUT_NS, NULL), BG_OK);
    CHECK_STATUS(bg_task_release(t), BG_OK);
    CHECK(bg_threads() == 2);
    CHECK(bg_pool_threads(bg_default_pool()) == 2);

    /* Live resize of the default pool. */
    CHECK_STATUS(bg_set_threads(4), BG_OK);
    CHECK(bg_threads() == 4);

    for (int i = 0; i < 20000; i++) CHECK_STATUS(bg_spawn(count, NULL), BG_OK);
    CHECK_STATUS(bg_set_threads(1), BG_OK);

    bg_task *f = bg_submit(fib, (void *)22);
    int rc = 0;
    CHECK_STATUS(bg_wait_timeout(f, TEST_TIMEOUT_NS, &rc), BG_EFAILED);
    CHECK(rc == 17711);
    bg_task_release(f);

    /* Shutting the default pool down drains it and refuses new work. */
    CHECK_STATUS(bg_shutdown(BG_SHUTDOWN_DRAIN, TEST_TIMEOUT_NS), BG_OK);
    CHECK(atomic_load(&counter) == 20000);
    CHECK(bg_submit(count, NULL) == NULL);
    CHECK_STATUS(bg_spawn(count, NULL), BG_ESHUTDOWN);
    CHECK_STATUS(bg_set_threads(2), BG_ESHUTDOWN);
    CHECK_STATUS(bg_shutdown(BG_SHUTDOWN_DRAIN, TEST_TIMEOUT_NS), BG_OK);
    CHECK_STATUS(bg_shutdown(7, TEST_TIMEOUT_NS), BG_EINVAL);
    return 0;
}
