package background

// #include <stdlib.h>
// #include "shim.h"
import "C"

import (
	"context"
	"errors"
	"sync"
	"time"
	"unsafe"
)

// Options configure NewPool. The zero value is a pool with one thread per CPU.
type Options struct {
	// Threads is the number of worker threads, 1 to 1024; 0 means one per
	// CPU available to the process.
	Threads int
	// MaxThreads bounds the threads, spares included: while workers are
	// blocked in a task (sleeping, waiting on a channel, in a system call)
	// the pool starts spare threads to run the work queued behind them, up
	// to this many in all. 0 means the library's default; equal to Threads
	// means no spares (a blocked worker then holds up its queue).
	MaxThreads int
	// Name prefixes the worker threads' names ("<Name>-<index>"); "" means "bg".
	Name string
	// StackSize is each worker's stack size in bytes; 0 means the system default.
	StackSize int
	// MaxQueued makes submissions fail with ErrFull once this many tasks are
	// queued (back-pressure); 0 means no bound. SubmitWait waits for room
	// instead. (A task submitted but not yet taken by an idle worker counts
	// as queued.)
	MaxQueued int
	// MaxWaiting bounds the callers waiting in SubmitWait; beyond it
	// SubmitWait returns ErrFull at once. 0 means no bound.
	MaxWaiting int
	// ErrorHandler receives the failures of this pool's spawned tasks; nil
	// means the package's handler (see SetErrorHandler).
	ErrorHandler func(error)
	// NoRunInWait stops Wait from running a task that no worker has
	// started yet on the waiting goroutine itself (it does by default, for
	// the latency of one-at-a-time waits): set it when tasks must run on the
	// pool's threads (thread-local state, a lock the waiter holds, the
	// pool's concurrency bound). Task.WaitNoRun does the same per call.
	NoRunInWait bool
	// Timing makes the pool time each task's queue wait and run, for
	// Pool.Timing and the timing fields of Stats (three clock reads per
	// task more). A timed pool's tasks always run on its threads, as if
	// NoRunInWait were set: a task run by its waiter would not be timed.
	Timing bool
}

// ShutdownMode says what Shutdown does with tasks still queued.
type ShutdownMode uint32

const (
	// ShutdownDrain runs everything already queued (and what those tasks
	// submit) and refuses new work.
	ShutdownDrain ShutdownMode = C.BG_SHUTDOWN_DRAIN
	// ShutdownCancel drops the queued tasks: they never run and their waiters
	// get ErrShutdown. Running tasks finish.
	ShutdownCancel ShutdownMode = C.BG_SHUTDOWN_CANCEL
)

// Pool is a set of worker threads with its own queues. The C and C++ code of
// the program can share it (Pool.C gives the bg_pool pointer). A Pool is safe
// for concurrent use.
//
// A pool from NewPool should be closed with Close; one that is garbage
// collected unclosed is drained and freed by a cleanup, late.
type Pool struct {
	core    *poolCore
	cleanup cleanup
}

// poolCore is the part of a Pool that its cleanup may touch (a cleanup must
// not keep the Pool itself reachable).
type poolCore struct {
	// mu is held for reading while the C pool is in use, shutdowns included,
	// and for writing only to free it: the library forbids any use during
	// bg_pool_free. A writer waits only once a drain has finished and the
	// workers are gone, so no running task can need mu to make progress.
	mu        sync.RWMutex
	ptr       *C.bg_pool // nil for the default pool and for ambient
	closed    bool
	isDefault bool
	ambient   bool // the package-level functions' pool: see ambient
	onError   func(error)

	maxWaiting int
	room       room // SubmitWait's waiters and their signal
	noRun      bool // Options.NoRunInWait
}

var defaultPool = &Pool{core: &poolCore{isDefault: true}}

// ambient is the pool the package-level functions (Go, Submit, Spawn,
// NewGroup, ...) use: inside a task, the pool running it (bg_current_pool,
// whichever language submitted the task), else the default pool; the same
// choice bg_submit() makes in C. It is resolved at each call.
var ambient = &Pool{core: &poolCore{isDefault: true, ambient: true}}

// Default returns the process-wide default pool, the one C code reaches
// with bg_default_pool(). It starts on first use with one thread per CPU, or
// BG_THREADS, or what SetThreads asked for.
//
// The package-level functions (Go, Submit, Spawn, NewGroup, ...) use the
// current pool: inside a task, the pool running it, whichever language
// submitted the task (bg_current_pool); elsewhere the default pool. That is
// where bg_submit() puts a task in C.
func Default() *Pool { return defaultPool }

