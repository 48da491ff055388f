package mail_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/textproto"
	"strings"
	"testing"

	"cla/internal/mail"
	"cla/internal/mail/mailtest"
	"cla/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

const ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:seance-12@cla.example.org\r\nSUMMARY:Séance du conseil\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"

func fullMessage() *mail.Message {
	return &mail.Message{
		From:    mail.Address{Name: "Notre caisse alim' — Dieulefit"},
		To:      mail.Address{Name: "Hélène Müller", Email: "helene@example.org"},
		Subject: "Convocation : séance du 12 juin à la salle des fêtes",
		Text:    "Bonjour Hélène,\n\nLa séance aura lieu le 12 juin à 18 h 30.\nOrdre du jour : https://cla.example.org/seances/12?x=1&y=2\n",
		HTML:    `<p>Bonjour Hélène,</p><p>La séance aura lieu le <strong>12 juin</strong>.</p><p><a href="https://cla.example.org/seances/12?x=1&amp;y=2">Ordre du jour</a></p>`,
		Attachments: []mail.Attachment{{
			Filename: "seance.ics", ContentType: mail.CalendarRequest, Data: []byte(ics),
		}},
		MessageID:         mail.MessageID("convocation-12-v1", "helene@example.org", "cla.example.org"),
		Unsubscribe:       "https://cla.example.org/desabonnement/abc123?type=convocation",
		UnsubscribeMailto: "mailto:desabonnement@cla.example.org?subject=abc123",
	}
}

