// Package sortition stores the council's draws by lot among volunteers:
// the draws facilitators prepare, the volunteers and their private links,
// the commitment published at closing, the randomness entered once and the
// result, all chained into the audit trail. The selection itself is the pure
// package draw (docs/sortition.md).
package sortition

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"cla/governance/sortition/drand"
	"cla/governance/sortition/draw"
	"cla/internal/apperr"
	"cla/internal/audit"
	"cla/internal/auth"
	"cla/internal/database"
)

// State is where a draw stands.
type State string

// The states of a draw, in order.
const (
	Open      State = "open"      // volunteering is open (until closes_at)
	Committed State = "committed" // the commitment is published, randomness awaited
	Drawn     State = "drawn"     // randomness entered, result published
)

// Draw is a draw as stored.
type Draw struct {
	ID               int64           `bun:"id"`
	CouncilID        int64           `bun:"council_id"`
	Slug             string          `bun:"slug"`
	Title            string          `bun:"title"`
	Seats            int             `bun:"seats"`
	Reserves         int             `bun:"reserves"`
	TermMonths       int             `bun:"term_months"`
	Categories       []draw.Category `bun:"categories,type:jsonb"`
	Quotas           []draw.Quota    `bun:"quotas,type:jsonb"`
	Source           draw.Source     `bun:"source,type:jsonb"`
	ClosesAt         time.Time       `bun:"closes_at"`
	State            State           `bun:"state"`
	Commitment       *string         `bun:"commitment"`
	CommitmentSHA256 *string         `bun:"commitment_sha256"`
	CommittedAt      *time.Time      `bun:"committed_at"`
	Randomness       *string         `bun:"randomness"`
	RandomnessAt     *time.Time      `bun:"randomness_at"`
	Result           *draw.Result    `bun:"result,type:jsonb"`
}

// DrawInput is what a facilitator prepares.
type DrawInput struct {
	Slug       string
	Title      string
	Seats      int
	Reserves   int
	TermMonths int
	Categories []draw.Category
	Quotas     []draw.Quota
	Source     draw.Source
	ClosesAt   time.Time
}

