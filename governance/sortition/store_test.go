package sortition_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"cla/demo"
	"cla/governance/sortition"
	"cla/governance/sortition/drand"
	"cla/governance/sortition/draw"
	"cla/internal/apperr"
	"cla/internal/audit"
	"cla/internal/authz"
	"cla/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

func input(closes time.Time) sortition.DrawInput {
	s := draw.Sample(0)
	return sortition.DrawInput{Slug: "conseil-2026", Title: "Sièges du conseil 2026", Seats: 3, Reserves: 2, TermMonths: 24,
		Categories: s.Categories[:2], Quotas: []draw.Quota{{Category: "genre", Value: "femme", Min: 1, Max: 2}},
		Source: s.Source, ClosesAt: closes}
}

func fieldErr(t *testing.T, err error, field, want string) {
	t.Helper()
	if msg := apperr.FieldsOf(err)[field]; !strings.Contains(msg, want) {
		t.Fatalf("got %v (%v), want %s: %q", err, apperr.FieldsOf(err), field, want)
	}
}

// TestDrawLifecycle walks a draw from preparation to result, with each bad
// input of the issue refused in French and nothing written: a second
// candidacy with one address, a commitment before the closing, a
// commitment whose quotas cannot be met, a second randomness entry.
func TestDrawLifecycle(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	co, err := demo.Load(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	fac := audit.Actor{AccountID: 0, Name: "Karim Benali", Role: authz.Facilitator}
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	closes := now.Add(72 * time.Hour)

	bad := input(now.Add(-time.Hour))
	_, err = sortition.CreateDraw(ctx, db, fac, co.ID, bad, now)
	fieldErr(t, err, "closes_at", "futur")
	bad = input(closes)
	bad.Source = draw.Source{Kind: draw.SourceDrand, Chain: drand.Quicknet.Hash, Round: drand.Quicknet.RoundAt(now)}
	_, err = sortition.CreateDraw(ctx, db, fac, co.ID, bad, now)
	fieldErr(t, err, "source", "après la clôture")

	d, err := sortition.CreateDraw(ctx, db, fac, co.ID, input(closes), now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sortition.CreateDraw(ctx, db, fac, co.ID, input(closes), now); err == nil {
		t.Fatal("a second draw with one slug was stored")
	}

	people := []struct{ name, email, genre string }{
		{"Ana", "ana@example.org", "femme"}, {"Bob", "bob@example.org", "homme"}, {"Céline", "celine@example.org", "femme"},
		{"Dan", "dan@example.org", "homme"}, {"Élie", "elie@example.org", ""},
	}
	var tokens []string
	for _, p := range people {
		tok, err := sortition.AddVolunteer(ctx, db, co.ID, d.Slug, sortition.VolunteerInput{Name: p.name, Email: p.email, Commune: "Dieulefit",
			Strata: map[string]string{"genre": p.genre, "âge": "35-54"}}, now)
		if err != nil {
			t.Fatal(err)
		}
		tokens = append(tokens, tok)
	}
	_, err = sortition.AddVolunteer(ctx, db, co.ID, d.Slug, sortition.VolunteerInput{Name: "Ana bis", Email: " ANA@example.org", Commune: "Dieulefit"}, now)
	fieldErr(t, err, "email", "déjà inscrite")
	_, err = sortition.AddVolunteer(ctx, db, co.ID, d.Slug, sortition.VolunteerInput{Name: "X", Email: "x@example.org", Commune: "D",
		Strata: map[string]string{"genre": "inconnu"}}, now)
	fieldErr(t, err, "strata_genre", "Choisissez")

	v, err := sortition.VolunteerByToken(ctx, db, tokens[4])
	if err != nil || v.Strata["genre"] != draw.PreferNotToSay {
		t.Fatalf("unanswered stratum: %+v %v", v, err)
	}
	// Double opt-in: four confirm, Dan withdraws, Élie never confirms.
	for _, tok := range tokens[:4] {
		if _, err := sortition.Confirm(ctx, db, tok, now); err != nil {
			t.Fatal(err)
		}
	}
	if err := sortition.Withdraw(ctx, db, co.ID, tokens[3], now); err != nil {
		t.Fatal(err)
	}

	if _, err := sortition.Commit(ctx, db, fac, co.ID, d.Slug, co.Slug, now); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("commit before closing: %v", err)
	}
	if _, err := sortition.EnterRandomness(ctx, db, fac, co.ID, d.Slug, "1 2 3", now); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("randomness before the commitment: %v", err)
	}
	after := closes.Add(time.Minute)
	if _, err := sortition.AddVolunteer(ctx, db, co.ID, d.Slug, sortition.VolunteerInput{Name: "Late", Email: "late@example.org", Commune: "D"}, after); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("late candidacy: %v", err)
	}
	d, err = sortition.Commit(ctx, db, fac, co.ID, d.Slug, co.Slug, after)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(*d.Commitment, `"candidates":[{`) || strings.Contains(*d.Commitment, "Ana") || strings.Contains(*d.Commitment, "example.org") {
		t.Fatalf("commitment shows more than pseudonyms: %s", *d.Commitment)
	}
	if n := strings.Count(*d.Commitment, `"id":`); n != 3 {
		t.Fatalf("commitment has %d candidates, want the 3 confirmed and not withdrawn", n)
	}
	if err := sortition.Withdraw(ctx, db, co.ID, tokens[0], after); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("withdrawal after the commitment: %v", err)
	}

	d, err = sortition.EnterRandomness(ctx, db, fac, co.ID, d.Slug, " 4 8 15 16 23 1 2 ", after)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Result.Selected) != 3 || *d.Randomness != "4 8 15 16 23 1 2" {
		t.Fatalf("result %+v", d.Result)
	}
	if _, err := sortition.EnterRandomness(ctx, db, fac, co.ID, d.Slug, "4 8 15 16 23 1 2", after); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("second randomness entry: %v", err)
	}
	// The published file verifies as `cla sortition verify` does.
	f, err := d.File()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	f.Write(&buf)
	back, err := draw.ReadFile(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if _, diffs, err := draw.Verify(back, drand.CheckSource); err != nil || len(diffs) > 0 {
		t.Fatalf("published draw does not verify: %v %v", err, diffs)
	}
	// Each volunteer finds their pseudonym in the committed list.
	v, _ = sortition.VolunteerByToken(ctx, db, tokens[1])
	if !strings.Contains(*d.Commitment, `"id":"`+v.Pseudonym+`"`) {
		t.Fatalf("%s not in the commitment", v.Pseudonym)
	}
	// GDPR: once the seats are accepted, the personal data goes; the
	// pseudonyms and strata stay.
	if err := sortition.Anonymise(ctx, db, fac, co.ID, d.Slug, after); err != nil {
		t.Fatal(err)
	}
	if err := sortition.Anonymise(ctx, db, fac, co.ID, d.Slug, after); err != nil {
		t.Fatal(err)
	}
	var left int
	if err := db.NewRaw("SELECT count(*) FROM sortition_volunteers WHERE draw_id = ? AND (name <> '' OR email <> '' OR commune <> '' OR anonymised_at IS NULL)", d.ID).Scan(ctx, &left); err != nil || left != 0 {
		t.Fatalf("%d volunteers keep personal data (%v)", left, err)
	}
	if v, _ := sortition.VolunteerByToken(ctx, db, tokens[1]); v.Pseudonym == "" || v.Strata["genre"] != "homme" || v.Email != "" {
		t.Fatalf("anonymised volunteer: %+v", v)
	}
	var actions []string
	if err := db.NewRaw("SELECT action FROM audit_log WHERE action LIKE 'sortition.%' AND object_id = ? ORDER BY id", fmt.Sprint(d.ID)).Scan(ctx, &actions); err != nil {
		t.Fatal(err)
	}
	if strings.Join(actions, ",") != "sortition.create,sortition.commit,sortition.draw,sortition.anonymise" {
		t.Fatalf("audit trail: %v", actions)
	}
}

