package ec2

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/internal/model"
)

// v6 builds an ingress permission from IPv6 sources.
func v6(proto string, from, to *int32, cidrs ...string) Permission {
	return Permission{Protocol: proto, FromPort: from, ToPort: to, IPv6Ranges: cidrs}
}

// plPerm builds an ingress permission from prefix lists.
func plPerm(proto string, from, to *int32, ids ...string) Permission {
	return Permission{Protocol: proto, FromPort: from, ToPort: to, PrefixListIDs: ids}
}

// edgeLists are the prefix lists the edge cases name.
var edgeLists = []PrefixList{
	{ID: "pl-halves", Name: "everyone", OwnerID: acct, AddressFamily: "IPv4", Entries: []string{"0.0.0.0/1", "128.0.0.0/1"}},
	{ID: "pl-low", Name: "low half", OwnerID: acct, AddressFamily: "IPv4", Entries: []string{"0.0.0.0/1"}},
	{ID: "pl-v6", Name: "everyone v6", OwnerID: acct, AddressFamily: "IPv6", Entries: []string{"::/1", "8000::/1"}},
	{ID: "pl-cloudfront", Name: "com.amazonaws.global.cloudfront.origin-facing", OwnerID: "AWS", AddressFamily: "IPv4",
		Entries: []string{"13.124.199.0/24", "130.176.0.0/18", "15.158.0.0/16", "18.68.0.0/16", "204.246.166.0/24"}},
	{ID: "pl-office", Name: "office", OwnerID: acct, AddressFamily: "IPv4", Entries: []string{"198.51.100.0/24"}},
	{ID: "pl-denied", Name: "shared", Error: "UnauthorizedOperation: You are not authorized to perform this operation."},
}

