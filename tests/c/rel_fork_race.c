/* fork() while the default pool's workers are starting. The work-stealing
 * deques share a collector that the first worker to need it builds, once
 * per process. A fork that copied that build half done left the child's
 * workers waiting for it forever, so the child's tasks never ran (about one
 * child in thirty hung). src/fork.rs now waits the build out before a fork.
 *
 * Each round is a fresh process (exec of this program), where the build has
 * not happened yet: it starts the default pool and at once forks children
 * in a tight loop, so that some fork lands while the workers start. Each
 * child submits a task and must see it run within five seconds.
 *
 * Children end with _exit(): they abandon the parent's pool threads by
 * design (see rel_fork.c), which a leak checker would report.
 * bg-test: no-valgrind (hundreds of processes: minutes under memcheck)
 * bg-test: no-asan (gcc 12's AddressSanitizer allocator is not fork-safe: a
 * child forked while another thread is in malloc waits forever on the
 * allocator's lock, which this test provokes on purpose) */
#include "check.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define ROUNDS 60
#define CHILDREN 20

static int noop(void *arg) {
    (void)arg;
    return 0;
}

/* Waits for `pid` up to `ms`; true if it exited (status in *st), else false. */
static int wait_exit(pid_t pid, int *st, long ms) {
    for (long waited = 0; waited <= ms; waited += 5) {
        pid_t r = waitpid(pid, st, WNOHANG);
        if (r == pid) return 1;
        CHECK(r == 0 || errno == EINTR);
        sleep_ms(5);
    }
    return 0;
}

static int child(void) {
    bg_task *t = bg_submit(noop, NULL);
    if (!t) _exit(2);
    int result = -1;
    bg_status s = bg_wait_timeout(t, 5ull * 1000 * 1000 * 1000, &result);
    if (s != BG_OK || result != 0) fprintf(stderr, "child: %s, result %d\n", bg_strerror((int)s), result);
    _exit(s == BG_OK && result == 0 ? 0 : 1);
}

/* One round, in a fresh process: returns how many children failed. */
static int round_main(void) {
    CHECK_STATUS(bg_spawn(noop, NULL), BG_OK); /* starts the default pool's workers */
    pid_t pids[CHILDREN];
    for (int k = 0; k < CHILDREN; k++) {
        pids[k] = fork();
        CHECK(pids[k] >= 0);
        if (pids[k] == 0) child();
    }
    int failed = 0;
    for (int k = 0; k < CHILDREN; k++) {
        int st;
        if (!wait_exit(pids[k], &st, 10000)) {
            kill(pids[k], SIGKILL);
            CHECK(waitpid(pids[k], &st, 0) == pids[k]);
            fprintf(stderr, "child %d hung\n", k);
            failed++;
        } else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "child %d: %s %d\n", k, WIFEXITED(st) ? "exit status" : "signal",
                    WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
            failed++;
        }
    }
    _exit(failed);
}

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "round") == 0) return round_main();
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    CHECK(n > 0);
    self[n] = 0;
    int failed = 0;
    for (int r = 0; r < ROUNDS; r++) {
        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
            setpgid(0, 0); /* so a stuck round goes with all its children */
            execl(self, self, "round", (char *)NULL);
            _exit(127);
        }
        int st;
        if (!wait_exit(pid, &st, 60000)) {
            kill(-pid, SIGKILL);
            fprintf(stderr, "round %d did not end within 60 s\n", r);
            check_failed();
        }
        CHECK(WIFEXITED(st));
        if (WEXITSTATUS(st) != 0) {
            fprintf(stderr, "round %d: %d of %d children did not see their task run\n", r, WEXITSTATUS(st), CHILDREN);
            failed++;
        }
    }
    CHECK(failed == 0);
    return 0;
}
