package assembly

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"cla/internal/apperr"
	"cla/internal/audit"
	"cla/internal/auth"
	"cla/internal/database"
)

// A proxy (procuration) lets a member who cannot come to a meeting vote
// through another member who comes: the holder casts the giver's ballot
// beside their own, each marked as whose (ballots.via, cast_by_id). A proxy
// holds for one meeting. Its giver (or the facilitator) may revoke it until
// the giver answers the roll; it falls when the giver is marked present, since
// they then vote in person. A revoked or fallen proxy's ballots in votes
// still open are withdrawn in the same transaction, and a cast through it
// takes the proxy row FOR SHARE (castSQL) while the revocation takes it FOR
// UPDATE: a ballot by proxy either commits before the revocation and is
// withdrawn by it, or waits and is refused. How many proxies a member may
// hold, and whether the members represented count towards the quorum, are
// the council's meeting rules (MeetingRules.ProxiesPerHolder,
// ProxiesInQuorum).

// ProxyState is where a proxy stands.
type ProxyState string

// The proxy states.
const (
	ProxyActive  ProxyState = "active"
	ProxyRevoked ProxyState = "revoquee"
	ProxyFallen  ProxyState = "tombee" // its giver came in person
)

// Label is the state in French.
func (s ProxyState) Label() string {
	switch s {
	case ProxyActive:
		return "Active"
	case ProxyRevoked:
		return "Révoquée"
	case ProxyFallen:
		return "Tombée (présence en personne)"
	}
	return string(s)
}

// ProxySource says how a proxy was given.
type ProxySource string

// The proxy sources.
const (
	ProxyOnSite ProxySource = "site"   // by its giver, on the site
	ProxyPaper  ProxySource = "papier" // recorded by the facilitator from a signed paper
)

// BallotVia says who entered a ballot when it is not its member's own.
type BallotVia string

// The ways a ballot is entered.
const (
	BallotInPerson BallotVia = ""            // by the member
	BallotByProxy  BallotVia = "procuration" // by the holder of the member's proxy
	BallotOnPaper  BallotVia = "papier"      // by the facilitator, from the member's paper ballot
)

// Proxy is one member's proxy to another for one meeting.
type Proxy struct {
	bun.BaseModel `bun:"table:proxies"`

	ID           int64       `bun:"id,pk,autoincrement"`
	CouncilID    int64       `bun:"council_id"`
	MeetingID    int64       `bun:"meeting_id"`
	GiverID      int64       `bun:"giver_id"`
	HolderID     int64       `bun:"holder_id"`
	Source       ProxySource `bun:"source"`
	RecordedByID *int64      `bun:"recorded_by_id"`
	State        ProxyState  `bun:"state,nullzero,default:'active'"`
	GivenAt      time.Time   `bun:"given_at,nullzero,default:current_timestamp"`
	EndedAt      *time.Time  `bun:"ended_at"`

	// Read with the meeting's proxies.
	GiverName  string `bun:"giver_name,scanonly"`
	HolderName string `bun:"holder_name,scanonly"`
	// Revocable is set on a meeting's page: the viewer may revoke it now.
	Revocable bool `bun:"-"`
}

// Validate checks a proxy's own fields.
func (p *Proxy) Validate() error {
	f := apperr.Fields{}
	if p.HolderID == 0 {
		f.Add("holder", "Choisissez le membre qui vous représentera.")
	} else if p.HolderID == p.GiverID {
		f.Add("holder", "On ne se donne pas procuration à soi-même.")
	}
	if p.GiverID == 0 {
		f.Add("giver", "Choisissez le membre représenté.")
	}
	if p.Source != ProxyOnSite && p.Source != ProxyPaper {
		f.Add("source", "Procuration inconnue.")
	}
	return f.Err()
}

