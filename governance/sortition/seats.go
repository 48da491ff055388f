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
