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

	"cla/internal/council"
	"cla/internal/idempotency"
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
	Current bool // the page is this link's or under it: aria-current="page"
}

// Nav is the main navigation, in the order the header shows it (before the
// account link).
var Nav = []NavLink{
	{Href: "/registre", Label: "Registre"},
	{Href: "/debats", Label: "Débats"},
	{Href: "/propositions", Label: "Propositions"},
	{Href: "/seances", Label: "Séances"},
	{Href: "/points-de-vente", Label: "Points de vente"},
	{Href: "/conseil", Label: "Le conseil"},
}

// NavLinks lists the links of the main navigation for a page at path, the
// current one marked, then the account link (or the sign-in link). The markup
// is in templates/partials/header.html.
func NavLinks(path string, viewer *Viewer) []NavLink {
	links := make([]NavLink, 0, len(Nav)+1)
	links = append(links, Nav...)
	if viewer != nil {
		links = append(links, NavLink{Href: "/compte", Label: viewer.Name})
	} else {
		links = append(links, NavLink{Href: "/connexion", Label: "Connexion"})
	}
	for i := range links {
		href := links[i].Href
		links[i].Current = path == href || strings.HasPrefix(path, href+"/")
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
		return co.Location()
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
	}
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
