package ec2

import (
	"reflect"
	"testing"
)

func p32(v int32) *int32 { return &v }

// perm builds an ingress permission from the given IPv4 sources.
func perm(proto string, from, to *int32, v4 ...string) Permission {
	return Permission{Protocol: proto, FromPort: from, ToPort: to, IPv4Ranges: v4}
}

func TestCoversTCPPort(t *testing.T) {
	tests := []struct {
		name     string
		proto    string
		from, to *int32
		port     int32
		want     bool
	}{
		{"tcp exact", "tcp", p32(22), p32(22), 22, true},
		{"tcp range covers", "tcp", p32(20), p32(25), 22, true},
		{"tcp range low edge", "tcp", p32(22), p32(30), 22, true},
		{"tcp range high edge", "tcp", p32(10), p32(22), 22, true},
		{"tcp range below", "tcp", p32(23), p32(3388), 22, false},
		{"tcp range above", "tcp", p32(23), p32(3388), 3389, false},
		{"TCP upper case", "TCP", p32(22), p32(22), 22, true},
		{"tcp by number", "6", p32(22), p32(22), 22, true},
		{"all protocols nil ports", "-1", nil, nil, 3389, true},
		{"all protocols -1 ports", "-1", p32(-1), p32(-1), 22, true},
		{"udp never tcp", "udp", p32(0), p32(65535), 22, false},
		{"udp by number", "17", p32(22), p32(22), 22, false},
		{"icmp", "icmp", p32(-1), p32(-1), 22, false},
		{"icmp type 22 is not port 22", "icmp", p32(22), p32(22), 22, false},
		{"icmpv6", "icmpv6", nil, nil, 22, false},
		{"protocol 58", "58", nil, nil, 22, false},
		{"esp", "50", nil, nil, 22, false},
		{"tcp nil ports means all", "tcp", nil, nil, 22, true},
	}
	for _, tt := range tests {
		if got := coversTCPPort(tt.proto, tt.from, tt.to, tt.port); got != tt.want {
			t.Errorf("%s: coversTCPPort(%q, %v, %v, %d) = %v, want %v", tt.name, tt.proto, tt.from, tt.to, tt.port, got, tt.want)
		}
	}
}

func TestDescribeRule(t *testing.T) {
	tests := []struct {
		proto    string
		from, to *int32
		want     string
	}{
		{"-1", nil, nil, "all traffic"},
		{"all", nil, nil, "all traffic"},
		{"tcp", p32(22), p32(22), "tcp 22"},
		{"6", p32(20), p32(25), "tcp 20-25"},
		{"tcp", p32(0), p32(65535), "tcp 0-65535"},
		{"17", p32(53), p32(53), "udp 53"},
		{"udp", nil, nil, "udp all ports"},
		{"icmp", p32(-1), p32(-1), "icmp all ports"},
	}
	for _, tt := range tests {
		if got := describeRule(tt.proto, tt.from, tt.to); got != tt.want {
			t.Errorf("describeRule(%q, %v, %v) = %q, want %q", tt.proto, tt.from, tt.to, got, tt.want)
		}
	}
}