func TestSGChecksJudgeTheUnionOfSources(t *testing.T) {
	const P, F, E = model.StatusPass, model.StatusFail, model.StatusError
	tests := []struct {
		name            string
		ingress         []Permission
		admin, db, all  model.Status
		wantAdminOpened []opened // for a FAIL of the admin check
		wantUnion       string   // together_cover of the first admin opening
	}{
		{name: "halves in one rule", ingress: []Permission{perm("tcp", p32(22), p32(22), "0.0.0.0/1", "128.0.0.0/1")},
			admin: F, db: P, all: P, wantAdminOpened: []opened{{"tcp 22", "0.0.0.0/1, 128.0.0.0/1", []int32{22}}}, wantUnion: AnyIPv4},
		{name: "halves in two rules", ingress: []Permission{perm("tcp", p32(22), p32(22), "0.0.0.0/1"), perm("tcp", p32(20), p32(3389), "128.0.0.0/1")},
			admin: F, db: P, all: P, wantAdminOpened: []opened{{"tcp 22", "0.0.0.0/1", []int32{22}}, {"tcp 20-3389", "128.0.0.0/1", []int32{22}}}, wantUnion: AnyIPv4},
		{name: "halves on different ports", ingress: []Permission{perm("tcp", p32(22), p32(22), "0.0.0.0/1"), perm("tcp", p32(3389), p32(3389), "128.0.0.0/1")},
			admin: P, db: P, all: P},
		{name: "halves over TCP and UDP", ingress: []Permission{perm("tcp", p32(22), p32(22), "0.0.0.0/1"), perm("udp", p32(22), p32(22), "128.0.0.0/1")},
			admin: P, db: P, all: P},
		{name: "one half only", ingress: []Permission{perm("-1", nil, nil, "128.0.0.0/1")}, admin: P, db: P, all: P},
		{name: "all public space, private ranges left out", ingress: []Permission{perm("tcp", p32(22), p32(22),
			"0.0.0.0/5", "8.0.0.0/7", "11.0.0.0/8", "12.0.0.0/6", "16.0.0.0/4", "32.0.0.0/3", "64.0.0.0/2", "128.0.0.0/3",
			"160.0.0.0/5", "168.0.0.0/6", "172.0.0.0/12", "172.32.0.0/11", "172.64.0.0/10", "172.128.0.0/9", "173.0.0.0/8",
			"174.0.0.0/7", "176.0.0.0/4", "192.0.0.0/9", "192.128.0.0/11", "192.160.0.0/13", "192.169.0.0/16",
			"192.170.0.0/15", "192.172.0.0/14", "192.176.0.0/12", "192.192.0.0/10", "193.0.0.0/8", "194.0.0.0/7",
			"196.0.0.0/6", "200.0.0.0/5", "208.0.0.0/4")}, admin: F, db: P, all: P},
		{name: "IPv6 halves", ingress: []Permission{v6("tcp", p32(5432), p32(5432), "::/1", "8000::/1")}, admin: P, db: F, all: P},
		{name: "IPv6 global unicast", ingress: []Permission{v6("-1", nil, nil, "2000::/3")}, admin: F, db: F, all: F,
			wantAdminOpened: []opened{{"all traffic", "2000::/3", []int32{22, 3389}}}},
		{name: "IPv6 ULA only", ingress: []Permission{v6("-1", nil, nil, "fc00::/7")}, admin: P, db: P, all: P},
		{name: "all TCP ports split across rules", ingress: []Permission{perm("tcp", p32(0), p32(1000), AnyIPv4), perm("tcp", p32(1001), p32(65535), AnyIPv4)},
			admin: F, db: F, all: F, wantAdminOpened: []opened{{"tcp 0-1000", AnyIPv4, []int32{22}}, {"tcp 1001-65535", AnyIPv4, []int32{3389}}}},
		{name: "ports and sources split", ingress: []Permission{perm("tcp", p32(1), p32(65535), "0.0.0.0/1"), perm("-1", nil, nil, "128.0.0.0/1")},
			admin: F, db: F, all: F},
		{name: "TCP 1-1000 and UDP 1001-65535 are not all of either", ingress: []Permission{perm("tcp", p32(1), p32(1000), AnyIPv4), perm("udp", p32(1001), p32(65535), AnyIPv4)},
			admin: F, db: P, all: P},
		{name: "prefix list covering the internet", ingress: []Permission{plPerm("tcp", p32(22), p32(22), "pl-halves")},
			admin: F, db: P, all: P, wantAdminOpened: []opened{{"tcp 22", "pl-halves", []int32{22}}}},
		{name: "IPv6 prefix list covering the internet", ingress: []Permission{plPerm("-1", nil, nil, "pl-v6")},
			admin: F, db: F, all: F, wantAdminOpened: []opened{{"all traffic", "pl-v6", []int32{22, 3389}}}},
		{name: "prefix list half plus a CIDR half", ingress: []Permission{{Protocol: "tcp", FromPort: p32(3389), ToPort: p32(3389), IPv4Ranges: []string{"128.0.0.0/1"}, PrefixListIDs: []string{"pl-low"}}},
			admin: F, db: P, all: P, wantAdminOpened: []opened{{"tcp 3389", "128.0.0.0/1, pl-low", []int32{3389}}}, wantUnion: AnyIPv4},
		{name: "AWS-managed CloudFront list is not the internet", ingress: []Permission{plPerm("-1", nil, nil, "pl-cloudfront")}, admin: P, db: P, all: P},
		{name: "office list", ingress: []Permission{plPerm("tcp", p32(22), p32(22), "pl-office")}, admin: P, db: P, all: P},
		{name: "unreadable list on an admin port", ingress: []Permission{plPerm("tcp", p32(22), p32(22), "pl-denied")}, admin: E, db: P, all: P},
		{name: "unreadable list on all traffic", ingress: []Permission{plPerm("-1", nil, nil, "pl-denied")}, admin: E, db: E, all: E},
		{name: "unreadable list, but 0.0.0.0/0 opens the port anyway", ingress: []Permission{plPerm("tcp", p32(22), p32(22), "pl-denied"), perm("tcp", p32(22), p32(22), AnyIPv4)},
			admin: F, db: P, all: P, wantAdminOpened: []opened{{"tcp 22", AnyIPv4, []int32{22}}}},
		{name: "unreadable list on another port", ingress: []Permission{plPerm("tcp", p32(443), p32(443), "pl-denied")}, admin: P, db: P, all: P},
		{name: "list not collected", ingress: []Permission{plPerm("tcp", p32(22), p32(22), "pl-gone")}, admin: E, db: P, all: P},
		{name: "unreadable list on part of the ports, the rest closed", ingress: []Permission{plPerm("tcp", p32(1), p32(1000), "pl-denied")}, admin: E, db: P, all: P},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sg := SecurityGroup{ID: "sg-e", Name: "edge", VPCID: "vpc-1", Ingress: tt.ingress}
			inv := sgInv(sg)
			inv.PrefixLists = edgeLists
			for _, c := range []struct {
				id   string
				want model.Status
			}{{"ec2-sg-open-admin-port", tt.admin}, {"ec2-sg-open-database-port", tt.db}, {"ec2-sg-open-all-ports", tt.all}} {
				f := one(t, evalCheck(t, c.id, inv), "sg-e")
				if f.Status != c.want {
					t.Errorf("%s: status = %s (%s), want %s; evidence %v", c.id, f.Status, f.Message, c.want, f.Evidence)
					continue
				}
				if f.Status == model.StatusError {
					mustContain(t, c.id+" message", f.Message, "could not tell whether security group sg-e (edge) admits the internet", "prefix list pl-")
					if _, ok := f.Evidence["unreadable_prefix_lists"].(map[string]string); !ok {
						t.Errorf("%s: ERROR without unreadable_prefix_lists: %v", c.id, f.Evidence)
					}
				}
			}
			if tt.wantAdminOpened == nil {
				return
			}
			f := one(t, evalCheck(t, "ec2-sg-open-admin-port", inv), "sg-e")
			rules := openRules(t, f)
			if got := summarise(rules); !reflect.DeepEqual(got, tt.wantAdminOpened) {
				t.Errorf("open rules = %+v, want %+v", got, tt.wantAdminOpened)
			}
			if got, _ := rules[0]["together_cover"].(string); got != tt.wantUnion {
				t.Errorf("together_cover = %q, want %q", got, tt.wantUnion)
			}
		})
	}
}

