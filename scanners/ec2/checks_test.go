package ec2

import (
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/internal/model"
)

const (
	acct   = "111122223333"
	region = "eu-west-1"
)

// evalCheck runs the check with the given ID over inv.
func evalCheck(t *testing.T, id string, inv *Inventory) []check.Finding {
	t.Helper()
	c, ok := check.Lookup(Checks(), id)
	if !ok {
		t.Fatalf("no check %s", id)
	}
	return c.Eval(inv)
}

// one asserts that findings hold exactly one finding, for resourceID.
func one(t *testing.T, findings []check.Finding, resourceID string) check.Finding {
	t.Helper()
	if len(findings) != 1 {
		t.Fatalf("got %d findings, want 1: %+v", len(findings), findings)
	}
	if findings[0].ResourceID != resourceID {
		t.Fatalf("resource ID = %q, want %q", findings[0].ResourceID, resourceID)
	}
	return findings[0]
}

func mustContain(t *testing.T, what, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%s %q does not contain %q", what, s, sub)
		}
	}
}

func sgInv(groups ...SecurityGroup) *Inventory {
	return &Inventory{AccountID: acct, Region: region, Partition: "aws", SecurityGroups: groups}
}

// openRules returns the open_rules evidence of a failing SG finding.
func openRules(t *testing.T, f check.Finding) []map[string]any {
	t.Helper()
	rules, ok := f.Evidence["open_rules"].([]map[string]any)
	if !ok {
		t.Fatalf("open_rules evidence = %#v", f.Evidence["open_rules"])
	}
	return rules
}

type opened struct {
	rule, source string
	ports        []int32
}

func summarise(rules []map[string]any) []opened {
	var out []opened
	for _, r := range rules {
		o := opened{rule: r["rule"].(string), source: r["source"].(string)}
		if p, ok := r["ports"].([]int32); ok {
			o.ports = p
		}
		out = append(out, o)
	}
	return out
}

func TestSGOpenAdminPort(t *testing.T) {
	tests := []struct {
		name    string
		ingress []Permission
		want    []opened // nil: PASS
	}{
		{"ssh from 0.0.0.0/0", []Permission{perm("tcp", p32(22), p32(22), AnyIPv4)}, []opened{{"tcp 22", AnyIPv4, []int32{22}}}},
		{"rdp from ::/0", []Permission{{Protocol: "tcp", FromPort: p32(3389), ToPort: p32(3389), IPv6Ranges: []string{AnyIPv6}}}, []opened{{"tcp 3389", AnyIPv6, []int32{3389}}}},
		{"range 20-25 covers 22", []Permission{perm("tcp", p32(20), p32(25), AnyIPv4)}, []opened{{"tcp 20-25", AnyIPv4, []int32{22}}}},
		{"range 23-3388 covers neither", []Permission{perm("tcp", p32(23), p32(3388), AnyIPv4)}, nil},
		{"protocol -1 nil ports", []Permission{perm("-1", nil, nil, AnyIPv4)}, []opened{{"all traffic", AnyIPv4, []int32{22, 3389}}}},
		{"protocol 6", []Permission{perm("6", p32(22), p32(22), AnyIPv4)}, []opened{{"tcp 22", AnyIPv4, []int32{22}}}},
		{"tcp 0-65535", []Permission{perm("tcp", p32(0), p32(65535), AnyIPv4)}, []opened{{"tcp 0-65535", AnyIPv4, []int32{22, 3389}}}},
		{"udp 22 never opens tcp", []Permission{perm("udp", p32(22), p32(22), AnyIPv4)}, nil},
		{"udp 0-65535 never opens tcp", []Permission{perm("udp", p32(0), p32(65535), AnyIPv4)}, nil},
		{"protocol 17", []Permission{perm("17", p32(3389), p32(3389), AnyIPv4)}, nil},
		{"icmp", []Permission{perm("icmp", p32(-1), p32(-1), AnyIPv4)}, nil},
		{"10.0.0.0/8", []Permission{perm("tcp", p32(22), p32(22), "10.0.0.0/8")}, nil},
		{"0.0.0.0/1", []Permission{perm("tcp", p32(22), p32(22), "0.0.0.0/1")}, nil},
		{"from a security group", []Permission{{Protocol: "tcp", FromPort: p32(22), ToPort: p32(22), SourceGroupIDs: []string{"sg-bastion"}}}, nil},
		{"other port from anywhere", []Permission{perm("tcp", p32(443), p32(443), AnyIPv4)}, nil},
		{"no rules", nil, nil},
		{"two rules, both families", []Permission{
			perm("tcp", p32(443), p32(443), AnyIPv4),
			{Protocol: "tcp", FromPort: p32(22), ToPort: p32(22), IPv4Ranges: []string{"10.0.0.0/8", AnyIPv4}, IPv6Ranges: []string{AnyIPv6}},
			perm("tcp", p32(3389), p32(3389), AnyIPv4),
		}, []opened{{"tcp 22", AnyIPv4, []int32{22}}, {"tcp 22", AnyIPv6, []int32{22}}, {"tcp 3389", AnyIPv4, []int32{3389}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sg := SecurityGroup{ID: "sg-0a1", Name: "web", VPCID: "vpc-1", Ingress: tt.ingress,
				Egress: []Permission{perm("-1", nil, nil, AnyIPv4)}}
			f := one(t, evalCheck(t, "ec2-sg-open-admin-port", sgInv(sg)), "sg-0a1")
			if f.ResourceARN != "arn:aws:ec2:eu-west-1:111122223333:security-group/sg-0a1" {
				t.Errorf("ARN = %q", f.ResourceARN)
			}
			if f.Evidence["group_name"] != "web" || f.Evidence["vpc_id"] != "vpc-1" {
				t.Errorf("evidence = %v", f.Evidence)
			}
			if tt.want == nil {
				if f.Status != model.StatusPass {
					t.Fatalf("status = %s (%s), want PASS", f.Status, f.Message)
				}
				mustContain(t, "message", f.Message, "no ingress rule of sg-0a1 (web)", "administration port")
				if f.Evidence["ingress_rules"] != len(tt.ingress) {
					t.Errorf("ingress_rules = %v", f.Evidence["ingress_rules"])
				}
				return
			}
			if f.Status != model.StatusFail {
				t.Fatalf("status = %s (%s), want FAIL", f.Status, f.Message)
			}
			mustContain(t, "message", f.Message, "security group sg-0a1 (web) admits 0.0.0.0/0 or ::/0 to an administration port (22, 3389)")
			rules := openRules(t, f)
			if got := summarise(rules); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("open rules = %+v, want %+v", got, tt.want)
			}
			for _, r := range rules {
				if r["security_group"] != "sg-0a1" {
					t.Errorf("open rule %v does not name the group", r)
				}
			}
		})
	}
}

