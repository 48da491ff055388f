package assembly

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"cla/governance/boussole"
	"cla/internal/apperr"
	"cla/internal/audit"
	"cla/internal/council"
	"cla/internal/database"
	"cla/internal/markdown"
	"cla/internal/text"
	"cla/internal/web"
)

// Minutes are a meeting's compte rendu: a markdown draft written from the
// meeting, edited by the facilitator, approved at a later meeting and public
// once approved.
type Minutes struct {
	bun.BaseModel `bun:"table:minutes"`

	CouncilID    int64      `bun:"council_id"`
	MeetingID    int64      `bun:"meeting_id,pk"`
	BodyMD       string     `bun:"body_md"`
	BodyHTML     string     `bun:"body_html"`
	State        string     `bun:"state"`
	ApprovedAt   *time.Time `bun:"approved_at"`
	ApprovedInID *int64     `bun:"approved_in_id"`
	// BodySHA256 is the SHA-256 of the approved text (amendment.go).
	BodySHA256   *string   `bun:"body_sha256"`
	EditedByName string    `bun:"edited_by_name"`
	UpdatedAt    time.Time `bun:"updated_at,nullzero,default:current_timestamp"`
}

// The minutes states.
const (
	minutesDraft    = "brouillon"
	MinutesApproved = "approuve"
)

// Approved reports whether the minutes were approved (and so are public).
func (m *Minutes) Approved() bool { return m.State == MinutesApproved }

// ApprovedTime is the approval time (zero for a draft).
func (m *Minutes) ApprovedTime() time.Time {
	if m.ApprovedAt == nil {
		return time.Time{}
	}
	return *m.ApprovedAt
}

// GetMinutes returns a meeting's minutes, or nil when none were drafted.
func GetMinutes(ctx context.Context, db bun.IDB, councilID, meetingID int64) (*Minutes, error) {
	m := new(Minutes)
	err := db.NewSelect().Model(m).Where("meeting_id = ? AND council_id = ?", meetingID, councilID).Scan(ctx)
	if database.IsNoRows(err) {
		return nil, nil
	}
	return m, err
}

// draftMinutes writes the markdown draft of a meeting's minutes from its
// agenda, roll, votes and decisions.
func draftMinutes(ctx context.Context, db bun.IDB, councilID, meetingID int64) (string, error) {
	m, err := GetMeeting(ctx, db, councilID, meetingID)
	if err != nil {
		return "", err
	}
	agenda, err := Agenda(ctx, db, councilID, meetingID)
	if err != nil {
		return "", err
	}
	roll, err := rollOf(ctx, db, m)
	if err != nil {
		return "", err
	}
	q, err := quorumOf(ctx, db, councilID, meetingID)
	if err != nil {
		return "", err
	}
	votes, err := MeetingVotes(ctx, db, councilID, meetingID)
	if err != nil {
		return "", err
	}
	decisions, err := meetingDecisions(ctx, db, councilID, meetingID)
	if err != nil {
		return "", err
	}
	co, err := council.ByID(ctx, db, councilID)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	// The title at level 2: the minutes page gives the title as its one H1.
	fmt.Fprintf(&b, "## Compte rendu — %s\n\n", m.Title)
	// The council's own clock: a council overseas met at its hour, not Paris's.
	fmt.Fprintf(&b, "Séance du %s", web.FrenchDateTimeIn(m.StartsAt, co.Location()))
	if m.Place != "" {
		fmt.Fprintf(&b, ", %s", m.Place)
	}
	b.WriteString(".\n\n## Présences\n\n")
	var names = map[AttendanceStatus][]string{}
	for _, r := range roll {
		names[r.Status] = append(names[r.Status], r.Name)
	}
	for _, s := range []AttendanceStatus{Present, Excused, Absent} {
		fmt.Fprintf(&b, "- %s (%d) : %s\n", s.Label(), len(names[s]), joinOrDash(names[s]))
	}
	reached := "non atteint"
	if q.Reached() {
		reached = "atteint"
	}
	fmt.Fprintf(&b, "\nQuorum : %s pour %s (%s).\n\n## Ordre du jour\n\n", text.Count(q.Present, "présent·e", "présent·es"), text.Count(q.Required, "requis·e", "requis·es"), reached)
	for _, it := range agenda {
		fmt.Fprintf(&b, "%d. %s (%s)\n", it.Position, it.Title, strings.ToLower(it.Kind.Label()))
	}
	for _, it := range agenda {
		fmt.Fprintf(&b, "\n## %d. %s\n\n", it.Position, it.Title)
		if it.Notes != "" {
			b.WriteString(it.Notes + "\n\n")
		}
		if it.RectifiesID != nil {
			// What was put to the vote, whatever its outcome.
			fmt.Fprintf(&b, "Décision rectificative proposée pour la décision n° %d (%s). Motif : %s\n\n", *it.RectifiesID, it.RectifyStatusLabel(), it.RectifyReason)
		}
		any := false
		for i := range votes {
			v := &votes[i]
			if v.AgendaItemID != it.ID {
				continue
			}
			any = true
			fmt.Fprintf(&b, "**Vote** (%s) : %s\n\n", strings.ToLower(v.Method.Label()), v.Question)
			b.WriteString(tallyLine(v) + "\n\n")
		}
		for _, d := range decisions {
			if d.AgendaItemID != it.ID {
				continue
			}
			any = true
			fmt.Fprintf(&b, "**Décision** : %s.", d.Title)
			if d.RegisterVersion != nil {
				fmt.Fprintf(&b, " Registre version %d.", *d.RegisterVersion)
			}
			b.WriteString("\n\n" + d.MotivationMD + "\n")
		}
		if !any {
			b.WriteString("_Échanges à résumer._\n")
		}
	}
	return b.String(), nil
}

