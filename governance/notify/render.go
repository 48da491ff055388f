package notify

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	htmltemplate "html/template"
	"strconv"
	"strings"
	texttemplate "text/template"
	"time"

	ics "github.com/arran4/golang-ical"

	"cla/governance/assembly"
	"cla/internal/web"
)

// content is what a mail says, whatever its kind: both bodies (text and
// HTML) are written from it by the two templates below, so they say the same
// thing. Every field is plain text; the HTML template escapes it.
type content struct {
	Council   string
	Name      string // the recipient's name
	Subject   string
	Lead      []string // paragraphs
	ListTitle string
	List      []string
	Link      string // the page concerned
	LinkLabel string
	// Unsubscribe is the page that stops this kind of mail ("" for
	// convocations, which a seated member cannot leave); Prefs the page of
	// all choices.
	Unsubscribe string
	Prefs       string
	Why         string // why the recipient gets this mail
}

// The mail bodies. They are Go templates kept beside their only user rather
// than in templates/ (which holds the site's pages, loaded by the page
// engine with the site's functions): see docs/decisions.md.
var (
	textBody = texttemplate.Must(texttemplate.New("text").Funcs(texttemplate.FuncMap{"inc": func(i int) int { return i + 1 }}).Parse(`Bonjour {{.Name}},
{{range .Lead}}
{{.}}
{{end}}{{if .List}}
{{.ListTitle}}
{{range $i, $x := .List}}  {{inc $i}}. {{$x}}
{{end}}{{end}}
{{.LinkLabel}} : {{.Link}}

-- 
{{.Council}}
{{.Why}}
{{- if .Prefs}}
Vos choix de notifications : {{.Prefs}}{{end}}
{{- if .Unsubscribe}}
Ne plus recevoir ce type de message : {{.Unsubscribe}}{{end}}
`))
	htmlBody = htmltemplate.Must(htmltemplate.New("html").Parse(`<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>{{.Subject}}</title></head>
<body style="font-family: sans-serif; line-height: 1.5; max-width: 40em">
<p>Bonjour {{.Name}},</p>
{{range .Lead}}<p>{{.}}</p>
{{end}}{{if .List}}<h2 style="font-size: 1.1em">{{.ListTitle}}</h2>
<ol>{{range .List}}<li>{{.}}</li>{{end}}</ol>
{{end}}<p><a href="{{.Link}}">{{.LinkLabel}}</a></p>
<hr>
<p style="font-size: .9em; color: #555">{{.Council}}<br>{{.Why}}<br>
{{if .Prefs}}<a href="{{.Prefs}}">Vos choix de notifications</a>{{if .Unsubscribe}} · {{end}}{{end}}{{if .Unsubscribe}}<a href="{{.Unsubscribe}}">Ne plus recevoir ce type de message</a>{{end}}</p>
</body></html>
`))
)

// bodies writes the text and HTML bodies of c.
func (c *content) bodies() (text, html string, err error) {
	var t, h bytes.Buffer
	if err := textBody.Execute(&t, c); err != nil {
		return "", "", err
	}
	if err := htmlBody.Execute(&h, c); err != nil {
		return "", "", err
	}
	return t.String(), h.String(), nil
}

// frDateTime is "12 juin 2026 à 18h30", Paris time.
func frDateTime(t time.Time) string {
	return web.FrenchDate(t) + " à " + t.In(web.Paris()).Format("15h04")
}

// fingerprint names what a convocation says that matters to those convened:
// the date, the place and the agenda. A change of any is sent again as a
// change; a change of the title or the note alone is not.
func fingerprint(m *assembly.Meeting, agenda []assembly.AgendaItem) string {
	h := sha256.New()
	h.Write([]byte(strconv.FormatInt(m.StartsAt.Unix(), 10) + "\x00" + strconv.FormatInt(m.EndsAt.Unix(), 10) + "\x00" + m.Place + "\x00"))
	for _, it := range agenda {
		h.Write([]byte(it.Title + "\x00"))
	}
	return hex.EncodeToString(h.Sum(nil)[:6])
}

// paramText makes free text safe as an iCalendar parameter value: no line
// breaks or control characters (a name could otherwise start a property),
// and none of the characters that end a parameter.
func paramText(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '"' || r == ';' || r == ':' || r == ',' {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// meetingICS is the meeting as an iCalendar invitation (or its
// cancellation), for the convocation's attachment. The UID and SEQUENCE are
// those of /meetings.ics, so a calendar updates the same event.
func meetingICS(m *assembly.Meeting, host, council, from, link string, agenda []assembly.AgendaItem, cancel bool) string {
	cal := ics.NewCalendar()
	cal.SetProductId("-//CLA//Seances du Conseil//FR")
	if cancel {
		cal.SetMethod(ics.MethodCancel)
	} else {
		cal.SetMethod(ics.MethodRequest)
	}
	ev := cal.AddEvent(m.UID + "@" + host)
	ev.SetDtStampTime(time.Now())
	ev.SetSequence(m.Sequence)
	ev.SetStartAt(m.StartsAt)
	ev.SetEndAt(m.EndsAt)
	ev.SetSummary(m.Title + " — " + council)
	if m.Place != "" {
		ev.SetLocation(m.Place)
	}
	var desc []string
	for i, it := range agenda {
		desc = append(desc, strconv.Itoa(i+1)+". "+it.Title)
	}
	if len(desc) > 0 {
		ev.SetDescription("Ordre du jour :\n" + strings.Join(desc, "\n"))
	}
	ev.SetURL(link)
	if from != "" {
		ev.SetOrganizer("mailto:"+from, ics.WithCN(paramText(council)))
	}
	if cancel {
		ev.SetStatus(ics.ObjectStatusCancelled)
	} else {
		ev.SetStatus(ics.ObjectStatusConfirmed)
	}
	return cal.Serialize()
}
