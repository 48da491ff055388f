package batch

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// Calls made while a batch runs are answered together by the next one, each
// with its own result; a lone call runs at once.
func TestGroupBatchesConcurrentCalls(t *testing.T) {
	release, started := make(chan struct{}), make(chan struct{})
	var mu sync.Mutex
	var sizes []int
	g := &Group[int, int]{Run: func(_ context.Context, in []int) []Result[int] {
		mu.Lock()
		sizes = append(sizes, len(in))
		first := len(sizes) == 1
		mu.Unlock()
		if first {
			close(started)
			<-release // hold the first batch while the others queue
		}
		out := make([]Result[int], len(in))
		for i, x := range in {
			if x%7 == 0 {
				out[i].Err = errors.New("seven")
			} else {
				out[i].Value = x * 10
			}
		}
		return out
	}}
	ctx := context.Background()
	first := make(chan int, 1)
	go func() { v, _ := g.Do(ctx, 1); first <- v }()
	<-started
	var wg sync.WaitGroup
	const n = 40
	got := make([]int, n)
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			got[i], errs[i] = g.Do(ctx, i+2)
		}(i)
	}
	for g.Pending() < n {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	if v := <-first; v != 10 {
		t.Fatalf("first call: %d", v)
	}
	for i := 0; i < n; i++ {
		x := i + 2
		if x%7 == 0 {
			if errs[i] == nil {
				t.Errorf("call %d: no error", x)
			}
		} else if errs[i] != nil || got[i] != x*10 {
			t.Errorf("call %d: %d, %v", x, got[i], errs[i])
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(sizes) != 2 || sizes[0] != 1 || sizes[1] != n {
		t.Fatalf("batch sizes %v, want [1 %d]", sizes, n)
	}
	// The flusher stops once nothing is pending (right after answering).
	for deadline := time.Now().Add(5 * time.Second); g.running() != 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d flushers still running with nothing pending", g.running())
		}
	}
}

// Max bounds a batch; calls with the same Key never share a batch and run in
// the order they came.
func TestGroupMaxAndKey(t *testing.T) {
	rec := newRecorder[string]()
	g := &Group[string, string]{Max: 3, Key: func(s string) any { return s[:1] }, Run: rec.run}
	ctx := context.Background()
	done := make(chan struct{})
	go func() { _, _ = g.Do(ctx, "z0"); close(done) }()
	<-rec.started
	var wg sync.WaitGroup
	for _, s := range []string{"a1", "a2", "b1", "c1", "d1", "a3"} {
		wg.Add(1)
		go func(s string) { defer wg.Done(); _, _ = g.Do(ctx, s) }(s)
		for !g.has(s) {
			time.Sleep(time.Millisecond)
		}
	}
	close(rec.release)
	wg.Wait()
	<-done
	batches := rec.all()
	want := [][]string{{"z0"}, {"a1", "b1", "c1"}, {"a2", "d1"}, {"a3"}}
	if len(batches) != len(want) {
		t.Fatalf("batches %v, want %v", batches, want)
	}
	for i := range want {
		if len(batches[i]) != len(want[i]) {
			t.Fatalf("batches %v, want %v", batches, want)
		}
		for j := range want[i] {
			if batches[i][j] != want[i][j] {
				t.Fatalf("batches %v, want %v", batches, want)
			}
		}
	}
}

// A caller whose context ends stops waiting; the others still get their results.
func TestGroupCallerGivesUp(t *testing.T) {
	release := make(chan struct{})
	g := &Group[int, int]{Run: func(_ context.Context, in []int) []Result[int] {
		<-release
		return make([]Result[int], len(in))
	}}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { _, err := g.Do(ctx, 1); errc <- err }()
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled call: %v", err)
	}
	close(release)
	if _, err := g.Do(context.Background(), 2); err != nil {
		t.Fatal(err)
	}
}

// A Run that answers fewer calls than it got fails the others, not silently.
func TestGroupShortRun(t *testing.T) {
	g := &Group[int, int]{Run: func(context.Context, []int) []Result[int] { return nil }}
	if _, err := g.Do(context.Background(), 1); err == nil {
		t.Fatal("no error for an unanswered call")
	}
}

func (g *Group[In, Out]) running() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.flushers
}

func (g *Group[In, Out]) has(in In) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, c := range g.pending {
		if any(c.in) == any(in) {
			return true
		}
	}
	return false
}

