package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/posture-dev/posture/internal/emulator/emutest"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/reports"
)

// TestScanRejectsBadWaivers: a malformed waiver stops `posture scan` with
// exit 2 and a message naming the file, the line and the field, before any
// AWS call.
func TestScanRejectsBadWaivers(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1") // never reached
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	dir := t.TempDir()
	soon := time.Now().UTC().AddDate(0, 0, 30).Format("2006-01-02")
	tooFar := time.Now().UTC().AddDate(0, 0, 400).Format("2006-01-02")
	const head = "waivers:\n  - id: w1\n"
	const body = "    resources: [sg-1]\n    reason: vendor access\n    owner: ops\n"
	cases := []struct {
		name, yaml, want string
	}{
		{"unknown check ID", head + "    check: ec2-sg-open-ssh\n" + body + "    expires: " + soon + "\n",
			`:3: waivers[0].check: unknown check ID "ec2-sg-open-ssh"`},
		{"no expiry", head + "    check: ec2-sg-open-admin-port\n" + body, ":2: waivers[0].expires: missing required field"},
		{"malformed date", head + "    check: ec2-sg-open-admin-port\n" + body + "    expires: 31/12/2026\n",
			`:7: waivers[0].expires: want a date YYYY-MM-DD, got "31/12/2026"`},
		{"unknown field", head + "    check: ec2-sg-open-admin-port\n" + body + "    expires: " + soon + "\n    approver: me\n",
			":8: waivers[0].approver: unknown field"},
		{"expiry beyond the maximum", head + "    check: ec2-sg-open-admin-port\n" + body + "    expires: " + tooFar + "\n",
			":7: waivers[0].expires: " + tooFar + " is 400 days ahead, more than waivers_policy.max_days (365"},
		{"duplicate ids", head + "    check: ec2-sg-open-admin-port\n" + body + "    expires: " + soon + "\n" + "  - id: w1\n    check: s3-bucket-public\n" + body + "    expires: " + soon + "\n",
			`:8: waivers[1].id: duplicate waiver id "w1" (first at line 2)`},
		{"empty resources list", head + "    check: ec2-sg-open-admin-port\n    resources: []\n    reason: r\n    owner: o\n    expires: " + soon + "\n",
			":4: waivers[0].resources: the list is empty"},
		{"no owner", head + "    check: ec2-sg-open-admin-port\n    resources: [x]\n    reason: r\n    expires: " + soon + "\n",
			":2: waivers[0].owner: missing required field"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, fmt.Sprintf("posture-%d.yaml", i))
			if err := os.WriteFile(path, []byte(c.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), []string{"scan", "--config", path, "--out", filepath.Join(dir, "out")}, &stdout, &stderr)
			want := "posture: " + path + c.want
			if code != exitUsage || !strings.Contains(stderr.String(), want) {
				t.Errorf("exit %d (want %d), stderr lacks %q:\n%s", code, exitUsage, want, stderr.String())
			}
			if _, err := os.Stat(filepath.Join(dir, "out")); !os.IsNotExist(err) {
				t.Errorf("a rejected configuration wrote reports: %v", err)
			}
		})
	}
}

