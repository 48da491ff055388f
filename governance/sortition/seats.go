package sortition

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"cla/governance/sortition/draw"
	"cla/internal/apperr"
	"cla/internal/audit"
	"cla/internal/database"
)

// SeatState is where a seat won by lot stands.
type SeatState string

// The states of a seat.
const (
	SeatInvited  SeatState = "invited"  // the volunteer is asked to accept
	SeatAccepted SeatState = "accepted" // held until TermEndsAt
	SeatDeclined SeatState = "declined" // offered to the next on the reserve list
)

// Seat is a seat won by lot.
type Seat struct {
	ID         int64      `bun:"id"`
	DrawID     int64      `bun:"draw_id"`
	Pseudonym  string     `bun:"pseudonym"`
	State      SeatState  `bun:"state"`
	DecidedAt  *time.Time `bun:"decided_at"`
	TermEndsAt *time.Time `bun:"term_ends_at"`
}

// Label is the seat's state in French, at now: an accepted seat whose term
// is over is shown as ended, with no job needed to end it.
func (s *Seat) Label(now time.Time) string {
	switch {
	case s.State == SeatInvited:
		return "invitation en attente"
	case s.State == SeatDeclined:
		return "refusé, proposé à la suppléance"
	case s.TermEndsAt != nil && !now.Before(*s.TermEndsAt):
		return "mandat terminé"
	}
	return "en mandat"
}

// Current reports whether the seat is held at now.
func (s *Seat) Current(now time.Time) bool {
	return s.State == SeatAccepted && s.TermEndsAt != nil && now.Before(*s.TermEndsAt)
}

// inviteSeats records the seats of a draw's result as invitations.
func inviteSeats(ctx context.Context, tx bun.Tx, councilID, drawID int64, ids []string) error {
	for _, id := range ids {
		if _, err := tx.ExecContext(ctx, "INSERT INTO sortition_seats (council_id, draw_id, pseudonym, state) VALUES (?, ?, ?, ?)",
			councilID, drawID, id, SeatInvited); err != nil {
			return err
		}
	}
	return nil
}

// Seats lists a draw's seats in the order they were offered.
func Seats(ctx context.Context, db bun.IDB, drawID int64) ([]Seat, error) {
	var ss []Seat
	err := db.NewRaw("SELECT id, draw_id, pseudonym, state, decided_at, term_ends_at FROM sortition_seats WHERE draw_id = ? ORDER BY id", drawID).Scan(ctx, &ss)
	if database.IsNoRows(err) {
		err = nil
	}
	return ss, err
}

// SeatOf returns the seat offered to a volunteer, nil when none.
func SeatOf(ctx context.Context, db bun.IDB, drawID int64, pseudonym string) (*Seat, error) {
	s := new(Seat)
	err := db.NewRaw("SELECT id, draw_id, pseudonym, state, decided_at, term_ends_at FROM sortition_seats WHERE draw_id = ? AND pseudonym = ?", drawID, pseudonym).Scan(ctx, s)
	if database.IsNoRows(err) {
		return nil, nil
	}
	return s, err
}

// Decide records a volunteer's answer to their seat. Accepting starts the
// term (the draw's term length from now); declining offers the seat to the
// first on the reserve list with the same answers (or, failing that, whose
// seat keeps every quota met), who is invited in turn. Audited. It returns
// the seat as decided.
func Decide(ctx context.Context, db bun.IDB, councilID int64, token string, accept bool, now time.Time) (*Seat, error) {
	var seat *Seat
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		v, err := VolunteerByToken(ctx, tx, token)
		if err != nil {
			return err
		}
		var slug string
		if err := tx.NewRaw("SELECT slug FROM sortition_draws WHERE id = ? AND council_id = ?", v.DrawID, councilID).Scan(ctx, &slug); err != nil {
			if database.IsNoRows(err) {
				return apperr.New(apperr.NotFound, "Ce lien de candidature n’existe pas.")
			}
			return err
		}
		d, err := lockDraw(ctx, tx, councilID, slug)
		if err != nil {
			return err
		}
		if seat, err = SeatOf(ctx, tx, d.ID, v.Pseudonym); err != nil {
			return err
		}
		if seat == nil {
			return apperr.New(apperr.NotFound, "Aucun siège ne vous est proposé dans ce tirage.")
		}
		if seat.State != SeatInvited {
			return apperr.New(apperr.Conflict, "Vous avez déjà répondu à ce siège.")
		}
		cid := councilID
		if accept {
			end := now.AddDate(0, d.TermMonths, 0)
			if _, err := tx.ExecContext(ctx, "UPDATE sortition_seats SET state = ?, decided_at = ?, term_ends_at = ? WHERE id = ?", SeatAccepted, now, end, seat.ID); err != nil {
				return err
			}
			seat.State, seat.DecidedAt, seat.TermEndsAt = SeatAccepted, &now, &end
			return audit.Record(ctx, tx, audit.Actor{}.Entry(&cid, "sortition.seat_accept", "sortition_draw", fmt.Sprint(d.ID),
				fmt.Sprintf("Tirage « %s » : %s accepte son siège jusqu’au %s", d.Title, v.Pseudonym, end.Format("2006-01-02"))), nil, nil)
		}
		if _, err := tx.ExecContext(ctx, "UPDATE sortition_seats SET state = ?, decided_at = ? WHERE id = ?", SeatDeclined, now, seat.ID); err != nil {
			return err
		}
		seat.State, seat.DecidedAt = SeatDeclined, &now
		next, err := nextReserve(ctx, tx, d, v.Pseudonym)
		if err != nil {
			return err
		}
		summary := fmt.Sprintf("Tirage « %s » : %s refuse son siège ; personne sur la liste de suppléance ne convient", d.Title, v.Pseudonym)
		if next != "" {
			if _, err := tx.ExecContext(ctx, "INSERT INTO sortition_seats (council_id, draw_id, pseudonym, state, replaces) VALUES (?, ?, ?, ?, ?)",
				councilID, d.ID, next, SeatInvited, seat.ID); err != nil {
				return err
			}
			summary = fmt.Sprintf("Tirage « %s » : %s refuse son siège, proposé à %s (liste de suppléance)", d.Title, v.Pseudonym, next)
		}
		return audit.Record(ctx, tx, audit.Actor{}.Entry(&cid, "sortition.seat_decline", "sortition_draw", fmt.Sprint(d.ID), summary), nil, nil)
	})
	return seat, err
}