// GiveProxy records a proxy for a meeting that is planned or in progress.
// The giver is not present, holds no proxy and has no other active one; the
// holder is an active member who gives none and holds fewer than the
// council's rules allow. The meeting row is locked, so two proxies given at
// once to the same holder cannot both pass the limit.
func GiveProxy(ctx context.Context, db *bun.DB, actor audit.Actor, p *Proxy) error {
	if err := p.Validate(); err != nil {
		return err
	}
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		m, err := lockMeeting(ctx, tx, p.CouncilID, p.MeetingID)
		if err != nil {
			return err
		}
		if m.State != MeetingPlanned && m.State != MeetingOpen {
			return apperr.New(apperr.Conflict, "Une procuration se donne pour une séance prévue ou en cours (séance « %s »).", m.State.Label())
		}
		active, err := auth.ActiveMemberIDs(ctx, tx, p.CouncilID, []int64{p.GiverID, p.HolderID})
		if err != nil {
			return err
		}
		if len(active) != 2 {
			return apperr.Fields{"holder": "Une procuration se donne entre deux membres du Conseil."}.Err()
		}
		var facts struct {
			GiverPresent bool `bun:"giver_present"`
			GiverGives   bool `bun:"giver_gives"`
			GiverHolds   bool `bun:"giver_holds"`
			HolderGives  bool `bun:"holder_gives"`
			HolderHolds  int  `bun:"holder_holds"`
		}
		if err := tx.NewRaw(`SELECT
			EXISTS (SELECT 1 FROM attendances WHERE meeting_id = ?0 AND council_id = ?1 AND member_id = ?2 AND status = ?4) AS giver_present,
			EXISTS (SELECT 1 FROM proxies WHERE meeting_id = ?0 AND council_id = ?1 AND giver_id = ?2 AND state = ?5) AS giver_gives,
			EXISTS (SELECT 1 FROM proxies WHERE meeting_id = ?0 AND council_id = ?1 AND holder_id = ?2 AND state = ?5) AS giver_holds,
			EXISTS (SELECT 1 FROM proxies WHERE meeting_id = ?0 AND council_id = ?1 AND giver_id = ?3 AND state = ?5) AS holder_gives,
			(SELECT count(*) FROM proxies WHERE meeting_id = ?0 AND council_id = ?1 AND holder_id = ?3 AND state = ?5) AS holder_holds`,
			p.MeetingID, p.CouncilID, p.GiverID, p.HolderID, Present, ProxyActive).Scan(ctx, &facts); err != nil {
			return err
		}
		rules, err := Rules(ctx, tx, p.CouncilID)
		if err != nil {
			return err
		}
		f := apperr.Fields{}
		switch {
		case facts.GiverPresent:
			f.Add("giver", "Ce membre est noté présent à la séance : il vote en personne.")
		case facts.GiverGives:
			f.Add("giver", "Ce membre a déjà donné une procuration pour cette séance : révoquez-la d'abord.")
		case facts.GiverHolds:
			f.Add("giver", "Ce membre porte une procuration pour cette séance : il doit venir pour la porter.")
		}
		switch {
		case facts.HolderGives:
			f.Add("holder", "Ce membre a lui-même donné procuration pour cette séance.")
		case rules.ProxiesPerHolder == 0:
			f.Add("holder", "Les règles du Conseil n'admettent pas de procuration.")
		case facts.HolderHolds >= rules.ProxiesPerHolder:
			f.Add("holder", fmt.Sprintf("Ce membre porte déjà %d procuration(s) : les règles du Conseil en admettent %d par membre.", facts.HolderHolds, rules.ProxiesPerHolder))
		}
		if err := f.Err(); err != nil {
			return err
		}
		p.State, p.RecordedByID, p.EndedAt = ProxyActive, actor.NullableID(), nil
		if _, err := tx.NewInsert().Model(p).Returning("id, given_at").Exec(ctx); err != nil {
			return fmt.Errorf("insert proxy: %w", err)
		}
		names, err := auth.AccountNames(ctx, tx, []int64{p.GiverID, p.HolderID})
		if err != nil {
			return err
		}
		p.GiverName, p.HolderName = nameOf(names, p.GiverID), nameOf(names, p.HolderID)
		how := "sur le site"
		if p.Source == ProxyPaper {
			how = "sur papier signé, saisie par " + actor.Name
		}
		return audit.Record(ctx, tx, actor.Entry(&p.CouncilID, "proxy.give", "proxy", strconv.FormatInt(p.ID, 10),
			fmt.Sprintf("Procuration de %s à %s pour la séance « %s » (%s)", p.GiverName, p.HolderName, m.Title, how)), nil, p)
	})
}

