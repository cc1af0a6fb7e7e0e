package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// loadDay is the day the tests load their files: waivers may expire up to
// 365 days later, 2027-01-15.
var loadDay = time.Date(2026, 1, 15, 17, 30, 0, 0, time.UTC)

var knownChecks = map[string]bool{"ec2-sg-open-admin-port": true, "s3-bucket-public": true}

func mustDate(s string) time.Time {
	t, err := time.Parse(DateLayout, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestParseWaivers(t *testing.T) {
	cfg, err := Parse([]byte(`credentials:
  unused_days: 60
waivers:
  - id: legacy-bastion
    check: ec2-sg-open-admin-port
    resources: [sg-0123, "arn:aws:ec2:*:111111111111:security-group/*"]
    accounts: ["111111111111", "2222*"]
    regions: [us-east-1, "eu-*", global]
    reason: "Vendor access: until the migration"
    owner: platform@example.com
    ticket: 4711
    approved_by: ciso@example.com
    expires: 2027-01-15
  - check: s3-bucket-public
    resources:
      - "arn:aws:s3:::site-*"
    reason: website
    owner: web
    expires: "2020-02-29"
  - check: s3-bucket-public
    resources: ["*"]
    reason: >
      folded
      text
    owner: web
    expires: 2026-01-15
`), Options{Checks: knownChecks, Now: loadDay})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := []Waiver{
		{ID: "legacy-bastion", Check: "ec2-sg-open-admin-port", Resources: []string{"sg-0123", "arn:aws:ec2:*:111111111111:security-group/*"},
			Accounts: []string{"111111111111", "2222*"}, Regions: []string{"us-east-1", "eu-*", "global"},
			Reason: "Vendor access: until the migration", Owner: "platform@example.com", Ticket: "4711", ApprovedBy: "ciso@example.com",
			Expires: mustDate("2027-01-15"), Line: 4},
		// No id: its position. An expiry in the past is allowed (the
		// scan lists the waiver as expired).
		{ID: "waiver-2", Check: "s3-bucket-public", Resources: []string{"arn:aws:s3:::site-*"}, Reason: "website", Owner: "web",
			Expires: mustDate("2020-02-29"), Line: 14},
		{ID: "waiver-3", Check: "s3-bucket-public", Resources: []string{"*"}, Reason: "folded text", Owner: "web",
			Expires: mustDate("2026-01-15"), Line: 20},
	}
	if !reflect.DeepEqual(cfg.Waivers, want) {
		t.Errorf("waivers:\n got %+v\nwant %+v", cfg.Waivers, want)
	}
	if cfg.Credentials.UnusedDays != 60 || cfg.WaiversPolicy.MaxDays != DefaultWaiverMaxDays {
		t.Errorf("thresholds and policy: %+v", cfg)
	}
	if _, ok := cfg.Thresholds()["waivers_policy.max_days"]; ok {
		t.Error("the waivers policy is not a check threshold")
	}
	if !cfg.Waivers[1].Expired(loadDay) || cfg.Waivers[2].Expired(loadDay) || cfg.Waivers[2].ExpiresOn() != "2026-01-15" {
		t.Errorf("expiry: the past one is expired, the one expiring today is not")
	}
	if cfg.Waivers[2].Expired(time.Date(2026, 1, 15, 23, 59, 59, 0, time.UTC)) || !cfg.Waivers[2].Expired(time.Date(2026, 1, 16, 0, 0, 0, 0, time.UTC)) {
		t.Error("a waiver is live to the end of its expiry day, UTC")
	}
	// 2026-01-16 00:30 in New York is 2026-01-16 05:30 UTC: the day after.
	if !cfg.Waivers[2].Expired(time.Date(2026, 1, 16, 0, 30, 0, 0, time.FixedZone("EST", -5*3600))) {
		t.Error("expiry is judged in UTC")
	}

	// A policy that allows longer waivers, given after them.
	long := "waivers:\n  - {check: s3-bucket-public, resources: [x], reason: r, owner: o, expires: 2028-01-15}\nwaivers_policy:\n  max_days: 730\n"
	if cfg, err := Parse([]byte(long), Options{Checks: knownChecks, Now: loadDay}); err != nil || len(cfg.Waivers) != 1 || cfg.WaiversPolicy.MaxDays != 730 {
		t.Errorf("max_days 730: %+v, %v", cfg, err)
	}
	// Without a catalogue (Options.Checks nil), any check ID is taken.
	if cfg, err := Parse([]byte("waivers:\n  - {check: any-check, resources: [x], reason: r, owner: o, expires: 2026-02-01}\n"), Options{Now: loadDay}); err != nil || cfg.Waivers[0].Check != "any-check" {
		t.Errorf("no catalogue: %+v, %v", cfg, err)
	}
	// An empty list, or none, is no waivers.
	for _, doc := range []string{"waivers:\n", "waivers: []\n"} {
		if cfg, err := Parse([]byte(doc)); err != nil || cfg.Waivers != nil {
			t.Errorf("%q: %+v, %v", doc, cfg, err)
		}
	}
}

// TestLoadRejectsBadWaivers: every malformed waiver is an error naming the
// file, the line and the field.
func TestLoadRejectsBadWaivers(t *testing.T) {
	const ok = "    resources: [sg-1]\n    reason: r\n    owner: o\n"
	tests := []struct {
		name, yaml string
		want       []string // each line of the error, after "FILE:"
	}{
		{"unknown check ID", "waivers:\n  - check: ec2-sg-open-ssh\n" + ok + "    expires: 2026-06-01\n",
			[]string{`2: waivers[0].check: unknown check ID "ec2-sg-open-ssh" (see posture checks)`}},
		{"no expiry", "waivers:\n  - check: s3-bucket-public\n" + ok,
			[]string{"2: waivers[0].expires: missing required field"}},
		{"empty expiry", "waivers:\n  - check: s3-bucket-public\n" + ok + "    expires:\n",
			[]string{"6: waivers[0].expires: must not be empty"}},
		{"malformed date", "waivers:\n  - check: s3-bucket-public\n" + ok + "    expires: next year\n",
			[]string{`6: waivers[0].expires: want a date YYYY-MM-DD, got "next year"`}},
		{"impossible date", "waivers:\n  - check: s3-bucket-public\n" + ok + "    expires: 2026-02-30\n",
			[]string{`6: waivers[0].expires: want a date YYYY-MM-DD, got "2026-02-30"`}},
		{"date without zero padding", "waivers:\n  - check: s3-bucket-public\n" + ok + "    expires: 2026-2-3\n",
			[]string{`6: waivers[0].expires: want a date YYYY-MM-DD, got "2026-2-3"`}},
		{"timestamp", "waivers:\n  - check: s3-bucket-public\n" + ok + "    expires: 2026-02-03T00:00:00Z\n",
			[]string{`6: waivers[0].expires: want a date YYYY-MM-DD, got "2026-02-03T00:00:00Z"`}},
		{"expiry beyond the maximum", "waivers:\n  - check: s3-bucket-public\n" + ok + "    expires: 2027-01-16\n",
			[]string{"6: waivers[0].expires: 2027-01-16 is 366 days ahead, more than waivers_policy.max_days (365, latest 2027-01-15)"}},
		{"expiry beyond a lower maximum", "waivers_policy:\n  max_days: 30\nwaivers:\n  - check: s3-bucket-public\n" + ok + "    expires: 2026-02-15\n",
			[]string{"8: waivers[0].expires: 2026-02-15 is 31 days ahead, more than waivers_policy.max_days (30, latest 2026-02-14)"}},
		{"unknown field", "waivers:\n  - check: s3-bucket-public\n" + ok + "    expiry: 2026-06-01\n",
			[]string{"6: waivers[0].expiry: unknown field (allowed: id, check, resources, accounts, regions, reason, owner, ticket, expires, approved_by)",
				"2: waivers[0].expires: missing required field"}},
		{"duplicate ids", "waivers:\n  - id: a\n    check: s3-bucket-public\n" + ok + "    expires: 2026-06-01\n" +
			"  - id: a\n    check: s3-bucket-public\n" + ok + "    expires: 2026-06-01\n",
			[]string{`8: waivers[1].id: duplicate waiver id "a" (first at line 2)`}},
		{"an id equal to another's default", "waivers:\n  - check: s3-bucket-public\n" + ok + "    expires: 2026-06-01\n" +
			"  - id: waiver-1\n    check: s3-bucket-public\n" + ok + "    expires: 2026-06-01\n",
			[]string{`7: waivers[1].id: duplicate waiver id "waiver-1" (first at line 2)`}},
		{"empty resources list", "waivers:\n  - check: s3-bucket-public\n    resources: []\n    reason: r\n    owner: o\n    expires: 2026-06-01\n",
			[]string{"3: waivers[0].resources: the list is empty"}},
		{"resources not a list", "waivers:\n  - check: s3-bucket-public\n    resources: sg-1\n    reason: r\n    owner: o\n    expires: 2026-06-01\n",
			[]string{`3: waivers[0].resources: want a list, e.g. [sg-0123, "arn:aws:s3:::logs-*"]`}},
		{"empty resource", "waivers:\n  - check: s3-bucket-public\n    resources: [sg-1, \"\"]\n    reason: r\n    owner: o\n    expires: 2026-06-01\n",
			[]string{"3: waivers[0].resources[1]: want a non-empty text"}},
		{"no resources, reason or owner", "waivers:\n  - check: s3-bucket-public\n    expires: 2026-06-01\n",
			[]string{"2: waivers[0].resources: missing required field", "2: waivers[0].reason: missing required field",
				"2: waivers[0].owner: missing required field"}},
		{"empty owner", "waivers:\n  - check: s3-bucket-public\n    resources: [x]\n    reason: r\n    owner: \" \"\n    expires: 2026-06-01\n",
			[]string{"5: waivers[0].owner: must not be empty"}},
		{"no check", "waivers:\n  - resources: [x]\n    reason: r\n    owner: o\n    expires: 2026-06-01\n",
			[]string{"2: waivers[0].check: missing required field"}},
		{"bad account", "waivers:\n  - check: s3-bucket-public\n" + ok + "    accounts: [\"12345\", \"1111*\", prod]\n    expires: 2026-06-01\n",
			[]string{`6: waivers[0].accounts[0]: "12345" is not a 12-digit account ID or a glob of one`,
				`6: waivers[0].accounts[2]: "prod" is not a 12-digit account ID or a glob of one`}},
		{"bad region", "waivers:\n  - check: s3-bucket-public\n" + ok + "    regions: [US East]\n    expires: 2026-06-01\n",
			[]string{`6: waivers[0].regions[0]: "US East" is not a region name (or global) or a glob of one`}},
		{"bad id", "waivers:\n  - id: my waiver\n    check: s3-bucket-public\n" + ok + "    expires: 2026-06-01\n",
			[]string{`2: waivers[0].id: "my waiver" is not an id (letters, digits, '.', '_', ':', '/', '-')`}},
		{"reason not text", "waivers:\n  - check: s3-bucket-public\n    resources: [x]\n    reason: [a]\n    owner: o\n    expires: 2026-06-01\n",
			[]string{"4: waivers[0].reason: want a text value"}},
		{"field given twice", "waivers:\n  - check: s3-bucket-public\n" + ok + "    owner: p\n    expires: 2026-06-01\n",
			[]string{"6: waivers[0].owner: field given twice"}},
		{"waivers not a list", "waivers:\n  check: s3-bucket-public\n",
			[]string{"2: waivers: want a list of waivers"}},
		{"waiver not a mapping", "waivers:\n  - s3-bucket-public\n",
			[]string{"2: waivers[0]: want a mapping with the fields check, resources, reason, owner, expires"}},
		{"waivers twice", "waivers: []\nwaivers: []\n",
			[]string{"2: waivers: field given twice"}},
		{"every bad waiver is reported", "waivers:\n  - check: nope\n" + ok + "    expires: 2026-06-01\n  - check: s3-bucket-public\n" + ok + "    expires: soon\n",
			[]string{`2: waivers[0].check: unknown check ID "nope" (see posture checks)`, `11: waivers[1].expires: want a date YYYY-MM-DD, got "soon"`}},
	}
	dir := t.TempDir()
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, fmt.Sprintf("w%d.yaml", i))
			if err := os.WriteFile(path, []byte(tt.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Load(path, Options{Checks: knownChecks, Now: loadDay})
			if err == nil {
				t.Fatalf("Load accepted:\n%s", tt.yaml)
			}
			var want []string
			for _, w := range tt.want {
				want = append(want, path+":"+w)
			}
			got := strings.Split(err.Error(), "\n")
			for j := range got {
				// The expiry message goes on to say what to do.
				if j < len(want) && strings.HasPrefix(got[j], want[j]) {
					got[j] = want[j]
				}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("error:\n%s\nwant:\n%s", err, strings.Join(want, "\n"))
			}
			var pe *ParseError
			if !errors.As(err, &pe) || pe.File != path || pe.Line == 0 || pe.Field == "" {
				t.Errorf("error is not a *ParseError with file, line and field: %#v", err)
			}
		})
	}

	// Through Parse (no file), the line leads.
	_, err := Parse([]byte("waivers:\n  - check: s3-bucket-public\n"+ok), Options{Now: loadDay})
	if err == nil || err.Error() != "line 2: waivers[0].expires: missing required field" {
		t.Errorf("Parse: %v", err)
	}
	// The policy is checked like a threshold.
	_, err = Parse([]byte("waivers_policy:\n  max_days: 0\n"))
	if err == nil || err.Error() != "waivers_policy.max_days: must be a positive integer, got 0" {
		t.Errorf("max_days 0: %v", err)
	}
	_, err = Parse([]byte("waivers_policy:\n  max_day: 10\n"))
	if err == nil || err.Error() != "waivers_policy.max_day (line 2): unknown field; known: max_days" {
		t.Errorf("max_day: %v", err)
	}
	_, err = Parse([]byte("waiver:\n  - x\n"))
	if err == nil || err.Error() != "waiver (line 1): unknown field; known: credentials, waivers, waivers_policy" {
		t.Errorf("waiver: %v", err)
	}
}

