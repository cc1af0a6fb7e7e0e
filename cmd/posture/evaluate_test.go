package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/posture-dev/posture/internal/demo"
	"github.com/posture-dev/posture/internal/emulator/emutest"
	"github.com/posture-dev/posture/internal/inventory"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/reports"
)

// demoSecrets are the secret values the demo seeds (internal/demo: the
// Secrets Manager secret values, the databases' master password, the
// console users' password); an inventory must hold none of them.
var demoSecrets = []string{"demo-not-a-secret", "AcmeDemoPassw0rd", "Acme-Demo-Console-1"}

// TestEvaluateReproducesTheDemoScan scans the demo account with
// --save-inventory, then evaluates the saved inventory offline: the
// scan.json is the live one byte for byte, both packages verify, the
// inventory holds no secret value, and raising the credential thresholds
// with --config flips exactly the aged credentials' results.
func TestEvaluateReproducesTheDemoScan(t *testing.T) {
	srv := emutest.FreshFaked(t)
	seeded, err := demo.SeedWith(context.Background(), emutest.Config(t, srv.URL, demo.PrimaryRegion), demo.Options{Age: srv.SetClockOffset})
	if err != nil {
		t.Fatalf("seed the demo: %v", err)
	}
	if !seeded.Aged {
		t.Fatal("the demo's credentials were not aged")
	}
	// The secrets are still the ones the demo seeds.
	for _, s := range demoSecrets {
		if !sourceContains(t, "../../internal/demo", s) {
			t.Fatalf("internal/demo no longer seeds %q: update demoSecrets", s)
		}
	}
	dir := t.TempDir()
	live, again, raised := filepath.Join(dir, "live"), filepath.Join(dir, "again"), filepath.Join(dir, "raised")
	run := runCLI(t, nil, "scan", "--endpoint-url", srv.URL, "--regions", strings.Join(demo.Regions(), ","), "--out", live, "--save-inventory")
	if run.code != exitOK {
		t.Fatalf("scan: exit %d\n%s", run.code, run.stderr)
	}
	invPath := filepath.Join(live, inventory.FileName)
	if run := runCLI(t, nil, "verify", live); run.code != exitOK {
		t.Errorf("verify the live package: exit %d\n%s%s", run.code, run.stdout, run.stderr)
	}
	manifest := readFile(t, filepath.Join(live, reports.ManifestName))
	if !bytes.Contains(manifest, []byte(`"`+inventory.FileName+`"`)) {
		t.Errorf("manifest.json does not list %s:\n%s", inventory.FileName, manifest)
	}

	// No secret value in the inventory.
	plain := gunzip(t, readFile(t, invPath))
	for _, s := range demoSecrets {
		if bytes.Contains(plain, []byte(s)) {
			t.Errorf("the inventory holds the secret value %q", s)
		}
	}
	inv, err := inventory.ReadFile(invPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("demo inventory: %d scopes, %d scan gaps, %d bytes gzip'd (%d bytes of JSON)", len(inv.Scopes), len(inv.ScanGaps), len(readFile(t, invPath)), len(plain))
	if inv.Scan.Principal == "" || !strings.Contains(inv.Scan.Invocation, "--save-inventory") || len(inv.Scopes) == 0 {
		t.Errorf("inventory scan info %+v with %d scopes", inv.Scan, len(inv.Scopes))
	}

	// Offline, the same scan.json, byte for byte.
	run = runCLI(t, []string{"AWS_ENDPOINT_URL=http://127.0.0.1:1"}, "evaluate", invPath, "--out", again)
	if run.code != exitOK {
		t.Fatalf("evaluate: exit %d\n%s", run.code, run.stderr)
	}
	liveScan, againScan := readFile(t, filepath.Join(live, "scan.json")), readFile(t, filepath.Join(again, "scan.json"))
	if !bytes.Equal(liveScan, againScan) {
		t.Errorf("evaluate's scan.json differs from the live scan's (%d and %d bytes)", len(againScan), len(liveScan))
	}
	for _, name := range []string{"findings.csv", "findings.ocsf.json"} {
		if !bytes.Equal(readFile(t, filepath.Join(live, name)), readFile(t, filepath.Join(again, name))) {
			t.Errorf("evaluate's %s differs from the live scan's", name)
		}
	}
	if run := runCLI(t, nil, "verify", again); run.code != exitOK {
		t.Errorf("verify the evaluated package: exit %d\n%s%s", run.code, run.stdout, run.stderr)
	}

	// Higher thresholds: exactly the aged credentials change, FAIL to PASS.
	cfg := filepath.Join(dir, "posture.yaml")
	if err := os.WriteFile(cfg, []byte("credentials:\n  max_key_age_days: 365\n  unused_days: 365\n  secret_max_age_days: 365\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if run := runCLI(t, nil, "evaluate", invPath, "--out", raised, "--config", cfg); run.code != exitOK {
		t.Fatalf("evaluate --config: exit %d\n%s", run.code, run.stderr)
	}
	before, err := reports.ReadScan(filepath.Join(live, "scan.json"))
	if err != nil {
		t.Fatal(err)
	}
	after, err := reports.ReadScan(filepath.Join(raised, "scan.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, e := range demo.AgedExpectations() {
		want = append(want, fmt.Sprintf("%s %s %s: %s -> PASS", e.Check, e.Region, seeded.ID(e.Role), e.Want))
	}
	sort.Strings(want)
	if got := statusChanges(before, after); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("status changes with higher thresholds:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if after.Scan.Thresholds["credentials.max_key_age_days"] != 365 || after.Scan.ConfigFile != cfg || after.Scan.ID != before.Scan.ID {
		t.Errorf("scan info after --config: %+v", after.Scan)
	}
}

// TestEvaluateRejectsWhatIsNoInventory: a missing, corrupt or newer file is
// exit 2 naming the file.
func TestEvaluateRejectsWhatIsNoInventory(t *testing.T) {
	dir := t.TempDir()
	newer := filepath.Join(dir, "newer.json.gz")
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	fmt.Fprint(zw, `{"schema_version": 99, "scan": {"id": "x"}, "scopes": []}`)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	corrupt := filepath.Join(dir, "scan.json")
	for path, data := range map[string][]byte{newer: buf.Bytes(), corrupt: []byte(`{"schema_version":"1.2","results":[]}`)} {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for path, want := range map[string]string{
		newer:                            "schema_version 99, this build reads 1 to 1",
		corrupt:                          "not a posture inventory",
		filepath.Join(dir, "missing.gz"): "no such file",
	} {
		run := runCLI(t, nil, "evaluate", path, "--out", filepath.Join(dir, "out"))
		if run.code != exitUsage || !strings.Contains(run.stderr, path) || !strings.Contains(run.stderr, want) {
			t.Errorf("evaluate %s: exit %d, stderr %q; want 2 naming the file and %q", path, run.code, run.stderr, want)
		}
	}
	if run := runCLI(t, nil, "evaluate", newer); run.code != exitUsage || !strings.Contains(run.stderr, "--out DIR is required") {
		t.Errorf("no --out: exit %d %s", run.code, run.stderr)
	}
}

// statusChanges lists the results whose status differs between two scans
// of the same inventory, as "check region resource: OLD -> NEW".
func statusChanges(before, after *model.Scan) []string {
	old := map[string]model.Status{}
	for _, r := range before.Results {
		old[r.Fingerprint] = r.Status
	}
	var out []string
	for _, r := range after.Results {
		if s, ok := old[r.Fingerprint]; !ok || s != r.Status {
			out = append(out, fmt.Sprintf("%s %s %s: %s -> %s", r.CheckID, r.Region, r.ResourceID, s, r.Status))
		}
	}
	if len(before.Results) != len(after.Results) {
		out = append(out, fmt.Sprintf("%d results before, %d after", len(before.Results), len(after.Results)))
	}
	sort.Strings(out)
	return out
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func gunzip(t *testing.T, data []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return plain
}

// sourceContains reports whether a Go file of dir contains s.
func sourceContains(t *testing.T, dir, s string) bool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Go files in %s: %v", dir, err)
	}
	for _, f := range files {
		if bytes.Contains(readFile(t, f), []byte(s)) {
			return true
		}
	}
	return false
}

// TestEvaluateChecksNotCollected: checks the inventory has no data for, of
// a scanner it did not run or a part it did not call for, are ERROR "not
// collected in this inventory" (exit 4), never PASS; the collected check's
// results are the live scan's.
func TestEvaluateChecksNotCollected(t *testing.T) {
	srv := emutest.Fresh(t)
	group := openGroup(t, srv.URL, "us-east-1", "evaluate-open-rdp")
	dir := t.TempDir()
	live, again := filepath.Join(dir, "live"), filepath.Join(dir, "again")
	if run := runCLI(t, nil, "scan", "--endpoint-url", srv.URL, "--regions", "us-east-1", "--checks", "ec2-sg-open-admin-port",
		"--format", "json", "--out", live, "--save-inventory"); run.code != exitOK {
		t.Fatalf("scan: exit %d\n%s", run.code, run.stderr)
	}
	run := runCLI(t, nil, "evaluate", filepath.Join(live, inventory.FileName), "--format", "json", "--out", again,
		"--checks", "ec2-sg-open-admin-port,ec2-snapshot-public,s3-bucket-public")
	if run.code != exitGaps {
		t.Fatalf("evaluate: exit %d, want %d\n%s", run.code, exitGaps, run.stderr)
	}
	before, err := reports.ReadScan(filepath.Join(live, "scan.json"))
	if err != nil {
		t.Fatal(err)
	}
	after, err := reports.ReadScan(filepath.Join(again, "scan.json"))
	if err != nil {
		t.Fatal(err)
	}
	liveByFingerprint := map[string]model.Result{}
	for _, r := range before.Results {
		liveByFingerprint[r.Fingerprint] = r
	}
	var got []string
	for _, r := range after.Results {
		switch r.CheckID {
		case "ec2-sg-open-admin-port":
			l, ok := liveByFingerprint[r.Fingerprint]
			if !ok || l.Status != r.Status || l.Message != r.Message {
				t.Errorf("collected check's result %+v differs from the live %+v", r, l)
			}
			if r.ResourceID == group && r.Status != model.StatusFail {
				t.Errorf("open group %s: %s, want FAIL", group, r.Status)
			}
		default:
			got = append(got, fmt.Sprintf("%s %s %s %s", r.CheckID, r.Region, r.Status, r.Message))
		}
	}
	want := []string{
		"s3-bucket-public global ERROR not evaluated: not collected in this inventory",
		"ec2-snapshot-public us-east-1 ERROR not evaluated: snapshots was not collected in this inventory",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("results of the checks not collected:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var gaps []string
	for _, c := range after.Gaps() {
		gaps = append(gaps, c.Region+" "+c.Service+" "+c.Error)
	}
	if want := []string{"global s3 NotCollected: not collected in this inventory"}; strings.Join(gaps, "\n") != strings.Join(want, "\n") {
		t.Errorf("gaps %q, want %q", gaps, want)
	}
}
