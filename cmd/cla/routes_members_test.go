package main

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"cla/app/apptest"
	"cla/internal/audit"
	"cla/internal/authz"
	"cla/internal/mail/mailtest"
	"cla/internal/webtest"
)

var invitationLink = regexp.MustCompile(`https?://[^<"\s]+(/invitation/[A-Za-z0-9_-]{43})`)
var passwordLink = regexp.MustCompile(`https?://[^<"\s]+(/mot-de-passe/[A-Za-z0-9_-]{43})`)

func TestInvitationFromFacilitatorToMember(t *testing.T) {
	t.Parallel()
	app, db := newTestApp(t)
	ctx := context.Background()
	co := demoCouncilID(t, db)
	fac, facID := webtest.SignIn(t, app, db, co, authz.Facilitator)

	// Bad email: a French message next to the field, the input kept, nothing created.
	resp, body := fac.PostForm("/gestion/membres/invitations", url.Values{"email": {"claude@exemple"}, "role": {"member"}})
	if resp.StatusCode != 422 || !strings.Contains(body, "n&#39;est pas valide") || !strings.Contains(body, `value="claude@exemple"`) {
		t.Errorf("invalid email: %d", resp.StatusCode)
	}
	if resp, _ := fac.PostForm("/gestion/membres/invitations", url.Values{"email": {"a@b.fr"}, "role": {"admin"}}); resp.StatusCode != 403 {
		t.Errorf("a facilitator invited an admin: %d, want 403", resp.StatusCode)
	}
	if resp, body := fac.PostForm("/gestion/membres/invitations", url.Values{"email": {"paul@dieulefit.example"}, "role": {"member"}}); resp.StatusCode != 422 || !strings.Contains(body, "déjà membre") {
		t.Errorf("inviting a member: %d", resp.StatusCode)
	}
	if n := authCount(t, db, "SELECT count(*) FROM account_tokens"); n != 0 {
		t.Fatalf("%d links created by refused invitations", n)
	}
	resp, body = fac.PostForm("/gestion/membres/invitations", url.Values{"email": {" Claude.Vial@Example.org "}, "role": {"member"}})
	m := invitationLink.FindStringSubmatch(body)
	if resp.StatusCode != 200 || m == nil {
		t.Fatalf("invitation: %d %.300q", resp.StatusCode, body)
	}
	link := m[1]
	if _, body := fac.Get("/gestion/membres"); !strings.Contains(body, "claude.vial@example.org") {
		t.Error("the pending invitation is not listed")
	}

	guest := webtest.New(t, app)
	if resp, body := guest.Get(link); resp.StatusCode != 200 || !strings.Contains(body, "claude.vial@example.org") || !strings.Contains(body, "Membre du CLA") {
		t.Fatalf("invitation page: %d", resp.StatusCode)
	}
	accounts := authCount(t, db, "SELECT count(*) FROM accounts")
	for _, tc := range []struct {
		name, password, want string
	}{
		{"", "un long mot de passe", "Indiquez votre nom"},
		{"Claude Vial", "court", "au moins 10 caractères"},
		{"Claude Vial", "motdepasse123", "trop courant"},
		{strings.Repeat("é", 101), "un long mot de passe", "ne peut pas dépasser 100"},
		{"Claude Vial", strings.Repeat("x", 201) + "y", "ne peut pas dépasser 200"},
	} {
		resp, body := guest.PostForm(link, url.Values{"name": {tc.name}, "password": {tc.password}})
		if resp.StatusCode != 422 || !strings.Contains(body, tc.want) {
			t.Errorf("name %.20q password %.20q: %d, want 422 with %q", tc.name, tc.password, resp.StatusCode, tc.want)
		}
		if tc.name != "" && !strings.Contains(body, `value="`+tc.name+`"`) {
			t.Errorf("the name typed was not kept (%.20q)", tc.name)
		}
		if strings.Contains(body, tc.password) {
			t.Error("the password was sent back")
		}
	}
	if n := authCount(t, db, "SELECT count(*) FROM accounts"); n != accounts {
		t.Fatalf("refused acceptances created %d accounts", n-accounts)
	}
	if resp, _ := guest.PostForm(link, url.Values{"name": {"  Claude   Vial "}, "password": {"des tomates de Dieulefit"}}); resp.StatusCode != 303 {
		t.Fatalf("acceptance: %d", resp.StatusCode)
	}
	if _, body := guest.Get("/compte"); !strings.Contains(body, "Claude Vial") || !strings.Contains(body, "Membre du CLA") {
		t.Error("the new member is not signed in with the member role")
	}
	if _, body := webtest.New(t, app).Get("/conseil"); !strings.Contains(body, "Claude Vial") || strings.Contains(body, "claude.vial@") {
		t.Error("the public page does not list the new member, or shows an email")
	}
	if resp, body := webtest.New(t, app).Get(link); resp.StatusCode != 409 || !strings.Contains(body, "déjà été utilisé") {
		t.Errorf("re-used link: %d", resp.StatusCode)
	}
	if resp, _ := webtest.New(t, app).PostForm(link, url.Values{"name": {"Autre"}, "password": {"un autre mot de passe"}}); resp.StatusCode != 409 {
		t.Errorf("re-used link, POST: %d", resp.StatusCode)
	}
	if resp, body := guest.Get("/invitation/" + strings.Repeat("A", 43)); resp.StatusCode != 404 || !strings.Contains(body, "n&#39;est pas valide") {
		t.Errorf("forged link: %d", resp.StatusCode)
	}
	// Expired.
	_, body = fac.PostForm("/gestion/membres/invitations", url.Values{"email": {"tard@example.org"}, "role": {"facilitator"}})
	late := invitationLink.FindStringSubmatch(body)[1]
	if _, err := db.NewRaw("UPDATE account_tokens SET expires_at = now() - interval '1 minute' WHERE email = 'tard@example.org'").Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if resp, body := webtest.New(t, app).Get(late); resp.StatusCode != 404 || !strings.Contains(body, "a expiré") {
		t.Errorf("expired link: %d", resp.StatusCode)
	}
	// A link of council A means nothing on council B's host.
	_, body = fac.PostForm("/gestion/membres/invitations", url.Values{"email": {"ailleurs@example.org"}, "role": {"member"}})
	elsewhere := invitationLink.FindStringSubmatch(body)[1]
	if _, err := db.NewRaw(`WITH c AS (INSERT INTO councils (slug, name) VALUES ('conseil-b', 'Conseil B') RETURNING id)
		INSERT INTO council_hosts (host, council_id) SELECT 'b.test', id FROM c`).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	onB := webtest.New(t, app)
	onB.Host = "b.test"
	if resp, _ := onB.Get(elsewhere); resp.StatusCode != 404 {
		t.Errorf("council A's invitation on council B: %d, want 404", resp.StatusCode)
	}
	// The audit trail names who invited and who joined.
	var actions []string
	if err := db.NewRaw("SELECT action || ':' || coalesce(actor_id, 0) FROM audit_log WHERE council_id = ? ORDER BY id", co).Scan(ctx, &actions); err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(actions, " ")
	if !strings.Contains(joined, fmt.Sprintf("member.invite:%d", facID)) || !strings.Contains(joined, "member.join:") {
		t.Errorf("audit trail: %v", actions)
	}
}