// A Run that panics fails the calls of its batch with a PanicError, and the
// group keeps serving the next calls: no panic escapes the flusher goroutine.
func TestGroupRunPanics(t *testing.T) {
	g := &Group[int, int]{Run: func(_ context.Context, in []int) []Result[int] {
		if in[0] < 0 {
			panic(fmt.Sprintf("bogue sur %d", in[0]))
		}
		return []Result[int]{{Value: in[0] * 2}}
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := g.Do(ctx, -1)
	var pe *PanicError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "bogue sur -1") || !strings.Contains(err.Error(), "batch_test.go") {
		t.Fatalf("call of a panicking batch: %v", err)
	}
	if v, err := g.Do(ctx, 21); err != nil || v != 42 {
		t.Fatalf("call after the panic: %d %v", v, err)
	}
}

// With two flushers, batches run at once, but never two calls with the same
// key: the later one waits until the batch of the earlier one is done, so the
// calls of one key run in the order they came.
func TestGroupFlushersKeepKeysApart(t *testing.T) {
	var mu sync.Mutex
	running := map[int]bool{} // keys of the batches running now
	var order []int           // calls of key 0, in the order they ran
	concurrent, clash := 0, false
	active := 0
	g := &Group[[2]int, int]{Flushers: 2, Key: func(c [2]int) any { return c[0] }, Run: func(_ context.Context, in [][2]int) []Result[int] {
		mu.Lock()
		active++
		concurrent = max(concurrent, active)
		for _, c := range in {
			if running[c[0]] {
				clash = true
			}
			running[c[0]] = true
			if c[0] == 0 {
				order = append(order, c[1])
			}
		}
		mu.Unlock()
		time.Sleep(2 * time.Millisecond)
		mu.Lock()
		for _, c := range in {
			delete(running, c[0])
		}
		active--
		mu.Unlock()
		return make([]Result[int], len(in))
	}}
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 30; i++ {
				key := w % 4 // two goroutines per key, one for key 0 writes in order
				if _, err := g.Do(context.Background(), [2]int{key, w*1000 + i}); err != nil {
					t.Error(err)
				}
			}
		}(w)
	}
	wg.Wait()
	if clash {
		t.Error("two calls with the same key ran at once")
	}
	if concurrent < 2 {
		t.Errorf("at most %d batch at once with two flushers", concurrent)
	}
	// Each goroutine's calls of key 0 ran in its own order.
	last := map[int]int{}
	for _, v := range order {
		if p, ok := last[v/1000]; ok && v < p {
			t.Errorf("call %d ran after %d", v, p)
		}
		last[v/1000] = v
	}
	if g.Pending() != 0 {
		t.Errorf("%d calls left pending", g.Pending())
	}
}

// With Linger, after a batch of several calls the flusher waits until as many
// are pending (not a moment longer), or until Linger has passed; after a
// batch of one, a lone call runs at once.
func TestGroupLingersAfterALargeBatch(t *testing.T) {
	const linger = 500 * time.Millisecond
	rec := newRecorder[int]()
	g := &Group[int, int]{Linger: linger, Run: rec.run}
	batches := rec.sizes
	ctx := context.Background()
	var wg sync.WaitGroup
	do := func(n int) {
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := g.Do(ctx, i); err != nil {
					t.Error(err)
				}
			}()
		}
	}
	// A lone call, held while eight queue behind it: batches of 1, then 8.
	do(1)
	<-rec.started
	do(8)
	for g.Pending() < 8 {
		time.Sleep(time.Millisecond)
	}
	close(rec.release)
	wg.Wait()
	// The flusher now waits for eight: seven are not enough.
	do(7)
	for g.Pending() < 7 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(linger / 5)
	if got := batches(); len(got) != 2 {
		t.Fatalf("batches %v while lingering for 8 with 7 pending, want [1 8]", got)
	}
	// oneMore makes one call and returns how long until every call returned.
	oneMore := func() time.Duration {
		start := time.Now()
		do(1)
		wg.Wait()
		return time.Since(start)
	}
	if waited := oneMore(); waited > linger/2 {
		t.Errorf("the eighth call waited %v: the batch should run as soon as 8 are pending", waited)
	}
	if got := batches(); fmt.Sprint(got) != "[1 8 8]" {
		t.Fatalf("batches %v, want [1 8 8]", got)
	}
	// Alone after a batch of 8, a call waits for Linger, no more.
	if waited := oneMore(); waited < linger*4/5 || waited > 10*linger {
		t.Errorf("a lone call after a batch of 8 waited %v, want about %v", waited, linger)
	}
	// After a batch of one, the next lone call runs at once.
	if waited := oneMore(); waited > linger/2 {
		t.Errorf("a lone call after a batch of 1 waited %v", waited)
	}
	if got := batches(); fmt.Sprint(got) != "[1 8 8 1 1]" {
		t.Fatalf("batches %v, want [1 8 8 1 1]", got)
	}
}

// recorder is a Group's Run that answers each call with its input, records
// each batch, and holds the first batch until release is closed (started is
// closed when it begins), so that the calls made meanwhile queue.
type recorder[T any] struct {
	started, release chan struct{}
	mu               sync.Mutex
	batches          [][]T
}

func newRecorder[T any]() *recorder[T] {
	return &recorder[T]{started: make(chan struct{}), release: make(chan struct{})}
}

func (r *recorder[T]) run(_ context.Context, in []T) []Result[T] {
	r.mu.Lock()
	r.batches = append(r.batches, append([]T(nil), in...))
	first := len(r.batches) == 1
	r.mu.Unlock()
	if first {
		close(r.started)
		<-r.release
	}
	out := make([]Result[T], len(in))
	for i, x := range in {
		out[i].Value = x
	}
	return out
}

// all is the batches run so far.
func (r *recorder[T]) all() [][]T {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]T(nil), r.batches...)
}

// sizes is the sizes of the batches run so far.
func (r *recorder[T]) sizes() []int {
	var n []int
	for _, b := range r.all() {
		n = append(n, len(b))
	}
	return n
}
