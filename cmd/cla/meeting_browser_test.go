package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"cla/demo"
	"cla/governance/assembly"
	"cla/governance/proposal"
	"cla/internal/authz"
	"cla/internal/browsertest"
	"cla/internal/testdb"
	"cla/internal/web"
	"cla/internal/webtest"
)

// browserUser is one person in their own browser context.
type browserUser struct {
	t *testing.T
	p *browsertest.Page
}

func (u browserUser) waitFor(what, cond string) {
	u.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if ok, err := browsertest.Eval[bool](u.p, cond); err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			body, _ := browsertest.Eval[string](u.p, `document.body ? document.body.innerText : ''`)
			u.t.Fatalf("%s: timed out waiting for %s; page: %.800s", what, cond, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (u browserUser) do(what, script string) {
	u.t.Helper()
	if _, err := browsertest.Eval[bool](u.p, "(() => { "+script+"; return true })()"); err != nil {
		u.t.Fatalf("%s: %v", what, err)
	}
}

func (u browserUser) open(url string) {
	u.t.Helper()
	if status, err := u.p.Navigate(url); err != nil || status != 200 {
		u.t.Fatalf("GET %s: %d %v", url, status, err)
	}
}

// submit clicks the submit button of the form matched by selector and waits for
// the next page.
func (u browserUser) submit(what, selector, until string) {
	u.t.Helper()
	u.do(what, `document.body.dataset.before = '1'; document.querySelector(`+fmt.Sprintf("%q", selector)+`).querySelector('button[type=submit]').click()`)
	u.waitFor(what, `!document.body.dataset.before && document.readyState === 'complete' && (`+until+`)`)
}

// The journey in a real browser: schedule a meeting of five members, build its
// agenda; two members who cannot come give proxies (one on the site, one on
// signed paper recorded by the facilitator); take the roll, open a vote, the
// three members present vote from their browsers, two of them also for whom
// they represent; close; the register, its API (new ETag) and the Atom feed
// show the new version, the minutes draft lists the decision, and the next
// meeting approves the minutes. Then a member joins and the rules change: the
// closed meeting's page, minutes, vote and decision are byte-identical to
// what they were (issue 19, "how it will be checked").
func TestBrowserMeetingJourney(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	co, err := demo.Load(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if err := assembly.SaveRules(ctx, db, &assembly.MeetingRules{CouncilID: co.ID, QuorumKind: assembly.QuorumCount, QuorumCount: 4, ProxiesPerHolder: 1, ProxiesInQuorum: true}); err != nil {
		t.Fatal(err)
	}
	var itemID, pid int64
	if err := db.NewRaw("SELECT id FROM register_items WHERE council_id = ? AND slug = 'complements-alimentaires'", co.ID).Scan(ctx, &itemID); err != nil {
		if err := db.NewRaw("SELECT id FROM register_items WHERE council_id = ? AND status = 'debat_souhaite' ORDER BY id LIMIT 1", co.ID).Scan(ctx, &itemID); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.NewRaw(`INSERT INTO proposals (council_id, kind, state, title, target_item_id, proposed_status, conditions, outcome, author_name)
		VALUES (?, 'item_status', 'ajournee', 'Conventionner à l''essai', ?, 'sous_conditions', 'Producteurs locaux uniquement, revu dans 12 mois', 'À l''essai.', 'Test')
		RETURNING id`, co.ID, itemID).Scan(ctx, &pid); err != nil {
		t.Fatal(err)
	}
	base := listen(t, newAppOver(t, db))
	b := browsertest.Start(t)
	ids := map[string]int64{}
	signInOn := func(page *browsertest.Page, role authz.Role, name string) browserUser {
		id, email := webtest.CreateMember(t, db, co.ID, role, name)
		ids[name] = id
		u := browserUser{t: t, p: page}
		u.open(base + "/connexion")
		u.do("sign in", fmt.Sprintf(`document.querySelector('#email').value = %q; document.querySelector('#password').value = %q;
			document.querySelector('#password').form.querySelector('button[type=submit], button:not([type])').click()`, email, webtest.Password))
		u.waitFor("sign in", `location.pathname !== '/connexion' && document.readyState === 'complete'`)
		return u
	}
	signIn := func(role authz.Role, name string) browserUser { return signInOn(b.NewStrictPage(t), role, name) }
	axeCheck := func(u browserUser, what string) {
		t.Helper()
		vs, err := u.p.Axe()
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vs {
			if v.Serious() {
				t.Errorf("%s: %s", what, v)
			}
		}
	}
	fac := signIn(authz.Facilitator, "Nadia Animatrice")
	voters := []browserUser{signIn(authz.Member, "Votante Une"), signIn(authz.Member, "Votant Deux"), signIn(authz.Member, "Votante Trois")}
	away := signIn(authz.Member, "Absente Quatre")
	webtest.CreateMember(t, db, co.ID, authz.Member, "Absent Cinq") // gives a proxy on paper
	selectByText := func(u browserUser, sel, text string) {
		u.t.Helper()
		u.do("choose "+text, fmt.Sprintf(`const s = document.querySelector(%q); s.value = [...s.options].find(o => o.text === %q).value`, sel, text))
	}

	// Schedule.
	fac.open(base + "/seances")
	start := time.Now().In(web.Paris()).Add(30 * time.Minute).Format("2006-01-02T15:04")
	fac.do("fill the meeting", fmt.Sprintf(`document.querySelector('#title').value = 'Séance navigateur'; document.querySelector('#starts_at').value = %q;
		document.querySelector('#place').value = 'Salle Bel Air'`, start))
	fac.submit("schedule", `form[action="/seances"]`, `/^\/seances\/\d+$/.test(location.pathname)`)
	mpath, err := browsertest.Eval[string](fac.p, `location.pathname`)
	if err != nil {
		t.Fatal(err)
	}
	// Build the agenda from the builder's suggestion (the adjourned proposal).
	fac.do("pick the suggestion", `document.body.dataset.before = '1'; [...document.querySelectorAll('.suggestions form')].find(f => f.textContent.includes('Conventionner à l\'essai')).querySelector('button').click()`)
	fac.waitFor("agenda", `!document.body.dataset.before && document.readyState === 'complete' && document.querySelector('.agenda') !== null`)
	// Two proxies before the roll: one given on the site, one from paper.
	away.open(base + mpath)
	selectByText(away, "#holder", "Votante Une")
	away.submit("give a proxy", `form[action$="/procurations"]`, `document.body.innerText.includes('Absente Quatre → Votante Une')`)
	fac.open(base + mpath)
	selectByText(fac, "#papier-giver", "Absent Cinq")
	selectByText(fac, "#papier-holder", "Votant Deux")
	fac.submit("record a paper proxy", `form[action$="/procurations/papier"]`, `document.body.innerText.includes('Absent Cinq → Votant Deux')`)
	fac.submit("open the meeting", `form[action$="/etat"]`, `document.querySelector('.state-en_cours') !== null`)
	// Roll call: the four of us present, the two who gave proxies excused.
	fac.do("roll", `for (const n of ['Nadia Animatrice', 'Votante Une', 'Votant Deux', 'Votante Trois']) document.querySelector('input[aria-label="' + n + ' présent·e"]').click();
		for (const n of ['Absente Quatre', 'Absent Cinq']) document.querySelector('input[aria-label="' + n + ' excusé·e"]').click()`)
	fac.submit("take the roll", `form[action$="/appel"]`, `document.body.innerText.includes('Quorum atteint')`)
	// Open the vote on the proposal.
	fac.do("open details", `document.querySelector('details.open-vote').open = true`)
	fac.submit("open the vote", `details.open-vote form`, `/^\/votes\/\d+$/.test(location.pathname)`)
	vpath, _ := browsertest.Eval[string](fac.p, `location.pathname`)

	res, err := http.Get(base + "/api/v1/register")
	if err != nil {
		t.Fatal(err)
	}
	etag := res.Header.Get("ETag")
	res.Body.Close()

	// Three members vote from their own browsers; one changes their mind;
	// the two holders also vote for whom they represent.
	for i, v := range voters {
		v.open(base + vpath)
		choice := "pour"
		if i == 2 {
			choice = "contre"
		}
		v.do("choose", `document.querySelector('.ballot input[name=choice][value=contre]').click()`)
		v.submit("vote", `.ballot form`, `document.querySelector('.flash') !== null`)
		v.do("choose again", `document.querySelector('.ballot input[name=choice][value=`+choice+`]').click()`)
		v.submit("change the vote", `.ballot form`, `document.querySelector('.flash') !== null`)
		if i < 2 {
			v.do("choose by proxy", `document.querySelector('.proxy-ballots input[name=choice][value=pour]').click()`)
			v.submit("vote by proxy", `.proxy-ballots form`, `document.querySelector('.flash') !== null`)
		}
		if txt, _ := browsertest.Eval[string](v.p, `document.body.innerText`); strings.Contains(txt, "Résultat :") {
			t.Fatal("results shown before the close")
		}
	}
	// Accessibility of the ballot and close forms (axe-core, in a tab that
	// bypasses CSP to inject it).
	auditor := signInOn(b.NewPage(t), authz.Facilitator, "Auditrice")
	auditor.open(base + vpath)
	axeCheck(auditor, "open vote page")
	auditor.open(base + mpath)
	axeCheck(auditor, "running meeting page")

	// Close: the decision page.
	fac.open(base + vpath)
	fac.do("motivation", `document.querySelector('#motivation').value = 'À l\'essai pour un an.'`)
	fac.submit("close", `.close-vote form`, `location.pathname.startsWith('/decisions/')`)
	txt, _ := browsertest.Eval[string](fac.p, `document.body.innerText`)
	if !strings.Contains(txt, "Adoptée : Conventionner à l'essai") || !strings.Contains(txt, "4 pour, 1 contre") || !strings.Contains(txt, "2 bulletins par procuration") {
		t.Fatalf("decision page: %.1500s", txt)
	}

	anon := browserUser{t: t, p: b.NewStrictPage(t)}
	deadline := time.Now().Add(5 * time.Second)
	for {
		res, err := http.Get(base + "/api/v1/register")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.Header.Get("ETag") != etag {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the register API kept its ETag after the decision")
		}
		time.Sleep(100 * time.Millisecond)
	}
	auditor.open(base + "/decisions")
	auditor.do("open the decision", `document.querySelector('.decision-list a').click()`)
	auditor.waitFor("decision page", `/^\/decisions\/\d+$/.test(location.pathname) && document.readyState === 'complete'`)
	axeCheck(auditor, "decision page")
	anon.open(base + "/registre")
	anon.waitFor("register", `document.body.innerText.includes('Producteurs locaux uniquement')`)
	res, err = http.Get(base + "/decisions.atom")
	if err != nil {
		t.Fatal(err)
	}
	atom, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(atom), "Adoptée : Conventionner à l&#39;essai") && !strings.Contains(string(atom), "Adoptée : Conventionner à l'essai") {
		t.Fatalf("atom: %.1500s", atom)
	}
	// Close the meeting: the minutes draft lists the decision.
	fac.open(base + mpath)
	fac.do("close the meeting", `document.body.dataset.before = '1'; [...document.querySelectorAll('form[action$="/etat"]')].find(f => f.querySelector('input[name=to][value=close]')).querySelector('button').click()`)
	fac.waitFor("meeting closed", `!document.body.dataset.before && document.readyState === 'complete' && document.querySelector('.state-close') !== null`)
	fac.open(base + mpath + "/compte-rendu")
	fac.waitFor("minutes", `document.body.innerText.includes('Décision : Adoptée : Conventionner à l\'essai')`)
	if problems := append(fac.p.Problems(), anon.p.Problems()...); len(problems) > 0 {
		t.Fatalf("browser problems: %v", problems)
	}
	if p, err := proposal.GetProposal(ctx, db, co.ID, pid); err != nil || p.State != proposal.ProposalApplied {
		t.Fatalf("proposal after the decision: %v %v", p, err)
	}

	// The next meeting (set up directly: its course is the one above)
	// approves the minutes in the browser.
	mid, err := strconv.ParseInt(strings.TrimPrefix(mpath, "/seances/"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	first, err := assembly.GetMeeting(ctx, db, co.ID, mid)
	if err != nil {
		t.Fatal(err)
	}
	next := &assembly.Meeting{CouncilID: co.ID, Title: "Séance suivante", StartsAt: first.StartsAt.Add(time.Minute), EndsAt: first.EndsAt.Add(time.Minute), Place: "Salle Bel Air"}
	if err := assembly.CreateMeeting(ctx, db, next); err != nil {
		t.Fatal(err)
	}
	if err := assembly.SetMeetingState(ctx, db, co.ID, next.ID, assembly.MeetingOpen); err != nil {
		t.Fatal(err)
	}
	roll := map[int64]assembly.AttendanceStatus{}
	for _, n := range []string{"Nadia Animatrice", "Votante Une", "Votant Deux", "Votante Trois"} {
		roll[ids[n]] = assembly.Present
	}
	if err := assembly.RecordAttendance(ctx, db, co.ID, next.ID, roll); err != nil {
		t.Fatal(err)
	}
	fac.open(base + assembly.MeetingPath(next.ID))
	fac.submit("approve the minutes", `form[action="`+mpath+`/compte-rendu/approuver"]`, `document.querySelector('.flash') !== null && document.body.innerText.includes('Compte rendu approuvé')`)
	dpath, _ := browsertest.Eval[string](auditor.p, `location.pathname`)

	// A member joins and the quorum rule changes: the closed meeting's pages,
	// rendered afresh (no page cache), are byte for byte what they were.
	fresh := newUncachedAppOver(t, db)
	paths := []string{mpath, mpath + "/compte-rendu", vpath, dpath}
	before := make([]string, len(paths))
	for i, p := range paths {
		res, body := get(t, fresh, p)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", p, res.StatusCode)
		}
		before[i] = body
	}
	if !strings.Contains(before[1], "Approuvé le") || !strings.Contains(before[1], "<strong>Décision</strong> : Adoptée : Conventionner à l&#39;essai") {
		i := strings.Index(before[1], "<h1")
		t.Fatalf("the public minutes are not the approved ones: %.3000s", before[1][max(i, 0):])
	}
	if !strings.Contains(before[0], "dont 2 bulletin(s) par procuration") || !strings.Contains(before[0], "membres") || !strings.Contains(before[2], "2 bulletins par procuration") {
		t.Fatalf("the closed meeting's page or its vote does not say the members and proxies: %.3000s\n%.3000s", before[0], before[2])
	}
	webtest.CreateMember(t, db, co.ID, authz.Member, "Nouvelle Venue")
	if err := assembly.SaveRules(ctx, db, &assembly.MeetingRules{CouncilID: co.ID, QuorumKind: assembly.QuorumCount, QuorumCount: 6, ProxiesPerHolder: 2}); err != nil {
		t.Fatal(err)
	}
	for i, p := range paths {
		_, body := get(t, fresh, p)
		if body != before[i] {
			t.Errorf("%s changed after a member joined: %s", p, firstDifference(before[i], body))
		}
	}
}

// firstDifference shows where two pages first differ.
func firstDifference(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	from := max(i-200, 0)
	return fmt.Sprintf("at byte %d: %q\nnow %q", i, a[from:min(i+200, len(a))], b[from:min(i+200, len(b))])
}
