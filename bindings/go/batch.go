package background

// #include "shim.h"
import "C"

import (
	"sync"
)

// BatchPolicy says what a batch does after one of its tasks fails.
type BatchPolicy uint32

const (
	// StopOnError: after the first task that returns an error or panics,
	// the rest never run (their error is ErrCancelled).
	StopOnError BatchPolicy = C.BG_BATCH_STOP_ON_ERROR
	// RunAll: every task runs whatever the others returned.
	RunAll BatchPolicy = C.BG_BATCH_RUN_ALL
)

// Batch collects tasks now to run later, one after another in insertion
// order on one worker, as one unit (Starlette's and FastAPI's
// BackgroundTasks: collected while a request is handled, run after the
// response, or discarded if the handler fails). Its methods are safe for
// concurrent use.
type Batch struct {
	core    *batchCore
	cleanup cleanup
}

type batchCore struct {
	mu      sync.Mutex
	ptr     *C.bg_batch // nil once closed
	task    *Task       // set by Submit
	handle  *C.bg_task  // a reference to the running batch, for Err
	results []error     // per task, once it ran
	ran     []bool
	left    int // tasks of a submitted batch that have not ended
}

// NewBatch makes an empty batch. Close it when done with it; one garbage
// collected unclosed is freed by a cleanup (dropping its tasks if it was
// never submitted).
func NewBatch() (*Batch, error) {
	var ptr *C.bg_batch
	if st := C.bg_batch_new(&ptr); st != C.BG_OK {
		return nil, Status(st)
	}
	core := &batchCore{ptr: ptr}
	b := &Batch{core: core}
	b.cleanup = addCleanup(b, func(c *batchCore) { _ = c.free() }, core)
	return b, nil
}

// Add appends f to the batch; nothing runs until Submit. It fails with
// ErrInvalid once the batch is submitted, ErrClosed once closed.
func (b *Batch) Add(f func() error) error {
	if f == nil {
		return ErrInvalid
	}
	c := b.core
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ptr == nil {
		return ErrClosed
	}
	if c.task != nil {
		return ErrInvalid
	}
	h := newHandle(&batchJob{b: c, index: len(c.results), fn: f})
	if st := C.bg_go_batch_add(c.ptr, C.uintptr_t(h)); st != C.BG_OK {
		forgetHandle(h)
		return Status(st)
	}
	c.results = append(c.results, nil)
	c.ran = append(c.ran, false)
	return nil
}

// Len returns the number of tasks added.
func (b *Batch) Len() int {
	b.core.mu.Lock()
	defer b.core.mu.Unlock()
	return len(b.core.results)
}

// Submit runs the batch on pool p (nil: the current pool, see Default) as one
// task, following policy, and returns its handle: Wait returns nil if every
// task returned nil, else the first failing task's error (in insertion
// order); ErrCancelled or ErrShutdown if none failed but some never ran. Task.Cancel before it starts drops every
// task. A batch is submitted at most once (ErrInvalid after).
func (b *Batch) Submit(p *Pool, policy BatchPolicy) *Task {
	if p == nil {
		p = ambient
	}
	c := b.core
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ptr == nil {
		return failedTask(ErrClosed)
	}
	if c.task != nil {
		return failedTask(ErrInvalid)
	}
	parts := newTask(nil)
	t := parts.t
	c.task, c.left = t, len(c.results) // before the C call: tasks may end at once
	var s C.bg_go_submitted
	err := p.core.use(func(pp *C.bg_pool) error {
		pp, err := p.core.cptr(pp)
		if err != nil {
			return err
		}
		s.status = C.bg_batch_submit(c.ptr, pp, C.uint32_t(policy), &s.task)
		return statusError(s.status)
	})
	if err != nil {
		c.task, c.left = nil, 0
		return failedTask(err)
	}
	c.handle = C.bg_task_retain(s.task)
	t.attach(parts.ref, s.task)
	if c.left == 0 {
		c.end()
	}
	return t
}

// Err returns how task i (insertion order, from 0) of an ended batch ended:
// nil, its error, ErrCancelled (it never ran: an earlier task failed under
// StopOnError, or the batch was cancelled) or ErrShutdown. Before the
// batch has ended it returns ErrRunning; after Close, ErrClosed.
func (b *Batch) Err(i int) error {
	c := b.core
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.ptr == nil:
		return ErrClosed
	case i < 0 || i >= len(c.results):
		return ErrInvalid
	case c.task == nil || c.left > 0:
		return ErrRunning
	case c.ran[i]:
		return c.results[i]
	}
	// Every task's trampoline has run, so the library ends the batch at
	// once; wait for that (without helping) before asking it why i never ran.
	C.bg_wait_ex(c.handle, C.BG_FOREVER, C.BG_WAIT_NO_HELP, nil)
	return statusError(C.bg_batch_status(c.ptr, C.size_t(i), nil))
}

// Close frees the batch. A batch never submitted drops its tasks: none
// runs. A submitted one goes on, and is freed once it has ended; its Task
// stays valid. A second Close returns ErrClosed.
func (b *Batch) Close() error {
	if err := b.core.free(); err != nil {
		return err
	}
	b.cleanup.stop()
	return nil
}

func (c *batchCore) free() error {
	c.mu.Lock()
	ptr, handle := c.ptr, c.handle
	c.ptr, c.handle = nil, nil
	c.mu.Unlock()
	if ptr == nil {
		return ErrClosed
	}
	C.bg_task_release(handle) // NULL (never submitted) is a no-op
	// Without mu: an unsubmitted batch runs its drops here, and they take it.
	return statusError(C.bg_batch_free(ptr))
}

// end settles the batch's Task once every task has ended; c.mu is held.
func (c *batchCore) end() {
	t := c.task
	for i, err := range c.results {
		if c.ran[i] && err != nil {
			t.outcome, t.ran = err, true // the first failure, in Go's words
			break
		}
	}
	if !t.ran && !slicesContain(c.ran, false) {
		t.ran = true // all ran, all returned nil
	}
	// Otherwise some never ran and none failed: settle asks the library why.
	t.complete()
}

func slicesContain(s []bool, v bool) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// batchJob is one task of a batch.
type batchJob struct {
	b     *batchCore
	index int
	fn    func() error
}

func (j *batchJob) run() int {
	err := call(j.fn)
	c := j.b
	c.mu.Lock()
	defer c.mu.Unlock()
	c.results[j.index], c.ran[j.index] = err, true
	j.ended()
	if err != nil {
		return failedCode // StopOnError acts on it
	}
	return 0
}

func (j *batchJob) drop() {
	c := j.b
	c.mu.Lock()
	defer c.mu.Unlock()
	j.ended()
}

// ended counts one task of a submitted batch as ended; c.mu is held.
func (j *batchJob) ended() {
	c := j.b
	if c.task == nil {
		return // dropped by Close of a batch never submitted
	}
	c.left--
	if c.left == 0 {
		c.end()
	}
}