func joinOrDash(s []string) string {
	if len(s) == 0 {
		return "—"
	}
	return strings.Join(s, ", ")
}

// tallyLine says a closed vote's result in one French line.
func tallyLine(v *Vote) string {
	if v.Counted() && v.Tally != nil {
		return "Décompte à vérifier avant publication : " + countsLine(v, v.Tally) + "." + correctionNote(v.Tally)
	}
	if !v.Closed() || v.Tally == nil {
		return "Vote en cours."
	}
	// The note ends the result's first line, before any objection listed.
	line, rest, _ := strings.Cut(tallyResult(v), "\n")
	if rest != "" {
		rest = "\n" + rest
	}
	return line + proxyNote(v.Tally) + correctionNote(v.Tally) + rest
}

// countsLine says the counts of tally t of vote v, without the outcome: what
// a correction replaces, and how two counts are compared.
func countsLine(v *Vote, t *VoteTally) string {
	switch v.Method {
	case MethodMajority:
		return fmt.Sprintf("%d pour, %d contre, %s", t.For, t.Against, text.Count(t.Abstain, "abstention", "abstentions"))
	case MethodConsent:
		s := text.Count(t.Objections, "objection", "objections")
		if len(t.ObjectionReasons) > 0 {
			s += " (« " + strings.Join(t.ObjectionReasons, " » ; « ") + " »)"
		}
		return s
	case MethodJudgment:
		var parts []string
		for i, p := range t.Profiles {
			if i >= len(v.Options) {
				break
			}
			var grades []string
			for g := boussole.Excellent; g >= boussole.ARejeter; g-- {
				if n := p.Counts[g]; n > 0 {
					grades = append(grades, fmt.Sprintf("%d %s", n, strings.ToLower(g.Label())))
				}
			}
			if len(grades) == 0 {
				grades = []string{"aucune mention"}
			}
			parts = append(parts, "« "+v.Options[i].Label+" » : "+strings.Join(grades, ", "))
		}
		return strings.Join(parts, " ; ")
	}
	return ""
}

