/* check.h: tiny assertion helpers for the C tests (each test is a program
 * that exits 0 on success). */
#ifndef BG_TEST_CHECK_H
#define BG_TEST_CHECK_H

#include <background.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* A failed check ends the program at once with _exit: exit() would run the
 * default pool's drain at exit, which a failing test may have left stuck. */
static inline void check_failed(void) {
    fflush(stdout);
    fflush(stderr);
    _exit(1);
}

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            check_failed();                                                      \
        }                                                                        \
    } while (0)

#define CHECK_STATUS(expr, want)                                                 \
    do {                                                                         \
        bg_status got_ = (expr);                                                 \
        if (got_ != (want)) {                                                    \
            fprintf(stderr, "%s:%d: %s returned %d (%s), wanted %s\n", __FILE__,  \
                    __LINE__, #expr, (int)got_, bg_strerror((int)got_), #want);  \
            check_failed();                                                      \
        }                                                                        \
    } while (0)

/* Ten seconds: waits in tests time out and fail instead of hanging. */
#define TEST_TIMEOUT_NS (10ull * 1000 * 1000 * 1000)

static inline void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

#endif
