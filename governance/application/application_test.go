package application_test

import (
	"context"
	"strings"
	"testing"

	"cla/demo"
	"cla/governance/application"
	"cla/governance/proposal"
	"cla/internal/apperr"
	"cla/internal/audit"
	"cla/internal/testdb"
)

func TestValidSIRET(t *testing.T) {
	t.Parallel()
	cases := []struct {
		siret string
		want  bool
	}{
		{"73282932000074", true},  // Luhn key valid
		{"73282932000075", false}, // last digit changed
		{"73282932000047", false}, // two digits swapped
		{"35600000000048", true},  // La Poste head office: valid by Luhn too
		{"35600000049837", true},  // La Poste establishment: digit sum 45, Luhn invalid
		{"35600000049838", false}, // La Poste prefix, digit sum not a multiple of 5
		{"1234567890123", false},  // 13 digits
		{"7328293200007a", false}, // not a digit
		{"", false},
	}
	for _, c := range cases {
		if got := application.ValidSIRET(c.siret); got != c.want {
			t.Errorf("ValidSIRET(%q) = %v, want %v", c.siret, got, c.want)
		}
	}
	if luhnOK("35600000049837") {
		t.Fatal("test case 35600000049837 must fail Luhn to test La Poste's rule")
	}
}

func luhnOK(s string) bool {
	sum := 0
	for i := len(s) - 1; i >= 0; i-- {
		d := int(s[i] - '0')
		if (len(s)-1-i)%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

func validApplication() *application.Application {
	return &application.Application{ShopName: "Épicerie du Bourg", Kind: "epicerie", SIRET: "732 829 320 00074", Address: "1 place",
		Commune: "Dieulefit", ContactName: "Camille", Email: "Camille@Example.org", Phone: "+33 4 75 00 00 00",
		Website: "https://epicerie.example", Categories: []string{"pain"}, LocalShare: 50, OrganicShare: 25,
		CharterAccepted: true}
}

func TestApplicationValidate(t *testing.T) {
	t.Parallel()
	known := map[string]bool{"pain": true, "miel": true}
	cases := []struct {
		name  string
		edit  func(a *application.Application)
		field string // "" when valid
	}{
		{"valid", func(a *application.Application) {}, ""},
		{"wrong SIRET checksum", func(a *application.Application) { a.SIRET = "73282932000075" }, "siret"},
		{"SIRET too short", func(a *application.Application) { a.SIRET = "7328293200" }, "siret"},
		{"SIRET with letters", func(a *application.Application) { a.SIRET = "7328293200007A" }, "siret"},
		{"SIRET missing for a shop", func(a *application.Application) { a.SIRET = "" }, "siret"},
		{"SIRET optional for a market", func(a *application.Application) { a.SIRET, a.Kind = "", "marche" }, ""},
		{"SIRET optional for a farm", func(a *application.Application) { a.SIRET, a.Kind = "", "producteur" }, ""},
		{"invalid email", func(a *application.Application) { a.Email = "camille@" }, "email"},
		{"email with a name", func(a *application.Application) { a.Email = "Camille <c@example.org>" }, "email"},
		{"email without dot", func(a *application.Application) { a.Email = "c@localhost" }, "email"},
		{"missing email", func(a *application.Application) { a.Email = " " }, "email"},
		{"bad phone", func(a *application.Application) { a.Phone = "appelez-moi" }, "phone"},
		{"short phone", func(a *application.Application) { a.Phone = "0475" }, "phone"},
		{"bad URL", func(a *application.Application) { a.Website = "javascript:alert(1)" }, "website"},
		{"URL without scheme", func(a *application.Application) { a.Website = "epicerie.example" }, "website"},
		{"missing charter", func(a *application.Application) { a.CharterAccepted = false }, "charter"},
		{"missing name", func(a *application.Application) { a.ShopName = "   " }, "shop_name"},
		{"name too long", func(a *application.Application) { a.ShopName = strings.Repeat("é", 201) }, "shop_name"},
		{"message too long", func(a *application.Application) { a.Message = strings.Repeat("x", 5001) }, "message"},
		{"message at the limit", func(a *application.Application) { a.Message = strings.Repeat("é", 5000) }, ""},
		{"unknown kind", func(a *application.Application) { a.Kind = "casino" }, "kind"},
		{"no category", func(a *application.Application) { a.Categories = nil }, "categories"},
		{"unknown category", func(a *application.Application) { a.Categories = []string{"pain", "tabac"} }, "categories"},
		{"no local share", func(a *application.Application) { a.LocalShare = -1 }, "local_share"},
		{"odd organic share", func(a *application.Application) { a.OrganicShare = 33 }, "organic_share"},
		{"network without its name", func(a *application.Application) { a.InNetwork, a.Network = true, "" }, "network"},
		{"network named", func(a *application.Application) { a.InNetwork, a.Network = true, "Biocoop" }, ""},
		{"HTML is text", func(a *application.Application) { a.ShopName = "<script>alert(1)</script>" }, ""},
	}
	for _, c := range cases {
		a := validApplication()
		c.edit(a)
		err := a.Validate(known)
		f := apperr.FieldsOf(err)
		if c.field == "" {
			if err != nil {
				t.Errorf("%s: unexpected error %v (%v)", c.name, err, f)
			}
			continue
		}
		if f[c.field] == "" {
			t.Errorf("%s: no message on %q (got %v)", c.name, c.field, f)
		}
	}
	a := validApplication()
	_ = a.Validate(known)
	if a.SIRET != "73282932000074" || a.Email != "camille@example.org" || a.Network != "" {
		t.Errorf("normalisation: SIRET %q, email %q, network %q", a.SIRET, a.Email, a.Network)
	}
}

func TestDemoApplicationAndCharterLoad(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	co, err := demo.Load(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Load(ctx, db); err != nil {
		t.Fatal(err)
	}
	ch, err := application.CurrentCharter(ctx, db, co.ID)
	if err != nil || ch.Version != 1 || !strings.Contains(ch.BodyHTML, "deux paniers") {
		t.Fatalf("charter: %+v, %v", ch, err)
	}
	apps, err := application.ListApplications(ctx, db, co.ID, application.AppNew)
	if err != nil || len(apps) != 1 {
		t.Fatalf("demo applications: %d, %v", len(apps), err)
	}
	if !application.ValidSIRET(apps[0].SIRET) {
		t.Errorf("demo SIRET %s is not valid", apps[0].SIRET)
	}
}

// An application's state follows its proposal: adopted or applied gives
// acceptée, rejected gives refusée; a facilitator may refuse by hand only
// before it is proposed; a closed application takes no more answers.
func TestApplicationStateFollowsTheProposal(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	co, err := demo.Load(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	var facID int64
	if err := db.NewRaw("SELECT account_id FROM memberships WHERE council_id = ? AND role = 'facilitator' LIMIT 1", co.ID).Scan(ctx, &facID); err != nil {
		t.Fatal(err)
	}
	fac := audit.Actor{AccountID: facID, Name: "Animatrice", Role: "facilitator"}
	submit := func(name string) *application.Application {
		a := validApplication()
		a.CouncilID, a.ShopName, a.SIRET, a.Kind = co.ID, name, "", "marche"
		a.Categories = []string{"pain"}
		if _, err := application.SubmitApplication(ctx, db, a, "192.0.2."+name[len(name)-1:]); err != nil {
			t.Fatal(err)
		}
		got, err := application.GetApplication(ctx, db, co.ID, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	a := submit("Marché 1")
	p, err := application.ProposeApplication(ctx, db, a, application.DraftProposal(a, nil), fac)
	if err != nil {
		t.Fatal(err)
	}
	if err := application.SetApplicationState(ctx, db, a, application.AppRefused, fac, "Trop tard."); apperr.CodeOf(err) != apperr.Conflict {
		t.Errorf("refusing a proposed application by hand: %v", err)
	}
	// Withdrawn by its author: back under review, and it can be proposed again,
	// for the same candidate shop.
	if _, err := db.ExecContext(ctx, "UPDATE proposals SET state = 'retiree' WHERE id = ?", p.ID); err != nil {
		t.Fatal(err)
	}
	if a, err = application.GetApplication(ctx, db, co.ID, a.ID); err != nil || a.Effective != application.AppReview || len(application.ApplicationMoves(a)) == 0 {
		t.Fatalf("after withdrawal: %v %v %v", a.Effective, application.ApplicationMoves(a), err)
	}
	first := *a.ShopID
	if p, err = application.ProposeApplication(ctx, db, a, application.DraftProposal(a, nil), fac); err != nil || *a.ShopID != first {
		t.Fatalf("second proposal: %v (shop %d, first %d)", err, *a.ShopID, first)
	}
	for proposal, want := range map[proposal.ProposalState]application.ApplicationState{proposal.ProposalOpen: application.AppProposed, proposal.ProposalRejected: application.AppRefused,
		proposal.ProposalAdopted: application.AppAccepted, proposal.ProposalApplied: application.AppAccepted} {
		if _, err := db.ExecContext(ctx, "UPDATE proposals SET state = ? WHERE id = ?", proposal, p.ID); err != nil {
			t.Fatal(err)
		}
		got, err := application.GetApplication(ctx, db, co.ID, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Effective != want {
			t.Errorf("proposal %s: application %s, want %s", proposal, got.Effective, want)
		}
		if want == application.AppAccepted {
			err := application.AddApplicationMessage(ctx, db, got, &application.ApplicationMessage{Kind: application.MsgAnswer, Body: "encore moi"}, audit.Actor{}, false)
			if apperr.CodeOf(err) != apperr.Conflict {
				t.Errorf("answer on an accepted application: %v", err)
			}
		}
	}
	b := submit("Marché 2")
	// A refusal needs its reason, which the application keeps.
	if err := application.SetApplicationState(ctx, db, b, application.AppRefused, fac, "  "); apperr.FieldsOf(err)["reason"] == "" {
		t.Errorf("refusal without a reason: %v", err)
	}
	if err := application.SetApplicationState(ctx, db, b, application.AppRefused, fac, "Pas de produits locaux."); err != nil {
		t.Fatal(err)
	}
	if got, _ := application.GetApplication(ctx, db, co.ID, b.ID); got.Effective != application.AppRefused || got.RefusalReason != "Pas de produits locaux." {
		t.Errorf("refused: %s %q", got.Effective, got.RefusalReason)
	}
	if _, err := application.ProposeApplication(ctx, db, b, application.DraftProposal(b, nil), fac); apperr.CodeOf(err) != apperr.Conflict {
		t.Errorf("proposing a refused application: %v", err)
	}
	// Once refused, the same shop may apply again.
	submit("Marché 2")
}

func TestNameKeyFoldsCaseAccentsPunctuationAndSaint(t *testing.T) {
	t.Parallel()
	for _, group := range [][]string{
		{"épicerie le panier drômois", "EPICERIE LE PANIER DRÔMOIS", "Épicerie  Le Panier-Drômois.", "epicerie le panier dromois"},
		{"Dieulefit", "dieulefit", "DIEULEFIT "},
		{"Saint-Paul-Trois-Châteaux", "St Paul Trois Chateaux", "ST-PAUL-TROIS-CHÂTEAUX", "st. paul trois châteaux"},
		{"Sainte-Croix", "Ste Croix"},
		{"L'Œuf d'or", "l oeuf d'Or"},
	} {
		want := application.NameKey(group[0])
		for _, s := range group[1:] {
			if got := application.NameKey(s); got != want {
				t.Errorf("NameKey(%q) = %q, want %q as for %q", s, got, want, group[0])
			}
		}
	}
	if application.NameKey("Le Panier") == application.NameKey("Le Pain") {
		t.Error("different names fold together")
	}
}