func TestInboundFromInternetByAddress(t *testing.T) {
	tests := []struct {
		name    string
		entries []ACLEntry
		ipv6    bool
		allowed bool
		rule    int32
		entry   string
	}{
		{"deny split into halves before allow all", []ACLEntry{
			entry(50, "6", false, "0.0.0.0/1", p32(22), p32(22)), entry(60, "6", false, "128.0.0.0/1", p32(22), p32(22)), entry(100, "-1", true, AnyIPv4, nil, nil)},
			false, false, 50, "rule 50 deny tcp 22 from 0.0.0.0/1"},
		{"deny of one half before allow all", []ACLEntry{entry(50, "-1", false, "128.0.0.0/1", nil, nil), entry(100, "-1", true, AnyIPv4, nil, nil)},
			false, false, 50, "rule 50 deny all traffic from 128.0.0.0/1"},
		{"deny of private ranges only", []ACLEntry{entry(40, "-1", false, "10.0.0.0/8", nil, nil), entry(41, "-1", false, "192.168.0.0/16", nil, nil), entry(100, "-1", true, AnyIPv4, nil, nil)},
			false, true, 100, "rule 100 allow all traffic from 0.0.0.0/0"},
		{"allow split into halves", []ACLEntry{entry(100, "6", true, "0.0.0.0/1", p32(22), p32(22)), entry(110, "-1", true, "128.0.0.0/1", nil, nil)},
			false, true, 100, "rule 100 allow tcp 22 from 0.0.0.0/1; rule 110 allow all traffic from 128.0.0.0/1 (together 0.0.0.0/0)"},
		{"allow of one half only", []ACLEntry{entry(100, "-1", true, "0.0.0.0/1", nil, nil)},
			false, false, 0, "rule 100 allow all traffic from 0.0.0.0/1 admit only part of 0.0.0.0/0; the rest meets the implicit deny"},
		{"allow a half, then deny all", []ACLEntry{entry(100, "-1", true, "0.0.0.0/1", nil, nil), entry(200, "-1", false, AnyIPv4, nil, nil)},
			false, false, 200, "rule 200 deny all traffic from 0.0.0.0/0"},
		{"halves allowed, later deny shadowed", []ACLEntry{entry(100, "-1", true, "0.0.0.0/1", nil, nil), entry(101, "-1", true, "128.0.0.0/1", nil, nil), entry(200, "6", false, AnyIPv4, p32(22), p32(22))},
			false, true, 100, "rule 100 allow all traffic from 0.0.0.0/1; rule 101 allow all traffic from 128.0.0.0/1 (together 0.0.0.0/0)"},
		// A blocklist (a few addresses denied, then everyone allowed)
		// still admits the internet.
		{"host deny before allow all: a blocklist", []ACLEntry{entry(90, "-1", false, "8.8.8.8/32", nil, nil), entry(100, "-1", true, AnyIPv4, nil, nil)},
			false, true, 100, "rule 100 allow all traffic from 0.0.0.0/0"},
		{"deny of a /7 before allow all: more than a blocklist", []ACLEntry{entry(90, "-1", false, "8.0.0.0/7", nil, nil), entry(100, "-1", true, AnyIPv4, nil, nil)},
			false, false, 90, "rule 90 deny all traffic from 8.0.0.0/7"},
		{"IPv6 deny split", []ACLEntry{entry6(50, "6", false, "::/1", p32(22), p32(22)), entry6(51, "6", false, "8000::/1", p32(22), p32(22)), entry6(100, "-1", true, AnyIPv6, nil, nil)},
			true, false, 50, "rule 50 deny tcp 22 from ::/1"},
		{"IPv6 allow of global unicast", []ACLEntry{entry6(100, "-1", true, "2000::/3", nil, nil)},
			true, true, 100, "rule 100 allow all traffic from 2000::/3"},
		{"IPv6 deny of ULA only", []ACLEntry{entry6(50, "-1", false, "fc00::/7", nil, nil), entry6(100, "-1", true, AnyIPv6, nil, nil)},
			true, true, 100, "rule 100 allow all traffic from ::/0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := InboundFromInternet(NetworkACL{ID: "acl-1", Entries: tt.entries}, 22, tt.ipv6)
			want := ACLDecision{Port: 22, Allowed: tt.allowed, Rule: tt.rule, Entry: tt.entry}
			if got != want {
				t.Errorf("InboundFromInternet =\n%+v, want\n%+v", got, want)
			}
		})
	}
}

