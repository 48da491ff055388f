package catalog

import (
	"context"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"cla/internal/pagecache"
	"cla/internal/web"
)

// Search limits: longer queries are cut, not refused.
const (
	maxQueryRunes = 200
	maxQueryWords = 12
	maxHits       = 10
)

// SearchHit is an item found by the "Puis-je acheter… ?" search.
type SearchHit struct {
	Item
	ParentName string `bun:"parent_name"`
}

// Answer is the short reply to "can I buy this?".
func (h SearchHit) Answer() string {
	switch h.Status {
	case Conventionne:
		return "Oui"
	case SousConditions:
		return "Oui, sous conditions"
	case NonConventionne:
		return "Non"
	}
	return "Pas encore décidé"
}

// queryWords splits a search into at most maxQueryWords words of letters and
// digits, from its first maxQueryRunes characters.
func queryWords(q string) []string {
	if utf8.RuneCountInString(q) > maxQueryRunes {
		q = string([]rune(q)[:maxQueryRunes])
	}
	words := strings.FieldsFunc(q, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	if len(words) > maxQueryWords {
		words = words[:maxQueryWords]
	}
	return words
}

// LookupIn answers "can I buy q?" over the council's register: its items'
// names and keywords, matched on French stems without accents
// (catalog/match.go); an empty question finds nothing. The council's stemmed
// items are kept in cache (the register's page group, dropped by any change
// to the register), so that a question stems only itself and runs no query; a
// nil cache reads them (one query).
func LookupIn(ctx context.Context, cache *pagecache.Cache, db bun.IDB, councilID int64, q string) (LookupResult, error) {
	words := queryWords(q)
	if len(words) == 0 {
		return LookupResult{}, nil
	}
	load := func() (any, error) { return lookupItems(ctx, db, councilID) }
	var v any
	var err error
	if cache != nil {
		v, err = cache.Value(councilID, pagecache.PageRegister, "lookup-items", load)
	} else {
		v, err = load()
	}
	if err != nil {
		return LookupResult{}, err
	}
	res := lookup(v.([]matchItem), strings.Join(words, " "))
	if len(res.Others) > maxHits {
		res.Others = res.Others[:maxHits]
	}
	return res, nil
}

// lookupItems reads and stems the council's items, in one query. The result
// is shared by concurrent lookups: lookup only reads it.
func lookupItems(ctx context.Context, db bun.IDB, councilID int64) ([]matchItem, error) {
	var rows []SearchHit
	err := db.NewSelect().
		TableExpr("register_items AS i").
		ColumnExpr("i.id, i.parent_id, i.slug, i.kind, i.name, i.keywords, i.status, i.conditions, i.review_on, i.reason, i.explanation_html").
		ColumnExpr("coalesce(p.name, '') AS parent_name").
		Join("LEFT JOIN register_items AS p ON p.id = i.parent_id AND p.council_id = i.council_id").
		Where("i.council_id = ?", councilID).
		OrderExpr("i.position, i.id").
		Scan(ctx, &rows)
	if err != nil {
		return nil, err
	}
	items := make([]matchItem, len(rows))
	for i, r := range rows {
		m := matchItem{hit: r, name: stems(r.Name, true)}
		if r.ParentID != nil {
			m.parent = *r.ParentID
		}
		switch r.Kind {
		case Category:
			m.depth = 1
		case Product:
			m.depth = 2
		}
		for _, k := range Keywords(r.Keywords) {
			if st := stems(k, false); len(st) > 0 {
				m.phrases = append(m.phrases, st)
			}
		}
		items[i] = m
	}
	return items, nil
}

// SearchView is the "Puis-je acheter… ?" page.
type SearchView struct {
	web.Page
	Query    string
	Searched bool
	LookupResult
}

func (h *Handlers) search(c *fiber.Ctx) error {
	q := strings.TrimSpace(strings.Clone(c.Query("q")))
	if utf8.RuneCountInString(q) > maxQueryRunes {
		q = string([]rune(q)[:maxQueryRunes])
	}
	q = strings.ToValidUTF8(q, "")
	view := SearchView{Page: web.NewPage(c, "Puis-je acheter… ?"), Query: q, Searched: q != ""}
	if view.Searched {
		res, err := LookupIn(c.UserContext(), pagecache.Of(c), h.DB, web.Council(c).ID, q)
		if err != nil {
			return err
		}
		view.LookupResult = res
	}
	c.Set(fiber.HeaderCacheControl, privateNoCache)
	return web.Render(c, "catalog/search", view)
}
