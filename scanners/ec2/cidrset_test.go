package ec2

import (
	"reflect"
	"testing"
)

func set(t *testing.T, cidrs ...string) AddrSet {
	t.Helper()
	s, bad := ParseAddrSet(cidrs...)
	if len(bad) > 0 {
		t.Fatalf("bad CIDRs %v", bad)
	}
	return s
}

func TestParseAddrSet(t *testing.T) {
	tests := []struct {
		name  string
		cidrs []string
		want  string
	}{
		{"empty", nil, ""},
		{"/0", []string{"0.0.0.0/0"}, "0.0.0.0-255.255.255.255"},
		{"IPv6 /0", []string{"::/0"}, "::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
		{"host route", []string{"203.0.113.10/32"}, "203.0.113.10"},
		{"bare address is a host route", []string{"203.0.113.10"}, "203.0.113.10"},
		{"IPv6 host route", []string{"2001:db8::1/128"}, "2001:db8::1"},
		{"host bits ignored", []string{"10.1.2.3/8"}, "10.0.0.0-10.255.255.255"},
		{"adjacent halves merge", []string{"0.0.0.0/1", "128.0.0.0/1"}, "0.0.0.0-255.255.255.255"},
		{"adjacent in any order", []string{"10.0.1.0/24", "10.0.0.0/24"}, "10.0.0.0-10.0.1.255"},
		{"adjacent but not aligned", []string{"10.0.0.0/24", "10.0.1.0/25", "10.0.1.128/25"}, "10.0.0.0-10.0.1.255"},
		{"overlap: inner swallowed", []string{"10.0.0.0/8", "10.1.0.0/16"}, "10.0.0.0-10.255.255.255"},
		{"overlap: outer after inner", []string{"10.1.0.0/16", "10.0.0.0/8"}, "10.0.0.0-10.255.255.255"},
		{"duplicates", []string{"10.0.0.0/8", "10.0.0.0/8"}, "10.0.0.0-10.255.255.255"},
		{"gap stays", []string{"10.0.0.0/24", "10.0.2.0/24"}, "10.0.0.0-10.0.0.255, 10.0.2.0-10.0.2.255"},
		{"one address short of adjacent", []string{"10.0.0.0/32", "10.0.0.2/32"}, "10.0.0.0, 10.0.0.2"},
		{"families never merge", []string{"255.255.255.255/32", "::/128"}, "255.255.255.255, ::"},
		{"mixed families sort IPv4 first", []string{"2001:db8::/32", "10.0.0.0/8"}, "10.0.0.0-10.255.255.255, 2001:db8::-2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"},
		{"IPv6 halves", []string{"8000::/1", "::/1"}, "::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
		{"IPv4-mapped IPv6 is IPv4", []string{"::ffff:10.0.0.0/104"}, "10.0.0.0-10.255.255.255"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := set(t, tt.cidrs...).String(); got != tt.want {
				t.Errorf("set %v = %q, want %q", tt.cidrs, got, tt.want)
			}
		})
	}
	s, bad := ParseAddrSet("10.0.0.0/8", "sg-123", "pl-1", "10.0.0.0/33", "")
	if !reflect.DeepEqual(bad, []string{"sg-123", "pl-1", "10.0.0.0/33", ""}) || s.String() != "10.0.0.0-10.255.255.255" {
		t.Errorf("ParseAddrSet with bad blocks = %v, %v", s, bad)
	}
}

func TestAddrSetMinus(t *testing.T) {
	tests := []struct {
		name      string
		from, cut []string
		want      string
	}{
		{"nothing cut", []string{"10.0.0.0/8"}, nil, "10.0.0.0-10.255.255.255"},
		{"from empty", nil, []string{"10.0.0.0/8"}, ""},
		{"cut all", []string{"10.0.0.0/8"}, []string{"0.0.0.0/0"}, ""},
		{"cut itself", []string{"10.0.0.0/8"}, []string{"10.0.0.0/8"}, ""},
		{"hole in the middle", []string{"0.0.0.0/0"}, []string{"10.0.0.0/8"}, "0.0.0.0-9.255.255.255, 11.0.0.0-255.255.255.255"},
		{"cut the low end", []string{"10.0.0.0/8"}, []string{"10.0.0.0/9"}, "10.128.0.0-10.255.255.255"},
		{"cut the high end", []string{"10.0.0.0/8"}, []string{"10.128.0.0/9"}, "10.0.0.0-10.127.255.255"},
		{"cut swallowing the range", []string{"10.0.0.0/8"}, []string{"8.0.0.0/6"}, ""},
		{"cut overlapping the start", []string{"11.0.0.0/8", "12.0.0.0/8"}, []string{"8.0.0.0/6"}, "12.0.0.0-12.255.255.255"},
		{"host route hole", []string{"10.0.0.0/30"}, []string{"10.0.0.1/32"}, "10.0.0.0, 10.0.0.2-10.0.0.3"},
		{"several holes, several ranges", []string{"10.0.0.0/24", "10.0.2.0/24"}, []string{"10.0.0.0/26", "10.0.0.128/26", "10.0.2.64/26"},
			"10.0.0.64-10.0.0.127, 10.0.0.192-10.0.0.255, 10.0.2.0-10.0.2.63, 10.0.2.128-10.0.2.255"},
		{"cut spanning two ranges", []string{"10.0.0.0/24", "10.0.2.0/24"}, []string{"10.0.0.128/25", "10.0.1.0/24", "10.0.2.0/25"},
			"10.0.0.0-10.0.0.127, 10.0.2.128-10.0.2.255"},
		{"other family untouched", []string{"10.0.0.0/8", "2001:db8::/32"}, []string{"::/0"}, "10.0.0.0-10.255.255.255"},
		{"IPv6 hole", []string{"::/0"}, []string{"2000::/3"}, "::-1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff, 4000::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
		{"cut ending at the last address", []string{"0.0.0.0/0"}, []string{"128.0.0.0/1"}, "0.0.0.0-127.255.255.255"},
		{"cut starting at the first address", []string{"0.0.0.0/0"}, []string{"0.0.0.0/1"}, "128.0.0.0-255.255.255.255"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := set(t, tt.from...).Minus(set(t, tt.cut...)).String(); got != tt.want {
				t.Errorf("%v minus %v = %q, want %q", tt.from, tt.cut, got, tt.want)
			}
		})
	}
}

func TestAddrSetUnionIntersectCovers(t *testing.T) {
	a, b := set(t, "10.0.0.0/9"), set(t, "10.128.0.0/9", "192.168.0.0/16")
	if got := a.Union(b).String(); got != "10.0.0.0-10.255.255.255, 192.168.0.0-192.168.255.255" {
		t.Errorf("union = %q", got)
	}
	if got := set(t, "10.0.0.0/8").Intersect(set(t, "10.1.0.0/16", "11.0.0.0/8")).String(); got != "10.1.0.0-10.1.255.255" {
		t.Errorf("intersect = %q", got)
	}
	if !set(t, "10.0.0.0/8").Covers(set(t, "10.1.0.0/16", "10.255.255.255/32")) {
		t.Error("10/8 should cover its subnets")
	}
	if set(t, "10.0.0.0/8").Covers(set(t, "10.0.0.0/7")) {
		t.Error("10/8 does not cover 10/7")
	}
	if !(AddrSet{}).Covers(AddrSet{}) || (AddrSet{}).Covers(set(t, "10.0.0.0/32")) {
		t.Error("empty set coverage")
	}
	// Union must not alias its operands' storage.
	x := set(t, "10.0.0.0/24", "10.0.2.0/24")
	_ = x.Union(set(t, "10.0.1.0/24"))
	if x.String() != "10.0.0.0-10.0.0.255, 10.0.2.0-10.0.2.255" {
		t.Errorf("Union changed its receiver: %s", x)
	}
}

func TestCoversInternet(t *testing.T) {
	tests := []struct {
		name  string
		cidrs []string
		ipv6  bool
		want  bool
	}{
		{"0.0.0.0/0", []string{"0.0.0.0/0"}, false, true},
		{"two halves", []string{"0.0.0.0/1", "128.0.0.0/1"}, false, true},
		{"one half", []string{"0.0.0.0/1"}, false, false},
		{"the other half", []string{"128.0.0.0/1"}, false, false},
		{"four quarters", []string{"0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2", "192.0.0.0/2"}, false, true},
		{"everything but private ranges", []string{"0.0.0.0/5", "8.0.0.0/7", "11.0.0.0/8", "12.0.0.0/6", "16.0.0.0/4", "32.0.0.0/3",
			"64.0.0.0/3", "96.0.0.0/4", "112.0.0.0/5", "120.0.0.0/6", "124.0.0.0/7", "126.0.0.0/8", "128.0.0.0/3",
			"160.0.0.0/5", "168.0.0.0/6", "172.0.0.0/12", "172.32.0.0/11", "172.64.0.0/10", "172.128.0.0/9",
			"173.0.0.0/8", "174.0.0.0/7", "176.0.0.0/4", "192.0.0.0/9", "192.128.0.0/11", "192.160.0.0/13",
			"192.169.0.0/16", "192.170.0.0/15", "192.172.0.0/14", "192.176.0.0/12", "192.192.0.0/10", "193.0.0.0/8",
			"194.0.0.0/7", "196.0.0.0/6", "200.0.0.0/5", "208.0.0.0/4"}, false, true},
		{"halves, quarters and eighths, reserved space included", []string{"0.0.0.0/1", "128.0.0.0/2", "192.0.0.0/3", "224.0.0.0/3"}, false, true},
		{"missing 8.8.8.8: a blocklist still admits the internet", []string{"0.0.0.0/5", "8.0.0.0/13", "8.8.0.0/21", "8.8.8.0/29", "8.8.8.9/32", "8.8.8.10/31",
			"8.8.8.12/30", "8.8.8.16/28", "8.8.8.32/27", "8.8.8.64/26", "8.8.8.128/25", "8.8.9.0/24", "8.8.10.0/23",
			"8.8.12.0/22", "8.8.16.0/20", "8.8.32.0/19", "8.8.64.0/18", "8.8.128.0/17", "8.9.0.0/16", "8.10.0.0/15",
			"8.12.0.0/14", "8.16.0.0/12", "8.32.0.0/11", "8.64.0.0/10", "8.128.0.0/9", "9.0.0.0/8", "10.0.0.0/7",
			"12.0.0.0/6", "16.0.0.0/4", "32.0.0.0/3", "64.0.0.0/2", "128.0.0.0/1"}, false, true},
		{"missing 8.0.0.0/7: more than 1/256 of the internet left out", []string{"0.0.0.0/5", "10.0.0.0/7", "12.0.0.0/6",
			"16.0.0.0/4", "32.0.0.0/3", "64.0.0.0/2", "128.0.0.0/1"}, false, false},
		{"missing 8.0.0.0/9 alone: within the blocklist allowance", []string{"0.0.0.0/5", "8.128.0.0/9", "9.0.0.0/8", "10.0.0.0/7", "12.0.0.0/6",
			"16.0.0.0/4", "32.0.0.0/3", "64.0.0.0/2", "128.0.0.0/1"}, false, true},
		{"private ranges only", []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"}, false, false},
		{"IPv6 blocks do not cover IPv4", []string{"::/0"}, false, false},
		{"::/0", []string{"::/0"}, true, true},
		{"IPv6 halves", []string{"::/1", "8000::/1"}, true, true},
		{"::/1 holds all global unicast", []string{"::/1"}, true, true},
		{"2000::/3", []string{"2000::/3"}, true, true},
		{"2000::/4 is half of it", []string{"2000::/4"}, true, false},
		{"ULA and link-local only", []string{"fc00::/7", "fe80::/10"}, true, false},
		{"IPv4 blocks do not cover IPv6", []string{"0.0.0.0/0"}, true, false},
		{"empty", nil, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := coversInternet(set(t, tt.cidrs...), tt.ipv6); got != tt.want {
				t.Errorf("coversInternet(%v, ipv6=%v) = %v, want %v", tt.cidrs, tt.ipv6, got, tt.want)
			}
		})
	}
}
