package notify

import (
	"context"
	"strconv"
	"strings"

	"github.com/uptrace/bun"

	"cla/internal/apperr"
	"cla/internal/auth"
	"cla/internal/council"
	"cla/internal/database"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Prefs returns a member's choices, every kind filled (Immediate when never
// chosen).
func Prefs(ctx context.Context, db bun.IDB, councilID, accountID int64) (map[Kind]Pref, error) {
	var rows []Pref
	if err := db.NewSelect().Model(&rows).Where("council_id = ? AND account_id = ?", councilID, accountID).Scan(ctx); err != nil {
		return nil, err
	}
	out := make(map[Kind]Pref, len(allKinds))
	for _, k := range allKinds {
		out[k] = Pref{CouncilID: councilID, AccountID: accountID, Kind: k, Delivery: Immediate}
	}
	for _, r := range rows {
		out[r.Kind] = r
	}
	return out, nil
}

// SavePrefs stores a member's choices. Convocations cannot be turned off
// while the member holds a seat (every member of a council does): their
// delivery is always Immediate, to the second address when one is given.
func SavePrefs(ctx context.Context, db bun.IDB, prefs []Pref) error {
	if len(prefs) == 0 {
		return nil
	}
	for i := range prefs {
		p := &prefs[i]
		if p.Kind == KindConvocation {
			p.Delivery = Immediate
		} else {
			p.Address = ""
		}
	}
	_, err := db.NewInsert().Model(&prefs).
		On("CONFLICT (council_id, account_id, kind) DO UPDATE").
		Set("delivery = EXCLUDED.delivery, address = EXCLUDED.address, updated_at = now()").Exec(ctx)
	return err
}

// ForAccount lists what was sent, or would have been, to a member of a
// council, the latest first.
func ForAccount(ctx context.Context, db bun.IDB, councilID, accountID int64, limit int) ([]Notification, error) {
	var ns []Notification
	err := db.NewSelect().Model(&ns).
		Column("id", "council_id", "kind", "email", "subject", "body_text", "link", "state", "created_at", "sent_at").
		Where("council_id = ? AND account_id = ?", councilID, accountID).
		Order("created_at DESC", "id DESC").Limit(limit).Scan(ctx)
	return ns, err
}

// ForCouncil lists the council's notifications with their delivery state,
// the latest first, for the facilitators.
func ForCouncil(ctx context.Context, db bun.IDB, councilID int64, limit int) ([]Notification, error) {
	var ns []Notification
	err := db.NewSelect().Model(&ns).
		Column("n.id", "n.council_id", "n.recipient", "n.kind", "n.email", "n.subject", "n.state", "n.answer", "n.attempts", "n.created_at", "n.updated_at", "n.sent_at").
		Column("n.account_id").
		Where("n.council_id = ?", councilID).
		Order("n.created_at DESC", "n.id DESC").Limit(limit).Scan(ctx)
	if err != nil || len(ns) == 0 {
		return ns, err
	}
	// A citizen's address is the operator's to see only: the log shows the
	// delivery, not who.
	for i := range ns {
		if strings.HasPrefix(ns[i].Recipient, subscriberPrefix) {
			ns[i].Email, ns[i].Name = "", "Abonné·e au résumé public"
		}
	}
	// The recipients' names, in one more statement (internal/auth owns them).
	var ids []int64
	for _, n := range ns {
		if n.AccountID != nil {
			ids = append(ids, *n.AccountID)
		}
	}
	names, err := auth.AccountNames(ctx, db, ids)
	if err != nil {
		return nil, err
	}
	byID := make(map[int64]string, len(names))
	for _, a := range names {
		byID[a.ID] = a.Name
	}
	for i, n := range ns {
		if n.AccountID != nil {
			ns[i].Name = byID[*n.AccountID]
		}
	}
	return ns, nil
}

// get loads one of the council's notifications.
func get(ctx context.Context, db bun.IDB, councilID, id int64) (*Notification, error) {
	n := new(Notification)
	err := db.NewSelect().Model(n).Where("id = ? AND council_id = ?", id, councilID).Scan(ctx)
	if database.IsNoRows(err) {
		return nil, apperr.New(apperr.NotFound, "Message introuvable.")
	}
	return n, err
}

// stateOf returns the state of a recipient's notification of an event, ""
// when there is none.
func stateOf(ctx context.Context, db bun.IDB, councilID int64, recipient, eventKey string) (State, error) {
	var s State
	err := db.NewSelect().Model((*Notification)(nil)).Column("state").
		Where("council_id = ? AND recipient = ? AND event_key = ?", councilID, recipient, eventKey).Scan(ctx, &s)
	if database.IsNoRows(err) {
		return "", nil
	}
	return s, err
}

// convened reports whether a convocation to a meeting already went out (or
// was recorded) to anyone.
func convened(ctx context.Context, db bun.IDB, councilID, meetingID int64) (bool, error) {
	return db.NewSelect().Model((*Notification)(nil)).
		Where("council_id = ? AND kind = ? AND event_key LIKE ?", councilID, KindConvocation, "convocation-"+itoa(meetingID)+"-%").
		Where("state IN (?, ?)", Sent, Recorded).Exists(ctx)
}

// DigestWeekday returns the ISO weekday (1 = Monday) of the council's weekly
// digest.
func DigestWeekday(ctx context.Context, db bun.IDB, councilID int64) (int, error) {
	var day int
	err := db.NewSelect().Table("notification_settings").Column("digest_weekday").Where("council_id = ?", councilID).Scan(ctx, &day)
	if database.IsNoRows(err) {
		return 1, nil
	}
	return day, err
}

// SaveDigestWeekday sets the day of the council's weekly digest.
func SaveDigestWeekday(ctx context.Context, db bun.IDB, councilID int64, day int) error {
	if day < 1 || day > 7 {
		return apperr.Fields{"digest_weekday": "Choisissez un jour de la semaine."}.Err()
	}
	_, err := db.NewRaw(`INSERT INTO notification_settings (council_id, digest_weekday) VALUES (?, ?)
		ON CONFLICT (council_id) DO UPDATE SET digest_weekday = EXCLUDED.digest_weekday, updated_at = now()`, councilID, day).Exec(ctx)
	return err
}

// councilsWithDigestOn lists the councils whose digest day is weekday.
func councilsWithDigestOn(ctx context.Context, db bun.IDB, weekday int) ([]int64, error) {
	all, err := council.IDs(ctx, db)
	if err != nil {
		return nil, err
	}
	var settings []struct {
		CouncilID int64 `bun:"council_id"`
		Weekday   int   `bun:"digest_weekday"`
	}
	if err := db.NewSelect().Table("notification_settings").Column("council_id", "digest_weekday").Scan(ctx, &settings); err != nil {
		return nil, err
	}
	day := make(map[int64]int, len(settings))
	for _, st := range settings {
		day[st.CouncilID] = st.Weekday
	}
	var ids []int64
	for _, id := range all {
		d, ok := day[id]
		if !ok {
			d = 1 // a council without settings has its digest on Monday
		}
		if d == weekday {
			ids = append(ids, id)
		}
	}
	return ids, nil
}
