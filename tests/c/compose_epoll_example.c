/* Builds and runs examples/epoll_completions.c as a test program (static,
 * shared, ASan+UBSan, valgrind), so the example never rots. */
#include "../../examples/epoll_completions.c"
