package engine_test

import (
	"context"
	"sync"
	"testing"

	"github.com/posture-dev/posture/internal/awsenv"
	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/internal/engine"
	"github.com/posture-dev/posture/internal/model"
)

// TestServiceNotOfferedIsNotApplicable: a regional scope whose service AWS
// does not offer in the region is never run; it is one coverage entry with
// status ok and the note NoteNotOffered, no results and no gap, while the
// same service elsewhere and the other services there are scanned.
func TestServiceNotOfferedIsNotApplicable(t *testing.T) {
	var mu sync.Mutex
	ran := map[string]bool{}
	hook := func(_ context.Context, s check.Scope) {
		mu.Lock()
		defer mu.Unlock()
		ran[s.Region+"/"+s.Config.Region] = true
	}
	scanners := []check.Scanner{stub{name: "ec2", hook: hook}, stub{name: "rds"}, stub{name: "iam", global: true}}
	offered := func(service, region string) bool { return !(service == "ec2" && region == "eu-west-1") }
	obs := &counter{}
	targets := []engine.Target{{Account: engine.Account{ID: "111111111111"}, Regions: []string{"us-east-1", "eu-west-1"}}}
	scan := engine.Run(context.Background(), targets, engine.Options{Scanners: scanners, Checks: allChecks(), Observer: obs, Offered: offered})

	if ran["eu-west-1/eu-west-1"] || !ran["us-east-1/us-east-1"] {
		t.Errorf("ec2 scopes run: %v; want us-east-1 only", ran)
	}
	if gaps := scan.Gaps(); len(gaps) != 0 {
		t.Errorf("gaps %+v", gaps)
	}
	// 2 regions x 2 services + iam, the one not offered included; none a gap.
	if obs.planned != 5 || obs.done != 5 || obs.gaps != 0 {
		t.Errorf("observer counts: %+v", obs)
	}
	var notes []model.Coverage
	for _, c := range scan.Coverage {
		if c.Note != "" {
			notes = append(notes, c)
		}
	}
	want := model.Coverage{AccountID: "111111111111", Region: "eu-west-1", Service: "ec2", Status: model.CoverageOK, Note: model.NoteNotOffered}
	if len(notes) != 1 || notes[0].AccountID != want.AccountID || notes[0].Region != want.Region || notes[0].Service != want.Service ||
		notes[0].Status != want.Status || notes[0].Note != want.Note || notes[0].Results != 0 || len(notes[0].Failures) != 0 || notes[0].Error != "" {
		t.Errorf("not-applicable coverage %+v, want %+v", notes, want)
	}
	if len(scan.Coverage) != 5 {
		t.Errorf("%d coverage entries, want 5: %+v", len(scan.Coverage), scan.Coverage)
	}
	got := map[string]model.Status{}
	for _, r := range scan.Results {
		got[r.CheckID+"@"+r.Region] = r.Status
	}
	wantResults := map[string]model.Status{"ec2-a-b@us-east-1": model.StatusPass, "rds-a-b@us-east-1": model.StatusPass,
		"rds-a-b@eu-west-1": model.StatusPass, "iam-a-b@global": model.StatusPass}
	if len(got) != len(wantResults) || len(scan.Results) != len(wantResults) {
		t.Errorf("results %v, want %v", got, wantResults)
	}
	for k, v := range wantResults {
		if got[k] != v {
			t.Errorf("result %s = %q, want %q", k, got[k], v)
		}
	}
	if scan.Scan.Regions == nil || len(scan.Scan.Regions) != 2 {
		t.Errorf("scan.regions %v", scan.Scan.Regions)
	}
}

// TestDefaultOfferedIsTheSDKTable: without Options.Offered the engine asks
// awsenv.Offered, so a region the SDK's endpoint metadata knows no service
// in is not applicable for every regional scanner, while a global scanner
// still runs once.
func TestDefaultOfferedIsTheSDKTable(t *testing.T) {
	const unopened = "me-west-1" // announced, no endpoint yet (awsenv's table)
	if awsenv.Offered("ec2", unopened) || !awsenv.Offered("ec2", "us-east-1") {
		t.Fatalf("awsenv.Offered no longer says ec2 is absent from %s only; pick another region", unopened)
	}
	targets := []engine.Target{{Account: engine.Account{ID: "111111111111"}, Regions: []string{"us-east-1", unopened}}}
	scan := engine.Run(context.Background(), targets, engine.Options{Scanners: stubs, Checks: allChecks()})
	if gaps := scan.Gaps(); len(gaps) != 0 {
		t.Errorf("gaps %+v", gaps)
	}
	na := map[string]bool{}
	for _, c := range scan.Coverage {
		if c.Note == model.NoteNotOffered {
			na[c.Service+"@"+c.Region] = true
		}
	}
	if len(na) != 2 || !na["ec2@"+unopened] || !na["rds@"+unopened] {
		t.Errorf("not applicable scopes %v, want ec2 and rds in %s", na, unopened)
	}
	for _, r := range scan.Results {
		if r.Region == unopened || r.Status != model.StatusPass {
			t.Errorf("result %+v", r)
		}
	}
	if len(scan.Results) != 3 {
		t.Errorf("%d results, want 3 (ec2, rds in us-east-1; iam)", len(scan.Results))
	}
}
