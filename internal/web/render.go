package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/template/html/v2"

	"cla/internal/authz"
	"cla/internal/council"
	"cla/internal/idempotency"
	"cla/internal/text"
	"cla/templates"
)

// Viewer is the signed-in account as pages see it; nil for an anonymous visitor.
type Viewer struct {
	AccountID int64
	Name      string
	Role      string // role in the request's council; "" when not a member
}

// SetViewer records the signed-in account for this request (set by the session
// middleware).
func SetViewer(c *fiber.Ctx, v *Viewer) { c.Locals(viewerKey, v) }

// ViewerOf returns the signed-in account, or nil.
func ViewerOf(c *fiber.Ctx) *Viewer {
	v, _ := c.Locals(viewerKey).(*Viewer)
	return v
}

// SetCSRFToken records the token forms of this request must carry.
func SetCSRFToken(c *fiber.Ctx, token string) { c.Locals(csrfKey, token) }

// Page is what every page's view embeds: what the header, navigation and forms need.
type Page struct {
	Title     string
	Council   *council.Council
	Viewer    *Viewer
	CSRFToken string
	Path      string
	Flash     string
}

// FormKey is a fresh idempotency key for a create-form of the page, to put in
// its hidden field idempotency.Field: the form then creates once however many
// times it is sent (internal/idempotency). Each call gives a new key.
func (p Page) FormKey() string { return idempotency.NewKey() }

// NewPage fills the shared part of a page's view from the request, the
// one-time flash message included (flash.go): never text from the URL.
func NewPage(c *fiber.Ctx, title string) Page {
	token, _ := c.Locals(csrfKey).(string)
	return Page{
		Title:     title,
		Council:   Council(c),
		Viewer:    ViewerOf(c),
		CSRFToken: token,
		Path:      strings.Clone(c.Path()),
		Flash:     takeFlash(c),
	}
}

// NavLink is one link of the main navigation, as the header template shows it.
type NavLink struct {
	Href    string
	Label   string
	Current bool      // the page is this link's or under it: aria-current="page"
	Items   []NavLink // a group (the management pages): shown as a disclosure, Href unused
}

// Nav is the main navigation, in the order the header shows it (before the
// management group and the account link).
var Nav = []NavLink{
	{Href: "/registre", Label: "Registre"},
	{Href: "/debats", Label: "Débats"},
	{Href: "/propositions", Label: "Propositions"},
	{Href: "/seances", Label: "Séances"},
	{Href: "/points-de-vente", Label: "Points de vente"},
	{Href: "/conseil", Label: "Le conseil"},
}

// managePage is one management page and the action that opens it: the menu
// shows a person the pages their role may open, and nothing else (issue 20,
// point 6: a facilitator no longer has to click their own name to find them).
type managePage struct {
	link   NavLink
	action authz.Action
}

// managePages are the management pages, in the order the menu lists them.
var managePages = []managePage{
	{NavLink{Href: "/gestion/candidatures", Label: "Candidatures des points de vente"}, authz.ApplicationRead},
	{NavLink{Href: "/gestion/renouvellements", Label: "Conventions à renouveler"}, authz.ApplicationRead},
	{NavLink{Href: "/debats/suggestions", Label: "Sujets proposés à relire"}, authz.ReviewSuggestion},
	{NavLink{Href: "/gestion/membres", Label: "Membres"}, authz.MemberList},
	{NavLink{Href: "/gestion/charte", Label: "Charte d'engagement"}, authz.CharterEdit},
	{NavLink{Href: "/gestion/points-de-vente/export.csv", Label: "Export des partenaires (CSV)"}, authz.ShopExport},
	{NavLink{Href: "/gestion/journal", Label: "Journal des modifications"}, authz.AuditRead},
	{NavLink{Href: "/gestion/notifications", Label: "Envois d'e-mails"}, authz.NotifyLog},
	{NavLink{Href: "/gestion/integrations", Label: "Intégrations"}, authz.ManageIntegrations},
	{NavLink{Href: "/gestion/odoo", Label: "Outil de paiement (Odoo)"}, authz.ManageOdoo},
	{NavLink{Href: "/seances/regles", Label: "Règles des séances"}, authz.SetMeetingRules},
	{NavLink{Href: "/gestion/conseil", Label: "Réglages du conseil"}, authz.CouncilSettings},
	{NavLink{Href: "/compte/notifications", Label: "Mes notifications"}, authz.NotifyOwn},
}

