package governance

import (
	"context"
	"html"
	"html/template"
	"strings"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"cla/internal/markdown"
)

// SearchPageSize is the number of results per page.
const SearchPageSize = 20

// MaxQueryLen caps the length of a search query, in characters.
const MaxQueryLen = 200

// SearchKind is what a result is.
type SearchKind string

// The kinds of search results.
const (
	ResultDebate   SearchKind = "debate"
	ResultArgument SearchKind = "argument"
	ResultItem     SearchKind = "register_item"
	ResultProposal SearchKind = "proposal"
)

// Label is the kind in French.
func (k SearchKind) Label() string {
	switch k {
	case ResultDebate:
		return "Débat"
	case ResultArgument:
		return "Argument"
	case ResultItem:
		return "Registre"
	case ResultProposal:
		return "Proposition"
	}
	return string(k)
}

// SearchResult is one ranked hit.
type SearchResult struct {
	Kind     SearchKind `bun:"kind"`
	ID       int64      `bun:"id"`
	Slug     string     `bun:"slug"`  // the debate's or item's slug
	Title    string     `bun:"title"` // for an argument, its debate's title
	Rank     float64    `bun:"rank"`
	Headline string     `bun:"headline"` // raw ts_headline output with Mark/EndMark sentinels
	Total    int        `bun:"total"`
}

// URL is the result's page.
func (r SearchResult) URL() string {
	switch r.Kind {
	case ResultDebate:
		return "/debats/" + r.Slug
	case ResultArgument:
		return "/debats/" + r.Slug + "/arguments/" + itoa64(r.ID)
	case ResultItem:
		return "/registre#" + r.Slug
	case ResultProposal:
		return "/propositions/" + itoa64(r.ID)
	}
	return "/"
}

// Snippet is the headline, HTML-escaped, with the matched words in <mark>.
// Only the sentinels the query put there become markup: the text itself is
// always escaped, whatever it contains.
func (r SearchResult) Snippet() template.HTML {
	return highlight(r.Headline)
}

func highlight(s string) template.HTML {
	var b strings.Builder
	open := false
	for len(s) > 0 {
		i := strings.IndexAny(s, string(markdown.Mark)+string(markdown.EndMark))
		if i < 0 {
			b.WriteString(html.EscapeString(s))
			break
		}
		b.WriteString(html.EscapeString(s[:i]))
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == markdown.Mark && !open:
			b.WriteString("<mark>")
			open = true
		case r == markdown.EndMark && open:
			b.WriteString("</mark>")
			open = false
		}
		s = s[i+size:]
	}
	if open {
		b.WriteString("</mark>")
	}
	return template.HTML(b.String()) //nolint:gosec // escaped above
}

// SearchResults is one page of results.
type SearchResults struct {
	Query   string
	Page    int
	Total   int
	Results []SearchResult
}

// Pages is the number of result pages.
func (s *SearchResults) Pages() int { return (s.Total + SearchPageSize - 1) / SearchPageSize }

// searchSources are the searchable documents, each a SELECT of (kind, id, slug,
// title, doc, text) scoped by council ("?" is the council id). Each doc
// expression matches a GIN index on (council_id, doc).
var searchSources = []string{
	`SELECT 'debate' AS kind, d.id, d.slug, d.title, d.search_doc AS doc,
		d.title || ' — ' || d.question || ' ' || d.synthesis_md || ' ' || d.conclusion_md || ' ' || d.context_md AS text
	 FROM debates d WHERE d.council_id = ?0 AND d.search_doc @@ q.query`,
	`SELECT 'argument', a.id, d.slug, d.title, a.search_doc, a.body_text
	 FROM arguments a JOIN debates d ON d.id = a.debate_id
	 WHERE a.council_id = ?0 AND a.hidden_at IS NULL AND a.search_doc @@ q.query`,
	`SELECT 'register_item', r.id, r.slug, r.name,
		to_tsvector('fr_unaccent', r.name || ' ' || r.conditions || ' ' || r.reason || ' ' || r.explanation_md),
		r.name || ' — ' || r.conditions || ' ' || r.reason || ' ' || r.explanation_md
	 FROM register_items r
	 WHERE r.council_id = ?0 AND to_tsvector('fr_unaccent', r.name || ' ' || r.conditions || ' ' || r.reason || ' ' || r.explanation_md) @@ q.query`,
	// Drafts are their author's only: never searchable.
	`SELECT 'proposal', p.id, '', p.title,
		to_tsvector('fr_unaccent', p.title || ' ' || p.item_name || ' ' || p.outcome || ' ' || p.reason || ' ' || p.conditions || ' ' || p.rationale_md),
		p.title || ' — ' || p.outcome || ' ' || p.reason || ' ' || p.conditions || ' ' || p.rationale_md
	 FROM proposals p
	 WHERE p.council_id = ?0 AND p.state <> 'brouillon'
	   AND to_tsvector('fr_unaccent', p.title || ' ' || p.item_name || ' ' || p.outcome || ' ' || p.reason || ' ' || p.conditions || ' ' || p.rationale_md) @@ q.query`,
}

// Search runs a French full-text search (accents ignored, stemming, web-style
// syntax: "riz camargue", "pêche -chasse", "\"riz de camargue\"") over the
// council's debates, visible arguments, register items and public proposals. Results are ranked,
// paginated, and carry a highlighted headline; headlines are computed for the
// page's rows only. One query.
func Search(ctx context.Context, db bun.IDB, councilID int64, query string, page int) (*SearchResults, error) {
	query = strings.TrimSpace(markdown.Clean(query))
	if utf8.RuneCountInString(query) > MaxQueryLen {
		query = string([]rune(query)[:MaxQueryLen])
	}
	if page < 1 {
		page = 1
	}
	if page > 50 {
		page = 50
	}
	out := &SearchResults{Query: query, Page: page}
	if query == "" {
		return out, nil
	}
	union := strings.Join(searchSources, "\nUNION ALL\n")
	sqlText := `WITH q AS (SELECT websearch_to_tsquery('fr_unaccent', ?1) AS query),
	hits AS (SELECT h.kind, h.id, h.slug, h.title, h.text, ts_rank_cd(h.doc, q.query) AS rank
		FROM q, LATERAL (` + union + `) h),
	page AS (SELECT *, count(*) OVER () AS total FROM hits ORDER BY rank DESC, kind, id LIMIT ?2 OFFSET ?3)
	SELECT p.kind, p.id, p.slug, p.title, p.rank, p.total::int AS total,
		ts_headline('fr_unaccent', regexp_replace(p.text, '\]\([^)]*\)|[*_#>\[\]~|]+', ' ', 'g'), q.query,
			'StartSel=' || chr(57344) || ', StopSel=' || chr(57345) || ', MaxWords=35, MinWords=12, MaxFragments=2, FragmentDelimiter=" … "') AS headline
	FROM page p, q ORDER BY p.rank DESC, p.kind, p.id`
	err := db.NewRaw(sqlText, councilID, query, SearchPageSize, (page-1)*SearchPageSize).Scan(ctx, &out.Results)
	if err != nil {
		return nil, err
	}
	if len(out.Results) > 0 {
		out.Total = out.Results[0].Total
	}
	return out, nil
}
