package ec2

import (
	"fmt"
	"sort"
	"strings"
)

// The sources that mean "anyone on the internet".
const (
	AnyIPv4 = "0.0.0.0/0"
	AnyIPv6 = "::/0"
)

// AdminPorts returns the remote administration ports (SSH, RDP), in a new
// slice each call.
func AdminPorts() []int32 { return []int32{22, 3389} }

// DatabasePorts returns the database and cache ports that must not face the
// internet, in a new slice each call: SQL Server, Oracle (1521, 2483, 2484),
// MySQL, PostgreSQL, Redshift, Redis, Cassandra (7000, 7001, 9042), HDFS,
// Elasticsearch/OpenSearch (9200, 9300), Memcached, MongoDB (27017, 27018).
func DatabasePorts() []int32 {
	return []int32{1433, 1521, 2483, 2484, 3306, 5432, 5439, 6379, 7000, 7001, 8020, 9042, 9200, 9300, 11211, 27017, 27018}
}

// allProtocols reports whether a protocol value means every protocol.
func allProtocols(p string) bool { return p == "-1" || strings.EqualFold(p, "all") }

// isTCP reports whether a protocol value is TCP, by name or number.
func isTCP(p string) bool { return strings.EqualFold(p, "tcp") || p == "6" }

// isUDP reports whether a protocol value is UDP, by name or number.
func isUDP(p string) bool { return strings.EqualFold(p, "udp") || p == "17" }

// portBounds returns a rule's port range; all is true when it has none (or
// -1), which for TCP and UDP rules means every port.
func portBounds(from, to *int32) (lo, hi int32, all bool) {
	if from == nil || to == nil || *from == -1 {
		return 0, 65535, true
	}
	return *from, *to, false
}

// coversTCPPort reports whether a rule of protocol proto with the given
// port range admits TCP traffic to port. A UDP or ICMP rule never does.
func coversTCPPort(proto string, from, to *int32, port int32) bool {
	if allProtocols(proto) {
		return true
	}
	if !isTCP(proto) {
		return false
	}
	lo, hi, _ := portBounds(from, to)
	return lo <= port && port <= hi
}

// describeRule renders a rule's protocol and ports for evidence, e.g.
// "tcp 0-65535" or "all traffic".
func describeRule(proto string, from, to *int32) string {
	if allProtocols(proto) {
		return "all traffic"
	}
	name := proto
	switch {
	case isTCP(proto):
		name = "tcp"
	case isUDP(proto):
		name = "udp"
	}
	lo, hi, all := portBounds(from, to)
	if all {
		return name + " all ports"
	}
	if lo == hi {
		return fmt.Sprintf("%s %d", name, lo)
	}
	return fmt.Sprintf("%s %d-%d", name, lo, hi)
}

// PrefixListIndex resolves the managed prefix lists that rules name.
type PrefixListIndex map[string]PrefixList

// IndexPrefixLists indexes lists by ID.
func IndexPrefixLists(lists []PrefixList) PrefixListIndex {
	x := PrefixListIndex{}
	for _, pl := range lists {
		x[pl.ID] = pl
	}
	return x
}

// entries returns a list's CIDR blocks, or why they are not known.
func (x PrefixListIndex) entries(id string) ([]string, string) {
	pl, ok := x[id]
	switch {
	case !ok:
		return nil, "its entries were not collected"
	case pl.Error != "":
		return nil, pl.Error
	}
	return pl.Entries, ""
}

// anyLabel is the whole internet of a family as rules write it.
func anyLabel(ipv6 bool) string {
	if ipv6 {
		return AnyIPv6
	}
	return AnyIPv4
}

// ruleSources is what one rule admits in one address family.
type ruleSources struct {
	set AddrSet
	// alone is the first source (a CIDR block or a prefix list ID) that by
	// itself covers the internet; empty when none does.
	alone string
	// written are the rule's sources of the family: its CIDR blocks and the
	// prefix lists with entries of the family.
	written []string
	// unknown maps the prefix lists whose entries could not be read to why.
	unknown map[string]string
}

