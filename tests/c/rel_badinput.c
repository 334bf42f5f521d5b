/* Bad input: every misuse the library can detect gets its documented
 * status, never a crash, a hang, a leak or a silently dropped task. A
 * refused submission never calls `drop` and leaves `arg` with the caller.
 * (docs/reliability.md has the same cases as a table.) */
#include "check.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

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

/* A gate that holds a task on its worker until opened. */
static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int gate_open, gate_entered;

static int wait_at_gate(void *arg) {
    (void)arg;
    pthread_mutex_lock(&gate_mu);
    gate_entered = 1;
    pthread_cond_broadcast(&gate_cv);
    while (!gate_open) pthread_cond_wait(&gate_cv, &gate_mu);
    pthread_mutex_unlock(&gate_mu);
    return 0;
}

static void gate_wait_entered(void) {
    pthread_mutex_lock(&gate_mu);
    while (!gate_entered) pthread_cond_wait(&gate_cv, &gate_mu);
    pthread_mutex_unlock(&gate_mu);
}

static void gate_release(void) {
    pthread_mutex_lock(&gate_mu);
    gate_open = 1;
    pthread_cond_broadcast(&gate_cv);
    pthread_mutex_unlock(&gate_mu);
}

static bg_pool *new_pool(size_t threads) {
    bg_pool_options o;
    bg_pool_options_init(&o);
    o.threads = threads;
    bg_pool *p = NULL;
    CHECK_STATUS(bg_pool_new(&o, &p), BG_OK);
    CHECK(p != NULL);
    return p;
}

/* Memory that is readable but is not a pool or a task: the checks must
 * refuse it without writing to it. */
static _Alignas(64) unsigned char not_an_object[512];

