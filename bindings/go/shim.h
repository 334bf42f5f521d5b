/*
 * The C side of the Go binding. Go closures cross into C as runtime/cgo.Handle
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

/* Submits the C task fn(arg) (drop may be NULL) with a handle; once fn has
 * returned, the Go task behind `handle` is told. fn itself never enters Go. */
bg_go_submitted bg_go_submit_c(bg_pool *pool, bg_fn fn, void *arg, bg_drop_fn drop, uintptr_t handle);

/* Fire-and-forget C task: nothing of Go is involved at all. */
bg_status bg_go_spawn_c(bg_pool *pool, bg_fn fn, void *arg, bg_drop_fn drop);

/* The same for a member of a group, a serial queue and a keyed lane. */
bg_go_submitted bg_go_group_submit(bg_group *group, uintptr_t handle);
bg_go_submitted bg_go_serial_submit(bg_serial *queue, uintptr_t handle, int want_task);
bg_go_submitted bg_go_submit_keyed(bg_pool *pool, uint64_t key, uintptr_t handle, int want_task);

/* Adds the Go job behind `handle` to a batch. */
bg_status bg_go_batch_add(bg_batch *batch, uintptr_t handle);

/* For a task that has ended (or is about to: its trampoline has already run):
 * reads how it ended without helping other work, then releases the handle. */
bg_go_waited bg_go_settle(bg_task *task);

#endif /* BACKGROUND_GO_SHIM_H */