func sourcesOf(p Permission, lists PrefixListIndex, ipv6 bool) ruleSources {
	var rs ruleSources
	note := func(label string, s AddrSet) {
		if s.Empty() {
			return
		}
		rs.set = rs.set.Union(s)
		rs.written = append(rs.written, label)
		if rs.alone == "" && coversInternet(s, ipv6) {
			rs.alone = label
		}
	}
	cidrs := p.IPv4Ranges
	if ipv6 {
		cidrs = p.IPv6Ranges
	}
	for _, c := range cidrs {
		if isIPv6CIDR(c) == ipv6 {
			s, _ := ParseAddrSet(c)
			note(c, s)
		}
	}
	for _, id := range p.PrefixListIDs {
		entries, problem := lists.entries(id)
		if problem != "" {
			if rs.unknown == nil {
				rs.unknown = map[string]string{}
			}
			rs.unknown[id] = problem
			continue
		}
		var s AddrSet
		for _, e := range entries {
			if isIPv6CIDR(e) == ipv6 {
				s.AddCIDR(e)
			}
		}
		note(id, s)
	}
	return rs
}

// ruleRef names one ingress rule of one of the groups being judged.
type ruleRef struct{ group, rule int }

// admission is whether a set of groups admits the whole internet of one
// family to some traffic.
type admission struct {
	open bool
	// rules are the rules that admit it: those that do so alone, else every
	// rule of the union that admits part of the internet.
	rules []ruleRef
	// unknown maps the prefix lists whose entries could not be read, and that
	// a rule admitting the traffic names, to why; set only when the traffic is
	// not open without them.
	unknown map[string]string
}

// admit evaluates the ingress rules of groups that cover some traffic
// (covers says which) for one address family: the traffic is open when the
// union of their sources, prefix list entries included, covers the internet
// (coversInternet), however it is split across rules and groups.
func admit(groups []SecurityGroup, lists PrefixListIndex, ipv6 bool, covers func(Permission) bool) admission {
	var union AddrSet
	var alone, partial []ruleRef
	unknown := map[string]string{}
	for gi, g := range groups {
		for ri, p := range g.Ingress {
			if !covers(p) {
				continue
			}
			rs := sourcesOf(p, lists, ipv6)
			for id, why := range rs.unknown {
				unknown[id] = why
			}
			union = union.Union(rs.set)
			switch {
			case rs.alone != "":
				alone = append(alone, ruleRef{gi, ri})
			case !rs.set.Intersect(internet(ipv6)).Empty():
				partial = append(partial, ruleRef{gi, ri})
			}
		}
	}
	if !coversInternet(union, ipv6) {
		if len(unknown) == 0 {
			unknown = nil
		}
		return admission{unknown: unknown}
	}
	if len(alone) > 0 {
		return admission{open: true, rules: alone}
	}
	return admission{open: true, rules: partial}
}

// Opening is an ingress rule that admits the internet, alone or together with
// other rules, to some of the ports a check cares about.
type Opening struct {
	GroupID string
	Rule    string
	// Source is the rule's source that is the whole internet by itself
	// (0.0.0.0/0, ::/0, another block that covers it, or a prefix list ID);
	// when no single source is, the rule's sources of the family, joined.
	Source string
	Ports  []int32
	// Union is set, to the family's whole internet (0.0.0.0/0 or ::/0), when
	// the rule admits the internet only together with the other rules listed.
	Union string
}

// Evidence renders the opening for a report.
func (o Opening) Evidence() map[string]any {
	e := map[string]any{"rule": o.Rule, "source": o.Source}
	if o.GroupID != "" {
		e["security_group"] = o.GroupID
	}
	if len(o.Ports) > 0 {
		e["ports"] = o.Ports
	}
	if o.Union != "" {
		e["together_cover"] = o.Union
	}
	return e
}

// Openings is what security groups admit from the internet.
type Openings struct {
	// Open lists the rules that admit it, in group and rule order, IPv4
	// before IPv6 for each rule.
	Open []Opening
	// Unknown maps the prefix lists whose entries could not be read to why,
	// when a rule that names one admits traffic the check asks about and that
	// traffic is not open without it: the answer is unknown, not "closed".
	Unknown map[string]string
}

