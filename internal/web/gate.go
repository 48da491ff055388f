package web

import (
	"context"
	"runtime"
	"sync"

	"github.com/gofiber/fiber/v2"
)

// Gate lets a bounded number of requests do their expensive part (database
// reads and rendering) at once; the others wait their turn, first come, first
// served. With more requests at work than cores, each one takes as long as all
// of them together and the slowest wait the longest: on 2 cores at 32
// concurrent connections the signed-in proposal page had p99 ≈ 80 ms, and
// ≈ 50 ms with the gate, for the same or better throughput (docs/perf.md).
type Gate struct {
	mu      sync.Mutex
	free    int
	waiters []chan struct{} // oldest first; closed when given a slot
}

// NewGate returns a gate for n requests at a time.
func NewGate(n int) *Gate { return &Gate{free: max(n, 1)} }

// defaultGateSize is two requests per core: one computing while another waits
// for the database. Kept below the database pool (16), which the requests in
// the gate share with the session lookups and ballots.
func defaultGateSize() int { return min(2*runtime.GOMAXPROCS(0), 12) }

// Enter waits for a slot, or for ctx to end; leave frees the slot.
func (g *Gate) Enter(ctx context.Context) (leave func(), err error) {
	g.mu.Lock()
	if g.free > 0 {
		g.free--
		g.mu.Unlock()
		return g.leave, nil
	}
	turn := make(chan struct{})
	g.waiters = append(g.waiters, turn)
	g.mu.Unlock()
	select {
	case <-turn:
		return g.leave, nil
	case <-ctx.Done():
		g.mu.Lock()
		for i, w := range g.waiters {
			if w == turn {
				g.waiters = append(g.waiters[:i], g.waiters[i+1:]...)
				g.mu.Unlock()
				return nil, ctx.Err()
			}
		}
		g.mu.Unlock()
		g.leave() // given a slot meanwhile: pass it on
		return nil, ctx.Err()
	}
}

// leave gives the slot to the oldest waiter, or frees it.
func (g *Gate) leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.waiters) > 0 {
		close(g.waiters[0])
		g.waiters = g.waiters[1:]
		return
	}
	g.free++
}

// Waiting is how many requests wait for a slot.
func (g *Gate) Waiting() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.waiters)
}

// EnterGate waits for a slot of the app's gate (see Gated); without one (an
// app not built by New) it returns at once.
func EnterGate(c *fiber.Ctx) (leave func(), err error) {
	g, _ := c.Locals(gateKey).(*Gate)
	if g == nil {
		return func() {}, nil
	}
	return g.Enter(c.UserContext())
}

// Gated runs h within the app's gate: for the pages that read the database and
// render, never for work that waits on other requests (ballots are batched).
func Gated(h fiber.Handler) fiber.Handler {
	return func(c *fiber.Ctx) error {
		leave, err := EnterGate(c)
		if err != nil {
			return err
		}
		defer leave()
		return h(c)
	}
}
