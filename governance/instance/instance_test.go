package instance_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"cla/app"
	"cla/app/apptest"
	"cla/governance/instance"
	"cla/governance/proposal"
	"cla/internal/apperr"
	"cla/internal/audit"
	"cla/internal/authz"
	"cla/internal/testdb"
	"cla/internal/webtest"
)

var system = audit.Actor{Name: "test"}

func TestInputValidationSaysWhatIsWrongPerField(t *testing.T) {
	good := instance.Input{Slug: "pays-de-dieulefit", Name: "CLA de Dieulefit", Hosts: "dieulefit.example.org", AdminEmail: "admin@example.org", Start: instance.StartModel}
	if _, f := good.Validate(); len(f) != 0 {
		t.Fatalf("good input refused: %v", f)
	}
	if good.Timezone != "Europe/Paris" {
		t.Errorf("default time zone %q", good.Timezone)
	}
	cases := []struct {
		change func(*instance.Input)
		field  string
		want   string
	}{
		{func(in *instance.Input) { in.Slug = "Dieulefit" }, "slug", "minuscules"},
		{func(in *instance.Input) { in.Slug = "drôme" }, "slug", "sans accent"},
		{func(in *instance.Input) { in.Slug = "-x" }, "slug", "tiret"},
		{func(in *instance.Input) { in.Name = "" }, "name", "Indiquez le nom"},
		{func(in *instance.Input) { in.AdminEmail = "ad min@example.org" }, "admin_email", "espace"},
		{func(in *instance.Input) { in.ContactEmail = "contact @example.org" }, "contact_email", "espace"},
		{func(in *instance.Input) { in.AdminEmail = "" }, "admin_email", "Indiquez une adresse"},
		{func(in *instance.Input) { in.Timezone = "Europe/Dieulefit" }, "timezone", "Fuseau horaire inconnu"},
		{func(in *instance.Input) { in.Timezone = "Local" }, "timezone", "Europe/Paris"},
		{func(in *instance.Input) { in.Hosts = "cla.example.org:8080" }, "hosts", "port"},
		{func(in *instance.Input) { in.Hosts = "https://cla.example.org" }, "hosts", "https://"},
		{func(in *instance.Input) { in.Hosts = "CLA.example.org" }, "hosts", "minuscules"},
		{func(in *instance.Input) { in.Hosts = "drôme.example.org" }, "hosts", "xn--"},
		{func(in *instance.Input) { in.Start = "autre" }, "start", "point de départ"},
		{func(in *instance.Input) { in.Start = instance.StartFile }, "file", "Joignez le fichier"},
	}
	for _, tc := range cases {
		in := good
		tc.change(&in)
		_, f := in.Validate()
		if !strings.Contains(f[tc.field], tc.want) {
			t.Errorf("%+v: %s = %q, want it to say %q (all: %v)", in, tc.field, f[tc.field], tc.want, f)
		}
	}
	if hosts, msg := instance.ParseHosts("a.example.org, b.example.org\na.example.org."); msg != "" || len(hosts) != 2 {
		t.Errorf("ParseHosts: %v %q", hosts, msg)
	}
}

func TestLinkBaseUsesTheCouncilsHostWithTheBasesSchemeAndPort(t *testing.T) {
	for base, want := range map[string]string{
		"https://cla.example.org":     "https://b.example.org",
		"http://127.0.0.1:8080":       "http://b.example.org:8080",
		"":                            "http://b.example.org",
		"https://cla.example.org:443": "https://b.example.org",
	} {
		if got := instance.LinkBase(base, "b.example.org"); got != want {
			t.Errorf("LinkBase(%q) = %q, want %q", base, got, want)
		}
	}
}

// fixture is an app with two councils made by instance.Create: A from the
// model on a.test, B empty on b.test.
type fixture struct {
	app  *fiber.App
	db   *bun.DB
	a, b *instance.Result
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db := testdb.New(t)
	ctx := context.Background()
	a, err := instance.Create(ctx, db, instance.Input{Slug: "conseil-a", Name: "Conseil A", CaisseName: "Caisse A", Hosts: "a.test",
		AdminEmail: "admin-a@example.org", Start: instance.StartModel}, system)
	if err != nil {
		t.Fatal(err)
	}
	b, err := instance.Create(ctx, db, instance.Input{Slug: "conseil-b", Name: "Conseil B", Hosts: "b.test www.b.test",
		AdminEmail: "admin-b@example.org", Start: instance.StartEmpty}, system)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Council.IsDefault || b.Council.IsDefault {
		t.Errorf("the first council is the default one: A %v, B %v", a.Council.IsDefault, b.Council.IsDefault)
	}
	if a.InviteToken == "" || b.InviteToken == "" {
		t.Fatal("no invitation for the first admins")
	}
	return &fixture{app: apptest.New(t, db, app.Config{}), db: db, a: a, b: b}
}

