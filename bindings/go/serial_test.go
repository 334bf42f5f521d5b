package background_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	background "github.com/background-lib/background/bindings/go"
)

func TestASerialQueueRunsItsTasksInOrderOneAtATime(t *testing.T) {
	noLeaks(t)
	p := newPool(t, background.Options{Threads: 4})
	q, err := p.NewSerialQueue()
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	var order []int // no lock: the queue runs one task at a time (-race checks it)
	var last *background.Task
	for i := 0; i < 200; i++ {
		i := i
		last = q.Submit(func() { order = append(order, i) })
	}
	if err := last.Wait(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	for i, v := range order {
		if v != i {
			t.Fatalf("task %d ran in position %d", v, i)
		}
	}
	if len(order) != 200 {
		t.Fatalf("%d of 200 ran before the last", len(order))
	}
}

func TestWaitingForALaterTaskOfTheSameQueueIsErrDeadlock(t *testing.T) {
	noLeaks(t)
	p := newPool(t, background.Options{Threads: 2})
	q, err := p.NewSerialQueue()
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	later := make(chan *background.Task, 1)
	var waitErr error
	outer := q.Submit(func() {
		l := <-later
		waitErr = l.Wait(context.Background())
	})
	later <- q.Submit(func() {})
	if err := outer.Wait(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(waitErr, background.ErrDeadlock) {
		t.Fatalf("wait inside the queue for a later task: %v, want ErrDeadlock", waitErr)
	}
}

func TestAClosedSerialQueueRunsWhatItHasAndRefusesMore(t *testing.T) {
	noLeaks(t)
	q, err := background.NewSerialQueue()
	if err != nil {
		t.Fatal(err)
	}
	gate := make(chan struct{})
	a := q.Submit(func() { <-gate })
	b := q.Submit(func() {})
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	close(gate)
	for _, task := range []*background.Task{a, b} {
		if err := task.Wait(ctxT(t)); err != nil {
			t.Fatalf("a task submitted before Close: %v", err)
		}
	}
	if err := q.Submit(func() {}).Wait(ctxT(t)); !errors.Is(err, background.ErrClosed) {
		t.Fatalf("Submit after Close: %v", err)
	}
	if err := q.Close(); !errors.Is(err, background.ErrClosed) {
		t.Fatalf("second Close: %v", err)
	}
}

func TestKeyedTasksRunInOrderPerKey(t *testing.T) {
	noLeaks(t)
	p := newPool(t, background.Options{Threads: 4})
	var mu sync.Mutex
	got := map[uint64][]int{}
	var tasks []*background.Task
	for i := 0; i < 300; i++ {
		i := i
		key := uint64(i % 3)
		tasks = append(tasks, p.SubmitKeyed(key, func() {
			mu.Lock()
			got[key] = append(got[key], i)
			mu.Unlock()
		}))
	}
	for _, task := range tasks {
		if err := task.Wait(ctxT(t)); err != nil {
			t.Fatal(err)
		}
	}
	for key, seq := range got {
		for j := 1; j < len(seq); j++ {
			if seq[j] < seq[j-1] {
				t.Fatalf("key %d ran %d after %d", key, seq[j], seq[j-1])
			}
		}
	}
}