var slugRe = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// Validate checks a draw being prepared, with French messages per field.
// The source must be fixed in advance: a drand round published after the
// closing, on a chain known to the code.
func (in *DrawInput) Validate(now time.Time) error {
	f := apperr.Fields{}
	if !slugRe.MatchString(in.Slug) || len(in.Slug) > 80 {
		f.Add("slug", "L’adresse ne peut contenir que des minuscules, des chiffres et des tirets.")
	}
	if t := strings.TrimSpace(in.Title); t == "" || len(t) > 200 {
		f.Add("title", "Donnez un titre au tirage (200 caractères au plus).")
	}
	if in.Seats < 1 || in.Seats > 200 {
		f.Add("seats", "Le nombre de sièges doit être compris entre 1 et 200.")
	}
	if in.Reserves < 0 || in.Reserves > 1000 {
		f.Add("reserves", "Le nombre de suppléant·es doit être compris entre 0 et 1000.")
	}
	if in.TermMonths < 1 || in.TermMonths > 120 {
		f.Add("term_months", "La durée du mandat doit être comprise entre 1 et 120 mois.")
	}
	if !in.ClosesAt.After(now) {
		f.Add("closes_at", "La clôture des candidatures doit être dans le futur.")
	}
	// The commitment's own checks, on an empty candidate list.
	c := in.commitment("x", nil)
	c.Candidates = nil
	if err := c.Validate(); err != nil {
		var de *draw.Error
		if errors.As(err, &de) && de.Field != "seats" && de.Field != "candidates" {
			f.Add(de.Field, de.Message)
		}
	}
	for _, cat := range in.Categories {
		if !contains(cat.Values, draw.PreferNotToSay) {
			f.Add("categories", fmt.Sprintf("La catégorie « %s » doit proposer « je préfère ne pas répondre ».", cat.Name))
		}
	}
	if in.Source.Kind == draw.SourceDrand {
		chain, ok := drand.ByHash(in.Source.Chain)
		switch {
		case !ok:
			f.Add("source", "Chaîne drand inconnue : seule quicknet est vérifiable ici.")
		case !chain.RoundTime(in.Source.Round).After(in.ClosesAt):
			f.Add("source", fmt.Sprintf("Le tour drand doit être publié après la clôture : choisissez un tour après %d.", chain.RoundAt(in.ClosesAt)))
		}
	}
	return f.Err()
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func (in *DrawInput) commitment(council string, cands []draw.Candidate) draw.Commitment {
	return draw.Commitment{
		Format: draw.FormatVersion, Council: council, Draw: in.Slug,
		Algorithm: draw.Algorithm, AlgorithmVersion: draw.AlgorithmVersion,
		Seats: in.Seats, Reserves: in.Reserves, Categories: in.Categories, Quotas: in.Quotas,
		Candidates: cands, Source: in.Source,
	}
}

// CreateDraw stores a draw being prepared, open to volunteers.
func CreateDraw(ctx context.Context, db bun.IDB, actor audit.Actor, councilID int64, in DrawInput, now time.Time) (*Draw, error) {
	if err := in.Validate(now); err != nil {
		return nil, err
	}
	d := &Draw{CouncilID: councilID, Slug: in.Slug, Title: strings.TrimSpace(in.Title), Seats: in.Seats, Reserves: in.Reserves,
		TermMonths: in.TermMonths, Categories: in.Categories, Quotas: in.Quotas, Source: in.Source, ClosesAt: in.ClosesAt, State: Open}
	if d.Quotas == nil {
		d.Quotas = []draw.Quota{}
	}
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var taken bool
		if err := tx.NewRaw("SELECT EXISTS (SELECT 1 FROM sortition_draws WHERE council_id = ? AND slug = ?)", councilID, in.Slug).Scan(ctx, &taken); err != nil {
			return err
		}
		if taken {
			return apperr.Fields{"slug": "Un tirage porte déjà cette adresse."}.Err()
		}
		if err := tx.NewRaw(`INSERT INTO sortition_draws (council_id, slug, title, seats, reserves, term_months, categories, quotas, source, closes_at, state)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			councilID, d.Slug, d.Title, d.Seats, d.Reserves, d.TermMonths, jsonArg(d.Categories), jsonArg(d.Quotas), jsonArg(d.Source), d.ClosesAt, Open).
			Scan(ctx, &d.ID); err != nil {
			return err
		}
		cid := councilID
		return audit.Record(ctx, tx, actor.Entry(&cid, "sortition.create", "sortition_draw", fmt.Sprint(d.ID),
			fmt.Sprintf("Tirage au sort « %s » préparé : %d sièges, clôture le %s", d.Title, d.Seats, d.ClosesAt.UTC().Format(time.RFC3339))), nil, in)
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

func jsonArg(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// DrawBySlug loads a draw of the council.
func DrawBySlug(ctx context.Context, db bun.IDB, councilID int64, slug string) (*Draw, error) {
	d := new(Draw)
	err := db.NewRaw(`SELECT id, council_id, slug, title, seats, reserves, term_months, categories, quotas, source, closes_at, state,
		commitment, commitment_sha256, committed_at, randomness, randomness_at, result
		FROM sortition_draws WHERE council_id = ? AND slug = ?`, councilID, slug).Scan(ctx, d)
	if database.IsNoRows(err) {
		return nil, apperr.New(apperr.NotFound, "Ce tirage au sort n’existe pas.")
	}
	return d, err
}

// VolunteerInput is the public form.
type VolunteerInput struct {
	Name    string
	Email   string
	Commune string
	Strata  map[string]string // category → value; PreferNotToSay when not answered
}

// Volunteer is a candidacy as its private link shows it.
type Volunteer struct {
	ID          int64             `bun:"id"`
	DrawID      int64             `bun:"draw_id"`
	Pseudonym   string            `bun:"pseudonym"`
	Name        string            `bun:"name"`
	Email       string            `bun:"email"`
	Commune     string            `bun:"commune"`
	Strata      map[string]string `bun:"strata,type:jsonb"`
	ConfirmedAt *time.Time        `bun:"confirmed_at"`
	WithdrawnAt *time.Time        `bun:"withdrawn_at"`
	// AnonymisedAt is when name, email and commune were deleted.
	AnonymisedAt *time.Time `bun:"anonymised_at"`
}

// newPseudonym is the id the commitment shows: 40 random bits in base32,
// "ABCD-EF23", short enough to read out, never derived from the person.
func newPseudonym() string {
	b := make([]byte, 5)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	s := base32.StdEncoding.EncodeToString(b)
	return s[:4] + "-" + s[4:8]
}

// AddVolunteer records a candidacy and returns the private link's token
// (to be mailed: the candidacy counts once confirmed through it). A closed
// draw, an address already used for this draw, or an answer outside the
// draw's categories is refused, nothing written.
func AddVolunteer(ctx context.Context, db bun.IDB, councilID int64, slug string, in VolunteerInput, now time.Time) (string, error) {
	f := apperr.Fields{}
	in.Name, in.Commune = strings.TrimSpace(in.Name), strings.TrimSpace(in.Commune)
	in.Email = auth.NormalizeEmail(in.Email)
	if in.Name == "" || len(in.Name) > 200 {
		f.Add("name", "Indiquez votre nom (200 caractères au plus).")
	}
	if msg := auth.CheckEmail(in.Email); msg != "" {
		f.Add("email", msg)
	}
	if in.Commune == "" || len(in.Commune) > 200 {
		f.Add("commune", "Indiquez votre commune.")
	}
	var token string
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		d, err := DrawBySlug(ctx, tx, councilID, slug)
		if err != nil {
			return err
		}
		if d.State != Open || !now.Before(d.ClosesAt) {
			return apperr.New(apperr.Conflict, "Les candidatures à ce tirage sont closes.")
		}
		strata := map[string]string{}
		for _, cat := range d.Categories {
			v := in.Strata[cat.Name]
			if v == "" {
				v = draw.PreferNotToSay
			}
			if !contains(cat.Values, v) {
				f.Add("strata_"+cat.Name, fmt.Sprintf("Choisissez une réponse pour « %s ».", cat.Name))
			}
			strata[cat.Name] = v
		}
		if err := f.Err(); err != nil {
			return err
		}
		// One lock per draw serialises candidacies, so that two forms sent
		// together with one address cannot both pass the check.
		if _, err := tx.ExecContext(ctx, "SELECT id FROM sortition_draws WHERE id = ? FOR UPDATE", d.ID); err != nil {
			return err
		}
		var dup bool
		if err := tx.NewRaw("SELECT EXISTS (SELECT 1 FROM sortition_volunteers WHERE draw_id = ? AND lower(email) = ?)", d.ID, in.Email).Scan(ctx, &dup); err != nil {
			return err
		}
		if dup {
			return apperr.Fields{"email": "Cette adresse est déjà inscrite à ce tirage : retrouvez votre candidature par le lien reçu par courriel."}.Err()
		}
		token = auth.NewToken()
		_, err = tx.ExecContext(ctx, `INSERT INTO sortition_volunteers (council_id, draw_id, pseudonym, name, email, commune, strata, token_hash)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, councilID, d.ID, newPseudonym(), in.Name, in.Email, in.Commune, jsonArg(strata), auth.HashToken(token))
		return err
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

// AddConfirmedVolunteers writes generated candidacies, already confirmed, in
// one statement: the demo's 200 volunteers, whose made-up addresses need no
// double opt-in (AddVolunteer and Confirm cost a dozen round trips each).
// The draw must be open; each volunteer answers every category of the draw
// (draw.PreferNotToSay where it has no answer).
func AddConfirmedVolunteers(ctx context.Context, db bun.IDB, councilID int64, slug string, in []VolunteerInput, confirmedAt time.Time) error {
	d, err := DrawBySlug(ctx, db, councilID, slug)
	if err != nil {
		return err
	}
	if d.State != Open || len(in) == 0 {
		return apperr.New(apperr.Conflict, "Les candidatures à ce tirage sont closes.")
	}
	var q strings.Builder
	q.WriteString(`INSERT INTO sortition_volunteers (council_id, draw_id, pseudonym, name, email, commune, strata, token_hash, confirmed_at) VALUES `)
	args := make([]any, 0, 9*len(in))
	for i, v := range in {
		strata := map[string]string{}
		for _, cat := range d.Categories {
			strata[cat.Name] = v.Strata[cat.Name]
			if !contains(cat.Values, strata[cat.Name]) {
				strata[cat.Name] = draw.PreferNotToSay
			}
		}
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?)")
		args = append(args, councilID, d.ID, newPseudonym(), v.Name, auth.NormalizeEmail(v.Email), v.Commune, jsonArg(strata),
			auth.HashToken(auth.NewToken()), confirmedAt)
	}
	_, err = db.ExecContext(ctx, q.String(), args...)
	return err
}

// VolunteerByToken loads the candidacy of a private link.
func VolunteerByToken(ctx context.Context, db bun.IDB, token string) (*Volunteer, error) {
	v := new(Volunteer)
	err := db.NewRaw(`SELECT id, draw_id, pseudonym, name, email, commune, strata, confirmed_at, withdrawn_at, anonymised_at
		FROM sortition_volunteers WHERE token_hash = ?`, auth.HashToken(token)).Scan(ctx, v)
	if database.IsNoRows(err) {
		return nil, apperr.New(apperr.NotFound, "Ce lien de candidature n’existe pas.")
	}
	return v, err
}

// Confirm is the double opt-in: the first use of the mailed link confirms
// the address. Idempotent.
func Confirm(ctx context.Context, db bun.IDB, token string, now time.Time) (*Volunteer, error) {
	v, err := VolunteerByToken(ctx, db, token)
	if err != nil {
		return nil, err
	}
	if v.ConfirmedAt == nil {
		if _, err := db.ExecContext(ctx, "UPDATE sortition_volunteers SET confirmed_at = ? WHERE id = ? AND confirmed_at IS NULL", now, v.ID); err != nil {
			return nil, err
		}
		v.ConfirmedAt = &now
	}
	return v, nil
}

// Withdraw takes a candidacy back while volunteering is open; after the
// commitment the list is fixed.
func Withdraw(ctx context.Context, db bun.IDB, councilID int64, token string, now time.Time) error {
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		v, err := VolunteerByToken(ctx, tx, token)
		if err != nil {
			return err
		}
		var state State
		if err := tx.NewRaw("SELECT state FROM sortition_draws WHERE id = ? AND council_id = ? FOR UPDATE", v.DrawID, councilID).Scan(ctx, &state); err != nil {
			return err
		}
		if state != Open {
			return apperr.New(apperr.Conflict, "La liste des volontaires est publiée : la candidature ne peut plus être retirée.")
		}
		_, err = tx.ExecContext(ctx, "UPDATE sortition_volunteers SET withdrawn_at = ? WHERE id = ? AND withdrawn_at IS NULL", now, v.ID)
		return err
	})
}