func TestOpenTCPPorts(t *testing.T) {
	tests := []struct {
		name string
		perm Permission
		want []Opening
	}{
		{"ssh from anywhere", perm("tcp", p32(22), p32(22), AnyIPv4),
			[]Opening{{GroupID: "sg-1", Rule: "tcp 22", Source: AnyIPv4, Ports: []int32{22}}}},
		{"range 20-25 covers 22", perm("tcp", p32(20), p32(25), AnyIPv4),
			[]Opening{{GroupID: "sg-1", Rule: "tcp 20-25", Source: AnyIPv4, Ports: []int32{22}}}},
		{"range 23-3388 covers neither", perm("tcp", p32(23), p32(3388), AnyIPv4), nil},
		{"range 22-3389 covers both", perm("tcp", p32(22), p32(3389), AnyIPv4),
			[]Opening{{GroupID: "sg-1", Rule: "tcp 22-3389", Source: AnyIPv4, Ports: []int32{22, 3389}}}},
		{"all protocols nil ports", perm("-1", nil, nil, AnyIPv4),
			[]Opening{{GroupID: "sg-1", Rule: "all traffic", Source: AnyIPv4, Ports: []int32{22, 3389}}}},
		{"protocol 6", perm("6", p32(3389), p32(3389), AnyIPv4),
			[]Opening{{GroupID: "sg-1", Rule: "tcp 3389", Source: AnyIPv4, Ports: []int32{3389}}}},
		{"IPv6 anywhere", Permission{Protocol: "tcp", FromPort: p32(22), ToPort: p32(22), IPv6Ranges: []string{AnyIPv6}},
			[]Opening{{GroupID: "sg-1", Rule: "tcp 22", Source: AnyIPv6, Ports: []int32{22}}}},
		{"both families, one opening each", Permission{Protocol: "tcp", FromPort: p32(22), ToPort: p32(22), IPv4Ranges: []string{AnyIPv4}, IPv6Ranges: []string{AnyIPv6}},
			[]Opening{{GroupID: "sg-1", Rule: "tcp 22", Source: AnyIPv4, Ports: []int32{22}}, {GroupID: "sg-1", Rule: "tcp 22", Source: AnyIPv6, Ports: []int32{22}}}},
		{"narrow and open sources: only the open one", perm("tcp", p32(22), p32(22), "10.0.0.0/8", AnyIPv4),
			[]Opening{{GroupID: "sg-1", Rule: "tcp 22", Source: AnyIPv4, Ports: []int32{22}}}},
		{"udp", perm("udp", p32(22), p32(22), AnyIPv4), nil},
		{"udp all ports", perm("udp", p32(0), p32(65535), AnyIPv4), nil},
		{"icmp", perm("icmp", p32(-1), p32(-1), AnyIPv4), nil},
		{"10.0.0.0/8", perm("tcp", p32(22), p32(22), "10.0.0.0/8"), nil},
		{"0.0.0.0/1 is not the internet", perm("tcp", p32(22), p32(22), "0.0.0.0/1"), nil},
		{"narrow IPv6", Permission{Protocol: "tcp", FromPort: p32(22), ToPort: p32(22), IPv6Ranges: []string{"2001:db8::/32"}}, nil},
		{"security group source", Permission{Protocol: "tcp", FromPort: p32(22), ToPort: p32(22), SourceGroupIDs: []string{"sg-9"}}, nil},
		{"prefix list source, not collected", Permission{Protocol: "-1", PrefixListIDs: []string{"pl-123"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sg := SecurityGroup{ID: "sg-1", Ingress: []Permission{tt.perm}}
			got := OpenTCPPorts([]SecurityGroup{sg}, nil, AdminPorts())
			if !reflect.DeepEqual(got.Open, tt.want) {
				t.Errorf("OpenTCPPorts = %+v, want %+v", got.Open, tt.want)
			}
			if len(tt.perm.PrefixListIDs) == 0 && got.Unknown != nil {
				t.Errorf("unknown = %v", got.Unknown)
			}
		})
	}
	// Egress rules are never ingress.
	sg := SecurityGroup{ID: "sg-1", Egress: []Permission{perm("-1", nil, nil, AnyIPv4)}}
	if got := OpenTCPPorts([]SecurityGroup{sg}, nil, AdminPorts()); got.Open != nil || got.Unknown != nil {
		t.Errorf("egress counted as ingress: %+v", got)
	}
}

func TestOpenAllPorts(t *testing.T) {
	tests := []struct {
		name string
		perm Permission
		want []string // rules of the openings
	}{
		{"all traffic", perm("-1", nil, nil, AnyIPv4), []string{"all traffic"}},
		{"all traffic -1 ports", perm("-1", p32(-1), p32(-1), AnyIPv4), []string{"all traffic"}},
		{"tcp 0-65535", perm("tcp", p32(0), p32(65535), AnyIPv4), []string{"tcp 0-65535"}},
		{"tcp 1-65535", perm("tcp", p32(1), p32(65535), AnyIPv4), []string{"tcp 1-65535"}},
		{"udp 0-65535", perm("udp", p32(0), p32(65535), AnyIPv4), []string{"udp 0-65535"}},
		{"6 0-65535", perm("6", p32(0), p32(65535), AnyIPv4), []string{"tcp 0-65535"}},
		{"17 1-65535", perm("17", p32(1), p32(65535), AnyIPv4), []string{"udp 1-65535"}},
		{"tcp 2-65535 is not all", perm("tcp", p32(2), p32(65535), AnyIPv4), nil},
		{"tcp 0-65534 is not all", perm("tcp", p32(0), p32(65534), AnyIPv4), nil},
		{"tcp 22", perm("tcp", p32(22), p32(22), AnyIPv4), nil},
		{"icmp all types", perm("icmp", p32(-1), p32(-1), AnyIPv4), nil},
		{"icmpv6 all", Permission{Protocol: "58", IPv6Ranges: []string{AnyIPv6}}, nil},
		{"all traffic from 10/8", perm("-1", nil, nil, "10.0.0.0/8"), nil},
		{"all traffic from a group", Permission{Protocol: "-1", SourceGroupIDs: []string{"sg-self"}}, nil},
		{"all traffic IPv6", Permission{Protocol: "-1", IPv6Ranges: []string{AnyIPv6}}, []string{"all traffic"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := OpenAllPorts([]SecurityGroup{{ID: "sg-1", Ingress: []Permission{tt.perm}}}, nil)
			var rules []string
			for _, o := range got.Open {
				rules = append(rules, o.Rule)
				if o.GroupID != "sg-1" || len(o.Ports) != 0 {
					t.Errorf("opening = %+v", o)
				}
			}
			if !reflect.DeepEqual(rules, tt.want) {
				t.Errorf("OpenAllPorts rules = %v, want %v", rules, tt.want)
			}
		})
	}
}

// entry builds an inbound IPv4 NACL entry.
func entry(n int32, proto string, allow bool, cidr string, from, to *int32) ACLEntry {
	return ACLEntry{RuleNumber: n, Protocol: proto, Allow: allow, CIDR: cidr, FromPort: from, ToPort: to}
}

func entry6(n int32, proto string, allow bool, cidr string, from, to *int32) ACLEntry {
	return ACLEntry{RuleNumber: n, Protocol: proto, Allow: allow, IPv6CIDR: cidr, FromPort: from, ToPort: to}
}

func TestInboundFromInternet(t *testing.T) {
	tests := []struct {
		name    string
		entries []ACLEntry
		port    int32
		ipv6    bool
		allowed bool
		rule    int32
		entry   string
	}{
		{"AWS default ACL", []ACLEntry{entry(100, "-1", true, AnyIPv4, nil, nil), entry(32767, "-1", false, AnyIPv4, nil, nil)},
			22, false, true, 100, "rule 100 allow all traffic from 0.0.0.0/0"},
		{"lower deny before allow wins", []ACLEntry{entry(100, "-1", true, AnyIPv4, nil, nil), entry(50, "6", false, AnyIPv4, p32(22), p32(22))},
			22, false, false, 50, "rule 50 deny tcp 22 from 0.0.0.0/0"},
		{"allow before deny wins", []ACLEntry{entry(200, "6", false, AnyIPv4, p32(22), p32(22)), entry(100, "6", true, AnyIPv4, p32(22), p32(22))},
			22, false, true, 100, "rule 100 allow tcp 22 from 0.0.0.0/0"},
		{"narrower deny earlier does not close it", []ACLEntry{entry(50, "6", false, "10.0.0.0/8", p32(22), p32(22)), entry(100, "6", true, AnyIPv4, p32(0), p32(65535))},
			22, false, true, 100, "rule 100 allow tcp 0-65535 from 0.0.0.0/0"},
		{"udp deny does not block tcp", []ACLEntry{entry(50, "17", false, AnyIPv4, p32(22), p32(22)), entry(100, "6", true, AnyIPv4, p32(22), p32(22))},
			22, false, true, 100, "rule 100 allow tcp 22 from 0.0.0.0/0"},
		{"deny of another port does not decide", []ACLEntry{entry(50, "6", false, AnyIPv4, p32(3389), p32(3389)), entry(100, "-1", true, AnyIPv4, nil, nil)},
			22, false, true, 100, "rule 100 allow all traffic from 0.0.0.0/0"},
		{"deny all protocols first", []ACLEntry{entry(10, "-1", false, AnyIPv4, nil, nil), entry(100, "-1", true, AnyIPv4, nil, nil)},
			3389, false, false, 10, "rule 10 deny all traffic from 0.0.0.0/0"},
		{"range allow 20-25", []ACLEntry{entry(100, "6", true, AnyIPv4, p32(20), p32(25))},
			22, false, true, 100, "rule 100 allow tcp 20-25 from 0.0.0.0/0"},
		{"range allow 23-3388 misses 22", []ACLEntry{entry(100, "6", true, AnyIPv4, p32(23), p32(3388))},
			22, false, false, 0, "implicit deny (no matching rule)"},
		{"egress ignored", []ACLEntry{{RuleNumber: 100, Egress: true, Protocol: "-1", Allow: true, CIDR: AnyIPv4}},
			22, false, false, 0, "implicit deny (no matching rule)"},
		{"no entries", nil, 22, false, false, 0, "implicit deny (no matching rule)"},
		{"narrow allow only", []ACLEntry{entry(100, "-1", true, "203.0.113.0/24", nil, nil)},
			22, false, false, 0, "implicit deny (no matching rule)"},
		{"IPv4 entries do not decide IPv6", []ACLEntry{entry(100, "-1", true, AnyIPv4, nil, nil)},
			22, true, false, 0, "implicit deny (no matching rule)"},
		{"IPv6 allow", []ACLEntry{entry(100, "-1", true, AnyIPv4, nil, nil), entry6(101, "-1", true, AnyIPv6, nil, nil)},
			22, true, true, 101, "rule 101 allow all traffic from ::/0"},
		{"IPv6 deny first", []ACLEntry{entry6(90, "6", false, AnyIPv6, p32(22), p32(22)), entry6(101, "-1", true, AnyIPv6, nil, nil)},
			22, true, false, 90, "rule 90 deny tcp 22 from ::/0"},
		{"IPv6 entries do not decide IPv4", []ACLEntry{entry6(50, "-1", false, AnyIPv6, nil, nil), entry(100, "6", true, AnyIPv4, p32(22), p32(22))},
			22, false, true, 100, "rule 100 allow tcp 22 from 0.0.0.0/0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			acl := NetworkACL{ID: "acl-1", Entries: tt.entries}
			got := InboundFromInternet(acl, tt.port, tt.ipv6)
			want := ACLDecision{Port: tt.port, Allowed: tt.allowed, Rule: tt.rule, Entry: tt.entry}
			if got != want {
				t.Errorf("InboundFromInternet = %+v, want %+v", got, want)
			}
		})
	}
}

func TestInboundFromInternetDoesNotReorderCallerEntries(t *testing.T) {
	entries := []ACLEntry{entry(200, "-1", true, AnyIPv4, nil, nil), entry(100, "6", false, AnyIPv4, p32(22), p32(22))}
	acl := NetworkACL{ID: "acl-1", Entries: entries}
	InboundFromInternet(acl, 22, false)
	if acl.Entries[0].RuleNumber != 200 {
		t.Error("InboundFromInternet sorted the inventory's entries in place")
	}
}

func TestOpeningEvidence(t *testing.T) {
	got := Opening{GroupID: "sg-1", Rule: "tcp 22", Source: AnyIPv4, Ports: []int32{22}}.Evidence()
	want := map[string]any{"security_group": "sg-1", "rule": "tcp 22", "source": AnyIPv4, "ports": []int32{22}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Evidence = %v, want %v", got, want)
	}
	got = Opening{Rule: "all traffic", Source: AnyIPv6}.Evidence()
	want = map[string]any{"rule": "all traffic", "source": AnyIPv6}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Evidence = %v, want %v", got, want)
	}
}
