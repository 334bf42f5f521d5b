package background

// #include "shim.h"
import "C"

// Blocking runs f, telling the pool running this task that f is about to
// block (bg_blocking_begin and bg_blocking_end): a spare thread takes the
// work queued behind the task at once, rather than when the pool's monitor
// notices the blocked thread (a millisecond or two). Never required: a
// task blocked in time.Sleep, on a channel or in a system call is found
// without it. Trusted: f counts as blocked whatever it does, so one that
// computes puts a thread more on the CPUs.
//
// It acts only on the goroutine running a task on a pool's worker thread
// (a task runs on its worker's thread for the whole call); elsewhere (a
// goroutine the task started, a task run by its waiter, any other
// goroutine) it just calls f.
func Blocking(f func()) {
	C.bg_blocking_begin()
	defer C.bg_blocking_end()
	f()
}
