package background_test

import (
	"errors"
	"sync/atomic"
	"testing"

	background "github.com/background-lib/background/bindings/go"
)

func newBatch(t *testing.T, fns ...func() error) *background.Batch {
	t.Helper()
	b, err := background.NewBatch()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	for _, f := range fns {
		if err := b.Add(f); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

func TestABatchRunsItsTasksInOrderAfterSubmit(t *testing.T) {
	noLeaks(t)
	var order []int // one worker runs them one after another (-race checks it)
	var added []func() error
	for i := 0; i < 5; i++ {
		i := i
		added = append(added, func() error { order = append(order, i); return nil })
	}
	b := newBatch(t, added...)
	if len(order) != 0 {
		t.Fatal("a task ran before Submit")
	}
	if b.Len() != 5 {
		t.Fatalf("Len() = %d", b.Len())
	}
	if err := b.Submit(background.Default(), background.StopOnError).Wait(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	for i, v := range order {
		if v != i {
			t.Fatalf("order %v", order)
		}
	}
	if len(order) != 5 {
		t.Fatalf("%d of 5 ran", len(order))
	}
	if err := b.Add(func() error { return nil }); !errors.Is(err, background.ErrInvalid) {
		t.Fatalf("Add after Submit: %v", err)
	}
	if err := b.Submit(background.Default(), background.RunAll).Wait(ctxT(t)); !errors.Is(err, background.ErrInvalid) {
		t.Fatalf("second Submit: %v", err)
	}
}

func TestABatchStopsAtTheFirstError(t *testing.T) {
	noLeaks(t)
	boom := errors.New("boom")
	var ran atomic.Int32
	b := newBatch(t,
		func() error { ran.Add(1); return nil },
		func() error { ran.Add(1); return boom },
		func() error { ran.Add(1); return nil },
	)
	if err := b.Submit(background.Default(), background.StopOnError).Wait(ctxT(t)); err != boom {
		t.Fatalf("Wait: %v, want boom", err)
	}
	if ran.Load() != 2 {
		t.Fatalf("%d of 3 ran; the one after the failure must not", ran.Load())
	}
	for i, want := range []error{nil, boom, background.ErrCancelled} {
		if got := b.Err(i); !errors.Is(got, want) {
			t.Fatalf("Err(%d) = %v, want %v", i, got, want)
		}
	}
	if err := b.Err(3); !errors.Is(err, background.ErrInvalid) {
		t.Fatalf("Err(3): %v", err)
	}
}

func TestARunAllBatchRunsEverythingAndReportsTheFirstError(t *testing.T) {
	noLeaks(t)
	first, second := errors.New("first"), errors.New("second")
	var ran atomic.Int32
	b := newBatch(t,
		func() error { ran.Add(1); return first },
		func() error { ran.Add(1); panic("batch boom") },
		func() error { ran.Add(1); return second },
	)
	if err := b.Submit(background.Default(), background.RunAll).Wait(ctxT(t)); err != first {
		t.Fatalf("Wait: %v, want first", err)
	}
	if ran.Load() != 3 {
		t.Fatalf("%d of 3 ran", ran.Load())
	}
	var pe *background.PanicError
	if !errors.As(b.Err(1), &pe) || b.Err(2) != second {
		t.Fatalf("Err(1) = %v, Err(2) = %v", b.Err(1), b.Err(2))
	}
}

func TestABatchClosedUnsubmittedRunsNothing(t *testing.T) {
	noLeaks(t)
	b := newBatch(t, func() error { t.Error("ran"); return nil }, func() error { t.Error("ran"); return nil })
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Submit(background.Default(), background.RunAll).Wait(ctxT(t)); !errors.Is(err, background.ErrClosed) {
		t.Fatalf("Submit after Close: %v", err)
	}
}

func TestACancelledBatchDropsEveryTask(t *testing.T) {
	noLeaks(t)
	p := heldPool(t, background.Options{Threads: 1})
	release := blockPool(t, p, 1)
	b := newBatch(t, func() error { t.Error("ran"); return nil }, func() error { t.Error("ran"); return nil })
	task := b.Submit(p, background.StopOnError)
	if err := b.Err(0); !errors.Is(err, background.ErrRunning) {
		t.Fatalf("Err before the end: %v", err)
	}
	if !task.Cancel() {
		t.Fatal("Cancel of a queued batch returned false")
	}
	release()
	if err := task.Wait(ctxT(t)); !errors.Is(err, background.ErrCancelled) {
		t.Fatalf("Wait: %v, want ErrCancelled", err)
	}
	if err := b.Err(1); !errors.Is(err, background.ErrCancelled) {
		t.Fatalf("Err(1): %v", err)
	}
}

func TestAnEmptyBatchSucceeds(t *testing.T) {
	noLeaks(t)
	b := newBatch(t)
	if err := b.Submit(background.Default(), background.StopOnError).Wait(ctxT(t)); err != nil {
		t.Fatal(err)
	}
}