func TestAnExistingAccountJoinsAnotherCouncilWithItsPassword(t *testing.T) {
	t.Parallel()
	app, db := newTestApp(t)
	ctx := context.Background()
	var b int64
	if err := db.NewRaw(`WITH c AS (INSERT INTO councils (slug, name) VALUES ('conseil-b', 'Conseil B') RETURNING id)
		INSERT INTO council_hosts (host, council_id) SELECT 'b.test', id FROM c RETURNING council_id`).Scan(ctx, &b); err != nil {
		t.Fatal(err)
	}
	facB, _ := webtest.SignIn(t, app, db, b, authz.Facilitator)
	_, body := facB.PostForm("/gestion/membres/invitations", url.Values{"email": {"jeanne@dieulefit.example"}, "role": {"member"}})
	m := invitationLink.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no link: %.300q", body)
	}
	jeanne := webtest.New(t, app)
	jeanne.Host = "b.test"
	// The form is the one of a new account (TestTheInvitationLooksTheSame…);
	// an existing account gives its own password and keeps its name.
	if resp, body := jeanne.PostForm(m[1], url.Values{"name": {"Jeanne F."}, "password": {"pas le bon mot de passe"}}); resp.StatusCode != 422 ||
		!strings.Contains(body, "compte existant") || !strings.Contains(body, `value="Jeanne F."`) {
		t.Errorf("wrong password of the existing account: %d", resp.StatusCode)
	}
	if resp, _ := jeanne.PostForm(m[1], url.Values{"name": {"Jeanne F."}, "password": {"dieulefit-demo-2025"}}); resp.StatusCode != 303 {
		t.Fatalf("joining with the existing password: %d", resp.StatusCode)
	}
	if _, body := jeanne.Get("/compte"); !strings.Contains(body, "Jeanne Faure") || !strings.Contains(body, "Membre du CLA") {
		t.Error("not a member of council B after joining")
	}
	// Council B's facilitator cannot take over, by a password link, an account
	// that has rights in council A.
	var jeanneID int64
	if err := db.NewRaw("SELECT id FROM accounts WHERE email = 'jeanne@dieulefit.example'").Scan(ctx, &jeanneID); err != nil {
		t.Fatal(err)
	}
	if resp, body := facB.PostForm(fmt.Sprintf("/gestion/membres/%d/mot-de-passe", jeanneID), nil); resp.StatusCode != 403 || !strings.Contains(body, "autre conseil") {
		t.Errorf("password link for an account of two councils: %d, want 403", resp.StatusCode)
	}
}

