package background_test

import (
	"bytes"
	"errors"
	"log"
	"strings"
	"sync"
	"testing"

	background "github.com/background-lib/background/bindings/go"
)

// collect installs a package error handler for the test and returns a
// function that waits for n reports and returns them.
func collect(t *testing.T) (wait func(n int) []error) {
	var mu sync.Mutex
	var got []error
	arrived := make(chan struct{}, 100)
	background.SetErrorHandler(func(err error) {
		mu.Lock()
		got = append(got, err)
		mu.Unlock()
		arrived <- struct{}{}
	})
	t.Cleanup(func() { background.SetErrorHandler(nil) })
	return func(n int) []error {
		for i := 0; i < n; i++ {
			<-arrived
		}
		mu.Lock()
		defer mu.Unlock()
		return append([]error(nil), got...)
	}
}

func TestASpawnedTasksPanicGoesToTheHandler(t *testing.T) {
	noLeaks(t)
	wait := collect(t)
	background.Spawn(func() { panic("spawned boom") })
	errs := wait(1)
	var pe *background.PanicError
	if !errors.As(errs[0], &pe) || pe.Value != "spawned boom" {
		t.Fatalf("handler got %v, want the PanicError", errs[0])
	}
	// The program goes on, and so does the pool.
	if err := background.Submit(func() {}).Wait(ctxT(t)); err != nil {
		t.Fatal(err)
	}
}

func TestASpawnedTasksErrorGoesToTheHandler(t *testing.T) {
	noLeaks(t)
	wait := collect(t)
	boom := errors.New("spawned error")
	background.SpawnErr(func() error { return boom })
	background.SpawnErr(func() error { return nil }) // no report
	background.SpawnErr(func() error { return boom })
	if errs := wait(2); errs[0] != boom || errs[1] != boom {
		t.Fatalf("handler got %v", errs)
	}
}

func TestTheDefaultHandlerLogs(t *testing.T) {
	noLeaks(t)
	var buf bytes.Buffer
	var mu sync.Mutex
	old := log.Writer()
	t.Cleanup(func() { log.SetOutput(old) })
	log.SetOutput(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return buf.Write(p)
	}))
	background.Spawn(func() { panic("logged boom") })
	waitFor(t, "the panic is logged", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return strings.Contains(buf.String(), "logged boom")
	})
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func TestAPoolsOwnHandlerTakesItsReports(t *testing.T) {
	noLeaks(t)
	got := make(chan error, 1)
	p := newPool(t, background.Options{Threads: 1, ErrorHandler: func(err error) { got <- err }})
	p.Spawn(func() { panic("pool boom") })
	var pe *background.PanicError
	if err := <-got; !errors.As(err, &pe) {
		t.Fatalf("pool handler got %v", err)
	}
}

func TestARefusedSpawnIsReportedNotLost(t *testing.T) {
	noLeaks(t)
	got := make(chan error, 2)
	p, err := background.NewPool(background.Options{Threads: 1, ErrorHandler: func(err error) { got <- err }})
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	p.Spawn(func() { t.Error("a spawn on a closed pool ran") })
	if err := <-got; !errors.Is(err, background.ErrClosed) {
		t.Fatalf("handler got %v, want ErrClosed", err)
	}
	p.Spawn(nil)
	if err := <-got; !errors.Is(err, background.ErrInvalid) {
		t.Fatalf("Spawn(nil): handler got %v, want ErrInvalid", err)
	}
}

func TestASpawnDroppedByShutdownIsReported(t *testing.T) {
	noLeaks(t)
	got := make(chan error, 1)
	p := heldPool(t, background.Options{Threads: 1, ErrorHandler: func(err error) { got <- err }})
	release := blockPool(t, p, 1)
	p.Spawn(func() { t.Error("a dropped spawn ran") })
	shutdownCancel(t, p, release)
	if err := <-got; !errors.Is(err, background.ErrShutdown) {
		t.Fatalf("handler got %v, want ErrShutdown", err)
	}
}

func TestAPanickingHandlerDoesNotCrashTheProgram(t *testing.T) {
	noLeaks(t)
	handled := make(chan struct{})
	p := newPool(t, background.Options{Threads: 1, ErrorHandler: func(error) {
		close(handled)
		panic("handler boom")
	}})
	p.Spawn(func() { panic("task boom") })
	<-handled
	if err := p.Submit(func() {}).Wait(ctxT(t)); err != nil {
		t.Fatal(err)
	}
}
