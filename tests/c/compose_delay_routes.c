/* bg_pool_submit_ex with a delay and a key, a limiter or a priority: when
 * due, the task joins its lane, its limiter or the pool's queue at its
 * priority, and waits there as if submitted then ("send this mail in ten
 * minutes, one at a time per user"). Before, every such combination was
 * BG_EINVAL.
 *
 * - delay + key: five delayed tasks of one lane run one at a time, in
 *   submission order, none before its delay; an undelayed task of the same
 *   lane submitted after them runs first.
 * - delay + limiter of width 1: one at a time, in order, none early.
 * - delay + high priority: on a one-thread pool held by a blocker, a high
 *   task that fell due behind three normal ones runs first.
 * - what stays refused: a key with a limiter, a priority with a key,
 *   BG_SUBMIT_WAIT with a delay. */
#include "check.h"

#include <stdatomic.h>
#include <stdint.h>

#define DELAY_NS (20ull * 1000 * 1000)

static atomic_int inside, overlaps, next_slot;
static int order[16];
static uint64_t started_at[16];

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One at a time: notes its id in run order and when it started. */
static int exclusive(void *arg) {
    int id = (int)(intptr_t)arg;
    if (atomic_fetch_add(&inside, 1) != 0) atomic_fetch_add(&overlaps, 1);
    int slot = atomic_fetch_add(&next_slot, 1);
    order[slot] = id;
    started_at[id] = now_ns();
    sleep_ms(2);
    atomic_fetch_sub(&inside, 1);
    return 0;
}

static void reset(void) {
    atomic_store(&inside, 0);
    atomic_store(&overlaps, 0);
    atomic_store(&next_slot, 0);
}

static void wait_all(bg_task **t, int n) {
    for (int i = 0; i < n; i++) {
        CHECK_STATUS(bg_wait_timeout(t[i], TEST_TIMEOUT_NS, NULL), BG_OK);
        CHECK_STATUS(bg_task_release(t[i]), BG_OK);
    }
}

static void delayed_lane(bg_pool *p) {
    reset();
    bg_submit_options o;
    bg_submit_options_init(&o);
    o.flags = BG_SUBMIT_KEYED;
    o.key = 9;
    o.delay_ns = DELAY_NS;
    bg_task *t[6];
    uint64_t t0 = now_ns();
    for (int i = 0; i < 5; i++) CHECK_STATUS(bg_pool_submit_ex(p, exclusive, (void *)(intptr_t)i, &o, &t[i]), BG_OK);
    o.delay_ns = 0;
    CHECK_STATUS(bg_pool_submit_ex(p, exclusive, (void *)(intptr_t)5, &o, &t[5]), BG_OK);
    wait_all(t, 6);
    CHECK(atomic_load(&overlaps) == 0 && atomic_load(&next_slot) == 6);
    CHECK(order[0] == 5);
    for (int i = 0; i < 5; i++) {
        CHECK(order[i + 1] == i);
        CHECK(started_at[i] - t0 >= DELAY_NS);
    }
}

static void delayed_limiter(bg_pool *p) {
    reset();
    bg_limit *l;
    CHECK_STATUS(bg_limit_new(p, 1, &l), BG_OK);
    bg_submit_options o;
    bg_submit_options_init(&o);
    o.limit = l;
    o.delay_ns = DELAY_NS;
    bg_task *t[4];
    uint64_t t0 = now_ns();
    for (int i = 0; i < 4; i++) CHECK_STATUS(bg_pool_submit_ex(p, exclusive, (void *)(intptr_t)i, &o, &t[i]), BG_OK);
    wait_all(t, 4);
    CHECK(atomic_load(&overlaps) == 0 && atomic_load(&next_slot) == 4);
    for (int i = 0; i < 4; i++) {
        CHECK(order[i] == i);
        CHECK(started_at[i] - t0 >= DELAY_NS);
    }
    CHECK_STATUS(bg_limit_free(l), BG_OK);
}

static atomic_int gate, blocker_in;
static int blocker(void *arg) {
    (void)arg;
    atomic_store(&blocker_in, 1);
    while (!atomic_load(&gate)) sleep_ms(1);
    return 0;
}

static void delayed_priority(void) {
    reset();
    bg_pool_options po;
    bg_pool_options_init(&po);
    po.threads = 1;
    po.max_threads = 1; /* the blocker holds the pool: no spare thread stands in */
    bg_pool *p;
    CHECK_STATUS(bg_pool_new(&po, &p), BG_OK);
    CHECK_STATUS(bg_pool_submit(p, blocker, NULL, NULL, NULL), BG_OK);
    while (!atomic_load(&blocker_in)) sleep_ms(1);
    bg_task *t[4];
    for (int i = 0; i < 3; i++) CHECK_STATUS(bg_pool_submit(p, exclusive, (void *)(intptr_t)i, NULL, &t[i]), BG_OK);
    bg_submit_options o;
    bg_submit_options_init(&o);
    o.priority = BG_PRIORITY_HIGH;
    o.delay_ns = DELAY_NS / 4;
    CHECK_STATUS(bg_pool_submit_ex(p, exclusive, (void *)(intptr_t)3, &o, &t[3]), BG_OK);
    /* Let it fall due (5 ms) and be queued at high priority behind the
     * blocker: four tasks queued then. */
    bg_stats s;
    uint64_t until = now_ns() + TEST_TIMEOUT_NS;
    do {
        sleep_ms(1);
        CHECK_STATUS(bg_pool_stats(p, &s), BG_OK);
    } while (s.queued < 4 && now_ns() < until);
    CHECK(s.queued == 4);
    atomic_store(&gate, 1);
    wait_all(t, 4);
    CHECK(order[0] == 3 && order[1] == 0 && order[2] == 1 && order[3] == 2);
    CHECK_STATUS(bg_pool_free(p), BG_OK);
}

static void still_refused(bg_pool *p) {
    bg_limit *l;
    CHECK_STATUS(bg_limit_new(p, 1, &l), BG_OK);
    bg_submit_options o;
    bg_submit_options_init(&o);
    o.flags = BG_SUBMIT_KEYED;
    o.limit = l;
    o.delay_ns = DELAY_NS;
    CHECK_STATUS(bg_pool_submit_ex(p, exclusive, NULL, &o, NULL), BG_EINVAL);
    bg_submit_options_init(&o);
    o.flags = BG_SUBMIT_KEYED;
    o.priority = BG_PRIORITY_HIGH;
    CHECK_STATUS(bg_pool_submit_ex(p, exclusive, NULL, &o, NULL), BG_EINVAL);
    bg_submit_options_init(&o);
    o.flags = BG_SUBMIT_WAIT;
    o.delay_ns = DELAY_NS;
    CHECK_STATUS(bg_pool_submit_ex(p, exclusive, NULL, &o, NULL), BG_EINVAL);
    CHECK_STATUS(bg_limit_free(l), BG_OK);
}

int main(void) {
    bg_pool_options po;
    bg_pool_options_init(&po);
    po.threads = 2;
    bg_pool *p;
    CHECK_STATUS(bg_pool_new(&po, &p), BG_OK);
    delayed_lane(p);
    delayed_limiter(p);
    still_refused(p);
    CHECK_STATUS(bg_pool_free(p), BG_OK);
    delayed_priority();
    puts("compose_delay_routes: ok");
    return 0;
}