func TestFacilitatorsAndAdminsManageMembers(t *testing.T) {
	t.Parallel()
	app, db := newTestApp(t)
	co := demoCouncilID(t, db)
	fac, facID := webtest.SignIn(t, app, db, co, authz.Facilitator)
	admin, _ := webtest.SignIn(t, app, db, co, authz.Admin)
	memberID, memberEmail := webtest.CreateMember(t, db, co, authz.Member, "Alix Membre")
	adminID, _ := webtest.CreateMember(t, db, co, authz.Admin, "Bérénice Admin")

	if _, body := fac.Get("/gestion/membres"); !strings.Contains(body, memberEmail) || !strings.Contains(body, "Alix Membre") {
		t.Error("the management list lacks a member or their email")
	}
	// Facilitators cannot touch admins, change roles, or act on themselves.
	for _, path := range []string{"desactiver", "mot-de-passe"} {
		if resp, _ := fac.PostForm(fmt.Sprintf("/gestion/membres/%d/%s", adminID, path), nil); resp.StatusCode != 403 {
			t.Errorf("facilitator %s on an admin: %d, want 403", path, resp.StatusCode)
		}
		if resp, _ := fac.PostForm(fmt.Sprintf("/gestion/membres/%d/%s", facID, path), nil); resp.StatusCode != 403 {
			t.Errorf("facilitator %s on themselves: %d, want 403", path, resp.StatusCode)
		}
	}
	if resp, _ := fac.PostForm(fmt.Sprintf("/gestion/membres/%d/role", memberID), url.Values{"role": {"facilitator"}}); resp.StatusCode != 403 {
		t.Errorf("facilitator changed a role: %d", resp.StatusCode)
	}
	if resp, _ := admin.PostForm(fmt.Sprintf("/gestion/membres/%d/role", memberID), url.Values{"role": {"chef"}}); resp.StatusCode != 422 {
		t.Errorf("unknown role: %d, want 422", resp.StatusCode)
	}
	if resp, _ := admin.PostForm(fmt.Sprintf("/gestion/membres/%d/role", memberID), url.Values{"role": {"facilitator"}}); resp.StatusCode != 303 {
		t.Fatalf("admin changes a role: %d", resp.StatusCode)
	}
	if _, body := webtest.New(t, app).Get("/conseil"); !strings.Contains(body, "Alix Membre</span> <span class=\"member-role\">Animateur·ice") {
		t.Error("the public page does not show the new role")
	}
	// A password link, used once: the member's sessions end, the new password works.
	member := webtest.New(t, app)
	member.SignInAs(memberEmail, webtest.Password)
	resp, body := fac.PostForm(fmt.Sprintf("/gestion/membres/%d/mot-de-passe", memberID), nil)
	m := passwordLink.FindStringSubmatch(body)
	if resp.StatusCode != 200 || m == nil {
		t.Fatalf("password link: %d", resp.StatusCode)
	}
	anon := webtest.New(t, app)
	if resp, body := anon.PostForm(m[1], url.Values{"password": {"1234567890"}}); resp.StatusCode != 422 || !strings.Contains(body, "trop courant") {
		t.Errorf("common password: %d", resp.StatusCode)
	}
	if resp, _ := anon.PostForm(m[1], url.Values{"password": {"les courges de la Drôme"}}); resp.StatusCode != 303 {
		t.Fatalf("set password: %d", resp.StatusCode)
	}
	if resp, _ := member.Get("/compte"); resp.StatusCode != 303 {
		t.Error("the member's session survived the password reset")
	}
	webtest.New(t, app).SignInAs(memberEmail, "les courges de la Drôme")
	// Change of one's own password: the current one is checked.
	member.SignInAs(memberEmail, "les courges de la Drôme")
	if resp, body := member.PostForm("/compte/mot-de-passe", url.Values{"current": {"faux"}, "password": {"court"}}); resp.StatusCode != 422 ||
		!strings.Contains(body, "Mot de passe actuel incorrect") || !strings.Contains(body, "au moins 10") {
		t.Errorf("bad password change: %d", resp.StatusCode)
	}
	if resp, _ := member.PostForm("/compte/mot-de-passe", url.Values{"current": {"les courges de la Drôme"}, "password": {"les olives de Nyons"}}); resp.StatusCode != 303 {
		t.Fatalf("password change: %d", resp.StatusCode)
	}
	if resp, _ := member.Get("/compte"); resp.StatusCode != 200 {
		t.Error("the browser that changed the password was signed out")
	}

	// The audit trail: every change, filterable by person and by object.
	_, body = fac.Get("/gestion/journal")
	for _, want := range []string{"a changé le rôle d&#39;Alix Membre : Membre du CLA → Animateur·ice", "a créé un lien de mot de passe pour Alix Membre", "a changé son mot de passe"} {
		if !strings.Contains(body, want) {
			t.Errorf("audit page lacks %q", want)
		}
	}
	_, body = fac.Get(fmt.Sprintf("/gestion/journal?personne=%d", facID))
	if !strings.Contains(body, "a créé un lien de mot de passe pour Alix Membre") || strings.Contains(body, "le rôle d&#39;Alix") {
		t.Error("filter by person shows the wrong entries")
	}
	_, body = fac.Get(fmt.Sprintf("/gestion/journal?type=member&objet=%d", memberID))
	if !strings.Contains(body, "a changé le rôle d&#39;Alix") || strings.Contains(body, "invit") {
		t.Error("filter by object shows the wrong entries")
	}
	if n, err := audit.Verify(context.Background(), db); err != nil || n < 4 {
		t.Errorf("audit chain: %d entries, %v", n, err)
	}
	if resp, _ := admin.PostForm(fmt.Sprintf("/gestion/membres/%d/desactiver", adminID), nil); resp.StatusCode != 303 {
		t.Errorf("an admin disables another admin: %d", resp.StatusCode)
	}
}

