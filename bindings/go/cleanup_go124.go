//go:build go1.24

package background

import "runtime"

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
