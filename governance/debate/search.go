package debate

import (
	"context"
	"database/sql"
	"fmt"
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
	Kind  SearchKind
	ID    int64
	Slug  string // the debate's or item's slug
	Title string // for an argument, its debate's title
	Rank  float64
	// Headline is the snippet of the result's text, the query's words
	// marked (headline).
	Headline []HeadlinePart
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

// Snippet is the headline as HTML: every part escaped by html/template's
// escaper, the words the query looks for in <mark>.
func (r SearchResult) Snippet() template.HTML {
	var b strings.Builder
	for _, p := range r.Headline {
		if p.Mark {
			b.WriteString("<mark>")
		}
		b.WriteString(template.HTMLEscapeString(p.Text))
		if p.Mark {
			b.WriteString("</mark>")
		}
	}
	return template.HTML(b.String()) //nolint:gosec // every part escaped above
}

// SearchResults is one page of results.
type SearchResults struct {
	Query string
	Page  int
	// Total counts every match; Ranked those ranked and paged, fewer when
	// only the most recent of many matching arguments were ranked (Capped).
	Total   int
	Ranked  int
	Results []SearchResult
}

// Pages is the number of result pages.
func (s *SearchResults) Pages() int { return (s.Ranked + SearchPageSize - 1) / SearchPageSize }

// Capped reports whether only the most recent matching arguments were
// ranked (searchArgumentCandidates).
func (s *SearchResults) Capped() bool { return s.Ranked < s.Total }

// ArgumentCandidates is the number of matching arguments ranked at most.
func (s *SearchResults) ArgumentCandidates() int { return searchArgumentCandidates }

// searchArgumentCandidates is how many of the matching arguments are ranked:
// the most recent ones, five pages of results. Ranking costs PostgreSQL
// 1.5–2 µs per row, with the row carried through the sort; a council word in a
// third of 4,000 arguments (clabench's generated debates) made it the largest
// part of a search. 100 instead of 200 took 10–15 % off the statement over
// clabench's six words (docs/perf.md, session 30). Every match is still
// counted.
const searchArgumentCandidates = 100

// searchSQL is the single statement behind /recherche ($1 council, $2 the
// query as typed, $3 page size, $4 offset), sent with bound parameters: the
// driver prepares it once per connection and PostgreSQL keeps its plan, where
// an interpolated text cost ~2 ms of planning per search.
//
//   - Each branch selects (kind, id, rank) of the council's matching rows of
//     one kind over a stored tsvector (search_doc, migrations 0006 and 0033).
//     The arguments' WHERE clause calls websearch_to_tsquery on the
//     parameter, so that the condition on their GIN index on (council_id,
//     search_doc) holds the query. Everything else takes the query from the
//     InitPlan (SELECT q FROM q), computed once: in a generic plan a call on a
//     parameter is not folded and was evaluated again for every row, and the
//     planner reads a council's few debates, items and proposals without their
//     GIN index, testing each row (148 calls per search at scale 0.2).
//   - Arguments: only the searchArgumentCandidates most recent matches are
//     ranked (the others are counted, in arg_count).
//   - The page (count(*) OVER (), ORDER BY rank, LIMIT/OFFSET) is cut before
//     any text is read; then each of its rows fetches its title and text by
//     primary key (LATERAL, one branch per kind, the others skipped by a
//     one-time filter). The texts are sent as stored, with the query's
//     lexemes (querytree, once): the snippets are cut and marked in Go
//     (headline), where ts_headline parsed and stemmed each text again.
var searchSQL = `WITH q AS MATERIALIZED (SELECT websearch_to_tsquery('fr_unaccent', $2) AS q),
	args AS (
		SELECT a.id, a.search_doc, count(*) OVER () AS n FROM arguments a
		WHERE a.council_id = $1 AND a.hidden_at IS NULL AND a.search_doc @@ websearch_to_tsquery('fr_unaccent', $2)
		ORDER BY a.id DESC LIMIT ` + strconv.Itoa(searchArgumentCandidates) + `),
	hits AS (
		SELECT 'debate' AS kind, d.id, ts_rank(d.search_doc, (SELECT q FROM q)) AS rank
		FROM (SELECT id, search_doc FROM debates WHERE council_id = $1 OFFSET 0) d WHERE d.search_doc @@ (SELECT q FROM q)
		UNION ALL
		SELECT 'argument', a.id, ts_rank(a.search_doc, (SELECT q FROM q)) FROM args a
		UNION ALL
		SELECT 'register_item', r.id, ts_rank(r.search_doc, (SELECT q FROM q))
		FROM (SELECT id, search_doc FROM register_items WHERE council_id = $1 OFFSET 0) r WHERE r.search_doc @@ (SELECT q FROM q)
		UNION ALL
		-- Drafts are their author's only: never searchable.
		SELECT 'proposal', pr.id, ts_rank(pr.search_doc, (SELECT q FROM q))
		FROM proposals pr WHERE pr.council_id = $1 AND pr.state <> '` + string(proposal.ProposalDraft) + `'
			AND pr.search_doc @@ (SELECT q FROM q)),
	page AS (
		SELECT kind, id, rank, count(*) OVER () AS total FROM hits ORDER BY rank DESC, kind, id LIMIT $3 OFFSET $4)
	SELECT p.kind, p.id, t.slug, t.title, p.rank, p.total::int AS total,
		coalesce((SELECT max(n) FROM args), 0)::int AS arg_count,
		(SELECT querytree(q) FROM q) AS stems, t.text
	FROM page p CROSS JOIN LATERAL (
		SELECT d.slug, d.title, d.title || ' — ' || d.question || ' ' || d.synthesis_md || ' ' || d.conclusion_md || ' ' || d.context_md AS text
		FROM debates d WHERE p.kind = 'debate' AND d.id = p.id AND d.council_id = $1
		UNION ALL
		SELECT ad.slug, ad.title, a.body_text
		FROM arguments a JOIN debates ad ON ad.id = a.debate_id AND ad.council_id = $1
		WHERE p.kind = 'argument' AND a.id = p.id AND a.council_id = $1
		UNION ALL
		SELECT r.slug, r.name, r.name || ' — ' || r.conditions || ' ' || r.reason || ' ' || r.explanation_md
		FROM register_items r WHERE p.kind = 'register_item' AND r.id = p.id AND r.council_id = $1
		UNION ALL
		SELECT '', pr.title, pr.title || ' — ' || pr.outcome || ' ' || pr.reason || ' ' || pr.conditions || ' ' || pr.rationale_md
		FROM proposals pr WHERE p.kind = 'proposal' AND pr.id = p.id AND pr.council_id = $1) t
	ORDER BY p.rank DESC, p.kind, p.id`

// sqlQueryer is db's database/sql handle: a statement sent there with bound
// parameters is prepared once per connection by pgx, where bun's own
// QueryContext would interpolate the arguments into a new text each time.
func sqlQueryer(db bun.IDB) interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
} {
	switch d := db.(type) {
	case *bun.DB:
		return d.DB
	case bun.Tx:
		return d.Tx
	case bun.Conn:
		return d.Conn
	}
	panic(fmt.Sprintf("debate: no database/sql handle in %T", db))
}

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
	rows, err := sqlQueryer(db).QueryContext(ctx, searchSQL, councilID, query, SearchPageSize, (page-1)*SearchPageSize)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ranked, args int
	var tree, text string
	var stems []string
	for rows.Next() {
		var r SearchResult
		if err := rows.Scan(&r.Kind, &r.ID, &r.Slug, &r.Title, &r.Rank, &ranked, &args, &tree, &text); err != nil {
			return nil, err
		}
		if stems == nil {
			stems = queryStems(tree)
		}
		r.Headline = headline(text, stems)
		out.Results = append(out.Results, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// ranked holds min(args, searchArgumentCandidates) arguments.
	out.Ranked = ranked
	out.Total = ranked - min(args, searchArgumentCandidates) + args
	return out, nil
}