// ManageLinks lists the management pages viewer's role may open; none for an
// anonymous visitor or an account without a role in the council.
func ManageLinks(path string, viewer *Viewer) []NavLink {
	if viewer == nil || viewer.Role == "" {
		return nil
	}
	var out []NavLink
	for _, p := range managePages {
		if authz.Can(authz.Role(viewer.Role), p.action) {
			l := p.link
			l.Current = path == l.Href || strings.HasPrefix(path, l.Href+"/")
			out = append(out, l)
		}
	}
	return out
}

// NavLinks lists the links of the main navigation for a page at path, the
// current one marked, then the management group (for members) and the
// account link (or the sign-in link). The markup is in
// templates/partials/header.html.
func NavLinks(path string, viewer *Viewer) []NavLink {
	links := make([]NavLink, 0, len(Nav)+2)
	links = append(links, Nav...)
	for i := range links {
		href := links[i].Href
		links[i].Current = path == href || strings.HasPrefix(path, href+"/")
	}
	if manage := ManageLinks(path, viewer); len(manage) > 0 {
		group := NavLink{Label: "Gestion", Items: manage}
		for _, l := range manage {
			group.Current = group.Current || l.Current
		}
		links = append(links, group)
	}
	if viewer != nil {
		links = append(links, NavLink{Href: "/compte", Label: viewer.Name, Current: path == "/compte"})
	} else {
		links = append(links, NavLink{Href: "/connexion", Label: "Connexion", Current: path == "/connexion" || strings.HasPrefix(path, "/connexion/")})
	}
	return links
}

// newEngine loads every template of the templates package with the template
// functions of this file, dates shown in Paris time.
func newEngine() (*html.Engine, error) { return newEngineAt(paris) }

// newEngineAt is newEngine with dates shown in loc.
func newEngineAt(loc *time.Location) (*html.Engine, error) {
	engine := html.NewFileSystem(http.FS(templates.FS), ".html")
	engine.AddFuncMap(templateFuncs(loc))
	if err := engine.Load(); err != nil {
		return nil, err
	}
	return engine, nil
}

var sharedEngine = sync.OnceValues(newEngine)

// zoneEngines holds, per time zone other than Paris, the templates whose date
// functions show that zone's time: a council overseas (Indian/Reunion,
// America/Cayenne) reads its meetings at its own hours. Parsed once per zone
// in use, on first need; a handful at most.
var zoneEngines sync.Map // zone name → *html.Engine

func engineAt(loc *time.Location) (*html.Engine, error) {
	if e, ok := zoneEngines.Load(loc.String()); ok {
		return e.(*html.Engine), nil
	}
	e, err := newEngineAt(loc)
	if err != nil {
		return nil, err
	}
	actual, _ := zoneEngines.LoadOrStore(loc.String(), e)
	return actual.(*html.Engine), nil
}

// Location is the time zone of the request's council (Europe/Paris unless
// the council chose another): the zone its pages show and its forms read.
func Location(c *fiber.Ctx) *time.Location {
	if co := Council(c); co != nil {
		// internal/council loads its zones itself: its Europe/Paris is another
		// *time.Location than ours. Returning ours lets Render take the
		// default engine and fiber's pooled body buffer (pointer comparison):
		// before, every Paris page went through a per-zone engine into a new
		// buffer grown from empty (issue 22, docs/perf.md).
		if l := co.Location(); l.String() != paris.String() {
			return l
		}
	}
	return paris
}

// RenderTo writes the named template for view to w as Render would for this
// request (the council's time zone), without touching the response: for
// pages kept in a cache.
func RenderTo(c *fiber.Ctx, w io.Writer, name string, view any) error {
	loc := Location(c)
	if loc == paris {
		return c.App().Config().Views.Render(w, name, view)
	}
	e, err := engineAt(loc)
	if err != nil {
		return err
	}
	return e.Render(w, name, view)
}

// ExecuteTemplate writes the named template (a page, a partial or a block
// {{define}}d in one) for view to w, as Render does but outside a request: for
// the tests that check a web.Fragment writer against its template twin.
func ExecuteTemplate(w io.Writer, name string, view any) error {
	engine, err := sharedEngine()
	if err != nil {
		return err
	}
	return engine.Render(w, name, view)
}

// Render writes the named template with an HTML content type and the status
// already set: 200 unless the handler set another (TooMany's 429). A form
// re-shown with its refusals uses RenderStatus.
func Render(c *fiber.Ctx, name string, view any) error {
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	if Location(c) == paris {
		return c.Render(name, view)
	}
	var buf bytes.Buffer
	if err := RenderTo(c, &buf, name, view); err != nil {
		return err
	}
	return c.Send(buf.Bytes())
}

// RenderStatus is Render with status, such as 422 for a form re-shown with
// its refusals.
func RenderStatus(c *fiber.Ctx, status int, name string, view any) error {
	c.Status(status)
	return Render(c, name, view)
}

var frMonths = [...]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"}

