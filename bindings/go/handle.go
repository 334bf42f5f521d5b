package background

import (
	"runtime/cgo"
	"sync/atomic"
)

// A job is what one cgo.Handle carries to the C side: a Go closure (or the
// notice that a C function finished) and where its outcome goes. The C
// library calls exactly one of run and drop, exactly once.
type job interface {
	// run executes the job on a worker thread; the result is the task's code
	// (0 = success), which the library counts and groups and batches act on.
	run() int
	// drop is called instead of run when the job will never run.
	drop()
}

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
