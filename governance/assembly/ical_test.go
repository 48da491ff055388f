package assembly

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	ics "github.com/arran4/golang-ical"

	"cla/internal/web"
)

// Long French text is folded at 75 octets without splitting a character, text
// is escaped, lines end in CRLF, and a standard parser reads it all back.
func TestICalendarFoldsEscapesAndParses(t *testing.T) {
	t.Parallel()
	start := time.Date(2025, 7, 9, 18, 30, 0, 0, web.Paris()) // summer time: 16:30 UTC
	summary := "Séance d'été ; débat « œufs, volailles » \\ élevage" + strings.Repeat(" é", 60)
	out := iCalendar("Séances — CLA", []iCalEvent{{UID: "abc@test.cla", Stamp: start, Start: start, End: start.Add(2 * time.Hour),
		Summary: summary, Location: "Salle, Dieulefit", Desc: "Ordre du jour :\n1. Riz\n2. Pêche", URL: "https://cla.example/seances/1"}})
	if !strings.HasSuffix(out, "END:VCALENDAR\r\n") || strings.Contains(strings.ReplaceAll(out, "\r\n", ""), "\n") {
		t.Fatal("lines must end in CRLF")
	}
	for _, line := range strings.Split(out, "\r\n") {
		if len(line) > 75 {
			t.Fatalf("line of %d octets: %q", len(line), line)
		}
		if !utf8.ValidString(line) {
			t.Fatalf("split character in %q", line)
		}
	}
	if !strings.Contains(out, `SUMMARY:Séance d'été \; débat « œufs\, volailles » \\ élevage`) {
		t.Fatalf("escaping:\n%s", out)
	}
	if !strings.Contains(out, "DTSTART;TZID=Europe/Paris:20250709T183000\r\n") || !strings.Contains(out, "BEGIN:VTIMEZONE\r\nTZID:Europe/Paris") {
		t.Fatalf("time zone:\n%s", out)
	}
	cal, err := ics.ParseCalendar(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	ev := cal.Events()[0]
	if got := ev.GetProperty(ics.ComponentPropertySummary).Value; got != summary {
		t.Fatalf("summary read back as %q", got)
	}
	if got := ev.GetProperty(ics.ComponentPropertyDescription).Value; got != "Ordre du jour :\n1. Riz\n2. Pêche" {
		t.Fatalf("description read back as %q", got)
	}
	st, err := ev.GetStartAt()
	if err != nil || !st.Equal(start) {
		t.Fatalf("start read back as %v (%v), want %v", st, err, start)
	}
}