// TestScanWithWaivers scans the emulator with a config whose waivers mute
// one failing group (by an ARN glob scoped to the account and region), one
// that has expired, one that matches nothing and one whose check is not
// selected, and reads the result back from scan.json, findings.csv and the
// summary.
func TestScanWithWaivers(t *testing.T) {
	srv := emutest.Fresh(t)
	use1 := emutest.Config(t, srv.URL, "us-east-1")
	rdp := openPort(t, use1, "bastion", 3389)  // ec2-sg-open-admin-port (critical): muted
	pg := openPort(t, use1, "legacy-db", 5432) // ec2-sg-open-database-port (high): its waiver expired
	dir := t.TempDir()
	live := time.Now().UTC().AddDate(0, 0, 30).Format("2006-01-02")
	cfgFile := filepath.Join(dir, "posture.yaml")
	if err := os.WriteFile(cfgFile, []byte(`credentials:
  unused_days: 45
waivers:
  - id: rdp-bastion
    check: ec2-sg-open-admin-port
    resources: ["arn:aws:ec2:us-east-1:123456789012:security-group/sg-*"]
    accounts: ["123456789012"]
    regions: ["us-*"]
    reason: Vendor support uses RDP until the migration
    owner: platform@example.com
    ticket: SEC-42
    approved_by: ciso@example.com
    expires: `+live+`
  - id: old-db
    check: ec2-sg-open-database-port
    resources: [`+pg+`]
    reason: Migration window
    owner: dba@example.com
    expires: 2024-01-31
  - id: typo
    check: ec2-sg-open-admin-port
    resources: [sg-doesnotexist]
    reason: Wrong group
    owner: ops@example.com
    expires: `+live+`
  - check: rds-instance-public
    resources: ["*"]
    reason: Lab databases
    owner: lab@example.com
    expires: `+live+`
`), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	// --fail-on critical: the only critical failure is muted, so the scan
	// exits 0; the high one stays FAIL.
	run := runCLI(t, []string{"AWS_ENDPOINT_URL=" + srv.URL}, "scan", "--regions", "us-east-1", "--config", cfgFile,
		"--checks", "ec2-sg-open-admin-port,ec2-sg-open-database-port", "--fail-on", "critical", "--out", out)
	if run.code != exitOK {
		t.Fatalf("exit %d\n%s", run.code, run.stderr)
	}

	scan, err := reports.ReadScan(filepath.Join(out, "scan.json"))
	if err != nil {
		t.Fatalf("scan.json: %v", err)
	}
	counts := map[model.Status]int{}
	for _, r := range scan.Results {
		counts[r.Status]++
		switch {
		case r.CheckID == "ec2-sg-open-admin-port" && r.ResourceID == rdp:
			wantEvidence := map[string]any{"id": "rdp-bastion", "owner": "platform@example.com",
				"reason": "Vendor support uses RDP until the migration", "ticket": "SEC-42", "expires": live}
			if r.Status != model.StatusMuted || r.WaiverID != "rdp-bastion" || r.Severity != model.SeverityCritical ||
				!reflect.DeepEqual(r.Evidence["waiver"], wantEvidence) {
				t.Errorf("the bastion's result: %s waiver %q severity %s evidence %v", r.Status, r.WaiverID, r.Severity, r.Evidence["waiver"])
			}
		case r.CheckID == "ec2-sg-open-database-port" && r.ResourceID == pg:
			if r.Status != model.StatusFail || r.WaiverID != "" || r.Evidence["waiver"] != nil {
				t.Errorf("the database group's result (expired waiver): %s %q", r.Status, r.WaiverID)
			}
		default:
			// The default groups pass; a waiver never mutes a PASS, even one
			// whose ARN its pattern matches.
			if r.Status != model.StatusPass || r.WaiverID != "" {
				t.Errorf("result %s %s: %s %q", r.CheckID, r.ResourceID, r.Status, r.WaiverID)
			}
		}
	}
	if counts[model.StatusMuted] != 1 || counts[model.StatusFail] != 1 || counts[model.StatusError] != 0 || counts[model.StatusPass] < 2 {
		t.Errorf("results by status: %v", counts)
	}
	wantRegister := []model.Waiver{
		{ID: "rdp-bastion", Check: "ec2-sg-open-admin-port", Resources: []string{"arn:aws:ec2:us-east-1:123456789012:security-group/sg-*"},
			Accounts: []string{"123456789012"}, Regions: []string{"us-*"}, Reason: "Vendor support uses RDP until the migration",
			Owner: "platform@example.com", Ticket: "SEC-42", Expires: live, ApprovedBy: "ciso@example.com", State: model.WaiverActive, Muted: 1},
		{ID: "old-db", Check: "ec2-sg-open-database-port", Resources: []string{pg}, Reason: "Migration window", Owner: "dba@example.com",
			Expires: "2024-01-31", State: model.WaiverExpired},
		{ID: "typo", Check: "ec2-sg-open-admin-port", Resources: []string{"sg-doesnotexist"}, Reason: "Wrong group", Owner: "ops@example.com",
			Expires: live, State: model.WaiverUnused},
		{ID: "waiver-4", Check: "rds-instance-public", Resources: []string{"*"}, Reason: "Lab databases", Owner: "lab@example.com",
			Expires: live, State: model.WaiverUnused},
	}
	if !reflect.DeepEqual(scan.Waivers, wantRegister) {
		t.Errorf("register:\n got %+v\nwant %+v", scan.Waivers, wantRegister)
	}
	if scan.Scan.ConfigFile != cfgFile || scan.Scan.ConfigSHA256 == "" {
		t.Errorf("config provenance: %q %q", scan.Scan.ConfigFile, scan.Scan.ConfigSHA256)
	}

	// CIS 5.3 and 5.4 rest on ec2-sg-open-admin-port alone, whose only
	// failure is muted: WAIVED. A control of the database-port check FAILs.
	status := map[string]model.ControlStatus{}
	waived := map[string]int{}
	for _, c := range scan.Controls {
		status[c.Framework+":"+c.ControlID] = c
		if c.Status == model.ControlWaived {
			waived[c.Framework]++
		}
	}
	for _, id := range []string{"cis-aws-5.0.0:5.3", "cis-aws-5.0.0:5.4"} {
		if c := status[id]; c.Status != model.ControlWaived || c.Muted != 1 || c.Failed != 0 || c.Passed < 2 || len(c.Accounts) != 0 {
			t.Errorf("%s: %+v, want WAIVED with 1 muted", id, c)
		}
	}
	failing := 0
	for _, c := range scan.Controls {
		for _, ch := range c.Checks {
			if ch == "ec2-sg-open-database-port" {
				failing++
				if c.Status != model.ControlFail {
					t.Errorf("%s:%s covers the failing database-port check but is %s", c.Framework, c.ControlID, c.Status)
				}
			}
		}
	}
	if failing == 0 || waived["cis-aws-5.0.0"] < 2 {
		t.Errorf("%d controls of the database-port check; WAIVED per framework %v", failing, waived)
	}

	// findings.csv: the waiver columns, appended after account_name.
	f, err := os.Open(filepath.Join(out, "findings.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rows[0], reports.CSVHeader()) || strings.Join(rows[0][14:18], ",") != "account_name,waiver_id,waiver_owner,waiver_expires" {
		t.Fatalf("CSV header %v", rows[0])
	}
	if len(rows) != len(scan.Results)+1 {
		t.Fatalf("%d CSV rows for %d results", len(rows), len(scan.Results))
	}
	for _, row := range rows[1:] {
		got := strings.Join(row[15:18], ",")
		want := ",,"
		if row[1] == "MUTED" {
			want = "rdp-bastion,platform@example.com," + live
			if row[0] != "ec2-sg-open-admin-port" || row[8] != rdp || !strings.Contains(row[11], `"waiver":{`) {
				t.Errorf("muted CSV row: %v", row)
			}
		}
		if got != want {
			t.Errorf("CSV row %v: waiver columns %q, want %q", row[:9], got, want)
		}
	}

	// The summary: the MUTED count, the WAIVED column and the register.
	lines := map[string]bool{}
	var frameworkLine []string
	for l := range strings.Lines(run.stderr) {
		fields := strings.Fields(l)
		lines[strings.Join(fields, " ")] = true
		if len(fields) > 0 && fields[0] == "cis-aws-5.0.0" {
			frameworkLine = fields
		}
	}
	for _, want := range []string{
		fmt.Sprintf("results: %d PASS %d FAIL 1 ERROR 0 MUTED 1", len(scan.Results), counts[model.StatusPass]),
		"failures by severity: high 1",
		"framework controls passing PASS FAIL ERROR WAIVED NOT_APPLICABLE MANUAL",
		"waivers: 4 (1 active, 1 expired, 2 unused), 1 result(s) muted",
		"id state muted expires owner ticket reason",
		"rdp-bastion active 1 " + live + " platform@example.com SEC-42 Vendor support uses RDP until the migration",
		"old-db EXPIRED 0 2024-01-31 dba@example.com - Migration window",
		"typo UNUSED 0 " + live + " ops@example.com - Wrong group",
		"waiver-4 UNUSED 0 " + live + " lab@example.com - Lab databases",
	} {
		if !lines[want] {
			t.Errorf("summary lacks the line %q:\n%s", want, run.stderr)
		}
	}
	if len(frameworkLine) != 9 || frameworkLine[6] != fmt.Sprint(waived["cis-aws-5.0.0"]) {
		t.Errorf("cis-aws-5.0.0 line %v: want WAIVED %d", frameworkLine, waived["cis-aws-5.0.0"])
	}
	// The expired waiver is also a warning when the file is loaded.
	if !strings.Contains(run.stderr, "level=WARN msg=\"waiver expired") || !strings.Contains(run.stderr, "waiver=old-db") ||
		!strings.Contains(run.stderr, "config="+cfgFile+":14") {
		t.Errorf("no warning for the expired waiver:\n%s", run.stderr)
	}
}