func nameOf(names []auth.AccountName, id int64) string {
	for _, n := range names {
		if n.ID == id {
			return n.Name
		}
	}
	return "#" + strconv.FormatInt(id, 10)
}

// RevokeProxy revokes an active proxy of a meeting, by its giver (asGiver:
// actor must be the giver) or by the facilitator, until the giver answers
// the roll. Its ballots in votes still open are withdrawn.
func RevokeProxy(ctx context.Context, db *bun.DB, actor audit.Actor, councilID, meetingID, proxyID int64, asGiver bool) error {
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		m, err := GetMeeting(ctx, tx, councilID, meetingID)
		if err != nil {
			return err
		}
		p := new(Proxy)
		err = tx.NewSelect().Model(p).Where("id = ? AND meeting_id = ? AND council_id = ?", proxyID, meetingID, councilID).For("UPDATE").Scan(ctx)
		if database.IsNoRows(err) || (err == nil && asGiver && p.GiverID != actor.AccountID) {
			return apperr.New(apperr.NotFound, "Procuration introuvable.")
		}
		if err != nil {
			return err
		}
		if p.State != ProxyActive {
			return apperr.New(apperr.Conflict, "Cette procuration n'est plus active (%s).", p.State.Label())
		}
		onRoll, err := tx.NewSelect().Table("attendances").
			Where("meeting_id = ? AND council_id = ? AND member_id = ?", meetingID, councilID, p.GiverID).Exists(ctx)
		if err != nil {
			return err
		}
		if onRoll {
			return apperr.New(apperr.Conflict, "L'appel a été fait pour ce membre : la procuration ne se révoque plus (elle tombe s'il vient en personne).")
		}
		n, err := endProxies(ctx, tx, councilID, meetingID, []int64{p.ID}, ProxyRevoked)
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, actor.Entry(&councilID, "proxy.revoke", "proxy", strconv.FormatInt(p.ID, 10),
			fmt.Sprintf("Procuration révoquée pour la séance « %s » (%d bulletin(s) retiré(s))", m.Title, n)), p, nil)
	})
}

// endProxies ends the given active proxies (revoked or fallen) and withdraws
// their ballots in the meeting's votes still open. It returns how many
// ballots were withdrawn.
func endProxies(ctx context.Context, tx bun.Tx, councilID, meetingID int64, ids []int64, to ProxyState) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	var ended []Proxy
	if err := tx.NewRaw(`UPDATE proxies SET state = ?, ended_at = now()
		WHERE id IN (?) AND council_id = ? AND meeting_id = ? AND state = ? RETURNING giver_id, holder_id`,
		to, bun.List(ids), councilID, meetingID, ProxyActive).Scan(ctx, &ended); err != nil {
		return 0, err
	}
	n := 0
	for _, p := range ended {
		res, err := tx.NewRaw(`DELETE FROM ballots b USING votes v
			WHERE b.vote_id = v.id AND b.council_id = v.council_id AND v.meeting_id = ? AND v.council_id = ? AND v.state = ?
			AND b.member_id = ? AND b.cast_by_id = ? AND b.via = ?`,
			meetingID, councilID, VoteOpen, p.GiverID, p.HolderID, BallotByProxy).Exec(ctx)
		if err != nil {
			return n, err
		}
		k, _ := res.RowsAffected()
		n += int(k)
	}
	return n, nil
}

