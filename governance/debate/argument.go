package debate

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/uptrace/bun"

	"cla/internal/apperr"
	"cla/internal/audit"
	"cla/internal/database"
	"cla/internal/markdown"
)

// Stance is what an argument does in the debate.
type Stance string

// The stances an argument can take.
const (
	StanceFor      Stance = "pour"
	StanceAgainst  Stance = "contre"
	StanceNuance   Stance = "nuance"
	StanceQuestion Stance = "question"
	stanceFact     Stance = "fait_source"
)

// stances lists the stances in the order forms present them.
var stances = []Stance{StanceFor, StanceAgainst, StanceNuance, StanceQuestion, stanceFact}

// Valid reports whether s is one of Stances.
func (s Stance) Valid() bool {
	for _, x := range stances {
		if x == s {
			return true
		}
	}
	return false
}

// Label is the stance in French.
func (s Stance) Label() string {
	switch s {
	case StanceFor:
		return "Pour"
	case StanceAgainst:
		return "Contre"
	case StanceNuance:
		return "Nuance"
	case StanceQuestion:
		return "Question"
	case stanceFact:
		return "Fait / source"
	}
	return string(s)
}

// Argument is one contribution to a debate, or a reply to one.
type Argument struct {
	bun.BaseModel `bun:"table:arguments"`

	ID            int64      `bun:"id,pk,autoincrement"`
	CouncilID     int64      `bun:"council_id"`
	DebateID      int64      `bun:"debate_id"`
	ParentID      *int64     `bun:"parent_id"`
	Stance        Stance     `bun:"stance"`
	CriterionID   *int64     `bun:"criterion_id"`
	BodyMD        string     `bun:"body_md"`
	BodyHTML      string     `bun:"body_html"`
	BodyText      string     `bun:"body_text"`
	AuthorID      *int64     `bun:"author_id"`
	AuthorName    string     `bun:"author_name"`
	CreatedAt     time.Time  `bun:"created_at,nullzero,default:current_timestamp"`
	UpdatedAt     time.Time  `bun:"updated_at,nullzero,default:current_timestamp"`
	EditedAt      *time.Time `bun:"edited_at"`
	HiddenAt      *time.Time `bun:"hidden_at"`
	HiddenByID    *int64     `bun:"hidden_by_id"`
	HiddenByName  string     `bun:"hidden_by_name"`
	HiddenReason  string     `bun:"hidden_reason"`
	IsDemo        bool       `bun:"is_demo"`
	CriterionName string     `bun:"criterion_name,scanonly"`
	DebateSlug    string     `bun:"-"` // set by pages, for Permalink

	Replies []*Argument `bun:"-"`
}

// Hidden reports whether a facilitator hid the argument.
func (a *Argument) Hidden() bool { return a.HiddenAt != nil }

// Permalink is the argument's own page (DebateSlug must be set).
func (a *Argument) Permalink() string {
	return "/debats/" + a.DebateSlug + "/arguments/" + strconv.FormatInt(a.ID, 10)
}

// Anchor is the fragment of the argument on its debate page.
func (a *Argument) Anchor() string { return "argument-" + strconv.FormatInt(a.ID, 10) }

// Path is the argument on its debate page (DebateSlug must be set).
func (a *Argument) Path() string { return "/debats/" + url.PathEscape(a.DebateSlug) + "#" + a.Anchor() }

// Validate checks stance and body; the criterion is checked against the
// council's criteria by the store.
func (a *Argument) Validate() error {
	f := apperr.Fields{}
	if !a.Stance.Valid() {
		f.Add("stance", "Choisissez une position de la liste : pour, contre, nuance, question ou fait / source.")
	}
	checkText(f, "body", a.BodyMD, 1, MaxBodyLen, "Le texte de l'argument")
	return f.Err()
}

// ArgumentInput is what a member writes.
type ArgumentInput struct {
	ParentID    int64 // 0 for a top-level argument
	Stance      Stance
	CriterionID int64 // 0 for none
	BodyMD      string
}

// argumentColumns are what pages show (never the markdown source or search text).
var argumentColumns = []string{"a.id", "a.debate_id", "a.parent_id", "a.stance", "a.criterion_id", "a.body_html",
	"a.author_id", "a.author_name", "a.created_at", "a.edited_at", "a.hidden_at", "a.hidden_by_name", "a.hidden_reason", "a.is_demo"}

