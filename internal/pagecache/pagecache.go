// Package pagecache keeps the rendered public pages of every council in memory,
// for anonymous visitors: home, register, shops, debates, proposals, decisions,
// meetings, minutes, the boussole, feeds and open data. A hit runs no query and
// renders nothing.
//
// Entries are keyed by council, page group (Page) and page (path and
// normalised query). A change to a council's data bumps the generation of its
// kind (Kind) in page_generations and sends a NOTIFY on Channel, both in the
// transaction of the change (the triggers of migration 0031): every instance
// then drops the council's page groups that the kind affects (the one table,
// Affects). A periodic check of page_generations is the fallback when a
// notification is lost; every entry is dropped when the listening connection
// is (re)established. See docs/decisions.md ("One cache for the public pages").
package pagecache

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

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"
	"golang.org/x/sync/singleflight"

	"cla/internal/database"
)

// Channel is the PostgreSQL channel on which a change is announced; the
// payload is "council id:kind".
const Channel = "cla_pages"

// maxEntriesPerPage bounds each council's page group: pages beyond it (search
// queries, filter combinations) are rendered on every request instead of
// being stored, and cannot push out the others.
const maxEntriesPerPage = 512

// maxSearchEntries bounds the search and posters groups lower: every query is
// a page of its own, and the few that many people type are the ones worth
// keeping (512 result pages of ~25 KB per council made clabench's uncached
// search line grow the app's memory by tens of MiB); a poster is kept per
// shop and Host header, which a visitor chooses.
const maxSearchEntries = 64

// PollInterval is how often the fallback check of page_generations runs.
var PollInterval = 5 * time.Second

// Entry is one cached response: its body, headers and strong validator.
type Entry struct {
	Body         []byte
	ContentType  string
	ETag         string
	CacheControl string
	// Headers are other response headers to replay (Content-Disposition…).
	Headers [][2]string
	// Value is data every viewer of the page group sees alike, kept by Value
	// (an entry that is not a response: Body is empty).
	Value any
	// expires is when the entry stops being served (zero: never).
	expires time.Time
	// gzip is the body compressed, made when the entry is stored (compress),
	// and gzipETag its validator; nil for small or binary bodies.
	gzip     []byte
	gzipETag string
}

// NewEntry computes the strong ETag of body.
func NewEntry(body []byte, contentType, cacheControl string) *Entry {
	sum := sha256.Sum256(body)
	return &Entry{Body: body, ContentType: contentType, CacheControl: cacheControl,
		ETag: `"` + hex.EncodeToString(sum[:12]) + `"`}
}

// ETagMatches reports whether an If-None-Match header matches etag.
func ETagMatches(header, etag string) bool {
	for _, part := range strings.Split(header, ",") {
		part = strings.TrimPrefix(strings.TrimSpace(part), "W/")
		if part == etag || part == "*" {
			return true
		}
	}
	return false
}

type councilPages struct {
	generations map[Kind]int64 // last generations seen by the periodic check
	pages       map[Page]map[string]*Entry
}

// Cache holds the entries of every council. Its zero value is not usable: use
// New, or Disabled for benchmarks of the uncached pages.
type Cache struct {
	db  *bun.DB
	log *slog.Logger

	mu       sync.RWMutex
	epoch    uint64
	councils map[int64]*councilPages

	flight   singleflight.Group
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	disabled bool
	now      func() time.Time
}

// Disabled returns a cache that stores nothing and turns off the coalescing of
// concurrent renders, so that every request renders its answer.
func Disabled() *Cache {
	return &Cache{councils: map[int64]*councilPages{}, cancel: func() {}, disabled: true, now: time.Now}
}

