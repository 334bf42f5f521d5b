/* A plain mutex + condition-variable thread pool: one locked FIFO of
 * malloc'd nodes, what most C programs write by hand. The baseline peer. */
#ifndef MUTEX_POOL_H
#define MUTEX_POOL_H

#include <stddef.h>

typedef void (*mpool_fn)(void *arg);
typedef struct mpool mpool;
typedef struct mfuture mfuture;

mpool *mpool_new(int threads);                       /* NULL on failure */
int mpool_submit(mpool *p, mpool_fn fn, void *arg);  /* 0, or -1 out of memory */
/* A task with a handle (its own mutex + condvar): wait with mfuture_wait. */
mfuture *mpool_submit_future(mpool *p, mpool_fn fn, void *arg);
void mfuture_wait(mfuture *f);                       /* waits, then frees f */
void mpool_free(mpool *p);                           /* runs what is queued, joins */

#endif
