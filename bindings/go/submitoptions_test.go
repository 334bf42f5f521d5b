package background_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	background "github.com/background-lib/background/bindings/go"
)

func TestATaskNotStartedByItsDeadlineExpiresAndNeverRuns(t *testing.T) {
	noLeaks(t)
	p := newPool(t, background.Options{Threads: 1})
	if err := p.Pause(); err != nil {
		t.Fatal(err)
	}
	var ran atomic.Int32
	late := p.SubmitWith(background.SubmitOptions{Deadline: time.Now().Add(5 * time.Millisecond)}, func() { ran.Add(1) })
	inTime := p.SubmitWith(background.SubmitOptions{Deadline: time.Now().Add(patience)}, func() { ran.Add(10) })
	time.Sleep(30 * time.Millisecond)
	if err := p.Resume(); err != nil {
		t.Fatal(err)
	}
	// A Wait that may run a task itself does not run one with a deadline.
	if err := late.Wait(context.Background()); !errors.Is(err, background.ErrExpired) {
		t.Fatalf("Wait: %v, want ErrExpired", err)
	}
	if err := inTime.Wait(ctxT(t)); err != nil {
		t.Fatalf("a task taken before its deadline: %v, want nil", err)
	}
	if n := ran.Load(); n != 10 {
		t.Fatalf("runs %d, want 10: only the task in time ran", n)
	}
	waitFor(t, "Stats counts the expired task", func() bool {
		s, _ := p.Stats()
		return s.Expired == 1 && s.Cancelled == 0
	})
}

func TestADeadlineAlreadyPassedExpiresTheTask(t *testing.T) {
	noLeaks(t)
	var ran atomic.Int32
	task := background.SubmitWith(background.SubmitOptions{Deadline: time.Now().Add(-time.Second)}, func() { ran.Add(1) })
	if err := task.Wait(ctxT(t)); !errors.Is(err, background.ErrExpired) {
		t.Fatalf("Wait: %v, want ErrExpired", err)
	}
	if ran.Load() != 0 {
		t.Fatal("a task whose deadline had passed ran")
	}
}

func TestAHighPriorityTaskStartsBeforeTheNormalOnesQueuedBeforeIt(t *testing.T) {
	noLeaks(t)
	p := newPool(t, background.Options{Threads: 1})
	if err := p.Pause(); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var order []string
	record := func(name string) func() {
		return func() { mu.Lock(); order = append(order, name); mu.Unlock() }
	}
	var tasks []*background.Task
	for i := 0; i < 20; i++ {
		tasks = append(tasks, p.SubmitWith(background.SubmitOptions{}, record("normal")))
	}
	tasks = append(tasks, p.SubmitWith(background.SubmitOptions{Priority: background.PriorityHigh}, record("high")))
	if err := p.Resume(); err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks {
		if err := task.Wait(ctxT(t)); err != nil {
			t.Fatal(err)
		}
	}
	// One take in four looks at normal work first (so high work never
	// starves it): the first take after the resume may be a normal task.
	mu.Lock()
	defer mu.Unlock()
	if order[0] != "high" && order[1] != "high" {
		t.Fatalf("the high task started at %v, want first (or second)", order)
	}
}

func TestADelayedTaskStartsNoSoonerThanItsDelay(t *testing.T) {
	noLeaks(t)
	p := newPool(t, background.Options{Threads: 2})
	const delay = 30 * time.Millisecond
	start := time.Now()
	var started time.Time
	task := p.SubmitWith(background.SubmitOptions{Delay: delay}, func() { started = time.Now() })
	if err := task.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d := started.Sub(start); d < delay {
		t.Fatalf("started after %v, want at least %v", d, delay)
	}
	// Cancelled while it waits for its delay: it never runs.
	var ran atomic.Int32
	task = p.SubmitWith(background.SubmitOptions{Delay: 200 * time.Millisecond}, func() { ran.Add(1) })
	if !task.Cancel() {
		t.Fatal("Cancel of a delayed task: false")
	}
	if err := task.Wait(ctxT(t)); !errors.Is(err, background.ErrCancelled) {
		t.Fatalf("Wait: %v, want ErrCancelled", err)
	}
	if ran.Load() != 0 {
		t.Fatal("a cancelled delayed task ran")
	}
}

