package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/posture-dev/posture/internal/demo"
	"github.com/posture-dev/posture/internal/emulator"
	"github.com/posture-dev/posture/internal/model"
	"github.com/posture-dev/posture/reports"
)

// TestDemoTellsItsStory runs the demo as `make demo` does and checks every
// row of the demo's story table against the scan it wrote.
func TestDemoTellsItsStory(t *testing.T) {
	if _, err := emulator.Locate(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set but the emulator is missing: %v", err)
		}
		t.Skipf("moto_server not found (run `make emulator`): %v", err)
	}
	dir := t.TempDir()
	binary := filepath.Join(dir, "posture")
	if out, err := exec.Command("go", "build", "-o", binary, "../posture").CombinedOutput(); err != nil {
		t.Fatalf("build posture: %v\n%s", err, out)
	}
	out := filepath.Join(dir, "demo-output")
	var stderr bytes.Buffer
	inv, err := demoRun(context.Background(), binary, out, "", slog.New(slog.DiscardHandler), &stderr)
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, stderr.String())
	}
	for _, want := range []string{"failures by severity: critical", "coverage: complete", "reports written to"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, stderr.String())
		}
	}
	scan, err := reports.ReadScan(filepath.Join(out, "scan.json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, "findings.csv")); err != nil {
		t.Error(err)
	}
	type key struct{ check, region, resource string }
	got := map[key]model.Status{}
	for _, r := range scan.Results {
		got[key{r.CheckID, r.Region, r.ResourceID}] = r.Status
	}
	pass, fail := map[string]bool{}, map[string]bool{}
	rows := demo.Expectations()
	if inv.Aged {
		rows = append(rows, demo.AgedExpectations()...)
	} else if os.Getenv("CI") != "" {
		t.Errorf("CI is set but the demo could not age its stale credentials (libfaketime missing)")
	} else {
		t.Logf("libfaketime missing: the %d rows that need aged credentials are not checked", len(demo.AgedExpectations()))
	}
	for _, e := range rows {
		id := inv.ID(e.Role)
		if id == "" {
			t.Errorf("%s: role %s was not seeded", e.Check, e.Role)
			continue
		}
		st, ok := got[key{e.Check, e.Region, id}]
		switch {
		case !ok:
			t.Errorf("%s %s %s (%s): no result", e.Check, e.Region, e.Role, id)
		case string(st) != e.Want:
			t.Errorf("%s %s %s (%s): got %s, want %s (%s)", e.Check, e.Region, e.Role, id, st, e.Want, e.Why)
		}
		if e.Want == "PASS" {
			pass[e.Check] = true
		} else {
			fail[e.Check] = true
		}
	}
	// The story has a FAIL and a PASS for every check but the one-sided
	// ones (without ageing, the checks that fail only on aged credentials
	// lack their FAIL).
	aged := map[string]bool{}
	for _, e := range demo.AgedExpectations() {
		aged[e.Check] = true
	}
	oneSided := demo.OneSided()
	for _, id := range scan.Scan.Checks {
		_, single := oneSided[id]
		switch {
		case single && (pass[id] || fail[id]):
		case !inv.Aged && aged[id] && pass[id]:
		case !fail[id] || !pass[id]:
			t.Errorf("the demo story lacks a PASS or a FAIL for %s", id)
		}
	}
}
