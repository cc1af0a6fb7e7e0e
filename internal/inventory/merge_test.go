package inventory

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/posture-dev/posture/internal/check"
	"github.com/posture-dev/posture/internal/model"
)

func part(id string, finished time.Time, account string, regions ...string) *Inventory {
	inv := &Inventory{SchemaVersion: SchemaVersion, Tool: model.Tool{Name: "posture", Version: "t"},
		Scan: Scan{ID: id, FinishedAt: finished, Checks: []string{"a", "b"}, Thresholds: map[string]int{"x": 1},
			Accounts: []Account{{ID: account, Regions: regions}}, Regions: regions}}
	for _, r := range regions {
		for _, svc := range []string{"s3", "ec2"} {
			inv.Scopes = append(inv.Scopes, check.Snapshot{Service: svc, AccountID: account, Region: r})
		}
	}
	inv.ScanGaps = []ScanGap{{Kind: GapNotOffered, AccountID: account, Region: regions[0], Service: "kinesis"}}
	inv.Sort()
	return inv
}

func TestMergeIsTheSingleCollection(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	b := part("p2", t0.Add(3*time.Minute), "222222222222", "us-east-1", "eu-west-1")
	a := part("p1", t0.Add(time.Minute), "111111111111", "us-east-1")
	got, err := Merge("run-1", t0, []*Inventory{b, a})
	if err != nil {
		t.Fatal(err)
	}
	if got.Scan.ID != "run-1" || !got.Scan.StartedAt.Equal(t0) || !got.Scan.FinishedAt.Equal(t0.Add(3*time.Minute)) {
		t.Errorf("scan = %+v", got.Scan)
	}
	if !reflect.DeepEqual(got.Scan.Regions, []string{"eu-west-1", "us-east-1"}) {
		t.Errorf("regions = %v", got.Scan.Regions)
	}
	var accounts []string
	for _, acc := range got.Scan.Accounts {
		accounts = append(accounts, acc.ID)
	}
	if !reflect.DeepEqual(accounts, []string{"111111111111", "222222222222"}) {
		t.Errorf("accounts = %v", accounts)
	}
	var scopes []string
	for _, s := range got.Scopes {
		scopes = append(scopes, s.AccountID+"/"+s.Region+"/"+s.Service)
	}
	want := []string{"111111111111/us-east-1/ec2", "111111111111/us-east-1/s3", "222222222222/eu-west-1/ec2",
		"222222222222/eu-west-1/s3", "222222222222/us-east-1/ec2", "222222222222/us-east-1/s3"}
	if !reflect.DeepEqual(scopes, want) {
		t.Errorf("scopes = %v\nwant %v", scopes, want)
	}
	if len(got.ScanGaps) != 2 || got.ScanGaps[0].AccountID != "111111111111" {
		t.Errorf("gaps = %+v", got.ScanGaps)
	}
	if !reflect.DeepEqual(got.Scan.Checks, []string{"a", "b"}) || got.Scan.Thresholds["x"] != 1 || got.Tool.Version != "t" {
		t.Errorf("checks/thresholds/tool not carried: %+v", got)
	}

	got.AddUnreachedAccount("000000000000", "missing", "aws", "ScanAccount", "PartialMissing", "no partial")
	if got.Scan.Accounts[0].ID != "000000000000" || got.ScanGaps[0].Kind != GapAccount || got.ScanGaps[0].Code != "PartialMissing" ||
		got.ScanGaps[0].Region != model.GlobalRegion {
		t.Errorf("unreached account not recorded first: %+v / %+v", got.Scan.Accounts[0], got.ScanGaps[0])
	}
}

func TestMergeRefusesInconsistentParts(t *testing.T) {
	t0 := time.Now()
	a := part("p1", t0, "111111111111", "us-east-1")
	dup := part("p2", t0, "111111111111", "us-east-1")
	if _, err := Merge("r", t0, []*Inventory{a, dup}); err == nil || !strings.Contains(err.Error(), "two parts") {
		t.Errorf("duplicate account: err = %v", err)
	}
	other := part("p3", t0, "333333333333", "us-east-1")
	other.Scan.Checks = []string{"a"}
	if _, err := Merge("r", t0, []*Inventory{a, other}); err == nil || !strings.Contains(err.Error(), "other checks") {
		t.Errorf("other checks: err = %v", err)
	}
	empty, err := Merge("r", t0, nil)
	if err != nil || empty.Scopes == nil || len(empty.Scan.Accounts) != 0 || !empty.Scan.FinishedAt.Equal(t0) {
		t.Errorf("empty merge = %+v, %v", empty, err)
	}
}