// openingsOf turns per-traffic admissions into openings: for each rule and
// family, the ports (of ports, in order) it helps open. ports is nil for
// checks that are not about ports.
func openingsOf(groups []SecurityGroup, lists PrefixListIndex, byFamily [2][]admission, ports []int32) Openings {
	type key struct {
		ref  ruleRef
		ipv6 bool
	}
	hit := map[key][]int32{}
	var out Openings
	for fam, adms := range byFamily {
		for i, a := range adms {
			for id, why := range a.unknown {
				if out.Unknown == nil {
					out.Unknown = map[string]string{}
				}
				out.Unknown[id] = why
			}
			for _, r := range a.rules {
				k := key{r, fam == 1}
				if _, ok := hit[k]; !ok {
					hit[k] = nil
				}
				if ports != nil && !containsPort(hit[k], ports[i]) {
					hit[k] = append(hit[k], ports[i])
				}
			}
		}
	}
	for gi, g := range groups {
		for ri, p := range g.Ingress {
			for _, ipv6 := range []bool{false, true} {
				got, ok := hit[key{ruleRef{gi, ri}, ipv6}]
				if !ok {
					continue
				}
				rs := sourcesOf(p, lists, ipv6)
				o := Opening{GroupID: g.ID, Rule: describeRule(p.Protocol, p.FromPort, p.ToPort), Source: rs.alone, Ports: got}
				if o.Source == "" {
					o.Source, o.Union = strings.Join(rs.written, ", "), anyLabel(ipv6)
				}
				out.Open = append(out.Open, o)
			}
		}
	}
	if len(out.Open) > 0 {
		out.Unknown = nil
	}
	return out
}

func containsPort(ports []int32, p int32) bool {
	for _, q := range ports {
		if q == p {
			return true
		}
	}
	return false
}

// OpenTCPPorts returns the ingress rules of groups that admit the internet
// to any of ports over TCP, with the ports each admits. A port is open in a
// family when the union of the sources of every rule admitting it (across
// rules and groups, prefix list entries included) covers the internet.
func OpenTCPPorts(groups []SecurityGroup, lists PrefixListIndex, ports []int32) Openings {
	var byFamily [2][]admission
	for fam, ipv6 := range []bool{false, true} {
		for _, port := range ports {
			byFamily[fam] = append(byFamily[fam], admit(groups, lists, ipv6, func(p Permission) bool {
				return coversTCPPort(p.Protocol, p.FromPort, p.ToPort, port)
			}))
		}
	}
	return openingsOf(groups, lists, byFamily, ports)
}

// coversUDPPort is coversTCPPort for UDP.
func coversUDPPort(proto string, from, to *int32, port int32) bool {
	if allProtocols(proto) {
		return true
	}
	if !isUDP(proto) {
		return false
	}
	lo, hi, _ := portBounds(from, to)
	return lo <= port && port <= hi
}

// OpenAllPorts returns the ingress rules of groups that admit the internet
// on every protocol, or on every TCP port (1-65535), or on every UDP port:
// the ports may be split across rules as the sources may.
func OpenAllPorts(groups []SecurityGroup, lists PrefixListIndex) Openings {
	var byFamily [2][]admission
	for fam, ipv6 := range []bool{false, true} {
		for _, udp := range []bool{false, true} {
			covers := func(port int32) func(Permission) bool {
				return func(p Permission) bool {
					if udp {
						return coversUDPPort(p.Protocol, p.FromPort, p.ToPort, port)
					}
					return coversTCPPort(p.Protocol, p.FromPort, p.ToPort, port)
				}
			}
			// The port ranges of the rules cut 1-65535 into intervals on
			// which every rule is uniform; each interval must be open.
			starts := map[int32]bool{1: true}
			for _, g := range groups {
				for _, p := range g.Ingress {
					lo, hi, _ := portBounds(p.FromPort, p.ToPort)
					for _, b := range []int32{lo, hi + 1} {
						if b >= 1 && b <= 65535 {
							starts[b] = true
						}
					}
				}
			}
			var adms []admission
			open, closed := true, false
			for start := range starts {
				a := admit(groups, lists, ipv6, covers(start))
				adms = append(adms, a)
				open = open && a.open
				closed = closed || (!a.open && a.unknown == nil)
			}
			switch {
			case open:
				byFamily[fam] = append(byFamily[fam], adms...)
			case !closed:
				// Every interval is open or hangs on an unreadable prefix
				// list: the answer is unknown.
				for _, a := range adms {
					if a.unknown != nil {
						byFamily[fam] = append(byFamily[fam], admission{unknown: a.unknown})
					}
				}
			}
		}
	}
	return openingsOf(groups, lists, byFamily, nil)
}

