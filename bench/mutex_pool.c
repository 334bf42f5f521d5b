#include "mutex_pool.h"

#include <pthread.h>
#include <stdlib.h>

struct node {
    struct node *next;
    mpool_fn fn;
    void *arg;
};

struct mpool {
    pthread_mutex_t mu;
    pthread_cond_t work;
    struct node *head, *tail;
    int stopping;
    int nthreads;
    pthread_t *threads;
};

struct mfuture {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;
    mpool_fn fn;
    void *arg;
};

static void *worker(void *p_) {
    mpool *p = p_;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->head && !p->stopping) pthread_cond_wait(&p->work, &p->mu);
        struct node *n = p->head;
        if (!n) break; /* stopping and drained */
        p->head = n->next;
        if (!p->head) p->tail = NULL;
        pthread_mutex_unlock(&p->mu);
        n->fn(n->arg);
        free(n);
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

mpool *mpool_new(int threads) {
    mpool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->threads = calloc((size_t)threads, sizeof *p->threads);
    if (!p->threads) {
        free(p);
        return NULL;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work, NULL);
    for (int i = 0; i < threads; i++) {
        if (pthread_create(&p->threads[i], NULL, worker, p) != 0) {
            mpool_free(p);
            return NULL;
        }
        p->nthreads++;
    }
    return p;
}

int mpool_submit(mpool *p, mpool_fn fn, void *arg) {
    struct node *n = malloc(sizeof *n);
    if (!n) return -1;
    n->next = NULL;
    n->fn = fn;
    n->arg = arg;
    pthread_mutex_lock(&p->mu);
    if (p->tail)
        p->tail->next = n;
    else
        p->head = n;
    p->tail = n;
    pthread_cond_signal(&p->work);
    pthread_mutex_unlock(&p->mu);
    return 0;
}

static void run_future(void *f_) {
    mfuture *f = f_;
    f->fn(f->arg);
    pthread_mutex_lock(&f->mu);
    f->done = 1;
    pthread_cond_signal(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

mfuture *mpool_submit_future(mpool *p, mpool_fn fn, void *arg) {
    mfuture *f = malloc(sizeof *f);
    if (!f) return NULL;
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    f->done = 0;
    f->fn = fn;
    f->arg = arg;
    if (mpool_submit(p, run_future, f) != 0) {
        free(f);
        return NULL;
    }
    return f;
}

void mfuture_wait(mfuture *f) {
    pthread_mutex_lock(&f->mu);
    while (!f->done) pthread_cond_wait(&f->cv, &f->mu);
    pthread_mutex_unlock(&f->mu);
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->cv);
    free(f);
}

void mpool_free(mpool *p) {
    pthread_mutex_lock(&p->mu);
    p->stopping = 1;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->nthreads; i++) pthread_join(p->threads[i], NULL);
    pthread_cond_destroy(&p->work);
    pthread_mutex_destroy(&p->mu);
    free(p->threads);
    free(p);
}
