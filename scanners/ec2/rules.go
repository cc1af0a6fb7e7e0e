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

// AdminPorts are remote administration ports (SSH, RDP).
var AdminPorts = []int32{22, 3389}

// DatabasePorts are database and cache ports that must not face the internet:
// SQL Server, Oracle (1521, 2483, 2484), MySQL, PostgreSQL, Redshift, Redis,
// Cassandra (7000, 7001, 9042), HDFS, Elasticsearch/OpenSearch (9200, 9300),
// Memcached, MongoDB (27017, 27018).
var DatabasePorts = []int32{1433, 1521, 2483, 2484, 3306, 5432, 5439, 6379, 7000, 7001, 8020, 9042, 9200, 9300, 11211, 27017, 27018}

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

// internetSources returns the sources of a permission that are the whole
// internet (0.0.0.0/0 or ::/0).
func internetSources(p Permission) []string {
	var out []string
	for _, c := range p.IPv4Ranges {
		if c == AnyIPv4 {
			out = append(out, c)
		}
	}
	for _, c := range p.IPv6Ranges {
		if c == AnyIPv6 {
			out = append(out, c)
		}
	}
	return out
}

// Opening is an ingress rule that admits the internet to some of the ports
// a check cares about.
type Opening struct {
	GroupID string
	Rule    string
	Source  string
	Ports   []int32
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
	return e
}

// OpenTCPPorts returns the ingress rules of sg that admit the internet to
// any of ports over TCP, with the ports each admits.
func OpenTCPPorts(sg SecurityGroup, ports []int32) []Opening {
	var out []Opening
	for _, p := range sg.Ingress {
		sources := internetSources(p)
		if len(sources) == 0 {
			continue
		}
		var hit []int32
		for _, port := range ports {
			if coversTCPPort(p.Protocol, p.FromPort, p.ToPort, port) {
				hit = append(hit, port)
			}
		}
		if len(hit) == 0 {
			continue
		}
		for _, src := range sources {
			out = append(out, Opening{GroupID: sg.ID, Rule: describeRule(p.Protocol, p.FromPort, p.ToPort), Source: src, Ports: hit})
		}
	}
	return out
}

// OpenAllPorts returns the ingress rules of sg that admit the internet on
// every protocol, or on every TCP or UDP port.
func OpenAllPorts(sg SecurityGroup) []Opening {
	var out []Opening
	for _, p := range sg.Ingress {
		sources := internetSources(p)
		if len(sources) == 0 {
			continue
		}
		lo, hi, _ := portBounds(p.FromPort, p.ToPort)
		everything := allProtocols(p.Protocol) || ((isTCP(p.Protocol) || isUDP(p.Protocol)) && lo <= 1 && hi >= 65535)
		if !everything {
			continue
		}
		for _, src := range sources {
			out = append(out, Opening{GroupID: sg.ID, Rule: describeRule(p.Protocol, p.FromPort, p.ToPort), Source: src})
		}
	}
	return out
}

// ACLDecision is how a network ACL treats inbound TCP traffic from the
// internet to one port.
type ACLDecision struct {
	Port    int32
	Allowed bool
	// Rule is the deciding entry's number; 0 when no entry matched and the
	// implicit final deny applied.
	Rule int32
	// Entry describes the deciding entry.
	Entry string
}

// InboundFromInternet evaluates acl's inbound entries in rule-number order
// for TCP traffic to port from the whole internet (source 0.0.0.0/0, or
// ::/0 when ipv6 is set). The lowest-numbered entry whose source is the whole
// internet and whose protocol and ports cover the traffic decides; entries
// for narrower sources do not decide for the internet at large. With no
// matching entry, the implicit deny applies.
func InboundFromInternet(acl NetworkACL, port int32, ipv6 bool) ACLDecision {
	entries := append([]ACLEntry(nil), acl.Entries...)
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].RuleNumber < entries[j].RuleNumber })
	for _, e := range entries {
		if e.Egress {
			continue
		}
		if ipv6 && e.IPv6CIDR != AnyIPv6 || !ipv6 && e.CIDR != AnyIPv4 {
			continue
		}
		if !coversTCPPort(e.Protocol, e.FromPort, e.ToPort, port) {
			continue
		}
		action := "deny"
		if e.Allow {
			action = "allow"
		}
		src := e.CIDR
		if ipv6 {
			src = e.IPv6CIDR
		}
		return ACLDecision{Port: port, Allowed: e.Allow, Rule: e.RuleNumber,
			Entry: fmt.Sprintf("rule %d %s %s from %s", e.RuleNumber, action, describeRule(e.Protocol, e.FromPort, e.ToPort), src)}
	}
	return ACLDecision{Port: port, Allowed: false, Entry: "implicit deny (no matching rule)"}
}
