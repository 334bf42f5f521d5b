package background_test

import (
	"errors"
	"runtime"
	"sync/atomic"
	"testing"

	background "github.com/background-lib/background/bindings/go"
)

// One outcome convention across C, C++ and Go: a Go task that returns an
// error or panics is a failure to the library in every construct (counted
// in Stats.Failed, as a C task returning non-zero or a C++ call that threw),
// and a failure nobody waited for reaches the error handler.
func TestAFailedGoTaskCountsAsFailedInEveryConstruct(t *testing.T) {
	var reported atomic.Int32
	p := newPool(t, background.Options{Threads: 2, ErrorHandler: func(error) { reported.Add(1) }})
	boom := errors.New("boom")

	if _, err := background.GoOn(p, func() (int, error) { return 0, boom }).Wait(ctxT(t)); !errors.Is(err, boom) {
		t.Fatalf("future: %v", err)
	}
	if err := p.Submit(func() { panic("task") }).Wait(ctxT(t)); err == nil {
		t.Fatal("task: no error")
	}
	p.SpawnErr(func() error { return boom })
	g, err := p.NewGroup()
	if err != nil {
		t.Fatal(err)
	}
	g.Go(func() error { return boom })
	if err := g.Wait(); !errors.Is(err, boom) {
		t.Fatalf("group: %v", err)
	}
	q, err := p.NewSerialQueue()
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Submit(func() { panic("serial") }).Wait(ctxT(t)); err == nil {
		t.Fatal("serial: no error")
	}
	waitFor(t, "the spawned failure reported", func() bool { return reported.Load() == 1 })
	waitFor(t, "5 failures counted", func() bool {
		s, err := p.Stats()
		if err != nil {
			t.Fatal(err)
		}
		return s.Failed == 5
	})
}

func TestAFailedTaskNobodyWaitsForReachesTheErrorHandler(t *testing.T) {
	reported := make(chan error, 1)
	p := newPool(t, background.Options{Threads: 1, ErrorHandler: func(err error) { reported <- err }})
	done := func() <-chan struct{} {
		task := p.Submit(func() { panic("unread") })
		return task.Done()
	}()
	<-done
	waitFor(t, "the unread failure reported", func() bool {
		runtime.GC() // the report comes with the Task's cleanup
		select {
		case err := <-reported:
			var pe *background.PanicError
			if !errors.As(err, &pe) || pe.Value != "unread" {
				t.Fatalf("handler got %v", err)
			}
			return true
		default:
			return false
		}
	})
	// A task whose failure a Wait returned is not reported again.
	if err := p.Submit(func() { panic("read") }).Wait(ctxT(t)); err == nil {
		t.Fatal("no error")
	}
	for i := 0; i < 3; i++ {
		runtime.GC()
	}
	select {
	case err := <-reported:
		t.Fatalf("reported a failure a Wait returned: %v", err)
	default:
	}
}
