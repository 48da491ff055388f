package outbound

import (
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/net/idna"

	"cla/internal/apperr"
)

// MaxURLLength bounds the addresses people may type: longer ones are refused
// rather than stored and sent.
const MaxURLLength = 2048

// The French messages ValidateURL returns, shown beside the form field.
const (
	msgEmpty     = "Indiquez l'adresse : elle commence par https://."
	msgTooLong   = "L'adresse est trop longue (2 048 caractères au plus)."
	msgChars     = "L'adresse contient des caractères non autorisés (espace, barre oblique inverse, caractère de contrôle)."
	msgInvalid   = "Cette adresse n'est pas valide : écrivez-la en entier, par exemple https://exemple.fr/webhooks."
	msgHTTPS     = "L'adresse doit commencer par https:// (les appels ne partent qu'en connexion chiffrée)."
	msgUserinfo  = "L'adresse ne doit contenir ni identifiant ni mot de passe (la partie avant « @ ») : transmettez-les autrement."
	msgNoHost    = "Il manque le nom du serveur après https://."
	msgPort      = "Le numéro de port doit être compris entre 1 et 65535."
	msgHost      = "Le nom du serveur n'est pas valide."
	msgNumericIP = "Écrivez l'adresse IP sous sa forme habituelle (quatre nombres de 0 à 255 séparés par des points), ou mieux, un nom de domaine."
	msgFullName  = "Indiquez un nom de domaine complet (par exemple https://exemple.fr/…), pas un nom de machine du réseau local."
	msgPrivate   = "Cette adresse pointe vers un réseau privé ou vers ce serveur : seules les adresses publiques sont acceptées."
	msgReserved  = "Cette adresse pointe vers une plage réservée (lien local, multidiffusion, documentation…) : aucun service n'y répond."
)

// privateSuffixes are names that only mean something inside a network: loopback
// (RFC 6761), multicast DNS (RFC 6762), ICANN's private-use .internal (where
// metadata.google.internal lives), home networks (RFC 8375) and common intranet
// habits. A public resolver never answers them with a public address.
var privateSuffixes = []string{
	".localhost", ".local", ".internal", ".home.arpa", ".localdomain", ".lan", ".intranet", ".corp",
}

// ValidateURL checks an address that a facilitator or the operator typed for
// an outgoing call, before it is saved. It returns nil or an *apperr.Error with
// code Invalid whose Message is the French sentence to show beside the field.
//
// It refuses: anything but https (plain http only to this machine, and only
// when allowPrivate is set, for tests and local receivers); user names and
// passwords in the address; ports outside 1–65535; IP addresses that are
// private, loopback or reserved (unless allowPrivate, and reserved ones always),
// in any notation (IPv4-mapped IPv6, NAT64, 127.1, 0x7f.1, 2130706433…); and,
// unless allowPrivate, names that only exist inside a network (localhost,
// *.local, *.internal, single-label names).
//
// ValidateURL does not resolve names: what a name resolves to can change
// between the form and the call, so the Client checks the address it actually
// connects to.
func ValidateURL(raw string, allowPrivate bool) error {
	_, err := parseURL(raw, allowPrivate)
	return err
}

func invalid(msg string) error { return apperr.New(apperr.Invalid, "%s", msg) }

// parseURL validates raw (see ValidateURL) and returns it parsed, its host
// converted to its ASCII (punycode) form, which is the name the call resolves.
func parseURL(raw string, allowPrivate bool) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	switch {
	case raw == "":
		return nil, invalid(msgEmpty)
	case len(raw) > MaxURLLength:
		return nil, invalid(msgTooLong)
	case strings.ContainsFunc(raw, func(r rune) bool { return r <= ' ' || r == '\\' || r == 0x7f }):
		// Browsers read a backslash as a slash, Go does not: refuse rather
		// than let two parsers see two different hosts.
		return nil, invalid(msgChars)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" {
		return nil, invalid(msgInvalid)
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && allowPrivate) {
		if u.Scheme == "" && u.Host == "" {
			return nil, invalid(msgInvalid)
		}
		return nil, invalid(msgHTTPS)
	}
	if u.User != nil {
		return nil, invalid(msgUserinfo)
	}
	if u.Hostname() == "" {
		return nil, invalid(msgNoHost)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, invalid(msgPort)
		}
	}
	host, loopback, err := checkHost(u.Hostname(), strings.HasPrefix(u.Host, "["), allowPrivate)
	if err != nil {
		return nil, err
	}
	if u.Scheme == "http" && !(allowPrivate && loopback) {
		return nil, invalid(msgHTTPS)
	}
	if host != u.Hostname() {
		if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
		if p := u.Port(); p != "" {
			host += ":" + p
		}
		u.Host = host
	}
	u.Fragment, u.RawFragment = "", "" // never sent anyway; keeps the logs plain
	return u, nil
}

