/* Pause and resume: a paused pool accepts submits but starts nothing,
 * running tasks finish, delayed tasks falling due wait; resume runs them;
 * a paused pool shut down drains (resumed) or cancels (drops run once);
 * pause racing shutdown and resize never strands a task. */
#include "check.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

static atomic_int ran, dropped;
static int count(void *arg) {
    (void)arg;
    atomic_fetch_add(&ran, 1);
    return 0;
}
static void count_drop(void *arg) {
    (void)arg;
    atomic_fetch_add(&dropped, 1);
}

static atomic_int gate, started;
static int blocker(void *arg) {
    (void)arg;
    atomic_fetch_add(&started, 1);
    while (!atomic_load(&gate)) sleep_ms(1);
    atomic_fetch_add(&ran, 1);
    return 0;
}

static bg_pool *new_pool(size_t threads) {
    bg_pool_options o;
    bg_pool_options_init(&o);
    o.threads = threads;
    bg_pool *p;
    CHECK_STATUS(bg_pool_new(&o, &p), BG_OK);
    return p;
}

static void reset(void) {
    atomic_store(&ran, 0);
    atomic_store(&dropped, 0);
    atomic_store(&gate, 0);
    atomic_store(&started, 0);
}

/* Basic: paused submits wait; a running task finishes; resume runs the rest. */
static void basic(void) {
    reset();
    bg_pool *p = new_pool(4);
    bg_task *b;
    CHECK_STATUS(bg_pool_submit(p, blocker, NULL, NULL, &b), BG_OK);
    while (!atomic_load(&started)) sleep_ms(1);
    CHECK_STATUS(bg_pool_pause(p), BG_OK);
    CHECK_STATUS(bg_pool_pause(p), BG_OK); /* again: allowed */
    for (int i = 0; i < 100; i++) CHECK_STATUS(bg_pool_submit(p, count, NULL, NULL, NULL), BG_OK);
    bg_task *late;
    CHECK_STATUS(bg_pool_submit_after(p, 1000000, count, NULL, NULL, &late), BG_OK); /* due in 1 ms */
    atomic_store(&gate, 1);
    CHECK_STATUS(bg_wait_timeout(b, TEST_TIMEOUT_NS, NULL), BG_OK); /* the running task finished */
    bg_task_release(b);
    sleep_ms(50);
    CHECK(atomic_load(&ran) == 1); /* nothing new started, not even the delayed task */
    bg_stats s;
    CHECK_STATUS(bg_pool_stats(p, &s), BG_OK);
    CHECK(s.paused == 1);
    CHECK(s.queued >= 100);
    CHECK(!bg_done(late));
    CHECK_STATUS(bg_pool_resume(p), BG_OK);
    CHECK_STATUS(bg_wait_timeout(late, TEST_TIMEOUT_NS, NULL), BG_OK);
    bg_task_release(late);
    CHECK_STATUS(bg_pool_wait_idle(p, TEST_TIMEOUT_NS), BG_OK);
    CHECK(atomic_load(&ran) == 102);
    CHECK_STATUS(bg_pool_stats(p, &s), BG_OK);
    CHECK(s.paused == 0);
    CHECK_STATUS(bg_pool_resume(p), BG_OK); /* not paused: nothing happens */
    CHECK_STATUS(bg_pool_free(p), BG_OK);
}

/* Shutdown of a paused pool: drain runs everything, cancel drops everything. */
static void shutdown_paused(uint32_t mode) {
    reset();
    bg_pool *p = new_pool(2);
    CHECK_STATUS(bg_pool_pause(p), BG_OK);
    bg_task *t;
    CHECK_STATUS(bg_pool_submit(p, count, NULL, count_drop, &t), BG_OK);
    for (int i = 0; i < 50; i++) CHECK_STATUS(bg_pool_submit(p, count, NULL, count_drop, NULL), BG_OK);
    CHECK_STATUS(bg_pool_shutdown(p, mode, TEST_TIMEOUT_NS), BG_OK);
    CHECK_STATUS(bg_pool_pause(p), BG_ESHUTDOWN);
    if (mode == BG_SHUTDOWN_DRAIN) {
        CHECK(atomic_load(&ran) == 51 && atomic_load(&dropped) == 0);
        CHECK_STATUS(bg_wait(t, NULL), BG_OK);
    } else {
        CHECK(atomic_load(&ran) == 0 && atomic_load(&dropped) == 51);
        CHECK_STATUS(bg_wait(t, NULL), BG_ESHUTDOWN);
    }
    bg_task_release(t);
    CHECK_STATUS(bg_pool_free(p), BG_OK);
}

/* Races: pause/resume from one thread while another resizes, then a
 * shutdown races the pauser. Every accepted task runs or drops once. */
static bg_pool *race_pool;
static atomic_int stop;
static void *pauser(void *arg) {
    (void)arg;
    while (!atomic_load(&stop)) {
        bg_status s = bg_pool_pause(race_pool);
        CHECK(s == BG_OK || s == BG_ESHUTDOWN);
        CHECK_STATUS(bg_pool_resume(race_pool), BG_OK);
    }
    return NULL;
}
static void *resizer(void *arg) {
    (void)arg;
    for (int i = 0; !atomic_load(&stop); i++) {
        bg_status s = bg_pool_set_threads(race_pool, 1 + (size_t)(i % 4));
        CHECK(s == BG_OK || s == BG_ESHUTDOWN);
    }
    return NULL;
}

static void races(uint32_t mode) {
    reset();
    atomic_store(&stop, 0);
    race_pool = new_pool(3);
    pthread_t a, b;
    pthread_create(&a, NULL, pauser, NULL);
    pthread_create(&b, NULL, resizer, NULL);
    int accepted = 0;
    for (int i = 0; i < 3000; i++)
        if (bg_pool_submit(race_pool, count, NULL, count_drop, NULL) == BG_OK) accepted++;
    CHECK_STATUS(bg_pool_pause(race_pool), BG_OK); /* may be resumed by the pauser: either is fine */
    CHECK_STATUS(bg_pool_shutdown(race_pool, mode, TEST_TIMEOUT_NS), BG_OK);
    atomic_store(&stop, 1);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    CHECK(atomic_load(&ran) + atomic_load(&dropped) == accepted);
    if (mode == BG_SHUTDOWN_DRAIN) CHECK(atomic_load(&dropped) == 0);
    CHECK_STATUS(bg_pool_free(race_pool), BG_OK);
}

int main(void) {
    basic();
    shutdown_paused(BG_SHUTDOWN_DRAIN);
    shutdown_paused(BG_SHUTDOWN_CANCEL);
    for (int i = 0; i < 5; i++) {
        races(BG_SHUTDOWN_DRAIN);
        races(BG_SHUTDOWN_CANCEL);
    }
    CHECK_STATUS(bg_pool_pause(NULL), BG_EINVAL);
    CHECK_STATUS(bg_pool_resume(NULL), BG_EINVAL);
    puts("core_pause: ok");
    return 0;
}
