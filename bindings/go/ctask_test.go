package background_test

import (
	"errors"
	"testing"

	background "github.com/background-lib/background/bindings/go"
	"github.com/background-lib/background/bindings/go/internal/testc"
)

func TestSubmitCRunsACFunction(t *testing.T) {
	noLeaks(t)
	before := testc.Runs()
	if err := background.SubmitC(testc.CountRun, testc.Int(5), nil).Wait(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if got := testc.Runs() - before; got != 5 {
		t.Fatalf("the C function added %d, want 5", got)
	}
}

func TestACFunctionsNonZeroCodeIsAFailedError(t *testing.T) {
	noLeaks(t)
	err := background.SubmitC(testc.FailWith, testc.Int(42), nil).Wait(ctxT(t))
	var fe *background.FailedError
	if !errors.As(err, &fe) || fe.Code != 42 {
		t.Fatalf("Wait: %v, want FailedError{42}", err)
	}
}

func TestACancelledCTaskRunsItsDropInstead(t *testing.T) {
	noLeaks(t)
	p := heldPool(t, background.Options{Threads: 1})
	release := blockPool(t, p, 1)
	runs, drops := testc.Runs(), testc.Drops()
	task := p.SubmitC(testc.CountRun, testc.Int(1), testc.CountDrop)
	if !task.Cancel() {
		t.Fatal("Cancel of a queued C task returned false")
	}
	if err := task.Wait(ctxT(t)); !errors.Is(err, background.ErrCancelled) {
		t.Fatalf("Wait: %v, want ErrCancelled", err)
	}
	release()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if testc.Runs() != runs || testc.Drops() != drops+1 {
		t.Fatalf("runs +%d, drops +%d; want +0, +1", testc.Runs()-runs, testc.Drops()-drops)
	}
}

func TestACTaskDroppedByShutdownRunsItsDrop(t *testing.T) {
	noLeaks(t)
	p := heldPool(t, background.Options{Threads: 1})
	release := blockPool(t, p, 1)
	drops := testc.Drops()
	task := p.SubmitC(testc.CountRun, testc.Int(1), testc.CountDrop)
	if err := p.SpawnC(testc.CountRun, testc.Int(1), testc.CountDrop); err != nil {
		t.Fatal(err)
	}
	shutdownCancel(t, p, release)
	if err := task.Wait(ctxT(t)); !errors.Is(err, background.ErrShutdown) {
		t.Fatalf("Wait: %v, want ErrShutdown", err)
	}
	if got := testc.Drops() - drops; got != 2 {
		t.Fatalf("%d drops ran, want 2", got)
	}
}

func TestSpawnCRunsWithoutAHandle(t *testing.T) {
	noLeaks(t)
	p := newPool(t, background.Options{Threads: 2})
	before := testc.Runs()
	for i := 0; i < 100; i++ {
		if err := p.SpawnC(testc.CountRun, testc.Int(1), nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if got := testc.Runs() - before; got != 100 {
		t.Fatalf("%d of 100 C tasks ran", got)
	}
}

func TestCTasksAndGoTasksShareAPool(t *testing.T) {
	noLeaks(t)
	p := newPool(t, background.Options{Threads: 2})
	gate := testc.NewGate()
	defer testc.Free(gate)
	before := testc.Runs()
	c := p.SubmitC(testc.WaitGate, gate, nil) // spins in C until Go opens the gate
	g := p.Submit(func() { testc.OpenGate(gate) })
	if err := g.Wait(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if err := c.Wait(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if testc.Runs()-before != 1 {
		t.Fatal("the gated C task did not run")
	}
}

func TestBadCSubmissionsAreRefused(t *testing.T) {
	noLeaks(t)
	if err := background.SubmitC(nil, nil, nil).Wait(ctxT(t)); !errors.Is(err, background.ErrInvalid) {
		t.Fatalf("SubmitC(nil): %v", err)
	}
	if err := background.SpawnC(nil, nil, nil); !errors.Is(err, background.ErrInvalid) {
		t.Fatalf("SpawnC(nil): %v", err)
	}
	p, err := background.NewPool(background.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	if err := p.SubmitC(testc.Nop, nil, nil).Wait(ctxT(t)); !errors.Is(err, background.ErrClosed) {
		t.Fatalf("SubmitC on a closed pool: %v", err)
	}
	if err := p.SpawnC(testc.Nop, nil, nil); !errors.Is(err, background.ErrClosed) {
		t.Fatalf("SpawnC on a closed pool: %v", err)
	}
}

func TestCCodeSubmitsToTheSamePoolAsGo(t *testing.T) {
	noLeaks(t)
	p := newPool(t, background.Options{Threads: 2})
	before := testc.Runs()
	if n := testc.SubmitFromC(p.C(), 50); n != 50 {
		t.Fatalf("C code ran %d of 50 tasks on the Go pool", n)
	}
	if testc.Runs()-before != 50 {
		t.Fatal("the C tasks did not run")
	}
	waitFor(t, "the pool counts the C code's 50 tasks", func() bool {
		s, err := p.Stats()
		return err == nil && s.Completed == 50
	})
	p.Close()
	if p.C() != nil {
		t.Fatal("C() of a closed pool is not nil")
	}
}