// checkHost validates a URL's host and returns it in the form to dial, and
// whether it names this machine.
func checkHost(host string, bracketed, allowPrivate bool) (string, bool, error) {
	if bracketed {
		ip, err := netip.ParseAddr(host)
		if err != nil || !ip.Is6() {
			return "", false, invalid(msgHost)
		}
		return checkIP(ip, allowPrivate)
	}
	ascii := strings.ToLower(host)
	if !isASCII(ascii) {
		// The Lookup profile maps as resolvers do (fullwidth digits and the
		// ideographic full stop become ASCII), so "１２７。０。０。１" is
		// checked as the 127.0.0.1 it becomes.
		var err error
		if ascii, err = idna.Lookup.ToASCII(host); err != nil {
			return "", false, invalid(msgHost)
		}
	}
	name := strings.TrimSuffix(ascii, ".")
	if ip, err := netip.ParseAddr(name); err == nil {
		if !ip.Is4() {
			return "", false, invalid(msgHost) // an IPv6 literal must be bracketed
		}
		return checkIP(ip, allowPrivate)
	}
	if endsInNumber(name) {
		// 127.1, 0x7f.1, 2130706433, 0177.0.0.1: inet_aton and some
		// resolvers read these as IPv4 addresses, Go's parser does not.
		if ip, ok := parseLooseIPv4(name); ok {
			if _, _, err := checkIP(ip, allowPrivate); err != nil {
				return "", false, err
			}
		}
		return "", false, invalid(msgNumericIP)
	}
	if !validHostname(name) {
		return "", false, invalid(msgHost)
	}
	loopback := name == "localhost" || strings.HasSuffix(name, ".localhost")
	if !allowPrivate {
		if !strings.Contains(name, ".") {
			if loopback {
				return "", false, invalid(msgPrivate)
			}
			return "", false, invalid(msgFullName)
		}
		for _, s := range privateSuffixes {
			if strings.HasSuffix(name, s) {
				return "", false, invalid(msgPrivate)
			}
		}
	}
	return ascii, loopback, nil
}

func checkIP(ip netip.Addr, allowPrivate bool) (string, bool, error) {
	switch Classify(ip) {
	case Reserved:
		return "", false, invalid(msgReserved)
	case Private:
		if !allowPrivate {
			return "", false, invalid(msgPrivate)
		}
	}
	return ip.String(), isLoopback(ip), nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// validHostname reports whether name is made of DNS labels of letters,
// digits, hyphens and underscores, 1 to 63 bytes each, 253 in all.
func validHostname(name string) bool {
	if len(name) > 253 {
		return false
	}
	for label := range strings.SplitSeq(name, ".") {
		if len(label) == 0 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// endsInNumber reports whether the last label of name is a number (decimal,
// or hexadecimal with 0x), which makes the WHATWG URL parser, and browsers,
// read the whole host as an IPv4 address.
func endsInNumber(name string) bool {
	last := name[strings.LastIndexByte(name, '.')+1:]
	if last == "" {
		return false
	}
	if strings.HasPrefix(last, "0x") {
		return strings.Trim(last[2:], "0123456789abcdef") == ""
	}
	return strings.Trim(last, "0123456789") == ""
}

// parseLooseIPv4 reads name as inet_aton does: one to four parts, each
// decimal, octal (leading 0) or hexadecimal (0x), the last filling the
// remaining bytes. It exists to classify such hosts, never to dial them.
func parseLooseIPv4(name string) (netip.Addr, bool) {
	parts := strings.Split(name, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	var vals []uint64
	for _, p := range parts {
		base := 10
		switch {
		case strings.HasPrefix(p, "0x"):
			base, p = 16, p[2:]
			if p == "" {
				p = "0"
			}
		case len(p) > 1 && p[0] == '0':
			base, p = 8, p[1:]
		}
		v, err := strconv.ParseUint(p, base, 32)
		if err != nil {
			return netip.Addr{}, false
		}
		vals = append(vals, v)
	}
	var n uint64
	for i, v := range vals[:len(vals)-1] {
		if v > 255 {
			return netip.Addr{}, false
		}
		n |= v << (8 * (3 - i))
	}
	last := vals[len(vals)-1]
	if last >= 1<<(8*(5-len(vals))) {
		return netip.Addr{}, false
	}
	n |= last
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}), true
}
