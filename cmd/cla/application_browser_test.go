package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"cla/governance/application"
	"cla/governance/proposal"
	"cla/internal/audit"
	"cla/internal/authz"
	"cla/internal/browsertest"
	"cla/internal/webtest"
)

// TestBrowserShopAppliesFromAPhone: in headless Chromium sized as a phone
// (CSP enforced), a shop fills in "Devenir point de vente", keeps the
// follow-up link shown after sending, answers the facilitator's question on
// that page, and after the council's vote sees "Acceptée"; the shop is then
// conventionné in /api/v1/shops and listed in the public directory.
func TestBrowserShopAppliesFromAPhone(t *testing.T) {
	t.Parallel()
	m := startServer(t)
	ctx := context.Background()
	co := demoCouncilID(t, m.DB)
	facID, _ := webtest.CreateMember(t, m.DB, co, authz.Facilitator, "Animatrice Navigatrice")
	fac := audit.Actor{AccountID: facID, Name: "Animatrice Navigatrice", Role: authz.Facilitator}
	base := "http://" + m.Addr()
	b := browsertest.Start(t)
	p := b.NewStrictPage(t)
	if _, err := chromedp.Call(p.Ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
		Width: 360, Height: 740, DeviceScaleFactor: 2, Mobile: true}); err != nil {
		t.Fatal(err)
	}
	waitFor := func(what, cond string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			if ok, err := browsertest.Eval[bool](p, cond); err == nil && ok {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: timed out waiting for %s", what, cond)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	do := func(what, script string) {
		t.Helper()
		if _, err := browsertest.Eval[bool](p, "(() => { "+script+"; return true })()"); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	fitsThePhone := func(where string) {
		t.Helper()
		w, err := browsertest.Eval[float64](p, `document.documentElement.scrollWidth`)
		if err != nil || w > 361 {
			t.Errorf("%s: the page is %v px wide on a 360 px screen (%v)", where, w, err)
		}
	}

	if status, err := p.Navigate(base + "/devenir-point-de-vente"); err != nil || status != 200 {
		t.Fatalf("form: %d %v", status, err)
	}
	fitsThePhone("application form")
	do("fill in the form", `const set = (id, v) => { document.getElementById(id).value = v };
		set('shop_name', 'La Ferme du Jabron'); set('kind', 'producteur'); set('commune', 'Souspierre');
		set('address', 'Quartier des Granges'); set('contact_name', 'Zoé Fauré'); set('email', 'zoe@ferme-jabron.example');
		set('phone', '06 12 34 56 78'); set('local_share', '100'); set('organic_share', '100');
		set('seasonality', 'Légumes de saison, œufs toute l’année');
		document.querySelector('input[name=categories][value="fruits-et-legumes"]').click();
		document.querySelector('input[name=categories][value="oeufs"]').click();
		document.querySelector('input[name=charter]').click()`)
	do("send", `document.querySelector('form.application-form button[type=submit]').click()`)
	waitFor("follow-up page", `location.pathname.startsWith('/candidature/') && !!document.querySelector('.keep-link') && document.readyState === 'complete'`)
	fitsThePhone("follow-up page")
	link, err := browsertest.Eval[string](p, `document.querySelector('.link-box a').href`)
	if err != nil || !strings.HasPrefix(link, base+"/candidature/") {
		t.Fatalf("follow-up link shown: %q %v", link, err)
	}

	// The facilitator asks a question (the council's side is tested over HTTP).
	var id int64
	if err := m.DB.NewRaw("SELECT id FROM shop_applications WHERE council_id = ? AND shop_name = 'La Ferme du Jabron'", co).Scan(ctx, &id); err != nil {
		t.Fatal(err)
	}
	a, err := application.GetApplication(ctx, m.DB, co, id)
	if err != nil {
		t.Fatal(err)
	}
	if err := application.AddApplicationMessage(ctx, m.DB, a, &application.ApplicationMessage{Kind: application.MsgQuestion,
		Body: "Vendez-vous aussi au marché du Lavoir ?"}, fac, false); err != nil {
		t.Fatal(err)
	}

	// The shop comes back with its link, in a fresh tab, and answers.
	p.Close()
	p = b.NewStrictPage(t)
	if _, err := chromedp.Call(p.Ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
		Width: 360, Height: 740, DeviceScaleFactor: 2, Mobile: true}); err != nil {
		t.Fatal(err)
	}
	if status, err := p.Navigate(link); err != nil || status != 200 {
		t.Fatalf("kept link: %d %v", status, err)
	}
	text, _ := browsertest.Eval[string](p, `document.querySelector('main').textContent`)
	if !strings.Contains(text, "Vendez-vous aussi au marché du Lavoir ?") || !strings.Contains(text, "En examen") {
		t.Fatalf("the follow-up page lacks the question or the state: %.500s", text)
	}
	do("answer", `document.getElementById('body').value = 'Oui, le mercredi soir.'; document.getElementById('body').form.querySelector('button[type=submit]').click()`)
	waitFor("answer sent", `!!document.querySelector('.flash') && document.readyState === 'complete'`)
	text, _ = browsertest.Eval[string](p, `document.querySelector('main').textContent`)
	if !strings.Contains(text, "Oui, le mercredi soir.") {
		t.Errorf("the answer is not on the page: %.500s", text)
	}

	// The facilitator turns it into a proposal, opens it, and the council votes.
	a, err = application.GetApplication(ctx, m.DB, co, id)
	if err != nil {
		t.Fatal(err)
	}
	prop, err := application.ProposeApplication(ctx, m.DB, a, application.DraftProposal(a, nil), fac)
	if err != nil {
		t.Fatal(err)
	}
	if err := proposal.TransitionProposal(ctx, m.DB, co, prop.ID, fac, proposal.ProposalOpen, ""); err != nil {
		t.Fatal(err)
	}
	voteAdopt(t, m.DB, co, prop.ID)

	if status, err := p.Navigate(link); err != nil || status != 200 {
		t.Fatalf("kept link after the vote: %d %v", status, err)
	}
	state, _ := browsertest.Eval[string](p, `document.querySelector('.app-state strong').textContent`)
	if state != "Acceptée" {
		t.Errorf("state after the vote: %q, want Acceptée", state)
	}
	fitsThePhone("accepted follow-up page")
	if problems := p.Problems(); len(problems) > 0 {
		t.Errorf("console errors or CSP violations:\n  %s", strings.Join(problems, "\n  "))
	}

	// The register's public data follow (its cache is dropped on NOTIFY).
	var status string
	for deadline := time.Now().Add(10 * time.Second); status != "conventionne" && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		resp, err := http.Get(base + "/api/v1/shops")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var doc struct {
			Shops []struct{ Name, Status string }
		}
		if err := json.Unmarshal(body, &doc); err != nil {
			t.Fatal(err)
		}
		for _, s := range doc.Shops {
			if s.Name == "La Ferme du Jabron" {
				status = s.Status
			}
		}
	}
	if status != "conventionne" {
		t.Fatalf("the shop is %q in /api/v1/shops, want conventionne", status)
	}
	if st, err := p.Navigate(base + "/points-de-vente"); err != nil || st != 200 {
		t.Fatalf("directory: %d %v", st, err)
	}
	dir, _ := browsertest.Eval[string](p, `document.querySelector('main').textContent`)
	if !strings.Contains(dir, "La Ferme du Jabron") {
		t.Errorf("the public directory does not list the shop: %.400s", dir)
	}
}
