/* Builds and runs examples/c/resize_group.c as a test program (static, shared,
 * ASan+UBSan, valgrind), so the example never rots. */
#include "../../examples/c/resize_group.c"