static void null_and_foreign_pointers(void) {
    bg_pool *fake_pool = (bg_pool *)not_an_object;
    bg_task *fake_task = (bg_task *)not_an_object;
    bg_pool *p = new_pool(1);
    bg_task *t = (bg_task *)(uintptr_t)0x1;

    /* NULL fn: refused, drop not called. */
    errno = 0;
    CHECK(bg_submit(NULL, NULL) == NULL);
    CHECK(errno == EINVAL);
    CHECK_STATUS(bg_spawn(NULL, NULL), BG_EINVAL);
    CHECK_STATUS(bg_pool_submit(p, NULL, NULL, count_drop, NULL), BG_EINVAL);
    CHECK_STATUS(bg_pool_submit(p, NULL, NULL, count_drop, &t), BG_EINVAL);
    CHECK(t == (bg_task *)(uintptr_t)0x1); /* outputs are written only on success */

    /* NULL or foreign pool. */
    CHECK_STATUS(bg_pool_submit(NULL, count_run, NULL, count_drop, NULL), BG_EINVAL);
    CHECK_STATUS(bg_pool_submit(fake_pool, count_run, NULL, count_drop, NULL), BG_EINVAL);
    CHECK_STATUS(bg_pool_shutdown(NULL, BG_SHUTDOWN_DRAIN, 0), BG_EINVAL);
    CHECK_STATUS(bg_pool_shutdown(fake_pool, BG_SHUTDOWN_DRAIN, 0), BG_EINVAL);
    CHECK_STATUS(bg_pool_free(NULL), BG_EINVAL);
    CHECK_STATUS(bg_pool_free(fake_pool), BG_EINVAL);
    CHECK_STATUS(bg_pool_set_threads(NULL, 2), BG_EINVAL);
    CHECK_STATUS(bg_pool_set_threads(fake_pool, 2), BG_EINVAL);
    CHECK(bg_pool_threads(NULL) == 0);
    CHECK(bg_pool_threads(fake_pool) == 0);
    bg_stats st;
    CHECK_STATUS(bg_pool_stats(NULL, &st), BG_EINVAL);
    CHECK_STATUS(bg_pool_stats(fake_pool, &st), BG_EINVAL);
    CHECK_STATUS(bg_pool_stats(p, NULL), BG_EINVAL);
    CHECK_STATUS(bg_pool_set_error_handler(NULL, bg_error_ignore, NULL), BG_EINVAL);
    CHECK_STATUS(bg_pool_set_error_handler(fake_pool, bg_error_ignore, NULL), BG_EINVAL);
    /* The default pool belongs to the library. */
    CHECK_STATUS(bg_pool_free(bg_default_pool()), BG_EINVAL);

    /* NULL or foreign handle. */
    CHECK_STATUS(bg_wait(NULL, NULL), BG_EINVAL);
    CHECK_STATUS(bg_wait_timeout(NULL, 0, NULL), BG_EINVAL);
    CHECK_STATUS(bg_wait_ex(NULL, 0, BG_WAIT_HELP, NULL), BG_EINVAL);
    CHECK_STATUS(bg_wait(fake_task, NULL), BG_EINVAL);
    CHECK(!bg_done(NULL));
    CHECK(!bg_done(fake_task));
    CHECK_STATUS(bg_cancel(NULL), BG_EINVAL);
    CHECK_STATUS(bg_cancel(fake_task), BG_EINVAL);
    CHECK(bg_task_retain(NULL) == NULL);
    CHECK(bg_task_retain(fake_task) == NULL);
    CHECK_STATUS(bg_task_release(NULL), BG_OK); /* like free(NULL) */
    CHECK_STATUS(bg_task_release(fake_task), BG_EINVAL);

    /* Out-of-range enums. */
    CHECK_STATUS(bg_pool_shutdown(p, 2, 0), BG_EINVAL);
    CHECK_STATUS(bg_shutdown(7, 0), BG_EINVAL);
    bg_task *h = NULL;
    CHECK_STATUS(bg_pool_submit(p, count_run, NULL, count_drop, &h), BG_OK);
    CHECK_STATUS(bg_wait_ex(h, TEST_TIMEOUT_NS, 8, NULL), BG_EINVAL);
    CHECK_STATUS(bg_wait_ex(h, TEST_TIMEOUT_NS, BG_WAIT_RUN_HERE | BG_WAIT_NO_RUN_HERE, NULL), BG_EINVAL);
    CHECK_STATUS(bg_wait_ex(h, TEST_TIMEOUT_NS, BG_WAIT_NO_HELP, NULL), BG_OK);
    CHECK_STATUS(bg_task_release(h), BG_OK);
    CHECK(strcmp(bg_strerror(-1), "unknown status") == 0);
    CHECK(strcmp(bg_strerror(1000), "unknown status") == 0);
    bg_pool_options_init(NULL); /* nothing to fill: no crash */

    /* None of it was mistaken for an object: the memory is untouched. */
    for (size_t i = 0; i < sizeof not_an_object; i++) CHECK(not_an_object[i] == 0);
    CHECK_STATUS(bg_pool_free(p), BG_OK);
    CHECK(atomic_load(&dropped) == 0);
}

static void thread_counts(void) {
    bg_pool_options o;
    bg_pool_options_init(&o);
    bg_pool *p = (bg_pool *)(uintptr_t)0x1;
    size_t bad[] = {BG_MAX_THREADS + 1, 100000, SIZE_MAX};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        o.threads = bad[i];
        CHECK_STATUS(bg_pool_new(&o, &p), BG_EINVAL);
        CHECK(p == (bg_pool *)(uintptr_t)0x1);
    }
    /* 0 in the options means one per CPU. */
    o.threads = 0;
    CHECK_STATUS(bg_pool_new(&o, &p), BG_OK);
    CHECK(bg_pool_threads(p) >= 1);
    /* Live resizes: 0 and absurd counts are refused, the size is unchanged. */
    CHECK_STATUS(bg_pool_set_threads(p, 2), BG_OK);
    CHECK_STATUS(bg_pool_set_threads(p, 0), BG_EINVAL);
    CHECK_STATUS(bg_pool_set_threads(p, BG_MAX_THREADS + 1), BG_EINVAL);
    CHECK_STATUS(bg_pool_set_threads(p, SIZE_MAX), BG_EINVAL);
    CHECK(bg_pool_threads(p) == 2);
    CHECK_STATUS(bg_pool_free(p), BG_OK);
    CHECK_STATUS(bg_set_threads(0), BG_EINVAL);
    CHECK_STATUS(bg_set_threads(SIZE_MAX), BG_EINVAL);
    CHECK_STATUS(bg_pool_new(NULL, NULL), BG_EINVAL);
}

