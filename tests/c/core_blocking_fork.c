/* A child forked while a pool's spare threads run (issue 14) loses
 * nothing: the parent's tasks all run, and the child's default pool
 * compensates its own blocked worker.
 * bg-test: no-valgrind (the child _exits with its pool's threads running,
 * which memcheck reports as leaks) */
#include "check.h"

#include <stdatomic.h>
#include <string.h>
#include <sys/wait.h>

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

static int block_ms(void *arg) {
    usleep((useconds_t)(uintptr_t)arg * 1000);
    return 0;
}

static atomic_int ran;
static int count_block(void *arg) {
    usleep((useconds_t)(uintptr_t)arg * 1000);
    atomic_fetch_add(&ran, 1);
    return 0;
}

static atomic_uint_fast64_t quick_at;
static int quick(void *arg) {
    (void)arg;
    atomic_store(&quick_at, now_ns());
    return 0;
}

/* 6. A child forked while spares run has a working default pool that compensates too. */
static void fork_with_spares(void) {
    bg_pool *p = new_pool(1, 0, "forkp");
    atomic_store(&ran, 0);
    for (int i = 0; i < 8; i++) CHECK_STATUS(bg_pool_submit(p, count_block, (void *)(uintptr_t)50, NULL, NULL), BG_OK);
    sleep_ms(20);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        if (bg_set_threads(1) != BG_OK) _exit(4);
        CHECK(bg_spawn(block_ms, (void *)(uintptr_t)1000) == BG_OK);
        sleep_ms(10);
        uint64_t t0 = now_ns();
        bg_task *t = bg_submit(quick, NULL);
        if (!t || bg_wait_timeout(t, TEST_TIMEOUT_NS, NULL) != BG_OK) _exit(2);
        _exit((atomic_load(&quick_at) - t0) / 1000000 < 500 ? 0 : 3);
    }
    int st;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK_STATUS(bg_pool_free(p), BG_OK);
    CHECK(atomic_load(&ran) == 8);
}

int main(void) {
    fork_with_spares();
    return 0;
}
