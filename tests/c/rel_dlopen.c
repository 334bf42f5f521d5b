/* Unloading: a program dlopen()s libbackground.so, runs tasks, and
 * dlclose()s it, once without shutting anything down (workers are still
 * running library code) and once after shutting down. The library is
 * linked with -z nodelete, so dlclose() never unmaps code that worker
 * threads or the exit handler still run: nothing crashes, the state
 * survives a reopen, and the process exits cleanly.
 *
 * The program uses the library only through dlsym(): it must not also
 * carry a static copy (the static build links libbackground.a, from which
 * nothing is pulled in as long as no bg_ symbol is referenced here). */
#include <background.h>

#include <dlfcn.h>
#include <libgen.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            _exit(1);                                                                \
        }                                                                            \
    } while (0)

#define TIMEOUT_NS (10ull * 1000 * 1000 * 1000)

/* The library's entry points, as dlsym() finds them. */
struct api {
    bg_task *(*submit)(bg_fn, void *);
    bg_status (*wait_timeout)(bg_task *, uint64_t, int *);
    bg_status (*task_release)(bg_task *);
    bg_status (*pool_new)(const bg_pool_options *, bg_pool **);
    void (*pool_options_init)(bg_pool_options *);
    bg_status (*pool_submit)(bg_pool *, bg_fn, void *, bg_drop_fn, bg_task **);
    bg_status (*pool_free)(bg_pool *);
    bg_status (*shutdown)(uint32_t, uint64_t);
};

static void *sym(void *h, const char *name) {
    void *p = dlsym(h, name);
    if (!p) {
        fprintf(stderr, "dlsym(%s): %s\n", name, dlerror());
        _exit(1);
    }
    return p;
}

static struct api load(void *h) {
    struct api a;
    *(void **)&a.submit = sym(h, "bg_submit");
    *(void **)&a.wait_timeout = sym(h, "bg_wait_timeout");
    *(void **)&a.task_release = sym(h, "bg_task_release");
    *(void **)&a.pool_new = sym(h, "bg_pool_new");
    *(void **)&a.pool_options_init = sym(h, "bg_pool_options_init");
    *(void **)&a.pool_submit = sym(h, "bg_pool_submit");
    *(void **)&a.pool_free = sym(h, "bg_pool_free");
    *(void **)&a.shutdown = sym(h, "bg_shutdown");
    return a;
}

static atomic_int slow_done;

static int square(void *arg) {
    intptr_t n = (intptr_t)arg;
    return (int)(n * n);
}

static int slow(void *arg) {
    (void)arg;
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
    atomic_fetch_add(&slow_done, 1);
    return 0;
}

/* Runs tasks on the default pool and checks their results. */
static void run_squares(const struct api *a) {
    enum { N = 64 };
    bg_task *t[N];
    for (intptr_t i = 1; i < N; i++) CHECK((t[i] = a->submit(square, (void *)i)) != NULL);
    for (intptr_t i = 1; i < N; i++) {
        int rc = 0;
        CHECK(a->wait_timeout(t[i], TIMEOUT_NS, &rc) == BG_EFAILED); /* non-zero code */
        CHECK(rc == (int)(i * i));
        CHECK(a->task_release(t[i]) == BG_OK);
    }
}

static bg_pool *pool; /* a global, so it stays reachable while abandoned */

int main(void) {
    char self[4096], path[4200];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    CHECK(n > 0);
    self[n] = 0;
    /* The tests live in <profile>/c-tests/; the library in <profile>/. */
    snprintf(path, sizeof path, "%s/../libbackground.so", dirname(self));
    /* The shared build also links the library: then it is loaded already and
     * stays so, and only the rest of the test means anything. */
    void *pre = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
    int preloaded = pre != NULL;
    if (pre) dlclose(pre);

    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) fprintf(stderr, "dlopen(%s): %s\n", path, dlerror());
    CHECK(h != NULL);
    struct api a = load(h);
    run_squares(&a);
    bg_pool_options o;
    a.pool_options_init(&o);
    o.threads = 2;
    CHECK(a.pool_new(&o, &pool) == BG_OK);
    for (int i = 0; i < 6; i++) CHECK(a.pool_submit(pool, slow, NULL, NULL, NULL) == BG_OK);

    /* dlclose without a shutdown: the pools' workers keep running. */
    CHECK(dlclose(h) == 0);
    if (!preloaded) {
        void *still = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
        CHECK(still != NULL); /* -z nodelete: dlclose did not unmap it */
        dlclose(still);
    }
    for (int i = 0; i < 1000 && atomic_load(&slow_done) < 6; i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    CHECK(atomic_load(&slow_done) == 6);

    /* Reopened: the same library, with its state (both pools still open). */
    void *h2 = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    CHECK(h2 != NULL);
    struct api b = load(h2);
    CHECK(b.submit == a.submit);
    run_squares(&b);
    CHECK(b.pool_free(pool) == BG_OK);
    /* Shut down, then close: the clean way out. */
    CHECK(b.shutdown(BG_SHUTDOWN_DRAIN, TIMEOUT_NS) == BG_OK);
    CHECK(dlclose(h2) == 0);
    return 0;
}