static void options_struct_size(void) {
    /* A caller compiled against a newer, larger header. */
    struct {
        bg_pool_options o;
        uint64_t newer_fields[4];
    } big;
    memset(&big, 0, sizeof big);
    bg_pool_options_init(&big.o);
    big.o.threads = 1;
    bg_pool *p = NULL;

    /* Smaller than this library's struct (an older or broken caller). */
    big.o.struct_size = 0;
    CHECK_STATUS(bg_pool_new(&big.o, &p), BG_EINVAL);
    big.o.struct_size = sizeof(bg_pool_options) - sizeof(void *);
    CHECK_STATUS(bg_pool_new(&big.o, &p), BG_EINVAL);
    /* Absurdly large: refused before anything past our struct is read. */
    big.o.struct_size = (size_t)1 << 20;
    CHECK_STATUS(bg_pool_new(&big.o, &p), BG_EINVAL);
    /* Larger with fields this library does not know set: refused. */
    big.o.struct_size = sizeof big;
    big.newer_fields[3] = 1;
    CHECK_STATUS(bg_pool_new(&big.o, &p), BG_EINVAL);
    CHECK(p == NULL);
    /* Larger with those fields zero: accepted. */
    big.newer_fields[3] = 0;
    CHECK_STATUS(bg_pool_new(&big.o, &p), BG_OK);
    CHECK_STATUS(bg_pool_free(p), BG_OK);

    /* A name prefix longer than 256 bytes. */
    char name[300];
    memset(name, 'x', sizeof name - 1);
    name[sizeof name - 1] = 0;
    bg_pool_options o;
    bg_pool_options_init(&o);
    o.name_prefix = name;
    p = NULL;
    CHECK_STATUS(bg_pool_new(&o, &p), BG_EINVAL);
    CHECK(p == NULL);
}

static void cancel_twice_and_running(void) {
    bg_pool *p = new_pool(1);
    gate_open = gate_entered = 0;
    bg_task *blocker = NULL, *queued = NULL;
    CHECK_STATUS(bg_pool_submit(p, wait_at_gate, NULL, NULL, &blocker), BG_OK);
    gate_wait_entered();
    int before = atomic_load(&dropped);
    CHECK_STATUS(bg_pool_submit(p, count_run, NULL, count_drop, &queued), BG_OK);
    CHECK_STATUS(bg_cancel(blocker), BG_ERUNNING);
    CHECK_STATUS(bg_cancel(queued), BG_OK);
    CHECK_STATUS(bg_cancel(queued), BG_EDONE);
    CHECK(atomic_load(&dropped) == before + 1); /* drop ran once, on the first cancel */
    CHECK_STATUS(bg_wait_timeout(queued, TEST_TIMEOUT_NS, NULL), BG_ECANCELLED);
    gate_release();
    CHECK_STATUS(bg_wait_timeout(blocker, TEST_TIMEOUT_NS, NULL), BG_OK);
    CHECK_STATUS(bg_cancel(blocker), BG_EDONE);
    CHECK_STATUS(bg_task_release(queued), BG_OK);
    CHECK_STATUS(bg_task_release(blocker), BG_OK);
    CHECK_STATUS(bg_pool_free(p), BG_OK);
    CHECK(atomic_load(&dropped) == before + 1);
}