func TestNACLAdminPortSplitDeny(t *testing.T) {
	inv := &Inventory{AccountID: acct, Region: region, Partition: "aws", NetworkACLs: []NetworkACL{{ID: "acl-split", VPCID: "vpc-1", Entries: []ACLEntry{
		entry(50, "-1", false, "0.0.0.0/1", nil, nil), entry(60, "-1", false, "128.0.0.0/1", nil, nil),
		entry6(70, "-1", false, "::/1", nil, nil), entry6(80, "-1", false, "8000::/1", nil, nil),
		entry(100, "-1", true, AnyIPv4, nil, nil), entry6(101, "-1", true, AnyIPv6, nil, nil)}}}}
	f := one(t, evalCheck(t, "ec2-nacl-open-admin-port", inv), "acl-split")
	if f.Status != model.StatusPass {
		t.Fatalf("status = %s (%s), want PASS", f.Status, f.Message)
	}
	want := []string{
		"tcp 22 from 0.0.0.0/0: rule 50 deny all traffic from 0.0.0.0/1",
		"tcp 3389 from 0.0.0.0/0: rule 50 deny all traffic from 0.0.0.0/1",
		"tcp 22 from ::/0: rule 70 deny all traffic from ::/1",
		"tcp 3389 from ::/0: rule 70 deny all traffic from ::/1",
	}
	if got := f.Evidence["decisions"]; !reflect.DeepEqual(got, want) {
		t.Errorf("decisions = %#v, want %#v", got, want)
	}
}

// multiNIC turns the exposure inventory's instance into one with two
// interfaces: the primary in subnet-other without a public address, in
// sg-private; the secondary in subnet-pub with an Elastic IP, in sg-ssh.
func multiNIC(inv *Inventory) {
	inst := &inv.Instances[0]
	inst.SubnetID, inst.PublicIP, inst.SecurityGroupIDs = "subnet-other", "", []string{"sg-private"}
	inst.NetworkInterfaces = []NetworkInterface{
		{ID: "eni-primary", DeviceIndex: 0, SubnetID: "subnet-other", VPCID: "vpc-1", SecurityGroupIDs: []string{"sg-private"}},
		{ID: "eni-second", DeviceIndex: 1, SubnetID: "subnet-pub", VPCID: "vpc-1", PublicIPs: []string{"198.51.100.7"}, SecurityGroupIDs: []string{"sg-ssh"}},
	}
}

