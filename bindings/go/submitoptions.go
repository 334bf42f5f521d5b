package background

// #include "shim.h"
import "C"

import "time"

// Priority is a task's priority within its pool (SubmitOptions.Priority).
type Priority uint32

const (
	// PriorityNormal is the default: the pool's deques and work stealing.
	PriorityNormal Priority = C.BG_PRIORITY_NORMAL
	// PriorityHigh tasks are taken before normal and low ones, except that
	// one take in four of each worker looks at normal tasks first and one
	// in sixteen at low ones, so high tasks never starve the others.
	PriorityHigh Priority = C.BG_PRIORITY_HIGH
	// PriorityLow tasks are taken when nothing else is queued, and on one
	// take in sixteen.
	PriorityLow Priority = C.BG_PRIORITY_LOW
)

// SubmitOptions say how SubmitWith queues a task. The zero value is a plain
// Submit.
//
// Combinations: Deadline goes with everything. Delay goes with a key, a
// limit or a priority: when due, the task joins its lane, its limiter or
// its priority's queue. At most one of Keyed and Limit may be set, and a
// priority other than PriorityNormal only without either. The library
// refuses other combinations: the Task is then done with ErrInvalid.
type SubmitOptions struct {
	// Priority within the pool; the zero value is PriorityNormal.
	Priority Priority
	// Deadline is a start deadline: a task that no worker has taken by then
	// never runs, and Wait returns ErrExpired (Stats.Expired counts it). It
	// is checked when a worker takes the task, wherever it waited first (a
	// delay, a lane, a limiter). With a deadline already passed the task
	// expires when a worker takes it: it never runs. The zero Time means none.
	Deadline time.Time
	// Delay queues the task this long from now; 0 (or less) means now.
	Delay time.Duration
	// Keyed runs the task in the keyed lane of Key (see Pool.SubmitKeyed).
	Keyed bool
	Key   uint64
	// Limit runs the task within the limiter (see Limit); it must belong to
	// the same pool, else ErrInvalid. A closed Limit gives ErrClosed.
	Limit *Limit
}

// SubmitWith runs f on the current pool (see Default) as opts say (see
// Pool.SubmitWith).
func SubmitWith(opts SubmitOptions, f func()) *Task { return ambient.SubmitWith(opts, f) }

// SubmitWith runs f on the pool as opts say (priority, start deadline,
// delay, keyed lane, limiter) and returns its handle. A refusal, an
// invalid combination of options included, gives a Task that is already
// done with that error; f then never runs.
//
// Its Wait never runs f on the waiting goroutine (as Wait may for Submit):
// f starts when the pool's priorities, the delay, the lane or the limiter
// say, and the start deadline is checked by the worker that takes it.
func (p *Pool) SubmitWith(opts SubmitOptions, f func()) *Task {
	if f == nil {
		return failedTask(ErrInvalid)
	}
	var o C.bg_submit_options
	C.bg_submit_options_init(&o)
	o.priority = C.uint32_t(opts.Priority)
	if opts.Keyed {
		o.flags |= C.BG_SUBMIT_KEYED
		o.key = C.uint64_t(opts.Key)
	}
	if opts.Delay > 0 {
		o.delay_ns = C.uint64_t(opts.Delay)
	}
	fn := func() error { f(); return nil }
	return submitTaskTo(&p.core.room, fn, p.core.onError, func(h C.uintptr_t) (s C.bg_go_submitted, err error) {
		err = p.core.use(func(ptr *C.bg_pool) error {
			// A Limit is held (not closed under us) for the call.
			return opts.Limit.useOrNone(func(l *C.bg_limit) error {
				o.limit = l
				if !opts.Deadline.IsZero() {
					// Relative to now, as late as can be; at least 1 ns, since
					// 0 means none: a deadline already passed expires the task.
					o.deadline_ns = C.uint64_t(max(time.Until(opts.Deadline), 1))
				}
				s = C.bg_go_submit_ex(ptr, &o, h)
				return statusError(s.status)
			})
		})
		return s, err
	})
}
