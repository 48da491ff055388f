// Package batch groups concurrent calls into one: the calls that arrive while
// a batch is being run wait for the next batch, which runs them all at once.
// Under load, N concurrent requests then cost one database round trip (and,
// for writes, one commit) instead of N; alone, a call runs at once. Nothing
// waits to fill a batch.
package batch

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"time"
)

// Result is the outcome of one call of a batch.
type Result[Out any] struct {
	Value Out
	Err   error
}

// Group batches calls to Run. Its zero value is not usable: set Run.
type Group[In, Out any] struct {
	// Run runs a batch and returns one result per call, in the calls' order.
	// Its context is not any caller's: one caller going away does not fail
	// the others.
	Run func(ctx context.Context, calls []In) []Result[Out]
	// Max bounds a batch (default 64).
	Max int
	// Flushers is how many batches may run at once (default 1).
	Flushers int
	// Timeout bounds a batch (default 15 s).
	Timeout time.Duration
	// Key, when set, keeps two calls with the same key out of one batch, and
	// out of two batches running at once (Flushers > 1): the later one runs
	// in a later batch, after the earlier one has finished.
	Key func(In) any
	// Linger, when set, lets a flusher whose last batch held several calls
	// wait up to this long for as many to be pending before it takes the
	// next batch: under steady load the batches stay large, so their fixed
	// cost (a statement, a commit) is shared by more calls. A lone call
	// never waits: after a batch of one, the next runs at once.
	Linger time.Duration

	mu       sync.Mutex
	want     int           // pending calls a lingering flusher waits for
	enough   chan struct{} // closed when want calls are pending
	pending  []*call[In, Out]
	inflight map[any]int // keys of the calls of the running batches
	flushers int
}

type call[In, Out any] struct {
	in   In
	done chan Result[Out]
}

// Do runs in within the next batch and returns its result. When ctx ends
// first, Do returns ctx.Err() and the call may still run.
func (g *Group[In, Out]) Do(ctx context.Context, in In) (Out, error) {
	c := &call[In, Out]{in: in, done: make(chan Result[Out], 1)}
	g.mu.Lock()
	g.pending = append(g.pending, c)
	if g.want > 0 && len(g.pending) >= g.want {
		close(g.enough)
		g.want = 0
	}
	if g.flushers < max(g.Flushers, 1) {
		g.flushers++
		go g.flush()
	}
	g.mu.Unlock()
	select {
	case r := <-c.done:
		return r.Value, r.Err
	case <-ctx.Done():
		var zero Out
		return zero, ctx.Err()
	}
}

// Pending is how many calls wait for a batch (not those of running batches).
func (g *Group[In, Out]) Pending() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.pending)
}

// flush runs batches until nothing is pending.
func (g *Group[In, Out]) flush() {
	timeout := g.Timeout
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	last := 0
	for {
		g.linger(last)
		calls := g.take()
		if calls == nil {
			return
		}
		last = len(calls)
		in := make([]In, len(calls))
		for i, c := range calls {
			in[i] = c.in
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		results := g.run(ctx, in)
		cancel()
		if g.Key != nil {
			g.mu.Lock()
			for _, c := range calls {
				k := g.Key(c.in)
				if g.inflight[k]--; g.inflight[k] <= 0 {
					delete(g.inflight, k)
				}
			}
			g.mu.Unlock()
		}
		for i, c := range calls {
			if i < len(results) {
				c.done <- results[i]
			} else {
				c.done <- Result[Out]{Err: errMissing}
			}
		}
	}
}

// linger waits, after a batch of last calls, until as many are pending or
// Linger has passed (Group.Linger).
func (g *Group[In, Out]) linger(last int) {
	const minBatch = 4 // below this, the load is light: no waiting
	// One flusher only: want and enough are the group's, not a flusher's.
	if g.Linger <= 0 || last < minBatch || g.Flushers > 1 {
		return
	}
	g.mu.Lock()
	if len(g.pending) >= last {
		g.mu.Unlock()
		return
	}
	g.want, g.enough = last, make(chan struct{})
	enough := g.enough
	g.mu.Unlock()
	t := time.NewTimer(g.Linger)
	select {
	case <-enough:
	case <-t.C:
	}
	t.Stop()
	g.mu.Lock()
	g.want = 0
	g.mu.Unlock()
}

// run calls Run. A panic there fails every call of the batch with a
// PanicError instead of ending the process (the flusher is a goroutine of its
// own, out of reach of the HTTP recover middleware), and the flusher goes on
// with the next batch.
func (g *Group[In, Out]) run(ctx context.Context, in []In) (results []Result[Out]) {
	defer func() {
		if r := recover(); r != nil {
			err := &PanicError{Value: r, Stack: debug.Stack()}
			results = make([]Result[Out], len(in))
			for i := range results {
				results[i].Err = err
			}
		}
	}()
	return g.Run(ctx, in)
}

// PanicError is the error of the calls of a batch whose Run panicked: its
// text carries the panic value and stack, for the log line of the request.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string { return fmt.Sprintf("batch: panic: %v\n%s", e.Value, e.Stack) }

// take removes the next batch from the pending calls, oldest first; when
// nothing is pending, the flusher stops.
func (g *Group[In, Out]) take() []*call[In, Out] {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.pending) == 0 {
		g.flushers--
		return nil
	}
	limit := g.Max
	if limit <= 0 {
		limit = 64
	}
	if g.Key == nil && len(g.pending) <= limit {
		calls := g.pending
		g.pending = nil
		return calls
	}
	seen := map[any]bool{}
	var calls, rest []*call[In, Out]
	for _, c := range g.pending {
		var k any
		if g.Key != nil {
			k = g.Key(c.in)
		}
		if len(calls) == limit || (g.Key != nil && (seen[k] || g.inflight[k] > 0)) {
			rest = append(rest, c)
		} else {
			calls = append(calls, c)
		}
		if g.Key != nil {
			seen[k] = true
		}
	}
	g.pending = rest
	if len(calls) == 0 {
		// Every pending call waits for a running batch with its key: that
		// batch's flusher takes them when it is done.
		g.flushers--
		return nil
	}
	if g.Key != nil {
		if g.inflight == nil {
			g.inflight = map[any]int{}
		}
		for _, c := range calls {
			g.inflight[g.Key(c.in)]++
		}
	}
	return calls
}

type missingError struct{}

func (missingError) Error() string { return "batch: Run returned fewer results than calls" }

var errMissing error = missingError{}
