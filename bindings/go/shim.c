#include <sched.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "shim.h"
#include "_cgo_export.h"

/* The pool of the Go task that a waiter runs on this thread (see
 * bg_go_run_inline); NULL on a worker running its own tasks. */
static __thread bg_pool *inline_pool;

bg_pool *bg_go_current_pool(void) {
    bg_pool *p = inline_pool;
    return p != NULL ? p : bg_current_pool();
}

/* A pool not named (NULL): the running task's pool, as bg_submit() picks
 * in C, else the default pool. */
static bg_pool *pool_or_default(bg_pool *pool) {
    if (pool == NULL) {
        pool = bg_go_current_pool();
    }
    return pool != NULL ? pool : bg_default_pool();
}

/* Runs a job on a worker: a waiter's inline pool set further up this stack
 * (a helping wait inside a task run inline) is not this task's pool. */
static int run_job(uintptr_t handle) {
    bg_pool *saved = inline_pool;
    inline_pool = NULL;
    int code = bgGoRun(handle);
    inline_pool = saved;
    return code;
}

static int go_run(void *arg) {
    return run_job((uintptr_t)arg);
}

static void go_drop(void *arg) {
    bgGoDrop((uintptr_t)arg);
}

bg_go_submitted bg_go_submit(bg_pool *pool, uintptr_t handle, int want_task) {
    bg_go_submitted s = {BG_ENOMEM, NULL};
    pool = pool_or_default(pool);
    if (pool != NULL) {
        s.status = bg_pool_submit(pool, go_run, (void *)handle, go_drop, want_task ? &s.task : NULL);
    }
    return s;
}

bg_go_submitted bg_go_group_submit(bg_group *group, uintptr_t handle) {
    bg_go_submitted s = {BG_OK, NULL};
    s.status = bg_group_submit(group, go_run, (void *)handle, go_drop, NULL);
    return s;
}

bg_go_submitted bg_go_serial_submit(bg_serial *queue, uintptr_t handle, int want_task) {
    bg_go_submitted s = {BG_OK, NULL};
    s.status = bg_serial_submit(queue, go_run, (void *)handle, go_drop, want_task ? &s.task : NULL);
    return s;
}

bg_go_submitted bg_go_submit_keyed(bg_pool *pool, uint64_t key, uintptr_t handle, int want_task) {
    bg_go_submitted s = {BG_ENOMEM, NULL};
    pool = pool_or_default(pool);
    if (pool != NULL) {
        s.status = bg_pool_submit_keyed(pool, key, go_run, (void *)handle, go_drop, want_task ? &s.task : NULL);
    }
    return s;
}

bg_go_submitted bg_go_submit_ex(bg_pool *pool, bg_submit_options *options, uintptr_t handle) {
    bg_go_submitted s = {BG_ENOMEM, NULL};
    pool = pool_or_default(pool);
    if (pool != NULL) {
        options->drop = go_drop;
        s.status = bg_pool_submit_ex(pool, go_run, (void *)handle, options, &s.task);
    }
    return s;
}

bg_go_submitted bg_go_limit_submit(bg_limit *limit, uintptr_t handle) {
    bg_go_submitted s = {BG_OK, NULL};
    s.status = bg_limit_submit(limit, go_run, (void *)handle, go_drop, &s.task);
    return s;
}

bg_status bg_go_batch_add(bg_batch *batch, uintptr_t handle) {
    return bg_batch_add(batch, go_run, (void *)handle, go_drop);
}

/* The hub's eventfd and its list of watched cells that completed. */
static int hub_fd = -1;
static bg_go_cell *hub_head;

int bg_go_hub_init(void) {
    if (hub_fd < 0) {
        hub_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    }
    return hub_fd;
}

void bg_go_hub_signal(void) {
    uint64_t one = 1;
    /* EAGAIN (counter full) still leaves it readable: nothing is lost. */
    ssize_t n = write(hub_fd, &one, sizeof one);
    (void)n;
}

