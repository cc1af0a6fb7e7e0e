package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/internal/engine"
	"github.com/posture-dev/posture/internal/inventory"
	"github.com/posture-dev/posture/internal/model"
)

// mustJSON renders v as JSON for a byte comparison.
func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// roundTrip writes the inventory to its file format and reads it back.
func roundTrip(t *testing.T, inv *inventory.Inventory) *inventory.Inventory {
	t.Helper()
	data, err := inventory.Marshal(inv)
	if err != nil {
		t.Fatal(err)
	}
	back, err := inventory.Unmarshal(data)
	if err != nil {
		t.Fatal(err)
	}
	return back
}

// TestEvaluateSavedInventoryReproducesTheScan: an unreached account, an
// unavailable region and a service not offered in a region are kept in the
// inventory, and re-evaluating the saved inventory gives the same scan.
func TestEvaluateSavedInventoryReproducesTheScan(t *testing.T) {
	prepared := func(regions []string, unavailable ...engine.UnavailableRegion) func(context.Context) (engine.Prepared, error) {
		return func(context.Context) (engine.Prepared, error) {
			return engine.Prepared{Regions: regions, Unavailable: unavailable}, nil
		}
	}
	targets := []engine.Target{
		{Account: engine.Account{ID: "111111111111", Name: "one"}, Prepare: prepared([]string{"us-east-1", "eu-west-1"})},
		{Account: engine.Account{ID: "222222222222", Name: "two"}, Prepare: func(context.Context) (engine.Prepared, error) {
			return engine.Prepared{}, fmt.Errorf("assume role: %w", denied)
		}},
		{Account: engine.Account{ID: "333333333333", Name: "three"}, Prepare: prepared([]string{"us-east-1"},
			engine.UnavailableRegion{Region: "eu-west-1", Code: model.CodeRegionNotEnabled, Reason: "region eu-west-1 is not enabled"})},
	}
	opts := engine.Options{Scanners: stubs, Checks: allChecks(),
		Offered: func(service, region string) bool { return !(service == "rds" && region == "eu-west-1") }}
	scan, inv := engine.RunInventory(context.Background(), targets, opts)

	kinds := map[string]int{}
	for _, g := range inv.ScanGaps {
		kinds[g.Kind]++
	}
	if want := map[string]int{inventory.GapAccount: 1, inventory.GapRegion: 1, inventory.GapNotOffered: 1}; fmt.Sprint(kinds) != fmt.Sprint(want) {
		t.Errorf("scan gaps %v, want %v", kinds, want)
	}
	// Account one: ec2 in two regions, rds in us-east-1, iam; three: ec2,
	// rds, iam in us-east-1.
	if len(inv.Scopes) != 7 {
		t.Errorf("%d scopes, want 7: %+v", len(inv.Scopes), inv.Scopes)
	}
	again := engine.Evaluate(roundTrip(t, inv), opts)
	if got, want := mustJSON(t, again), mustJSON(t, scan); got != want {
		t.Errorf("re-evaluated scan differs from the live one:\n%s\nwant\n%s", got, want)
	}
	if scan.Scan.ID != inv.Scan.ID || !scan.Scan.StartedAt.Equal(inv.Scan.StartedAt) || !scan.Scan.FinishedAt.Equal(inv.Scan.FinishedAt) {
		t.Errorf("scan info %+v does not carry the inventory's ID and times %+v", scan.Scan, inv.Scan)
	}
}

// TestEvaluateCancelledInventory: a cancelled collection re-evaluates to
// the same cancelled scan.
func TestEvaluateCancelledInventory(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var once sync.Once
	hook := func(context.Context, check.Scope) { once.Do(cancel) }
	opts := engine.Options{Scanners: []check.Scanner{stub{name: "ec2", hook: hook}, stub{name: "rds", hook: hook}},
		Checks: []string{"ec2-a-b", "rds-a-b"}, AccountConcurrency: 1, ScopeConcurrency: 1}
	targets := []engine.Target{{Account: engine.Account{ID: "111111111111"}, Regions: []string{"us-east-1", "eu-west-1"}}}
	scan, inv := engine.RunInventory(ctx, targets, opts)
	if !scan.Scan.Cancelled || len(inv.Scopes) != 0 || len(inv.ScanGaps) != 4 {
		t.Fatalf("cancelled %v, %d scopes, %d scan gaps; want cancelled, 0, 4", scan.Scan.Cancelled, len(inv.Scopes), len(inv.ScanGaps))
	}
	again := engine.Evaluate(roundTrip(t, inv), opts)
	if got, want := mustJSON(t, again), mustJSON(t, scan); got != want {
		t.Errorf("re-evaluated scan differs:\n%s\nwant\n%s", got, want)
	}
}

