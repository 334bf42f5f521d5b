/* Serial queues and keyed lanes from C: with several producer threads,
 * tasks of one queue (or one key) never overlap and run in submission
 * order, on every run; waiting on a later task of the same queue reports
 * BG_EDEADLK; a cancel shutdown drops queued tasks exactly once. */
#include "check.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#define PRODUCERS 4
#define PER_PRODUCER 300
#define QUEUES 3
#define KEYS 8

/* One ordered stream (a serial queue, or a key). */
typedef struct {
    atomic_int busy;       /* a task of this stream is running */
    int next[PRODUCERS];   /* each producer's last sequence number seen here, plus one */
    int ran;
} stream;

static stream streams[QUEUES + KEYS];
static atomic_int overlaps, disorders;
static bg_pool *pool;
static bg_serial *queues[QUEUES];

typedef struct {
    stream *s;
    int producer, seq;
} item;

static int item_fn(void *arg) {
    item *it = arg;
    if (atomic_exchange(&it->s->busy, 1)) atomic_fetch_add(&overlaps, 1);
    /* Only this stream's running task touches its fields. */
    if (it->seq < it->s->next[it->producer]) atomic_fetch_add(&disorders, 1);
    it->s->next[it->producer] = it->seq + 1;
    it->s->ran++;
    atomic_store(&it->s->busy, 0);
    free(it);
    return 0;
}

static item *new_item(stream *s, int producer, int seq) {
    item *it = malloc(sizeof *it);
    CHECK(it != NULL);
    *it = (item){s, producer, seq};
    return it;
}

static void *producer(void *arg) {
    int me = (int)(intptr_t)arg;
    for (int seq = 0; seq < PER_PRODUCER; seq++) {
        for (int q = 0; q < QUEUES; q++)
            CHECK_STATUS(bg_serial_submit(queues[q], item_fn, new_item(&streams[q], me, seq), free, NULL), BG_OK);
        uint64_t key = (uint64_t)(seq + me) % KEYS;
        CHECK_STATUS(bg_pool_submit_keyed(pool, key, item_fn, new_item(&streams[QUEUES + key], me, seq), free, NULL), BG_OK);
    }
    return NULL;
}

/* A task that waits on a later task of its own queue. */
static bg_task *later;
static atomic_int may_wait;
static int waits_on_later(void *arg) {
    (void)arg;
    while (!atomic_load(&may_wait)) sleep_ms(1);
    return (int)bg_wait_timeout(later, TEST_TIMEOUT_NS, NULL);
}

static int noop(void *arg) {
    (void)arg;
    return 0;
}

static atomic_int gate_open, runs, drops;
static int blocker_fn(void *arg) {
    atomic_store((atomic_int *)arg, 1);
    while (!atomic_load(&gate_open)) sleep_ms(1);
    return 0;
}
static int count_run(void *arg) {
    (void)arg;
    atomic_fetch_add(&runs, 1);
    return 0;
}
static void count_drop(void *arg) {
    (void)arg;
    atomic_fetch_add(&drops, 1);
}
static void *shutdown_cancel(void *p) {
    return (void *)(intptr_t)bg_pool_shutdown(p, BG_SHUTDOWN_CANCEL, TEST_TIMEOUT_NS);
}

static void check_deadlock(bg_serial *q, uint64_t key) {
    bg_task *first;
    atomic_store(&may_wait, 0);
    if (q) {
        CHECK_STATUS(bg_serial_submit(q, waits_on_later, NULL, NULL, &first), BG_OK);
        CHECK_STATUS(bg_serial_submit(q, noop, NULL, NULL, &later), BG_OK);
    } else {
        CHECK_STATUS(bg_pool_submit_keyed(pool, key, waits_on_later, NULL, NULL, &first), BG_OK);
        CHECK_STATUS(bg_pool_submit_keyed(pool, key, noop, NULL, NULL, &later), BG_OK);
    }
    atomic_store(&may_wait, 1);
    int rc = 0;
    CHECK_STATUS(bg_wait_timeout(first, TEST_TIMEOUT_NS, &rc), BG_EFAILED);
    CHECK(rc == BG_EDEADLK);
    CHECK_STATUS(bg_wait_timeout(later, TEST_TIMEOUT_NS, NULL), BG_OK);
    CHECK_STATUS(bg_task_release(first), BG_OK);
    CHECK_STATUS(bg_task_release(later), BG_OK);
}