// Commit publishes the commitment of a draw once volunteering is closed:
// the canonical document of the confirmed candidacies (pseudonyms and
// strata only), its SHA-256 and the time, chained into the audit trail. A
// draw that cannot be run (fewer volunteers than seats, quotas that cannot
// all be met) is refused, naming the quota, and nothing is written.
func Commit(ctx context.Context, db bun.IDB, actor audit.Actor, councilID int64, slug, councilSlug string, now time.Time) (*Draw, error) {
	var d *Draw
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if d, err = lockDraw(ctx, tx, councilID, slug); err != nil {
			return err
		}
		if d.State != Open {
			return apperr.New(apperr.Conflict, "L’engagement de ce tirage est déjà publié.")
		}
		if now.Before(d.ClosesAt) {
			return apperr.New(apperr.Conflict, "Les candidatures ne sont pas encore closes : l’engagement se publie à la clôture.")
		}
		var vols []Volunteer
		if err := tx.NewRaw(`SELECT id, draw_id, pseudonym, strata FROM sortition_volunteers
			WHERE draw_id = ? AND confirmed_at IS NOT NULL AND withdrawn_at IS NULL ORDER BY pseudonym`, d.ID).Scan(ctx, &vols); err != nil && !database.IsNoRows(err) {
			return err
		}
		cands := make([]draw.Candidate, 0, len(vols))
		for _, v := range vols {
			cands = append(cands, draw.Candidate{ID: v.Pseudonym, Strata: v.Strata})
		}
		c := d.input().commitment(councilSlug, cands)
		// Feasibility does not depend on the randomness: a trial run refuses
		// a draw that could not be run, before anything is published.
		if _, err := draw.Run(&c, nil); err != nil {
			return err
		}
		canon, err := c.Canonical()
		if err != nil {
			return err
		}
		h, _ := c.Hash()
		hx := hex.EncodeToString(h[:])
		if _, err := tx.ExecContext(ctx, `UPDATE sortition_draws SET state = ?, commitment = ?, commitment_sha256 = ?, committed_at = ? WHERE id = ?`,
			Committed, string(canon), hx, now, d.ID); err != nil {
			return err
		}
		d.State, d.Commitment, d.CommitmentSHA256, d.CommittedAt = Committed, ptr(string(canon)), &hx, &now
		cid := councilID
		return audit.Record(ctx, tx, actor.Entry(&cid, "sortition.commit", "sortition_draw", fmt.Sprint(d.ID),
			fmt.Sprintf("Engagement du tirage « %s » publié : SHA-256 %s, %d volontaires", d.Title, hx, len(cands))), nil, map[string]string{"commitment_sha256": hx})
	})
	return d, err
}

