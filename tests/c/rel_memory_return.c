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
 *
 * First the same for a burst of fire-and-forget tasks, queued while the
 * workers are held: they live in the queue's blocks, which malloc serves;
 * freed, those stayed resident under the queue's live block until the
 * depot's trim also gave back malloc's free pages (measured: 1 M queued
 * tasks, +39 MB for good before, +0.1 MB a second after the burst).
 * bg-test: no-valgrind (RSS under memcheck is memcheck's, not ours)
 * bg-test: no-asan (ASan's quarantine and shadow memory swamp the RSS) */
#include "check.h"

#include <stdatomic.h>
#include <string.h>

#define N 300000
#define N_SPAWN 1000000

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

static atomic_int go, held;
static atomic_long spawned_ran;

static int hold(void *arg) {
    (void)arg;
    atomic_fetch_add(&held, 1);
    while (!atomic_load(&go)) sleep_ms(1);
    return 0;
}

static int count(void *arg) {
    (void)arg;
    atomic_fetch_add_explicit(&spawned_ran, 1, memory_order_relaxed);
    return 0;
}

/* Holds both workers, queues N_SPAWN fire-and-forget tasks, lets them run
 * and waits for the last; returns the resident set, in kB, while all were
 * queued. */
static long spawn_burst(bg_pool *pool) {
    atomic_store(&go, 0);
    atomic_store(&spawned_ran, 0);
    atomic_store(&held, 0);
    for (int i = 0; i < 2; i++) CHECK_STATUS(bg_pool_submit(pool, hold, NULL, NULL, NULL), BG_OK);
    while (atomic_load(&held) < 2) sleep_ms(1); /* the queue only grows */
    for (int i = 0; i < N_SPAWN; i++) CHECK_STATUS(bg_pool_submit(pool, count, NULL, NULL, NULL), BG_OK);
    long peak = rss_kb();
    atomic_store(&go, 1);
    while (atomic_load(&spawned_ran) < N_SPAWN) sleep_ms(1);
    return peak;
}

int main(void) {
    bg_pool_options o;
    bg_pool_options_init(&o);
    o.threads = 2;
    o.max_threads = 2; /* the held workers hold the pool: no spare drains the burst */
    bg_pool *pool = NULL;
    CHECK_STATUS(bg_pool_new(&o, &pool), BG_OK);
    bg_task **h = calloc(N, sizeof *h);
    CHECK(h != NULL);
    memset(h, 0, N * sizeof *h); /* resident before the baseline */

    /* First (while malloc's heap holds no free blocks of earlier bursts to
     * reuse), fire and forget: the queue's memory goes back too. */
    long base = rss_kb();
    long blocks = spawn_burst(pool) - base;
    fprintf(stderr, "rss: base %ld kB, fire-and-forget burst +%ld kB\n", base, blocks);
    CHECK(blocks > 10 * 1024); /* some 40 bytes a queued job */
    quiet(base, blocks);

    base = rss_kb();
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
