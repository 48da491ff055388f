package outbound

import "net/netip"

// Class says whether an IP address may be the destination of an outgoing call.
type Class int

// The classes of destination.
const (
	// Public addresses are reachable on the internet: always allowed.
	Public Class = iota
	// Private addresses belong to this machine or a private network (loopback,
	// RFC 1918, IPv6 unique-local, carrier-grade NAT): allowed only when the
	// operator allows private destinations (an Odoo on the intranet, tests).
	Private
	// Reserved addresses are never a destination: unspecified, "this network",
	// link-local (where cloud metadata services answer), multicast, broadcast,
	// documentation and benchmark ranges, and everything outside global unicast.
	// Even an operator who allows private destinations has no service there.
	Reserved
)

func (c Class) String() string {
	switch c {
	case Public:
		return "public"
	case Private:
		return "private"
	default:
		return "reserved"
	}
}

func prefixes(ss ...string) []netip.Prefix {
	ps := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		ps[i] = netip.MustParsePrefix(s)
	}
	return ps
}

var (
	private4 = prefixes(
		"127.0.0.0/8",    // loopback
		"10.0.0.0/8",     // RFC 1918
		"172.16.0.0/12",  // RFC 1918
		"192.168.0.0/16", // RFC 1918
		"100.64.0.0/10",  // carrier-grade NAT (RFC 6598), also overlay VPNs
	)
	reserved4 = prefixes(
		"0.0.0.0/8",       // "this network"; 0.0.0.0 reaches the local host on Linux
		"169.254.0.0/16",  // link-local: cloud metadata (169.254.169.254)
		"192.0.0.0/24",    // IETF protocol assignments
		"192.0.2.0/24",    // documentation
		"192.88.99.0/24",  // deprecated 6to4 relay anycast
		"198.18.0.0/15",   // benchmarking
		"198.51.100.0/24", // documentation
		"203.0.113.0/24",  // documentation
		"224.0.0.0/4",     // multicast
		"240.0.0.0/4",     // reserved, and 255.255.255.255 broadcast
	)
	private6 = prefixes(
		"::1/128",        // loopback
		"fc00::/7",       // unique-local
		"64:ff9b:1::/48", // local-use NAT64 (RFC 8215): translates into a private network
	)
	reserved6 = prefixes(
		"::/96",         // unspecified and the deprecated IPv4-compatible form
		"100::/64",      // discard-only
		"2001::/23",     // IETF protocol assignments, Teredo included
		"2001:db8::/32", // documentation
		"3fff::/20",     // documentation (RFC 9637)
		"5f00::/16",     // SRv6 segment identifiers
		"fe80::/10",     // link-local
		"fec0::/10",     // deprecated site-local
		"ff00::/8",      // multicast
	)
	global6 = netip.MustParsePrefix("2000::/3")
	nat64   = netip.MustParsePrefix("64:ff9b::/96") // RFC 6052: the IPv4 address is the last 32 bits
	sixTo4  = netip.MustParsePrefix("2002::/16")    // RFC 3056: the IPv4 address follows the prefix
)

// Classify returns the class of ip. IPv6 forms that carry an IPv4 address
// (IPv4-mapped ::ffff:a.b.c.d, NAT64 64:ff9b::/96, 6to4 2002::/16) are judged
// by that IPv4 address, so ::ffff:127.0.0.1 is loopback. An address with a zone
// (fe80::1%eth0) is Reserved: zones only scope link-local addresses.
func Classify(ip netip.Addr) Class {
	if !ip.IsValid() || ip.Zone() != "" {
		return Reserved
	}
	ip = ip.Unmap()
	if ip.Is4() {
		return classify4(ip)
	}
	if contains(private6, ip) {
		return Private
	}
	if nat64.Contains(ip) {
		b := ip.As16()
		return classify4(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
	}
	if sixTo4.Contains(ip) {
		b := ip.As16()
		return classify4(netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}))
	}
	if contains(reserved6, ip) || !global6.Contains(ip) {
		return Reserved
	}
	return Public
}

func classify4(ip netip.Addr) Class {
	switch {
	case contains(reserved4, ip):
		return Reserved
	case contains(private4, ip):
		return Private
	}
	return Public
}

func contains(ps []netip.Prefix, ip netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// isLoopback reports whether ip is this machine, in any of its forms.
func isLoopback(ip netip.Addr) bool {
	return ip.Zone() == "" && ip.Unmap().IsLoopback()
}