// checkCriterion returns a Fields error unless id is one of the council's criteria.
func checkCriterion(ctx context.Context, db bun.IDB, councilID, id int64) error {
	if id == 0 {
		return nil
	}
	ok, err := db.NewSelect().Table("criteria").Where("council_id = ? AND id = ?", councilID, id).Exists(ctx)
	if err != nil {
		return err
	}
	if !ok {
		return apperr.Fields{"criterion": "Ce critère n'existe pas dans la boussole du Conseil."}.Err()
	}
	return nil
}

func nullable(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

// AddArgument adds an argument (or a reply) to an open debate. The markdown is
// rendered and sanitised here, once.
func AddArgument(ctx context.Context, db bun.IDB, councilID int64, slug string, by audit.Actor, in ArgumentInput) (*Argument, error) {
	a := &Argument{CouncilID: councilID, Stance: in.Stance, CriterionID: nullable(in.CriterionID),
		BodyMD: markdown.Clean(in.BodyMD), AuthorID: by.NullableID(), AuthorName: by.Name}
	if err := a.Validate(); err != nil {
		return nil, err
	}
	if by.AccountID == 0 || strings.TrimSpace(by.Name) == "" {
		return nil, apperr.New(apperr.Unauthorized, "Connectez-vous pour contribuer au débat.")
	}
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		d, err := DebateBySlug(ctx, tx, councilID, slug)
		if err != nil {
			return err
		}
		if d.State != DebateOpen {
			return apperr.New(apperr.Conflict, "Ce débat n'est pas ouvert : on ne peut pas y ajouter d'argument.")
		}
		a.DebateID, a.DebateSlug = d.ID, d.Slug
		if err := checkCriterion(ctx, tx, councilID, in.CriterionID); err != nil {
			return err
		}
		if in.ParentID != 0 {
			parent, err := argumentByID(ctx, tx, councilID, in.ParentID)
			if err != nil || parent.DebateID != d.ID {
				return apperr.Fields{"parent": "L'argument auquel vous répondez n'existe pas dans ce débat."}.Err()
			}
			if parent.ParentID != nil {
				return apperr.Fields{"parent": "On ne peut répondre qu'à un argument, pas à une réponse."}.Err()
			}
			if parent.Hidden() {
				return apperr.Fields{"parent": "Cet argument a été masqué : on ne peut plus y répondre."}.Err()
			}
			a.ParentID = &parent.ID
		}
		a.BodyHTML = markdown.ToHTML(a.BodyMD)
		a.BodyText = markdown.ToText(a.BodyHTML)
		_, err = tx.NewInsert().Model(a).
			Column("council_id", "debate_id", "parent_id", "stance", "criterion_id", "body_md", "body_html", "body_text", "author_id", "author_name").
			Returning("id, created_at").Exec(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

func argumentByID(ctx context.Context, db bun.IDB, councilID, id int64) (*Argument, error) {
	a := new(Argument)
	err := db.NewSelect().Model(a).
		Where("council_id = ? AND id = ?", councilID, id).Scan(ctx)
	if database.IsNoRows(err) {
		return nil, apperr.New(apperr.NotFound, "Cet argument n'existe pas.")
	}
	return a, err
}

// EditArgument lets the author rewrite an argument; the earlier text is kept as a
// revision and the argument shows "modifié".
func EditArgument(ctx context.Context, db *bun.DB, councilID, id int64, by audit.Actor, in ArgumentInput) (*Argument, error) {
	var out *Argument
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		a := new(Argument)
		err := tx.NewSelect().Model(a).
			Where("council_id = ? AND id = ?", councilID, id).For("UPDATE").Scan(ctx)
		if database.IsNoRows(err) {
			return apperr.New(apperr.NotFound, "Cet argument n'existe pas.")
		}
		if err != nil {
			return err
		}
		if a.AuthorID == nil || by.AccountID == 0 || *a.AuthorID != by.AccountID {
			return apperr.New(apperr.Forbidden, "Seule l'autrice ou l'auteur d'un argument peut le modifier.")
		}
		if a.Hidden() {
			return apperr.New(apperr.Conflict, "Cet argument a été masqué : il ne peut plus être modifié.")
		}
		rev := map[string]any{"council_id": councilID, "argument_id": a.ID, "stance": a.Stance, "criterion_id": a.CriterionID,
			"body_md": a.BodyMD, "body_html": a.BodyHTML, "written_at": a.UpdatedAt}
		a.Stance, a.CriterionID, a.BodyMD = in.Stance, nullable(in.CriterionID), markdown.Clean(in.BodyMD)
		if err := a.Validate(); err != nil {
			return err
		}
		if err := checkCriterion(ctx, tx, councilID, in.CriterionID); err != nil {
			return err
		}
		if _, err := tx.NewInsert().Model(&rev).TableExpr("argument_revisions").Exec(ctx); err != nil {
			return err
		}
		now := time.Now()
		a.BodyHTML = markdown.ToHTML(a.BodyMD)
		a.BodyText = markdown.ToText(a.BodyHTML)
		a.EditedAt, a.UpdatedAt = &now, now
		_, err = tx.NewUpdate().Model(a).
			Column("stance", "criterion_id", "body_md", "body_html", "body_text", "edited_at", "updated_at").
			WherePK().Where("council_id = ?", councilID).Exec(ctx)
		out = a
		return err
	})
	return out, err
}

// HideArgument lets a facilitator hide an argument with a reason. The record
// keeps the argument and shows "masqué par X : raison".
func HideArgument(ctx context.Context, db *bun.DB, councilID, id int64, by audit.Actor, reason string) (*Argument, error) {
	reason = strings.TrimSpace(markdown.Clean(reason))
	f := apperr.Fields{}
	checkText(f, "reason", reason, 1, maxReasonLen, "La raison")
	if err := f.Err(); err != nil {
		return nil, err
	}
	var out *Argument
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		a, err := argumentByID(ctx, tx, councilID, id)
		if err != nil {
			return err
		}
		if a.Hidden() {
			return apperr.New(apperr.Conflict, "Cet argument est déjà masqué.")
		}
		now := time.Now()
		a.HiddenAt, a.HiddenByID, a.HiddenByName, a.HiddenReason = &now, by.NullableID(), by.Name, reason
		res, err := tx.NewUpdate().Model(a).Column("hidden_at", "hidden_by_id", "hidden_by_name", "hidden_reason").
			WherePK().Where("council_id = ? AND hidden_at IS NULL", councilID).Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return apperr.New(apperr.Conflict, "Cet argument est déjà masqué.")
		}
		out = a
		return audit.Record(ctx, tx, by.Entry(&councilID, "argument.hide", "argument", strconv.FormatInt(a.ID, 10),
			"Argument masqué : "+reason).About(a.AuthorName), nil, map[string]any{"reason": reason})
	})
	return out, err
}

