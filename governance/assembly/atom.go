package assembly

import (
	"encoding/xml"
	"time"
)

// AtomFeed is an Atom 1.0 feed (RFC 4287).
type AtomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Lang    string      `xml:"xml:lang,attr,omitempty"`
	ID      string      `xml:"id"`
	Title   string      `xml:"title"`
	Updated string      `xml:"updated"`
	Links   []AtomLink  `xml:"link"`
	Author  AtomPerson  `xml:"author"`
	Entries []AtomEntry `xml:"entry"`
}

// AtomLink is an Atom link.
type AtomLink struct {
	Rel  string `xml:"rel,attr,omitempty"`
	Type string `xml:"type,attr,omitempty"`
	Href string `xml:"href,attr"`
}

// AtomPerson is an Atom author.
type AtomPerson struct {
	Name string `xml:"name"`
}

// AtomText is an Atom text construct.
type AtomText struct {
	Type string `xml:"type,attr,omitempty"`
	Body string `xml:",chardata"`
}

// AtomEntry is one entry of an Atom feed.
type AtomEntry struct {
	ID        string     `xml:"id"`
	Title     string     `xml:"title"`
	Updated   string     `xml:"updated"`
	Published string     `xml:"published,omitempty"`
	Links     []AtomLink `xml:"link"`
	Summary   *AtomText  `xml:"summary,omitempty"`
	Content   *AtomText  `xml:"content,omitempty"`
}

// AtomTime formats t as an Atom date (RFC 3339).
func AtomTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// Marshal renders the feed as an XML document.
func (f *AtomFeed) Marshal() ([]byte, error) {
	out, err := xml.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), out...), nil
}