bg_go_cell *bg_go_hub_take(void) {
    return __atomic_exchange_n(&hub_head, NULL, __ATOMIC_ACQ_REL);
}

/* Pushes a cell; the push onto an empty list signals (the hub drains the
 * whole list after each read, so one signal per non-empty spell is enough). */
static void hub_push(bg_go_cell *c) {
    bg_go_cell *old = __atomic_load_n(&hub_head, __ATOMIC_RELAXED);
    do {
        c->next = old;
    } while (!__atomic_compare_exchange_n(&hub_head, &old, c, 1, __ATOMIC_RELEASE, __ATOMIC_RELAXED));
    if (old == NULL) {
        bg_go_hub_signal();
    }
}

/* Cells allocated and not yet freed, for the tests. */
static int64_t cells_live;

int64_t bg_go_cells_live(void) {
    return __atomic_load_n(&cells_live, __ATOMIC_RELAXED);
}

void bg_go_cell_release(bg_go_cell *c) {
    if (c != NULL && __atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) == 0) {
        if (c->task != NULL) {
            (void)bg_task_release(c->task);
        }
        free(c);
        __atomic_sub_fetch(&cells_live, 1, __ATOMIC_RELAXED);
    }
}

/* The task's side is over: mark the cell done; a watched cell goes to the
 * hub with the task's reference, which the hub drops once it has woken the
 * waiter. A watched cell implies bg_go_hub_init() succeeded. */
static void cell_complete(bg_go_cell *c) {
    uint32_t old = __atomic_exchange_n(&c->state, (uint32_t)BG_GO_DONE, __ATOMIC_ACQ_REL);
    if (old & BG_GO_WATCHED) {
        hub_push(c);
    } else {
        bg_go_cell_release(c);
    }
}

static int c_run(void *p) {
    bg_go_cell *c = p;
    int code = c->fn(c->arg);
    cell_complete(c);
    return code;
}

static void c_drop(void *p) {
    bg_go_cell *c = p;
    if (c->drop != NULL) {
        c->drop(c->arg);
    }
    cell_complete(c);
}

bg_go_submitted bg_go_submit_c(bg_pool *pool, bg_go_cell *c, bg_fn fn, void *arg, bg_drop_fn drop) {
    bg_go_submitted s = {BG_EINVAL, NULL};
    if (fn == NULL) {
        return s;
    }
    s.status = BG_ENOMEM;
    pool = pool_or_default(pool);
    if (pool == NULL || c == NULL) {
        return s;
    }
    c->refs = 2;
    c->fn = fn;
    c->arg = arg;
    c->drop = drop;
    s.status = bg_pool_submit(pool, c_run, c, c_drop, &s.task);
    if (s.status != BG_OK) { /* refused: nothing ran, arg stays the caller's */
        c->refs = 1;
        c->fn = NULL;
        c->arg = NULL;
        c->drop = NULL;
    }
    return s;
}

/* A worker dequeued a Go task that a waiter claimed and is still running:
 * wait for the waiter's result, helping. The wait is on the task itself,
 * which cannot end before this returns, so it only ever times out; on a
 * worker it runs other queued work meanwhile, which the claimed task may
 * need (a one-thread pool whose task waits for a group), so nothing
 * deadlocks on the claim. */
static void await_claim(bg_go_cell *c, unsigned *round) {
    uint32_t s = __atomic_load_n(&c->state, __ATOMIC_ACQUIRE);
    if (s & BG_GO_CANCELLING) { /* a Cancel between two atomics: brief */
        sched_yield();
        return;
    }
    uint64_t ns = (uint64_t)20000 << (*round < 6 ? *round : 6); /* 20 us .. 1.3 ms */
    (*round)++;
    (void)bg_wait_timeout(c->task, ns, NULL);
}

