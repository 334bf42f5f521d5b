/* Builds and runs examples/c/notify_batch.c as a test program (static, shared,
 * ASan+UBSan, valgrind), so the example never rots. */
#include "../../examples/c/notify_batch.c"
