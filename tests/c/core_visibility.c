/* Visibility: a timed pool's bg_stats/bg_pool_timing count every task that
 * ran with plausible queue waits and run times; task hooks bracket each task
 * that runs (starts == ends == tasks, right results and durations, same
 * thread); an untimed pool reports zeros; busy and running count a worker
 * helping while it waits once and its two tasks twice. */
#include "check.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#define N 200
#define SLEEP_US 2000

static atomic_int starts, ends, bad, failed_seen;
static atomic_uint_least64_t run_total;
static _Thread_local int depth; /* hooks nest LIFO on a thread */
static bg_pool *hooked;

static int quick(void *arg) { return (int)(intptr_t)arg; }
static void no_drop(void *arg) { (void)arg; }
static int sleepy(void *arg) {
    (void)arg;
    usleep(SLEEP_US);
    return 0;
}

static void on_start(void *ctx, const bg_task_info *i) {
    if (ctx != (void *)&starts || i->pool != hooked || i->run_ns != 0 || i->result != 0) atomic_fetch_add(&bad, 1);
    if (i->worker >= 4 || i->func == NULL) atomic_fetch_add(&bad, 1);
    depth++;
    atomic_fetch_add(&starts, 1);
}

static void on_end(void *ctx, const bg_task_info *i) {
    if (ctx != (void *)&starts || depth != 1) atomic_fetch_add(&bad, 1);
    depth--;
    if (i->result != (int)(intptr_t)i->arg && i->func == quick) atomic_fetch_add(&bad, 1);
    if (i->result != 0) atomic_fetch_add(&failed_seen, 1);
    atomic_fetch_add(&run_total, i->run_ns);
    atomic_fetch_add(&ends, 1);
}

static void timed_pool(void) {
    bg_pool_options o;
    bg_pool_options_init(&o);
    o.threads = 2;
    o.timing = 1;
    bg_pool *p;
    CHECK_STATUS(bg_pool_new(&o, &p), BG_OK);
    bg_task *t[N];
    for (int i = 0; i < N; i++) CHECK_STATUS(bg_pool_submit(p, i % 10 ? quick : sleepy, NULL, NULL, &t[i]), BG_OK);
    for (int i = 0; i < N; i++) {
        CHECK_STATUS(bg_wait_timeout(t[i], TEST_TIMEOUT_NS, NULL), BG_OK);
        CHECK_STATUS(bg_task_release(t[i]), BG_OK);
    }
    CHECK_STATUS(bg_pool_shutdown(p, BG_SHUTDOWN_DRAIN, BG_FOREVER), BG_OK);
    bg_stats s;
    bg_timing tm;
    CHECK_STATUS(bg_pool_stats(p, &s), BG_OK);
    CHECK_STATUS(bg_pool_timing(p, &tm), BG_OK);
    CHECK(s.timed == N && tm.timed == N);
    CHECK(s.queue_wait_ns == tm.queue_wait_ns && s.run_ns == tm.run_ns);
    /* 20 tasks slept 2 ms each: at least 40 ms of run time in all. */
    CHECK(tm.run_ns >= 20ull * SLEEP_US * 1000);
    /* p99 covers the sleepers (upper bucket bound >= the 2 ms they took),
     * p50 the quick tasks, well under a sleeper. */
    CHECK(tm.run_p99_ns >= SLEEP_US * 1000ull && tm.run_p50_ns < SLEEP_US * 1000ull);
    CHECK(tm.queue_wait_p50_ns <= tm.queue_wait_p99_ns);
    uint64_t wn = 0, rn = 0;
    for (int b = 0; b < BG_TIMING_BUCKETS; b++) wn += tm.queue_wait_hist[b], rn += tm.run_hist[b];
    CHECK(wn == N && rn == N);
    CHECK(s.busy == 0 && s.running == 0);
    CHECK(s.reserved[0] == 0);
    CHECK_STATUS(bg_pool_free(p), BG_OK);
}

static void untimed_pool_reports_zero(void) {
    bg_pool *p;
    CHECK_STATUS(bg_pool_new(NULL, &p), BG_OK);
    for (int i = 0; i < 10; i++) CHECK_STATUS(bg_pool_submit(p, quick, NULL, NULL, NULL), BG_OK);
    CHECK_STATUS(bg_pool_shutdown(p, BG_SHUTDOWN_DRAIN, BG_FOREVER), BG_OK);
    bg_stats s;
    bg_timing tm;
    CHECK_STATUS(bg_pool_stats(p, &s), BG_OK);
    CHECK_STATUS(bg_pool_timing(p, &tm), BG_OK);
    CHECK(s.completed == 10 && s.timed == 0 && s.queue_wait_ns == 0 && s.run_ns == 0);
    CHECK(tm.timed == 0 && tm.run_p99_ns == 0);
    CHECK_STATUS(bg_pool_timing(p, NULL), BG_EINVAL);
    CHECK_STATUS(bg_pool_timing(NULL, &tm), BG_EINVAL);
    CHECK_STATUS(bg_pool_free(p), BG_OK);
}

