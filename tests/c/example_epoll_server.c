/* Builds and runs examples/c/epoll_server.c as a test program (static, shared,
 * ASan+UBSan, valgrind), so the example never rots. */
#include "../../examples/c/epoll_server.c"
