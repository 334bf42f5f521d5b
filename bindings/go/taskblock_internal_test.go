package background

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"
	"unsafe"

	"github.com/background-lib/background/bindings/go/internal/testc"
)

// settleGC collects what earlier tests left and lets its cleanups run, so
// that liveCells counts only what a test makes from then on.
func settleGC() int64 {
	n := liveCells()
	for i := 0; i < 50; i++ {
		runtime.GC()
		time.Sleep(2 * time.Millisecond)
		m := liveCells()
		if m == n && i >= 2 {
			break
		}
		n = m
	}
	return n
}

// gcUntil runs the collector until cond holds (cleanups run on their own
// goroutine after a cycle), or fails the test.
func gcUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		runtime.GC()
		time.Sleep(2 * time.Millisecond)
	}
}

func testPool(t *testing.T, opts Options) *Pool {
	t.Helper()
	p, err := NewPool(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// A Task nobody waits for, the only one of its block (the block being
// carved is held weakly), is freed after a collection: its handle and the
// block's cells are released and its failure reaches the error handler.
func TestAnUnwaitedTaskIsFreedAndReportedAfterGC(t *testing.T) {
	reported := make(chan error, 1)
	p := testPool(t, Options{Threads: 1, ErrorHandler: func(err error) { reported <- err }})
	before := settleGC()
	blocks.cur.Store(nil) // a block of its own
	func() {
		task := p.Submit(func() { panic("unread") })
		<-task.Done()
	}()
	if n := liveCells(); n < before+taskBlockLen {
		t.Fatalf("%d cells live, want the block's %d more than %d", n, taskBlockLen, before)
	}
	awaitReportedAndFreed(t, "the failure is reported and the cells freed", reported, before, "unread")
}

// Tasks of one block share its cleanup: a Task that is still held keeps
// the whole block, so the cleanup frees nothing of it (not the dropped
// task's handle and cell, nor the held task's, whose state word Wait still
// reads) and reports nothing until the last of its Tasks is gone.
func TestABlockOutlivesEachOfItsTasks(t *testing.T) {
	if taskBlockLen < 2 {
		t.Skip("one Task per block before Go 1.24")
	}
	reported := make(chan error, 1)
	p := testPool(t, Options{Threads: 2, ErrorHandler: func(err error) { reported <- err }})
	before := settleGC()
	blocks.cur.Store(nil) // a fresh block for both tasks
	gate := make(chan struct{})
	kept := p.Submit(func() { <-gate })
	refs := func() uintptr {
		dropped := p.Submit(func() { panic("dropped") })
		<-dropped.Done()
		return uintptr(unsafe.Pointer(dropped.ref))
	}()
	if refs-uintptr(unsafe.Pointer(kept.ref)) != unsafe.Sizeof(taskRef{}) {
		t.Fatal("the two tasks are not neighbours in one block")
	}
	for i := 0; i < 5; i++ {
		runtime.GC()
		time.Sleep(2 * time.Millisecond)
	}
	select {
	case err := <-reported:
		t.Fatalf("reported while a Task of its block is held: %v", err)
	default:
	}
	if n := liveCells(); n < before+taskBlockLen {
		t.Fatalf("%d cells live, want the block's %d more than %d", n, taskBlockLen, before)
	}
	close(gate)
	if err := kept.Wait(context.Background()); err != nil {
		t.Fatalf("the held task: %v", err)
	}
	kept = nil
	awaitReportedAndFreed(t, "the block is freed once its last Task is gone", reported, before, "dropped")
}

// awaitReportedAndFreed collects garbage until the handler has had a panic
// of value `want` and the live cells are back to `before`.
func awaitReportedAndFreed(t *testing.T, what string, reported <-chan error, before int64, want string) {
	t.Helper()
	var got error
	gcUntil(t, what, func() bool {
		if got == nil {
			select {
			case got = <-reported:
			default:
			}
		}
		return got != nil && liveCells() <= before
	})
	var pe *PanicError
	if !errors.As(got, &pe) || pe.Value != want {
		t.Fatalf("handler got %v", got)
	}
}

// A Task's Done channel is made only when asked for: before the task ends
// (closed when it does) or after (already closed).
func TestDoneIsMadeOnDemand(t *testing.T) {
	p := testPool(t, Options{Threads: 1})
	gate := make(chan struct{})
	task := p.Submit(func() { <-gate })
	ch := task.Done()
	select {
	case <-ch:
		t.Fatal("Done closed before the task ended")
	default:
	}
	close(gate)
	select {
	case <-ch:
	case <-time.After(30 * time.Second):
		t.Fatal("Done not closed")
	}
	if task.Done() != ch {
		t.Fatal("a second Done gave another channel")
	}
	later := p.Submit(func() {})
	if err := later.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if later.done != nil {
		t.Fatal("a task waited for without Done made a channel")
	}
	select {
	case <-later.Done():
	default:
		t.Fatal("Done of an ended task is not closed")
	}
}

// Many blocks' worth of Tasks of every kind (Go, failing, C, expired,
// waited for or not) leave no cell behind once they are gone.
func TestBlocksOfDroppedTasksFreeTheirCells(t *testing.T) {
	p := testPool(t, Options{Threads: 2, ErrorHandler: func(error) {}})
	before := settleGC()
	func() {
		var kept []*Task
		for i := 0; i < 10*taskBlockLen; i++ {
			var task *Task
			switch i % 5 {
			case 0:
				task = p.Submit(func() {})
			case 1:
				task = p.Submit(func() { panic("dropped") })
			case 2:
				task = p.SubmitC(testc.Nop, nil, nil)
			case 3:
				task = p.SubmitWith(SubmitOptions{Deadline: time.Now().Add(-time.Second)}, func() {}) // expired
			default:
				task = p.Submit(func() {})
				if err := task.Wait(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			kept = append(kept, task)
		}
		for _, task := range kept {
			<-task.Done()
		}
	}()
	gcUntil(t, "every cell is freed", func() bool { return liveCells() <= before })
}
