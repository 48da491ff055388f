package assembly

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"cla/internal/apperr"
	"cla/internal/audit"
	"cla/internal/auth"
	"cla/internal/database"
	"cla/internal/markdown"
)

// Minutes are amended by those who attended, then frozen. While the minutes
// are a draft, a member marked present at the meeting suggests an amendment:
// a passage of the draft and the text that should replace it. The
// facilitator accepts it (the draft changes, in the same transaction) or
// refuses it with a reason; both answers are in the audit trail. Approval
// freezes the text: the schema refuses any change to approved minutes
// (trigger minutes_approved_frozen), and the SHA-256 of the approved text is
// stored with it and written in the audit trail (freezeMinutes), so anyone
// can check the public text against the trail.

// AmendmentState is where a suggested amendment stands.
type AmendmentState string

// The amendment states.
const (
	AmendmentProposed AmendmentState = "propose"
	AmendmentAccepted AmendmentState = "accepte"
	AmendmentRefused  AmendmentState = "refuse"
)

// Label is the state in French.
func (s AmendmentState) Label() string {
	switch s {
	case AmendmentProposed:
		return "En attente"
	case AmendmentAccepted:
		return "Accepté"
	case AmendmentRefused:
		return "Refusé"
	}
	return string(s)
}

// Amendment is a change to draft minutes suggested by a member present.
type Amendment struct {
	bun.BaseModel `bun:"table:minutes_amendments"`

	ID           int64          `bun:"id,pk,autoincrement"`
	CouncilID    int64          `bun:"council_id"`
	MeetingID    int64          `bun:"meeting_id"`
	AuthorID     int64          `bun:"author_id"`
	Passage      string         `bun:"passage"`
	Replacement  string         `bun:"replacement"`
	Note         string         `bun:"note"`
	State        AmendmentState `bun:"state,nullzero,default:'propose'"`
	Answer       string         `bun:"answer"`
	AnsweredByID *int64         `bun:"answered_by_id"`
	AnsweredAt   *time.Time     `bun:"answered_at"`
	CreatedAt    time.Time      `bun:"created_at,nullzero,default:current_timestamp"`

	AuthorName string `bun:"-"`
}

// Validate checks an amendment's own fields.
func (a *Amendment) Validate() error {
	f := apperr.Fields{}
	a.Passage, a.Replacement, a.Note = strings.TrimSpace(a.Passage), strings.TrimSpace(a.Replacement), strings.TrimSpace(a.Note)
	if n := utf8.RuneCountInString(a.Passage); n < 1 || n > 5000 {
		f.Add("passage", "Citez le passage à modifier (5000 caractères au plus).")
	}
	if utf8.RuneCountInString(a.Replacement) > 5000 {
		f.Add("replacement", "Le nouveau texte compte 5000 caractères au plus.")
	} else if a.Replacement == a.Passage && a.Passage != "" {
		f.Add("replacement", "Le nouveau texte est identique au passage cité.")
	}
	if utf8.RuneCountInString(a.Note) > 2000 {
		f.Add("note", "L'explication compte 2000 caractères au plus.")
	}
	return f.Err()
}

// draftForUpdate locks a meeting and its draft minutes; approved minutes,
// or none, are refused with the reason.
func draftForUpdate(ctx context.Context, tx bun.Tx, councilID, meetingID int64) (*Minutes, error) {
	if _, err := lockMeeting(ctx, tx, councilID, meetingID); err != nil {
		return nil, err
	}
	m := new(Minutes)
	err := tx.NewSelect().Model(m).Where("meeting_id = ? AND council_id = ?", meetingID, councilID).For("UPDATE").Scan(ctx)
	if database.IsNoRows(err) {
		return nil, apperr.New(apperr.Conflict, "Cette séance n'a pas encore de brouillon de compte rendu.")
	}
	if err != nil {
		return nil, err
	}
	if m.Approved() {
		return nil, apperr.New(apperr.Conflict, "Le compte rendu est approuvé : son texte ne change plus.")
	}
	return m, nil
}

// SuggestAmendment records an amendment to a meeting's draft minutes by a
// member (actor) marked present at that meeting. The passage must appear
// exactly once in the draft, so that accepting it is unambiguous.
func SuggestAmendment(ctx context.Context, db *bun.DB, actor audit.Actor, a *Amendment) error {
	if err := a.Validate(); err != nil {
		return err
	}
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		m, err := draftForUpdate(ctx, tx, a.CouncilID, a.MeetingID)
		if err != nil {
			return err
		}
		present, err := tx.NewSelect().Model((*Attendance)(nil)).
			Where("meeting_id = ? AND council_id = ? AND member_id = ? AND status = ?", a.MeetingID, a.CouncilID, actor.AccountID, Present).Exists(ctx)
		if err != nil {
			return err
		}
		if !present {
			return apperr.New(apperr.Forbidden, "Seuls les membres présents à la séance proposent des amendements à son compte rendu.")
		}
		switch n := strings.Count(m.BodyMD, a.Passage); n {
		case 1:
		case 0:
			return apperr.Fields{"passage": "Ce passage ne figure pas dans le brouillon : copiez-le tel quel."}.Err()
		default:
			return apperr.Fields{"passage": fmt.Sprintf("Ce passage figure %d fois dans le brouillon : citez-en assez pour qu'il soit unique.", n)}.Err()
		}
		a.AuthorID, a.State = actor.AccountID, AmendmentProposed
		if _, err := tx.NewInsert().Model(a).Returning("id, created_at").Exec(ctx); err != nil {
			return fmt.Errorf("insert amendment: %w", err)
		}
		return audit.Record(ctx, tx, actor.Entry(&a.CouncilID, "minutes.amend", "minutes", strconv.FormatInt(a.MeetingID, 10),
			"Amendement proposé au compte rendu"), nil, a)
	})
}

