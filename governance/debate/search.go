package debate

import (
	"context"
	"html"
	"html/template"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"cla/governance/proposal"
	"cla/internal/markdown"
)

// SearchPageSize is the number of results per page.
const SearchPageSize = 20

// maxQueryLen caps the length of a search query, in characters.
const maxQueryLen = 200

// SearchKind is what a result is.
type SearchKind string

// The kinds of search results.
const (
	ResultDebate   SearchKind = "debate"
	ResultArgument SearchKind = "argument"
	resultItem     SearchKind = "register_item"
	ResultProposal SearchKind = "proposal"
)

// Label is the kind in French.
func (k SearchKind) Label() string {
	switch k {
	case ResultDebate:
		return "Débat"
	case ResultArgument:
		return "Argument"
	case resultItem:
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
		return "/debats/" + r.Slug + "/arguments/" + strconv.FormatInt(r.ID, 10)
	case resultItem:
		return "/registre/" + r.Slug
	case ResultProposal:
		return "/propositions/" + strconv.FormatInt(r.ID, 10)
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

// The searchable documents. Each branch selects (kind, id, rank) of the
// council's matching rows; its WHERE clause repeats the exact expression of a
// GIN index on (council_id, document), and the tsquery is a call on a bound
// parameter, so that PostgreSQL plans a bitmap index scan for one council.
const (
	searchTSQuery = `websearch_to_tsquery('fr_unaccent', ?1)`
	itemDoc       = `to_tsvector('fr_unaccent', r.name || ' ' || r.conditions || ' ' || r.reason || ' ' || r.explanation_md)`
	proposalDoc   = `to_tsvector('fr_unaccent', pr.title || ' ' || pr.item_name || ' ' || pr.outcome || ' ' || pr.reason || ' ' || pr.conditions || ' ' || pr.rationale_md)`
)

var searchSources = []string{
	`SELECT 'debate' AS kind, d.id, ts_rank_cd(d.search_doc, ` + searchTSQuery + `) AS rank
	 FROM debates d WHERE d.council_id = ?0 AND d.search_doc @@ ` + searchTSQuery,
	`SELECT 'argument', a.id, ts_rank_cd(a.search_doc, ` + searchTSQuery + `)
	 FROM arguments a WHERE a.council_id = ?0 AND a.hidden_at IS NULL AND a.search_doc @@ ` + searchTSQuery,
	`SELECT 'register_item', r.id, ts_rank_cd(` + itemDoc + `, ` + searchTSQuery + `)
	 FROM register_items r WHERE r.council_id = ?0 AND ` + itemDoc + ` @@ ` + searchTSQuery,
	// Drafts are their author's only: never searchable.
	`SELECT 'proposal', pr.id, ts_rank_cd(` + proposalDoc + `, ` + searchTSQuery + `)
	 FROM proposals pr WHERE pr.council_id = ?0 AND pr.state <> '` + string(proposal.ProposalDraft) + `' AND ` + proposalDoc + ` @@ ` + searchTSQuery,
}

// searchSQL ranks every hit, keeps one page, and only then fetches the page's
// titles and texts and computes their headlines. Markdown marks are dropped
// from the headline's text: emphasis and link targets with nothing in their
// place (a space there read "l' accessibilité" and "local ."), block marks
// (#, >, |, brackets) with a space.
var searchSQL = `WITH hits AS (` + strings.Join(searchSources, "\nUNION ALL\n") + `),
	page AS (SELECT kind, id, rank, count(*) OVER () AS total FROM hits ORDER BY rank DESC, kind, id LIMIT ?2 OFFSET ?3),
	docs AS (SELECT p.kind, p.id, p.rank, p.total,
		coalesce(d.slug, ad.slug, r.slug, '') AS slug,
		coalesce(d.title, ad.title, r.name, pr.title, '') AS title,
		CASE p.kind
			WHEN 'debate' THEN d.title || ' — ' || d.question || ' ' || d.synthesis_md || ' ' || d.conclusion_md || ' ' || d.context_md
			WHEN 'argument' THEN a.body_text
			WHEN 'register_item' THEN r.name || ' — ' || r.conditions || ' ' || r.reason || ' ' || r.explanation_md
			ELSE pr.title || ' — ' || pr.outcome || ' ' || pr.reason || ' ' || pr.conditions || ' ' || pr.rationale_md
		END AS text
		FROM page p
		LEFT JOIN debates d ON p.kind = 'debate' AND d.id = p.id AND d.council_id = ?0
		LEFT JOIN arguments a ON p.kind = 'argument' AND a.id = p.id AND a.council_id = ?0
		LEFT JOIN debates ad ON ad.id = a.debate_id AND ad.council_id = ?0
		LEFT JOIN register_items r ON p.kind = 'register_item' AND r.id = p.id AND r.council_id = ?0
		LEFT JOIN proposals pr ON p.kind = 'proposal' AND pr.id = p.id AND pr.council_id = ?0)
	SELECT kind, id, slug, title, rank, total::int AS total,
		ts_headline('fr_unaccent', regexp_replace(regexp_replace(text, '\]\([^)]*\)|[*_~]+', '', 'g'), '[#>\[\]|]+', ' ', 'g'), ` + searchTSQuery + `,
			'StartSel=' || chr(57344) || ', StopSel=' || chr(57345) || ', MaxWords=35, MinWords=12, MaxFragments=2, FragmentDelimiter=" … "') AS headline
	FROM docs ORDER BY rank DESC, kind, id`

// Search runs a French full-text search (accents ignored, stemming, web-style
// syntax: "riz camargue", "pêche -chasse", "\"riz de camargue\"") over the
// council's debates, visible arguments, register items and public proposals. Results are ranked,
// paginated, and carry a highlighted headline; headlines are computed for the
// page's rows only. One query.
func Search(ctx context.Context, db bun.IDB, councilID int64, query string, page int) (*SearchResults, error) {
	query = strings.TrimSpace(markdown.Clean(query))
	if utf8.RuneCountInString(query) > maxQueryLen {
		query = string([]rune(query)[:maxQueryLen])
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
	err := db.NewRaw(searchSQL, councilID, query, SearchPageSize, (page-1)*SearchPageSize).Scan(ctx, &out.Results)
	if err != nil {
		return nil, err
	}
	if len(out.Results) > 0 {
		out.Total = out.Results[0].Total
	}
	return out, nil
}