func ptr[T any](v T) *T { return &v }

func (d *Draw) input() *DrawInput {
	return &DrawInput{Slug: d.Slug, Title: d.Title, Seats: d.Seats, Reserves: d.Reserves, TermMonths: d.TermMonths,
		Categories: d.Categories, Quotas: d.Quotas, Source: d.Source, ClosesAt: d.ClosesAt}
}

func lockDraw(ctx context.Context, tx bun.Tx, councilID int64, slug string) (*Draw, error) {
	var id int64
	err := tx.NewRaw("SELECT id FROM sortition_draws WHERE council_id = ? AND slug = ? FOR UPDATE", councilID, slug).Scan(ctx, &id)
	if database.IsNoRows(err) {
		return nil, apperr.New(apperr.NotFound, "Ce tirage au sort n’existe pas.")
	}
	if err != nil {
		return nil, err
	}
	return DrawBySlug(ctx, tx, councilID, slug)
}

// EnterRandomness records the public randomness of a committed draw and
// runs it, in one transaction chained into the audit trail. The first value
// entered is final: a second entry, even identical, is refused. A drand
// signature that does not verify against the beacon's key is refused.
func EnterRandomness(ctx context.Context, db bun.IDB, actor audit.Actor, councilID int64, slug, value string, now time.Time) (*Draw, error) {
	value = strings.TrimSpace(value)
	var d *Draw
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if d, err = lockDraw(ctx, tx, councilID, slug); err != nil {
			return err
		}
		switch d.State {
		case Open:
			return apperr.New(apperr.Conflict, "Publiez d’abord l’engagement, à la clôture des candidatures.")
		case Drawn:
			return apperr.New(apperr.Conflict, "Le hasard de ce tirage est déjà saisi : la première valeur est définitive (voir le journal).")
		}
		if err := drand.CheckSource(d.Source, value); err != nil {
			return apperr.Fields{"randomness": "Valeur refusée : " + err.Error() + "."}.Err()
		}
		var c draw.Commitment
		if err := json.Unmarshal([]byte(*d.Commitment), &c); err != nil {
			return err
		}
		rb, err := draw.RandomnessBytes(c.Source, value)
		if err != nil {
			return err
		}
		res, err := draw.Run(&c, rb)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sortition_draws SET state = ?, randomness = ?, randomness_at = ?, result = ? WHERE id = ?`,
			Drawn, value, now, jsonArg(res), d.ID); err != nil {
			return err
		}
		d.State, d.Randomness, d.RandomnessAt, d.Result = Drawn, &value, &now, res
		if err := inviteSeats(ctx, tx, councilID, d.ID, res.Selected); err != nil {
			return err
		}
		// Those neither seated nor on the reserve list will never be
		// contacted: their personal data goes now (GDPR); pseudonym and
		// strata, already public in the commitment, stay.
		keep := append(slices.Clone(res.Selected), res.Reserve...)
		if _, err := tx.ExecContext(ctx, `UPDATE sortition_volunteers SET name = '', email = '', commune = '', anonymised_at = ?
			WHERE draw_id = ? AND anonymised_at IS NULL AND NOT (pseudonym = ANY (?))`, now, d.ID, pgdialect.Array(keep)); err != nil {
			return err
		}
		cid := councilID
		return audit.Record(ctx, tx, actor.Entry(&cid, "sortition.draw", "sortition_draw", fmt.Sprint(d.ID),
			fmt.Sprintf("Tirage « %s » : hasard « %s » saisi, sièges %s", d.Title, value, strings.Join(res.Selected, " "))),
			nil, map[string]any{"randomness": value, "seed": res.Seed, "selected": res.Selected, "reserve": res.Reserve})
	})
	return d, err
}

// Anonymise deletes the personal data (name, email, commune) of every
// volunteer of a drawn draw, keeping the pseudonyms and strata that the
// commitment already publishes: the facilitator does it once the seats are
// accepted. Audited; a second call changes nothing.
func Anonymise(ctx context.Context, db bun.IDB, actor audit.Actor, councilID int64, slug string, now time.Time) error {
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		d, err := lockDraw(ctx, tx, councilID, slug)
		if err != nil {
			return err
		}
		if d.State != Drawn {
			return apperr.New(apperr.Conflict, "Les données des volontaires s’effacent une fois le tirage publié.")
		}
		r, err := tx.ExecContext(ctx, `UPDATE sortition_volunteers SET name = '', email = '', commune = '', anonymised_at = ?
			WHERE draw_id = ? AND anonymised_at IS NULL`, now, d.ID)
		if err != nil {
			return err
		}
		n, _ := r.RowsAffected()
		if n == 0 {
			return nil
		}
		cid := councilID
		return audit.Record(ctx, tx, actor.Entry(&cid, "sortition.anonymise", "sortition_draw", fmt.Sprint(d.ID),
			fmt.Sprintf("Tirage « %s » : données personnelles de %d volontaire%s effacées", d.Title, n, plural(int(n)))), nil, nil)
	})
}

func plural(n int) string {
	if n > 1 {
		return "s"
	}
	return ""
}

// File is the published draw.json of a drawn draw.
func (d *Draw) File() (*draw.File, error) {
	if d.State != Drawn {
		return nil, apperr.New(apperr.Conflict, "Ce tirage n’a pas encore eu lieu.")
	}
	var c draw.Commitment
	if err := json.Unmarshal([]byte(*d.Commitment), &c); err != nil {
		return nil, err
	}
	return &draw.File{Format: draw.FormatVersion, Commitment: c, CommitmentSHA256: *d.CommitmentSHA256, CommittedAt: d.CommittedAt.UTC(),
		Randomness: *d.Randomness, RandomnessAt: d.RandomnessAt.UTC(), Result: *d.Result}, nil
}
