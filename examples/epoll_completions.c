/* epoll_completions.c: background work whose results come back to an
 * epoll loop, on the loop's own thread, with no callback from a worker.
 *
 * The loop submits jobs with bg_cq_submit(), watches the completion
 * queue's eventfd next to its other fds, and when it is readable drains
 * the finished records in batches. This is how an event-driven program
 * (a server, a GUI, a Go or libuv program) hands CPU work to the pool
 * without locking its own state.
 *
 * Build and run (after `cargo build --release`):
 *   cc -std=c11 -D_GNU_SOURCE -Iinclude examples/epoll_completions.c \
 *      target/release/libbackground.a -pthread -ldl -lm -o epoll_completions
 *   ./epoll_completions
 */
#include <background.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#define JOBS 64

/* One unit of work: the sum of i*i over [lo, hi). Written by a worker,
 * read by the loop only after its record arrives. */
typedef struct {
    uint64_t lo, hi, sum;
} job;

static int sum_squares(void *arg) {
    job *j = arg;
    uint64_t s = 0;
    for (uint64_t i = j->lo; i < j->hi; i++) s += i * i;
    j->sum = s;
    return 0;
}

int main(void) {
    bg_cq *cq;
    if (bg_cq_new(&cq) != BG_OK) return 1;

    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = bg_cq_fd(cq)};
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, bg_cq_fd(cq), &ev) != 0) return 1;

    /* Hand the work out; each record will carry its job as user data. */
    static job jobs[JOBS];
    for (uint64_t k = 0; k < JOBS; k++) {
        jobs[k] = (job){k * 1000, (k + 1) * 1000, 0};
        bg_status s = bg_cq_submit(cq, bg_default_pool(), sum_squares, &jobs[k], NULL, &jobs[k], NULL);
        if (s != BG_OK) {
            fprintf(stderr, "submit: %s\n", bg_strerror(s));
            return 1;
        }
    }

    /* The loop: sleep in epoll_wait until something is ready. */
    uint64_t total = 0;
    int received = 0, wakeups = 0;
    while (received < JOBS) {
        struct epoll_event ready[4];
        int n = epoll_wait(ep, ready, 4, 10000);
        if (n <= 0) {
            fprintf(stderr, "epoll_wait: no completion within 10 s\n");
            return 1;
        }
        wakeups++;
        for (int e = 0; e < n; e++) {
            if (ready[e].data.fd != bg_cq_fd(cq)) continue;
            bg_completion batch[16];
            size_t got;
            while ((got = bg_cq_drain(cq, batch, 16)) > 0) {
                for (size_t r = 0; r < got; r++) {
                    job *j = batch[r].user_data;
                    if (batch[r].status != BG_OK) {
                        fprintf(stderr, "job %td: %s\n", j - jobs, bg_strerror(batch[r].status));
                        return 1;
                    }
                    total += j->sum;
                    received++;
                }
            }
        }
    }

    /* Sum of i*i for i < n is (n-1)n(2n-1)/6. */
    uint64_t n = (uint64_t)JOBS * 1000;
    uint64_t want = (n - 1) * n * (2 * n - 1) / 6;
    printf("%d results in %d loop wake-ups; sum of squares below %llu = %llu (%s)\n", received, wakeups,
           (unsigned long long)n, (unsigned long long)total, total == want ? "correct" : "WRONG");

    close(ep);
    bg_cq_free(cq);
    return total == want ? 0 : 1;
}
