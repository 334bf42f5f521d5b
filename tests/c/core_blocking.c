/* Blocked workers are compensated (issue 14): a task blocked in the kernel
 * (usleep, read, a wait that does not help) does not hold back queued work;
 * spares stay within max_threads, show in bg_pool_stats and in thread
 * names, exit after their keep-alive, and a drain and a cancel with spares
 * running lose nothing (a fork: core_blocking_fork.c).
 *
 * Fails on the code before issue 14: the queued task waits for a blocker
 * (1 s), the two BG_WAIT_NO_HELP waits never end (their inner tasks sit in
 * the waiting workers' deques; the check times out after 10 s). */
#include "check.h"

#include <dirent.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static bg_pool *new_pool(size_t threads, size_t max_threads, const char *name) {
    bg_pool_options o;
    bg_pool_options_init(&o);
    o.threads = threads;
    o.max_threads = max_threads;
    o.name_prefix = name;
    bg_pool *p;
    CHECK_STATUS(bg_pool_new(&o, &p), BG_OK);
    return p;
}

/* Threads of this process whose name starts with `prefix`; the last one's
 * id goes to `tid` unless it is NULL. */
static int threads_named(const char *prefix, char tid[256]) {
    int n = 0;
    DIR *d = opendir("/proc/self/task");
    CHECK(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[300], comm[32] = {0};
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        if (fgets(comm, sizeof comm, f) && strncmp(comm, prefix, strlen(prefix)) == 0) {
            n++;
            if (tid) snprintf(tid, 256, "%s", e->d_name);
        }
        fclose(f);
    }
    closedir(d);
    return n;
}

static int block_ms(void *arg) {
    usleep((useconds_t)(uintptr_t)arg * 1000);
    return 0;
}

static int block_read(void *arg) {
    char c;
    return read((int)(intptr_t)arg, &c, 1) == 1 ? 0 : 1;
}

static atomic_uint_fast64_t quick_at;
static int quick(void *arg) {
    (void)arg;
    atomic_store(&quick_at, now_ns());
    return 0;
}

/* Submits `quick` to `p`, waits for it, returns how long it waited to start. */
static uint64_t quick_start_ms(bg_pool *p) {
    uint64_t t0 = now_ns();
    bg_task *t;
    CHECK_STATUS(bg_pool_submit(p, quick, NULL, NULL, &t), BG_OK);
    CHECK_STATUS(bg_wait_timeout(t, TEST_TIMEOUT_NS, NULL), BG_OK);
    CHECK_STATUS(bg_task_release(t), BG_OK);
    return (atomic_load(&quick_at) - t0) / 1000000;
}

/* 1. A queued task does not wait for two blocked workers. */
static void queued_task_runs_past_blockers(void) {
    bg_pool *p = new_pool(2, 0, "blk");
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    CHECK_STATUS(bg_pool_submit(p, block_ms, (void *)(uintptr_t)1000, NULL, NULL), BG_OK);
    CHECK_STATUS(bg_pool_submit(p, block_read, (void *)(intptr_t)sv[0], NULL, NULL), BG_OK);
    sleep_ms(20); /* both workers are inside their blocking calls */
    /* Generous for a loaded CI machine and valgrind; before: ~1000 ms. */
    CHECK(quick_start_ms(p) < 500);
    bg_stats s;
    CHECK_STATUS(bg_pool_stats(p, &s), BG_OK);
    CHECK(s.spares >= 1);
    CHECK(s.threads == 2);
    CHECK(threads_named("blk-s", NULL) >= 1);
    CHECK(write(sv[1], "x", 1) == 1);
    CHECK_STATUS(bg_pool_free(p), BG_OK);
    close(sv[0]);
    close(sv[1]);
}

/* 2. max_threads holds, and compensation happens up to it. */
static atomic_int running, most;
static int counted_block(void *arg) {
    int n = atomic_fetch_add(&running, 1) + 1;
    int m = atomic_load(&most);
    while (n > m && !atomic_compare_exchange_weak(&most, &m, n)) {
    }
    usleep((useconds_t)(uintptr_t)arg * 1000);
    atomic_fetch_sub(&running, 1);
    return 0;
}