func TestMembersOfOneCouncilHaveNoRightsInAnother(t *testing.T) {
	t.Parallel()
	app, db := newTestApp(t)
	ctx := context.Background()
	var b int64
	if err := db.NewRaw(`WITH c AS (INSERT INTO councils (slug, name) VALUES ('conseil-b', 'Conseil B') RETURNING id)
		INSERT INTO council_hosts (host, council_id) SELECT 'b.test', id FROM c RETURNING council_id`).Scan(ctx, &b); err != nil {
		t.Fatal(err)
	}
	adminB, _ := webtest.SignIn(t, app, db, b, authz.Admin)
	// B's admin sees only B's members…
	if _, body := adminB.Get("/gestion/membres"); strings.Contains(body, "Jeanne Faure") {
		t.Error("council B's member list shows council A's members")
	}
	if _, body := adminB.Get("/conseil"); strings.Contains(body, "Jeanne Faure") {
		t.Error("council B's public page shows council A's members")
	}
	// …cannot act on A's members through B's host…
	var jeanne int64
	if err := db.NewRaw("SELECT id FROM accounts WHERE email = 'jeanne@dieulefit.example'").Scan(ctx, &jeanne); err != nil {
		t.Fatal(err)
	}
	if resp, _ := adminB.PostForm(fmt.Sprintf("/gestion/membres/%d/desactiver", jeanne), nil); resp.StatusCode != 404 {
		t.Errorf("B's admin disabling A's member on B's host: %d, want 404", resp.StatusCode)
	}
	// …nor on A's host with the same session.
	adminB.Host = "example.com"
	if resp, _ := adminB.PostForm(fmt.Sprintf("/gestion/membres/%d/desactiver", jeanne), nil); resp.StatusCode != 403 {
		t.Errorf("B's admin disabling A's member on A's host: %d, want 403", resp.StatusCode)
	}
	if n := authCount(t, db, "SELECT count(*) FROM memberships WHERE account_id = ? AND disabled_at IS NOT NULL", jeanne); n != 0 {
		t.Error("council A's member was disabled from council B")
	}
}

