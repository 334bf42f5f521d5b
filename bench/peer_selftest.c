/* A deliberately broken "pool" that runs tasks inline, loses the second task
 * and runs the third twice. `run.sh --tiny` expects the driver to reject it:
 * proof that the exactly-once check can fail. */
#include <string.h>

#include "common.h"

static size_t calls;

static int init(int threads) {
    (void)threads;
    return 0;
}

static void fini(void) {}

static void produce(void (*body)(void *), void *ctx) { body(ctx); }

static void spawn(void *arg) {
    calls++;
    if (calls == 2) return; /* lost */
    bench_task(arg);
    if (calls == 3) bench_task(arg); /* run twice */
}

static const char *skip(const char *wl) { return strcmp(wl, "spawn") ? "self-test covers spawn only" : NULL; }

const struct peer bench_peer = {
    .name = "selftest",
    .init = init,
    .fini = fini,
    .produce = produce,
    .spawn = spawn,
    .skip = skip,
};
