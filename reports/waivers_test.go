package reports

import (
	"bytes"
	"encoding/csv"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/posture-dev/posture/internal/model"
)

// waivedScan is sampleScan with one failure muted by a live waiver, an
// expired waiver and an unused one, and a control WAIVED.
func waivedScan() *model.Scan {
	scan := sampleScan()
	r := &scan.Results[1] // ec2-sg-open-admin-port sg-2
	r.Status = model.StatusMuted
	r.WaiverID = "bastion"
	r.Evidence = map[string]any{"rule": "tcp 22", "waiver": map[string]any{"id": "bastion", "owner": "=ops@example.com",
		"reason": "vendor access", "ticket": "SEC-1", "expires": "2025-06-30"}}
	scan.Waivers = []model.Waiver{
		{ID: "bastion", Check: "ec2-sg-open-admin-port", Resources: []string{"sg-2"}, Reason: "Vendor access\nuntil the migration, which is planned for the second quarter of the year",
			Owner: "=ops@example.com", Ticket: "SEC-1", Expires: "2025-06-30", State: model.WaiverActive, Muted: 1},
		{ID: "old-bucket", Check: "s3-bucket-public", Resources: []string{"acme-*"}, Reason: "website", Owner: "web",
			Expires: "2025-01-31", State: model.WaiverExpired},
		{ID: "waiver-3", Check: "rds-instance-public", Resources: []string{"*"}, Reason: "lab", Owner: "lab-team",
			Expires: "2025-12-31", State: model.WaiverUnused},
	}
	scan.Controls = append(scan.Controls, model.ControlStatus{Framework: "cis", ControlID: "5.9", Title: "Waived one",
		Status: model.ControlWaived, Muted: 1, Accounts: []string{}, Checks: []string{"ec2-sg-open-admin-port"}})
	return scan
}

func TestWriteSummaryWaivers(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteSummary(&buf, waivedScan(), ""); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"results: 5  PASS 1  FAIL 2  ERROR 1  MUTED 1\n",
		"\nfamily           pass  fail  error  muted\npublic-exposure  1     2     1      1\n",
		// WAIVED counts as evaluated and not passing: 1 of 4.
		"\ncis        1/4 (25%)         1     1     1      1       0               1\n",
		"\nwaivers: 3 (1 active, 1 expired, 1 unused), 1 result(s) muted\n",
		"\n  id          state    muted  expires     owner             ticket  reason\n",
		"\n  bastion     active   1      2025-06-30  =ops@example.com  SEC-1   Vendor access until the migration, which is planned for the ...\n",
		"\n  old-bucket  EXPIRED  0      2025-01-31  web               -       website\n",
		"\n  waiver-3    UNUSED   0      2025-12-31  lab-team          -       lab\n",
		"\n  EXPIRED waivers no longer mute",
		"\n  UNUSED waivers matched no failing result",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	// The muted failure is no longer among the failing checks' counts.
	if !strings.Contains(out, "ec2-sg-open-admin-port                 1 failed") {
		t.Errorf("worst checks count a muted result:\n%s", out)
	}

	buf.Reset()
	if err := WriteSummary(&buf, sampleScan(), ""); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "waivers:") || strings.Contains(buf.String(), "MUTED") {
		t.Errorf("a scan without waivers shows a waiver block:\n%s", buf.String())
	}
}

func TestCSVWaiverColumns(t *testing.T) {
	scan := waivedScan()
	var buf bytes.Buffer
	if err := (CSV{}).Write(&buf, scan); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rows[0][15:18], []string{"waiver_id", "waiver_owner", "waiver_expires"}) || rows[0][14] != "account_name" {
		t.Fatalf("header %v: want the waiver columns appended after account_name", rows[0])
	}
	for i, r := range TriageOrder(scan.Results) {
		got := rows[i+1][15:18]
		want := []string{"", "", ""}
		if r.Status == model.StatusMuted {
			want = []string{"bastion", "'=ops@example.com", "2025-06-30"} // a formula-like owner is neutralised
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("row %d (%s %s): waiver columns %q, want %q", i+1, r.Status, r.ResourceID, got, want)
		}
		if rows[i+1][1] != string(r.Status) {
			t.Errorf("row %d status %s, want %s", i+1, rows[i+1][1], r.Status)
		}
	}
}

// TestJSONWaiversRoundTrip: scan.json keeps the muted results, their
// waiver and the register, and reads back valid.
func TestJSONWaiversRoundTrip(t *testing.T) {
	dir := t.TempDir()
	scan := waivedScan()
	if _, err := WriteDir(dir, Input{Scan: scan}, []Writer{JSON{}}); err != nil {
		t.Fatal(err)
	}
	got, err := ReadScan(filepath.Join(dir, "scan.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Waivers, scan.Waivers) || !reflect.DeepEqual(got.Results, scan.Results) {
		t.Errorf("round trip differs:\n got %+v\n%+v\nwant %+v\n%+v", got.Waivers, got.Results, scan.Waivers, scan.Results)
	}
}

// TestValidateWaivers: a MUTED result must name a waiver of the register,
// and the register's states and counts must agree.
func TestValidateWaivers(t *testing.T) {
	if err := Validate(waivedScan()); err != nil {
		t.Fatalf("valid scan: %v", err)
	}
	for _, tt := range []struct {
		name string
		edit func(*model.Scan)
		want string
	}{
		{"muted without waiver", func(s *model.Scan) { s.Results[1].WaiverID = "" }, `results[1]: status MUTED with waiver_id ""`},
		{"muted by an unknown waiver", func(s *model.Scan) { s.Results[1].WaiverID = "ghost" }, `results[1]: status MUTED with waiver_id "ghost"`},
		{"FAIL with a waiver", func(s *model.Scan) { s.Results[0].WaiverID = "bastion" }, `results[0]: status FAIL with waiver_id "bastion"`},
		{"unknown state", func(s *model.Scan) { s.Waivers[1].State = "lapsed" }, `waivers[1] old-bucket: state "lapsed"`},
		{"active muting nothing", func(s *model.Scan) { s.Waivers[0].Muted = 0 }, "waivers[0] bastion: active with 0 muted"},
		{"unused muting", func(s *model.Scan) { s.Waivers[2].Muted = 2 }, "waivers[2] waiver-3: unused with 2 muted"},
		{"no expiry", func(s *model.Scan) { s.Waivers[2].Expires = "" }, "waivers[2]: id, check and expires are required"},
	} {
		scan := waivedScan()
		tt.edit(scan)
		if err := Validate(scan); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
}
