package background_test

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"testing"

	background "github.com/background-lib/background/bindings/go"
)

func TestAGroupWaitsForAllItsTasks(t *testing.T) {
	noLeaks(t)
	g, err := background.NewGroup()
	if err != nil {
		t.Fatal(err)
	}
	var done atomic.Int32
	for i := 0; i < 100; i++ {
		g.Go(func() error { done.Add(1); return nil })
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	if n := done.Load(); n != 100 {
		t.Fatalf("Wait returned after %d of 100 tasks", n)
	}
	// A group is reusable after Wait.
	g.Go(func() error { done.Add(1); return nil })
	if err := g.Wait(); err != nil || done.Load() != 101 {
		t.Fatalf("second round: %v, %d", err, done.Load())
	}
}

func TestAGroupReturnsTheFirstErrorAndRunsTheRest(t *testing.T) {
	noLeaks(t)
	p := newPool(t, background.Options{Threads: 1})
	g, err := p.NewGroup()
	if err != nil {
		t.Fatal(err)
	}
	first, second := errors.New("first"), errors.New("second")
	var ran atomic.Int32
	g.Go(func() error { ran.Add(1); return first })
	g.Go(func() error { ran.Add(1); return second })
	g.Go(func() error { ran.Add(1); return nil })
	if err := g.Wait(); err != first {
		t.Fatalf("Wait: %v, want the first error (a one-thread pool runs them in order)", err)
	}
	if ran.Load() != 3 {
		t.Fatalf("%d of 3 tasks ran in a group without cancel-on-error", ran.Load())
	}
}

func TestAGroupWithContextCancelsOnTheFirstError(t *testing.T) {
	noLeaks(t)
	p := heldPool(t, background.Options{Threads: 1})
	release := blockPool(t, p, 1)
	g, ctx, err := p.GroupWithContext(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	var later atomic.Int32
	g.Go(func() error { return boom })
	for i := 0; i < 10; i++ {
		g.Go(func() error { later.Add(1); return nil })
	}
	release()
	if err := g.Wait(); err != boom {
		t.Fatalf("Wait: %v, want boom", err)
	}
	if n := later.Load(); n != 0 {
		t.Fatalf("%d tasks queued behind the failure ran", n)
	}
	if ctx.Err() == nil {
		t.Fatal("the group's context was not cancelled")
	}
	g.Go(func() error { later.Add(1); return nil }) // refused: the group is cancelled
	if err := g.Wait(); err != boom || later.Load() != 0 {
		t.Fatalf("after cancellation: %v, %d ran", err, later.Load())
	}
}

func TestAPanicInAGroupTaskIsItsError(t *testing.T) {
	noLeaks(t)
	g, err := background.NewGroup()
	if err != nil {
		t.Fatal(err)
	}
	g.Go(func() error { panic("group boom") })
	var pe *background.PanicError
	if err := g.Wait(); !errors.As(err, &pe) || pe.Value != "group boom" {
		t.Fatalf("Wait: %v, want the PanicError", err)
	}
}

func TestCancellingAGroupDropsItsQueuedTasks(t *testing.T) {
	noLeaks(t)
	p := heldPool(t, background.Options{Threads: 1})
	release := blockPool(t, p, 1)
	g, err := p.NewGroup()
	if err != nil {
		t.Fatal(err)
	}
	var ran atomic.Int32
	for i := 0; i < 5; i++ {
		g.Go(func() error { ran.Add(1); return nil })
	}
	g.Cancel()
	release()
	if err := g.Wait(); !errors.Is(err, background.ErrCancelled) {
		t.Fatalf("Wait: %v, want ErrCancelled", err)
	}
	if ran.Load() != 0 {
		t.Fatalf("%d cancelled tasks ran", ran.Load())
	}
}

func TestAGroupTaskMayWaitForANestedGroupOnAOneThreadPool(t *testing.T) {
	noLeaks(t)
	p := newPool(t, background.Options{Threads: 1})
	outer, err := p.NewGroup()
	if err != nil {
		t.Fatal(err)
	}
	var leaves atomic.Int32
	outer.Go(func() error {
		inner, err := p.NewGroup()
		if err != nil {
			return err
		}
		for i := 0; i < 4; i++ {
			inner.Go(func() error { leaves.Add(1); return nil })
		}
		return inner.Wait() // the one worker runs the inner tasks meanwhile
	})
	if err := outer.Wait(); err != nil || leaves.Load() != 4 {
		t.Fatalf("Wait: %v, %d of 4 leaves", err, leaves.Load())
	}
}

func TestAGroupOnAClosedPoolCannotBeMade(t *testing.T) {
	p, err := background.NewPool(background.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	if _, err := p.NewGroup(); !errors.Is(err, background.ErrClosed) {
		t.Fatalf("NewGroup on a closed pool: %v", err)
	}
}

func TestARefusedGroupTaskIsTheGroupsError(t *testing.T) {
	noLeaks(t)
	p := newPool(t, background.Options{Threads: 1})
	g, err := p.NewGroup()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Shutdown(ctxT(t), background.ShutdownDrain); err != nil {
		t.Fatal(err)
	}
	g.Go(func() error { t.Error("a refused task ran"); return nil })
	if err := g.Wait(); !errors.Is(err, background.ErrShutdown) {
		t.Fatalf("Wait: %v, want ErrShutdown", err)
	}
}

func TestTheZeroGroupIsReadyToUse(t *testing.T) {
	noLeaks(t)
	var g background.Group
	var ran atomic.Int32
	boom := errors.New("boom")
	g.Go(func() error { ran.Add(1); return nil })
	g.Go(func() error { ran.Add(1); return boom })
	if err := g.Wait(); err != boom || ran.Load() != 2 {
		t.Fatalf("Wait: %v after %d of 2 tasks", err, ran.Load())
	}
}

// A zero Group inside another struct is an interior pointer, which no
// finalizer may take (cleanup_legacy.go): its backstop must still work.
func TestAZeroGroupInsideAStructIsUsableAndFreedWithIt(t *testing.T) {
	noLeaks(t)
	type request struct {
		id    int
		tasks background.Group
	}
	var ran atomic.Int32
	func() {
		r := &request{id: 1}
		for i := 0; i < 3; i++ {
			r.tasks.Go(func() error { ran.Add(1); return nil })
		}
		if err := r.tasks.Wait(); err != nil || ran.Load() != 3 {
			t.Fatalf("Wait: %v after %d of 3 tasks", err, ran.Load())
		}
	}()
	// The request is garbage now: its group's cleanup frees the library's
	// group on the runtime's cleanup goroutine.
	runtime.GC()
	runtime.GC()
}
