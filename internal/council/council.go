// Package council holds the caisse/council model shared by every domain, and the
// per-request resolution of the council from the Host header.
package council

import (
	"context"
	"database/sql"
	"errors"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"cla/internal/apperr"
)

// Council is one caisse's Conseil Local de l'Alimentation.
type Council struct {
	bun.BaseModel `bun:"table:councils"`

	ID         int64     `bun:"id,pk,autoincrement"`
	Slug       string    `bun:"slug"`
	Name       string    `bun:"name"`
	CaisseName string    `bun:"caisse_name"`
	Territory  string    `bun:"territory"`
	IsDefault  bool      `bun:"is_default"`
	CreatedAt  time.Time `bun:"created_at,nullzero,default:current_timestamp"`
}

// Host maps a host name to a council.
type Host struct {
	bun.BaseModel `bun:"table:council_hosts"`

	Host      string `bun:"host,pk"`
	CouncilID int64  `bun:"council_id"`
}

// BySlug loads a council by its slug.
func BySlug(ctx context.Context, db bun.IDB, slug string) (*Council, error) {
	c := new(Council)
	err := db.NewSelect().Model(c).Where("slug = ?", slug).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.New(apperr.NotFound, "Conseil introuvable.")
	}
	return c, err
}

// ByID loads a council by its id.
func ByID(ctx context.Context, db bun.IDB, id int64) (*Council, error) {
	c := new(Council)
	err := db.NewSelect().Model(c).Where("id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.New(apperr.NotFound, "Conseil introuvable.")
	}
	return c, err
}

// FirstHost returns the council's first host name in alphabetical order, ""
// when it has none (it is then served as the default council).
func FirstHost(ctx context.Context, db bun.IDB, id int64) (string, error) {
	var hosts []string
	err := db.NewSelect().Model((*Host)(nil)).Column("host").Where("council_id = ?", id).Order("host").Limit(1).Scan(ctx, &hosts)
	if len(hosts) == 0 {
		return "", err
	}
	return hosts[0], err
}

// Resolver finds the council a request is for: by host, else the default council.
// Councils change rarely, so the answer is cached briefly per host.
type Resolver struct {
	db  bun.IDB
	ttl time.Duration

	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	council *Council
	until   time.Time
}

// NewResolver returns a resolver over db caching answers for ttl.
func NewResolver(db bun.IDB, ttl time.Duration) *Resolver {
	return &Resolver{db: db, ttl: ttl, cache: map[string]cached{}}
}

// Resolve returns the council for host (which may carry a port).
func (r *Resolver) Resolve(ctx context.Context, host string) (*Council, error) {
	host = normaliseHost(host)
	now := time.Now()
	r.mu.Lock()
	if c, ok := r.cache[host]; ok && now.Before(c.until) {
		r.mu.Unlock()
		return c.council, nil
	}
	r.mu.Unlock()

	c := new(Council)
	err := r.db.NewSelect().Model(c).
		Where("id = (SELECT council_id FROM council_hosts WHERE host = ?)", host).
		Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		err = r.db.NewSelect().Model(c).Where("is_default").Scan(ctx)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.New(apperr.NotFound, "Aucun conseil n'est configuré sur cette instance.")
	}
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	if len(r.cache) > 1000 { // bound memory against arbitrary Host headers
		r.cache = map[string]cached{}
	}
	r.cache[host] = cached{council: c, until: now.Add(r.ttl)}
	r.mu.Unlock()
	return c, nil
}

func normaliseHost(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return strings.ToLower(strings.TrimSuffix(host, "."))
}
