package background_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	background "github.com/background-lib/background/bindings/go"
)

// A Wait whose context can never end runs a task no worker has started on
// the waiting goroutine; the worker that dequeues it later counts it as the
// waiter's run ended, without running it again.
func TestWaitRunsATaskNoWorkerStartedAndTheWorkerCountsIt(t *testing.T) {
	noLeaks(t)
	p := heldPool(t, background.Options{Threads: 1})
	release := blockPool(t, p, 1)
	var runs atomic.Int32
	boom := errors.New("boom")
	if err := p.Submit(func() { runs.Add(1) }).Wait(context.Background()); err != nil {
		t.Fatalf("ok task: %v", err)
	}
	if _, err := background.GoOn(p, func() (int, error) { runs.Add(1); return 0, boom }).Wait(context.Background()); !errors.Is(err, boom) {
		t.Fatalf("failing task: %v", err)
	}
	if runs.Load() != 2 {
		t.Fatalf("%d runs with the only worker blocked, want 2 (run by their waiters)", runs.Load())
	}
	release()
	waitFor(t, "the worker to count both tasks", func() bool {
		s, err := p.Stats()
		if err != nil {
			t.Fatal(err)
		}
		return s.Completed == 2 && s.Failed == 1 && s.Cancelled == 0 // the blocker and the ok task; the failure
	})
	if runs.Load() != 2 {
		t.Fatalf("%d runs after the worker dequeued them, want 2", runs.Load())
	}
}

// WaitNoRun and Options.NoRunInWait leave the task to the workers.
func TestWaitNoRunAndNoRunInWaitLeaveTheTaskToAWorker(t *testing.T) {
	noLeaks(t)
	for _, noRun := range []bool{false, true} {
		p := heldPool(t, background.Options{Threads: 1, NoRunInWait: noRun})
		release := blockPool(t, p, 1)
		task := p.Submit(func() {})
		done := make(chan error, 1)
		go func() {
			if noRun {
				done <- task.Wait(context.Background())
			} else {
				done <- task.WaitNoRun(context.Background())
			}
		}()
		select {
		case err := <-done:
			t.Fatalf("NoRunInWait %v: the wait returned (%v) while the only worker was blocked", noRun, err)
		case <-time.After(50 * time.Millisecond):
		}
		release()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

// A worker that dequeues a task its waiter is still running must not sit on
// its thread: the task may need the pool (here its group's member, on a
// one-thread pool), so the worker helps with other work while it waits.
func TestAWorkerThatFindsItsTaskClaimedRunsOtherWork(t *testing.T) {
	noLeaks(t)
	p := newPool(t, background.Options{Threads: 1})
	var ran atomic.Bool
	f := background.GoOn(p, func() (bool, error) {
		g, err := p.NewGroup() // waited for from the waiter's goroutine: no helping there
		if err != nil {
			return false, err
		}
		time.Sleep(5 * time.Millisecond) // the worker dequeues this task meanwhile
		g.Go(func() error { ran.Store(true); return nil })
		return ran.Load(), g.Wait()
	})
	done := make(chan error, 1)
	go func() { _, err := f.Wait(context.Background()); done <- err }()
	select {
	case err := <-done:
		if err != nil || !ran.Load() {
			t.Fatalf("err %v, member ran %v", err, ran.Load())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("deadlock: the worker sat on the claimed task while its group's member waited for it")
	}
}

// Cancel on a task its waiter is running reports false and changes nothing;
// a task Cancel took is never run by a waiter.
func TestCancelAndRunInWaitDoNotBothTakeATask(t *testing.T) {
	noLeaks(t)
	p := heldPool(t, background.Options{Threads: 1})
	release := blockPool(t, p, 1)
	gate, started := make(chan struct{}), make(chan struct{})
	running := p.Submit(func() { close(started); <-gate })
	done := make(chan error, 1)
	go func() { done <- running.Wait(context.Background()) }()
	<-started
	if running.Cancel() {
		t.Fatal("cancelled a task its waiter is running")
	}
	close(gate)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var runs atomic.Int32
	cancelled := p.Submit(func() { runs.Add(1) })
	if !cancelled.Cancel() {
		t.Fatal("Cancel of a queued task failed")
	}
	if err := cancelled.Wait(context.Background()); !errors.Is(err, background.ErrCancelled) {
		t.Fatalf("cancelled task: %v", err)
	}
	release()
	waitFor(t, "the counts", func() bool {
		s, err := p.Stats()
		if err != nil {
			t.Fatal(err)
		}
		return s.Completed == 2 && s.Cancelled == 1
	})
	if runs.Load() != 0 {
		t.Fatal("a cancelled task ran")
	}
}

// Many goroutines wait on tasks that workers race them for: each task runs
// once, and Stats count each once.
func TestRunInWaitRacingWorkersRunsEachTaskOnce(t *testing.T) {
	noLeaks(t)
	p := newPool(t, background.Options{Threads: 2})
	const n = 2000
	var runs atomic.Int32
	errs := make(chan error, 8)
	for w := 0; w < 8; w++ {
		go func() {
			var err error
			for i := 0; i < n/8 && err == nil; i++ {
				err = p.Submit(func() { runs.Add(1) }).Wait(context.Background())
			}
			errs <- err
		}()
	}
	for w := 0; w < 8; w++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if runs.Load() != n {
		t.Fatalf("%d runs, want %d", runs.Load(), n)
	}
	waitFor(t, "every task counted once", func() bool {
		s, err := p.Stats()
		if err != nil {
			t.Fatal(err)
		}
		return s.Completed == n
	})
}

// Closing a pool from its task that a waiter runs is ErrDeadlock, as from
// one of its workers.
func TestClosingAPoolFromItsTaskRunInWaitIsErrDeadlock(t *testing.T) {
	noLeaks(t)
	p := heldPool(t, background.Options{Threads: 1})
	release := blockPool(t, p, 1)
	err, _ := background.GoOn(p, func() (error, error) { return p.Close(), nil }).Wait(context.Background())
	if !errors.Is(err, background.ErrDeadlock) {
		t.Fatalf("Close from inside: %v, want ErrDeadlock", err)
	}
	release()
	if err := p.Close(); err != nil {
		t.Fatalf("Close from outside afterwards: %v", err)
	}
}
