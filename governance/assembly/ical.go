package assembly

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"cla/internal/web"
)

// iCalEvent is one meeting as the iCalendar feed publishes it.
type iCalEvent struct {
	UID       string
	Sequence  int
	Stamp     time.Time // last change of the meeting
	Start     time.Time
	End       time.Time
	Summary   string
	Location  string
	Desc      string
	URL       string
	Cancelled bool
}

// parisTimezone is the VTIMEZONE of Europe/Paris (EU rules since 1996).
const parisTimezone = "BEGIN:VTIMEZONE\r\nTZID:Europe/Paris\r\nX-LIC-LOCATION:Europe/Paris\r\n" +
	"BEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\nDTSTART:19700329T020000\r\n" +
	"RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\n" +
	"BEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\nDTSTART:19701025T030000\r\n" +
	"RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"

// iCalendar writes an RFC 5545 calendar of events: CRLF line ends, lines folded
// at 75 octets, text escaped, times in Europe/Paris with its VTIMEZONE.
func iCalendar(name string, events []iCalEvent) string {
	var b strings.Builder
	line := func(s string) { writeFolded(&b, s) }
	line("BEGIN:VCALENDAR")
	line("VERSION:2.0")
	line("PRODID:-//CLA//Seances du Conseil//FR")
	line("CALSCALE:GREGORIAN")
	line("METHOD:PUBLISH")
	line("X-WR-CALNAME:" + icalText(name))
	line("X-WR-TIMEZONE:Europe/Paris")
	b.WriteString(parisTimezone)
	for _, e := range events {
		line("BEGIN:VEVENT")
		line("UID:" + e.UID)
		line("DTSTAMP:" + e.Stamp.UTC().Format("20060102T150405Z"))
		line("LAST-MODIFIED:" + e.Stamp.UTC().Format("20060102T150405Z"))
		line("SEQUENCE:" + strconv.Itoa(e.Sequence))
		line("DTSTART;TZID=Europe/Paris:" + e.Start.In(web.Paris()).Format("20060102T150405"))
		line("DTEND;TZID=Europe/Paris:" + e.End.In(web.Paris()).Format("20060102T150405"))
		line("SUMMARY:" + icalText(e.Summary))
		if e.Location != "" {
			line("LOCATION:" + icalText(e.Location))
		}
		if e.Desc != "" {
			line("DESCRIPTION:" + icalText(e.Desc))
		}
		if e.URL != "" {
			line("URL:" + e.URL)
		}
		if e.Cancelled {
			line("STATUS:CANCELLED")
		} else {
			line("STATUS:CONFIRMED")
		}
		line("END:VEVENT")
	}
	line("END:VCALENDAR")
	return b.String()
}

// icalText escapes a TEXT value (RFC 5545 §3.3.11).
func icalText(s string) string {
	r := strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\r\n", `\n`, "\n", `\n`, "\r", `\n`)
	return r.Replace(s)
}

// writeFolded writes one content line, folded so that no line exceeds 75
// octets (continuations start with a space), never splitting a UTF-8 sequence.
func writeFolded(b *strings.Builder, s string) {
	limit := 75
	for len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		b.WriteString(s[:cut])
		b.WriteString("\r\n ")
		s = s[cut:]
		limit = 74 // the leading space counts
	}
	b.WriteString(s)
	b.WriteString("\r\n")
}
