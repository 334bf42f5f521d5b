/* warm_cache.c: asok's cache warming. After a write, the handler fires off
 * a refresh of the cached "recent posts" and returns at once. Failures are
 * logged by the pool's error handler, never raised into the request.
 */
#include <background.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static char cache[256];
static atomic_int refreshes, failures;

static int warm(void *arg) {
    const char *source = arg;
    if (strcmp(source, "db-down") == 0) return 111; /* ECONNREFUSED, say */
    pthread_mutex_lock(&cache_lock);
    snprintf(cache, sizeof cache, "recent posts from %s (refresh %d)", source, atomic_fetch_add(&refreshes, 1) + 1);
    pthread_mutex_unlock(&cache_lock);
    return 0;
}

static void log_failure(void *ctx, const bg_failure *f) {
    (void)ctx;
    atomic_fetch_add(&failures, 1);
    fprintf(stderr, "[warn] cache warm-up from %s failed with code %d\n", (const char *)f->arg, f->code);
}

static void create_post(const char *source) {
    /* ... write the post ... */
    if (bg_spawn(warm, (void *)source) != BG_OK) fprintf(stderr, "warm-up not queued\n");
}

int main(void) {
    bg_pool_set_error_handler(bg_default_pool(), log_failure, NULL);
    create_post("primary");
    create_post("db-down");
    create_post("replica");
    /* Shutting down drains what was queued, so the demo can show the result. */
    if (bg_shutdown(BG_SHUTDOWN_DRAIN, BG_FOREVER) != BG_OK) return 1;
    printf("cache: %s\n", cache);
    printf("%d refreshes, %d failure(s) logged\n", atomic_load(&refreshes), atomic_load(&failures));
    return !(atomic_load(&refreshes) == 2 && atomic_load(&failures) == 1);
}
