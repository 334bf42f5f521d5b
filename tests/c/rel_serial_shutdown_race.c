/* Serial queues and keyed lanes racing a shutdown (issue 18, item 1).
 *
 * Four threads submit, each item to a fresh serial queue or a fresh key, so
 * every submit is the one that schedules its queue's drain job, while the
 * main thread shuts the pool down. The promise: an item accepted with BG_OK
 * runs exactly once (drain), or runs or has its drop run exactly once
 * (cancel); a refused item was never queued (no drop). Before the fix the
 * open check and the drain job's injection were two steps, and a drain
 * shutdown between them dropped accepted items. Bounded to ~2 s. */
#include "check.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#define SUBMITTERS 4

static atomic_long accepted, ran, dropped;
static atomic_int go;

static int item(void *arg) {
    (void)arg;
    atomic_fetch_add(&ran, 1);
    return 0;
}

static void item_drop(void *arg) {
    (void)arg;
    atomic_fetch_add(&dropped, 1);
}

struct submitter {
    bg_pool *pool;
    int lanes;
    uint64_t key;
};

static void *submit_loop(void *p) {
    struct submitter *s = p;
    while (!atomic_load(&go)) sched_yield();
    for (;;) {
        bg_status st;
        if (s->lanes) {
            st = bg_pool_submit_keyed(s->pool, s->key++, item, NULL, item_drop, NULL);
        } else {
            bg_serial *q;
            CHECK_STATUS(bg_serial_new(s->pool, &q), BG_OK);
            st = bg_serial_submit(q, item, NULL, item_drop, NULL);
            CHECK_STATUS(bg_serial_free(q), BG_OK);
        }
        if (st == BG_OK) {
            atomic_fetch_add(&accepted, 1);
        } else {
            CHECK(st == BG_ESHUTDOWN);
            return NULL;
        }
    }
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(void) {
    double start = now_s();
    int rounds = 0;
    for (; rounds < 200 && (rounds < 8 || now_s() - start < 2.0); rounds++) {
        int cancel = rounds % 4 == 3;
        bg_pool_options o;
        bg_pool_options_init(&o);
        o.threads = 2;
        /* The race is between admission and shutdown: no spare threads. Under
         * valgrind, which runs one thread at a time, waiting workers can look
         * blocked to the monitor, and a pool of spares only slows the round. */
        o.max_threads = 2;
        bg_pool *pool;
        CHECK_STATUS(bg_pool_new(&o, &pool), BG_OK);
        atomic_store(&accepted, 0);
        atomic_store(&ran, 0);
        atomic_store(&dropped, 0);
        atomic_store(&go, 0);
        pthread_t th[SUBMITTERS];
        struct submitter s[SUBMITTERS];
        for (int i = 0; i < SUBMITTERS; i++) {
            s[i] = (struct submitter){pool, (i + rounds) % 2, (uint64_t)i << 40};
            CHECK(pthread_create(&th[i], NULL, submit_loop, &s[i]) == 0);
        }
        atomic_store(&go, 1);
        /* Let the submitters get going, then close under them. */
        while (atomic_load(&accepted) < 200 + (rounds % 7) * 50) sched_yield();
        /* A drain here takes milliseconds; the bound is wide because valgrind
         * serialises the submitters, the workers and the closing thread. */
        CHECK_STATUS(bg_pool_shutdown(pool, cancel ? BG_SHUTDOWN_CANCEL : BG_SHUTDOWN_DRAIN, 6 * TEST_TIMEOUT_NS),
                     BG_OK);
        for (int i = 0; i < SUBMITTERS; i++) CHECK(pthread_join(th[i], NULL) == 0);
        long a = atomic_load(&accepted), r = atomic_load(&ran), d = atomic_load(&dropped);
        if (cancel ? r + d != a : (r != a || d != 0)) {
            fprintf(stderr, "round %d (%s): accepted %ld, ran %ld, dropped %ld\n", rounds,
                    cancel ? "cancel" : "drain", a, r, d);
            check_failed();
        }
        CHECK_STATUS(bg_pool_free(pool), BG_OK);
    }
    printf("rel_serial_shutdown_race: %d rounds, every accepted item accounted for\n", rounds);
    return 0;
}
