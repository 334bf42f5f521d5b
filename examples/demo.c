/* demo.c: the main job of libbackground in one program.
 *
 * A request handler offloads work: it submits a task and waits for its
 * result, fires and forgets a log write, cancels a task it no longer needs,
 * runs a batch on a pool of its own with options, and shuts down cleanly.
 *
 *   make demo
 */
#include <background.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* A task's return value is its result code: 0 = success. */
static int send_email(void *arg) {
    const char *to = arg;
    sleep_ms(20); /* pretend to talk to an SMTP server */
    printf("  sent email to %s\n", to);
    return strchr(to, '@') ? 0 : 22; /* 22: "invalid address", our own code */
}

static int log_access(void *arg) {
    printf("  logged access to %s\n", (const char *)arg);
    return 0;
}

static int slow_report(void *arg) {
    (void)arg;
    sleep_ms(50);
    return 0;
}

/* Runs instead of the task when the task never runs (cancel, cancel shutdown). */
static void free_report(void *arg) {
    printf("  cancelled report, freeing its buffer\n");
    free(arg);
}

static int resize_image(void *arg) {
    int *id = arg;
    sleep_ms(5);
    printf("  resized image %d\n", *id);
    free(id);
    return 0;
}

static void thread_started(void *ctx, size_t index) {
    (void)ctx;
    printf("  [thread %zu of pool \"images\" started]\n", index);
}

int main(void) {
    printf("libbackground %s, default pool of %zu threads\n", bg_version(), bg_threads());

    printf("1. submit and wait for the result\n");
    bg_task *t = bg_submit(send_email, "alice@example.com");
    bg_task *bad = bg_submit(send_email, "not-an-address");
    int rc;
    bg_status s = bg_wait(t, &rc);
    printf("  alice: %s (result %d)\n", bg_strerror(s), rc);
    s = bg_wait(bad, &rc);
    printf("  not-an-address: %s (result %d)\n", bg_strerror(s), rc);
    bg_task_release(t);
    bg_task_release(bad);

    printf("2. fire and forget\n");
    bg_spawn(log_access, "/index.html");

    printf("3. cancel a task that has not started\n");
    bg_pool_options o;
    bg_pool_options_init(&o);
    o.threads = 1;
    o.name_prefix = "reports";
    bg_pool *reports;
    if (bg_pool_new(&o, &reports) != BG_OK) return 1;
    bg_task *busy, *report;
    if (bg_pool_submit(reports, slow_report, NULL, NULL, &busy) != BG_OK) return 1;
    if (bg_pool_submit(reports, slow_report, malloc(4096), free_report, &report) != BG_OK) return 1;
    s = bg_cancel(report); /* its one thread is busy: the report is still queued */
    printf("  cancel: %s; wait: %s\n", bg_strerror(s), bg_strerror(bg_wait(report, NULL)));
    bg_wait(busy, NULL);
    bg_task_release(busy);
    bg_task_release(report);
    bg_pool_free(reports);

    printf("4. a pool with options: 2 named threads, at most 64 queued tasks\n");
    bg_pool_options_init(&o);
    o.threads = 2;
    o.name_prefix = "images";
    o.max_queued = 64;
    o.on_thread_start = thread_started;
    bg_pool *images;
    if (bg_pool_new(&o, &images) != BG_OK) return 1;
    for (int i = 0; i < 6; i++) {
        int *id = malloc(sizeof *id);
        *id = i;
        if (bg_pool_submit(images, resize_image, id, free, NULL) != BG_OK) free(id);
    }

    printf("5. shut down: drain what is queued, join the threads\n");
    s = bg_pool_shutdown(images, BG_SHUTDOWN_DRAIN, BG_FOREVER);
    printf("  images pool: %s\n", bg_strerror(s));
    bg_stats st;
    bg_pool_stats(images, &st);
    printf("  completed %llu, failed %llu, cancelled %llu\n", (unsigned long long)st.completed,
           (unsigned long long)st.failed, (unsigned long long)st.cancelled);
    bg_pool_free(images);
    s = bg_shutdown(BG_SHUTDOWN_DRAIN, BG_FOREVER);
    printf("  default pool: %s\n", bg_strerror(s));
    return 0;
}
