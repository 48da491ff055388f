package catalog

import (
	"context"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

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
	ParentName string  `bun:"parent_name"`
	Rank       float64 `bun:"rank"`
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

// Search finds the council's items whose name matches any word of q, in French
// (accents, ligatures and plurals ignored: "oeufs" finds "Œufs"), best first.
// One query; an empty query finds nothing.
func Search(ctx context.Context, db bun.IDB, councilID int64, q string) ([]SearchHit, error) {
	words := queryWords(q)
	if len(words) == 0 {
		return nil, nil
	}
	parts := make([]string, len(words))
	args := make([]any, len(words))
	for i, w := range words {
		parts[i] = "plainto_tsquery('fr_unaccent', ?)"
		args[i] = w
	}
	tsq := "(" + strings.Join(parts, " || ") + ")"
	var hits []SearchHit
	err := db.NewSelect().
		TableExpr("register_items AS i").
		ColumnExpr("i.id, i.slug, i.kind, i.name, i.status, i.conditions, i.review_on, i.reason, i.explanation_html").
		ColumnExpr("coalesce(p.name, '') AS parent_name").
		ColumnExpr("ts_rank(to_tsvector('fr_unaccent', i.name), "+tsq+") AS rank", args...).
		Join("LEFT JOIN register_items AS p ON p.id = i.parent_id AND p.council_id = i.council_id").
		Where("i.council_id = ?", councilID).
		Where("to_tsvector('fr_unaccent', i.name) @@ "+tsq, args...).
		OrderExpr("rank DESC, i.kind = 'family', i.position, i.id").
		Limit(maxHits).
		Scan(ctx, &hits)
	return hits, err
}

// SearchView is the "Puis-je acheter… ?" page.
type SearchView struct {
	web.Page
	Query    string
	Searched bool
	Hits     []SearchHit
	Best     *SearchHit
}

func (h *Handlers) search(c *fiber.Ctx) error {
	q := strings.TrimSpace(strings.Clone(c.Query("q")))
	if utf8.RuneCountInString(q) > maxQueryRunes {
		q = string([]rune(q)[:maxQueryRunes])
	}
	q = strings.ToValidUTF8(q, "")
	view := SearchView{Page: web.NewPage(c, "Puis-je acheter… ?"), Query: q, Searched: q != ""}
	if view.Searched {
		hits, err := Search(c.UserContext(), h.DB, web.Council(c).ID, q)
		if err != nil {
			return err
		}
		view.Hits = hits
		if len(hits) > 0 {
			view.Best = &hits[0]
		}
	}
	c.Set(fiber.HeaderCacheControl, privateNoCache)
	return web.Render(c, "catalog/search", view)
}
