/* epoll_server.c: a single-threaded epoll server that hands CPU work to the
 * pool and gets the results back on its own loop through a completion queue:
 * no callback from a worker thread ever touches the server's state.
 *
 * The server listens on 127.0.0.1 (an ephemeral port). Each request is a line
 * "N\n"; the reply is "N S\n" with S the sum of i*i for i < N*1000, computed
 * on the pool. For the demo, client threads in the same process send
 * requests, check every reply, and the server exits when they are done.
 */
#include <background.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define CLIENTS 4
#define REQUESTS 25

typedef struct {
    int fd;         /* the connection to answer */
    uint64_t n;     /* the request */
    uint64_t sum;   /* the result, written by a worker */
} request;

static int compute(void *arg) {
    request *r = arg;
    uint64_t s = 0;
    for (uint64_t i = 0; i < r->n * 1000; i++) s += i * i;
    r->sum = s;
    return 0;
}

static uint64_t expected(uint64_t n) {
    request r = {0, n, 0};
    compute(&r);
    return r.sum;
}

static int port;
static atomic_int clients_done, client_errors;

static void *client(void *arg) {
    int id = (int)(intptr_t)arg;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        atomic_fetch_add(&client_errors, 1);
        atomic_fetch_add(&clients_done, 1);
        return NULL;
    }
    FILE *in = fdopen(dup(fd), "r");
    for (int k = 0; k < REQUESTS; k++) {
        uint64_t n = (uint64_t)(id * REQUESTS + k) % 50 + 1, got_n, got;
        dprintf(fd, "%llu\n", (unsigned long long)n);
        if (fscanf(in, "%llu %llu", (unsigned long long *)&got_n, (unsigned long long *)&got) != 2 || got_n != n ||
            got != expected(n))
            atomic_fetch_add(&client_errors, 1);
    }
    fclose(in);
    close(fd);
    atomic_fetch_add(&clients_done, 1);
    return NULL;
}

int main(void) {
    alarm(60); /* a demo that hangs fails loudly instead */
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (bind(lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(lfd, 64) != 0 ||
        getsockname(lfd, (struct sockaddr *)&a, &len) != 0)
        return 1;
    port = ntohs(a.sin_port);

    bg_cq *cq;
    if (bg_cq_new(&cq) != BG_OK) return 1;
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd};
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    ev.data.fd = bg_cq_fd(cq);
    epoll_ctl(ep, EPOLL_CTL_ADD, bg_cq_fd(cq), &ev);
    printf("serving on 127.0.0.1:%d\n", port);

    pthread_t th[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) pthread_create(&th[i], NULL, client, (void *)(intptr_t)i);

    int served = 0, in_flight = 0;
    while (atomic_load(&clients_done) < CLIENTS || in_flight > 0) {
        struct epoll_event evs[16];
        int n = epoll_wait(ep, evs, 16, 100);
        for (int e = 0; e < n; e++) {
            int fd = evs[e].data.fd;
            if (fd == lfd) { /* new connections */
                int c;
                while ((c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    struct epoll_event cev = {.events = EPOLLIN, .data.fd = c};
                    epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
                }
            } else if (fd == bg_cq_fd(cq)) { /* finished work: answer on this thread */
                bg_completion done[32];
                size_t k;
                while ((k = bg_cq_drain(cq, done, 32)) > 0) {
                    for (size_t i = 0; i < k; i++) {
                        request *r = done[i].user_data;
                        if (done[i].status == BG_OK)
                            dprintf(r->fd, "%llu %llu\n", (unsigned long long)r->n, (unsigned long long)r->sum);
                        free(r);
                        served++;
                        in_flight--;
                    }
                }
            } else { /* a request line (clients send one at a time) */
                char buf[64];
                ssize_t got = read(fd, buf, sizeof buf - 1);
                if (got <= 0) {
                    if (got == 0 || errno != EAGAIN) {
                        epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
                        close(fd);
                    }
                    continue;
                }
                buf[got] = 0;
                for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
                    request *r = malloc(sizeof *r);
                    *r = (request){fd, strtoull(line, NULL, 10), 0};
                    if (bg_cq_submit(cq, bg_default_pool(), compute, r, free, r, NULL) == BG_OK)
                        in_flight++;
                    else
                        free(r);
                }
            }
        }
    }
    for (int i = 0; i < CLIENTS; i++) pthread_join(th[i], NULL);
    printf("served %d requests from %d clients, %d client errors\n", served, CLIENTS, atomic_load(&client_errors));
    close(ep);
    close(lfd);
    bg_cq_free(cq);
    bg_shutdown(BG_SHUTDOWN_DRAIN, BG_FOREVER);
    return !(served == CLIENTS * REQUESTS && atomic_load(&client_errors) == 0);
}