// AnswerAmendment accepts or refuses a suggested amendment (the facilitator,
// actor). Accepting replaces the passage in the draft; a refusal needs a
// reason. The draft changed since the suggestion may no longer hold the
// passage: then the amendment can only be refused (with that reason).
func AnswerAmendment(ctx context.Context, db *bun.DB, actor audit.Actor, councilID, meetingID, id int64, accept bool, answer string) error {
	answer = strings.TrimSpace(answer)
	if !accept && answer == "" {
		return apperr.Fields{"answer": "Dites pourquoi l'amendement est refusé."}.Err()
	}
	if utf8.RuneCountInString(answer) > 2000 {
		return apperr.Fields{"answer": "La réponse compte 2000 caractères au plus."}.Err()
	}
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		m, err := draftForUpdate(ctx, tx, councilID, meetingID)
		if err != nil {
			return err
		}
		a := new(Amendment)
		err = tx.NewSelect().Model(a).Where("id = ? AND meeting_id = ? AND council_id = ?", id, meetingID, councilID).For("UPDATE").Scan(ctx)
		if database.IsNoRows(err) {
			return apperr.New(apperr.NotFound, "Amendement introuvable.")
		}
		if err != nil {
			return err
		}
		if a.State != AmendmentProposed {
			return apperr.New(apperr.Conflict, "Cet amendement a déjà reçu une réponse (%s).", strings.ToLower(a.State.Label()))
		}
		to, action, summary := AmendmentRefused, "minutes.amend_refuse", "Amendement au compte rendu refusé : "+answer
		if accept {
			if strings.Count(m.BodyMD, a.Passage) != 1 {
				return apperr.Fields{"answer": "Le passage amendé ne figure plus tel quel dans le brouillon : refusez l'amendement en le disant, ou modifiez le texte à la main."}.Err()
			}
			body := strings.Replace(m.BodyMD, a.Passage, a.Replacement, 1)
			if _, err := tx.NewUpdate().Model((*Minutes)(nil)).Set("body_md = ?", body).Set("body_html = ?", markdown.ToHTML(body)).
				Set("edited_by_name = ?", actor.Name).Set("updated_at = now()").
				Where("meeting_id = ? AND council_id = ? AND state = ?", meetingID, councilID, minutesDraft).Exec(ctx); err != nil {
				return err
			}
			to, action, summary = AmendmentAccepted, "minutes.amend_accept", "Amendement au compte rendu accepté"
		}
		if _, err := tx.NewUpdate().Model((*Amendment)(nil)).Set("state = ?", to).Set("answer = ?", answer).
			Set("answered_by_id = ?", actor.NullableID()).Set("answered_at = now()").
			Where("id = ? AND council_id = ?", id, councilID).Exec(ctx); err != nil {
			return err
		}
		return audit.Record(ctx, tx, actor.Entry(&councilID, action, "minutes", strconv.FormatInt(meetingID, 10), summary), a, nil)
	})
}

// Amendments lists the amendments suggested to a meeting's minutes, in
// order, with their authors' names.
func Amendments(ctx context.Context, db bun.IDB, councilID, meetingID int64) ([]Amendment, error) {
	var as []Amendment
	if err := db.NewSelect().Model(&as).Where("meeting_id = ? AND council_id = ?", meetingID, councilID).Order("id").Scan(ctx); err != nil {
		return nil, err
	}
	ids := make([]int64, len(as))
	for i, a := range as {
		ids[i] = a.AuthorID
	}
	names, err := auth.AccountNames(ctx, db, ids)
	if err != nil {
		return nil, err
	}
	for i := range as {
		as[i].AuthorName = nameOf(names, as[i].AuthorID)
	}
	return as, nil
}

// MinutesHash is the SHA-256 of a minutes text, in hexadecimal: what the
// approval stores and writes in the audit trail.
func MinutesHash(bodyMD string) string {
	sum := sha256.Sum256([]byte(bodyMD))
	return hex.EncodeToString(sum[:])
}

// minutesHashSQL is MinutesHash in SQL: the approval's UPDATE stores it
// with the state (the schema requires approved minutes to carry it).
const minutesHashSQL = "encode(sha256(convert_to(body_md, 'UTF8')), 'hex')"

// freezeMinutes completes an approval in its transaction: it checks the
// SHA-256 the approval stored against the text, and writes it in the audit
// trail. From then on the schema refuses any change to the minutes.
func freezeMinutes(ctx context.Context, tx bun.Tx, actor audit.Actor, councilID, meetingID int64, in *Meeting) error {
	var body, stored string
	if err := tx.NewSelect().Model((*Minutes)(nil)).Column("body_md").ColumnExpr("coalesce(body_sha256, '')").
		Where("meeting_id = ? AND council_id = ?", meetingID, councilID).Scan(ctx, &body, &stored); err != nil {
		return err
	}
	hash := MinutesHash(body)
	if hash != stored {
		return fmt.Errorf("minutes of meeting %d: stored hash %q, text hashes to %s", meetingID, stored, hash)
	}
	return audit.Record(ctx, tx, actor.Entry(&councilID, "minutes.freeze", "minutes", strconv.FormatInt(meetingID, 10),
		fmt.Sprintf("Compte rendu approuvé en séance « %s » et figé : SHA-256 %s", in.Title, hash)), nil, map[string]string{"sha256": hash})
}
