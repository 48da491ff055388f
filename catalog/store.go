package catalog

import (
	"context"

	"github.com/uptrace/bun"
)

// Node is an item with its children, for pages that show the register as a tree.
type Node struct {
	Item
	Children []*Node
}

// Tree returns the council's register as families with their categories and
// products, ordered by position. One query, whatever the register's size.
func Tree(ctx context.Context, db bun.IDB, councilID int64) ([]*Node, error) {
	var items []Item
	err := db.NewSelect().Model(&items).
		Column("id", "parent_id", "kind", "slug", "name", "position", "status", "conditions", "review_on", "reason", "explanation_html").
		Where("council_id = ?", councilID).
		Order("position", "id").
		Scan(ctx)
	if err != nil {
		return nil, err
	}
	return buildTree(items), nil
}

func buildTree(items []Item) []*Node {
	nodes := make(map[int64]*Node, len(items))
	for i := range items {
		nodes[items[i].ID] = &Node{Item: items[i]}
	}
	var roots []*Node
	for i := range items {
		n := nodes[items[i].ID]
		if n.ParentID == nil {
			roots = append(roots, n)
		} else if p, ok := nodes[*n.ParentID]; ok {
			p.Children = append(p.Children, n)
		}
	}
	return roots
}

// StatusCounts counts the council's categories and products by status.
func StatusCounts(ctx context.Context, db bun.IDB, councilID int64) (map[Status]int, error) {
	var rows []struct {
		Status Status
		N      int
	}
	err := db.NewSelect().Table("register_items").
		ColumnExpr("status, count(*) AS n").
		Where("council_id = ? AND kind <> 'family'", councilID).
		Group("status").
		Scan(ctx, &rows)
	counts := make(map[Status]int, len(Statuses))
	for _, r := range rows {
		counts[r.Status] = r.N
	}
	return counts, err
}

// Shops lists the council's points de vente by name.
func Shops(ctx context.Context, db bun.IDB, councilID int64) ([]Shop, error) {
	var shops []Shop
	err := db.NewSelect().Model(&shops).
		Column("id", "slug", "name", "kind", "address", "commune", "hours", "status", "description").
		Where("council_id = ?", councilID).
		Order("name").
		Scan(ctx)
	return shops, err
}
