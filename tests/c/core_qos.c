/* CPU-bound tasks never add a thread, and QoS classes show in the nice
 * field of /proc/self/task/<tid>/stat, spares included (issue 14).
 * bg-test: no-valgrind (valgrind runs one thread at a time: the others wait
 * in the kernel for its lock, and a computing task looks blocked) */
#include "check.h"

#include <dirent.h>
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/resource.h>

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Calls `f(nice)` for each thread whose name starts with `prefix`; returns how many. */
static int each_thread(const char *prefix, void (*f)(long nice, long want), long want) {
    int n = 0;
    DIR *d = opendir("/proc/self/task");
    CHECK(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[300], comm[32] = {0}, stat[1024] = {0};
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
        FILE *fc = fopen(path, "r");
        if (!fc) continue;
        int match = fgets(comm, sizeof comm, fc) && strncmp(comm, prefix, strlen(prefix)) == 0;
        fclose(fc);
        if (!match) continue;
        snprintf(path, sizeof path, "/proc/self/task/%s/stat", e->d_name);
        FILE *fs = fopen(path, "r");
        if (!fs) continue;
        size_t len = fread(stat, 1, sizeof stat - 1, fs);
        fclose(fs);
        stat[len] = 0;
        /* Fields after the name: state is the 3rd field, nice the 19th. */
        char *p = strrchr(stat, ')');
        CHECK(p);
        p += 2;
        long nice = 0;
        for (int field = 3; field <= 19; field++) {
            if (field == 19) nice = strtol(p, NULL, 10);
            p = strchr(p, ' ');
            CHECK(p);
            p++;
        }
        if (f) f(nice, want);
        n++;
    }
    closedir(d);
    return n;
}

static void expect_nice(long nice, long want) {
    if (nice != want) {
        fprintf(stderr, "nice %ld, wanted %ld\n", nice, want);
        CHECK(nice == want);
    }
}

static int spin_ms(void *arg) {
    uint64_t end = now_ns() + (uint64_t)(uintptr_t)arg * 1000000;
    volatile uint64_t x = 0;
    while (now_ns() < end) x++;
    return 0;
}

static int block_ms(void *arg) {
    usleep((useconds_t)(uintptr_t)arg * 1000);
    return 0;
}

static bg_pool *new_pool(size_t threads, bg_qos qos, const char *name) {
    bg_pool_options o;
    bg_pool_options_init(&o);
    o.threads = threads;
    o.qos = qos;
    o.name_prefix = name;
    bg_pool *p;
    CHECK_STATUS(bg_pool_new(&o, &p), BG_OK);
    return p;
}

/* N CPU-bound tasks, each longer than many monitor ticks: no spare, ever. */
static void cpu_bound_adds_no_thread(void) {
    bg_pool *p = new_pool(2, BG_QOS_DEFAULT, "cpu");
    /* A thread starts with its creator's name: let the monitor, which a
     * worker of this pool may start, name itself first. */
    sleep_ms(20);
    for (int i = 0; i < 8; i++) CHECK_STATUS(bg_pool_submit(p, spin_ms, (void *)(uintptr_t)100, NULL, NULL), BG_OK);
    bg_stats s;
    do {
        CHECK_STATUS(bg_pool_stats(p, &s), BG_OK);
        CHECK(s.spares == 0);
        CHECK(each_thread("cpu-s", NULL, 0) == 0);
        CHECK(each_thread("cpu-", NULL, 0) <= 2);
        sleep_ms(5);
    } while (s.completed < 8);
    CHECK_STATUS(bg_pool_free(p), BG_OK);
}

static int nop(void *arg) {
    (void)arg;
    return 0;
}