func TestInstanceExposurePerInterface(t *testing.T) {
	ssh := func(nic string) exposedPort {
		return exposedPort{Interface: nic, Port: 22, Source: AnyIPv4, SecurityGroup: "sg-ssh", SGRule: "tcp 22", NetworkACL: "acl-pub", ACLEntry: "rule 100 allow all traffic from 0.0.0.0/0"}
	}
	tests := []struct {
		name     string
		mutate   func(inv *Inventory)
		status   model.Status
		exposed  []exposedPort // FAIL: evidence exposed; stopped PASS: exposed_if_started
		message  string
		evidence map[string]any
	}{
		{name: "secondary interface with an Elastic IP", mutate: multiNIC, status: model.StatusFail,
			exposed: []exposedPort{ssh("eni-second")}, message: "instance i-1 is reachable from the internet on TCP 22 through eni-second",
			evidence: map[string]any{"network_interface": "eni-second", "public_ip": "198.51.100.7", "route_table": "rtb-pub", "internet_gateway": "igw-1", "subnet_id": "subnet-other"}},
		{name: "groups reported only on the interface", mutate: func(inv *Inventory) {
			inv.Instances[0].SecurityGroupIDs = nil
			inv.Instances[0].NetworkInterfaces = []NetworkInterface{{ID: "eni-1", SubnetID: "subnet-pub", VPCID: "vpc-1", PublicIPs: []string{"203.0.113.10"}, SecurityGroupIDs: []string{"sg-ssh"}}}
		}, status: model.StatusFail, exposed: []exposedPort{ssh("eni-1")}, message: "instance i-1 is reachable from the internet on TCP 22"},
		{name: "primary interface without groups takes the instance's", mutate: func(inv *Inventory) {
			inv.Instances[0].NetworkInterfaces = []NetworkInterface{{ID: "eni-1", SubnetID: "subnet-pub", PublicIPs: []string{"203.0.113.10"}}}
		}, status: model.StatusFail, exposed: []exposedPort{ssh("eni-1")}},
		{name: "the public interface's groups are closed, the open group is on the private one", mutate: func(inv *Inventory) {
			multiNIC(inv)
			nics := inv.Instances[0].NetworkInterfaces
			nics[0].SecurityGroupIDs, nics[1].SecurityGroupIDs = []string{"sg-ssh"}, []string{"sg-private"}
		}, status: model.StatusPass,
			message: "instance i-1 is not reachable from the internet on admin or database ports: eni-primary: no public IPv4 address"},
		{name: "Elastic IP on a secondary private address only", mutate: func(inv *Inventory) {
			multiNIC(inv)
			inv.Instances[0].NetworkInterfaces[1].PublicIPs = []string{"198.51.100.7", "198.51.100.8"}
		}, status: model.StatusFail, exposed: []exposedPort{ssh("eni-second")},
			evidence: map[string]any{"public_ips": []string{"198.51.100.7", "198.51.100.8"}}},
		{name: "IPv6 on the secondary interface", mutate: func(inv *Inventory) {
			multiNIC(inv)
			inv.Instances[0].NetworkInterfaces[1].PublicIPs = nil
			inv.Instances[0].NetworkInterfaces[1].IPv6Addresses = []string{"2600:1f18::10"}
			inv.SecurityGroups[0].Ingress = []Permission{v6("tcp", p32(22), p32(22), "2000::/4", "3000::/4")}
		}, status: model.StatusFail, exposed: []exposedPort{{Interface: "eni-second", Port: 22, Source: "2000::/4, 3000::/4", SecurityGroup: "sg-ssh", SGRule: "tcp 22",
			NetworkACL: "acl-pub", ACLEntry: "rule 101 allow all traffic from ::/0"}}},
		{name: "IPv6 on the secondary interface, ::/0 to an egress-only gateway", mutate: func(inv *Inventory) {
			multiNIC(inv)
			inv.Instances[0].NetworkInterfaces[1].PublicIPs = nil
			inv.Instances[0].NetworkInterfaces[1].IPv6Addresses = []string{"2600:1f18::10"}
			inv.SecurityGroups[0].Ingress = []Permission{v6("tcp", p32(22), p32(22), AnyIPv6)}
			routeTable(inv, "rtb-pub").Routes = []Route{{DestinationCIDR: AnyIPv4, Target: "igw-1"}, {DestinationIPv6CIDR: AnyIPv6, Target: "eigw-1"}}
		}, status: model.StatusPass, message: "eni-primary: no public IPv4 address"},
		{name: "groups split across two groups of one interface", mutate: func(inv *Inventory) {
			inv.SecurityGroups = append(inv.SecurityGroups,
				SecurityGroup{ID: "sg-low", Ingress: []Permission{perm("tcp", p32(22), p32(22), "0.0.0.0/1")}},
				SecurityGroup{ID: "sg-high", Ingress: []Permission{perm("tcp", p32(0), p32(100), "128.0.0.0/1")}})
			inv.Instances[0].SecurityGroupIDs = []string{"sg-low", "sg-high"}
		}, status: model.StatusFail, exposed: []exposedPort{
			{Port: 22, Source: "0.0.0.0/1", SecurityGroup: "sg-low", SGRule: "tcp 22", NetworkACL: "acl-pub", ACLEntry: "rule 100 allow all traffic from 0.0.0.0/0"},
			{Port: 22, Source: "128.0.0.0/1", SecurityGroup: "sg-high", SGRule: "tcp 0-100", NetworkACL: "acl-pub", ACLEntry: "rule 100 allow all traffic from 0.0.0.0/0"}}},
		{name: "NACL deny split into halves", mutate: func(inv *Inventory) {
			acl(inv, "acl-pub").Entries = []ACLEntry{entry(50, "6", false, "0.0.0.0/1", p32(22), p32(22)), entry(60, "6", false, "128.0.0.0/1", p32(22), p32(22)), entry(100, "-1", true, AnyIPv4, nil, nil)}
		}, status: model.StatusPass, message: "network ACL acl-pub denies 0.0.0.0/0 on every port the security groups admit"},
		{name: "prefix list covering the internet", mutate: func(inv *Inventory) {
			inv.PrefixLists = edgeLists
			inv.SecurityGroups[0].Ingress = []Permission{plPerm("tcp", p32(3389), p32(3389), "pl-halves")}
		}, status: model.StatusFail, exposed: []exposedPort{{Port: 3389, Source: "pl-halves", SecurityGroup: "sg-ssh", SGRule: "tcp 3389", NetworkACL: "acl-pub", ACLEntry: "rule 100 allow all traffic from 0.0.0.0/0"}}},
		{name: "CloudFront prefix list", mutate: func(inv *Inventory) {
			inv.PrefixLists = edgeLists
			inv.SecurityGroups[0].Ingress = []Permission{plPerm("-1", nil, nil, "pl-cloudfront")}
		}, status: model.StatusPass, message: "no security group admits 0.0.0.0/0"},
		{name: "unreadable prefix list", mutate: func(inv *Inventory) {
			inv.PrefixLists = edgeLists
			inv.SecurityGroups[0].Ingress = []Permission{plPerm("tcp", p32(22), p32(22), "pl-denied")}
		}, status: model.StatusError, message: "could not tell whether instance i-1 is reachable from the internet on admin or database ports: prefix list pl-denied could not be read (UnauthorizedOperation"},
		{name: "unreadable prefix list, but no public address", mutate: func(inv *Inventory) {
			inv.PrefixLists = edgeLists
			inv.SecurityGroups[0].Ingress = []Permission{plPerm("tcp", p32(22), p32(22), "pl-denied")}
			inv.Instances[0].PublicIP = ""
		}, status: model.StatusPass, message: "no public IPv4 address"},
		{name: "unreadable prefix list, but the NACL denies the port", mutate: func(inv *Inventory) {
			inv.PrefixLists = edgeLists
			inv.SecurityGroups[0].Ingress = []Permission{plPerm("tcp", p32(22), p32(22), "pl-denied")}
			acl(inv, "acl-pub").Entries = []ACLEntry{entry(50, "6", false, AnyIPv4, p32(22), p32(22)), entry(100, "-1", true, AnyIPv4, nil, nil)}
		}, status: model.StatusPass, message: "no security group admits 0.0.0.0/0"},
		{name: "stopped", mutate: func(inv *Inventory) { inv.Instances[0].State = "stopped" }, status: model.StatusPass,
			exposed:  []exposedPort{ssh("")},
			message:  "instance i-1 is stopped: it is not reachable from the internet while it is not running (started with its current addresses, it would be reachable on TCP 22)",
			evidence: map[string]any{"state": "stopped"}},
		{name: "stopped and closed", mutate: func(inv *Inventory) {
			inv.Instances[0].State = "stopped"
			inv.Instances[0].PublicIP = ""
		}, status: model.StatusPass, message: "instance i-1 is stopped: it is not reachable from the internet while it is not running"},
		{name: "stopping", mutate: func(inv *Inventory) { inv.Instances[0].State = "stopping" }, status: model.StatusPass, exposed: []exposedPort{ssh("")},
			message: "instance i-1 is stopping: it is not reachable"},
		{name: "pending is judged", mutate: func(inv *Inventory) { inv.Instances[0].State = "pending" }, status: model.StatusFail, exposed: []exposedPort{ssh("")},
			message: "instance i-1 is reachable from the internet on TCP 22"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := exposureInventory()
			tt.mutate(inv)
			f := one(t, evalCheck(t, "ec2-instance-internet-exposed", inv), "i-1")
			if f.Status != tt.status {
				t.Fatalf("status = %s (%s), want %s; evidence %v", f.Status, f.Message, tt.status, f.Evidence)
			}
			mustContain(t, "message", f.Message, tt.message)
			key := "exposed"
			if tt.status == model.StatusPass {
				key = "exposed_if_started"
			}
			got, _ := f.Evidence[key].([]exposedPort)
			if !reflect.DeepEqual(got, tt.exposed) {
				t.Errorf("%s =\n%+v\nwant\n%+v", key, got, tt.exposed)
			}
			for k, v := range tt.evidence {
				if !reflect.DeepEqual(f.Evidence[k], v) {
					t.Errorf("evidence[%s] = %#v, want %#v", k, f.Evidence[k], v)
				}
			}
			if nics := inv.Instances[0].NetworkInterfaces; len(nics) > 0 {
				per, _ := f.Evidence["network_interfaces"].([]map[string]any)
				if len(per) != len(nics) || per[0]["network_interface"] != nics[0].ID {
					t.Errorf("network_interfaces evidence = %v", f.Evidence["network_interfaces"])
				}
			}
		})
	}
}

