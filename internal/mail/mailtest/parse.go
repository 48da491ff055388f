package mailtest

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	netmail "net/mail"
	"strings"
	"testing"
)

// Message is a received message as a mail client reads it.
type Message struct {
	Header      netmail.Header
	Text, HTML  string // the decoded text/plain and text/html bodies
	Attachments []Attachment
}

// Attachment is a part sent as an attachment.
type Attachment struct {
	Filename    string
	ContentType string            // media type, e.g. text/calendar
	Params      map[string]string // its parameters (charset, method…)
	Data        []byte            // decoded
}

// Get returns a header's value with RFC 2047 encoded words decoded.
func (m *Message) Get(name string) string {
	v, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get(name))
	if err != nil {
		return m.Header.Get(name)
	}
	return v
}

// Parse reads raw, failing the test if it is not a well-formed message.
func Parse(t testing.TB, raw []byte) *Message {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("mailtest: unreadable message: %v\n%s", err, raw)
	}
	m := &Message{Header: msg.Header}
	if err := m.walk(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Header.Get("Content-Disposition"), msg.Body); err != nil {
		t.Fatalf("mailtest: %v\n%s", err, raw)
	}
	return m
}

func (m *Message) walk(contentType, encoding, disposition string, body io.Reader) error {
	if contentType == "" {
		contentType = "text/plain; charset=us-ascii"
	}
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return err
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		r := multipart.NewReader(body, params["boundary"])
		for {
			p, err := r.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			if err := m.walk(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p.Header.Get("Content-Disposition"), p); err != nil {
				return err
			}
		}
	}
	switch strings.ToLower(encoding) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, newlineStripper{body})
	}
	data, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	disp, dparams, _ := mime.ParseMediaType(disposition)
	switch {
	case disp == "attachment":
		name, _ := new(mime.WordDecoder).DecodeHeader(dparams["filename"])
		m.Attachments = append(m.Attachments, Attachment{Filename: name, ContentType: mediaType, Params: params, Data: data})
	case mediaType == "text/plain" && m.Text == "":
		m.Text = string(data)
	case mediaType == "text/html" && m.HTML == "":
		m.HTML = string(data)
	}
	return nil
}

// newlineStripper drops the line breaks of a base64 body.
type newlineStripper struct{ r io.Reader }

// Read reads from the body, dropping CR and LF.
func (n newlineStripper) Read(p []byte) (int, error) {
	k, err := n.r.Read(p)
	j := 0
	for _, b := range p[:k] {
		if b != '\r' && b != '\n' {
			p[j] = b
			j++
		}
	}
	return j, err
}