// New starts the cache's listener and periodic check; Close stops them. They
// also stop by themselves when db is closed.
func New(db *bun.DB, log *slog.Logger) *Cache {
	if log == nil {
		log = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Cache{db: db, log: log, councils: map[int64]*councilPages{}, cancel: cancel, now: time.Now}
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

// IsDisabled reports whether the cache stores nothing (Disabled).
func (c *Cache) IsDisabled() bool { return c.disabled }

// Get returns the cached entry for key in the council's page group, or nil,
// together with the epoch to pass to Put after building a missing entry.
func (c *Cache) Get(councilID int64, page Page, key string) (*Entry, uint64) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if cp := c.councils[councilID]; cp != nil {
		if e := cp.pages[page][key]; e != nil && (e.expires.IsZero() || c.now().Before(e.expires)) {
			return e, c.epoch
		}
	}
	return nil, c.epoch
}

// Put stores e unless an invalidation happened since epoch was read (the entry
// may then show the data as they were before the change).
func (c *Cache) Put(councilID int64, page Page, key string, epoch uint64, e *Entry) {
	if c.disabled {
		return
	}
	if d := MaxAge[page]; d > 0 {
		e.expires = c.now().Add(d)
	}
	e.compress()
	c.mu.Lock()
	defer c.mu.Unlock()
	if epoch != c.epoch {
		return
	}
	cp := c.council(councilID, nil)
	entries := cp.pages[page]
	if entries == nil {
		entries = map[string]*Entry{}
		cp.pages[page] = entries
	}
	limit := maxEntriesPerPage
	if page == PageSearch || page == PagePosters {
		limit = maxSearchEntries
	}
	if _, ok := entries[key]; ok || len(entries) < limit {
		entries[key] = e
	}
}

// council returns the council's pages, created with generations gens when
// missing. c.mu is held for writing.
func (c *Cache) council(id int64, gens map[Kind]int64) *councilPages {
	cp := c.councils[id]
	if cp == nil {
		if gens == nil {
			gens = map[Kind]int64{}
		}
		cp = &councilPages{generations: gens, pages: map[Page]map[string]*Entry{}}
		c.councils[id] = cp
	}
	return cp
}

// Flight runs build once per council and key at a time: after a change,
// concurrent visitors of a page wait for the first one's rendering instead of
// all rendering it.
func (c *Cache) Flight(councilID int64, key string, build func() (any, error)) (any, error) {
	if c.disabled {
		return build()
	}
	v, err, _ := c.flight.Do(strconv.FormatInt(councilID, 10)+" "+key, build)
	return v, err
}

// Value returns the data kept under key in the council's page group, built
// by build when missing (once for all concurrent callers) and kept until a
// change drops the group, as a page is. It serves what a page shows every
// viewer alike to those whose page is not cached: a signed-in member's debate
// page reads its 500 arguments, already rendered, from here. Nothing in the
// value may depend on the viewer. A disabled cache builds on every call.
func (c *Cache) Value(councilID int64, page Page, key string, build func() (any, error)) (any, error) {
	key = "value:" + key // page keys start with "/"
	if e, _ := c.Get(councilID, page, key); e != nil && e.Value != nil {
		return e.Value, nil
	}
	return c.Flight(councilID, string(page)+" "+key, func() (any, error) {
		e, epoch := c.Get(councilID, page, key)
		if e != nil && e.Value != nil {
			return e.Value, nil
		}
		v, err := build()
		if err != nil {
			return nil, err
		}
		c.Put(councilID, page, key, epoch, &Entry{Value: v})
		return v, nil
	})
}

// Invalidate drops the council's page groups that kind affects; an unknown
// kind drops them all.
func (c *Cache) Invalidate(councilID int64, kind Kind) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	cp := c.councils[councilID]
	if cp == nil {
		return
	}
	pages, ok := Affects[kind]
	if !ok {
		cp.pages = map[Page]map[string]*Entry{}
		return
	}
	for _, p := range pages {
		delete(cp.pages, p)
	}
}

// InvalidateCouncil drops every entry of the council.
func (c *Cache) InvalidateCouncil(councilID int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	if cp := c.councils[councilID]; cp != nil {
		cp.pages = map[Page]map[string]*Entry{}
	}
}

// InvalidateAll drops every entry.
func (c *Cache) InvalidateAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	for _, cp := range c.councils {
		cp.pages = map[Page]map[string]*Entry{}
	}
}

// Bump tells every instance's cache that the council's data of the given
// kinds changed: their generations move and a NOTIFY is sent, both delivered
// at commit. Call it inside the transaction of the change. The triggers of
// migration 0031 already do it for every table a public page shows; Bump is
// for a change they cannot see.
func Bump(ctx context.Context, db bun.IDB, councilID int64, kinds ...Kind) error {
	for _, k := range kinds {
		if _, err := db.NewRaw("SELECT page_generations_bump(ARRAY[?]::bigint[], ?)", councilID, string(k)).Exec(ctx); err != nil {
			return fmt.Errorf("page cache generation: %w", err)
		}
	}
	return nil
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
			c.log.Info("page cache listener disconnected; reconnecting", "err", err)
		} else {
			c.log.Warn("page cache listener stopped; reconnecting", "err", err)
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
			err = fmt.Errorf("panic in the page cache listener: %v\n%s", r, debug.Stack())
		}
	}()
	return c.listenOnce(ctx)
}

func (c *Cache) listenOnce(ctx context.Context) error {
	return database.WithConn(ctx, c.db, func(pc *pgx.Conn) error {
		if _, err := pc.Exec(ctx, "LISTEN "+Channel); err != nil {
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
			id, kind, ok := strings.Cut(n.Payload, ":")
			councilID, err := strconv.ParseInt(id, 10, 64)
			if ok && err == nil {
				c.Invalidate(councilID, Kind(kind))
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
			c.log.Error("panic in the page cache check", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			more = true
		}
	}()
	var rows []struct {
		CouncilID  int64  `bun:"council_id"`
		Kind       string `bun:"kind"`
		Generation int64  `bun:"generation"`
	}
	err := c.db.NewSelect().Table("page_generations").Column("council_id", "kind", "generation").Scan(ctx, &rows)
	if err != nil {
		if ctx.Err() != nil || isClosed(err) {
			return false
		}
		c.log.Warn("page cache check failed", "err", err)
		return true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range rows {
		cp := c.councils[r.CouncilID]
		if cp == nil {
			// First sight: what is cached was built after this generation
			// (no entry exists yet for the council).
			c.council(r.CouncilID, map[Kind]int64{Kind(r.Kind): r.Generation})
			continue
		}
		kind := Kind(r.Kind)
		old, seen := cp.generations[kind]
		cp.generations[kind] = r.Generation
		if seen && old == r.Generation {
			continue
		}
		if !seen && len(cp.pages) == 0 {
			continue
		}
		c.epoch++
		if pages, ok := Affects[kind]; ok {
			for _, p := range pages {
				delete(cp.pages, p)
			}
		} else {
			cp.pages = map[Page]map[string]*Entry{}
		}
	}
	return true
}