static void max_threads_holds(void) {
    bg_pool *p = new_pool(2, 4, "cap");
    atomic_store(&most, 0);
    for (int i = 0; i < 24; i++) CHECK_STATUS(bg_pool_submit(p, counted_block, (void *)(uintptr_t)60, NULL, NULL), BG_OK);
    CHECK_STATUS(bg_pool_free(p), BG_OK); /* drains: every task ran */
    CHECK(atomic_load(&most) <= 4);
    CHECK(atomic_load(&most) > 2);
    /* Below the pool's size: refused. */
    bg_pool_options o;
    bg_pool_options_init(&o);
    o.threads = 4;
    o.max_threads = 2;
    CHECK_STATUS(bg_pool_new(&o, &p), BG_EINVAL);
}

/* 3. Two waits that do not help, on a two-thread pool, on tasks still queued. */
static atomic_int outer_started;
static int inner(void *arg) {
    (void)arg;
    return 0;
}
static int outer(void *arg) {
    (void)arg;
    atomic_fetch_add(&outer_started, 1);
    while (atomic_load(&outer_started) < 2) usleep(100);
    bg_task *t = bg_submit(inner, NULL); /* queued on this worker's own deque */
    CHECK(t);
    bg_status st = bg_wait_ex(t, TEST_TIMEOUT_NS, BG_WAIT_NO_HELP, NULL);
    bg_task_release(t);
    return st == BG_OK ? 0 : 1;
}

static void no_help_waits_complete(void) {
    bg_pool *p = new_pool(2, 0, "nohelp");
    bg_task *a, *b;
    CHECK_STATUS(bg_pool_submit(p, outer, NULL, NULL, &a), BG_OK);
    CHECK_STATUS(bg_pool_submit(p, outer, NULL, NULL, &b), BG_OK);
    CHECK_STATUS(bg_wait_timeout(a, 2 * TEST_TIMEOUT_NS, NULL), BG_OK);
    CHECK_STATUS(bg_wait_timeout(b, 2 * TEST_TIMEOUT_NS, NULL), BG_OK);
    bg_task_release(a);
    bg_task_release(b);
    CHECK_STATUS(bg_pool_free(p), BG_OK);
}

/* 4. Spares exit after the keep-alive (BG_SPARE_KEEPALIVE_MS=200 here). */
static void spares_exit_after_keep_alive(void) {
    bg_pool *p = new_pool(1, 0, "keep");
    for (int i = 0; i < 6; i++) CHECK_STATUS(bg_pool_submit(p, block_ms, (void *)(uintptr_t)100, NULL, NULL), BG_OK);
    bg_stats s;
    int saw = 0;
    for (int i = 0; i < 400 && !saw; i++) {
        CHECK_STATUS(bg_pool_stats(p, &s), BG_OK);
        saw = s.spares > 0;
        sleep_ms(5);
    }
    CHECK(saw);
    uint64_t deadline = now_ns() + TEST_TIMEOUT_NS;
    do {
        sleep_ms(20);
        CHECK_STATUS(bg_pool_stats(p, &s), BG_OK);
    } while ((s.spares != 0 || threads_named("keep-s", NULL) != 0) && now_ns() < deadline);
    CHECK(s.spares == 0);
    CHECK(threads_named("keep-s", NULL) == 0);
    CHECK(s.completed == 6);
    CHECK(threads_named("keep-", NULL) == 1);
    CHECK_STATUS(bg_pool_free(p), BG_OK);
}

/* 5. A drain and a cancel with spares running lose nothing. */
static atomic_int ran, dropped;
static int count_block(void *arg) {
    usleep((useconds_t)(uintptr_t)arg * 1000);
    atomic_fetch_add(&ran, 1);
    return 0;
}
static void count_drop(void *arg) {
    (void)arg;
    atomic_fetch_add(&dropped, 1);
}

static void shutdown_with_spares(uint32_t mode) {
    bg_pool *p = new_pool(1, 0, "shut");
    atomic_store(&ran, 0);
    atomic_store(&dropped, 0);
    enum { N = 40 };
    for (int i = 0; i < N; i++) CHECK_STATUS(bg_pool_submit(p, count_block, (void *)(uintptr_t)30, count_drop, NULL), BG_OK);
    bg_stats s;
    for (int i = 0; i < 400; i++) {
        CHECK_STATUS(bg_pool_stats(p, &s), BG_OK);
        if (s.spares >= 2) break;
        sleep_ms(2);
    }
    CHECK_STATUS(bg_pool_shutdown(p, mode, TEST_TIMEOUT_NS), BG_OK);
    CHECK(threads_named("shut-", NULL) == 0);
    if (mode == BG_SHUTDOWN_DRAIN) CHECK(atomic_load(&ran) == N);
    /* Every task ran or was dropped unrun, exactly once. */
    CHECK(atomic_load(&ran) + atomic_load(&dropped) == N);
    CHECK_STATUS(bg_pool_stats(p, &s), BG_OK);
    CHECK(s.spares == 0);
    CHECK(s.completed + s.cancelled == N);
    CHECK_STATUS(bg_pool_free(p), BG_OK);
}