// NewPool starts a pool with its own threads.
func NewPool(opts Options) (*Pool, error) {
	if opts.Threads < 0 || opts.MaxThreads < 0 || opts.StackSize < 0 || opts.MaxQueued < 0 || opts.MaxWaiting < 0 {
		return nil, ErrInvalid
	}
	var copts C.bg_pool_options
	C.bg_pool_options_init(&copts)
	copts.threads = C.size_t(opts.Threads)
	copts.max_threads = C.size_t(opts.MaxThreads)
	copts.stack_size = C.size_t(opts.StackSize)
	copts.max_queued = C.size_t(opts.MaxQueued)
	if opts.Timing {
		copts.timing = 1
	}
	if opts.Name != "" {
		name := C.CString(opts.Name) // the library copies it
		defer C.free(unsafe.Pointer(name))
		copts.name_prefix = name
	}
	var ptr *C.bg_pool
	if st := C.bg_pool_new(&copts, &ptr); st != C.BG_OK {
		return nil, Status(st)
	}
	core := &poolCore{ptr: ptr, onError: opts.ErrorHandler, maxWaiting: opts.MaxWaiting, noRun: opts.NoRunInWait || opts.Timing}
	p := &Pool{core: core}
	// The backstop must not block the runtime's cleanup goroutine on a drain.
	p.cleanup = addCleanup(p, func(c *poolCore) { go c.free() }, core)
	return p, nil
}

// use runs f with the C pool pointer (nil means the default pool to the
// shim), or returns ErrClosed.
func (c *poolCore) use(f func(ptr *C.bg_pool) error) error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		return ErrClosed
	}
	if c.isDefault && !c.ambient {
		// Named explicitly (Default()): not the running task's pool.
		d := C.bg_default_pool()
		if d == nil {
			return ErrNoMemory
		}
		return f(d)
	}
	return f(c.ptr)
}

// acquire is use without a closure, for the paths that submit each task:
// it returns the C pool pointer, holding mu for reading until the caller's
// release once its C call has returned; or an error, holding nothing. The
// default pool's cores skip mu: nothing ever frees the default pool or
// closes its cores, so there is nothing for it to hold off.
func (c *poolCore) acquire() (*C.bg_pool, error) {
	if c.isDefault {
		if c.ambient {
			return nil, nil // the shim resolves the current pool
		}
		if d := C.bg_default_pool(); d != nil {
			return d, nil
		}
		return nil, ErrNoMemory
	}
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		return nil, ErrClosed
	}
	return c.ptr, nil
}

// release ends what a successful acquire began.
func (c *poolCore) release() {
	if !c.isDefault {
		c.mu.RUnlock()
	}
}

// cptr is the pool's C pointer, the default pool resolved.
func (c *poolCore) cptr(ptr *C.bg_pool) (*C.bg_pool, error) {
	if ptr != nil {
		return ptr, nil
	}
	if cur := C.bg_go_current_pool(); cur != nil {
		return cur, nil
	}
	if d := C.bg_default_pool(); d != nil {
		return d, nil
	}
	return nil, ErrNoMemory
}

// C returns the pool's bg_pool pointer, to hand to C code that submits to
// the same pool. It is valid until Close returns. (nil if closed.)
func (p *Pool) C() unsafe.Pointer {
	var out unsafe.Pointer
	_ = p.core.use(func(ptr *C.bg_pool) error {
		d, err := p.core.cptr(ptr)
		out = unsafe.Pointer(d)
		return err
	})
	return out
}

// Shutdown stops the pool accepting work from outside it and waits until its
// threads have exited, as mode says, or until ctx is done (the threads keep
// finishing; a later call waits again, and ShutdownCancel after a drain that
// timed out escalates). It blocks an OS thread while it waits. Called from
// one of the pool's own tasks it returns ErrDeadlock (the shutdown has begun).
func (p *Pool) Shutdown(ctx context.Context, mode ShutdownMode) error {
	if ctx == nil {
		return errNilContext
	}
	if p.core.isDefault {
		if pausedAny() {
			forgetPaused(C.bg_default_pool())
		}
		return waitSliced(ctx, func(ns C.uint64_t) C.bg_status { return C.bg_shutdown(C.uint32_t(mode), ns) })
	}
	return p.core.use(func(ptr *C.bg_pool) error {
		forgetPaused(ptr) // a shutdown resumes the pool
		return waitSliced(ctx, func(ns C.uint64_t) C.bg_status { return C.bg_go_pool_shutdown(ptr, C.uint32_t(mode), ns) })
	})
}

// Close drains the pool (every queued task runs), waits for its threads and
// frees it. A second Close returns ErrClosed. The default pool cannot be
// closed; use Shutdown.
func (p *Pool) Close() error {
	if p.core.isDefault {
		return errors.New("background: the default pool belongs to the library; use Shutdown")
	}
	if err := p.core.free(); err != nil {
		return err
	}
	p.cleanup.stop()
	return nil
}

