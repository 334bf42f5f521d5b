/* notify_batch.c: FastAPI's BackgroundTasks in C. A request handler collects
 * notifications while it works; they run, in order, only after the response
 * is sent, and never if the handler failed.
 */
#include <background.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char to[64];
    char text[128];
} notification;

static int send_notification(void *arg) {
    notification *n = arg;
    int bad = strchr(n->to, '@') == NULL;
    printf("  %s notification to %s: %s\n", bad ? "could not send" : "sent", n->to, n->text);
    free(n);
    return bad ? 22 : 0;
}

static notification *note(const char *to, const char *text) {
    notification *n = calloc(1, sizeof *n);
    snprintf(n->to, sizeof n->to, "%s", to);
    snprintf(n->text, sizeof n->text, "%s", text);
    return n;
}

/* A request handler: queues its notifications as it goes, then may still
 * fail (here: the address is taken). Returns 0 and sets the HTTP status on
 * success, -1 on failure. */
static int handle_signup(const char *email, bg_batch *tasks, int *http_status) {
    notification *n = note(email, "welcome aboard");
    if (bg_batch_add(tasks, send_notification, n, free) != BG_OK) free(n);
    n = note("audit@internal", "user.created");
    if (bg_batch_add(tasks, send_notification, n, free) != BG_OK) free(n);
    if (strcmp(email, "taken@example.com") == 0) return -1;
    *http_status = 201;
    return 0;
}

static int serve(const char *email) {
    bg_batch *tasks;
    if (bg_batch_new(&tasks) != BG_OK) return 1;
    int http = 0;
    if (handle_signup(email, tasks, &http) != 0) {
        printf("request for %s failed: 500 sent; its %zu notifications never run\n", email, bg_batch_size(tasks));
        return bg_batch_free(tasks) == BG_OK ? 0 : 1; /* nothing runs; each drop frees its notification */
    }
    printf("request for %s: %d sent; now running %zu notifications\n", email, http, bg_batch_size(tasks));
    bg_task *done;
    if (bg_batch_submit(tasks, bg_default_pool(), BG_BATCH_RUN_ALL, &done) != BG_OK) return 1;
    int first_failure = 0;
    bg_status s = bg_wait(done, &first_failure); /* a real server would not wait; the demo does */
    printf("  batch: %s\n", bg_strerror(s));
    for (size_t i = 0; i < 2; i++) {
        int rc = 0;
        bg_status ts = bg_batch_status(tasks, i, &rc);
        printf("  task %zu: %s (code %d)\n", i, bg_strerror(ts), rc);
    }
    bg_task_release(done);
    return bg_batch_free(tasks) == BG_OK ? 0 : 1;
}

int main(void) {
    int rc = serve("alice@example.com");
    rc |= serve("taken@example.com");
    rc |= bg_shutdown(BG_SHUTDOWN_DRAIN, BG_FOREVER) != BG_OK;
    return rc;
}
