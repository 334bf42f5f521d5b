/* The default pool is sized to the CPUs this process may run on: restrict
 * the affinity mask to one CPU before first use and it starts one worker. */
#include "check.h"

#include <sched.h>

static int one(void *arg) {
    (void)arg;
    return 1;
}

int main(void) {
    unsetenv("BG_THREADS");
    cpu_set_t set;
    CPU_ZERO(&set);
    CHECK(sched_getaffinity(0, sizeof set, &set) == 0);
    int first = -1;
    for (int i = 0; i < CPU_SETSIZE && first < 0; i++)
        if (CPU_ISSET(i, &set)) first = i;
    CPU_ZERO(&set);
    CPU_SET(first, &set);
    CHECK(sched_setaffinity(0, sizeof set, &set) == 0);

    CHECK(bg_threads() == 1);
    bg_task *t = bg_submit(one, NULL);
    int rc = 0;
    CHECK_STATUS(bg_wait_timeout(t, TEST_TIMEOUT_NS, &rc), BG_EFAILED);
    CHECK(rc == 1);
    bg_task_release(t);
    CHECK(bg_pool_threads(bg_default_pool()) == 1);
    CHECK_STATUS(bg_shutdown(BG_SHUTDOWN_DRAIN, TEST_TIMEOUT_NS), BG_OK);
    return 0;
}