// mailedTo waits for the next message srv accepts, checks that it went to
// want only, and returns it as a mail client reads it.
func mailedTo(t *testing.T, srv *mailtest.Server, n int, want string) *mailtest.Message {
	t.Helper()
	got := srv.Wait(t, n)[n-1]
	if len(got.To) != 1 || got.To[0] != want {
		t.Errorf("mail %d went to %q, want %s", n, got.To, want)
	}
	return mailtest.Parse(t, got.Data)
}

func TestInvitationsAndPasswordLinksAreMailedWhenSMTPIsConfigured(t *testing.T) {
	t.Parallel()
	_, db := newTestApp(t)
	srv := mailtest.Start(t, mailtest.Options{})
	app := apptest.New(t, db, (&Config{SMTPAddr: srv.Addr, SMTPFrom: "cla@example.org", BaseURL: "https://cla.example.org"}).App())
	co := demoCouncilID(t, db)
	fac, _ := webtest.SignIn(t, app, db, co, authz.Facilitator)
	_, body := fac.PostForm("/gestion/membres/invitations", url.Values{"email": {"courrier@example.org"}, "role": {"member"}})
	if !strings.Contains(body, "envoyé par e-mail à courrier@example.org") {
		t.Errorf("the page does not say the invitation was mailed: %.500q", body)
	}
	msg := mailedTo(t, srv, 1, "courrier@example.org")
	link := invitationLink.FindStringSubmatch(body)
	if link == nil || !strings.Contains(msg.Text, "https://cla.example.org"+link[1]) || !strings.Contains(msg.Get("Subject"), "Invitation") ||
		msg.Get("Auto-Submitted") != "auto-generated" || msg.Get("List-Unsubscribe") != "" {
		t.Errorf("invitation mail: %v\n%s", msg.Header, msg.Text)
	}
	var paul int64
	if err := db.NewRaw("SELECT id FROM accounts WHERE email = 'paul@dieulefit.example'").Scan(context.Background(), &paul); err != nil {
		t.Fatal(err)
	}
	_, body = fac.PostForm(fmt.Sprintf("/gestion/membres/%d/mot-de-passe", paul), nil)
	msg = mailedTo(t, srv, 2, "paul@dieulefit.example")
	if link := passwordLink.FindStringSubmatch(body); link == nil || !strings.Contains(msg.Text, "https://cla.example.org"+link[1]) || !strings.Contains(body, "envoyé par e-mail") {
		t.Errorf("password mail: %q", msg.Text)
	}
	// Mail down: the link is still shown, with a warning.
	broken := apptest.New(t, db, (&Config{SMTPAddr: "127.0.0.1:1", SMTPFrom: "cla@example.org"}).App())
	facBroken := webtest.New(t, broken)
	facBroken.SetCookie("cla_session", fac.Cookie("cla_session"))
	resp, body := facBroken.PostFormRaw("/gestion/membres/invitations", url.Values{"_csrf": {fac.CSRFToken()}, "email": {"autre@example.org"}, "role": {"member"}})
	if resp.StatusCode != 200 || !strings.Contains(body, "e-mail a échoué") || invitationLink.FindStringSubmatch(body) == nil {
		t.Errorf("mail failure: %d %.300q", resp.StatusCode, body)
	}
}
