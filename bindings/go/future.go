package background

import "context"

// Future is the handle to a task that computes a value of type T.
type Future[T any] struct {
	task  *Task
	f     func() (T, error)
	value T // written by the task before its Done channel closes
}

// call runs f for the task (the Future is the task's body).
func (f *Future[T]) call() error {
	fn := f.f
	f.f = nil // a Future kept for its value does not keep the closure
	v, err := fn()
	f.value = v
	return err
}

// Go runs f on the current pool (see Default) and returns a Future for its result.
func Go[T any](f func() (T, error)) *Future[T] { return GoOn(nil, f) }

// GoOn runs f on pool p (nil: the current pool, see Default) and returns a Future
// for its result.
func GoOn[T any](p *Pool, f func() (T, error)) *Future[T] {
	if p == nil {
		p = ambient
	}
	fut := &Future[T]{f: f}
	if f == nil {
		fut.task = failedTask(ErrInvalid)
		return fut
	}
	fut.task = p.submit(fut)
	return fut
}

// Wait waits as Task.Wait does and returns what f returned; if f never
// returned (it panicked, was cancelled, or ctx ended the wait) the value is
// T's zero value and the error says why.
func (f *Future[T]) Wait(ctx context.Context) (T, error) {
	err, ended := f.task.wait(ctx)
	if !ended {
		var zero T
		return zero, err
	}
	return f.value, err
}

// Done returns a channel that is closed when the task has ended.
func (f *Future[T]) Done() <-chan struct{} { return f.task.Done() }

// Cancel stops the task if it has not started (see Task.Cancel).
func (f *Future[T]) Cancel() bool { return f.task.Cancel() }

// Task returns the underlying task handle.
func (f *Future[T]) Task() *Task { return f.task }