func sender(t *testing.T, srv *mailtest.Server) *mail.SMTP {
	t.Helper()
	s, err := mail.NewSMTP(mail.SMTPConfig{Addr: srv.Addr, From: "cla@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// crlf turns \n into \r\n, as bodies travel.
func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

// A message goes through a real SMTP server and reads back as written:
// sender name and address, recipient, subject, both bodies, the calendar
// attachment, the Message-ID, one-click unsubscribe, Auto-Submitted.
func TestMessageArrivesAsWritten(t *testing.T) {
	t.Parallel()
	srv := mailtest.Start(t, mailtest.Options{})
	msg := fullMessage()
	if err := sender(t, srv).Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	got := srv.Wait(t, 1)[0]
	if got.From != "cla@example.org" || len(got.To) != 1 || got.To[0] != "helene@example.org" {
		t.Errorf("envelope: from %q to %q", got.From, got.To)
	}
	m := mailtest.Parse(t, got.Data)
	for field, want := range map[string]string{"From": `"Notre caisse alim' — Dieulefit" <cla@example.org>`, "To": `"Hélène Müller" <helene@example.org>`} {
		if got := address(t, m, field); got != want {
			t.Errorf("%s: %s, want %s", field, got, want)
		}
	}
	checks := map[string]string{
		"Subject":               msg.Subject,
		"Message-ID":            msg.MessageID,
		"List-Unsubscribe":      "<https://cla.example.org/desabonnement/abc123?type=convocation>, <mailto:desabonnement@cla.example.org?subject=abc123>",
		"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
		"Auto-Submitted":        "auto-generated",
		"MIME-Version":          "1.0",
	}
	for name, want := range checks {
		if got := m.Get(name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	if _, err := m.Header.Date(); err != nil {
		t.Errorf("Date: %v", err)
	}
	if strings.TrimRight(m.Text, "\r\n") != strings.TrimRight(crlf(msg.Text), "\r\n") {
		t.Errorf("text body:\n%q\nwant\n%q", m.Text, crlf(msg.Text))
	}
	if m.HTML != msg.HTML {
		t.Errorf("HTML body:\n%q\nwant\n%q", m.HTML, msg.HTML)
	}
	if len(m.Attachments) != 1 {
		t.Fatalf("%d attachments, want 1", len(m.Attachments))
	}
	a := m.Attachments[0]
	if a.Filename != "seance.ics" || a.ContentType != "text/calendar" || a.Params["method"] != "REQUEST" || !bytes.Equal(a.Data, []byte(ics)) {
		t.Errorf("attachment %q %q %v: %q", a.Filename, a.ContentType, a.Params, a.Data)
	}
	// A message without unsubscribe link carries no List-Unsubscribe.
	plain := &mail.Message{To: mail.Address{Email: "paul@example.org"}, Subject: "Lien", Text: "Bonjour"}
	raw, err := plain.Bytes("cla@example.org")
	if err != nil {
		t.Fatal(err)
	}
	pm := mailtest.Parse(t, raw)
	if pm.Get("List-Unsubscribe") != "" || pm.Get("List-Unsubscribe-Post") != "" || !strings.HasSuffix(pm.Get("Message-ID"), "@example.org>") {
		t.Errorf("transactional mail headers: %v", pm.Header)
	}
}

// address returns a header's single address, decoded, as "name" <address>.
func address(t *testing.T, m *mailtest.Message, field string) string {
	t.Helper()
	list, err := m.Header.AddressList(field)
	if err != nil || len(list) != 1 {
		t.Fatalf("%s: %q: %v", field, m.Header.Get(field), err)
	}
	return fmt.Sprintf("%q <%s>", list[0].Name, list[0].Address)
}

func TestMessageIDIsOnePerEventAndRecipient(t *testing.T) {
	a := mail.MessageID("convocation-12-v1", "Helene@Example.org", "cla.example.org")
	if b := mail.MessageID("convocation-12-v1", " helene@example.org", "cla.example.org"); a != b {
		t.Errorf("same event and recipient: %s and %s", a, b)
	}
	for _, other := range []string{
		mail.MessageID("convocation-12-v2", "helene@example.org", "cla.example.org"),
		mail.MessageID("convocation-12-v1", "paul@example.org", "cla.example.org"),
	} {
		if other == a {
			t.Errorf("different event or recipient, same id %s", a)
		}
	}
	if strings.Contains(strings.ToLower(a), "helene") || !strings.HasPrefix(a, "<convocation-12-v1.") || !strings.HasSuffix(a, "@cla.example.org>") {
		t.Errorf("Message-ID %s: want <event.hash@host>, without the address", a)
	}
	// Whatever the event key holds, the id is well-formed.
	odd := mail.MessageID("vote <7>\r\nBcc: x@y", "a@b.c", "cla.example.org")
	m := &mail.Message{To: mail.Address{Email: "a@b.c"}, Text: "x", MessageID: odd}
	if _, err := m.Bytes("cla@example.org"); err != nil {
		t.Errorf("Message-ID %q refused: %v", odd, err)
	}
}

// Header injection through a name or a subject is impossible: line breaks
// are folded into spaces. Addresses, URLs and ids with line breaks are
// refused, as permanent errors.
func TestHeaderInjectionIsImpossible(t *testing.T) {
	t.Parallel()
	evil := "Conseil\r\nBcc: victim@example.org\r\nX-Injected: yes"
	m := &mail.Message{
		From:        mail.Address{Name: evil},
		To:          mail.Address{Name: "Jeanne\nBcc: victim@example.org", Email: "jeanne@example.org"},
		ReplyTo:     &mail.Address{Name: "Anim\r\nX-Injected: 1", Email: "animation@example.org"},
		Subject:     "Vote ouvert\r\nBcc: victim@example.org\n\nCorps injecté",
		Text:        "Bonjour",
		Attachments: []mail.Attachment{{Filename: "a.ics\r\nX-Injected: 1", ContentType: mail.CalendarCancel, Data: []byte("x")}},
	}
	srv := mailtest.Start(t, mailtest.Options{})
	if err := sender(t, srv).Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	got := srv.Wait(t, 1)[0]
	if len(got.To) != 1 || got.To[0] != "jeanne@example.org" {
		t.Errorf("envelope recipients %q: the injected Bcc became a recipient", got.To)
	}
	pm := mailtest.Parse(t, got.Data)
	for name := range pm.Header {
		if c := textproto.CanonicalMIMEHeaderKey(name); c == "Bcc" || c == "X-Injected" {
			t.Errorf("injected header %s: %q", name, pm.Header[name])
		}
	}
	if s := pm.Get("Subject"); s != "Vote ouvert Bcc: victim@example.org Corps injecté" {
		t.Errorf("Subject %q: want the line breaks folded into spaces", s)
	}
	if s := address(t, pm, "To"); s != `"Jeanne Bcc: victim@example.org" <jeanne@example.org>` {
		t.Errorf("To %s", s)
	}
	if s := address(t, pm, "From"); s != `"Conseil Bcc: victim@example.org X-Injected: yes" <cla@example.org>` {
		t.Errorf("From %s", s)
	}
	if pm.Text != "Bonjour" || len(pm.Attachments) != 1 {
		t.Errorf("body %q and %d attachments: the subject's blank line leaked into the body", pm.Text, len(pm.Attachments))
	}
	for _, line := range strings.Split(string(got.Data), "\r\n") {
		if strings.HasPrefix(line, "Bcc:") || strings.HasPrefix(line, "X-Injected:") {
			t.Errorf("raw line %q", line)
		}
	}

	refused := map[string]*mail.Message{
		"address with a line break": {To: mail.Address{Email: "a@b.c\r\nBcc: victim@example.org"}, Text: "x"},
		"address with a name":       {To: mail.Address{Email: "Jeanne <jeanne@example.org>"}, Text: "x"},
		"unsubscribe URL":           {To: mail.Address{Email: "a@b.c"}, Text: "x", Unsubscribe: "https://cla.example.org/x>\r\nBcc: v@e.org"},
		"unsubscribe over http":     {To: mail.Address{Email: "a@b.c"}, Text: "x", Unsubscribe: "http://cla.example.org/x"},
		"unsubscribe mailto":        {To: mail.Address{Email: "a@b.c"}, Text: "x", Unsubscribe: "https://cla.example.org/x", UnsubscribeMailto: "mailto:a@b.c>, <https://evil"},
		"Message-ID":                {To: mail.Address{Email: "a@b.c"}, Text: "x", MessageID: "<a@b>\r\nBcc: v@e.org"},
		"attachment type":           {To: mail.Address{Email: "a@b.c"}, Text: "x", Attachments: []mail.Attachment{{Filename: "a", ContentType: "text/plain\r\nBcc: v@e.org"}}},
		"no text":                   {To: mail.Address{Email: "a@b.c"}, HTML: "<p>x</p>"},
	}
	for what, m := range refused {
		err := sender(t, srv).Send(context.Background(), m)
		if !mail.IsPermanent(err) {
			t.Errorf("%s: %v, want a permanent error", what, err)
		}
	}
	if n := len(srv.Messages()); n != 1 {
		t.Errorf("%d messages reached the server, want only the first", n)
	}
}

// The server's refusal of a recipient is permanent, with its answer; a 451,
// a server that is down or a bad password are temporary.
func TestSMTPErrorsAreClassified(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := mailtest.Start(t, mailtest.Options{})
	s := sender(t, srv)
	to := func(addr string) *mail.Message {
		return &mail.Message{To: mail.Address{Email: addr}, Subject: "Essai", Text: "Bonjour"}
	}
	srv.Refuse("inconnu@example.org")
	err := s.Send(ctx, to("inconnu@example.org"))
	var me *mail.Error
	if !errors.As(err, &me) || !me.Permanent() || me.Code != 550 || !strings.Contains(me.Error(), "No such user here") {
		t.Errorf("550: %#v", err)
	}
	srv.FailNext(1)
	err = s.Send(ctx, to("occupe@example.org"))
	if !errors.As(err, &me) || me.Permanent() || me.Code != 451 {
		t.Errorf("451: %#v", err)
	}
	if err := s.Send(ctx, to("occupe@example.org")); err != nil {
		t.Errorf("after the 451: %v", err)
	}
	srv.Down()
	err = s.Send(ctx, to("plus-tard@example.org"))
	// Refused or reset, depending on whether the port was taken again in
	// between by another test's listener: temporary and a dial failure.
	if err == nil || mail.IsPermanent(err) || !strings.Contains(err.Error(), "dial failed") {
		t.Errorf("server down: %v, want a temporary dial failure", err)
	}
	srv.Up(t)
	if err := s.Send(ctx, to("plus-tard@example.org")); err != nil {
		t.Errorf("server back: %v", err)
	}
	if n := len(srv.Messages()); n != 2 {
		t.Errorf("%d messages delivered, want 2", n)
	}

	locked := mailtest.Start(t, mailtest.Options{TLS: mailtest.StartTLS, Username: "cla", Password: "secret"})
	bad, err := mail.NewSMTP(mail.SMTPConfig{Addr: locked.Addr, From: "cla@example.org", Username: "cla", Password: "wrong", TLSConfig: locked.ClientTLS()})
	if err != nil {
		t.Fatal(err)
	}
	if err := bad.Send(ctx, to("a@example.org")); err == nil || mail.IsPermanent(err) {
		t.Errorf("wrong password: %v, want a temporary error (the operator fixes the configuration, the mail waits)", err)
	}
}

// STARTTLS (required on 587, used when offered elsewhere), implicit TLS
// (465) and authentication, against the test server over real TLS.
func TestTLSModesAndAuthentication(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	msg := func() *mail.Message {
		return &mail.Message{To: mail.Address{Email: "a@example.org"}, Subject: "TLS", Text: "Bonjour"}
	}
	for _, c := range []struct {
		name    string
		server  mailtest.Options
		mode    mail.TLSMode
		user    string
		wantTLS bool
		wantErr string
	}{
		{"STARTTLS when offered, with authentication", mailtest.Options{TLS: mailtest.StartTLS, Username: "cla", Password: "secret"}, mail.TLSAuto, "cla", true, ""},
		{"STARTTLS required", mailtest.Options{TLS: mailtest.StartTLS}, mail.TLSStartTLS, "", true, ""},
		{"STARTTLS required but not offered", mailtest.Options{}, mail.TLSStartTLS, "", false, "STARTTLS"},
		{"implicit TLS", mailtest.Options{TLS: mailtest.Implicit}, mail.TLSImplicit, "", true, ""},
		{"local relay in plain text", mailtest.Options{}, mail.TLSNone, "", false, ""},
		{"no password over plain text", mailtest.Options{Username: "cla", Password: "secret"}, mail.TLSAuto, "cla", false, "AUTH"},
	} {
		srv := mailtest.Start(t, c.server)
		s, err := mail.NewSMTP(mail.SMTPConfig{Addr: srv.Addr, From: "cla@example.org", TLS: c.mode,
			Username: c.user, Password: "secret", TLSConfig: srv.ClientTLS()})
		if err != nil {
			t.Fatal(err)
		}
		err = s.Send(ctx, msg())
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) || mail.IsPermanent(err) {
				t.Errorf("%s: %v, want a temporary error about %s", c.name, err, c.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if got := srv.Wait(t, 1)[0]; got.TLS != c.wantTLS {
			t.Errorf("%s: TLS = %v", c.name, got.TLS)
		}
	}
}

func TestNewSMTPChecksItsConfiguration(t *testing.T) {
	for _, cfg := range []mail.SMTPConfig{
		{Addr: "smtp.example.org", From: "cla@example.org"},
		{Addr: "smtp.example.org:587", From: "pas une adresse"},
		{Addr: ":25", From: "cla@example.org"},
	} {
		if _, err := mail.NewSMTP(cfg); err == nil {
			t.Errorf("NewSMTP(%+v) accepted", cfg)
		}
	}
	for in, want := range map[string]mail.TLSMode{"": mail.TLSAuto, "auto": mail.TLSAuto, "STARTTLS": mail.TLSStartTLS, "tls": mail.TLSImplicit, "none": mail.TLSNone} {
		if got, err := mail.ParseTLSMode(in); err != nil || got != want {
			t.Errorf("ParseTLSMode(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := mail.ParseTLSMode("ssl3"); err == nil {
		t.Error("ParseTLSMode accepted ssl3")
	}
}

// Text is what auth's invitation and password mails go through.
func TestTextSendsPlainMail(t *testing.T) {
	t.Parallel()
	srv := mailtest.Start(t, mailtest.Options{})
	tm := mail.Text{Sender: sender(t, srv), FromName: "Conseil local"}
	for range 2 {
		if err := tm.Send(context.Background(), "paul@example.org", "Nouveau mot de passe — Dieulefit", "Lien : https://cla.example.org/mot-de-passe/abc\n"); err != nil {
			t.Fatal(err)
		}
	}
	got := srv.Wait(t, 2)
	a, b := mailtest.Parse(t, got[0].Data), mailtest.Parse(t, got[1].Data)
	if address(t, a, "From") != `"Conseil local" <cla@example.org>` || address(t, a, "To") != `"" <paul@example.org>` ||
		a.Get("Subject") != "Nouveau mot de passe — Dieulefit" || !strings.Contains(a.Text, "https://cla.example.org/mot-de-passe/abc") {
		t.Errorf("text mail: %v %q", a.Header, a.Text)
	}
	if a.Get("Message-ID") == b.Get("Message-ID") {
		t.Error("two different mails share a Message-ID")
	}
}
