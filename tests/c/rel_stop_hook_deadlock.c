/* An on_thread_stop hook that shuts down or frees its own pool gets
 * BG_EDEADLK (issue 18, item 7) instead of waiting for itself: for the
 * timeout given, or forever (bg_pool_free). The hook fires when a shrink
 * retires worker 1. Before the fix the stopping thread no longer counted as
 * a worker but still counted as live. */
#include "check.h"

#include <stdatomic.h>

struct ctx {
    bg_pool *pool;
    int use_free;
    atomic_int fired;
    atomic_int status;
};

static void on_stop(void *p, size_t idx) {
    struct ctx *c = p;
    if (idx != 1 || atomic_exchange(&c->fired, 1)) return;
    bg_status st = c->use_free ? bg_pool_free(c->pool)
                               : bg_pool_shutdown(c->pool, BG_SHUTDOWN_DRAIN, 2ull * 1000 * 1000 * 1000);
    atomic_store(&c->status, st);
}

static void run(int use_free) {
    struct ctx c = {NULL, use_free, 0, -100};
    bg_pool_options o;
    bg_pool_options_init(&o);
    o.threads = 2;
    o.on_thread_stop = on_stop;
    o.hook_ctx = &c;
    CHECK_STATUS(bg_pool_new(&o, &c.pool), BG_OK);
    CHECK_STATUS(bg_pool_set_threads(c.pool, 1), BG_OK);
    for (int i = 0; i < 10000 && atomic_load(&c.status) == -100; i++) sleep_ms(1);
    CHECK_STATUS((bg_status)atomic_load(&c.status), BG_EDEADLK);
    /* The close has begun; joining from outside finishes it. */
    CHECK_STATUS(bg_pool_free(c.pool), BG_OK);
}

int main(void) {
    run(0);
    run(1);
    printf("rel_stop_hook_deadlock: a stop hook closing its own pool got BG_EDEADLK\n");
    return 0;
}
