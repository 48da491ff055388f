// Package debate holds the council's debate record: debates by theme with
// their synthesis and conclusion, the members' arguments (stances, replies,
// edit history, hiding), the requested debates and suggestions (the backlog
// the meeting agenda reads), the French full-text search, and their pages.
package debate

import (
	"context"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"cla/catalog"
	"cla/governance/proposal"
	"cla/internal/apperr"
	"cla/internal/audit"
	"cla/internal/database"
	"cla/internal/markdown"
)

// DebateState is where a debate stands.
type DebateState string

// The states of a debate: souhaité (requested) → ouvert → clos.
const (
	DebateRequested DebateState = "souhaite"
	DebateOpen      DebateState = "ouvert"
	debateClosed    DebateState = "clos"
)

// Label is the state in French.
func (s DebateState) Label() string {
	switch s {
	case DebateRequested:
		return "Débat souhaité"
	case DebateOpen:
		return "Ouvert"
	case debateClosed:
		return "Clos"
	}
	return string(s)
}

// Theme groups debates as the council listed them.
type Theme string

// themes lists the themes in the order pages present them.
var themes = []Theme{"criteres", "produits", "points_de_vente", "societe", "transmission"}

// Valid reports whether t is one of Themes.
func (t Theme) Valid() bool {
	for _, x := range themes {
		if x == t {
			return true
		}
	}
	return false
}

// Label is the theme in French.
func (t Theme) Label() string {
	switch t {
	case "criteres":
		return "Sur les critères de conventionnement"
	case "produits":
		return "Sur les produits à conventionner"
	case "points_de_vente":
		return "Sur l'adhésion des points de vente"
	case "societe":
		return "Débats de société"
	case "transmission":
		return "Sur la transmission de la richesse des débats"
	}
	return string(t)
}

// Limits on what people write in the debate record.
const (
	maxTitleLen    = 200
	maxQuestionLen = 2000
	maxLongTextLen = 20000 // context, synthesis, conclusion
	MaxBodyLen     = 10000 // an argument
	maxReasonLen   = 500   // why an argument was hidden
)

// Debate is a question the council debates, or wants to.
type Debate struct {
	bun.BaseModel `bun:"table:debates"`

	ID              int64       `bun:"id,pk,autoincrement"`
	CouncilID       int64       `bun:"council_id"`
	Slug            string      `bun:"slug"`
	Theme           Theme       `bun:"theme"`
	Title           string      `bun:"title"`
	Question        string      `bun:"question"`
	State           DebateState `bun:"state"`
	ContextMD       string      `bun:"context_md"`
	ContextHTML     string      `bun:"context_html"`
	SynthesisMD     string      `bun:"synthesis_md"`
	SynthesisHTML   string      `bun:"synthesis_html"`
	SynthesisByID   *int64      `bun:"synthesis_by_id"`
	SynthesisByName string      `bun:"synthesis_by_name"`
	SynthesisAt     *time.Time  `bun:"synthesis_at"`
	ConclusionMD    string      `bun:"conclusion_md"`
	ConclusionHTML  string      `bun:"conclusion_html"`
	OpenedAt        *time.Time  `bun:"opened_at"`
	ClosedAt        *time.Time  `bun:"closed_at"`
	IsDemo          bool        `bun:"is_demo"`
	CreatedAt       time.Time   `bun:"created_at,nullzero,default:current_timestamp"`
	UpdatedAt       time.Time   `bun:"updated_at,nullzero,default:current_timestamp"`
}

// Validate checks the fields people write.
func (d *Debate) Validate() error {
	f := apperr.Fields{}
	checkText(f, "title", d.Title, 1, maxTitleLen, "Le titre")
	checkText(f, "question", d.Question, 0, maxQuestionLen, "La question")
	checkText(f, "context", d.ContextMD, 0, maxLongTextLen, "Le contexte")
	checkText(f, "synthesis", d.SynthesisMD, 0, maxLongTextLen, "La synthèse")
	checkText(f, "conclusion", d.ConclusionMD, 0, maxLongTextLen, "La conclusion")
	if !d.Theme.Valid() {
		f.Add("theme", "Choisissez un thème de la liste.")
	}
	switch d.State {
	case DebateRequested, DebateOpen:
	case debateClosed:
		if strings.TrimSpace(d.ConclusionMD) == "" {
			f.Add("conclusion", "Un débat clos a une conclusion écrite.")
		}
	default:
		f.Add("state", "État inconnu.")
	}
	return f.Err()
}