func (c *poolCore) free() error {
	// Drain first, sharing mu: running tasks may still submit.
	err := c.use(func(ptr *C.bg_pool) error {
		return statusError(C.bg_go_pool_shutdown(ptr, C.uint32_t(ShutdownDrain), C.BG_FOREVER))
	})
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed // a concurrent Close freed it
	}
	c.closed = true
	forgetPaused(c.ptr) // the drain resumed it; its address may be reused
	return statusError(C.bg_pool_free(c.ptr))
}

// SetThreads resizes the pool (1 to 1024): it grows at once and shrinks as
// surplus workers finish their current task. Nothing queued is lost.
func (p *Pool) SetThreads(n int) error {
	if n < 1 || n > C.BG_MAX_THREADS {
		return ErrInvalid
	}
	if p.core.isDefault {
		return statusError(C.bg_set_threads(C.size_t(n)))
	}
	return p.core.use(func(ptr *C.bg_pool) error {
		return statusError(C.bg_pool_set_threads(ptr, C.size_t(n)))
	})
}

// Threads returns the number of worker threads the pool is sized to (0 once
// closed). For the default pool before it starts: the size it will start with.
func (p *Pool) Threads() int {
	if p.core.isDefault {
		return int(C.bg_threads())
	}
	n := 0
	_ = p.core.use(func(ptr *C.bg_pool) error {
		n = int(C.bg_pool_threads(ptr))
		return nil
	})
	return n
}

// Stats is a snapshot of a pool's counters, each read separately while the
// workers run. Tasks submitted from Go with Submit, Go and Spawn return 0 to
// the library whatever their error (the error travels in Go), so they count
// as Completed; C tasks and failing Group and Batch tasks count as Failed.
type Stats struct {
	Threads   uint64 // worker threads the pool is sized to
	Queued    uint64 // tasks waiting in the queues (including cancelled ones not yet skipped)
	Running   uint64 // tasks running now
	Completed uint64 // tasks that ran and returned 0
	Failed    uint64 // tasks that ran and returned non-zero
	Cancelled uint64 // tasks that never ran: cancelled, or dropped by a cancel shutdown
	Steals    uint64 // times a worker took work from another worker's deque
	Blocked   uint64 // threads blocked inside a task now (seen by the monitor, or inside Blocking)
	Spares    uint64 // spare threads alive, standing in for blocked ones
	Expired   uint64 // tasks that never ran: no worker took them by their start deadline (not in Cancelled)
	Paused    bool   // the pool is paused (Pause)

	// Task timing (zero unless the pool times its tasks: Options.Timing;
	// percentiles from Pool.Timing) and busy workers.
	Busy      uint64        // worker threads inside a task now (running it or waiting in it)
	Timed     uint64        // tasks timed: the count behind QueueWait and Run
	QueueWait time.Duration // total time timed tasks waited from submission to start
	Run       time.Duration // total time timed tasks ran
}

// Stats returns the pool's counters.
func (p *Pool) Stats() (Stats, error) {
	var s C.bg_stats
	err := p.core.use(func(ptr *C.bg_pool) error {
		d, err := p.core.cptr(ptr)
		if err != nil {
			return err
		}
		return statusError(C.bg_pool_stats(d, &s))
	})
	return Stats{
		Threads: uint64(s.threads), Queued: uint64(s.queued), Running: uint64(s.running),
		Completed: uint64(s.completed), Failed: uint64(s.failed), Cancelled: uint64(s.cancelled),
		Steals: uint64(s.steals), Blocked: uint64(s.blocked), Spares: uint64(s.spares),
		Expired: uint64(s.expired), Paused: s.paused != 0,
		Busy: uint64(s.busy), Timed: uint64(s.timed),
		QueueWait: time.Duration(s.queue_wait_ns), Run: time.Duration(s.run_ns),
	}, err
}

// SetThreads sizes the default pool (1 to 1024): remembered if it has not
// started, applied live if it has.
func SetThreads(n int) error { return defaultPool.SetThreads(n) }

// Threads returns the default pool's size (without starting it).
func Threads() int { return defaultPool.Threads() }

// waitSliced calls wait with a timeout in nanoseconds until it stops
// returning BG_ETIMEDOUT or ctx is done. A context without a deadline is
// polled every 50ms, since a C wait cannot watch a Go channel.
func waitSliced(ctx context.Context, wait func(ns C.uint64_t) C.bg_status) error {
	const slice = 50 * time.Millisecond
	for {
		ns := C.uint64_t(C.BG_FOREVER)
		if ctx.Done() != nil {
			d := slice
			if dl, ok := ctx.Deadline(); ok {
				d = min(d, time.Until(dl))
			}
			ns = C.uint64_t(max(d, 0))
		}
		st := wait(ns)
		if st != C.BG_ETIMEDOUT {
			return statusError(st)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}
