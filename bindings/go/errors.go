package background

// #include "background.h"
import "C"

import (
	"errors"
	"fmt"
	"runtime/debug"
)

// Status is a status code of the C library (bg_status). Compare errors with
// errors.Is against the Err* values below.
type Status int

func (s Status) Error() string {
	return "background: " + C.GoString(C.bg_strerror(C.int(s)))
}

// The library's status codes that a Go caller can meet.
var (
	// ErrCancelled: the task was cancelled before it started; it never ran.
	ErrCancelled error = Status(C.BG_ECANCELLED)
	// ErrShutdown: the pool is shut down; the task was refused, or was queued
	// when the pool shut down in cancel mode and never ran.
	ErrShutdown error = Status(C.BG_ESHUTDOWN)
	// ErrFull: the pool's bound on queued tasks (Options.MaxQueued) is reached.
	ErrFull error = Status(C.BG_EFULL)
	// ErrInvalid: an argument is nil, out of range, or not a live object.
	ErrInvalid error = Status(C.BG_EINVAL)
	// ErrDeadlock: the call would deadlock, such as closing a pool from one of
	// its own tasks.
	ErrDeadlock error = Status(C.BG_EDEADLK)
	// ErrNoMemory: out of memory, or the system refused to create a thread.
	ErrNoMemory error = Status(C.BG_ENOMEM)
	// ErrRunning: the batch has not ended yet.
	ErrRunning error = Status(C.BG_ERUNNING)
	// ErrExpired: the task had a start deadline (SubmitOptions.Deadline) and
	// no worker took it by then; it never ran.
	ErrExpired error = Status(C.BG_EEXPIRED)
)

// ErrClosed is returned for work given to a pool, serial queue or batch
// after its Close, and by a second Close.
var ErrClosed = errors.New("background: pool is closed")

// errNilContext is returned by waits given a nil context.
var errNilContext = errors.New("background: nil Context")

// statusError turns a status into an error (nil for BG_OK).
func statusError(st C.bg_status) error {
	if st == C.BG_OK {
		return nil
	}
	return Status(st)
}

// FailedError is the error of a C task that returned a non-zero code.
type FailedError struct {
	Code int
}

func (e *FailedError) Error() string {
	return fmt.Sprintf("background: task failed with code %d", e.Code)
}

// PanicError is the error of a task that panicked: the panic value and the
// stack of the task's goroutine where it panicked.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("background: task panicked: %v\n\n%s", e.Value, e.Stack)
}

// Unwrap returns the panic value if it is an error, so errors.Is and
// errors.As see through a panic(err).
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// call runs f and turns a panic into a *PanicError. (runtime.Goexit, which
// testing's t.FailNow uses, cannot be stopped: inside a task it is fatal, as
// in any cgo callback.)
func call(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Value: r, Stack: debug.Stack()}
		}
	}()
	return f()
}

// callBody is call for a task's body.
func callBody(b body) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Value: r, Stack: debug.Stack()}
		}
	}()
	return b.call()
}

// callNoErr is call for a function without an error: no wrapper closure.
func callNoErr(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Value: r, Stack: debug.Stack()}
		}
	}()
	f()
	return nil
}