func TestSGOpenAdminPortOneFindingPerGroup(t *testing.T) {
	inv := sgInv(
		SecurityGroup{ID: "sg-a", Name: "a", Ingress: []Permission{perm("tcp", p32(22), p32(22), AnyIPv4)}},
		SecurityGroup{ID: "sg-b", Name: "b"},
	)
	inv.Partition = "aws-cn"
	inv.Region = "cn-north-1"
	got := evalCheck(t, "ec2-sg-open-admin-port", inv)
	if len(got) != 2 || got[0].ResourceID != "sg-a" || got[0].Status != model.StatusFail || got[1].ResourceID != "sg-b" || got[1].Status != model.StatusPass {
		t.Fatalf("findings = %+v", got)
	}
	if got[0].ResourceARN != "arn:aws-cn:ec2:cn-north-1:111122223333:security-group/sg-a" {
		t.Errorf("ARN = %q", got[0].ResourceARN)
	}
	if got := evalCheck(t, "ec2-sg-open-admin-port", sgInv()); len(got) != 0 {
		t.Errorf("no groups: %+v", got)
	}
}

func TestSGOpenDatabasePort(t *testing.T) {
	tests := []struct {
		name    string
		ingress []Permission
		want    []opened
	}{
		{"mysql", []Permission{perm("tcp", p32(3306), p32(3306), AnyIPv4)}, []opened{{"tcp 3306", AnyIPv4, []int32{3306}}}},
		{"postgres over IPv6", []Permission{{Protocol: "tcp", FromPort: p32(5432), ToPort: p32(5432), IPv6Ranges: []string{AnyIPv6}}}, []opened{{"tcp 5432", AnyIPv6, []int32{5432}}}},
		{"range 1433-1521", []Permission{perm("tcp", p32(1433), p32(1521), AnyIPv4)}, []opened{{"tcp 1433-1521", AnyIPv4, []int32{1433, 1521}}}},
		{"mongodb 27017-27018", []Permission{perm("6", p32(27017), p32(27018), AnyIPv4)}, []opened{{"tcp 27017-27018", AnyIPv4, []int32{27017, 27018}}}},
		{"redis", []Permission{perm("tcp", p32(6379), p32(6379), AnyIPv4)}, []opened{{"tcp 6379", AnyIPv4, []int32{6379}}}},
		{"range between db ports 3307-5431", []Permission{perm("tcp", p32(3307), p32(5431), AnyIPv4)}, nil},
		{"all traffic opens every db port", []Permission{perm("-1", nil, nil, AnyIPv4)}, []opened{{"all traffic", AnyIPv4, DatabasePorts()}}},
		{"ssh is not a db port", []Permission{perm("tcp", p32(22), p32(22), AnyIPv4)}, nil},
		{"udp memcached", []Permission{perm("udp", p32(11211), p32(11211), AnyIPv4)}, nil},
		{"mysql from a group", []Permission{{Protocol: "tcp", FromPort: p32(3306), ToPort: p32(3306), SourceGroupIDs: []string{"sg-app"}}}, nil},
		{"mysql from 10/8", []Permission{perm("tcp", p32(3306), p32(3306), "10.0.0.0/8")}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sg := SecurityGroup{ID: "sg-db", Name: "db", VPCID: "vpc-1", Ingress: tt.ingress}
			f := one(t, evalCheck(t, "ec2-sg-open-database-port", sgInv(sg)), "sg-db")
			if tt.want == nil {
				if f.Status != model.StatusPass {
					t.Fatalf("status = %s (%s), want PASS", f.Status, f.Message)
				}
				mustContain(t, "message", f.Message, "a database or cache port")
				return
			}
			if f.Status != model.StatusFail {
				t.Fatalf("status = %s (%s), want FAIL", f.Status, f.Message)
			}
			mustContain(t, "message", f.Message, "sg-db (db) admits 0.0.0.0/0 or ::/0 to a database or cache port")
			if got := summarise(openRules(t, f)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("open rules = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestSGOpenAllPorts(t *testing.T) {
	tests := []struct {
		name    string
		ingress []Permission
		want    []opened
	}{
		{"all traffic", []Permission{perm("-1", nil, nil, AnyIPv4)}, []opened{{"all traffic", AnyIPv4, nil}}},
		{"all traffic ::/0", []Permission{{Protocol: "-1", IPv6Ranges: []string{AnyIPv6}}}, []opened{{"all traffic", AnyIPv6, nil}}},
		{"tcp 0-65535", []Permission{perm("tcp", p32(0), p32(65535), AnyIPv4)}, []opened{{"tcp 0-65535", AnyIPv4, nil}}},
		{"udp 0-65535", []Permission{perm("udp", p32(0), p32(65535), AnyIPv4)}, []opened{{"udp 0-65535", AnyIPv4, nil}}},
		{"tcp 1-65535", []Permission{perm("tcp", p32(1), p32(65535), AnyIPv4)}, []opened{{"tcp 1-65535", AnyIPv4, nil}}},
		{"protocol 6 0-65535", []Permission{perm("6", p32(0), p32(65535), AnyIPv4)}, []opened{{"tcp 0-65535", AnyIPv4, nil}}},
		{"tcp 1024-65535", []Permission{perm("tcp", p32(1024), p32(65535), AnyIPv4)}, nil},
		{"tcp 22", []Permission{perm("tcp", p32(22), p32(22), AnyIPv4)}, nil},
		{"icmp all", []Permission{perm("icmp", p32(-1), p32(-1), AnyIPv4)}, nil},
		{"all traffic from 10/8", []Permission{perm("-1", nil, nil, "10.0.0.0/8")}, nil},
		{"all traffic from 0.0.0.0/1", []Permission{perm("-1", nil, nil, "0.0.0.0/1")}, nil},
		{"all traffic from itself", []Permission{{Protocol: "-1", SourceGroupIDs: []string{"sg-all"}}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sg := SecurityGroup{ID: "sg-all", Name: "wide", VPCID: "vpc-1", Ingress: tt.ingress,
				Egress: []Permission{perm("-1", nil, nil, AnyIPv4)}}
			f := one(t, evalCheck(t, "ec2-sg-open-all-ports", sgInv(sg)), "sg-all")
			if tt.want == nil {
				if f.Status != model.StatusPass {
					t.Fatalf("status = %s (%s), want PASS", f.Status, f.Message)
				}
				mustContain(t, "message", f.Message, "no ingress rule of sg-all (wide) admits the internet on all ports")
				return
			}
			if f.Status != model.StatusFail {
				t.Fatalf("status = %s (%s), want FAIL", f.Status, f.Message)
			}
			mustContain(t, "message", f.Message, "sg-all (wide) admits 0.0.0.0/0 or ::/0 on all ports or protocols")
			if got := summarise(openRules(t, f)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("open rules = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestSGDefaultNotRestricted(t *testing.T) {
	tests := []struct {
		name      string
		sg        SecurityGroup
		status    model.Status // "" means no finding
		rules     []string
		msgSubstr string
	}{
		{"restricted default", SecurityGroup{ID: "sg-def", Name: "default", VPCID: "vpc-1"},
			model.StatusPass, nil, "default security group sg-def of vpc-1 has no rules"},
		{"AWS's initial default group", SecurityGroup{ID: "sg-def", Name: "default", VPCID: "vpc-1",
			Ingress: []Permission{{Protocol: "-1", SourceGroupIDs: []string{"sg-def"}}},
			Egress:  []Permission{perm("-1", nil, nil, AnyIPv4)}},
			model.StatusFail, []string{"ingress all traffic with sg-def", "egress all traffic with 0.0.0.0/0"}, "has 1 inbound and 1 outbound rules"},
		{"egress only", SecurityGroup{ID: "sg-def", Name: "default", VPCID: "vpc-1",
			Egress: []Permission{{Protocol: "tcp", FromPort: p32(443), ToPort: p32(443), IPv6Ranges: []string{AnyIPv6}, PrefixListIDs: []string{"pl-1"}}}},
			model.StatusFail, []string{"egress tcp 443 with ::/0, pl-1"}, "has 0 inbound and 1 outbound rules"},
		{"ingress without peers", SecurityGroup{ID: "sg-def", Name: "default", VPCID: "vpc-1",
			Ingress: []Permission{{Protocol: "tcp", FromPort: p32(22), ToPort: p32(22)}}},
			model.StatusFail, []string{"ingress tcp 22"}, "has 1 inbound and 0 outbound rules"},
		{"a non-default group is out of scope", SecurityGroup{ID: "sg-web", Name: "web", VPCID: "vpc-1",
			Ingress: []Permission{perm("-1", nil, nil, AnyIPv4)}}, "", nil, ""},
		{"a group named like default is not the default", SecurityGroup{ID: "sg-x", Name: "default-web", VPCID: "vpc-1",
			Ingress: []Permission{perm("-1", nil, nil, AnyIPv4)}}, "", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := evalCheck(t, "ec2-sg-default-not-restricted", sgInv(tt.sg))
			if tt.status == "" {
				if len(got) != 0 {
					t.Fatalf("findings = %+v, want none", got)
				}
				return
			}
			f := one(t, got, tt.sg.ID)
			if f.Status != tt.status {
				t.Fatalf("status = %s (%s), want %s", f.Status, f.Message, tt.status)
			}
			mustContain(t, "message", f.Message, tt.msgSubstr)
			if f.Evidence["vpc_id"] != "vpc-1" || f.Evidence["ingress_rules"] != len(tt.sg.Ingress) || f.Evidence["egress_rules"] != len(tt.sg.Egress) {
				t.Errorf("evidence = %v", f.Evidence)
			}
			rules, _ := f.Evidence["rules"].([]string)
			if !reflect.DeepEqual(rules, tt.rules) {
				t.Errorf("rules evidence = %#v, want %#v", rules, tt.rules)
			}
		})
	}
}

func TestNACLOpenAdminPort(t *testing.T) {
	allow4 := entry(100, "-1", true, AnyIPv4, nil, nil)
	allow6 := entry6(101, "-1", true, AnyIPv6, nil, nil)
	deny4 := entry(32767, "-1", false, AnyIPv4, nil, nil)
	deny6 := entry6(32768, "-1", false, AnyIPv6, nil, nil)
	type open struct {
		port   int32
		source string
		rule   int32
	}
	tests := []struct {
		name    string
		entries []ACLEntry
		want    []open // nil: PASS
	}{
		{"AWS default ACL allows everything", []ACLEntry{allow4, allow6, deny4, deny6},
			[]open{{22, AnyIPv4, 100}, {3389, AnyIPv4, 100}, {22, AnyIPv6, 101}, {3389, AnyIPv6, 101}}},
		{"lower-numbered denies close both ports", []ACLEntry{
			entry(90, "6", false, AnyIPv4, p32(22), p32(22)), entry(91, "6", false, AnyIPv4, p32(3389), p32(3389)), allow4, deny4}, nil},
		{"allow before deny wins", []ACLEntry{
			entry(200, "6", false, AnyIPv4, p32(22), p32(22)), allow4, deny4},
			[]open{{22, AnyIPv4, 100}, {3389, AnyIPv4, 100}}},
		{"listed order does not matter, rule numbers do", []ACLEntry{
			allow4, entry(50, "6", false, AnyIPv4, p32(0), p32(65535))}, nil},
		{"narrower deny earlier does not close it", []ACLEntry{
			entry(50, "-1", false, "10.0.0.0/8", nil, nil), allow4},
			[]open{{22, AnyIPv4, 100}, {3389, AnyIPv4, 100}}},
		{"udp deny does not block tcp", []ACLEntry{
			entry(50, "17", false, AnyIPv4, p32(0), p32(65535)), entry(100, "6", true, AnyIPv4, p32(22), p32(22))},
			[]open{{22, AnyIPv4, 100}}},
		{"deny 22 only leaves 3389", []ACLEntry{entry(50, "6", false, AnyIPv4, p32(22), p32(22)), allow4},
			[]open{{3389, AnyIPv4, 100}}},
		{"range 20-25 admits 22 only", []ACLEntry{entry(100, "6", true, AnyIPv4, p32(20), p32(25))},
			[]open{{22, AnyIPv4, 100}}},
		{"range 23-3388 admits neither", []ACLEntry{entry(100, "6", true, AnyIPv4, p32(23), p32(3388))}, nil},
		{"egress rules ignored", []ACLEntry{{RuleNumber: 100, Egress: true, Protocol: "-1", Allow: true, CIDR: AnyIPv4},
			{RuleNumber: 101, Egress: true, Protocol: "-1", Allow: true, IPv6CIDR: AnyIPv6}}, nil},
		{"no entries: implicit deny", nil, nil},
		{"narrow allow only", []ACLEntry{entry(100, "6", true, "203.0.113.0/24", p32(22), p32(22))}, nil},
		{"IPv6 allow 22", []ACLEntry{entry6(100, "6", true, AnyIPv6, p32(22), p32(22))},
			[]open{{22, AnyIPv6, 100}}},
		{"IPv6 deny 22 first", []ACLEntry{entry6(50, "6", false, AnyIPv6, p32(22), p32(22)), allow6},
			[]open{{3389, AnyIPv6, 101}}},
		{"IPv4 closed, IPv6 open", []ACLEntry{deny4, allow6},
			[]open{{22, AnyIPv6, 101}, {3389, AnyIPv6, 101}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			acl := NetworkACL{ID: "acl-1", VPCID: "vpc-1", IsDefault: true, SubnetIDs: []string{"subnet-1"}, Entries: tt.entries}
			inv := &Inventory{AccountID: acct, Region: region, NetworkACLs: []NetworkACL{acl}}
			f := one(t, evalCheck(t, "ec2-nacl-open-admin-port", inv), "acl-1")
			if f.ResourceARN != "arn:aws:ec2:eu-west-1:111122223333:network-acl/acl-1" {
				t.Errorf("ARN = %q", f.ResourceARN)
			}
			if f.Evidence["vpc_id"] != "vpc-1" || f.Evidence["is_default"] != true || !reflect.DeepEqual(f.Evidence["subnets"], []string{"subnet-1"}) {
				t.Errorf("evidence = %v", f.Evidence)
			}
			if d, _ := f.Evidence["decisions"].([]string); len(d) != 4 {
				t.Errorf("decisions = %v, want one per port and family", f.Evidence["decisions"])
			}
			if tt.want == nil {
				if f.Status != model.StatusPass {
					t.Fatalf("status = %s (%s), want PASS; evidence %v", f.Status, f.Message, f.Evidence)
				}
				mustContain(t, "message", f.Message, "network ACL acl-1 denies the internet on TCP 22 and 3389")
				if _, ok := f.Evidence["open"]; ok {
					t.Errorf("PASS carries open evidence: %v", f.Evidence["open"])
				}
				return
			}
			if f.Status != model.StatusFail {
				t.Fatalf("status = %s (%s), want FAIL; evidence %v", f.Status, f.Message, f.Evidence)
			}
			mustContain(t, "message", f.Message, "network ACL acl-1 admits the internet to an administration port")
			var got []open
			for _, o := range f.Evidence["open"].([]map[string]any) {
				got = append(got, open{o["port"].(int32), o["source"].(string), o["rule_number"].(int32)})
				mustContain(t, "entry", o["entry"].(string), "allow", "from "+o["source"].(string))
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("open = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestNACLDecisionsEvidence(t *testing.T) {
	acl := NetworkACL{ID: "acl-1", VPCID: "vpc-1", Entries: []ACLEntry{
		entry(50, "6", false, AnyIPv4, p32(22), p32(22)), entry(100, "-1", true, AnyIPv4, nil, nil)}}
	f := one(t, evalCheck(t, "ec2-nacl-open-admin-port", &Inventory{NetworkACLs: []NetworkACL{acl}}), "acl-1")
	want := []string{
		"tcp 22 from 0.0.0.0/0: rule 50 deny tcp 22 from 0.0.0.0/0",
		"tcp 3389 from 0.0.0.0/0: rule 100 allow all traffic from 0.0.0.0/0",
		"tcp 22 from ::/0: implicit deny (no matching rule)",
		"tcp 3389 from ::/0: implicit deny (no matching rule)",
	}
	if got := f.Evidence["decisions"]; !reflect.DeepEqual(got, want) {
		t.Errorf("decisions = %#v, want %#v", got, want)
	}
}

// network builds the VPC the exposure cases start from: a public subnet
// explicitly associated with a table routing 0.0.0.0/0 and ::/0 to an
// internet gateway and with an ACL that allows everything; a main table
// with only local routes; a default ACL that allows everything; a group
// admitting SSH from 0.0.0.0/0 and ::/0; and one instance in the subnet
// with a public IP in that group.
func exposureInventory() *Inventory {
	return &Inventory{
		AccountID: acct, Region: region, Partition: "aws",
		VPCs:    []VPC{{ID: "vpc-1", CIDR: "10.0.0.0/16"}},
		Subnets: []Subnet{{ID: "subnet-pub", VPCID: "vpc-1"}, {ID: "subnet-other", VPCID: "vpc-1"}},
		RouteTables: []RouteTable{
			{ID: "rtb-main", VPCID: "vpc-1", Main: true, Routes: []Route{{DestinationCIDR: "10.0.0.0/16", Target: "local", State: "active"}}},
			{ID: "rtb-pub", VPCID: "vpc-1", SubnetIDs: []string{"subnet-pub"}, Routes: []Route{
				{DestinationCIDR: "10.0.0.0/16", Target: "local", State: "active"},
				{DestinationCIDR: AnyIPv4, Target: "igw-1", State: "active"},
				{DestinationIPv6CIDR: AnyIPv6, Target: "igw-1", State: "active"},
			}},
		},
		SecurityGroups: []SecurityGroup{
			{ID: "sg-ssh", Name: "ssh", VPCID: "vpc-1", Ingress: []Permission{{Protocol: "tcp", FromPort: p32(22), ToPort: p32(22), IPv4Ranges: []string{AnyIPv4}}}},
			{ID: "sg-private", Name: "private", VPCID: "vpc-1", Ingress: []Permission{perm("-1", nil, nil, "10.0.0.0/8")}},
		},
		NetworkACLs: []NetworkACL{
			{ID: "acl-default", VPCID: "vpc-1", IsDefault: true, SubnetIDs: []string{"subnet-other"}, Entries: []ACLEntry{
				entry(100, "-1", true, AnyIPv4, nil, nil), entry6(101, "-1", true, AnyIPv6, nil, nil),
				entry(32767, "-1", false, AnyIPv4, nil, nil), entry6(32768, "-1", false, AnyIPv6, nil, nil)}},
			{ID: "acl-pub", VPCID: "vpc-1", SubnetIDs: []string{"subnet-pub"}, Entries: []ACLEntry{
				entry(100, "-1", true, AnyIPv4, nil, nil), entry6(101, "-1", true, AnyIPv6, nil, nil)}},
		},
		Instances: []Instance{{ID: "i-1", Name: "bastion", State: "running", VPCID: "vpc-1", SubnetID: "subnet-pub",
			PublicIP: "203.0.113.10", SecurityGroupIDs: []string{"sg-ssh"}}},
	}
}

func routeTable(inv *Inventory, id string) *RouteTable {
	for i := range inv.RouteTables {
		if inv.RouteTables[i].ID == id {
			return &inv.RouteTables[i]
		}
	}
	panic(id)
}

func acl(inv *Inventory, id string) *NetworkACL {
	for i := range inv.NetworkACLs {
		if inv.NetworkACLs[i].ID == id {
			return &inv.NetworkACLs[i]
		}
	}
	panic(id)
}

func TestInstanceInternetExposed(t *testing.T) {
	denySSH := []ACLEntry{entry(50, "6", false, AnyIPv4, p32(22), p32(22)), entry6(51, "6", false, AnyIPv6, p32(22), p32(22)),
		entry(100, "-1", true, AnyIPv4, nil, nil), entry6(101, "-1", true, AnyIPv6, nil, nil)}
	tests := []struct {
		name   string
		mutate func(inv *Inventory)
		// For FAIL: the exposed ports expected, in order.
		exposed []exposedPort
		// For PASS: a reason that must be among the reasons.
		reason   string
		evidence map[string]any // evidence keys that must have these values
	}{
		{name: "SG and NACL open on 22", mutate: func(*Inventory) {},
			exposed:  []exposedPort{{Port: 22, Source: AnyIPv4, SecurityGroup: "sg-ssh", SGRule: "tcp 22", NetworkACL: "acl-pub", ACLEntry: "rule 100 allow all traffic from 0.0.0.0/0"}},
			evidence: map[string]any{"public_ip": "203.0.113.10", "route_table": "rtb-pub", "internet_gateway": "igw-1", "network_acl": "acl-pub", "name": "bastion", "subnet_id": "subnet-pub"}},
		{name: "no public IP", mutate: func(inv *Inventory) { inv.Instances[0].PublicIP = "" },
			reason: "no public IPv4 address"},
		{name: "public IP but no default route", mutate: func(inv *Inventory) {
			routeTable(inv, "rtb-pub").Routes = []Route{{DestinationCIDR: "10.0.0.0/16", Target: "local"}}
		}, reason: "route table rtb-pub has no 0.0.0.0/0 route to an internet gateway"},
		{name: "default route to a NAT gateway", mutate: func(inv *Inventory) {
			routeTable(inv, "rtb-pub").Routes = []Route{{DestinationCIDR: AnyIPv4, Target: "nat-0abc", State: "active"}}
		}, reason: "route table rtb-pub has no 0.0.0.0/0 route to an internet gateway"},
		{name: "default route to an egress-only gateway", mutate: func(inv *Inventory) {
			routeTable(inv, "rtb-pub").Routes = []Route{{DestinationCIDR: AnyIPv4, Target: "eigw-0abc", State: "active"}}
		}, reason: "route table rtb-pub has no 0.0.0.0/0 route to an internet gateway"},
		{name: "blackhole route to the gateway", mutate: func(inv *Inventory) {
			routeTable(inv, "rtb-pub").Routes = []Route{{DestinationCIDR: AnyIPv4, Target: "igw-1", State: "blackhole"}}
		}, reason: "route table rtb-pub has no 0.0.0.0/0 route to an internet gateway"},
		{name: "narrower route to the gateway", mutate: func(inv *Inventory) {
			routeTable(inv, "rtb-pub").Routes = []Route{{DestinationCIDR: "0.0.0.0/1", Target: "igw-1"}}
		}, reason: "route table rtb-pub has no 0.0.0.0/0 route to an internet gateway"},
		{name: "two halves routed to the gateway are the internet", mutate: func(inv *Inventory) {
			routeTable(inv, "rtb-pub").Routes = []Route{{DestinationCIDR: "0.0.0.0/1", Target: "igw-1"}, {DestinationCIDR: "128.0.0.0/1", Target: "igw-1"}}
		}, exposed: []exposedPort{{Port: 22, Source: AnyIPv4, SecurityGroup: "sg-ssh", SGRule: "tcp 22", NetworkACL: "acl-pub", ACLEntry: "rule 100 allow all traffic from 0.0.0.0/0"}},
			evidence: map[string]any{"internet_gateway": "igw-1"}},
		{name: "halves routed to two gateways, one a blackhole", mutate: func(inv *Inventory) {
			routeTable(inv, "rtb-pub").Routes = []Route{{DestinationCIDR: "0.0.0.0/1", Target: "igw-1"}, {DestinationCIDR: "128.0.0.0/1", Target: "igw-2", State: "blackhole"}}
		}, reason: "route table rtb-pub has no 0.0.0.0/0 route to an internet gateway"},
		{name: "main table used when the subnet has no association (main has no igw)", mutate: func(inv *Inventory) {
			routeTable(inv, "rtb-pub").SubnetIDs = nil
		}, reason: "route table rtb-main has no 0.0.0.0/0 route", evidence: map[string]any{"route_table": "rtb-main"}},
		{name: "main table used when the subnet has no association (main routes to igw)", mutate: func(inv *Inventory) {
			rt := routeTable(inv, "rtb-pub")
			rt.SubnetIDs = nil
			rt.Main = true
			routeTable(inv, "rtb-main").Main = false
		}, exposed: []exposedPort{{Port: 22, Source: AnyIPv4, SecurityGroup: "sg-ssh", SGRule: "tcp 22", NetworkACL: "acl-pub", ACLEntry: "rule 100 allow all traffic from 0.0.0.0/0"}},
			evidence: map[string]any{"route_table": "rtb-pub"}},
		{name: "explicit association overrides a public main table", mutate: func(inv *Inventory) {
			main := routeTable(inv, "rtb-main")
			main.Routes = append(main.Routes, Route{DestinationCIDR: AnyIPv4, Target: "igw-1"})
			pub := routeTable(inv, "rtb-pub")
			pub.Routes = []Route{{DestinationCIDR: "10.0.0.0/16", Target: "local"}}
		}, reason: "route table rtb-pub has no 0.0.0.0/0 route", evidence: map[string]any{"route_table": "rtb-pub"}},
		{name: "no route table at all", mutate: func(inv *Inventory) { inv.RouteTables = nil },
			reason: "no route table found for subnet subnet-pub"},
		{name: "SG open but NACL denies", mutate: func(inv *Inventory) { acl(inv, "acl-pub").Entries = denySSH },
			reason: "network ACL acl-pub denies 0.0.0.0/0 on every port the security groups admit", evidence: map[string]any{"network_acl": "acl-pub"}},
		{name: "SG open but NACL has no allow (implicit deny)", mutate: func(inv *Inventory) { acl(inv, "acl-pub").Entries = nil },
			reason: "network ACL acl-pub denies 0.0.0.0/0"},
		{name: "default ACL of the VPC when the subnet has no association (denies)", mutate: func(inv *Inventory) {
			acl(inv, "acl-pub").SubnetIDs = nil
			acl(inv, "acl-default").Entries = denySSH
		}, reason: "network ACL acl-default denies 0.0.0.0/0", evidence: map[string]any{"network_acl": "acl-default"}},
		{name: "default ACL of the VPC when the subnet has no association (allows)", mutate: func(inv *Inventory) {
			acl(inv, "acl-pub").SubnetIDs = nil
		}, exposed: []exposedPort{{Port: 22, Source: AnyIPv4, SecurityGroup: "sg-ssh", SGRule: "tcp 22", NetworkACL: "acl-default", ACLEntry: "rule 100 allow all traffic from 0.0.0.0/0"}},
			evidence: map[string]any{"network_acl": "acl-default"}},
		{name: "SG admits only a private range", mutate: func(inv *Inventory) { inv.Instances[0].SecurityGroupIDs = []string{"sg-private"} },
			reason: "no security group admits 0.0.0.0/0 to an admin or database port"},
		{name: "SG open on a non-listed port", mutate: func(inv *Inventory) {
			inv.SecurityGroups[0].Ingress = []Permission{perm("tcp", p32(443), p32(443), AnyIPv4)}
		}, reason: "no security group admits 0.0.0.0/0"},
		{name: "SG open over UDP only", mutate: func(inv *Inventory) {
			inv.SecurityGroups[0].Ingress = []Permission{perm("udp", p32(0), p32(65535), AnyIPv4)}
		}, reason: "no security group admits 0.0.0.0/0"},
		{name: "unknown SG ID", mutate: func(inv *Inventory) { inv.Instances[0].SecurityGroupIDs = []string{"sg-gone"} },
			reason: "no security group admits"},
		{name: "one of several groups open", mutate: func(inv *Inventory) { inv.Instances[0].SecurityGroupIDs = []string{"sg-private", "sg-ssh"} },
			exposed: []exposedPort{{Port: 22, Source: AnyIPv4, SecurityGroup: "sg-ssh", SGRule: "tcp 22", NetworkACL: "acl-pub", ACLEntry: "rule 100 allow all traffic from 0.0.0.0/0"}}},
		{name: "database port", mutate: func(inv *Inventory) {
			inv.SecurityGroups[0].Ingress = []Permission{perm("tcp", p32(5432), p32(5432), AnyIPv4)}
		}, exposed: []exposedPort{{Port: 5432, Source: AnyIPv4, SecurityGroup: "sg-ssh", SGRule: "tcp 5432", NetworkACL: "acl-pub", ACLEntry: "rule 100 allow all traffic from 0.0.0.0/0"}}},
		{name: "SG all traffic, NACL admits only 3389", mutate: func(inv *Inventory) {
			inv.SecurityGroups[0].Ingress = []Permission{perm("-1", nil, nil, AnyIPv4)}
			acl(inv, "acl-pub").Entries = []ACLEntry{entry(100, "6", true, AnyIPv4, p32(3389), p32(3389))}
		}, exposed: []exposedPort{{Port: 3389, Source: AnyIPv4, SecurityGroup: "sg-ssh", SGRule: "all traffic", NetworkACL: "acl-pub", ACLEntry: "rule 100 allow tcp 3389 from 0.0.0.0/0"}}},
		{name: "IPv6 path", mutate: func(inv *Inventory) {
			inv.Instances[0].PublicIP = ""
			inv.Instances[0].IPv6Addresses = []string{"2001:db8::10"}
			inv.SecurityGroups[0].Ingress = []Permission{{Protocol: "tcp", FromPort: p32(22), ToPort: p32(22), IPv6Ranges: []string{AnyIPv6}}}
			acl(inv, "acl-pub").Entries = []ACLEntry{entry6(100, "6", true, AnyIPv6, p32(22), p32(22))}
			routeTable(inv, "rtb-pub").Routes = []Route{{DestinationIPv6CIDR: AnyIPv6, Target: "igw-1", State: "active"}}
		}, exposed: []exposedPort{{Port: 22, Source: AnyIPv6, SecurityGroup: "sg-ssh", SGRule: "tcp 22", NetworkACL: "acl-pub", ACLEntry: "rule 100 allow tcp 22 from ::/0"}},
			evidence: map[string]any{"ipv6_addresses": []string{"2001:db8::10"}, "internet_gateway": "igw-1"}},
		{name: "IPv6 address but the SG admits only IPv4", mutate: func(inv *Inventory) {
			inv.Instances[0].PublicIP = ""
			inv.Instances[0].IPv6Addresses = []string{"2001:db8::10"}
		}, reason: "no security group admits ::/0"},
		{name: "IPv6 address but ::/0 routes to an egress-only gateway", mutate: func(inv *Inventory) {
			inv.Instances[0].PublicIP = ""
			inv.Instances[0].IPv6Addresses = []string{"2001:db8::10"}
			inv.SecurityGroups[0].Ingress = []Permission{{Protocol: "tcp", FromPort: p32(22), ToPort: p32(22), IPv6Ranges: []string{AnyIPv6}}}
			routeTable(inv, "rtb-pub").Routes = []Route{{DestinationCIDR: AnyIPv4, Target: "igw-1"}, {DestinationIPv6CIDR: AnyIPv6, Target: "eigw-1"}}
		}, reason: "route table rtb-pub has no ::/0 route to an internet gateway"},
		{name: "IPv6 address but the NACL denies ::/0", mutate: func(inv *Inventory) {
			inv.Instances[0].PublicIP = ""
			inv.Instances[0].IPv6Addresses = []string{"2001:db8::10"}
			inv.SecurityGroups[0].Ingress = []Permission{{Protocol: "tcp", FromPort: p32(22), ToPort: p32(22), IPv6Ranges: []string{AnyIPv6}}}
			acl(inv, "acl-pub").Entries = denySSH
		}, reason: "network ACL acl-pub denies ::/0"},
		{name: "both families exposed on 22, port listed once", mutate: func(inv *Inventory) {
			inv.Instances[0].IPv6Addresses = []string{"2001:db8::10"}
			inv.SecurityGroups[0].Ingress[0].IPv6Ranges = []string{AnyIPv6}
		}, exposed: []exposedPort{
			{Port: 22, Source: AnyIPv4, SecurityGroup: "sg-ssh", SGRule: "tcp 22", NetworkACL: "acl-pub", ACLEntry: "rule 100 allow all traffic from 0.0.0.0/0"},
			{Port: 22, Source: AnyIPv6, SecurityGroup: "sg-ssh", SGRule: "tcp 22", NetworkACL: "acl-pub", ACLEntry: "rule 101 allow all traffic from ::/0"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := exposureInventory()
			tt.mutate(inv)
			f := one(t, evalCheck(t, "ec2-instance-internet-exposed", inv), "i-1")
			if f.ResourceARN != "arn:aws:ec2:eu-west-1:111122223333:instance/i-1" {
				t.Errorf("ARN = %q", f.ResourceARN)
			}
			for k, v := range tt.evidence {
				if !reflect.DeepEqual(f.Evidence[k], v) {
					t.Errorf("evidence[%s] = %#v, want %#v", k, f.Evidence[k], v)
				}
			}
			if tt.exposed == nil {
				if f.Status != model.StatusPass {
					t.Fatalf("status = %s (%s), want PASS; evidence %v", f.Status, f.Message, f.Evidence)
				}
				mustContain(t, "message", f.Message, "instance i-1 is not reachable from the internet on admin or database ports: ")
				reasons, _ := f.Evidence["reasons"].([]string)
				if !strings.Contains(strings.Join(reasons, "\n"), tt.reason) {
					t.Errorf("reasons %q do not include %q", reasons, tt.reason)
				}
				if _, ok := f.Evidence["exposed"]; ok {
					t.Errorf("PASS carries exposed evidence")
				}
				return
			}
			if f.Status != model.StatusFail {
				t.Fatalf("status = %s (%s), want FAIL; evidence %v", f.Status, f.Message, f.Evidence)
			}
			got, _ := f.Evidence["exposed"].([]exposedPort)
			if !reflect.DeepEqual(got, tt.exposed) {
				t.Errorf("exposed =\n%+v\nwant\n%+v", got, tt.exposed)
			}
			var ports []string
			seen := map[int32]bool{}
			for _, e := range tt.exposed {
				if !seen[e.Port] {
					seen[e.Port] = true
					ports = append(ports, strconv.Itoa(int(e.Port)))
				}
			}
			want := "instance i-1 is reachable from the internet on TCP " + strings.Join(ports, ", ")
			if f.Message != want {
				t.Errorf("message = %q, want %q", f.Message, want)
			}
		})
	}
}

func TestInstanceInternetExposedEveryInstance(t *testing.T) {
	inv := exposureInventory()
	inv.Instances = append(inv.Instances, Instance{ID: "i-2", State: "running", VPCID: "vpc-1", SubnetID: "subnet-other", SecurityGroupIDs: []string{"sg-ssh"}})
	got := evalCheck(t, "ec2-instance-internet-exposed", inv)
	if len(got) != 2 || got[0].ResourceID != "i-1" || got[0].Status != model.StatusFail || got[1].ResourceID != "i-2" || got[1].Status != model.StatusPass {
		t.Fatalf("findings = %+v", got)
	}
	if _, ok := got[1].Evidence["name"]; ok {
		t.Error("an unnamed instance must not carry a name")
	}
}

func TestSnapshotPublic(t *testing.T) {
	tests := []struct {
		name      string
		snap      Snapshot
		partition string
		status    model.Status
		msg       string
		evidence  map[string]any
	}{
		{"public", Snapshot{ID: "snap-pub", VolumeID: "vol-1", Public: true}, "aws", model.StatusFail,
			"snapshot snap-pub is restorable by all AWS accounts (createVolumePermission group all)",
			map[string]any{"volume_id": "vol-1", "encrypted": false, "create_volume_permission": "group all"}},
		{"public and shared", Snapshot{ID: "snap-pub", VolumeID: "vol-1", Public: true, SharedWith: []string{"444455556666"}}, "aws", model.StatusFail,
			"restorable by all AWS accounts",
			map[string]any{"volume_id": "vol-1", "encrypted": false, "create_volume_permission": "group all", "shared_with_accounts": []string{"444455556666"}}},
		{"private", Snapshot{ID: "snap-priv", VolumeID: "vol-2", Encrypted: true}, "aws", model.StatusPass,
			"snapshot snap-priv is not public", map[string]any{"volume_id": "vol-2", "encrypted": true}},
		{"shared with an account", Snapshot{ID: "snap-shared", VolumeID: "vol-3", SharedWith: []string{"444455556666"}}, "aws", model.StatusPass,
			"snapshot snap-shared is not public", map[string]any{"volume_id": "vol-3", "encrypted": false, "shared_with_accounts": []string{"444455556666"}}},
		{"permissions unreadable", Snapshot{ID: "snap-err", VolumeID: "vol-4", PermissionsError: "UnauthorizedOperation: You are not authorized"}, "aws", model.StatusError,
			"could not read the snapshot's createVolumePermission: UnauthorizedOperation: You are not authorized",
			map[string]any{"volume_id": "vol-4", "encrypted": false}},
		{"permissions unreadable wins over a stale public flag", Snapshot{ID: "snap-err", PermissionsError: "Throttling", Public: true}, "aws", model.StatusError,
			"could not read", map[string]any{"volume_id": "", "encrypted": false}},
		{"GovCloud ARN", Snapshot{ID: "snap-gov"}, "aws-us-gov", model.StatusPass, "not public", map[string]any{"volume_id": "", "encrypted": false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := &Inventory{AccountID: acct, Region: region, Partition: tt.partition, Snapshots: []Snapshot{tt.snap}}
			f := one(t, evalCheck(t, "ec2-snapshot-public", inv), tt.snap.ID)
			if f.Status != tt.status {
				t.Fatalf("status = %s (%s), want %s", f.Status, f.Message, tt.status)
			}
			mustContain(t, "message", f.Message, tt.msg)
			if !reflect.DeepEqual(f.Evidence, tt.evidence) {
				t.Errorf("evidence = %#v, want %#v", f.Evidence, tt.evidence)
			}
			if want := "arn:" + tt.partition + ":ec2:eu-west-1::snapshot/" + tt.snap.ID; f.ResourceARN != want {
				t.Errorf("ARN = %q, want %q", f.ResourceARN, want)
			}
		})
	}
}

func TestChecksNeedTheParts(t *testing.T) {
	want := map[string]struct{ needs, reads []string }{
		"ec2-sg-open-admin-port":         {[]string{PartSecurityGroups}, []string{PartPrefixLists}},
		"ec2-sg-open-database-port":      {[]string{PartSecurityGroups}, []string{PartPrefixLists}},
		"ec2-sg-open-all-ports":          {[]string{PartSecurityGroups}, []string{PartPrefixLists}},
		"ec2-sg-default-not-restricted":  {[]string{PartSecurityGroups}, nil},
		"ec2-nacl-open-admin-port":       {[]string{PartNetworkACLs}, nil},
		"ec2-instance-internet-exposed":  {[]string{PartInstances, PartRouteTables, PartSecurityGroups, PartNetworkACLs}, []string{PartPrefixLists}},
		"ec2-snapshot-public":            {[]string{PartSnapshots}, []string{PartSnapshotPermissions}},
		"ec2-instance-outside-vpc":       {[]string{PartInstances}, nil},
		"ec2-instance-in-default-vpc":    {[]string{PartInstances, PartVPCs}, nil},
		"ec2-ebs-volume-unencrypted":     {[]string{PartVolumes}, nil},
		"ec2-ebs-default-encryption-off": {[]string{PartEBSDefaults}, nil},
		"ec2-ebs-snapshot-unencrypted":   {[]string{PartSnapshots}, nil},
	}
	checks := Checks()
	if len(checks) != len(want) {
		t.Fatalf("%d checks, want %d", len(checks), len(want))
	}
	for _, c := range checks {
		w, ok := want[c.ID]
		if !ok {
			t.Errorf("unexpected check %s", c.ID)
			continue
		}
		if !reflect.DeepEqual(c.Needs, w.needs) || !reflect.DeepEqual(c.Reads, w.reads) {
			t.Errorf("%s: needs %v reads %v, want %v %v", c.ID, c.Needs, c.Reads, w.needs, w.reads)
		}
	}
}
