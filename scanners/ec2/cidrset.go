package ec2

import (
	"net/netip"
	"sort"
	"strings"
)

// addrRange is an inclusive range of addresses of one family.
type addrRange struct{ lo, hi netip.Addr }

// AddrSet is a set of IP addresses, IPv4 and IPv6 alike, held as sorted,
// disjoint, non-adjacent inclusive ranges. The zero value is the empty set.
// It answers the questions the exposure checks ask of security group
// sources, network ACL entries and routes: does a union of CIDR blocks (less
// another) cover the internet?
type AddrSet struct {
	ranges []addrRange
}

// prefixRange returns the first and last address of a CIDR block; ok is false
// when s is not a CIDR block. A bare address counts as a host route (/32,
// /128). The block's host bits are ignored, as AWS ignores them.
func prefixRange(s string) (addrRange, bool) {
	s = strings.TrimSpace(s)
	var p netip.Prefix
	if strings.Contains(s, "/") {
		var err error
		if p, err = netip.ParsePrefix(s); err != nil {
			return addrRange{}, false
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return addrRange{}, false
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	p = p.Masked()
	lo := p.Addr().Unmap()
	if p.Addr().Is4In6() {
		// ::ffff:a.b.c.d/n (n >= 96, or masking would have cleared the
		// ffff) names IPv4 addresses.
		p = netip.PrefixFrom(lo, p.Bits()-96)
	}
	b := lo.AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	hi, _ := netip.AddrFromSlice(b)
	return addrRange{lo: lo, hi: hi}, true
}

// ParseAddrSet returns the union of the given CIDR blocks, and the blocks it
// could not parse.
func ParseAddrSet(cidrs ...string) (AddrSet, []string) {
	var s AddrSet
	var bad []string
	for _, c := range cidrs {
		if !s.AddCIDR(c) {
			bad = append(bad, c)
		}
	}
	return s, bad
}

// mustSet is ParseAddrSet for constant blocks.
func mustSet(cidrs ...string) AddrSet {
	s, bad := ParseAddrSet(cidrs...)
	if len(bad) > 0 {
		panic("ec2: bad CIDR block " + bad[0])
	}
	return s
}

// AddCIDR adds a CIDR block to the set; it reports false, and adds nothing,
// when c is not a CIDR block.
func (s *AddrSet) AddCIDR(c string) bool {
	r, ok := prefixRange(c)
	if !ok {
		return false
	}
	s.ranges = normalise(append(s.ranges, r))
	return true
}

// Union returns the addresses in s or in o.
func (s AddrSet) Union(o AddrSet) AddrSet {
	all := make([]addrRange, 0, len(s.ranges)+len(o.ranges))
	all = append(append(all, s.ranges...), o.ranges...)
	return AddrSet{ranges: normalise(all)}
}

// Minus returns the addresses in s and not in o.
func (s AddrSet) Minus(o AddrSet) AddrSet {
	var out []addrRange
	j := 0
	for _, r := range s.ranges {
		lo := r.lo
		done := false
		// Skip the ranges of o that end before r starts; they cannot touch
		// the later ranges of s either.
		for j < len(o.ranges) && o.ranges[j].hi.Less(r.lo) {
			j++
		}
		for k := j; k < len(o.ranges) && !done; k++ {
			cut := o.ranges[k]
			if r.hi.Less(cut.lo) {
				break
			}
			if lo.Less(cut.lo) {
				out = append(out, addrRange{lo: lo, hi: cut.lo.Prev()})
			}
			if !cut.hi.Less(r.hi) {
				done = true
				break
			}
			if next := cut.hi.Next(); next.Compare(lo) > 0 {
				lo = next
			}
		}
		if !done {
			out = append(out, addrRange{lo: lo, hi: r.hi})
		}
	}
	return AddrSet{ranges: out}
}

// Intersect returns the addresses in both s and o.
func (s AddrSet) Intersect(o AddrSet) AddrSet { return s.Minus(s.Minus(o)) }

// Covers reports whether every address of o is in s.
func (s AddrSet) Covers(o AddrSet) bool { return o.Minus(s).Empty() }

// Empty reports whether the set holds no address.
func (s AddrSet) Empty() bool { return len(s.ranges) == 0 }

// String renders the set as its ranges, for tests and evidence, e.g.
// "0.0.0.0-9.255.255.255, 11.0.0.0-255.255.255.255".
func (s AddrSet) String() string {
	parts := make([]string, len(s.ranges))
	for i, r := range s.ranges {
		if r.lo == r.hi {
			parts[i] = r.lo.String()
		} else {
			parts[i] = r.lo.String() + "-" + r.hi.String()
		}
	}
	return strings.Join(parts, ", ")
}

// normalise sorts ranges and merges the ones that overlap or touch. IPv4
// addresses sort before IPv6 ones, and the last IPv4 address has no Next, so
// the families never merge.
func normalise(rs []addrRange) []addrRange {
	if len(rs) < 2 {
		return rs
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].lo.Less(rs[j].lo) })
	out := rs[:1]
	for _, r := range rs[1:] {
		last := &out[len(out)-1]
		next := last.hi.Next()
		if r.lo.Compare(last.hi) <= 0 || (next.IsValid() && r.lo == next) {
			if last.hi.Less(r.hi) {
				last.hi = r.hi
			}
			continue
		}
		out = append(out, r)
	}
	return out
}

