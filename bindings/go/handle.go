package background

// #include "shim.h"
import "C"

import (
	"runtime/cgo"
	"sync/atomic"
)

// A job is what one cgo.Handle carries to the C side: a Go closure (or the
// notice that a C function finished) and where its outcome goes. The C
// library calls exactly one of run and drop, exactly once.
type job interface {
	// run executes the job on a worker thread; the result is the task's code
	// (0 = success, failedCode = an error or a panic), which the library
	// counts and groups, batches and continuations act on.
	run() int
	// drop is called instead of run when the job will never run.
	drop()
}

// failedCode is the result code of a Go task that returned an error or
// panicked, in every construct: BG_RESULT_BINDING_FAILED, the code the C++
// binding gives a call that threw. The library counts it as failed, and a
// C error handler set on the pool hears of it when nobody observed it; its
// default handler leaves the printing to this package.
const failedCode = int(C.BG_RESULT_BINDING_FAILED)

// liveHandles counts handles made by newHandle and not yet taken back; the
// tests read it to prove that every path deletes its handle exactly once.
var liveHandles atomic.Int64

func newHandle(j job) cgo.Handle {
	liveHandles.Add(1)
	return cgo.NewHandle(j)
}

// takeHandle returns the job behind h and deletes h: each handle is taken
// exactly once, by the trampoline of whichever of run or drop the library calls.
func takeHandle(h cgo.Handle) job {
	j := h.Value().(job)
	h.Delete()
	liveHandles.Add(-1)
	return j
}

// forgetHandle deletes a handle whose job the library refused, so neither
// trampoline will ever see it.
func forgetHandle(h cgo.Handle) {
	h.Delete()
	liveHandles.Add(-1)
}