// correctionNote says, after a result, each correction made to its counts
// before publication: what they were and why they changed.
func correctionNote(t *VoteTally) string {
	var b strings.Builder
	for _, c := range t.Corrections {
		fmt.Fprintf(&b, " Décompte corrigé avant publication (il était de %s) — motif : « %s ».", c.Before, c.Reason)
	}
	return b.String()
}

// tallyResult says a closed vote's result in one French line.
func tallyResult(v *Vote) string {
	t := v.Tally
	switch v.Method {
	case MethodMajority:
		return fmt.Sprintf("Résultat : %d pour, %d contre, %s — %s (%s).", t.For, t.Against, text.Count(t.Abstain, "abstention", "abstentions"), v.OutcomeLabel(), v.Threshold.Label())
	case MethodConsent:
		s := fmt.Sprintf("Résultat : %s, %s — %s.", text.Count(t.Consent, "consentement", "consentements"), text.Count(t.Objections, "objection", "objections"), v.OutcomeLabel())
		// The reasons stay in the line: it is shown inside a sentence on the
		// vote and decision pages, where a "- " list marker reads as a stray dash.
		if n := len(t.ObjectionReasons); n > 0 {
			quoted := make([]string, n)
			for i, r := range t.ObjectionReasons {
				quoted[i] = "« " + r + " »"
			}
			s += " " + text.Plural(n, "Objection levée", "Objections levées") + " : " + strings.Join(quoted, " ; ") + "."
		}
		return s
	case MethodJudgment:
		var parts []string
		for i, p := range t.Profiles {
			if i < len(v.Options) {
				parts = append(parts, fmt.Sprintf("« %s » : %s", v.Options[i].Label, p.Median().Label()))
			}
		}
		s := "Mentions majoritaires : " + strings.Join(parts, " ; ") + "."
		if v.WinnerOption != nil && *v.WinnerOption <= len(v.Options) {
			s += " Option retenue : « " + v.Options[*v.WinnerOption-1].Label + " »."
		} else if t.Tie {
			s += " Égalité parfaite : aucune option retenue."
		}
		return s
	}
	return ""
}

// WriteDraftMinutes stores the generated draft; it never overwrites approved
// minutes, and overwrites an edited draft only when asked.
func WriteDraftMinutes(ctx context.Context, tx bun.IDB, councilID, meetingID int64, overwrite bool) error {
	md, err := draftMinutes(ctx, tx, councilID, meetingID)
	if err != nil {
		return err
	}
	m := &Minutes{CouncilID: councilID, MeetingID: meetingID, BodyMD: md, BodyHTML: markdown.ToHTML(md), State: minutesDraft}
	q := tx.NewInsert().Model(m)
	if overwrite {
		q = q.On("CONFLICT (meeting_id) DO UPDATE").Set("body_md = EXCLUDED.body_md, body_html = EXCLUDED.body_html, updated_at = now()").
			Where("minutes.state = ?", minutesDraft)
	} else {
		q = q.On("CONFLICT (meeting_id) DO NOTHING")
	}
	_, err = q.Exec(ctx)
	return err
}

// regenerateMinutes rewrites a meeting's draft from its current record
// (approved minutes never change).
func regenerateMinutes(ctx context.Context, db *bun.DB, actor audit.Actor, councilID, meetingID int64) error {
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := lockMeeting(ctx, tx, councilID, meetingID); err != nil {
			return err
		}
		approved, err := tx.NewSelect().Table("minutes").
			Where("meeting_id = ? AND council_id = ? AND state = ?", meetingID, councilID, MinutesApproved).Exists(ctx)
		if err != nil {
			return err
		}
		if approved {
			return apperr.New(apperr.Conflict, "Un compte rendu approuvé ne change plus.")
		}
		if err := WriteDraftMinutes(ctx, tx, councilID, meetingID, true); err != nil {
			return err
		}
		return recordMeeting(ctx, tx, actor, councilID, meetingID, auditMinutesDraft, "Brouillon du compte rendu régénéré", nil)
	})
}

