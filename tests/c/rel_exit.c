/* Process exit: the default pool drains when main returns. The test runs
 * itself as a child process in three ways and watches what the child's
 * tasks write into a pipe:
 *   drain         main returns with tasks queued: every one runs, and so do
 *                 the tasks they submit while the pool drains;
 *   timeout       BG_EXIT_TIMEOUT_MS bounds the drain: a task that never
 *                 ends does not hold the exit up, and what is queued behind
 *                 it is abandoned;
 *   exit_in_task  a task calls exit(): the drain does not wait for the
 *                 worker it runs on (no deadlock);
 *   fork_drain    a child forked while the default pool runs returns from
 *                 main: its own, rebuilt default pool drains. */
#include "check.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define TASKS 40

static int out_fd;

static void put(char c) {
    CHECK(write(out_fd, &c, 1) == 1);
}

static int write_x(void *arg) {
    (void)arg;
    sleep_ms(1);
    put('x');
    return 0;
}

/* Writes, then submits one more task from inside the pool. */
static int write_x_and_submit(void *arg) {
    (void)arg;
    sleep_ms(1);
    put('x');
    CHECK_STATUS(bg_spawn(write_x, NULL), BG_OK);
    return 0;
}

static int never_ends(void *arg) {
    (void)arg;
    put('b');
    /* Computing, not sleeping: a task blocked in the kernel would have a
     * spare thread run the queued tasks (issue 14). */
    for (volatile unsigned long i = 0;; i++) {
    }
    return 0;
}

static int call_exit(void *arg) {
    (void)arg;
    put('e');
    exit(3);
}

static int child(const char *mode) {
    if (strcmp(mode, "drain") == 0) {
        for (int i = 0; i < TASKS; i++) CHECK_STATUS(bg_spawn(write_x_and_submit, NULL), BG_OK);
        return 0; /* the tasks run after this, during exit */
    }
    if (strcmp(mode, "timeout") == 0) {
        /* One worker: the never-ending task holds it, the rest stay queued. */
        CHECK_STATUS(bg_set_threads(1), BG_OK);
        CHECK_STATUS(bg_spawn(never_ends, NULL), BG_OK);
        for (int i = 0; i < TASKS; i++) CHECK_STATUS(bg_spawn(write_x, NULL), BG_OK);
        return 0;
    }
    if (strcmp(mode, "exit_in_task") == 0) {
        bg_task *t = bg_submit(call_exit, NULL);
        CHECK(t != NULL);
        bg_wait(t, NULL); /* never returns: the task ends the process */
        fprintf(stderr, "the process outlived exit()\n");
        return 1;
    }
    if (strcmp(mode, "fork_drain") == 0) {
        /* The parent's pool is started, then left idle before the fork: a fork
         * racing with starting workers is rel_fork_race.c's subject, and under
         * AddressSanitizer, whose allocator is not fork-safe, it could hang. */
        bg_task *t = bg_submit(write_x, NULL);
        CHECK(t != NULL);
        CHECK_STATUS(bg_wait_timeout(t, TEST_TIMEOUT_NS, NULL), BG_OK);
        CHECK_STATUS(bg_task_release(t), BG_OK);
        sleep_ms(20);
        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
            for (int i = 0; i < TASKS; i++) CHECK_STATUS(bg_spawn(write_x, NULL), BG_OK);
            return 0;
        }
        int status;
        CHECK(waitpid(pid, &status, 0) == pid);
        /* Only how it ended: under LeakSanitizer the forked child's exit status
         * reports the parent pools it abandoned by design (see rel_fork.c). */
        return WIFEXITED(status) ? 0 : 1;
    }
    fprintf(stderr, "unknown mode %s\n", mode);
    return 2;
}

/* Runs this program as `child <mode>` with `env` added; returns what its
 * tasks wrote and its wait status. Fails if it has not exited in 20 s. */
static void run_child(const char *mode, const char *env, char *got, size_t cap, int *status) {
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    CHECK(n > 0);
    self[n] = 0;
    int fds[2];
    CHECK(pipe(fds) == 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        setpgid(0, 0); /* so a stuck child goes with any child it forked */
        close(fds[0]);
        char fd_arg[16];
        snprintf(fd_arg, sizeof fd_arg, "%d", fds[1]);
        if (env) putenv((char *)env);
        execl(self, self, "child", mode, fd_arg, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    size_t len = 0;
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long waited_ms = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
        if (waited_ms > 20000) {
            kill(-pid, SIGKILL);
            fprintf(stderr, "child '%s' did not exit within 20 s (%zu bytes so far)\n", mode, len);
            _exit(1);
        }
        struct pollfd pfd = {fds[0], POLLIN, 0};
        if (poll(&pfd, 1, 100) <= 0) continue;
        char buf[256];
        ssize_t r = read(fds[0], buf, sizeof buf);
        if (r == 0) break; /* every copy of the write end is closed: the child is gone */
        if (r < 0 && errno == EINTR) continue;
        CHECK(r > 0 && len + (size_t)r < cap);
        memcpy(got + len, buf, (size_t)r);
        len += (size_t)r;
    }
    got[len] = 0;
    close(fds[0]);
    CHECK(waitpid(pid, status, 0) == pid);
}

static size_t count(const char *s, char c) {
    size_t n = 0;
    for (; *s; s++) n += *s == c;
    return n;
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "child") == 0) {
        out_fd = atoi(argv[3]);
        return child(argv[2]);
    }
    char got[1024];
    int status;

    run_child("drain", "BG_THREADS=2", got, sizeof got, &status);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(count(got, 'x') == 2 * TASKS); /* each task and the one it submitted */

    run_child("timeout", "BG_EXIT_TIMEOUT_MS=200", got, sizeof got, &status);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(strcmp(got, "b") == 0); /* the queued tasks were abandoned */

    run_child("exit_in_task", NULL, got, sizeof got, &status);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 3);
    CHECK(strcmp(got, "e") == 0);

    run_child("fork_drain", "BG_THREADS=2", got, sizeof got, &status);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(count(got, 'x') == 1 + TASKS); /* the parent's task and every one of the child's */
    return 0;
}
