//go:build go1.24

package background

import (
	"runtime"
	"weak"
)

// cleanup is the backstop that frees a core's C object once its owner (a
// Pool, SerialQueue, Batch, Group or Task) is unreachable. From Go 1.24 it is
// runtime.AddCleanup on the owner itself, which may be any Go pointer: an
// interior one too, such as a zero Group inside a user's struct.
type cleanup struct{ c runtime.Cleanup }

// addCleanup arranges for free(core) to run once owner is unreachable.
// core must not reach owner, or owner is never collected.
func addCleanup[T, S any](owner *T, free func(*S), core *S) cleanup {
	return cleanup{runtime.AddCleanup(owner, free, core)}
}

// stop cancels the cleanup; the owner's Close freed the core itself.
func (c cleanup) stop() { c.c.Stop() }

// taskBlockLen is how many Tasks share a block and its cleanup (taskblock.go).
const taskBlockLen = 64

// blockRef holds the block being carved weakly, so that it does not keep
// its Tasks' handles and failures from their cleanup.
type blockRef = weak.Pointer[taskBlock]

func makeBlockRef(b *taskBlock) *blockRef {
	r := weak.Make(b)
	return &r
}

// blockOf is the block r names, or nil once it has been collected.
func blockOf(r *blockRef) *taskBlock { return r.Value() }
