package debate

import (
	"context"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"golang.org/x/text/unicode/norm"

	"cla/internal/apperr"
	"cla/internal/audit"
	"cla/internal/auth"
	"cla/internal/database"
	"cla/internal/markdown"
)

// BacklogEntry is a requested debate with its number of supports.
type BacklogEntry struct {
	ID        int64       `bun:"id"`
	Slug      string      `bun:"slug"`
	Theme     Theme       `bun:"theme"`
	Title     string      `bun:"title"`
	Question  string      `bun:"question"`
	State     DebateState `bun:"state"`
	Supports  int         `bun:"supports"`
	Supported bool        `bun:"supported"` // by the account passed to Backlog
}

// Backlog returns the council's requested debates (state souhaité), most
// supported first, then oldest first: the order in which they should reach the
// meeting agenda. viewerID (0 for none) fills Supported. One query.
func Backlog(ctx context.Context, db bun.IDB, councilID, viewerID int64) ([]BacklogEntry, error) {
	var out []BacklogEntry
	err := db.NewRaw(`SELECT d.id, d.slug, d.theme, d.title, d.question, d.state,
			count(s.account_id)::int AS supports,
			coalesce(bool_or(s.account_id = ?), false) AS supported
		FROM debates d LEFT JOIN debate_supports s ON s.debate_id = d.id AND s.council_id = d.council_id
		WHERE d.council_id = ? AND d.state = ?
		GROUP BY d.id
		ORDER BY supports DESC, d.created_at, d.id`, viewerID, councilID, DebateRequested).Scan(ctx, &out)
	return out, err
}

// Support records a member's support for a requested debate; supporting twice
// is a no-op (UNIQUE (debate_id, account_id)). on=false withdraws it.
func Support(ctx context.Context, db bun.IDB, councilID int64, slug string, by audit.Actor, on bool) error {
	if by.AccountID == 0 {
		return apperr.New(apperr.Unauthorized, "Connectez-vous pour soutenir un débat.")
	}
	var d Debate
	err := db.NewSelect().Model(&d).Column("id", "state").Where("council_id = ? AND slug = ?", councilID, slug).Scan(ctx)
	if database.IsNoRows(err) {
		return apperr.New(apperr.NotFound, "Ce débat n'existe pas.")
	}
	if err != nil {
		return err
	}
	if !on {
		_, err = db.NewDelete().Table("debate_supports").
			Where("council_id = ? AND debate_id = ? AND account_id = ?", councilID, d.ID, by.AccountID).Exec(ctx)
		return err
	}
	if d.State != DebateRequested {
		return apperr.New(apperr.Conflict, "Seuls les débats souhaités peuvent être soutenus.")
	}
	_, err = db.NewRaw(`INSERT INTO debate_supports (council_id, debate_id, account_id) VALUES (?, ?, ?)
		ON CONFLICT (debate_id, account_id) DO NOTHING`, councilID, d.ID, by.AccountID).Exec(ctx)
	return err
}

// SuggestionStatus is where a public suggestion stands.
type SuggestionStatus string

// The statuses of a suggestion.
const (
	suggestionPending  SuggestionStatus = "en_attente"
	suggestionAccepted SuggestionStatus = "acceptee"
	suggestionRejected SuggestionStatus = "refusee"
)

// Label is the status in French.
func (s SuggestionStatus) Label() string {
	switch s {
	case suggestionPending:
		return "En attente de relecture"
	case suggestionAccepted:
		return "Acceptée"
	case suggestionRejected:
		return "Refusée"
	}
	return string(s)
}

// Suggestion is a debate topic someone suggested through the public form.
type Suggestion struct {
	bun.BaseModel `bun:"table:debate_suggestions"`

	ID         int64            `bun:"id,pk,autoincrement"`
	CouncilID  int64            `bun:"council_id"`
	Title      string           `bun:"title"`
	Question   string           `bun:"question"`
	Theme      Theme            `bun:"theme"`
	AuthorName string           `bun:"author_name"`
	Status     SuggestionStatus `bun:"status"`
	DebateID   *int64           `bun:"debate_id"`
	ReviewedBy *int64           `bun:"reviewed_by_id"`
	ReviewedAt *time.Time       `bun:"reviewed_at"`
	ReviewNote string           `bun:"review_note"`
	CreatedAt  time.Time        `bun:"created_at,nullzero,default:current_timestamp"`
}

// Validate checks what the public form sends.
func (s *Suggestion) Validate() error {
	f := apperr.Fields{}
	checkText(f, "title", s.Title, 3, maxTitleLen, "Le sujet")
	checkText(f, "question", s.Question, 0, maxQuestionLen, "La question")
	checkText(f, "author_name", s.AuthorName, 0, 100, "Le nom")
	if !s.Theme.Valid() {
		f.Add("theme", "Choisissez un thème de la liste.")
	}
	return f.Err()
}

// Suggestion rate limit: at most SuggestLimit suggestions per client address
// per SuggestWindow, counted in PostgreSQL (auth.TakeSlot) so that every app
// instance sees the same counts.
const (
	SuggestLimit  = 5
	suggestWindow = time.Hour
)

