package background_test

// The behaviour golang.org/x/sync/errgroup v0.25.0's tests and examples
// check, written again against Group (not copied): the zero group, the
// context and its cause, TryGo, the limit, and the parallel-search and
// pipeline examples.

import (
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	background "github.com/background-lib/background/bindings/go"
)

func TestErrgroupZeroGroup(t *testing.T) {
	noLeaks(t)
	err1, err2 := errors.New("errgroup_test: 1"), errors.New("errgroup_test: 2")
	for _, tc := range []struct {
		errs []error
		want error
	}{
		{errs: []error{}},
		{errs: []error{nil}},
		{errs: []error{err1}, want: err1},
		{errs: []error{err1, nil}, want: err1},
		{errs: []error{err1, err2}, want: err1},
	} {
		var g background.Group // runs tasks one at a time below: the first error is known
		var firstErr error
		for i, err := range tc.errs {
			err := err // go.mod says 1.21: loop variables are shared
			g.Go(func() error { return err })
			if firstErr == nil && err != nil {
				firstErr = err
			}
			if gErr := g.Wait(); gErr != firstErr {
				t.Errorf("after %T.Go(func() error { return %v }) (%d of %v): Wait() = %v; want %v",
					&g, err, i, tc.errs, gErr, firstErr)
			}
		}
		if got := g.Wait(); got != tc.want {
			t.Errorf("errs %v: Wait() = %v, want %v", tc.errs, got, tc.want)
		}
	}
}

