package check

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go"

	"github.com/posture-dev/posture/internal/model"
)

// TestSnapshotRoundTripEvaluatesLikeScan checks that a snapshot written to
// JSON and read back evaluates to exactly what Scan gives, gaps included
// (their code and text are those of the live error).
func TestSnapshotRoundTripEvaluatesLikeScan(t *testing.T) {
	denied := &smithy.OperationError{ServiceID: "Fake", OperationName: "DescribeExtras",
		Err: &smithy.GenericAPIError{Code: "AccessDenied", Message: "User is not authorized to perform DescribeExtras"}}
	throttled := &smithy.GenericAPIError{Code: "Throttling", Message: "Rate exceeded"}
	svc := fakeService([]gapSpec{
		{part: partExtras, op: "DescribeExtras", err: denied},
		{part: partDetails, op: "GetDetail", resource: "item-b", err: throttled},
	}, nil, nil)
	selected := selectIDs("fake-item-ok", "fake-extra-ok", "fake-item-detail")
	scope := testScope
	scope.Params = DefaultParams(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	wantResults, wantCov := svc.Scan(context.Background(), scope, selected)

	snap := svc.CollectSnapshot(context.Background(), scope, selected)
	if want := []string{partExtras, partDetails, partItems}; !reflect.DeepEqual(snap.Collected, slices.Sorted(slices.Values(want))) {
		t.Errorf("collected = %v, want %v", snap.Collected, slices.Sorted(slices.Values(want)))
	}
	wantGaps := []GapRecord{
		{Part: partExtras, Operation: "DescribeExtras", Code: "AccessDenied", Message: "AccessDenied: User is not authorized to perform DescribeExtras"},
		{Part: partDetails, Operation: "GetDetail", Resource: "item-b", Code: "Throttling", Message: "Throttling: Rate exceeded"},
	}
	if !reflect.DeepEqual(snap.Gaps, wantGaps) {
		t.Errorf("gaps = %+v, want %+v", snap.Gaps, wantGaps)
	}
	data, err := json.Marshal(snap)
	if err != nil {
		t.Fatal(err)
	}
	var back Snapshot
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	gotResults, gotCov := svc.Evaluate(back, selected, scope.Params)
	if !reflect.DeepEqual(gotResults, wantResults) {
		t.Errorf("results after the round trip differ:\n got %+v\nwant %+v", gotResults, wantResults)
	}
	if !reflect.DeepEqual(gotCov, wantCov) {
		t.Errorf("coverage after the round trip = %+v, want %+v", gotCov, wantCov)
	}
	if len(gotResults) != 5 || gotCov.Status != model.CoverageError || len(gotCov.Failures) != 2 {
		t.Errorf("got %d results and coverage %+v; want 5 results (2 + 1 + 2) and 2 failures", len(gotResults), gotCov)
	}
}

// TestEvaluateNotCollectedPartIsError checks that a check whose parts the
// snapshot did not collect is one ERROR, never a PASS over missing data.
func TestEvaluateNotCollectedPartIsError(t *testing.T) {
	svc := fakeService(nil, nil, nil)
	snap := svc.CollectSnapshot(context.Background(), testScope, selectIDs("fake-item-ok"))
	if !reflect.DeepEqual(snap.Collected, []string{partItems}) {
		t.Fatalf("collected = %v, want only items", snap.Collected)
	}
	results, cov := svc.Evaluate(snap, selectIDs("fake-item-ok", "fake-extra-ok", "fake-item-detail"), DefaultParams(time.Now()))
	got := byCheck(results)
	if len(got["fake-item-ok"]) != 2 || got["fake-item-ok"][0].Status != model.StatusPass {
		t.Errorf("fake-item-ok = %+v, want 2 PASS", got["fake-item-ok"])
	}
	for id, part := range map[string]string{"fake-extra-ok": partExtras, "fake-item-detail": partDetails} {
		rs := got[id]
		if len(rs) != 1 || rs[0].Status != model.StatusError || rs[0].ResourceID != "" {
			t.Fatalf("%s = %+v, want one scope ERROR", id, rs)
		}
		if want := "not evaluated: " + part + " was not collected in this inventory"; rs[0].Message != want {
			t.Errorf("%s message = %q, want %q", id, rs[0].Message, want)
		}
		if want := map[string]any{"missing_part": part, "error_code": NotCollectedCode}; !reflect.DeepEqual(rs[0].Evidence, want) {
			t.Errorf("%s evidence = %v, want %v", id, rs[0].Evidence, want)
		}
	}
	if cov.Status != model.CoverageOK {
		t.Errorf("coverage = %+v: nothing failed to collect", cov)
	}
}

// TestEvaluateCorruptInventoryIsError checks that an inventory that does
// not decode makes every selected check ERROR and the scope a gap.
func TestEvaluateCorruptInventoryIsError(t *testing.T) {
	svc := fakeService(nil, nil, nil)
	snap := svc.CollectSnapshot(context.Background(), testScope, selectIDs("fake-item-ok"))
	snap.Inventory = json.RawMessage(`{"Items": 7}`)
	results, cov := svc.Evaluate(snap, selectIDs("fake-item-ok"), DefaultParams(time.Now()))
	if len(results) != 1 || results[0].Status != model.StatusError || !strings.Contains(results[0].Message, "read the fake inventory of 111122223333/eu-west-1") {
		t.Errorf("results = %+v, want one ERROR naming the inventory", results)
	}
	if cov.Status != model.CoverageError || len(cov.Failures) != 1 || cov.Failures[0].Part != "inventory" {
		t.Errorf("coverage = %+v, want an inventory failure", cov)
	}
}
