/* A short stress run from C, so that AddressSanitizer, UBSan and valgrind
 * watch the library while several threads submit, wait with time-outs,
 * cancel, resize and shut down at once (tests/stress.rs is the long form).
 * Tasks go in through plain submits, a serial queue, keyed lanes and
 * continuations, racing drain and cancel shutdowns and live shrinks.
 * Each round checks that every accepted task ran exactly once or had its
 * drop run exactly once, and that refused ones did neither. */
#include "check.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#define ROUNDS 12
#define PRODUCERS 2
#define OPS 60
#define MAX_IDS (PRODUCERS * OPS * 4 + 16)

static const uint64_t timeouts[] = {0, 1000, 100000, 1000000};

struct round {
    bg_pool *pool;
    bg_serial *serial;
    atomic_int next_id;
    atomic_uchar accepted[MAX_IDS], ran[MAX_IDS], dropped[MAX_IDS];
    atomic_int done_producing, ops_done;
};

struct rec {
    struct round *r;
    int id;
    int children; /* > 0: submits that many leaves to its own pool and waits */
};

static uint64_t next_rand(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static int run_rec(void *arg);
static void drop_rec(void *arg);

static struct rec *new_rec(struct round *r, int children) {
    struct rec *x = malloc(sizeof *x);
    CHECK(x != NULL);
    x->r = r;
    x->id = atomic_fetch_add(&r->next_id, 1);
    CHECK(x->id < MAX_IDS);
    x->children = children;
    return x;
}

/* Submits `x` (through the pool, the round's serial queue or a keyed lane,
 * by `via`); records the answer. A refused record is freed here. */
static int submit_via(struct rec *x, bg_task **out, int via) {
    int id = x->id;
    struct round *r = x->r;
    bg_status s = via == 1   ? bg_serial_submit(r->serial, run_rec, x, drop_rec, out)
                  : via == 2 ? bg_pool_submit_keyed(r->pool, (uint64_t)id % 5, run_rec, x, drop_rec, out)
                             : bg_pool_submit(r->pool, run_rec, x, drop_rec, out);
    if (s == BG_OK) {
        atomic_store(&r->accepted[id], 1);
        return 1;
    }
    if (s != BG_ESHUTDOWN && s != BG_EFULL) {
        fprintf(stderr, "task %d: submit said %s\n", id, bg_strerror(s));
        _exit(1);
    }
    free(x);
    return 0;
}

static int submit(struct rec *x, bg_task **out) {
    return submit_via(x, out, 0);
}

static int then_rec(void *arg, bg_status antecedent, int result) {
    (void)antecedent;
    (void)result;
    struct rec *x = arg;
    atomic_fetch_add(&x->r->ran[x->id], 1);
    free(x);
    return 0;
}

static int run_rec(void *arg) {
    struct rec *x = arg;
    struct round *r = x->r;
    atomic_fetch_add(&r->ran[x->id], 1);
    int children = x->children;
    int id = x->id;
    free(x);
    /* Some tasks block in the kernel (issue 14: spare threads stand in). */
    if (id % 7 == 0) usleep(1000 + (useconds_t)(id % 3) * 1000);
    bg_task *kids[4];
    int n = 0;
    for (int i = 0; i < children; i++)
        if (submit(new_rec(r, 0), &kids[n])) n++;
    for (int i = 0; i < n; i++) {
        /* Half the parents wait without helping: blocked, their children
         * on their own deque, they rely on a spare thread to run them. */
        bg_status s = id % 2 ? bg_wait(kids[i], NULL) : bg_wait_ex(kids[i], BG_FOREVER, BG_WAIT_NO_HELP, NULL);
        CHECK(s == BG_OK || s == BG_ESHUTDOWN);
        CHECK_STATUS(bg_task_release(kids[i]), BG_OK);
    }
    return 0;
}

static void drop_rec(void *arg) {
    struct rec *x = arg;
    atomic_fetch_add(&x->r->dropped[x->id], 1);
    free(x);
}

struct producer {
    struct round *r;
    uint64_t seed;
};

static void *produce(void *arg) {
    struct producer *p = arg;
    struct round *r = p->r;
    bg_task *held[OPS];
    int n = 0;
    for (int op = 0; op < OPS; op++) {
        atomic_fetch_add(&r->ops_done, 1);
        uint64_t c = next_rand(&p->seed) % 10;
        if (c < 4) {
            bg_task *t = NULL;
            if (submit(new_rec(r, c == 0 ? 1 + (int)(next_rand(&p->seed) % 3) : 0), &t)) held[n++] = t;
        } else if (c < 6) {
            submit_via(new_rec(r, 0), NULL, (int)(next_rand(&p->seed) % 3));
        } else if (c == 6 && n > 0 && next_rand(&p->seed) % 2) {
            struct rec *x = new_rec(r, 0);
            int id = x->id; /* once accepted, x may already be freed by then_rec */
            bg_status s = bg_then(held[next_rand(&p->seed) % (uint64_t)n], then_rec, x, drop_rec, NULL);
            if (s == BG_OK) {
                atomic_store(&r->accepted[id], 1);
            } else {
                CHECK(s == BG_ESHUTDOWN);
                free(x);
            }
        } else if (c < 8 && n > 0) {
            bg_task *t = held[next_rand(&p->seed) % (uint64_t)n];
            bg_status s = bg_wait_timeout(t, timeouts[next_rand(&p->seed) % 4], NULL);
            CHECK(s == BG_OK || s == BG_ETIMEDOUT || s == BG_ECANCELLED || s == BG_ESHUTDOWN);
        } else if (n > 0) {
            bg_status s = bg_cancel(held[next_rand(&p->seed) % (uint64_t)n]);
            CHECK(s == BG_OK || s == BG_ERUNNING || s == BG_EDONE);
        }
    }
    for (int i = 0; i < n; i++) {
        bg_status s = bg_wait_timeout(held[i], 6 * TEST_TIMEOUT_NS, NULL);
        if (!(s == BG_OK || s == BG_ECANCELLED || s == BG_ESHUTDOWN)) fprintf(stderr, "final wait: %s\n", bg_strerror(s));
        CHECK(s == BG_OK || s == BG_ECANCELLED || s == BG_ESHUTDOWN);
        CHECK_STATUS(bg_task_release(held[i]), BG_OK);
    }
    atomic_fetch_add(&r->done_producing, 1);
    return NULL;
}

struct chaos {
    struct round *r;
    uint64_t seed;
};

/* Resizes the pool until the producers are done, and shuts it down (drain
 * or cancel) once they have done a random number of operations. */
static void *chaos(void *arg) {
    struct chaos *c = arg;
    struct round *r = c->r;
    int close_after = (int)(next_rand(&c->seed) % (PRODUCERS * OPS + PRODUCERS * OPS / 4));
    int closed = 0;
    while (atomic_load(&r->done_producing) < PRODUCERS) {
        bg_status s = bg_pool_set_threads(r->pool, 1 + next_rand(&c->seed) % 4);
        CHECK(s == BG_OK || s == BG_ESHUTDOWN);
        if (!closed && atomic_load(&r->ops_done) >= close_after) {
            closed = 1;
            /* A live shrink just before the close: retiring workers race the drain. */
            s = bg_pool_set_threads(r->pool, 1);
            CHECK(s == BG_OK || s == BG_ESHUTDOWN);
            uint32_t mode = next_rand(&c->seed) % 2 ? BG_SHUTDOWN_CANCEL : BG_SHUTDOWN_DRAIN;
            s = bg_pool_shutdown(r->pool, mode, timeouts[next_rand(&c->seed) % 4]);
            CHECK(s == BG_OK || s == BG_ETIMEDOUT);
        }
        sched_yield();
    }
    return NULL;
}

int main(void) {
    for (int round = 0; round < ROUNDS; round++) {
        uint64_t seed = 0x9e3779b97f4a7c15ull * (uint64_t)(round + 1);
        struct round *r = calloc(1, sizeof *r);
        CHECK(r != NULL);
        bg_pool_options o;
        bg_pool_options_init(&o);
        o.threads = 1 + next_rand(&seed) % 3;
        o.max_queued = next_rand(&seed) % 2 ? 0 : 8;
        CHECK_STATUS(bg_pool_new(&o, &r->pool), BG_OK);
        CHECK_STATUS(bg_serial_new(r->pool, &r->serial), BG_OK);

        pthread_t th[PRODUCERS + 1];
        struct producer ps[PRODUCERS];
        for (int i = 0; i < PRODUCERS; i++) {
            ps[i] = (struct producer){r, next_rand(&seed)};
            CHECK(pthread_create(&th[i], NULL, produce, &ps[i]) == 0);
        }
        struct chaos c = {r, next_rand(&seed)};
        CHECK(pthread_create(&th[PRODUCERS], NULL, chaos, &c) == 0);
        for (int i = 0; i <= PRODUCERS; i++) CHECK(pthread_join(th[i], NULL) == 0);
        CHECK_STATUS(bg_serial_free(r->serial), BG_OK);
        CHECK_STATUS(bg_pool_shutdown(r->pool, BG_SHUTDOWN_DRAIN, 6 * TEST_TIMEOUT_NS), BG_OK);
        CHECK_STATUS(bg_pool_free(r->pool), BG_OK);

        int n = atomic_load(&r->next_id);
        for (int id = 0; id < n; id++) {
            int done = atomic_load(&r->ran[id]) + atomic_load(&r->dropped[id]);
            if (done != atomic_load(&r->accepted[id])) {
                fprintf(stderr, "round %d task %d: accepted %d, ran %d, dropped %d\n", round, id,
                        atomic_load(&r->accepted[id]), atomic_load(&r->ran[id]), atomic_load(&r->dropped[id]));
                _exit(1);
            }
        }
        free(r);
    }
    return 0;
}
