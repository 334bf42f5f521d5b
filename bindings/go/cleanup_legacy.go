//go:build !go1.24

package background

import "runtime"

// cleanup is the backstop that frees a core's C object once its owner is
// unreachable. Before Go 1.24 there is no runtime.AddCleanup, and
// runtime.SetFinalizer accepts only a pointer to the start of a heap
// allocation: a zero Group inside a user's struct is an interior pointer (a
// fatal error), and a C pointer cannot take a finalizer at all. So the
// finalizer goes on the core, always its own allocation, which the owner
// reaches and nothing reaches back. The core becomes unreachable with its
// owner, or later if something else still holds it (a group's unfinished
// tasks hold its core): the C object is then freed later than with
// AddCleanup, never earlier.
type cleanup struct{ core any }

// addCleanup arranges for free(core) to run once core is unreachable, which
// is no sooner than owner is. core must not reach owner, or neither is ever
// collected.
func addCleanup[T, S any](owner *T, free func(*S), core *S) cleanup {
	runtime.SetFinalizer(core, free)
	return cleanup{core}
}

// stop cancels the cleanup; the owner's Close freed the core itself.
func (c cleanup) stop() {
	if c.core != nil {
		runtime.SetFinalizer(c.core, nil)
	}
}

// taskBlockLen is how many Tasks share a block and its cleanup
// (taskblock.go): one before Go 1.24, which has no weak pointers. The
// block being carved is held strongly here, but a block of one is
// exhausted by its Task and let go at once: each Task has its own
// finalizer, as before blocks.
const taskBlockLen = 1

type blockRef = taskBlock

func makeBlockRef(b *taskBlock) *blockRef { return b }

func blockOf(r *blockRef) *taskBlock { return r }