// checkText adds a message when s is not valid UTF-8 or its length (in
// characters, after trimming) is outside [min, max].
func checkText(f apperr.Fields, field, s string, min, max int, what string) {
	if !utf8.ValidString(s) {
		f.Add(field, what+" contient des caractères invalides.")
		return
	}
	n := utf8.RuneCountInString(strings.TrimSpace(s))
	switch {
	case n < min && min == 1:
		f.Add(field, what+" est obligatoire.")
	case n < min:
		f.Add(field, what+" est trop court.")
	case n > max:
		f.Add(field, what+" dépasse la limite de "+itoa(max)+" caractères.")
	}
}

func itoa(n int) string {
	s := ""
	if n == 0 {
		return "0"
	}
	for n > 0 {
		s = string(rune('0'+n%10)) + s
		n /= 10
	}
	// Thousands separated by a narrow space, as French writes them.
	if len(s) > 3 {
		s = s[:len(s)-3] + "\u202f" + s[len(s)-3:]
	}
	return s
}

// debateListColumns are what list pages need.
var debateListColumns = []string{"id", "slug", "theme", "title", "question", "state", "closed_at"}

// debates lists the council's debates by theme.
func debates(ctx context.Context, db bun.IDB, councilID int64) ([]Debate, error) {
	var ds []Debate
	err := db.NewSelect().Model(&ds).
		Column(debateListColumns...).
		Where("council_id = ?", councilID).
		Order("theme", "id").
		Scan(ctx)
	return ds, err
}

// DebateBySlug returns one debate of the council, every column, or NotFound.
func DebateBySlug(ctx context.Context, db bun.IDB, councilID int64, slug string) (*Debate, error) {
	d := new(Debate)
	err := db.NewSelect().Model(d).
		Where("council_id = ? AND slug = ?", councilID, slug).
		Scan(ctx)
	if database.IsNoRows(err) {
		return nil, apperr.New(apperr.NotFound, "Ce débat n'existe pas.")
	}
	return d, err
}

// debatePageColumns are what public pages show of a debate: the stored HTML,
// never the markdown sources.
var debatePageColumns = []string{"id", "council_id", "slug", "theme", "title", "question", "state", "context_html",
	"synthesis_html", "synthesis_by_name", "synthesis_at", "conclusion_html", "opened_at", "closed_at", "is_demo"}

// debatePage returns one debate of the council with the columns a page shows,
// or NotFound.
func debatePage(ctx context.Context, db bun.IDB, councilID int64, slug string) (*Debate, error) {
	d := new(Debate)
	err := db.NewSelect().Model(d).Column(debatePageColumns...).
		Where("council_id = ? AND slug = ?", councilID, slug).
		Scan(ctx)
	if database.IsNoRows(err) {
		return nil, apperr.New(apperr.NotFound, "Ce débat n'existe pas.")
	}
	return d, err
}

// debateEdit is what a facilitator changes on a debate: context, synthesis and
// the register items it bears on.
type debateEdit struct {
	ContextMD   string
	SynthesisMD string
	ItemIDs     []int64
	ProposalIDs []int64
}