// fallProxies makes the proxies of members marked present at a meeting fall:
// they vote in person. Called by RecordAttendance in its transaction.
func fallProxies(ctx context.Context, tx bun.Tx, councilID, meetingID int64, present []int64) error {
	if len(present) == 0 {
		return nil
	}
	var ids []int64
	if err := tx.NewSelect().Model((*Proxy)(nil)).Column("id").
		Where("meeting_id = ? AND council_id = ? AND state = ? AND giver_id IN (?)", meetingID, councilID, ProxyActive, bun.List(present)).
		For("UPDATE").Scan(ctx, &ids); err != nil {
		return err
	}
	_, err := endProxies(ctx, tx, councilID, meetingID, ids, ProxyFallen)
	return err
}

// MeetingProxies lists a meeting's proxies, active first, with names (read
// through auth: two queries).
func MeetingProxies(ctx context.Context, db bun.IDB, councilID, meetingID int64) ([]Proxy, error) {
	var ps []Proxy
	if err := db.NewSelect().Model(&ps).Where("meeting_id = ? AND council_id = ?", meetingID, councilID).
		OrderExpr("state = ? DESC, id", ProxyActive).Scan(ctx); err != nil {
		return nil, err
	}
	return ps, nameProxies(ctx, db, ps)
}

// nameProxies fills the givers' and holders' names.
func nameProxies(ctx context.Context, db bun.IDB, ps []Proxy) error {
	if len(ps) == 0 {
		return nil
	}
	ids := make([]int64, 0, 2*len(ps))
	for _, p := range ps {
		ids = append(ids, p.GiverID, p.HolderID)
	}
	names, err := auth.AccountNames(ctx, db, ids)
	if err != nil {
		return err
	}
	for i := range ps {
		ps[i].GiverName, ps[i].HolderName = nameOf(names, ps[i].GiverID), nameOf(names, ps[i].HolderID)
	}
	return nil
}

// countedProxies is the number of a meeting's active proxies whose holder is
// present: the members represented, which the quorum counts when the rules
// say so.
func countedProxies(ctx context.Context, db bun.IDB, councilID, meetingID int64) (int, error) {
	var n int
	err := db.NewRaw(`SELECT count(*) FROM proxies p
		WHERE p.meeting_id = ? AND p.council_id = ? AND p.state = ?
		AND EXISTS (SELECT 1 FROM attendances a WHERE a.meeting_id = p.meeting_id AND a.council_id = p.council_id
			AND a.member_id = p.holder_id AND a.status = ?)`, meetingID, councilID, ProxyActive, Present).Scan(ctx, &n)
	return n, err
}

// heldProxies lists the active proxies a member holds at a meeting, with the
// givers' names: the ballots they cast beside their own.
func heldProxies(ctx context.Context, db bun.IDB, councilID, meetingID, holderID int64) ([]Proxy, error) {
	var ps []Proxy
	if err := db.NewSelect().Model(&ps).Where("meeting_id = ? AND council_id = ? AND holder_id = ? AND state = ?",
		meetingID, councilID, holderID, ProxyActive).Order("id").Scan(ctx); err != nil {
		return nil, err
	}
	return ps, nameProxies(ctx, db, ps)
}

// proxyNote says how many ballots were cast by proxy or entered from paper
// ("" when none), after a result line.
func proxyNote(t *VoteTally) string {
	var parts []string
	if t.ByProxy > 0 {
		parts = append(parts, plural(t.ByProxy, "bulletin par procuration", "bulletins par procuration"))
	}
	if t.OnPaper > 0 {
		parts = append(parts, plural(t.OnPaper, "bulletin papier saisi par l'animation", "bulletins papier saisis par l'animation"))
	}
	if len(parts) == 0 {
		return ""
	}
	return " Dont " + strings.Join(parts, " et ") + "."
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