// Suggest records a public suggestion after the rate limit for clientIP. It
// waits for a facilitator's review. The limit's slot is taken once the form
// is valid (a typo costs nothing) and before the suggestion is written, in one
// statement (auth.TakeSlot), so that concurrent submissions cannot pass it
// together.
func Suggest(ctx context.Context, db bun.IDB, councilID int64, clientIP string, s *Suggestion) error {
	s.CouncilID, s.Status = councilID, suggestionPending
	s.Title = strings.TrimSpace(markdown.Clean(s.Title))
	s.Question = strings.TrimSpace(markdown.Clean(s.Question))
	s.AuthorName = strings.TrimSpace(markdown.Clean(s.AuthorName))
	if err := s.Validate(); err != nil {
		return err
	}
	key := "debate_suggest:" + strconv.FormatInt(councilID, 10) + ":" + clientIP
	slot, err := auth.TakeSlot(ctx, db, key, SuggestLimit, suggestWindow)
	if err != nil {
		return err
	}
	if !slot.Taken {
		return apperr.TooManyFor(slot.Wait, "Vous avez déjà proposé plusieurs sujets depuis une heure. %s", auth.RetryIn(slot.Wait))
	}
	if _, err = db.NewInsert().Model(s).Column("council_id", "title", "question", "theme", "author_name", "status").
		Returning("id, created_at").Exec(ctx); err != nil {
		if gerr := auth.GiveBack(ctx, db, key, slot); gerr != nil {
			return errors.Join(err, gerr)
		}
	}
	return err
}

// pendingSuggestions lists the suggestions waiting for review, oldest first.
func pendingSuggestions(ctx context.Context, db bun.IDB, councilID int64) ([]Suggestion, error) {
	var out []Suggestion
	err := db.NewSelect().Model(&out).
		Column("id", "title", "question", "theme", "author_name", "status", "created_at").
		Where("council_id = ? AND status = ?", councilID, suggestionPending).
		Order("created_at", "id").Limit(200).Scan(ctx)
	return out, err
}

// ReviewSuggestion accepts a suggestion (creating the requested debate, with
// the facilitator's possibly corrected title and question) or rejects it.
func ReviewSuggestion(ctx context.Context, db *bun.DB, councilID, id int64, by audit.Actor, accept bool, note string) (*Debate, error) {
	var out *Debate
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		s := new(Suggestion)
		err := tx.NewSelect().Model(s).Where("council_id = ? AND id = ?", councilID, id).For("UPDATE").Scan(ctx)
		if database.IsNoRows(err) {
			return apperr.New(apperr.NotFound, "Cette suggestion n'existe pas.")
		}
		if err != nil {
			return err
		}
		if s.Status != suggestionPending {
			return apperr.New(apperr.Conflict, "Cette suggestion a déjà été relue.")
		}
		now := time.Now()
		s.ReviewedBy, s.ReviewedAt, s.ReviewNote = by.NullableID(), &now, strings.TrimSpace(markdown.Clean(note))
		if len([]rune(s.ReviewNote)) > 500 {
			return apperr.Fields{"note": "La note dépasse 500 caractères."}.Err()
		}
		s.Status = suggestionRejected
		if accept {
			d := &Debate{CouncilID: councilID, Theme: s.Theme, Title: s.Title, Question: s.Question, State: DebateRequested}
			if err := d.Validate(); err != nil {
				return err
			}
			if d.Slug, err = freeSlug(ctx, tx, councilID, d.Title); err != nil {
				return err
			}
			if _, err := tx.NewInsert().Model(d).Column("council_id", "slug", "theme", "title", "question", "state").
				Returning("id").Exec(ctx); err != nil {
				return err
			}
			s.Status, s.DebateID, out = suggestionAccepted, &d.ID, d
		}
		if _, err := tx.NewUpdate().Model(s).Column("status", "debate_id", "reviewed_by_id", "reviewed_at", "review_note").
			WherePK().Where("council_id = ?", councilID).Exec(ctx); err != nil {
			return err
		}
		return audit.Record(ctx, tx, by.Entry(&councilID, "debate_suggestion.review", "debate_suggestion", strconv.FormatInt(s.ID, 10),
			"Suggestion de débat « "+s.Title+" » : "+s.Status.Label()), nil, map[string]any{"status": s.Status, "note": s.ReviewNote})
	})
	return out, err
}

var nonSlug = regexp.MustCompile(`[^a-z0-9]+`)

// Slugify turns a French title into a URL slug: "Le riz de Camargue" → "le-riz-de-camargue".
func Slugify(title string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(strings.ToLower(title)) {
		switch {
		case r == 'œ':
			b.WriteString("oe")
		case r == 'æ':
			b.WriteString("ae")
		case r < 0x80:
			b.WriteRune(r)
		case r >= 0x300 && r <= 0x36f: // combining accents
		default:
			b.WriteByte('-')
		}
	}
	s := strings.Trim(nonSlug.ReplaceAllString(b.String(), "-"), "-")
	if len(s) > 100 {
		s = strings.TrimRight(s[:100], "-")
	}
	if s == "" {
		s = "debat"
	}
	return s
}

// freeSlug returns Slugify(title), suffixed -2, -3… until unused in the council.
func freeSlug(ctx context.Context, db bun.IDB, councilID int64, title string) (string, error) {
	base := Slugify(title)
	var taken []string
	if err := db.NewSelect().Table("debates").Column("slug").
		Where("council_id = ? AND (slug = ? OR slug LIKE ?)", councilID, base, base+"-%").Scan(ctx, &taken); err != nil {
		return "", err
	}
	used := map[string]bool{}
	for _, t := range taken {
		used[t] = true
	}
	slug := base
	for i := 2; used[slug] || reservedDebateSlugs[slug]; i++ {
		slug = base + "-" + strconv.FormatInt(int64(i), 10)
	}
	return slug, nil
}
