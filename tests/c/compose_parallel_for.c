/* Parallel loops from C: every index is visited exactly once, in chunks
 * no bigger than the grain, with the caller taking part; several threads
 * run loops on one pool at once; loops nest inside tasks, even on a
 * one-thread pool. */
#include "check.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#define N 20000

typedef struct {
    atomic_uchar *hits;
    size_t grain;
    atomic_int oversized;
    pthread_t caller;
    atomic_int by_caller;
} loop;

static void body(size_t lo, size_t hi, void *ctx) {
    loop *l = ctx;
    if (l->grain && hi - lo > l->grain) atomic_fetch_add(&l->oversized, 1);
    if (pthread_equal(pthread_self(), l->caller)) atomic_fetch_add(&l->by_caller, 1);
    for (size_t i = lo; i < hi; i++) atomic_fetch_add(&l->hits[i], 1);
}

/* Runs a loop over [0, n) and checks each index ran once. */
static void check_loop(bg_pool *p, size_t n, size_t grain) {
    loop l = {calloc(n + 1, 1), grain, 0, pthread_self(), 0};
    CHECK(l.hits != NULL);
    CHECK_STATUS(bg_parallel_for(p, 0, n, grain, body, &l), BG_OK);
    for (size_t i = 0; i < n; i++) CHECK(atomic_load(&l.hits[i]) == 1);
    CHECK(atomic_load(&l.oversized) == 0);
    /* The caller runs the first chunk itself. */
    CHECK(n == 0 || atomic_load(&l.by_caller) > 0);
    free(l.hits);
}

static bg_pool *pool;

static void *caller(void *arg) {
    size_t grain = (size_t)(uintptr_t)arg;
    for (int r = 0; r < 5; r++) check_loop(pool, N, grain);
    return NULL;
}

static int nested(void *arg) {
    check_loop(arg, N / 4, 16);
    return 0;
}

int main(void) {
    bg_pool_options o;
    bg_pool_options_init(&o);
    o.threads = 2;
    CHECK_STATUS(bg_pool_new(&o, &pool), BG_OK);

    check_loop(pool, 0, 1);
    check_loop(pool, 1, 0);
    check_loop(pool, 1000, 1);
    check_loop(pool, N, 0);

    /* Four threads outside the pool run loops on it at once. */
    pthread_t th[4];
    for (int i = 0; i < 4; i++) pthread_create(&th[i], NULL, caller, (void *)(uintptr_t)(i * 37));
    for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);

    /* Loops inside tasks wait helping: on one thread too. */
    for (size_t threads = 1; threads <= 2; threads++) {
        bg_pool *p;
        o.threads = threads;
        o.max_threads = threads; /* no spares: one thread means one */
        CHECK_STATUS(bg_pool_new(&o, &p), BG_OK);
        bg_task *t[8];
        for (int i = 0; i < 8; i++) CHECK_STATUS(bg_pool_submit(p, nested, p, NULL, &t[i]), BG_OK);
        for (int i = 0; i < 8; i++) {
            CHECK_STATUS(bg_wait_timeout(t[i], TEST_TIMEOUT_NS, NULL), BG_OK);
            CHECK_STATUS(bg_task_release(t[i]), BG_OK);
        }
        CHECK_STATUS(bg_pool_free(p), BG_OK);
    }

    CHECK_STATUS(bg_parallel_for(pool, 2, 1, 1, body, NULL), BG_EINVAL);
    CHECK_STATUS(bg_parallel_for(pool, 0, 1, 1, NULL, NULL), BG_EINVAL);
    CHECK_STATUS(bg_parallel_for(NULL, 0, 1, 1, body, NULL), BG_EINVAL);
    CHECK_STATUS(bg_pool_shutdown(pool, BG_SHUTDOWN_DRAIN, TEST_TIMEOUT_NS), BG_OK);
    CHECK_STATUS(bg_parallel_for(pool, 0, 10, 1, body, NULL), BG_ESHUTDOWN);
    CHECK_STATUS(bg_pool_free(pool), BG_OK);
    return 0;
}
