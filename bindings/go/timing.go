package background

// #include "shim.h"
import "C"

import "time"

// TimingBuckets is the number of buckets in a Timing histogram: bucket i
// counts durations from 2^i ns up to (not including) 2^(i+1) ns; bucket 0
// also counts 0 ns, and the last one everything from 2^39 ns (about 9
// minutes) up.
const TimingBuckets = C.BG_TIMING_BUCKETS

// Timing is how long a pool's timed tasks waited in the queue (from
// submission to start) and ran. All zero unless the pool times its tasks
// (Options.Timing). Percentiles are estimates from the histograms: the
// upper end of the bucket the percentile falls in, so at most twice the
// true value and never below it.
type Timing struct {
	Timed        uint64        // tasks timed: they ran, counted when they returned
	QueueWait    time.Duration // total time they waited from submission to start
	Run          time.Duration // total time they ran
	QueueWaitP50 time.Duration
	QueueWaitP99 time.Duration
	RunP50       time.Duration
	RunP99       time.Duration
	// Queue waits and run times by bucket (see TimingBuckets).
	QueueWaitHist [TimingBuckets]uint64
	RunHist       [TimingBuckets]uint64
}

// Timing returns the pool's task timing (Options.Timing). A task run by
// a Go waiter instead of a worker is not timed; a timed pool's Wait never
// runs its tasks itself.
func (p *Pool) Timing() (Timing, error) {
	var t C.bg_timing
	err := p.core.use(func(ptr *C.bg_pool) error {
		d, err := p.core.cptr(ptr)
		if err != nil {
			return err
		}
		return statusError(C.bg_pool_timing(d, &t))
	})
	out := Timing{
		Timed:        uint64(t.timed),
		QueueWait:    time.Duration(t.queue_wait_ns),
		Run:          time.Duration(t.run_ns),
		QueueWaitP50: time.Duration(t.queue_wait_p50_ns),
		QueueWaitP99: time.Duration(t.queue_wait_p99_ns),
		RunP50:       time.Duration(t.run_p50_ns),
		RunP99:       time.Duration(t.run_p99_ns),
	}
	for i := range out.QueueWaitHist {
		out.QueueWaitHist[i] = uint64(t.queue_wait_hist[i])
		out.RunHist[i] = uint64(t.run_hist[i])
	}
	return out, err
}