// ACLDecision is how a network ACL treats inbound TCP traffic from the
// internet to one port.
type ACLDecision struct {
	Port    int32
	Allowed bool
	// Rule is the deciding entry's number: when allowed, the first allow
	// entry that admits part of the internet; when denied, the first deny
	// entry that keeps part of it out; 0 when the implicit final deny
	// decided.
	Rule int32
	// Entry describes the deciding entries.
	Entry string
}

// InboundFromInternet evaluates acl's inbound entries in rule-number order
// for TCP traffic to port from the internet (IPv4, or IPv6 when ipv6 is
// set), address by address: each address is decided by the first entry
// whose block holds it and whose protocol and ports cover the traffic, and
// meets the implicit deny when none does. The internet is admitted when the
// addresses so allowed cover it (coversInternet), so a deny split into
// ranges (0.0.0.0/1 and 128.0.0.0/1) before an allow-all closes the port,
// and allows split into ranges open it; a deny of private ranges only does
// not close it.
func InboundFromInternet(acl NetworkACL, port int32, ipv6 bool) ACLDecision {
	entries := append([]ACLEntry(nil), acl.Entries...)
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].RuleNumber < entries[j].RuleNumber })
	net := internet(ipv6)
	var decided, allowed AddrSet
	var allows []ACLEntry
	var firstDeny *ACLEntry
	for i, e := range entries {
		if e.Egress || !coversTCPPort(e.Protocol, e.FromPort, e.ToPort, port) {
			continue
		}
		block := e.CIDR
		if ipv6 {
			block = e.IPv6CIDR
		}
		s, bad := ParseAddrSet(block)
		if len(bad) > 0 || isIPv6CIDR(block) != ipv6 {
			continue
		}
		fresh := s.Minus(decided)
		decided = decided.Union(s)
		if fresh.Intersect(net).Empty() {
			continue
		}
		if e.Allow {
			allowed = allowed.Union(fresh)
			allows = append(allows, e)
		} else if firstDeny == nil {
			firstDeny = &entries[i]
		}
		if decided.Covers(net) {
			break
		}
	}
	var descs []string
	for _, e := range allows {
		descs = append(descs, aclEntryText(e, ipv6))
	}
	switch {
	case coversInternet(allowed, ipv6) && len(allows) == 1:
		return ACLDecision{Port: port, Allowed: true, Rule: allows[0].RuleNumber, Entry: descs[0]}
	case coversInternet(allowed, ipv6):
		return ACLDecision{Port: port, Allowed: true, Rule: allows[0].RuleNumber,
			Entry: strings.Join(descs, "; ") + " (together " + anyLabel(ipv6) + ")"}
	case firstDeny != nil:
		return ACLDecision{Port: port, Allowed: false, Rule: firstDeny.RuleNumber, Entry: aclEntryText(*firstDeny, ipv6)}
	case len(allows) > 0:
		return ACLDecision{Port: port, Allowed: false,
			Entry: strings.Join(descs, "; ") + " admit only part of " + anyLabel(ipv6) + "; the rest meets the implicit deny"}
	}
	return ACLDecision{Port: port, Allowed: false, Entry: "implicit deny (no matching rule)"}
}

func aclEntryText(e ACLEntry, ipv6 bool) string {
	action := "deny"
	if e.Allow {
		action = "allow"
	}
	src := e.CIDR
	if ipv6 {
		src = e.IPv6CIDR
	}
	return fmt.Sprintf("rule %d %s %s from %s", e.RuleNumber, action, describeRule(e.Protocol, e.FromPort, e.ToPort), src)
}
