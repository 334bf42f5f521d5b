/* A child forked inside a task, a continuation or a parallel-loop body that
 * returns from the callback (issue 18, item 6): it must not run the
 * parent's queued tasks, must not hang in the dead pool's worker loop, and
 * bg_parallel_for there returns BG_EFORKED. Returning from the callback in
 * such a child ends it as exit(0) would.
 *
 * Tasks queued behind the forking one write their pid to a pipe: the
 * child's pid must never appear. The parent waits for the child for at most
 * 10 s.
 *
 * bg-test: no-valgrind (memcheck leak-checks forked children, which abandon the parent's pools)
 * bg-test: no-asan (gcc 12's AddressSanitizer allocator is not fork-safe) */
#include "check.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/wait.h>

static int fds[2];
static pid_t parent;
static atomic_int forked_once;
static atomic_int child_pid;

static void say(long what) {
    CHECK(write(fds[1], &what, sizeof what) == (ssize_t)sizeof what);
}

/* A task queued behind the forking one: reports the pid it ran in. */
static int queued(void *arg) {
    (void)arg;
    say((long)getpid());
    return 0;
}

static void fork_here(void) {
    pid_t p = fork();
    CHECK(p >= 0);
    if (p > 0) atomic_store(&child_pid, (int)p);
    /* Both return to the library; the child must not go on running our work. */
}

static int forking_task(void *arg) {
    (void)arg;
    fork_here();
    return 0;
}

static int then_fork(void *arg, bg_status antecedent, int result) {
    (void)arg;
    (void)antecedent;
    (void)result;
    fork_here();
    return 0;
}

static void body(size_t lo, size_t hi, void *ctx) {
    (void)hi;
    (void)ctx;
    if (lo == 0 && !atomic_exchange(&forked_once, 1)) fork_here();
}

/* Runs a parallel loop whose first chunk forks; the child reports the status. */
static int loop_task(void *arg) {
    bg_pool *pool = arg;
    bg_status st = bg_parallel_for(pool, 0, 1 << 16, 64, body, NULL);
    if (getpid() != parent) say(-1000 - (long)st);
    return 0;
}

static int zero(void *arg) {
    (void)arg;
    return 0;
}

/* Waits for the child: it must exit with 0 within 10 s. */
static void reap(void) {
    while (atomic_load(&child_pid) == 0) sleep_ms(1);
    pid_t c = (pid_t)atomic_load(&child_pid);
    int status = 0;
    for (int i = 0; i < 10000; i++) {
        pid_t w = waitpid(c, &status, WNOHANG);
        if (w == c) {
            CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
            atomic_store(&child_pid, 0);
            return;
        }
        sleep_ms(1);
    }
    kill(c, SIGKILL);
    waitpid(c, &status, 0);
    fprintf(stderr, "the forked child hung in the dead pool\n");
    check_failed();
}


static void scenario(int which) {
    bg_pool_options o;
    bg_pool_options_init(&o);
    o.threads = which == 2 ? 2 : 1;
    bg_pool *pool;
    CHECK_STATUS(bg_pool_new(&o, &pool), BG_OK);
    atomic_store(&forked_once, 0);
    if (which == 0) {
        CHECK_STATUS(bg_pool_submit(pool, forking_task, NULL, NULL, NULL), BG_OK);
    } else if (which == 1) {
        bg_task *t;
        CHECK_STATUS(bg_pool_submit(pool, zero, NULL, NULL, &t), BG_OK);
        CHECK_STATUS(bg_then(t, then_fork, NULL, NULL, NULL), BG_OK);
        bg_task_release(t);
    } else {
        CHECK_STATUS(bg_pool_submit(pool, loop_task, pool, NULL, NULL), BG_OK);
    }
    for (int i = 0; i < 20; i++) CHECK_STATUS(bg_pool_submit(pool, queued, NULL, NULL, NULL), BG_OK);
    pid_t c;
    while ((c = (pid_t)atomic_load(&child_pid)) == 0) sleep_ms(1);
    reap();
    CHECK_STATUS(bg_pool_free(pool), BG_OK);
    /* Nobody writes any more: make reads end at the pipe's end. */
    say(0);
    long v;
    int saw_status = 0;
    while (read(fds[0], &v, sizeof v) == (ssize_t)sizeof v && v != 0) {
        if (v == (long)c) {
            fprintf(stderr, "scenario %d: a parent's queued task ran in the child\n", which);
            check_failed();
        }
        if (v <= -1000) {
            CHECK_STATUS((bg_status)(-(v + 1000)), BG_EFORKED);
            saw_status = 1;
        }
    }
    CHECK(saw_status == (which == 2));
}

int main(void) {
    CHECK(pipe(fds) == 0);
    parent = getpid();
    for (int which = 0; which < 3; which++) scenario(which);
    printf("rel_fork_return: children returning from a callback ended cleanly, ran nothing of ours\n");
    return 0;
}