static void hooks(void) {
    bg_pool_options o;
    bg_pool_options_init(&o);
    o.threads = 4;
    CHECK_STATUS(bg_pool_new(&o, &hooked), BG_OK);
    CHECK_STATUS(bg_pool_set_task_hooks(NULL, on_start, on_end, NULL), BG_EINVAL);
    CHECK_STATUS(bg_pool_set_task_hooks(hooked, on_start, on_end, &starts), BG_OK);
    bg_error_fn ignore = bg_error_ignore;
    CHECK_STATUS(bg_pool_set_error_handler(hooked, ignore, NULL), BG_OK);
    /* Fire-and-forget (with and without a drop) and handles; every 7th fails. */
    for (int i = 0; i < N; i++) {
        void *arg = (void *)(intptr_t)(i % 7 == 0 ? 3 : 0);
        if (i % 3 == 0) {
            CHECK_STATUS(bg_pool_submit(hooked, quick, arg, NULL, NULL), BG_OK);
        } else if (i % 3 == 1) {
            CHECK_STATUS(bg_pool_submit(hooked, quick, arg, no_drop, NULL), BG_OK);
        } else {
            bg_task *t;
            CHECK_STATUS(bg_pool_submit(hooked, quick, arg, NULL, &t), BG_OK);
            CHECK_STATUS(bg_task_release(t), BG_OK);
        }
    }
    CHECK_STATUS(bg_pool_shutdown(hooked, BG_SHUTDOWN_DRAIN, BG_FOREVER), BG_OK);
    int failing = 0;
    for (int i = 0; i < N; i++) failing += i % 7 == 0;
    CHECK(atomic_load(&bad) == 0);
    CHECK(atomic_load(&starts) == N && atomic_load(&ends) == N);
    CHECK(atomic_load(&failed_seen) == failing);
    bg_stats s;
    CHECK_STATUS(bg_pool_stats(hooked, &s), BG_OK);
    CHECK(s.timed == N && s.completed + s.failed == N && s.failed == (uint64_t)failing);
    /* The hooks saw the same run times the stats added up. */
    CHECK(s.run_ns == atomic_load(&run_total));
    /* Removing the hooks: nothing more is called. */
    CHECK_STATUS(bg_pool_set_task_hooks(hooked, NULL, NULL, NULL), BG_OK);
    CHECK_STATUS(bg_pool_free(hooked), BG_OK);
}

/* On a one-thread pool a task waiting for its child runs the child itself:
 * while the child runs, two tasks run on one busy worker; after, one. */
static bg_pool *one;
static bg_stats inner_seen, outer_seen;
static int child(void *arg) {
    (void)arg;
    return bg_pool_stats(one, &inner_seen) == BG_OK ? 0 : 1;
}
static int parent(void *arg) {
    (void)arg;
    bg_task *c;
    if (bg_pool_submit(one, child, NULL, NULL, &c) != BG_OK) return 1;
    bg_status st = bg_wait_timeout(c, TEST_TIMEOUT_NS, NULL);
    bg_task_release(c);
    if (st != BG_OK) return 2;
    return bg_pool_stats(one, &outer_seen) == BG_OK ? 0 : 3;
}

static void busy_and_running_while_helping(void) {
    bg_pool_options o;
    bg_pool_options_init(&o);
    o.threads = 1;
    o.max_threads = 1; /* no spare thread, even if the monitor misjudges a wait */
    CHECK_STATUS(bg_pool_new(&o, &one), BG_OK);
    bg_task *t;
    CHECK_STATUS(bg_pool_submit(one, parent, NULL, NULL, &t), BG_OK);
    CHECK_STATUS(bg_wait_timeout(t, TEST_TIMEOUT_NS, NULL), BG_OK);
    CHECK_STATUS(bg_task_release(t), BG_OK);
    CHECK(inner_seen.busy == 1 && inner_seen.running == 2);
    /* Before the depth count, the child's end cleared the flag while its
     * parent still ran: running read 0 here. */
    CHECK(outer_seen.busy == 1 && outer_seen.running == 1);
    CHECK_STATUS(bg_pool_free(one), BG_OK);
}

int main(void) {
    timed_pool();
    untimed_pool_reports_zero();
    hooks();
    busy_and_running_while_helping();
    puts("core_visibility: ok");
    return 0;
}
