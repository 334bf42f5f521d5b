/*
 * The C side of the Go binding. Go closures cross into C as handle
 * integers; this file turns them into the `void *arg` of a task (a cast that
 * go vet rightly refuses in Go) and pairs them with the exported trampolines
 * of callback.go. A pool argument of NULL means the pool of the task running
 * on this thread (bg_current_pool()), else the default pool.
 */
#ifndef BACKGROUND_GO_SHIM_H
#define BACKGROUND_GO_SHIM_H

#include <stdint.h>

#include "background.h"

/* A status and a handle, returned by value so Go passes no pointer. */
typedef struct {
    bg_status status;
    bg_task *task;
} bg_go_submitted;

/* A status and a task's result code. */
typedef struct {
    bg_status status;
    int result;
} bg_go_waited;

/* Submits the Go job behind `handle`; with want_task == 0 no handle is made. */
bg_go_submitted bg_go_submit(bg_pool *pool, uintptr_t handle, int want_task);

/* Completion states of a task's cell (bg_go_cell.state, and Task.gostate in
 * Go). DONE is a whole value; before it, WATCHED may be or-ed with one owner:
 * TAKEN (the library runs or drops it), CLAIMED (a Go waiter runs it itself,
 * see bg_go_run_inline) or CANCELLING (a Go Cancel is in bg_cancel). */
enum {
    BG_GO_PENDING = 0,
    BG_GO_WATCHED = 1,
    BG_GO_DONE = 2,
    BG_GO_TAKEN = 4,
    BG_GO_CLAIMED = 8,
    BG_GO_CANCELLING = 16,
};

/* What a Go waiter watches for a C task: C sets state to BG_GO_DONE when fn
 * has returned (or was dropped) without entering Go; if a Go waiter had
 * marked it BG_GO_WATCHED, C queues the cell to the hub and signals the
 * hub's eventfd instead, and the hub's goroutine wakes the waiter from an
 * ordinary P (see hub.go for why not from a cgo callback). Two references:
 * the task's (run or drop) and the Go Task's. */
typedef struct bg_go_cell {
    uint32_t state;
    uint32_t refs;
    struct bg_go_cell *next; /* in the hub's list */
    bg_fn fn;
    void *arg;
    bg_drop_fn drop;
    /* A Go task's cell (fn == NULL; see bg_go_submit_cell): */
    uintptr_t handle; /* its job */
    int code;         /* its result code, written before DONE by a Go waiter that ran it */
    bg_pool *pool;    /* its pool: the current pool while a waiter runs it */
    bg_task *task;    /* the cell's own reference to the task's handle */
} bg_go_cell;

/* Submits the C task fn(arg) (drop may be NULL) with a handle, and the
 * cell (a new one, from bg_go_cells_new) that a Go waiter watches, which
 * gains the task's reference on BG_OK. Nothing of it enters Go. */
bg_go_submitted bg_go_submit_c(bg_pool *pool, bg_go_cell *cell, bg_fn fn, void *arg, bg_drop_fn drop);

/* A new Go task's cell with one reference (the Go Task's), then: submits the
 * Go job behind `handle` to a plain pool queue with a handle and the cell,
 * which gains the task's reference on BG_OK, so that a Go waiter may claim it and run it itself (TBB's and
 * GLib's "run in caller") if no worker has taken it yet: the worker that
 * dequeues it later sees the claim and returns the waiter's result code
 * without entering Go. */
int bg_go_cells_new(bg_go_cell **out, int n); /* how many it made */
bg_go_submitted bg_go_submit_cell(bg_pool *pool, bg_go_cell *cell, uintptr_t handle);

/* Runs a claimed Go cell's job on this thread, with the cell's pool as the
 * current pool for the binding's submits; returns its code. */
int bg_go_run_inline(bg_go_cell *cell);

/* bg_pool_shutdown(), but BG_EDEADLK (the shutdown begun) from a Go task of
 * `pool` that a waiter runs, as from one of the pool's workers. */
bg_status bg_go_pool_shutdown(bg_pool *pool, uint32_t mode, uint64_t timeout_ns);

/* bg_current_pool(), or the pool of the Go task a waiter runs on this thread. */
bg_pool *bg_go_current_pool(void);

/* A block of Tasks' cleanup: releases the n handles (NULL ones skipped) and
 * drops the Go side's reference to the m cells. */
void bg_go_release_block(bg_task **tasks, int n, bg_go_cell **cells, int m);

/* Drops the Go Task's reference to a cell. */
void bg_go_cell_release(bg_go_cell *cell);

/* The cells allocated and not yet freed (for the tests). */
int64_t bg_go_cells_live(void);

/* The hub: an eventfd (non-blocking; -1 if none could be made) the Go side
 * reads through its poller, and the list of watched cells that completed. */
int bg_go_hub_init(void);
void bg_go_hub_signal(void);
bg_go_cell *bg_go_hub_take(void);

/* Fire-and-forget C task: nothing of Go is involved at all. */
bg_status bg_go_spawn_c(bg_pool *pool, bg_fn fn, void *arg, bg_drop_fn drop);

/* The same for a member of a group, a serial queue and a keyed lane. */
bg_go_submitted bg_go_group_submit(bg_group *group, uintptr_t handle);
bg_go_submitted bg_go_serial_submit(bg_serial *queue, uintptr_t handle, int want_task);
bg_go_submitted bg_go_submit_keyed(bg_pool *pool, uint64_t key, uintptr_t handle, int want_task);

/* bg_pool_submit_ex() of the Go job behind `handle`, with a handle; the
 * options are the caller's (Go memory holding no Go pointer), `drop` is
 * set here. */
bg_go_submitted bg_go_submit_ex(bg_pool *pool, bg_submit_options *options, uintptr_t handle);

/* bg_limit_submit() of the Go job behind `handle`, with a handle. */
bg_go_submitted bg_go_limit_submit(bg_limit *limit, uintptr_t handle);

/* bg_pool_wait_idle(), but BG_EDEADLK from a Go task of `pool` that a
 * waiter runs (its job is still queued: the pool is never idle while it
 * runs), as from one of the pool's workers. */
bg_status bg_go_pool_wait_idle(bg_pool *pool, uint64_t timeout_ns);

/* Adds the Go job behind `handle` to a batch. */
bg_status bg_go_batch_add(bg_batch *batch, uintptr_t handle);

/* For a task that has ended (or is about to: its trampoline has already run):
 * reads how it ended without helping other work, then releases the handle. */
bg_go_waited bg_go_settle(bg_task *task);

#endif /* BACKGROUND_GO_SHIM_H */