/* 6. After a quiet spell (the monitor looks every 50 ms), a task queued
 * behind a lone blocker is not left waiting for that look: a submit that
 * finds every worker inside a task has the monitor look at once. */
static void queued_after_quiet_spell(void) {
    bg_pool *p = new_pool(1, 0, "qs");
    sleep_ms(150); /* the worker and the monitor settle into idle */
    CHECK_STATUS(bg_pool_submit(p, block_ms, (void *)(uintptr_t)1000, NULL, NULL), BG_OK);
    sleep_ms(5); /* the worker is inside its blocking call */
    /* Two looks 1 ms apart (a worker counts as blocked at its second);
     * without the submit's hurry, up to the 50 ms tick more. */
    CHECK(quick_start_ms(p) < 30);
    CHECK_STATUS(bg_pool_free(p), BG_OK);
}

/* The monitor's voluntary context switches so far (one per look, and one
 * per park). */
static long monitor_switches(void) {
    char tid[256], path[300], line[128];
    CHECK(threads_named("bg-monitor", tid) == 1);
    snprintf(path, sizeof path, "/proc/self/task/%s/status", tid);
    FILE *f = fopen(path, "r");
    CHECK(f);
    long n = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "voluntary_ctxt_switches: %ld", &n) == 1) break;
    fclose(f);
    CHECK(n >= 0);
    return n;
}

static int nop(void *arg) {
    (void)arg;
    return 0;
}

/* 7. Under sparse work (a task a millisecond, every worker parked between
 * tasks) the monitor keeps its 50 ms idle tick, one switch a look, about
 * 20 in a second (up to 26 with two CPU hogs beside it): it does not park,
 * which would have the next worker wake-up wake it on that worker's way to
 * its task (parking at every second look made about 40). Once nothing
 * runs, it parks: no switches, also when a worker wakes after a burst
 * only to give memory back. */
static void monitor_under_sparse_work(void) {
    bg_pool *p = new_pool(2, 0, "sp");
    CHECK_STATUS(bg_pool_submit(p, nop, NULL, NULL, NULL), BG_OK);
    sleep_ms(20);
    long before = monitor_switches();
    uint64_t start = now_ns();
    for (int i = 0; i < 2000; i++) {
        sleep_ms(1);
        CHECK_STATUS(bg_pool_submit(p, nop, NULL, NULL, NULL), BG_OK);
    }
    double secs = (double)(now_ns() - start) / 1e9;
    long sparse = monitor_switches() - before;
    fprintf(stderr, "monitor: %ld switches in %.2f s of a task a millisecond\n", sparse, secs);
    CHECK(sparse <= (long)(32 * secs) + 2);
    sleep_ms(300); /* two idle looks, then it parks */
    before = monitor_switches();
    sleep_ms(500);
    long idle = monitor_switches() - before;
    fprintf(stderr, "monitor: %ld switches in 0.5 s idle\n", idle);
    CHECK(idle <= 1);
    /* After a burst a worker wakes once, about a second later, to give
     * memory back (depot.rs): no task, so no reason to wake the monitor
     * (which then looked twice before parking again). */
    bg_task *last = NULL;
    for (int i = 0; i < 10000; i++) CHECK_STATUS(bg_pool_submit(p, nop, NULL, NULL, i == 9999 ? &last : NULL), BG_OK);
    CHECK_STATUS(bg_wait(last, NULL), BG_OK);
    bg_task_release(last);
    sleep_ms(300); /* the monitor's looks after the burst, then it parks */
    before = monitor_switches();
    sleep_ms(1500);
    idle = monitor_switches() - before;
    fprintf(stderr, "monitor: %ld switches in the 1.5 s after a burst\n", idle);
    CHECK(idle <= 1);
    CHECK_STATUS(bg_pool_free(p), BG_OK);
}

int main(void) {
    setenv("BG_SPARE_KEEPALIVE_MS", "200", 1);
    queued_task_runs_past_blockers();
    max_threads_holds();
    no_help_waits_complete();
    spares_exit_after_keep_alive();
    shutdown_with_spares(BG_SHUTDOWN_DRAIN);
    shutdown_with_spares(BG_SHUTDOWN_CANCEL);
    queued_after_quiet_spell();
    monitor_under_sparse_work();
    return 0;
}