// saveMinutes stores the facilitator's edit of a draft. The meeting is looked
// up first, in the council: another council's meeting, or none, is not found,
// whatever the state of its minutes.
func saveMinutes(ctx context.Context, db *bun.DB, actor audit.Actor, councilID, meetingID int64, bodyMD, editor string) error {
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := lockMeeting(ctx, tx, councilID, meetingID); err != nil {
			return err
		}
		bodyMD = strings.TrimSpace(bodyMD)
		if bodyMD == "" || len(bodyMD) > 100000 {
			return apperr.Fields{"body": "Le compte rendu est obligatoire (100 000 caractères au plus)."}.Err()
		}
		m := &Minutes{CouncilID: councilID, MeetingID: meetingID, BodyMD: bodyMD, BodyHTML: markdown.ToHTML(bodyMD),
			State: minutesDraft, EditedByName: editor}
		res, err := tx.NewInsert().Model(m).On("CONFLICT (meeting_id) DO UPDATE").
			Set("body_md = EXCLUDED.body_md, body_html = EXCLUDED.body_html, edited_by_name = EXCLUDED.edited_by_name, updated_at = now()").
			Where("minutes.state = ? AND minutes.council_id = ?", minutesDraft, councilID).Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return apperr.New(apperr.Conflict, "Un compte rendu approuvé ne change plus.")
		}
		return recordMeeting(ctx, tx, actor, councilID, meetingID, auditMinutesEdit, "Brouillon du compte rendu modifié", nil)
	})
}

// ApproveMinutes approves minutes as the system (ApproveMinutesAs names who).
func ApproveMinutes(ctx context.Context, db *bun.DB, councilID, meetingID, inMeetingID int64) error {
	return ApproveMinutesAs(ctx, db, audit.Actor{}, councilID, meetingID, inMeetingID)
}

// ApproveMinutesAs approves a closed meeting's minutes during a later meeting
// in progress (the next one), as a vote would: the quorum of that meeting
// must be reached (or the council allows decisions without it). They become
// public; the approval is in the audit trail.
// The approval freezes the text and writes its SHA-256 in the audit trail
// (freezeMinutes).
func ApproveMinutesAs(ctx context.Context, db *bun.DB, actor audit.Actor, councilID, meetingID, inMeetingID int64) error {
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		past, err := lockMeeting(ctx, tx, councilID, meetingID)
		if err != nil {
			return err
		}
		in, err := GetMeeting(ctx, tx, councilID, inMeetingID)
		if err != nil {
			return err
		}
		if past.State != MeetingClosed || in.State != MeetingOpen || !in.StartsAt.After(past.StartsAt) {
			return apperr.New(apperr.Conflict, "Un compte rendu s'approuve pendant une séance suivante, une fois sa séance close.")
		}
		q, err := quorumOf(ctx, tx, councilID, inMeetingID)
		if err != nil {
			return err
		}
		if !q.VoteAllowed() {
			return errNoQuorum(q, "le compte rendu ne peut pas être approuvé")
		}
		res, err := tx.NewUpdate().Model((*Minutes)(nil)).Set("state = ?", MinutesApproved).Set("approved_at = now()").
			Set("approved_in_id = ?", inMeetingID).Set("updated_at = now()").Set("body_sha256 = "+minutesHashSQL).
			Where("meeting_id = ? AND council_id = ? AND state = ?", meetingID, councilID, minutesDraft).Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return apperr.New(apperr.Conflict, "Pas de brouillon de compte rendu à approuver.")
		}
		if err := recordMeeting(ctx, tx, actor, councilID, meetingID, auditMinutesApprove,
			fmt.Sprintf("Compte rendu approuvé en séance « %s » (%d présent·es, %d requis·es)", in.Title, q.Present, q.Required),
			map[string]any{"in": inMeetingID, "present": q.Present, "required": q.Required}); err != nil {
			return err
		}
		return freezeMinutes(ctx, tx, actor, councilID, meetingID, in)
	})
}