// nextReserve picks who is offered a declined seat (draw.NextReserve over
// the seats not declined and everyone already offered one).
func nextReserve(ctx context.Context, tx bun.Tx, d *Draw, declined string) (string, error) {
	var c draw.Commitment
	if err := json.Unmarshal([]byte(*d.Commitment), &c); err != nil {
		return "", err
	}
	ss, err := Seats(ctx, tx, d.ID)
	if err != nil {
		return "", err
	}
	asked := map[string]bool{}
	var seated []string
	for _, s := range ss {
		asked[s.Pseudonym] = true
		if s.State != SeatDeclined {
			seated = append(seated, s.Pseudonym)
		}
	}
	next, ok := draw.NextReserve(&c, d.Result, append(seated, declined), declined, asked)
	if !ok {
		return "", nil
	}
	return next, nil
}

// CouncilSeat is a seat of a published draw as the council page (/conseil)
// shows it: who holds it (their name only once accepted and while the
// volunteer's data is kept), their strata, the term, or why it is empty.
type CouncilSeat struct {
	DrawSlug, DrawTitle string
	Holder              string    // "" while invited, after the term, or once anonymised
	Pseudonym           string    // the id the draw published
	Strata              []string  // "Tranche d'âge : 30-44 ans", in the draw's category order
	State               SeatState //
	TermStart, TermEnd  *time.Time
	Label               string // "en mandat", "mandat terminé", "invitation en attente"
	Held                bool   // the term runs at the time asked
}

// CouncilSeats lists the seats of the council's published draws that are
// not declined (a declined seat is replaced by the next on the reserve
// list), newest draw first, in one query. Whether a term is over is decided
// here against now, so the page never waits for a job to end it.
func CouncilSeats(ctx context.Context, db bun.IDB, councilID int64, now time.Time) ([]CouncilSeat, error) {
	var rows []struct {
		Slug       string            `bun:"slug"`
		Title      string            `bun:"title"`
		Categories []draw.Category   `bun:"categories,type:jsonb"`
		Pseudonym  string            `bun:"pseudonym"`
		Name       string            `bun:"name"`
		Strata     map[string]string `bun:"strata,type:jsonb"`
		State      SeatState         `bun:"state"`
		DecidedAt  *time.Time        `bun:"decided_at"`
		TermEndsAt *time.Time        `bun:"term_ends_at"`
	}
	err := db.NewRaw(`SELECT d.slug, d.title, d.categories, s.pseudonym, v.name, v.strata, s.state, s.decided_at, s.term_ends_at
		FROM sortition_seats s JOIN sortition_draws d ON d.id = s.draw_id
		JOIN sortition_volunteers v ON v.draw_id = s.draw_id AND v.pseudonym = s.pseudonym
		WHERE s.council_id = ? AND d.state = ? AND s.state <> ?
		ORDER BY d.randomness_at DESC NULLS LAST, d.id DESC, s.id`, councilID, Drawn, SeatDeclined).Scan(ctx, &rows)
	if err != nil && !database.IsNoRows(err) {
		return nil, err
	}
	out := make([]CouncilSeat, 0, len(rows))
	for _, r := range rows {
		seat := Seat{State: r.State, DecidedAt: r.DecidedAt, TermEndsAt: r.TermEndsAt}
		cs := CouncilSeat{DrawSlug: r.Slug, DrawTitle: r.Title, Pseudonym: r.Pseudonym, State: r.State,
			Label: seat.Label(now), TermEnd: r.TermEndsAt}
		if r.State == SeatAccepted {
			cs.TermStart = r.DecidedAt
		}
		if seat.Current(now) {
			cs.Held, cs.Holder = true, r.Name
		}
		for _, c := range r.Categories {
			if v, ok := r.Strata[c.Name]; ok && v != draw.PreferNotToSay {
				cs.Strata = append(cs.Strata, c.Name+" : "+v)
			}
		}
		out = append(out, cs)
	}
	return out, nil
}
