package debate

import (
	"context"

	"github.com/uptrace/bun"

	"cla/internal/audit"
)

// Unexported names the external tests (package debate_test) use.

var BalanceOf = balance

// Headline cuts and marks text for the query whose querytree is tree.
func Headline(text, tree string) SearchResult {
	return SearchResult{Headline: headline(text, queryStems(tree))}
}

var QueryStems = queryStems

var Itoa = itoa

var SearchSQL = searchSQL

const SearchArgumentCandidates = searchArgumentCandidates

// EditDebate saves a debate's context, synthesis and links (editDebate).
func EditDebate(ctx context.Context, db *bun.DB, councilID int64, slug string, by audit.Actor, contextMD string, itemIDs []int64) (*Debate, error) {
	return editDebate(ctx, db, councilID, slug, by, debateEdit{ContextMD: contextMD, ItemIDs: itemIDs})
}

var StripMarkdown = stripMarkdown
