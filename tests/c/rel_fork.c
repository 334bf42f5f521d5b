/* fork(): a child forked while pools are busy has none of their threads.
 * In the child, handles inherited from the parent that had not ended report
 * BG_EFORKED (from waits and cancels) instead of hanging, handles that had
 * ended keep their result, the parent's explicit pools report BG_EFORKED,
 * and the default pool is rebuilt on first use. A child forked from inside
 * a task is an ordinary thread there: it never runs the parent's queued
 * work. The parent is unaffected: everything it queued runs exactly once.
 *
 * The children end with _exit(): by design they abandon the parent's pools
 * (their threads do not exist there), and glibc's per-thread data of those
 * threads goes with them, which a leak checker at the child's exit would
 * report. rel_exit.c covers the exit drain in a forked child.
 *
 * No ASan variant: GCC 12's ASan runtime has no fork handler for its
 * allocator, so a child forked while another thread is inside malloc or
 * free inherits the allocator's lock held and hangs at its first thread
 * start (seen in 1 of about 40 runs on a loaded machine, before and after
 * the monitor stopped allocating across forks).
 * bg-test: no-valgrind (memcheck leak-checks forked children even at _exit; see above)
 * bg-test: no-asan (see above) */
#include "check.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static atomic_int ran, dropped;

static int count_run(void *arg) {
    (void)arg;
    atomic_fetch_add(&ran, 1);
    return 0;
}

static void count_drop(void *arg) {
    (void)arg;
    atomic_fetch_add(&dropped, 1);
}

static int twice(void *arg) {
    return 2 * (int)(intptr_t)arg;
}

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int entered, open_;

static int wait_at_gate(void *arg) {
    (void)arg;
    pthread_mutex_lock(&mu);
    entered++;
    pthread_cond_broadcast(&cv);
    while (!open_) pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    return 0;
}

/* Waits for a child, failing (and killing it) if it runs past 20 s. */
static int wait_child(pid_t pid) {
    for (int i = 0; i < 2000; i++) {
        int status;
        pid_t r = waitpid(pid, &status, WNOHANG);
        CHECK(r == 0 || r == pid);
        if (r == pid) {
            CHECK(WIFEXITED(status));
            return WEXITSTATUS(status);
        }
        sleep_ms(10);
    }
    kill(pid, SIGKILL);
    fprintf(stderr, "forked child %d hung\n", (int)pid);
    _exit(1);
}

/* Everything a child may do with what it inherited. */
static struct {
    bg_pool *pool;         /* 1 thread: `running` holds it, `queued` waits */
    bg_task *running, *queued;
    bg_task *default_busy[2], *default_queued;
    bg_task *ended;        /* ran (returned 14) before the fork */
} inh;

static void child_checks(void) {
    /* Inherited handles that had not ended: BG_EFORKED at once, not a hang. */
    CHECK_STATUS(bg_wait_timeout(inh.running, TEST_TIMEOUT_NS, NULL), BG_EFORKED);
    CHECK_STATUS(bg_wait(inh.queued, NULL), BG_EFORKED);
    CHECK_STATUS(bg_wait(inh.default_busy[0], NULL), BG_EFORKED);
    CHECK_STATUS(bg_wait_ex(inh.default_queued, BG_FOREVER, BG_WAIT_NO_HELP, NULL), BG_EFORKED);
    CHECK(bg_done(inh.queued));
    /* The task is the parent's: cancelling it here neither runs its drop nor succeeds. */
    CHECK_STATUS(bg_cancel(inh.queued), BG_EFORKED);
    CHECK_STATUS(bg_cancel(inh.default_queued), BG_EFORKED);
    CHECK(atomic_load(&dropped) == 0);
    /* An inherited handle that had ended keeps its result. */
    int rc = 0;
    CHECK_STATUS(bg_wait(inh.ended, &rc), BG_EFAILED);
    CHECK(rc == 14);
    CHECK_STATUS(bg_cancel(inh.ended), BG_EDONE);

    /* The parent's explicit pool has no threads here. */
    CHECK_STATUS(bg_pool_submit(inh.pool, count_run, NULL, count_drop, NULL), BG_EFORKED);
    CHECK_STATUS(bg_pool_set_threads(inh.pool, 3), BG_EFORKED);
    CHECK_STATUS(bg_pool_shutdown(inh.pool, BG_SHUTDOWN_DRAIN, TEST_TIMEOUT_NS), BG_EFORKED);

    /* The default pool is rebuilt on first use, with the configured size. */
    bg_task *t = bg_submit(twice, (void *)21);
    CHECK(t != NULL);
    CHECK_STATUS(bg_wait_timeout(t, TEST_TIMEOUT_NS, &rc), BG_EFAILED);
    CHECK(rc == 42);
    CHECK_STATUS(bg_task_release(t), BG_OK);
    CHECK(bg_threads() == 2);
    CHECK(bg_default_pool() != NULL);
    /* New pools work too. */
    bg_pool *p = NULL;
    CHECK_STATUS(bg_pool_new(NULL, &p), BG_OK);
    CHECK_STATUS(bg_pool_submit(p, count_run, NULL, count_drop, NULL), BG_OK);
    CHECK_STATUS(bg_pool_free(p), BG_OK);
    CHECK(atomic_load(&ran) == 1);

    /* Dropping what was inherited: releases and the parent pool's free succeed. */
    CHECK_STATUS(bg_task_release(inh.running), BG_OK);
    CHECK_STATUS(bg_task_release(inh.queued), BG_OK);
    CHECK_STATUS(bg_task_release(inh.ended), BG_OK);
    CHECK_STATUS(bg_pool_free(inh.pool), BG_OK);
    CHECK(atomic_load(&dropped) == 0);
}

