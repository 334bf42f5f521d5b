// Package background runs Go closures and C callbacks on the work-stealing
// thread pool of the background library, the same pool the program's C and
// C++ code uses.
//
//	t := background.Submit(func() { warm(cache) })
//	f := background.Go(func() (int, error) { return count(path) })
//	n, err := f.Wait(ctx)
//	background.Spawn(func() { sendMetrics() }) // fire and forget
//
// Tasks run on the pool's worker threads, which are C threads: each task is
// a cgo callback. That makes one task cost more than a goroutine; see the
// README for measurements and for when to use which.
//
// Go closures cross into C as integer handles into the package's handle
// table (like runtime/cgo.Handle), never as Go pointers, and each handle is
// taken exactly once: when the task runs,
// or when the library drops it (cancelled, or its pool shut down).
// A task that panics does not crash the program: Wait returns a
// *PanicError, and a spawned task's panic goes to the error handler.
// runtime.Goexit (and so testing's t.FailNow and t.Fatal) inside a task is
// fatal, as in any cgo callback.
package background
