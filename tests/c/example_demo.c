/* Builds and runs examples/demo.c (the README's demo) as a test program
 * (static, shared, ASan+UBSan, valgrind), so the demo never rots. */
#include "../../examples/demo.c"
