/* BG_RESULT_BINDING_FAILED, the code the C++ and Go bindings give a task
 * that threw, returned an error or panicked: counted as a failure like any
 * non-zero code, handed to a handler set with bg_pool_set_error_handler()
 * when nobody observed it, but not printed by the default handler (the
 * binding prints the details itself). */
#include "check.h"

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

static int binding_failure(void *arg) {
    (void)arg;
    return BG_RESULT_BINDING_FAILED;
}

static int plain_failure(void *arg) {
    (void)arg;
    return 3;
}

static atomic_int reported, reported_code;

static void handler(void *ctx, const bg_failure *f) {
    (void)ctx;
    atomic_store(&reported_code, f->code);
    atomic_fetch_add(&reported, 1);
}

static bg_pool *one_thread_pool(void) {
    bg_pool_options o;
    bg_pool_options_init(&o);
    o.threads = 1;
    bg_pool *p = NULL;
    CHECK_STATUS(bg_pool_new(&o, &p), BG_OK);
    return p;
}

int main(void) {
    /* Counted, waited for as BG_EFAILED, and reported to a handler. */
    bg_pool *p = one_thread_pool();
    CHECK_STATUS(bg_pool_set_error_handler(p, handler, NULL), BG_OK);
    bg_task *t = NULL;
    CHECK_STATUS(bg_pool_submit(p, binding_failure, NULL, NULL, &t), BG_OK);
    int rc = 0;
    CHECK_STATUS(bg_wait_timeout(t, TEST_TIMEOUT_NS, &rc), BG_EFAILED);
    CHECK(rc == BG_RESULT_BINDING_FAILED);
    CHECK_STATUS(bg_task_release(t), BG_OK);
    CHECK_STATUS(bg_pool_submit(p, binding_failure, NULL, NULL, NULL), BG_OK);
    CHECK_STATUS(bg_pool_shutdown(p, BG_SHUTDOWN_DRAIN, TEST_TIMEOUT_NS), BG_OK);
    CHECK(atomic_load(&reported) == 1);
    CHECK(atomic_load(&reported_code) == BG_RESULT_BINDING_FAILED);
    bg_stats s;
    CHECK_STATUS(bg_pool_stats(p, &s), BG_OK);
    CHECK(s.failed == 2);
    CHECK_STATUS(bg_pool_free(p), BG_OK);

    /* The default handler prints other codes, not this one. */
    char path[] = "/tmp/bg_binding_failed_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    unlink(path);
    fflush(stderr);
    int saved = dup(2);
    CHECK(saved >= 0 && dup2(fd, 2) == 2);
    p = one_thread_pool();
    CHECK_STATUS(bg_pool_submit(p, binding_failure, NULL, NULL, NULL), BG_OK);
    CHECK_STATUS(bg_pool_shutdown(p, BG_SHUTDOWN_DRAIN, TEST_TIMEOUT_NS), BG_OK);
    off_t quiet = lseek(fd, 0, SEEK_END);
    CHECK_STATUS(bg_pool_submit(p, plain_failure, NULL, NULL, NULL), BG_ESHUTDOWN);
    CHECK_STATUS(bg_pool_free(p), BG_OK);
    p = one_thread_pool();
    CHECK_STATUS(bg_pool_submit(p, plain_failure, NULL, NULL, NULL), BG_OK);
    CHECK_STATUS(bg_pool_shutdown(p, BG_SHUTDOWN_DRAIN, TEST_TIMEOUT_NS), BG_OK);
    off_t loud = lseek(fd, 0, SEEK_END);
    CHECK_STATUS(bg_pool_free(p), BG_OK);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    close(fd);
    CHECK(quiet == 0);
    CHECK(loud > 0);
    return 0;
}
