/* A burst of blocking tasks beside a stream of CPU-bound work (issue 14).
 * bg-test: no-valgrind (valgrind runs one thread at a time: a spinning task
 * holds every other thread, the monitor included, for its whole run) */
#include "check.h"

#include <stdatomic.h>

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A burst of blocking tasks starts within milliseconds even while newer
 * work keeps arriving. A thread that blocks may hold the rest of a batch
 * it took in its deque; spares take that before newer work from the
 * shared queue. Before: the spares took the stream's tasks from the shared
 * queue and the stranded sleepers waited for the stream to end (500 ms). */
static atomic_int sleepers;
static atomic_uint_fast64_t last_sleeper_at;
static int sleeper(void *arg) {
    (void)arg;
    atomic_store(&last_sleeper_at, now_ns());
    atomic_fetch_add(&sleepers, 1);
    usleep(300 * 1000);
    return 0;
}
static atomic_int spun;
static int spin_100us(void *arg) {
    (void)arg;
    uint64_t t = now_ns();
    while (now_ns() - t < 100000) {
    }
    atomic_fetch_add(&spun, 1);
    return 0;
}
static void burst_beside_a_stream(void) {
    bg_pool_options o;
    bg_pool_options_init(&o);
    o.threads = 2;
    bg_pool *p;
    CHECK_STATUS(bg_pool_new(&o, &p), BG_OK);
    enum { N = 40 };
    uint64_t t0 = now_ns();
    for (int i = 0; i < N; i++) CHECK_STATUS(bg_pool_submit(p, sleeper, NULL, NULL, NULL), BG_OK);
    int submitted = 0;
    while (now_ns() - t0 < 500000000ull && atomic_load(&sleepers) < N) {
        while (submitted - atomic_load(&spun) < 64) {
            CHECK_STATUS(bg_pool_submit(p, spin_100us, NULL, NULL, NULL), BG_OK);
            submitted++;
        }
        usleep(100);
    }
    CHECK(atomic_load(&sleepers) == N);
    /* About 10 ms here; generous for valgrind and a loaded machine. */
    CHECK((atomic_load(&last_sleeper_at) - t0) / 1000000 < 250);
    CHECK_STATUS(bg_pool_free(p), BG_OK);
}

int main(void) {
    burst_beside_a_stream();
    return 0;
}