static int cell_run(void *p) {
    bg_go_cell *c = p;
    int code;
    unsigned round = 0;
    for (;;) {
        uint32_t s = __atomic_load_n(&c->state, __ATOMIC_ACQUIRE);
        if (s == BG_GO_DONE) { /* a waiter ran it: count its outcome */
            code = c->code;
            break;
        }
        if (s & (BG_GO_CLAIMED | BG_GO_CANCELLING)) {
            await_claim(c, &round);
            continue;
        }
        if (__atomic_compare_exchange_n(&c->state, &s, s | BG_GO_TAKEN, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            code = run_job(c->handle);
            break;
        }
    }
    bg_go_cell_release(c);
    return code;
}

static void cell_drop(void *p) {
    bg_go_cell *c = p;
    for (;;) {
        uint32_t s = __atomic_load_n(&c->state, __ATOMIC_ACQUIRE);
        /* A waiter that claimed it runs it and ends the Go task; a Cancel in
         * progress does the job's drop itself. */
        if (s == BG_GO_DONE || (s & (BG_GO_CLAIMED | BG_GO_CANCELLING))) {
            break;
        }
        if (__atomic_compare_exchange_n(&c->state, &s, s | BG_GO_TAKEN, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            bgGoDrop(c->handle);
            break;
        }
    }
    bg_go_cell_release(c);
}

int bg_go_cells_new(bg_go_cell **out, int n) {
    for (int i = 0; i < n; i++) {
        if ((out[i] = calloc(1, sizeof *out[i])) == NULL) {
            return i;
        }
        __atomic_add_fetch(&cells_live, 1, __ATOMIC_RELAXED);
        out[i]->refs = 1;
    }
    return n;
}

void bg_go_release_block(bg_task **tasks, int n, bg_go_cell **cells, int m) {
    for (int i = 0; i < n; i++) {
        if (tasks[i] != NULL) {
            (void)bg_task_release(tasks[i]);
        }
    }
    for (int i = 0; i < m; i++) {
        bg_go_cell_release(cells[i]);
    }
}

bg_go_submitted bg_go_submit_cell(bg_pool *pool, bg_go_cell *c, uintptr_t handle) {
    bg_go_submitted s = {BG_ENOMEM, NULL};
    pool = pool_or_default(pool);
    if (pool == NULL) {
        return s;
    }
    c->handle = handle;
    c->pool = pool;
    c->refs = 2;
    s.status = bg_pool_submit(pool, cell_run, c, cell_drop, &s.task);
    if (s.status != BG_OK) {
        c->refs = 1;
        return s;
    }
    /* Before the Go side sees the task, so before any claim: a worker reads
     * it only after seeing one. */
    c->task = bg_task_retain(s.task);
    return s;
}

bg_status bg_go_pool_shutdown(bg_pool *pool, uint32_t mode, uint64_t timeout_ns) {
    if (pool != NULL && pool == inline_pool) {
        /* As the library answers one of the pool's own workers: the
         * shutdown begins, and waiting for it here would never end. */
        (void)bg_pool_shutdown(pool, mode, 0);
        return BG_EDEADLK;
    }
    return bg_pool_shutdown(pool, mode, timeout_ns);
}

bg_status bg_go_pool_wait_idle(bg_pool *pool, uint64_t timeout_ns) {
    if (pool != NULL && pool == inline_pool) {
        return BG_EDEADLK;
    }
    return bg_pool_wait_idle(pool, timeout_ns);
}

int bg_go_run_inline(bg_go_cell *c) {
    bg_pool *saved = inline_pool;
    inline_pool = c->pool;
    int code = bgGoRun(c->handle);
    inline_pool = saved;
    return code;
}

bg_status bg_go_spawn_c(bg_pool *pool, bg_fn fn, void *arg, bg_drop_fn drop) {
    pool = pool_or_default(pool);
    return pool == NULL ? BG_ENOMEM : bg_pool_submit(pool, fn, arg, drop, NULL);
}

bg_go_waited bg_go_settle(bg_task *task) {
    bg_go_waited w = {BG_EINVAL, 0};
    w.status = bg_wait_ex(task, BG_FOREVER, BG_WAIT_NO_HELP, &w.result);
    bg_task_release(task);
    return w;
}
