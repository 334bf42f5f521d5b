/* Builds and runs examples/c/warm_cache.c as a test program (static, shared,
 * ASan+UBSan, valgrind), so the example never rots. */
#include "../../examples/c/warm_cache.c"