// debateArgumentsSQL is every argument of a debate with its criterion's name,
// oldest first: the columns scanArguments reads, in its order.
const debateArgumentsSQL = `SELECT a.id, a.debate_id, a.parent_id, a.stance, a.criterion_id, a.body_html,
	a.author_id, a.author_name, a.created_at, a.edited_at, a.hidden_at, a.hidden_by_name, a.hidden_reason, a.is_demo,
	coalesce(c.name, '')
	FROM arguments a LEFT JOIN criteria c ON c.id = a.criterion_id
	WHERE a.council_id = $1 AND a.debate_id = $2
	ORDER BY a.created_at, a.id`

// DebateArguments returns every argument of a debate (replies nested under their
// argument), oldest first, in one query whatever their number. Pages filter by
// criterion in Go, so that the balance chart still counts every argument.
//
// It is the debate page's measured fast path (docs/perf.md, issue 22): pgx on
// the pool's connection, scanned by hand into one slice of arguments. bun's
// reflection and database/sql's per-value conversions were a third of the
// page's CPU with 500 arguments.
func DebateArguments(ctx context.Context, db *bun.DB, councilID, debateID int64) ([]*Argument, error) {
	var all []*Argument
	err := database.WithConn(ctx, db, func(pc *pgx.Conn) error {
		rows, err := pc.Query(ctx, debateArgumentsSQL, councilID, debateID)
		if err != nil {
			return err
		}
		all, err = scanArguments(rows)
		return err
	})
	if err != nil {
		return nil, err
	}
	return nest(all), nil
}