var paris = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		return time.UTC
	}
	return loc
}()

// Paris is Europe/Paris, the default time zone of a council (Location gives
// the request's council's own).
func Paris() *time.Location { return paris }

// FrenchDate formats t as "5 mars 2025" in Paris time.
func FrenchDate(t time.Time) string { return FrenchDateIn(t, paris) }

// FrenchDateIn formats t as "5 mars 2025" in loc.
func FrenchDateIn(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	t = t.In(loc)
	day := strconv.Itoa(t.Day())
	if t.Day() == 1 {
		day = "1er"
	}
	return day + " " + frMonths[t.Month()-1] + " " + strconv.Itoa(t.Year())
}

// FrenchDateTimeIn formats t as "5 mars 2025 à 18h30" in loc.
func FrenchDateTimeIn(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return FrenchDateIn(t, loc) + " à " + t.In(loc).Format("15h04")
}

// templateFuncs are the template functions, dates and times shown in loc.
func templateFuncs(loc *time.Location) map[string]any {
	return map[string]any{
		"asset":      AssetURL,
		"frdate":     func(t time.Time) string { return FrenchDateIn(t, loc) },
		"frdatetime": func(t time.Time) string { return FrenchDateTimeIn(t, loc) },
		"isodate":    func(t time.Time) string { return t.In(loc).Format("2006-01-02") },
		// storedHTML marks HTML that was sanitised when it was saved (see
		// internal/markdown); never pass it anything else.
		"storedHTML": func(s string) template.HTML { return template.HTML(s) }, //nolint:gosec
		"navLinks":   NavLinks,
		"dict":       dict,
		"formErrors": FormErrors,
		// French wording (internal/text): {{de .Name}} gives "d'Épicerie" or
		// "de Lucas"; {{plural .N "abstention" "abstentions"}} the word alone;
		// {{count .N "membre" "membres"}} "6 membres".
		"de":     text.De,
		"add1":   func(i int) int { return i + 1 },
		"plural": func(n any, one, many string) string { return text.Plural(toInt(n), one, many) },
		"count":  func(n any, one, many string) string { return text.Count(toInt(n), one, many) },
	}
}

// toInt converts the integer kinds templates hand to plural and count.
func toInt(n any) int {
	switch v := n.(type) {
	case int:
		return v
	case int64:
		return int(v)
	case int32:
		return int(v)
	case uint:
		return int(v)
	case float64:
		return int(v)
	}
	return 0
}

// dict builds a map from key, value pairs, to pass several values to a
// partial: {{template "partials/field" (dict "Name" "title" "Label" "Titre")}}.
func dict(pairs ...any) (map[string]any, error) {
	if len(pairs)%2 != 0 {
		return nil, fmt.Errorf("dict: odd number of arguments (%d)", len(pairs))
	}
	m := make(map[string]any, len(pairs)/2)
	for i := 0; i < len(pairs); i += 2 {
		k, ok := pairs[i].(string)
		if !ok {
			return nil, fmt.Errorf("dict: key %v is not a string", pairs[i])
		}
		m[k] = pairs[i+1]
	}
	return m, nil
}

// FieldError is one message of a form's error summary; ID is the id of the
// field it links to, "" when the message belongs to no field.
type FieldError struct {
	ID      string
	Message string
}

// FormErrors lists errs in form order, for the error summary
// (templates/partials/form.html): order holds the fields' names, space
// separated, each optionally followed by ":id" when its control's id is not
// prefix+name, or by ":" alone for a field without one control to link to. Messages of keys not in order (a whole-form message, a stale
// key) come after, sorted by key and without a link.
func FormErrors(errs map[string]string, order, prefix string) []FieldError {
	if len(errs) == 0 {
		return nil
	}
	out := make([]FieldError, 0, len(errs))
	seen := make(map[string]bool, len(errs))
	for _, f := range strings.Fields(order) {
		name, id, found := strings.Cut(f, ":")
		if !found {
			id = prefix + name
		}
		// "name:" (no id) keeps the message in its place, unlinked: a group of
		// radios has no single control to link to.
		if msg, ok := errs[name]; ok && !seen[name] {
			seen[name] = true
			out = append(out, FieldError{ID: id, Message: msg})
		}
	}
	rest := make([]string, 0, len(errs)-len(seen))
	for k := range errs {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	for _, k := range rest {
		out = append(out, FieldError{Message: errs[k]})
	}
	return out
}

// CSRFTokenOf returns the CSRF token forms of this request carry ("" when the
// session middleware did not run): the page cache keeps no page containing it.
func CSRFTokenOf(c *fiber.Ctx) string {
	token, _ := c.Locals(csrfKey).(string)
	return token
}
