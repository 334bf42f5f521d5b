/* A task submitted after bg_pool_pause() returns never starts before the
 * resume, even when a worker was in the middle of looking for work as the
 * pause came: between its look at the pause flag and its take from the
 * queue (rel_fork saw such a task run about once in 300 runs under load).
 * Each round wakes the workers with a short task, so that they are
 * searching, then pauses, submits a marker and checks it stays queued.
 * Before the fix 2-3 markers of 20,000 started early, in every run.
 * bg-test: no-valgrind (20,000 rounds of wake-ups and 20 µs spins: minutes
 * under valgrind, which runs one thread at a time and so never races). */
#include "check.h"

#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#define ROUNDS 20000

static atomic_int marker_ran;

static int noop(void *arg) {
    (void)arg;
    return 0;
}

static int mark(void *arg) {
    (void)arg;
    atomic_store(&marker_ran, 1);
    return 0;
}

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int main(void) {
    bg_pool_options o;
    bg_pool_options_init(&o);
    o.threads = 2;
    bg_pool *pool;
    CHECK_STATUS(bg_pool_new(&o, &pool), BG_OK);
    int early = 0;
    for (int r = 0; r < ROUNDS; r++) {
        bg_task *a, *b, *m;
        CHECK_STATUS(bg_pool_submit(pool, noop, NULL, NULL, &a), BG_OK);
        CHECK_STATUS(bg_pool_submit(pool, noop, NULL, NULL, &b), BG_OK);
        CHECK_STATUS(bg_wait(a, NULL), BG_OK);
        CHECK_STATUS(bg_wait(b, NULL), BG_OK);
        CHECK_STATUS(bg_task_release(a), BG_OK);
        CHECK_STATUS(bg_task_release(b), BG_OK);
        /* The workers now look for work for a few microseconds. */
        atomic_store(&marker_ran, 0);
        CHECK_STATUS(bg_pool_pause(pool), BG_OK);
        CHECK_STATUS(bg_pool_submit(pool, mark, NULL, NULL, &m), BG_OK);
        uint64_t until = now_ns() + 20000;
        while (now_ns() < until) {
        }
        if (atomic_load(&marker_ran)) early++;
        CHECK_STATUS(bg_pool_resume(pool), BG_OK);
        CHECK_STATUS(bg_wait_timeout(m, TEST_TIMEOUT_NS, NULL), BG_OK);
        CHECK(atomic_load(&marker_ran));
        CHECK_STATUS(bg_task_release(m), BG_OK);
    }
    if (early) fprintf(stderr, "core_pause_race: %d of %d tasks started while paused\n", early, ROUNDS);
    CHECK(early == 0);
    CHECK_STATUS(bg_pool_free(pool), BG_OK);
    return 0;
}
