package web

import (
	"html/template"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"cla/internal/council"
	"cla/internal/idempotency"
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

// NavItem is one link of the main navigation.
type NavItem struct {
	Href  string
	Label string
}

// Nav is the main navigation, in the order the header shows it.
var Nav = []NavItem{
	{"/registre", "Registre"},
	{"/debats", "Débats"},
	{"/propositions", "Propositions"},
	{"/seances", "Séances"},
	{"/points-de-vente", "Points de vente"},
	{"/conseil", "Le conseil"},
}

// NavItems renders the items of the main navigation for a page at path, the
// current one marked, and the account link (or the sign-in link). Every page
// has it: written with a Fragment rather than template actions (fragment.go).
func NavItems(path string, viewer *Viewer) template.HTML {
	var f Fragment
	f.Grow(1024)
	item := func(href, label string) {
		f.Tag("\n        <li><a href=\"").Text(href).Tag("\"")
		if path == href || strings.HasPrefix(path, href+"/") {
			f.Tag(" aria-current=\"page\"")
		}
		f.Tag(">").Text(label).Tag("</a></li>")
	}
	for _, n := range Nav {
		item(n.Href, n.Label)
	}
	if viewer != nil {
		item("/compte", viewer.Name)
	} else {
		item("/connexion", "Connexion")
	}
	return f.HTML()
}

// Render writes the named template with an HTML content type and the status
// already set: 200 unless the handler set another (TooMany's 429). A form
// re-shown with its refusals uses RenderStatus.
func Render(c *fiber.Ctx, name string, view any) error {
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Render(name, view)
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

// Paris is the time zone every date is shown in.
func Paris() *time.Location { return paris }

// FrenchDate formats t as "5 mars 2025" in Paris time.
func FrenchDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	t = t.In(paris)
	day := strconv.Itoa(t.Day())
	if t.Day() == 1 {
		day = "1er"
	}
	return day + " " + frMonths[t.Month()-1] + " " + strconv.Itoa(t.Year())
}

func templateFuncs() map[string]any {
	return map[string]any{
		"asset":  AssetURL,
		"frdate": FrenchDate,
		"frdatetime": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return FrenchDate(t) + " à " + t.In(paris).Format("15h04")
		},
		"isodate": func(t time.Time) string { return t.In(paris).Format("2006-01-02") },
		// storedHTML marks HTML that was sanitised when it was saved (see
		// internal/markdown); never pass it anything else.
		"storedHTML": func(s string) template.HTML { return template.HTML(s) }, //nolint:gosec
		"navItems":   NavItems,
	}
}