// scanArguments reads the rows of debateArgumentsSQL. The arguments live in
// one slice and their optional values in a second one, so that 500 rows make
// a handful of allocations besides their strings.
func scanArguments(rows pgx.Rows) ([]*Argument, error) {
	defer rows.Close()
	store := make([]Argument, 0, 64)
	type optional struct {
		parent, criterion, author pgtype.Int8
		edited, hidden            pgtype.Timestamptz
	}
	var o optional
	var stance string
	for rows.Next() {
		store = append(store, Argument{})
		a := &store[len(store)-1]
		if err := rows.Scan(&a.ID, &a.DebateID, &o.parent, &stance, &o.criterion, &a.BodyHTML,
			&o.author, &a.AuthorName, &a.CreatedAt, &o.edited, &o.hidden, &a.HiddenByName, &a.HiddenReason, &a.IsDemo,
			&a.CriterionName); err != nil {
			return nil, err
		}
		a.Stance = Stance(stance)
		if o.parent.Valid || o.criterion.Valid || o.author.Valid {
			ids := make([]int64, 3)
			if o.parent.Valid {
				ids[0], a.ParentID = o.parent.Int64, &ids[0]
			}
			if o.criterion.Valid {
				ids[1], a.CriterionID = o.criterion.Int64, &ids[1]
			}
			if o.author.Valid {
				ids[2], a.AuthorID = o.author.Int64, &ids[2]
			}
		}
		if o.edited.Valid {
			t := o.edited.Time
			a.EditedAt = &t
		}
		if o.hidden.Valid {
			t := o.hidden.Time
			a.HiddenAt = &t
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	all := make([]*Argument, len(store))
	for i := range store {
		all[i] = &store[i]
	}
	return all, nil
}

func nest(all []*Argument) []*Argument {
	byID := make(map[int64]*Argument, len(all))
	var top []*Argument
	for _, a := range all {
		byID[a.ID] = a
	}
	for _, a := range all {
		if a.ParentID == nil {
			top = append(top, a)
		} else if p, ok := byID[*a.ParentID]; ok {
			p.Replies = append(p.Replies, a)
		}
	}
	return top
}

// ArgumentThread returns one argument of a debate with its replies (two rows
// kinds, one query), or NotFound. For a reply, it returns the reply alone.
func ArgumentThread(ctx context.Context, db bun.IDB, councilID, debateID, id int64) (*Argument, error) {
	var all []*Argument
	err := db.NewSelect().Model(&all).ModelTableExpr("arguments AS a").
		Column(argumentColumns...).
		ColumnExpr("coalesce(c.name, '') AS criterion_name").
		Join("LEFT JOIN criteria AS c ON c.id = a.criterion_id").
		Where("a.council_id = ? AND a.debate_id = ? AND (a.id = ? OR a.parent_id = ?)", councilID, debateID, id, id).
		Order("a.created_at", "a.id").
		Scan(ctx)
	if err != nil {
		return nil, err
	}
	for _, a := range all {
		if a.ID == id {
			if a.ParentID == nil {
				for _, r := range all {
					if r.ParentID != nil && *r.ParentID == id {
						a.Replies = append(a.Replies, r)
					}
				}
			}
			return a, nil
		}
	}
	return nil, apperr.New(apperr.NotFound, "Cet argument n'existe pas dans ce débat.")
}

// Revision is an earlier text of an argument.
type Revision struct {
	ID            int64     `bun:"id"`
	Stance        Stance    `bun:"stance"`
	CriterionName string    `bun:"criterion_name"`
	BodyHTML      string    `bun:"body_html"`
	WrittenAt     time.Time `bun:"written_at"`
	ReplacedAt    time.Time `bun:"replaced_at"`
}

// ArgumentRevisions returns the earlier texts of an argument, newest first.
func ArgumentRevisions(ctx context.Context, db bun.IDB, councilID, argumentID int64) ([]Revision, error) {
	var out []Revision
	err := db.NewRaw(`SELECT r.id, r.stance, coalesce(c.name, '') AS criterion_name, r.body_html, r.written_at, r.replaced_at
		FROM argument_revisions r LEFT JOIN criteria c ON c.id = r.criterion_id
		WHERE r.council_id = ? AND r.argument_id = ? ORDER BY r.id DESC`, councilID, argumentID).Scan(ctx, &out)
	return out, err
}

// argumentSource returns the markdown of an argument, for its author's edit form.
func argumentSource(ctx context.Context, db bun.IDB, councilID, id int64) (string, error) {
	var src string
	err := db.NewSelect().Table("arguments").Column("body_md").Where("council_id = ? AND id = ?", councilID, id).Scan(ctx, &src)
	return src, err
}