func TestInstanceFromAPIReadsEveryInterface(t *testing.T) {
	in := types.Instance{
		InstanceId: aws.String("i-1"), State: &types.InstanceState{Name: types.InstanceStateNameRunning},
		VpcId: aws.String("vpc-1"), SubnetId: aws.String("subnet-a"), PublicIpAddress: aws.String("198.51.100.1"),
		SecurityGroups: []types.GroupIdentifier{{GroupId: aws.String("sg-a")}},
		NetworkInterfaces: []types.InstanceNetworkInterface{
			{ // listed first, attached second
				NetworkInterfaceId: aws.String("eni-b"), SubnetId: aws.String("subnet-b"), VpcId: aws.String("vpc-1"),
				Attachment: &types.InstanceNetworkInterfaceAttachment{DeviceIndex: aws.Int32(1)},
				Groups:     []types.GroupIdentifier{{GroupId: aws.String("sg-b")}, {GroupId: aws.String("sg-c")}},
				PrivateIpAddresses: []types.InstancePrivateIpAddress{
					{PrivateIpAddress: aws.String("10.0.2.10"), Primary: aws.Bool(true)},
					{PrivateIpAddress: aws.String("10.0.2.11"), Association: &types.InstanceNetworkInterfaceAssociation{PublicIp: aws.String("198.51.100.9")}},
				},
				Ipv6Addresses: []types.InstanceIpv6Address{{Ipv6Address: aws.String("2600:1f18::b")}},
			},
			{
				NetworkInterfaceId: aws.String("eni-a"), SubnetId: aws.String("subnet-a"), VpcId: aws.String("vpc-1"),
				Attachment:  &types.InstanceNetworkInterfaceAttachment{DeviceIndex: aws.Int32(0)},
				Association: &types.InstanceNetworkInterfaceAssociation{PublicIp: aws.String("198.51.100.1")},
				Groups:      []types.GroupIdentifier{{GroupId: aws.String("sg-a")}},
				PrivateIpAddresses: []types.InstancePrivateIpAddress{
					{PrivateIpAddress: aws.String("10.0.1.10"), Primary: aws.Bool(true), Association: &types.InstanceNetworkInterfaceAssociation{PublicIp: aws.String("198.51.100.1")}},
				},
			},
		},
	}
	got := instanceFromAPI(in)
	want := Instance{ID: "i-1", State: "running", VPCID: "vpc-1", SubnetID: "subnet-a", PublicIP: "198.51.100.1",
		IPv6Addresses: []string{"2600:1f18::b"}, SecurityGroupIDs: []string{"sg-a"},
		NetworkInterfaces: []NetworkInterface{
			{ID: "eni-a", DeviceIndex: 0, SubnetID: "subnet-a", VPCID: "vpc-1", PublicIPs: []string{"198.51.100.1"}, SecurityGroupIDs: []string{"sg-a"}},
			{ID: "eni-b", DeviceIndex: 1, SubnetID: "subnet-b", VPCID: "vpc-1", PublicIPs: []string{"198.51.100.9"}, IPv6Addresses: []string{"2600:1f18::b"}, SecurityGroupIDs: []string{"sg-b", "sg-c"}},
		}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("instanceFromAPI =\n%+v\nwant\n%+v", got, want)
	}
}