// The internet, as a source of connections, is the globally routable address
// space: for IPv4, everything but the special-purpose blocks that are not
// globally reachable or cannot be a source (RFC 6890 and the IANA
// special-purpose registries: "this network", RFC 1918 private ranges,
// shared CGNAT space, loopback, link-local, IETF protocol assignments, the
// documentation TEST-NETs, benchmarking, multicast and the reserved block
// with broadcast); for IPv6, the global unicast block 2000::/3 less the
// documentation prefix. A set of sources that covers this space admits
// everyone who can reach the address from the internet, whether it is
// written 0.0.0.0/0, 0.0.0.0/1 plus 128.0.0.0/1, or a list of ranges that
// leaves out 10.0.0.0/8.
var (
	internetV4 = mustSet(AnyIPv4).Minus(mustSet(
		"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
		"192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
		"203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4"))
	internetV6 = mustSet("2000::/3").Minus(mustSet("2001:db8::/32"))
)

// internet returns the internet of one address family.
func internet(ipv6 bool) AddrSet {
	if ipv6 {
		return internetV6
	}
	return internetV4
}

// coversInternet reports whether s admits the internet of a family: all of
// its globally routable addresses but at most 1/256 of them (for IPv4, about
// 14 million addresses: a /9 can be left out, a /8 cannot). A blocklist that denies a few addresses or networks before allowing
// everyone (a NACL that keeps known bad actors out, say) still admits the
// internet; a rule for 0.0.0.0/1 alone, or an organisation's own ranges,
// does not.
func coversInternet(s AddrSet, ipv6 bool) bool {
	net := internet(ipv6)
	return 256*net.Minus(s).size() <= net.size()
}

// size is the number of addresses in the set, as a float64 (an IPv6 count
// does not fit an integer type; the comparisons it serves need no more
// precision).
func (s AddrSet) size() float64 {
	var n float64
	for _, r := range s.ranges {
		lo, hi := r.lo.As16(), r.hi.As16()
		n += bytesValue(hi[:]) - bytesValue(lo[:]) + 1
	}
	return n
}

// bytesValue is the big-endian unsigned value of b.
func bytesValue(b []byte) float64 {
	var v float64
	for _, x := range b {
		v = v*256 + float64(x)
	}
	return v
}

// isIPv6CIDR reports whether c is an IPv6 block (and not an IPv4-mapped one).
func isIPv6CIDR(c string) bool {
	r, ok := prefixRange(c)
	return ok && r.lo.Is6()
}
