/* The memory of a burst of handles goes back to the system once the pool
 * is quiet (src/depot.rs): freed handle slabs stay resident for the next
 * burst, and what went unused for about a second is given back by a worker
 * that parks with a deadline.
 *
 * 300,000 handles take ~19 MB of slabs, plus queue blocks that malloc keeps
 * (a few MB, more the deeper the queue got). Within ten seconds of quiet
 * after a burst, at least half of what it added must leave the process's
 * resident set, and a second burst must reuse the memory rather than grow.
 * Without the give-back none of it leaves (measured: +22 MB, then +4 MB two
 * seconds later; before src/depot.rs, +31 MB for good).
 * bg-test: no-valgrind (RSS under memcheck is memcheck's, not ours)
 * bg-test: no-asan (ASan's quarantine and shadow memory swamp the RSS) */
#include "check.h"

#include <string.h>

#define N 300000

static long rss_kb(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, resident = 0;
    CHECK(f != NULL);
    CHECK(fscanf(f, "%ld %ld", &size, &resident) == 2);
    fclose(f);
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static int noop(void *arg) {
    (void)arg;
    return 0;
}

/* Submits N tasks with handles, waits for and releases each; returns the
 * resident set, in kB, while all N handles were alive. */
static long burst(bg_pool *pool, bg_task **h) {
    for (int i = 0; i < N; i++) CHECK_STATUS(bg_pool_submit(pool, noop, NULL, NULL, &h[i]), BG_OK);
    long peak = rss_kb();
    for (int i = 0; i < N; i++) {
        CHECK_STATUS(bg_wait(h[i], NULL), BG_OK);
        CHECK_STATUS(bg_task_release(h[i]), BG_OK);
    }
    return peak;
}

/* Waits up to ten seconds for the resident set to fall back to within half
 * of what a burst added. */
static void quiet(long base, long added) {
    long now = rss_kb();
    for (int ms = 0; ms < 10000 && now - base > added / 2; ms += 100) {
        sleep_ms(100);
        now = rss_kb();
    }
    fprintf(stderr, "rss: +%ld kB after the quiet\n", now - base);
    CHECK(now - base <= added / 2);
}

int main(void) {
    bg_pool_options o;
    bg_pool_options_init(&o);
    o.threads = 2;
    bg_pool *pool = NULL;
    CHECK_STATUS(bg_pool_new(&o, &pool), BG_OK);
    bg_task **h = calloc(N, sizeof *h);
    CHECK(h != NULL);
    memset(h, 0, N * sizeof *h); /* resident before the baseline */

    long base = rss_kb();
    long slabs = burst(pool, h) - base;
    CHECK(slabs > 10 * 1024); /* 64 bytes a handle, and its queue slot */
    fprintf(stderr, "rss: base %ld kB, burst +%ld kB\n", base, slabs);
    /* The workers parked while this thread was still releasing: a slab
     * given back then must still get a worker to watch it. */
    quiet(base, slabs);
    /* A second burst reuses the memory: the process does not grow. */
    long again = burst(pool, h) - base;
    fprintf(stderr, "rss: second burst +%ld kB\n", again);
    CHECK(again < slabs + slabs / 4);
    quiet(base, slabs);

    CHECK_STATUS(bg_pool_free(pool), BG_OK);
    free(h);
    return 0;
}