func TestKeyedTasksRunInTheirLaneInOrder(t *testing.T) {
	noLeaks(t)
	p := newPool(t, background.Options{Threads: 4})
	var order []int // no lock: a lane runs one task at a time (-race checks it)
	var last *background.Task
	for i := 0; i < 100; i++ {
		i := i
		last = p.SubmitWith(background.SubmitOptions{Keyed: true, Key: 42}, func() { order = append(order, i) })
	}
	if err := last.Wait(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if len(order) != 100 {
		t.Fatalf("%d of 100 ran before the last", len(order))
	}
	for i, v := range order {
		if v != i {
			t.Fatalf("task %d ran in position %d", v, i)
		}
	}
}

func TestOptionsTheLibraryRefusesAreTheTasksError(t *testing.T) {
	noLeaks(t)
	p := newPool(t, background.Options{Threads: 2})
	other := newPool(t, background.Options{Threads: 1})
	l, err := p.NewLimit(2)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	otherLimit, err := other.NewLimit(2)
	if err != nil {
		t.Fatal(err)
	}
	defer otherLimit.Close()
	closedLimit, err := p.NewLimit(1)
	if err != nil {
		t.Fatal(err)
	}
	closedLimit.Close()
	for _, c := range []struct {
		name string
		opts background.SubmitOptions
		want error
	}{
		{"a key and a limit", background.SubmitOptions{Keyed: true, Limit: l}, background.ErrInvalid},
		{"a priority and a key", background.SubmitOptions{Priority: background.PriorityHigh, Keyed: true}, background.ErrInvalid},
		{"a priority and a limit", background.SubmitOptions{Priority: background.PriorityLow, Limit: l}, background.ErrInvalid},
		{"an unknown priority", background.SubmitOptions{Priority: 7}, background.ErrInvalid},
		{"another pool's limit", background.SubmitOptions{Limit: otherLimit}, background.ErrInvalid},
		{"a Limit not made by NewLimit", background.SubmitOptions{Limit: &background.Limit{}}, background.ErrInvalid},
		{"a closed limit", background.SubmitOptions{Limit: closedLimit}, background.ErrClosed},
	} {
		var ran atomic.Int32
		err := p.SubmitWith(c.opts, func() { ran.Add(1) }).Wait(ctxT(t))
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
		if ran.Load() != 0 {
			t.Errorf("%s: refused, but the function ran", c.name)
		}
	}
	if err := p.SubmitWith(background.SubmitOptions{}, nil).Wait(ctxT(t)); !errors.Is(err, background.ErrInvalid) {
		t.Errorf("SubmitWith(nil): %v, want ErrInvalid", err)
	}
	// Delay and deadline go with everything; so do the pool's other tasks.
	if err := p.SubmitWith(background.SubmitOptions{
		Priority: background.PriorityHigh, Delay: time.Millisecond, Deadline: time.Now().Add(patience),
	}, func() {}).Wait(ctxT(t)); err != nil {
		t.Errorf("priority, delay and deadline: %v", err)
	}
	if err := other.Close(); err != nil {
		t.Fatal(err)
	}
	if err := other.SubmitWith(background.SubmitOptions{}, func() {}).Wait(ctxT(t)); !errors.Is(err, background.ErrClosed) {
		t.Errorf("SubmitWith on a closed pool: %v, want ErrClosed", err)
	}
}

func TestACancelShutdownDropsTasksWithOptions(t *testing.T) {
	noLeaks(t)
	p := heldPool(t, background.Options{Threads: 1})
	release := blockPool(t, p, 1)
	l, err := p.NewLimit(1)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var ran atomic.Int32
	f := func() { ran.Add(1) }
	tasks := []*background.Task{
		p.SubmitWith(background.SubmitOptions{Priority: background.PriorityHigh}, f),
		p.SubmitWith(background.SubmitOptions{Priority: background.PriorityLow, Deadline: time.Now().Add(patience)}, f),
		p.SubmitWith(background.SubmitOptions{Keyed: true, Key: 1}, f),
		l.Submit(f), // queued on the pool
		l.Submit(f), // waiting in the limiter
	}
	shutdownCancel(t, p, release)
	for i, task := range tasks {
		if err := task.Wait(ctxT(t)); !errors.Is(err, background.ErrShutdown) {
			t.Errorf("task %d: %v, want ErrShutdown", i, err)
		}
	}
	if n := ran.Load(); n != 0 {
		t.Fatalf("%d dropped tasks ran", n)
	}
}