// TestExampleWaiversAreValid: the commented-out waivers of the example file
// load once uncommented.
func TestExampleWaiversAreValid(t *testing.T) {
	data, err := os.ReadFile("../../posture.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	start := -1
	for i, l := range lines {
		if l == "# waivers:" {
			start = i
		}
	}
	if start < 0 {
		t.Fatal("the example has no commented waivers: block")
	}
	for i := start; i < len(lines); i++ {
		lines[i] = strings.TrimPrefix(strings.TrimPrefix(lines[i], "#"), " ")
	}
	cfg, err := Parse([]byte(strings.Join(lines, "\n")), Options{Checks: knownChecks, Now: mustDate("2026-06-01")})
	if err != nil {
		t.Fatalf("uncommented example: %v", err)
	}
	if len(cfg.Waivers) != 2 || cfg.Waivers[0].ID != "legacy-bastion" || cfg.Waivers[1].ID != "waiver-2" ||
		cfg.Waivers[0].ApprovedBy == "" || cfg.Waivers[0].Ticket == "" || len(cfg.Waivers[0].Accounts) != 1 || len(cfg.Waivers[0].Regions) != 1 {
		t.Errorf("example waivers: %+v", cfg.Waivers)
	}
}

// TestREADMEWaiverExampleIsValid: the waiver example of README.md loads.
func TestREADMEWaiverExampleIsValid(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	i := strings.Index(text, "### Waivers (accepted exceptions)")
	if i < 0 {
		t.Fatal("README.md has no waivers section")
	}
	text = text[i:]
	start := strings.Index(text, "```yaml\n")
	end := strings.Index(text[start+8:], "```")
	if start < 0 || end < 0 {
		t.Fatal("the waivers section has no YAML example")
	}
	cfg, err := Parse([]byte(text[start+8:start+8+end]), Options{Checks: knownChecks, Now: mustDate("2026-06-01")})
	if err != nil {
		t.Fatalf("README example: %v", err)
	}
	if len(cfg.Waivers) != 1 || cfg.Waivers[0].ID != "legacy-bastion" || len(cfg.Waivers[0].Resources) != 2 || cfg.WaiversPolicy.MaxDays != 365 {
		t.Errorf("README example: %+v", cfg)
	}
}