/* Runs on a worker: queues work behind itself on its own deque, forks, and
 * in the child (a copy of this worker thread) uses the library. */
static int fork_inside_task(void *arg) {
    (void)arg;
    bg_task *behind = NULL;
    CHECK_STATUS(bg_pool_pause(inh.pool), BG_OK); /* `behind` stays queued until the fork is done */
    CHECK_STATUS(bg_pool_submit(inh.pool, count_run, NULL, count_drop, &behind), BG_OK);
    int ran_before = atomic_load(&ran);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        /* This thread ran a task of `inh.pool`; here it is no pool's worker. */
        CHECK(bg_current_pool() == NULL);
        /* A wait here must not run the parent's queued task `behind`. */
        CHECK_STATUS(bg_wait(behind, NULL), BG_EFORKED);
        CHECK(atomic_load(&ran) == ran_before);
        bg_task *t = bg_submit(twice, (void *)5);
        CHECK(t != NULL); /* goes to the child's default pool, not the dead one */
        int rc = 0;
        CHECK_STATUS(bg_wait_timeout(t, TEST_TIMEOUT_NS, &rc), BG_EFAILED);
        CHECK(rc == 10);
        CHECK_STATUS(bg_task_release(t), BG_OK);
        CHECK_STATUS(bg_task_release(behind), BG_OK);
        _exit(0);
    }
    int code = wait_child(pid);
    CHECK_STATUS(bg_pool_resume(inh.pool), BG_OK);
    CHECK(bg_current_pool() == inh.pool); /* the parent's thread is still its worker */
    CHECK_STATUS(bg_task_release(behind), BG_OK);
    return code; /* the child's exit status */
}

int main(void) {
    setenv("BG_THREADS", "2", 1);
    /* A failed CHECK exits while default-pool tasks may be held at the gate:
     * bound the exit drain so that a failure cannot hang. */
    setenv("BG_EXIT_TIMEOUT_MS", "2000", 1);
    bg_pool_options o;
    bg_pool_options_init(&o);
    o.threads = 1;
    CHECK_STATUS(bg_pool_new(&o, &inh.pool), BG_OK);

    inh.ended = bg_submit(twice, (void *)7);
    CHECK(inh.ended != NULL);
    CHECK_STATUS(bg_wait_timeout(inh.ended, TEST_TIMEOUT_NS, NULL), BG_EFAILED);

    /* Busy pools: every worker held at the gate, one more task queued behind each. */
    CHECK_STATUS(bg_pool_submit(inh.pool, wait_at_gate, NULL, NULL, &inh.running), BG_OK);
    for (int i = 0; i < 2; i++) CHECK((inh.default_busy[i] = bg_submit(wait_at_gate, NULL)) != NULL);
    pthread_mutex_lock(&mu);
    while (entered < 3) pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    /* Paused, so that the queued tasks stay queued: the workers wait at the
     * gate without computing, and a spare thread would otherwise take them. */
    CHECK_STATUS(bg_pool_pause(inh.pool), BG_OK);
    CHECK_STATUS(bg_pool_pause(bg_default_pool()), BG_OK);
    CHECK_STATUS(bg_pool_submit(inh.pool, count_run, NULL, count_drop, &inh.queued), BG_OK);
    CHECK((inh.default_queued = bg_submit(count_run, NULL)) != NULL);

    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        child_checks();
        CHECK_STATUS(bg_shutdown(BG_SHUTDOWN_DRAIN, TEST_TIMEOUT_NS), BG_OK); /* the child's own default pool */
        _exit(0);
    }
    CHECK(wait_child(pid) == 0);

    /* The parent is unaffected: everything it queued runs, once. */
    CHECK_STATUS(bg_pool_resume(inh.pool), BG_OK);
    CHECK_STATUS(bg_pool_resume(bg_default_pool()), BG_OK);
    pthread_mutex_lock(&mu);
    open_ = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    CHECK_STATUS(bg_wait_timeout(inh.running, TEST_TIMEOUT_NS, NULL), BG_OK);
    CHECK_STATUS(bg_wait_timeout(inh.queued, TEST_TIMEOUT_NS, NULL), BG_OK);
    for (int i = 0; i < 2; i++) CHECK_STATUS(bg_wait_timeout(inh.default_busy[i], TEST_TIMEOUT_NS, NULL), BG_OK);
    CHECK_STATUS(bg_wait_timeout(inh.default_queued, TEST_TIMEOUT_NS, NULL), BG_OK);
    CHECK(atomic_load(&ran) == 2);
    CHECK(atomic_load(&dropped) == 0);

    /* A fork from inside a task; the child's checks decide the task's result. */
    bg_task *f = NULL;
    CHECK_STATUS(bg_pool_submit(inh.pool, fork_inside_task, NULL, NULL, &f), BG_OK);
    CHECK_STATUS(bg_wait_timeout(f, 3 * TEST_TIMEOUT_NS, NULL), BG_OK);
    CHECK_STATUS(bg_task_release(f), BG_OK);
    CHECK_STATUS(bg_pool_shutdown(inh.pool, BG_SHUTDOWN_DRAIN, TEST_TIMEOUT_NS), BG_OK);
    CHECK(atomic_load(&ran) == 3); /* the task queued behind the fork ran here */

    CHECK_STATUS(bg_task_release(inh.running), BG_OK);
    CHECK_STATUS(bg_task_release(inh.queued), BG_OK);
    CHECK_STATUS(bg_task_release(inh.ended), BG_OK);
    for (int i = 0; i < 2; i++) CHECK_STATUS(bg_task_release(inh.default_busy[i]), BG_OK);
    CHECK_STATUS(bg_task_release(inh.default_queued), BG_OK);
    CHECK_STATUS(bg_pool_free(inh.pool), BG_OK);
    return 0;
}
