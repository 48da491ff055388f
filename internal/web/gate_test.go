package web

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// At most n requests are in the gate; the others get in in the order they
// came; one whose context ends stops waiting and keeps no one out.
func TestGateBoundsAndQueuesInOrder(t *testing.T) {
	ctx := context.Background()
	waitFor := func(g *Gate, n int) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); g.Waiting() < n; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%d waiting, want %d", g.Waiting(), n)
			}
		}
	}

	// Bound: two in, the third waits.
	g := NewGate(2)
	a, _ := g.Enter(ctx)
	b, _ := g.Enter(ctx)
	third := make(chan struct{})
	go func() {
		leave, err := g.Enter(ctx)
		if err == nil {
			leave()
		}
		close(third)
	}()
	waitFor(g, 1)
	a()
	<-third
	b()

	// Order: one slot, taken; five requests queue one after the other, and a
	// sixth gives up.
	g = NewGate(1)
	first, _ := g.Enter(ctx)
	var mu sync.Mutex
	var order []int
	var wg sync.WaitGroup
	for i := 0; i < 5; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			leave, err := g.Enter(ctx)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
			leave()
		}(i)
		waitFor(g, i+1)
	}
	cctx, cancel := context.WithCancel(ctx)
	gaveUp := make(chan error)
	go func() { _, err := g.Enter(cctx); gaveUp <- err }()
	waitFor(g, 6)
	cancel()
	if err := <-gaveUp; !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled request: %v", err)
	}
	if g.Waiting() != 5 {
		t.Fatalf("%d waiting after one gave up, want 5", g.Waiting())
	}
	first()
	wg.Wait()
	for i, got := range order {
		if got != i || len(order) != 5 {
			t.Fatalf("entered in order %v, want arrival order", order)
		}
	}
	// Everyone left: the slot is free again.
	leave, err := g.Enter(ctx)
	if err != nil {
		t.Fatal(err)
	}
	leave()
}