static void qos_is_visible(void) {
    errno = 0;
    long base = getpriority(PRIO_PROCESS, 0); /* the test may itself run niced */
    CHECK(errno == 0);
    bg_pool *d = new_pool(1, BG_QOS_DEFAULT, "qd");
    bg_pool *u = new_pool(1, BG_QOS_UTILITY, "qu");
    bg_pool *b = new_pool(1, BG_QOS_BACKGROUND, "qb");
    /* Each thread applies its class as it starts, before its first task:
     * once a task ran on each, each has (a fixed sleep was short under ASan). */
    bg_pool *pools[] = {d, u, b};
    for (int i = 0; i < 3; i++) {
        bg_task *t;
        CHECK_STATUS(bg_pool_submit(pools[i], nop, NULL, NULL, &t), BG_OK);
        CHECK_STATUS(bg_wait_timeout(t, TEST_TIMEOUT_NS, NULL), BG_OK);
        bg_task_release(t);
    }
    CHECK(each_thread("qd-", expect_nice, base) == 1);
    CHECK(each_thread("qu-", expect_nice, base + 10 > 19 ? 19 : base + 10) == 1);
    CHECK(each_thread("qb-", expect_nice, 19) == 1);
    /* Spares inherit the class. */
    for (int i = 0; i < 4; i++) CHECK_STATUS(bg_pool_submit(b, block_ms, (void *)(uintptr_t)300, NULL, NULL), BG_OK);
    int spares = 0;
    for (int i = 0; i < 200 && spares == 0; i++) {
        sleep_ms(5);
        spares = each_thread("qb-s", NULL, 0);
    }
    CHECK(spares > 0);
    sleep_ms(5);
    each_thread("qb-s", expect_nice, 19);
    CHECK_STATUS(bg_pool_free(d), BG_OK);
    CHECK_STATUS(bg_pool_free(u), BG_OK);
    CHECK_STATUS(bg_pool_free(b), BG_OK);
    /* An unknown class is refused. */
    bg_pool_options o;
    bg_pool_options_init(&o);
    *(int *)&o.qos = 7;
    bg_pool *x;
    CHECK_STATUS(bg_pool_new(&o, &x), BG_EINVAL);
    /* BG_QOS sets the default pool's class before it starts. */
    setenv("BG_QOS", "background", 1);
    CHECK_STATUS(bg_set_threads(1), BG_OK);
    CHECK_STATUS(bg_spawn(block_ms, (void *)(uintptr_t)1), BG_OK);
    sleep_ms(20);
    CHECK(each_thread("bg-0", expect_nice, 19) == 1);
}

/* A task of a BACKGROUND pool that its waiter runs (no worker had started
 * it) runs at the waiter's priority; one left to the worker at nice 19. */
static atomic_int held_started;
static int hold_100ms(void *arg) {
    (void)arg;
    atomic_store(&held_started, 1);
    sleep_ms(100);
    return 0;
}
static int nice_of_runner(void *arg) {
    errno = 0;
    *(long *)arg = getpriority(PRIO_PROCESS, 0); /* this thread's nice (Linux) */
    return errno;
}
static void waiter_runs_at_its_priority(void) {
    errno = 0;
    long base = getpriority(PRIO_PROCESS, 0);
    CHECK(errno == 0);
    bg_pool_options o;
    bg_pool_options_init(&o);
    o.threads = 1;
    o.max_threads = 1; /* no spare stands in for the held worker */
    o.qos = BG_QOS_BACKGROUND;
    bg_pool *p;
    CHECK_STATUS(bg_pool_new(&o, &p), BG_OK);
    const uint32_t flags[2] = {BG_WAIT_HELP, BG_WAIT_NO_RUN_HERE};
    const long want[2] = {base, 19};
    for (int k = 0; k < 2; k++) {
        atomic_store(&held_started, 0);
        CHECK_STATUS(bg_pool_submit(p, hold_100ms, NULL, NULL, NULL), BG_OK);
        while (!atomic_load(&held_started)) sleep_ms(1);
        long nice = -100;
        bg_task *t;
        CHECK_STATUS(bg_pool_submit(p, nice_of_runner, &nice, NULL, &t), BG_OK);
        CHECK_STATUS(bg_wait_ex(t, BG_FOREVER, flags[k], NULL), BG_OK);
        bg_task_release(t);
        expect_nice(nice, want[k]);
    }
    CHECK_STATUS(bg_pool_free(p), BG_OK);
}

int main(void) {
    cpu_bound_adds_no_thread();
    qos_is_visible();
    waiter_runs_at_its_priority();
    return 0;
}