func (f *fixture) client(t *testing.T, host string) *webtest.Client {
	c := webtest.New(t, f.app)
	c.Host = host
	return c
}

// acceptInvitation signs the first admin in through their link, on their
// council's host.
func (f *fixture) admin(t *testing.T, r *instance.Result, host string) *webtest.Client {
	t.Helper()
	c := f.client(t, host)
	resp, body := c.Get("/invitation/" + r.InviteToken)
	if resp.StatusCode != 200 {
		t.Fatalf("invitation page on %s: %d %.300q", host, resp.StatusCode, body)
	}
	resp, body = c.PostForm("/invitation/"+r.InviteToken, url.Values{"name": {"Admin " + r.Council.Slug}, "password": {webtest.Password}})
	if resp.StatusCode != 303 {
		t.Fatalf("accept invitation on %s: %d %.300q", host, resp.StatusCode, body)
	}
	if c.Cookie("cla_session") == "" {
		c.SignInAs(r.AdminEmail, webtest.Password)
	}
	return c
}

func TestTwoCreatedCouncilsEachShowOnlyTheirOwnData(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	a, b := f.client(t, "a.test"), f.client(t, "www.b.test")
	_, home := a.Get("/")
	if !strings.Contains(home, "Conseil A") || strings.Contains(home, "Conseil B") {
		t.Errorf("A's home: %.300q", home)
	}
	_, home = b.Get("/")
	if !strings.Contains(home, "Conseil B") || strings.Contains(home, "Conseil A") {
		t.Errorf("B's home: %.300q", home)
	}
	// A starts from the model: the boussole in force and the register as a proposal.
	_, page := a.Get("/boussole")
	if !strings.Contains(page, "Désirabilité de la SSA") {
		t.Errorf("A's boussole lacks the model's criteria")
	}
	_, page = a.Get("/propositions")
	if !strings.Contains(page, "Adopter le registre initial") {
		t.Errorf("A's proposals lack the initial register: %.500q", page)
	}
	_, page = b.Get("/propositions")
	if strings.Contains(page, "Adopter le registre initial") {
		t.Errorf("B shows A's proposal")
	}
	// No demo people, debates or register version in the model council.
	for table, want := range map[string]int{"memberships": 0, "debates": 0, "register_versions": 0, "shops": 0, "proposals": 1} {
		n, err := f.db.NewSelect().Table(table).Where("council_id = ?", f.a.Council.ID).Count(ctx)
		if err != nil || n != want {
			t.Errorf("A's %s: %d (%v), want %d", table, n, err, want)
		}
	}
	var p proposal.Proposal
	if err := f.db.NewSelect().Model(&p).Where("council_id = ?", f.a.Council.ID).Scan(ctx); err != nil {
		t.Fatal(err)
	}
	ch, err := proposal.InitialRegisterChange(ctx, f.db, f.a.Council.ID, p.ID)
	if err != nil || len(ch.Items) < 30 || len(ch.Shops) != 0 {
		t.Fatalf("initial register: %v items, %v shops, %v", len(ch.Items), len(ch.Shops), err)
	}
	if _, err := proposal.InitialRegisterChange(ctx, f.db, f.b.Council.ID, p.ID); err == nil {
		t.Error("B reads A's initial register")
	}
	// B is empty: no boussole, and no page answers 500.
	adminB := f.admin(t, f.b, "b.test")
	for _, path := range []string{"/", "/boussole", "/propositions", "/propositions/nouvelle", "/registre", "/debats", "/seances",
		"/points-de-vente", "/api/v1/register", "/register.csv", "/gestion/conseil", "/propositions/comparer"} {
		for _, c := range []*webtest.Client{b, adminB} {
			if resp, body := c.Get(path); resp.StatusCode >= 500 {
				t.Errorf("B %s: %d %.300q", path, resp.StatusCode, body)
			}
		}
	}
	if resp, body := a.Get("/propositions/" + itoa(p.ID)); resp.StatusCode != 200 || !strings.Contains(body, "Registre initial") {
		t.Errorf("A's initial register proposal: %d", resp.StatusCode)
	}
	// A's proposal is not found from B.
	if resp, _ := adminB.Get("/propositions/" + itoa(p.ID)); resp.StatusCode != 404 {
		t.Errorf("A's proposal from B: %d, want 404", resp.StatusCode)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestDuplicateSlugOrTakenHostChangesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	count := func() int {
		n, err := f.db.NewSelect().Table("councils").Count(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := count()
	_, err := instance.Create(ctx, f.db, instance.Input{Slug: "conseil-a", Name: "Autre", Hosts: "autre.test", AdminEmail: "x@example.org"}, system)
	if msg := apperr.FieldsOf(err)["slug"]; !strings.Contains(msg, "déjà") || !strings.Contains(msg, "rien n'a été") {
		t.Errorf("duplicate slug: %v", err)
	}
	_, err = instance.Create(ctx, f.db, instance.Input{Slug: "conseil-c", Name: "C", Hosts: "c.test\nb.test", AdminEmail: "x@example.org"}, system)
	if msg := apperr.FieldsOf(err)["hosts"]; !strings.Contains(msg, "b.test") || !strings.Contains(msg, "Conseil B") {
		t.Errorf("taken host: %v", err)
	}
	if n := count(); n != before {
		t.Errorf("councils: %d, want %d", n, before)
	}
	if exists, _ := f.db.NewSelect().Table("council_hosts").Where("host = 'c.test'").Exists(ctx); exists {
		t.Error("a refused creation wrote a host")
	}
}

// operator creates an operator through instance.CreateOperator, sets its
// password through the link and signs in on host.
func (f *fixture) operator(t *testing.T, host string) *webtest.Client {
	t.Helper()
	token, err := instance.CreateOperator(context.Background(), f.db, "operateur@example.org", "Opératrice")
	if err != nil {
		t.Fatal(err)
	}
	c := f.client(t, host)
	if resp, body := c.PostForm("/mot-de-passe/"+token, url.Values{"password": {webtest.Password}}); resp.StatusCode != 303 {
		t.Fatalf("operator's password link: %d %.300q", resp.StatusCode, body)
	}
	// The council's own sign-in refuses the operator: no membership there.
	if resp, _ := c.PostForm("/connexion", url.Values{"email": {"operateur@example.org"}, "password": {webtest.Password}}); resp.StatusCode != 422 {
		t.Errorf("operator on the council's sign-in: %d, want 422", resp.StatusCode)
	}
	c.Get("/instance/connexion")
	resp, body := c.PostForm("/instance/connexion", url.Values{"email": {"operateur@example.org"}, "password": {webtest.Password}, "suite": {"/instance"}})
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/instance" {
		t.Fatalf("operator sign-in: %d %q %.300q", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	return c
}

func TestOperatorManagesCouncilsButHasNoPowerInside(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	op := f.operator(t, "a.test")
	resp, body := op.Get("/instance")
	if resp.StatusCode != 200 || !strings.Contains(body, "Conseil A") || !strings.Contains(body, "Conseil B") || !strings.Contains(body, "www.b.test") {
		t.Fatalf("/instance: %d %.500q", resp.StatusCode, body)
	}
	// No power inside a council.
	for _, path := range []string{"/gestion/membres", "/gestion/conseil", "/gestion/journal", "/seances/regles", "/gestion/candidatures"} {
		if resp, _ := op.Get(path); resp.StatusCode != 403 {
			t.Errorf("operator GET %s: %d, want 403", path, resp.StatusCode)
		}
	}
	if resp, _ := op.PostForm("/gestion/conseil", url.Values{"name": {"Pris"}}); resp.StatusCode != 403 {
		t.Errorf("operator POST /gestion/conseil: %d, want 403", resp.StatusCode)
	}
	if resp, _ := op.PostForm("/propositions/nouvelle", url.Values{"title": {"Une proposition"}}); resp.StatusCode != 403 {
		t.Errorf("operator POST /propositions/nouvelle: %d, want 403", resp.StatusCode)
	}
	// Others may not use /instance.
	adminA := f.admin(t, f.a, "a.test")
	if resp, _ := adminA.Get("/instance"); resp.StatusCode != 403 {
		t.Errorf("council admin on /instance: %d, want 403", resp.StatusCode)
	}
	if resp, _ := adminA.PostForm("/instance/conseils", url.Values{"slug": {"x"}}); resp.StatusCode != 403 {
		t.Errorf("council admin POST /instance/conseils: %d, want 403", resp.StatusCode)
	}
	anon := f.client(t, "b.test")
	if resp, _ := anon.Get("/instance"); resp.StatusCode != 303 || !strings.HasPrefix(resp.Header.Get("Location"), "/instance/connexion") {
		t.Errorf("anonymous /instance: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}

	// Bad input: French messages beside the fields, input kept.
	form := url.Values{"slug": {"Conseil-É"}, "name": {"Conseil C"}, "hosts": {"b.test"}, "admin_email": {"ad min@example.org"},
		"timezone": {"Europe/Paris"}, "start": {"model"}, "commune": {"Crest"}}
	resp, body = op.PostForm("/instance/conseils", form)
	if resp.StatusCode != 422 {
		t.Fatalf("bad creation: %d", resp.StatusCode)
	}
	for _, want := range []string{`id="slug-error"`, "minuscules", `id="admin_email-error"`, "espace", `value="Conseil-É"`, `value="Crest"`, `value="ad min@example.org"`} {
		if !strings.Contains(body, want) {
			t.Errorf("bad creation page lacks %q", want)
		}
	}
	form.Set("slug", "conseil-c")
	form.Set("admin_email", "admin-c@example.org")
	resp, body = op.PostForm("/instance/conseils", form)
	if resp.StatusCode != 422 || !strings.Contains(body, `id="hosts-error"`) || !strings.Contains(body, "déjà celui du conseil") {
		t.Errorf("taken host: %d %.300q", resp.StatusCode, body)
	}
	form.Set("slug", "conseil-a")
	form.Set("hosts", "c.test")
	resp, body = op.PostForm("/instance/conseils", form)
	if resp.StatusCode != 422 || !strings.Contains(body, "rien n&#39;a été créé") {
		t.Errorf("duplicate slug: %d", resp.StatusCode)
	}
	form.Set("slug", "conseil-c")
	form.Set("start", "file")
	resp, body = op.PostForm("/instance/conseils", form)
	if resp.StatusCode != 422 || !strings.Contains(body, "Joignez le fichier") {
		t.Errorf("file start without a file: %d", resp.StatusCode)
	}
	form.Set("start", "model")
	resp, body = op.PostForm("/instance/conseils", form)
	if resp.StatusCode != 200 || !strings.Contains(body, "Conseil créé") {
		t.Fatalf("creation: %d %.500q", resp.StatusCode, body)
	}
	link := regexp.MustCompile(`http://c\.test/invitation/[A-Za-z0-9_-]+`).FindString(body)
	if link == "" {
		t.Fatalf("no invitation link on c.test in %.800q", body)
	}
	adminC := f.client(t, "c.test")
	path := strings.TrimPrefix(link, "http://c.test")
	if resp, body := adminC.PostForm(path, url.Values{"name": {"Admin C"}, "password": {webtest.Password}}); resp.StatusCode != 303 {
		t.Fatalf("admin C accepts: %d %.300q", resp.StatusCode, body)
	}
	adminC.SignInAs("admin-c@example.org", webtest.Password)
	if resp, _ := adminC.Get("/gestion/conseil"); resp.StatusCode != 200 {
		t.Errorf("admin C's settings: %d", resp.StatusCode)
	}

	// Host names: another council's refused; then changed.
	resp, body = op.PostForm("/instance/conseils/conseil-c/hotes", url.Values{"hosts": {"c.test\na.test"}})
	if resp.StatusCode != 422 || !strings.Contains(body, "Conseil A") || !strings.Contains(body, "a.test") {
		t.Errorf("taken host on edit: %d", resp.StatusCode)
	}
	if resp, _ := op.PostForm("/instance/conseils/conseil-c/hotes", url.Values{"hosts": {"c.test\nc2.test"}}); resp.StatusCode != 303 {
		t.Errorf("host edit: %d", resp.StatusCode)
	}
	if _, body := f.client(t, "c2.test").Get("/"); !strings.Contains(body, "Conseil C") {
		t.Errorf("c2.test does not serve C")
	}

	// Suspended: 503 with a French page; /instance still served there.
	if resp, _ := op.PostForm("/instance/conseils/conseil-b/etat", url.Values{"state": {"suspended"}}); resp.StatusCode != 303 {
		t.Fatalf("suspend: %d", resp.StatusCode)
	}
	for _, path := range []string{"/", "/registre", "/api/v1/register", "/connexion"} {
		resp, body := f.client(t, "b.test").Get(path)
		if resp.StatusCode != 503 || !strings.Contains(body, "suspendu") {
			t.Errorf("suspended B %s: %d %.200q", path, resp.StatusCode, body)
		}
	}
	opB := f.client(t, "b.test")
	opB.Get("/instance/connexion")
	if resp, _ := opB.PostForm("/instance/connexion", url.Values{"email": {"operateur@example.org"}, "password": {webtest.Password}}); resp.StatusCode != 303 {
		t.Errorf("operator sign-in on a suspended council's host: %d", resp.StatusCode)
	}
	if resp, _ := opB.Get("/instance"); resp.StatusCode != 200 {
		t.Errorf("/instance on a suspended council's host: %d", resp.StatusCode)
	}
	// Archived: readable, nothing changes.
	if resp, _ := op.PostForm("/instance/conseils/conseil-b/etat", url.Values{"state": {"archived"}}); resp.StatusCode != 303 {
		t.Fatalf("archive: %d", resp.StatusCode)
	}
	b := f.client(t, "b.test")
	if resp, _ := b.Get("/"); resp.StatusCode != 200 {
		t.Errorf("archived B's home: %d", resp.StatusCode)
	}
	if resp, body := b.PostForm("/debats/proposer", url.Values{"title": {"Un sujet"}}); resp.StatusCode != 403 || !strings.Contains(body, "archivé") {
		t.Errorf("archived B accepts a POST: %d", resp.StatusCode)
	}
	if resp, _ := op.PostForm("/instance/conseils/conseil-b/etat", url.Values{"state": {"n-importe"}}); resp.StatusCode != 422 {
		t.Errorf("unknown state: %d", resp.StatusCode)
	}
}

func TestSettingsPageSavesAndChecksHosts(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	adminA := f.admin(t, f.a, "a.test")
	resp, body := adminA.Get("/gestion/conseil")
	if resp.StatusCode != 200 || !strings.Contains(body, `value="Conseil A"`) || !strings.Contains(body, "/seances/regles") {
		t.Fatalf("settings page: %d %.300q", resp.StatusCode, body)
	}
	form := url.Values{"name": {"Conseil A renommé"}, "presentation": {"Nous sommes **le conseil A**.\n\n<script>x</script>"},
		"contact_email": {"con tact@example.org"}, "hosts": {"a.test\nb.test"}, "register_public": {"1"}}
	resp, body = adminA.PostForm("/gestion/conseil", form)
	if resp.StatusCode != 422 || !strings.Contains(body, `id="contact_email-error"`) || !strings.Contains(body, "Conseil A renommé") {
		t.Errorf("bad settings: %d %.500q", resp.StatusCode, body)
	}
	form.Set("contact_email", "contact@example.org")
	resp, body = adminA.PostForm("/gestion/conseil", form)
	if resp.StatusCode != 422 || !strings.Contains(body, "Conseil B") || !strings.Contains(body, `id="hosts-error"`) {
		t.Errorf("taken host: %d", resp.StatusCode)
	}
	form.Set("hosts", "a.test\nautre-a.test")
	if resp, body := adminA.PostForm("/gestion/conseil", form); resp.StatusCode != 303 {
		t.Fatalf("save: %d %.300q", resp.StatusCode, body)
	}
	_, home := f.client(t, "autre-a.test").Get("/")
	if !strings.Contains(home, "Conseil A renommé") || !strings.Contains(home, "<strong>le conseil A</strong>") || strings.Contains(home, "<script>x") {
		t.Errorf("home after save: %.800q", home)
	}
	// A member may not change the settings.
	member, _ := webtest.SignIn(t, f.app, f.db, f.a.Council.ID, authz.Member)
	if resp, _ := member.Get("/gestion/conseil"); resp.StatusCode != 403 {
		t.Errorf("member on the settings: %d", resp.StatusCode)
	}
}

func TestPrivateRegisterBeforeItsFirstVersion(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	adminB := f.admin(t, f.b, "b.test")
	form := url.Values{"name": {"Conseil B"}, "hosts": {"b.test\nwww.b.test"}, "register_public": {"0"}}
	if resp, body := adminB.PostForm("/gestion/conseil", form); resp.StatusCode != 303 {
		t.Fatalf("make private: %d %.300q", resp.StatusCode, body)
	}
	anon := f.client(t, "b.test")
	for _, path := range []string{"/registre", "/registre/versions", "/puis-je-acheter?q=pain", "/points-de-vente", "/api/v1/register", "/register.csv", "/api/v1/shops"} {
		resp, body := anon.Get(path)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "pas encore public") {
			t.Errorf("private %s for anonymous: %d %.200q", path, resp.StatusCode, body)
		}
	}
	if _, home := anon.Get("/"); !strings.Contains(home, "pas encore public") {
		t.Errorf("home of a private register")
	}
	if resp, _ := adminB.Get("/registre"); resp.StatusCode != 200 {
		t.Errorf("member on the private register: %d", resp.StatusCode)
	}
	// Back to public: everyone reads it.
	form.Set("register_public", "1")
	if resp, _ := adminB.PostForm("/gestion/conseil", form); resp.StatusCode != 303 {
		t.Fatalf("make public: %d", resp.StatusCode)
	}
	if resp, _ := anon.Get("/registre"); resp.StatusCode != 200 {
		t.Errorf("public again: %d", resp.StatusCode)
	}
}

func TestFreshInstanceSaysWhatToRun(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	a := apptest.New(t, db, app.Config{})
	c := webtest.New(t, a)
	resp, body := c.Get("/")
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "cla operator create") || !strings.Contains(body, "/instance") ||
		!strings.Contains(body, "cla council create") {
		t.Errorf("fresh instance home: %d %.500q", resp.StatusCode, body)
	}
	if resp, _ := c.Get("/instance"); resp.StatusCode != 303 {
		t.Errorf("/instance: %d", resp.StatusCode)
	}
	if resp, _ := c.Get("/instance/connexion"); resp.StatusCode != 200 {
		t.Errorf("/instance/connexion: %d", resp.StatusCode)
	}
	// The operator's whole path: link, password, sign-in, first council.
	token, err := instance.CreateOperator(context.Background(), db, "op@example.org", "Op")
	if err != nil {
		t.Fatal(err)
	}
	if resp, body := c.PostForm("/mot-de-passe/"+token, url.Values{"password": {webtest.Password}}); resp.StatusCode != 303 {
		t.Fatalf("password link: %d %.300q", resp.StatusCode, body)
	}
	c.Get("/instance/connexion")
	if resp, _ := c.PostForm("/instance/connexion", url.Values{"email": {"op@example.org"}, "password": {webtest.Password}}); resp.StatusCode != 303 {
		t.Fatalf("sign-in: %d", resp.StatusCode)
	}
	if resp, _ := c.Get("/instance/conseils/nouveau"); resp.StatusCode != 200 {
		t.Fatalf("creation form: %d", resp.StatusCode)
	}
	resp, body = c.PostForm("/instance/conseils", url.Values{"slug": {"premier"}, "name": {"Premier conseil"}, "hosts": {"premier.test"},
		"admin_email": {"admin@example.org"}, "timezone": {"Europe/Paris"}, "start": {"empty"}})
	if resp.StatusCode != 200 || !strings.Contains(body, "premier.test/invitation/") {
		t.Fatalf("first council: %d %.500q", resp.StatusCode, body)
	}
	// Now the default council answers on any host.
	if resp, body := webtest.New(t, a).Get("/"); resp.StatusCode != 200 || !strings.Contains(body, "Premier conseil") {
		t.Errorf("home after the first council: %d", resp.StatusCode)
	}
	// Removing the operator ends its access.
	if removed, err := instance.RemoveOperator(context.Background(), db, "op@example.org"); err != nil || !removed {
		t.Fatalf("remove: %v %v", removed, err)
	}
	if resp, _ := c.Get("/instance"); resp.StatusCode == 200 {
		t.Errorf("removed operator still on /instance")
	}
}

type noMail struct{}

func (noMail) Send(context.Context, string, string, string) error { return nil }

// With mail configured, the first admin's link is also queued as a mail job.
func TestCreationMailsTheFirstAdminWhenMailIsOn(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.app = apptest.New(t, f.db, app.Config{Mailer: noMail{}})
	op := f.operator(t, "a.test")
	resp, body := op.PostForm("/instance/conseils", url.Values{"slug": {"conseil-m"}, "name": {"Conseil M"}, "hosts": {"m.test"},
		"admin_email": {"admin-m@example.org"}, "timezone": {"Europe/Paris"}, "start": {"empty"}})
	if resp.StatusCode != 200 || !strings.Contains(body, "par e-mail à admin-m@example.org") {
		t.Fatalf("creation: %d %.500q", resp.StatusCode, body)
	}
	var args string
	if err := f.db.NewRaw("SELECT args::text FROM river_job WHERE kind = 'mail.send' ORDER BY id DESC LIMIT 1").Scan(context.Background(), &args); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(args, "admin-m@example.org") || !strings.Contains(args, "http://m.test/invitation/") {
		t.Errorf("mail job: %s", args)
	}
}
