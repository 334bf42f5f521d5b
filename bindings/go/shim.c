#include <stdlib.h>

#include "shim.h"
#include "_cgo_export.h"

/* A pool not named (NULL): the running task's pool, as bg_submit() picks
 * in C, else the default pool. */
static bg_pool *pool_or_default(bg_pool *pool) {
    if (pool == NULL) {
        pool = bg_current_pool();
    }
    return pool != NULL ? pool : bg_default_pool();
}

static int go_run(void *arg) {
    return bgGoRun((uintptr_t)arg);
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

bg_status bg_go_batch_add(bg_batch *batch, uintptr_t handle) {
    return bg_batch_add(batch, go_run, (void *)handle, go_drop);
}

/* A C task whose completion a Go task waits for. */
typedef struct {
    bg_fn fn;
    void *arg;
    bg_drop_fn drop;
    uintptr_t handle;
} c_task;

static int c_run(void *p) {
    c_task t = *(c_task *)p;
    free(p);
    int code = t.fn(t.arg);
    bgGoNotify(t.handle);
    return code;
}

static void c_drop(void *p) {
    c_task t = *(c_task *)p;
    free(p);
    if (t.drop != NULL) {
        t.drop(t.arg);
    }
    bgGoDrop(t.handle);
}

bg_go_submitted bg_go_submit_c(bg_pool *pool, bg_fn fn, void *arg, bg_drop_fn drop, uintptr_t handle) {
    bg_go_submitted s = {BG_EINVAL, NULL};
    if (fn == NULL) {
        return s;
    }
    s.status = BG_ENOMEM;
    pool = pool_or_default(pool);
    c_task *t = malloc(sizeof *t);
    if (pool == NULL || t == NULL) {
        free(t);
        return s;
    }
    t->fn = fn;
    t->arg = arg;
    t->drop = drop;
    t->handle = handle;
    s.status = bg_pool_submit(pool, c_run, t, c_drop, &s.task);
    if (s.status != BG_OK) {
        free(t); /* refused: nothing ran, arg stays the caller's */
    }
    return s;
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
