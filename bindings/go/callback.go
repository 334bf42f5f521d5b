package background

// The //export trampolines the C shim calls. Only declarations may appear in
// the preamble of a file with //export, so they live alone here. Each one
// recovers: a Go panic must never unwind into the Rust library.

// #include <stdint.h>
import "C"

import (
	"log"
)

// bgGoRun runs the Go job behind h on a worker thread and returns the task's
// result code.
//
//export bgGoRun
func bgGoRun(h C.uintptr_t) (code C.int) {
	defer func() {
		if r := recover(); r != nil {
			log.Printf("background: internal error in a task trampoline: %v", r)
			code = 1
		}
	}()
	return C.int(takeHandle(handle(h)).run())
}

// bgGoDrop tells the job behind h that it will never run (cancelled, or its
// pool shut down in cancel mode).
//
//export bgGoDrop
func bgGoDrop(h C.uintptr_t) {
	defer func() {
		if r := recover(); r != nil {
			log.Printf("background: internal error in a drop trampoline: %v", r)
		}
	}()
	takeHandle(handle(h)).drop()
}
