package assembly

import (
	"encoding/xml"
	"time"
)

// atomFeed is an Atom 1.0 feed (RFC 4287).
type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Lang    string      `xml:"xml:lang,attr,omitempty"`
	ID      string      `xml:"id"`
	Title   string      `xml:"title"`
	Updated string      `xml:"updated"`
	Links   []atomLink  `xml:"link"`
	Author  atomPerson  `xml:"author"`
	Entries []atomEntry `xml:"entry"`
}

// atomLink is an Atom link.
type atomLink struct {
	Rel  string `xml:"rel,attr,omitempty"`
	Type string `xml:"type,attr,omitempty"`
	Href string `xml:"href,attr"`
}

// atomPerson is an Atom author.
type atomPerson struct {
	Name string `xml:"name"`
}

// atomText is an Atom text construct.
type atomText struct {
	Type string `xml:"type,attr,omitempty"`
	Body string `xml:",chardata"`
}

// atomEntry is one entry of an Atom feed.
type atomEntry struct {
	ID        string     `xml:"id"`
	Title     string     `xml:"title"`
	Updated   string     `xml:"updated"`
	Published string     `xml:"published,omitempty"`
	Links     []atomLink `xml:"link"`
	Summary   *atomText  `xml:"summary,omitempty"`
	Content   *atomText  `xml:"content,omitempty"`
}

// atomTime formats t as an Atom date (RFC 3339).
func atomTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// Marshal renders the feed as an XML document.
func (f *atomFeed) Marshal() ([]byte, error) {
	out, err := xml.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), out...), nil
}