// TestEvaluateChecksNotCollected: checks of a scanner the collection did
// not run are ERROR "not collected in this inventory" in every scope they
// would have had, never PASS; unselected checks give no result.
func TestEvaluateChecksNotCollected(t *testing.T) {
	targets := []engine.Target{{Account: engine.Account{ID: "111111111111"}, Regions: []string{"us-east-1", "eu-west-1"}}}
	_, inv := engine.RunInventory(context.Background(), targets, engine.Options{Scanners: stubs, Checks: []string{"ec2-a-b"}})
	scan := engine.Evaluate(roundTrip(t, inv), engine.Options{Scanners: stubs, Checks: []string{"ec2-a-b", "iam-a-b"}})
	var got []string
	for _, r := range scan.Results {
		got = append(got, fmt.Sprintf("%s %s %s %s", r.CheckID, r.Region, r.Status, r.Message))
	}
	want := []string{
		"ec2-a-b eu-west-1 PASS ",
		"iam-a-b global ERROR not evaluated: not collected in this inventory",
		"ec2-a-b us-east-1 PASS ",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("results\n%q\nwant\n%q", got, want)
	}
	var gaps []string
	for _, c := range scan.Gaps() {
		gaps = append(gaps, c.Region+" "+c.Service+" "+c.Error)
	}
	if want := []string{"global iam NotCollected: not collected in this inventory"}; fmt.Sprint(gaps) != fmt.Sprint(want) {
		t.Errorf("gaps %q, want %q", gaps, want)
	}
	if fmt.Sprint(scan.Scan.Checks) != "[ec2-a-b iam-a-b]" {
		t.Errorf("scan.checks = %v", scan.Scan.Checks)
	}
}

// TestEvaluateTimedOutScopes: a scope one account's collection did not
// finish in its own time (inventory.GapTimedOut, the nightly fan-out's
// scan-account) is a gap with its code and message and an ERROR result per
// check, but the scan is not cancelled; a cancelled scope still is.
func TestEvaluateTimedOutScopes(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var once sync.Once
	hook := func(context.Context, check.Scope) { once.Do(cancel) }
	opts := engine.Options{Scanners: []check.Scanner{stub{name: "ec2", hook: hook}, stub{name: "rds", hook: hook}},
		Checks: []string{"ec2-a-b", "rds-a-b"}, AccountConcurrency: 1, ScopeConcurrency: 1}
	targets := []engine.Target{{Account: engine.Account{ID: "111111111111"}, Regions: []string{"us-east-1"}}}
	_, inv := engine.RunInventory(ctx, targets, opts)
	if len(inv.ScanGaps) != 2 {
		t.Fatalf("%d scan gaps, want 2: %+v", len(inv.ScanGaps), inv.ScanGaps)
	}
	inv.ScanGaps[0].Kind, inv.ScanGaps[0].Code, inv.ScanGaps[0].Message = inventory.GapTimedOut, model.CodeTimedOut, "ran out of time"
	scan := engine.Evaluate(roundTrip(t, inv), opts)
	if !scan.Scan.Cancelled {
		t.Error("one scope still cancelled: the scan must be marked cancelled")
	}
	inv.ScanGaps[1].Kind, inv.ScanGaps[1].Code, inv.ScanGaps[1].Message = inventory.GapTimedOut, model.CodeTimedOut, "ran out of time"
	scan = engine.Evaluate(roundTrip(t, inv), opts)
	if scan.Scan.Cancelled {
		t.Error("only timed-out scopes: the scan is marked cancelled")
	}
	var got []string
	for _, r := range scan.Results {
		got = append(got, fmt.Sprintf("%s %s %s %v", r.CheckID, r.Status, r.Message, r.Evidence["error_code"]))
	}
	want := []string{"ec2-a-b ERROR not evaluated: ran out of time TimedOut", "rds-a-b ERROR not evaluated: ran out of time TimedOut"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("results\n%q\nwant\n%q", got, want)
	}
	var gaps []string
	for _, c := range scan.Gaps() {
		gaps = append(gaps, c.Service+" "+c.Error+" "+c.Failures[0].Code)
	}
	if want := []string{"ec2 TimedOut: ran out of time TimedOut", "rds TimedOut: ran out of time TimedOut"}; fmt.Sprint(gaps) != fmt.Sprint(want) {
		t.Errorf("gaps %q, want %q", gaps, want)
	}
}