// TestCommitRefusesImpossibleDraws: fewer volunteers than seats, or quotas
// that the volunteers cannot meet, are refused at closing, naming the
// problem, and the draw stays open.
func TestCommitRefusesImpossibleDraws(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	co, err := demo.Load(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	in := input(now.Add(time.Hour))
	in.Quotas = []draw.Quota{{Category: "genre", Value: "femme", Min: 2, Max: 3}}
	d, err := sortition.CreateDraw(ctx, db, audit.Actor{}, co.ID, in, now)
	if err != nil {
		t.Fatal(err)
	}
	add := func(email, genre string) {
		tok, err := sortition.AddVolunteer(ctx, db, co.ID, d.Slug, sortition.VolunteerInput{Name: "N", Email: email, Commune: "D", Strata: map[string]string{"genre": genre}}, now)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sortition.Confirm(ctx, db, tok, now); err != nil {
			t.Fatal(err)
		}
	}
	add("a@example.org", "femme")
	add("b@example.org", "homme")
	later := now.Add(2 * time.Hour)
	if _, err := sortition.Commit(ctx, db, audit.Actor{}, co.ID, d.Slug, co.Slug, later); err == nil || !strings.Contains(apperr.MessageOf(err), "2 volontaires pour 3 sièges") {
		t.Fatalf("fewer volunteers than seats: %v", apperr.MessageOf(err))
	}
	add("c@example.org", "homme")
	if _, err := sortition.Commit(ctx, db, audit.Actor{}, co.ID, d.Slug, co.Slug, later); err == nil || !strings.Contains(apperr.MessageOf(err), "« genre : femme »") {
		t.Fatalf("unmeetable quota: %v", apperr.MessageOf(err))
	}
	d, _ = sortition.DrawBySlug(ctx, db, co.ID, d.Slug)
	if d.State != sortition.Open || d.Commitment != nil {
		t.Fatalf("refused commitment left %+v", d)
	}
}

// TestSeats: the seats drawn are invitations; a declined seat goes to the
// first reserve with the same answers; an accepted seat runs for the term
// and ends by itself; a second answer is refused.
func TestSeats(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	co, err := demo.Load(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	in := input(now.Add(time.Hour))
	in.Seats, in.Reserves = 2, 4
	in.Quotas = []draw.Quota{{Category: "genre", Value: "femme", Min: 1, Max: 1}, {Category: "genre", Value: "homme", Min: 1, Max: 1}}
	d, err := sortition.CreateDraw(ctx, db, audit.Actor{}, co.ID, in, now)
	if err != nil {
		t.Fatal(err)
	}
	token := map[string]string{} // pseudonym → private link
	genre := map[string]string{}
	for i, g := range []string{"femme", "homme", "femme", "homme", "femme", "homme"} {
		tok, err := sortition.AddVolunteer(ctx, db, co.ID, d.Slug, sortition.VolunteerInput{Name: "N", Email: fmt.Sprintf("p%d@example.org", i), Commune: "D", Strata: map[string]string{"genre": g}}, now)
		if err != nil {
			t.Fatal(err)
		}
		v, _ := sortition.Confirm(ctx, db, tok, now)
		token[v.Pseudonym], genre[v.Pseudonym] = tok, g
	}
	later := now.Add(2 * time.Hour)
	if _, err := sortition.Commit(ctx, db, audit.Actor{}, co.ID, d.Slug, co.Slug, later); err != nil {
		t.Fatal(err)
	}
	d, err = sortition.EnterRandomness(ctx, db, audit.Actor{}, co.ID, d.Slug, "seats", later)
	if err != nil {
		t.Fatal(err)
	}
	first, second := d.Result.Selected[0], d.Result.Selected[1]
	if _, err := sortition.Decide(ctx, db, co.ID, token[first], false, later); err != nil {
		t.Fatal(err)
	}
	if _, err := sortition.Decide(ctx, db, co.ID, token[first], true, later); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("second answer: %v", err)
	}
	seats, _ := sortition.Seats(ctx, db, d.ID)
	if len(seats) != 3 || seats[2].State != sortition.SeatInvited || genre[seats[2].Pseudonym] != genre[first] {
		t.Fatalf("declined seat not offered to a reserve with the same answers: %+v", seats)
	}
	var wantNext string
	for _, id := range d.Result.Reserve {
		if genre[id] == genre[first] {
			wantNext = id
			break
		}
	}
	if seats[2].Pseudonym != wantNext {
		t.Fatalf("offered to %s, want the first such reserve %s", seats[2].Pseudonym, wantNext)
	}
	s, err := sortition.Decide(ctx, db, co.ID, token[second], true, later)
	if err != nil || s.TermEndsAt == nil || !s.TermEndsAt.Equal(later.AddDate(0, in.TermMonths, 0)) {
		t.Fatalf("accepted seat: %+v %v", s, err)
	}
	if !s.Current(later) || s.Current(*s.TermEndsAt) || s.Label(s.TermEndsAt.Add(time.Second)) != "mandat terminé" {
		t.Fatal("the term does not end by itself")
	}
	if _, err := sortition.Decide(ctx, db, co.ID, token[wantNext], true, later); err != nil {
		t.Fatal(err)
	}
	// The council page's seats (/conseil): held with the holder's name while
	// the term runs, ended at its end whatever a job did (fixed clock).
	ofDraw := func(at time.Time) (held, ended int, names []string) {
		cs, err := sortition.CouncilSeats(ctx, db, co.ID, at)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			if c.DrawSlug != d.Slug {
				continue
			}
			if c.Held {
				held++
				names = append(names, c.Holder)
			}
			if c.Label == "mandat terminé" {
				ended++
			}
		}
		return held, ended, names
	}
	if held, ended, names := ofDraw(later); held != 2 || ended != 0 || strings.Join(names, ",") != "N,N" {
		t.Fatalf("council seats during the term: %d held %v, %d ended", held, names, ended)
	}
	if held, ended, _ := ofDraw(s.TermEndsAt.Add(time.Second)); held != 0 || ended != 2 {
		t.Fatalf("council seats after the term: %d held, %d ended", held, ended)
	}
	// A volunteer with no seat has nothing to answer.
	for id, tok := range token {
		if id != first && id != second && id != wantNext {
			if _, err := sortition.Decide(ctx, db, co.ID, tok, true, later); apperr.CodeOf(err) != apperr.NotFound {
				t.Fatalf("answer without a seat: %v", err)
			}
			break
		}
	}
}
