package background

// #include "shim.h"
import "C"

import (
	"fmt"
	"sync"
	"sync/atomic"
)

// Tasks come in blocks with one cleanup per block. A Task holds the
// library's handle and a reference to its C cell until nobody holds the
// Task, and a failure that no Wait returned must still reach the error
// handler then; a runtime.AddCleanup per Task (and the cgo call of each
// cleanup) was a quarter of a one-at-a-time Go(f).Wait. So a taskBlock is
// taskBlockLen Tasks with their jobs, carved out one by one; what its
// cleanup frees is apart, in a refBlock that nothing in it points back to
// (the Tasks point to it). Go's collector keeps a whole object alive while
// any pointer into it lives, so the block's cleanup runs once none of its
// Tasks is reachable and none of its jobs is still queued (the handle table
// holds a queued job): then it releases every handle and cell of the block
// in one cgo call and reports the failures nobody waited for.
//
// The price: a Task kept alive also keeps its block's other tasks' handles,
// cells and unwaited failures until it goes (at most taskBlockLen-1 of
// them, some kilobytes); a failure is reported when its block is collected,
// not its Task. A Wait cannot release a task's cell itself instead: the
// Task's state word lives in it, and other goroutines may still read it.

// taskSlot is one Task of a block and the job that runs its Go code.
type taskSlot struct {
	task Task
	job  goJob
}

type taskBlock struct {
	next  atomic.Int32 // the next slot to hand out
	refs  *refBlock
	slots [taskBlockLen]taskSlot
}

// refBlock is what a block's cleanup frees: each task's reference to the
// library's handle, and the cell made with the block for each slot, which
// a claimable Go task or a C task uses (the cleanup drops the Go side's
// reference to it, used or not).
type refBlock struct {
	refs  [taskBlockLen]taskRef
	cells [taskBlockLen]*C.bg_go_cell
}

// blocks hands out the slots of the current block; a new block is made
// under mu when it runs out. The current block is held weakly where the
// runtime allows (blockRef, in the cleanup files): a block whose Tasks are
// all gone is collected, and its failures reported, even before its last
// slot is handed out. An exhausted block is let go at once.
var blocks struct {
	cur atomic.Pointer[blockRef]
	mu  sync.Mutex
}

// taskParts is what one task takes from a block.
type taskParts struct {
	t    *Task
	job  *goJob
	ref  *taskRef
	cell *C.bg_go_cell // nil if the block's cells could not be made
}

// newTaskParts carves the next task out of the current block.
func newTaskParts() taskParts {
	for {
		r := blocks.cur.Load()
		var b *taskBlock
		if r != nil {
			b = blockOf(r)
		}
		if b != nil {
			if i := b.next.Add(1) - 1; i < taskBlockLen {
				if i == taskBlockLen-1 {
					blocks.cur.CompareAndSwap(r, nil)
				}
				s := &b.slots[i]
				return taskParts{t: &s.task, job: &s.job, ref: &b.refs.refs[i], cell: b.refs.cells[i]}
			}
		}
		newBlock(r)
	}
}

// newBlock replaces the block old (exhausted, or collected), unless
// another caller has.
func newBlock(old *blockRef) {
	blocks.mu.Lock()
	defer blocks.mu.Unlock()
	if blocks.cur.Load() != old {
		return
	}
	b := &taskBlock{refs: new(refBlock)}
	// One cgo call for the block's cells; a slot without one (out of
	// memory) refuses a claimable task with ErrNoMemory.
	C.bg_go_cells_new(&b.refs.cells[0], C.int(taskBlockLen))
	addCleanup(b, (*refBlock).release, b.refs)
	blocks.cur.Store(makeBlockRef(b))
}

// release is the cleanup of a block none of whose Tasks is reachable: it
// lets go of their handles and cells, and hands each failure that no Wait
// returned to the error handler (each task has run or been dropped: its
// job kept the block reachable until then).
func (b *refBlock) release() {
	var tasks [taskBlockLen]*C.bg_task
	for i := range b.refs {
		tasks[i] = b.refs[i].take()
	}
	C.bg_go_release_block(&tasks[0], C.int(len(tasks)), &b.cells[0], C.int(len(b.cells)))
	b.cells = [taskBlockLen]*C.bg_go_cell{}
	for i := range b.refs {
		r := &b.refs[i]
		r.mu.Lock()
		err := r.failed
		if r.read {
			err = nil
		}
		r.mu.Unlock()
		if err != nil {
			report(r.onError, fmt.Errorf("background: task failed and nobody waited for it: %w", err))
		}
	}
}

// liveCells counts the C cells allocated and not yet freed (the tests).
func liveCells() int64 { return int64(C.bg_go_cells_live()) }
