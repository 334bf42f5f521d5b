/* rayon (crates.io), through the small static library in bench/rayon/. */
#include <string.h>

#include "common.h"

int rayon_init(int threads);
void rayon_spawn(void *arg);
uint64_t rayon_fib(int n);
void rayon_pfor(uint64_t *a, size_t n);
void rayon_serial(size_t n);
void rayon_group(size_t rounds, size_t k);
uint64_t rayon_fibj(int n);
uint64_t rayon_skynet(uint64_t leaves);
uint64_t rayon_nqueens(int n);

static void fini(void) {} /* rayon pools in a static live until exit */

static void produce(void (*body)(void *), void *ctx) { body(ctx); }

static const char *skip(const char *wl) {
    if (bench_issue14_workload(wl)) return "a fixed pool of --threads workers: tbb stands for these in issue 14's workloads";
    if (!strcmp(wl, "handles") || !strcmp(wl, "memh")) return "rayon has no per-task handle (join and scope wait for all)";
    return NULL;
}

const struct peer bench_peer = {
    .name = "rayon",
    .init = rayon_init,
    .fini = fini,
    .produce = produce,
    .spawn = rayon_spawn,
    .fib = rayon_fib,
    .pfor = rayon_pfor,
    .serial = rayon_serial,
    .group = rayon_group,
    .skip = skip,
    .serial_ordered = 1,
    .fibj = rayon_fibj,
    .skynet = rayon_skynet,
    .nqueens = rayon_nqueens,
};
