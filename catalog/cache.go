package catalog

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"

	"cla/internal/database"
)

// maxEntriesPerCouncil bounds the cache: filter combinations beyond it are
// rendered on every request instead of being stored.
const maxEntriesPerCouncil = 512

// Entry is one cached response: its body, type, validator and caching policy.
type Entry struct {
	Body         []byte
	ContentType  string
	ETag         string
	CacheControl string
}

// NewEntry computes the strong ETag of body.
func NewEntry(body []byte, contentType, cacheControl string) *Entry {
	sum := sha256.Sum256(body)
	return &Entry{Body: body, ContentType: contentType, CacheControl: cacheControl,
		ETag: `"` + hex.EncodeToString(sum[:12]) + `"`}
}

// Send writes e, or 304 Not Modified when the request's If-None-Match matches.
func (e *Entry) Send(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, e.ContentType)
	c.Set(fiber.HeaderETag, e.ETag)
	c.Set(fiber.HeaderCacheControl, e.CacheControl)
	if inm := c.Get(fiber.HeaderIfNoneMatch); inm != "" && etagMatches(inm, e.ETag) {
		return c.SendStatus(fiber.StatusNotModified)
	}
	return c.Send(e.Body)
}

func etagMatches(header, etag string) bool {
	for _, part := range strings.Split(header, ",") {
		part = strings.TrimPrefix(strings.TrimSpace(part), "W/")
		if part == etag || part == "*" {
			return true
		}
	}
	return false
}

type councilCache struct {
	generation int64 // last generation seen by the periodic check; -1 before it
	entries    map[string]*Entry
}

// Cache keeps the rendered public register responses of every council in
// memory. A cached hit runs no query. Entries are dropped:
//   - when PostgreSQL delivers a NOTIFY on NotifyChannel (sent at the commit of
//     ApplyChange or Touch, by any instance sharing the database), read on one
//     dedicated pool connection;
//   - as a fallback, when a periodic check of register_heads (one small query
//     every PollInterval) sees a generation move;
//   - all of them whenever the listening connection is (re)established.
type Cache struct {
	db  *bun.DB
	log *slog.Logger

	mu       sync.RWMutex
	epoch    uint64
	councils map[int64]*councilCache

	cancel   context.CancelFunc
	wg       sync.WaitGroup
	disabled bool
}

// NoCache returns a cache that stores nothing and turns off the coalescing of
// concurrent builds, so that every request renders its answer (for benchmarks
// of the uncached pages).
func NoCache() *Cache {
	return &Cache{councils: map[int64]*councilCache{}, cancel: func() {}, disabled: true}
}

// PollInterval is how often the fallback check of register_heads runs.
var PollInterval = 5 * time.Second

// NewCache starts the cache's listener and periodic check; Close stops them.
// They also stop by themselves when db is closed.
func NewCache(db *bun.DB, log *slog.Logger) *Cache {
	if log == nil {
		log = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Cache{db: db, log: log, councils: map[int64]*councilCache{}, cancel: cancel}
	c.wg.Add(2)
	go c.listen(ctx)
	go c.poll(ctx)
	return c
}

// Close stops the listener and the periodic check.
func (c *Cache) Close() {
	c.cancel()
	c.wg.Wait()
}

// Get returns the cached entry for key in the council, or nil, together with
// the epoch to pass to Put after building a missing entry.
func (c *Cache) Get(councilID int64, key string) (*Entry, uint64) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if cc := c.councils[councilID]; cc != nil {
		if e := cc.entries[key]; e != nil {
			return e, c.epoch
		}
	}
	return nil, c.epoch
}

// Put stores e unless an invalidation happened since epoch was read (the entry
// may then show the register as it was before the change).
func (c *Cache) Put(councilID int64, key string, epoch uint64, e *Entry) {
	if c.disabled {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if epoch != c.epoch {
		return
	}
	cc := c.councils[councilID]
	if cc == nil {
		cc = &councilCache{generation: -1, entries: map[string]*Entry{}}
		c.councils[councilID] = cc
	}
	if len(cc.entries) < maxEntriesPerCouncil {
		cc.entries[key] = e
	}
}

// Invalidate drops the council's entries.
func (c *Cache) Invalidate(councilID int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	if cc := c.councils[councilID]; cc != nil {
		cc.entries = map[string]*Entry{}
	}
}

// InvalidateAll drops every entry.
func (c *Cache) InvalidateAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	for _, cc := range c.councils {
		cc.entries = map[string]*Entry{}
	}
}

func isClosed(err error) bool {
	return err != nil && strings.Contains(err.Error(), "database is closed")
}

func (c *Cache) listen(ctx context.Context) {
	defer c.wg.Done()
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := c.listenOnceSafe(ctx)
		if ctx.Err() != nil || isClosed(err) {
			return
		}
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "3D000" { // the database was dropped
			return
		}
		if errors.As(err, &pgErr) && pgErr.Code == "57P01" { // terminated by an administrator
			c.log.Info("register cache listener disconnected; reconnecting", "err", err)
		} else {
			c.log.Warn("register cache listener stopped; reconnecting", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		if backoff < 5*time.Second {
			backoff *= 2
		}
	}
}

// listenOnceSafe is listenOnce with a panic turned into an error: the
// listener is a goroutine of its own, out of reach of the HTTP recover
// middleware, and reconnects after an error instead of ending the process.
func (c *Cache) listenOnceSafe(ctx context.Context) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic in the register cache listener: %v\n%s", r, debug.Stack())
		}
	}()
	return c.listenOnce(ctx)
}

func (c *Cache) listenOnce(ctx context.Context) error {
	return database.WithConn(ctx, c.db, func(pc *pgx.Conn) error {
		if _, err := pc.Exec(ctx, "LISTEN "+NotifyChannel); err != nil {
			return err
		}
		// Changes committed while no one listened are unknown: start afresh.
		c.InvalidateAll()
		for {
			n, err := pc.WaitForNotification(ctx)
			if err != nil {
				// The connection is closed on error; the pool discards it.
				return err
			}
			if id, err := strconv.ParseInt(n.Payload, 10, 64); err == nil {
				c.Invalidate(id)
			} else {
				c.InvalidateAll()
			}
		}
	})
}

func (c *Cache) poll(ctx context.Context) {
	defer c.wg.Done()
	t := time.NewTicker(PollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !c.checkGenerations(ctx) {
			return
		}
	}
}

// checkGenerations runs one periodic check, and reports whether to go on. A
// panic is logged and the next check runs: the poller is a goroutine of its
// own, out of reach of the HTTP recover middleware.
func (c *Cache) checkGenerations(ctx context.Context) (more bool) {
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("panic in the register cache check", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			more = true
		}
	}()
	var rows []struct {
		CouncilID  int64 `bun:"council_id"`
		Generation int64 `bun:"generation"`
	}
	err := c.db.NewSelect().Table("register_heads").Column("council_id", "generation").Scan(ctx, &rows)
	if err != nil {
		if ctx.Err() != nil || isClosed(err) {
			return false
		}
		c.log.Warn("register cache check failed", "err", err)
		return true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range rows {
		cc := c.councils[r.CouncilID]
		if cc == nil {
			cc = &councilCache{generation: r.Generation, entries: map[string]*Entry{}}
			c.councils[r.CouncilID] = cc
		}
		if cc.generation != r.Generation {
			cc.generation = r.Generation
			cc.entries = map[string]*Entry{}
			c.epoch++
		}
	}
	return true
}
