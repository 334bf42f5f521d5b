/* After the last pool is freed the library holds only a small fixed set of
 * heap blocks (README, "Memory"): no pool table, and not the crossbeam-epoch
 * records of the workers that exited (one per thread, 83 KB after a
 * 20-thread pool), which nothing freed before: a program that counts its
 * allocations against its frees (thpool's valgrind test) saw them.
 *
 * Counted exactly: this program defines malloc and its kin, which count
 * the blocks in use and pass on to glibc's (the library's allocations,
 * static or shared, come here too). Blocks in use before the first pool,
 * after a 20-thread pool was used and freed, and after a second one.
 * bg-test: no-asan (ASan's allocator replaces the counting malloc)
 * bg-test: no-valgrind (so does memcheck's) */
#include "check.h"

#include <errno.h>
#include <stdatomic.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static atomic_long blocks;

void *malloc(size_t n) {
    void *p = __libc_malloc(n);
    if (p) atomic_fetch_add(&blocks, 1);
    return p;
}

void *calloc(size_t k, size_t n) {
    void *p = __libc_calloc(k, n);
    if (p) atomic_fetch_add(&blocks, 1);
    return p;
}

void *realloc(void *old, size_t n) {
    void *p = __libc_realloc(old, n);
    if (!old && p) atomic_fetch_add(&blocks, 1);
    if (old && !p && n == 0) atomic_fetch_sub(&blocks, 1);
    return p;
}

void *memalign(size_t align, size_t n) {
    void *p = __libc_memalign(align, n);
    if (p) atomic_fetch_add(&blocks, 1);
    return p;
}

void *aligned_alloc(size_t align, size_t n) {
    return memalign(align, n);
}

int posix_memalign(void **out, size_t align, size_t n) {
    void *p = memalign(align, n);
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}

void free(void *p) {
    if (p) atomic_fetch_sub(&blocks, 1);
    __libc_free(p);
}

static atomic_int ran;

static int work(void *arg) {
    (void)arg;
    atomic_fetch_add(&ran, 1);
    return 0;
}

static void cycle(void) {
    bg_pool_options o;
    bg_pool_options_init(&o);
    o.threads = 20;
    bg_pool *pool = NULL;
    CHECK_STATUS(bg_pool_new(&o, &pool), BG_OK);
    atomic_store(&ran, 0);
    for (int i = 0; i < 20000; i++) CHECK_STATUS(bg_pool_submit(pool, work, NULL, NULL, NULL), BG_OK);
    bg_task *t = NULL;
    for (int i = 0; i < 1000; i++) {
        CHECK_STATUS(bg_pool_submit(pool, work, NULL, NULL, &t), BG_OK);
        CHECK_STATUS(bg_wait(t, NULL), BG_OK);
        CHECK_STATUS(bg_task_release(t), BG_OK);
    }
    CHECK_STATUS(bg_pool_shutdown(pool, BG_SHUTDOWN_DRAIN, BG_FOREVER), BG_OK);
    CHECK(atomic_load(&ran) == 21000);
    CHECK_STATUS(bg_pool_free(pool), BG_OK);
}

int main(int argc, char **argv) {
    (void)argc;
    /* glibc keeps the stacks of exited threads for reuse, with a block of
     * thread-local bookkeeping each: its own, not ours. Run without. */
    if (!getenv("GLIBC_TUNABLES")) {
        setenv("GLIBC_TUNABLES", "glibc.pthread.stack_cache_size=0", 1);
        execv("/proc/self/exe", argv);
        CHECK(!"re-exec failed");
    }
    fprintf(stderr, "blocks in use:"); /* stderr's buffer, before the baseline */
    long before = atomic_load(&blocks);
    cycle();
    long after = atomic_load(&blocks);
    cycle();
    long again = atomic_load(&blocks);
    fprintf(stderr, " %ld before, +%ld after a 20-thread pool, +%ld after another\n", before,
            after - before, again - before);
    /* The documented fixed set (README, "Memory"): the epoch collector (1
     * block), the record and last garbage bags of the thread that collected
     * (up to 5), the depot's list of free slabs (1); and until this thread
     * exits, what it keeps itself (its slab of handles, and Rust's
     * per-thread record: 2); the monitor thread, started with the first
     * pool and kept for the process (its thread record, name, TLS and watch
     * list: 17 in all measured, the same after the second cycle). Before:
     * 46, then 86, the records and garbage bags of every worker that exited. */
    CHECK(after - before <= 20);
    CHECK(again - before <= 20);
    return 0;
}