int main(void) {
    bg_pool_options o;
    bg_pool_options_init(&o);
    o.threads = 2;
    CHECK_STATUS(bg_pool_new(&o, &pool), BG_OK);
    for (int q = 0; q < QUEUES; q++) CHECK_STATUS(bg_serial_new(pool, &queues[q]), BG_OK);

    pthread_t th[PRODUCERS];
    for (int i = 0; i < PRODUCERS; i++) pthread_create(&th[i], NULL, producer, (void *)(intptr_t)i);
    for (int i = 0; i < PRODUCERS; i++) pthread_join(th[i], NULL);
    /* Draining the pool runs every queued task, then joins. */
    check_deadlock(queues[0], 0);
    check_deadlock(NULL, 3);
    for (int q = 0; q < QUEUES; q++) CHECK_STATUS(bg_serial_free(queues[q]), BG_OK);
    CHECK_STATUS(bg_pool_free(pool), BG_OK);

    int total = 0;
    for (int s = 0; s < QUEUES + KEYS; s++) total += streams[s].ran;
    CHECK(total == PRODUCERS * PER_PRODUCER * (QUEUES + 1));
    for (int q = 0; q < QUEUES; q++)
        for (int p = 0; p < PRODUCERS; p++) CHECK(streams[q].next[p] == PER_PRODUCER);
    CHECK(atomic_load(&overlaps) == 0);
    CHECK(atomic_load(&disorders) == 0);

    /* A cancel shutdown drops what serial queues and lanes still hold. */
    o.threads = 1;
    o.max_threads = 1; /* the blocker holds the pool: no spare thread stands in */
    CHECK_STATUS(bg_pool_new(&o, &pool), BG_OK);
    bg_serial *q;
    CHECK_STATUS(bg_serial_new(pool, &q), BG_OK);
    atomic_int started = 0;
    bg_task *blocker;
    CHECK_STATUS(bg_pool_submit(pool, blocker_fn, &started, NULL, &blocker), BG_OK);
    while (!atomic_load(&started)) sleep_ms(1);
    bg_task *handles[200];
    for (int i = 0; i < 100; i++) CHECK_STATUS(bg_serial_submit(q, count_run, NULL, count_drop, &handles[i]), BG_OK);
    for (int i = 100; i < 200; i++)
        CHECK_STATUS(bg_pool_submit_keyed(pool, (uint64_t)i % 7, count_run, NULL, count_drop, &handles[i]), BG_OK);
    CHECK_STATUS(bg_serial_free(q), BG_OK);
    pthread_t closer;
    pthread_create(&closer, NULL, shutdown_cancel, pool);
    while (bg_pool_submit(pool, noop, NULL, NULL, NULL) != BG_ESHUTDOWN) sleep_ms(1);
    atomic_store(&gate_open, 1);
    void *closed;
    pthread_join(closer, &closed);
    CHECK((bg_status)(intptr_t)closed == BG_OK);
    for (int i = 0; i < 200; i++) {
        CHECK_STATUS(bg_wait_timeout(handles[i], TEST_TIMEOUT_NS, NULL), BG_ESHUTDOWN);
        CHECK_STATUS(bg_task_release(handles[i]), BG_OK);
    }
    CHECK(atomic_load(&runs) == 0);
    CHECK(atomic_load(&drops) == 200);
    CHECK_STATUS(bg_pool_submit_keyed(pool, 1, count_run, NULL, count_drop, NULL), BG_ESHUTDOWN);
    CHECK_STATUS(bg_task_release(blocker), BG_OK);
    CHECK_STATUS(bg_pool_free(pool), BG_OK);
    CHECK_STATUS(bg_serial_submit(NULL, noop, NULL, NULL, NULL), BG_EINVAL);
    return 0;
}
