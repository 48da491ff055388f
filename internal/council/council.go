// Package council holds the caisse/council model shared by every domain, and the
// per-request resolution of the council from the Host header.
package council

import (
	"context"
	"html/template"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"

	"cla/internal/apperr"
	"cla/internal/database"
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

	// Settings (migration 0015, governance/instance). Zero values insert the
	// schema's defaults (active, Europe/Paris, public register); change them
	// with explicit SET columns, never a whole-model update.
	Commune          string `bun:"commune"`
	ContactEmail     string `bun:"contact_email"`
	Timezone         string `bun:"timezone,nullzero,default:'Europe/Paris'"`
	State            State  `bun:"state,nullzero,default:'active'"`
	PresentationMD   string `bun:"presentation_md"`
	PresentationHTML string `bun:"presentation_html"`
	RegisterPublic   bool   `bun:"register_public,nullzero,default:true"`
}

// State is a council's life on the instance, set by the operator.
type State string

// The states of a council.
const (
	Active    State = "active"    // served normally
	Suspended State = "suspended" // public pages answer a French 503 page
	Archived  State = "archived"  // readable, but nothing can change
)

// Label is the state in French.
func (s State) Label() string {
	switch s {
	case Suspended:
		return "Suspendu"
	case Archived:
		return "Archivé"
	}
	return "Actif"
}

// zones caches loaded time zones by name: Location is called on every page.
var zones sync.Map // name → *time.Location

// Location is the council's time zone, the one its pages show and its forms
// read; Europe/Paris when unset or unknown to this machine.
func (c *Council) Location() *time.Location {
	name := c.Timezone
	if name == "" {
		name = "Europe/Paris"
	}
	if l, ok := zones.Load(name); ok {
		return l.(*time.Location)
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		if name == "Europe/Paris" {
			return time.UTC
		}
		return (&Council{}).Location()
	}
	actual, _ := zones.LoadOrStore(name, l)
	return actual.(*time.Location)
}

// Presentation is the council's presentation, rendered and sanitised when it
// was saved (markdown), for the home page.
func (c *Council) Presentation() template.HTML { return template.HTML(c.PresentationHTML) }

// ErrNone is what Resolve answers when the instance has no council at all.
var ErrNone = apperr.New(apperr.NotFound, "Aucun conseil n'est configuré sur cette instance.")

// generation is bumped by Invalidate: every resolver's cached answers made
// under an older generation are stale.
var generation atomic.Uint64

// Invalidate drops every resolver's cached answers in this process, after a
// council's settings, state or host names changed. Other instances see the
// change within the resolver's TTL.
func Invalidate() { generation.Add(1) }

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
	if database.IsNoRows(err) {
		return nil, apperr.New(apperr.NotFound, "Conseil introuvable.")
	}
	return c, err
}

// ByID loads a council by its id.
func ByID(ctx context.Context, db bun.IDB, id int64) (*Council, error) {
	c := new(Council)
	err := db.NewSelect().Model(c).Where("id = ?", id).Scan(ctx)
	if database.IsNoRows(err) {
		return nil, apperr.New(apperr.NotFound, "Conseil introuvable.")
	}
	return c, err
}

// HostOwner returns the id of the council host is registered for (host may
// carry a port), 0 when it is registered for none: unlike Resolve, it does not
// fall back on the default council, so that code deciding whether a request's
// Host header can be trusted (links mailed to someone) is not fooled by an
// arbitrary host.
func HostOwner(ctx context.Context, db bun.IDB, host string) (int64, error) {
	var id int64
	err := db.NewSelect().Model((*Host)(nil)).Column("council_id").Where("host = ?", normaliseHost(host)).Scan(ctx, &id)
	if database.IsNoRows(err) {
		return 0, nil
	}
	return id, err
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
	gen     uint64
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
	gen := generation.Load()
	if c, ok := r.cache[host]; ok && now.Before(c.until) && c.gen == gen {
		r.mu.Unlock()
		return c.council, nil
	}
	r.mu.Unlock()

	c := new(Council)
	err := r.db.NewSelect().Model(c).
		Where("id = (SELECT council_id FROM council_hosts WHERE host = ?)", host).
		Scan(ctx)
	if database.IsNoRows(err) {
		err = r.db.NewSelect().Model(c).Where("is_default").Scan(ctx)
	}
	if database.IsNoRows(err) {
		return nil, ErrNone
	}
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	if len(r.cache) > 1000 { // bound memory against arbitrary Host headers
		r.cache = map[string]cached{}
	}
	r.cache[host] = cached{council: c, until: now.Add(r.ttl), gen: gen}
	r.mu.Unlock()
	return c, nil
}

func normaliseHost(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return strings.ToLower(strings.TrimSuffix(host, "."))
}

// Lock takes the council's row lock until the end of the transaction db, so
// that numbered writes of a council (a boussole version) never race.
func Lock(ctx context.Context, db bun.IDB, id int64) error {
	return db.NewSelect().Model((*Council)(nil)).Column("id").Where("id = ?", id).For("UPDATE").Scan(ctx, new(int64))
}

// IDs lists the id of every council of the instance, in id order.
func IDs(ctx context.Context, db bun.IDB) ([]int64, error) {
	var ids []int64
	err := db.NewSelect().Model((*Council)(nil)).Column("id").Order("id").Scan(ctx, &ids)
	return ids, err
}