// editDebate saves a facilitator's context and synthesis (rendered once, here)
// and the debate's register links, with an audit entry, in one transaction.
func editDebate(ctx context.Context, db *bun.DB, councilID int64, slug string, by audit.Actor, in debateEdit) (*Debate, error) {
	var out *Debate
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		d, err := lockDebate(ctx, tx, councilID, slug)
		if err != nil {
			return err
		}
		before := *d
		d.ContextMD = markdown.Clean(in.ContextMD)
		d.SynthesisMD = markdown.Clean(in.SynthesisMD)
		if err := d.Validate(); err != nil {
			return err
		}
		d.ContextHTML = markdown.ToHTML(d.ContextMD)
		cols := []string{"context_md", "context_html", "updated_at"}
		if d.SynthesisMD != before.SynthesisMD {
			now := time.Now()
			d.SynthesisHTML = markdown.ToHTML(d.SynthesisMD)
			d.SynthesisByID, d.SynthesisByName, d.SynthesisAt = by.NullableID(), by.Name, &now
			cols = append(cols, "synthesis_md", "synthesis_html", "synthesis_by_id", "synthesis_by_name", "synthesis_at")
		}
		d.UpdatedAt = time.Now()
		if _, err := tx.NewUpdate().Model(d).Column(cols...).WherePK().Where("council_id = ?", councilID).Exec(ctx); err != nil {
			return err
		}
		if err := setDebateItems(ctx, tx, councilID, d.ID, in.ItemIDs); err != nil {
			return err
		}
		if err := setDebateProposals(ctx, tx, councilID, d.ID, in.ProposalIDs); err != nil {
			return err
		}
		out = d
		return audit.Record(ctx, tx, by.Entry(&councilID, "debate.edit", "debate", strconv.FormatInt(d.ID, 10),
			"Contexte ou synthèse du débat « "+d.Title+" » mis à jour"),
			debateAudit(&before), debateAudit(d))
	})
	return out, err
}

func setDebateItems(ctx context.Context, tx bun.Tx, councilID, debateID int64, ids []int64) error {
	// The items' public pages list their debates (DebatesOfItem) and are
	// cached: tell the cache, in this transaction.
	if err := catalog.Touch(ctx, tx, councilID); err != nil {
		return err
	}
	if _, err := tx.NewDelete().Table("debate_register_items").
		Where("council_id = ? AND debate_id = ?", councilID, debateID).Exec(ctx); err != nil {
		return err
	}
	if len(ids) == 0 {
		return nil
	}
	// Only the council's own items: others are silently not linkable. Catalog
	// names its table in the subquery; still one statement.
	_, err := tx.NewRaw(`INSERT INTO debate_register_items (council_id, debate_id, register_item_id)
		SELECT ?, ?, i.id FROM (?) i ON CONFLICT DO NOTHING`,
		councilID, debateID, catalog.ItemIDsQuery(tx, councilID, ids)).Exec(ctx)
	return err
}

func setDebateProposals(ctx context.Context, tx bun.Tx, councilID, debateID int64, ids []int64) error {
	if _, err := tx.NewDelete().Table("debate_proposals").
		Where("council_id = ? AND debate_id = ?", councilID, debateID).Exec(ctx); err != nil {
		return err
	}
	if len(ids) == 0 {
		return nil
	}
	// Only the council's public proposals: drafts are their author's.
	_, err := tx.NewRaw(`INSERT INTO debate_proposals (council_id, debate_id, proposal_id)
		SELECT ?, ?, id FROM proposals WHERE council_id = ? AND state <> ? AND id IN (?) ON CONFLICT DO NOTHING`,
		councilID, debateID, councilID, proposal.ProposalDraft, bun.List(ids)).Exec(ctx)
	return err
}

// changeDebateState opens a requested debate, or closes an open one with its
// written conclusion (rendered once, here). Other transitions are refused.
func changeDebateState(ctx context.Context, db *bun.DB, councilID int64, slug string, by audit.Actor, to DebateState, conclusionMD string) (*Debate, error) {
	var out *Debate
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		d, err := lockDebate(ctx, tx, councilID, slug)
		if err != nil {
			return err
		}
		before := *d
		now := time.Now()
		cols := []string{"state", "updated_at"}
		switch {
		case d.State == DebateRequested && to == DebateOpen:
			d.OpenedAt = &now
			cols = append(cols, "opened_at")
		case d.State == DebateOpen && to == debateClosed:
			d.ConclusionMD = markdown.Clean(conclusionMD)
			d.ConclusionHTML = markdown.ToHTML(d.ConclusionMD)
			d.ClosedAt = &now
			cols = append(cols, "conclusion_md", "conclusion_html", "closed_at")
		default:
			return apperr.New(apperr.Conflict, "Ce débat ne peut pas passer de l'état « %s » à l'état « %s ».", d.State.Label(), to.Label())
		}
		d.State, d.UpdatedAt = to, now
		if err := d.Validate(); err != nil {
			return err
		}
		if _, err := tx.NewUpdate().Model(d).Column(cols...).WherePK().Where("council_id = ?", councilID).Exec(ctx); err != nil {
			return err
		}
		out = d
		return audit.Record(ctx, tx, by.Entry(&councilID, "debate.state", "debate", strconv.FormatInt(d.ID, 10),
			"Débat « "+d.Title+" » : "+to.Label()),
			debateAudit(&before), debateAudit(d))
	})
	return out, err
}