func TestErrgroupWithContext(t *testing.T) {
	noLeaks(t)
	errDoom := errors.New("group_test: doomed")
	for _, tc := range []struct {
		errs []error
		want error
	}{
		{want: nil},
		{errs: []error{nil}, want: nil},
		{errs: []error{errDoom}, want: errDoom},
		{errs: []error{errDoom, nil}, want: errDoom},
	} {
		g, ctx, err := background.GroupWithContext(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, err := range tc.errs {
			err := err
			g.Go(func() error { return err })
		}
		if err := g.Wait(); err != tc.want {
			t.Errorf("errs %v: Wait() = %v, want %v", tc.errs, err, tc.want)
		}
		select {
		case <-ctx.Done():
		default:
			t.Errorf("errs %v: the context is not done after Wait", tc.errs)
		}
		if tc.want != nil && context.Cause(ctx) != tc.want {
			t.Errorf("errs %v: context.Cause = %v, want %v", tc.errs, context.Cause(ctx), tc.want)
		}
	}
}

func TestErrgroupTryGo(t *testing.T) {
	noLeaks(t)
	p := newPool(t, background.Options{Threads: 4})
	g, err := p.NewGroup()
	if err != nil {
		t.Fatal(err)
	}
	n := 4
	g.SetLimit(n)
	ch := make(chan struct{})
	fn := func() error { ch <- struct{}{}; return nil }
	for i := 0; i < n; i++ {
		if !g.TryGo(fn) {
			t.Fatalf("TryGo #%d: false below the limit", i)
		}
	}
	if g.TryGo(fn) {
		t.Fatal("TryGo: true at the limit")
	}
	for i := 0; i < n; i++ {
		<-ch
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}

	g.SetLimit(1)
	if !g.TryGo(fn) {
		t.Fatal("TryGo after Wait: false")
	}
	if g.TryGo(fn) {
		t.Fatal("TryGo at limit 1: true")
	}
	<-ch
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	if g.TryGo(nil) {
		t.Fatal("TryGo(nil): true")
	}
}

func TestErrgroupGoLimit(t *testing.T) {
	noLeaks(t)
	const limit = 3
	var g background.Group
	g.SetLimit(limit)
	var active int32
	for i := 0; i < 64; i++ {
		g.Go(func() error {
			n := atomic.AddInt32(&active, 1)
			if n > limit {
				return fmt.Errorf("saw %d tasks in flight with a limit of %d", n, limit)
			}
			time.Sleep(time.Microsecond)
			atomic.AddInt32(&active, -1)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
}

func TestErrgroupSetLimitWhileBusyPanics(t *testing.T) {
	var g background.Group
	gate := make(chan struct{})
	g.Go(func() error { <-gate; return nil })
	defer func() {
		close(gate)
		_ = g.Wait()
		if recover() == nil {
			t.Error("SetLimit with a task in flight did not panic")
		}
	}()
	g.SetLimit(1)
}

func TestErrgroupCancelCause(t *testing.T) {
	noLeaks(t)
	errDoom := errors.New("group_test: doomed")
	for _, errs := range [][]error{{}, {nil}, {errDoom}, {errDoom, nil}} {
		g, ctx, err := background.GroupWithContext(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, err := range errs {
			err := err
			g.Go(func() error { return err })
		}
		want := error(nil)
		if len(errs) > 0 {
			want = errs[0]
		}
		if err := g.Wait(); err != want {
			t.Errorf("errs %v: Wait() = %v, want %v", errs, err, want)
		}
		wantCause := want
		if wantCause == nil {
			wantCause = context.Canceled
		}
		if cause := context.Cause(ctx); cause != wantCause {
			t.Errorf("errs %v: context.Cause = %v, want %v", errs, cause, wantCause)
		}
	}
}

// Once the group's context is done after a failure, no later Go call's
// function runs. (The context used to be cancelled before the library's
// group, and calls in between got through.)
func TestErrgroupNothingRunsAfterTheContextIsDone(t *testing.T) {
	noLeaks(t)
	boom := errors.New("boom")
	var late atomic.Int32
	for round := 0; round < 200; round++ {
		g, ctx, err := background.GroupWithContext(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		g.Go(func() error { return boom })
		<-ctx.Done()
		g.Go(func() error { late.Add(1); return nil })
		if err := g.Wait(); err != boom {
			t.Fatalf("round %d: Wait() = %v, want boom", round, err)
		}
	}
	if n := late.Load(); n != 0 {
		t.Fatalf("%d of 200 functions given to Go after the context was done ran", n)
	}
}

// errgroup's "JustErrors" and "Parallel" examples: a parallel search whose
// results land by index.
func TestErrgroupExampleParallel(t *testing.T) {
	noLeaks(t)
	search := func(kind string) func(ctx context.Context, query string) (string, error) {
		return func(_ context.Context, query string) (string, error) {
			return fmt.Sprintf("%s result for %q", kind, query), nil
		}
	}
	searches := []func(context.Context, string) (string, error){search("web"), search("image"), search("video")}
	g, ctx, err := background.GroupWithContext(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	results := make([]string, len(searches))
	for i, s := range searches {
		i, s := i, s
		g.Go(func() error {
			r, err := s(ctx, "golang")
			if err == nil {
				results[i] = r
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	for i, kind := range []string{"web", "image", "video"} {
		if want := kind + ` result for "golang"`; results[i] != want {
			t.Errorf("results[%d] = %q, want %q", i, results[i], want)
		}
	}
}

// errgroup's pipeline example: one producer, 20 digesters and a collector
// talking over unbuffered channels, 21 tasks that block on each other.
func pipeline(t *testing.T, p *background.Pool) {
	type result struct {
		path string
		sum  [md5.Size]byte
	}
	files := map[string][]byte{}
	for i := 0; i < 50; i++ {
		files[fmt.Sprintf("file%02d", i)] = []byte(fmt.Sprintf("contents %d", i))
	}
	g, ctx, err := p.GroupWithContext(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	paths := make(chan string)
	g.Go(func() error {
		defer close(paths)
		for path := range files {
			select {
			case paths <- path:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	})
	c := make(chan result)
	for i := 0; i < 20; i++ {
		g.Go(func() error {
			for path := range paths {
				select {
				case c <- result{path, md5.Sum(files[path])}:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			return nil
		})
	}
	go func() {
		_ = g.Wait()
		close(c)
	}()
	m := map[string][md5.Size]byte{}
	for r := range c {
		m[r.path] = r.sum
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	if len(m) != len(files) {
		t.Fatalf("%d sums for %d files", len(m), len(files))
	}
	for path, data := range files {
		if m[path] != md5.Sum(data) {
			t.Errorf("%s: wrong sum", path)
		}
	}
}

func TestErrgroupExamplePipeline(t *testing.T) {
	noLeaks(t)
	pipeline(t, newPool(t, background.Options{Threads: 2}))
}

func TestErrgroupExamplePipelineOneThread(t *testing.T) {
	pipeline(t, newPool(t, background.Options{Threads: 1}))
}