func TestCollectPrefixLists(t *testing.T) {
	plIn := func(id string) types.IpPermission {
		return types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22), PrefixListIds: []types.PrefixListId{{PrefixListId: aws.String(id)}}}
	}
	entries := func(cidrs ...string) []types.PrefixListEntry {
		var out []types.PrefixListEntry
		for _, c := range cidrs {
			out = append(out, types.PrefixListEntry{Cidr: aws.String(c)})
		}
		return out
	}
	api := &fakeAPI{
		groups: []types.SecurityGroup{
			{GroupId: aws.String("sg-1"), GroupName: aws.String("a"), IpPermissions: []types.IpPermission{plIn("pl-paged"), plIn("pl-shared")}},
			{GroupId: aws.String("sg-2"), GroupName: aws.String("b"), IpPermissions: []types.IpPermission{plIn("pl-paged"), plIn("pl-denied")},
				// Egress-only lists are not read: egress does not expose.
				IpPermissionsEgress: []types.IpPermission{plIn("pl-egress")}},
		},
		prefixLists: [][]types.ManagedPrefixList{
			{{PrefixListId: aws.String("pl-paged"), PrefixListName: aws.String("split"), OwnerId: aws.String(acct), AddressFamily: aws.String("IPv4")}},
			{{PrefixListId: aws.String("pl-denied"), PrefixListName: aws.String("denied"), OwnerId: aws.String(acct), AddressFamily: aws.String("IPv4")},
				{PrefixListId: aws.String("pl-egress"), PrefixListName: aws.String("egress"), OwnerId: aws.String(acct), AddressFamily: aws.String("IPv4")},
				{PrefixListId: aws.String("pl-unused"), PrefixListName: aws.String("com.amazonaws.global.cloudfront.origin-facing"), OwnerId: aws.String("AWS"), AddressFamily: aws.String("IPv4")}},
		},
		entries: map[string][][]types.PrefixListEntry{
			"pl-paged":  {entries("0.0.0.0/1"), entries("128.0.0.0/1")},
			"pl-shared": {entries("198.51.100.0/24")},
			"pl-denied": {entries("0.0.0.0/0")},
			"pl-egress": {entries("0.0.0.0/0")},
			"pl-unused": {entries("130.176.0.0/18")},
		},
		denied: map[string]bool{"GetManagedPrefixListEntries pl-denied": true},
	}
	gaps := &check.Gaps{}
	scope := check.Scope{AccountID: acct, Partition: "aws", Region: region, CallConcurrency: 2}
	inv := collect(context.Background(), api, scope, gaps)
	want := []PrefixList{
		{ID: "pl-paged", Name: "split", OwnerID: acct, AddressFamily: "IPv4", Entries: []string{"0.0.0.0/1", "128.0.0.0/1"}},
		// Not described (shared from another account and not listed): read by ID.
		{ID: "pl-shared", Entries: []string{"198.51.100.0/24"}},
		{ID: "pl-denied", Name: "denied", OwnerID: acct, AddressFamily: "IPv4", Error: "UnauthorizedOperation: You are not authorized to perform this operation."},
	}
	if !reflect.DeepEqual(inv.PrefixLists, want) {
		t.Errorf("prefix lists =\n%+v\nwant\n%+v", inv.PrefixLists, want)
	}
	if list := gaps.List(); len(list) != 1 || list[0].Part != PartPrefixLists || list[0].Operation != "GetManagedPrefixListEntries" || list[0].Resource != "pl-denied" {
		t.Errorf("gaps = %+v", list)
	}
	calls := strings.Join(api.calls, ",")
	for _, c := range []string{"pl-egress", "pl-unused"} {
		if strings.Contains(calls, c) {
			t.Errorf("read entries of %s, which no ingress rule names: %s", c, calls)
		}
	}
	if n := strings.Count(calls, "DescribeManagedPrefixLists"); n != 2 {
		t.Errorf("DescribeManagedPrefixLists called %d times, want 2 (two pages): %s", n, calls)
	}
	if n := strings.Count(calls, "GetManagedPrefixListEntries pl-paged"); n != 2 {
		t.Errorf("entries of pl-paged read %d times, want 2 (two pages): %s", n, calls)
	}

	// The checks over it: sg-1 is open through pl-paged; sg-2 too (pl-paged
	// opens 22 whatever pl-denied holds).
	results, _ := scanWith(api, "ec2-sg-open-admin-port")
	for _, r := range results {
		if r.Status != model.StatusFail {
			t.Errorf("%s: %s (%s), want FAIL", r.ResourceID, r.Status, r.Message)
		}
	}

	// A description that fails does not stop the entries being read by ID.
	api.denied = map[string]bool{"DescribeManagedPrefixLists": true}
	api.calls = nil
	gaps = &check.Gaps{}
	inv = collect(context.Background(), api, scope, gaps)
	if len(inv.PrefixLists) != 3 || inv.PrefixLists[0].Name != "" || len(inv.PrefixLists[0].Entries) != 2 || inv.PrefixLists[2].Error != "" {
		t.Errorf("prefix lists without descriptions = %+v", inv.PrefixLists)
	}
	if g, ok := gaps.Part(PartPrefixLists); !ok || g.Operation != "DescribeManagedPrefixLists" {
		t.Errorf("gap = %+v, %v", g, ok)
	}
}
