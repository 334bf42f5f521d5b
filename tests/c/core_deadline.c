/* Start deadlines: a task no worker took by its deadline never runs, its
 * drop runs once and its waiters get BG_EEXPIRED (bg_stats.expired);
 * racing a worker's take, every task either ran or expired, once; with a
 * group it counts as not run; through a keyed lane and a delay the check
 * is made when a worker finally takes it. */
#include "check.h"

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

static atomic_int ran, dropped, gate, started;
static int count(void *arg) {
    (void)arg;
    atomic_fetch_add(&ran, 1);
    return 0;
}
static void count_drop(void *arg) {
    (void)arg;
    atomic_fetch_add(&dropped, 1);
}
static int blocker(void *arg) {
    (void)arg;
    atomic_store(&started, 1);
    while (!atomic_load(&gate)) sleep_ms(1);
    return 0;
}

static bg_submit_options deadline_opts(uint64_t ns) {
    bg_submit_options o;
    bg_submit_options_init(&o);
    o.drop = count_drop;
    o.deadline_ns = ns;
    return o;
}

int main(void) {
    bg_pool_options po;
    bg_pool_options_init(&po);
    po.threads = 1;
    po.max_threads = 1; /* the blocker holds the pool: no spare stands in */
    bg_pool *p;
    CHECK_STATUS(bg_pool_new(&po, &p), BG_OK);

    /* Expired behind a blocker: plain, fire-and-forget, keyed, delayed, in a group. */
    bg_task *b;
    CHECK_STATUS(bg_pool_submit(p, blocker, NULL, NULL, &b), BG_OK);
    while (!atomic_load(&started)) sleep_ms(1);
    bg_submit_options o = deadline_opts(1000000); /* 1 ms */
    bg_task *plain, *keyed, *delayed, *member, *fine;
    CHECK_STATUS(bg_pool_submit_ex(p, count, NULL, &o, &plain), BG_OK);
    CHECK_STATUS(bg_pool_submit_ex(p, count, NULL, &o, NULL), BG_OK);
    bg_submit_options ok = o;
    o.flags = BG_SUBMIT_KEYED;
    o.key = 7;
    CHECK_STATUS(bg_pool_submit_ex(p, count, NULL, &o, &keyed), BG_OK);
    o = deadline_opts(2000000);
    o.delay_ns = 1000000; /* due in 1 ms, must start by 2 ms */
    CHECK_STATUS(bg_pool_submit_ex(p, count, NULL, &o, &delayed), BG_OK);
    bg_group *g;
    CHECK_STATUS(bg_group_new(p, 0, &g), BG_OK);
    o = deadline_opts(1000000);
    o.group = g;
    CHECK_STATUS(bg_pool_submit_ex(p, count, NULL, &o, &member), BG_OK);
    ok.deadline_ns = TEST_TIMEOUT_NS * 6; /* a minute: runs */
    CHECK_STATUS(bg_pool_submit_ex(p, count, NULL, &ok, &fine), BG_OK);
    sleep_ms(30);
    atomic_store(&gate, 1);
    CHECK_STATUS(bg_wait_timeout(b, TEST_TIMEOUT_NS, NULL), BG_OK);
    CHECK_STATUS(bg_wait_timeout(plain, TEST_TIMEOUT_NS, NULL), BG_EEXPIRED);
    CHECK_STATUS(bg_wait_timeout(keyed, TEST_TIMEOUT_NS, NULL), BG_EEXPIRED);
    CHECK_STATUS(bg_wait_timeout(delayed, TEST_TIMEOUT_NS, NULL), BG_EEXPIRED);
    CHECK_STATUS(bg_wait_timeout(member, TEST_TIMEOUT_NS, NULL), BG_EEXPIRED);
    CHECK_STATUS(bg_group_wait(g, TEST_TIMEOUT_NS, NULL), BG_ECANCELLED); /* counts as not run */
    CHECK_STATUS(bg_wait_timeout(fine, TEST_TIMEOUT_NS, NULL), BG_OK);
    CHECK_STATUS(bg_cancel(plain), BG_EDONE);
    bg_task *tasks[] = {b, plain, keyed, delayed, member, fine};
    for (int i = 0; i < 6; i++) bg_task_release(tasks[i]);
    CHECK_STATUS(bg_group_free(g), BG_OK);
    CHECK_STATUS(bg_pool_wait_idle(p, TEST_TIMEOUT_NS), BG_OK);
    CHECK(atomic_load(&ran) == 1);
    CHECK(atomic_load(&dropped) == 5);
    bg_stats s;
    CHECK_STATUS(bg_pool_stats(p, &s), BG_OK);
    CHECK(s.expired == 5);
    CHECK(strcmp(bg_strerror(BG_EEXPIRED), "unknown status") != 0);

    /* The race: deadlines around the time a worker takes each task. */
    CHECK_STATUS(bg_pool_set_threads(p, 3), BG_OK);
    atomic_store(&ran, 0);
    atomic_store(&dropped, 0);
    enum { N = 3000 };
    static bg_task *t[N];
    for (int i = 0; i < N; i++) {
        o = deadline_opts(10000 * (uint64_t)(i % 200)); /* 0 (none) .. 1.99 ms */
        if (i % 200 == 0) o.deadline_ns = 1; /* 1 ns: practically always expired */
        CHECK_STATUS(bg_pool_submit_ex(p, count, NULL, &o, &t[i]), BG_OK);
    }
    int oks = 0, expired = 0;
    for (int i = 0; i < N; i++) {
        bg_status st = bg_wait_timeout(t[i], TEST_TIMEOUT_NS, NULL);
        CHECK(st == BG_OK || st == BG_EEXPIRED);
        oks += st == BG_OK;
        expired += st == BG_EEXPIRED;
        bg_task_release(t[i]);
    }
    CHECK_STATUS(bg_pool_wait_idle(p, TEST_TIMEOUT_NS), BG_OK);
    CHECK(oks == atomic_load(&ran) && expired == atomic_load(&dropped));
    CHECK(oks + expired == N);
    CHECK_STATUS(bg_pool_stats(p, &s), BG_OK);
    CHECK(s.expired == 5 + (uint64_t)expired);
    printf("core_deadline: ok (%d ran, %d expired)\n", oks, expired);
    CHECK_STATUS(bg_pool_free(p), BG_OK);
    return 0;
}