static void after_shutdown(void) {
    bg_pool *p = new_pool(2);
    int ran_before = atomic_load(&ran), dropped_before = atomic_load(&dropped);
    CHECK_STATUS(bg_pool_submit(p, count_run, NULL, count_drop, NULL), BG_OK);
    CHECK_STATUS(bg_pool_shutdown(p, BG_SHUTDOWN_DRAIN, TEST_TIMEOUT_NS), BG_OK);
    CHECK(atomic_load(&ran) == ran_before + 1);
    /* Shutting down again, in either mode, is a no-op that succeeds. */
    CHECK_STATUS(bg_pool_shutdown(p, BG_SHUTDOWN_DRAIN, TEST_TIMEOUT_NS), BG_OK);
    CHECK_STATUS(bg_pool_shutdown(p, BG_SHUTDOWN_CANCEL, 0), BG_OK);
    /* Submissions are refused; drop is not called; the handle is not written. */
    bg_task *t = (bg_task *)(uintptr_t)0x1;
    CHECK_STATUS(bg_pool_submit(p, count_run, NULL, count_drop, NULL), BG_ESHUTDOWN);
    CHECK_STATUS(bg_pool_submit(p, count_run, NULL, count_drop, &t), BG_ESHUTDOWN);
    CHECK(t == (bg_task *)(uintptr_t)0x1);
    CHECK_STATUS(bg_pool_set_threads(p, 3), BG_ESHUTDOWN);
    CHECK_STATUS(bg_pool_stats(p, &(bg_stats){0}), BG_OK);
    CHECK(bg_pool_threads(p) == 2);
    CHECK_STATUS(bg_pool_free(p), BG_OK);
    CHECK(atomic_load(&ran) == ran_before + 1);
    CHECK(atomic_load(&dropped) == dropped_before);
}

/* From inside a pool's own worker, shutting it down or freeing it would
 * wait for the caller itself. */
static bg_status inside_shutdown, inside_free, inside_default_shutdown;

static int shut_own_pool(void *arg) {
    bg_pool *self = arg;
    inside_shutdown = bg_pool_shutdown(self, BG_SHUTDOWN_DRAIN, BG_FOREVER);
    inside_free = bg_pool_free(self);
    return 0;
}

static int shut_default_pool(void *arg) {
    (void)arg;
    inside_default_shutdown = bg_shutdown(BG_SHUTDOWN_DRAIN, BG_FOREVER);
    return 0;
}

static void shutdown_from_own_worker(void) {
    bg_pool *p = new_pool(2);
    bg_task *t = NULL;
    int ran_before = atomic_load(&ran);
    CHECK_STATUS(bg_pool_submit(p, shut_own_pool, p, NULL, &t), BG_OK);
    CHECK_STATUS(bg_wait_timeout(t, TEST_TIMEOUT_NS, NULL), BG_OK);
    CHECK_STATUS(bg_task_release(t), BG_OK);
    CHECK_STATUS(inside_shutdown, BG_EDEADLK);
    CHECK_STATUS(inside_free, BG_EDEADLK);
    /* The close had begun: new work from outside is refused... */
    CHECK_STATUS(bg_pool_submit(p, count_run, NULL, count_drop, NULL), BG_ESHUTDOWN);
    /* ...and the pool was not freed: the owner shuts it down and frees it. */
    CHECK_STATUS(bg_pool_shutdown(p, BG_SHUTDOWN_DRAIN, TEST_TIMEOUT_NS), BG_OK);
    CHECK_STATUS(bg_pool_free(p), BG_OK);
    CHECK(atomic_load(&ran) == ran_before);

    /* The same for the default pool (last: it stays closed afterwards). */
    bg_task *d = bg_submit(shut_default_pool, NULL);
    CHECK(d != NULL);
    CHECK_STATUS(bg_wait_timeout(d, TEST_TIMEOUT_NS, NULL), BG_OK);
    CHECK_STATUS(bg_task_release(d), BG_OK);
    CHECK_STATUS(inside_default_shutdown, BG_EDEADLK);
    CHECK_STATUS(bg_shutdown(BG_SHUTDOWN_DRAIN, TEST_TIMEOUT_NS), BG_OK);
    errno = 0;
    CHECK(bg_submit(count_run, NULL) == NULL);
    CHECK(errno == ESHUTDOWN);
    CHECK_STATUS(bg_spawn(count_run, NULL), BG_ESHUTDOWN);
}

int main(void) {
    null_and_foreign_pointers();
    thread_counts();
    options_struct_size();
    cancel_twice_and_running();
    after_shutdown();
    shutdown_from_own_worker();
    CHECK(atomic_load(&dropped) == 1); /* the one task cancelled on purpose */
    return 0;
}