func lockDebate(ctx context.Context, tx bun.Tx, councilID int64, slug string) (*Debate, error) {
	d := new(Debate)
	err := tx.NewSelect().Model(d).
		Where("council_id = ? AND slug = ?", councilID, slug).For("UPDATE").Scan(ctx)
	if database.IsNoRows(err) {
		return nil, apperr.New(apperr.NotFound, "Ce débat n'existe pas.")
	}
	return d, err
}

// debateAudit is what the audit trail keeps of a debate (sources, not HTML).
func debateAudit(d *Debate) map[string]any {
	return map[string]any{"state": d.State, "context_md": d.ContextMD, "synthesis_md": d.SynthesisMD, "conclusion_md": d.ConclusionMD}
}

// LinkedItem is a register item a debate bears on.
type LinkedItem struct {
	ID     int64  `bun:"id"`
	Slug   string `bun:"slug"`
	Name   string `bun:"name"`
	Status string `bun:"status"`
}

// DebateItems returns the register items linked to a debate, in one query.
func DebateItems(ctx context.Context, db bun.IDB, councilID, debateID int64) ([]LinkedItem, error) {
	linked := db.NewSelect().Table("debate_register_items").Column("register_item_id").
		Where("council_id = ? AND debate_id = ?", councilID, debateID)
	items, err := catalog.ItemsIn(ctx, db, councilID, linked)
	if err != nil {
		return nil, err
	}
	var out []LinkedItem
	for _, it := range items {
		out = append(out, LinkedItem{ID: it.ID, Slug: it.Slug, Name: it.Name, Status: string(it.Status)})
	}
	return out, nil
}

// LinkedProposal is a proposal a debate bears on.
type LinkedProposal struct {
	ID    int64  `bun:"id"`
	Title string `bun:"title"`
	State string `bun:"state"`
}

// DebatesOfProposal returns the debates linked to a proposal, for its page's
// links back (proposal.Handlers.Debates), in one query.
func DebatesOfProposal(ctx context.Context, db bun.IDB, councilID, proposalID int64) ([]proposal.DebateLink, error) {
	var out []proposal.DebateLink
	err := db.NewRaw(`SELECT d.slug, d.title FROM debate_proposals l
		JOIN debates d ON d.id = l.debate_id AND d.council_id = l.council_id
		WHERE l.council_id = ? AND l.proposal_id = ? ORDER BY d.id`, councilID, proposalID).Scan(ctx, &out)
	return out, err
}

// DebatesOfItem returns the debates linked to a register item, for the item's
// page (catalog.Handlers.ItemDebates), in one query.
func DebatesOfItem(ctx context.Context, db bun.IDB, councilID, itemID int64) ([]catalog.RelatedLink, error) {
	var out []catalog.RelatedLink
	err := db.NewRaw(`SELECT '/debats/' || d.slug AS href, d.title AS label FROM debate_register_items l
		JOIN debates d ON d.id = l.debate_id AND d.council_id = l.council_id
		WHERE l.council_id = ? AND l.register_item_id = ? ORDER BY d.id`, councilID, itemID).Scan(ctx, &out)
	return out, err
}

// DebateProposals returns the public proposals linked to a debate, in one query.
func DebateProposals(ctx context.Context, db bun.IDB, councilID, debateID int64) ([]LinkedProposal, error) {
	var out []LinkedProposal
	err := db.NewRaw(`SELECT p.id, p.title, p.state FROM debate_proposals l
		JOIN proposals p ON p.id = l.proposal_id AND p.council_id = l.council_id
		WHERE l.council_id = ? AND l.debate_id = ? AND p.state <> ? ORDER BY p.id`, councilID, debateID, proposal.ProposalDraft).Scan(ctx, &out)
	return out, err
}
