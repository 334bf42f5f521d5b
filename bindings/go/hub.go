package background

// #include "shim.h"
import "C"

import (
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// Why a hub. A goroutine parked on a channel that a cgo callback closes
// wakes 20 to 150 µs late. close() readies the waiter into the run queue
// (runnext) of the callback's P; when the callback returns, its C thread
// keeps that P "in a syscall" (reentersyscall), so the waiter is stuck
// behind a thread that went back to C. Another M may steal it, but a thief
// that sees the P's callback still running sleeps 3 µs first (runqgrab),
// which the kernel's 50 µs timer slack makes ~60 µs; with no idle P (the
// pool's threads hold them all in "syscalls") only sysmon's retake frees
// it, after at least one 20 µs tick, the same slack and a doubling backoff.
//
// So completions that someone waits for are not delivered from a callback.
// The task's side marks the task done (an atomic; C tasks do it in C and
// never enter Go), and only if a waiter has marked it watched does it queue
// the task here and write an eventfd. The hub goroutine reads that eventfd
// through the runtime poller (no OS thread held while it waits), wakes on an
// ordinary P, and closes the waiters' channels there: they run right after
// it, on that P. Waiters first spin briefly (spinFor), so a task that ends
// within a few microseconds is seen without any of this.

// Task completion states (bg_go_cell.state in C).
const (
	stPending = C.BG_GO_PENDING
	stWatched = C.BG_GO_WATCHED
	stDone    = C.BG_GO_DONE
)

// spinFor bounds how long Wait polls a task's state, yielding its P at
// each poll, before it parks. 0 disables spinning.
var spinFor = 20 * time.Microsecond

type hubState struct {
	once sync.Once
	// The eventfd exists: deliver through the hub. Atomic: a completion on a
	// worker reads it after seeing the watched bit, an atomic on a word in C
	// memory, which the race detector does not count as synchronising (it
	// reported this read racing start's write when a test's first wait
	// started the hub).
	ok   atomic.Bool
	file *os.File // the eventfd, read through the poller

	mu    sync.Mutex
	tasks []*Task                 // Go tasks completed while watched
	chans []chan struct{}         // channels to close (a group's idle)
	cells map[*C.bg_go_cell]*Task // watched C tasks
}

var hub hubState

// start makes the eventfd and its goroutine, once. Without them (no fds
// left) completions close channels directly: slower, still correct.
func (h *hubState) start() bool {
	h.once.Do(func() {
		fd := C.bg_go_hub_init()
		if fd < 0 {
			return
		}
		h.file = os.NewFile(uintptr(fd), "background-hub") // non-blocking: pollable
		h.cells = make(map[*C.bg_go_cell]*Task)
		h.ok.Store(true)
		go h.run()
	})
	return h.ok.Load()
}

// run is the hub's goroutine: each read of the eventfd (which parks in the
// poller, holding no thread) is followed by a drain of both lists.
func (h *hubState) run() {
	var buf [8]byte
	for {
		if _, err := h.file.Read(buf[:]); err != nil {
			// Cannot happen for an eventfd we own; avoid a busy loop if it does.
			time.Sleep(time.Millisecond)
		}
		h.mu.Lock()
		tasks, chans := h.tasks, h.chans
		h.tasks, h.chans = nil, nil
		h.mu.Unlock()
		for _, t := range tasks {
			t.closeDone()
		}
		for _, ch := range chans {
			close(ch)
		}
		for c := C.bg_go_hub_take(); c != nil; {
			next := c.next
			h.mu.Lock()
			t := h.cells[c]
			delete(h.cells, c)
			h.mu.Unlock()
			if t != nil {
				t.closeDone()
			}
			C.bg_go_cell_release(c) // the task's reference
			c = next
		}
	}
}

// post hands the hub a Go task that completed while watched.
func (h *hubState) post(t *Task) {
	h.mu.Lock()
	h.tasks = append(h.tasks, t)
	first := len(h.tasks)+len(h.chans) == 1
	h.mu.Unlock()
	if first {
		C.bg_go_hub_signal()
	}
}

// postClose has the hub close ch, which a goroutine is parked on.
func (h *hubState) postClose(ch chan struct{}) {
	h.mu.Lock()
	h.chans = append(h.chans, ch)
	first := len(h.tasks)+len(h.chans) == 1
	h.mu.Unlock()
	if first {
		C.bg_go_hub_signal()
	}
}

// isDone reports whether the task's side has finished.
func (t *Task) isDone() bool { return atomic.LoadUint32(t.state) == stDone }

// closeDone closes the Done channel once; any goroutine that saw the task
// done may call it. A channel nobody has asked for yet is never made.
func (t *Task) closeDone() {
	if t.closed.CompareAndSwap(false, true) {
		t.dmu.Lock()
		ch := t.done
		t.dmu.Unlock()
		if ch != nil {
			close(ch)
		}
	}
}

// closedChan is the Done channel of a task that had ended before anyone
// asked for one.
var closedChan = func() chan struct{} {
	ch := make(chan struct{})
	close(ch)
	return ch
}()

// doneChan returns the Done channel, made on first use: closeDone closes
// one made before it marks the task closed, and one asked for after is
// closedChan.
func (t *Task) doneChan() chan struct{} {
	t.dmu.Lock()
	defer t.dmu.Unlock()
	if t.done == nil {
		if t.closed.Load() {
			return closedChan
		}
		t.done = make(chan struct{})
	}
	return t.done
}

// complete is the Go side's end of a task (in its trampoline): the outcome
// is written before. A watched task is woken through the hub.
func (t *Task) complete() {
	t.ended.Store(true)
	if atomic.SwapUint32(t.state, stDone)&stWatched != 0 {
		if hub.ok.Load() {
			hub.post(t)
			return
		}
	}
	t.closeDone() // nobody is parked on it: closing readies nobody
}

// watch marks the task as waited for, so that its completion closes Done
// through the hub; it closes Done itself if the task is already done.
func (t *Task) watch() {
	if t.closed.Load() {
		return
	}
	if !hub.start() {
		// No hub: completions close Done directly (see complete); C cells,
		// which cannot, are never marked watched, so poll them.
		if t.cell != nil {
			go t.pollC()
		}
		return
	}
	if t.cell != nil {
		hub.mu.Lock()
		hub.cells[t.cell] = t
		hub.mu.Unlock()
	}
	if !t.markWatched() {
		if t.cell != nil {
			hub.mu.Lock()
			if hub.cells[t.cell] == t {
				delete(hub.cells, t.cell)
			}
			hub.mu.Unlock()
		}
		t.closeDone()
	}
}

// markWatched sets the watched bit; false if the task has already ended.
func (t *Task) markWatched() bool {
	for {
		s := atomic.LoadUint32(t.state)
		if s == stDone {
			return false
		}
		if s&stWatched != 0 || atomic.CompareAndSwapUint32(t.state, s, s|stWatched) {
			return true
		}
	}
}

// pollC is the no-hub fallback for a C task: poll its state.
func (t *Task) pollC() {
	for !t.isDone() {
		time.Sleep(50 * time.Microsecond)
	}
	t.closeDone()
}

// spin polls the task's state for up to spinFor, yielding the P at each
// poll; it reports whether the task is done. On one P it does not spin: a
// Go task's callback needs that P to run.
func (t *Task) spin() bool {
	if spinFor <= 0 || runtime.GOMAXPROCS(0) < 2 {
		return t.isDone()
	}
	start := time.Now()
	for i := 0; ; i++ {
		if t.isDone() {
			return true
		}
		if i&15 == 15 && time.Since(start) > spinFor {
			return false
		}
		runtime.Gosched()
	}
}

// cellState is the C cell's state word as a Go *uint32 (C memory).
func cellState(c *C.bg_go_cell) *uint32 { return (*uint32)(unsafe.Pointer(&c.state)) }
